/* The node manager's core: the control-API worker, its dispatch table, replies and pending
 * requests, the public services and the node's view (GET /node) and configuration. The
 * endpoints of each kind of resource live beside it: TCP listeners and connections
 * (nodemanager_tcp.c), UDP (nodemanager_udp.c), Kafka (nodemanager_kafka.c), relays
 * (nodemanager_relay.c), portals (nodemanager_portal.c), and sending a message
 * (nodemanager_send.c). The protocol and
 * the reachability rules are documented in nodemanager.h. */
#include "nodemanager/nodemanager.h"

#include "core/core.h"
#include "node/policy.h"
#include "nodemanager/nodemanager_internal.h"
#include "nodemanager/nodemanager_secure.h"
#include "ockam/multiaddr.h"
#include "ockam/services.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define WAIT_POLL_MS 50u /* how often a create request waiting for its outcome looks again */

struct service {
    char *addr;
    char *type;
};

/* A create request waiting for the first outcome of what it created (ockam__nm_reply_when). */
struct wait {
    struct ockam__link link; /* in the manager's waits */
    ockam__nodemanager *nm;
    ockam_msg *req;
    char *name;
    ockam__nm_outcome_fn outcome;
    ockam_timer *timer;
    uint64_t deadline;
};

struct ockam__nodemanager {
    ockam_node *node;
    ockam_worker *worker;
    char *name;
    void (*on_change)(ockam__nodemanager *nm, void *user);
    void *user;
    struct service *services;
    size_t nservices, capservices;
    struct ockam__link pending; /* requests waiting (struct ockam__nm_pending) */
    struct ockam__link waits;   /* create requests waiting for an outcome (struct wait) */
    /* TCP listeners and operator connections, owned by nodemanager_tcp.c */
    struct ockam__nm_tcp *tcp;
    /* UDP listeners and connections, owned by nodemanager_udp.c */
    struct ockam__nm_udp *udp;
    struct ockam__nm_ble *ble; /* owned by nodemanager_ble.c */
    /* The relay service and relays, owned by nodemanager_relay.c */
    struct ockam__nm_relay *relay;
    /* Inlets and outlets, owned by nodemanager_portal.c */
    struct ockam__nm_portal *portal;
    /* Identity, secure channel listeners and channels, owned by nodemanager_secure.c */
    struct ockam__nm_secure *secure;
};

typedef ockam__nm_handler *handler_fn;

/* ---- small helpers ------------------------------------------------------------------- */

static void
changed(ockam__nodemanager *nm)
{
    if (nm->on_change)
        nm->on_change(nm, nm->user);
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

/* ---- pending requests (nodemanager_internal.h) ---------------------------------------- */

void
ockam__nm_pending_link(ockam__nodemanager *nm, struct ockam__nm_pending *p, ockam_msg *req)
{
    p->nm = nm;
    p->request = req;
    ockam__link_push_front(&nm->pending, &p->link);
}

void
ockam__nm_pending_unlink(struct ockam__nm_pending *p)
{
    if (!p->link.next)
        return;                /* never linked */
    ockam__link_del(&p->link); /* a second unlink, or one after nm_on_stop, does nothing */
}

void
ockam__nm_pending_reply_ok(struct ockam__nm_pending *p, json_t *body)
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

void
ockam__nm_pending_reply_err(struct ockam__nm_pending *p, int status, const char *fmt, ...)
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

/* ---- waiting for an outcome (nodemanager_internal.h) ----------------------------------- */

static void
wait_free(struct wait *w)
{
    ockam_timer_stop(w->timer);
    ockam_msg_free(w->req);
    ockam__free(w->name);
    ockam__free(w);
}

static void
wait_poll(ockam_timer *t, void *user)
{
    struct wait *w = user;
    bool timed_out = ockam_node_now_ms(w->nm->node) >= w->deadline;
    json_t *view = w->outcome(w->nm, w->name, timed_out);
    if (!view)
        return;
    ockam__link_del(&w->link);
    if (json_is_null(view))
        reply_err(w->nm, w->req, 404, "%s was deleted meanwhile.", w->name);
    else
        reply_ok(w->nm, w->req, view); /* steals view */
    w->req = NULL;
    wait_free(w);
}

void
ockam__nm_reply_when(ockam__nodemanager *nm, ockam_msg *req, const char *name, uint64_t wait_ms,
    ockam__nm_outcome_fn outcome)
{
    json_t *now = outcome(nm, name, wait_ms == 0);
    if (now) {
        reply_ok(nm, req, now);
        return;
    }
    struct wait *w = ockam__zalloc(sizeof *w);
    if (!w || !(w->name = ockam__strdup(name))
        || ockam_timer_start(nm->node, WAIT_POLL_MS, WAIT_POLL_MS, wait_poll, w, &w->timer)) {
        if (w)
            ockam__free(w->name);
        ockam__free(w);
        reply_ok(nm, req, outcome(nm, name, true));
        return;
    }
    w->nm = nm;
    w->req = req;
    w->outcome = outcome;
    w->deadline = ockam_node_now_ms(nm->node) + wait_ms;
    ockam__link_push_front(&nm->waits, &w->link);
}

/* ---- helpers for the parts (nodemanager_internal.h) ------------------------------------ */

ockam_err
ockam__nm_route_of(const char *text, ockam_route **out)
{
    ockam_multiaddr *ma;
    ockam_err err = ockam_multiaddr_parse(text, &ma);
    if (err)
        return err;
    ockam_route *r = ockam_route_new();
    err = r ? ockam_multiaddr_to_route(ma, r) : OCKAM_ENOMEM;
    ockam_multiaddr_free(ma);
    if (!err && ockam_route_len(r) == 0)
        err = OCKAM_EROUTE;
    if (err) {
        ockam_route_free(r);
        return err;
    }
    *out = r;
    return OCKAM_OK;
}

json_t *
ockam__nm_route_json(const ockam_route *r)
{
    char *text = r ? ockam_route_to_string(r) : NULL;
    json_t *j = text ? json_string(text) : json_null();
    ockam_free(text);
    return j;
}

json_t *
ockam__nm_error_json(const char *text)
{
    return text && text[0] ? json_string(text) : json_null();
}

uint32_t
ockam__nm_body_ms(json_t *body, const char *key, uint32_t dflt)
{
    json_t *v = json_object_get(body, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 3600000)
        return (uint32_t)json_integer_value(v);
    return dflt;
}

const char *
ockam__nm_item_str(json_t *item, const char *key)
{
    return json_string_value(json_object_get(item, key));
}

/* ---- public surface: services x (listeners + operator connections) ------------------- */

static void
flow_add_all_services(ockam__nodemanager *nm, ockam_flow_id flow)
{
    for (size_t i = 0; i < nm->nservices; i++) {
        if (ockam_flow_add_consumer(nm->node, nm->services[i].addr, flow) != OCKAM_OK)
            OCKAM_LOG_W("nodemanager: %s cannot consume flow %" PRIu64, nm->services[i].addr, flow);
    }
    ockam__nm_relay_flow(nm, flow, true);
    ockam__nm_portal_flow(nm, flow, true);
    ockam__nm_secure_flow(nm, flow, true);
}

static void
flow_remove_all_services(ockam__nodemanager *nm, ockam_flow_id flow)
{
    for (size_t i = 0; i < nm->nservices; i++)
        ockam_flow_remove_consumer(nm->node, nm->services[i].addr, flow);
    ockam__nm_relay_flow(nm, flow, false);
    ockam__nm_portal_flow(nm, flow, false);
    ockam__nm_secure_flow(nm, flow, false);
}

static ockam_err
service_consume_all(ockam__nodemanager *nm, const char *addr)
{
    ockam_err err = ockam__nm_tcp_consume_all(nm, addr);
    if (!err)
        err = ockam__nm_udp_consume_all(nm, addr);
    if (!err)
        err = ockam__nm_kafka_consume_all(nm, addr);
    if (!err)
        err = ockam__nm_ble_consume_all(nm, addr);
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
    if (ockam__array_reserve(nm->services, nm->capservices, nm->nservices + 1, 4) != OCKAM_OK)
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

/* ---- JSON views ---------------------------------------------------------------------- */

static json_t *
service_json(const struct service *s)
{
    return json_pack("{s:s, s:s}", "addr", s->addr, "type", s->type);
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
    json_t *cfg = json_object();
    if (!cfg)
        return NULL;
    ockam__nm_tcp_config(nm, cfg);
    json_object_set_new(cfg, "services", services_json(nm));
    ockam__nm_udp_config(nm, cfg);
    ockam__nm_relay_config(nm, cfg);
    ockam__nm_portal_config(nm, cfg);
    ockam__nm_secure_config(nm, cfg);
    return cfg;
}

/* ---- endpoints: node, workers ---------------------------------------------------------- */

json_t *
ockam__nodemanager_resources(ockam__nodemanager *nm)
{
    json_t *res = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o}", "name", nm->name, "pid",
        (json_int_t)getpid(), "tcp_listeners", ockam__nm_tcp_listeners_json(nm), "connections",
        ockam__nm_tcp_conns_json(nm), "services", services_json(nm), "allowed_outgoing",
        allowed_json(nm));
    if (res)
        ockam__nm_udp_resources(nm, res);
    if (res)
        ockam__nm_kafka_resources(nm, res);
    if (res)
        ockam__nm_ble_resources(nm, res);
    if (res) {
        ockam__nm_relay_resources(nm, res);
        ockam__nm_portal_resources(nm, res);
        ockam__nm_relay_served(nm, res);
        ockam__nm_secure_resources(nm, res);
    }
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

/* ---- dispatch -------------------------------------------------------------------------- */

struct endpoint {
    const char *method;
    const char *path; /* with a trailing '/', the rest of the request path is the argument */
    handler_fn fn;
};

static const struct endpoint endpoints[] = {
    {"GET", "/node", get_node},
    {"GET", "/node/workers", get_workers},
    {"GET", "/node/tcp/listener", ockam__nm_tcp_list_listeners},
    {"POST", "/node/tcp/listener", ockam__nm_tcp_create_listener},
    {"GET", "/node/tcp/listener/", ockam__nm_tcp_show_listener},
    {"DELETE", "/node/tcp/listener/", ockam__nm_tcp_delete_listener},
    {"GET", "/node/tcp/connection", ockam__nm_tcp_list_conns},
    {"POST", "/node/tcp/connection", ockam__nm_tcp_create_conn},
    {"GET", "/node/tcp/connection/", ockam__nm_tcp_show_conn},
    {"DELETE", "/node/tcp/connection/", ockam__nm_tcp_delete_conn},
    {"GET", "/node/udp/listener", ockam__nm_udp_list_listeners},
    {"POST", "/node/udp/listener", ockam__nm_udp_create_listener},
    {"GET", "/node/udp/listener/", ockam__nm_udp_show_listener},
    {"DELETE", "/node/udp/listener/", ockam__nm_udp_delete_listener},
    {"GET", "/node/udp/connection", ockam__nm_udp_list_conns},
    {"POST", "/node/udp/connection", ockam__nm_udp_create_conn},
    {"GET", "/node/udp/connection/", ockam__nm_udp_show_conn},
    {"DELETE", "/node/udp/connection/", ockam__nm_udp_delete_conn},
    {"GET", "/node/ble/connection", ockam__nm_ble_list_conns},
    {"POST", "/node/ble/connection", ockam__nm_ble_create_conn},
    {"GET", "/node/ble/connection/", ockam__nm_ble_show_conn},
    {"DELETE", "/node/ble/connection/", ockam__nm_ble_delete_conn},
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
    {"POST", "/v0/message", ockam__nm_secure_send},
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
    /* What is still pending finishes later, without the manager (it only cleans up). */
    while (!ockam__link_empty(&nm->pending)) {
        struct ockam__link *l = nm->pending.next;
        OCKAM__CONTAINER_OF(l, struct ockam__nm_pending, link)->nm = NULL;
        ockam__link_del(l);
    }
    while (!ockam__link_empty(&nm->waits)) {
        struct wait *wt = OCKAM__CONTAINER_OF(nm->waits.next, struct wait, link);
        ockam__link_del(&wt->link);
        wait_free(wt);
    }
    ockam__nm_tcp_free(nm);
    for (size_t i = 0; i < nm->nservices; i++) {
        ockam__free(nm->services[i].addr);
        ockam__free(nm->services[i].type);
    }
    ockam__free(nm->services);
    ockam__nm_udp_free(nm);
    ockam__nm_ble_free(nm);
    ockam__nm_relay_free(nm);
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
    ockam__link_init(&nm->pending);
    ockam__link_init(&nm->waits);
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
    /* Every node relays (docs/cli.md §5.2): the service grows with the listeners created
     * later. */
    err = ockam__nm_relay_start(nm);
    if (err)
        OCKAM_LOG_W("nodemanager: the relay service did not start: %s", ockam_strerror(err));
    *out = nm;
    return OCKAM_OK;
}

/* ---- for the other parts of the manager (nodemanager_internal.h) ----------------------- */

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

struct ockam__nm_tcp **
ockam__nm_tcp_slot(ockam__nodemanager *nm)
{
    return &nm->tcp;
}

struct ockam__nm_udp **
ockam__nm_udp_slot(ockam__nodemanager *nm)
{
    return &nm->udp;
}

struct ockam__nm_ble **
ockam__nm_ble_slot(ockam__nodemanager *nm)
{
    return &nm->ble;
}

struct ockam__nm_relay **
ockam__nm_relay_slot(ockam__nodemanager *nm)
{
    return &nm->relay;
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
