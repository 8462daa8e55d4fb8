/* The node manager's TCP part: listeners (the first is the node's main listener) and the
 * connections the operator created, their endpoints, and their place in the node's view and
 * configuration. The protocol is documented in nodemanager.h.
 *
 * Reachability: every listener and every operator connection is a flow the public services
 * consume (ockam__nm_services_consume); incoming connections of a listener share its flow. */
#include "nodemanager/nodemanager_internal.h"

#include "core/core.h"
#include "ockam/tcp.h"

#include <stdio.h>
#include <string.h>

/* An outgoing connection the operator created; public services consume its flow. */
struct op_conn {
    ockam__nodemanager *nm;
    ockam_conn *conn;
    ockam_flow_id flow;
};

/* POST /node/tcp/connection waiting for its connect. */
struct connect_op {
    struct ockam__nm_pending p;
    char *to;
};

struct ockam__nm_tcp {
    ockam_listener **listeners; /* [0] is the main listener */
    size_t nlisteners, caplisteners;
    struct op_conn **conns;
    size_t nconns, capconns;
};

struct conns_ctx {
    ockam__nodemanager *nm;
    json_t *arr;
};

/* ---- bookkeeping --------------------------------------------------------------------- */

/* The state, created on first use; NULL only when out of memory. */
static struct ockam__nm_tcp *
state(ockam__nodemanager *nm)
{
    struct ockam__nm_tcp **slot = ockam__nm_tcp_slot(nm);
    if (!*slot)
        *slot = ockam__zalloc(sizeof **slot);
    return *slot;
}

/* The state for reading: an empty one before anything was created. */
static const struct ockam__nm_tcp *
view(ockam__nodemanager *nm)
{
    static const struct ockam__nm_tcp empty;
    const struct ockam__nm_tcp *s = *ockam__nm_tcp_slot(nm);
    return s ? s : &empty;
}

/* ---- listeners and operator connections ------------------------------------------- */

ockam_err
ockam__nodemanager_tcp_listen(ockam__nodemanager *nm, const char *host_port, ockam_listener **out)
{
    struct ockam__nm_tcp *s = state(nm);
    ockam_listener *l;
    if (!s || ockam__array_reserve(s->listeners, s->caplisteners, s->nlisteners + 1, 4) != OCKAM_OK)
        return OCKAM_ENOMEM;
    ockam_err err = ockam_tcp_listen(ockam__nm_node(nm), host_port, NULL, &l);
    if (err)
        return err;
    s->listeners[s->nlisteners++] = l;
    ockam__nm_services_consume(nm, ockam_listener_flow_id(l));
    ockam__nm_changed(nm);
    if (out)
        *out = l;
    return OCKAM_OK;
}

static void op_conn_closed(ockam_conn *conn, ockam_err reason, void *user);

static void
op_conn_remove(ockam__nodemanager *nm, struct op_conn *oc)
{
    struct ockam__nm_tcp *s = *ockam__nm_tcp_slot(nm); /* oc was added: s exists */
    for (size_t i = 0; i < s->nconns; i++) {
        if (s->conns[i] == oc) {
            s->conns[i] = s->conns[--s->nconns];
            break;
        }
    }
    ockam__nm_services_release(nm, oc->flow);
    ockam__free(oc);
}

static ockam_err
op_conn_add(ockam__nodemanager *nm, ockam_conn *conn)
{
    struct ockam__nm_tcp *s = state(nm);
    if (!s || ockam__array_reserve(s->conns, s->capconns, s->nconns + 1, 4) != OCKAM_OK)
        return OCKAM_ENOMEM;
    struct op_conn *oc = ockam__zalloc(sizeof *oc);
    if (!oc)
        return OCKAM_ENOMEM;
    *oc = (struct op_conn) {nm, conn, ockam_conn_flow_id(conn)};
    if (ockam_conn_on_close(conn, op_conn_closed, oc) != OCKAM_OK) {
        ockam__free(oc);
        return OCKAM_ENOMEM;
    }
    s->conns[s->nconns++] = oc;
    ockam__nm_services_consume(nm, oc->flow);
    return OCKAM_OK;
}

static void
op_conn_closed(ockam_conn *conn, ockam_err reason, void *user)
{
    struct op_conn *oc = user;
    OCKAM_LOG_I("nodemanager: connection %s to %s closed (%s)", ockam_conn_address(conn),
        ockam_conn_peer(conn), ockam_strerror(reason));
    op_conn_remove(oc->nm, oc);
}

static struct op_conn *
op_conn_find(ockam__nodemanager *nm, const ockam_conn *conn)
{
    const struct ockam__nm_tcp *s = view(nm);
    for (size_t i = 0; i < s->nconns; i++) {
        if (s->conns[i]->conn == conn)
            return s->conns[i];
    }
    return NULL;
}

/* ---- JSON views ---------------------------------------------------------------------- */

static json_t *
listener_json(const ockam_listener *l, bool main)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:I}", "id", ockam_listener_id(l), "type", "tcp",
        "mode", "listen", "address", ockam_listener_address(l), "main", main, "flow_control_id",
        (json_int_t)ockam_listener_flow_id(l));
}

static json_t *
conn_json(ockam__nodemanager *nm, const ockam_conn *c)
{
    char route[OCKAM_RANDOM_ADDR_LEN + 16];
    snprintf(route, sizeof route, "/worker/%s", ockam_conn_address(c));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I}", "address", ockam_conn_address(c),
        "route", route, "type", "tcp", "mode", ockam_conn_is_outgoing(c) ? "outgoing" : "incoming",
        "peer", ockam_conn_peer(c), "operator", op_conn_find(nm, c) != NULL, "flow_control_id",
        (json_int_t)ockam_conn_flow_id(c));
}

json_t *
ockam__nm_tcp_listeners_json(ockam__nodemanager *nm)
{
    const struct ockam__nm_tcp *s = view(nm);
    json_t *arr = json_array();
    for (size_t i = 0; i < s->nlisteners; i++)
        json_array_append_new(arr, listener_json(s->listeners[i], i == 0));
    return arr;
}

static void
conns_each(ockam_conn *c, void *arg)
{
    struct conns_ctx *ctx = arg;
    if (ockam_conn_transport(c) == OCKAM_TRANSPORT_TCP)
        json_array_append_new(ctx->arr, conn_json(ctx->nm, c));
}

json_t *
ockam__nm_tcp_conns_json(ockam__nodemanager *nm)
{
    struct conns_ctx ctx = {nm, json_array()};
    ockam_conn_each(ockam__nm_node(nm), conns_each, &ctx);
    return ctx.arr;
}

/* ---- endpoints: listeners ----------------------------------------------------------- */

static size_t
listener_index(ockam__nodemanager *nm, const char *id_or_address)
{
    const struct ockam__nm_tcp *s = view(nm);
    for (size_t i = 0; i < s->nlisteners; i++) {
        if (strcmp(ockam_listener_id(s->listeners[i]), id_or_address) == 0
            || strcmp(ockam_listener_address(s->listeners[i]), id_or_address) == 0)
            return i;
    }
    return SIZE_MAX;
}

void
ockam__nm_tcp_list_listeners(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    ockam__nm_reply_ok(nm, req, ockam__nm_tcp_listeners_json(nm));
}

void
ockam__nm_tcp_create_listener(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    const char *address = json_string_value(json_object_get(body, "address"));
    ockam_listener *l;
    if (!address) {
        ockam__nm_reply_err(nm, req, 400, "The request needs an \"address\" (HOST:PORT).");
        return;
    }
    ockam_err err = ockam__nodemanager_tcp_listen(nm, address, &l);
    if (err == OCKAM_EADDRINUSE)
        ockam__nm_reply_err(nm, req, 409, "%s is already in use.", address);
    else if (err == OCKAM_EADDRINVAL)
        ockam__nm_reply_err(nm, req, 400, "'%s' is not a valid HOST:PORT address.", address);
    else if (err)
        ockam__nm_reply_err(
            nm, req, 500, "Unable to listen on %s: %s.", address, ockam_strerror(err));
    else
        ockam__nm_reply_ok(nm, req, listener_json(l, view(nm)->nlisteners == 1));
}

void
ockam__nm_tcp_show_listener(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    size_t i = listener_index(nm, arg);
    if (i == SIZE_MAX)
        ockam__nm_reply_err(
            nm, req, 404, "TCP listener %s was not found on node %s.", arg, ockam__nm_name(nm));
    else
        ockam__nm_reply_ok(nm, req, listener_json(view(nm)->listeners[i], i == 0));
}

void
ockam__nm_tcp_delete_listener(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    size_t i = listener_index(nm, arg);
    if (i == SIZE_MAX) {
        ockam__nm_reply_err(
            nm, req, 404, "TCP listener %s was not found on node %s.", arg, ockam__nm_name(nm));
        return;
    }
    struct ockam__nm_tcp *s = *ockam__nm_tcp_slot(nm); /* i was found: s exists */
    ockam_listener *l = s->listeners[i];
    if (i == 0) {
        ockam__nm_reply_err(nm, req, 409,
            "%s is the main listener of node %s; other nodes and /node/%s routes use it. Stop "
            "the node instead.",
            ockam_listener_address(l), ockam__nm_name(nm), ockam__nm_name(nm));
        return;
    }
    json_t *view = listener_json(l, false);
    ockam__nm_services_release(nm, ockam_listener_flow_id(l));
    memmove(&s->listeners[i], &s->listeners[i + 1], (s->nlisteners - i - 1) * sizeof *s->listeners);
    s->nlisteners--;
    ockam_listener_close(l);
    ockam__nm_changed(nm);
    ockam__nm_reply_ok(nm, req, view);
}

/* ---- endpoints: connections --------------------------------------------------------- */

static ockam_conn *
tcp_conn_find(ockam__nodemanager *nm, const char *address_or_peer)
{
    ockam_conn *c = ockam_conn_find(ockam__nm_node(nm), address_or_peer);
    return c && ockam_conn_transport(c) == OCKAM_TRANSPORT_TCP ? c : NULL;
}

void
ockam__nm_tcp_list_conns(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    ockam__nm_reply_ok(nm, req, ockam__nm_tcp_conns_json(nm));
}

static void
connect_done(ockam_conn *conn, ockam_err status, void *user)
{
    struct connect_op *op = user;
    ockam__nodemanager *nm = op->p.nm;
    ockam__nm_pending_unlink(&op->p);
    if (status) {
        ockam__nm_pending_reply_err(
            &op->p, 502, "Unable to connect to %s: %s.", op->to, ockam_strerror(status));
    } else if (!nm) {
        ockam_conn_close(conn);
        ockam__nm_pending_reply_err(&op->p, 500, "The node is stopping.");
    } else if (op_conn_add(nm, conn) != OCKAM_OK) {
        ockam_conn_close(conn);
        ockam__nm_pending_reply_err(&op->p, 500, "The node ran out of memory.");
    } else {
        OCKAM_LOG_I("nodemanager: connection %s to %s created", ockam_conn_address(conn), op->to);
        ockam__nm_pending_reply_ok(&op->p, conn_json(nm, conn));
    }
    ockam__free(op->to);
    ockam__free(op);
}

void
ockam__nm_tcp_create_conn(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    const char *to = json_string_value(json_object_get(body, "to"));
    if (!to) {
        ockam__nm_reply_err(nm, req, 400, "The request needs a \"to\" address (HOST:PORT).");
        return;
    }
    struct connect_op *op = ockam__zalloc(sizeof *op);
    if (!op || !(op->to = ockam__strdup(to))) {
        ockam__free(op);
        ockam__nm_reply_err(nm, req, 500, "The node ran out of memory.");
        return;
    }
    ockam_err err = ockam_tcp_connect(ockam__nm_node(nm), to, NULL, connect_done, op);
    if (err) {
        ockam__free(op->to);
        ockam__free(op);
        ockam__nm_reply_err(nm, req, 400, "'%s' is not a valid HOST:PORT address.", to);
        return;
    }
    ockam__nm_pending_link(nm, &op->p, req);
}

void
ockam__nm_tcp_show_conn(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    ockam_conn *c = tcp_conn_find(nm, arg);
    if (!c)
        ockam__nm_reply_err(
            nm, req, 404, "TCP connection %s was not found on node %s.", arg, ockam__nm_name(nm));
    else
        ockam__nm_reply_ok(nm, req, conn_json(nm, c));
}

void
ockam__nm_tcp_delete_conn(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    ockam_conn *c = tcp_conn_find(nm, arg);
    if (!c) {
        ockam__nm_reply_err(
            nm, req, 404, "TCP connection %s was not found on node %s.", arg, ockam__nm_name(nm));
        return;
    }
    json_t *view = conn_json(nm, c);
    struct op_conn *oc = op_conn_find(nm, c);
    if (oc) {
        ockam_conn_off_close(c, op_conn_closed, oc);
        op_conn_remove(nm, oc);
    }
    ockam_conn_close(c);
    ockam__nm_reply_ok(nm, req, view);
}

ockam_listener *
ockam__nm_main_listener(ockam__nodemanager *nm)
{
    const struct ockam__nm_tcp *s = view(nm);
    return s->nlisteners ? s->listeners[0] : NULL;
}

/* ---- what the core asks of this part ------------------------------------------------- */

ockam_err
ockam__nm_tcp_consume_all(ockam__nodemanager *nm, const char *addr)
{
    const struct ockam__nm_tcp *s = view(nm);
    ockam_err err = OCKAM_OK;
    for (size_t i = 0; i < s->nlisteners && !err; i++)
        err = ockam_flow_add_consumer(
            ockam__nm_node(nm), addr, ockam_listener_flow_id(s->listeners[i]));
    for (size_t i = 0; i < s->nconns && !err; i++)
        err = ockam_flow_add_consumer(ockam__nm_node(nm), addr, s->conns[i]->flow);
    return err;
}

void
ockam__nm_tcp_config(ockam__nodemanager *nm, json_t *cfg)
{
    const struct ockam__nm_tcp *s = view(nm);
    json_t *extra = json_array();
    for (size_t i = 1; i < s->nlisteners; i++)
        json_array_append_new(extra, json_string(ockam_listener_address(s->listeners[i])));
    if (s->nlisteners)
        json_object_set_new(
            cfg, "tcp_listener_address", json_string(ockam_listener_address(s->listeners[0])));
    json_object_set_new(cfg, "tcp_listeners", extra);
}

void
ockam__nm_tcp_free(ockam__nodemanager *nm)
{
    struct ockam__nm_tcp **slot = ockam__nm_tcp_slot(nm);
    struct ockam__nm_tcp *s = *slot;
    if (!s)
        return;
    for (size_t i = 0; i < s->nconns; i++) {
        ockam_conn_off_close(s->conns[i]->conn, op_conn_closed, s->conns[i]);
        ockam__free(s->conns[i]);
    }
    ockam__free(s->conns);
    ockam__free(s->listeners);
    ockam__free(s);
    *slot = NULL;
}
