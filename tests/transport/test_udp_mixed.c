/* Routes that mix UDP and TCP (issue 6), with exact return routes at every arrival:
 *   n1 -UDP-> n2 (hop) -TCP-> n3 (echo / inspect) and back;
 *   n1 -TCP-> n2 (hop) -UDP, fixed peer-> n3 (hop) -TCP-> n4 (echo / inspect) and back.
 * Replies find their way back through transports of both kinds, and flow control lets them
 * through only because each hop that sent through a connection or bind became a consumer. */
#include "udp_util.h"

#include <stdio.h>
#include <string.h>

static void
tcp_allow(ockam_node *n, ockam_listener *l, const char *address)
{
    assert_int_equal(ockam_flow_add_consumer(n, address, ockam_listener_flow_id(l)), OCKAM_OK);
}

/* A node with TCP and UDP, echo and an "inspect" probe reachable from the listener. */
static ockam_node *
tcp_far(ockam_listener **l, tn_probe **inspect)
{
    ockam_node *n = tu_node(NULL);
    assert_int_equal(ockam_tcp_init(n, NULL), OCKAM_OK);
    *l = tn_tcp_listen(n, OCKAM_WIRE_CURRENT);
    assert_int_equal(ockam_echo_start(n, NULL, NULL), OCKAM_OK);
    *inspect = tn_probe_start(n, "inspect");
    tcp_allow(n, *l, "echo");
    tcp_allow(n, *l, "inspect");
    return n;
}

static void
test_udp_then_tcp(void **state)
{
    char route[512];
    ockam_listener *l3;
    tn_probe *inspect;
    ockam_node *n3 = tcp_far(&l3, &inspect);

    ockam_node *n2 = tu_node(NULL);
    assert_int_equal(ockam_tcp_init(n2, NULL), OCKAM_OK);
    ockam_udp_bind *b2 = tu_bind(n2, "127.0.0.1:0", NULL);
    assert_int_equal(ockam_hop_start(n2, NULL, NULL), OCKAM_OK);
    tu_allow(n2, b2, "hop");
    ockam_conn *c23 = tn_tcp_connect(n2, ockam_listener_address(l3), OCKAM_WIRE_CURRENT);

    ockam_node *n1 = tu_node(NULL);
    ockam_udp_bind *a1 = tu_bind(n1, "127.0.0.1:0", NULL);
    tn_probe *app = tn_probe_start(n1, "app");
    tn_drain();
    const char *s3 = ockam_conn_address(tn_only_accepted(n3));

    snprintf(route, sizeof route, "0#%s => 2#%s => 0#hop => 0#%s => 0#inspect",
        ockam_udp_bind_address(a1), ockam_udp_bind_local(b2), ockam_conn_address(c23));
    assert_int_equal(tn_send(tn_probe_worker(app), route, "ping", 4), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(inspect, TU_WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_onward(m), "0#inspect");
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#hop => 0#%s => 2#%s => 0#app", s3,
        ockam_udp_bind_address(b2), ockam_udp_bind_local(a1));

    assert_int_equal(ockam_reply(tn_probe_worker(inspect), m, "pong", 4), OCKAM_OK);
    m = tn_probe_wait(app, TU_WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    tn_assert_route(ockam_msg_return(m), "0#%s => 2#%s => 0#hop => 0#%s => 0#inspect",
        ockam_udp_bind_address(a1), ockam_udp_bind_local(b2), ockam_conn_address(c23));
    tu_assert_payload(m, "pong", 4);
    ockam_msg_free(m);

    snprintf(route, sizeof route, "0#%s => 2#%s => 0#hop => 0#%s => 0#echo",
        ockam_udp_bind_address(a1), ockam_udp_bind_local(b2), ockam_conn_address(c23));
    assert_int_equal(tn_send(tn_probe_worker(app), route, "echo me", 7), OCKAM_OK);
    m = tn_probe_wait(app, TU_WAIT_MS);
    assert_non_null(m);
    tu_assert_payload(m, "echo me", 7);
    ockam_msg_free(m);
    tn_free_all();
}

static void
test_tcp_udp_tcp(void **state)
{
    char route[512];
    ockam_listener *l4;
    tn_probe *inspect;
    ockam_node *n4 = tcp_far(&l4, &inspect);

    /* n3: UDP bind B3, hop, TCP connection to n4 */
    ockam_node *n3 = tu_node(NULL);
    assert_int_equal(ockam_tcp_init(n3, NULL), OCKAM_OK);
    ockam_udp_bind *b3 = tu_bind(n3, "127.0.0.1:0", NULL);
    assert_int_equal(ockam_hop_start(n3, NULL, NULL), OCKAM_OK);
    tu_allow(n3, b3, "hop");
    ockam_conn *c34 = tn_tcp_connect(n3, ockam_listener_address(l4), OCKAM_WIRE_CURRENT);

    /* n2: TCP listener, hop, UDP bind with its peer fixed to B3 (an operator's "connection") */
    ockam_node *n2 = tu_node(NULL);
    assert_int_equal(ockam_tcp_init(n2, NULL), OCKAM_OK);
    ockam_listener *l2 = tn_tcp_listen(n2, OCKAM_WIRE_CURRENT);
    assert_int_equal(ockam_hop_start(n2, NULL, NULL), OCKAM_OK);
    tcp_allow(n2, l2, "hop");
    ockam_udp_bind *c23 = tu_bind(n2, "127.0.0.1:0", ockam_udp_bind_local(b3));

    ockam_node *n1 = tn_node_new();
    assert_int_equal(ockam_tcp_init(n1, NULL), OCKAM_OK);
    tn_probe *app = tn_probe_start(n1, "app");
    ockam_conn *c12 = tn_tcp_connect(n1, ockam_listener_address(l2), OCKAM_WIRE_CURRENT);
    tn_drain();
    const char *s2 = ockam_conn_address(tn_only_accepted(n2));
    const char *s4 = ockam_conn_address(tn_only_accepted(n4));

    snprintf(route, sizeof route, "0#%s => 0#hop => 0#%s => 0#hop => 0#%s => 0#inspect",
        ockam_conn_address(c12), ockam_udp_bind_address(c23), ockam_conn_address(c34));
    assert_int_equal(tn_send(tn_probe_worker(app), route, "ping", 4), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(inspect, TU_WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#hop => 0#%s => 2#%s => 0#hop => 0#%s => 0#app",
        s4, ockam_udp_bind_address(b3), ockam_udp_bind_local(c23), s2);

    assert_int_equal(ockam_reply(tn_probe_worker(inspect), m, "pong", 4), OCKAM_OK);
    m = tn_probe_wait(app, TU_WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#hop => 0#%s => 0#hop => 0#%s => 0#inspect",
        ockam_conn_address(c12), ockam_udp_bind_address(c23), ockam_conn_address(c34));
    tu_assert_payload(m, "pong", 4);
    ockam_msg_free(m);

    snprintf(route, sizeof route, "0#%s => 0#hop => 0#%s => 0#hop => 0#%s => 0#echo",
        ockam_conn_address(c12), ockam_udp_bind_address(c23), ockam_conn_address(c34));
    assert_int_equal(tn_send(tn_probe_worker(app), route, "round trip", 10), OCKAM_OK);
    m = tn_probe_wait(app, TU_WAIT_MS);
    assert_non_null(m);
    tu_assert_payload(m, "round trip", 10);
    ockam_msg_free(m);
    tn_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TN_TEST(test_udp_then_tcp),
        TN_TEST(test_tcp_udp_tcp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
