/* Connection lifecycle: refused, DNS failure, peers vanishing mid-frame, orderly peer close,
 * local close with and without queued messages, node free with a stuck queue, the sender
 * worker stopped from outside, connection reuse, and write batching. Close watchers are told
 * the reason exactly once; queued messages of a dead connection are counted as dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "nodes.h"
#include "transport/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct ockam_conn_stats
conn_stats_of(const ockam_conn *c)
{
    struct ockam_conn_stats s;
    ockam_conn_stats(c, &s);
    return s;
}

#define WAIT_MS 5000

#define C1 "00 00 00 17 83 81 82 00 44 65 63 68 6f 81 82 00 43 61 70 70 46 05 68 65 6c 6c 6f"

struct watch {
    int calls;
    ockam_err reason;
    struct ockam_conn_stats stats;
    char address[OCKAM_RANDOM_ADDR_LEN + 1];
};

static void
on_close(ockam_conn *c, ockam_err reason, void *user)
{
    struct watch *w = user;
    w->calls++;
    w->reason = reason;
    w->stats = conn_stats_of(c);
    snprintf(w->address, sizeof w->address, "%s", ockam_conn_address(c));
}

static bool
watch_called(void *arg)
{
    return ((struct watch *)arg)->calls > 0;
}

static void
watch_conn(ockam_conn *c, struct watch *w)
{
    memset(w, 0, sizeof *w);
    assert_int_equal(ockam_conn_on_close(c, on_close, w), OCKAM_OK);
}

struct connect_result {
    int calls;
    ockam_err status;
    ockam_conn *conn;
};

static void
on_connect(ockam_conn *conn, ockam_err status, void *user)
{
    struct connect_result *r = user;
    r->calls++;
    r->status = status;
    r->conn = conn;
}

static bool
connect_called(void *arg)
{
    return ((struct connect_result *)arg)->calls > 0;
}

static void
send_hex(int fd, const char *text)
{
    uint8_t buf[256];
    size_t n = tn_hex(text, buf, sizeof buf);
    assert_true(tn_raw_send(fd, buf, n, WAIT_MS));
}

/* A node connected to a raw server socket that has sent its version byte. After
 * raw_peer_sender(): an "app" probe on the node and the route to "sink" over the connection. */
struct raw_peer {
    ockam_node *node;
    int lfd, fd;
    char addr[64];
    ockam_conn *conn;
    tn_probe *app;
    char route[128];
};

static void
raw_peer_start(struct raw_peer *p, bool send_preamble)
{
    uint16_t port;
    p->lfd = tn_raw_listen(&port);
    snprintf(p->addr, sizeof p->addr, "127.0.0.1:%u", port);
    p->node = tn_node_new();
    p->conn = tn_tcp_connect(p->node, p->addr, OCKAM_WIRE_CURRENT);
    p->fd = tn_raw_accept(p->lfd, WAIT_MS);
    assert_true(p->fd >= 0);
    uint8_t pre;
    assert_true(tn_raw_recv(p->fd, &pre, 1, WAIT_MS));
    assert_int_equal(pre, 0x01);
    if (send_preamble)
        send_hex(p->fd, "01");
}

/* The app that sends to the peer, and w watching the connection. */
static void
raw_peer_sender(struct raw_peer *p, struct watch *w)
{
    p->app = tn_probe_start(p->node, "app");
    watch_conn(p->conn, w);
    snprintf(p->route, sizeof p->route, "%s => sink", ockam_conn_address(p->conn));
}

/* count messages of len zero bytes from the app to the peer. */
static void
send_zeros(struct raw_peer *p, size_t len, int count)
{
    uint8_t *chunk = calloc(1, len);
    assert_non_null(chunk);
    for (int i = 0; i < count; i++)
        assert_int_equal(tn_send(tn_probe_worker(p->app), p->route, chunk, len), OCKAM_OK);
    free(chunk);
}

static void
raw_peer_stop(struct raw_peer *p)
{
    if (p->fd >= 0)
        close(p->fd);
    close(p->lfd);
}

static void
test_connect_refused(void **state)
{
    char addr[64];
    struct connect_result r = {0};
    snprintf(addr, sizeof addr, "127.0.0.1:%u", tn_dead_port());
    ockam_node *n = tn_node_new();
    assert_int_equal(ockam_tcp_connect(n, addr, NULL, on_connect, &r), OCKAM_OK);
    assert_int_equal(r.calls, 0); /* never from inside the call */
    assert_true(tn_wait(connect_called, &r, WAIT_MS));
    assert_int_equal(r.status, OCKAM_ECONNREFUSED);
    assert_null(r.conn);
    tn_drain();
    assert_int_equal(r.calls, 1);
    assert_int_equal(tn_conn_count(n), 0);
    tn_free_all();
}

/* A message whose next hop cannot be reached: the connection made for it fails, the message
 * is freed and counted, with one log line. */
static void
test_lazy_connect_refused(void **state)
{
    char route[128], peer[64];
    struct watch w;
    snprintf(peer, sizeof peer, "127.0.0.1:%u", tn_dead_port());
    ockam_node *n = tn_node_new();
    assert_int_equal(ockam_tcp_init(n, NULL), OCKAM_OK);
    tn_probe *app = tn_probe_start(n, "app");
    tn_log_capture();
    snprintf(route, sizeof route, "1#%s => echo", peer);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "a", 1), OCKAM_OK);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "b", 1), OCKAM_OK);
    ockam_conn *c = ockam_conn_find(n, peer);
    assert_non_null(c);
    assert_int_equal(conn_stats_of(c).queued_bytes > 0, 1);
    watch_conn(c, &w);
    assert_true(tn_wait(watch_called, &w, WAIT_MS));
    assert_int_equal(w.reason, OCKAM_ECONNREFUSED);
    assert_int_equal(w.stats.dropped, 2);
    assert_int_equal(tn_log_count(peer), 1);
    assert_int_equal(tn_log_count("2 queued messages dropped"), 1);
    tn_log_release();
    assert_false(ockam_node_has_worker(n, w.address));
    assert_null(ockam_conn_find(n, peer));
    tn_free_all();
}

static void
test_dns_failure(void **state)
{
    struct connect_result r = {0};
    ockam_node *n = tn_node_new();
    assert_int_equal(ockam_tcp_connect(n, "nonexistent.invalid:1", NULL, on_connect, &r), OCKAM_OK);
    assert_true(tn_wait(connect_called, &r, 20000));
    assert_int_equal(r.status, OCKAM_EDNS);
    assert_null(r.conn);
    assert_int_equal(ockam_tcp_connect(n, "no-port", NULL, on_connect, &r), OCKAM_EADDRINVAL);
    assert_int_equal(ockam_tcp_connect(n, "::1:80", NULL, on_connect, &r), OCKAM_EADDRINVAL);
    tn_drain();
    assert_int_equal(r.calls, 1);
    tn_free_all();
}

/* A name that resolves (localhost) connects through the resolver. */
static void
test_connect_by_name(void **state)
{
    ockam_node *far = tn_node_new();
    ockam_listener *l = tn_tcp_listen(far, OCKAM_WIRE_CURRENT);
    char addr[64];
    snprintf(addr, sizeof addr, "localhost:%s", strrchr(ockam_listener_address(l), ':') + 1);
    ockam_node *n = tn_node_new();
    ockam_conn *c = tn_tcp_connect(n, addr, OCKAM_WIRE_CURRENT);
    assert_string_equal(ockam_conn_peer(c), addr);
    assert_true(ockam_conn_is_outgoing(c));
    assert_int_equal(ockam_conn_spawner_id(c), 0);
    tn_free_all();
}

static void
run_vanish_mid_frame(bool reset)
{
    struct raw_peer p;
    struct watch w;
    raw_peer_start(&p, true);
    watch_conn(p.conn, &w);
    send_hex(p.fd, "00 00 00 17 83 81 82 00 44 65");
    tn_drain();
    assert_int_equal(w.calls, 0);
    if (reset)
        tn_raw_reset(p.fd);
    else
        close(p.fd);
    p.fd = -1;
    assert_true(tn_wait(watch_called, &w, WAIT_MS));
    assert_int_equal(w.reason, reset ? OCKAM_ECONNRESET : OCKAM_ECLOSED);
    assert_false(ockam_node_has_worker(p.node, w.address));
    tn_drain();
    assert_int_equal(w.calls, 1);
    raw_peer_stop(&p);
    tn_free_all();
}

static void
test_peer_vanishes_mid_frame_fin(void **state)
{
    run_vanish_mid_frame(false);
}

static void
test_peer_vanishes_mid_frame_reset(void **state)
{
    run_vanish_mid_frame(true);
}

/* The accepting side sees a client vanish in the middle of a large frame. */
static void
test_client_vanishes_mid_big_frame(void **state)
{
    ockam_node *n = tn_node_new();
    ockam_listener *l = tn_tcp_listen(n, OCKAM_WIRE_CURRENT);
    int fd = tn_raw_connect(ockam_listener_address(l));
    assert_true(fd >= 0);
    size_t len = 512 * 1024;
    uint8_t *b = calloc(1, len);
    assert_non_null(b);
    b[0] = 0x01; /* preamble, then a 1 MiB frame of which half arrives */
    b[1] = 0x00;
    b[2] = 0x10;
    b[3] = 0x00;
    b[4] = 0x00;
    assert_true(tn_raw_send(fd, b, len, WAIT_MS));
    tn_drain();
    struct watch w;
    watch_conn(tn_only_accepted(n), &w);
    free(b);
    tn_raw_reset(fd);
    assert_true(tn_wait(watch_called, &w, WAIT_MS));
    /* Reset while reading is paused for the turn may surface as a plain end of stream. */
    assert_true(w.reason == OCKAM_ECONNRESET || w.reason == OCKAM_ECLOSED);
    tn_free_all();
}

static void
test_peer_orderly_close(void **state)
{
    struct raw_peer p;
    struct watch w;
    raw_peer_start(&p, true);
    watch_conn(p.conn, &w);
    close(p.fd);
    p.fd = -1;
    assert_true(tn_wait(watch_called, &w, WAIT_MS));
    assert_int_equal(w.reason, OCKAM_ECLOSED);
    raw_peer_stop(&p);
    tn_free_all();
}

static bool
no_conns(void *arg)
{
    return tn_conn_count(arg) == 0;
}

/* A frame from a raw peer to the worker "sink" with a 1-byte payload. */
#define SINK_FRAME "00 00 00 12 83 81 82 00 44 73 69 6e 6b 81 82 00 43 61 70 70 41 2a"
#define BURST 3200 /* more frames than a connection routes per loop turn, in one burst */

/* A peer that sends a burst and closes at once (FIN, or RST once the node has nothing more
 * to write): every frame it sent arrives, although most wait for later loop turns (read
 * budget) when the hang-up is reported (libuv reports it without another read). */
static void
run_burst_then_close(bool reset)
{
    ockam_node *far = tn_node_new();
    tn_probe *sink = tn_probe_start(far, "sink");
    ockam_listener *l = tn_tcp_listen(far, OCKAM_WIRE_CURRENT);
    assert_int_equal(ockam_flow_add_consumer(far, "sink", ockam_listener_flow_id(l)), OCKAM_OK);
    uint8_t frame[32], pre;
    size_t n = tn_hex(SINK_FRAME, frame, sizeof frame);
    uint8_t *burst = malloc(1 + BURST * n);
    assert_non_null(burst);
    burst[0] = 0x01;
    for (size_t i = 0; i < BURST; i++)
        memcpy(burst + 1 + i * n, frame, n);
    int fd = tn_raw_connect(ockam_listener_address(l));
    assert_true(fd >= 0);
    assert_true(tn_raw_recv(fd, &pre, 1, WAIT_MS)); /* nothing unread: close sends a FIN */
    /* Burst and close while the node is not running: it finds both at its next poll. */
    assert_int_equal(write(fd, burst, 1 + BURST * n), (ssize_t)(1 + BURST * n));
    if (reset)
        tn_raw_reset(fd);
    else
        close(fd);
    assert_true(tn_probe_wait_total(sink, BURST, WAIT_MS));
    assert_true(tn_wait(no_conns, far, WAIT_MS));
    free(burst);
    tn_free_all();
}

static void
test_burst_then_close(void **state)
{
    run_burst_then_close(false);
}

static void
test_burst_then_reset(void **state)
{
    run_burst_then_close(true);
}

/* A peer that answers with the wrong version byte is dropped. */
static void
test_outgoing_bad_preamble(void **state)
{
    struct raw_peer p;
    struct watch w;
    raw_peer_start(&p, false);
    watch_conn(p.conn, &w);
    send_hex(p.fd, "00 00 00 05");
    assert_true(tn_wait(watch_called, &w, WAIT_MS));
    assert_int_equal(w.reason, OCKAM_EVERSION);
    raw_peer_stop(&p);
    tn_free_all();
}

/* Closed before the connection is up: queued messages are freed and counted. */
static void
test_local_close_with_queued(void **state)
{
    uint16_t port;
    char peer[64], route[128];
    struct watch w;
    int lfd = tn_raw_listen(&port);
    snprintf(peer, sizeof peer, "127.0.0.1:%u", port);
    ockam_node *n = tn_node_new();
    assert_int_equal(ockam_tcp_init(n, NULL), OCKAM_OK);
    tn_probe *app = tn_probe_start(n, "app");
    snprintf(route, sizeof route, "1#%s => echo", peer);
    for (int i = 0; i < 5; i++)
        assert_int_equal(tn_send(tn_probe_worker(app), route, "queued", 6), OCKAM_OK);
    ockam_conn *c = ockam_conn_find(n, peer);
    assert_non_null(c);
    watch_conn(c, &w);
    ockam_conn_close(c);
    ockam_conn_close(c);          /* idempotent */
    assert_int_equal(w.calls, 0); /* asynchronous */
    assert_true(tn_wait(watch_called, &w, WAIT_MS));
    assert_int_equal(w.reason, OCKAM_OK);
    assert_int_equal(w.stats.dropped, 5);
    assert_null(ockam_conn_find(n, peer));
    close(lfd);
    tn_free_all();
}

struct frames {
    int fd;
    uint8_t buf[64 * 1024];
    size_t len;
    size_t frames;
    bool eof;
};

/* Count whole CURRENT frames arriving on a raw socket (after its version byte). */
static bool
count_frames_until_eof(void *arg)
{
    struct frames *f = arg;
    for (;;) {
        ssize_t n = recv(f->fd, f->buf + f->len, sizeof f->buf - f->len, 0);
        if (n == 0) {
            f->eof = true;
            return true;
        }
        if (n < 0)
            return false;
        f->len += (size_t)n;
        size_t off = 0;
        while (f->len - off >= 4) {
            size_t body = (size_t)f->buf[off] << 24 | (size_t)f->buf[off + 1] << 16
                | (size_t)f->buf[off + 2] << 8 | f->buf[off + 3];
            if (f->len - off < 4 + body)
                break;
            off += 4 + body;
            f->frames++;
        }
        memmove(f->buf, f->buf + off, f->len - off);
        f->len -= off;
    }
}

/* ockam_conn_close() writes every message sent before it, then closes. */
static void
test_local_close_flushes(void **state)
{
    struct raw_peer p;
    struct watch w;
    raw_peer_start(&p, true);
    raw_peer_sender(&p, &w);
    for (int i = 0; i < 100; i++)
        assert_int_equal(tn_send(tn_probe_worker(p.app), p.route, "in flight", 9), OCKAM_OK);
    ockam_conn_close(p.conn);
    /* Sent after close: refused (the sender is gone once the close reaches it). */
    struct frames f = {.fd = p.fd};
    assert_true(tn_wait(count_frames_until_eof, &f, WAIT_MS));
    assert_int_equal(f.frames, 100);
    assert_true(tn_wait(watch_called, &w, WAIT_MS));
    assert_int_equal(w.reason, OCKAM_OK);
    assert_int_equal(w.stats.dropped, 0);
    assert_int_equal(w.stats.frames_out, 100);
    raw_peer_stop(&p);
    tn_free_all();
}

/* The peer keeps sending (heartbeats) and has not read our last frames yet when we close:
 * the close must not become a reset (closing a socket with unread bytes makes the kernel
 * reset it and throw away what it has not sent yet), so the peer reads every frame and then
 * a clean EOF. */
struct chatty {
    struct watch *w;
    int fd;
};

static bool
closed_while_chatting(void *arg)
{
    struct chatty *c = arg;
    static const uint8_t hb[] = {0, 0, 0, 4, 0x83, 0x80, 0x80, 0x40}; /* empty onward route */
    uint8_t burst[sizeof hb * 64];
    for (size_t i = 0; i < 64; i++)
        memcpy(burst + i * sizeof hb, hb, sizeof hb);
    (void)send(c->fd, burst, sizeof burst, MSG_DONTWAIT | MSG_NOSIGNAL);
    return c->w->calls > 0;
}

static void
test_local_close_unread_inbound(void **state)
{
    struct raw_peer p;
    struct watch w;
    raw_peer_start(&p, true);
    raw_peer_sender(&p, &w);
    send_zeros(&p, 8 * 1024, 100);
    ockam_conn_close(p.conn);
    struct chatty ch = {.w = &w, .fd = p.fd};
    assert_true(tn_wait(closed_while_chatting, &ch, WAIT_MS));
    assert_int_equal(w.stats.frames_out, 100);
    /* Only now does the peer read: every frame, then EOF (a reset would fail the wait). */
    struct frames f = {.fd = p.fd};
    assert_true(tn_wait(count_frames_until_eof, &f, WAIT_MS));
    assert_int_equal(f.frames, 100);
    raw_peer_stop(&p); /* our EOF ends the drain on the node's side */
    tn_free_all();
}

/* Freeing the node with frames stuck behind a peer that does not read: watchers hear about
 * it, and the frames are counted as dropped. */
static void
test_node_free_with_stuck_queue(void **state)
{
    struct raw_peer p;
    struct watch w;
    raw_peer_start(&p, true);
    raw_peer_sender(&p, &w);
    send_zeros(&p, 256 * 1024, 128); /* 32 MiB: more than the kernel buffers hold */
    tn_drain();
    assert_true(conn_stats_of(p.conn).queued_bytes > 0);
    tn_free_all();
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.reason, OCKAM_OK);
    assert_true(w.stats.dropped > 0);
    assert_true(w.stats.dropped + w.stats.frames_out == 128);
    raw_peer_stop(&p);
}

/* Stopping the sender worker from outside ends the connection. */
static void
test_sender_stopped(void **state)
{
    struct raw_peer p;
    struct watch w;
    raw_peer_start(&p, true);
    watch_conn(p.conn, &w);
    char addr[OCKAM_RANDOM_ADDR_LEN + 1];
    snprintf(addr, sizeof addr, "%s", ockam_conn_address(p.conn));
    assert_int_equal(ockam_worker_stop_at(p.node, addr), OCKAM_OK);
    assert_true(tn_wait(watch_called, &w, WAIT_MS));
    assert_int_equal(w.reason, OCKAM_OK);
    assert_true(tn_raw_wait_closed(p.fd, WAIT_MS));
    raw_peer_stop(&p);
    tn_free_all();
}

/* Watchers: several, removable, each called once. */
static void
test_watchers(void **state)
{
    struct raw_peer p;
    struct watch a, b, c;
    raw_peer_start(&p, true);
    watch_conn(p.conn, &a);
    watch_conn(p.conn, &b);
    watch_conn(p.conn, &c);
    ockam_conn_off_close(p.conn, on_close, &b);
    ockam_conn_close(p.conn);
    assert_true(tn_wait(watch_called, &c, WAIT_MS));
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 0);
    assert_int_equal(c.calls, 1);
    raw_peer_stop(&p);
    tn_free_all();
}

/* Two messages to 1#host:port share one connection; the frames are written in one batch. */
static void
test_reuse_and_batching(void **state)
{
    struct raw_peer p;
    char route[128];
    raw_peer_start(&p, true);
    tn_probe *app = tn_probe_start(p.node, "app");
    tn_drain();
    uint64_t writes = ockam__conn_write_calls(p.conn);
    snprintf(route, sizeof route, "1#%s => sink", p.addr);
    for (int i = 0; i < 50; i++)
        assert_int_equal(tn_send(tn_probe_worker(app), route, "batch", 5), OCKAM_OK);
    snprintf(route, sizeof route, "%s => sink", ockam_conn_address(p.conn));
    for (int i = 0; i < 50; i++)
        assert_int_equal(tn_send(tn_probe_worker(app), route, "batch", 5), OCKAM_OK);
    assert_int_equal(tn_conn_count(p.node), 1);
    tn_drain();
    struct ockam_conn_stats s;
    ockam_conn_stats(p.conn, &s);
    assert_int_equal(s.frames_out, 100);
    assert_int_equal(s.queued_bytes, 0);
    /* 100 frames from one loop turn: one write (two if the socket took only part). */
    assert_true(ockam__conn_write_calls(p.conn) - writes <= 2);
    raw_peer_stop(&p);
    tn_free_all();
}

/* Writing to a peer that has reset the connection must not kill the process (SIGPIPE). */
static void
test_write_after_peer_reset(void **state)
{
    struct raw_peer p;
    struct watch w;
    raw_peer_start(&p, true);
    raw_peer_sender(&p, &w);
    tn_raw_reset(p.fd);
    p.fd = -1;
    /* Keep writing until the node notices: the first write may still be accepted. */
    uint8_t chunk[4096] = {0};
    for (int i = 0; i < 100 && w.calls == 0; i++) {
        if (tn_send(tn_probe_worker(p.app), p.route, chunk, sizeof chunk) != OCKAM_OK)
            break;
        tn_drain();
    }
    assert_true(tn_wait(watch_called, &w, WAIT_MS));
    assert_true(w.reason == OCKAM_ECONNRESET || w.reason == OCKAM_ECLOSED);
    raw_peer_stop(&p);
    tn_free_all();
}

/* The peer sends a backlog, closes, and the node keeps writing before it has read that far
 * (its read budget is small). The peer's kernel answers the first write with a reset; the
 * next write fails with EPIPE, which must not kill the process with SIGPIPE. */
static void
test_write_after_peer_close_unread(void **state)
{
    ockam_tcp_config cfg = OCKAM_TCP_CONFIG_INIT;
    cfg.write_high_water = 256 * 1024; /* read budget: 16 KiB per turn */
    ockam_node *n = tn_node_new();
    assert_int_equal(ockam_tcp_init(n, &cfg), OCKAM_OK);
    ockam_listener *l = tn_tcp_listen(n, OCKAM_WIRE_CURRENT);
    tn_probe *app = tn_probe_start(n, "app");
    int fd = tn_raw_connect(ockam_listener_address(l));
    assert_true(fd >= 0);
    uint8_t pre;
    assert_true(tn_raw_recv(fd, &pre, 1, WAIT_MS)); /* accepted; nothing left unread here */
    ockam_conn *c = tn_only_accepted(n);
    struct watch w;
    watch_conn(c, &w);

    /* 64 KiB of heartbeats and the end of the stream, sent while the node is not running. */
    size_t frames = 64 * 1024 / 8, len = 1 + frames * 8;
    uint8_t *b = malloc(len);
    assert_non_null(b);
    b[0] = 0x01;
    for (size_t i = 0; i < frames; i++)
        tn_hex("00 00 00 04 83 80 80 40", b + 1 + i * 8, 8);
    assert_int_equal(send(fd, b, len, MSG_NOSIGNAL), (ssize_t)len);
    free(b);
    close(fd);

    char route[128];
    snprintf(route, sizeof route, "%s => sink", ockam_conn_address(c));
    for (int i = 0; i < 1000 && w.calls == 0; i++) {
        if (tn_send(tn_probe_worker(app), route, "late", 4) != OCKAM_OK)
            break;
        ockam_node_run_nowait(n);
    }
    assert_true(tn_wait(watch_called, &w, WAIT_MS));
    tn_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TN_TEST(test_connect_refused),
        TN_TEST(test_lazy_connect_refused),
        TN_TEST(test_dns_failure),
        TN_TEST(test_connect_by_name),
        TN_TEST(test_peer_vanishes_mid_frame_fin),
        TN_TEST(test_peer_vanishes_mid_frame_reset),
        TN_TEST(test_client_vanishes_mid_big_frame),
        TN_TEST(test_peer_orderly_close),
        TN_TEST(test_burst_then_close),
        TN_TEST(test_burst_then_reset),
        TN_TEST(test_outgoing_bad_preamble),
        TN_TEST(test_local_close_with_queued),
        TN_TEST(test_local_close_flushes),
        TN_TEST(test_local_close_unread_inbound),
        TN_TEST(test_node_free_with_stuck_queue),
        TN_TEST(test_sender_stopped),
        TN_TEST(test_watchers),
        TN_TEST(test_reuse_and_batching),
        TN_TEST(test_write_after_peer_reset),
        TN_TEST(test_write_after_peer_close_unread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
