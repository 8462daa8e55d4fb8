/* The node manager's POST /v0/message: send one message along a route and reply with the
 * answer (or a timeout). The protocol is documented in nodemanager.h.
 *
 * A first TCP hop is connected to explicitly, so that a refused connection is a quick 502
 * rather than a timeout, and that connection is closed after the reply or the timeout:
 * connections made for one message never pile up. The sending worker consumes only that
 * connection's flow, so only the reply can reach it. */
#include "nodemanager/nodemanager_internal.h"

#include "core/core.h"
#include "ockam/multiaddr.h"
#include "ockam/tcp.h"

#include <inttypes.h>
#include <string.h>

#define DEFAULT_SEND_TIMEOUT_MS 10000u
#define MAX_SEND_TIMEOUT_MS (3600u * 1000u)

struct send_op {
    struct ockam__nm_pending p;
    ockam_route *route;
    uint8_t *payload;
    size_t len;
    uint64_t timeout_ms;
    char *first_hop; /* "H:P" the connection was made to, for error messages */
    ockam_conn *conn;
    ockam_worker *worker;
    ockam_timer *timer;
};

static void
send_op_free(struct send_op *op)
{
    ockam_route_free(op->route);
    ockam__free(op->payload);
    ockam__free(op->first_hop);
    ockam__free(op);
}

static void
send_conn_closed(ockam_conn *conn, ockam_err reason, void *user)
{
    struct send_op *op = user;
    op->conn = NULL;
    ockam__nm_pending_reply_err(&op->p, 502,
        "The connection to %s closed before a reply arrived (%s).", op->first_hop,
        ockam_strerror(reason));
    ockam_worker_stop(op->worker); /* frees op */
}

/* The worker's end (reply, timeout, error, or node teardown): release everything the op
 * holds. The connection was made for this one message, so it is closed too. */
static void
send_on_stop(ockam_worker *w, void *user)
{
    struct send_op *op = user;
    ockam__nm_pending_unlink(&op->p);
    ockam__nm_pending_reply_err(&op->p, 500, "The node is stopping.");
    ockam_timer_stop(op->timer);
    if (op->conn) {
        ockam_conn_off_close(op->conn, send_conn_closed, op);
        ockam_conn_close(op->conn);
    }
    send_op_free(op);
}

static void
send_on_reply(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct send_op *op = user;
    ockam_slice p = ockam_msg_payload(msg);
    char *hex = ockam__alloc(2 * p.len + 1);
    if (hex)
        ockam__hex_encode(p.ptr, p.len, hex);
    ockam_msg_free(msg);
    if (hex)
        ockam__nm_pending_reply_ok(&op->p, json_pack("{s:s}", "payload_hex", hex));
    else
        ockam__nm_pending_reply_err(&op->p, 500, "The node ran out of memory.");
    ockam__free(hex);
    ockam_worker_stop(w);
}

static void
send_timeout(ockam_timer *t, void *user)
{
    struct send_op *op = user;
    op->timer = NULL;
    ockam_timer_stop(t);
    ockam__nm_pending_reply_err(&op->p, 504, "No reply within %" PRIu64 " ms.", op->timeout_ms);
    ockam_worker_stop(op->worker);
}

static void
send_start(struct send_op *op)
{
    ockam__nodemanager *nm = op->p.nm;
    ockam_worker_opts opts = {.on_message = send_on_reply, .on_stop = send_on_stop, .user = op};
    ockam_err err = ockam_worker_start(ockam__nm_node(nm), NULL, &opts, &op->worker);
    if (err) {
        ockam__nm_pending_unlink(&op->p);
        ockam__nm_pending_reply_err(
            &op->p, 500, "Unable to start a worker: %s.", ockam_strerror(err));
        if (op->conn) {
            ockam_conn_off_close(op->conn, send_conn_closed, op);
            ockam_conn_close(op->conn);
        }
        send_op_free(op);
        return;
    }
    /* From here on the worker owns op (send_on_stop frees it). Replies come back on the
     * connection this worker sends through: make sure they may reach it. */
    char self[OCKAM_RANDOM_ADDR_LEN + 1];
    ockam_addr a = ockam_worker_addr(op->worker);
    memcpy(self, a.bytes, a.len);
    self[a.len] = '\0';
    if (op->conn)
        ockam_flow_add_consumer(ockam__nm_node(nm), self, ockam_conn_flow_id(op->conn));
    if (ockam_timer_start(ockam__nm_node(nm), op->timeout_ms, 0, send_timeout, op, &op->timer)
        != OCKAM_OK)
        op->timer = NULL;
    err = ockam_send_to(op->worker, op->route, op->payload, op->len);
    if (err == OCKAM_ENOENT) {
        char first[128];
        ockam_addr_format(ockam_route_front(op->route), first, sizeof first);
        ockam__nm_pending_reply_err(
            &op->p, 404, "There is no worker at %s on node %s.", first, ockam__nm_name(nm));
    } else if (err) {
        ockam__nm_pending_reply_err(&op->p, 502, "Unable to send: %s.", ockam_strerror(err));
    }
    if (err || !op->timer)
        ockam_worker_stop(op->worker);
}

static void
send_connected(ockam_conn *conn, ockam_err status, void *user)
{
    struct send_op *op = user;
    if (status || !op->p.nm) {
        ockam__nm_pending_unlink(&op->p);
        if (status)
            ockam__nm_pending_reply_err(
                &op->p, 502, "Unable to connect to %s: %s.", op->first_hop, ockam_strerror(status));
        else
            ockam__nm_pending_reply_err(&op->p, 500, "The node is stopping.");
        if (conn)
            ockam_conn_close(conn);
        send_op_free(op);
        return;
    }
    op->conn = conn;
    ockam_addr a = ockam_addr_local(ockam_conn_address(conn));
    if (ockam_route_push_front(op->route, a) != OCKAM_OK
        || ockam_conn_on_close(conn, send_conn_closed, op) != OCKAM_OK) {
        op->conn = NULL;
        ockam_conn_close(conn);
        ockam__nm_pending_unlink(&op->p);
        ockam__nm_pending_reply_err(&op->p, 500, "The node ran out of memory.");
        send_op_free(op);
        return;
    }
    send_start(op);
}

/* Parse {"to", "payload_hex", "timeout_ms"} into op; an error text (static) or NULL. */
static const char *
send_op_parse(struct send_op *op, json_t *body)
{
    const char *to = json_string_value(json_object_get(body, "to"));
    const char *hex = json_string_value(json_object_get(body, "payload_hex"));
    json_t *timeout = json_object_get(body, "timeout_ms");
    ockam_multiaddr *ma;

    if (!to || !hex)
        return "The request needs \"to\" (a multiaddr) and \"payload_hex\".";
    size_t n = strlen(hex);
    op->payload = ockam__alloc(n / 2 + 1);
    if (!op->payload || !ockam__hex_decode(hex, n, op->payload, n / 2 + 1, &op->len))
        return "\"payload_hex\" is not valid hex.";
    op->timeout_ms = DEFAULT_SEND_TIMEOUT_MS;
    if (json_is_integer(timeout) && json_integer_value(timeout) > 0)
        op->timeout_ms = (uint64_t)json_integer_value(timeout);
    if (op->timeout_ms > MAX_SEND_TIMEOUT_MS)
        op->timeout_ms = MAX_SEND_TIMEOUT_MS;
    if (ockam_multiaddr_parse(to, &ma) != OCKAM_OK)
        return "\"to\" is not a valid multiaddr.";
    op->route = ockam_route_new();
    ockam_err err = op->route ? ockam_multiaddr_to_route(ma, op->route) : OCKAM_ENOMEM;
    ockam_multiaddr_free(ma);
    if (err == OCKAM_ENOTSUP)
        return "\"to\" still contains /node, /project or /space: resolve it first.";
    if (err || ockam_route_len(op->route) == 0)
        return "\"to\" cannot be turned into a route.";
    return NULL;
}

void
ockam__nm_send_message(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    struct send_op *op = ockam__zalloc(sizeof *op);
    if (!op) {
        ockam__nm_reply_err(nm, req, 500, "The node ran out of memory.");
        return;
    }
    const char *bad = send_op_parse(op, body);
    if (bad) {
        send_op_free(op);
        ockam__nm_reply_err(nm, req, 400, "%s", bad);
        return;
    }
    ockam__nm_pending_link(nm, &op->p, req);
    ockam_addr first = ockam_route_front(op->route);
    if (first.type != OCKAM_TRANSPORT_TCP) {
        send_start(op);
        return;
    }
    /* Connect explicitly, so that a refused connection is a quick, clear error. */
    op->first_hop = ockam__strndup((const char *)first.bytes, first.len);
    ockam_route_pop_front(op->route);
    ockam_err err = op->first_hop
        ? ockam_tcp_connect(ockam__nm_node(nm), op->first_hop, NULL, send_connected, op)
        : OCKAM_ENOMEM;
    if (err) {
        ockam__nm_pending_unlink(&op->p);
        ockam__nm_pending_reply_err(&op->p, 400, "Unable to connect to %s: %s.",
            op->first_hop ? op->first_hop : "?", ockam_strerror(err));
        send_op_free(op);
    }
}
