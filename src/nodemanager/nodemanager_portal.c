/* The node manager's portal part: TCP inlets and outlets, their endpoints, and what `node
 * start` restores of them. The protocol is documented in nodemanager.h.
 *
 * Reachability: every outlet is a consumer of everything the public services consume
 * (listeners, operator connections, UDP listeners...): it is part of the node's public
 * surface. An inlet probes the outlet's node (its route with echo as the last hop) for its
 * status. */
#include "nodemanager/nodemanager_internal.h"
#include "nodemanager/nodemanager_secure.h"

#include "core/core.h"
#include "ockam/portal.h"

#include <stdio.h>
#include <string.h>

struct nm_inlet {
    char *alias;
    char *to; /* multiaddr of the outlet, as given */
    ockam_inlet *in;
    char *proxy;        /* with /secure/ in to: the worker that sends through the channel */
    uint32_t ping_ms;   /* probe period asked for (0: the default); node start keeps it */
    char *identity;     /* with /secure/: the identity its channels present (NULL: the node's) */
    json_t *authorized; /* with /secure/: the far end must be one of them ([] = any) */
};

struct nm_outlet {
    ockam_outlet *o;
    uint32_t ping_ms; /* its inlets are asked this often (0: the default); node start keeps it */
};

struct ockam__nm_portal {
    struct nm_inlet *inlets;
    size_t ninlets, capinlets;
    struct nm_outlet *outlets;
    size_t noutlets, capoutlets;
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

/* A flow the public services now consume (a listener...): the outlets take it too, and drop
 * it when it goes. */
void
ockam__nm_portal_flow(ockam__nodemanager *nm, ockam_flow_id flow, bool add)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(nm);
    if (!s)
        return;
    ockam_node *node = ockam__nm_node(nm);
    for (size_t i = 0; i < s->noutlets; i++) {
        const char *addr = ockam_outlet_address(s->outlets[i].o);
        if (add)
            (void)ockam_flow_add_consumer(node, addr, flow);
        else
            ockam_flow_remove_consumer(node, addr, flow);
    }
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
        worker, "to", ockam_outlet_target(o), "last_error",
        ockam__nm_error_json(ockam_outlet_last_error(o)), "connections", (json_int_t)st.active,
        "accepted", (json_int_t)st.accepted, "failed", (json_int_t)st.failed, "bytes_in",
        (json_int_t)st.bytes_in, "bytes_out", (json_int_t)st.bytes_out);
}

/* The outlet's view and its restriction ("allow", null without one). */
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
outlet_drop(ockam__nodemanager *nm, ockam_outlet *o)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(nm);
    for (size_t i = 0; s && i < s->noutlets; i++) {
        if (s->outlets[i].o == o) {
            s->outlets[i] = s->outlets[--s->noutlets];
            break;
        }
    }
    ockam_outlet_stop(o);
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
outlet_add(
    ockam__nodemanager *nm, const char *addr, const char *to, uint32_t ping_ms, ockam_outlet **out)
{
    struct ockam__nm_portal *s = state(nm);
    if (!s || ockam__array_reserve(s->outlets, s->capoutlets, s->noutlets + 1, 4) != OCKAM_OK)
        return OCKAM_ENOMEM;
    ockam_outlet_config cfg = OCKAM_OUTLET_CONFIG_INIT;
    cfg.address = addr;
    cfg.target = to;
    cfg.ask_interval_ms = ping_ms;
    ockam_outlet *o;
    ockam_err err = ockam_outlet_start(ockam__nm_node(nm), &cfg, &o);
    if (err)
        return err;
    err = ockam__nm_consume_all(nm, ockam_outlet_address(o));
    if (err) {
        ockam_outlet_stop(o);
        return err;
    }
    s->outlets[s->noutlets++] = (struct nm_outlet) {o, ping_ms};
    ockam__nm_changed(nm);
    *out = o;
    return OCKAM_OK;
}

void
ockam__nm_outlet_list(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    ockam__nm_reply_ok(nm, req, outlets_json(nm, *ockam__nm_portal_slot(nm)));
}

/* The default address, as Ockam picks it: "outlet" when free, else a random address. */
static void
default_outlet_addr(ockam__nodemanager *nm, char *out, size_t cap)
{
    char random[OCKAM_RANDOM_ADDR_LEN + 1];
    snprintf(out, cap, "%s", OCKAM_OUTLET_ADDR);
    while (ockam_node_has_worker(ockam__nm_node(nm), out)) {
        ockam_addr_random(random);
        snprintf(out, cap, "%s", random);
    }
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
    ockam_err err = outlet_add(nm, addr, to, ockam__nm_body_ms(body, "ping_interval_ms", 0), &o);
    /* Only through secure channels of these identities (nodemanager_secure.c). */
    if (!err && (err = ockam__nm_secure_outlet_allow(nm, o, allow)) != OCKAM_OK)
        outlet_drop(nm, o);
    else if (!err && allow)
        ockam__nm_changed(nm);
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
        ockam__nm_route_json(r), "outlet_addr", last, "status", up ? "Up" : "Down", "last_error",
        ockam__nm_error_json(ockam_inlet_last_error(i->in)), "connections", (json_int_t)st.active,
        "accepted", (json_int_t)st.accepted, "failed", (json_int_t)st.failed, "bytes_in",
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

/* How an inlet's /secure/ channels are made: the identity they present (NULL: the node's own)
 * and who the far end must be (NULL or []: anyone). */
struct inlet_sc {
    const char *identity;
    json_t *authorized;
};

static void
inlet_free(struct nm_inlet *i)
{
    ockam__free(i->alias);
    ockam__free(i->to);
    ockam__free(i->proxy);
    ockam__free(i->identity);
    json_decref(i->authorized);
}

static ockam_err
inlet_add(ockam__nodemanager *nm, const char *alias, const char *from, const char *to,
    uint32_t ping_ms, struct inlet_sc sc, struct nm_inlet **out)
{
    struct ockam__nm_portal *s = state(nm);
    ockam_route *route = NULL;
    if (!s || ockam__array_reserve(s->inlets, s->capinlets, s->ninlets + 1, 4) != OCKAM_OK)
        return OCKAM_ENOMEM;
    if (!json_is_array(sc.authorized))
        sc.authorized = NULL;
    /* /secure/ routes go through a worker that keeps their channel up (nodemanager_secure.c). */
    char *proxy = NULL, *via = NULL;
    ockam_err err = strstr(to, "/secure/")
        ? ockam__nm_secure_proxy_start(nm, to, sc.authorized, sc.identity, false, &via, &proxy)
        : OCKAM_OK;
    if (!err)
        err = ockam__nm_route_of(via ? via : to, &route);
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
    struct nm_inlet i = {ockam__strdup(alias), ockam__strdup(to), NULL, proxy, ping_ms,
        sc.identity ? ockam__strdup(sc.identity) : NULL,
        sc.authorized ? json_incref(sc.authorized) : NULL};
    err = i.alias && i.to && (i.identity || !sc.identity)
        ? ockam_inlet_start(ockam__nm_node(nm), &cfg, &i.in)
        : OCKAM_ENOMEM;
    ockam_route_free(route);
    ockam_route_free(probe);
    if (err) {
        ockam__nm_secure_proxy_stop(nm, proxy);
        inlet_free(&i);
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
    const char *identity = json_string_value(json_object_get(body, "identity"));
    if (err == OCKAM_EADDRINUSE)
        ockam__nm_reply_err(nm, req, 409, "Another process is already listening on %s.", from);
    else if (err == OCKAM_EADDRINVAL)
        ockam__nm_reply_err(nm, req, 400, "'%s' is not a valid HOST:PORT to listen on.", from);
    else if (err == OCKAM_EMULTIADDR || err == OCKAM_EROUTE || err == OCKAM_ENOTSUP)
        ockam__nm_reply_err(nm, req, 400, "'%s' cannot be turned into a route.", to);
    else if (err == OCKAM_ENOENT && identity)
        ockam__nm_reply_err(nm, req, 404,
            "There is no identity named %s: create it with 'ockam identity create %s'.", identity,
            identity);
    else if (err == OCKAM_ENOKEY && identity)
        ockam__nm_reply_err(nm, req, 400,
            "The identity %s has no key here (it was imported): use one made with 'ockam "
            "identity create'.",
            identity);
    else if (err == OCKAM_EINVAL && identity)
        ockam__nm_reply_err(nm, req, 400, "\"identity\" must be the name of an identity.");
    else
        ockam__nm_reply_err(nm, req, 500, "Unable to create the inlet: %s.", ockam_strerror(err));
}

/* For ockam__nm_reply_when: the inlet's view once it is UP (or at the deadline), JSON null
 * when it was deleted meanwhile, NULL while still waiting. */
static json_t *
inlet_outcome(ockam__nodemanager *nm, const char *alias, bool timed_out)
{
    struct nm_inlet *i = inlet_find(*ockam__nm_portal_slot(nm), alias);
    bool done = !i || timed_out || ockam_inlet_status(i->in) == OCKAM_INLET_UP;
    return !done ? NULL : i ? inlet_json(i) : json_null();
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
    struct inlet_sc sc = {
        json_string_value(json_object_get(body, "identity")), json_object_get(body, "authorized")};
    if (!ockam__nm_secure_ids_valid(sc.authorized)) {
        ockam__nm_reply_err(nm, req, 400, "\"authorized\" lists identifiers (I + 64 hex digits).");
        return;
    }
    if ((sc.identity || json_array_size(sc.authorized)) && !strstr(to, "/secure/")) {
        ockam__nm_reply_err(nm, req, 400,
            "An identity or authorized identifiers need a secure channel in the route: --to "
            "/node/NAME/secure/api/service/outlet.");
        return;
    }
    struct nm_inlet *i;
    ockam_err err
        = inlet_add(nm, alias, from, to, ockam__nm_body_ms(body, "ping_interval_ms", 0), sc, &i);
    if (err)
        inlet_create_failed(nm, req, err, body);
    else
        ockam__nm_reply_when(nm, req, alias, ockam__nm_body_ms(body, "wait_ms", 0), inlet_outcome);
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
    inlet_free(i);
    *i = s->inlets[--s->ninlets];
    ockam__nm_changed(nm);
    ockam__nm_reply_ok(nm, req, view);
}

/* ---- configuration, resources, restore, free -------------------------------------------- */

void
ockam__nm_portal_config(ockam__nodemanager *nm, json_t *cfg)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(nm);
    json_t *inlets = json_array(), *outlets = json_array();
    /* The bound address (real port): the inlet comes back where clients expect it. */
    for (size_t i = 0; s && i < s->ninlets; i++) {
        json_t *item = json_pack("{s:s, s:s, s:s}", "alias", s->inlets[i].alias, "from",
            ockam_inlet_bind_address(s->inlets[i].in), "to", s->inlets[i].to);
        if (s->inlets[i].ping_ms)
            json_object_set_new(item, "ping_interval_ms", json_integer(s->inlets[i].ping_ms));
        if (s->inlets[i].identity)
            json_object_set_new(item, "identity", json_string(s->inlets[i].identity));
        if (json_array_size(s->inlets[i].authorized))
            json_object_set(item, "authorized", s->inlets[i].authorized);
        json_array_append_new(inlets, item);
    }
    for (size_t i = 0; s && i < s->noutlets; i++) {
        json_t *item = json_pack("{s:s, s:s, s:O?}", "from", ockam_outlet_address(s->outlets[i].o),
            "to", ockam_outlet_target(s->outlets[i].o), "allow",
            ockam__nm_secure_outlet_allowed(nm, ockam_outlet_address(s->outlets[i].o)));
        if (s->outlets[i].ping_ms)
            json_object_set_new(item, "ping_interval_ms", json_integer(s->outlets[i].ping_ms));
        json_array_append_new(outlets, item);
    }
    json_object_set_new(cfg, "inlets", inlets);
    json_object_set_new(cfg, "outlets", outlets);
}

void
ockam__nm_portal_resources(ockam__nodemanager *nm, json_t *res)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(nm);
    json_object_set_new(res, "inlets", inlets_json(s));
    json_object_set_new(res, "outlets", outlets_json(nm, s));
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
        const char *from = ockam__nm_item_str(item, "from"), *to = ockam__nm_item_str(item, "to");
        json_t *allow = json_object_get(item, "allow");
        uint32_t ping_ms = ockam__nm_body_ms(item, "ping_interval_ms", 0);
        ockam_err err = from && to && ockam__nm_secure_allow_valid(allow)
            ? outlet_add(nm, from, to, ping_ms, &o)
            : OCKAM_EINVAL;
        /* An outlet that cannot get its restriction back must not run without it. */
        if (!err && (err = ockam__nm_secure_outlet_allow(nm, o, allow)) != OCKAM_OK)
            outlet_drop(nm, o);
        if (err)
            OCKAM_LOG_W(
                "cannot restore the TCP outlet %s: %s", from ? from : "?", ockam_strerror(err));
    }
    list = json_object_get(config, "inlets");
    json_array_foreach(list, i, item)
    {
        struct nm_inlet *in;
        const char *alias = ockam__nm_item_str(item, "alias"),
                   *from = ockam__nm_item_str(item, "from");
        const char *to = ockam__nm_item_str(item, "to");
        uint32_t ping_ms = ockam__nm_body_ms(item, "ping_interval_ms", 0);
        struct inlet_sc sc
            = {ockam__nm_item_str(item, "identity"), json_object_get(item, "authorized")};
        ockam_err err = alias && from && to && ockam__nm_secure_ids_valid(sc.authorized)
            ? inlet_add(nm, alias, from, to, ping_ms, sc, &in)
            : OCKAM_EINVAL;
        if (err)
            OCKAM_LOG_W(
                "cannot restore the TCP inlet %s: %s", alias ? alias : "?", ockam_strerror(err));
    }
    ockam__nm_relay_restore(nm, config);
}

/* The manager is going (node teardown): forget the bookkeeping. The inlets and outlets belong
 * to the node, which stops them itself. */
void
ockam__nm_portal_free(ockam__nodemanager *nm)
{
    struct ockam__nm_portal *s = *ockam__nm_portal_slot(nm);
    if (!s)
        return;
    for (size_t i = 0; i < s->ninlets; i++)
        inlet_free(&s->inlets[i]);
    ockam__free(s->inlets);
    ockam__free(s->outlets);
    ockam__free(s);
    *ockam__nm_portal_slot(nm) = NULL;
}
