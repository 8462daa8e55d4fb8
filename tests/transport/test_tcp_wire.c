/* TCP wire conformance (docs/wire.md §4.2-§4.4): a raw POSIX socket client, with no libockam on
 * its side, talks to a node where echo runs, and must see exactly the bytes of docs/wire.md's
 * vectors. */
#include "nodes.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* §4.2 C1: "hello" to [0#echo] from [0#app]; C3: echo's reply as it arrives back. */
#define C1 "00 00 00 17 83 81 82 00 44 65 63 68 6f 81 82 00 43 61 70 70 46 05 68 65 6c 6c 6f"
#define C3 "00 00 00 17 83 81 82 00 43 61 70 70 81 82 00 44 65 63 68 6f 46 05 68 65 6c 6c 6f"
/* C2 = C1 with tracing "{}"; echo keeps the tracing context in its reply. */
#define C2                                                                                         \
    "00 00 00 1a 84 81 82 00 44 65 63 68 6f 81 82 00 43 61 70 70 46 05 68 65 6c 6c 6f 62 7b 7d"
#define C2_REPLY                                                                                   \
    "00 00 00 1a 84 81 82 00 43 61 70 70 81 82 00 44 65 63 68 6f 46 05 68 65 6c 6c 6f 62 7b 7d"
/* C5: an empty (heartbeat) frame. */
#define C5 "00 00 00 04 83 80 80 40"
/* §3.4 V1 in a LEGACY frame, and echo's reply: BARE v1, onward [0#app], return [0#echo]. */
#define V1_FRAMED "00 15 01 01 00 04 65 63 68 6f 01 00 03 61 70 70 06 05 68 65 6c 6c 6f"
#define V1_REPLY "00 15 01 01 00 03 61 70 70 01 00 04 65 63 68 6f 06 05 68 65 6c 6c 6f"
/* §3.4 V4: a LEGACY heartbeat. */
#define V4 "00 04 01 00 00 00"

#define WAIT_MS 5000

/* A node with echo, reachable from the listener's connections, listening on 127.0.0.1:0. */
static void
echo_node(ockam_wire_profile profile, char *addr, size_t cap)
{
    ockam_node *n = tn_node_new();
    assert_int_equal(ockam_echo_start(n, NULL, NULL), OCKAM_OK);
    ockam_listener *l = tn_tcp_listen(n, profile);
    assert_int_equal(ockam_flow_add_consumer(n, "echo", ockam_listener_flow_id(l)), OCKAM_OK);
    snprintf(addr, cap, "%s", ockam_listener_address(l));
}

static void
send_hex(int fd, const char *hex)
{
    uint8_t buf[256];
    size_t n = tn_hex(hex, buf, sizeof buf);
    assert_true(tn_raw_send(fd, buf, n, WAIT_MS));
}

static void
expect_hex(int fd, const char *hex)
{
    uint8_t want[256], got[256];
    size_t n = tn_hex(hex, want, sizeof want);
    assert_true(tn_raw_recv(fd, got, n, WAIT_MS));
    assert_memory_equal(got, want, n);
}

/* Nothing more arrives once the node has nothing left to do. */
static void
expect_silence(int fd)
{
    tn_drain();
    assert_int_equal(tn_raw_pending(fd), 0);
}

static void
test_current_c1_gets_c3(void **state)
{
    char addr[64];
    echo_node(OCKAM_WIRE_CURRENT, addr, sizeof addr);
    int fd = tn_raw_connect(addr);
    assert_true(fd >= 0);
    /* The node writes its version byte at once, before the client has sent anything. */
    expect_hex(fd, "01");
    send_hex(fd, "01");
    send_hex(fd, C1);
    expect_hex(fd, C3);
    expect_silence(fd);
    close(fd);
    tn_free_all();
}

/* The same exchange with the client's bytes arriving one at a time. */
static void
test_current_c1_byte_by_byte(void **state)
{
    char addr[64];
    uint8_t buf[64];
    echo_node(OCKAM_WIRE_CURRENT, addr, sizeof addr);
    int fd = tn_raw_connect(addr);
    assert_true(fd >= 0);
    buf[0] = 0x01;
    size_t n = 1 + tn_hex(C1, buf + 1, sizeof buf - 1);
    for (size_t i = 0; i < n; i++) {
        assert_true(tn_raw_send(fd, buf + i, 1, WAIT_MS));
        tn_drain();
    }
    expect_hex(fd, "01");
    expect_hex(fd, C3);
    close(fd);
    tn_free_all();
}

static void
test_current_tracing_kept(void **state)
{
    char addr[64];
    echo_node(OCKAM_WIRE_CURRENT, addr, sizeof addr);
    int fd = tn_raw_connect(addr);
    assert_true(fd >= 0);
    send_hex(fd, "01");
    send_hex(fd, C2);
    expect_hex(fd, "01");
    expect_hex(fd, C2_REPLY);
    close(fd);
    tn_free_all();
}

/* A heartbeat is dropped silently and the connection keeps serving. */
static void
test_current_heartbeat_dropped(void **state)
{
    char addr[64];
    echo_node(OCKAM_WIRE_CURRENT, addr, sizeof addr);
    int fd = tn_raw_connect(addr);
    assert_true(fd >= 0);
    send_hex(fd, "01");
    send_hex(fd, C5);
    expect_hex(fd, "01");
    expect_silence(fd);
    send_hex(fd, C1);
    expect_hex(fd, C3);
    close(fd);
    tn_free_all();
}

/* Several frames in one segment: each is answered, in order. */
static void
test_current_pipelined(void **state)
{
    char addr[64];
    echo_node(OCKAM_WIRE_CURRENT, addr, sizeof addr);
    int fd = tn_raw_connect(addr);
    assert_true(fd >= 0);
    send_hex(fd, "01 " C1 " " C5 " " C1 " " C1);
    expect_hex(fd, "01 " C3 " " C3 " " C3);
    expect_silence(fd);
    close(fd);
    tn_free_all();
}

static void
test_legacy_v1_gets_reply(void **state)
{
    char addr[64];
    echo_node(OCKAM_WIRE_LEGACY, addr, sizeof addr);
    int fd = tn_raw_connect(addr);
    assert_true(fd >= 0);
    send_hex(fd, V1_FRAMED);
    /* No preamble in LEGACY: the first bytes are the reply's length. */
    expect_hex(fd, V1_REPLY);
    expect_silence(fd);
    send_hex(fd, V4); /* heartbeat: dropped */
    send_hex(fd, V1_FRAMED);
    expect_hex(fd, V1_REPLY);
    close(fd);
    tn_free_all();
}

/* A node's own outgoing connection writes 0x01 without waiting for the peer's, then frames
 * exactly as §4.4 says: the sender popped itself off the onward route. */
static void
test_outgoing_bytes(void **state)
{
    uint16_t port;
    char peer[64];
    int lfd = tn_raw_listen(&port);
    snprintf(peer, sizeof peer, "127.0.0.1:%u", port);
    ockam_node *n = tn_node_new();
    assert_int_equal(ockam_tcp_init(n, NULL), OCKAM_OK);
    tn_probe *app = tn_probe_start(n, "app");
    uint8_t payload[] = {0x05, 'h', 'e', 'l', 'l', 'o'};

    char route[128];
    snprintf(route, sizeof route, "1#%s => 0#echo", peer);
    assert_int_equal(tn_send(tn_probe_worker(app), route, payload, sizeof payload), OCKAM_OK);
    int fd = tn_raw_accept(lfd, WAIT_MS);
    assert_true(fd >= 0);
    expect_hex(fd, "01");
    expect_hex(fd, C1);

    /* The reply (C3 from a peer that sends its preamble) reaches app: it sent through this
     * connection, so it is a consumer of the connection's flow. */
    send_hex(fd, "01 " C3);
    ockam_msg *m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m);
    ockam_conn *c = ockam_conn_find(n, peer);
    assert_non_null(c);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#echo", ockam_conn_address(c));
    assert_int_equal(ockam_msg_payload(m).len, sizeof payload);
    assert_memory_equal(ockam_msg_payload(m).ptr, payload, sizeof payload);
    ockam_msg_free(m);
    close(fd);
    close(lfd);
    tn_free_all();
}

/* Once the connection is open, ockam_send_to() encodes straight into it (no message built):
 * the bytes must be those the general path writes for the same message (ockam_send), the
 * sender must still become a consumer of the replies, and a sender whose outgoing access
 * control denies must still be refused. */
static void
test_send_to_shortcut_same_bytes(void **state)
{
    uint16_t port;
    char peer[64], route[128];
    int lfd = tn_raw_listen(&port);
    snprintf(peer, sizeof peer, "127.0.0.1:%u", port);
    snprintf(route, sizeof route, "1#%s => 0#echo", peer);
    ockam_node *n = tn_node_new();
    assert_int_equal(ockam_tcp_init(n, NULL), OCKAM_OK);
    tn_probe *app = tn_probe_start(n, "app");
    uint8_t payload[] = {0x05, 'h', 'e', 'l', 'l', 'o'};

    /* The first message opens the connection (general path), the next ones find it open. */
    assert_int_equal(tn_send(tn_probe_worker(app), route, payload, sizeof payload), OCKAM_OK);
    int fd = tn_raw_accept(lfd, WAIT_MS);
    assert_true(fd >= 0);
    expect_hex(fd, "01");
    expect_hex(fd, C1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tn_send(tn_probe_worker(app), route, payload, sizeof payload), OCKAM_OK);
        expect_hex(fd, C1);
    }
    ockam_msg *m = ockam_msg_new();
    assert_non_null(m);
    ockam_route *r = tn_route("%s", route);
    assert_int_equal(ockam_route_copy(ockam_msg_onward(m), r), OCKAM_OK);
    ockam_route_free(r);
    assert_int_equal(ockam_msg_set_payload(m, payload, sizeof payload), OCKAM_OK);
    assert_int_equal(ockam_send(tn_probe_worker(app), m), OCKAM_OK);
    expect_hex(fd, C1);

    /* Replies to app still get through the connection's flow control. */
    send_hex(fd, "01 " C3);
    m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    ockam_msg_free(m);

    /* Outgoing access control applies to the shortcut too. */
    ockam_worker_set_outgoing(tn_probe_worker(app), (ockam_access) {.kind = OCKAM_ACCESS_DENY_ALL});
    assert_int_equal(tn_send(tn_probe_worker(app), route, payload, sizeof payload), OCKAM_EACCES);
    expect_silence(fd);
    close(fd);
    close(lfd);
    tn_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TN_TEST(test_current_c1_gets_c3),
        TN_TEST(test_current_c1_byte_by_byte),
        TN_TEST(test_current_tracing_kept),
        TN_TEST(test_current_heartbeat_dropped),
        TN_TEST(test_current_pipelined),
        TN_TEST(test_legacy_v1_gets_reply),
        TN_TEST(test_outgoing_bytes),
        TN_TEST(test_send_to_shortcut_same_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
