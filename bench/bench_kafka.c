/* Kafka hop benchmark: round-trip time and throughput through our Kafka transport, against a
 * plain librdkafka producer -> consumer baseline on the same mock cluster in the same run.
 *
 *   bench_kafka [round_trips] [flood_records]      (defaults 1000 and 100000)
 *   env FETCH_WAIT_MS (default 1), PAYLOAD (bytes, default 200), VERBOSE (every flood's rate)
 *
 * RTT: request -> Kafka -> echo -> Kafka -> reply, one at a time: 2 produces and 2 consumes per
 * round trip on both sides. Baseline: a plain producer, an echo thread (plain consumer + plain
 * producer) and a plain consumer. Ours: node A's worker sends to [16#ours.b, echo] and the
 * reply comes back through A's inbox (the echo worker runs on node B).
 * Throughput: a flood over 8 keys into an 8-partition topic, timed from the first send until the
 * last record is received (baseline: a plain consumer; ours: a worker on node B).
 *
 * Fairness: both sides use the same client settings (idempotent producer, acks=all,
 * linger.ms=0, no Nagle, a 1M-record producer queue, consumer groups, the same fetch wait) and
 * the same record keys; the baseline keeps librdkafka's auto commit (every 5 s), we commit
 * after hand-off (coalesced, default every 100 ms); the baseline has no delivery-report
 * callback, we count every report. Our records are ~13% larger (routes). Every client and
 * node is set up first and stays up, and the measurements are interleaved (RTT in alternating
 * blocks, floods in the order base, ours, ours, base), so drift in the shared mock and the
 * machine hits both sides alike -- running one side after the other skewed the ratios by up
 * to 70% in either direction.
 *
 * Threads: the mock cluster runs on librdkafka's thread in this process; each node runs its
 * loop on its own thread; the baseline echo and counter each have a thread.
 * Targets (issue 7): RTT p50 <= 1.2x the baseline, throughput >= 80% of it. */
#include "ockam/kafka.h"
#include "ockam/ockam.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEYS 8
#define WARMUP 20
#define BLOCKS 10
#define FLOODS 3

static const char *bootstrap;
static char fetch_wait[16] = "1";
static size_t payload_len = 200;
static uint8_t payload[65536];

/* ---- clock, statistics, monitor --------------------------------------------------------- */

static uint64_t
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct pct {
    double p50, p90, p99;
};

static struct pct
percentiles(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_u64);
    struct pct p = {v[n / 2] / 1000.0, v[n * 9 / 10] / 1000.0, v[n * 99 / 100] / 1000.0};
    return p;
}

static void
die(const char *what)
{
    fprintf(stderr, "bench_kafka: %s\n", what);
    exit(1);
}

/* One mutex + condition for every "wait until this count is reached" of the run. Counters
 * are atomics; a waiter is woken only when its target is reached, never per record, so the
 * waiting thread costs nothing during a flood on either side. */
static pthread_mutex_t mon_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mon_cond = PTHREAD_COND_INITIALIZER;

struct count {
    atomic_long n;
    atomic_long target;
};

static void
wait_count(struct count *c, long target, const char *what)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 120;
    pthread_mutex_lock(&mon_mutex);
    atomic_store(&c->target, target);
    while (atomic_load(&c->n) < target) {
        if (pthread_cond_timedwait(&mon_cond, &mon_mutex, &ts) != 0)
            die(what);
    }
    pthread_mutex_unlock(&mon_mutex);
}

static void
bump(struct count *c)
{
    /* The waiter checks under the mutex, and we take it to signal: no lost wake-up. */
    if (atomic_fetch_add(&c->n, 1) + 1 >= atomic_load(&c->target)) {
        pthread_mutex_lock(&mon_mutex);
        pthread_cond_broadcast(&mon_cond);
        pthread_mutex_unlock(&mon_mutex);
    }
}

static void
count_init(struct count *c)
{
    atomic_init(&c->n, 0);
    atomic_init(&c->target, 1);
}

/* ---- the mock cluster ------------------------------------------------------------------- */

static void
set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK)
        die(err);
}

static rd_kafka_conf_t *
base_conf(void)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    set(c, "log_level", "4");
    return c;
}

static rd_kafka_mock_cluster_t *
start_mock(rd_kafka_t **anchor)
{
    char err[256];
    *anchor = rd_kafka_new(RD_KAFKA_PRODUCER, base_conf(), err, sizeof err);
    if (!*anchor)
        die(err);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(*anchor, 1);
    if (!mc)
        die("cannot start the mock cluster");
    const char *topics[] = {"base.req", "base.rep", "base.tput", "ours.a", "ours.b"};
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
        rd_kafka_mock_topic_create(mc, topics[i], KEYS, 1);
    return mc;
}

/* ---- baseline: plain librdkafka --------------------------------------------------------- */

static rd_kafka_t *
plain_producer(void)
{
    char err[256];
    rd_kafka_conf_t *c = base_conf();
    set(c, "bootstrap.servers", bootstrap);
    set(c, "enable.idempotence", "true");
    set(c, "acks", "all");
    set(c, "linger.ms", "0");
    set(c, "socket.nagle.disable", "true");
    set(c, "queue.buffering.max.messages", "1000000");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk)
        die(err);
    return rk;
}

static bool
has_assignment(rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    bool yes = rd_kafka_assignment(rk, &l) == RD_KAFKA_RESP_ERR_NO_ERROR && l && l->cnt > 0;
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    return yes;
}

static rd_kafka_t *
plain_consumer(const char *group, const char *topic)
{
    char err[256];
    rd_kafka_conf_t *c = base_conf();
    set(c, "bootstrap.servers", bootstrap);
    set(c, "group.id", group);
    set(c, "fetch.wait.max.ms", fetch_wait);
    set(c, "auto.offset.reset", "earliest");
    set(c, "socket.nagle.disable", "true");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (!rk)
        die(err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    return rk;
}

/* Serve a consumer until its group has given it partitions. */
static void
await_assignment(rd_kafka_t *rk)
{
    uint64_t deadline = now_us() + 60000000u;
    while (!has_assignment(rk)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
        if (m)
            rd_kafka_message_destroy(m);
        if (now_us() > deadline)
            die("a baseline consumer got no partitions");
    }
}

static void
plain_send(rd_kafka_t *p, const char *topic, const void *key, size_t klen, const void *v, size_t n)
{
    rd_kafka_vu_t vu[4];
    memset(vu, 0, sizeof vu);
    vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vu[0].u.cstr = topic;
    vu[1].vtype = RD_KAFKA_VTYPE_KEY;
    vu[1].u.mem.ptr = (void *)key;
    vu[1].u.mem.size = klen;
    vu[2].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[2].u.mem.ptr = (void *)v;
    vu[2].u.mem.size = n;
    vu[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[3].u.i = RD_KAFKA_MSG_F_COPY;
    for (;;) {
        rd_kafka_error_t *e = rd_kafka_produceva(p, vu, 4);
        if (!e)
            return;
        if (rd_kafka_error_code(e) != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            die(rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        rd_kafka_poll(p, 1);
    }
}

struct base {
    rd_kafka_t *echo_in, *echo_out; /* echo thread */
    rd_kafka_t *req, *rep;          /* RTT client */
    rd_kafka_t *flood, *count;      /* throughput */
    pthread_t echo_thread, count_thread;
    atomic_bool stop;
    struct count counted;
    uint64_t last_count_us;
};

static void *
echo_main(void *arg)
{
    struct base *b = arg;
    while (!atomic_load(&b->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(b->echo_in, 20);
        if (m && !m->err)
            plain_send(b->echo_out, "base.rep", m->key, m->key_len, m->payload, m->len);
        if (m)
            rd_kafka_message_destroy(m);
        rd_kafka_poll(b->echo_out, 0);
    }
    return NULL;
}

static void *
count_main(void *arg)
{
    struct base *b = arg;
    while (!atomic_load(&b->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(b->count, 20);
        if (m && !m->err) {
            b->last_count_us = now_us(); /* read after wait_count: ordered by the mutex */
            bump(&b->counted);
        }
        if (m)
            rd_kafka_message_destroy(m);
    }
    return NULL;
}

static void
base_start(struct base *b)
{
    memset(b, 0, sizeof *b);
    atomic_init(&b->stop, false);
    count_init(&b->counted);
    b->echo_in = plain_consumer("base.echo", "base.req");
    b->rep = plain_consumer("base.client", "base.rep");
    b->count = plain_consumer("base.count", "base.tput");
    b->echo_out = plain_producer();
    b->req = plain_producer();
    b->flood = plain_producer();
    await_assignment(b->echo_in);
    await_assignment(b->rep);
    await_assignment(b->count);
    pthread_create(&b->echo_thread, NULL, echo_main, b);
    pthread_create(&b->count_thread, NULL, count_main, b);
}

static void
base_rtt_block(struct base *b, uint64_t *rtt, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t t0 = now_us();
        plain_send(b->req, "base.req", "\0client", 7, payload, payload_len);
        rd_kafka_message_t *m = NULL;
        while (!m || m->err) {
            if (m)
                rd_kafka_message_destroy(m);
            m = rd_kafka_consumer_poll(b->rep, 1000);
            rd_kafka_poll(b->req, 0);
        }
        rd_kafka_message_destroy(m);
        if (rtt)
            rtt[i] = now_us() - t0;
    }
}

static double
base_flood(struct base *b, int n)
{
    char key[3] = {0, 'f', '0'};
    long target = atomic_load(&b->counted.n) + n;
    atomic_store(&b->counted.target, target); /* before the flood: no early wake-ups */
    uint64_t t0 = now_us();
    for (int i = 0; i < n; i++) {
        key[2] = (char)('0' + i % KEYS);
        plain_send(b->flood, "base.tput", key, 3, payload, payload_len);
        if (i % 1024 == 0)
            rd_kafka_poll(b->flood, 0);
    }
    wait_count(&b->counted, target, "the baseline flood");
    pthread_mutex_lock(&mon_mutex);
    uint64_t t1 = b->last_count_us;
    pthread_mutex_unlock(&mon_mutex);
    rd_kafka_poll(b->flood, 0);
    return n / ((t1 - t0) / 1e6);
}

static void
base_stop(struct base *b)
{
    atomic_store(&b->stop, true);
    pthread_join(b->echo_thread, NULL);
    pthread_join(b->count_thread, NULL);
    rd_kafka_t *consumers[] = {b->echo_in, b->rep, b->count};
    for (int i = 0; i < 3; i++) {
        rd_kafka_consumer_close(consumers[i]);
        rd_kafka_destroy(consumers[i]);
    }
    rd_kafka_t *producers[] = {b->echo_out, b->req, b->flood};
    for (int i = 0; i < 3; i++) {
        rd_kafka_flush(producers[i], 5000);
        rd_kafka_destroy(producers[i]);
    }
}

/* ---- ours: two nodes on their own threads ----------------------------------------------- */

struct bnode {
    ockam_node *node;
    pthread_t thread;
    struct count assigned;
};

static void *
bnode_main(void *arg)
{
    ockam_node_run(((struct bnode *)arg)->node);
    return NULL;
}

static void
on_kafka_event(const ockam_kafka_event *ev, void *user)
{
    if (ev->kind == OCKAM_KAFKA_ASSIGNED)
        bump(&((struct bnode *)user)->assigned);
}

static void
bnode_init(struct bnode *b, const char *inbox, const char *group)
{
    static char fw[48];
    /* Floods are handed to librdkafka at once: room for 1M records, as for the baseline. */
    static const char *props[3]
        = {fw, "log_level=4", "producer.queue.buffering.max.messages=1000000"};
    snprintf(fw, sizeof fw, "consumer.fetch.wait.max.ms=%s", fetch_wait);
    b->node = ockam_node_new();
    count_init(&b->assigned);
    ockam_kafka_config cfg = OCKAM_KAFKA_CONFIG_INIT;
    cfg.bootstrap_servers = bootstrap;
    cfg.inbox_topic = inbox;
    cfg.group_id = group;
    cfg.properties = props;
    cfg.properties_count = 3;
    cfg.on_event = on_kafka_event;
    cfg.user = b;
    if (!b->node || ockam_kafka_init(b->node, &cfg) != OCKAM_OK)
        die("cannot start a node with the Kafka transport");
}

static void
bnode_free(struct bnode *b)
{
    ockam_node_stop(b->node);
    pthread_join(b->thread, NULL);
    ockam_node_free(b->node);
}

/* Closed-loop client on node A: each reply sends the next request. */
struct client {
    ockam_worker *w;
    ockam_route *route;
    int next, n;
    uint64_t sent_us;
    uint64_t *rtt; /* NULL: warm-up */
    struct count blocks_done;
};

static void
client_send(struct client *c)
{
    c->sent_us = now_us();
    if (ockam_send_to(c->w, c->route, payload, payload_len) != OCKAM_OK)
        die("send through Kafka failed");
}

static void
client_on_reply(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct client *c = user;
    uint64_t rtt = now_us() - c->sent_us;
    ockam_msg_free(msg);
    if (c->rtt)
        c->rtt[c->next] = rtt;
    if (++c->next == c->n)
        bump(&c->blocks_done);
    else
        client_send(c);
}

static void
client_block_start(void *arg)
{
    struct client *c = arg;
    c->next = 0;
    client_send(c);
}

/* Flood: 4 workers on A (4 keys), a sink on B counting. */
struct flood {
    ockam_worker *src[KEYS];
    ockam_route *route;
    int n;
    uint64_t t0_us, last_us;
    struct count got;
};

static void
sink_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct flood *f = user;
    ockam_msg_free(msg);
    f->last_us = now_us(); /* read after wait_count: ordered by the mutex */
    bump(&f->got);
}

static void
flood_start(void *arg)
{
    struct flood *f = arg;
    f->t0_us = now_us();
    for (int i = 0; i < f->n; i++) {
        if (ockam_send_to(f->src[i % KEYS], f->route, payload, payload_len) != OCKAM_OK)
            die("flood send failed");
    }
}

static void
ignore(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_msg_free(msg);
}

struct ours {
    struct bnode a, b;
    struct client c;
    struct flood f;
};

static void
ours_workers(struct ours *o)
{
    ockam_echo_start(o->b.node, NULL, NULL);
    ockam_flow_add_consumer(o->b.node, "echo", ockam_kafka_flow_id(o->b.node));
    o->c.route = ockam_route_new();
    ockam_route_parse(o->c.route, "16#ours.b => echo");
    ockam_worker_opts copts = {.on_message = client_on_reply, .user = &o->c};
    ockam_worker_start(o->a.node, "client", &copts, &o->c.w);

    o->f.route = ockam_route_new();
    ockam_route_parse(o->f.route, "16#ours.b => sink");
    ockam_worker_opts sopts = {.on_message = sink_on_message, .user = &o->f};
    ockam_worker_start(o->b.node, "sink", &sopts, NULL);
    ockam_flow_add_consumer(o->b.node, "sink", ockam_kafka_flow_id(o->b.node));
    /* Named f0..f7: our record key (the return route's last address, "\0f0".."\0f7") is then
     * the baseline's key, so both spread over the same partitions. */
    ockam_worker_opts iopts = {.on_message = ignore};
    for (int i = 0; i < KEYS; i++) {
        char name[4] = {'f', (char)('0' + i), 0};
        ockam_worker_start(o->a.node, name, &iopts, &o->f.src[i]);
    }
}

static void
ours_start(struct ours *o)
{
    memset(o, 0, sizeof *o);
    count_init(&o->c.blocks_done);
    count_init(&o->f.got);
    bnode_init(&o->a, "ours.a", "ours.a.group");
    bnode_init(&o->b, "ours.b", "ours.b.group");
    ours_workers(o);
    pthread_create(&o->a.thread, NULL, bnode_main, &o->a);
    pthread_create(&o->b.thread, NULL, bnode_main, &o->b);
    wait_count(&o->a.assigned, 1, "node A's partitions");
    wait_count(&o->b.assigned, 1, "node B's partitions");
}

static void
ours_rtt_block(struct ours *o, uint64_t *rtt, int n)
{
    o->c.rtt = rtt;
    o->c.n = n;
    long target = atomic_load(&o->c.blocks_done.n) + 1;
    atomic_store(&o->c.blocks_done.target, target);
    ockam_node_post(o->a.node, client_block_start, &o->c);
    wait_count(&o->c.blocks_done, target, "our round trips");
}

static double
ours_flood(struct ours *o, int n)
{
    o->f.n = n;
    long target = atomic_load(&o->f.got.n) + n;
    atomic_store(&o->f.got.target, target); /* before the flood: no early wake-ups */
    ockam_node_post(o->a.node, flood_start, &o->f);
    wait_count(&o->f.got, target, "our flood");
    pthread_mutex_lock(&mon_mutex);
    uint64_t t0 = o->f.t0_us, t1 = o->f.last_us;
    pthread_mutex_unlock(&mon_mutex);
    return n / ((t1 - t0) / 1e6);
}

static void
ours_stop(struct ours *o)
{
    bnode_free(&o->a);
    bnode_free(&o->b);
    ockam_route_free(o->c.route);
    ockam_route_free(o->f.route);
}

/* ---- the run ------------------------------------------------------------------------------ */

static void
measure_rtt(struct base *b, struct ours *o, int n, struct pct *base_p, struct pct *our_p)
{
    uint64_t *bs = calloc((size_t)n, sizeof *bs), *os = calloc((size_t)n, sizeof *os);
    int per = n / BLOCKS;
    base_rtt_block(b, NULL, WARMUP);
    ours_rtt_block(o, NULL, WARMUP);
    for (int k = 0; k < BLOCKS; k++) {
        base_rtt_block(b, bs + k * per, per);
        ours_rtt_block(o, os + k * per, per);
    }
    *base_p = percentiles(bs, (size_t)(per * BLOCKS));
    *our_p = percentiles(os, (size_t)(per * BLOCKS));
    free(bs);
    free(os);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Floods are short (~100 ms) and noisy on a shared 2-core machine: run FLOODS rounds of
 * base, ours, ours, base after a warm-up each, and report each side's median. */
static void
measure_tput(struct base *b, struct ours *o, int n, double *base_rate, double *our_rate)
{
    double bs[2 * FLOODS], os[2 * FLOODS];
    /* Full-size warm-ups: the first flood of a side grows its threads' malloc arenas and
     * librdkafka's buffers, and measured 30-40% slower than the rest. */
    base_flood(b, n);
    ours_flood(o, n);
    for (int r = 0; r < FLOODS; r++) {
        bs[2 * r] = base_flood(b, n);
        os[2 * r] = ours_flood(o, n);
        os[2 * r + 1] = ours_flood(o, n);
        bs[2 * r + 1] = base_flood(b, n);
    }
    if (getenv("VERBOSE")) {
        for (int i = 0; i < 2 * FLOODS; i++)
            fprintf(stderr, "flood %d: base %.0f ours %.0f msg/s\n", i, bs[i], os[i]);
    }
    qsort(bs, 2 * FLOODS, sizeof bs[0], cmp_double);
    qsort(os, 2 * FLOODS, sizeof os[0], cmp_double);
    *base_rate = (bs[FLOODS - 1] + bs[FLOODS]) / 2;
    *our_rate = (os[FLOODS - 1] + os[FLOODS]) / 2;
}

static void
report(int n_rtt, int n_flood, struct pct base, struct pct our, double brate, double orate)
{
    printf("RTT (%d round trips each, interleaved)   p50 / p90 / p99 ms\n", n_rtt);
    printf("  plain librdkafka    %7.2f %7.2f %7.2f\n", base.p50, base.p90, base.p99);
    printf("  ockam kafka hop     %7.2f %7.2f %7.2f\n", our.p50, our.p90, our.p99);
    printf("  ratio p50           %7.2fx  (target <= 1.20x)\n", our.p50 / base.p50);
    printf("throughput (%d records over %d keys, median of %d floods each)\n", n_flood, KEYS,
        2 * FLOODS);
    printf("  plain librdkafka    %9.0f msg/s\n", brate);
    printf("  ockam kafka hop     %9.0f msg/s\n", orate);
    printf("  ratio               %7.0f%%  (target >= 80%%)\n", 100.0 * orate / brate);
}

int
main(int argc, char **argv)
{
    int n_rtt = argc > 1 ? atoi(argv[1]) : 1000;
    int n_flood = argc > 2 ? atoi(argv[2]) : 100000;
    if (getenv("FETCH_WAIT_MS"))
        snprintf(fetch_wait, sizeof fetch_wait, "%s", getenv("FETCH_WAIT_MS"));
    if (getenv("PAYLOAD"))
        payload_len = (size_t)atoi(getenv("PAYLOAD"));
    if (n_rtt < BLOCKS * 10 || n_flood < 1000 || payload_len > sizeof payload)
        die("usage: bench_kafka [round_trips >= 100] [flood_records >= 1000]");
    memset(payload, 'x', payload_len);

    rd_kafka_t *anchor;
    rd_kafka_mock_cluster_t *mc = start_mock(&anchor);
    bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    printf("kafka hop on a librdkafka %s mock cluster (1 broker, %d partitions), payload %zu B, "
           "fetch.wait.max.ms=%s\n",
        rd_kafka_version_str(), KEYS, payload_len, fetch_wait);

    static struct base b;
    static struct ours o;
    base_start(&b);
    ours_start(&o);
    struct pct bp, op;
    double brate, orate;
    measure_rtt(&b, &o, n_rtt, &bp, &op);
    measure_tput(&b, &o, n_flood, &brate, &orate);
    report(n_rtt, n_flood, bp, op, brate, orate);
    ours_stop(&o);
    base_stop(&b);

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(anchor);
    return 0;
}
