/* Message sizes over TCP: 1 B, 64 KiB, 1 MiB and the largest body the profile carries go
 * through echo intact; one byte more is refused with an error and the connection keeps
 * serving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "core/codec.h"
#include "nodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ockam_conn_stats
conn_stats_of(const ockam_conn *c)
{
    struct ockam_conn_stats s;
    ockam_conn_stats(c, &s);
    return s;
}

#define WAIT_MS 30000

struct pair {
    ockam_node *far;
    ockam_node *near;
    tn_probe *app;
    ockam_conn *conn;
    char peer[64];
};

static void
pair_start(struct pair *p, ockam_wire_profile profile)
{
    p->far = tn_node_new();
    assert_int_equal(ockam_echo_start(p->far, NULL, NULL), OCKAM_OK);
    ockam_listener *l = tn_tcp_listen(p->far, profile);
    assert_int_equal(ockam_flow_add_consumer(p->far, "echo", ockam_listener_flow_id(l)), OCKAM_OK);
    snprintf(p->peer, sizeof p->peer, "%s", ockam_listener_address(l));
    p->near = tn_node_new();
    /* 1#host:port hops use (and reuse connections of) the default profile. */
    ockam_tcp_config cfg = OCKAM_TCP_CONFIG_INIT;
    cfg.default_profile = profile;
    assert_int_equal(ockam_tcp_init(p->near, &cfg), OCKAM_OK);
    p->app = tn_probe_start(p->near, "app");
    p->conn = tn_tcp_connect(p->near, p->peer, profile);
}

/* The body size of [echo] / [app] / payload of len bytes in the profile's encoding. */
static size_t
body_size(ockam_wire_profile profile, size_t len)
{
    ockam_msg *m = ockam_msg_new();
    assert_non_null(m);
    assert_int_equal(
        ockam_route_push_back(ockam_msg_onward(m), ockam_addr_local("echo")), OCKAM_OK);
    assert_int_equal(ockam_route_push_back(ockam_msg_return(m), ockam_addr_local("app")), OCKAM_OK);
    assert_non_null(ockam_msg_payload_reserve(m, len));
    size_t n = ockam__frame_msg_size(profile, m) - ockam__frame_header_len(profile);
    ockam_msg_free(m);
    return n;
}

/* The payload length whose body is exactly `body` bytes. */
static size_t
payload_for_body(ockam_wire_profile profile, size_t body)
{
    size_t len = body - (body_size(profile, body) - body);
    while (body_size(profile, len) > body)
        len--;
    while (body_size(profile, len + 1) <= body)
        len++;
    return len;
}

static uint8_t *
pattern(size_t len)
{
    uint8_t *b = malloc(len ? len : 1);
    assert_non_null(b);
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(i * 31 + (i >> 8));
    return b;
}

static void
echo_round_trip(struct pair *p, size_t len)
{
    char route[128];
    uint8_t *data = pattern(len);
    snprintf(route, sizeof route, "%s => echo", ockam_conn_address(p->conn));
    assert_int_equal(tn_send(tn_probe_worker(p->app), route, data, len), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(p->app, WAIT_MS);
    assert_non_null(m);
    ockam_slice s = ockam_msg_payload(m);
    assert_int_equal(s.len, len);
    assert_true(memcmp(s.ptr, data, len) == 0);
    ockam_msg_free(m);
    free(data);
}

static void
test_current_sizes(void **state)
{
    struct pair p;
    pair_start(&p, OCKAM_WIRE_CURRENT);
    size_t sizes[] = {1, 64 * 1024, 1024 * 1024};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        echo_round_trip(&p, sizes[i]);
    tn_free_all();
}

static void
run_limit(ockam_wire_profile profile, size_t max_body)
{
    struct pair p;
    char route[128];
    pair_start(&p, profile);
    size_t max_len = payload_for_body(profile, max_body);
    assert_int_equal(body_size(profile, max_len), max_body);
    echo_round_trip(&p, max_len);

    /* One byte more, through the connection's sender: refused, counted, connection kept. */
    uint8_t *big = pattern(max_len + 1);
    snprintf(route, sizeof route, "%s => echo", ockam_conn_address(p.conn));
    assert_int_equal(tn_send(tn_probe_worker(p.app), route, big, max_len + 1), OCKAM_OK);
    tn_drain();
    struct ockam_conn_stats s;
    ockam_conn_stats(p.conn, &s);
    assert_int_equal(s.refused, 1);
    assert_int_equal(s.queued_bytes, 0);

    /* The same through the 1#host:port hop: the error comes back to the sender. */
    snprintf(route, sizeof route, "1#%s => echo", p.peer);
    assert_int_equal(tn_send(tn_probe_worker(p.app), route, big, max_len + 1), OCKAM_EMSGSIZE);
    assert_int_equal(conn_stats_of(p.conn).refused, 2);
    free(big);

    echo_round_trip(&p, 5);
    assert_ptr_equal(ockam_conn_find(p.near, p.peer), p.conn);
    assert_int_equal(tn_probe_total(p.app), 2);
    tn_free_all();
}

static void
test_current_limit(void **state)
{
    run_limit(OCKAM_WIRE_CURRENT, OCKAM_MAX_FRAME_CURRENT);
}

static void
test_legacy_limit(void **state)
{
    run_limit(OCKAM_WIRE_LEGACY, OCKAM_MAX_FRAME_LEGACY);
}

/* Big frames grow the read buffer; afterwards it shrinks again and small messages flow. */
static void
test_big_then_small(void **state)
{
    struct pair p;
    pair_start(&p, OCKAM_WIRE_CURRENT);
    echo_round_trip(&p, 4 * 1024 * 1024);
    for (int i = 0; i < 100; i++)
        echo_round_trip(&p, 16);
    tn_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TN_TEST(test_current_sizes),
        TN_TEST(test_current_limit),
        TN_TEST(test_legacy_limit),
        TN_TEST(test_big_then_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
