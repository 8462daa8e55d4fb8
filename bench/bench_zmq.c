/* ZeroMQ baselines (libzmq 4.3), written the way ZeroMQ's guide and its perf tools use the
 * API: default socket options (high-water marks, TCP_NODELAY as libzmq sets it), zmq_send()
 * from a buffer, zmq_msg_recv() into a zmq_msg_t, zmq_proxy() for the intermediary.
 *
 * Roles (key=value arguments; see bench_util.h):
 *   pull                         PULL binds, counts messages until the end marker
 *   push port= size= secs=       PUSH connects and sends for `secs`, then the end marker
 *   rep                          REP binds and replies with each request
 *   req port= size= secs=        REQ connects, one request at a time, reports p50/p99
 *   stream-proxy to=             zmq_proxy(PULL bound, PUSH connected to `to`) (streamer)
 *   broker to=                   zmq_proxy(ROUTER bound, DEALER connected to `to`) */
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static void *ctx;

static void *
open_socket(int type)
{
    void *s = zmq_socket(ctx, type);
    if (!s)
        bench_die("zmq_socket: %s", zmq_strerror(zmq_errno()));
    return s;
}

/* Bind to an ephemeral port on 127.0.0.1 and return it. */
static int
bind_any(void *s)
{
    char ep[256];
    size_t len = sizeof ep;
    if (zmq_bind(s, "tcp://127.0.0.1:*") != 0
        || zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len) != 0)
        bench_die("zmq_bind: %s", zmq_strerror(zmq_errno()));
    const char *colon = strrchr(ep, ':');
    return colon ? atoi(colon + 1) : 0;
}

static void
connect_port(void *s, long port)
{
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%ld", port);
    if (zmq_connect(s, ep) != 0)
        bench_die("zmq_connect %s: %s", ep, zmq_strerror(zmq_errno()));
}

static int
role_pull(int argc, char **argv)
{
    void *s = open_socket(ZMQ_PULL);
    bench_ready(bind_any(s));
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    uint64_t msgs = 0, bytes = 0, t0 = 0;
    for (;;) {
        if (zmq_msg_recv(&msg, s, 0) < 0)
            bench_die("zmq_msg_recv: %s", zmq_strerror(zmq_errno()));
        if (t0 == 0)
            t0 = bench_now_ns();
        size_t n = zmq_msg_size(&msg);
        if (n == BENCH_END_SIZE)
            break;
        msgs++;
        bytes += n;
    }
    bench_report_thr(msgs, bytes, bench_now_ns() - t0);
    zmq_msg_close(&msg);
    zmq_close(s);
    return 0;
}

static int
role_push(int argc, char **argv)
{
    size_t size = (size_t)bench_arg_long(argc, argv, "size", 256);
    double secs = bench_arg_double(argc, argv, "secs", 0.5);
    uint8_t *payload = bench_payload(size);
    void *s = open_socket(ZMQ_PUSH);
    connect_port(s, bench_arg_long(argc, argv, "port", 0));
    uint64_t end = bench_now_ns() + (uint64_t)(secs * 1e9);
    do {
        for (int i = 0; i < 256; i++) {
            if (zmq_send(s, payload, size, 0) < 0)
                bench_die("zmq_send: %s", zmq_strerror(zmq_errno()));
        }
    } while (bench_now_ns() < end);
    zmq_send(s, "E", BENCH_END_SIZE, 0);
    zmq_close(s); /* default linger: zmq_ctx_term() waits until everything is sent */
    return 0;
}

static int
role_rep(int argc, char **argv)
{
    void *s = open_socket(ZMQ_REP);
    bench_ready(bind_any(s));
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    for (;;) {
        if (zmq_msg_recv(&msg, s, 0) < 0 || zmq_msg_send(&msg, s, 0) < 0)
            bench_die("rep: %s", zmq_strerror(zmq_errno()));
    }
}

static int
role_req(int argc, char **argv)
{
    size_t size = (size_t)bench_arg_long(argc, argv, "size", 16);
    double secs = bench_arg_double(argc, argv, "secs", 0.3);
    uint8_t *payload = bench_payload(size);
    void *s = open_socket(ZMQ_REQ);
    connect_port(s, bench_arg_long(argc, argv, "port", 0));
    zmq_msg_t reply;
    zmq_msg_init(&reply);
    struct bench_lat lat;
    bench_lat_init(&lat, 1000000);
    uint64_t end = bench_now_ns() + (uint64_t)(secs * 1e9);
    for (long i = 0;; i++) {
        uint64_t t = bench_now_ns();
        if (zmq_send(s, payload, size, 0) < 0 || zmq_msg_recv(&reply, s, 0) < 0)
            bench_die("req: %s", zmq_strerror(zmq_errno()));
        uint64_t now = bench_now_ns();
        if (zmq_msg_size(&reply) != size)
            bench_die("req: bad reply");
        if (i >= 200 && !bench_lat_add(&lat, now - t))
            break;
        if (now >= end && lat.n >= 1000)
            break;
    }
    zmq_msg_close(&reply);
    zmq_close(s);
    bench_lat_report(&lat);
    return 0;
}

static int
run_proxy(int front_type, int back_type, long to)
{
    void *front = open_socket(front_type);
    void *back = open_socket(back_type);
    connect_port(back, to);
    bench_ready(bind_any(front));
    zmq_proxy(front, back, NULL); /* runs until the runner ends the process */
    return 0;
}

static int
role_stream_proxy(int argc, char **argv)
{
    return run_proxy(ZMQ_PULL, ZMQ_PUSH, bench_arg_long(argc, argv, "to", 0));
}

static int
role_broker(int argc, char **argv)
{
    return run_proxy(ZMQ_ROUTER, ZMQ_DEALER, bench_arg_long(argc, argv, "to", 0));
}

int
main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } roles[] = {{"pull", role_pull}, {"push", role_push}, {"rep", role_rep}, {"req", role_req},
        {"stream-proxy", role_stream_proxy}, {"broker", role_broker}};
    ctx = zmq_ctx_new();
    for (size_t i = 0; argc > 1 && i < sizeof roles / sizeof roles[0]; i++) {
        if (strcmp(argv[1], roles[i].name) == 0) {
            int rc = roles[i].fn(argc, argv);
            zmq_ctx_term(ctx);
            return rc;
        }
    }
    fprintf(stderr, "usage: %s pull|push|rep|req|stream-proxy|broker [k=v...]\n", argv[0]);
    return 64;
}
