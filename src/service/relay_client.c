/* The relay client: registration (docs/wire.md §8.1/§8.2), supervision and re-registration. The
 * rules are in ockam/relay.h.
 *
 * One worker at the registration address receives the confirmation, the pings (which travel
 * through the relay and come back to it) and, from pre-v0.88/Elixir relays, forwarded
 * messages that still name it. One node timer drives the phase in progress:
 *
 *   WAIT (backoff) -> CONNECTING (own TCP connection) -> REGISTERING -> UP -> (failure) WAIT
 *
 * Lifetime: the client is freed when its worker has stopped, unless a TCP connect is still
 * pending: its callback is guaranteed to run (at node free at the latest), and frees it. */
#include "core/codec.h"
#include "node/node_internal.h"
#include "ockam/relay.h"
#include "ockam/services.h"
#include "ockam/tcp.h"

#include <stdarg.h>
#include <stdio.h>

#define DEFAULT_PING_MS 10000u
#define DEFAULT_FAILURES 3u
#define DEFAULT_REGISTER_MS 10000u
#define DEFAULT_BACKOFF_MIN_MS 500u
#define DEFAULT_BACKOFF_MAX_MS 5000u
#define PING_MAGIC "ockam.relay.ping:"
#define TOKEN_LEN 16

enum phase { P_WAIT, P_CONNECTING, P_REGISTERING, P_UP };

struct ockam_relay_client {
    ockam_node *node;
    ockam_worker *worker; /* NULL once stopped */
    char *address, *name, *service;
    ockam_route *to;          /* as configured */
    ockam_route *relay_route; /* from the last confirmation */
    char *remote_address;
    ockam_flow_id expose;
    uint32_t ping_ms, max_failures, register_ms, backoff_min_ms, backoff_max_ms;
    ockam_relay_status_cb on_status;
    void *user;

    enum phase phase;
    ockam_relay_state state;
    ockam_timer *timer;
    ockam_conn *conn; /* watched; ours when own_conn */
    bool own_conn, down_logged;
    bool connecting; /* a TCP connect is pending: its callback will run */
    bool abandoned;  /* ... and its result is no longer wanted (the attempt failed) */
    uint32_t failures, attempts, registrations;
    bool ping_outstanding;
    char token[sizeof PING_MAGIC + TOKEN_LEN];
    char last_error[200];
};

static void attempt(ockam_relay_client *rc);
static void fail(ockam_relay_client *rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- small helpers ------------------------------------------------------------------- */

static const char *
display_name(const ockam_relay_client *rc)
{
    return rc->name ? rc->name : "(ephemeral)";
}

static void
timer_set(ockam_relay_client *rc, uint64_t ms, uint64_t repeat, ockam_timer_cb cb)
{
    ockam_timer_stop(rc->timer);
    rc->timer = NULL;
    if (ockam_timer_start(rc->node, ms, repeat, cb, rc, &rc->timer) != OCKAM_OK)
        OCKAM_LOG_E("relay %s: cannot start a timer; supervision stalls", display_name(rc));
}

static void
set_state(ockam_relay_client *rc, ockam_relay_state state)
{
    if (rc->state == state)
        return;
    rc->state = state;
    if (rc->on_status)
        rc->on_status(rc, state, rc->user);
}

/* Half the delay plus up to as much again at random, doubling per attempt up to the cap. */
static uint64_t
backoff_ms(ockam_relay_client *rc)
{
    uint64_t delay = rc->backoff_min_ms;
    for (uint32_t i = 0; i < rc->attempts && delay < rc->backoff_max_ms; i++)
        delay *= 2;
    if (delay > rc->backoff_max_ms)
        delay = rc->backoff_max_ms;
    uint32_t r = 0;
    ockam__random_bytes(&r, sizeof r);
    return delay / 2 + (uint64_t)r % (delay / 2 + 1);
}

static void conn_closed(ockam_conn *conn, ockam_err reason, void *user);

static void
drop_conn(ockam_relay_client *rc)
{
    if (!rc->conn)
        return;
    ockam_conn_off_close(rc->conn, conn_closed, rc);
    /* At node free the transport closes it; closing here would stop its sender worker from
     * inside our own on_stop, which the node's teardown walk does not allow. */
    if (rc->own_conn && !ockam__node_closing(rc->node))
        ockam_conn_close(rc->conn);
    rc->conn = NULL;
}

static void
client_free(ockam_relay_client *rc)
{
    ockam_route_free(rc->to);
    ockam_route_free(rc->relay_route);
    ockam__free(rc->remote_address);
    ockam__free(rc->address);
    ockam__free(rc->name);
    ockam__free(rc->service);
    ockam__free(rc);
}

/* ---- failure and retry --------------------------------------------------------------- */

static void
retry_cb(ockam_timer *t, void *user)
{
    ockam_relay_client *rc = user;
    ockam_timer_stop(t);
    rc->timer = NULL;
    attempt(rc);
}

static void
fail(ockam_relay_client *rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rc->last_error, sizeof rc->last_error, fmt, ap);
    va_end(ap);
    drop_conn(rc);
    if (rc->connecting)
        rc->abandoned = true;
    rc->ping_outstanding = false;
    rc->failures = 0;
    uint64_t delay = backoff_ms(rc);
    rc->attempts++;
    rc->phase = P_WAIT;
    if (!rc->down_logged) {
        rc->down_logged = true;
        OCKAM_LOG_W("relay %s is DOWN: %s; registering again in %llu ms (and with backoff)",
            display_name(rc), rc->last_error, (unsigned long long)delay);
    } else {
        OCKAM_LOG_D("relay %s: attempt failed: %s; next in %llu ms", display_name(rc),
            rc->last_error, (unsigned long long)delay);
    }
    set_state(rc, OCKAM_RELAY_DOWN);
    if (rc->worker)
        timer_set(rc, delay, 0, retry_cb);
}

static void
conn_closed(ockam_conn *conn, ockam_err reason, void *user)
{
    ockam_relay_client *rc = user;
    rc->conn = NULL; /* gone: nothing to remove or close */
    fail(rc, "connection to the relay node closed (%s)",
        reason == OCKAM_OK            ? "locally"
            : reason == OCKAM_ECLOSED ? "by the peer"
                                      : ockam_strerror(reason));
}

/* ---- registration -------------------------------------------------------------------- */

static void
register_timeout(ockam_timer *t, void *user)
{
    ockam_relay_client *rc = user;
    fail(rc, "no confirmation from the relay node within %u ms", rc->register_ms);
}

/* The registration route: the connection (or the configured first hop), the rest of the
 * configured route, then the service. */
static ockam_route *
registration_route(ockam_relay_client *rc)
{
    ockam_route *r = ockam_route_new();
    if (!r)
        return NULL;
    ockam_err err = ockam_route_copy(r, rc->to);
    if (!err && rc->own_conn) {
        ockam_route_pop_front(r);
        err = ockam_route_push_front(r, ockam_addr_local(ockam_conn_address(rc->conn)));
    }
    if (!err)
        err = ockam_route_push_back(r, ockam_addr_local(rc->service));
    if (err) {
        ockam_route_free(r);
        return NULL;
    }
    return r;
}

/* Watch a connection we did not open when the route starts at one (its close is a failure). */
static void
watch_first_hop(ockam_relay_client *rc)
{
    char text[OCKAM_RANDOM_ADDR_LEN + 1];
    ockam_addr a = ockam_route_front(rc->to);
    if (rc->own_conn || a.type != OCKAM_TRANSPORT_LOCAL || a.len != OCKAM_RANDOM_ADDR_LEN)
        return;
    memcpy(text, a.bytes, a.len);
    text[a.len] = '\0';
    ockam_conn *c = ockam_conn_find(rc->node, text);
    if (c && ockam_conn_on_close(c, conn_closed, rc) == OCKAM_OK)
        rc->conn = c;
}

static void
send_registration(ockam_relay_client *rc)
{
    const char *text = rc->name ? rc->name : "register";
    uint8_t *payload = NULL;
    size_t len = 0;
    ockam_route *route = registration_route(rc);
    ockam_err err
        = route ? ockam_bare_string_encode(text, strlen(text), &payload, &len) : OCKAM_ENOMEM;
    if (!err)
        err = ockam_send_to(rc->worker, route, payload, len);
    ockam__free(payload);
    ockam_route_free(route);
    if (err) {
        fail(rc, "registration not sent: %s", ockam_strerror(err));
        return;
    }
    rc->phase = P_REGISTERING;
    timer_set(rc, rc->register_ms, 0, register_timeout);
}

static void
connected(ockam_conn *conn, ockam_err status, void *user)
{
    ockam_relay_client *rc = user;
    rc->connecting = false;
    if (!rc->worker || rc->abandoned) {
        rc->abandoned = false;
        if (conn && !ockam__node_closing(rc->node))
            ockam_conn_close(conn);
        if (!rc->worker)
            client_free(rc); /* stopped while connecting */
        return;
    }
    if (status != OCKAM_OK) {
        char peer[OCKAM_MAX_ADDR_LEN + 1];
        ockam_addr a = ockam_route_front(rc->to);
        snprintf(peer, sizeof peer, "%.*s", (int)a.len, (const char *)a.bytes);
        fail(rc, "cannot connect to %s: %s", peer, ockam_strerror(status));
        return;
    }
    if (ockam_conn_on_close(conn, conn_closed, rc) != OCKAM_OK) {
        ockam_conn_close(conn);
        fail(rc, "out of memory");
        return;
    }
    rc->conn = conn;
    if (rc->expose)
        ockam_conn_set_spawner_id(conn, rc->expose);
    send_registration(rc);
}

static void
attempt(ockam_relay_client *rc)
{
    char peer[OCKAM_MAX_ADDR_LEN + 1];
    ockam_addr a = ockam_route_front(rc->to);
    if (!rc->own_conn) {
        if (!rc->conn)
            watch_first_hop(rc);
        send_registration(rc);
        return;
    }
    if (rc->connecting) {
        /* An abandoned connect has not finished yet: one at a time. */
        timer_set(rc, rc->backoff_min_ms, 0, retry_cb);
        return;
    }
    snprintf(peer, sizeof peer, "%.*s", (int)a.len, (const char *)a.bytes);
    rc->phase = P_CONNECTING;
    ockam_err err = ockam_tcp_connect(rc->node, peer, NULL, connected, rc);
    if (err) {
        fail(rc, "cannot connect to %s: %s", peer, ockam_strerror(err));
        return;
    }
    rc->connecting = true;
    /* The connect has its own timeout (the transport's handshake timeout); this one also
     * covers the confirmation. */
    timer_set(rc, rc->register_ms, 0, register_timeout);
}

/* ---- supervision --------------------------------------------------------------------- */

static void
send_ping(ockam_relay_client *rc)
{
    uint8_t raw[TOKEN_LEN / 2];
    ockam__random_bytes(raw, sizeof raw);
    size_t n = strlen(PING_MAGIC);
    memcpy(rc->token, PING_MAGIC, n);
    ockam__hex_encode(raw, sizeof raw, rc->token + n);
    ockam_route *route = ockam_route_new();
    ockam_err err = route ? ockam_route_copy(route, rc->relay_route) : OCKAM_ENOMEM;
    if (!err)
        err = ockam_route_push_back(route, ockam_worker_addr(rc->worker));
    if (!err)
        err = ockam_send_to(rc->worker, route, rc->token, strlen(rc->token));
    ockam_route_free(route);
    rc->ping_outstanding = true; /* a ping that could not be sent counts as unanswered */
    if (err)
        OCKAM_LOG_D("relay %s: ping not sent: %s", display_name(rc), ockam_strerror(err));
}

static void
ping_tick(ockam_timer *t, void *user)
{
    ockam_relay_client *rc = user;
    /* A connection we stopped reading (backpressure) holds the answer back: not a failure. */
    bool held = rc->conn && ockam_conn_is_paused(rc->conn);
    if (rc->ping_outstanding && !held && ++rc->failures >= rc->max_failures) {
        fail(rc, "%u pings through the relay unanswered", rc->failures);
        return;
    }
    if (!rc->ping_outstanding || !held)
        send_ping(rc);
}

static void
on_ping(ockam_relay_client *rc, ockam_slice payload)
{
    size_t n = strlen(rc->token);
    if (rc->phase == P_UP && rc->ping_outstanding && payload.len == n
        && memcmp(payload.ptr, rc->token, n) == 0) {
        rc->ping_outstanding = false;
        rc->failures = 0;
    }
}

static ockam_err
take_confirmation(ockam_relay_client *rc, const ockam_msg *msg)
{
    ockam_slice text;
    ockam_slice p = ockam_msg_payload(msg);
    const ockam_route *ret = ockam_msg_return_const(msg);
    if (ockam__bare_string_decode(p.ptr, p.len, &text) != OCKAM_OK || ockam_route_len(ret) == 0)
        return OCKAM_EPROTO;
    ockam_addr relay = ockam_route_back(ret);
    if (relay.type != OCKAM_TRANSPORT_LOCAL || relay.len == 0 || memchr(relay.bytes, 0, relay.len))
        return OCKAM_EPROTO;
    /* Static: the answer must end with our name (Rust >= v0.127 sends the full address,
     * older ones and Elixir the name or what we sent). */
    size_t nlen = rc->name ? strlen(rc->name) : 0;
    if (rc->name && (text.len < nlen || memcmp(text.ptr + text.len - nlen, rc->name, nlen) != 0))
        return OCKAM_EPROTO;
    char *addr = ockam__strndup((const char *)relay.bytes, relay.len);
    ockam_route *route = ockam_route_new();
    if (!addr || !route || ockam_route_copy(route, ret)) {
        ockam__free(addr);
        ockam_route_free(route);
        return OCKAM_ENOMEM;
    }
    ockam__free(rc->remote_address);
    ockam_route_free(rc->relay_route);
    rc->remote_address = addr;
    rc->relay_route = route;
    return OCKAM_OK;
}

/* A refusal (ockam/relay.h, ownership) names its reason; a confirmation of a static name always
 * ends with the name, a refusal never does. */
static bool
refusal_reason(const ockam_relay_client *rc, const ockam_msg *msg, ockam_slice *reason)
{
    ockam_slice text;
    ockam_slice p = ockam_msg_payload(msg);
    size_t mlen = strlen(OCKAM_RELAY_REFUSED), nlen = rc->name ? strlen(rc->name) : 0;
    if (ockam__bare_string_decode(p.ptr, p.len, &text) != OCKAM_OK || text.len < mlen
        || memcmp(text.ptr, OCKAM_RELAY_REFUSED, mlen) != 0)
        return false;
    if (rc->name && text.len >= nlen && memcmp(text.ptr + text.len - nlen, rc->name, nlen) == 0)
        return false;
    reason->ptr = text.ptr + mlen;
    reason->len = text.len - mlen;
    return true;
}

static void
on_confirmation(ockam_relay_client *rc, const ockam_msg *msg)
{
    ockam_slice reason;
    if (refusal_reason(rc, msg, &reason)) {
        /* The peer's text goes to logs: printable characters only, bounded. */
        char why[120];
        size_t n = reason.len < sizeof why - 1 ? reason.len : sizeof why - 1;
        for (size_t i = 0; i < n; i++)
            why[i] = reason.ptr[i] >= 0x20 && reason.ptr[i] < 0x7f ? (char)reason.ptr[i] : '?';
        why[n] = '\0';
        fail(rc, "the relay node refused the registration: %s", why);
        return;
    }
    ockam_err err = take_confirmation(rc, msg);
    if (err) {
        OCKAM_LOG_W("relay %s: ignoring an invalid confirmation (%s)", display_name(rc),
            ockam_strerror(err));
        return;
    }
    rc->phase = P_UP;
    rc->registrations++;
    rc->attempts = 0;
    rc->failures = 0;
    rc->ping_outstanding = false;
    rc->down_logged = false;
    char *route = ockam_route_to_string(rc->relay_route);
    OCKAM_LOG_I("relay %s is UP at %s (route %s)", display_name(rc), rc->remote_address,
        route ? route : "?");
    ockam_free(route);
    timer_set(rc, rc->ping_ms, rc->ping_ms, ping_tick);
    set_state(rc, OCKAM_RELAY_UP);
}

/* ---- the worker ---------------------------------------------------------------------- */

static void
client_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_relay_client *rc = user;
    ockam_route *onward = ockam_msg_onward(msg);
    ockam_addr self = ockam_worker_addr(w);
    /* Pre-v0.88 and Elixir relays keep our address in front of what the sender appended. */
    while (ockam_route_len(onward) > 1 && ockam_addr_eq(ockam_route_front(onward), self))
        ockam_route_pop_front(onward);
    if (!ockam_addr_eq(ockam_route_front(onward), self)) {
        ockam_err err = ockam_forward(w, msg);
        if (err)
            OCKAM_LOG_D(
                "relay %s: local forward failed: %s", display_name(rc), ockam_strerror(err));
        return;
    }
    if (rc->phase == P_REGISTERING)
        on_confirmation(rc, msg);
    else
        on_ping(rc, ockam_msg_payload(msg));
    ockam_msg_free(msg);
}

void
ockam_relay_client_register_now(ockam_relay_client *rc)
{
    if (!rc || !rc->worker || rc->phase == P_CONNECTING)
        return;
    rc->ping_outstanding = false;
    rc->failures = 0;
    if (rc->phase == P_WAIT)
        attempt(rc); /* the backoff's timer is replaced */
    else
        send_registration(rc);
}

static void
client_on_stop(ockam_worker *w, void *user)
{
    ockam_relay_client *rc = user;
    rc->worker = NULL;
    ockam_timer_stop(rc->timer);
    rc->timer = NULL;
    drop_conn(rc);
    if (!rc->connecting)
        client_free(rc);
}

/* ---- public API ---------------------------------------------------------------------- */

static void
apply_config(ockam_relay_client *rc, const ockam_relay_client_config *cfg)
{
    rc->expose = cfg->expose;
    rc->ping_ms = cfg->ping_interval_ms ? cfg->ping_interval_ms : DEFAULT_PING_MS;
    rc->max_failures = cfg->max_failures ? cfg->max_failures : DEFAULT_FAILURES;
    rc->register_ms = cfg->register_timeout_ms ? cfg->register_timeout_ms : DEFAULT_REGISTER_MS;
    rc->backoff_min_ms = cfg->backoff_min_ms ? cfg->backoff_min_ms : DEFAULT_BACKOFF_MIN_MS;
    rc->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : DEFAULT_BACKOFF_MAX_MS;
    if (rc->backoff_max_ms < rc->backoff_min_ms)
        rc->backoff_max_ms = rc->backoff_min_ms;
    rc->on_status = cfg->on_status;
    rc->user = cfg->user;
    rc->own_conn = ockam_route_front(cfg->to).type == OCKAM_TRANSPORT_TCP;
}

static ockam_err
copy_config(ockam_relay_client *rc, const ockam_relay_client_config *cfg)
{
    const char *service = cfg->service ? cfg->service
        : cfg->name                    ? OCKAM_RELAY_STATIC_SERVICE_ADDR
                                       : OCKAM_RELAY_SERVICE_ADDR;
    rc->to = ockam_route_new();
    rc->service = ockam__strdup(service);
    if (cfg->name)
        rc->name = ockam__strdup(cfg->name);
    if (!rc->to || !rc->service || (cfg->name && !rc->name))
        return OCKAM_ENOMEM;
    return ockam_route_copy(rc->to, cfg->to);
}

static bool
config_valid(const ockam_relay_client_config *cfg)
{
    if (!cfg || !cfg->to || ockam_route_len(cfg->to) == 0)
        return false;
    if (cfg->service && !cfg->service[0])
        return false;
    return !cfg->name || (cfg->name[0] && strlen(cfg->name) <= OCKAM_RELAY_NAME_MAX);
}

static void
first_attempt(ockam_timer *t, void *user)
{
    retry_cb(t, user);
}

ockam_err
ockam_relay_client_start(
    ockam_node *node, const ockam_relay_client_config *cfg, ockam_relay_client **out)
{
    if (!config_valid(cfg))
        return OCKAM_EINVAL;
    ockam_relay_client *rc = ockam__zalloc(sizeof *rc);
    if (!rc)
        return OCKAM_ENOMEM;
    rc->node = node;
    apply_config(rc, cfg);
    ockam_err err = copy_config(rc, cfg);
    ockam_worker_opts opts
        = {.on_message = client_on_message, .on_stop = client_on_stop, .user = rc};
    if (!err)
        err = ockam_worker_start(node, cfg->address, &opts, &rc->worker);
    if (err) {
        client_free(rc);
        return err;
    }
    ockam_addr a = ockam_worker_addr(rc->worker);
    rc->address = ockam__strndup((const char *)a.bytes, a.len);
    if (!rc->address) {
        ockam_worker_stop(rc->worker);
        return OCKAM_ENOMEM;
    }
    /* The first attempt runs from the loop, never inside this call. */
    timer_set(rc, 0, 0, first_attempt);
    if (out)
        *out = rc;
    return OCKAM_OK;
}

void
ockam_relay_client_stop(ockam_relay_client *rc)
{
    if (rc && rc->worker) {
        rc->on_status = NULL;
        ockam_worker_stop(rc->worker);
    }
}

ockam_relay_state
ockam_relay_client_state(const ockam_relay_client *rc)
{
    return rc->state;
}

const char *
ockam_relay_client_name(const ockam_relay_client *rc)
{
    return rc->name;
}

const char *
ockam_relay_client_address(const ockam_relay_client *rc)
{
    return rc->address;
}

const char *
ockam_relay_client_remote_address(const ockam_relay_client *rc)
{
    return rc->remote_address;
}

const ockam_route *
ockam_relay_client_route(const ockam_relay_client *rc)
{
    return rc->relay_route;
}

const ockam_route *
ockam_relay_client_to(const ockam_relay_client *rc)
{
    return rc->to;
}

const char *
ockam_relay_client_last_error(const ockam_relay_client *rc)
{
    return rc->last_error;
}

uint32_t
ockam_relay_client_registrations(const ockam_relay_client *rc)
{
    return rc->registrations;
}

ockam_conn *
ockam_relay_client_conn(const ockam_relay_client *rc)
{
    return rc->conn;
}
