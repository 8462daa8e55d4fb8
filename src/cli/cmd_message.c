/* `ockam message send`: multiaddr resolution (/node/NAME -> the node's listener), sending from
 * a temporary in-process node or through a node's manager (--from), and printing the reply. */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/kafka.h"
#include "cli/output.h"
#include "cli/state.h"
#include "core/codec.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT "10s"
/* Extra time for the node manager to report its own timeout before the CLI gives up. */
#define API_MARGIN_MS 2000u

/* ---- resolution ----------------------------------------------------------------------------- */

/* ---- sending -------------------------------------------------------------------------------- */

struct send_req {
    const char *to;      /* as the user wrote it, for messages */
    const char *timeout; /* as the user wrote it */
    uint64_t timeout_ms;
    const uint8_t *data;
    size_t len;
};

static int
send_failed(const struct send_req *r, ockam_err err, const char *first)
{
    if (err == OCKAM_ETIMEDOUT && strstr(r->to, "/secure/"))
        return out_error(EXIT_RUNTIME,
            "A listener refuses identities it does not authorize without a word (as Ockam's "
            "do): see its --authorized list with 'ockam secure-channel-listener list --at NODE'.",
            "No reply from %s within %s: the secure channel listener may not authorize this "
            "node's identity, or the service is missing.",
            r->to, r->timeout);
    if (err == OCKAM_ETIMEDOUT)
        return out_error(EXIT_RUNTIME,
            "A message to a missing service or a wrong route gets no answer: check the route, "
            "and the services with 'ockam service list --at NODE'.",
            "No reply from %s within %s.", r->to, r->timeout);
    if (err == OCKAM_ECLOSED)
        return out_error(EXIT_RUNTIME, "Is the node running? See 'ockam node list'.",
            "The connection closed before a reply from %s came.", r->to);
    if (err == OCKAM_ENOENT)
        return out_error(EXIT_RUNTIME,
            "Routes that start with a local address (/worker, /service) need --from NODE, the "
            "node where that worker runs.",
            "There is no worker at %s in this process.", first);
    return out_error(EXIT_RUNTIME, NULL, "Cannot send to %s: %s.", r->to, ockam_strerror(err));
}

static ockam_err
connect_first_hop(ockam_node *node, ockam_route *route, uint64_t timeout_ms, ockam_conn **conn,
    char *peer, size_t cap)
{
    ockam_addr first = ockam_route_front(route);
    snprintf(peer, cap, "%.*s", (int)first.len, (const char *)first.bytes);
    ockam_route_pop_front(route);
    ockam_err err = client_connect_tcp(node, peer, timeout_ms, conn);
    if (!err)
        err = ockam_route_push_front(route, ockam_addr_local(ockam_conn_address(*conn)));
    return err;
}

/* Send from a temporary in-process node; *reply gets the reply payload (caller frees). */
static int
send_here(const struct send_req *r, ockam_route *route, uint8_t **reply, size_t *rlen)
{
    ockam_node *node = ockam_node_new();
    /* A first 2#host:port hop needs no connect: the UDP transport sends it through its
     * default bind, and replies come back to the sending worker on that bind. */
    if (!node || ockam_tcp_init(node, NULL) != OCKAM_OK || ockam_udp_init(node, NULL) != OCKAM_OK) {
        ockam_node_free(node);
        return out_error(EXIT_RUNTIME, NULL, "Cannot set up a temporary node.");
    }
    uint64_t start = now_ms();
    ockam_conn *conn = NULL;
    char peer[300] = "";
    ockam_err err = OCKAM_OK;
    int code = EXIT_OK;
    /* Connect explicitly: a refused connection is then a clear error, not a timeout. */
    if (ockam_route_front(route).type == OCKAM_TRANSPORT_TCP)
        err = connect_first_hop(node, route, r->timeout_ms, &conn, peer, sizeof peer);
    if (err == OCKAM_ETIMEDOUT)
        code = send_failed(r, err, peer);
    else if (err)
        code = out_error(EXIT_RUNTIME, "Is the node running? See 'ockam node list'.",
            "Unable to connect to %s: %s.", peer, ockam_strerror(err));
    ockam_msg *msg = NULL;
    if (!code) {
        uint64_t spent = now_ms() - start;
        uint64_t left = spent < r->timeout_ms ? r->timeout_ms - spent : 1;
        char first[128];
        ockam_addr_format(ockam_route_front(route), first, sizeof first);
        err = client_request(node, conn, route, r->data, r->len, left, &msg);
        if (err)
            code = send_failed(r, err, first);
    }
    if (msg) {
        ockam_slice p = ockam_msg_payload(msg);
        *reply = xmalloc(p.len);
        memcpy(*reply, p.ptr, p.len);
        *rlen = p.len;
        ockam_msg_free(msg);
    }
    ockam_node_free(node);
    return code;
}

/* Ask node `from` to send and wait for the reply. */
static int
send_from(
    const struct send_req *r, const char *from, const char *resolved, uint8_t **reply, size_t *rlen)
{
    char *hex = hex_encode(r->data, r->len);
    json_t *body = json_pack("{s:s, s:s, s:I}", "to", resolved, "payload_hex", hex, "timeout_ms",
        (json_int_t)r->timeout_ms);
    free(hex);
    api_result res;
    int code = api_request(from, "POST", "/v0/message", body, r->timeout_ms + API_MARGIN_MS, &res);
    if (code)
        return code;
    const char *text = json_string_value(json_object_get(res.body, "payload_hex"));
    if (res.status == 504 && res.error && strstr(res.error, "handshake"))
        code = out_error(EXIT_RUNTIME, NULL, "%s", res.error);
    else if (res.status == 504)
        code = send_failed(r, OCKAM_ETIMEDOUT, NULL);
    else if (res.status == 502)
        code = out_error(
            EXIT_RUNTIME, "Is the node running? See 'ockam node list'.", "%s", res.error);
    else if (res.status != 200)
        code = out_error(EXIT_RUNTIME, NULL, "%s", res.error);
    else if (!text || !hex_decode(text, reply, rlen))
        code = out_error(EXIT_RUNTIME, NULL, "Node %s sent a malformed reply.", from);
    api_result_free(&res);
    return code;
}

/* ---- the command ---------------------------------------------------------------------------- */

/* The payload to send: an Ockam Vec<u8> (BARE varint length, then the bytes). */
static int
encode_payload(const cli_args *a, uint8_t **out, size_t *len)
{
    const char *text = a->pos[0];
    uint8_t *raw = NULL;
    size_t n = strlen(text);
    if (args_flag(a, "hex") && !hex_decode(text, &raw, &n))
        return out_error(EXIT_USAGE, "With --hex, MESSAGE is an even number of hex digits.",
            "The message is not a valid hex string.");
    size_t cap = ockam__bare_string_size(n);
    *out = xmalloc(cap);
    ockam__bare_string_encode(raw ? raw : (const uint8_t *)text, n, *out, cap, len);
    free(raw);
    return EXIT_OK;
}

/* Print the reply: its bytes without the BARE length when it is one BARE byte string. */
static int
print_reply(const cli_args *a, const uint8_t *p, size_t n)
{
    uint64_t len;
    size_t used;
    if (ockam__varint_get(p, n, &len, &used) == OCKAM_OK && len == n - used) {
        p += used;
        n -= used;
    }
    char *text;
    if (args_flag(a, "hex")) {
        text = hex_encode(p, n);
    } else if (ockam__utf8_valid(p, n)) {
        text = xmalloc(n + 1);
        memcpy(text, p, n);
        text[n] = '\0';
    } else {
        return out_error(
            EXIT_RUNTIME, "Use --hex to see its bytes.", "The reply is not valid UTF-8.");
    }
    out_result(text, text, json_pack("{s:s}", "reply", text));
    free(text);
    return EXIT_OK;
}

static int
parse_request(const cli_args *a, struct send_req *r, ockam_multiaddr **ma)
{
    r->to = args_value(a, "to");
    r->timeout = args_value(a, "timeout") ? args_value(a, "timeout") : DEFAULT_TIMEOUT;
    if (!r->to)
        return out_error(EXIT_USAGE, "Example: ockam message send hello --to /node/n1/service/echo",
            "The argument '--to MULTIADDR' is required.");
    if (!parse_duration_ms(r->timeout, &r->timeout_ms) || r->timeout_ms == 0)
        return out_error(EXIT_USAGE, "Durations look like 500ms, 10s, 2m.",
            "Invalid --timeout '%s'.", r->timeout);
    return cli_parse_multiaddr(r->to, "--to", ma);
}

static bool
has_secure(const ockam_multiaddr *ma)
{
    for (size_t i = 0; i < ockam_multiaddr_count(ma); i++) {
        if (ockam_multiaddr_at(ma, i).code == OCKAM_MA_SECURE)
            return true;
    }
    return false;
}

static int
resolve_and_send(
    const cli_args *a, struct send_req *r, ockam_multiaddr *ma, uint8_t **reply, size_t *rlen)
{
    const char *from = args_value(a, "from");
    int code = cli_resolve_nodes(ma);
    if (!code)
        code = cli_kafka_check_first_hop(ma, from);
    if (code)
        return code;
    /* A channel needs an identity: the default node (made if need be) sends through it. */
    char *def = NULL;
    if (!from && has_secure(ma)) {
        def = cli_pick_node(NULL, true, &code);
        if (!def)
            return code;
        from = def;
    }
    if (from) {
        const char *name = state_name_from_arg(from);
        if (!name)
            return out_error(EXIT_USAGE, NULL, "'%s' is not a valid node name.", from);
        size_t need = ockam_multiaddr_format(ma, NULL, 0) + 1;
        char *text = xmalloc(need);
        ockam_multiaddr_format(ma, text, need);
        code = send_from(r, name, text, reply, rlen);
        free(text);
        free(def);
        return code;
    }
    ockam_route *route = ockam_route_new();
    ockam_err err = route ? ockam_multiaddr_to_route(ma, route) : OCKAM_ENOMEM;
    if (err || ockam_route_len(route) == 0)
        code = out_error(EXIT_USAGE, "Use /ip4, /dnsaddr, /node, /worker and /service parts.",
            "Argument '--to' is invalid: '%s' cannot be turned into a route.", r->to);
    else
        code = send_here(r, route, reply, rlen);
    ockam_route_free(route);
    return code;
}

static int
message_send(const cli_args *a)
{
    struct send_req r = {0};
    ockam_multiaddr *ma = NULL;
    uint8_t *payload = NULL, *reply = NULL;
    size_t rlen = 0;
    int code = parse_request(a, &r, &ma);
    if (!code)
        code = encode_payload(a, &payload, &r.len);
    r.data = payload;
    if (!code)
        code = resolve_and_send(a, &r, ma, &reply, &rlen);
    if (!code)
        code = print_reply(a, reply, rlen);
    ockam_multiaddr_free(ma);
    free(payload);
    free(reply);
    return code;
}

static const cli_opt send_opts[] = {
    {"to", 't', OPT_VALUE, "MULTIADDR", "Where to send the message, e.g. /node/n1/service/echo"},
    {"from", 'f', OPT_VALUE, "NODE", "Send from this node instead of a temporary one"},
    {"timeout", 0, OPT_VALUE, "DURATION", "How long to wait for the reply [default: 10s]"},
    {"hex", 0, OPT_FLAG, NULL, "MESSAGE is hex; the reply is printed as hex"},
    {NULL, 0, 0, NULL, NULL},
};

const cli_cmd cli_message_cmds[] = {
    {"send", "MESSAGE", 1, 1, send_opts, message_send, "Send a message and print the reply",
        "/node/NAME in the route stands for that node's TCP listener. Without --from, a\n"
        "temporary node in this process sends the message. /ip4/A/tcp/P and /ip4/A/udp/P\n"
        "(also /ip6, /dnsaddr) reach a node's TCP or UDP listener directly. UDP has no\n"
        "connection that can be refused: an unreachable UDP hop is a timeout.\n"
        "/kafka/TOPIC[:PARTITION] is a hop through the Kafka transport of the node the message\n"
        "is at (node create --kafka-*); first in a route it needs --from such a node.\n\n"
        "Examples:\n"
        "  ockam message send hello --to /node/n1/service/echo\n"
        "  ockam message send hello --to /node/n1/service/hop/service/uppercase\n"
        "  ockam message send hello --from n1 --to "
        "/worker/<c1>/service/hop/worker/<c2>/service/echo\n"
        "  ockam message send 68656c6c6f --hex --to /node/n1/service/echo\n"
        "  ockam message send hello --to /ip4/127.0.0.1/udp/6000/service/uppercase\n"
        "  ockam message send hello --from n1 --to "
        "/node/n2/kafka/ockam.n3.inbox/node/n4/service/uppercase"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
