/* nng baselines (nng 1.5), written the way nng's documentation and its perf tool use the API:
 * default socket options, nng_msg_alloc() + nng_sendmsg() to send without an extra copy,
 * nng_recvmsg() to receive, raw sockets joined by nng_device() for the intermediary. Like
 * nng's perf tool, throughput sockets get 128-message send/receive buffers (the default of 0
 * or a few messages makes every send wait for the pipe).
 *
 * Roles (key=value arguments; see bench_util.h). proto=push (default) or proto=pair for the
 * one-way roles:
 *   pull [proto=]                 listen, count messages until the end marker
 *   push port= size= secs= [proto=]
 *                                 dial, send for `secs`, then the end marker; waits until the
 *                                 receiver hangs up (nng has no linger on close)
 *   rep                           listen, reply with each request
 *   req port= size= secs=         dial, one request at a time, report p50/p99
 *   stream-device to=             nng_device(raw PULL listening, raw PUSH dialing `to`)
 *   reqrep-device to=             nng_device(raw REP listening, raw REQ dialing `to`) */
#include "bench_util.h"

#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>
#include <stdio.h>
#include <string.h>

static void
check(int rv, const char *what)
{
    if (rv != 0)
        bench_die("%s: %s", what, nng_strerror(rv));
}

static int
listen_any(nng_socket s)
{
    nng_listener l;
    int port = 0;
    check(nng_listen(s, "tcp://127.0.0.1:0", &l, 0), "nng_listen");
    check(nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), "bound port");
    return port;
}

static void
dial_port(nng_socket s, long port)
{
    char url[64];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%ld", port);
    check(nng_dial(s, url, NULL, 0), "nng_dial");
}

/* Message buffers as nng's perf tool sets them; protocols without the option ignore it. */
static void
buffers(nng_socket s)
{
    int rv = nng_socket_set_int(s, NNG_OPT_SENDBUF, 128);
    if (rv != 0 && rv != NNG_ENOTSUP)
        check(rv, "NNG_OPT_SENDBUF");
    rv = nng_socket_set_int(s, NNG_OPT_RECVBUF, 128);
    if (rv != 0 && rv != NNG_ENOTSUP)
        check(rv, "NNG_OPT_RECVBUF");
}

static int
pair_mode(int argc, char **argv)
{
    return strcmp(bench_arg_str(argc, argv, "proto", "push"), "pair") == 0;
}

static int
role_pull(int argc, char **argv)
{
    nng_socket s;
    check(pair_mode(argc, argv) ? nng_pair0_open(&s) : nng_pull0_open(&s), "open");
    buffers(s);
    bench_ready(listen_any(s));
    uint64_t msgs = 0, bytes = 0, t0 = 0;
    for (;;) {
        nng_msg *m;
        check(nng_recvmsg(s, &m, 0), "nng_recvmsg");
        if (t0 == 0)
            t0 = bench_now_ns();
        size_t n = nng_msg_len(m);
        nng_msg_free(m);
        if (n == BENCH_END_SIZE)
            break;
        msgs++;
        bytes += n;
    }
    bench_report_thr(msgs, bytes, bench_now_ns() - t0);
    nng_close(s);
    return 0;
}

struct hangup {
    nng_mtx *mtx;
    nng_cv *cv;
    int gone;
};

static void
on_pipe_gone(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    struct hangup *h = arg;
    nng_mtx_lock(h->mtx);
    h->gone = 1;
    nng_cv_wake(h->cv);
    nng_mtx_unlock(h->mtx);
}

static int
role_push(int argc, char **argv)
{
    size_t size = (size_t)bench_arg_long(argc, argv, "size", 256);
    double secs = bench_arg_double(argc, argv, "secs", 0.5);
    uint8_t *payload = bench_payload(size);
    nng_socket s;
    struct hangup h = {0};
    check(nng_mtx_alloc(&h.mtx), "mtx");
    check(nng_cv_alloc(&h.cv, h.mtx), "cv");
    check(pair_mode(argc, argv) ? nng_pair0_open(&s) : nng_push0_open(&s), "open");
    buffers(s);
    check(nng_pipe_notify(s, NNG_PIPE_EV_REM_POST, on_pipe_gone, &h), "notify");
    dial_port(s, bench_arg_long(argc, argv, "port", 0));
    uint64_t end = bench_now_ns() + (uint64_t)(secs * 1e9);
    do {
        for (int i = 0; i < 256; i++) {
            nng_msg *m;
            check(nng_msg_alloc(&m, size), "nng_msg_alloc");
            memcpy(nng_msg_body(m), payload, size);
            check(nng_sendmsg(s, m, 0), "nng_sendmsg");
        }
    } while (bench_now_ns() < end);
    nng_msg *m;
    check(nng_msg_alloc(&m, BENCH_END_SIZE), "nng_msg_alloc");
    check(nng_sendmsg(s, m, 0), "nng_sendmsg");
    /* Closing would discard what is still queued: wait for the receiver to hang up. */
    nng_mtx_lock(h.mtx);
    while (!h.gone)
        nng_cv_wait(h.cv);
    nng_mtx_unlock(h.mtx);
    nng_close(s);
    return 0;
}

static int
role_rep(int argc, char **argv)
{
    nng_socket s;
    check(nng_rep0_open(&s), "nng_rep0_open");
    bench_ready(listen_any(s));
    nng_msg *m;
    int rv;
    while ((rv = nng_recvmsg(s, &m, 0)) == 0 && (rv = nng_sendmsg(s, m, 0)) == 0) { }
    bench_die("rep: %s", nng_strerror(rv));
}

static int
role_req(int argc, char **argv)
{
    size_t size = (size_t)bench_arg_long(argc, argv, "size", 16);
    double secs = bench_arg_double(argc, argv, "secs", 0.3);
    uint8_t *payload = bench_payload(size);
    nng_socket s;
    check(nng_req0_open(&s), "nng_req0_open");
    dial_port(s, bench_arg_long(argc, argv, "port", 0));
    struct bench_lat lat;
    bench_lat_init(&lat, 1000000);
    uint64_t end = bench_now_ns() + (uint64_t)(secs * 1e9);
    for (long i = 0;; i++) {
        uint64_t t = bench_now_ns();
        nng_msg *m;
        check(nng_msg_alloc(&m, size), "nng_msg_alloc");
        memcpy(nng_msg_body(m), payload, size);
        check(nng_sendmsg(s, m, 0), "nng_sendmsg");
        check(nng_recvmsg(s, &m, 0), "nng_recvmsg");
        uint64_t now = bench_now_ns();
        if (nng_msg_len(m) != size)
            bench_die("req: bad reply");
        nng_msg_free(m);
        if (i >= 200 && !bench_lat_add(&lat, now - t))
            break;
        if (now >= end && lat.n >= 1000)
            break;
    }
    nng_close(s);
    bench_lat_report(&lat);
    return 0;
}

static int
run_device(int (*open_front)(nng_socket *), int (*open_back)(nng_socket *), long to)
{
    nng_socket front, back;
    check(open_front(&front), "open raw front");
    check(open_back(&back), "open raw back");
    buffers(front);
    buffers(back);
    dial_port(back, to);
    bench_ready(listen_any(front));
    check(nng_device(front, back), "nng_device"); /* runs until the runner ends the process */
    return 0;
}

static int
role_stream_device(int argc, char **argv)
{
    return run_device(nng_pull0_open_raw, nng_push0_open_raw, bench_arg_long(argc, argv, "to", 0));
}

static int
role_reqrep_device(int argc, char **argv)
{
    return run_device(nng_rep0_open_raw, nng_req0_open_raw, bench_arg_long(argc, argv, "to", 0));
}

int
main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } roles[] = {{"pull", role_pull}, {"push", role_push}, {"rep", role_rep}, {"req", role_req},
        {"stream-device", role_stream_device}, {"reqrep-device", role_reqrep_device}};
    for (size_t i = 0; argc > 1 && i < sizeof roles / sizeof roles[0]; i++) {
        if (strcmp(argv[1], roles[i].name) == 0)
            return roles[i].fn(argc, argv);
    }
    fprintf(stderr, "usage: %s pull|push|rep|req|stream-device|reqrep-device [k=v...]\n", argv[0]);
    return 64;
}
