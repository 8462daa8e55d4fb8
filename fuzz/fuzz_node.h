/* A whole node for the node-level fuzz targets (header-only, like fuzz_util.h): the node the
 * `ockam` command runs -- node manager, echo, uppercase, hop, the relay service, two outlets --
 * built once per process and kept across inputs (fuzz_node, fuzz_portal_relay), so that each
 * input starts from the state the previous one left and the harness can check that it always
 * returns to it. The node-manager and config.json targets, whose inputs add listeners and
 * services for good, make one per input and check that freeing it leaves nothing
 * (fn_check_idle). What is expensive and immutable -- the identity -- is made once.
 *
 * No socket carries the fuzzer's bytes: connections are made with ockam__conn_adopt on one end
 * of a socketpair and fed with ockam__conn_feed (transport/stream.h), so framing, decoding,
 * route rewriting, flow control, the router and every worker run exactly as for a TCP peer.
 * The harness only reads (and discards) what the node writes on the other end. Real sockets
 * remain where the node itself opens them: the api.sock listener the node manager needs, one
 * TCP listener (its flow id is the one the fake connections claim to come from), and the
 * outlets' target -- a listener in the same loop that echoes what it gets -- and a refused
 * address for the second outlet.
 *
 * Invariants (FUZZ_CHECK aborts on the stack of the offender):
 *  - the probe worker ("probe", allows every message itself, consumer of no flow) never
 *    receives anything: nothing that enters through a connection reaches a worker outside
 *    that connection's flows, whatever the routes say;
 *  - the node manager never receives a message while the harness is not asking it something;
 *  - after every connection closed, the library's live allocations (counted through
 *    ockam_set_allocator) are back to what they were before the input.
 * Loop thread only (the fuzzer's thread is the node's loop thread). */
#ifndef OCKAM_FUZZ_FUZZ_NODE_H
#define OCKAM_FUZZ_FUZZ_NODE_H

#include "fuzz_util.h"
#include "node/registry.h"
#include "nodemanager/nodemanager.h"
#include "ockam/identity.h"
#include "ockam/ockam.h"
#include "ockam/secure_channel.h"
#include "ockam/vault.h"
#include "transport/stream.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The harness's own code is not instrumented for coverage: how many loop turns a close took,
 * how many allocations an input made (fn_alloc) or how often the echo target read are
 * timing, not behaviour of the node, and as features they only bloated the corpus and slowed
 * libFuzzer's scheduling (thousands of "rare" features to track). The operations
 * (fuzz_node_ops.h) and the library stay instrumented. */
#pragma clang attribute push(__attribute__((no_sanitize("coverage"))), apply_to = function)

/* ---- a clock the harness can move ---------------------------------------------------- */

/* The node's timers (handshake timeouts, a portal worker's linger after Disconnect, Pong
 * waits) run on the loop's monotonic clock, which libuv reads with clock_gettime. This
 * definition takes the place of libc's for the whole process and adds fn_clock_skew to the
 * monotonic clocks, so the harness can let seconds pass in a few loop turns. (libFuzzer's own
 * time limits use the real-time clock and alarms, which are left alone.) */
static int64_t fn_clock_skew_ns;

__attribute__((visibility("default"))) int
clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    if (!real)
        real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real(id, ts);
    if (rc == 0 && fn_clock_skew_ns
        && (id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_COARSE || id == CLOCK_MONOTONIC_RAW
            || id == CLOCK_BOOTTIME)) {
        int64_t ns = (int64_t)ts->tv_nsec + fn_clock_skew_ns % 1000000000;
        ts->tv_sec += (time_t)(fn_clock_skew_ns / 1000000000 + ns / 1000000000);
        ts->tv_nsec = (long)(ns % 1000000000);
    }
    return rc;
}

/* ---- counting allocator --------------------------------------------------------------- */

static atomic_long fn_live; /* blocks the library holds now */

/* Triage (FUZZ_NODE_LOG set): where each block made during the input was allocated, to print
 * those still live when the baseline check fails. */
#define FN_TRACK_MAX 4096
static bool fn_tracking;
static struct fn_track {
    void *p;
    void *stack[12];
    int depth;
} fn_tracked[FN_TRACK_MAX];

static void
fn_track(void *old, void *p)
{
    if (!fn_tracking)
        return;
    for (size_t i = 0; old && i < FN_TRACK_MAX; i++) {
        if (fn_tracked[i].p == old) {
            fn_tracked[i].p = p;
            return;
        }
    }
    if (old)
        return; /* allocated before the input */
    for (size_t i = 0; p && i < FN_TRACK_MAX; i++) {
        if (!fn_tracked[i].p) {
            fn_tracked[i].p = p;
            fn_tracked[i].depth = backtrace(fn_tracked[i].stack, 12);
            return;
        }
    }
}

static void
fn_track_print(void)
{
    for (size_t i = 0; i < FN_TRACK_MAX; i++) {
        if (fn_tracked[i].p) {
            fprintf(stderr, "fuzz_node: still live, allocated at:\n");
            backtrace_symbols_fd(fn_tracked[i].stack, fn_tracked[i].depth, 2);
        }
    }
}

static void *
fn_alloc(size_t n)
{
    void *p = malloc(n);
    if (p)
        atomic_fetch_add(&fn_live, 1);
    fn_track(NULL, p);
    return p;
}

static void *
fn_realloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q && !p)
        atomic_fetch_add(&fn_live, 1);
    if (q)
        fn_track(p, q);
    return q;
}

static void
fn_free(void *p)
{
    if (p)
        atomic_fetch_sub(&fn_live, 1);
    if (p)
        fn_track(p, NULL);
    free(p);
}

/* ---- the node ------------------------------------------------------------------------- */

#define FN_CONNS 4

struct fn_echo_client {
    uv_tcp_t tcp;
    struct fn_echo_client *next, **prev;
    char buf[4096];
};

static struct fn_state {
    ockam_node *node;
    ockam__nodemanager *nm;
    struct ockam__stream *uds;
    ockam_flow_id tcp_flow; /* the TCP listener's: what the fake connections come from */
    bool nm_open;           /* the harness is asking the node manager something */
    uv_tcp_t target;        /* the outlet's target: echoes */
    struct fn_echo_client *clients;
    size_t nclients;
    int refused_fd; /* bound, never listening: the second outlet's target is refused */
    int echo_port, refused_port;
} fn;

/* The secure channel listener's identity ("api") and its vault: made once per process (an
 * Ed25519 key, a signed change history) and kept by every node fn_setup makes, like a node's
 * identity survives its restarts. Immutable once made; the X25519 key the first listener
 * attests stays in the vault and is found again by the next ones. */
static ockam_vault *fn_vault;
static ockam_identity *fn_identity;
/* Live allocations with no node: fn_identity, its vault and key (fn_cycle_base). The targets
 * that make a node per input check that freeing it comes back to this. */
static long fn_idle_live = -1;
/* Set by the targets whose input never reaches a connection (node manager, config.json): their
 * nodes have no secure channel listener, whose key attestation (an Ed25519 signature) would
 * be most of the cost of a node made for each input. */
static bool fn_no_sc_listener;

static void
fn_quiet_log(ockam_log_level level, const char *line, void *user)
{
    (void)level, (void)line, (void)user;
}

static bool
fn_probe_access(ockam_worker *w, const ockam_msg *m, void *user)
{
    (void)w, (void)m, (void)user;
    fprintf(stderr, "fuzz_node: a message reached the probe worker (outside its flow)\n");
    abort();
}

static void
fn_probe_msg(ockam_worker *w, ockam_msg *m, void *user)
{
    (void)w, (void)user;
    ockam_msg_free(m);
    abort();
}

static bool
fn_nm_access(ockam_worker *w, const ockam_msg *m, void *user)
{
    (void)w, (void)user;
    ockam_origin o = ockam_msg_origin(m);
    if (!fn.nm_open || o.producer != 0 || o.spawner != 0) {
        fprintf(stderr, "fuzz_node: the node manager got a message it must never see\n");
        abort();
    }
    return true;
}

static void
fn_client_closed(uv_handle_t *h)
{
    struct fn_echo_client *c = h->data;
    *c->prev = c->next;
    if (c->next)
        c->next->prev = c->prev;
    fn.nclients--;
    free(c);
}

static void
fn_client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct fn_echo_client *c = h->data;
    *buf = uv_buf_init(c->buf, sizeof c->buf);
}

static void
fn_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    if (n < 0) {
        if (!uv_is_closing((uv_handle_t *)s))
            uv_close((uv_handle_t *)s, fn_client_closed);
        return;
    }
    if (n > 0) {
        uv_buf_t b = uv_buf_init(buf->base, (unsigned)n);
        (void)uv_try_write(s, &b, 1); /* best effort: an echo that drops under load is fine */
    }
}

static void
fn_target_accept(uv_stream_t *server, int status)
{
    if (status)
        return;
    struct fn_echo_client *c = calloc(1, sizeof *c);
    FUZZ_CHECK(c);
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    c->next = fn.clients;
    c->prev = &fn.clients;
    if (c->next)
        c->next->prev = &c->next;
    fn.clients = c;
    fn.nclients++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp)
        || uv_read_start((uv_stream_t *)&c->tcp, fn_client_alloc, fn_client_read))
        uv_close((uv_handle_t *)&c->tcp, fn_client_closed);
}

static void
fn_target_close_all(void)
{
    for (struct fn_echo_client *c = fn.clients; c; c = c->next) {
        if (!uv_is_closing((uv_handle_t *)&c->tcp))
            uv_close((uv_handle_t *)&c->tcp, fn_client_closed);
    }
}

static int
fn_port_of(const struct sockaddr_in *sa)
{
    return ntohs(sa->sin_port);
}

static void fn_turn(void);
static void fn_advance(uint64_t ms);

static ockam_msg *fn_nm_reply; /* what fn_nm_ask's worker got */

static void
fn_nm_on_reply(ockam_worker *w, ockam_msg *m, void *user)
{
    (void)w, (void)user;
    ockam_msg_free(fn_nm_reply); /* one reply per request: a second one replaces it */
    fn_nm_reply = m;
}

/* Ask the node manager (a local request, as the `ockam` command's would be after api.sock)
 * and wait for the reply on the node's clock, not in real time: after a few loop turns
 * without one (a connect on loopback is done by then), the clock moves on 100 ms a step, so
 * that the manager's own timeouts (10 s for a message sent without timeout_ms) end the
 * request in a few hundred turns. NULL without a reply within max_ms of the node's time. */
static ockam_msg *
fn_nm_ask(const char *json, size_t len, uint64_t max_ms)
{
    ockam_worker *w = NULL;
    ockam_worker_opts o = {.on_message = fn_nm_on_reply};
    FUZZ_CHECK(ockam_worker_start(fn.node, NULL, &o, &w) == OCKAM_OK);
    ockam_route *r = ockam_route_new();
    FUZZ_CHECK(r && !ockam_route_push_back(r, ockam_addr_local(OCKAM__NODEMANAGER_ADDR)));
    fn.nm_open = true;
    ockam_err err = ockam_send_to(w, r, json, len);
    ockam_route_free(r);
    for (int turns = 0; !err && !fn_nm_reply && max_ms; turns++) {
        if (turns < 64) {
            fn_turn();
            continue;
        }
        uint64_t step = max_ms < 100 ? max_ms : 100;
        fn_advance(step);
        max_ms -= step;
    }
    fn.nm_open = false;
    ockam_worker_stop(w);
    ockam_msg *reply = fn_nm_reply;
    fn_nm_reply = NULL;
    return reply;
}

/* fn_nm_ask's reply status, or -1 without a reply. */
static int
fn_nm_request(const char *json, size_t len, uint64_t max_ms)
{
    ockam_msg *reply = fn_nm_ask(json, len, max_ms);
    if (!reply)
        return -1;
    ockam_slice p = ockam_msg_payload(reply);
    int status = -1;
    const char *key = "\"status\":";
    for (size_t i = 0; i + strlen(key) < p.len; i++) {
        if (memcmp(p.ptr + i, key, strlen(key)) == 0) {
            status = atoi((const char *)p.ptr + i + strlen(key)); /* digits then ',' or '}' */
            break;
        }
    }
    ockam_msg_free(reply);
    return status;
}

static void
fn_setup(void)
{
    static bool once;
    if (fn.node)
        return;
    if (!once)
        ockam_set_allocator(fn_alloc, fn_realloc, fn_free); /* before any other call */
    /* FUZZ_NODE_LOG=debug (or info, warn) shows the node's log when triaging an input. */
    const char *lv = getenv("FUZZ_NODE_LOG");
    if (!lv) {
        ockam_log_set_handler(fn_quiet_log, NULL);
        ockam_log_set_level(OCKAM_LOG_ERROR);
    } else {
        ockam_log_set_level(lv[0] == 'd' ? OCKAM_LOG_DEBUG
                : lv[0] == 'i'           ? OCKAM_LOG_INFO
                                         : OCKAM_LOG_WARN);
    }
    if (!once) {
        FUZZ_CHECK(ockam_vault_memory_new(&fn_vault) == OCKAM_OK);
        FUZZ_CHECK(ockam_identity_create(
                       fn_vault, (uint64_t)time(NULL), OCKAM_SC_KEY_DEFAULT_TTL_S, &fn_identity)
            == OCKAM_OK);
    }
    once = true;
    fn.node = ockam_node_new();
    FUZZ_CHECK(fn.node);

    /* api.sock in a directory of its own, on tmpfs when there is one (a socket inode on a disk
     * file system cost more than the rest of a node's setup); the bound listener keeps working
     * without either, so both go at once and a fuzzer that crashes leaves nothing behind. */
    char dir[64], sock[96];
    snprintf(dir, sizeof dir, "%s/ockam-fuzz-XXXXXX",
        access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    FUZZ_CHECK(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/api.sock", dir);
    ockam_listener *api = NULL;
    FUZZ_CHECK(ockam_uds_listen(fn.node, sock, &api) == OCKAM_OK);
    unlink(sock);
    rmdir(dir);
    ockam__nodemanager_opts o = {.node_name = "fuzz", .api_listener = api};
    FUZZ_CHECK(ockam__nodemanager_start(fn.node, &o, &fn.nm) == OCKAM_OK);
    ockam_listener *tcp = NULL;
    FUZZ_CHECK(ockam__nodemanager_tcp_listen(fn.nm, "127.0.0.1:0", &tcp) == OCKAM_OK);
    fn.tcp_flow = ockam_listener_flow_id(tcp);
    static const char *const services[] = {"echo", "uppercase", "hop"};
    for (size_t i = 0; i < 3; i++)
        FUZZ_CHECK(ockam__nodemanager_start_service(fn.nm, services[i], NULL) == OCKAM_OK);
    fn.uds = ockam__transport_get(fn.node, OCKAM_TRANSPORT_UDS);
    FUZZ_CHECK(fn.uds);

    /* The outlets' targets: an echo listener in this loop, and an address that refuses. */
    uv_loop_t *loop = ockam__node_loop(fn.node);
    struct sockaddr_in sa;
    int salen = sizeof sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    FUZZ_CHECK(uv_tcp_init(loop, &fn.target) == 0);
    FUZZ_CHECK(uv_tcp_bind(&fn.target, (const struct sockaddr *)&sa, 0) == 0);
    FUZZ_CHECK(uv_listen((uv_stream_t *)&fn.target, 64, fn_target_accept) == 0);
    FUZZ_CHECK(uv_tcp_getsockname(&fn.target, (struct sockaddr *)&sa, &salen) == 0);
    int echo_port = fn_port_of(&sa);
    fn.echo_port = echo_port;
    fn.refused_fd = socket(AF_INET, SOCK_STREAM, 0);
    uv_ip4_addr("127.0.0.1", 0, &sa);
    socklen_t sl = sizeof sa;
    FUZZ_CHECK(fn.refused_fd >= 0 && bind(fn.refused_fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    FUZZ_CHECK(getsockname(fn.refused_fd, (struct sockaddr *)&sa, &sl) == 0);
    fn.refused_port = fn_port_of(&sa);
    char req[160];
    int n = snprintf(req, sizeof req,
        "{\"method\":\"POST\",\"path\":\"/node/outlet\",\"body\":{\"to\":\"127.0.0.1:%d\"}}",
        echo_port);
    FUZZ_CHECK(fn_nm_request(req, (size_t)n, 5000) == 200);
    n = snprintf(req, sizeof req,
        "{\"method\":\"POST\",\"path\":\"/node/outlet\",\"body\":{\"to\":\"127.0.0.1:%d\","
        "\"from\":\"refused\"}}",
        fn_port_of(&sa));
    FUZZ_CHECK(fn_nm_request(req, (size_t)n, 5000) == 200);

    /* A secure channel listener at "api", reachable from the connections as a node's would be
     * (what a handshake opens is reachable only through the channel: ockam/secure_channel.h). */
    if (!fn_no_sc_listener) {
        FUZZ_CHECK(ockam_sc_listen(fn.node, fn_identity, "api", NULL, NULL) == OCKAM_OK);
        FUZZ_CHECK(ockam_flow_add_consumer(fn.node, "api", fn.tcp_flow) == OCKAM_OK);
    }

    ockam_worker_opts po = {.on_message = fn_probe_msg,
        .incoming = {.kind = OCKAM_ACCESS_CALLBACK, .cb = fn_probe_access}};
    FUZZ_CHECK(ockam_worker_start(fn.node, "probe", &po, NULL) == OCKAM_OK);
    const char *nm_addr = OCKAM__NODEMANAGER_ADDR;
    struct ockam__entry *e = ockam__registry_find(
        ockam__node_registry(fn.node), (const uint8_t *)nm_addr, strlen(nm_addr));
    FUZZ_CHECK(e && e->worker);
    ockam_worker_set_incoming(
        e->worker, (ockam_access) {OCKAM_ACCESS_CALLBACK, fn_nm_access, NULL});
    for (int i = 0; i < 16; i++)
        ockam_node_run_nowait(fn.node);
}

/* Free the node and everything of the harness's that lives on its loop; fn_setup makes a new
 * one. */
static void
fn_teardown(void)
{
    fn_target_close_all();
    uv_close((uv_handle_t *)&fn.target, NULL);
    for (int n = 0; n < 1000 && fn.nclients; n++)
        ockam_node_run_nowait(fn.node);
    FUZZ_CHECK(fn.nclients == 0);
    ockam_node_run_nowait(fn.node); /* the listener's close callback */
    ockam_node_free(fn.node);       /* fn_identity and fn_vault stay for the next node */
    close(fn.refused_fd);
    memset(&fn, 0, sizeof fn);
}

/* ---- fake connections ----------------------------------------------------------------- */

struct fn_conn {
    ockam_conn *c; /* NULL once it closed */
    int peer;      /* the harness's end of the socketpair (-1: slot unused) */
};

static struct fn_conn fn_conns[FN_CONNS];

static void
fn_conn_closed(ockam_conn *c, ockam_err reason, void *user)
{
    (void)c, (void)reason;
    ((struct fn_conn *)user)->c = NULL;
}

static void
fn_drain_peers(void)
{
    char buf[16384];
    for (size_t i = 0; i < FN_CONNS; i++) {
        if (fn_conns[i].peer < 0)
            continue;
        while (read(fn_conns[i].peer, buf, sizeof buf) > 0) { }
    }
}

static void
fn_turn(void)
{
    ockam_node_run_nowait(fn.node);
    fn_drain_peers();
}

static bool
fn_conn_open(size_t i, ockam_wire_profile profile)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
        return false;
    ockam_conn *c = NULL;
    char peer[32];
    snprintf(peer, sizeof peer, "fuzz-peer-%zu", i);
    ockam_err err = ockam__conn_adopt(fn.uds, sv[0], peer, profile, fn.tcp_flow, &c);
    if (err) {
        close(sv[1]); /* sv[0] is closed by ockam__conn_adopt */
        return false;
    }
    fn_conns[i].c = c;
    fn_conns[i].peer = sv[1];
    FUZZ_CHECK(ockam_conn_on_close(c, fn_conn_closed, &fn_conns[i]) == OCKAM_OK);
    return true;
}

/* Feed everything, running loop turns while the connection's read budget is spent. */
static void
fn_feed(size_t i, const uint8_t *data, size_t len)
{
    for (int tries = 0; len && fn_conns[i].c && tries < 64; tries++) {
        size_t n = ockam__conn_feed(fn_conns[i].c, data, len);
        data += n;
        len -= n;
        if (len)
            fn_turn();
    }
}

/* End every connection as a peer would (end of stream; a paused one is closed locally), close
 * the echo target's sockets, and run the loop until everything is gone. */
static void
fn_close_all(void)
{
    for (int round = 0; round < 2000; round++) {
        bool open = false;
        for (size_t i = 0; i < FN_CONNS; i++) {
            if (!fn_conns[i].c)
                continue;
            open = true;
            if (round == 0)
                ockam__conn_feed_eof(fn_conns[i].c);
            else if (round == 100)
                ockam_conn_close(fn_conns[i].c);
        }
        if (!open)
            break;
        fn_turn();
    }
    for (size_t i = 0; i < FN_CONNS; i++) {
        FUZZ_CHECK(!fn_conns[i].c); /* a connection that cannot be closed */
        if (fn_conns[i].peer >= 0)
            close(fn_conns[i].peer);
        fn_conns[i].peer = -1;
    }
    fn_target_close_all();
}

/* Let ms milliseconds pass on the node's clock, in steps so that timers set by timers fire:
 * steps of 500 ms, longer up to the next timer due, and all the rest at once when no timer is
 * due before the end. (Fixed 500 ms steps spent most of a portal input's time in loop turns
 * where no timer was due.) */
static void
fn_advance(uint64_t ms)
{
    uv_loop_t *loop = ockam__node_loop(fn.node);
    while (ms) {
        uint64_t step = ms < 500 ? ms : 500;
        int next = uv_backend_timeout(loop); /* -1: no timer; 0: work pending now */
        if (next < 0 || (uint64_t)next >= ms)
            step = ms;
        else if ((uint64_t)next > step)
            step = (uint64_t)next;
        fn_clock_skew_ns += (int64_t)step * 1000000;
        ms -= step;
        fn_turn();
        fn_turn();
    }
}

static void
fn_print_addr(ockam_addr a, void *arg)
{
    (void)arg;
    fprintf(stderr, "fuzz_node:   worker %.*s\n", (int)a.len, (const char *)a.bytes);
}

/* Run the loop until the live allocations are back to `base` (handles close over a few turns;
 * outlet connections end once the target's sockets closed). */
/* Live allocations, without what this thread keeps for reuse (freed messages and read
 * buffers, core/msg.c and core/chunk.c): those caches are emptied first. */
static long
fn_live_now(void)
{
    ockam__msg_cache_release();
    ockam__chunk_cache_release();
    return atomic_load(&fn_live);
}

static void
fn_check_baseline(long base)
{
    for (int round = 0; round < 4000 && fn_live_now() != base; round++) {
        fn_turn();
        if (round > 200 && fn.nclients)
            fn_target_close_all();
        if (round % 300 == 0 && round > 0)
            fn_advance(31000); /* lingering workers and close timeouts end (portal sockets
                                * drain for up to 30 s; a timer armed after one advance
                                * needs the next) */
        if (round > 1000)
            usleep(100); /* a connect or close still in the kernel */
    }
    long live = fn_live_now();
    if (live != base) {
        fprintf(
            stderr, "fuzz_node: %ld live allocations after the input, %ld before\n", live, base);
        ockam_node_each_address(fn.node, fn_print_addr, NULL);
        fn_track_print();
        abort();
    }
}

/* For the targets that make a node per input: one node made and freed, so that everything
 * made once per process (fn_identity, the listener's key in its vault) exists, then the live
 * allocations without a node. */
static void
fn_cycle_base(void)
{
    fn_setup();
    fn_teardown();
    fn_idle_live = fn_live_now();
}

/* After fn_teardown: nothing of the node is left. */
static void
fn_check_idle(const char *target)
{
    long live = fn_live_now();
    if (live != fn_idle_live) {
        fprintf(stderr, "%s: %ld allocations live after the node was freed, %ld without one\n",
            target, live, fn_idle_live);
        abort();
    }
}

static void
fn_reset_slots(void)
{
    for (size_t i = 0; i < FN_CONNS; i++) {
        fn_conns[i].c = NULL;
        fn_conns[i].peer = -1;
    }
}

#pragma clang attribute pop

#endif
