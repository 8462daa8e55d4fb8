/* The node manager's relay and portal part: the node's relay service, the relays it registers
 * elsewhere (relay create/list/show/delete), TCP inlets and outlets, their endpoints, and what
 * `node start` restores. The protocol is documented in nodemanager.h.
 *
 * Reachability: the relay service, every relay it starts and every outlet are consumers of
 * everything the public services consume (listeners, operator connections, UDP listeners...):
 * they are part of the node's public surface. A relay this node registers elsewhere gives its
 * own connection the main listener's flow id as spawner, so through that relay the node is
 * reachable exactly as through its main listener. */
#include "service/nodemanager_internal.h"
#include "service/nodemanager_secure.h"

#include "core/core.h"
#include "ockam/multiaddr.h"
#include "ockam/portal.h"
#include "ockam/relay.h"

#include <stdio.h>
#include <string.h>

#define RELAY_WAIT_MS 5000u /* how long relay create waits for the first outcome */
#define RELAY_POLL_MS 50u

struct nm_relay {
    char *name;
    char *at; /* multiaddr of the relay node, as given */
    ockam_relay_client *rc;
};

struct nm_inlet {
    char *alias;
    char *to; /* multiaddr of the outlet, as given */
    ockam_inlet *in;
    char *proxy; /* with /secure/ in to: the worker that sends through the channel */
};

struct nm_outlet {
    ockam_outlet *o;
};

/* A relay (inlet) create waiting for the first outcome: UP, a failure (relays), or the
 * deadline. */
struct create_wait {
    struct create_wait *next;
    ockam__nodemanager *nm;
    ockam_msg *req;
    bool inlet;
    char *name;
    ockam_timer *timer;
    uint64_t deadline;
};

struct ockam__nm_portal {
    ockam_relay_service *svc;
    struct nm_relay *relays;
    size_t nrelays, caprelays;
    struct nm_inlet *inlets;
    size_t ninlets, capinlets;
    struct nm_outlet *outlets;
    size_t noutlets, capoutlets;
    struct create_wait *waits;
};

/* ---- bookkeeping --------------------------------------------------------------------- */

static struct ockam__nm_portal *
state(ockam__nodemanager *nm)
{
    struct ockam__nm_portal **slot = ockam__nm_portal_slot(nm);
    if (!*slot)
        *slot = ockam__zalloc(sizeof **slot);
    return *slot;
}

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

static struct nm_relay *
relay_find(struct ockam__nm_portal *s, const char *name)
{
    for (size_t i = 0; s && i < s->nrelays; i++) {
        if (strcmp(s->relays[i].name, name) == 0)
            return &s->relays[i];
    }
    return NULL;
}

static struct nm_inlet *
inlet_find(struct ockam__nm_portal *s, const char *alias)
{
    for (size_t i = 0; s && i < s->ninlets; i++) {
        if (strcmp(s->inlets[i].alias, alias) == 0
            || strcmp(ockam_inlet_bind_address(s->inlets[i].in), alias) == 0)
            return &s->inlets[i];
    }
    return NULL;
}

/* "outlet" or "/service/outlet". */
static const char *
strip_service(const char *addr)
{
    return strncmp(addr, "/service/", 9) == 0 ? addr + 9 : addr;
}

static struct nm_outlet *
outlet_find(struct ockam__nm_portal *s, const char *addr)
{
    addr = strip_service(addr);
    for (size_t i = 0; s && i < s->noutlets; i++) {
        if (strcmp(ockam_outlet_address(s->outlets[i].o), addr) == 0)
            return &s->outlets[i];
    }
    return NULL;
}

/* Multiaddr text -> route (/node must already be resolved by the caller). */
static ockam_err
route_of(const char *text, ockam_route **out)
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

static json_t *
route_json(const ockam_route *r)
{
    char *text = r ? ockam_route_to_string(r) : NULL;
    json_t *j = text ? json_string(text) : json_null();
    ockam_free(text);
    return j;
}

static json_t *
error_json(const char *text)
{
    return text && text[0] ? json_string(text) : json_null();
}

/* ---- the relay service --------------------------------------------------------------- */

static void
on_relay_started(ockam_relay_service *svc, const char *address, void *user)
{
    if (ockam__nm_consume_all(user, address) != OCKAM_OK)
        OCKAM_LOG_W("nodemanager: relay %s cannot be reached by every flow", address);
}

ockam_err
ockam__nm_portal_start(ockam__nodemanager *nm)
{
    struct ockam__nm_portal *s = state(nm);
    if (!s)
        return OCKAM_ENOMEM;
    ockam_relay_service_config cfg = OCKAM_RELAY_SERVICE_CONFIG_INIT;
    cfg.on_relay = on_relay_started;
    cfg.user = nm;
    ockam_err err = ockam_relay_service_start(ockam__nm_node(nm), &cfg, &s->svc);
    if (!err)
        err = ockam__nm_consume_all(nm, OCKAM_RELAY_SERVICE_ADDR);
    if (!err)
        err = ockam__nm_consume_all(nm, OCKAM_RELAY_STATIC_SERVICE_ADDR);
    return err;
}

/* A flow the public services now consume (a listener...): the relay service, its relays and
 * the outlets take it too. Removed flows are dropped from outlets; relays keep stale ids of
 * closed listeners, which is harmless (flow ids are never reused). */
void
ockam__nm_portal_flow(ockam__nodemanager *nm, ockam_flow_id flow, bool add)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(nm);
    if (!s)
        return;
    ockam_node *node = ockam__nm_node(nm);
    if (add && s->svc && ockam_relay_service_allow(s->svc, flow) != OCKAM_OK)
        OCKAM_LOG_W("nodemanager: the relay service cannot consume a new flow");
    for (size_t i = 0; i < s->noutlets; i++) {
        const char *addr = ockam_outlet_address(s->outlets[i].o);
        if (add)
            (void)ockam_flow_add_consumer(node, addr, flow);
        else
            ockam_flow_remove_consumer(node, addr, flow);
    }
}

struct served_ctx {
    json_t *arr;
};

static void
served_each(const ockam_relay_info *info, void *arg)
{
    struct served_ctx *c = arg;
    json_array_append_new(c->arr,
        json_pack("{s:s, s:s, s:o, s:s?, s:I}", "address", info->address, "name", info->name,
            "forward_route", route_json(info->route), "connection", info->conn, "forwarded",
            (json_int_t)info->forwarded));
}

static json_t *
served_json(struct ockam__nm_portal *s)
{
    struct served_ctx c = {json_array()};
    if (s && s->svc)
        ockam_relay_service_each(s->svc, served_each, &c);
    return c.arr;
}

/* ---- relays registered elsewhere ------------------------------------------------------- */

static json_t *
relay_json(const struct nm_relay *r)
{
    ockam_relay_client *rc = r->rc;
    bool up = ockam_relay_client_state(rc) == OCKAM_RELAY_UP;
    const char *remote = ockam_relay_client_remote_address(rc);
    char worker[OCKAM_MAX_ADDR_LEN + 16];
    snprintf(worker, sizeof worker, "/service/%s", ockam_relay_client_address(rc));
    ockam_conn *c = ockam_relay_client_conn(rc);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s?, s:s, s:I, s:o, s:I}", "name", r->name,
        "destination_address", r->at, "connection_status", up ? "Up" : "Down", "forwarding_route",
        route_json(ockam_relay_client_route(rc)), "relay_route",
        route_json(ockam_relay_client_route(rc)), "remote_address", remote, "worker_address",
        worker, "flow_control_id", (json_int_t)(c ? ockam_conn_flow_id(c) : 0), "last_failure",
        error_json(ockam_relay_client_last_error(rc)), "registrations",
        (json_int_t)ockam_relay_client_registrations(rc));
}

static json_t *
relays_json(struct ockam__nm_portal *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; s && i < s->nrelays; i++)
        json_array_append_new(arr, relay_json(&s->relays[i]));
    return arr;
}

/* Start a relay client for name at the relay node (multiaddr). */
static ockam_err
relay_add(ockam__nodemanager *nm, const char *name, const char *at, uint32_t ping_ms)
{
    struct ockam__nm_portal *s = state(nm);
    ockam_route *to = NULL;
    if (!s || !grow((void **)&s->relays, &s->caprelays, s->nrelays, sizeof *s->relays))
        return OCKAM_ENOMEM;
    ockam_err err = route_of(at, &to);
    if (err)
        return err;
    ockam_listener *main = ockam__nm_main_listener(nm);
    ockam_relay_client_config cfg = OCKAM_RELAY_CLIENT_CONFIG_INIT;
    cfg.to = to;
    cfg.name = name;
    cfg.expose = main ? ockam_listener_flow_id(main) : 0;
    cfg.ping_interval_ms = ping_ms;
    struct nm_relay r = {ockam__strdup(name), ockam__strdup(at), NULL};
    err = r.name && r.at ? ockam_relay_client_start(ockam__nm_node(nm), &cfg, &r.rc) : OCKAM_ENOMEM;
    ockam_route_free(to);
    if (err) {
        ockam__free(r.name);
        ockam__free(r.at);
        return err;
    }
    s->relays[s->nrelays++] = r;
    ockam__nm_changed(nm);
    return OCKAM_OK;
}

static void
relay_remove(ockam__nodemanager *nm, struct ockam__nm_portal *s, struct nm_relay *r)
{
    ockam_relay_client_stop(r->rc);
    ockam__free(r->name);
    ockam__free(r->at);
    *r = s->relays[--s->nrelays];
    ockam__nm_changed(nm);
}

/* ---- waiting for a new relay's first outcome ------------------------------------------ */

static void
wait_unlink(struct ockam__nm_portal *s, struct create_wait *w)
{
    for (struct create_wait **pp = &s->waits; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            return;
        }
    }
}

static void
wait_free(struct create_wait *w)
{
    ockam_timer_stop(w->timer);
    ockam_msg_free(w->req);
    ockam__free(w->name);
    ockam__free(w);
}

static json_t *inlet_json(const struct nm_inlet *i);
static struct nm_inlet *inlet_find(struct ockam__nm_portal *s, const char *alias);

/* The view to answer with, or NULL while still waiting. */
static json_t *
wait_outcome(struct create_wait *w, bool timed_out)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(w->nm);
    if (w->inlet) {
        struct nm_inlet *i = inlet_find(s, w->name);
        bool done = !i || timed_out || ockam_inlet_status(i->in) == OCKAM_INLET_UP;
        return !done ? NULL : i ? inlet_json(i) : json_null();
    }
    struct nm_relay *r = relay_find(s, w->name);
    bool done = !r || timed_out || ockam_relay_client_state(r->rc) == OCKAM_RELAY_UP
        || ockam_relay_client_last_error(r->rc)[0];
    return !done ? NULL : r ? relay_json(r) : json_null();
}

static void
wait_poll(ockam_timer *t, void *user)
{
    struct create_wait *w = user;
    bool timed_out = ockam_node_now_ms(ockam__nm_node(w->nm)) >= w->deadline;
    json_t *view = wait_outcome(w, timed_out);
    if (!view)
        return;
    wait_unlink(*ockam__nm_portal_slot(w->nm), w);
    if (json_is_null(view))
        ockam__nm_reply_err(w->nm, w->req, 404, "%s was deleted meanwhile.", w->name);
    else
        ockam__nm_reply_ok(w->nm, w->req, view); /* steals view */
    w->req = NULL;
    wait_free(w);
}

/* Reply now when the outcome is already known (or waiting is impossible), else poll. */
static void
wait_start(ockam__nodemanager *nm, ockam_msg *req, bool inlet, const char *name, uint64_t wait_ms)
{
    struct ockam__nm_portal *s = state(nm);
    struct create_wait probe = {.nm = nm, .inlet = inlet, .name = (char *)name};
    json_t *now = wait_outcome(&probe, wait_ms == 0);
    if (now) {
        ockam__nm_reply_ok(nm, req, now);
        return;
    }
    struct create_wait *w = ockam__zalloc(sizeof *w);
    ockam_node *node = ockam__nm_node(nm);
    if (!w || !(w->name = ockam__strdup(name))
        || ockam_timer_start(node, RELAY_POLL_MS, RELAY_POLL_MS, wait_poll, w, &w->timer)) {
        if (w)
            ockam__free(w->name);
        ockam__free(w);
        ockam__nm_reply_ok(nm, req, wait_outcome(&probe, true));
        return;
    }
    w->inlet = inlet;
    w->nm = nm;
    w->req = req;
    w->deadline = ockam_node_now_ms(node) + wait_ms;
    w->next = s->waits;
    s->waits = w;
}

/* ---- relay endpoints --------------------------------------------------------------------- */

void
ockam__nm_relay_list(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    ockam__nm_reply_ok(nm, req, relays_json(*ockam__nm_portal_slot(nm)));
}

static uint32_t
body_ms(json_t *body, const char *key, uint32_t dflt)
{
    json_t *v = json_object_get(body, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 3600000)
        return (uint32_t)json_integer_value(v);
    return dflt;
}

void
ockam__nm_relay_create(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *at = json_string_value(json_object_get(body, "at"));
    if (!name || !at || !name[0]) {
        ockam__nm_reply_err(nm, req, 400, "The request needs \"name\" and \"at\" (a multiaddr).");
        return;
    }
    if (relay_find(*ockam__nm_portal_slot(nm), name)) {
        ockam__nm_reply_err(nm, req, 409, "A relay with the name '%s' already exists.", name);
        return;
    }
    ockam_err err = relay_add(nm, name, at, body_ms(body, "ping_interval_ms", 0));
    if (err == OCKAM_EMULTIADDR || err == OCKAM_EROUTE || err == OCKAM_ENOTSUP)
        ockam__nm_reply_err(nm, req, 400, "'%s' cannot be turned into a route.", at);
    else if (err)
        ockam__nm_reply_err(nm, req, 500, "Unable to create the relay: %s.", ockam_strerror(err));
    else
        wait_start(nm, req, false, name, body_ms(body, "wait_ms", RELAY_WAIT_MS));
}

void
ockam__nm_relay_show(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    struct nm_relay *r = relay_find(*ockam__nm_portal_slot(nm), arg);
    if (!r)
        ockam__nm_reply_err(
            nm, req, 404, "There is no relay %s on node %s.", arg, ockam__nm_name(nm));
    else
        ockam__nm_reply_ok(nm, req, relay_json(r));
}

void
ockam__nm_relay_delete(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(nm);
    struct nm_relay *r = relay_find(s, arg);
    if (!r) {
        ockam__nm_reply_err(
            nm, req, 404, "There is no relay %s on node %s.", arg, ockam__nm_name(nm));
        return;
    }
    json_t *view = relay_json(r);
    relay_remove(nm, s, r);
    ockam__nm_reply_ok(nm, req, view);
}

/* ---- outlets ------------------------------------------------------------------------------ */

static json_t *
outlet_json(ockam__nodemanager *nm, const ockam_outlet *o)
{
    char worker[OCKAM_MAX_ADDR_LEN + 16];
    snprintf(worker, sizeof worker, "/service/%s", ockam_outlet_address(o));
    struct ockam_portal_stats st;
    ockam_outlet_stats(o, &st);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I}", "node_name",
        ockam__nm_name(nm), "alias", ockam_outlet_address(o), "from", worker, "worker_address",
        worker, "to", ockam_outlet_target(o), "last_error", error_json(ockam_outlet_last_error(o)),
        "connections", (json_int_t)st.active, "accepted", (json_int_t)st.accepted, "failed",
        (json_int_t)st.failed, "bytes_in", (json_int_t)st.bytes_in, "bytes_out",
        (json_int_t)st.bytes_out);
}

static json_t *
outlet_view(ockam__nodemanager *nm, ockam_outlet *o)
{
    json_t *v = outlet_json(nm, o);
    json_t *allow = ockam__nm_secure_outlet_allowed(nm, ockam_outlet_address(o));
    json_object_set_new(v, "allow", allow ? json_incref(allow) : json_null());
    return v;
}

/* Forget an outlet that was just added (its restriction could not be applied). */
static void
s_outlet_drop(ockam__nodemanager *nm, ockam_outlet *o)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(nm);
    for (size_t i = 0; s && i < s->noutlets; i++) {
        if (s->outlets[i].o == o) {
            s->outlets[i] = s->outlets[--s->noutlets];
            return;
        }
    }
}

static json_t *
outlets_json(ockam__nodemanager *nm, struct ockam__nm_portal *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; s && i < s->noutlets; i++)
        json_array_append_new(arr, outlet_view(nm, s->outlets[i].o));
    return arr;
}

static ockam_err
outlet_add(ockam__nodemanager *nm, const char *addr, const char *to, ockam_outlet **out)
{
    struct ockam__nm_portal *s = state(nm);
    if (!s || !grow((void **)&s->outlets, &s->capoutlets, s->noutlets, sizeof *s->outlets))
        return OCKAM_ENOMEM;
    ockam_outlet_config cfg = OCKAM_OUTLET_CONFIG_INIT;
    cfg.address = addr;
    cfg.target = to;
    ockam_outlet *o;
    ockam_err err = ockam_outlet_start(ockam__nm_node(nm), &cfg, &o);
    if (err)
        return err;
    err = ockam__nm_consume_all(nm, ockam_outlet_address(o));
    if (err) {
        ockam_outlet_stop(o);
        return err;
    }
    s->outlets[s->noutlets++] = (struct nm_outlet) {o};
    ockam__nm_changed(nm);
    *out = o;
    return OCKAM_OK;
}

void
ockam__nm_outlet_list(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    ockam__nm_reply_ok(nm, req, outlets_json(nm, *ockam__nm_portal_slot(nm)));
}

/* The default address: "outlet" when free, else "outlet-2", "outlet-3"... */
static void
default_outlet_addr(ockam__nodemanager *nm, char *out, size_t cap)
{
    snprintf(out, cap, "%s", OCKAM_OUTLET_ADDR);
    for (int i = 2; ockam_node_has_worker(ockam__nm_node(nm), out); i++)
        snprintf(out, cap, "%s-%d", OCKAM_OUTLET_ADDR, i);
}

void
ockam__nm_outlet_create(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    const char *to = json_string_value(json_object_get(body, "to"));
    const char *from = json_string_value(json_object_get(body, "from"));
    char addr[128];
    if (!to) {
        ockam__nm_reply_err(nm, req, 400, "The request needs \"to\" (HOST:PORT).");
        return;
    }
    if (from)
        snprintf(addr, sizeof addr, "%s", strip_service(from));
    else
        default_outlet_addr(nm, addr, sizeof addr);
    if (ockam_node_has_worker(ockam__nm_node(nm), addr)) {
        ockam__nm_reply_err(nm, req, 409, "A TCP outlet with address '%s' already exists.", addr);
        return;
    }
    json_t *allow = json_object_get(body, "allow");
    if (!ockam__nm_secure_allow_valid(allow)) {
        ockam__nm_reply_err(nm, req, 400,
            "\"allow\" lists identifiers (I + 64 hex digits), or \"secure\" for any.");
        return;
    }
    ockam_outlet *o;
    ockam_err err = outlet_add(nm, addr, to, &o);
    if (!err
        && allow) { /* only through secure channels of these identities (nodemanager_secure.c) */
        err = ockam__nm_secure_outlet_allow(nm, o, allow);
        if (err) {
            s_outlet_drop(nm, o);
            ockam_outlet_stop(o);
        } else {
            ockam__nm_changed(nm);
        }
    }
    if (err == OCKAM_EINVAL)
        ockam__nm_reply_err(nm, req, 400, "'%s' is not a valid HOST:PORT target.", to);
    else if (err)
        ockam__nm_reply_err(nm, req, 500, "Unable to create the outlet: %s.", ockam_strerror(err));
    else
        ockam__nm_reply_ok(nm, req, outlet_view(nm, o));
}

void
ockam__nm_outlet_show(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    struct nm_outlet *o = outlet_find(*ockam__nm_portal_slot(nm), arg);
    if (!o)
        ockam__nm_reply_err(
            nm, req, 404, "There is no TCP outlet %s on node %s.", arg, ockam__nm_name(nm));
    else
        ockam__nm_reply_ok(nm, req, outlet_view(nm, o->o));
}

void
ockam__nm_outlet_delete(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(nm);
    struct nm_outlet *o = outlet_find(s, arg);
    if (!o) {
        ockam__nm_reply_err(
            nm, req, 404, "There is no TCP outlet %s on node %s.", arg, ockam__nm_name(nm));
        return;
    }
    json_t *view = outlet_view(nm, o->o);
    ockam__nm_secure_outlet_forget(nm, ockam_outlet_address(o->o));
    ockam_outlet_stop(o->o);
    *o = s->outlets[--s->noutlets];
    ockam__nm_changed(nm);
    ockam__nm_reply_ok(nm, req, view);
}

/* ---- inlets ------------------------------------------------------------------------------- */

static json_t *
inlet_json(const struct nm_inlet *i)
{
    const ockam_route *r = ockam_inlet_outlet_route(i->in);
    char last[OCKAM_MAX_ADDR_LEN + 16] = "";
    ockam_addr a = ockam_route_back(r);
    snprintf(last, sizeof last, "/service/%.*s", (int)a.len, (const char *)a.bytes);
    struct ockam_portal_stats st;
    ockam_inlet_stats(i->in, &st);
    bool up = ockam_inlet_status(i->in) == OCKAM_INLET_UP;
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I}", "alias",
        i->alias, "bind_addr", ockam_inlet_bind_address(i->in), "to", i->to, "outlet_route",
        route_json(r), "outlet_addr", last, "status", up ? "Up" : "Down", "last_error",
        error_json(ockam_inlet_last_error(i->in)), "connections", (json_int_t)st.active, "accepted",
        (json_int_t)st.accepted, "failed", (json_int_t)st.failed, "bytes_in",
        (json_int_t)st.bytes_in, "bytes_out", (json_int_t)st.bytes_out);
}

static json_t *
inlets_json(struct ockam__nm_portal *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; s && i < s->ninlets; i++)
        json_array_append_new(arr, inlet_json(&s->inlets[i]));
    return arr;
}

/* The probe of the outlet's node: the outlet route with its last hop replaced by echo, which
 * every node made by `ockam node create` runs (and exposes as the outlet). */
static ockam_route *
probe_route(const ockam_route *outlet_route)
{
    ockam_route *p = ockam_route_new();
    if (!p || ockam_route_copy(p, outlet_route) || ockam_route_back(p).type != OCKAM_TRANSPORT_LOCAL
        || ockam_route_pop_back(p) || ockam_route_push_back(p, ockam_addr_local("echo"))) {
        ockam_route_free(p);
        return NULL;
    }
    return p;
}

static ockam_err
inlet_add(ockam__nodemanager *nm, const char *alias, const char *from, const char *to,
    uint32_t ping_ms, struct nm_inlet **out)
{
    struct ockam__nm_portal *s = state(nm);
    ockam_route *route = NULL;
    if (!s || !grow((void **)&s->inlets, &s->capinlets, s->ninlets, sizeof *s->inlets))
        return OCKAM_ENOMEM;
    /* /secure/ routes go through a worker that keeps their channel up (nodemanager_secure.c). */
    char *proxy = NULL, *via = NULL;
    ockam_err err
        = strstr(to, "/secure/") ? ockam__nm_secure_proxy_start(nm, to, &via, &proxy) : OCKAM_OK;
    if (!err)
        err = route_of(via ? via : to, &route);
    ockam__free(via);
    if (err) {
        ockam__nm_secure_proxy_stop(nm, proxy);
        ockam__free(proxy);
        return err;
    }
    ockam_route *probe = probe_route(route);
    ockam_inlet_config cfg = OCKAM_INLET_CONFIG_INIT;
    cfg.bind = from;
    cfg.outlet_route = route;
    cfg.ping_route = probe;
    cfg.ping_interval_ms = ping_ms;
    struct nm_inlet i = {ockam__strdup(alias), ockam__strdup(to), NULL, proxy};
    err = i.alias && i.to ? ockam_inlet_start(ockam__nm_node(nm), &cfg, &i.in) : OCKAM_ENOMEM;
    ockam_route_free(route);
    ockam_route_free(probe);
    if (err) {
        ockam__nm_secure_proxy_stop(nm, proxy);
        ockam__free(proxy);
        ockam__free(i.alias);
        ockam__free(i.to);
        return err;
    }
    s->inlets[s->ninlets] = i;
    *out = &s->inlets[s->ninlets++];
    ockam__nm_changed(nm);
    return OCKAM_OK;
}

void
ockam__nm_inlet_list(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    ockam__nm_reply_ok(nm, req, inlets_json(*ockam__nm_portal_slot(nm)));
}

static void
inlet_create_failed(ockam__nodemanager *nm, ockam_msg *req, ockam_err err, json_t *body)
{
    const char *from = json_string_value(json_object_get(body, "from"));
    const char *to = json_string_value(json_object_get(body, "to"));
    if (err == OCKAM_EADDRINUSE)
        ockam__nm_reply_err(nm, req, 409, "Another process is already listening on %s.", from);
    else if (err == OCKAM_EADDRINVAL)
        ockam__nm_reply_err(nm, req, 400, "'%s' is not a valid HOST:PORT to listen on.", from);
    else if (err == OCKAM_EMULTIADDR || err == OCKAM_EROUTE || err == OCKAM_ENOTSUP)
        ockam__nm_reply_err(nm, req, 400, "'%s' cannot be turned into a route.", to);
    else
        ockam__nm_reply_err(nm, req, 500, "Unable to create the inlet: %s.", ockam_strerror(err));
}

void
ockam__nm_inlet_create(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    const char *alias = json_string_value(json_object_get(body, "alias"));
    const char *from = json_string_value(json_object_get(body, "from"));
    const char *to = json_string_value(json_object_get(body, "to"));
    if (!alias || !from || !to || !alias[0]) {
        ockam__nm_reply_err(nm, req, 400, "The request needs \"alias\", \"from\" and \"to\".");
        return;
    }
    if (inlet_find(*ockam__nm_portal_slot(nm), alias)) {
        ockam__nm_reply_err(nm, req, 409, "A TCP inlet with the alias '%s' already exists.", alias);
        return;
    }
    struct nm_inlet *i;
    ockam_err err = inlet_add(nm, alias, from, to, body_ms(body, "ping_interval_ms", 0), &i);
    if (err)
        inlet_create_failed(nm, req, err, body);
    else
        wait_start(nm, req, true, alias, body_ms(body, "wait_ms", 0));
}

void
ockam__nm_inlet_show(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    struct nm_inlet *i = inlet_find(*ockam__nm_portal_slot(nm), arg);
    if (!i)
        ockam__nm_reply_err(
            nm, req, 404, "There is no TCP inlet %s on node %s.", arg, ockam__nm_name(nm));
    else
        ockam__nm_reply_ok(nm, req, inlet_json(i));
}

void
ockam__nm_inlet_delete(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(nm);
    struct nm_inlet *i = inlet_find(s, arg);
    if (!i) {
        ockam__nm_reply_err(
            nm, req, 404, "There is no TCP inlet %s on node %s.", arg, ockam__nm_name(nm));
        return;
    }
    json_t *view = inlet_json(i);
    ockam_inlet_stop(i->in);
    ockam__nm_secure_proxy_stop(nm, i->proxy);
    ockam__free(i->proxy);
    ockam__free(i->alias);
    ockam__free(i->to);
    *i = s->inlets[--s->ninlets];
    ockam__nm_changed(nm);
    ockam__nm_reply_ok(nm, req, view);
}

/* ---- configuration, resources, restore, free -------------------------------------------- */

void
ockam__nm_portal_config(ockam__nodemanager *nm, json_t *cfg)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(nm);
    json_t *relays = json_array(), *inlets = json_array(), *outlets = json_array();
    for (size_t i = 0; s && i < s->nrelays; i++)
        json_array_append_new(
            relays, json_pack("{s:s, s:s}", "name", s->relays[i].name, "at", s->relays[i].at));
    /* The bound address (real port): the inlet comes back where clients expect it. */
    for (size_t i = 0; s && i < s->ninlets; i++)
        json_array_append_new(inlets,
            json_pack("{s:s, s:s, s:s}", "alias", s->inlets[i].alias, "from",
                ockam_inlet_bind_address(s->inlets[i].in), "to", s->inlets[i].to));
    for (size_t i = 0; s && i < s->noutlets; i++)
        json_array_append_new(outlets,
            json_pack("{s:s, s:s, s:O?}", "from", ockam_outlet_address(s->outlets[i].o), "to",
                ockam_outlet_target(s->outlets[i].o), "allow",
                ockam__nm_secure_outlet_allowed(nm, ockam_outlet_address(s->outlets[i].o))));
    json_object_set_new(cfg, "relays", relays);
    json_object_set_new(cfg, "inlets", inlets);
    json_object_set_new(cfg, "outlets", outlets);
}

void
ockam__nm_portal_resources(ockam__nodemanager *nm, json_t *res)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(nm);
    json_object_set_new(res, "relays", relays_json(s));
    json_object_set_new(res, "inlets", inlets_json(s));
    json_object_set_new(res, "outlets", outlets_json(nm, s));
    json_object_set_new(res, "relays_served", served_json(s));
}

static const char *
item_str(json_t *item, const char *key)
{
    return json_string_value(json_object_get(item, key));
}

/* Outlets first (an inlet of this node may point at one), then inlets, then relays. Items
 * that cannot come back are logged and skipped; the node still starts. */
void
ockam__nodemanager_restore_portals(ockam__nodemanager *nm, json_t *config)
{
    json_t *list = json_object_get(config, "outlets"), *item;
    size_t i;
    json_array_foreach(list, i, item)
    {
        ockam_outlet *o;
        const char *from = item_str(item, "from"), *to = item_str(item, "to");
        json_t *allow = json_object_get(item, "allow");
        ockam_err err = from && to && ockam__nm_secure_allow_valid(allow)
            ? outlet_add(nm, from, to, &o)
            : OCKAM_EINVAL;
        /* An outlet that cannot get its restriction back must not run without it. */
        if (!err && allow && (err = ockam__nm_secure_outlet_allow(nm, o, allow)) != OCKAM_OK) {
            s_outlet_drop(nm, o);
            ockam_outlet_stop(o);
        }
        if (err)
            OCKAM_LOG_W(
                "cannot restore the TCP outlet %s: %s", from ? from : "?", ockam_strerror(err));
    }
    list = json_object_get(config, "inlets");
    json_array_foreach(list, i, item)
    {
        struct nm_inlet *in;
        const char *alias = item_str(item, "alias"), *from = item_str(item, "from");
        const char *to = item_str(item, "to");
        ockam_err err = alias && from && to ? inlet_add(nm, alias, from, to, 0, &in) : OCKAM_EINVAL;
        if (err)
            OCKAM_LOG_W(
                "cannot restore the TCP inlet %s: %s", alias ? alias : "?", ockam_strerror(err));
    }
    list = json_object_get(config, "relays");
    json_array_foreach(list, i, item)
    {
        const char *name = item_str(item, "name"), *at = item_str(item, "at");
        ockam_err err = name && at ? relay_add(nm, name, at, 0) : OCKAM_EINVAL;
        if (err)
            OCKAM_LOG_W("cannot restore the relay %s: %s", name ? name : "?", ockam_strerror(err));
    }
}

/* The manager is going (node teardown): forget the bookkeeping. The relay service, clients,
 * inlets and outlets belong to the node, which stops them itself. */
void
ockam__nm_portal_free(ockam__nodemanager *nm)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(nm);
    if (!s)
        return;
    while (s->waits) {
        struct create_wait *w = s->waits;
        s->waits = w->next;
        wait_free(w);
    }
    for (size_t i = 0; i < s->nrelays; i++) {
        ockam__free(s->relays[i].name);
        ockam__free(s->relays[i].at);
    }
    for (size_t i = 0; i < s->ninlets; i++) {
        ockam__free(s->inlets[i].alias);
        ockam__free(s->inlets[i].to);
        ockam__free(s->inlets[i].proxy);
    }
    ockam__free(s->relays);
    ockam__free(s->inlets);
    ockam__free(s->outlets);
    ockam__free(s);
    *ockam__nm_portal_slot(nm) = NULL;
}
