/* Hostile and broken peers: every kind of bad input closes that one connection with one log
 * line naming the peer, and the node keeps serving a second, good connection. Includes idle
 * peers (handshake timeout) and 1000 connections opened and dropped at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "nodes.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN_ALLOCATOR 1
#endif
#ifdef HAVE_ASAN_ALLOCATOR
#include <sanitizer/allocator_interface.h>
#endif

#define WAIT_MS 5000

#define C1 "00 00 00 17 83 81 82 00 44 65 63 68 6f 81 82 00 43 61 70 70 46 05 68 65 6c 6c 6f"
#define C3 "00 00 00 17 83 81 82 00 43 61 70 70 81 82 00 44 65 63 68 6f 46 05 68 65 6c 6c 6f"
#define V1_FRAMED "00 15 01 01 00 04 65 63 68 6f 01 00 03 61 70 70 06 05 68 65 6c 6c 6f"
#define V1_REPLY "00 15 01 01 00 03 61 70 70 01 00 04 65 63 68 6f 06 05 68 65 6c 6c 6f"

struct target {
    ockam_node *node;
    ockam_wire_profile profile;
    char addr[64];
};

static void
target_start(struct target *t, ockam_wire_profile profile, uint32_t handshake_ms)
{
    ockam_tcp_config cfg = OCKAM_TCP_CONFIG_INIT;
    cfg.handshake_timeout_ms = handshake_ms;
    t->node = tn_node_new();
    t->profile = profile;
    assert_int_equal(ockam_tcp_init(t->node, &cfg), OCKAM_OK);
    assert_int_equal(ockam_echo_start(t->node, NULL, NULL), OCKAM_OK);
    ockam_listener *l = tn_tcp_listen(t->node, profile);
    assert_int_equal(ockam_flow_add_consumer(t->node, "echo", ockam_listener_flow_id(l)), OCKAM_OK);
    snprintf(t->addr, sizeof t->addr, "%s", ockam_listener_address(l));
}

static size_t
hex(const char *text, uint8_t *out, size_t cap)
{
    return tn_hex(text, out, cap);
}

static void
send_hex(int fd, const char *text)
{
    uint8_t buf[256];
    size_t n = hex(text, buf, sizeof buf);
    assert_true(tn_raw_send(fd, buf, n, WAIT_MS));
}

static void
expect_hex(int fd, const char *text)
{
    uint8_t want[256], got[256];
    size_t n = hex(text, want, sizeof want);
    assert_true(tn_raw_recv(fd, got, n, WAIT_MS));
    assert_memory_equal(got, want, n);
}

/* A fresh raw connection still gets its echo. */
static void
assert_serves(const struct target *t)
{
    int fd = tn_raw_connect(t->addr);
    assert_true(fd >= 0);
    if (t->profile == OCKAM_WIRE_CURRENT) {
        send_hex(fd, "01 " C1);
        expect_hex(fd, "01 " C3);
    } else {
        send_hex(fd, V1_FRAMED);
        expect_hex(fd, V1_REPLY);
    }
    close(fd);
}

static bool
no_connections(void *arg)
{
    return tn_conn_count(arg) == 0;
}

/* Send bytes (the node may close before it has read them all) and expect the node to close
 * the connection, logging exactly one line about that peer. */
static void
expect_rejected(const struct target *t, const uint8_t *bytes, size_t len)
{
    char peer[64];
    tn_log_capture();
    int fd = tn_raw_connect(t->addr);
    assert_true(fd >= 0);
    tn_raw_local_name(fd, peer, sizeof peer);
    (void)tn_raw_send(fd, bytes, len, WAIT_MS);
    assert_true(tn_raw_wait_closed(fd, WAIT_MS));
    assert_true(tn_wait(no_connections, t->node, WAIT_MS));
    assert_int_equal(tn_log_count(peer), 1);
    tn_log_release();
    close(fd);
    assert_serves(t);
}

static void
expect_rejected_hex(ockam_wire_profile profile, const char *text)
{
    struct target t;
    uint8_t buf[256];
    target_start(&t, profile, 10000);
    expect_rejected(&t, buf, hex(text, buf, sizeof buf));
    tn_free_all();
}

/* A CURRENT frame around a body given in hex, preamble included. */
static size_t
current_frame(const char *body_hex, uint8_t *out, size_t cap)
{
    size_t n = hex(body_hex, out + 5, cap - 5);
    out[0] = 0x01;
    out[1] = (uint8_t)(n >> 24);
    out[2] = (uint8_t)(n >> 16);
    out[3] = (uint8_t)(n >> 8);
    out[4] = (uint8_t)n;
    return n + 5;
}

static size_t
legacy_frame(const char *body_hex, uint8_t *out, size_t cap)
{
    size_t n = hex(body_hex, out + 2, cap - 2);
    out[0] = (uint8_t)(n >> 8);
    out[1] = (uint8_t)n;
    return n + 2;
}

static void
test_wrong_version_byte(void **state)
{
    expect_rejected_hex(OCKAM_WIRE_CURRENT, "02 " C1);
}

static void
test_missing_version_byte(void **state)
{
    expect_rejected_hex(OCKAM_WIRE_CURRENT, C1);
}

static void
test_length_above_max(void **state)
{
    /* Rejected from the header alone: the node does not wait for 16 MiB of body. */
    expect_rejected_hex(OCKAM_WIRE_CURRENT, "01 01 00 00 01");
}

static void
test_length_zero(void **state)
{
    expect_rejected_hex(OCKAM_WIRE_CURRENT, "01 00 00 00 00");
    expect_rejected_hex(OCKAM_WIRE_LEGACY, "00 00");
}

static void
test_invalid_cbor(void **state)
{
    expect_rejected_hex(OCKAM_WIRE_CURRENT, "01 00 00 00 03 ff ff ff");
    expect_rejected_hex(OCKAM_WIRE_CURRENT, "01 00 00 00 01 83");
    expect_rejected_hex(OCKAM_WIRE_LEGACY, "00 03 07 07 07"); /* BARE: version 7 */
}

static void
test_route_count_beyond_input(void **state)
{
    struct target t;
    uint8_t buf[256];
    target_start(&t, OCKAM_WIRE_CURRENT, 10000);
    expect_rejected(&t, buf, current_frame("83 9a ff ff ff ff", buf, sizeof buf));
    expect_rejected(&t, buf, current_frame("83 9b 00 00 00 01 00 00 00 00 80 40", buf, sizeof buf));
    tn_free_all();
    target_start(&t, OCKAM_WIRE_LEGACY, 10000);
    expect_rejected(&t, buf, legacy_frame("01 ff ff ff ff 0f", buf, sizeof buf));
    tn_free_all();
}

static void
test_address_type_128_or_more(void **state)
{
    struct target t;
    uint8_t buf[256];
    target_start(&t, OCKAM_WIRE_CURRENT, 10000);
    /* [[200, "echo"]] as the onward route. */
    expect_rejected(&t, buf,
        current_frame("83 81 82 18 c8 44 65 63 68 6f 81 82 00 43 61 70 70 "
                      "46 05 68 65 6c 6c 6f",
            buf, sizeof buf));
    tn_free_all();
    target_start(&t, OCKAM_WIRE_LEGACY, 10000);
    expect_rejected(&t, buf,
        legacy_frame(
            "01 01 c8 04 65 63 68 6f 01 00 03 61 70 70 06 05 68 65 6c 6c 6f", buf, sizeof buf));
    tn_free_all();
}

/* Half a frame, then the peer closes: that connection ends, nothing else does. */
static void
test_truncated_frame_then_close(void **state)
{
    struct target t;
    target_start(&t, OCKAM_WIRE_CURRENT, 10000);
    int fd = tn_raw_connect(t.addr);
    assert_true(fd >= 0);
    send_hex(fd, "01 00 00 00 17 83 81 82 00 44 65");
    tn_drain();
    assert_int_equal(tn_conn_count(t.node), 1);
    close(fd);
    assert_true(tn_wait(no_connections, t.node, WAIT_MS));
    assert_serves(&t);

    /* Same with a reset instead of an orderly close. */
    fd = tn_raw_connect(t.addr);
    send_hex(fd, "01 00 00 01 00 83 81");
    tn_drain();
    tn_raw_reset(fd);
    assert_true(tn_wait(no_connections, t.node, WAIT_MS));
    assert_serves(&t);
    tn_free_all();
}

/* A fixed-seed generator, so a failure reproduces. */
static uint8_t *
random_bytes(size_t len, uint64_t seed)
{
    uint8_t *b = malloc(len);
    assert_non_null(b);
    uint64_t x = seed;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b[i] = (uint8_t)x;
    }
    return b;
}

static void
test_random_megabyte(void **state)
{
    struct target t;
    size_t len = 1024 * 1024;
    uint8_t *b = random_bytes(len, 0x9e3779b97f4a7c15ULL);
    target_start(&t, OCKAM_WIRE_CURRENT, 10000);
    b[0] = 0x01; /* past the preamble: the framer and decoder see random bytes */
    expect_rejected(&t, b, len);
    b[0] = 0x5a;
    expect_rejected(&t, b, len);
    tn_free_all();
    target_start(&t, OCKAM_WIRE_LEGACY, 10000);
    expect_rejected(&t, b, len);
    tn_free_all();
    free(b);
}

/* A peer that connects and sends nothing (or not even a frame header) is closed after the
 * handshake timeout; one that sent its version byte stays. */
static void
run_idle(ockam_wire_profile profile, const char *partial)
{
    struct target t;
    char peer[64];
    target_start(&t, profile, 200);
    tn_log_capture();
    uint64_t start = tn_now_ms();
    int idle = tn_raw_connect(t.addr);
    int good = tn_raw_connect(t.addr);
    assert_true(idle >= 0 && good >= 0);
    tn_raw_local_name(idle, peer, sizeof peer);
    if (partial)
        send_hex(idle, partial);
    send_hex(good, profile == OCKAM_WIRE_CURRENT ? "01" : "00 15"); /* a whole header */
    assert_true(tn_raw_wait_closed(idle, WAIT_MS));
    assert_true(tn_now_ms() - start >= 190);
    assert_int_equal(tn_log_count(peer), 1);
    assert_int_equal(tn_log_count("handshake"), 1);
    tn_log_release();
    close(idle);

    /* The other connection outlived the timeout and still works. */
    if (profile == OCKAM_WIRE_CURRENT) {
        send_hex(good, C1);
        expect_hex(good, "01 " C3);
    } else {
        send_hex(good, &V1_FRAMED[6]); /* its length was sent already */
        expect_hex(good, V1_REPLY);
    }
    close(good);
    tn_free_all();
}

static void
test_idle_handshake_timeout(void **state)
{
    run_idle(OCKAM_WIRE_CURRENT, NULL);
}

static void
test_idle_legacy_partial_header(void **state)
{
    run_idle(OCKAM_WIRE_LEGACY, "00");
}

static size_t
heap_in_use(void)
{
#ifdef HAVE_ASAN_ALLOCATOR
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

static void
raise_fd_limit(rlim_t want)
{
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

#define MANY 1000

static bool
count_at_least(void *arg)
{
    void **a = arg;
    return tn_conn_count(a[0]) >= (size_t)(uintptr_t)a[1];
}

static void
test_thousand_connections_dropped(void **state)
{
    raise_fd_limit(2 * MANY + 64);
    struct target t;
    target_start(&t, OCKAM_WIRE_CURRENT, 10000);
    tn_log_capture();
    static int fds[MANY];
    for (int i = 0; i < MANY; i++) {
        fds[i] = tn_raw_connect(t.addr);
        assert_true(fds[i] >= 0);
        if (i % 2)
            send_hex(fds[i], "01 00 00 00 17 83");
    }
    void *arg[2] = {t.node, (void *)(uintptr_t)MANY};
    assert_true(tn_wait(count_at_least, arg, 20000));
    for (int i = 0; i < MANY; i++) {
        if (i % 3)
            close(fds[i]);
        else
            tn_raw_reset(fds[i]);
    }
    assert_true(tn_wait(no_connections, t.node, 20000));
    assert_int_equal(tn_log_count(NULL), 0); /* vanishing peers are not warnings */
    tn_log_release();
    assert_serves(&t);
    tn_free_all();
}

#define IDLE 3000
#define IDLE_BYTES_PER_CONN 4096

/* Connections that exchanged a message and went quiet keep no read buffer and only a small
 * write buffer: what the node holds per idle connection stays small. */
static void
test_idle_connection_footprint(void **state)
{
    static int fds[IDLE];
    raise_fd_limit(2 * IDLE + 64);
    struct target t;
    target_start(&t, OCKAM_WIRE_CURRENT, 10000);
    assert_serves(&t); /* warm up: first-use allocations of the node itself */
    tn_drain();
    size_t before = heap_in_use();
    for (int i = 0; i < IDLE; i++) {
        fds[i] = tn_raw_connect(t.addr);
        assert_true(fds[i] >= 0);
        send_hex(fds[i], "01 " C1);
    }
    for (int i = 0; i < IDLE; i++)
        expect_hex(fds[i], "01 " C3);
    tn_drain();
    assert_int_equal(tn_conn_count(t.node), IDLE);
    size_t per_conn = (heap_in_use() - before) / IDLE;
    fprintf(stderr, "heap per idle connection: %zu bytes\n", per_conn);
    assert_true(per_conn <= IDLE_BYTES_PER_CONN);
    for (int i = 0; i < IDLE; i++)
        close(fds[i]);
    assert_true(tn_wait(no_connections, t.node, 20000));
    tn_free_all();
}

/* Peers that announce 16 MiB frames and send a few bytes of them cost the node little: the
 * read buffer grows with the data that actually arrived. */
static void
test_announced_big_frames_cost_little(void **state)
{
    static int fds[200];
    struct target t;
    target_start(&t, OCKAM_WIRE_CURRENT, 10000);
    assert_serves(&t);
    tn_drain();
    size_t before = heap_in_use();
    for (int i = 0; i < 200; i++) {
        fds[i] = tn_raw_connect(t.addr);
        assert_true(fds[i] >= 0);
        send_hex(fds[i], "01 01 00 00 00 83 81 82 00 44 65 63 68 6f");
    }
    tn_drain();
    assert_int_equal(tn_conn_count(t.node), 200);
    size_t per_conn = (heap_in_use() - before) / 200;
    fprintf(stderr, "heap per connection with a pending 16 MiB frame: %zu bytes\n", per_conn);
    assert_true(per_conn <= 128 * 1024);
    for (int i = 0; i < 200; i++)
        close(fds[i]);
    assert_true(tn_wait(no_connections, t.node, WAIT_MS));
    tn_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TN_TEST(test_wrong_version_byte),
        TN_TEST(test_missing_version_byte),
        TN_TEST(test_length_above_max),
        TN_TEST(test_length_zero),
        TN_TEST(test_invalid_cbor),
        TN_TEST(test_route_count_beyond_input),
        TN_TEST(test_address_type_128_or_more),
        TN_TEST(test_truncated_frame_then_close),
        TN_TEST(test_random_megabyte),
        TN_TEST(test_idle_handshake_timeout),
        TN_TEST(test_idle_legacy_partial_header),
        TN_TEST(test_thousand_connections_dropped),
        TN_TEST(test_idle_connection_footprint),
        TN_TEST(test_announced_big_frames_cost_little),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
