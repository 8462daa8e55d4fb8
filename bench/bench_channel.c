/* Secure-channel roles for the benchmark suite (protocol with the runner: bench_util.h).
 *
 *   sink                          listen (TCP, CURRENT); a secure-channel listener "api" and a
 *                                 worker "sink" that counts messages until the end marker,
 *                                 reachable both plainly and out of the listener's channels
 *   source port= size= secs= sc=0|1
 *                                 connect; sc=1: open a channel through the connection and
 *                                 send to [encryptor, sink]; sc=0: the same route without a
 *                                 channel, [connection, sink]. Throttled on the connection's
 *                                 write queue like bench_ockam's source
 *   hs-server                     listen; a secure-channel listener "api"
 *   hs-client port= n=            n handshakes one after the other through one connection
 *                                 (each channel is closed after it opened); reports
 *                                 handshakes/s and the p50/p99 latency of one handshake
 *   idle n=                       open n channels between two identities of one node (both
 *                                 ends in this process) and report the RSS they take
 * Identities live in an in-memory vault made at start-up. */
#include "bench_util.h"
#include "ockam/ockam.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_MARK (256u * 1024u)

static ockam_node *node;
static ockam_vault *vault;

static void
must(ockam_err err, const char *what)
{
    if (err != OCKAM_OK)
        bench_die("%s: %s", what, ockam_strerror(err));
}

static ockam_identity *
new_identity(void)
{
    ockam_identity *id;
    if (!vault)
        must(ockam_vault_memory_new(&vault), "vault");
    must(ockam_identity_create(vault, (uint64_t)time(NULL) - 60, OCKAM_IDENTITY_DEFAULT_TTL_S, &id),
        "identity");
    return id;
}

static void
new_node(void)
{
    node = ockam_node_new();
    if (!node)
        bench_die("ockam_node_new failed");
    must(ockam_tcp_init(node, NULL), "ockam_tcp_init");
}

/* Listen; the TCP listener's traffic reaches "api" (and "sink" when asked). */
static int
listen_with_channels(ockam_identity *id, bool sink, ockam_sc_listener **out)
{
    ockam_listener *l;
    must(ockam_tcp_listen(node, "127.0.0.1:0", NULL, &l), "ockam_tcp_listen");
    must(ockam_sc_listen(node, id, "api", NULL, out), "ockam_sc_listen");
    must(ockam_flow_add_consumer(node, "api", ockam_listener_flow_id(l)), "flow");
    if (sink) {
        must(ockam_flow_add_consumer(node, "sink", ockam_listener_flow_id(l)), "flow");
        must(ockam_flow_add_consumer(node, "sink", ockam_sc_listener_flow_id(*out)), "flow");
    }
    const char *addr = ockam_listener_address(l);
    return atoi(strrchr(addr, ':') + 1);
}

struct connecting {
    ockam_conn *conn;
    ockam_err status;
    bool done;
};

static void
on_connected(ockam_conn *conn, ockam_err status, void *user)
{
    struct connecting *c = user;
    c->conn = conn;
    c->status = status;
    c->done = true;
}

static ockam_conn *
connect_port(long port)
{
    char peer[32];
    struct connecting c = {0};
    snprintf(peer, sizeof peer, "127.0.0.1:%ld", port);
    must(ockam_tcp_connect(node, peer, NULL, on_connected, &c), "ockam_tcp_connect");
    while (!c.done)
        ockam_node_run_once(node);
    must(c.status, "connect");
    return c.conn;
}

static ockam_route *
route_of(const char *first, const char *second)
{
    char text[128];
    ockam_route *r = ockam_route_new();
    snprintf(text, sizeof text, "%s => %s", first, second);
    if (!r || ockam_route_parse(r, text) != OCKAM_OK)
        bench_die("bad route %s", text);
    return r;
}

static void
ignore_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_msg_free(msg);
}

/* ---- throughput ------------------------------------------------------------------------ */

struct sink {
    uint64_t msgs, bytes, t0;
};

static void
sink_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct sink *s = user;
    size_t n = ockam_msg_payload(msg).len;
    ockam_msg_free(msg);
    if (s->t0 == 0)
        s->t0 = bench_now_ns();
    if (n == BENCH_END_SIZE) {
        bench_report_thr(s->msgs, s->bytes, bench_now_ns() - s->t0);
        ockam_node_stop(node);
        return;
    }
    s->msgs++;
    s->bytes += n;
}

static int
role_sink(int argc, char **argv)
{
    struct sink s = {0};
    ockam_sc_listener *sl;
    new_node();
    ockam_identity *id = new_identity();
    ockam_worker_opts opts = {.on_message = sink_on_message, .user = &s};
    must(ockam_worker_start(node, "sink", &opts, NULL), "worker");
    bench_ready(listen_with_channels(id, true, &sl));
    ockam_node_run(node);
    ockam_node_free(node);
    ockam_identity_free(id);
    ockam_vault_free(vault);
    return 0;
}

static void
on_conn_closed(ockam_conn *conn, ockam_err reason, void *user)
{
    *(bool *)user = true;
}

static size_t
queued(ockam_conn *conn)
{
    struct ockam_conn_stats s;
    ockam_conn_stats(conn, &s);
    return s.queued_bytes;
}

static int
role_source(int argc, char **argv)
{
    size_t size = (size_t)bench_arg_long(argc, argv, "size", 256);
    double secs = bench_arg_double(argc, argv, "secs", 0.5);
    long port = bench_arg_long(argc, argv, "port", 0);
    bool sc_on = bench_arg_long(argc, argv, "sc", 1) != 0;
    uint8_t *payload = bench_payload(size);
    ockam_worker *app;
    ockam_sc *sc = NULL;
    bool closed = false;

    new_node();
    ockam_identity *id = new_identity();
    ockam_worker_opts opts = {.on_message = ignore_message};
    must(ockam_worker_start(node, "app", &opts, &app), "worker");
    ockam_conn *conn = connect_port(port);
    ockam_route *route;
    if (sc_on) {
        ockam_route *to = route_of(ockam_conn_address(conn), "api");
        must(ockam_sc_create_sync(node, id, to, NULL, &sc), "ockam_sc_create_sync");
        ockam_route_free(to);
        route = route_of(ockam_sc_encryptor(sc), "sink");
    } else {
        route = route_of(ockam_conn_address(conn), "sink");
    }
    size_t burst = QUEUE_MARK / (size ? size : 1);
    burst = burst < 1 ? 1 : burst > 64 ? 64 : burst;
    uint64_t end = bench_now_ns() + (uint64_t)(secs * 1e9);
    do {
        for (size_t i = 0; i < burst; i++)
            must(ockam_send_to(app, route, payload, size), "send");
        /* Through a channel the messages wait in the encryptor's mailbox until the loop runs
         * it: one turn encrypts the burst into the connection's queue. */
        if (sc_on)
            ockam_node_run_nowait(node);
        if (queued(conn) >= QUEUE_MARK) {
            ockam_node_run_nowait(node);
            while (queued(conn) >= QUEUE_MARK)
                ockam_node_run_once(node);
        }
    } while (bench_now_ns() < end);
    must(ockam_send_to(app, route, "E", BENCH_END_SIZE), "send");
    ockam_node_run_nowait(node);
    /* The sink may already have stopped (and the connection gone) after the end marker. */
    if (ockam_conn_on_close(conn, on_conn_closed, &closed) == OCKAM_OK) {
        ockam_conn_close(conn);
        while (!closed)
            ockam_node_run_once(node);
    }
    ockam_route_free(route);
    ockam_node_free(node);
    ockam_identity_free(id);
    ockam_vault_free(vault);
    return 0;
}

/* ---- handshakes ------------------------------------------------------------------------- */

static int
role_hs_server(int argc, char **argv)
{
    ockam_sc_listener *sl;
    new_node();
    ockam_identity *id = new_identity();
    bench_ready(listen_with_channels(id, false, &sl));
    ockam_node_run(node); /* until killed */
    return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int
role_hs_client(int argc, char **argv)
{
    long port = bench_arg_long(argc, argv, "port", 0);
    long n = bench_arg_long(argc, argv, "n", 1000);
    struct bench_lat lat;
    new_node();
    ockam_identity *id = new_identity();
    ockam_conn *conn = connect_port(port);
    ockam_route *to = route_of(ockam_conn_address(conn), "api");
    bench_lat_init(&lat, (size_t)n);
    uint64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        ockam_sc *sc;
        uint64_t s = bench_now_ns();
        must(ockam_sc_create_sync(node, id, to, NULL, &sc), "ockam_sc_create_sync");
        bench_lat_add(&lat, bench_now_ns() - s);
        ockam_sc_close(sc);
    }
    double secs = (double)(bench_now_ns() - t0) / 1e9;
    qsort(lat.ns, lat.n, sizeof lat.ns[0], cmp_u64);
    printf("result n=%ld hs_s=%.0f p50_us=%.1f p99_us=%.1f\n", n, (double)n / secs,
        (double)lat.ns[lat.n / 2] / 1e3, (double)lat.ns[lat.n * 99 / 100] / 1e3);
    fflush(stdout);
    free(lat.ns);
    ockam_route_free(to);
    ockam_node_free(node);
    ockam_identity_free(id);
    ockam_vault_free(vault);
    return 0;
}

/* ---- memory of idle channels -------------------------------------------------------------- */

static int
role_idle(int argc, char **argv)
{
    long n = bench_arg_long(argc, argv, "n", 10000);
    ockam_sc_listener *sl;
    node = ockam_node_new();
    ockam_identity *a = new_identity(), *b = new_identity();
    ockam_sc_listener_opts lo = {.max_half_open = (uint32_t)n};
    must(ockam_sc_listen(node, b, "api", &lo, &sl), "ockam_sc_listen");
    ockam_route *to = route_of("api", "api");
    ockam_route_pop_back(to);
    /* Warm up the allocator and the caches with one channel before measuring. */
    ockam_sc *sc;
    must(ockam_sc_create_sync(node, a, to, NULL, &sc), "warm-up");
    long before = bench_rss_bytes();
    for (long i = 0; i < n; i++)
        must(ockam_sc_create_sync(node, a, to, NULL, &sc), "ockam_sc_create_sync");
    while (ockam_node_run_nowait(node) && ockam_sc_listener_half_open(sl) > 0)
        ;
    long after = bench_rss_bytes();
    printf("result n=%ld rss_mib=%.1f delta_mib=%.1f bytes_per_channel=%ld bytes_per_end=%ld\n", n,
        (double)after / 1048576.0, (double)(after - before) / 1048576.0, (after - before) / n,
        (after - before) / n / 2);
    fflush(stdout);
    ockam_route_free(to);
    ockam_node_free(node);
    ockam_identity_free(a);
    ockam_identity_free(b);
    ockam_vault_free(vault);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 2)
        bench_die("usage: bench_channel sink|source|hs-server|hs-client|idle [key=value...]");
    if (!strcmp(argv[1], "sink"))
        return role_sink(argc, argv);
    if (!strcmp(argv[1], "source"))
        return role_source(argc, argv);
    if (!strcmp(argv[1], "hs-server"))
        return role_hs_server(argc, argv);
    if (!strcmp(argv[1], "hs-client"))
        return role_hs_client(argc, argv);
    if (!strcmp(argv[1], "idle"))
        return role_idle(argc, argv);
    bench_die("unknown role %s", argv[1]);
}
