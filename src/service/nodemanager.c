/* The node manager (control API) and the bookkeeping of a node's public surface. The protocol
 * and the reachability rules are documented in nodemanager.h. */
#include "service/nodemanager.h"

#include "core/core.h"
#include "node/policy.h"
#include "ockam/multiaddr.h"
#include "ockam/services.h"
#include "ockam/tcp.h"
#include "service/nodemanager_internal.h"
#include "service/nodemanager_secure.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define DEFAULT_SEND_TIMEOUT_MS 10000u
#define MAX_SEND_TIMEOUT_MS (3600u * 1000u)

struct service {
    char *addr;
    char *type;
};

/* An outgoing connection the operator created; public services consume its flow. */
struct op_conn {
    ockam__nodemanager *nm;
    ockam_conn *conn;
    ockam_flow_id flow;
};

/* Requests waiting for something asynchronous (a connect, a reply). The manager may be gone
 * before they complete (node teardown): then nm is NULL and they only clean up. */
struct pending {
    struct pending *prev, *next;
    ockam__nodemanager *nm;
    ockam_msg *request;
};

struct connect_op {
    struct pending p; /* first: the list links connect_ops and send_ops alike */
    char *to;
};

struct send_op {
    struct pending p;
    ockam_route *route;
    uint8_t *payload;
    size_t len;
    uint64_t timeout_ms;
    char *first_hop; /* "H:P" the connection was made to, for error messages */
    ockam_conn *conn;
    ockam_worker *worker;
    ockam_timer *timer;
};

struct ockam__nodemanager {
    ockam_node *node;
    ockam_worker *worker;
    char *name;
    void (*on_change)(ockam__nodemanager *nm, void *user);
    void *user;
    struct service *services;
    size_t nservices, capservices;
    ockam_listener **listeners; /* [0] is the main listener */
    size_t nlisteners, caplisteners;
    struct op_conn **conns;
    size_t nconns, capconns;
    struct pending pending; /* list head */
    /* UDP listeners and connections, owned by nodemanager_udp.c */
    struct ockam__nm_udp *udp;
    /* Relay service, relays, inlets and outlets, owned by nodemanager_portal.c */
    struct ockam__nm_portal *portal;
    /* Identity, secure channel listeners and channels, owned by nodemanager_secure.c */
    struct ockam__nm_secure *secure;
};

typedef void (*handler_fn)(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body);

/* ---- small helpers ------------------------------------------------------------------- */

static bool
grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = ockam__realloc(*arr, ncap * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

static void
changed(ockam__nodemanager *nm)
{
    if (nm->on_change)
        nm->on_change(nm, nm->user);
}

static char *
hex_encode(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *out = ockam__alloc(2 * n + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

static int
hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool
hex_decode(const char *text, uint8_t **out, size_t *len)
{
    size_t n = strlen(text);
    if (n % 2)
        return false;
    uint8_t *p = ockam__alloc(n / 2 + 1);
    if (!p)
        return false;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_nibble(text[2 * i]), lo = hex_nibble(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            ockam__free(p);
            return false;
        }
        p[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = p;
    *len = n / 2;
    return true;
}

/* ---- replies ------------------------------------------------------------------------- */

/* Send `doc` (stolen) back along the request's return route. Consumes req. */
static void
reply_json(ockam__nodemanager *nm, ockam_msg *req, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) {
        static const char oom[] = "{\"status\":500,\"error\":\"The node ran out of memory.\"}";
        (void)ockam_reply(nm->worker, req, oom, sizeof oom - 1);
        return;
    }
    ockam_err err = ockam_reply(nm->worker, req, text, strlen(text));
    if (err)
        OCKAM_LOG_I("nodemanager: reply not sent: %s", ockam_strerror(err));
    free(text);
}

static void
reply_ok(ockam__nodemanager *nm, ockam_msg *req, json_t *body)
{
    if (!body) {
        reply_json(nm, req, NULL);
        return;
    }
    reply_json(nm, req, json_pack("{s:i, s:o}", "status", 200, "body", body));
}

static void reply_err(ockam__nodemanager *nm, ockam_msg *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
reply_err(ockam__nodemanager *nm, ockam_msg *req, int status, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    reply_json(nm, req, json_pack("{s:i, s:s}", "status", status, "error", text));
}

/* ---- pending requests ---------------------------------------------------------------- */

static void
pending_link(ockam__nodemanager *nm, struct pending *p, ockam_msg *req)
{
    p->nm = nm;
    p->request = req;
    p->next = nm->pending.next;
    p->prev = &nm->pending;
    nm->pending.next->prev = p;
    nm->pending.next = p;
}

static void
pending_unlink(struct pending *p)
{
    if (!p->prev)
        return; /* never linked, already unlinked, or detached by nm_on_stop */
    p->prev->next = p->next;
    p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

/* Reply once (when the manager still exists); drops the request otherwise. */
static void
pending_reply_ok(struct pending *p, json_t *body)
{
    ockam_msg *req = p->request;
    p->request = NULL;
    if (!req) {
        json_decref(body);
        return;
    }
    if (!p->nm) {
        json_decref(body);
        ockam_msg_free(req);
        return;
    }
    reply_ok(p->nm, req, body);
}

static void pending_reply_err(struct pending *p, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
pending_reply_err(struct pending *p, int status, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ockam_msg *req = p->request;
    p->request = NULL;
    if (!req)
        return;
    if (!p->nm) {
        ockam_msg_free(req);
        return;
    }
    reply_err(p->nm, req, status, "%s", text);
}

/* ---- public surface: services x (listeners + operator connections) ------------------- */

static void
flow_add_all_services(ockam__nodemanager *nm, ockam_flow_id flow)
{
    for (size_t i = 0; i < nm->nservices; i++) {
        if (ockam_flow_add_consumer(nm->node, nm->services[i].addr, flow) != OCKAM_OK)
            OCKAM_LOG_W("nodemanager: %s cannot consume flow %" PRIu64, nm->services[i].addr, flow);
    }
    ockam__nm_portal_flow(nm, flow, true);
    ockam__nm_secure_flow(nm, flow, true);
}

static void
flow_remove_all_services(ockam__nodemanager *nm, ockam_flow_id flow)
{
    for (size_t i = 0; i < nm->nservices; i++)
        ockam_flow_remove_consumer(nm->node, nm->services[i].addr, flow);
    ockam__nm_portal_flow(nm, flow, false);
    ockam__nm_secure_flow(nm, flow, false);
}

static ockam_err
service_consume_all(ockam__nodemanager *nm, const char *addr)
{
    ockam_err err = OCKAM_OK;
    for (size_t i = 0; i < nm->nlisteners && !err; i++)
        err = ockam_flow_add_consumer(nm->node, addr, ockam_listener_flow_id(nm->listeners[i]));
    for (size_t i = 0; i < nm->nconns && !err; i++)
        err = ockam_flow_add_consumer(nm->node, addr, nm->conns[i]->flow);
    if (!err)
        err = ockam__nm_udp_consume_all(nm, addr);
    if (!err)
        err = ockam__nm_kafka_consume_all(nm, addr);
    if (!err)
        err = ockam__nm_secure_consume_all(nm, addr);
    return err;
}

static struct service *
service_find(ockam__nodemanager *nm, const char *addr)
{
    for (size_t i = 0; i < nm->nservices; i++) {
        if (strcmp(nm->services[i].addr, addr) == 0)
            return &nm->services[i];
    }
    return NULL;
}

static ockam_err
service_worker_start(ockam_node *node, const char *type, const char *addr)
{
    if (strcmp(type, "echo") == 0)
        return ockam_echo_start(node, addr, NULL);
    if (strcmp(type, "uppercase") == 0)
        return ockam_uppercase_start(node, addr, NULL);
    if (strcmp(type, "hop") == 0)
        return ockam_hop_start(node, addr, NULL);
    return OCKAM_EINVAL;
}

ockam_err
ockam__nodemanager_start_service(ockam__nodemanager *nm, const char *type, const char *addr)
{
    if (!addr)
        addr = type;
    if (!grow((void **)&nm->services, &nm->capservices, nm->nservices, sizeof *nm->services))
        return OCKAM_ENOMEM;
    char *a = ockam__strdup(addr), *t = ockam__strdup(type);
    ockam_err err = (a && t) ? service_worker_start(nm->node, type, addr) : OCKAM_ENOMEM;
    if (!err) {
        err = service_consume_all(nm, addr);
        if (err)
            ockam_worker_stop_at(nm->node, addr);
    }
    if (err) {
        ockam__free(a);
        ockam__free(t);
        return err;
    }
    nm->services[nm->nservices++] = (struct service) {a, t};
    changed(nm);
    return OCKAM_OK;
}

ockam_err
ockam__nodemanager_tcp_listen(ockam__nodemanager *nm, const char *host_port, ockam_listener **out)
{
    ockam_listener *l;
    if (!grow((void **)&nm->listeners, &nm->caplisteners, nm->nlisteners, sizeof *nm->listeners))
        return OCKAM_ENOMEM;
    ockam_err err = ockam_tcp_listen(nm->node, host_port, NULL, &l);
    if (err)
        return err;
    nm->listeners[nm->nlisteners++] = l;
    flow_add_all_services(nm, ockam_listener_flow_id(l));
    changed(nm);
    if (out)
        *out = l;
    return OCKAM_OK;
}

static void op_conn_closed(ockam_conn *conn, ockam_err reason, void *user);

static void
op_conn_remove(ockam__nodemanager *nm, struct op_conn *oc)
{
    for (size_t i = 0; i < nm->nconns; i++) {
        if (nm->conns[i] == oc) {
            nm->conns[i] = nm->conns[--nm->nconns];
            break;
        }
    }
    flow_remove_all_services(nm, oc->flow);
    ockam__free(oc);
}

static ockam_err
op_conn_add(ockam__nodemanager *nm, ockam_conn *conn)
{
    if (!grow((void **)&nm->conns, &nm->capconns, nm->nconns, sizeof *nm->conns))
        return OCKAM_ENOMEM;
    struct op_conn *oc = ockam__zalloc(sizeof *oc);
    if (!oc)
        return OCKAM_ENOMEM;
    *oc = (struct op_conn) {nm, conn, ockam_conn_flow_id(conn)};
    if (ockam_conn_on_close(conn, op_conn_closed, oc) != OCKAM_OK) {
        ockam__free(oc);
        return OCKAM_ENOMEM;
    }
    nm->conns[nm->nconns++] = oc;
    flow_add_all_services(nm, oc->flow);
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
    for (size_t i = 0; i < nm->nconns; i++) {
        if (nm->conns[i]->conn == conn)
            return nm->conns[i];
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

static json_t *
service_json(const struct service *s)
{
    return json_pack("{s:s, s:s}", "addr", s->addr, "type", s->type);
}

static json_t *
listeners_json(ockam__nodemanager *nm)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < nm->nlisteners; i++)
        json_array_append_new(arr, listener_json(nm->listeners[i], i == 0));
    return arr;
}

struct conns_ctx {
    ockam__nodemanager *nm;
    json_t *arr;
};

static void
conns_each(ockam_conn *c, void *arg)
{
    struct conns_ctx *ctx = arg;
    if (ockam_conn_transport(c) == OCKAM_TRANSPORT_TCP)
        json_array_append_new(ctx->arr, conn_json(ctx->nm, c));
}

static json_t *
conns_json(ockam__nodemanager *nm)
{
    struct conns_ctx ctx = {nm, json_array()};
    ockam_conn_each(nm->node, conns_each, &ctx);
    return ctx.arr;
}

static json_t *
services_json(ockam__nodemanager *nm)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < nm->nservices; i++)
        json_array_append_new(arr, service_json(&nm->services[i]));
    return arr;
}

static void
allowed_append(const char *entry, void *arr)
{
    json_array_append_new(arr, json_string(entry));
}

/* The node's list, as given to every transport the node runs (the TCP copy is the one every
 * node has). */
static json_t *
allowed_json(ockam__nodemanager *nm)
{
    json_t *arr = json_array();
    ockam__policy_outgoing_each(nm->node, OCKAM_TRANSPORT_TCP, allowed_append, arr);
    return arr;
}

json_t *
ockam__nodemanager_config(ockam__nodemanager *nm)
{
    json_t *extra = json_array();
    for (size_t i = 1; i < nm->nlisteners; i++)
        json_array_append_new(extra, json_string(ockam_listener_address(nm->listeners[i])));
    const char *main = nm->nlisteners ? ockam_listener_address(nm->listeners[0]) : NULL;
    json_t *cfg = json_pack("{s:s?, s:o, s:o}", "tcp_listener_address", main, "tcp_listeners",
        extra, "services", services_json(nm));
    if (cfg)
        ockam__nm_udp_config(nm, cfg);
    if (cfg)
        ockam__nm_portal_config(nm, cfg);
    if (cfg)
        ockam__nm_secure_config(nm, cfg);
    return cfg;
}

/* ---- endpoints: node, workers ---------------------------------------------------------- */

json_t *
ockam__nodemanager_resources(ockam__nodemanager *nm)
{
    json_t *res = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o}", "name", nm->name, "pid",
        (json_int_t)getpid(), "tcp_listeners", listeners_json(nm), "connections", conns_json(nm),
        "services", services_json(nm), "allowed_outgoing", allowed_json(nm));
    if (res)
        ockam__nm_udp_resources(nm, res);
    if (res)
        ockam__nm_kafka_resources(nm, res);
    if (res)
        ockam__nm_portal_resources(nm, res);
    if (res)
        ockam__nm_secure_resources(nm, res);
    return res;
}

static void
get_node(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    reply_ok(nm, req, ockam__nodemanager_resources(nm));
}

static void
collect_address(ockam_addr a, void *arg)
{
    json_array_append_new(arg, json_stringn((const char *)a.bytes, a.len));
}

static int
cmp_addr_json(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

static void
get_workers(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    json_t *names = json_array();
    ockam_node_each_address(nm->node, collect_address, names);
    size_t n = json_array_size(names);
    json_t **sorted = ockam__alloc((n ? n : 1) * sizeof *sorted);
    if (!sorted) {
        json_decref(names);
        reply_err(nm, req, 500, "The node ran out of memory.");
        return;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = json_array_get(names, i);
    qsort(sorted, n, sizeof *sorted, cmp_addr_json);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, json_pack("{s:O}", "addr", sorted[i]));
    ockam__free(sorted);
    json_decref(names);
    reply_ok(nm, req, out);
}

/* ---- endpoints: TCP listeners ---------------------------------------------------------- */

static size_t
listener_index(ockam__nodemanager *nm, const char *id_or_address)
{
    for (size_t i = 0; i < nm->nlisteners; i++) {
        if (strcmp(ockam_listener_id(nm->listeners[i]), id_or_address) == 0
            || strcmp(ockam_listener_address(nm->listeners[i]), id_or_address) == 0)
            return i;
    }
    return SIZE_MAX;
}

static void
list_listeners(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    reply_ok(nm, req, listeners_json(nm));
}

static void
create_listener(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    const char *address = json_string_value(json_object_get(body, "address"));
    ockam_listener *l;
    if (!address) {
        reply_err(nm, req, 400, "The request needs an \"address\" (HOST:PORT).");
        return;
    }
    ockam_err err = ockam__nodemanager_tcp_listen(nm, address, &l);
    if (err == OCKAM_EADDRINUSE)
        reply_err(nm, req, 409, "%s is already in use.", address);
    else if (err == OCKAM_EADDRINVAL)
        reply_err(nm, req, 400, "'%s' is not a valid HOST:PORT address.", address);
    else if (err)
        reply_err(nm, req, 500, "Unable to listen on %s: %s.", address, ockam_strerror(err));
    else
        reply_ok(nm, req, listener_json(l, nm->nlisteners == 1));
}

static void
show_listener(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    size_t i = listener_index(nm, arg);
    if (i == SIZE_MAX)
        reply_err(nm, req, 404, "There is no TCP listener %s on node %s.", arg, nm->name);
    else
        reply_ok(nm, req, listener_json(nm->listeners[i], i == 0));
}

static void
delete_listener(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    size_t i = listener_index(nm, arg);
    if (i == SIZE_MAX) {
        reply_err(nm, req, 404, "There is no TCP listener %s on node %s.", arg, nm->name);
        return;
    }
    ockam_listener *l = nm->listeners[i];
    if (i == 0) {
        reply_err(nm, req, 409,
            "%s is the main listener of node %s; other nodes and /node/%s routes use it. Stop "
            "the node instead.",
            ockam_listener_address(l), nm->name, nm->name);
        return;
    }
    json_t *view = listener_json(l, false);
    flow_remove_all_services(nm, ockam_listener_flow_id(l));
    memmove(
        &nm->listeners[i], &nm->listeners[i + 1], (nm->nlisteners - i - 1) * sizeof *nm->listeners);
    nm->nlisteners--;
    ockam_listener_close(l);
    changed(nm);
    reply_ok(nm, req, view);
}

/* ---- endpoints: TCP connections -------------------------------------------------------- */

static ockam_conn *
tcp_conn_find(ockam__nodemanager *nm, const char *address_or_peer)
{
    ockam_conn *c = ockam_conn_find(nm->node, address_or_peer);
    return c && ockam_conn_transport(c) == OCKAM_TRANSPORT_TCP ? c : NULL;
}

static void
list_conns(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    reply_ok(nm, req, conns_json(nm));
}

static void
connect_done(ockam_conn *conn, ockam_err status, void *user)
{
    struct connect_op *op = user;
    ockam__nodemanager *nm = op->p.nm;
    pending_unlink(&op->p);
    if (status) {
        pending_reply_err(
            &op->p, 502, "Unable to connect to %s: %s.", op->to, ockam_strerror(status));
    } else if (!nm) {
        ockam_conn_close(conn);
        pending_reply_err(&op->p, 500, "The node is stopping.");
    } else if (op_conn_add(nm, conn) != OCKAM_OK) {
        ockam_conn_close(conn);
        pending_reply_err(&op->p, 500, "The node ran out of memory.");
    } else {
        OCKAM_LOG_I("nodemanager: connection %s to %s created", ockam_conn_address(conn), op->to);
        pending_reply_ok(&op->p, conn_json(nm, conn));
    }
    ockam__free(op->to);
    ockam__free(op);
}

static void
create_conn(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    const char *to = json_string_value(json_object_get(body, "to"));
    if (!to) {
        reply_err(nm, req, 400, "The request needs a \"to\" address (HOST:PORT).");
        return;
    }
    struct connect_op *op = ockam__zalloc(sizeof *op);
    if (!op || !(op->to = ockam__strdup(to))) {
        ockam__free(op);
        reply_err(nm, req, 500, "The node ran out of memory.");
        return;
    }
    ockam_err err = ockam_tcp_connect(nm->node, to, NULL, connect_done, op);
    if (err) {
        ockam__free(op->to);
        ockam__free(op);
        reply_err(nm, req, 400, "'%s' is not a valid HOST:PORT address.", to);
        return;
    }
    pending_link(nm, &op->p, req);
}

static void
show_conn(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    ockam_conn *c = tcp_conn_find(nm, arg);
    if (!c)
        reply_err(nm, req, 404, "There is no TCP connection %s on node %s.", arg, nm->name);
    else
        reply_ok(nm, req, conn_json(nm, c));
}

static void
delete_conn(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    ockam_conn *c = tcp_conn_find(nm, arg);
    if (!c) {
        reply_err(nm, req, 404, "There is no TCP connection %s on node %s.", arg, nm->name);
        return;
    }
    json_t *view = conn_json(nm, c);
    struct op_conn *oc = op_conn_find(nm, c);
    if (oc) {
        ockam_conn_off_close(c, op_conn_closed, oc);
        op_conn_remove(nm, oc);
    }
    ockam_conn_close(c);
    reply_ok(nm, req, view);
}

/* ---- endpoints: services --------------------------------------------------------------- */

static void
list_services(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    reply_ok(nm, req, services_json(nm));
}

static void
start_service(ockam__nodemanager *nm, ockam_msg *req, const char *type, json_t *body)
{
    const char *addr = json_string_value(json_object_get(body, "addr"));
    bool allow_existing = json_is_true(json_object_get(body, "allow_existing"));
    if (!addr)
        addr = type;
    const struct service *s = service_find(nm, addr);
    if (s && allow_existing && strcmp(s->type, type) == 0) {
        reply_ok(nm, req, json_pack("{s:s, s:s, s:b}", "addr", addr, "type", type, "created", 0));
        return;
    }
    if (s) {
        reply_err(nm, req, 409, "The address %s is already used by the %s service on node %s.",
            addr, s->type, nm->name);
        return;
    }
    if (ockam_node_has_worker(nm->node, addr)) {
        reply_err(
            nm, req, 409, "The address %s is already used by a worker on node %s.", addr, nm->name);
        return;
    }
    ockam_err err = ockam__nodemanager_start_service(nm, type, addr);
    if (err == OCKAM_EINVAL)
        reply_err(
            nm, req, 404, "There is no service type '%s' (try hop, echo or uppercase).", type);
    else if (err)
        reply_err(nm, req, 500, "Unable to start the %s service: %s.", type, ockam_strerror(err));
    else
        reply_ok(nm, req, json_pack("{s:s, s:s, s:b}", "addr", addr, "type", type, "created", 1));
}

/* ---- endpoint: send a message and wait for its reply ------------------------------------ */

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
    pending_reply_err(&op->p, 502, "The connection to %s closed before a reply arrived (%s).",
        op->first_hop, ockam_strerror(reason));
    ockam_worker_stop(op->worker); /* frees op */
}

/* The worker's end (reply, timeout, error, or node teardown): release everything the op
 * holds. The connection was made for this one message, so it is closed too. */
static void
send_on_stop(ockam_worker *w, void *user)
{
    struct send_op *op = user;
    pending_unlink(&op->p);
    pending_reply_err(&op->p, 500, "The node is stopping.");
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
    char *hex = hex_encode(p.ptr, p.len);
    ockam_msg_free(msg);
    if (hex)
        pending_reply_ok(&op->p, json_pack("{s:s}", "payload_hex", hex));
    else
        pending_reply_err(&op->p, 500, "The node ran out of memory.");
    ockam__free(hex);
    ockam_worker_stop(w);
}

static void
send_timeout(ockam_timer *t, void *user)
{
    struct send_op *op = user;
    op->timer = NULL;
    ockam_timer_stop(t);
    pending_reply_err(&op->p, 504, "No reply within %" PRIu64 " ms.", op->timeout_ms);
    ockam_worker_stop(op->worker);
}

static void
send_start(struct send_op *op)
{
    ockam__nodemanager *nm = op->p.nm;
    ockam_worker_opts opts = {.on_message = send_on_reply, .on_stop = send_on_stop, .user = op};
    ockam_err err = ockam_worker_start(nm->node, NULL, &opts, &op->worker);
    if (err) {
        pending_unlink(&op->p);
        pending_reply_err(&op->p, 500, "Unable to start a worker: %s.", ockam_strerror(err));
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
        ockam_flow_add_consumer(nm->node, self, ockam_conn_flow_id(op->conn));
    if (ockam_timer_start(nm->node, op->timeout_ms, 0, send_timeout, op, &op->timer) != OCKAM_OK)
        op->timer = NULL;
    err = ockam_send_to(op->worker, op->route, op->payload, op->len);
    if (err == OCKAM_ENOENT) {
        char first[128];
        ockam_addr_format(ockam_route_front(op->route), first, sizeof first);
        pending_reply_err(&op->p, 404, "There is no worker at %s on node %s.", first, nm->name);
    } else if (err) {
        pending_reply_err(&op->p, 502, "Unable to send: %s.", ockam_strerror(err));
    }
    if (err || !op->timer)
        ockam_worker_stop(op->worker);
}

static void
send_connected(ockam_conn *conn, ockam_err status, void *user)
{
    struct send_op *op = user;
    if (status || !op->p.nm) {
        pending_unlink(&op->p);
        if (status)
            pending_reply_err(
                &op->p, 502, "Unable to connect to %s: %s.", op->first_hop, ockam_strerror(status));
        else
            pending_reply_err(&op->p, 500, "The node is stopping.");
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
        pending_unlink(&op->p);
        pending_reply_err(&op->p, 500, "The node ran out of memory.");
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
    if (!hex_decode(hex, &op->payload, &op->len))
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

static void
send_message(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    /* /secure/NAME asks for channels first (nodemanager_secure.c), never a plain hop. */
    const char *to = json_string_value(json_object_get(body, "to"));
    if (to && strstr(to, "/secure/")) {
        ockam__nm_secure_message(nm, req, body);
        return;
    }
    ockam__nm_send_plain(nm, req, body);
}

void
ockam__nm_send_plain(ockam__nodemanager *nm, ockam_msg *req, json_t *body)
{
    struct send_op *op = ockam__zalloc(sizeof *op);
    if (!op) {
        reply_err(nm, req, 500, "The node ran out of memory.");
        return;
    }
    const char *bad = send_op_parse(op, body);
    if (bad) {
        send_op_free(op);
        reply_err(nm, req, 400, "%s", bad);
        return;
    }
    pending_link(nm, &op->p, req);
    ockam_addr first = ockam_route_front(op->route);
    if (first.type != OCKAM_TRANSPORT_TCP) {
        send_start(op);
        return;
    }
    /* Connect explicitly, so that a refused connection is a quick, clear error. */
    op->first_hop = ockam__strndup((const char *)first.bytes, first.len);
    ockam_route_pop_front(op->route);
    ockam_err err = op->first_hop
        ? ockam_tcp_connect(nm->node, op->first_hop, NULL, send_connected, op)
        : OCKAM_ENOMEM;
    if (err) {
        pending_unlink(&op->p);
        pending_reply_err(&op->p, 400, "Unable to connect to %s: %s.",
            op->first_hop ? op->first_hop : "?", ockam_strerror(err));
        send_op_free(op);
    }
}

/* ---- dispatch -------------------------------------------------------------------------- */

struct endpoint {
    const char *method;
    const char *path; /* with a trailing '/', the rest of the request path is the argument */
    handler_fn fn;
};

static const struct endpoint endpoints[] = {
    {"GET", "/node", get_node},
    {"GET", "/node/workers", get_workers},
    {"GET", "/node/tcp/listener", list_listeners},
    {"POST", "/node/tcp/listener", create_listener},
    {"GET", "/node/tcp/listener/", show_listener},
    {"DELETE", "/node/tcp/listener/", delete_listener},
    {"GET", "/node/tcp/connection", list_conns},
    {"POST", "/node/tcp/connection", create_conn},
    {"GET", "/node/tcp/connection/", show_conn},
    {"DELETE", "/node/tcp/connection/", delete_conn},
    {"GET", "/node/udp/listener", ockam__nm_udp_list_listeners},
    {"POST", "/node/udp/listener", ockam__nm_udp_create_listener},
    {"GET", "/node/udp/listener/", ockam__nm_udp_show_listener},
    {"DELETE", "/node/udp/listener/", ockam__nm_udp_delete_listener},
    {"GET", "/node/udp/connection", ockam__nm_udp_list_conns},
    {"POST", "/node/udp/connection", ockam__nm_udp_create_conn},
    {"GET", "/node/udp/connection/", ockam__nm_udp_show_conn},
    {"DELETE", "/node/udp/connection/", ockam__nm_udp_delete_conn},
    {"GET", "/node/relay", ockam__nm_relay_list},
    {"POST", "/node/relay", ockam__nm_relay_create},
    {"GET", "/node/relay/", ockam__nm_relay_show},
    {"DELETE", "/node/relay/", ockam__nm_relay_delete},
    {"GET", "/node/inlet", ockam__nm_inlet_list},
    {"POST", "/node/inlet", ockam__nm_inlet_create},
    {"GET", "/node/inlet/", ockam__nm_inlet_show},
    {"DELETE", "/node/inlet/", ockam__nm_inlet_delete},
    {"GET", "/node/outlet", ockam__nm_outlet_list},
    {"POST", "/node/outlet", ockam__nm_outlet_create},
    {"GET", "/node/outlet/", ockam__nm_outlet_show},
    {"DELETE", "/node/outlet/", ockam__nm_outlet_delete},
    {"GET", "/node/services", list_services},
    {"POST", "/node/services/", start_service},
    {"POST", "/v0/message", send_message},
    {"GET", "/node/secure_channel_listener", ockam__nm_sc_listener_list},
    {"POST", "/node/secure_channel_listener", ockam__nm_sc_listener_create},
    {"GET", "/node/secure_channel_listener/", ockam__nm_sc_listener_show},
    {"DELETE", "/node/secure_channel_listener/", ockam__nm_sc_listener_delete},
    {"GET", "/node/secure_channel", ockam__nm_sc_list},
    {"POST", "/node/secure_channel", ockam__nm_sc_create},
    {"GET", "/node/secure_channel/", ockam__nm_sc_show},
    {"DELETE", "/node/secure_channel/", ockam__nm_sc_delete},
};

/* The endpoint for (method, path), with *arg set for the prefix ones. */
static const struct endpoint *
endpoint_find(const char *method, const char *path, const char **arg)
{
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
        const struct endpoint *e = &endpoints[i];
        size_t n = strlen(e->path);
        if (strcmp(e->method, method) != 0)
            continue;
        if (e->path[n - 1] != '/') {
            if (strcmp(e->path, path) == 0)
                return e;
            continue;
        }
        if (strncmp(e->path, path, n) == 0 && path[n] && !strchr(path + n, '/')) {
            *arg = path + n;
            return e;
        }
    }
    return NULL;
}

static void
nm_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam__nodemanager *nm = user;
    ockam_slice p = ockam_msg_payload(msg);
    json_error_t jerr;
    const char *method, *path, *arg = NULL;
    json_t *body = NULL;

    json_t *req = json_loadb((const char *)p.ptr, p.len, 0, &jerr);
    if (!req
        || json_unpack(req, "{s:s, s:s, s?o}", "method", &method, "path", &path, "body", &body)) {
        reply_err(nm, msg, 400, "The request is not a JSON object with \"method\" and \"path\".");
        json_decref(req);
        return;
    }
    const struct endpoint *e = endpoint_find(method, path, &arg);
    if (!e)
        reply_err(nm, msg, 404, "Invalid endpoint: %s %s.", method, path);
    else
        e->fn(nm, msg, arg, body);
    json_decref(req);
}

/* The worker is gone (node teardown at the latest): detach what is still pending and free. */
static void
nm_on_stop(ockam_worker *w, void *user)
{
    ockam__nodemanager *nm = user;
    for (struct pending *p = nm->pending.next; p != &nm->pending;) {
        struct pending *next = p->next;
        p->nm = NULL;
        p->prev = p->next = NULL;
        p = next;
    }
    for (size_t i = 0; i < nm->nconns; i++) {
        ockam_conn_off_close(nm->conns[i]->conn, op_conn_closed, nm->conns[i]);
        ockam__free(nm->conns[i]);
    }
    for (size_t i = 0; i < nm->nservices; i++) {
        ockam__free(nm->services[i].addr);
        ockam__free(nm->services[i].type);
    }
    ockam__free(nm->conns);
    ockam__free(nm->services);
    ockam__free(nm->listeners);
    ockam__nm_udp_free(nm);
    ockam__nm_portal_free(nm);
    ockam__nm_secure_free(nm);
    ockam__free(nm->name);
    ockam__free(nm);
}

ockam_err
ockam__nodemanager_start(
    ockam_node *node, const ockam__nodemanager_opts *opts, ockam__nodemanager **out)
{
    if (!opts || !opts->api_listener || !opts->node_name)
        return OCKAM_EINVAL;
    ockam__nodemanager *nm = ockam__zalloc(sizeof *nm);
    if (!nm)
        return OCKAM_ENOMEM;
    nm->node = node;
    nm->on_change = opts->on_change;
    nm->user = opts->user;
    nm->pending.next = nm->pending.prev = &nm->pending;
    nm->name = ockam__strdup(opts->node_name);
    ockam_worker_opts wopts = {.on_message = nm_on_message, .on_stop = nm_on_stop, .user = nm};
    ockam_err err = nm->name ? OCKAM_OK : OCKAM_ENOMEM;
    if (!err)
        err = ockam_worker_start(node, OCKAM__NODEMANAGER_ADDR, &wopts, &nm->worker);
    if (err) {
        nm_on_stop(NULL, nm);
        return err;
    }
    /* The one way in: messages that entered through api.sock. */
    err = ockam_flow_add_consumer(
        node, OCKAM__NODEMANAGER_ADDR, ockam_listener_flow_id(opts->api_listener));
    if (err) {
        ockam_worker_stop(nm->worker); /* frees nm */
        return err;
    }
    /* Every node relays (CLI spec §5): the service grows with the listeners created later. */
    err = ockam__nm_portal_start(nm);
    if (err)
        OCKAM_LOG_W("nodemanager: the relay service did not start: %s", ockam_strerror(err));
    *out = nm;
    return OCKAM_OK;
}

/* ---- for the transport parts of the manager (nodemanager_internal.h) -------------------- */

ockam_node *
ockam__nm_node(ockam__nodemanager *nm)
{
    return nm->node;
}

const char *
ockam__nm_name(ockam__nodemanager *nm)
{
    return nm->name;
}

struct ockam__nm_udp **
ockam__nm_udp_slot(ockam__nodemanager *nm)
{
    return &nm->udp;
}

struct ockam__nm_secure **
ockam__nm_secure_slot(ockam__nodemanager *nm)
{
    return &nm->secure;
}

struct ockam__nm_portal **
ockam__nm_portal_slot(ockam__nodemanager *nm)
{
    return &nm->portal;
}

ockam_err
ockam__nm_consume_all(ockam__nodemanager *nm, const char *addr)
{
    return service_consume_all(nm, addr);
}

ockam_listener *
ockam__nm_main_listener(ockam__nodemanager *nm)
{
    return nm->nlisteners ? nm->listeners[0] : NULL;
}

void
ockam__nm_reply_ok(ockam__nodemanager *nm, ockam_msg *req, json_t *body)
{
    reply_ok(nm, req, body);
}

void
ockam__nm_reply_err(ockam__nodemanager *nm, ockam_msg *req, int status, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    reply_err(nm, req, status, "%s", text);
}

void
ockam__nm_changed(ockam__nodemanager *nm)
{
    changed(nm);
}

void
ockam__nm_services_consume(ockam__nodemanager *nm, ockam_flow_id flow)
{
    flow_add_all_services(nm, flow);
}

void
ockam__nm_services_release(ockam__nodemanager *nm, ockam_flow_id flow)
{
    flow_remove_all_services(nm, flow);
}
