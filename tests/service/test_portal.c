/* TCP portals (docs/wire.md §7): bytes through inlet -> outlet between real sockets, the Ping /
 * Pong / Payload / Disconnect bytes against docs/wire.md §7 (a raw socket plays the outlet node),
 * 100 concurrent clients, large transfers with checksums, bounded memory with a slow reader
 * at either end, closing and errors (target refused or unreachable, no Pong, resets, the
 * transport connection closing), a portal through a relay, and an inlet's probe status.
 *
 * The applications at both ends are plain libuv (portal_util.c) on a helper node's loop. */
#include "nodes.h"
#include "portal_util.h"
#include "service/portal_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ockam_conn_stats
conn_stats_of(const ockam_conn *c)
{
    struct ockam_conn_stats s;
    ockam_conn_stats(c, &s);
    return s;
}

static struct ockam_portal_stats
outlet_stats_of(const ockam_outlet *o)
{
    struct ockam_portal_stats s;
    ockam_outlet_stats(o, &s);
    return s;
}

static struct ockam_portal_stats
inlet_stats_of(const ockam_inlet *in)
{
    struct ockam_portal_stats s;
    ockam_inlet_stats(in, &s);
    return s;
}

#define WAIT_MS 10000
#define BIG (64u * 1024u * 1024u)

struct env {
    ockam_node *apps; /* runs the plain applications */
    uv_loop_t *loop;
    ockam_node *n1, *n2; /* inlet node, outlet node */
    ockam_listener *l2;
    ockam_outlet *outlet;
    ockam_inlet *inlet;
    uint16_t port;       /* the inlet's */
    size_t base1, base2; /* worker counts before any portal connection */
};

/* ---- setup --------------------------------------------------------------------------- */

static void
env_apps(struct env *e)
{
    memset(e, 0, sizeof *e);
    e->loop = pu_apps_start(&e->apps);
}

/* e->outlet on node, to target (connect_ms: 0 for the default timeout). */
static void
outlet_on(struct env *e, ockam_node *node, const char *target, uint32_t connect_ms)
{
    ockam_outlet_config cfg = OCKAM_OUTLET_CONFIG_INIT;
    cfg.target = target;
    cfg.connect_timeout_ms = connect_ms;
    assert_int_equal(ockam_outlet_start(node, &cfg, &e->outlet), OCKAM_OK);
}

/* n2 listens; its outlet (to target) accepts Pings from the listener's connections. */
static void
env_outlet(struct env *e, const char *target, uint32_t connect_ms)
{
    e->n2 = tn_node_new();
    e->l2 = tn_tcp_listen(e->n2, OCKAM_WIRE_CURRENT);
    outlet_on(e, e->n2, target, connect_ms);
    assert_int_equal(
        ockam_flow_add_consumer(e->n2, "outlet", ockam_listener_flow_id(e->l2)), OCKAM_OK);
}

static uint16_t
port_of(const char *host_port)
{
    return (uint16_t)atoi(strrchr(host_port, ':') + 1);
}

/* Workers other than transport connections' senders (connections come and go lazily). */
static size_t
portal_workers(ockam_node *n)
{
    return ockam_node_worker_count(n) - tn_conn_count(n);
}

static void
env_inlet_cfg(struct env *e, ockam_inlet_config *cfg)
{
    if (!e->n1) {
        e->n1 = tn_node_new();
        assert_int_equal(ockam_tcp_init(e->n1, NULL), OCKAM_OK);
    }
    cfg->bind = "127.0.0.1:0";
    assert_int_equal(ockam_inlet_start(e->n1, cfg, &e->inlet), OCKAM_OK);
    e->port = port_of(ockam_inlet_bind_address(e->inlet));
    e->base1 = portal_workers(e->n1);
    e->base2 = e->n2 ? portal_workers(e->n2) : 0;
}

/* The inlet on n1 sends its Pings to route (text). */
static void
env_inlet(struct env *e, const char *route)
{
    ockam_inlet_config cfg = OCKAM_INLET_CONFIG_INIT;
    ockam_route *r = tn_route("%s", route);
    cfg.outlet_route = r;
    env_inlet_cfg(e, &cfg);
    ockam_route_free(r);
}

/* The usual pair: n1 inlet -> 1#n2 -> outlet -> 127.0.0.1:target_port. */
static void
env_pair(struct env *e, uint16_t target_port)
{
    char target[32], route[128];
    snprintf(target, sizeof target, "127.0.0.1:%u", target_port);
    env_outlet(e, target, 0);
    snprintf(route, sizeof route, "1#%s => outlet", ockam_listener_address(e->l2));
    env_inlet(e, route);
}

static void
env_free(struct env *e)
{
    pu_teardown(NULL);
}

/* ---- conditions ------------------------------------------------------------------------ */

/* Every portal connection is gone and the workers are back to the baseline. */
static bool
portals_idle(void *arg)
{
    struct env *e = arg;
    bool ok = inlet_stats_of(e->inlet).active == 0 && portal_workers(e->n1) == e->base1;
    if (e->outlet)
        ok = ok && outlet_stats_of(e->outlet).active == 0 && portal_workers(e->n2) == e->base2;
    return ok;
}

static void
expect_idle(struct env *e)
{
    assert_true(tn_wait(portals_idle, e, WAIT_MS));
}

/* The shared read buffer of an inlet or outlet (portal_internal.h: the owner comes first). */
static const uint8_t *
rbuf_of(const void *portal)
{
    return ((const struct ockam__portal_owner *)portal)->rbuf;
}

/* Every socket of both portals has closed: neither keeps its read buffer. */
static bool
rbufs_freed(void *arg)
{
    struct env *e = arg;
    return !rbuf_of(e->inlet) && !rbuf_of(e->outlet);
}

/* ---- echo ------------------------------------------------------------------------------ */

/* The usual pair in front of an echo server, and a client whose first n bytes came back. */
static pu_client *
echo_client(struct env *e, pu_server **echo, uint64_t n)
{
    env_apps(e);
    *echo = pu_server_start(e->loop, PU_ECHO, 0);
    env_pair(e, pu_server_port(*echo));
    pu_client *c = pu_client_start(e->loop, e->port, 1, n, false);
    pu_want w = {c, n};
    assert_true(tn_wait(pu_client_got, &w, WAIT_MS));
    return c;
}

static void
test_echo_one_hop(void **state)
{
    struct env e;
    pu_server *echo;
    pu_client *c = echo_client(&e, &echo, 100000);
    const pu_side *s = pu_client_side(c);
    assert_int_equal(s->bytes_in, 100000);
    assert_true(s->sum_in == s->sum_out);
    assert_int_equal(pu_server_accepted(echo), 1);
    assert_int_equal(inlet_stats_of(e.inlet).active, 1);
    assert_int_equal(outlet_stats_of(e.outlet).active, 1);
    assert_int_equal(ockam_inlet_status(e.inlet), OCKAM_INLET_UP);
    assert_non_null(rbuf_of(e.inlet)); /* both read */
    assert_non_null(rbuf_of(e.outlet));

    /* The client closes: the outlet closes the target, everything is released, the read
     * buffers too (an idle portal holds no 192 KiB). */
    pu_client_close(c, false);
    expect_idle(&e);
    assert_true(tn_wait(rbufs_freed, &e, WAIT_MS));
    assert_int_equal(pu_server_open(echo), 0);
    struct ockam_portal_stats st;
    ockam_inlet_stats(e.inlet, &st);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.bytes_in, 100000);
    assert_int_equal(st.bytes_out, 100000);
    env_free(&e);
}

struct many {
    pu_client *c[100];
    size_t n;
    uint64_t len;
};

static bool
all_echoed(void *arg)
{
    struct many *m = arg;
    for (size_t i = 0; i < m->n; i++) {
        if (pu_client_side(m->c[i])->bytes_in < m->len)
            return false;
    }
    return true;
}

static void
test_hundred_clients(void **state)
{
    struct env e;
    struct many m = {.n = 100, .len = 48 * 1024 + 7};
    env_apps(&e);
    pu_server *echo = pu_server_start(e.loop, PU_ECHO, 0);
    env_pair(&e, pu_server_port(echo));
    for (size_t i = 0; i < m.n; i++)
        m.c[i] = pu_client_start(e.loop, e.port, i + 1, m.len, false);
    assert_true(tn_wait(all_echoed, &m, 30000));
    for (size_t i = 0; i < m.n; i++) {
        const pu_side *s = pu_client_side(m.c[i]);
        assert_int_equal(s->bytes_in, m.len);
        assert_true(s->sum_in == s->sum_out);
    }
    assert_int_equal(pu_server_accepted(echo), 100);
    assert_int_equal(inlet_stats_of(e.inlet).active, 100);
    /* One transport connection carries them all. */
    assert_int_equal(tn_conn_count(e.n1), 1);
    for (size_t i = 0; i < m.n; i++)
        pu_client_close(m.c[i], false);
    expect_idle(&e);
    env_free(&e);
}

/* ---- large transfers and backpressure -------------------------------------------------- */

struct transfer {
    struct env *e;
    pu_client *c;
    pu_server *srv;
    bool upload;
    uint64_t len;
    size_t max_q1, max_q2; /* the nodes' transport queues plus portal socket queues */
};

static void
sum_queue(ockam_conn *c, void *arg)
{
    *(size_t *)arg += conn_stats_of(c).queued_bytes;
}

static size_t
node_queued(ockam_node *n)
{
    size_t q = 0;
    ockam_conn_each(n, sum_queue, &q);
    return q;
}

static bool
transfer_done(void *arg)
{
    struct transfer *t = arg;
    size_t q1 = node_queued(t->e->n1) + inlet_stats_of(t->e->inlet).queued;
    size_t q2 = node_queued(t->e->n2) + outlet_stats_of(t->e->outlet).queued;
    if (q1 > t->max_q1)
        t->max_q1 = q1;
    if (q2 > t->max_q2)
        t->max_q2 = q2;
    if (t->upload)
        return pu_server_totals(t->srv).bytes_in >= t->len || pu_client_side(t->c)->error;
    return pu_client_side(t->c)->bytes_in >= t->len || pu_client_side(t->c)->error;
}

static void
run_transfer(struct transfer *t, uint64_t timeout_ms)
{
    assert_true(tn_wait(transfer_done, t, timeout_ms));
    if (t->upload) {
        pu_side s = pu_server_totals(t->srv);
        assert_true(s.bytes_in == t->len);
        assert_true(s.sum_in == pu_client_side(t->c)->sum_out);
    } else {
        pu_side s = pu_server_totals(t->srv);
        assert_true(pu_client_side(t->c)->bytes_in == t->len);
        assert_true(pu_client_side(t->c)->sum_in == s.sum_out);
    }
    fprintf(stderr, "transfer of %llu bytes: peak queued n1 %zu, n2 %zu\n",
        (unsigned long long)t->len, t->max_q1, t->max_q2);
}

static void
test_large_upload(void **state)
{
    struct env e;
    env_apps(&e);
    pu_server *sink = pu_server_start(e.loop, PU_SINK, 0);
    env_pair(&e, pu_server_port(sink));
    struct transfer t = {.e = &e, .srv = sink, .upload = true, .len = BIG};
    t.c = pu_client_start(e.loop, e.port, 7, BIG, true);
    run_transfer(&t, 120000);
    /* The client half-closed: the sink sees EOF and closes, and so does everything else. */
    assert_true(tn_wait(pu_client_ended, t.c, WAIT_MS));
    assert_true(pu_client_side(t.c)->eof);
    expect_idle(&e);
    env_free(&e);
}

static void
test_large_download(void **state)
{
    struct env e;
    env_apps(&e);
    pu_server *src = pu_server_start(e.loop, PU_SOURCE, BIG);
    env_pair(&e, pu_server_port(src));
    struct transfer t = {.e = &e, .srv = src, .upload = false, .len = BIG};
    t.c = pu_client_start(e.loop, e.port, 0, 0, false);
    run_transfer(&t, 120000);
    /* The source closed after its data: the client gets EOF after the last byte. */
    assert_true(tn_wait(pu_client_ended, t.c, WAIT_MS));
    assert_true(pu_client_side(t.c)->eof);
    assert_int_equal(pu_client_side(t.c)->error, 0);
    pu_client_close(t.c, false);
    expect_idle(&e);
    env_free(&e);
}

/* Many downloads at once: each connection gets its own stream (the source seeds it with its
 * accept number), so a byte that reached the wrong client, or one lost or repeated, changes a
 * checksum; every client must also end in a clean EOF and the portals must go idle. */
#define DOWNLOADS 20
#define DOWNLOAD_LEN (2u * 1024u * 1024u + 13u)

struct downloads {
    pu_client *c[DOWNLOADS];
};

static bool
all_downloads_ended(void *arg)
{
    struct downloads *d = arg;
    for (size_t i = 0; i < DOWNLOADS; i++) {
        if (!pu_client_ended(d->c[i]))
            return false;
    }
    return true;
}

/* The checksum of the first len bytes of the stream for seed. */
static uint64_t
stream_sum(uint64_t seed, uint64_t len)
{
    static uint8_t buf[64 * 1024];
    uint64_t h = PU_FNV_INIT;
    for (uint64_t off = 0; off < len; off += sizeof buf) {
        size_t n = len - off < sizeof buf ? (size_t)(len - off) : sizeof buf;
        pu_fill(seed, off, buf, n);
        h = pu_fnv(h, buf, n);
    }
    return h;
}

static void
test_twenty_downloads(void **state)
{
    struct env e;
    struct downloads d;
    env_apps(&e);
    pu_server *src = pu_server_start(e.loop, PU_SOURCE, DOWNLOAD_LEN);
    env_pair(&e, pu_server_port(src));
    for (size_t i = 0; i < DOWNLOADS; i++)
        d.c[i] = pu_client_start(e.loop, e.port, 0, 0, false);
    assert_true(tn_wait(all_downloads_ended, &d, 120000));
    assert_int_equal(pu_server_accepted(src), DOWNLOADS);
    bool matched[DOWNLOADS + 1] = {false}; /* by seed: 1..DOWNLOADS */
    for (size_t i = 0; i < DOWNLOADS; i++) {
        const pu_side *s = pu_client_side(d.c[i]);
        assert_int_equal(s->error, 0);
        assert_true(s->eof);
        assert_int_equal(s->bytes_in, DOWNLOAD_LEN);
        size_t seed = 1;
        while (seed <= DOWNLOADS && (matched[seed] || stream_sum(seed, DOWNLOAD_LEN) != s->sum_in))
            seed++;
        assert_true(seed <= DOWNLOADS); /* one stream, whole, and no other client's */
        matched[seed] = true;
    }
    struct ockam_portal_stats st;
    ockam_inlet_stats(e.inlet, &st);
    assert_int_equal(st.accepted, DOWNLOADS);
    assert_int_equal(st.failed, 0);
    for (size_t i = 0; i < DOWNLOADS; i++)
        pu_client_close(d.c[i], false);
    expect_idle(&e);
    env_free(&e);
}

/* Bound: the portal mark (1 MiB) per side, the transport's mark, the per-turn read budget and
 * a few chunks in flight; far below the 64 MiB that would pile up without backpressure. */
#define QUEUE_BOUND (12u * 1024u * 1024u)

static void
test_backpressure_slow_server(void **state)
{
    struct env e;
    env_apps(&e);
    pu_server *sink = pu_server_start(e.loop, PU_SINK, 0);
    pu_server_set_rate(sink, 512u * 1024u, 10); /* about 50 MB/s at most */
    env_pair(&e, pu_server_port(sink));
    struct transfer t = {.e = &e, .srv = sink, .upload = true, .len = BIG};
    t.c = pu_client_start(e.loop, e.port, 9, BIG, true);
    run_transfer(&t, 120000);
    assert_true(t.max_q1 < QUEUE_BOUND);
    assert_true(t.max_q2 < QUEUE_BOUND);
    expect_idle(&e);
    env_free(&e);
}

static void
test_backpressure_slow_client(void **state)
{
    struct env e;
    env_apps(&e);
    pu_server *src = pu_server_start(e.loop, PU_SOURCE, BIG);
    env_pair(&e, pu_server_port(src));
    struct transfer t = {.e = &e, .srv = src, .upload = false, .len = BIG};
    t.c = pu_client_start(e.loop, e.port, 0, 0, false);
    pu_client_set_rate(t.c, 512u * 1024u, 10);
    run_transfer(&t, 120000);
    assert_true(t.max_q1 < QUEUE_BOUND);
    assert_true(t.max_q2 < QUEUE_BOUND);
    pu_client_close(t.c, false);
    expect_idle(&e);
    env_free(&e);
}

/* A reader that stops completely: queues stay bounded while it stalls, and everything still
 * arrives once it reads again. */
static bool
stalled_long_enough(void *arg)
{
    struct transfer *t = arg;
    transfer_done(t);
    return false;
}

static void
test_backpressure_stalled_reader(void **state)
{
    struct env e;
    env_apps(&e);
    pu_server *sink = pu_server_start(e.loop, PU_SINK, 0);
    pu_server_set_rate(sink, 1, 3600000); /* one byte, then nothing for an hour */
    env_pair(&e, pu_server_port(sink));
    struct transfer t = {.e = &e, .srv = sink, .upload = true, .len = 32u * 1024u * 1024u};
    t.c = pu_client_start(e.loop, e.port, 3, t.len, true);
    tn_wait(stalled_long_enough, &t, 1500);
    assert_true(t.max_q1 < QUEUE_BOUND);
    assert_true(t.max_q2 < QUEUE_BOUND);
    assert_false(pu_client_sent_all(t.c));
    fprintf(stderr, "stalled: peak queued n1 %zu, n2 %zu\n", t.max_q1, t.max_q2);
    env_free(&e);
}

/* ---- errors and closing ------------------------------------------------------------------ */

/* An outlet to localhost:P whose target listens on [::1] only: 127.0.0.1 is refused, then
 * [::1] is tried (every address of the target in turn, as curl does). */
static void
test_target_on_ipv6_through_localhost(void **state)
{
    struct env e;
    char target[64], route[128];
    env_apps(&e);
    pu_server *echo = pu_server_start_at(e.loop, PU_ECHO, 0, true);
    snprintf(target, sizeof target, "localhost:%u", pu_server_port(echo));
    env_outlet(&e, target, 0);
    snprintf(route, sizeof route, "1#%s => outlet", ockam_listener_address(e.l2));
    env_inlet(&e, route);
    pu_client *c = pu_client_start(e.loop, e.port, 1, 1000, false);
    pu_want w = {c, 1000};
    assert_true(tn_wait(pu_client_got, &w, WAIT_MS));
    assert_int_equal(pu_client_side(c)->bytes_in, 1000);
    assert_true(pu_client_side(c)->sum_in == pu_client_side(c)->sum_out);
    assert_int_equal(pu_server_accepted(echo), 1);
    assert_int_equal(outlet_stats_of(e.outlet).failed, 0);
    pu_client_close(c, false);
    expect_idle(&e);
    env_free(&e);
}

static void
test_target_refused(void **state)
{
    struct env e;
    env_apps(&e);
    env_pair(&e, tn_dead_port());
    pu_client *c = pu_client_start(e.loop, e.port, 1, 10, false);
    assert_true(tn_wait(pu_client_ended, c, WAIT_MS));
    /* Closed cleanly: EOF, not a reset. */
    assert_true(pu_client_side(c)->eof);
    assert_int_equal(pu_client_side(c)->error, 0);
    assert_non_null(strstr(ockam_outlet_last_error(e.outlet), "connection refused"));
    assert_int_equal(outlet_stats_of(e.outlet).failed, 1);
    assert_int_equal(inlet_stats_of(e.inlet).failed, 1);
    assert_non_null(strstr(ockam_inlet_last_error(e.inlet), "outlet could not connect"));
    expect_idle(&e);
    env_free(&e);
}

static void
test_target_unreachable(void **state)
{
    struct env e;
    char route[128];
    env_apps(&e);
    /* A name that never resolves (RFC 6761). (An unroutable address cannot be used: some
     * sandboxes accept every outgoing connection themselves.) */
    env_outlet(&e, "no-such-host.invalid:9", 300);
    snprintf(route, sizeof route, "1#%s => outlet", ockam_listener_address(e.l2));
    env_inlet(&e, route);
    pu_client *c = pu_client_start(e.loop, e.port, 1, 10, false);
    assert_true(tn_wait(pu_client_ended, c, WAIT_MS));
    assert_int_equal(pu_client_side(c)->error, 0);
    const char *err = ockam_outlet_last_error(e.outlet);
    fprintf(stderr, "outlet error: %s (client eof %d error %d closed %d; inlet: %s)\n", err,
        pu_client_side(c)->eof, pu_client_side(c)->error, pu_client_side(c)->closed,
        ockam_inlet_last_error(e.inlet));
    assert_non_null(strstr(err, "cannot connect to no-such-host.invalid:9: "));
    assert_int_equal(inlet_stats_of(e.inlet).failed, 1);
    expect_idle(&e);
    env_free(&e);
}

static bool
inlet_down(void *arg)
{
    return ockam_inlet_status(arg) == OCKAM_INLET_DOWN;
}

static void
test_no_pong(void **state)
{
    struct env e;
    char route[128];
    env_apps(&e);
    e.n2 = tn_node_new();
    e.l2 = tn_tcp_listen(e.n2, OCKAM_WIRE_CURRENT);
    tn_probe *hole = tn_probe_start(e.n2, "hole");
    assert_int_equal(ockam_flow_add_consumer(e.n2, "hole", ockam_listener_flow_id(e.l2)), OCKAM_OK);
    ockam_inlet_config cfg = OCKAM_INLET_CONFIG_INIT;
    snprintf(route, sizeof route, "1#%s => hole", ockam_listener_address(e.l2));
    ockam_route *r = tn_route("%s", route);
    cfg.outlet_route = r;
    cfg.pong_timeout_ms = 200;
    env_inlet_cfg(&e, &cfg);
    ockam_route_free(r);
    pu_client *c = pu_client_start(e.loop, e.port, 1, 10, false);
    assert_true(tn_wait(pu_client_ended, c, WAIT_MS));
    assert_true(tn_wait(inlet_down, e.inlet, WAIT_MS));
    assert_string_equal(ockam_inlet_last_error(e.inlet), "no answer from the outlet within 200 ms");
    ockam_msg *ping = tn_probe_wait(hole, WAIT_MS);
    assert_non_null(ping);
    assert_int_equal(ockam_msg_payload(ping).len, 1);
    assert_int_equal(ockam_msg_payload(ping).ptr[0], 0);
    ockam_msg_free(ping);
    e.outlet = NULL;
    e.n2 = NULL;
    expect_idle(&e);
    env_free(&e);
}

static bool
server_all_closed(void *arg)
{
    return pu_server_open(arg) == 0 && pu_server_accepted(arg) > 0;
}

static void
test_client_reset(void **state)
{
    struct env e;
    pu_server *echo;
    pu_client *c = echo_client(&e, &echo, 1000);
    pu_client_close(c, true);
    assert_true(tn_wait(server_all_closed, echo, WAIT_MS));
    expect_idle(&e);
    env_free(&e);
}

static void
test_target_closes(void **state)
{
    struct env e;
    env_apps(&e);
    pu_server *src = pu_server_start(e.loop, PU_SOURCE, 3u * 1024u * 1024u + 5);
    env_pair(&e, pu_server_port(src));
    pu_client *c = pu_client_start(e.loop, e.port, 0, 0, false);
    assert_true(tn_wait(pu_client_ended, c, WAIT_MS));
    assert_true(pu_client_side(c)->eof);
    assert_true(pu_client_side(c)->bytes_in == 3u * 1024u * 1024u + 5);
    assert_true(pu_client_side(c)->sum_in == pu_server_totals(src).sum_out);
    pu_client_close(c, false);
    expect_idle(&e);
    env_free(&e);
}

/* The transport connection between the nodes closes: both sockets close at once. */
static void
test_transport_closes(void **state)
{
    struct env e;
    pu_server *echo;
    pu_client *c = echo_client(&e, &echo, 1000);
    ockam_conn_close(tn_only_accepted(e.n2));
    assert_true(tn_wait(pu_client_ended, c, WAIT_MS));
    assert_true(tn_wait(server_all_closed, echo, WAIT_MS));
    expect_idle(&e);
    env_free(&e);
}

static void
test_stop_closes_connections(void **state)
{
    struct env e;
    pu_server *echo;
    pu_client *c = echo_client(&e, &echo, 1000);
    size_t n1_workers = e.base1 - 1; /* without the inlet's own worker */
    ockam_inlet_stop(e.inlet);
    e.inlet = NULL;
    assert_true(tn_wait(pu_client_ended, c, WAIT_MS));
    assert_true(tn_wait(server_all_closed, echo, WAIT_MS));
    tn_drain();
    assert_int_equal(portal_workers(e.n1), n1_workers);
    ockam_outlet_stop(e.outlet);
    tn_drain();
    assert_false(ockam_node_has_worker(e.n2, "outlet"));
    env_free(&e);
}

/* Only a Ping, with nothing after the outlet's address, opens a connection to the target. */
static void
test_outlet_accepts_only_ping(void **state)
{
    struct env e;
    env_apps(&e);
    pu_server *echo = pu_server_start(e.loop, PU_ECHO, 0);
    char target[32];
    snprintf(target, sizeof target, "127.0.0.1:%u", pu_server_port(echo));
    env_outlet(&e, target, 0);
    tn_probe *app = tn_probe_start(e.n2, "app");
    assert_int_equal(tn_send(tn_probe_worker(app), "outlet", "\x01", 1), OCKAM_OK);
    assert_int_equal(tn_send(tn_probe_worker(app), "outlet", "\x03\x01x", 3), OCKAM_OK);
    assert_int_equal(tn_send(tn_probe_worker(app), "outlet => app", "\x00", 1), OCKAM_OK);
    assert_int_equal(tn_send(tn_probe_worker(app), "outlet", "", 0), OCKAM_OK);
    tn_drain();
    assert_int_equal(outlet_stats_of(e.outlet).accepted, 0);
    /* A local Ping works (Pong comes back to app). */
    assert_int_equal(tn_send(tn_probe_worker(app), "outlet", "\x00", 1), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m);
    assert_int_equal(ockam_msg_payload(m).len, 1);
    assert_int_equal(ockam_msg_payload(m).ptr[0], 1);
    ockam_msg_free(m);
    assert_int_equal(pu_server_accepted(echo), 1);
    env_free(&e);
}

/* ---- wire bytes (a raw socket plays the outlet's node) ----------------------------------- */

#define OW "0123456789abcdef0123456789abcdef"

static void
hex_text(const char *text, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = text; *p && n + 4 < cap; p++)
        n += (size_t)snprintf(out + n, cap - n, "%02x ", (unsigned char)*p);
}

/* The body of a CURRENT frame [0#to] <- [0#from] with the payload given in hex (< 24 bytes). */
static size_t
frame_body(const char *to, const char *from, const char *payload_hex, uint8_t *out, size_t cap)
{
    char a[128], b[128], hex[1024];
    uint8_t p[64];
    hex_text(to, a, sizeof a);
    hex_text(from, b, sizeof b);
    size_t pn = tn_hex(payload_hex, p, sizeof p);
    snprintf(hex, sizeof hex, "83 81 82 00 58 20 %s 81 82 00 58 20 %s %02zx %s", a, b, 0x40 + pn,
        payload_hex);
    return tn_hex(hex, out, cap);
}

static void
raw_frame(int fd, const char *to, const char *from, const char *payload_hex)
{
    uint8_t frame[256];
    size_t n = frame_body(to, from, payload_hex, frame + 4, sizeof frame - 4);
    frame[0] = frame[1] = 0;
    frame[2] = (uint8_t)(n >> 8);
    frame[3] = (uint8_t)n;
    assert_true(tn_raw_send(fd, frame, n + 4, WAIT_MS));
}

static void
raw_expect_frame(int fd, const char *to, const char *from, const char *payload_hex)
{
    uint8_t want[256], got[256], hdr[4];
    size_t n = frame_body(to, from, payload_hex, want, sizeof want);
    assert_true(tn_raw_recv(fd, hdr, 4, WAIT_MS));
    assert_int_equal(((size_t)hdr[2] << 8) | hdr[3], n);
    assert_true(tn_raw_recv(fd, got, n, WAIT_MS));
    assert_memory_equal(got, want, n);
}

/* The inlet's Pings go to a raw socket (fd, accepted on lfd) that plays the outlet's node;
 * one client (keeping what it receives) is connected to the inlet. */
struct raw_outlet {
    struct env e;
    int lfd, fd;
    pu_client *c;
    char inlet_w[OCKAM_RANDOM_ADDR_LEN + 1]; /* the inlet worker's address, from its Ping */
};

static void
raw_outlet_start(struct raw_outlet *r)
{
    uint16_t port;
    char route[64];
    env_apps(&r->e);
    r->lfd = tn_raw_listen(&port);
    snprintf(route, sizeof route, "1#127.0.0.1:%u => outlet", port);
    env_inlet(&r->e, route);
    r->c = pu_client_start(r->e.loop, r->e.port, 0, 0, false);
    pu_client_keep(r->c, true);
    r->fd = tn_raw_accept(r->lfd, WAIT_MS);
    assert_true(r->fd >= 0);
}

/* Read the connection's first bytes (the transport's version byte, then the Ping) and answer
 * with our version byte and a Pong. */
static void
raw_outlet_pong(struct raw_outlet *r)
{
    uint8_t buf[64];
    assert_true(tn_raw_recv(r->fd, buf, 1 + 4 + 50, WAIT_MS));
    memcpy(r->inlet_w, buf + 1 + 4 + 16, 32);
    r->inlet_w[32] = '\0';
    assert_true(tn_raw_send(r->fd, "\x01", 1, WAIT_MS));
    raw_frame(r->fd, r->inlet_w, OW, "01");
}

/* What the client received is exactly text. */
static void
raw_outlet_client_got(struct raw_outlet *r, const char *text)
{
    size_t len;
    const uint8_t *data = pu_client_data(r->c, &len);
    assert_int_equal(len, strlen(text));
    assert_memory_equal(data, text, len);
}

static void
raw_outlet_end(struct raw_outlet *r)
{
    close(r->fd);
    close(r->lfd);
    expect_idle(&r->e);
    env_free(&r->e);
}

static void
test_wire_bytes(void **state)
{
    struct raw_outlet r;
    uint8_t buf[128];
    raw_outlet_start(&r);
    int fd = r.fd;
    pu_client *c = r.c;
    char *inlet_w = r.inlet_w;

    /* §7.1: Ping to [0#outlet] from [0#<inlet worker>], payload 00 (CBOR 41 00). */
    uint8_t want[32];
    size_t hn = tn_hex(
        "01 00 00 00 32 83 81 82 00 46 6f 75 74 6c 65 74 81 82 00 58 20", want, sizeof want);
    assert_true(tn_raw_recv(fd, buf, hn + 32 + 2, WAIT_MS));
    assert_memory_equal(buf, want, hn);
    memcpy(inlet_w, buf + hn, 32);
    inlet_w[32] = '\0';
    assert_memory_equal(buf + hn + 32, "\x41\x00", 2);

    /* Pong, then Payload "GET" (03 03 47 45 54) and two with counters 0 and 1. */
    assert_true(tn_raw_send(fd, "\x01", 1, WAIT_MS));
    raw_frame(fd, inlet_w, OW, "01");
    raw_frame(fd, inlet_w, OW, "03 03 47 45 54");
    raw_frame(fd, inlet_w, OW, "03 01 41 01 00 00");
    raw_frame(fd, inlet_w, OW, "03 01 42 01 01 00 ");
    pu_want w = {c, 5};
    assert_true(tn_wait(pu_client_got, &w, WAIT_MS));
    raw_outlet_client_got(&r, "GETAB");

    /* Right after Pong: Hello of the half-close extension (an empty Payload). Then the
     * client's bytes: Payload to the Pong's return route, never with a counter. */
    raw_expect_frame(fd, OW, inlet_w, "03 00");
    pu_client_write(c, "xyz", 3);
    raw_expect_frame(fd, OW, inlet_w, "03 03 78 79 7a");

    /* A counter out of order: the inlet sends Disconnect and closes the client. */
    raw_frame(fd, inlet_w, OW, "03 01 43 01 05 00");
    raw_expect_frame(fd, OW, inlet_w, "02");
    assert_true(tn_wait(pu_client_ended, c, WAIT_MS));
    raw_outlet_client_got(&r, "GETAB");
    raw_outlet_end(&r);
}

/* Disconnect from the outlet side while the client still has bytes coming: they are written
 * first, then the client sees EOF. */
static void
test_wire_disconnect_drains(void **state)
{
    struct raw_outlet r;
    raw_outlet_start(&r);
    raw_outlet_pong(&r);
    int fd = r.fd;
    pu_client *c = r.c;
    const char *inlet_w = r.inlet_w;
    raw_frame(fd, inlet_w, OW, "03 02 68 69");
    raw_frame(fd, inlet_w, OW, "02");
    assert_true(tn_wait(pu_client_ended, c, WAIT_MS));
    assert_true(pu_client_side(c)->eof);
    raw_outlet_client_got(&r, "hi");
    pu_client_close(c, false);
    raw_outlet_end(&r);
}

/* The half-close extension on the wire: the outlet says Hello (03 00), sends "hi", then Fin
 * (03 00 00): the client reads "hi" and EOF, and can still send; its own EOF then ends the
 * connection with Disconnect. */
static void
test_wire_half_close(void **state)
{
    struct raw_outlet r;
    raw_outlet_start(&r);
    raw_outlet_pong(&r);
    int fd = r.fd;
    pu_client *c = r.c;
    const char *inlet_w = r.inlet_w;
    raw_expect_frame(fd, OW, inlet_w, "03 00");
    raw_frame(fd, inlet_w, OW, "03 00");
    raw_frame(fd, inlet_w, OW, "03 02 68 69");
    raw_frame(fd, inlet_w, OW, "03 00 00");
    assert_true(tn_wait(pu_client_ended, c, WAIT_MS));
    assert_true(pu_client_side(c)->eof);
    raw_outlet_client_got(&r, "hi");
    /* Half-closed only: what the client sends still goes through. */
    pu_client_write(c, "ok", 2);
    raw_expect_frame(fd, OW, inlet_w, "03 02 6f 6b");
    pu_client_close(c, false);
    raw_expect_frame(fd, OW, inlet_w, "02");
    raw_outlet_end(&r);
}

/* ---- through a relay, on one node, probes ----------------------------------------------- */

static void
test_through_relay(void **state)
{
    struct env e;
    char target[32], route[128];
    env_apps(&e);
    pu_server *echo = pu_server_start(e.loop, PU_ECHO, 0);
    /* n2: the relay node. */
    ockam_node *relay = tn_node_new();
    ockam_listener *lr = tn_tcp_listen(relay, OCKAM_WIRE_CURRENT);
    ockam_flow_id lid = ockam_listener_flow_id(lr);
    ockam_relay_service_config rcfg = OCKAM_RELAY_SERVICE_CONFIG_INIT;
    rcfg.allow = &lid;
    rcfg.allow_count = 1;
    assert_int_equal(ockam_relay_service_start(relay, &rcfg, NULL), OCKAM_OK);
    /* n3: no listener; outlet reachable through its relay. */
    e.n2 = tn_node_new();
    ockam_flow_id expose = ockam_flow_id_new(e.n2);
    snprintf(target, sizeof target, "127.0.0.1:%u", pu_server_port(echo));
    outlet_on(&e, e.n2, target, 0);
    assert_int_equal(ockam_flow_add_consumer(e.n2, "outlet", expose), OCKAM_OK);
    ockam_route *to = tn_route("1#%s", ockam_listener_address(lr));
    ockam_relay_client_config ccfg = OCKAM_RELAY_CLIENT_CONFIG_INIT;
    ccfg.to = to;
    ccfg.name = "n3";
    ccfg.expose = expose;
    ockam_relay_client *rc;
    assert_int_equal(ockam_relay_client_start(e.n2, &ccfg, &rc), OCKAM_OK);
    ockam_route_free(to);
    assert_true(tn_wait(pu_relay_up, rc, WAIT_MS));
    /* n1: the inlet. */
    snprintf(route, sizeof route, "1#%s => forward_to_n3 => outlet", ockam_listener_address(lr));
    env_inlet(&e, route);

    pu_client *c = pu_client_start(e.loop, e.port, 5, 4u * 1024u * 1024u, false);
    pu_want w = {c, 4u * 1024u * 1024u};
    assert_true(tn_wait(pu_client_got, &w, 60000));
    assert_true(pu_client_side(c)->sum_in == pu_client_side(c)->sum_out);
    pu_client_close(c, false);
    expect_idle(&e);
    env_free(&e);
}

/* Inlet and outlet on one node: the receiving side pauses its peer directly. */
static void
test_same_node(void **state)
{
    struct env e;
    char target[32];
    env_apps(&e);
    pu_server *sink = pu_server_start(e.loop, PU_SINK, 0);
    pu_server_set_rate(sink, 1024u * 1024u, 10);
    e.n1 = tn_node_new();
    snprintf(target, sizeof target, "127.0.0.1:%u", pu_server_port(sink));
    outlet_on(&e, e.n1, target, 0);
    env_inlet(&e, "outlet");
    e.n2 = e.n1;
    e.base2 = e.base1;
    struct transfer t = {.e = &e, .srv = sink, .upload = true, .len = 16u * 1024u * 1024u};
    t.c = pu_client_start(e.loop, e.port, 4, t.len, true);
    run_transfer(&t, 60000);
    assert_true(t.max_q1 < QUEUE_BOUND);
    expect_idle(&e);
    env_free(&e);
}

static void
test_inlet_probe(void **state)
{
    struct env e;
    char route[128], probe[128];
    env_apps(&e);
    env_outlet(&e, "127.0.0.1:1", 0);
    assert_int_equal(ockam_echo_start(e.n2, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(e.n2, "echo", ockam_listener_flow_id(e.l2)), OCKAM_OK);
    snprintf(route, sizeof route, "1#%s => outlet", ockam_listener_address(e.l2));
    snprintf(probe, sizeof probe, "1#%s => echo", ockam_listener_address(e.l2));
    ockam_inlet_config cfg = OCKAM_INLET_CONFIG_INIT;
    ockam_route *r = tn_route("%s", route), *p = tn_route("%s", probe);
    cfg.outlet_route = r;
    cfg.ping_route = p;
    cfg.ping_interval_ms = 50;
    cfg.max_failures = 2;
    env_inlet_cfg(&e, &cfg);
    ockam_route_free(r);
    ockam_route_free(p);
    assert_int_equal(ockam_inlet_status(e.inlet), OCKAM_INLET_DOWN);
    assert_true(tn_wait(pu_inlet_up, e.inlet, WAIT_MS));
    assert_int_equal(ockam_worker_stop_at(e.n2, "echo"), OCKAM_OK);
    assert_true(tn_wait(inlet_down, e.inlet, WAIT_MS));
    assert_non_null(strstr(ockam_inlet_last_error(e.inlet), "unanswered"));
    assert_int_equal(ockam_echo_start(e.n2, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(e.n2, "echo", ockam_listener_flow_id(e.l2)), OCKAM_OK);
    assert_true(tn_wait(pu_inlet_up, e.inlet, WAIT_MS));
    env_free(&e);
}

static void
test_bad_config(void **state)
{
    ockam_node *n = tn_node_new();
    ockam_outlet_config o = OCKAM_OUTLET_CONFIG_INIT;
    assert_int_equal(ockam_outlet_start(n, &o, NULL), OCKAM_EINVAL);
    o.target = "nonsense";
    assert_int_equal(ockam_outlet_start(n, &o, NULL), OCKAM_EINVAL);
    o.target = "127.0.0.1:5";
    assert_int_equal(ockam_outlet_start(n, &o, NULL), OCKAM_OK);
    assert_int_equal(ockam_outlet_start(n, &o, NULL), OCKAM_EEXIST);
    ockam_inlet_config i = OCKAM_INLET_CONFIG_INIT;
    ockam_route *r = tn_route("outlet");
    i.outlet_route = r;
    i.bind = "nonsense";
    assert_int_equal(ockam_inlet_start(n, &i, NULL), OCKAM_EADDRINVAL);
    i.bind = "127.0.0.1:0";
    ockam_inlet *in;
    assert_int_equal(ockam_inlet_start(n, &i, &in), OCKAM_OK);
    char taken[64];
    snprintf(taken, sizeof taken, "%s", ockam_inlet_bind_address(in));
    i.bind = taken;
    assert_int_equal(ockam_inlet_start(n, &i, NULL), OCKAM_EADDRINUSE);
    ockam_route_free(r);
    tn_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_echo_one_hop, pu_teardown),
        cmocka_unit_test_teardown(test_hundred_clients, pu_teardown),
        cmocka_unit_test_teardown(test_large_upload, pu_teardown),
        cmocka_unit_test_teardown(test_large_download, pu_teardown),
        cmocka_unit_test_teardown(test_twenty_downloads, pu_teardown),
        cmocka_unit_test_teardown(test_backpressure_slow_server, pu_teardown),
        cmocka_unit_test_teardown(test_backpressure_slow_client, pu_teardown),
        cmocka_unit_test_teardown(test_backpressure_stalled_reader, pu_teardown),
        cmocka_unit_test_teardown(test_target_on_ipv6_through_localhost, pu_teardown),
        cmocka_unit_test_teardown(test_target_refused, pu_teardown),
        cmocka_unit_test_teardown(test_target_unreachable, pu_teardown),
        cmocka_unit_test_teardown(test_no_pong, pu_teardown),
        cmocka_unit_test_teardown(test_client_reset, pu_teardown),
        cmocka_unit_test_teardown(test_target_closes, pu_teardown),
        cmocka_unit_test_teardown(test_transport_closes, pu_teardown),
        cmocka_unit_test_teardown(test_stop_closes_connections, pu_teardown),
        cmocka_unit_test_teardown(test_outlet_accepts_only_ping, pu_teardown),
        cmocka_unit_test_teardown(test_wire_bytes, pu_teardown),
        cmocka_unit_test_teardown(test_wire_disconnect_drains, pu_teardown),
        cmocka_unit_test_teardown(test_wire_half_close, pu_teardown),
        cmocka_unit_test_teardown(test_through_relay, pu_teardown),
        cmocka_unit_test_teardown(test_same_node, pu_teardown),
        cmocka_unit_test_teardown(test_inlet_probe, pu_teardown),
        cmocka_unit_test_teardown(test_bad_config, pu_teardown),
    };
    /* PORTAL_TEST=name runs the tests whose names match (repeated runs of one by hand). */
    if (getenv("PORTAL_TEST"))
        cmocka_set_test_filter(getenv("PORTAL_TEST"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
