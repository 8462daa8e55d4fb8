/* libockam roles for the benchmark suite: every process is one node speaking the CURRENT TCP
 * profile, with flow control set up as an operator would (a listener's traffic reaches only
 * the workers made consumers of its flow id).
 *
 * Roles (key=value arguments; see bench_util.h for the protocol with the runner):
 *   sink                          listen; worker "sink" counts messages until the end marker
 *   source port= size= secs= [via=]
 *                                 send to [1#127.0.0.1:port, sink] (or through the hop node
 *                                 listening on `via`) for `secs`, then the end marker. The
 *                                 sender throttles on its connection's write queue
 *                                 (ockam_conn_stats: queued_bytes)
 *   echo                          listen; the built-in echo service
 *   ping port= size= secs= [via=] one request at a time to echo; reports p50/p99
 *   hop to=                       connect to 127.0.0.1:to, then listen; the built-in hop
 *                                 worker relays (n1 -> n2 hop -> n3)
 *   conns-server n=               listen; on a line on stdin, wait until n connections are
 *                                 up and report the node's RSS
 *   conns-client port= n=         open n connections, report RSS, stay up until stdin ends */
#include "bench_node.h"
#include "bench_util.h"
#include "ockam/ockam.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ockam_node *node;

static void
new_node(const char *allowed)
{
    static const char *allow[1];
    ockam_tcp_config cfg = OCKAM_TCP_CONFIG_INIT;
    node = ockam_node_new();
    if (!node)
        bench_die("ockam_node_new failed");
    if (allowed) {
        allow[0] = allowed;
        cfg.allowed_outgoing = allow;
        cfg.allowed_outgoing_count = 1;
    }
    bench_must(ockam_tcp_init(node, &cfg), "ockam_tcp_init");
}

/* Listen on 127.0.0.1:0 and let the workers named in `consumers` receive its traffic. */
static int
listen_any(const char *const *consumers, size_t n)
{
    ockam_listener *l;
    bench_must(ockam_tcp_listen(node, "127.0.0.1:0", NULL, &l), "ockam_tcp_listen");
    for (size_t i = 0; i < n; i++)
        bench_must(ockam_flow_add_consumer(node, consumers[i], ockam_listener_flow_id(l)), "flow");
    return bench_port_of(ockam_listener_address(l));
}

/* [1#127.0.0.1:port, target], or [1#127.0.0.1:via, hop, 1#127.0.0.1:port, target]. */
static ockam_route *
make_route(long via, long port, const char *target)
{
    if (via)
        return bench_route("1#127.0.0.1:%ld => hop => 1#127.0.0.1:%ld => %s", via, port, target);
    return bench_route("1#127.0.0.1:%ld => %s", port, target);
}

/* ---- one-way throughput ----------------------------------------------------------------- */

static int
role_sink(int argc, char **argv)
{
    static const char *const consumers[] = {"sink"};
    struct bench_sink s = {0};
    new_node(NULL);
    s.node = node;
    ockam_worker_opts opts = {.on_message = bench_sink_on_message, .user = &s};
    bench_must(ockam_worker_start(node, "sink", &opts, NULL), "worker");
    bench_ready(listen_any(consumers, 1));
    ockam_node_run(node);
    ockam_node_free(node);
    return 0;
}

static int
role_source(int argc, char **argv)
{
    size_t size = (size_t)bench_arg_long(argc, argv, "size", 256);
    double secs = bench_arg_double(argc, argv, "secs", 0.5);
    long port = bench_arg_long(argc, argv, "port", 0);
    long via = bench_arg_long(argc, argv, "via", 0);
    uint8_t *payload = bench_payload(size);
    ockam_worker *app;

    new_node(NULL);
    ockam_worker_opts opts = {.on_message = bench_ignore_message};
    bench_must(ockam_worker_start(node, "app", &opts, &app), "worker");
    ockam_conn *conn = bench_connect(node, via ? via : port);
    ockam_route *route = make_route(via, port, "sink");
    bench_source_run(node, app, conn, route, payload, size, secs, 0, false);
    ockam_route_free(route);
    ockam_node_free(node);
    return 0;
}

/* ---- request/reply ------------------------------------------------------------------------ */

static int
role_echo(int argc, char **argv)
{
    static const char *const consumers[] = {"echo"};
    new_node(NULL);
    bench_must(ockam_echo_start(node, "echo", NULL), "echo");
    bench_ready(listen_any(consumers, 1));
    ockam_node_run(node);
    return 0;
}

struct pinger {
    ockam_route *route;
    uint8_t *payload;
    size_t size;
    uint64_t t, end;
    long count;
    struct bench_lat lat;
};

static void
ping_send(ockam_worker *w, struct pinger *p)
{
    p->t = bench_now_ns();
    bench_must(ockam_send_to(w, p->route, p->payload, p->size), "send");
}

static void
ping_on_reply(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct pinger *p = user;
    uint64_t now = bench_now_ns();
    size_t n = ockam_msg_payload(msg).len;
    ockam_msg_free(msg);
    if (n != p->size)
        bench_die("ping: bad reply");
    if (p->count++ >= 200 && !bench_lat_add(&p->lat, now - p->t)) {
        ockam_node_stop(node);
        return;
    }
    if (now >= p->end && p->lat.n >= 1000) {
        ockam_node_stop(node);
        return;
    }
    ping_send(w, p);
}

static int
role_ping(int argc, char **argv)
{
    struct pinger p = {.size = (size_t)bench_arg_long(argc, argv, "size", 16)};
    double secs = bench_arg_double(argc, argv, "secs", 0.3);
    long port = bench_arg_long(argc, argv, "port", 0);
    long via = bench_arg_long(argc, argv, "via", 0);
    ockam_worker *app;

    p.payload = bench_payload(p.size);
    bench_lat_init(&p.lat, 1000000);
    new_node(NULL);
    ockam_worker_opts opts = {.on_message = ping_on_reply, .user = &p};
    bench_must(ockam_worker_start(node, "app", &opts, &app), "worker");
    bench_connect(node, via ? via : port);
    p.route = make_route(via, port, "echo");
    p.end = bench_now_ns() + (uint64_t)(secs * 1e9);
    ping_send(app, &p);
    ockam_node_run(node);
    bench_lat_report(&p.lat);
    ockam_route_free(p.route);
    ockam_node_free(node);
    return 0;
}

/* ---- relay node ------------------------------------------------------------------------- */

static int
role_hop(int argc, char **argv)
{
    static const char *const consumers[] = {"hop"};
    char downstream[32];
    long to = bench_arg_long(argc, argv, "to", 0);
    snprintf(downstream, sizeof downstream, "127.0.0.1:%ld", to);
    new_node(downstream); /* messages from n1 may make this node reach n3 */
    bench_must(ockam_hop_start(node, "hop", NULL), "hop");
    bench_connect(node, to);
    bench_ready(listen_any(consumers, 1));
    ockam_node_run(node);
    return 0;
}

/* ---- memory: idle connections ------------------------------------------------------------ */

static size_t live_conns;

static void
count_conn(ockam_conn *conn, void *arg)
{
    live_conns++;
}

static size_t
conn_count(void)
{
    live_conns = 0;
    ockam_conn_each(node, count_conn, NULL);
    return live_conns;
}

struct conns_server {
    long n;
    long rss_before;
};

/* Posted from the stdin thread once the client has all its connections up: they are all
 * accepted within a few loop turns; check again after each turn until then. */
static void
measure_when_accepted(void *arg)
{
    struct conns_server *s = arg;
    if ((long)conn_count() < s->n) {
        ockam_node_post(node, measure_when_accepted, s);
        return;
    }
    long rss = bench_rss_bytes();
    printf("result conns=%ld rss_mib=%.1f delta_mib=%.1f bytes_per_conn=%.0f\n", s->n,
        (double)rss / 1048576.0, (double)(rss - s->rss_before) / 1048576.0,
        (double)(rss - s->rss_before) / (double)s->n);
    fflush(stdout);
    ockam_node_stop(node);
}

static void *
wait_measure_line(void *arg)
{
    char line[64];
    if (fgets(line, sizeof line, stdin))
        ockam_node_post(node, measure_when_accepted, arg);
    else
        ockam_node_stop(node);
    return NULL;
}

static void *
wait_stdin_eof(void *arg)
{
    char line[64];
    while (fgets(line, sizeof line, stdin)) { }
    ockam_node_stop(node);
    return NULL;
}

static int
role_conns_server(int argc, char **argv)
{
    static const char *const consumers[] = {"sink"};
    struct conns_server s = {.n = bench_arg_long(argc, argv, "n", 10000)};
    pthread_t th;
    if (bench_raise_nofile(s.n + 64) < s.n + 16)
        bench_die("RLIMIT_NOFILE too low for %ld connections", s.n);
    new_node(NULL);
    ockam_worker_opts opts = {.on_message = bench_ignore_message};
    bench_must(ockam_worker_start(node, "sink", &opts, NULL), "worker");
    s.rss_before = bench_rss_bytes();
    bench_ready(listen_any(consumers, 1));
    pthread_create(&th, NULL, wait_measure_line, &s);
    ockam_node_run(node);
    pthread_join(th, NULL);
    return 0;
}

struct conns_client {
    long want, up, failed;
};

static void
on_client_connected(ockam_conn *conn, ockam_err status, void *user)
{
    struct conns_client *c = user;
    if (status == OCKAM_OK)
        c->up++;
    else
        c->failed++;
}

static int
role_conns_client(int argc, char **argv)
{
    struct conns_client c = {.want = bench_arg_long(argc, argv, "n", 10000)};
    long port = bench_arg_long(argc, argv, "port", 0);
    char peer[32];
    if (bench_raise_nofile(c.want + 64) < c.want + 16)
        bench_die("RLIMIT_NOFILE too low for %ld connections", c.want);
    snprintf(peer, sizeof peer, "127.0.0.1:%ld", port);
    new_node(NULL);
    long before = bench_rss_bytes();
    /* At most 512 connects in flight, so the server's accept queue never overflows. */
    long started = 0;
    while (c.up + c.failed < c.want) {
        while (started < c.want && started - c.up - c.failed < 512) {
            bench_must(ockam_tcp_connect(node, peer, NULL, on_client_connected, &c), "connect");
            started++;
        }
        ockam_node_run_once(node);
    }
    if (c.failed)
        bench_die("%ld connections failed", c.failed);
    long rss = bench_rss_bytes();
    printf("result conns=%ld rss_mib=%.1f delta_mib=%.1f bytes_per_conn=%.0f\n", c.up,
        (double)rss / 1048576.0, (double)(rss - before) / 1048576.0,
        (double)(rss - before) / (double)c.up);
    fflush(stdout);
    /* Stay up (the loop keeps serving the connections) until the runner closes stdin. */
    pthread_t th;
    pthread_create(&th, NULL, wait_stdin_eof, NULL);
    ockam_node_run(node);
    pthread_join(th, NULL);
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } roles[] = {{"sink", role_sink}, {"source", role_source}, {"echo", role_echo},
        {"ping", role_ping}, {"hop", role_hop}, {"conns-server", role_conns_server},
        {"conns-client", role_conns_client}};
    for (size_t i = 0; argc > 1 && i < sizeof roles / sizeof roles[0]; i++) {
        if (strcmp(argv[1], roles[i].name) == 0)
            return roles[i].fn(argc, argv);
    }
    fprintf(stderr, "usage: %s sink|source|echo|ping|hop|conns-server|conns-client [k=v...]\n",
        argv[0]);
    return 64;
}
