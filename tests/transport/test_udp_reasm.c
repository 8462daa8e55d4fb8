/* UDP reassembly without sockets: routing-number comparison (including wrap-around and the
 * half-range boundary), Ockam's per-peer rules (late, newer, gap, reorder, duplicate,
 * is_last without start, offsets beyond 16 MiB), the memory caps (per peer, shared budget,
 * peers tracked with least-recent eviction), the stale timeout with a fake clock, and
 * once-per-peer logging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "nodes.h"
#include "transport/udp/udp_reasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024u * 1024u)

struct fixture {
    struct ockam__udp_reasm r;
    struct ockam__udp_budget budget;
};

static void
setup_with(
    struct fixture *f, size_t peer_bytes, size_t total, uint32_t max_peers, uint32_t stale_ms)
{
    memset(f, 0, sizeof *f);
    f->budget.max = total;
    struct ockam__udp_reasm_cfg cfg = {
        .peer_bytes = peer_bytes,
        .max_message = OCKAM_UDP_MAX_MESSAGE,
        .max_peers = max_peers,
        .stale_ms = stale_ms,
        .name = "test",
    };
    assert_int_equal(ockam__udp_reasm_init(&f->r, &cfg, &f->budget), OCKAM_OK);
}

static void
setup(struct fixture *f)
{
    setup_with(f, 16 * MIB, 32 * MIB, 16, 1000);
}

static struct ockam__udp_pkey
key(uint16_t port)
{
    struct ockam__udp_pkey k;
    memset(&k, 0, sizeof k);
    k.family = 4;
    k.port = port;
    k.addr[0] = 127;
    k.addr[3] = 1;
    return k;
}

static struct ockam__udp_peer *
peer(struct fixture *f, uint16_t port, uint64_t now)
{
    bool created;
    struct ockam__udp_pkey k = key(port);
    struct ockam__udp_peer *p = ockam__udp_reasm_peer(&f->r, &k, now, &created);
    assert_non_null(p);
    if (created)
        snprintf(p->text, sizeof p->text, "127.0.0.1:%u", port);
    return p;
}

/* Feed one fragment; returns the completed length or -1. */
static long
feed(struct fixture *f, uint16_t port, uint16_t number, uint32_t offset, bool last,
    const uint8_t *data, size_t len, uint64_t now, ockam_slice *out)
{
    ockam__udp_frag fr = {
        .version = 1,
        .routing_number = number,
        .offset = offset,
        .is_last = last,
        .data = {.ptr = data, .len = len},
    };
    ockam_slice s = {0};
    enum ockam__reasm_result r = ockam__udp_reasm_feed(&f->r, peer(f, port, now), &fr, now, &s);
    if (out)
        *out = s;
    return r == OCKAM__REASM_DONE ? (long)s.len : -1;
}

/* Feed a message of `len` bytes cut into 493-byte fragments, in order. */
static long
feed_msg(struct fixture *f, uint16_t port, uint16_t number, const uint8_t *data, size_t len,
    uint64_t now)
{
    long got = -1;
    for (size_t off = 0; off < len;) {
        size_t take = len - off < 493 ? len - off : 493;
        got = feed(f, port, number, (uint32_t)off, off + take == len, data + off, take, now, NULL);
        off += take;
    }
    return got;
}

static uint8_t *
pattern(size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 7 + 3);
    return p;
}

static void
test_serial_compare(void **state)
{
    assert_true(ockam__udp_rn_newer(5, 6));
    assert_false(ockam__udp_rn_newer(6, 5));
    assert_false(ockam__udp_rn_newer(5, 5));
    /* wrap-around (Rust routing_number.rs tests) */
    assert_true(ockam__udp_rn_newer(UINT16_MAX, 0));
    assert_false(ockam__udp_rn_newer(0, UINT16_MAX));
    /* half range: b - a in [1, 0x8000] is newer, [0x8001, 0xffff] older */
    assert_true(ockam__udp_rn_newer(0, 0x8000));
    assert_false(ockam__udp_rn_newer(0, 0x8001));
    assert_true(ockam__udp_rn_newer(0x9000, 0x1000));
    assert_false(ockam__udp_rn_newer(0x9000, 0x1001));
}

static void
test_single_and_multi(void **state)
{
    struct fixture f;
    setup(&f);
    uint8_t *data = pattern(2000);
    ockam_slice out;

    /* A single fragment is handed back without a copy. */
    assert_int_equal(feed(&f, 1000, 7, 0, true, data, 100, 0, &out), 100);
    assert_ptr_equal(out.ptr, data);
    assert_int_equal(f.r.stats.bytes, 0);

    /* 600 bytes: offset 0 / 493 bytes, then offset 493 / 107 bytes (docs/wire.md §5.2). */
    assert_int_equal(feed(&f, 1000, 8, 0, false, data, 493, 0, NULL), -1);
    assert_true(f.r.stats.bytes >= 493);
    assert_int_equal(feed(&f, 1000, 8, 493, true, data + 493, 107, 0, &out), 600);
    assert_memory_equal(out.ptr, data, 600);
    assert_int_equal(f.r.stats.bytes, 0); /* handed over: no longer counted */
    assert_int_equal(f.budget.used, 0);
    assert_int_equal(feed_msg(&f, 1000, 9, data, 2000, 0), 2000);
    assert_int_equal(f.r.stats.gaps + f.r.stats.late + f.r.stats.abandoned, 0);
    ockam__udp_reasm_fini(&f.r);
    free(data);
}

static void
test_late_and_newer(void **state)
{
    struct fixture f;
    setup(&f);
    uint8_t *data = pattern(1000);

    assert_int_equal(feed(&f, 1, 100, 0, true, data, 10, 0, NULL), 10); /* expected: 101 */
    assert_int_equal(feed(&f, 1, 99, 0, true, data, 10, 0, NULL), -1);  /* late */
    assert_int_equal(f.r.stats.late, 1);
    assert_int_equal(feed(&f, 1, 100, 0, true, data, 10, 0, NULL), -1); /* duplicate = late */
    assert_int_equal(f.r.stats.late, 2);

    /* Start 101, then 103 arrives: 101 is abandoned, 103 adopted. */
    assert_int_equal(feed(&f, 1, 101, 0, false, data, 493, 0, NULL), -1);
    assert_int_equal(feed(&f, 1, 103, 0, true, data, 20, 0, NULL), 20);
    assert_int_equal(f.r.stats.abandoned, 1);
    assert_int_equal(f.r.stats.bytes, 0);
    /* The rest of 101 is now late. */
    assert_int_equal(feed(&f, 1, 101, 493, true, data, 10, 0, NULL), -1);
    assert_int_equal(f.r.stats.late, 3);

    /* Numbers wrap: 0xffff then 0 is newer. */
    assert_int_equal(feed(&f, 2, 0xffff, 0, true, data, 5, 0, NULL), 5);
    assert_int_equal(feed(&f, 2, 0, 0, true, data, 5, 0, NULL), 5);
    assert_int_equal(feed(&f, 2, 0xfffe, 0, true, data, 5, 0, NULL), -1);
    ockam__udp_reasm_fini(&f.r);
    free(data);
}

/* A peer that restarts on the same address begins a new random sequence: a message start far
 * behind the expected number is adopted, a straggler or a far-behind middle fragment is not. */
static void
test_restarted_peer(void **state)
{
    struct fixture f;
    setup(&f);
    uint8_t *data = pattern(1000);

    assert_int_equal(feed(&f, 1, 5000, 0, true, data, 10, 0, NULL), 10); /* expected: 5001 */
    assert_int_equal(feed(&f, 1, 4990, 0, true, data, 10, 0, NULL), -1); /* straggler: late */
    assert_int_equal(f.r.stats.late, 1);
    assert_int_equal(feed(&f, 1, 1000, 493, true, data, 10, 0, NULL), -1); /* middle: late */
    assert_int_equal(f.r.stats.late, 2);
    /* The restarted peer's first message (single and multi-fragment) and the next ones pass. */
    assert_int_equal(feed(&f, 1, 1000, 0, true, data, 10, 0, NULL), 10);
    assert_int_equal(feed_msg(&f, 1, 1001, data, 1000, 0), 1000);
    assert_int_equal(feed_msg(&f, 1, 1002, data, 700, 0), 700);
    /* Across the wrap: from 0x0010 back to 0xf000 is a restart too. */
    assert_int_equal(feed(&f, 2, 0x0010, 0, true, data, 5, 0, NULL), 5);
    assert_int_equal(feed(&f, 2, 0xf000, 0, true, data, 5, 0, NULL), 5);
    assert_int_equal(f.r.stats.late, 2);
    ockam__udp_reasm_fini(&f.r);
    free(data);
}

static void
test_gap_reorder_and_no_start(void **state)
{
    struct fixture f;
    setup(&f);
    uint8_t *data = pattern(1500);

    /* Missing middle fragment: the message is dropped, the next one gets through. */
    assert_int_equal(feed(&f, 1, 10, 0, false, data, 493, 0, NULL), -1);
    assert_int_equal(feed(&f, 1, 10, 986, true, data + 986, 100, 0, NULL), -1);
    assert_int_equal(f.r.stats.gaps, 1);
    assert_int_equal(f.r.stats.abandoned, 1);
    assert_int_equal(f.r.stats.bytes, 0);
    /* ... and its remaining fragment is late. */
    assert_int_equal(feed(&f, 1, 10, 493, false, data + 493, 493, 0, NULL), -1);
    assert_int_equal(f.r.stats.late, 1);
    assert_int_equal(feed_msg(&f, 1, 11, data, 1500, 0), 1500);

    /* Reordered fragments (0, 2, 1): dropped too. */
    assert_int_equal(feed(&f, 1, 12, 0, false, data, 493, 0, NULL), -1);
    assert_int_equal(feed(&f, 1, 12, 986, true, data + 986, 14, 0, NULL), -1);
    assert_int_equal(feed(&f, 1, 12, 493, false, data + 493, 493, 0, NULL), -1);
    assert_int_equal(f.r.stats.gaps, 2);

    /* is_last without a start, as the first fragment from a new peer. */
    assert_int_equal(feed(&f, 2, 500, 493, true, data, 100, 0, NULL), -1);
    assert_int_equal(f.r.stats.gaps, 3);
    assert_int_equal(feed(&f, 2, 501, 0, true, data, 100, 0, NULL), 100);
    ockam__udp_reasm_fini(&f.r);
    free(data);
}

static void
test_offset_beyond_limit(void **state)
{
    struct fixture f;
    setup(&f);
    uint8_t *data = pattern(493);
    assert_int_equal(feed(&f, 1, 1, 16 * MIB, true, data, 1, 0, NULL), -1);
    assert_int_equal(feed(&f, 1, 2, UINT32_MAX - 10, false, data, 493, 0, NULL), -1);
    assert_int_equal(f.r.stats.bad_offset, 2);
    assert_int_equal(f.budget.peak, 0); /* nothing was allocated for them */
    ockam__udp_reasm_fini(&f.r);
    free(data);
}

static void
test_caps(void **state)
{
    struct fixture f;
    /* Per peer: 4 KiB. Shared by every peer: 5000 bytes. */
    setup_with(&f, 4096, 5000, 16, 1000);
    uint8_t *data = pattern(10000);

    /* Larger than the per-peer cap: dropped cleanly, the rest of it is late. */
    assert_int_equal(feed_msg(&f, 1, 1, data, 10000, 0), -1);
    assert_int_equal(f.r.stats.over_cap, 1);
    assert_int_equal(f.r.stats.bytes, 0);
    assert_int_equal(feed_msg(&f, 1, 2, data, 4000, 0), 4000); /* fits */

    /* Two peers with partial messages: the second one hits the shared cap. */
    for (uint32_t off = 0; off < 3 * 493; off += 493)
        assert_int_equal(feed(&f, 2, 1, off, false, data, 493, 0, NULL), -1);
    for (uint32_t off = 0; off < 6 * 493; off += 493)
        assert_int_equal(feed(&f, 3, 1, off, false, data, 493, 0, NULL), -1);
    assert_int_equal(f.r.stats.over_cap, 2);
    assert_true(f.budget.peak <= 5000);
    assert_true(f.budget.used <= 5000);
    /* Peer 2 still assembles its message. */
    assert_int_equal(feed(&f, 2, 1, 3 * 493, true, data, 10, 0, NULL), 3 * 493 + 10);
    ockam__udp_reasm_fini(&f.r);
    assert_int_equal(f.budget.used, 0);
    free(data);
}

static void
test_peer_eviction(void **state)
{
    struct fixture f;
    setup_with(&f, 16 * MIB, 32 * MIB, 8, 1000);
    uint8_t *data = pattern(493);

    /* A flood of first fragments from 100 ports: at most 8 peers and 8 partials remain. */
    for (uint16_t port = 1; port <= 100; port++)
        assert_int_equal(feed(&f, port, 1, 0, false, data, 493, 0, NULL), -1);
    assert_int_equal(f.r.stats.peers, 8);
    assert_int_equal(f.r.stats.evicted, 92);
    assert_int_equal(f.r.stats.abandoned, 92);
    assert_true(f.r.stats.peak <= 8 * 1024);
    assert_int_equal(f.r.npartials, 8);
    /* The most recent peers are the ones kept. */
    struct ockam__udp_pkey k = key(100);
    assert_non_null(ockam__udp_reasm_find(&f.r, &k));
    k = key(1);
    assert_null(ockam__udp_reasm_find(&f.r, &k));
    ockam__udp_reasm_fini(&f.r);
    assert_int_equal(f.budget.used, 0);
    free(data);
}

static void
test_stale(void **state)
{
    struct fixture f;
    setup_with(&f, 16 * MIB, 32 * MIB, 16, 100);
    uint8_t *data = pattern(1000);
    uint64_t when = 0;

    assert_false(ockam__udp_reasm_deadline(&f.r, &when));
    assert_int_equal(feed(&f, 1, 1, 0, false, data, 493, 1000, NULL), -1);
    assert_int_equal(feed(&f, 2, 1, 0, false, data, 493, 1050, NULL), -1);
    assert_true(ockam__udp_reasm_deadline(&f.r, &when));
    assert_int_equal(when, 1100);
    ockam__udp_reasm_expire(&f.r, 1099);
    assert_int_equal(f.r.stats.stale, 0);
    ockam__udp_reasm_expire(&f.r, 1100);
    assert_int_equal(f.r.stats.stale, 1);
    assert_true(ockam__udp_reasm_deadline(&f.r, &when));
    assert_int_equal(when, 1150);
    /* Peer 2 gets a fragment: its deadline moves. */
    assert_int_equal(feed(&f, 2, 1, 493, false, data, 493, 1120, NULL), -1);
    ockam__udp_reasm_expire(&f.r, 1200);
    assert_int_equal(f.r.stats.stale, 1);
    ockam__udp_reasm_expire(&f.r, 1220);
    assert_int_equal(f.r.stats.stale, 2);
    assert_false(ockam__udp_reasm_deadline(&f.r, &when));
    assert_int_equal(f.r.stats.bytes, 0);
    /* Peer 1's message is gone; its next message works. */
    assert_int_equal(feed(&f, 1, 2, 0, true, data, 10, 1300, NULL), 10);
    ockam__udp_reasm_fini(&f.r);
    free(data);
}

static void
test_log_once_per_peer(void **state)
{
    struct fixture f;
    setup(&f);
    struct ockam__udp_peer *p = peer(&f, 1, 0);
    assert_true(ockam__udp_reasm_log(&f.r, p, OCKAM__UDP_LOG_GAP, 0, "gap"));
    assert_false(ockam__udp_reasm_log(&f.r, p, OCKAM__UDP_LOG_GAP, 0, "gap"));
    assert_true(ockam__udp_reasm_log(&f.r, p, OCKAM__UDP_LOG_LATE, 0, "late"));
    /* Without a peer: a few lines per second, then suppressed until the next second. */
    int printed = 0;
    for (int i = 0; i < 100; i++)
        printed += ockam__udp_reasm_log(&f.r, NULL, OCKAM__UDP_LOG_OTHER, 10, "x");
    assert_true(printed <= 5);
    assert_true(f.r.stats.logs_suppressed >= 95);
    assert_true(ockam__udp_reasm_log(&f.r, NULL, OCKAM__UDP_LOG_OTHER, 1010, "x"));
    ockam__udp_reasm_fini(&f.r);
}

static void
quiet(ockam_log_level level, const char *line, void *user)
{
}

int
main(void)
{
    ockam_log_set_handler(quiet, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serial_compare),
        cmocka_unit_test(test_single_and_multi),
        cmocka_unit_test(test_late_and_newer),
        cmocka_unit_test(test_restarted_peer),
        cmocka_unit_test(test_gap_reorder_and_no_start),
        cmocka_unit_test(test_offset_beyond_limit),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_peer_eviction),
        cmocka_unit_test(test_stale),
        cmocka_unit_test(test_log_once_per_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
