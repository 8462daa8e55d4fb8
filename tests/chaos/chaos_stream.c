/* chaos_stream: a stream of routed messages with sequence numbers, for scripts/chaos.sh.
 *
 * An in-process node sends one message every interval_ms along ROUTE (e.g. through n1's hop,
 * n2's relay and n3's echo) and checks the echoed replies: each reply's sequence number must
 * be greater than every one seen before. Routing has no retransmission, so a fault may lose
 * messages (counted) but must never duplicate or reorder them. Runs until SIGTERM/SIGINT or
 * `seconds` pass, then writes one JSON line of counters to OUT (the node logs on stdout);
 * exit status 1 if the order was broken.
 *
 * Usage: chaos_stream ROUTE SECONDS INTERVAL_MS OUT
 * Threading: one node, one loop; signals are turned into a loop callback by a timer poll. */
#include "ockam/ockam.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct stream_state {
    ockam_node *node;
    ockam_worker *worker;
    ockam_route *route;
    uint64_t next_seq;
    uint64_t sent, send_errors, received, misordered, duplicates, malformed;
    uint64_t last_seq; /* highest sequence number received, 0 = none yet */
    uint64_t deadline_ms;
    uint64_t last_reply_ms, longest_silence_ms, started_ms;
} stream_state;

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void
on_reply(ockam_worker *self, ockam_msg *msg, void *user)
{
    (void)self;
    stream_state *st = user;
    ockam_slice p = ockam_msg_payload(msg);
    char buf[32];
    uint64_t now = ockam_node_now_ms(st->node);
    if (p.len == 0 || p.len >= sizeof buf) {
        st->malformed++;
        ockam_msg_free(msg);
        return;
    }
    memcpy(buf, p.ptr, p.len);
    buf[p.len] = '\0';
    uint64_t seq = strtoull(buf, NULL, 10);
    ockam_msg_free(msg);
    st->received++;
    if (seq == st->last_seq)
        st->duplicates++;
    else if (seq < st->last_seq)
        st->misordered++;
    else
        st->last_seq = seq;
    uint64_t since = now - (st->last_reply_ms ? st->last_reply_ms : st->started_ms);
    if (since > st->longest_silence_ms)
        st->longest_silence_ms = since;
    st->last_reply_ms = now;
}

static void
on_tick(ockam_timer *timer, void *user)
{
    (void)timer;
    stream_state *st = user;
    if (stop_requested || ockam_node_now_ms(st->node) >= st->deadline_ms) {
        ockam_node_stop(st->node);
        return;
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%" PRIu64, st->next_seq++);
    /* A failed send (connection being re-opened, peer gone) is a loss the run tolerates. */
    if (ockam_send_to(st->worker, st->route, buf, (size_t)n) == OCKAM_OK)
        st->sent++;
    else
        st->send_errors++;
}

int
main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: chaos_stream ROUTE SECONDS INTERVAL_MS OUT\n");
        return 64;
    }
    uint64_t seconds = strtoull(argv[2], NULL, 10);
    uint64_t interval = strtoull(argv[3], NULL, 10);
    stream_state st = {.next_seq = 1};
    st.node = ockam_node_new();
    st.route = ockam_route_new();
    if (!st.node || !st.route || ockam_route_parse(st.route, argv[1]) != OCKAM_OK) {
        fprintf(stderr, "chaos_stream: bad route %s\n", argv[1]);
        return 64;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    ockam_worker_opts opts = {.on_message = on_reply, .user = &st};
    if (ockam_tcp_init(st.node, NULL) != OCKAM_OK
        || ockam_worker_start(st.node, "stream", &opts, &st.worker) != OCKAM_OK
        || ockam_timer_start(st.node, interval, interval, on_tick, &st, NULL) != OCKAM_OK)
        return 70;
    st.started_ms = ockam_node_now_ms(st.node);
    st.deadline_ms = st.started_ms + seconds * 1000;
    ockam_node_run(st.node);
    FILE *out = fopen(argv[4], "w");
    if (!out)
        return 70;
    fprintf(out,
        "{\"sent\": %" PRIu64 ", \"send_errors\": %" PRIu64 ", \"received\": %" PRIu64
        ", \"lost\": %" PRIu64 ", \"duplicates\": %" PRIu64 ", \"misordered\": %" PRIu64
        ", \"malformed\": %" PRIu64 ", \"longest_silence_ms\": %" PRIu64 "}\n",
        st.sent, st.send_errors, st.received, st.sent - st.received, st.duplicates, st.misordered,
        st.malformed, st.longest_silence_ms);
    fclose(out);
    ockam_route_free(st.route);
    ockam_node_free(st.node);
    return st.duplicates || st.misordered || st.malformed ? 1 : 0;
}
