/* UDP transport (docs/wire.md §5.2): binds, the receive path, the sender workers, the route op
 * and the public API. The rules are summarised in include/ockam/udp.h; fragmentation and the
 * send queue are in udp_send.c, reassembly in udp_reasm.c. */
#include "transport/udp/udp_internal.h"

#include <limits.h>
#include <stdio.h>

/* libuv's recvmmsg gives each datagram a 64 KiB slot (UV__UDP_DGRAM_MAXSIZE) and reads at
 * most 20 per call. Slots that large also let us see, and count, datagrams over 508 bytes
 * instead of reading them truncated. Pages of the buffer are touched only as far as data
 * arrives, so the resident cost is small. */
#define RECV_SLOT (64u * 1024u)
#define RECV_SLOTS 20u

static const struct ockam__transport_ops udp_ops;

static struct ockam__udp *
transport_of(ockam_node *node)
{
    return ockam__transport_get(node, OCKAM_TRANSPORT_UDP);
}

static uint64_t
now_ms(const ockam_udp_bind *b)
{
    return uv_now(b->io.loop);
}

/* ---- bind list and lifetime ---------------------------------------------------------- */

/* The bind that embeds link l. */
static ockam_udp_bind *
bind_of(struct ockam__link *l)
{
    return OCKAM__CONTAINER_OF(l, ockam_udp_bind, link);
}

static void
bind_link(struct ockam__udp *t, ockam_udp_bind *b)
{
    ockam__link_push_front(&t->binds, &b->link);
}

static void
bind_unlink(struct ockam__udp *t, ockam_udp_bind *b)
{
    if (b->link.next) /* never linked otherwise */
        ockam__link_del(&b->link);
    if (t->default4 == b)
        t->default4 = NULL;
    if (t->default6 == b)
        t->default6 = NULL;
}

void
ockam__udp_bind_unref(ockam_udp_bind *b)
{
    if (--b->refs > 0)
        return;
    OCKAM_ASSERT(!b->in_libuv && !b->out_head && b->nwaiting == 0);
    ockam__udp_name_free_all(b);
    ockam__policy_flow_fini(&b->flow);
    ockam__free(b->req);
    ockam__free(b);
}

static void
on_closed(uv_handle_t *h)
{
    ockam__udp_bind_unref(h->data);
}

static void
bind_close(ockam_udp_bind *b)
{
    if (b->closing)
        return;
    b->closing = true;
    bind_unlink(b->t, b);
    ockam__policy_flow_fini(&b->flow); /* the senders it adopted stop consuming it */
    if (b->sender)
        ockam_worker_stop(b->sender); /* on_stop clears b->sender */
    ockam__udp_send_close(b);
    ockam__udp_name_close(b);
    ockam__udp_reasm_fini(&b->reasm);
    uv_udp_recv_stop(&b->io);
    /* libuv completes queued sends (UV_ECANCELED) before on_closed runs. */
    uv_close((uv_handle_t *)&b->io, on_closed);
}

/* ---- security rules for destinations (node/policy.h) ---------------------------------- */

/* A message from another node may go to a destination this bind already exchanged datagrams
 * with (a reply) or to an allowed one, never anywhere else. */
static bool
may_send(ockam_udp_bind *b, const ockam_msg *m, ockam_addr text, const struct ockam__udp_dest *d)
{
    struct ockam__udp_pkey key;
    if (ockam__policy_may_reach(b->t->node, OCKAM_TRANSPORT_UDP, m->origin, text.bytes, text.len))
        return true;
    return d->numeric && ockam__udp_key(&d->sa.sa, &key) && ockam__udp_reasm_find(&b->reasm, &key);
}

/* Remember a destination chosen on this node, so that replies routed back through other
 * nodes' hops may use it too. */
static void
remember_destination(ockam_udp_bind *b, const struct ockam__udp_dest *d)
{
    struct ockam__udp_pkey key;
    bool created;
    if (!d->numeric || !ockam__udp_key(&d->sa.sa, &key))
        return;
    struct ockam__udp_peer *p = ockam__udp_reasm_peer(&b->reasm, &key, now_ms(b), &created);
    if (p && created)
        ockam__udp_format(&d->sa.sa, p->text);
}

/* ---- receive path -------------------------------------------------------------------- */

static void sweep_arm(struct ockam__udp *t);

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    ockam_udp_bind *b = h->data;
    buf->base = (char *)b->t->rbuf;
    buf->len = b->t->rbuf_len;
}

static void
deliver(ockam_udp_bind *b, const struct ockam__udp_peer *p, ockam_slice body)
{
    ockam_msg *m = ockam_msg_new();
    if (!m)
        return;
    ockam_err err = ockam__cbor_decode_msg(body.ptr, body.len, m);
    if (err) {
        b->stats.malformed++;
        ockam__udp_reasm_log(&b->reasm, (struct ockam__udp_peer *)p, OCKAM__UDP_LOG_MALFORMED,
            now_ms(b), "routing message that does not decode dropped");
        ockam_msg_free(m);
        return;
    }
    if (ockam_route_len(ockam_msg_onward(m)) == 0) {
        b->stats.empty++; /* heartbeat-shaped (docs/wire.md §5.2) */
        ockam_msg_free(m);
        return;
    }
    ockam_route *ret = ockam_msg_return(m);
    if (!b->fixed)
        err = ockam_route_push_front(
            ret, ockam_addr_of(OCKAM_TRANSPORT_UDP, p->text, strlen(p->text)));
    if (!err)
        err = ockam_route_push_front(ret, ockam_addr_local(b->addr));
    if (err) {
        b->stats.malformed++; /* the return route was already at its length limit */
        ockam_msg_free(m);
        return;
    }
    ockam_msg_set_origin(m, (ockam_origin) {.producer = b->flow.id, .spawner = 0});
    b->stats.messages_in++;
    ockam__node_route_incoming(b->t->node, m);
}

/* With a fixed peer (any of its name's addresses), other sources are dropped before they get any
 * state, so that they cannot push the peer's own state out of the table. */
static bool
from_fixed_peer(ockam_udp_bind *b, const struct ockam__udp_pkey *key, uint64_t now)
{
    if (!b->fixed || ockam__udp_name_peer_has(b, key))
        return true;
    b->stats.foreign++;
    ockam__udp_reasm_log(&b->reasm, NULL, OCKAM__UDP_LOG_OTHER, now,
        "datagram from a source other than the fixed peer dropped");
    return false;
}

/* Every source gets a (bounded, least-recently-heard-evicted) peer entry, even one that
 * only sends garbage: that is what lets each kind of drop be logged once per peer. */
static struct ockam__udp_peer *
peer_of(ockam_udp_bind *b, const struct sockaddr *from, uint64_t now)
{
    struct ockam__udp_pkey key;
    bool created;
    if (!ockam__udp_key(from, &key) || !from_fixed_peer(b, &key, now))
        return NULL;
    struct ockam__udp_peer *p = ockam__udp_reasm_peer(&b->reasm, &key, now, &created);
    if (p && created)
        ockam__udp_format(from, p->text);
    return p;
}

static void
on_datagram(ockam_udp_bind *b, const uint8_t *data, size_t len, const struct sockaddr *from)
{
    ockam__udp_frag frag;
    ockam_slice body;
    union ockam__udp_sa plain;
    uint64_t now = now_ms(b);

    b->stats.datagrams_in++;
    if (b->dual && from->sa_family == AF_INET6) {
        /* An IPv4 peer of a dual-stack socket is named as IPv4 (keys, texts, routes). */
        memcpy(&plain.in6, from, sizeof plain.in6);
        ockam__udp_unmap(&plain);
        from = &plain.sa;
    }
    struct ockam__udp_peer *p = peer_of(b, from, now);
    if (!p)
        return;
    if (len > OCKAM_UDP_MAX_DATAGRAM) {
        b->stats.oversized++;
        ockam__udp_reasm_log(
            &b->reasm, p, OCKAM__UDP_LOG_OVERSIZED, now, "datagram larger than 508 bytes dropped");
        return;
    }
    if (ockam__udp_frag_decode(data, len, &frag) != OCKAM_OK) {
        b->stats.malformed++;
        ockam__udp_reasm_log(
            &b->reasm, p, OCKAM__UDP_LOG_MALFORMED, now, "malformed datagram dropped");
        return;
    }
    if (ockam__udp_reasm_feed(&b->reasm, p, &frag, now, &body) == OCKAM__REASM_DONE)
        deliver(b, p, body);
    if (b->reasm.npartials)
        sweep_arm(b->t);
}

static void
on_recv(
    uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr, unsigned flags)
{
    ockam_udp_bind *b = h->data;
    /* The buffer is the transport's, reused for every read: there is nothing to free. */
    if (flags & UV_UDP_MMSG_FREE)
        return;
    if (nread < 0) {
        /* With IP_RECVERR, an ICMP error for one of our datagrams is returned here once (and
         * queued with the datagram's destination): read the queue. Left unread, it would
         * keep the socket readable and the loop spinning. */
        if (ockam__udp_pending_error((int)nread))
            ockam__udp_errqueue_read(b);
        else
            ockam__udp_reasm_log(
                &b->reasm, NULL, OCKAM__UDP_LOG_OTHER, now_ms(b), "receive error (ignored)");
        return;
    }
    if (!addr) {             /* nothing more to read */
        if (b->errq_pending) /* a send got the pending error instead */
            ockam__udp_errqueue_read(b);
        return;
    }
    if (flags & UV_UDP_PARTIAL)
        nread = (ssize_t)OCKAM_UDP_MAX_DATAGRAM + 1; /* truncated: certainly oversized */
    on_datagram(b, (const uint8_t *)buf->base, (size_t)nread, addr);
}

/* ---- stale partial messages ---------------------------------------------------------- */

static void
on_sweep(uv_timer_t *h)
{
    struct ockam__udp *t = h->data;
    uint64_t now = uv_now(h->loop);
    for (struct ockam__link *l = t->binds.next; l != &t->binds; l = l->next)
        ockam__udp_reasm_expire(&bind_of(l)->reasm, now);
    sweep_arm(t);
}

/* One timer for the node, set for the partial message that goes stale first. Partial
 * messages only ever get younger, so an armed timer is never late. */
static void
sweep_arm(struct ockam__udp *t)
{
    uint64_t next = UINT64_MAX, when;
    if (t->shutting_down || uv_is_active((uv_handle_t *)&t->sweep))
        return;
    for (struct ockam__link *l = t->binds.next; l != &t->binds; l = l->next) {
        if (ockam__udp_reasm_deadline(&bind_of(l)->reasm, &when) && when < next)
            next = when;
    }
    if (next == UINT64_MAX)
        return;
    uint64_t now = uv_now(t->sweep.loop);
    uv_timer_start(&t->sweep, on_sweep, next > now ? next - now : 0, 0);
}

/* ---- sender worker ------------------------------------------------------------------- */

/* Without a fixed peer the hop after the sender names the destination: parse and pop it. */
static ockam_err
take_destination(ockam_udp_bind *b, ockam_msg *m, struct ockam__udp_dest *d, const char **why)
{
    ockam_route *onward = ockam_msg_onward(m);
    if (ockam_route_len(onward) == 0) {
        *why = "no 2#host:port hop after the bind's address";
        return OCKAM_EROUTE;
    }
    ockam_addr a = ockam_route_front(onward);
    if (a.type != OCKAM_TRANSPORT_UDP) {
        *why = "the hop after the bind's address must be 2#host:port";
        return OCKAM_EROUTE;
    }
    if (ockam__udp_parse((const char *)a.bytes, a.len, true, d) != OCKAM_OK) {
        *why = "malformed 2#host:port";
        return OCKAM_EADDRINVAL;
    }
    if (!may_send(b, m, a, d)) {
        *why = "a message from another node may only go to a known peer or an allowed "
               "destination (allowed_outgoing)";
        return OCKAM_EACCES;
    }
    ockam_route_pop_front(onward);
    return OCKAM_OK;
}

static void
sender_on_message(ockam_worker *w, ockam_msg *m, void *user)
{
    ockam_udp_bind *b = user;
    struct ockam__udp_dest d;
    const char *why = NULL;

    ockam_route_pop_front(ockam_msg_onward(m)); /* our own address */
    if (b->fixed) {
        ockam__policy_adopt_msg(&b->flow, m);
        (void)ockam__udp_name_send_peer(b, m);
        return;
    }
    ockam_err err = take_destination(b, m, &d, &why);
    if (err) {
        (void)ockam__udp_send_drop(b, m, err, why);
        return;
    }
    if (ockam_origin_is_local(m->origin))
        remember_destination(b, &d);
    ockam__policy_adopt_msg(&b->flow, m);
    (void)ockam__udp_send_to(b, m, &d);
}

static void
sender_on_stop(ockam_worker *w, void *user)
{
    ((ockam_udp_bind *)user)->sender = NULL;
}

static ockam_err
start_sender(ockam_udp_bind *b)
{
    ockam_worker_opts o = {.on_message = sender_on_message, .on_stop = sender_on_stop, .user = b};
    ockam_err err = ockam_worker_start(b->t->node, NULL, &o, &b->sender);
    if (err)
        return err;
    ockam_addr a = ockam_worker_addr(b->sender);
    memcpy(b->addr, a.bytes, a.len);
    b->addr[a.len] = '\0';
    /* Binds are made by the operator: reaching their sender never opens anything new. */
    return ockam__policy_open_sender(b->t->node, b->addr);
}

/* ---- creating binds ------------------------------------------------------------------ */

static ockam_err
resolve_text(struct ockam__udp *t, const char *text, bool port_required, int family,
    struct ockam__udp_dest *d)
{
    ockam_err err = ockam__udp_parse(text, strlen(text), port_required, d);
    if (err)
        return err;
    if (!d->numeric)
        err = ockam__udp_resolve_now(ockam__node_loop(t->node), d, family);
    if (!err && family != AF_UNSPEC && d->sa.sa.sa_family != family)
        err = OCKAM_EADDRINVAL;
    return err;
}

/* An IPv6 wildcard socket without IPV6_V6ONLY also sends to and receives from IPv4, as
 * v4-mapped addresses: a name's addresses of both families are then within its reach
 * (include/ockam/udp.h, "Names"). Set explicitly, since the system's default
 * (net.ipv6.bindv6only on Linux) may say otherwise. */
static void
allow_ipv4(ockam_udp_bind *b)
{
    uv_os_fd_t fd;
    int off = 0;
    if (uv_fileno((uv_handle_t *)&b->io, &fd) != 0
        || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) != 0)
        OCKAM_LOG_D("udp: an IPv6 wildcard socket stays IPv6-only");
}

/* Whether the socket turned out dual-stack (allow_ipv4 may have failed). */
static bool
is_dual_stack(ockam_udp_bind *b, const union ockam__udp_sa *bound)
{
    uv_os_fd_t fd;
    int only = 1;
    socklen_t len = sizeof only;
    if (bound->sa.sa_family != AF_INET6 || !IN6_IS_ADDR_UNSPECIFIED(&bound->in6.sin6_addr))
        return false;
    if (uv_fileno((uv_handle_t *)&b->io, &fd) != 0)
        return false;
    return getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, &len) == 0 && only == 0;
}

static ockam_err
open_socket(ockam_udp_bind *b, const union ockam__udp_sa *at)
{
    union ockam__udp_sa bound;
    int len = (int)sizeof bound;
    int rc = uv_udp_bind(&b->io, &at->sa, 0);
    if (rc == 0)
        rc = uv_udp_getsockname(&b->io, &bound.sa, &len);
    if (rc != 0)
        return ockam__err_from_uv(rc);
    ockam__udp_format(&bound.sa, b->local);
    b->dual = is_dual_stack(b, &bound);
    ockam__udp_errqueue_enable(b);
    if (b->t->cfg.recv_buffer_size) {
        size_t want = b->t->cfg.recv_buffer_size;
        int v = want > INT_MAX ? INT_MAX : (int)want;
        if (uv_recv_buffer_size((uv_handle_t *)&b->io, &v) != 0)
            OCKAM_LOG_D("udp %s: SO_RCVBUF not changed", b->local);
    }
    rc = uv_udp_recv_start(&b->io, on_alloc, on_recv);
    OCKAM_LOG_D(
        "udp %s: bound, recvmmsg %s", b->local, uv_udp_using_recvmmsg(&b->io) ? "on" : "off");
    return ockam__err_from_uv(rc);
}

static ockam_err
init_reasm(ockam_udp_bind *b)
{
    const ockam_udp_config *c = &b->t->cfg;
    struct ockam__udp_reasm_cfg rc = {
        .peer_bytes = c->max_peer_bytes,
        .max_message = OCKAM_UDP_MAX_MESSAGE,
        .max_peers = c->max_peers,
        .stale_ms = c->partial_timeout_ms,
        .name = b->local,
    };
    return ockam__udp_reasm_init(&b->reasm, &rc, &b->t->budget);
}

static ockam_err
ensure_rbuf(struct ockam__udp *t)
{
    if (t->rbuf)
        return OCKAM_OK;
    t->rbuf = ockam__alloc((size_t)RECV_SLOT * RECV_SLOTS);
    if (!t->rbuf)
        return OCKAM_ENOMEM;
    t->rbuf_len = (size_t)RECV_SLOT * RECV_SLOTS;
    return OCKAM_OK;
}

/* Everything after the handle exists; on error the bind is closed (freed asynchronously). */
static ockam_err
bind_setup(ockam_udp_bind *b, const struct ockam__udp_dest *at, const char *peer)
{
    ockam_err err = open_socket(b, &at->sa);
    if (!err && peer)
        err = ockam__udp_name_peer(b, peer);
    if (!err)
        err = init_reasm(b);
    if (!err)
        err = start_sender(b);
    if (err)
        return err;
    ockam__policy_flow_init(&b->flow, b->t->node, 0);
    ockam__random_bytes(&b->next_number, sizeof b->next_number);
    bind_link(b->t, b);
    return OCKAM_OK;
}

static ockam_err
bind_create(struct ockam__udp *t, const char *host_port, const char *peer, bool is_default,
    ockam_udp_bind **out)
{
    struct ockam__udp_dest at, fixed;
    if (!host_port)
        return OCKAM_EADDRINVAL;
    ockam_err err = resolve_text(t, host_port, false, AF_UNSPEC, &at);
    /* Checked now, resolved once the socket says which families it reaches. */
    if (!err && peer)
        err = ockam__udp_parse(peer, strlen(peer), true, &fixed);
    if (!err)
        err = ensure_rbuf(t);
    if (err)
        return err;

    ockam_udp_bind *b = ockam__zalloc(sizeof *b);
    if (!b)
        return OCKAM_ENOMEM;
    b->t = t;
    b->family = at.sa.sa.sa_family;
    b->is_default = is_default;
    bool wildcard6 = b->family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&at.sa.in6.sin6_addr);
    /* An IPv6 wildcard socket is created now, to be made dual-stack before it binds. */
    unsigned flags = UV_UDP_RECVMMSG | (wildcard6 ? AF_INET6 : AF_UNSPEC);
    int rc = uv_udp_init_ex(ockam__node_loop(t->node), &b->io, flags);
    if (rc != 0) {
        ockam__free(b);
        return ockam__err_from_uv(rc);
    }
    if (wildcard6)
        allow_ipv4(b);
    b->io.data = b;
    b->refs = 1; /* the handle */
    err = bind_setup(b, &at, peer);
    if (err) {
        bind_close(b);
        return err;
    }
    *out = b;
    return OCKAM_OK;
}

static ockam_err
default_bind(struct ockam__udp *t, int family, ockam_udp_bind **out)
{
    ockam_udp_bind **slot = family == AF_INET6 ? &t->default6 : &t->default4;
    if (*slot) {
        *out = *slot;
        return OCKAM_OK;
    }
    ockam_err err = bind_create(t, family == AF_INET6 ? "[::]:0" : "0.0.0.0:0", NULL, true, out);
    if (!err)
        *slot = *out;
    return err;
}

/* ---- transport ops ------------------------------------------------------------------- */

static ockam_err
route_refuse(ockam_msg *m, ockam_err err, const char *why, ockam_addr dest)
{
    char text[OCKAM__UDP_PEER_TEXT + 16];
    ockam_addr_format(dest, text, sizeof text);
    /* The sender gets the error code; one debug line is enough (a flood must not flood logs). */
    OCKAM_LOG_D("udp: message to %s not sent: %s", text, why);
    ockam_msg_free(m);
    return err;
}

/* A message whose first hop is 2#host:port goes through the default bind. */
static ockam_err
udp_route(void *self, ockam_msg *m)
{
    struct ockam__udp *t = self;
    struct ockam__udp_dest d;
    ockam_udp_bind *b = NULL;
    ockam_addr a = ockam_route_front(ockam_msg_onward(m));

    if (t->shutting_down)
        return route_refuse(m, OCKAM_ECLOSED, "transport closing", a);
    if (!ockam__policy_may_reach(t->node, OCKAM_TRANSPORT_UDP, m->origin, a.bytes, a.len))
        return route_refuse(m, OCKAM_EACCES, "from another node and not in allowed_outgoing", a);
    if (ockam__udp_parse((const char *)a.bytes, a.len, true, &d) != OCKAM_OK)
        return route_refuse(m, OCKAM_EADDRINVAL, "malformed host:port", a);
    /* A name goes through the dual-stack default bind, which reaches every address it may
     * resolve to (IPv4 alone where IPv6 is missing). */
    ockam_err err = default_bind(t, d.numeric ? d.sa.sa.sa_family : AF_INET6, &b);
    if (err && !d.numeric)
        err = default_bind(t, AF_INET, &b);
    if (err)
        return route_refuse(m, err, "cannot open the default bind", a);
    ockam_route_pop_front(ockam_msg_onward(m));
    if (ockam_origin_is_local(m->origin))
        remember_destination(b, &d);
    ockam__policy_adopt_msg(&b->flow, m);
    return ockam__udp_send_to(b, m, &d);
}

static ockam_err
udp_init(void *self, ockam_node *node, const void *config)
{
    struct ockam__udp *t = self;
    static const ockam_udp_config defaults = OCKAM_UDP_CONFIG_INIT;
    const ockam_udp_config *cfg = config ? config : &defaults;

    ockam__link_init(&t->binds);
    t->node = node;
    t->cfg = *cfg;
    t->cfg.allowed_outgoing = NULL; /* the node's policy keeps the list */
    t->cfg.allowed_outgoing_count = 0;
    ockam_err err = ockam__policy_set_outgoing(
        node, OCKAM_TRANSPORT_UDP, cfg->allowed_outgoing, cfg->allowed_outgoing_count);
    if (err)
        return err;
    t->budget.max = cfg->max_total_bytes;
    uv_timer_init(ockam__node_loop(node), &t->sweep);
    t->sweep.data = t;
    return OCKAM_OK;
}

static void
udp_shutdown(void *self)
{
    struct ockam__udp *t = self;
    t->shutting_down = true;
    while (!ockam__link_empty(&t->binds))
        bind_close(bind_of(t->binds.next));
    uv_close((uv_handle_t *)&t->sweep, NULL);
}

static void
udp_fini(void *self)
{
    struct ockam__udp *t = self;
    OCKAM_ASSERT(!t->binds.next || ockam__link_empty(&t->binds));
    ockam__free(t->rbuf);
    ockam__free(t->scratch);
}

static const struct ockam__transport_ops udp_ops = {
    .type = OCKAM_TRANSPORT_UDP,
    .name = "udp",
    .size = sizeof(struct ockam__udp),
    .init = udp_init,
    .route = udp_route,
    .shutdown = udp_shutdown,
    .fini = udp_fini,
};

/* ---- public API ---------------------------------------------------------------------- */

static bool
config_ok(const ockam_udp_config *cfg)
{
    return cfg->max_peer_bytes && cfg->max_total_bytes && cfg->max_peers && cfg->partial_timeout_ms
        && cfg->max_send_queue && (cfg->allowed_outgoing || !cfg->allowed_outgoing_count);
}

ockam_err
ockam_udp_init(ockam_node *node, const ockam_udp_config *cfg)
{
    if (cfg && !config_ok(cfg))
        return OCKAM_EINVAL;
    return ockam__transport_register(node, &udp_ops, cfg, NULL);
}

ockam_err
ockam_udp_bind_open(
    ockam_node *node, const char *host_port, const ockam_udp_bind_opts *opts, ockam_udp_bind **out)
{
    struct ockam__udp *t = transport_of(node);
    ockam_udp_bind *b = NULL;
    if (!t)
        return OCKAM_ENOTSUP;
    if (t->shutting_down)
        return OCKAM_ECLOSED;
    ockam_err err = bind_create(t, host_port, opts ? opts->peer : NULL, false, &b);
    if (!err && out)
        *out = b;
    return err;
}

const char *
ockam_udp_bind_address(const ockam_udp_bind *b)
{
    return b->addr;
}

const char *
ockam_udp_bind_local(const ockam_udp_bind *b)
{
    return b->local;
}

const char *
ockam_udp_bind_peer(const ockam_udp_bind *b)
{
    return b->fixed ? b->peer_text : NULL;
}

const char *
ockam_udp_bind_peer_name(const ockam_udp_bind *b)
{
    return b->fixed ? b->peer_given : NULL;
}

ockam_flow_id
ockam_udp_bind_flow_id(const ockam_udp_bind *b)
{
    return b->flow.id;
}

bool
ockam_udp_bind_is_default(const ockam_udp_bind *b)
{
    return b->is_default;
}

void
ockam_udp_bind_stats(const ockam_udp_bind *b, struct ockam_udp_stats *out)
{
    const struct ockam__udp_reasm_stats *r = &b->reasm.stats;
    *out = b->stats;
    out->late = r->late;
    out->gaps = r->gaps;
    out->malformed += r->bad_offset;
    out->abandoned = r->abandoned;
    out->over_cap = r->over_cap;
    out->stale = r->stale;
    out->evicted = r->evicted;
    out->reassembly_bytes = r->bytes;
    out->reassembly_peak = r->peak;
    out->peers = r->peers;
    out->queued_bytes = b->out_bytes + uv_udp_get_send_queue_size(&b->io);
}

void
ockam_udp_bind_close(ockam_udp_bind *b)
{
    if (b)
        bind_close(b);
}

ockam_udp_bind *
ockam_udp_bind_find(ockam_node *node, const char *address_or_local)
{
    struct ockam__udp *t = transport_of(node);
    if (!t || !address_or_local)
        return NULL;
    for (struct ockam__link *l = t->binds.next; l != &t->binds; l = l->next) {
        ockam_udp_bind *b = bind_of(l);
        if (strcmp(b->addr, address_or_local) == 0 || strcmp(b->local, address_or_local) == 0)
            return b;
    }
    return NULL;
}

void
ockam_udp_bind_each(ockam_node *node, void (*fn)(ockam_udp_bind *b, void *arg), void *arg)
{
    struct ockam__udp *t = transport_of(node);
    if (!t)
        return;
    for (struct ockam__link *l = t->binds.next, *next; l != &t->binds; l = next) {
        next = l->next;
        fn(bind_of(l), arg);
    }
}

size_t
ockam_udp_reassembly_bytes(ockam_node *node)
{
    struct ockam__udp *t = transport_of(node);
    return t ? t->budget.used : 0;
}
