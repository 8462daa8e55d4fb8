/* Helpers shared by the libockam benchmark roles (see bench_node.h). */
#include "bench_node.h"
#include "bench_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
bench_must(ockam_err err, const char *what)
{
    if (err != OCKAM_OK)
        bench_die("%s: %s", what, ockam_strerror(err));
}

int
bench_port_of(const char *addr)
{
    const char *colon = strrchr(addr, ':');
    return colon ? atoi(colon + 1) : 0;
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

ockam_conn *
bench_connect(ockam_node *node, long port)
{
    char peer[32];
    struct connecting c = {0};
    snprintf(peer, sizeof peer, "127.0.0.1:%ld", port);
    bench_must(ockam_tcp_connect(node, peer, NULL, on_connected, &c), "ockam_tcp_connect");
    while (!c.done)
        ockam_node_run_once(node);
    bench_must(c.status, "connect");
    return c.conn;
}

ockam_route *
bench_route(const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ockam_route *r = ockam_route_new();
    if (!r || ockam_route_parse(r, text) != OCKAM_OK)
        bench_die("bad route %s", text);
    return r;
}

void
bench_ignore_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_msg_free(msg);
}

void
bench_sink_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct bench_sink *s = user;
    size_t n = ockam_msg_payload(msg).len;
    ockam_msg_free(msg);
    if (s->t0 == 0)
        s->t0 = bench_now_ns();
    if (n == BENCH_END_SIZE) {
        bench_report_thr(s->msgs, s->bytes, bench_now_ns() - s->t0);
        ockam_node_stop(s->node);
        return;
    }
    s->msgs++;
    s->bytes += n;
}

static size_t
queued(ockam_conn *conn)
{
    struct ockam_conn_stats s;
    ockam_conn_stats(conn, &s);
    return s.queued_bytes;
}

static void
on_conn_closed(ockam_conn *conn, ockam_err reason, void *user)
{
    *(bool *)user = true;
}

void
bench_source_run(ockam_node *node, ockam_worker *app, ockam_conn *conn, const ockam_route *route,
    const uint8_t *payload, size_t size, double secs, long count, bool turn_each_burst)
{
    /* Check the mark at least every BENCH_QUEUE_MARK bytes (big messages) or 64 messages. */
    size_t burst = BENCH_QUEUE_MARK / (size ? size : 1);
    burst = burst < 1 ? 1 : burst > 64 ? 64 : burst;
    uint64_t end = bench_now_ns() + (uint64_t)(secs * 1e9);
    long sent = 0;
    do {
        if (count > 0 && (long)burst > count - sent)
            burst = (size_t)(count - sent);
        for (size_t i = 0; i < burst; i++)
            bench_must(ockam_send_to(app, route, payload, size), "send");
        sent += (long)burst;
        if (turn_each_burst)
            ockam_node_run_nowait(node);
        if (queued(conn) >= BENCH_QUEUE_MARK) {
            ockam_node_run_nowait(node); /* write the batch */
            while (queued(conn) >= BENCH_QUEUE_MARK)
                ockam_node_run_once(node); /* blocks until the socket takes more */
        }
    } while (count > 0 ? sent < count : bench_now_ns() < end);
    bench_must(ockam_send_to(app, route, "E", BENCH_END_SIZE), "send");
    if (turn_each_burst)
        ockam_node_run_nowait(node);
    bool closed = false;
    if (ockam_conn_on_close(conn, on_conn_closed, &closed) != OCKAM_OK)
        return;
    ockam_conn_close(conn); /* flushes what is queued first */
    while (!closed)
        ockam_node_run_once(node);
}
