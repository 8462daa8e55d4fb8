/* The node manager's relay part: the node's relay service (every node relays), the relays it
 * registers elsewhere (relay create/list/show/delete), and what `node start` restores of them.
 * The protocol is documented in nodemanager.h.
 *
 * Reachability: the relay service and every relay it starts are consumers of everything the
 * public services consume (listeners, operator connections, UDP listeners...): they are part
 * of the node's public surface. A relay this node registers elsewhere gives its own
 * connection the main listener's flow id as spawner, so through that relay the node is
 * reachable exactly as through its main listener. */
#include "nodemanager/nodemanager_internal.h"
#include "nodemanager/nodemanager_secure.h"

#include "core/core.h"
#include "ockam/relay.h"

#include <stdio.h>
#include <string.h>

#define RELAY_WAIT_MS 5000u /* how long relay create waits for the first outcome */

struct nm_relay {
    char *name;
    char *at; /* multiaddr of the relay node, as given */
    ockam_relay_client *rc;
    char *proxy;        /* with /secure/ in at: the worker that sends through the channel */
    json_t *authorized; /* the relay node's identity must be one of them (with /secure/) */
};

struct ockam__nm_relay {
    ockam_relay_service *svc;
    json_t *allow; /* who may register relays here (null: anyone), as configured */
    struct nm_relay *relays;
    size_t nrelays, caprelays;
};

/* ---- bookkeeping --------------------------------------------------------------------- */

static struct ockam__nm_relay *
state(ockam__nodemanager *nm)
{
    struct ockam__nm_relay **slot = ockam__nm_relay_slot(nm);
    if (!*slot)
        *slot = ockam__zalloc(sizeof **slot);
    return *slot;
}

static struct nm_relay *
relay_find(struct ockam__nm_relay *s, const char *name)
{
    for (size_t i = 0; s && i < s->nrelays; i++) {
        if (strcmp(s->relays[i].name, name) == 0)
            return &s->relays[i];
    }
    return NULL;
}

/* ---- the relay service --------------------------------------------------------------- */

static void
on_relay_started(ockam_relay_service *svc, const char *address, void *user)
{
    if (ockam__nm_consume_all(user, address) != OCKAM_OK)
        OCKAM_LOG_W("nodemanager: relay %s cannot be reached by every flow", address);
}

ockam_err
ockam__nm_relay_start(ockam__nodemanager *nm)
{
    struct ockam__nm_relay *s = state(nm);
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

ockam_err
ockam__nodemanager_relay_allow(ockam__nodemanager *nm, json_t *allow)
{
    struct ockam__nm_relay *s = state(nm);
    if (!s || !s->svc)
        return OCKAM_ENOTSUP;
    if (!ockam__nm_secure_allow_valid(allow))
        return OCKAM_EINVAL;
    if (!allow || json_is_null(allow)) {
        json_decref(s->allow);
        s->allow = NULL;
        return ockam_relay_service_restrict(s->svc, NULL);
    }
    /* The rule of tcp-outlet create --allow: "secure" alone admits any channel peer; listed
     * identifiers (with or without "secure") admit only those. */
    size_t n = json_array_size(allow), count = 0, i;
    const char **ids = ockam__alloc(n * sizeof *ids);
    json_t *v;
    if (!ids)
        return OCKAM_ENOMEM;
    json_array_foreach(allow, i, v)
    {
        const char *t = json_string_value(v);
        if (strcmp(t, "secure") != 0)
            ids[count++] = t;
    }
    ockam_sc_trust trust = {.identifiers = ids, .count = count};
    ockam_err err = ockam_relay_service_restrict(s->svc, &trust);
    ockam__free(ids);
    if (err)
        return err;
    json_decref(s->allow);
    s->allow = json_incref(allow);
    return OCKAM_OK;
}

struct served_ctx {
    json_t *arr;
};

static void
served_each(const ockam_relay_info *info, void *arg)
{
    struct served_ctx *c = arg;
    json_array_append_new(c->arr,
        json_pack("{s:s, s:s, s:o, s:s?, s:I, s:s?}", "address", info->address, "name", info->name,
            "forward_route", ockam__nm_route_json(info->route), "connection", info->conn,
            "forwarded", (json_int_t)info->forwarded, "identifier", info->identifier));
}

static json_t *
served_json(struct ockam__nm_relay *s)
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
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s?, s:s, s:I, s:o, s:I, s:o}", "name", r->name,
        "destination_address", r->at, "connection_status", up ? "Up" : "Down", "forwarding_route",
        ockam__nm_route_json(ockam_relay_client_route(rc)), "relay_route",
        ockam__nm_route_json(ockam_relay_client_route(rc)), "remote_address", remote,
        "worker_address", worker, "flow_control_id", (json_int_t)(c ? ockam_conn_flow_id(c) : 0),
        "last_failure", ockam__nm_error_json(ockam_relay_client_last_error(rc)), "registrations",
        (json_int_t)ockam_relay_client_registrations(rc), "authorized", json_incref(r->authorized));
}

static json_t *
relays_json(struct ockam__nm_relay *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; s && i < s->nrelays; i++)
        json_array_append_new(arr, relay_json(&s->relays[i]));
    return arr;
}

/* Start a relay client for name at the relay node (multiaddr). */
static ockam_err
relay_add(
    ockam__nodemanager *nm, const char *name, const char *at, uint32_t ping_ms, json_t *authorized)
{
    struct ockam__nm_relay *s = state(nm);
    ockam_route *to = NULL;
    if (!s || ockam__array_reserve(s->relays, s->caprelays, s->nrelays + 1, 4) != OCKAM_OK)
        return OCKAM_ENOMEM;
    /* Registered through a secure channel to the relay node (nodemanager_secure.c): the
     * relay node must prove one of the authorized identities, and what it forwards arrives
     * encrypted and authenticated. */
    char *proxy = NULL, *via = NULL;
    ockam_err err = strstr(at, "/secure/")
        ? ockam__nm_secure_proxy_start(nm, at, authorized, NULL, true, &via, &proxy)
        : OCKAM_OK;
    if (!err)
        err = ockam__nm_route_of(via ? via : at, &to);
    ockam__free(via);
    if (err) {
        ockam__nm_secure_proxy_stop(nm, proxy);
        ockam__free(proxy);
        return err;
    }
    ockam_listener *main = ockam__nm_main_listener(nm);
    ockam_relay_client_config cfg = OCKAM_RELAY_CLIENT_CONFIG_INIT;
    cfg.to = to;
    cfg.name = name;
    cfg.expose = main ? ockam_listener_flow_id(main) : 0;
    cfg.ping_interval_ms = ping_ms;
    struct nm_relay r = {ockam__strdup(name), ockam__strdup(at), NULL, proxy,
        authorized ? json_incref(authorized) : json_array()};
    err = r.name && r.at ? ockam_relay_client_start(ockam__nm_node(nm), &cfg, &r.rc) : OCKAM_ENOMEM;
    ockam_route_free(to);
    if (err) {
        ockam__nm_secure_proxy_stop(nm, proxy);
        ockam__free(proxy);
        json_decref(r.authorized);
        ockam__free(r.name);
        ockam__free(r.at);
        return err;
    }
    s->relays[s->nrelays++] = r;
    ockam__nm_changed(nm);
    return OCKAM_OK;
}

static void
relay_remove(ockam__nodemanager *nm, struct ockam__nm_relay *s, struct nm_relay *r)
{
    ockam_relay_client_stop(r->rc);
    ockam__nm_secure_proxy_stop(nm, r->proxy);
    ockam__free(r->proxy);
    json_decref(r->authorized);
    ockam__free(r->name);
    ockam__free(r->at);
    *r = s->relays[--s->nrelays];
    ockam__nm_changed(nm);
}

/* For ockam__nm_reply_when: the relay's view once it is UP, its first attempt failed, or the
 * deadline passed; JSON null when it was deleted meanwhile; NULL while still waiting. */
static json_t *
relay_outcome(ockam__nodemanager *nm, const char *name, bool timed_out)
{
    struct nm_relay *r = relay_find(*ockam__nm_relay_slot(nm), name);
    bool done = !r || timed_out || ockam_relay_client_state(r->rc) == OCKAM_RELAY_UP
        || ockam_relay_client_last_error(r->rc)[0];
    return !done ? NULL : r ? relay_json(r) : json_null();
}

/* ---- endpoints ------------------------------------------------------------------------- */

void
ockam__nm_relay_list(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    ockam__nm_reply_ok(nm, req, relays_json(*ockam__nm_relay_slot(nm)));
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
    if (relay_find(*ockam__nm_relay_slot(nm), name)) {
        ockam__nm_reply_err(nm, req, 409, "A relay with the name '%s' already exists.", name);
        return;
    }
    json_t *auth = json_object_get(body, "authorized");
    if (!ockam__nm_secure_ids_valid(auth)) {
        ockam__nm_reply_err(nm, req, 400, "\"authorized\" lists identifiers (I + 64 hex digits).");
        return;
    }
    if (json_array_size(auth) && !strstr(at, "/secure/")) {
        ockam__nm_reply_err(nm, req, 400,
            "Authorized identities need a secure channel to the relay node: --at "
            "/node/NAME/secure/api.");
        return;
    }
    ockam_err err = relay_add(nm, name, at, ockam__nm_body_ms(body, "ping_interval_ms", 0), auth);
    if (err == OCKAM_EMULTIADDR || err == OCKAM_EROUTE || err == OCKAM_ENOTSUP)
        ockam__nm_reply_err(nm, req, 400, "'%s' cannot be turned into a route.", at);
    else if (err)
        ockam__nm_reply_err(nm, req, 500, "Unable to create the relay: %s.", ockam_strerror(err));
    else
        ockam__nm_reply_when(
            nm, req, name, ockam__nm_body_ms(body, "wait_ms", RELAY_WAIT_MS), relay_outcome);
}

void
ockam__nm_relay_show(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    struct nm_relay *r = relay_find(*ockam__nm_relay_slot(nm), arg);
    if (!r)
        ockam__nm_reply_err(
            nm, req, 404, "There is no relay %s on node %s.", arg, ockam__nm_name(nm));
    else
        ockam__nm_reply_ok(nm, req, relay_json(r));
}

void
ockam__nm_relay_delete(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    struct ockam__nm_relay *s = *ockam__nm_relay_slot(nm);
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

/* A flow the public services now consume (a listener...): the relay service and its relays
 * take it too. Removed flows stay with the relays: stale ids of closed listeners are harmless
 * (flow ids are never reused). */
void
ockam__nm_relay_flow(ockam__nodemanager *nm, ockam_flow_id flow, bool add)
{
    struct ockam__nm_relay *s = *ockam__nm_relay_slot(nm);
    if (add && s && s->svc && ockam_relay_service_allow(s->svc, flow) != OCKAM_OK)
        OCKAM_LOG_W("nodemanager: the relay service cannot consume a new flow");
}

void
ockam__nm_relay_channel_remade(ockam__nodemanager *nm, const char *proxy)
{
    struct ockam__nm_relay *s = state(nm);
    for (size_t i = 0; s && i < s->nrelays; i++) {
        if (s->relays[i].proxy && strcmp(s->relays[i].proxy, proxy) == 0)
            ockam_relay_client_register_now(s->relays[i].rc);
    }
}

/* ---- configuration, resources, restore, free -------------------------------------------- */

void
ockam__nm_relay_config(ockam__nodemanager *nm, json_t *cfg)
{
    struct ockam__nm_relay *s = *ockam__nm_relay_slot(nm);
    json_t *relays = json_array();
    for (size_t i = 0; s && i < s->nrelays; i++)
        json_array_append_new(relays,
            json_pack("{s:s, s:s, s:O}", "name", s->relays[i].name, "at", s->relays[i].at,
                "authorized", s->relays[i].authorized));
    json_object_set_new(cfg, "relays", relays);
    json_object_set_new(cfg, "relay_allow", s && s->allow ? json_incref(s->allow) : json_null());
}

void
ockam__nm_relay_resources(ockam__nodemanager *nm, json_t *res)
{
    struct ockam__nm_relay *s = *ockam__nm_relay_slot(nm);
    json_object_set_new(res, "relays", relays_json(s));
    json_object_set_new(res, "relay_allow", s && s->allow ? json_incref(s->allow) : json_null());
}

void
ockam__nm_relay_served(ockam__nodemanager *nm, json_t *res)
{
    json_object_set_new(res, "relays_served", served_json(*ockam__nm_relay_slot(nm)));
}

void
ockam__nm_relay_restore(ockam__nodemanager *nm, json_t *config)
{
    json_t *list = json_object_get(config, "relays"), *item;
    size_t i;
    json_array_foreach(list, i, item)
    {
        const char *name = ockam__nm_item_str(item, "name"), *at = ockam__nm_item_str(item, "at");
        json_t *auth = json_object_get(item, "authorized");
        ockam_err err = name && at && ockam__nm_secure_ids_valid(auth)
            ? relay_add(nm, name, at, 0, auth)
            : OCKAM_EINVAL;
        if (err)
            OCKAM_LOG_W("cannot restore the relay %s: %s", name ? name : "?", ockam_strerror(err));
    }
}

/* The manager is going (node teardown): forget the bookkeeping. The relay service and the
 * relay clients belong to the node, which stops them itself. */
void
ockam__nm_relay_free(ockam__nodemanager *nm)
{
    struct ockam__nm_relay *s = *ockam__nm_relay_slot(nm);
    if (!s)
        return;
    for (size_t i = 0; i < s->nrelays; i++) {
        ockam__free(s->relays[i].name);
        ockam__free(s->relays[i].at);
        ockam__free(s->relays[i].proxy);
        json_decref(s->relays[i].authorized);
    }
    ockam__free(s->relays);
    json_decref(s->allow);
    ockam__free(s);
    *ockam__nm_relay_slot(nm) = NULL;
}
