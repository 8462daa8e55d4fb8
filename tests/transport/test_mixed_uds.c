/* Routes that start on a Unix socket and continue over TCP (and UDP), with exact return routes
 * at both ends (issue 6):
 *   n1 -UDS-> n2 (hop) -TCP-> n3 (inspect) and back;
 *   n1 -UDS-> n2 (hop) -TCP-> n3 (hop) -UDP, fixed peer-> n4 (inspect) and back.
 * test_uds.c checks the UDS -> TCP bridge from the sender's side only; here the far end sees
 * every hop in the return route, and the reply retraces it exactly. Each hop that sent through
 * a connection or bind became a consumer of its flow, which is the only reason the replies
 * get through flow control. */
#include "udp_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int
make_dir(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/ockam-mixed-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int
remove_dir(void **state)
{
    tn_free_all();
    assert_int_equal(rmdir(dir), 0); /* every listener removed its socket file */
    return 0;
}

static void
allow(ockam_node *n, ockam_flow_id flow, const char *address)
{
    assert_int_equal(ockam_flow_add_consumer(n, address, flow), OCKAM_OK);
}

/* n2: a hop reachable from a UDS listener at dir/n2.sock, and a TCP connection to `to`. */
static ockam_node *
uds_bridge(const char *to, char *path, size_t cap, ockam_conn **c23)
{
    ockam_node *n2 = tn_node_new();
    ockam_listener *l2 = NULL;
    snprintf(path, cap, "%s/n2.sock", dir);
    assert_int_equal(ockam_tcp_init(n2, NULL), OCKAM_OK);
    assert_int_equal(ockam_hop_start(n2, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_uds_listen(n2, path, &l2), OCKAM_OK);
    allow(n2, ockam_listener_flow_id(l2), "hop");
    *c23 = tn_tcp_connect(n2, to, OCKAM_WIRE_CURRENT);
    return n2;
}

/* n1: a node with only the UDS transport and a probe "app". */
static tn_probe *
uds_sender(ockam_node **n1)
{
    *n1 = tn_node_new();
    assert_int_equal(ockam_uds_init(*n1, NULL), OCKAM_OK);
    return tn_probe_start(*n1, "app");
}

/* Send ping along route, wait at inspect, reply pong; returns the reply as app got it. */
static ockam_msg *
ping_pong(tn_probe *app, tn_probe *inspect, const char *route, ockam_msg **at_far_end)
{
    assert_int_equal(tn_send(tn_probe_worker(app), route, "ping", 4), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(inspect, TU_WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_onward(m), "0#inspect");
    assert_int_equal(
        ockam_reply(tn_probe_worker(inspect), ockam_msg_clone(m), "pong", 4), OCKAM_OK);
    *at_far_end = m;
    m = tn_probe_wait(app, TU_WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, 4);
    assert_memory_equal(p.ptr, "pong", 4);
    return m;
}

static void
test_uds_then_tcp(void **state)
{
    char path[128], route[512];
    ockam_node *n3 = tn_node_new();
    ockam_listener *l3 = tn_tcp_listen(n3, OCKAM_WIRE_CURRENT);
    tn_probe *inspect = tn_probe_start(n3, "inspect");
    allow(n3, ockam_listener_flow_id(l3), "inspect");
    ockam_conn *c23;
    ockam_node *n2 = uds_bridge(ockam_listener_address(l3), path, sizeof path, &c23);
    ockam_node *n1;
    tn_probe *app = uds_sender(&n1);

    snprintf(route, sizeof route, "5#%s => hop => %s => inspect", path, ockam_conn_address(c23));
    ockam_msg *far, *back = ping_pong(app, inspect, route, &far);
    const char *s2 = ockam_conn_address(tn_only_accepted(n2));
    const char *s3 = ockam_conn_address(tn_only_accepted(n3));
    ockam_conn *c12 = ockam_conn_find(n1, path);
    assert_non_null(c12);
    tn_assert_route(ockam_msg_return(far), "0#%s => 0#hop => 0#%s => 0#app", s3, s2);
    tn_assert_route(ockam_msg_return(back), "0#%s => 0#hop => 0#%s => 0#inspect",
        ockam_conn_address(c12), ockam_conn_address(c23));
    ockam_msg_free(far);
    ockam_msg_free(back);
    tn_free_all();
}

static void
test_uds_tcp_udp(void **state)
{
    char path[128], route[512];
    /* n4: a UDP bind without a fixed peer, and inspect reachable from it */
    ockam_node *n4 = tu_node(NULL);
    ockam_udp_bind *b4 = tu_bind(n4, "127.0.0.1:0", NULL);
    tn_probe *inspect = tn_probe_start(n4, "inspect");
    tu_allow(n4, b4, "inspect");
    /* n3: a TCP listener, a hop, and a UDP bind with its peer fixed to b4 */
    ockam_node *n3 = tu_node(NULL);
    assert_int_equal(ockam_tcp_init(n3, NULL), OCKAM_OK);
    ockam_listener *l3 = tn_tcp_listen(n3, OCKAM_WIRE_CURRENT);
    assert_int_equal(ockam_hop_start(n3, NULL, NULL), OCKAM_OK);
    allow(n3, ockam_listener_flow_id(l3), "hop");
    ockam_udp_bind *c34 = tu_bind(n3, "127.0.0.1:0", ockam_udp_bind_local(b4));
    ockam_conn *c23;
    ockam_node *n2 = uds_bridge(ockam_listener_address(l3), path, sizeof path, &c23);
    ockam_node *n1;
    tn_probe *app = uds_sender(&n1);

    snprintf(route, sizeof route, "5#%s => hop => %s => hop => %s => inspect", path,
        ockam_conn_address(c23), ockam_udp_bind_address(c34));
    ockam_msg *far, *back = ping_pong(app, inspect, route, &far);
    const char *s2 = ockam_conn_address(tn_only_accepted(n2));
    const char *s3 = ockam_conn_address(tn_only_accepted(n3));
    ockam_conn *c12 = ockam_conn_find(n1, path);
    assert_non_null(c12);
    tn_assert_route(ockam_msg_return(far),
        "0#%s => 2#%s => 0#hop => 0#%s => 0#hop => 0#%s => 0#app", ockam_udp_bind_address(b4),
        ockam_udp_bind_local(c34), s3, s2);
    tn_assert_route(ockam_msg_return(back), "0#%s => 0#hop => 0#%s => 0#hop => 0#%s => 0#inspect",
        ockam_conn_address(c12), ockam_conn_address(c23), ockam_udp_bind_address(c34));
    ockam_msg_free(far);
    ockam_msg_free(back);
    tn_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_uds_then_tcp, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_uds_tcp_udp, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
