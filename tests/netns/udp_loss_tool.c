/* Sender and receiver for the UDP tests in network namespaces (tests/netns/udp_loss.sh,
 * tests/netns/udp_order.sh), built on libockam.
 *
 *   udp_loss_tool recv BIND SINGLES MULTIS MAX_TOTAL_BYTES [LOSS_PERCENT]
 *   udp_loss_tool send BIND DEST SINGLES MULTIS MULTI_SIZE [DEAD_DEST]
 *
 * The sender sends SINGLES one-fragment messages and MULTIS messages of MULTI_SIZE bytes
 * (several fragments), interleaved and paced, each carrying its kind, sequence number and a
 * checksum of its body. With DEAD_DEST, every message is followed by one to DEAD_DEST, a port
 * nobody listens on: the ICMP errors they cause come back as pending errors of the socket's
 * later sends. The receiver counts what arrives, verifies every checksum, and checks that
 * multi-fragment messages arrive intact or not at all and that reassembly memory stays within
 * MAX_TOTAL_BYTES; with the network dropping LOSS_PERCENT (default 10) of the datagrams,
 * single-fragment messages must arrive at LOSS_PERCENT +- 5 % loss and some but not all
 * multi-fragment ones; with 0, every message must arrive. It stops after 1.5 s without
 * traffic (or 60 s in all) and exits 0 only when every check holds. It prints "ready" on
 * stdout once bound, and one "result ..." line at the end; the sender prints one "sent ..."
 * line. */
#include "ockam/ockam.h"
#include "ockam/udp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER 13
#define SINGLE_SIZE 64
#define IDLE_MS 1500
#define TOTAL_MS 60000
#define TICK_MS 2
#define PER_TICK 16

enum kind { KIND_SINGLE = 1, KIND_MULTI = 2 };

static uint32_t
fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- receiver ------------------------------------------------------------------------ */

struct rx {
    ockam_node *node;
    ockam_udp_bind *bind;
    uint32_t singles, multis, loss_percent;
    uint32_t got_single, got_multi, bad;
    uint64_t last_ms, start_ms, seen;
    size_t max_total, peak_node;
};

static void
sink_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct rx *rx = user;
    ockam_slice p = ockam_msg_payload(msg);
    if (p.len < HEADER || get32(p.ptr + 5) != p.len
        || fnv1a(p.ptr + HEADER, p.len - HEADER) != get32(p.ptr + 9))
        rx->bad++;
    else if (p.ptr[0] == KIND_SINGLE)
        rx->got_single++;
    else if (p.ptr[0] == KIND_MULTI)
        rx->got_multi++;
    else
        rx->bad++;
    ockam_msg_free(msg);
}

static void
rx_tick(ockam_timer *t, void *user)
{
    struct rx *rx = user;
    uint64_t now = ockam_node_now_ms(rx->node);
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(rx->bind, &s);
    size_t held = ockam_udp_reassembly_bytes(rx->node);
    if (held > rx->peak_node)
        rx->peak_node = held;
    if (s.datagrams_in != rx->seen) {
        rx->seen = s.datagrams_in;
        rx->last_ms = now;
    }
    bool idle = rx->last_ms && now - rx->last_ms > IDLE_MS;
    if (idle || now - rx->start_ms > TOTAL_MS)
        ockam_node_stop(rx->node);
}

static int
rx_verdict(struct rx *rx)
{
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(rx->bind, &s);
    double single_rate = rx->singles ? (double)rx->got_single / rx->singles : 0;
    printf("result singles=%u/%u (%.1f%%) multis=%u/%u bad=%u datagrams_in=%llu gaps=%llu "
           "late=%llu abandoned=%llu stale=%llu malformed=%llu reassembly_peak=%zu "
           "node_peak=%zu cap=%zu\n",
        rx->got_single, rx->singles, 100.0 * single_rate, rx->got_multi, rx->multis, rx->bad,
        (unsigned long long)s.datagrams_in, (unsigned long long)s.gaps, (unsigned long long)s.late,
        (unsigned long long)s.abandoned, (unsigned long long)s.stale,
        (unsigned long long)s.malformed, s.reassembly_peak, rx->peak_node, rx->max_total);
    int fail = 0;
    if (rx->bad) {
        printf("FAIL: %u messages arrived corrupted\n", rx->bad);
        fail = 1;
    }
    if (rx->loss_percent == 0) {
        if (rx->got_single != rx->singles || rx->got_multi != rx->multis) {
            printf("FAIL: a lossless network lost messages\n");
            fail = 1;
        }
    } else {
        double lo = (100.0 - rx->loss_percent - 5) / 100, hi = (100.0 - rx->loss_percent + 5) / 100;
        if (single_rate < lo || single_rate > hi) {
            printf("FAIL: single-fragment delivery %.1f%% is outside %.0f-%.0f%%\n",
                100.0 * single_rate, 100 * lo, 100 * hi);
            fail = 1;
        }
        if (rx->got_multi == 0 || rx->got_multi >= rx->multis) {
            printf("FAIL: multi-fragment messages: %u of %u arrived (expected some but not all)\n",
                rx->got_multi, rx->multis);
            fail = 1;
        }
    }
    if (s.reassembly_peak > rx->max_total || rx->peak_node > rx->max_total) {
        printf(
            "FAIL: reassembly memory %zu exceeded the cap %zu\n", s.reassembly_peak, rx->max_total);
        fail = 1;
    }
    return fail;
}

static int
run_recv(const char *bind, uint32_t singles, uint32_t multis, size_t max_total, uint32_t loss)
{
    struct rx rx
        = {.singles = singles, .multis = multis, .max_total = max_total, .loss_percent = loss};
    ockam_udp_config cfg = OCKAM_UDP_CONFIG_INIT;
    cfg.max_total_bytes = max_total;
    cfg.max_peer_bytes = max_total;
    rx.node = ockam_node_new();
    if (!rx.node || ockam_udp_init(rx.node, &cfg)
        || ockam_udp_bind_open(rx.node, bind, NULL, &rx.bind)) {
        printf("FAIL: cannot bind %s\n", bind);
        return 1;
    }
    ockam_worker_opts o = {.on_message = sink_on_message, .user = &rx};
    ockam_worker_start(rx.node, "sink", &o, NULL);
    ockam_flow_add_consumer(rx.node, "sink", ockam_udp_bind_flow_id(rx.bind));
    rx.start_ms = ockam_node_now_ms(rx.node);
    ockam_timer_start(rx.node, 50, 50, rx_tick, &rx, NULL);
    printf("ready %s\n", ockam_udp_bind_local(rx.bind));
    fflush(stdout);
    ockam_node_run(rx.node);
    int rc = rx_verdict(&rx);
    ockam_node_free(rx.node);
    return rc;
}

/* ---- sender -------------------------------------------------------------------------- */

struct tx {
    ockam_node *node;
    ockam_udp_bind *bind;
    ockam_worker *app;
    ockam_route *route;
    ockam_route *dead; /* NULL, or where every message is followed by one nobody receives */
    uint32_t singles, multis, sent_single, sent_multi, sent_dead;
    size_t multi_size, peak_queued;
    uint8_t *buf;
};

static void
tx_send(struct tx *tx, enum kind k, uint32_t seq, size_t len)
{
    uint8_t *p = tx->buf;
    for (size_t i = HEADER; i < len; i++)
        p[i] = (uint8_t)(seq * 31 + i * 7);
    p[0] = (uint8_t)k;
    put32(p + 1, seq);
    put32(p + 5, (uint32_t)len);
    put32(p + 9, fnv1a(p + HEADER, len - HEADER));
    ockam_send_to(tx->app, tx->route, p, len);
    if (tx->dead) {
        ockam_send_to(tx->app, tx->dead, p, SINGLE_SIZE);
        tx->sent_dead++;
    }
}

/* One multi-fragment message after every 33 single ones, so losses interleave. */
static void
tx_tick(ockam_timer *t, void *user)
{
    struct tx *tx = user;
    for (int i = 0; i < PER_TICK; i++) {
        bool multi_due = tx->sent_multi < tx->multis
            && (tx->sent_single >= tx->singles || tx->sent_single / 33 >= tx->sent_multi);
        if (multi_due)
            tx_send(tx, KIND_MULTI, tx->sent_multi++, tx->multi_size);
        else if (tx->sent_single < tx->singles)
            tx_send(tx, KIND_SINGLE, tx->sent_single++, SINGLE_SIZE);
    }
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(tx->bind, &s);
    if (s.queued_bytes > tx->peak_queued)
        tx->peak_queued = s.queued_bytes;
    /* Done once every message is out of the bind (none waiting in a queue). */
    if (s.messages_out + s.send_dropped >= (uint64_t)tx->singles + tx->multis + tx->sent_dead
        && s.queued_bytes == 0) {
        ockam_timer_stop(t);
        ockam_node_stop(tx->node);
    }
}

static void
ignore(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_msg_free(msg);
}

static ockam_route *
route_to(struct tx *tx, const char *dest)
{
    char text[256];
    snprintf(text, sizeof text, "0#%s => 2#%s => 0#sink", ockam_udp_bind_address(tx->bind), dest);
    ockam_route *r = ockam_route_new();
    if (r && ockam_route_parse(r, text) != OCKAM_OK) {
        printf("FAIL: bad route %s\n", text);
        ockam_route_free(r);
        r = NULL;
    }
    return r;
}

static int
run_send(const char *bind, const char *dest, uint32_t singles, uint32_t multis, size_t size,
    const char *dead)
{
    struct tx tx = {.singles = singles, .multis = multis, .multi_size = size};
    /* Everything the socket cannot take yet waits in the bind: a queue limit is not what this
     * tool tests. */
    ockam_udp_config cfg = OCKAM_UDP_CONFIG_INIT;
    cfg.max_send_queue = 256u * 1024u * 1024u;
    tx.buf = malloc(size > SINGLE_SIZE ? size : SINGLE_SIZE);
    tx.node = ockam_node_new();
    if (!tx.buf || !tx.node || ockam_udp_init(tx.node, &cfg)
        || ockam_udp_bind_open(tx.node, bind, NULL, &tx.bind)) {
        printf("FAIL: cannot bind %s\n", bind);
        return 1;
    }
    ockam_worker_opts o = {.on_message = ignore};
    ockam_worker_start(tx.node, "app", &o, &tx.app);
    tx.route = route_to(&tx, dest);
    if (!tx.route || (dead && !(tx.dead = route_to(&tx, dead))))
        return 1;
    ockam_timer_start(tx.node, TICK_MS, TICK_MS, tx_tick, &tx, NULL);
    ockam_node_run(tx.node);
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(tx.bind, &s);
    printf("sent messages=%llu datagrams=%llu dropped=%llu dead=%u unreachable=%llu "
           "peak_queued=%zu\n",
        (unsigned long long)s.messages_out, (unsigned long long)s.datagrams_out,
        (unsigned long long)s.send_dropped, tx.sent_dead, (unsigned long long)s.unreachable,
        tx.peak_queued);
    ockam_route_free(tx.route);
    ockam_route_free(tx.dead);
    ockam_node_free(tx.node);
    free(tx.buf);
    /* Only messages to the dead port may be refused. */
    return s.send_dropped > tx.sent_dead ? 1 : 0;
}

int
main(int argc, char **argv)
{
    if ((argc == 6 || argc == 7) && strcmp(argv[1], "recv") == 0)
        return run_recv(argv[2], (uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4]),
            (size_t)atol(argv[5]), argc == 7 ? (uint32_t)atoi(argv[6]) : 10);
    if ((argc == 7 || argc == 8) && strcmp(argv[1], "send") == 0)
        return run_send(argv[2], argv[3], (uint32_t)atoi(argv[4]), (uint32_t)atoi(argv[5]),
            (size_t)atol(argv[6]), argc == 8 ? argv[7] : NULL);
    fprintf(stderr,
        "usage: %s recv BIND SINGLES MULTIS MAX_TOTAL_BYTES [LOSS_PERCENT]\n"
        "       %s send BIND DEST SINGLES MULTIS MULTI_SIZE [DEAD_DEST]\n",
        argv[0], argv[0]);
    return 2;
}
