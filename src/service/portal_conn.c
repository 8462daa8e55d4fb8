/* One portal connection: a worker and the TCP socket it carries (docs/wire.md §7.3). The same
 * code serves both sides; only the handshake differs (the inlet sends Ping and waits for Pong,
 * the outlet connects to its target and answers Pong). The protocol and the backpressure
 * rules are described in ockam/portal.h.
 *
 * States: HANDSHAKE -> OPEN -> CLOSED (the socket is closed; the worker lingers briefly if it
 * sent Disconnect, so late messages from the peer are dropped quietly instead of being logged
 * as undeliverable). While OPEN each direction ends on its own (pc_progress):
 *  - our application's EOF: a peer that can half-close (it said Hello) gets Fin and keeps
 *    sending; any other peer gets Disconnect (the only end Ockam's protocol knows);
 *  - the peer's Fin or Disconnect: what is queued is written, then our socket's write side is
 *    shut down (FIN);
 *  - the socket closes once both directions are done. Closing a socket that still has unread
 *    bytes makes the kernel reset it and throw away what it has not sent yet, so after the FIN
 *    we keep reading (and discard) until EOF. When bytes were lost (read after the peer left,
 *    or the peer's direction cut short because a peer without half-close only knows
 *    Disconnect), the application must not mistake the end for a clean one: the socket is
 *    reset (with no FIN before it when the lost bytes were ours to write), but only once
 *    everything we wrote has been acknowledged (what a reset cannot take back any more).
 * The half-close messages are an extension peers without it ignore: docs/wire.md §7.4
 * (half-close). */
#include "core/codec.h"
#include "service/portal_internal.h"

#include <stdio.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define YIELD_BYTES (256u * 1024u) /* read at most this much per socket per loop turn */
/* One read takes up to this much (split into Payloads of at most 48 KiB): fewer syscalls. */
#define READ_BUF (4u * OCKAM_PORTAL_MAX_PAYLOAD)
#define LINGER_MS 2000u         /* a worker that sent Disconnect stays this long */
#define CLOSE_TIMEOUT_MS 30000u /* longest wait to end a closing socket before a reset */
#define HELLO_WAIT_MS 1000u /* after the handshake, how long our EOF waits for the peer's Hello */
#define QUIET_MS 300u       /* our EOF told a peer without half-close: wait for late Payloads */
#define ACK_POLL_MS 10u     /* how often a socket to be reset checks that all it sent is acked */
#define CTL_PAUSE "ockam.portal.pause" /* local info of same-node pause/resume messages */

enum pc_state { PC_HANDSHAKE, PC_OPEN, PC_CLOSED };

struct ockam__portal_conn {
    struct ockam__portal_owner *owner;
    struct ockam__link link; /* in owner->conns while listed */
    ockam_worker *worker;
    enum pc_state state;
    uv_tcp_t sock;
    uv_timer_t timer; /* Pong wait / connect timeout, close timeout, linger */
    uv_idle_t yield;  /* restarts reading on the next loop turn */
    uv_getaddrinfo_t gai;
    struct pc_attempt *attempt;       /* outlet: the connect in progress */
    struct sockaddr_storage addrs[8]; /* outlet: the target's addresses, tried in turn */
    size_t naddrs, next_addr;
    uv_shutdown_t sreq;
    int refs;
    bool sock_open, listed;
    ockam_route *peer;     /* where Payloads go (NULL until known) */
    ockam_conn *peer_conn; /* the connection the peer route starts with (watched) */
    char peer_conn_addr[OCKAM_RANDOM_ADDR_LEN + 1];
    bool reading, eof, congested, yielding, peer_paused;
    size_t since_yield;
    size_t wqueued; /* bytes handed to uv_write and not yet written */
    uint32_t wpending;
    char held_conn[OCKAM_RANDOM_ADDR_LEN + 1]; /* the connection we paused, if any */
    bool holding_conn, holding_local;
    bool disconnect_sent, peer_gone; /* we sent Disconnect / the peer did (never answer it) */
    bool resolving, shut;            /* getaddrinfo pending; shutdown started (no more writes) */
    bool shut_done;                  /* the FIN is queued behind everything we wrote */
    bool hc_known, hc; /* the peer's first message after the handshake came; it was Hello */
    bool fin_sent;     /* we sent Fin (our application is done sending) */
    bool peer_fin;     /* the peer sent Fin: no more Payloads from it, it still takes ours */
    bool cut;          /* bytes from the application were lost: it sees a reset after our FIN */
    bool wcut;         /* bytes for the application were (maybe) lost: a reset and no FIN at all */
    uint64_t hello_until; /* loop time: our EOF waits this long for the peer's Hello */
    uint64_t quiet_until; /* loop time: Payloads after our Disconnect are written until then */
    uint64_t deadline;    /* loop time: a closing socket is reset then at the latest */
    uint16_t next_counter;
    bool heard;     /* a message from the peer came since the last liveness period */
    uint8_t misses; /* outlet: liveness periods in a row with nothing from the inlet */
};

struct pc_write {
    uv_write_t req;
    struct ockam__portal_conn *pc;
    ockam_msg *msg; /* the Payload whose bytes are being written (zero copy) */
    size_t len;
};

static void pc_abort(struct ockam__portal_conn *pc, bool disconnect, const char *why);
static void pc_update_reading(struct ockam__portal_conn *pc);
static void attempt_end(struct ockam__portal_conn *pc);

/* ---- lifetime ------------------------------------------------------------------------ */

static uv_loop_t *
pc_loop(const struct ockam__portal_conn *pc)
{
    return ockam__node_loop(pc->owner->node);
}

static void
pc_unref(struct ockam__portal_conn *pc)
{
    OCKAM_ASSERT(pc->refs > 0);
    if (--pc->refs > 0)
        return;
    struct ockam__portal_owner *owner = pc->owner;
    ockam_route_free(pc->peer);
    ockam__free(pc);
    OCKAM_ASSERT(owner->nconns > 0);
    if (--owner->nconns == 0) {
        ockam__free(owner->rbuf); /* every socket of the owner has closed: none reads */
        owner->rbuf = NULL;
    }
    ockam__portal_owner_unref(owner);
}

static void
handle_closed(uv_handle_t *h)
{
    pc_unref(h->data);
}

static void
close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, handle_closed);
}

static struct ockam__portal_conn *
pc_new(struct ockam__portal_owner *owner)
{
    struct ockam__portal_conn *pc = ockam__zalloc(sizeof *pc);
    if (!pc)
        return NULL;
    pc->owner = owner;
    owner->refs++;
    owner->nconns++;
    uv_tcp_init(pc_loop(pc), &pc->sock);
    uv_timer_init(pc_loop(pc), &pc->timer);
    uv_idle_init(pc_loop(pc), &pc->yield);
    pc->sock.data = pc->timer.data = pc->yield.data = pc;
    pc->gai.data = pc->sreq.data = pc;
    pc->refs = 3; /* the three handles */
    pc->sock_open = true;
    ockam__link_push_front(&owner->conns, &pc->link);
    pc->listed = true;
    owner->stats.accepted++;
    owner->stats.active++;
    return pc;
}

static void
pc_unlist(struct ockam__portal_conn *pc)
{
    struct ockam__portal_owner *owner = pc->owner;
    if (!pc->listed)
        return;
    pc->listed = false;
    ockam__link_del(&pc->link);
    owner->stats.active--;
}

/* ---- the peer and its connection ----------------------------------------------------- */

static void peer_closed(ockam_conn *conn, ockam_err reason, void *user);
static void peer_drained(ockam_conn *conn, void *user);

static void
unwatch_peer(struct ockam__portal_conn *pc)
{
    if (!pc->peer_conn)
        return;
    ockam_conn_off_close(pc->peer_conn, peer_closed, pc);
    ockam_conn_off_drain(pc->peer_conn, peer_drained, pc);
    pc->peer_conn = NULL;
}

static ockam_err
set_peer(struct ockam__portal_conn *pc, const ockam_route *route)
{
    if (!pc->peer && !(pc->peer = ockam_route_new()))
        return OCKAM_ENOMEM;
    ockam_err err = ockam_route_copy(pc->peer, route);
    if (err || ockam_route_len(route) == 0)
        return err ? err : OCKAM_EROUTE;
    ockam_addr first = ockam_route_front(route);
    if (first.type != OCKAM_TRANSPORT_LOCAL || first.len != OCKAM_RANDOM_ADDR_LEN)
        return OCKAM_OK; /* a local peer, or a route we cannot watch */
    memcpy(pc->peer_conn_addr, first.bytes, first.len);
    pc->peer_conn_addr[first.len] = '\0';
    ockam_conn *c = ockam_conn_find(pc->owner->node, pc->peer_conn_addr);
    if (c && ockam_conn_on_close(c, peer_closed, pc) == OCKAM_OK)
        pc->peer_conn = c;
    return OCKAM_OK;
}

static void
peer_closed(ockam_conn *conn, ockam_err reason, void *user)
{
    struct ockam__portal_conn *pc = user;
    pc->peer_conn = NULL; /* its watchers are being consumed; its drain watchers are gone */
    pc->congested = false;
    if (pc->holding_conn && strcmp(pc->held_conn, pc->peer_conn_addr) == 0)
        pc->holding_conn = false;
    pc_abort(pc, false, "the connection to the peer closed");
}

static size_t
conn_queued(const ockam_conn *conn)
{
    struct ockam_conn_stats st;
    ockam_conn_stats(conn, &st);
    return st.queued_bytes;
}

/* Above the mark: stop reading the socket until the connection drains to half of it. */
static void
check_congestion(struct ockam__portal_conn *pc)
{
    size_t mark = pc->owner->high_water;
    if (!pc->peer_conn || pc->congested || conn_queued(pc->peer_conn) <= mark)
        return;
    if (ockam_conn_on_drain(pc->peer_conn, mark / 2, peer_drained, pc) == OCKAM_OK)
        pc->congested = true;
}

static void
peer_drained(ockam_conn *conn, void *user)
{
    struct ockam__portal_conn *pc = user;
    pc->congested = false;
    check_congestion(pc); /* an early call (memory short) waits again */
    pc_update_reading(pc);
}

/* ---- sending ------------------------------------------------------------------------- */

static ockam_err
send_along(struct ockam__portal_conn *pc, const ockam_route *route, ockam_msg *m)
{
    ockam_err err = ockam_route_copy(ockam_msg_onward(m), route);
    if (err) {
        ockam_msg_free(m);
        return err;
    }
    return ockam_send(pc->worker, m);
}

static ockam_err
send_bytes(struct ockam__portal_conn *pc, const ockam_route *route, const void *p, size_t len)
{
    ockam_msg *m = ockam_msg_new();
    if (!m || ockam_msg_set_payload(m, p, len)) {
        ockam_msg_free(m);
        return OCKAM_ENOMEM;
    }
    return send_along(pc, route, m);
}

static ockam_err
send_variant(struct ockam__portal_conn *pc, const ockam_route *route, uint8_t variant)
{
    return send_bytes(pc, route, &variant, 1);
}

/* The half-close extension (docs/wire.md §7.4): an empty Payload, which every peer
 * accepts and writes nothing for. Hello = `03 00` (sent once, right after the handshake: "I
 * understand Fin"); Fin = `03 00 00` (an explicit "no counter" after the empty bytes: "my
 * application is done sending; keep sending me yours"). */
static const uint8_t HC_HELLO[] = {OCKAM__PORTAL_PAYLOAD, 0};
static const uint8_t HC_FIN[] = {OCKAM__PORTAL_PAYLOAD, 0, 0};

static void
send_hello(struct ockam__portal_conn *pc)
{
    pc->hello_until = uv_now(pc_loop(pc)) + HELLO_WAIT_MS;
    if (!pc->owner->half_close) {
        pc->hc_known = true; /* we behave as a peer without the extension */
        return;
    }
    ockam_err err = send_bytes(pc, pc->peer, HC_HELLO, sizeof HC_HELLO);
    if (err)
        OCKAM_LOG_D("portal %s: Hello not sent: %s", pc->owner->name, ockam_strerror(err));
}

static void
send_disconnect(struct ockam__portal_conn *pc)
{
    if (pc->disconnect_sent || pc->peer_gone || !pc->peer || !pc->worker
        || ockam__node_closing(pc->owner->node))
        return;
    pc->disconnect_sent = true;
    ockam_err err = send_variant(pc, pc->peer, OCKAM__PORTAL_DISCONNECT);
    if (err)
        OCKAM_LOG_D("portal %s: Disconnect not sent: %s", pc->owner->name, ockam_strerror(err));
}

static void
send_payload(struct ockam__portal_conn *pc, const uint8_t *data, size_t len)
{
    uint8_t head[1 + OCKAM__VARINT_MAX];
    head[0] = OCKAM__PORTAL_PAYLOAD;
    size_t hlen = 1 + ockam__varint_put(head + 1, len);
    ockam_msg *m = ockam_msg_new();
    uint8_t *p = m ? ockam_msg_payload_reserve(m, hlen + len) : NULL;
    if (!p) {
        ockam_msg_free(m);
        pc_abort(pc, true, "out of memory");
        return;
    }
    memcpy(p, head, hlen);
    memcpy(p + hlen, data, len);
    ockam_err err = send_along(pc, pc->peer, m);
    if (err) {
        OCKAM_LOG_D("portal %s: Payload not sent: %s", pc->owner->name, ockam_strerror(err));
        pc_abort(pc, true, "the peer cannot be reached");
    }
}

/* Same-node peers: a local-only message (never encoded: local info does not go on the wire,
 * and it is only sent when the peer's messages arrive without a transport origin). */
static void
send_local_pause(struct ockam__portal_conn *pc, bool pause)
{
    uint8_t flag = pause ? 1 : 0;
    ockam_msg *m = ockam_msg_new();
    if (!m || !pc->peer || ockam_msg_local_info_set(m, CTL_PAUSE, &flag, 1)) {
        ockam_msg_free(m);
        return;
    }
    (void)send_along(pc, pc->peer, m);
}

/* ---- holding back what feeds our socket ---------------------------------------------- */

static ockam_conn *
conn_named(struct ockam__portal_conn *pc, const char *addr)
{
    if (pc->peer_conn && strcmp(pc->peer_conn_addr, addr) == 0)
        return pc->peer_conn;
    return ockam_conn_find(pc->owner->node, addr);
}

static void
hold_source(struct ockam__portal_conn *pc, const ockam_msg *msg)
{
    const ockam_route *ret = ockam_msg_return_const(msg);
    if (ockam_origin_is_local(ockam_msg_origin(msg))) {
        send_local_pause(pc, true);
        pc->holding_local = true;
        return;
    }
    /* The transport put its connection's sender address in front of the return route. */
    ockam_addr a = ockam_route_len(ret) ? ockam_route_front(ret) : ockam_addr_local("");
    if (a.type != OCKAM_TRANSPORT_LOCAL || a.len != OCKAM_RANDOM_ADDR_LEN)
        return;
    memcpy(pc->held_conn, a.bytes, a.len);
    pc->held_conn[a.len] = '\0';
    ockam_conn *c = conn_named(pc, pc->held_conn);
    if (c) {
        ockam_conn_pause(c);
        pc->holding_conn = true;
    }
}

static void
release_source(struct ockam__portal_conn *pc)
{
    if (pc->holding_conn) {
        pc->holding_conn = false;
        ockam_conn *c = conn_named(pc, pc->held_conn);
        if (c)
            ockam_conn_resume(c);
    }
    if (pc->holding_local) {
        pc->holding_local = false;
        if (pc->worker && !ockam__node_closing(pc->owner->node))
            send_local_pause(pc, false);
    }
}

/* ---- closing ------------------------------------------------------------------------- */

static void
linger_done(uv_timer_t *t)
{
    struct ockam__portal_conn *pc = t->data;
    if (pc->worker)
        ockam_worker_stop(pc->worker);
}

/* The socket is closed or closing: the worker goes now, or after a linger if it sent
 * Disconnect (late messages from the peer are then dropped quietly). */
static void
pc_end(struct ockam__portal_conn *pc)
{
    pc->state = PC_CLOSED;
    pc_unlist(pc); /* no longer an active connection, even while the worker lingers */
    release_source(pc);
    uv_idle_stop(&pc->yield);
    if (pc->worker && pc->disconnect_sent && !ockam__node_closing(pc->owner->node)) {
        uv_timer_start(&pc->timer, linger_done, LINGER_MS, 0);
        return;
    }
    uv_timer_stop(&pc->timer);
    if (pc->worker)
        ockam_worker_stop(pc->worker);
}

static void
sock_close(struct ockam__portal_conn *pc)
{
    if (!pc->sock_open)
        return;
    pc->sock_open = false;
    pc->reading = false;
    if (pc->resolving)
        uv_cancel((uv_req_t *)&pc->gai);
    attempt_end(pc);
    close_handle((uv_handle_t *)&pc->sock);
}

/* SO_LINGER with a zero timeout (on) makes any close of the socket a reset; off restores the
 * ordinary close (FIN after what is still unsent). */
static void
sock_linger0(struct ockam__portal_conn *pc, bool on)
{
    uv_os_fd_t fd;
    if (pc->sock_open && uv_fileno((uv_handle_t *)&pc->sock, &fd) == 0) {
        struct linger lg = {.l_onoff = on ? 1 : 0, .l_linger = 0};
        (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
}

/* A socket starts to carry an application's bytes: from now on it is reset, never closed with
 * a FIN, unless pc_progress ends it cleanly (sock_close_clean). This also covers the closes we
 * do not choose: when the node's process dies (kill -9, a crash) the kernel closes its
 * sockets, and the applications must see that as a reset, not as the end of the stream. */
static void
sock_opened(struct ockam__portal_conn *pc)
{
    uv_tcp_nodelay(&pc->sock, 1);
    sock_linger0(pc, true);
}

/* Close so that the application sees a reset, not a clean end (SO_LINGER 0). */
static void
sock_reset(struct ockam__portal_conn *pc)
{
    sock_linger0(pc, true);
    sock_close(pc);
}

/* Both directions ended whole: an ordinary close. */
static void
sock_close_clean(struct ockam__portal_conn *pc)
{
    sock_linger0(pc, false);
    sock_close(pc);
}

/* Something went wrong: the peer is told (when asked), the application sees a reset. */
static void
pc_abort(struct ockam__portal_conn *pc, bool disconnect, const char *why)
{
    if (pc->state == PC_CLOSED)
        return;
    OCKAM_LOG_D("portal %s: connection closed: %s", pc->owner->name, why);
    if (disconnect)
        send_disconnect(pc);
    sock_reset(pc);
    pc_end(pc);
}

/* Bytes we wrote that the application's side has not acknowledged yet (unsent included). A
 * reset would throw them away. */
static size_t
unacked(struct ockam__portal_conn *pc)
{
    uv_os_fd_t fd;
    int n = 0;
    if (uv_fileno((uv_handle_t *)&pc->sock, &fd) != 0 || ioctl(fd, TIOCOUTQ, &n) != 0)
        return 0;
    return n > 0 ? (size_t)n : 0;
}

static void pc_progress(struct ockam__portal_conn *pc);

static void
on_shutdown(uv_shutdown_t *req, int status)
{
    struct ockam__portal_conn *pc = req->data;
    pc->shut_done = true;
    if (status < 0 && status != UV_ECANCELED)
        pc->wcut = true;
    pc_progress(pc);
    pc_unref(pc);
}

/* Everything queued is written: send FIN (the socket stays open until pc_progress ends it). */
static void
start_shutdown(struct ockam__portal_conn *pc)
{
    pc->shut = true;
    if (uv_shutdown(&pc->sreq, (uv_stream_t *)&pc->sock, on_shutdown) == 0) {
        pc->refs++;
        return;
    }
    pc_abort(pc, true, "cannot shut down the socket");
}

static void
progress_timer(uv_timer_t *t)
{
    pc_progress(t->data);
}

static void
closing_starts(struct ockam__portal_conn *pc)
{
    if (!pc->deadline)
        pc->deadline = uv_now(pc_loop(pc)) + CLOSE_TIMEOUT_MS;
}

/* Our application is done sending: tell the peer. Returns when to look again (0: no need). */
static uint64_t
end_our_direction(struct ockam__portal_conn *pc, uint64_t now)
{
    if (!pc->eof || pc->fin_sent || pc->disconnect_sent || pc->peer_gone)
        return 0;
    if (pc->peer_fin) {
        send_disconnect(pc); /* both directions are done */
        return 0;
    }
    if (pc->hc) {
        pc->fin_sent = true;
        ockam_err err = send_bytes(pc, pc->peer, HC_FIN, sizeof HC_FIN);
        if (err)
            pc_abort(pc, true, "the peer cannot be reached");
        return 0;
    }
    if (!pc->hc_known && now < pc->hello_until)
        return pc->hello_until; /* the peer's Hello may still be on its way */
    /* A peer without half-close: Disconnect is the only end it knows, and it ends the other
     * direction too, which has not ended (the peer would have sent Disconnect): whatever the
     * peer's application still had to send is lost, so our application gets a reset, never a
     * FIN. Payloads the peer sent before it got Disconnect are still written first, until
     * none came for QUIET_MS (and none is held back by our own backpressure). */
    send_disconnect(pc);
    pc->wcut = true;
    pc->quiet_until = now + QUIET_MS;
    closing_starts(pc);
    return pc->quiet_until;
}

/* Nothing more will come from the peer for our socket (or we stop taking it). */
static bool
peer_direction_done(const struct ockam__portal_conn *pc, uint64_t now)
{
    bool holding = pc->holding_conn || pc->holding_local;
    return pc->peer_gone || pc->peer_fin
        || (pc->disconnect_sent && now >= pc->quiet_until && !holding);
}

static uint64_t
earliest(uint64_t a, uint64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

/* Moves a connection towards its end after any event: see the comment at the top. */
static void
pc_progress(struct ockam__portal_conn *pc)
{
    if (pc->state != PC_OPEN || !pc->sock_open)
        return;
    uint64_t now = uv_now(pc_loop(pc));
    uint64_t wake = end_our_direction(pc, now);
    if (pc->state != PC_OPEN)
        return;
    if (pc->deadline && now >= pc->deadline) {
        pc_abort(pc, false, "not closed in time");
        return;
    }
    bool peer_done = peer_direction_done(pc, now);
    if (!peer_done && pc->disconnect_sent && now < pc->quiet_until)
        wake = earliest(wake, pc->quiet_until); /* (while held back: on_write comes back) */
    /* A FIN says "that was all": never after a loss in that direction (the application would
     * take the reset that follows for a clean end once it has read the FIN). */
    if (peer_done && !pc->shut && !pc->wcut && pc->wpending == 0)
        start_shutdown(pc);
    if (pc->state != PC_OPEN)
        return;
    /* The end: our FIN is out and the application's EOF read; or bytes were lost and there is
     * no point waiting for its EOF. A loss ends in a reset once what we wrote is acked. */
    bool gone = pc->peer_gone || pc->disconnect_sent;
    bool ended = pc->wcut ? peer_done && pc->wpending == 0
                          : pc->shut_done && (pc->eof || (pc->cut && gone));
    bool reset = pc->cut || pc->wcut;
    if (ended && reset && unacked(pc) > 0) {
        ended = false;
        wake = earliest(wake, now + ACK_POLL_MS);
    }
    if (ended) {
        OCKAM_LOG_D("portal %s: connection closed%s", pc->owner->name,
            reset ? " (bytes were lost: reset)" : "");
        if (reset)
            sock_reset(pc);
        else
            sock_close_clean(pc);
        pc_end(pc);
        return;
    }
    if (pc->deadline)
        wake = earliest(wake, pc->deadline);
    pc_update_reading(pc);
    if (wake)
        uv_timer_start(&pc->timer, progress_timer, wake > now ? wake - now : 0, 0);
}

/* ---- reading the socket -------------------------------------------------------------- */

/* The connection our Payloads go to is above the mark already. */
static bool
peer_over_mark(const struct ockam__portal_conn *pc)
{
    return pc->peer_conn && pc->state == PC_OPEN
        && conn_queued(pc->peer_conn) > pc->owner->high_water;
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct ockam__portal_conn *pc = h->data;
    /* When a connection drains, every portal socket it held back is woken in the same loop
     * turn. Each one looks at the queue again before it reads: an empty buffer makes libuv
     * read nothing and report UV_ENOBUFS, and the socket waits for the next drain. Without
     * this, N sockets read one buffer each past the mark (1 000 connections: 700 MB). */
    if (peer_over_mark(pc)) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    struct ockam__portal_owner *o = pc->owner;
    if (!o->rbuf)
        o->rbuf = ockam__alloc(READ_BUF);
    *buf = uv_buf_init((char *)o->rbuf, o->rbuf ? READ_BUF : 0);
}

static void
yield_done(uv_idle_t *h)
{
    struct ockam__portal_conn *pc = h->data;
    uv_idle_stop(h);
    pc->yielding = false;
    pc_update_reading(pc);
}

static void
after_read(struct ockam__portal_conn *pc, size_t n)
{
    pc->since_yield += n;
    if (pc->since_yield >= YIELD_BYTES) {
        pc->since_yield = 0;
        pc->yielding = true;
        uv_idle_start(&pc->yield, yield_done);
    }
    check_congestion(pc);
    pc_update_reading(pc);
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct ockam__portal_conn *pc = s->data;
    if (nread == 0)
        return;
    if (nread > 0) {
        if (pc->state != PC_OPEN)
            return;
        if (pc->peer_gone || pc->disconnect_sent || pc->fin_sent) {
            /* Nobody takes these any more: read only so that the close is not a reset that
             * throws away what we wrote; the application learns of the loss by a reset. */
            pc->cut = true;
            pc_progress(pc);
            return;
        }
        pc->owner->stats.bytes_in += (uint64_t)nread;
        /* §7.2: each Payload carries at most 48 KiB. */
        for (size_t off = 0; off < (size_t)nread && pc->state == PC_OPEN;) {
            size_t n = (size_t)nread - off;
            n = n > OCKAM_PORTAL_MAX_PAYLOAD ? OCKAM_PORTAL_MAX_PAYLOAD : n;
            send_payload(pc, (const uint8_t *)buf->base + off, n);
            off += n;
        }
        if (pc->state == PC_OPEN)
            after_read(pc, (size_t)nread);
        return;
    }
    if (nread == UV_ENOBUFS && peer_over_mark(pc)) { /* our own empty buffer, see on_alloc */
        check_congestion(pc);
        pc_update_reading(pc);
        return;
    }
    pc->eof = true;
    if (nread == UV_EOF) {
        pc_update_reading(pc);
        pc_progress(pc);
        return;
    }
    pc_abort(pc, true, uv_strerror((int)nread));
}

static void
pc_update_reading(struct ockam__portal_conn *pc)
{
    /* Once the peer takes nothing more, reading only discards: no backpressure then. */
    bool discard = pc->peer_gone || pc->disconnect_sent || pc->fin_sent;
    bool flowing = !pc->congested && !pc->yielding && !pc->peer_paused;
    bool want = pc->sock_open && !pc->eof && pc->state == PC_OPEN && (discard || flowing);
    if (want == pc->reading)
        return;
    pc->reading = want;
    if (!want) {
        uv_read_stop((uv_stream_t *)&pc->sock);
        return;
    }
    int rc = uv_read_start((uv_stream_t *)&pc->sock, on_alloc, on_read);
    if (rc) {
        pc->reading = false;
        pc_abort(pc, true, uv_strerror(rc));
    }
}

/* ---- writing the socket -------------------------------------------------------------- */

static void
on_write(uv_write_t *req, int status)
{
    struct pc_write *w = (struct pc_write *)req;
    struct ockam__portal_conn *pc = w->pc;
    pc->wqueued -= w->len;
    pc->owner->stats.queued -= w->len;
    pc->wpending--;
    ockam_msg_free(w->msg);
    ockam__free(w);
    if (status < 0 && status != UV_ECANCELED)
        pc_abort(pc, true, uv_strerror(status));
    if (pc->wqueued <= pc->owner->high_water / 2 && pc->state != PC_CLOSED)
        release_source(pc);
    if (pc->wpending == 0)
        pc_progress(pc);
    pc_unref(pc);
}

/* Write data (inside msg's payload) to the socket; consumes msg. */
static void
write_bytes(struct ockam__portal_conn *pc, ockam_msg *msg, const uint8_t *data, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    pc->owner->stats.bytes_out += len;
    if (pc->wpending == 0) {
        int n = uv_try_write((uv_stream_t *)&pc->sock, &b, 1);
        if (n == (int)len || (n < 0 && n != UV_EAGAIN)) {
            ockam_msg_free(msg);
            if (n < 0)
                pc_abort(pc, true, uv_strerror(n));
            return;
        }
        if (n > 0)
            b = uv_buf_init((char *)data + n, (unsigned)(len - (size_t)n));
    }
    struct pc_write *w = ockam__alloc(sizeof *w);
    if (w) {
        w->pc = pc;
        w->msg = msg; /* keeps the bytes alive until the write completes */
        w->len = b.len;
    }
    if (!w || uv_write(&w->req, (uv_stream_t *)&pc->sock, &b, 1, on_write) != 0) {
        ockam__free(w);
        ockam_msg_free(msg);
        pc_abort(pc, true, "cannot write");
        return;
    }
    pc->refs++;
    pc->wpending++;
    pc->wqueued += b.len;
    pc->owner->stats.queued += b.len;
    if (pc->wqueued > pc->owner->high_water && !pc->holding_conn && !pc->holding_local)
        hold_source(pc, msg);
}

/* Payload: 03, BARE bytes, then optionally a counter (01 + u16 LE) that Rust reads only when
 * at least 3 bytes remain (§7.1). */
/* Hello and Fin of the half-close extension (see send_hello); false for anything else. */
static bool
on_half_close(struct ockam__portal_conn *pc, ockam_slice p)
{
    if (!pc->owner->half_close)
        return false; /* empty Payloads: nothing to write */
    bool hello = p.len == sizeof HC_HELLO && memcmp(p.ptr, HC_HELLO, p.len) == 0;
    bool fin = p.len == sizeof HC_FIN && memcmp(p.ptr, HC_FIN, p.len) == 0;
    if (hello && !pc->hc_known)
        pc->hc = true;
    pc->hc_known = true;
    if (fin && pc->hc)
        pc->peer_fin = true;
    if (hello || fin)
        pc_progress(pc);
    return hello || fin;
}

static bool
decode_payload(struct ockam__portal_conn *pc, ockam_slice p, ockam_slice *data)
{
    uint64_t len = 0;
    size_t used = 0;
    if (ockam__varint_get(p.ptr + 1, p.len - 1, &len, &used) != OCKAM_OK || len > p.len - 1 - used)
        return false;
    data->ptr = p.ptr + 1 + used;
    data->len = (size_t)len;
    size_t rest = p.len - 1 - used - (size_t)len;
    const uint8_t *c = data->ptr + len;
    if (rest >= 3 && c[0] == 1) {
        uint16_t counter = (uint16_t)(c[1] | (c[2] << 8));
        if (counter != pc->next_counter)
            return false;
        pc->next_counter++;
    }
    return true;
}

static bool on_ask(struct ockam__portal_conn *pc, ockam_slice p);

static void
on_payload(struct ockam__portal_conn *pc, ockam_msg *msg)
{
    ockam_slice data;
    if (pc->state == PC_OPEN
        && (on_half_close(pc, ockam_msg_payload(msg)) || on_ask(pc, ockam_msg_payload(msg)))) {
        ockam_msg_free(msg);
        return;
    }
    if (!decode_payload(pc, ockam_msg_payload(msg), &data)) {
        OCKAM_LOG_W("portal %s: malformed or out-of-order Payload; closing", pc->owner->name);
        ockam_msg_free(msg);
        pc_abort(pc, true, "bad Payload");
        return;
    }
    if (pc->state != PC_OPEN || data.len == 0) {
        ockam_msg_free(msg);
        return;
    }
    if (!pc->sock_open || pc->shut || pc->peer_fin) {
        ockam_msg_free(msg); /* too late for the socket: its application must learn of it */
        pc->wcut = true;
        pc_progress(pc);
        return;
    }
    if (pc->disconnect_sent) /* sent before our Disconnect reached the peer: wait for more */
        pc->quiet_until = uv_now(pc_loop(pc)) + QUIET_MS;
    write_bytes(pc, msg, data.ptr, data.len);
}

/* ---- the worker ---------------------------------------------------------------------- */

static void
on_pong(struct ockam__portal_conn *pc, const ockam_msg *msg)
{
    ockam_err err = set_peer(pc, ockam_msg_return_const(msg));
    if (err) {
        pc_abort(pc, false, "bad Pong");
        return;
    }
    pc->state = PC_OPEN;
    uv_timer_stop(&pc->timer);
    if (pc->owner->handshake)
        pc->owner->handshake(pc->owner, true, NULL);
    send_hello(pc); /* before any Payload of ours */
    pc_update_reading(pc);
}

static void
on_disconnect(struct ockam__portal_conn *pc)
{
    if (pc->state == PC_HANDSHAKE) {
        /* The outlet could not reach its target: close our client (it sent nothing yet). */
        pc->owner->stats.failed++;
        ockam__portal_owner_error(pc->owner, "the outlet could not connect to its target");
        uv_timer_stop(&pc->timer);
        pc->state = PC_OPEN;
    }
    pc->peer_gone = true;
    pc->hc_known = true;
    closing_starts(pc);
    pc_progress(pc);
}

static bool
on_local_control(struct ockam__portal_conn *pc, const ockam_msg *msg)
{
    ockam_slice v;
    if (!ockam_origin_is_local(ockam_msg_origin(msg))
        || !ockam_msg_local_info_get(msg, CTL_PAUSE, &v) || v.len != 1)
        return false;
    pc->peer_paused = v.ptr[0] != 0;
    pc_update_reading(pc);
    return true;
}

static void
pc_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct ockam__portal_conn *pc = user;
    ockam_slice p = ockam_msg_payload(msg);
    if (ockam_route_len(ockam_msg_onward_const(msg)) != 1 || on_local_control(pc, msg)
        || p.len == 0) {
        ockam_msg_free(msg);
        return;
    }
    pc->owner->heard++;
    pc->heard = true;
    switch (p.ptr[0]) {
    case OCKAM__PORTAL_PAYLOAD:
        on_payload(pc, msg);
        return;
    case OCKAM__PORTAL_PONG:
        if (pc->state == PC_HANDSHAKE && pc->owner->role == OCKAM__PORTAL_INLET)
            on_pong(pc, msg);
        break;
    case OCKAM__PORTAL_DISCONNECT:
        if (pc->state == PC_HANDSHAKE && pc->owner->role == OCKAM__PORTAL_OUTLET) {
            pc->peer_gone = true; /* the inlet gave up: stop connecting */
            pc_abort(pc, false, "the inlet disconnected");
        } else if (pc->state != PC_CLOSED) {
            on_disconnect(pc);
        }
        break;
    default:
        break; /* Ping, or an unknown variant */
    }
    ockam_msg_free(msg);
}

static void
pc_on_stop(ockam_worker *w, void *user)
{
    struct ockam__portal_conn *pc = user;
    pc->worker = NULL;
    pc->state = PC_CLOSED;
    pc_unlist(pc);
    release_source(pc);
    unwatch_peer(pc);
    sock_close(pc);
    close_handle((uv_handle_t *)&pc->timer);
    close_handle((uv_handle_t *)&pc->yield);
    pc_unref(pc); /* the worker's reference */
}

static ockam_err
pc_start_worker(struct ockam__portal_conn *pc)
{
    ockam_worker_opts opts = {.on_message = pc_on_message, .on_stop = pc_on_stop, .user = pc};
    ockam_err err = ockam_worker_start(pc->owner->node, NULL, &opts, &pc->worker);
    if (!err)
        pc->refs++;
    return err;
}

/* A connection that never got a worker: close its handles. */
static void
pc_discard(struct ockam__portal_conn *pc)
{
    pc->state = PC_CLOSED;
    pc_unlist(pc);
    sock_close(pc);
    close_handle((uv_handle_t *)&pc->timer);
    close_handle((uv_handle_t *)&pc->yield);
}

/* ---- inlet side ---------------------------------------------------------------------- */

static void
pong_timeout(uv_timer_t *t)
{
    struct ockam__portal_conn *pc = t->data;
    char why[96];
    snprintf(why, sizeof why, "no answer from the outlet within %u ms", pc->owner->timeout_ms);
    pc->owner->stats.failed++;
    if (pc->owner->handshake)
        pc->owner->handshake(pc->owner, false, why);
    pc_abort(pc, false, why);
}

void
ockam__portal_conn_accept(
    struct ockam__portal_owner *owner, uv_stream_t *server, const ockam_route *outlet_route)
{
    struct ockam__portal_conn *pc = pc_new(owner);
    if (!pc) {
        OCKAM_LOG_W("portal %s: out of memory; client not accepted", owner->name);
        return;
    }
    if (uv_accept(server, (uv_stream_t *)&pc->sock) != 0 || pc_start_worker(pc) != OCKAM_OK) {
        pc_discard(pc);
        return;
    }
    sock_opened(pc);
    pc->state = PC_HANDSHAKE;
    ockam_err err = send_variant(pc, outlet_route, OCKAM__PORTAL_PING);
    if (err) {
        char why[96];
        snprintf(why, sizeof why, "cannot send Ping to the outlet: %s", ockam_strerror(err));
        owner->stats.failed++;
        if (owner->handshake)
            owner->handshake(owner, false, why);
        pc_abort(pc, false, why);
        return;
    }
    uv_timer_start(&pc->timer, pong_timeout, owner->timeout_ms, 0);
}

/* ---- outlet side --------------------------------------------------------------------- */

static void
connect_failed(struct ockam__portal_conn *pc, const char *target, const char *why)
{
    pc->owner->stats.failed++;
    ockam__portal_owner_error(pc->owner, "cannot connect to %s: %s", target, why);
    pc_abort(pc, true, why);
}

/* The target's addresses are tried in turn, as curl does (a name may resolve to an address
 * nothing listens on, e.g. localhost's 127.0.0.1 for a target on [::1]). Each attempt uses
 * its own socket, since the next address may be of the other family; the one that connects
 * becomes the connection's (its descriptor moves into pc->sock). */
struct pc_attempt {
    uv_tcp_t tcp;
    uv_connect_t req;
    struct ockam__portal_conn *pc;
};

static void
attempt_closed(uv_handle_t *h)
{
    struct pc_attempt *a = h->data;
    struct ockam__portal_conn *pc = a->pc;
    ockam__free(a);
    pc_unref(pc);
}

static void
attempt_end(struct ockam__portal_conn *pc)
{
    struct pc_attempt *a = pc->attempt;
    pc->attempt = NULL;
    if (a && !uv_is_closing((uv_handle_t *)&a->tcp))
        uv_close((uv_handle_t *)&a->tcp, attempt_closed);
}

static void try_address(struct ockam__portal_conn *pc, int last);

static void
connected(struct ockam__portal_conn *pc, uv_tcp_t *tcp)
{
    uv_os_fd_t fd;
    int rc = uv_fileno((uv_handle_t *)tcp, &fd);
    int own = rc == 0 ? dup(fd) : -1;
    rc = own >= 0 ? uv_tcp_open(&pc->sock, own) : UV_EMFILE;
    if (rc) {
        if (own >= 0)
            close(own);
        connect_failed(pc, pc->owner->target, uv_strerror(rc));
        return;
    }
    uv_timer_stop(&pc->timer);
    sock_opened(pc);
    pc->state = PC_OPEN;
    ockam_err err = send_variant(pc, pc->peer, OCKAM__PORTAL_PONG);
    if (err) {
        pc_abort(pc, false, "cannot answer Pong");
        return;
    }
    send_hello(pc);
    pc_update_reading(pc);
}

static void
on_connect(uv_connect_t *req, int status)
{
    struct pc_attempt *a = req->data;
    struct ockam__portal_conn *pc = a->pc;
    if (pc->attempt != a || pc->state != PC_HANDSHAKE)
        return; /* given up (timeout, stop): attempt_end closes it */
    if (status < 0) {
        attempt_end(pc);
        try_address(pc, status);
        return;
    }
    connected(pc, &a->tcp);
    attempt_end(pc);
}

static void
try_address(struct ockam__portal_conn *pc, int last)
{
    while (pc->next_addr < pc->naddrs) {
        const struct sockaddr *sa = (const struct sockaddr *)&pc->addrs[pc->next_addr++];
        struct pc_attempt *a = ockam__zalloc(sizeof *a);
        if (!a) {
            last = UV_ENOMEM;
            break;
        }
        a->pc = pc;
        a->tcp.data = a->req.data = a;
        uv_tcp_init(pc_loop(pc), &a->tcp);
        pc->refs++; /* the attempt's, until its handle has closed */
        pc->attempt = a;
        last = uv_tcp_connect(&a->req, &a->tcp, sa, on_connect);
        if (last == 0)
            return;
        attempt_end(pc);
    }
    connect_failed(pc, pc->owner->target, uv_strerror(last));
}

static void
add_addr(struct ockam__portal_conn *pc, const struct sockaddr *sa, size_t len)
{
    if (pc->naddrs < sizeof pc->addrs / sizeof pc->addrs[0] && len <= sizeof pc->addrs[0])
        memcpy(&pc->addrs[pc->naddrs++], sa, len);
}

static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
    struct ockam__portal_conn *pc = req->data;
    pc->resolving = false;
    if (pc->state == PC_HANDSHAKE) {
        for (const struct addrinfo *p = ai; status >= 0 && p; p = p->ai_next)
            add_addr(pc, p->ai_addr, p->ai_addrlen);
        if (pc->naddrs == 0)
            connect_failed(pc, pc->owner->target, uv_strerror(status < 0 ? status : UV_EAI_NONAME));
        else
            try_address(pc, UV_ECONNREFUSED);
    }
    uv_freeaddrinfo(ai);
    pc_unref(pc);
}

static void
connect_timeout(uv_timer_t *t)
{
    struct ockam__portal_conn *pc = t->data;
    char why[64];
    snprintf(why, sizeof why, "not connected within %u ms", pc->owner->timeout_ms);
    connect_failed(pc, pc->owner->target, why);
}

static void
resolve_and_connect(struct ockam__portal_conn *pc, const char *target)
{
    char host[256], port_text[8];
    uint16_t port = 0;
    struct sockaddr_storage ss;
    if (ockam__host_port_parse(target, host, sizeof host, &port) != OCKAM_OK) {
        connect_failed(pc, target, "malformed address");
        return;
    }
    uv_timer_start(&pc->timer, connect_timeout, pc->owner->timeout_ms, 0);
    /* localhost names both loopback addresses (RFC 6761), without asking DNS. */
    if (strcasecmp(host, "localhost") == 0) {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
        uv_ip4_addr("127.0.0.1", port, &v4);
        uv_ip6_addr("::1", port, &v6);
        add_addr(pc, (const struct sockaddr *)&v4, sizeof v4);
        add_addr(pc, (const struct sockaddr *)&v6, sizeof v6);
        try_address(pc, UV_ECONNREFUSED);
        return;
    }
    if (ockam__portal_numeric_addr(host, port, &ss)) {
        add_addr(pc, (const struct sockaddr *)&ss, sizeof ss);
        try_address(pc, UV_ECONNREFUSED);
        return;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    snprintf(port_text, sizeof port_text, "%u", port);
    int rc = uv_getaddrinfo(pc_loop(pc), &pc->gai, on_resolved, host, port_text, &hints);
    if (rc) {
        connect_failed(pc, target, uv_strerror(rc));
        return;
    }
    pc->resolving = true;
    pc->refs++;
}

void
ockam__portal_conn_open(
    struct ockam__portal_owner *owner, const ockam_msg *ping, const char *target)
{
    struct ockam__portal_conn *pc = pc_new(owner);
    if (!pc) {
        OCKAM_LOG_W("portal %s: out of memory; Ping dropped", owner->name);
        return;
    }
    if (set_peer(pc, ockam_msg_return_const(ping)) != OCKAM_OK || pc_start_worker(pc) != OCKAM_OK) {
        pc_discard(pc);
        return;
    }
    pc->state = PC_HANDSHAKE;
    resolve_and_connect(pc, target);
}

/* ---- owner-wide ---------------------------------------------------------------------- */

void
ockam__portal_conns_reset(struct ockam__portal_owner *owner, const char *why)
{
    struct ockam__link *l = owner->conns.next;
    while (l != &owner->conns) {
        struct ockam__portal_conn *pc = OCKAM__CONTAINER_OF(l, struct ockam__portal_conn, link);
        l = l->next; /* pc_abort unlists pc (and only pc: nothing else runs inside it) */
        pc_abort(pc, true, why);
    }
}

void
ockam__portal_conns_abort(struct ockam__portal_owner *owner)
{
    /* At node free the node stops every worker itself (and each closes its socket). */
    if (ockam__node_closing(owner->node))
        return;
    while (!ockam__link_empty(&owner->conns)) {
        struct ockam__portal_conn *pc
            = OCKAM__CONTAINER_OF(owner->conns.next, struct ockam__portal_conn, link);
        pc_unlist(pc); /* pc_abort may keep it lingering: it must leave the list now */
        pc_abort(pc, true, "portal stopped");
        if (pc->worker)
            ockam_worker_stop(pc->worker);
    }
}

/* ---- the liveness query extension (docs/wire.md §7.5) ---------------------------------- */

bool
ockam__portal_is_ext(ockam_slice p, uint8_t tag)
{
    return p.len >= 3 && p.ptr[0] == OCKAM__PORTAL_PAYLOAD && p.ptr[1] == 0 && p.ptr[2] == tag;
}

/* The address of the peer's worker: the last hop of its route. */
static ockam_addr
peer_worker(const struct ockam__portal_conn *pc)
{
    return pc->peer && ockam_route_len(pc->peer) ? ockam_route_back(pc->peer) : (ockam_addr) {0};
}

/* An open connection whose peer speaks the extensions and has not ended: a connection
 * closing after the peer's Disconnect (whose worker goes after its linger) is left alone. */
static bool
askable(const struct ockam__portal_conn *pc)
{
    ockam_addr a = peer_worker(pc);
    return pc->state == PC_OPEN && pc->hc && !pc->peer_gone && !pc->disconnect_sent
        && a.type == OCKAM_TRANSPORT_LOCAL && a.len > 0 && a.len <= 255;
}

/* Only the connections that heard nothing in the period are asked about. */
static bool
queried(const struct ockam__portal_conn *pc)
{
    return askable(pc) && !pc->heard;
}

/* The address list of a Query or Gone: u8 length + bytes each. */
static size_t
put_addr(uint8_t *out, ockam_addr a)
{
    out[0] = (uint8_t)a.len;
    memcpy(out + 1, a.bytes, a.len);
    return 1 + a.len;
}

uint8_t *
ockam__portal_query(struct ockam__portal_owner *owner, size_t *len)
{
    size_t n = 0, cap = 3;
    for (struct ockam__link *l = owner->conns.next; l != &owner->conns; l = l->next) {
        struct ockam__portal_conn *pc = OCKAM__CONTAINER_OF(l, struct ockam__portal_conn, link);
        if (queried(pc) && n < OCKAM__PORTAL_QUERY_MAX) {
            cap += 1 + peer_worker(pc).len;
            n++;
        }
    }
    uint8_t *q = n ? ockam__alloc(cap) : NULL;
    size_t off = 3;
    for (struct ockam__link *l = owner->conns.next; l != &owner->conns; l = l->next) {
        struct ockam__portal_conn *pc = OCKAM__CONTAINER_OF(l, struct ockam__portal_conn, link);
        if (q && queried(pc) && off < cap)
            off += put_addr(q + off, peer_worker(pc));
        pc->heard = false; /* a new period starts */
    }
    if (!q)
        return NULL;
    q[0] = OCKAM__PORTAL_PAYLOAD;
    q[1] = 0;
    q[2] = OCKAM__PORTAL_TAG_QUERY;
    *len = off;
    return q;
}

/* Calls fn for each address of a Query or Gone payload; false if it is malformed. */
static bool
each_addr(ockam_slice p, void (*fn)(ockam_slice addr, void *arg), void *arg)
{
    size_t off = 3;
    while (off < p.len) {
        size_t n = p.ptr[off];
        if (n == 0 || n > p.len - off - 1)
            return false;
        fn((ockam_slice) {p.ptr + off + 1, n}, arg);
        off += 1 + n;
    }
    return true;
}

struct gone_list {
    struct ockam__portal_owner *owner;
    uint8_t *out;
    size_t len;
    bool failed;
};

static void
check_alive(ockam_slice a, void *arg)
{
    struct gone_list *g = arg;
    char text[256];
    memcpy(text, a.ptr, a.len);
    text[a.len] = '\0';
    /* Worker addresses are random: one that is not on this node never comes back. Other
     * names (services) are never answered: the query is about connections, not about what
     * else the node runs. */
    if (g->failed || a.len != OCKAM_RANDOM_ADDR_LEN || ockam_node_has_worker(g->owner->node, text))
        return;
    uint8_t *grown = ockam__realloc(g->out, g->len + 1 + a.len);
    if (!grown) {
        g->failed = true;
        return;
    }
    g->out = grown;
    g->out[g->len] = (uint8_t)a.len;
    memcpy(g->out + g->len + 1, a.ptr, a.len);
    g->len += 1 + a.len;
}

uint8_t *
ockam__portal_gone(struct ockam__portal_owner *owner, ockam_slice query, size_t *len)
{
    struct gone_list g = {owner, ockam__alloc(3), 3, false};
    if (!g.out)
        return NULL;
    g.out[0] = OCKAM__PORTAL_PAYLOAD;
    g.out[1] = 0;
    g.out[2] = OCKAM__PORTAL_TAG_GONE;
    if (!each_addr(query, check_alive, &g) || g.failed || g.len == 3) {
        ockam__free(g.out);
        return NULL;
    }
    *len = g.len;
    return g.out;
}

static void
reset_gone(ockam_slice a, void *arg)
{
    struct ockam__portal_owner *owner = arg;
    struct ockam__link *l = owner->conns.next;
    while (l != &owner->conns) {
        struct ockam__portal_conn *pc = OCKAM__CONTAINER_OF(l, struct ockam__portal_conn, link);
        l = l->next;
        ockam_addr w = peer_worker(pc);
        /* Heard from since the Query: the answer is older than what the peer said since. */
        if (!queried(pc) || w.len != a.len || memcmp(w.bytes, a.ptr, a.len) != 0)
            continue;
        OCKAM_LOG_W("portal %s: the outlet's node no longer has this connection (it restarted?): "
                    "reset",
            owner->name);
        pc_abort(pc, true, "the outlet's node no longer has the connection");
    }
}

void
ockam__portal_on_gone(struct ockam__portal_owner *owner, ockam_slice gone)
{
    (void)each_addr(gone, reset_gone, owner);
}

/* ---- the outlet asks its inlets (docs/wire.md §7.6) ---------------------------------- */

static const uint8_t LV_ASK[] = {OCKAM__PORTAL_PAYLOAD, 0, OCKAM__PORTAL_TAG_ASK};
static const uint8_t LV_HERE[] = {OCKAM__PORTAL_PAYLOAD, 0, OCKAM__PORTAL_TAG_HERE};

/* Inlet: Ask from the outlet worker is answered with Here (an outlet only asks peers that said
 * Hello). Both are empty Payloads; false for anything else. */
static bool
on_ask(struct ockam__portal_conn *pc, ockam_slice p)
{
    bool ask = p.len == sizeof LV_ASK && memcmp(p.ptr, LV_ASK, p.len) == 0;
    if (ask && pc->owner->role == OCKAM__PORTAL_INLET && askable(pc))
        (void)send_bytes(pc, pc->peer, LV_HERE, sizeof LV_HERE);
    return ask;
}

/* Our Ask, or the inlet's answer, may be waiting behind other traffic: on its way out (the
 * transport connection our Payloads take has a queue, or we stopped reading our socket because
 * of it), or on its way in (we paused the connection answers arrive on). Such a period proves
 * nothing. */
static bool
answer_held_back(const struct ockam__portal_conn *pc)
{
    return pc->congested || pc->holding_conn || pc->holding_local
        || (pc->peer_conn
            && (conn_queued(pc->peer_conn) > 0 || ockam_conn_is_paused(pc->peer_conn)));
}

void
ockam__portal_ask_tick(struct ockam__portal_owner *owner)
{
    struct ockam__link *l = owner->conns.next;
    while (l != &owner->conns) {
        struct ockam__portal_conn *pc = OCKAM__CONTAINER_OF(l, struct ockam__portal_conn, link);
        l = l->next;
        if (!askable(pc))
            continue;
        if (pc->heard) {
            pc->heard = false;
            pc->misses = 0;
            continue;
        }
        if (!answer_held_back(pc) && ++pc->misses >= OCKAM__PORTAL_ASK_MISSES) {
            OCKAM_LOG_W(
                "portal %s: the inlet stopped answering (its node died?): reset", owner->name);
            pc_abort(pc, true, "the inlet stopped answering");
            continue;
        }
        ockam_err err = send_bytes(pc, pc->peer, LV_ASK, sizeof LV_ASK);
        if (err)
            OCKAM_LOG_D("portal %s: Ask not sent: %s", owner->name, ockam_strerror(err));
    }
}
