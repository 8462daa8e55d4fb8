/* Big frames, whose payloads a receiving node borrows from its read buffer instead of copying
 * them: a thousand 64 KiB messages, sizes around the borrowing threshold, mixed sizes,
 * directly and through a hop node (which writes the borrowed payloads out again), in both
 * wire profiles; and a raw peer that splits a stream of frames at every kind of position
 * while the receiver still holds every message it got. Every payload is checked byte for
 * byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "core/codec.h"
#include "nodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAIT_MS 60000
#define WINDOW 32 /* messages in flight before the test takes what arrived */
#define BORROW_MIN (16u * 1024u)

/* ---- payloads ------------------------------------------------------------------------- */

static uint64_t
next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Message i of len bytes: its index, then bytes that depend on both. */
static void
fill(uint8_t *p, size_t len, uint32_t i)
{
    uint64_t s = 0x9e3779b97f4a7c15ull ^ ((uint64_t)i << 20) ^ len;
    for (size_t k = 0; k < len; k++)
        p[k] = (uint8_t)(next_rand(&s) >> 24);
    if (len >= 4)
        memcpy(p, &i, 4);
}

static void
assert_payload(ockam_msg *m, size_t len, uint32_t i)
{
    assert_non_null(m);
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, len);
    uint8_t *want = malloc(len ? len : 1);
    assert_non_null(want);
    fill(want, len, i);
    assert_true(memcmp(p.ptr, want, len) == 0);
    free(want);
}

/* ---- nodes ----------------------------------------------------------------------------- */

struct path {
    tn_probe *app, *sink;
    char route[256];
};

static ockam_listener *
listen_for(ockam_node *n, const char *worker, ockam_wire_profile profile)
{
    ockam_listener *l = tn_tcp_listen(n, profile);
    assert_int_equal(ockam_flow_add_consumer(n, worker, ockam_listener_flow_id(l)), OCKAM_OK);
    return l;
}

/* app (n1) -> TCP -> sink (n2). */
static void
path_direct(struct path *p, ockam_wire_profile profile)
{
    ockam_node *far = tn_node_new();
    p->sink = tn_probe_start(far, "sink");
    ockam_listener *l = listen_for(far, "sink", profile);
    ockam_node *near = tn_node_new();
    p->app = tn_probe_start(near, "app");
    ockam_conn *c = tn_tcp_connect(near, ockam_listener_address(l), profile);
    snprintf(p->route, sizeof p->route, "%s => sink", ockam_conn_address(c));
}

/* app (n1) -> TCP -> hop (n2) -> TCP -> sink (n3). */
static void
path_hop(struct path *p, ockam_wire_profile profile)
{
    ockam_node *n3 = tn_node_new();
    p->sink = tn_probe_start(n3, "sink");
    ockam_listener *l3 = listen_for(n3, "sink", profile);
    ockam_node *n2 = tn_node_new();
    assert_int_equal(ockam_hop_start(n2, NULL, NULL), OCKAM_OK);
    ockam_listener *l2 = listen_for(n2, "hop", profile);
    ockam_conn *c23 = tn_tcp_connect(n2, ockam_listener_address(l3), profile);
    ockam_node *n1 = tn_node_new();
    p->app = tn_probe_start(n1, "app");
    ockam_conn *c12 = tn_tcp_connect(n1, ockam_listener_address(l2), profile);
    snprintf(p->route, sizeof p->route, "%s => hop => %s => sink", ockam_conn_address(c12),
        ockam_conn_address(c23));
}

/* Send count messages, sizes[i % nsizes] bytes each, WINDOW at a time, and check each. */
static void
send_all(struct path *p, const size_t *sizes, size_t nsizes, uint32_t count)
{
    size_t max = 0;
    for (size_t k = 0; k < nsizes; k++)
        max = sizes[k] > max ? sizes[k] : max;
    uint8_t *buf = malloc(max ? max : 1);
    assert_non_null(buf);
    uint32_t sent = 0, got = 0;
    while (got < count) {
        for (; sent < count && sent - got < WINDOW; sent++) {
            size_t len = sizes[sent % nsizes];
            fill(buf, len, sent);
            assert_int_equal(tn_send(tn_probe_worker(p->app), p->route, buf, len), OCKAM_OK);
        }
        ockam_msg *m = tn_probe_wait(p->sink, WAIT_MS);
        assert_payload(m, sizes[got % nsizes], got);
        ockam_msg_free(m);
        got++;
    }
    free(buf);
}

static const size_t threshold_sizes[] = {BORROW_MIN - 1, BORROW_MIN, BORROW_MIN + 1, 1,
    BORROW_MIN + 1, 100, BORROW_MIN, 4000, BORROW_MIN - 1, 30000, BORROW_MIN};

static void
run_path(void (*start)(struct path *, ockam_wire_profile), ockam_wire_profile profile)
{
    struct path p;
    start(&p, profile);
    /* LEGACY bodies stop at 65 535 bytes. */
    size_t big = profile == OCKAM_WIRE_CURRENT ? 64u * 1024u : 60000u;
    send_all(&p, &big, 1, 1000);
    send_all(&p, threshold_sizes, sizeof threshold_sizes / sizeof threshold_sizes[0], 330);
    size_t mixed[64];
    uint64_t s = 42;
    for (size_t k = 0; k < 64; k++)
        mixed[k] = (size_t)(next_rand(&s) % (profile == OCKAM_WIRE_CURRENT ? 300000 : 65000));
    send_all(&p, mixed, 64, 256);
    tn_free_all();
}

static void
test_direct(void **state)
{
    run_path(path_direct, OCKAM_WIRE_CURRENT);
}

static void
test_direct_legacy(void **state)
{
    run_path(path_direct, OCKAM_WIRE_LEGACY);
}

static void
test_through_hop(void **state)
{
    run_path(path_hop, OCKAM_WIRE_CURRENT);
}

static void
test_through_hop_legacy(void **state)
{
    run_path(path_hop, OCKAM_WIRE_LEGACY);
}

/* uppercase edits its payload in place: a borrowed one is made its own first. */
static void
test_uppercase_big(void **state)
{
    ockam_node *far = tn_node_new();
    assert_int_equal(ockam_uppercase_start(far, NULL, NULL), OCKAM_OK);
    ockam_listener *l = listen_for(far, "uppercase", OCKAM_WIRE_CURRENT);
    ockam_node *near = tn_node_new();
    tn_probe *app = tn_probe_start(near, "app");
    ockam_conn *c = tn_tcp_connect(near, ockam_listener_address(l), OCKAM_WIRE_CURRENT);
    char route[128], *text = malloc(40000), *upper = malloc(40000);
    assert_true(text && upper);
    for (size_t i = 0; i < 40000; i++) {
        text[i] = (char)('a' + i % 26);
        upper[i] = (char)('A' + i % 26);
    }
    uint8_t *enc, *want;
    size_t len, wlen;
    assert_int_equal(ockam_bare_string_encode(text, 40000, &enc, &len), OCKAM_OK);
    assert_int_equal(ockam_bare_string_encode(upper, 40000, &want, &wlen), OCKAM_OK);
    snprintf(route, sizeof route, "%s => uppercase", ockam_conn_address(c));
    for (int round = 0; round < 3; round++) {
        assert_int_equal(tn_send(tn_probe_worker(app), route, enc, len), OCKAM_OK);
        ockam_msg *m = tn_probe_wait(app, WAIT_MS);
        assert_non_null(m);
        ockam_slice p = ockam_msg_payload(m);
        assert_int_equal(p.len, wlen);
        assert_memory_equal(p.ptr, want, wlen);
        ockam_msg_free(m);
    }
    ockam_free(enc);
    ockam_free(want);
    free(text);
    free(upper);
    tn_free_all();
}

/* ---- a raw peer that splits the stream ------------------------------------------------- */

#define RAW_FRAMES 300

/* Frame i of the raw stream ([sink], [raw], payload) appended to *out. */
static void
append_frame(uint8_t **out, size_t *len, size_t *cap, size_t size, uint32_t i)
{
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(
        ockam_route_push_back(ockam_msg_onward(m), ockam_addr_local("sink")), OCKAM_OK);
    assert_int_equal(ockam_route_push_back(ockam_msg_return(m), ockam_addr_local("raw")), OCKAM_OK);
    uint8_t *p = ockam_msg_payload_reserve(m, size);
    assert_non_null(p);
    fill(p, size, i);
    size_t n = ockam__frame_msg_size(OCKAM_WIRE_CURRENT, m), written;
    if (*len + n > *cap) {
        *cap = 2 * (*len + n);
        *out = realloc(*out, *cap);
        assert_non_null(*out);
    }
    assert_int_equal(
        ockam__frame_encode_msg(OCKAM_WIRE_CURRENT, m, *out + *len, n, &written), OCKAM_OK);
    *len += written;
    ockam_msg_free(m);
}

/* Pieces that end inside headers, bodies and payloads, one byte after or before a frame
 * boundary, and far beyond one read. */
static const size_t pieces[] = {1, 3, 2, 4093, BORROW_MIN - 1, 7, BORROW_MIN + 1, 65536, 100,
    200000, 1, 5, 40000, 262144 + 3, 11, 70000};

static void
test_split_reads(void **state)
{
    ockam_node *far = tn_node_new();
    tn_probe *sink = tn_probe_start(far, "sink");
    ockam_listener *l = listen_for(far, "sink", OCKAM_WIRE_CURRENT);
    int fd = tn_raw_connect(ockam_listener_address(l));
    assert_true(fd >= 0);

    size_t sizes[RAW_FRAMES], ends[RAW_FRAMES], len = 1, cap = 1024 * 1024;
    uint8_t *stream = malloc(cap);
    assert_non_null(stream);
    stream[0] = OCKAM_WIRE_VERSION;
    uint64_t s = 7;
    for (uint32_t i = 0; i < RAW_FRAMES; i++) {
        uint64_t r = next_rand(&s);
        sizes[i] = r % 3 == 0 ? BORROW_MIN - 1 + (r >> 8) % 3 : (size_t)((r >> 8) % 150000);
        append_frame(&stream, &len, &cap, sizes[i], i);
        ends[i] = len;
    }
    /* Every piece is read before the next is written; the sink keeps every message, so the
     * node must never reuse bytes a message borrows. Every third piece ends exactly where a
     * frame does (the buffer then holds nothing unprocessed). */
    for (size_t off = 0, k = 0, f = 0; off < len; k++) {
        while (ends[f] <= off)
            f++;
        size_t n = k % 3 == 2 ? ends[f] - off : pieces[k % (sizeof pieces / sizeof pieces[0])];
        n = n < len - off ? n : len - off;
        assert_true(tn_raw_send(fd, stream + off, n, WAIT_MS));
        tn_drain();
        off += n;
    }
    assert_true(tn_probe_wait_total(sink, RAW_FRAMES, WAIT_MS));
    for (uint32_t i = 0; i < RAW_FRAMES; i++) {
        ockam_msg *m = tn_probe_wait(sink, WAIT_MS);
        assert_payload(m, sizes[i], i);
        ockam_msg_free(m);
    }
    free(stream);
    close(fd);
    tn_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TN_TEST(test_direct),
        TN_TEST(test_direct_legacy),
        TN_TEST(test_through_hop),
        TN_TEST(test_through_hop_legacy),
        TN_TEST(test_uppercase_big),
        TN_TEST(test_split_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
