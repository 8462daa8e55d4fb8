/* The node manager's API (nodemanager.h) gets arbitrary requests, on a whole node (fuzz_node.h)
 * made for each input and freed after it.
 *
 * Input: the request's bytes, as the `ockam` command would send them through api.sock. Before
 * it is sent, "$R" and "$E" are replaced by the ports of a refused address and of the outlet's
 * echo target, so that the fuzzer can name real local peers. The node must not reach out to
 * anything else: a request whose strings name a network address other than 127.0.0.1 port 0,
 * $R or $E (host:port or a multiaddr) is not sent.
 *
 * Invariants: every request gets one reply, a JSON object with a known status; nothing that
 * enters through a connection reaches the probe (fuzz_node.h); once the node is freed, the
 * library holds only what it held before the first node (fn_check_idle). */
#include "fuzz_safe.h"

/* The reply to a request: {"status": 200, "body": ...} or {"status": N, "error": "..."}. */
static void
check_reply(const char *req, size_t len)
{
    /* Two minutes of the node's time: longer than any wait the manager has. */
    ockam_msg *reply = fn_nm_ask(req, len, 120000);
    if (!reply) {
        fprintf(stderr, "fuzz_nodemanager: no reply\n");
        abort();
    }
    ockam_slice p = ockam_msg_payload(reply);
    json_error_t jerr;
    json_t *j = json_loadb((const char *)p.ptr, p.len, 0, &jerr);
    ockam_msg_free(reply);
    json_t *status = json_object_get(j, "status");
    FUZZ_CHECK(json_is_integer(status));
    json_int_t s = json_integer_value(status);
    FUZZ_CHECK(s == 200 || s == 400 || s == 404 || s == 409 || s == 500 || s == 502 || s == 504);
    FUZZ_CHECK(s == 200 ? json_object_get(j, "body") != NULL
                        : json_is_string(json_object_get(j, "error")));
    json_decref(j);
}

const struct fuzz_safe_target fuzz_safe_target = {"fuzz_nodemanager", 4096, check_reply, NULL};
