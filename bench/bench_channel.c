/* Secure-channel roles for the benchmark suite (protocol with the runner: bench_util.h).
 *
 *   sink                          listen (TCP, CURRENT); a secure-channel listener "api" and a
 *                                 worker "sink" that counts messages until the end marker,
 *                                 reachable both plainly and out of the listener's channels
 *   source port= size= secs= sc=0|1 [n=]
 *                                 connect; sc=1: open a channel through the connection and
 *                                 send to [encryptor, sink]; sc=0: the same route without a
 *                                 channel, [connection, sink]. Throttled on the connection's
 *                                 write queue like bench_ockam's source. n > 0: exactly n
 *                                 messages instead of `secs` seconds (instruction counts under
 *                                 callgrind: bench/sc_instr.sh)
 *   hs-server                     listen; a secure-channel listener "api"
 *   hs-client port= n=            n handshakes one after the other through one connection
 *                                 (each channel is closed after it opened); reports
 *                                 handshakes/s and the p50/p99 latency of one handshake
 *   idle n=                       open n channels between two identities of one node (both
 *                                 ends in this process) and report the RSS they take
 * Identities live in an in-memory vault made at start-up. */
#include "bench_node.h"
#include "bench_util.h"
#include "ockam/ockam.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static ockam_node *node;
static ockam_vault *vault;

static ockam_identity *
new_identity(void)
{
    ockam_identity *id;
    if (!vault)
        bench_must(ockam_vault_memory_new(&vault), "vault");
    bench_must(
        ockam_identity_create(vault, (uint64_t)time(NULL) - 60, OCKAM_IDENTITY_DEFAULT_TTL_S, &id),
        "identity");
    return id;
}

static void
new_node(void)
{
    node = ockam_node_new();
    if (!node)
        bench_die("ockam_node_new failed");
    bench_must(ockam_tcp_init(node, NULL), "ockam_tcp_init");
}

/* Listen; the TCP listener's traffic reaches "api" (and "sink" when asked). */
static int
listen_with_channels(ockam_identity *id, bool sink, ockam_sc_listener **out)
{
    ockam_listener *l;
    bench_must(ockam_tcp_listen(node, "127.0.0.1:0", NULL, &l), "ockam_tcp_listen");
    bench_must(ockam_sc_listen(node, id, "api", NULL, out), "ockam_sc_listen");
    bench_must(ockam_flow_add_consumer(node, "api", ockam_listener_flow_id(l)), "flow");
    if (sink) {
        bench_must(ockam_flow_add_consumer(node, "sink", ockam_listener_flow_id(l)), "flow");
        bench_must(ockam_flow_add_consumer(node, "sink", ockam_sc_listener_flow_id(*out)), "flow");
    }
    return bench_port_of(ockam_listener_address(l));
}

/* ---- throughput ------------------------------------------------------------------------ */

static int
role_sink(int argc, char **argv)
{
    struct bench_sink s = {0};
    ockam_sc_listener *sl;
    new_node();
    s.node = node;
    ockam_identity *id = new_identity();
    ockam_worker_opts opts = {.on_message = bench_sink_on_message, .user = &s};
    bench_must(ockam_worker_start(node, "sink", &opts, NULL), "worker");
    bench_ready(listen_with_channels(id, true, &sl));
    ockam_node_run(node);
    ockam_node_free(node);
    ockam_identity_free(id);
    ockam_vault_free(vault);
    return 0;
}

static int
role_source(int argc, char **argv)
{
    size_t size = (size_t)bench_arg_long(argc, argv, "size", 256);
    double secs = bench_arg_double(argc, argv, "secs", 0.5);
    long port = bench_arg_long(argc, argv, "port", 0);
    bool sc_on = bench_arg_long(argc, argv, "sc", 1) != 0;
    long count = bench_arg_long(argc, argv, "n", 0);
    uint8_t *payload = bench_payload(size);
    ockam_worker *app;
    ockam_sc *sc = NULL;

    new_node();
    ockam_identity *id = new_identity();
    ockam_worker_opts opts = {.on_message = bench_ignore_message};
    bench_must(ockam_worker_start(node, "app", &opts, &app), "worker");
    ockam_conn *conn = bench_connect(node, port);
    ockam_route *route;
    if (sc_on) {
        ockam_route *to = bench_route("%s => api", ockam_conn_address(conn));
        bench_must(ockam_sc_create_sync(node, id, to, NULL, &sc), "ockam_sc_create_sync");
        ockam_route_free(to);
        route = bench_route("%s => sink", ockam_sc_encryptor(sc));
    } else {
        route = bench_route("%s => sink", ockam_conn_address(conn));
    }
    bench_source_run(node, app, conn, route, payload, size, secs, count, sc_on);
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
    ockam_conn *conn = bench_connect(node, port);
    ockam_route *to = bench_route("%s => api", ockam_conn_address(conn));
    bench_lat_init(&lat, (size_t)n);
    uint64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        ockam_sc *sc;
        uint64_t s = bench_now_ns();
        bench_must(ockam_sc_create_sync(node, id, to, NULL, &sc), "ockam_sc_create_sync");
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
    bench_must(ockam_sc_listen(node, b, "api", &lo, &sl), "ockam_sc_listen");
    ockam_route *to = bench_route("api");
    /* Warm up the allocator and the caches with one channel before measuring. */
    ockam_sc *sc;
    bench_must(ockam_sc_create_sync(node, a, to, NULL, &sc), "warm-up");
    long before = bench_rss_bytes();
    for (long i = 0; i < n; i++)
        bench_must(ockam_sc_create_sync(node, a, to, NULL, &sc), "ockam_sc_create_sync");
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
