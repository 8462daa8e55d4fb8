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
 * library holds no allocation. */
#include "fuzz_node.h"

#include <jansson.h>

/* Only loopback addresses the harness owns. */
static bool
safe_text(const char *s)
{
    char allowed[6][48];
    snprintf(allowed[0], sizeof allowed[0], "127.0.0.1:0");
    snprintf(allowed[1], sizeof allowed[1], "127.0.0.1:%d", fn.refused_port);
    snprintf(allowed[2], sizeof allowed[2], "127.0.0.1:%d", fn.echo_port);
    snprintf(allowed[3], sizeof allowed[3], "/ip4/127.0.0.1/tcp/%d", fn.refused_port);
    snprintf(allowed[4], sizeof allowed[4], "/ip4/127.0.0.1/tcp/%d", fn.echo_port);
    snprintf(allowed[5], sizeof allowed[5], "/ip4/127.0.0.1/udp/%d", fn.refused_port);
    for (size_t i = 0; i < 6; i++) {
        size_t n = strlen(allowed[i]);
        if (strncmp(s, allowed[i], n) == 0 && (s[n] == '\0' || (s[0] == '/' && s[n] == '/')))
            return !strstr(s + n, "/ip") && !strstr(s + n, "/dns") && !strstr(s + n, "/tcp/")
                && !strstr(s + n, "/udp/") && !strstr(s + n, "/ble");
    }
    /* Anything else: no host:port, no multiaddr protocol that reaches out. */
    return !strchr(s, ':') && !strstr(s, "/ip") && !strstr(s, "/dns") && !strstr(s, "/tcp")
        && !strstr(s, "/udp") && !strstr(s, "/ble") && !strstr(s, "#");
}

/* Every string in the request, keys included; long waits are refused too (wait_ms,
 * timeout_ms, ping_interval_ms above 300 ms would only slow the fuzzer down). */
static bool
safe_json(json_t *v)
{
    const char *key;
    json_t *item;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return safe_text(json_string_value(v));
    case JSON_ARRAY:
        json_array_foreach(v, i, item)
        {
            if (!safe_json(item))
                return false;
        }
        return true;
    case JSON_OBJECT:
        json_object_foreach(v, key, item)
        {
            if (!safe_text(key) || !safe_json(item))
                return false;
            if (strstr(key, "_ms") && (!json_is_integer(item) || json_integer_value(item) > 300))
                return false;
        }
        return true;
    default:
        return true;
    }
}

/* The input with $R and $E replaced (caller frees); NULL if it is not safe to send. */
static char *
prepare(const uint8_t *data, size_t size, size_t *len)
{
    char *out = malloc(size * 8 + 1);
    FUZZ_CHECK(out);
    size_t n = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '$' && i + 1 < size && (data[i + 1] == 'R' || data[i + 1] == 'E')) {
            n += (size_t)sprintf(
                out + n, "%d", data[i + 1] == 'R' ? fn.refused_port : fn.echo_port);
            i++;
            continue;
        }
        out[n++] = (char)data[i];
    }
    out[n] = '\0';
    json_error_t err;
    json_t *req = json_loadb(out, n, JSON_DECODE_ANY, &err);
    bool ok = !req || safe_json(req); /* what does not parse reaches out to nothing */
    json_decref(req);
    if (!ok) {
        free(out);
        return NULL;
    }
    *len = n;
    return out;
}

/* The reply to a request: {"status": 200, "body": ...} or {"status": N, "error": "..."}. */
static void
check_reply(const char *req, size_t len)
{
    ockam_route *r = ockam_route_new();
    FUZZ_CHECK(r && !ockam_route_push_back(r, ockam_addr_local(OCKAM__NODEMANAGER_ADDR)));
    ockam_msg *reply = NULL;
    fn.nm_open = true;
    ockam_err err = ockam_node_request(fn.node, r, req, len, 3000, &reply);
    fn.nm_open = false;
    ockam_route_free(r);
    if (err) {
        fprintf(stderr, "fuzz_nodemanager: no reply (%s)\n", ockam_err_name(err));
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    fn_setup();
    size_t len = 0;
    char *req = prepare(data, size, &len);
    if (req) {
        check_reply(req, len);
        free(req);
        for (int n = 0; n < 8; n++)
            ockam_node_run_nowait(fn.node);
    }
    fn_teardown();
    long live = fn_live_now();
    if (live != 0) {
        fprintf(stderr, "fuzz_nodemanager: %ld allocations left after the node was freed\n", live);
        abort();
    }
    return 0;
}
