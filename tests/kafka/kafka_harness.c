/* Kafka test harness: the mock process, node threads, the shared monitor, collectors and
 * plain librdkafka helpers. See kafka_harness.h. */
#include "kafka_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef KAFKA_MOCK_PATH
#error "KAFKA_MOCK_PATH must name the kafka_mock program"
#endif

extern char **environ;

/* ---- the shared monitor ----------------------------------------------------------------- */

static pthread_mutex_t kt_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t kt_cond;
static pthread_once_t kt_once = PTHREAD_ONCE_INIT;

static void
kt_init_cond(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&kt_cond, &a);
    pthread_condattr_destroy(&a);
}

uint64_t
kt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
kt_lock(void)
{
    pthread_once(&kt_once, kt_init_cond);
    pthread_mutex_lock(&kt_mutex);
}

void
kt_unlock(void)
{
    pthread_mutex_unlock(&kt_mutex);
}

void
kt_signal(void)
{
    pthread_once(&kt_once, kt_init_cond);
    pthread_cond_broadcast(&kt_cond);
}

bool
kt_wait(bool (*cond)(void *arg), void *arg, uint64_t timeout_ms)
{
    uint64_t deadline = kt_now_ms() + timeout_ms;
    struct timespec ts
        = {.tv_sec = (time_t)(deadline / 1000), .tv_nsec = (long)(deadline % 1000) * 1000000L};
    kt_lock();
    bool ok;
    while (!(ok = cond(arg))) {
        if (pthread_cond_timedwait(&kt_cond, &kt_mutex, &ts) == ETIMEDOUT) {
            ok = cond(arg);
            break;
        }
    }
    kt_unlock();
    return ok;
}

/* ---- the mock cluster process ----------------------------------------------------------- */

/* Next line from the mock's stdout into line (without the newline); false on timeout/EOF. */
static bool
kmock_readline(kmock *m, char *line, size_t cap, uint64_t timeout_ms)
{
    uint64_t deadline = kt_now_ms() + timeout_ms;
    for (;;) {
        char *nl = memchr(m->buf, '\n', m->len);
        if (nl) {
            size_t n = (size_t)(nl - m->buf);
            snprintf(line, cap, "%.*s", (int)n, m->buf);
            memmove(m->buf, nl + 1, m->len - n - 1);
            m->len -= n + 1;
            return true;
        }
        uint64_t now = kt_now_ms();
        if (now >= deadline || m->len == sizeof m->buf)
            return false;
        struct pollfd p = {.fd = m->from_child, .events = POLLIN};
        if (poll(&p, 1, (int)(deadline - now)) <= 0)
            continue;
        ssize_t r = read(m->from_child, m->buf + m->len, sizeof m->buf - m->len);
        if (r <= 0)
            return false;
        m->len += (size_t)r;
    }
}

static void
kmock_spawn(kmock *m, const char *const *topics, size_t count)
{
    int in[2], out[2];
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    char *argv[34] = {"kafka_mock"};
    assert_true(count < 32);
    for (size_t i = 0; i < count; i++)
        argv[i + 1] = (char *)topics[i];
    argv[count + 1] = NULL;
    assert_int_equal(posix_spawn(&m->pid, KAFKA_MOCK_PATH, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    m->to_child = in[1];
    m->from_child = out[0];
}

void
kmock_start(kmock *m, const char *const *topics, size_t count)
{
    char line[sizeof m->bootstrap + 16];
    memset(m, 0, sizeof *m);
    signal(SIGPIPE, SIG_IGN);
    kmock_spawn(m, topics, count);
    assert_true(kmock_readline(m, line, sizeof line, 20000));
    assert_true(strncmp(line, "BOOTSTRAP=", 10) == 0);
    snprintf(m->bootstrap, sizeof m->bootstrap, "%s", line + 10);
}

bool
kmock_cmd(kmock *m, const char *cmd)
{
    char line[256];
    size_t n = strlen(cmd);
    if (write(m->to_child, cmd, n) != (ssize_t)n || write(m->to_child, "\n", 1) != 1)
        return false;
    return kmock_readline(m, line, sizeof line, 10000) && strcmp(line, "OK") == 0;
}

void
kmock_stop(kmock *m)
{
    if (m->pid <= 0)
        return;
    kill(m->pid, SIGTERM);
    int status;
    waitpid(m->pid, &status, 0);
    close(m->to_child);
    close(m->from_child);
    m->pid = 0;
}

/* ---- nodes on their own threads --------------------------------------------------------- */

void
knode_init(knode *n)
{
    memset(n, 0, sizeof *n);
    n->node = ockam_node_new();
    assert_non_null(n->node);
}

static void *
knode_main(void *arg)
{
    knode *n = arg;
    ockam_node_run(n->node);
    return NULL;
}

void
knode_start(knode *n)
{
    assert_int_equal(pthread_create(&n->thread, NULL, knode_main, n), 0);
    n->running = true;
}

struct call {
    void (*fn)(void *);
    void *arg;
    bool done;
};

static void
call_trampoline(void *arg)
{
    struct call *c = arg;
    c->fn(c->arg);
    kt_lock();
    c->done = true;
    kt_signal();
    kt_unlock();
}

static bool
call_done(void *arg)
{
    return ((struct call *)arg)->done;
}

void
knode_call(knode *n, void (*fn)(void *arg), void *arg)
{
    struct call c = {fn, arg, false};
    if (!n->running) {
        fn(arg); /* the creating thread is the loop thread until the loop runs */
        return;
    }
    assert_int_equal(ockam_node_post(n->node, call_trampoline, &c), OCKAM_OK);
    assert_true(kt_wait(call_done, &c, 30000));
}

void
knode_free(knode *n)
{
    if (!n->node)
        return;
    if (n->running) {
        ockam_node_stop(n->node);
        pthread_join(n->thread, NULL);
        n->running = false;
    }
    ockam_node_free(n->node);
    n->node = NULL;
}

/* ---- Kafka configuration and events ----------------------------------------------------- */

static void
note_commit(kt_events *e, const ockam_kafka_event *ev)
{
    if (ev->err) {
        e->last_failure = ev->err;
        return;
    }
    e->commits++;
    if (ev->partition >= 0 && ev->partition < 8 && ev->offset > e->committed_offset[ev->partition])
        e->committed_offset[ev->partition] = ev->offset;
}

void
kt_on_event(const ockam_kafka_event *ev, void *user)
{
    kt_events *e = user;
    kt_lock();
    switch (ev->kind) {
    case OCKAM_KAFKA_ASSIGNED:
        e->assigned++;
        break;
    case OCKAM_KAFKA_REVOKED:
        e->revoked++;
        break;
    case OCKAM_KAFKA_DELIVERY_FAILED:
        e->delivery_failed++;
        e->last_failure = ev->err;
        break;
    case OCKAM_KAFKA_BAD_RECORD:
        e->bad_records++;
        break;
    case OCKAM_KAFKA_COMMITTED:
        note_commit(e, ev);
        break;
    case OCKAM_KAFKA_CLIENT_ERROR:
        e->client_errors++;
        break;
    }
    kt_signal();
    kt_unlock();
}

void
kt_kafka_prop(kt_kafka *k, const char *prop)
{
    assert_true(k->cfg.properties_count < sizeof k->props / sizeof k->props[0]);
    k->props[k->cfg.properties_count++] = prop;
}

void
kt_kafka_config(kt_kafka *k, const char *bootstrap, const char *inbox)
{
    static int counter;
    memset(k, 0, sizeof *k);
    k->cfg = (ockam_kafka_config)OCKAM_KAFKA_CONFIG_INIT;
    k->cfg.bootstrap_servers = bootstrap;
    k->cfg.inbox_topic = inbox;
    /* A fresh group per run: re-joining an old group waits for its session timeout. */
    snprintf(k->group, sizeof k->group, "t.%s.%d.%d", inbox, (int)getpid(), counter++);
    k->cfg.group_id = k->group;
    k->cfg.properties = k->props;
    k->cfg.flush_timeout_ms = 3000;
    k->cfg.on_event = kt_on_event;
    k->cfg.user = &k->events;
    for (int i = 0; i < 8; i++)
        k->events.committed_offset[i] = -1;
    kt_kafka_prop(k, "consumer.fetch.wait.max.ms=5");
    kt_kafka_prop(k, "consumer.session.timeout.ms=6000");
    kt_kafka_prop(k, "consumer.heartbeat.interval.ms=500");
    /* Reconnect quickly after a broker outage (the default backs off up to 10 s). */
    kt_kafka_prop(k, "reconnect.backoff.max.ms=500");
}

void
kt_kafka_init(knode *n, kt_kafka *k)
{
    assert_false(n->running);
    assert_int_equal(ockam_kafka_init(n->node, &k->cfg), OCKAM_OK);
}

struct stats_arg {
    ockam_node *node;
    struct ockam_kafka_stats st;
};

static void
read_stats(void *arg)
{
    struct stats_arg *a = arg;
    assert_int_equal(ockam_kafka_stats(a->node, &a->st), OCKAM_OK);
}

struct ockam_kafka_stats
kt_stats(knode *n)
{
    struct stats_arg a = {.node = n->node};
    knode_call(n, read_stats, &a);
    return a.st;
}

static bool
is_assigned(void *arg)
{
    kt_kafka *k = arg;
    return k->events.assigned > 0;
}

bool
kt_wait_assigned(kt_kafka *k, uint64_t timeout_ms)
{
    return kt_wait(is_assigned, k, timeout_ms);
}

/* ---- collectors ------------------------------------------------------------------------- */

static void
collector_keep(kt_collector *c, ockam_msg *msg)
{
    ockam_slice p = ockam_msg_payload(msg);
    kt_item it = {.payload = malloc(p.len ? p.len : 1), .len = p.len};
    assert_non_null(it.payload);
    if (p.len)
        memcpy(it.payload, p.ptr, p.len);
    it.onward = ockam_route_to_string(ockam_msg_onward_const(msg));
    it.ret = ockam_route_to_string(ockam_msg_return_const(msg));
    kt_lock();
    if (c->count == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->items = realloc(c->items, c->cap * sizeof *c->items);
        assert_non_null(c->items);
    }
    c->items[c->count++] = it;
    kt_signal();
    kt_unlock();
}

static void
collector_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    kt_collector *c = user;
    collector_keep(c, msg);
    if (!c->reply) {
        ockam_msg_free(msg);
        return;
    }
    ockam_slice p = ockam_msg_payload(msg);
    uint8_t *copy = malloc(p.len ? p.len : 1);
    assert_non_null(copy);
    for (size_t i = 0; i < p.len; i++)
        copy[i] = c->upper ? (uint8_t)toupper(p.ptr[i]) : p.ptr[i];
    ockam_reply(w, msg, copy, p.len);
    free(copy);
}

void
kt_collector_start(knode *n, kt_collector *c, const char *address, bool reply)
{
    ockam_worker_opts opts = {.on_message = collector_on_message, .user = c};
    c->reply = reply;
    assert_int_equal(ockam_worker_start(n->node, address, &opts, &c->worker), OCKAM_OK);
}

struct count_arg {
    kt_collector *c;
    size_t count;
};

static bool
has_count(void *arg)
{
    struct count_arg *a = arg;
    return a->c->count >= a->count;
}

bool
kt_collector_wait(kt_collector *c, size_t count, uint64_t timeout_ms)
{
    struct count_arg a = {c, count};
    return kt_wait(has_count, &a, timeout_ms);
}

void
kt_collector_free(kt_collector *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->items[i].payload);
        ockam_free(c->items[i].onward);
        ockam_free(c->items[i].ret);
    }
    free(c->items);
    memset(c, 0, sizeof *c);
}

struct send_arg {
    ockam_worker *from;
    const char *route;
    const void *data;
    size_t len;
    ockam_err err;
};

static void
send_on_loop(void *arg)
{
    struct send_arg *s = arg;
    ockam_route *r = ockam_route_new();
    assert_non_null(r);
    assert_int_equal(ockam_route_parse(r, s->route), OCKAM_OK);
    s->err = ockam_send_to(s->from, r, s->data, s->len);
    ockam_route_free(r);
}

ockam_err
kt_send(knode *n, ockam_worker *from, const char *route, const void *data, size_t len)
{
    struct send_arg s = {from, route, data, len, OCKAM_OK};
    knode_call(n, send_on_loop, &s);
    return s.err;
}

/* ---- plain librdkafka clients ----------------------------------------------------------- */

static rd_kafka_t *
plain_client(rd_kafka_type_t type, const char *bootstrap, const char *group)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(
        rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err), RD_KAFKA_CONF_OK);
    if (group)
        assert_int_equal(
            rd_kafka_conf_set(conf, "group.id", group, err, sizeof err), RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    assert_non_null(rk);
    return rk;
}

void
kt_plain_produce(const char *bootstrap, const char *topic, const void *const *values,
    const size_t *lens, size_t count)
{
    rd_kafka_t *rk = plain_client(RD_KAFKA_PRODUCER, bootstrap, NULL);
    for (size_t i = 0; i < count; i++) {
        rd_kafka_vu_t vu[3];
        memset(vu, 0, sizeof vu);
        vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
        vu[0].u.cstr = topic;
        vu[1].vtype = RD_KAFKA_VTYPE_VALUE;
        vu[1].u.mem.ptr = (void *)values[i];
        vu[1].u.mem.size = lens[i];
        vu[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
        vu[2].u.i = RD_KAFKA_MSG_F_COPY;
        rd_kafka_error_t *e = rd_kafka_produceva(rk, vu, 3);
        assert_null(e);
    }
    assert_int_equal(rd_kafka_flush(rk, 20000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
}

int64_t
kt_committed(const char *bootstrap, const char *group, const char *topic, int partition)
{
    rd_kafka_t *rk = plain_client(RD_KAFKA_CONSUMER, bootstrap, group);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    rd_kafka_resp_err_t err = rd_kafka_committed(rk, l, 20000);
    int64_t off = err ? -2 : l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return off < 0 ? -1 : off;
}
