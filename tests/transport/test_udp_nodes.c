/* Nodes talking over UDP: request/reply through echo, uppercase and hop with exact return
 * routes; three nodes through a hop and a fixed-peer bind; messages of 600 B, 64 KiB and
 * 1 MiB; a message too large for the receiver's caps dropped cleanly; flow control (default
 * deny); the rules for destinations chosen by other nodes (bind senders and 2#host:port
 * first hops, allowed_outgoing); the default bind; names; closing binds; IPv6. */
#include "udp_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ockam_udp_stats
bind_stats_of(const ockam_udp_bind *b)
{
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(b, &s);
    return s;
}

/* n1 (app) and n2 (echo, uppercase, hop). */
static void
pair_start(tu_side *n1, tu_side *n2, tn_probe **app)
{
    tu_side_start(n2, NULL, "127.0.0.1:0", NULL);
    tu_services(n2->node, n2->bind);
    tu_side_start(n1, NULL, "127.0.0.1:0", NULL);
    *app = tn_probe_start(n1->node, "app");
}

static void
test_two_nodes_echo(void **state)
{
    tu_side n1, n2;
    tn_probe *app;
    char route[256];
    pair_start(&n1, &n2, &app);

    snprintf(route, sizeof route, "0#%s => 2#%s => 0#echo", n1.sender, n2.local);
    ockam_msg *m = tu_request(app, route, "hello", 5);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    tn_assert_route(ockam_msg_return(m), "0#%s => 2#%s => 0#echo", n1.sender, n2.local);
    tu_assert_payload(m, "hello", 5);
    assert_int_equal(ockam_msg_origin(m).producer, ockam_udp_bind_flow_id(n1.bind));
    ockam_msg_free(m);
    /* The sender became a consumer of the bind's flow id, so the reply reached it. */
    assert_true(ockam_flow_is_consumer(n1.node, "app", ockam_udp_bind_flow_id(n1.bind)));

    struct ockam_udp_stats s1;
    ockam_udp_bind_stats(n1.bind, &s1);
    struct ockam_udp_stats s2;
    ockam_udp_bind_stats(n2.bind, &s2);
    assert_int_equal(s1.messages_out, 1);
    assert_int_equal(s1.messages_in, 1);
    assert_int_equal(s2.messages_in, 1);
    assert_int_equal(s2.messages_out, 1);
    assert_int_equal(s1.datagrams_out, 1);
    tn_free_all();
}

static void
test_two_nodes_uppercase_and_hop(void **state)
{
    tu_side n1, n2;
    tn_probe *app;
    char route[256];
    pair_start(&n1, &n2, &app);

    snprintf(route, sizeof route, "0#%s => 2#%s => 0#uppercase", n1.sender, n2.local);
    ockam_msg *m = tu_request(app, route, "\x05hello", 6);
    tu_assert_payload(m, "\x05HELLO", 6);
    tn_assert_route(ockam_msg_return(m), "0#%s => 2#%s => 0#uppercase", n1.sender, n2.local);
    ockam_msg_free(m);

    snprintf(route, sizeof route, "0#%s => 2#%s => 0#hop => 0#echo", n1.sender, n2.local);
    m = tu_request(app, route, "via hop", 7);
    tn_assert_route(ockam_msg_return(m), "0#%s => 2#%s => 0#hop => 0#echo", n1.sender, n2.local);
    tu_assert_payload(m, "via hop", 7);
    ockam_msg_free(m);
    tn_free_all();
}

/* n1 -UDP-> n2 (hop) -UDP, fixed peer-> n3 (inspect, echo) and back, with the return route
 * checked on arrival at n3 and back at n1. */
static void
test_three_nodes_fixed_peer(void **state)
{
    tu_side n1, n2, n3;
    char route[512];
    tu_side_start(&n3, NULL, "127.0.0.1:0", NULL);
    tu_services(n3.node, n3.bind);
    tn_probe *inspect = tn_probe_start(n3.node, "inspect");
    tu_allow(n3.node, n3.bind, "inspect");
    tu_side_start(&n2, NULL, "127.0.0.1:0", NULL);
    assert_int_equal(ockam_hop_start(n2.node, NULL, NULL), OCKAM_OK);
    tu_allow(n2.node, n2.bind, "hop");
    ockam_udp_bind *c23 = tu_bind(n2.node, "127.0.0.1:0", n3.local);
    tu_allow(n2.node, c23, "hop"); /* replies from n3 come back through the hop */
    char c23_local[64];
    snprintf(c23_local, sizeof c23_local, "%s", ockam_udp_bind_local(c23));
    tu_side_start(&n1, NULL, "127.0.0.1:0", NULL);
    tn_probe *app = tn_probe_start(n1.node, "app");

    snprintf(route, sizeof route, "0#%s => 2#%s => 0#hop => 0#%s => 0#inspect", n1.sender, n2.local,
        ockam_udp_bind_address(c23));
    assert_int_equal(tn_send(tn_probe_worker(app), route, "ping", 4), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(inspect, TU_WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_onward(m), "0#inspect");
    tn_assert_route(ockam_msg_return(m), "0#%s => 2#%s => 0#hop => 0#%s => 2#%s => 0#app",
        n3.sender, c23_local, n2.sender, n1.local);

    assert_int_equal(ockam_reply(tn_probe_worker(inspect), m, "pong", 4), OCKAM_OK);
    m = tn_probe_wait(app, TU_WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    tn_assert_route(ockam_msg_return(m), "0#%s => 2#%s => 0#hop => 0#%s => 0#inspect", n1.sender,
        n2.local, ockam_udp_bind_address(c23));
    tu_assert_payload(m, "pong", 4);
    ockam_msg_free(m);

    snprintf(route, sizeof route, "0#%s => 2#%s => 0#hop => 0#%s => 0#echo", n1.sender, n2.local,
        ockam_udp_bind_address(c23));
    m = tu_request(app, route, "echoed", 6);
    tu_assert_payload(m, "echoed", 6);
    ockam_msg_free(m);
    tn_free_all();
}

/* ---- sizes --------------------------------------------------------------------------- */

static void
echo_size(tn_probe *app, const char *route, size_t len, uint32_t seed)
{
    uint8_t *data = malloc(len);
    tu_fill(data, len, seed);
    ockam_msg *m = tu_request(app, route, data, len);
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, len);
    assert_true(tu_check(p.ptr, p.len, seed));
    ockam_msg_free(m);
    free(data);
}

static void
test_multi_fragment_sizes(void **state)
{
    tu_side n1, n2;
    tn_probe *app;
    char route[256];
    pair_start(&n1, &n2, &app);
    snprintf(route, sizeof route, "0#%s => 2#%s => 0#echo", n1.sender, n2.local);

    echo_size(app, route, 600, 1);
    echo_size(app, route, 64 * 1024, 2);
    echo_size(app, route, 1024 * 1024, 3);
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(n2.bind, &s);
    assert_int_equal(s.messages_in, 3);
    assert_int_equal(s.gaps + s.late + s.abandoned + s.malformed, 0);
    assert_true(s.datagrams_in > (1024 * 1024) / 493);
    assert_int_equal(s.reassembly_bytes, 0);
    assert_int_equal(ockam_udp_reassembly_bytes(n2.node), 0);
    tn_free_all();
}

static bool
has_over_cap(const struct ockam_udp_stats *s)
{
    return s->over_cap >= 1;
}

/* A message larger than the receiver allows is dropped cleanly; later messages pass. */
static void
test_message_over_cap(void **state)
{
    tu_side n1, n2;
    char route[256];
    ockam_udp_config cfg = OCKAM_UDP_CONFIG_INIT;
    cfg.max_peer_bytes = 64 * 1024;
    tu_side_start(&n2, &cfg, "127.0.0.1:0", NULL);
    tu_services(n2.node, n2.bind);
    tu_side_start(&n1, NULL, "127.0.0.1:0", NULL);
    tn_probe *app = tn_probe_start(n1.node, "app");
    snprintf(route, sizeof route, "0#%s => 2#%s => 0#echo", n1.sender, n2.local);

    size_t big = 1024 * 1024;
    uint8_t *data = calloc(1, big);
    assert_int_equal(tn_send(tn_probe_worker(app), route, data, big), OCKAM_OK);
    assert_true(tu_wait_stats(n2.bind, has_over_cap, TU_WAIT_MS));
    free(data);
    echo_size(app, route, 16 * 1024, 9);
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(n2.bind, &s);
    assert_int_equal(s.over_cap, 1);
    assert_int_equal(s.messages_in, 1);
    assert_true(s.reassembly_peak <= 64 * 1024);
    assert_int_equal(s.reassembly_bytes, 0);
    assert_int_equal(tn_probe_total(app), 1);
    tn_free_all();
}

/* ---- flow control and destinations ---------------------------------------------------- */

static bool
has_message_in(const struct ockam_udp_stats *s)
{
    return s->messages_in >= 1;
}

static void
test_default_deny(void **state)
{
    tu_side n1, n2;
    char route[256];
    tu_side_start(&n2, NULL, "127.0.0.1:0", NULL);
    tn_probe *secret = tn_probe_start(n2.node, "secret"); /* not a consumer */
    tu_side_start(&n1, NULL, "127.0.0.1:0", NULL);
    tn_probe *app = tn_probe_start(n1.node, "app");
    snprintf(route, sizeof route, "0#%s => 2#%s => 0#secret", n1.sender, n2.local);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "x", 1), OCKAM_OK);
    assert_true(tu_wait_stats(n2.bind, has_message_in, TU_WAIT_MS));
    tn_drain();
    assert_int_equal(tn_probe_total(secret), 0);
    tn_free_all();
}

static bool
has_send_dropped(const struct ockam_udp_stats *s)
{
    return s->send_dropped >= 1;
}

/* n1 asks n2's hop to send through n2's (unfixed) bind to n3, which n2 never talked to. */
static void
test_bind_sender_refuses_unknown_destination(void **state)
{
    tu_side n1, n2, n3;
    char route[512];
    tu_side_start(&n3, NULL, "127.0.0.1:0", NULL);
    tu_services(n3.node, n3.bind);
    tu_side_start(&n2, NULL, "127.0.0.1:0", NULL);
    tu_services(n2.node, n2.bind);
    tu_side_start(&n1, NULL, "127.0.0.1:0", NULL);
    tn_probe *app = tn_probe_start(n1.node, "app");

    snprintf(route, sizeof route, "0#%s => 2#%s => 0#hop => 0#%s => 2#%s => 0#echo", n1.sender,
        n2.local, n2.sender, n3.local);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "x", 1), OCKAM_OK);
    assert_true(tu_wait_stats(n2.bind, has_send_dropped, TU_WAIT_MS));
    assert_int_equal(bind_stats_of(n3.bind).datagrams_in, 0);

    /* Once n2 has talked to n3 itself, replies and relayed messages may go there. */
    tn_probe *n2app = tn_probe_start(n2.node, "n2app");
    char direct[256];
    snprintf(direct, sizeof direct, "0#%s => 2#%s => 0#echo", n2.sender, n3.local);
    ockam_msg *m = tu_request(n2app, direct, "hi", 2);
    ockam_msg_free(m);
    m = tu_request(app, route, "x", 1);
    tn_assert_route(ockam_msg_return(m), "0#%s => 2#%s => 0#hop => 0#%s => 2#%s => 0#echo",
        n1.sender, n2.local, n2.sender, n3.local);
    ockam_msg_free(m);
    tn_free_all();
}

/* 2#host:port as the first hop (no bind named): the default bind, for local messages always,
 * for messages from other nodes only with allowed_outgoing. */
static void
run_route_op(bool allow)
{
    tu_side n1, n2, n3;
    char route[512];
    tu_side_start(&n3, NULL, "127.0.0.1:0", NULL);
    tu_services(n3.node, n3.bind);
    const char *allowed[] = {n3.local};
    ockam_udp_config cfg = OCKAM_UDP_CONFIG_INIT;
    if (allow) {
        cfg.allowed_outgoing = allowed;
        cfg.allowed_outgoing_count = 1;
    }
    tu_side_start(&n2, &cfg, "127.0.0.1:0", NULL);
    tu_services(n2.node, n2.bind);
    tu_side_start(&n1, NULL, "127.0.0.1:0", NULL);
    tn_probe *app = tn_probe_start(n1.node, "app");

    /* Local origin on n1: the default bind is created and used. */
    snprintf(route, sizeof route, "2#%s => 0#echo", n2.local);
    ockam_msg *m = tu_request(app, route, "direct", 6);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    ockam_addr first = ockam_route_front(ockam_msg_return(m));
    char first_name[64];
    snprintf(first_name, sizeof first_name, "%.*s", (int)first.len, (const char *)first.bytes);
    ockam_udp_bind *d = ockam_udp_bind_find(n1.node, first_name);
    assert_non_null(d);
    assert_true(ockam_udp_bind_is_default(d));
    assert_int_equal(strncmp(ockam_udp_bind_local(d), "0.0.0.0:", 8), 0);
    tn_assert_route(ockam_msg_return(m), "0#%s => 2#%s => 0#echo", first_name, n2.local);
    ockam_msg_free(m);

    /* From n1 through n2's hop: n2 may send to n3 only when allowed. */
    snprintf(route, sizeof route, "0#%s => 2#%s => 0#hop => 2#%s => 0#echo", n1.sender, n2.local,
        n3.local);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "relayed", 7), OCKAM_OK);
    if (allow) {
        m = tn_probe_wait(app, TU_WAIT_MS);
        assert_non_null(m);
        tu_assert_payload(m, "relayed", 7);
        ockam_msg_free(m);
        assert_int_equal(bind_stats_of(n3.bind).messages_in, 1);
    } else {
        assert_true(tu_wait_stats(n2.bind, has_message_in, TU_WAIT_MS));
        tn_drain();
        assert_int_equal(bind_stats_of(n3.bind).datagrams_in, 0);
        assert_null(ockam_udp_bind_find(n2.node, "0.0.0.0:0"));
    }
    tn_free_all();
}

static void
test_route_op_local_and_refused(void **state)
{
    run_route_op(false);
}

static void
test_route_op_allowed(void **state)
{
    run_route_op(true);
}

/* ---- names, close, IPv6 -------------------------------------------------------------- */

static void
test_names(void **state)
{
    tu_side n1, n2;
    char route[256];
    tu_side_start(&n2, NULL, "localhost:0", NULL);
    tu_services(n2.node, n2.bind);
    tu_side_start(&n1, NULL, "127.0.0.1:0", NULL);
    tn_probe *app = tn_probe_start(n1.node, "app");
    const char *port = strrchr(n2.local, ':') + 1;

    snprintf(route, sizeof route, "0#%s => 2#localhost:%s => 0#echo", n1.sender, port);
    ockam_msg *m = tu_request(app, route, "by name", 7);
    tu_assert_payload(m, "by name", 7);
    ockam_msg_free(m);

    /* A fixed peer given by name is resolved when the bind is made. */
    char peer[64];
    snprintf(peer, sizeof peer, "localhost:%s", port);
    ockam_udp_bind *c = tu_bind(n1.node, "127.0.0.1:0", peer);
    assert_string_equal(ockam_udp_bind_peer(c), n2.local);
    snprintf(route, sizeof route, "0#%s => 0#echo", ockam_udp_bind_address(c));
    m = tu_request(app, route, "fixed", 5);
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#echo", ockam_udp_bind_address(c));
    ockam_msg_free(m);
    tn_free_all();
}

static void
count_bind(ockam_udp_bind *b, void *arg)
{
    (*(int *)arg)++;
}

static void
test_bind_errors_and_close(void **state)
{
    ockam_node *bare = tn_node_new();
    ockam_udp_bind *b = NULL;
    assert_int_equal(ockam_udp_bind_open(bare, "127.0.0.1:0", NULL, &b), OCKAM_ENOTSUP);
    ockam_node *n = tu_node(NULL);
    assert_int_equal(ockam_udp_init(n, NULL), OCKAM_EEXIST);
    assert_int_equal(ockam_udp_bind_open(n, "127.0.0.1", NULL, &b), OCKAM_EADDRINVAL);
    assert_int_equal(ockam_udp_bind_open(n, "::1:0", NULL, &b), OCKAM_EADDRINVAL);
    assert_int_equal(ockam_udp_bind_open(n, "127.0.0.1:70000", NULL, &b), OCKAM_EADDRINVAL);
    ockam_udp_bind_opts o = {.peer = "127.0.0.1:0"};
    assert_int_equal(ockam_udp_bind_open(n, "127.0.0.1:0", &o, &b), OCKAM_EADDRINVAL);
    ockam_udp_config bad = OCKAM_UDP_CONFIG_INIT;
    bad.max_peers = 0;
    assert_int_equal(ockam_udp_init(bare, &bad), OCKAM_EINVAL);

    b = tu_bind(n, "127.0.0.1:0", NULL);
    char taken[64], sender[64];
    snprintf(taken, sizeof taken, "%s", ockam_udp_bind_local(b));
    snprintf(sender, sizeof sender, "%s", ockam_udp_bind_address(b));
    ockam_udp_bind *b2 = NULL;
    assert_int_equal(ockam_udp_bind_open(n, taken, NULL, &b2), OCKAM_EADDRINUSE);
    assert_ptr_equal(ockam_udp_bind_find(n, taken), b);
    assert_ptr_equal(ockam_udp_bind_find(n, sender), b);
    assert_false(ockam_udp_bind_is_default(b));
    int count = 0;
    ockam_udp_bind_each(n, count_bind, &count);
    assert_int_equal(count, 1);

    /* Queue a message for a destination, then close: nothing leaks, nothing is found. */
    tn_probe *app = tn_probe_start(n, "app");
    char route[256];
    snprintf(route, sizeof route, "0#%s => 2#localhost:9 => 0#echo", sender);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "x", 1), OCKAM_OK);
    tn_drain();
    ockam_udp_bind_close(b);
    assert_null(ockam_udp_bind_find(n, taken));
    assert_false(ockam_node_has_worker(n, sender));
    count = 0;
    ockam_udp_bind_each(n, count_bind, &count);
    assert_int_equal(count, 0);
    /* The port is free again once the loop has closed the socket. */
    tn_drain();
    b2 = tu_bind(n, taken, NULL);
    tn_free_all();
}

/* Ockam's 16 MiB limit is enforced by the sender: through the route op the error comes back
 * to the caller, through a bind's sender the message is counted as not sent. */
static void
test_too_large_to_send(void **state)
{
    tu_side n1, n2;
    tn_probe *app;
    char route[256];
    pair_start(&n1, &n2, &app);
    size_t len = OCKAM_UDP_MAX_MESSAGE;
    uint8_t *data = calloc(1, len);

    snprintf(route, sizeof route, "2#%s => 0#echo", n2.local);
    assert_int_equal(tn_send(tn_probe_worker(app), route, data, len), OCKAM_EMSGSIZE);
    snprintf(route, sizeof route, "0#%s => 2#%s => 0#echo", n1.sender, n2.local);
    assert_int_equal(tn_send(tn_probe_worker(app), route, data, len), OCKAM_OK);
    assert_true(tu_wait_stats(n1.bind, has_send_dropped, TU_WAIT_MS));
    assert_int_equal(bind_stats_of(n1.bind).datagrams_out, 0);
    free(data);
    tn_free_all();
}

static void
test_ipv6(void **state)
{
    ockam_node *probe = tu_node(NULL);
    ockam_udp_bind *b = NULL;
    if (ockam_udp_bind_open(probe, "[::1]:0", NULL, &b) != OCKAM_OK) {
        tn_free_all();
        skip(); /* no IPv6 loopback in this environment */
    }
    tn_free_all();

    tu_side n1, n2;
    char route[256];
    tu_side_start(&n2, NULL, "[::1]:0", NULL);
    tu_services(n2.node, n2.bind);
    tu_side_start(&n1, NULL, "[::1]:0", NULL);
    tn_probe *app = tn_probe_start(n1.node, "app");
    assert_true(n2.local[0] == '[');
    snprintf(route, sizeof route, "0#%s => 2#%s => 0#echo", n1.sender, n2.local);
    ockam_msg *m = tu_request(app, route, "six", 3);
    tn_assert_route(ockam_msg_return(m), "0#%s => 2#%s => 0#echo", n1.sender, n2.local);
    ockam_msg_free(m);
    /* An IPv4 destination through an IPv6 bind is refused locally. */
    snprintf(route, sizeof route, "0#%s => 2#127.0.0.1:9 => 0#echo", n1.sender);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "x", 1), OCKAM_OK);
    assert_true(tu_wait_stats(n1.bind, has_send_dropped, TU_WAIT_MS));
    tn_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TN_TEST(test_two_nodes_echo),
        TN_TEST(test_two_nodes_uppercase_and_hop),
        TN_TEST(test_three_nodes_fixed_peer),
        TN_TEST(test_multi_fragment_sizes),
        TN_TEST(test_message_over_cap),
        TN_TEST(test_default_deny),
        TN_TEST(test_bind_sender_refuses_unknown_destination),
        TN_TEST(test_route_op_local_and_refused),
        TN_TEST(test_route_op_allowed),
        TN_TEST(test_names),
        TN_TEST(test_bind_errors_and_close),
        TN_TEST(test_too_large_to_send),
        TN_TEST(test_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
