/* TCP portal inlets and outlets (docs/wire.md §7): the listening parts and their bookkeeping.
 * Each TCP connection is handled by portal_conn.c. The rules are in ockam/portal.h.
 *
 * The portal sockets are plain libuv TCP handles on the node's loop, not transport
 * connections: applications at both ends speak their own protocol. */
#include "core/codec.h"
#include "service/portal_internal.h"

#include <stdarg.h>
#include <stdio.h>

#define DEFAULT_PING_MS 10000u
#define DEFAULT_FAILURES 3u
#define LISTEN_BACKLOG 1024
#define PING_MAGIC "ockam.inlet.ping:"
#define TOKEN_LEN 16

struct ockam_outlet {
    struct ockam__portal_owner owner; /* first: the owner's destroy casts back */
    ockam_worker *worker;
    char *address, *target;
    ockam_timer *ask_timer; /* the check of its inlets (§7.6), with half-close only */
};

struct ockam_inlet {
    struct ockam__portal_owner owner; /* first */
    ockam_worker *worker;             /* receives probe answers; its stop stops the inlet */
    uv_tcp_t listener;
    char *bind;
    ockam_route *outlet_route, *ping_route;
    ockam_timer *ping_timer;
    uint32_t ping_ms, max_failures, failures;
    bool ping_outstanding;
    /* What tells an unanswered probe from one queued behind traffic (inlet_probe_tick). */
    char answer_conn[OCKAM_RANDOM_ADDR_LEN + 1]; /* the connection answers came on */
    uint64_t answer_frames;                      /* its frames_in at the last tick */
    uint64_t heard_mark;                         /* owner.heard at the last tick */
    char token[sizeof PING_MAGIC + TOKEN_LEN];
    ockam_inlet_state state;
    bool down_logged;
    ockam_inlet_status_cb on_status;
    void *user;
};

/* ---- shared helpers ------------------------------------------------------------------ */

void
ockam__portal_owner_unref(struct ockam__portal_owner *owner)
{
    OCKAM_ASSERT(owner->refs > 0);
    if (--owner->refs != 0)
        return;
    ockam__free(owner->rbuf);
    owner->rbuf = NULL;
    owner->destroy(owner);
}

void
ockam__portal_owner_error(struct ockam__portal_owner *owner, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(owner->last_error, sizeof owner->last_error, fmt, ap);
    va_end(ap);
    OCKAM_LOG_W("%s %s: %s", owner->role == OCKAM__PORTAL_INLET ? "inlet" : "outlet", owner->name,
        owner->last_error);
}

bool
ockam__portal_numeric_addr(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    return uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0
        || uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0;
}

char *
ockam__portal_format_sockaddr(const struct sockaddr_storage *ss)
{
    char ip[64], text[96];
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        uv_ip6_name(a, ip, sizeof ip);
        snprintf(text, sizeof text, "[%s]:%u", ip, ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        uv_ip4_name(a, ip, sizeof ip);
        snprintf(text, sizeof text, "%s:%u", ip, ntohs(a->sin_port));
    }
    return ockam__strdup(text);
}

static void
owner_init(struct ockam__portal_owner *o, ockam_node *node, enum ockam__portal_role role,
    size_t high_water, uint32_t timeout_ms)
{
    o->node = node;
    o->role = role;
    o->high_water = high_water ? high_water : OCKAM__PORTAL_DEFAULT_HIGH_WATER;
    o->timeout_ms = timeout_ms ? timeout_ms : OCKAM__PORTAL_DEFAULT_TIMEOUT_MS;
    o->refs = 1;
    o->name = "?";
    ockam__link_init(&o->conns);
}

/* ---- outlet -------------------------------------------------------------------------- */

static void
outlet_destroy(struct ockam__portal_owner *owner)
{
    ockam_outlet *o = (ockam_outlet *)owner;
    ockam__free(o->address);
    ockam__free(o->target);
    ockam__free(o);
}

/* An inlet asks which of its connections' workers are still here (docs/wire.md §7.5): only
 * the missing ones are answered (Gone), nothing when all live. Consumes msg. */
static void
outlet_answer_query(ockam_outlet *o, ockam_msg *msg)
{
    size_t len = 0;
    uint8_t *gone = ockam__portal_gone(&o->owner, ockam_msg_payload(msg), &len);
    if (!gone) {
        ockam_msg_free(msg);
        return;
    }
    ockam_err err = ockam_reply(o->worker, msg, gone, len);
    ockam__free(gone);
    if (err)
        OCKAM_LOG_D("outlet %s: Gone not sent: %s", o->address, ockam_strerror(err));
}

/* Ping (§7.3), or the extension's Query (§7.5); only with nothing after our address. */
static void
outlet_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_outlet *o = user;
    ockam_slice p = ockam_msg_payload(msg);
    bool routed = ockam_route_len(ockam_msg_onward_const(msg)) == 1
        && ockam_route_len(ockam_msg_return_const(msg)) > 0;
    if (routed && p.len >= 1 && p.ptr[0] == OCKAM__PORTAL_PING) {
        ockam__portal_conn_open(&o->owner, msg, o->target);
    } else if (routed && ockam__portal_is_ext(p, OCKAM__PORTAL_TAG_QUERY)) {
        outlet_answer_query(o, msg);
        return;
    } else {
        OCKAM_LOG_D("outlet %s: message that is not a Ping dropped", o->address);
    }
    ockam_msg_free(msg);
}

static void
outlet_ask_tick(ockam_timer *t, void *user)
{
    (void)t;
    ockam__portal_ask_tick(&((ockam_outlet *)user)->owner);
}

static void
outlet_on_stop(ockam_worker *w, void *user)
{
    ockam_outlet *o = user;
    ockam_timer_stop(o->ask_timer);
    o->ask_timer = NULL;
    o->worker = NULL;
    o->owner.stopping = true;
    ockam__portal_conns_abort(&o->owner);
    ockam__portal_owner_unref(&o->owner);
}

ockam_err
ockam_outlet_start(ockam_node *node, const ockam_outlet_config *cfg, ockam_outlet **out)
{
    char host[256];
    uint16_t port;
    if (!cfg || ockam__host_port_parse(cfg->target, host, sizeof host, &port) != OCKAM_OK)
        return OCKAM_EINVAL;
    ockam_outlet *o = ockam__zalloc(sizeof *o);
    if (!o)
        return OCKAM_ENOMEM;
    owner_init(&o->owner, node, OCKAM__PORTAL_OUTLET, cfg->high_water, cfg->connect_timeout_ms);
    o->owner.half_close = !cfg->no_half_close;
    o->owner.destroy = outlet_destroy;
    o->address = ockam__strdup(cfg->address ? cfg->address : OCKAM_OUTLET_ADDR);
    o->target = ockam__strdup(cfg->target);
    ockam_err err = o->address && o->target ? OCKAM_OK : OCKAM_ENOMEM;
    ockam_worker_opts opts
        = {.on_message = outlet_on_message, .on_stop = outlet_on_stop, .user = o};
    if (!err)
        err = ockam_worker_start(node, o->address, &opts, &o->worker);
    if (err) {
        outlet_destroy(&o->owner);
        return err;
    }
    /* Only peers that said Hello are asked: without half-close there is no one to ask. */
    uint32_t ask_ms = cfg->ask_interval_ms ? cfg->ask_interval_ms : OCKAM__PORTAL_DEFAULT_ASK_MS;
    if (o->owner.half_close
        && ockam_timer_start(node, ask_ms, ask_ms, outlet_ask_tick, o, &o->ask_timer) != OCKAM_OK) {
        ockam_worker_stop(o->worker);
        return OCKAM_ENOMEM;
    }
    o->owner.name = o->address;
    o->owner.target = o->target;
    if (out)
        *out = o;
    return OCKAM_OK;
}

void
ockam_outlet_set_access(ockam_outlet *o, ockam_access incoming)
{
    if (o && o->worker)
        ockam_worker_set_incoming(o->worker, incoming);
}

void
ockam_outlet_stop(ockam_outlet *o)
{
    if (o && o->worker)
        ockam_worker_stop(o->worker);
}

const char *
ockam_outlet_address(const ockam_outlet *o)
{
    return o->address;
}

const char *
ockam_outlet_target(const ockam_outlet *o)
{
    return o->target;
}

const char *
ockam_outlet_last_error(const ockam_outlet *o)
{
    return o->owner.last_error;
}

void
ockam_outlet_stats(const ockam_outlet *o, struct ockam_portal_stats *out)
{
    *out = o->owner.stats;
}

/* ---- inlet status -------------------------------------------------------------------- */

static void
inlet_set_state(ockam_inlet *in, ockam_inlet_state state, const char *why)
{
    if (why)
        snprintf(in->owner.last_error, sizeof in->owner.last_error, "%s", why);
    if (in->state == state)
        return;
    in->state = state;
    if (state == OCKAM_INLET_DOWN)
        OCKAM_LOG_W("inlet %s is DOWN: %s", in->bind, in->owner.last_error);
    else
        OCKAM_LOG_I("inlet %s is UP", in->bind);
    if (in->on_status)
        in->on_status(in, state, in->user);
}

/* Without a probe route, the handshakes tell whether the outlet can be reached. */
static void
inlet_handshake(struct ockam__portal_owner *owner, bool ok, const char *why)
{
    ockam_inlet *in = (ockam_inlet *)owner;
    if (in->ping_route) {
        if (!ok)
            snprintf(owner->last_error, sizeof owner->last_error, "%s", why);
        return;
    }
    inlet_set_state(in, ok ? OCKAM_INLET_UP : OCKAM_INLET_DOWN, ok ? NULL : why);
}

/* The probe that answered stopped answering: the route to the outlet's node is dead, and so
 * are the connections that use it (their Payloads are dropped on the way, e.g. by a relay
 * node whose relay left with the outlet's node, and nothing would ever come back). Each is
 * reset, as Ockam drops an inlet's connections when its session's pings fail. A probe that
 * never answered says nothing about the route (the far node may run no echo): no reset. */
static void
inlet_probe_failed(ockam_inlet *in)
{
    char why[96];
    snprintf(why, sizeof why, "%u probes of the outlet's node unanswered", in->failures);
    if (in->state == OCKAM_INLET_UP) {
        size_t n = in->owner.stats.active;
        if (n)
            OCKAM_LOG_W("inlet %s: route to the outlet dead: resetting %zu connection%s", in->bind,
                n, n == 1 ? "" : "s");
        ockam__portal_conns_reset(&in->owner, why);
    }
    inlet_set_state(in, OCKAM_INLET_DOWN, why);
}

/* Whether traffic arrived that the probe's answer may wait behind, since the last tick. The
 * answer comes back on a transport connection that also carries Payloads, and backpressure
 * holds them back (bounded queues on every node): a slow client makes its inlet pause that
 * connection, a slow link keeps megabytes queued in front of the answer. Such a delay is not
 * a dead route, so it must not count as a failure. */
static bool
inlet_answers_held_back(ockam_inlet *in)
{
    if (!in->answer_conn[0])
        return false;
    ockam_conn *c = ockam_conn_find(in->owner.node, in->answer_conn);
    if (!c)
        return false; /* gone: nothing is held back there */
    struct ockam_conn_stats st;
    ockam_conn_stats(c, &st);
    bool busy = ockam_conn_is_paused(c) || st.frames_in != in->answer_frames;
    in->answer_frames = st.frames_in;
    return busy;
}

/* One probe period is over. A probe still unanswered counts as a failure only when nothing
 * else showed the route alive or busy in the period: the portal connections' peers sent
 * nothing (their Payloads prove the route works) and the connection the answers come on
 * brought nothing and is not paused. So a dead route is declared after max_failures quiet
 * periods, and a slow or stalled transfer never makes it DOWN. */
static void
inlet_probe_tick(ockam_inlet *in)
{
    bool heard = in->owner.heard != in->heard_mark;
    in->heard_mark = in->owner.heard;
    bool held = inlet_answers_held_back(in);
    if (!in->ping_outstanding)
        return;
    if (heard)
        in->failures = 0;
    else if (!held && ++in->failures >= in->max_failures)
        inlet_probe_failed(in);
}

/* Connections whose peer said nothing for a whole period are asked about at their outlet
 * (docs/wire.md §7.5), whatever the probe says: a far node that restarted answers the probe
 * again, but its new outlet has none of the old connections' workers and says so (Gone). */
static void
inlet_query(ockam_inlet *in)
{
    size_t len = 0;
    uint8_t *q = ockam__portal_query(&in->owner, &len);
    if (!q)
        return;
    ockam_err err = ockam_send_to(in->worker, in->outlet_route, q, len);
    ockam__free(q);
    if (err)
        OCKAM_LOG_D("inlet %s: Query not sent: %s", in->bind, ockam_strerror(err));
}

static void
inlet_ping_tick(ockam_timer *t, void *user)
{
    ockam_inlet *in = user;
    inlet_probe_tick(in);
    if (!in->worker)
        return; /* stopped by its status callback */
    inlet_query(in);
    uint8_t raw[TOKEN_LEN / 2];
    ockam__random_bytes(raw, sizeof raw);
    size_t n = strlen(PING_MAGIC);
    memcpy(in->token, PING_MAGIC, n);
    ockam__hex_encode(raw, sizeof raw, in->token + n);
    in->ping_outstanding = true;
    ockam_err err = ockam_send_to(in->worker, in->ping_route, in->token, strlen(in->token));
    if (err)
        OCKAM_LOG_D("inlet %s: probe not sent: %s", in->bind, ockam_strerror(err));
}

static void
inlet_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_inlet *in = user;
    ockam_slice p = ockam_msg_payload(msg);
    size_t n = strlen(in->token);
    if (ockam__portal_is_ext(p, OCKAM__PORTAL_TAG_GONE)) {
        ockam__portal_on_gone(&in->owner, p);
        ockam_msg_free(msg);
        return;
    }
    if (in->ping_outstanding && p.len == n && memcmp(p.ptr, in->token, n) == 0) {
        in->ping_outstanding = false;
        in->failures = 0;
        /* The transport put the connection it came on in front of the return route. */
        const ockam_route *ret = ockam_msg_return_const(msg);
        ockam_addr a = ockam_route_len(ret) ? ockam_route_front(ret) : ockam_addr_local("");
        in->answer_conn[0] = '\0';
        if (a.type == OCKAM_TRANSPORT_LOCAL && a.len == OCKAM_RANDOM_ADDR_LEN) {
            memcpy(in->answer_conn, a.bytes, a.len);
            in->answer_conn[a.len] = '\0';
        }
        inlet_set_state(in, OCKAM_INLET_UP, NULL);
    }
    ockam_msg_free(msg);
}

/* ---- inlet --------------------------------------------------------------------------- */

static void
inlet_destroy(struct ockam__portal_owner *owner)
{
    ockam_inlet *in = (ockam_inlet *)owner;
    ockam_route_free(in->outlet_route);
    ockam_route_free(in->ping_route);
    ockam__free(in->bind);
    ockam__free(in);
}

static void
listener_closed(uv_handle_t *h)
{
    ockam_inlet *in = h->data;
    ockam__portal_owner_unref(&in->owner);
}

static void
on_client(uv_stream_t *server, int status)
{
    ockam_inlet *in = server->data;
    if (status < 0) {
        OCKAM_LOG_W("inlet %s: accept failed: %s", in->bind, uv_strerror(status));
        return;
    }
    ockam__portal_conn_accept(&in->owner, server, in->outlet_route);
}

static void
inlet_on_stop(ockam_worker *w, void *user)
{
    ockam_inlet *in = user;
    in->worker = NULL;
    in->owner.stopping = true;
    ockam_timer_stop(in->ping_timer);
    in->ping_timer = NULL;
    uv_close((uv_handle_t *)&in->listener, listener_closed);
    ockam__portal_conns_abort(&in->owner);
    ockam__portal_owner_unref(&in->owner);
}

/* Bind and listen; the handle is initialised (and must be closed) whatever happens. */
static ockam_err
inlet_listen(ockam_inlet *in, const char *bind)
{
    char host[256];
    uint16_t port;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    uv_tcp_init(ockam__node_loop(in->owner.node), &in->listener);
    in->listener.data = in;
    in->owner.refs++; /* the handle's */
    if (ockam__host_port_parse(bind, host, sizeof host, &port) != OCKAM_OK
        || !ockam__portal_numeric_addr(host, port, &ss))
        return OCKAM_EADDRINVAL;
    int rc = uv_tcp_bind(&in->listener, (const struct sockaddr *)&ss, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&in->listener, LISTEN_BACKLOG, on_client);
    if (!rc)
        rc = uv_tcp_getsockname(&in->listener, (struct sockaddr *)&ss, &len);
    if (rc)
        return ockam__err_from_uv(rc);
    in->bind = ockam__portal_format_sockaddr(&ss);
    return in->bind ? OCKAM_OK : OCKAM_ENOMEM;
}

static ockam_err
inlet_copy_config(ockam_inlet *in, const ockam_inlet_config *cfg)
{
    in->ping_ms = cfg->ping_interval_ms ? cfg->ping_interval_ms : DEFAULT_PING_MS;
    in->max_failures = cfg->max_failures ? cfg->max_failures : DEFAULT_FAILURES;
    in->on_status = cfg->on_status;
    in->user = cfg->user;
    /* With a probe the state starts DOWN and the first answer makes it UP. */
    in->state = cfg->ping_route ? OCKAM_INLET_DOWN : OCKAM_INLET_UP;
    in->outlet_route = ockam_route_new();
    if (!in->outlet_route || ockam_route_copy(in->outlet_route, cfg->outlet_route))
        return OCKAM_ENOMEM;
    if (!cfg->ping_route)
        return OCKAM_OK;
    in->ping_route = ockam_route_new();
    if (!in->ping_route || ockam_route_copy(in->ping_route, cfg->ping_route))
        return OCKAM_ENOMEM;
    return OCKAM_OK;
}

static ockam_err
inlet_start_worker(ockam_inlet *in)
{
    ockam_worker_opts opts = {.on_message = inlet_on_message, .on_stop = inlet_on_stop, .user = in};
    ockam_err err = ockam_worker_start(in->owner.node, NULL, &opts, &in->worker);
    if (err || !in->ping_route)
        return err;
    /* The first probe goes out at once (from the loop), then every interval. */
    err = ockam_timer_start(in->owner.node, 0, in->ping_ms, inlet_ping_tick, in, &in->ping_timer);
    if (err)
        ockam_worker_stop(in->worker);
    return err;
}

ockam_err
ockam_inlet_start(ockam_node *node, const ockam_inlet_config *cfg, ockam_inlet **out)
{
    if (!cfg || !cfg->bind || !cfg->outlet_route || ockam_route_len(cfg->outlet_route) == 0)
        return OCKAM_EINVAL;
    ockam_inlet *in = ockam__zalloc(sizeof *in);
    if (!in)
        return OCKAM_ENOMEM;
    owner_init(&in->owner, node, OCKAM__PORTAL_INLET, cfg->high_water, cfg->pong_timeout_ms);
    in->owner.half_close = !cfg->no_half_close;
    in->owner.destroy = inlet_destroy;
    in->owner.handshake = inlet_handshake;
    ockam_err err = inlet_copy_config(in, cfg);
    if (err) {
        inlet_destroy(&in->owner);
        return err;
    }
    err = inlet_listen(in, cfg->bind);
    in->owner.name = in->bind ? in->bind : cfg->bind;
    if (!err)
        err = inlet_start_worker(in);
    if (err) {
        /* The worker's stop (if it started) has already closed the listener. */
        if (!in->worker && !uv_is_closing((uv_handle_t *)&in->listener)) {
            uv_close((uv_handle_t *)&in->listener, listener_closed);
            ockam__portal_owner_unref(&in->owner);
        }
        return err;
    }
    if (out)
        *out = in;
    return OCKAM_OK;
}

void
ockam_inlet_stop(ockam_inlet *in)
{
    if (in && in->worker)
        ockam_worker_stop(in->worker);
}

const char *
ockam_inlet_bind_address(const ockam_inlet *in)
{
    return in->bind;
}

const ockam_route *
ockam_inlet_outlet_route(const ockam_inlet *in)
{
    return in->outlet_route;
}

ockam_inlet_state
ockam_inlet_status(const ockam_inlet *in)
{
    return in->state;
}

const char *
ockam_inlet_last_error(const ockam_inlet *in)
{
    return in->owner.last_error;
}

void
ockam_inlet_stats(const ockam_inlet *in, struct ockam_portal_stats *out)
{
    *out = in->owner.stats;
}
