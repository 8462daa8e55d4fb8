/* Routes that start over BLE and go on over UDP and TCP, with exact return routes on
 * arrival and on the way back:
 *   n1 -BLE (4#name, lazy)-> n2 (hop) -UDP (2#host:port)-> n3 (hop) -TCP (1#host:port)-> n4
 *   n1 -BLE (4#name, lazy)-> n2 (hop) -TCP (1#host:port)-> n3 (hop) -TCP (1#host:port)-> n4
 * The intermediate nodes open their UDP/TCP legs for messages from other nodes only because
 * the destinations are in their allowed_outgoing lists; replies come back because every
 * worker that sent through a link, bind or connection became a consumer of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ble_util.h"

#include <stdio.h>
#include <string.h>

static void
assert_payload(const ockam_msg *m, const void *data, size_t len)
{
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, len);
    assert_memory_equal(p.ptr, data, len);
}

/* n4: TCP listener with echo and an "inspect" probe. */
static ockam_node *
far_node(ockam_listener **l, tn_probe **inspect)
{
    ockam_node *n = tn_node_new();
    assert_int_equal(ockam_tcp_init(n, NULL), OCKAM_OK);
    *l = tn_tcp_listen(n, OCKAM_WIRE_CURRENT);
    assert_int_equal(ockam_echo_start(n, NULL, NULL), OCKAM_OK);
    *inspect = tn_probe_start(n, "inspect");
    assert_int_equal(ockam_flow_add_consumer(n, "inspect", ockam_listener_flow_id(*l)), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(n, "echo", ockam_listener_flow_id(*l)), OCKAM_OK);
    return n;
}

static void
tcp_init_allowing(ockam_node *n, const char *dest)
{
    ockam_tcp_config cfg = OCKAM_TCP_CONFIG_INIT;
    const char *allowed[1] = {dest};
    cfg.allowed_outgoing = allowed;
    cfg.allowed_outgoing_count = 1;
    assert_int_equal(ockam_tcp_init(n, &cfg), OCKAM_OK);
}

/* n2: BLE listener `name` with a hop reachable over BLE. */
static ockam_node *
ble_entry(const char *name)
{
    ockam_node *n = bt_node(name);
    assert_int_equal(ockam_hop_start(n, NULL, NULL), OCKAM_OK);
    bt_allow(n, "hop");
    return n;
}

static void
only_link(ockam_ble_link *link, void *arg)
{
    *(ockam_ble_link **)arg = link;
}

static const char *
accepted_link(ockam_node *n)
{
    ockam_ble_link *link = NULL;
    ockam_ble_link_each(n, only_link, &link);
    assert_non_null(link);
    assert_false(ockam_ble_link_is_outgoing(link));
    return ockam_ble_link_address(link);
}

static void
find_default(ockam_udp_bind *b, void *arg)
{
    if (ockam_udp_bind_is_default(b))
        *(ockam_udp_bind **)arg = b;
}

static const char *
port_of(const char *host_port)
{
    return strrchr(host_port, ':') + 1;
}

static void
test_ble_udp_tcp(void **state)
{
    char route[512], dest3[64], dest4[64];
    ockam_listener *l4;
    tn_probe *inspect;
    ockam_node *n4 = far_node(&l4, &inspect);
    snprintf(dest4, sizeof dest4, "%s", ockam_listener_address(l4));

    /* n3: UDP bind, hop, may open TCP to n4 */
    ockam_node *n3 = tn_node_new();
    assert_int_equal(ockam_udp_init(n3, NULL), OCKAM_OK);
    tcp_init_allowing(n3, dest4);
    ockam_udp_bind *b3;
    assert_int_equal(ockam_udp_bind_open(n3, "127.0.0.1:0", NULL, &b3), OCKAM_OK);
    assert_int_equal(ockam_hop_start(n3, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(n3, "hop", ockam_udp_bind_flow_id(b3)), OCKAM_OK);
    snprintf(dest3, sizeof dest3, "%s", ockam_udp_bind_local(b3));

    /* n2: BLE listener, hop, may send UDP to n3 */
    char name[OCKAM_BLE_MAX_NAME + 1];
    snprintf(name, sizeof name, "%s", bt_name("mix"));
    ockam_node *n2 = ble_entry(name);
    ockam_udp_config ucfg = OCKAM_UDP_CONFIG_INIT;
    const char *allowed[1] = {dest3};
    ucfg.allowed_outgoing = allowed;
    ucfg.allowed_outgoing_count = 1;
    assert_int_equal(ockam_udp_init(n2, &ucfg), OCKAM_OK);

    ockam_node *n1 = bt_node(NULL);
    tn_probe *app = tn_probe_start(n1, "app");

    snprintf(route, sizeof route, "4#%s => 0#hop => 2#%s => 0#hop => 1#%s => 0#inspect", name,
        dest3, dest4);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "ping", 4), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(inspect, BT_WAIT_MS);
    assert_non_null(m);
    ockam_udp_bind *d2 = NULL;
    ockam_udp_bind_each(n2, find_default, &d2);
    assert_non_null(d2);
    ockam_conn *c34 = ockam_conn_find(n3, dest4);
    assert_non_null(c34);
    tn_assert_route(ockam_msg_onward(m), "0#inspect");
    tn_assert_route(ockam_msg_return(m),
        "0#%s => 0#hop => 0#%s => 2#127.0.0.1:%s => 0#hop => 0#%s => 0#app",
        ockam_conn_address(tn_only_accepted(n4)), ockam_udp_bind_address(b3),
        port_of(ockam_udp_bind_local(d2)), accepted_link(n2));

    assert_int_equal(ockam_reply(tn_probe_worker(inspect), m, "pong", 4), OCKAM_OK);
    m = tn_probe_wait(app, BT_WAIT_MS);
    assert_non_null(m);
    ockam_ble_link *l12 = ockam_ble_link_find(n1, name);
    assert_non_null(l12);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    tn_assert_route(ockam_msg_return(m),
        "0#%s => 0#hop => 0#%s => 2#%s => 0#hop => 0#%s => 0#inspect", ockam_ble_link_address(l12),
        ockam_udp_bind_address(d2), dest3, ockam_conn_address(c34));
    assert_payload(m, "pong", 4);
    ockam_msg_free(m);
    tn_free_all();
}

static void
test_ble_tcp_tcp(void **state)
{
    char route[512], dest3[64], dest4[64];
    ockam_listener *l4;
    tn_probe *inspect;
    ockam_node *n4 = far_node(&l4, &inspect);
    snprintf(dest4, sizeof dest4, "%s", ockam_listener_address(l4));

    ockam_node *n3 = tn_node_new();
    tcp_init_allowing(n3, dest4);
    ockam_listener *l3 = tn_tcp_listen(n3, OCKAM_WIRE_CURRENT);
    assert_int_equal(ockam_hop_start(n3, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(n3, "hop", ockam_listener_flow_id(l3)), OCKAM_OK);
    snprintf(dest3, sizeof dest3, "%s", ockam_listener_address(l3));

    char name[OCKAM_BLE_MAX_NAME + 1];
    snprintf(name, sizeof name, "%s", bt_name("mix"));
    ockam_node *n2 = ble_entry(name);
    tcp_init_allowing(n2, dest3);

    ockam_node *n1 = bt_node(NULL);
    tn_probe *app = tn_probe_start(n1, "app");

    snprintf(route, sizeof route, "4#%s => 0#hop => 1#%s => 0#hop => 1#%s => 0#inspect", name,
        dest3, dest4);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "ping", 4), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(inspect, BT_WAIT_MS);
    assert_non_null(m);
    ockam_conn *c23 = ockam_conn_find(n2, dest3);
    ockam_conn *c34 = ockam_conn_find(n3, dest4);
    assert_non_null(c23);
    assert_non_null(c34);
    tn_assert_route(ockam_msg_onward(m), "0#inspect");
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#hop => 0#%s => 0#hop => 0#%s => 0#app",
        ockam_conn_address(tn_only_accepted(n4)), ockam_conn_address(tn_only_accepted(n3)),
        accepted_link(n2));

    assert_int_equal(ockam_reply(tn_probe_worker(inspect), m, "pong", 4), OCKAM_OK);
    m = tn_probe_wait(app, BT_WAIT_MS);
    assert_non_null(m);
    ockam_ble_link *l12 = ockam_ble_link_find(n1, name);
    assert_non_null(l12);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#hop => 0#%s => 0#hop => 0#%s => 0#inspect",
        ockam_ble_link_address(l12), ockam_conn_address(c23), ockam_conn_address(c34));
    assert_payload(m, "pong", 4);
    ockam_msg_free(m);

    /* A 1 MiB message takes the same way to echo and back. */
    static uint8_t big[1024 * 1024];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i ^ (i >> 9));
    snprintf(route, sizeof route, "4#%s => 0#hop => 1#%s => 0#hop => 1#%s => 0#echo", name, dest3,
        dest4);
    assert_int_equal(tn_send(tn_probe_worker(app), route, big, sizeof big), OCKAM_OK);
    m = tn_probe_wait(app, BT_WAIT_MS);
    assert_non_null(m);
    assert_payload(m, big, sizeof big);
    ockam_msg_free(m);
    tn_free_all();
}

/* A hop on n2 must not make n2 open a BLE link that a remote node asked for. */
static void
test_remote_cannot_open_ble(void **state)
{
    char name[OCKAM_BLE_MAX_NAME + 1];
    snprintf(name, sizeof name, "%s", bt_name("mix"));
    ockam_node *n2 = ble_entry(name);
    char other[OCKAM_BLE_MAX_NAME + 1];
    snprintf(other, sizeof other, "%s", bt_name("other"));
    ockam_node *n3 = bt_node(other);
    ockam_node *n1 = bt_node(NULL);
    tn_probe *app = tn_probe_start(n1, "app");
    tn_log_capture();
    char route[128];
    snprintf(route, sizeof route, "4#%s => 0#hop => 4#%s => 0#echo", name, other);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "x", 1), OCKAM_OK);
    assert_null(tn_probe_wait(app, 1500));
    assert_int_equal(tn_log_count("refusing to connect"), 1);
    assert_null(ockam_ble_link_find(n2, other));
    tn_log_release();
    (void)n3;
    tn_free_all();
}

int
main(void)
{
    BT_REQUIRE_BTVIRT();
    const struct CMUnitTest tests[] = {
        TN_TEST(test_ble_udp_tcp),
        TN_TEST(test_ble_tcp_tcp),
        TN_TEST(test_remote_cannot_open_ble),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
