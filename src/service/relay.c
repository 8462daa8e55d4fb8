/* The relay service (docs/wire.md §8.1-§8.3): registrations, confirmations, relay workers that
 * forward along their stored route, and their removal when their connection closes. The
 * rules are in ockam/relay.h.
 *
 * Lifetime: the service state is shared by its own worker and every relay; it is freed when
 * the service worker has stopped and the last relay is gone. During node free the node stops
 * every worker itself, so an on_stop callback here never stops another worker then. */
#include "ockam/relay.h"
#include "channel/channel_internal.h"
#include "core/codec.h"
#include "core/list.h"
#include "node/node_internal.h"
#include "node/registry.h"
#include "ockam/identity.h"
#include "ockam/secure_channel.h"
#include "ockam/services.h"

#include <stdio.h>
#include <strings.h>

#define EPHEMERAL_PAYLOAD "register"

struct relay {
    struct ockam__link link; /* in the service's relays, newest first */
    ockam_relay_service *svc;
    ockam_worker *worker;
    char *address;      /* prefix + name */
    size_t name_off;    /* where the name starts in address */
    ockam_route *route; /* forward route without the registering worker */
    char *registered_by;
    /* The authenticated identifier of the channel it was registered through, "" when it was
     * registered in plaintext: a bound name can only be replaced by the same identifier. */
    char owner[OCKAM_SC_IDENTIFIER_SIZE];
    /* A bound relay forwards into its channel's encryptor (the forward route's first hop),
     * which accepts only its own channel's flow: while the relay uses it, it is also a
     * consumer of the service's allowed flows. NULL for a plaintext relay. */
    char *gate;
    ockam_conn *conn; /* the connection it lives on (watched), or NULL */
    char conn_addr[OCKAM_RANDOM_ADDR_LEN + 1];
    ockam_worker *chan; /* or the secure channel it lives on (watched), or NULL */
    uint64_t forwarded;
};

struct ockam_relay_service {
    ockam_node *node;
    ockam_worker *worker;  /* NULL once stopped */
    char *address, *alias; /* the service's addresses (alias NULL when none) */
    char *prefix;
    ockam_flow_id *allow;
    size_t nallow, capallow;
    /* Who may register (ockam_relay_service_restrict): anyone while !restricted; otherwise
     * only secure-channel peers, and only these identifiers when nids > 0. */
    bool restricted;
    char (*ids)[OCKAM_SC_IDENTIFIER_SIZE];
    size_t nids;
    struct ockam__link relays;
    size_t count;
    void (*on_relay)(ockam_relay_service *svc, const char *address, void *user);
    void *user;
};

/* ---- helpers ------------------------------------------------------------------------- */

static char *
addr_text(ockam_addr a)
{
    if (a.len == 0 || memchr(a.bytes, 0, a.len))
        return NULL;
    return ockam__strndup((const char *)a.bytes, a.len);
}

static void
svc_maybe_free(ockam_relay_service *svc)
{
    if (svc->worker || !ockam__link_empty(&svc->relays))
        return;
    ockam__free(svc->prefix);
    ockam__free(svc->address);
    ockam__free(svc->alias);
    ockam__free(svc->allow);
    ockam__free(svc->ids);
    ockam__free(svc);
}

static ockam_err
allow_all(ockam_relay_service *svc, const char *address)
{
    for (size_t i = 0; i < svc->nallow; i++) {
        ockam_err err = ockam_flow_add_consumer(svc->node, address, svc->allow[i]);
        if (err)
            return err;
    }
    return OCKAM_OK;
}

/* Another live relay forwards into the same gate. */
static bool
gate_shared(ockam_relay_service *svc, const struct relay *r)
{
    for (struct ockam__link *l = svc->relays.next; l != &svc->relays; l = l->next) {
        struct relay *o = OCKAM__CONTAINER_OF(l, struct relay, link);
        if (o != r && o->gate && strcmp(o->gate, r->gate) == 0)
            return true;
    }
    return false;
}

static void
gate_close(ockam_relay_service *svc, struct relay *r)
{
    if (!r->gate || ockam__node_closing(svc->node) || gate_shared(svc, r))
        return;
    for (size_t i = 0; i < svc->nallow; i++)
        ockam_flow_remove_consumer(svc->node, r->gate, svc->allow[i]);
}

static struct relay *
relay_find(ockam_relay_service *svc, const char *address)
{
    for (struct ockam__link *l = svc->relays.next; l != &svc->relays; l = l->next) {
        struct relay *r = OCKAM__CONTAINER_OF(l, struct relay, link);
        if (strcmp(r->address, address) == 0)
            return r;
    }
    return NULL;
}

/* ---- relay worker -------------------------------------------------------------------- */

/* A forward found no worker at a local first hop of the relay's route: a local worker it was
 * registered through (a hop) stopped. Connections and channels are watched instead; this
 * catches what no watch covers. Random addresses never come back, so the relay can never
 * forward again: it goes, and its name no longer takes messages to drop them one by one. */
static void
relay_check_exit(struct relay *r)
{
    ockam_addr first = ockam_route_len(r->route) ? ockam_route_front(r->route) : (ockam_addr) {0};
    if (first.type != OCKAM_TRANSPORT_LOCAL || first.len == 0 || first.len > OCKAM_MAX_ADDR_LEN)
        return;
    char text[OCKAM_MAX_ADDR_LEN + 1];
    memcpy(text, first.bytes, first.len);
    text[first.len] = '\0';
    if (ockam_node_has_worker(r->svc->node, text))
        return;
    OCKAM_LOG_I("relay %s: its route's first hop %s is gone", r->address, text);
    ockam_worker_stop(r->worker);
}

static void
relay_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct relay *r = user;
    ockam_route *onward = ockam_msg_onward(msg);
    ockam_err err = ockam_route_pop_front(onward);
    if (!err)
        err = ockam_route_prepend(onward, r->route);
    if (!err && ockam_route_len(onward) == 0)
        err = OCKAM_EROUTE;
    if (err) {
        OCKAM_LOG_D("relay %s: message dropped: %s", r->address, ockam_strerror(err));
        ockam_msg_free(msg);
        return;
    }
    r->forwarded++;
    err = ockam_forward(w, msg);
    if (err)
        OCKAM_LOG_D("relay %s: forward failed: %s", r->address, ockam_strerror(err));
    if (err == OCKAM_ENOENT)
        relay_check_exit(r);
}

static void relay_conn_closed(ockam_conn *conn, ockam_err reason, void *user);
static void relay_chan_closed(void *user);

static void
relay_free(struct relay *r)
{
    ockam_route_free(r->route);
    ockam__free(r->gate);
    ockam__free(r->registered_by);
    ockam__free(r->address);
    ockam__free(r);
}

static void
relay_on_stop(ockam_worker *w, void *user)
{
    struct relay *r = user;
    ockam_relay_service *svc = r->svc;
    if (r->conn)
        ockam_conn_off_close(r->conn, relay_conn_closed, r);
    if (r->chan)
        ockam__worker_unwatch_stop(r->chan, relay_chan_closed, r);
    gate_close(svc, r);
    ockam__link_del(&r->link);
    svc->count--;
    OCKAM_LOG_I("relay %s removed", r->address);
    relay_free(r);
    svc_maybe_free(svc);
}

static void
relay_conn_closed(ockam_conn *conn, ockam_err reason, void *user)
{
    struct relay *r = user;
    r->conn = NULL; /* the watcher list is being consumed; nothing to remove */
    OCKAM_LOG_I("relay %s: its connection %s closed", r->address, r->conn_addr);
    ockam_worker_stop(r->worker);
}

static void
relay_chan_closed(void *user)
{
    struct relay *r = user;
    r->chan = NULL; /* the watcher list is being consumed; nothing to remove */
    OCKAM_LOG_I("relay %s: its secure channel closed", r->address);
    ockam_worker_stop(r->worker);
}

/* The relay lives on the connection where its forward route leaves this node (`exit`, from
 * route_exit), when that is a stream connection, or on the secure channel it leaves through
 * (`chan`). */
static void
relay_watch(struct relay *r, ockam_addr exit, ockam_worker *chan)
{
    if (chan && ockam__worker_watch_stop(chan, relay_chan_closed, r) == OCKAM_OK)
        r->chan = chan;
    if (exit.type != OCKAM_TRANSPORT_LOCAL || exit.len != OCKAM_RANDOM_ADDR_LEN)
        return;
    memcpy(r->conn_addr, exit.bytes, exit.len);
    r->conn_addr[exit.len] = '\0';
    ockam_conn *c = ockam_conn_find(r->svc->node, r->conn_addr);
    if (c && ockam_conn_on_close(c, relay_conn_closed, r) == OCKAM_OK)
        r->conn = c;
    else
        r->conn_addr[0] = '\0';
}

/* ---- registration -------------------------------------------------------------------- */

/* The name asked for: `register` -> random; otherwise the text itself. */
static ockam_err
registration_name(const ockam_msg *msg, char *out, size_t cap)
{
    ockam_slice text;
    ockam_slice p = ockam_msg_payload(msg);
    ockam_err err = ockam__bare_string_decode(p.ptr, p.len, &text);
    if (err)
        return err;
    if (text.len == strlen(EPHEMERAL_PAYLOAD)
        && memcmp(text.ptr, EPHEMERAL_PAYLOAD, text.len) == 0) {
        char random[OCKAM_RANDOM_ADDR_LEN + 1];
        ockam_addr_random(random);
        memcpy(out, random, sizeof random);
        return OCKAM_OK;
    }
    if (text.len == 0 || text.len > OCKAM_RELAY_NAME_MAX || text.len >= cap
        || memchr(text.ptr, 0, text.len))
        return OCKAM_EINVAL;
    memcpy(out, text.ptr, text.len);
    out[text.len] = '\0';
    return OCKAM_OK;
}

static struct relay *
relay_new(ockam_relay_service *svc, const char *name, const ockam_route *forward, const char *who)
{
    struct relay *r = ockam__zalloc(sizeof *r);
    size_t plen = strlen(svc->prefix), nlen = strlen(name);
    if (!r)
        return NULL;
    r->svc = svc;
    r->name_off = plen;
    r->address = ockam__alloc(plen + nlen + 1);
    r->route = ockam_route_new();
    r->registered_by = addr_text(ockam_route_back(forward));
    if (!r->address || !r->route || ockam_route_copy(r->route, forward)) {
        relay_free(r);
        return NULL;
    }
    memcpy(r->address, svc->prefix, plen);
    memcpy(r->address + plen, name, nlen + 1);
    snprintf(r->owner, sizeof r->owner, "%s", who);
    /* Out of a channel, the return route starts with that channel's encryptor here. */
    if (who[0] && !(r->gate = addr_text(ockam_route_front(forward)))) {
        relay_free(r);
        return NULL;
    }
    return r;
}

/* Start the worker, join the service's list and apply flow control. Consumes r on error. */
static ockam_err
relay_start(struct relay *r, ockam_origin origin)
{
    ockam_relay_service *svc = r->svc;
    ockam_worker_opts opts = {.on_message = relay_on_message, .on_stop = relay_on_stop, .user = r};
    ockam_err err = ockam_worker_start(svc->node, r->address, &opts, &r->worker);
    if (err) {
        relay_free(r);
        return err;
    }
    ockam__link_push_front(&svc->relays, &r->link);
    svc->count++;
    err = allow_all(svc, r->address);
    if (!err && r->gate)
        err = allow_all(svc, r->gate);
    /* The registering node may use its relay too (and its pings come through it). */
    if (!err && origin.producer)
        err = ockam_flow_add_consumer(svc->node, r->address, origin.producer);
    if (err)
        ockam_worker_stop(r->worker);
    return err;
}

/* Why a registration from `who` ("" = plaintext) may not replace `old`, or NULL if it may:
 * a name registered through a secure channel belongs to that channel's identifier. */
static const char *
replace_refusal(const struct relay *old, const char *who)
{
    if (!old->owner[0] || strcmp(old->owner, who) == 0)
        return NULL;
    return who[0] ? "the name is bound to another identity"
                  : "the name is bound to an identity; a plaintext registration cannot replace it";
}

/* A live relay with the same address is replaced (unless its owner forbids it, *why says so);
 * any other worker there is never touched. */
static ockam_err
make_room(ockam_relay_service *svc, const char *address, const char *who, const char **why)
{
    struct relay *old = relay_find(svc, address);
    if (old) {
        *why = replace_refusal(old, who);
        if (*why) {
            OCKAM_LOG_W("relay service: registration of %s refused: %s (bound to %s, request %s)",
                address, *why, old->owner, who[0] ? who : "in plaintext");
            return OCKAM_EACCES;
        }
        OCKAM_LOG_I("relay %s registered again: replacing the old registration", address);
        ockam_worker_stop(old->worker);
        return OCKAM_OK;
    }
    return ockam_node_has_worker(svc->node, address) ? OCKAM_EEXIST : OCKAM_OK;
}

/* Confirmation (§8.2): to the full forward route, from the relay, with its full address.
 * Afterwards the relay forgets the registering worker (§8.3, Rust >= v0.88). */
static void
relay_confirm(struct relay *r, ockam_msg *registration)
{
    uint8_t *payload = NULL;
    size_t len = 0;
    ockam_err err = ockam_bare_string_encode(r->address, strlen(r->address), &payload, &len);
    if (err) {
        ockam_msg_free(registration);
    } else {
        err = ockam_reply(r->worker, registration, payload, len);
        ockam__free(payload);
    }
    if (err)
        OCKAM_LOG_W("relay %s: confirmation not sent: %s", r->address, ockam_strerror(err));
    ockam_route_pop_back(r->route);
}

/* Tell the registering worker why (docs/wire.md, Relays: the refusal), from the service, as a
 * BARE string that never ends with the requested name: a client that only knows
 * confirmations (Rust Ockam) takes it for an invalid one instead of a confirmation. */
static void
refuse(ockam_worker *w, ockam_msg *registration, const char *name, const char *why)
{
    char text[OCKAM_RELAY_NAME_MAX + 200];
    size_t n = (size_t)snprintf(text, sizeof text - 2, OCKAM_RELAY_REFUSED "%s", why);
    size_t nlen = strlen(name);
    if (n >= nlen && memcmp(text + n - nlen, name, nlen) == 0) {
        text[n] = name[nlen - 1] == '.' ? '!' : '.';
        text[++n] = '\0';
    }
    uint8_t *payload = NULL;
    size_t len = 0;
    ockam_err err = ockam_bare_string_encode(text, n, &payload, &len);
    if (err) {
        ockam_msg_free(registration);
        return;
    }
    err = ockam_reply(w, registration, payload, len);
    ockam__free(payload);
    if (err)
        OCKAM_LOG_D("relay service: refusal not sent: %s", ockam_strerror(err));
}

/* Where the relay's forward route leaves this node, following its leading local hops: a
 * transport's sender (a worker that accepts any origin: *exit, a stream connection or another
 * link) or a secure channel end (*chan). The relay is removed when that goes. Neither is set
 * for a route that ends on this node (a local registrant) or leaves by a non-local address
 * (Kafka). The local workers in front (hop) only pass messages on to the next address, which
 * must therefore be here too: OCKAM_ECLOSED when any of these hops has no worker -- a
 * connection or channel that closed while the registration waited in a mailbox (its frame and
 * a bad one in the same read, say). A relay made for it would forward nowhere and never be
 * removed -- relays go when their connection closes -- so any peer could pile them up. */
static ockam_err
route_exit(
    ockam_relay_service *svc, const ockam_route *forward, ockam_addr *exit, ockam_worker **chan)
{
    struct ockam__registry *reg = ockam__node_registry(svc->node);
    *exit = (ockam_addr) {0};
    *chan = NULL;
    for (size_t i = 0; i < ockam_route_len(forward); i++) {
        ockam_addr a = ockam_route_at(forward, i);
        if (a.type != OCKAM_TRANSPORT_LOCAL)
            return OCKAM_OK;
        struct ockam__entry *e = ockam__registry_find(reg, a.bytes, a.len);
        if (!e || !e->worker)
            return OCKAM_ECLOSED;
        if (e->any_origin) {
            *exit = a;
            return OCKAM_OK;
        }
        if (ockam__sc_is_worker(e->worker)) {
            *chan = e->worker;
            return OCKAM_OK;
        }
    }
    return OCKAM_OK;
}

/* Why `who` ("" = plaintext) may not register at all, or NULL if it may. */
static const char *
registrant_refusal(const ockam_relay_service *svc, const char *who)
{
    if (!svc->restricted)
        return NULL;
    if (!who[0])
        return "this node accepts relay registrations only through a secure channel";
    if (svc->nids == 0)
        return NULL;
    for (size_t i = 0; i < svc->nids; i++) {
        if (strcasecmp(svc->ids[i], who) == 0)
            return NULL;
    }
    return "this identity is not allowed to register relays on this node";
}

static void
service_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_relay_service *svc = user;
    char name[OCKAM_RELAY_NAME_MAX + 1], who[OCKAM_SC_IDENTIFIER_SIZE] = "";
    const char *why = NULL;
    const ockam_route *ret = ockam_msg_return_const(msg);
    ockam_err err = ockam_route_len(ret) == 0 ? OCKAM_EROUTE : OCKAM_OK;
    ockam_addr exit = {0};
    ockam_worker *chan = NULL;
    if (!err)
        err = route_exit(svc, ret, &exit, &chan);
    if (!err)
        err = registration_name(msg, name, sizeof name);
    if (err) {
        OCKAM_LOG_W("relay service: registration refused: %s", ockam_strerror(err));
        ockam_msg_free(msg);
        return;
    }
    /* Local info only: nothing the peer writes can set it (ockam/secure_channel.h). */
    if (!ockam_sc_msg_identifier(msg, who))
        who[0] = '\0';
    if ((why = registrant_refusal(svc, who)) != NULL) {
        OCKAM_LOG_W("relay service: registration of %s%s refused: %s (%s)", svc->prefix, name, why,
            who[0] ? who : "in plaintext");
        refuse(w, msg, name, why);
        return;
    }
    struct relay *r = relay_new(svc, name, ret, who);
    err = r ? make_room(svc, r->address, who, &why) : OCKAM_ENOMEM;
    if (err && r)
        relay_free(r);
    if (why) {
        refuse(w, msg, name, why);
        return;
    }
    if (!err)
        err = relay_start(r, ockam_msg_origin(msg));
    if (err) {
        OCKAM_LOG_W(
            "relay service: cannot start relay %s%s: %s", svc->prefix, name, ockam_strerror(err));
        ockam_msg_free(msg);
        return;
    }
    relay_watch(r, exit, chan);
    if (svc->on_relay)
        svc->on_relay(svc, r->address, svc->user);
    char *route_text = ockam_route_to_string(ret);
    OCKAM_LOG_I("relay %s registered for %s%s%s", r->address, route_text ? route_text : "?",
        who[0] ? ", bound to " : "", who);
    ockam_free(route_text);
    relay_confirm(r, msg);
}

static void
service_on_stop(ockam_worker *w, void *user)
{
    ockam_relay_service *svc = user;
    svc->worker = NULL;
    /* At node free the node stops the relays itself (see the file comment). */
    if (!ockam__node_closing(svc->node)) {
        while (!ockam__link_empty(&svc->relays))
            ockam_worker_stop(OCKAM__CONTAINER_OF(svc->relays.next, struct relay, link)->worker);
    }
    svc_maybe_free(svc);
}

/* ---- public API ---------------------------------------------------------------------- */

static ockam_err
svc_init(ockam_relay_service *svc, const ockam_relay_service_config *cfg)
{
    const char *alias = cfg->static_alias ? cfg->static_alias : OCKAM_RELAY_STATIC_SERVICE_ADDR;
    svc->on_relay = cfg->on_relay;
    svc->user = cfg->user;
    svc->prefix = ockam__strdup(cfg->prefix ? cfg->prefix : OCKAM_RELAY_PREFIX);
    svc->address = ockam__strdup(cfg->address ? cfg->address : OCKAM_RELAY_SERVICE_ADDR);
    svc->alias = alias[0] ? ockam__strdup(alias) : NULL;
    if (!svc->prefix || !svc->address || (alias[0] && !svc->alias))
        return OCKAM_ENOMEM;
    for (size_t i = 0; i < cfg->allow_count; i++) {
        ockam_err err = ockam_relay_service_allow(svc, cfg->allow[i]);
        if (err)
            return err;
    }
    return OCKAM_OK;
}

static ockam_err
svc_start_worker(ockam_relay_service *svc)
{
    ockam_worker_opts opts
        = {.on_message = service_on_message, .on_stop = service_on_stop, .user = svc};
    ockam_err err = ockam_worker_start(svc->node, svc->address, &opts, &svc->worker);
    if (err) {
        svc->worker = NULL;
        svc_maybe_free(svc);
        return err;
    }
    if (svc->alias)
        err = ockam_worker_add_address(svc->worker, svc->alias);
    if (!err)
        err = allow_all(svc, svc->address);
    if (!err && svc->alias)
        err = allow_all(svc, svc->alias);
    if (err)
        ockam_worker_stop(svc->worker); /* frees svc */
    return err;
}

ockam_err
ockam_relay_service_start(
    ockam_node *node, const ockam_relay_service_config *cfg, ockam_relay_service **out)
{
    static const ockam_relay_service_config defaults = OCKAM_RELAY_SERVICE_CONFIG_INIT;
    if (!cfg)
        cfg = &defaults;
    if (cfg->allow_count && !cfg->allow)
        return OCKAM_EINVAL;
    ockam_relay_service *svc = ockam__zalloc(sizeof *svc);
    if (!svc)
        return OCKAM_ENOMEM;
    svc->node = node;
    ockam__link_init(&svc->relays);
    ockam_err err = svc_init(svc, cfg);
    if (err) {
        svc_maybe_free(svc);
        return err;
    }
    err = svc_start_worker(svc);
    if (err)
        return err;
    if (out)
        *out = svc;
    return OCKAM_OK;
}

void
ockam_relay_service_stop(ockam_relay_service *svc)
{
    if (svc && svc->worker)
        ockam_worker_stop(svc->worker);
}

static ockam_err
allow_worker_addresses(ockam_relay_service *svc, ockam_flow_id id)
{
    ockam_err err = OCKAM_OK;
    if (svc->worker)
        err = ockam_flow_add_consumer(svc->node, svc->address, id);
    if (!err && svc->worker && svc->alias)
        err = ockam_flow_add_consumer(svc->node, svc->alias, id);
    for (struct ockam__link *l = svc->relays.next; l != &svc->relays && !err; l = l->next) {
        struct relay *r = OCKAM__CONTAINER_OF(l, struct relay, link);
        err = ockam_flow_add_consumer(svc->node, r->address, id);
        if (!err && r->gate)
            err = ockam_flow_add_consumer(svc->node, r->gate, id);
    }
    return err;
}

ockam_err
ockam_relay_service_allow(ockam_relay_service *svc, ockam_flow_id id)
{
    for (size_t i = 0; i < svc->nallow; i++) {
        if (svc->allow[i] == id)
            return OCKAM_OK;
    }
    if (ockam__array_reserve(svc->allow, svc->capallow, svc->nallow + 1, 4) != OCKAM_OK)
        return OCKAM_ENOMEM;
    svc->allow[svc->nallow++] = id;
    return allow_worker_addresses(svc, id);
}

ockam_err
ockam_relay_service_restrict(ockam_relay_service *svc, const ockam_sc_trust *trust)
{
    char(*ids)[OCKAM_SC_IDENTIFIER_SIZE] = NULL;
    size_t n = trust ? trust->count : 0;
    if (n && !trust->identifiers)
        return OCKAM_EINVAL;
    for (size_t i = 0; i < n; i++) {
        uint8_t raw[32];
        if (!trust->identifiers[i] || ockam_identifier_parse(trust->identifiers[i], raw))
            return OCKAM_EINVAL;
    }
    if (n && !(ids = ockam__alloc(n * sizeof *ids)))
        return OCKAM_ENOMEM;
    for (size_t i = 0; i < n; i++)
        snprintf(ids[i], sizeof ids[i], "%s", trust->identifiers[i]);
    ockam__free(svc->ids);
    svc->ids = ids;
    svc->nids = n;
    svc->restricted = trust != NULL;
    /* Relays registered before by someone no longer allowed go. */
    for (struct ockam__link *l = svc->relays.next, *next; l != &svc->relays; l = next) {
        next = l->next;
        struct relay *r = OCKAM__CONTAINER_OF(l, struct relay, link);
        if (registrant_refusal(svc, r->owner))
            ockam_worker_stop(r->worker);
    }
    return OCKAM_OK;
}

size_t
ockam_relay_service_count(const ockam_relay_service *svc)
{
    return svc->count;
}

void
ockam_relay_service_each(
    ockam_relay_service *svc, void (*fn)(const ockam_relay_info *info, void *arg), void *arg)
{
    for (struct ockam__link *l = svc->relays.next, *next; l != &svc->relays; l = next) {
        next = l->next;
        struct relay *r = OCKAM__CONTAINER_OF(l, struct relay, link);
        ockam_relay_info info = {
            .address = r->address,
            .name = r->address + r->name_off,
            .route = r->route,
            .registered_by = r->registered_by ? r->registered_by : "",
            .conn = r->conn ? r->conn_addr : NULL,
            .forwarded = r->forwarded,
            .identifier = r->owner[0] ? r->owner : NULL,
        };
        fn(&info, arg);
    }
}

ockam_err
ockam_relay_service_remove(ockam_relay_service *svc, const char *address)
{
    struct relay *r = relay_find(svc, address);
    if (!r)
        return OCKAM_ENOENT;
    ockam_worker_stop(r->worker);
    return OCKAM_OK;
}
