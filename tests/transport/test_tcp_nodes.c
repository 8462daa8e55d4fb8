/* Nodes talking over TCP: request/reply through echo, uppercase and a hop; the three-node
 * bridge with exact return routes at every arrival; flow control (default deny, through a hop
 * too); the open-proxy rule for 1#host:port hops and its allow-list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "nodes.h"

#include <stdio.h>
#include <string.h>

#define WAIT_MS 5000

/* A node listening on 127.0.0.1:0 (CURRENT), with the TCP config given (NULL = defaults). */
struct far {
    ockam_node *node;
    ockam_listener *l;
    char addr[64];
};

static void
far_start_profile(struct far *f, const ockam_tcp_config *cfg, ockam_wire_profile profile)
{
    f->node = tn_node_new();
    assert_int_equal(ockam_tcp_init(f->node, cfg), OCKAM_OK);
    f->l = tn_tcp_listen(f->node, profile);
    snprintf(f->addr, sizeof f->addr, "%s", ockam_listener_address(f->l));
}

static void
far_start(struct far *f, const ockam_tcp_config *cfg)
{
    far_start_profile(f, cfg, OCKAM_WIRE_CURRENT);
}

/* Let messages from the listener's connections reach a worker of the far node. */
static void
far_allow(struct far *f, const char *address)
{
    assert_int_equal(
        ockam_flow_add_consumer(f->node, address, ockam_listener_flow_id(f->l)), OCKAM_OK);
}

static void
far_services(struct far *f)
{
    assert_int_equal(ockam_echo_start(f->node, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_uppercase_start(f->node, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_hop_start(f->node, NULL, NULL), OCKAM_OK);
    far_allow(f, "echo");
    far_allow(f, "uppercase");
    far_allow(f, "hop");
}

/* A node with an app probe, connected to the far one. */
struct near {
    ockam_node *node;
    tn_probe *app;
    ockam_conn *conn;
};

/* The usual pair: f listening in profile with its services, n connected to it. */
static void
pair_start(struct far *f, struct near *n, ockam_wire_profile profile)
{
    far_start_profile(f, NULL, profile);
    far_services(f);
    n->node = tn_node_new();
    n->app = tn_probe_start(n->node, "app");
    n->conn = tn_tcp_connect(n->node, f->addr, profile);
}

static void
assert_payload(const ockam_msg *m, const void *data, size_t len)
{
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, len);
    assert_memory_equal(p.ptr, data, len);
}

/* Send from app along the route text and take the reply. */
static ockam_msg *
request(tn_probe *app, const char *route, const void *data, size_t len)
{
    assert_int_equal(tn_send(tn_probe_worker(app), route, data, len), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m);
    return m;
}

/* From n's app over its connection to service (a route text after the connection). */
static ockam_msg *
request_via(struct near *n, const char *service, const void *data, size_t len)
{
    char route[256];
    snprintf(route, sizeof route, "%s => %s", ockam_conn_address(n->conn), service);
    return request(n->app, route, data, len);
}

static void
test_two_nodes_echo(void **state)
{
    struct far f;
    struct near n;
    pair_start(&f, &n, OCKAM_WIRE_CURRENT);
    ockam_conn *c = n.conn;
    ockam_msg *m = request_via(&n, "echo", "hello", 5);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#echo", ockam_conn_address(c));
    assert_payload(m, "hello", 5);
    /* The reply came from another node: its origin is the connection. */
    assert_int_equal(ockam_msg_origin(m).producer, ockam_conn_flow_id(c));
    assert_int_equal(ockam_msg_origin(m).spawner, 0);
    ockam_msg_free(m);

    struct ockam_conn_stats s;
    ockam_conn_stats(c, &s);
    assert_int_equal(s.frames_out, 1);
    assert_int_equal(s.frames_in, 1);
    assert_int_equal(s.queued_bytes, 0);
    tn_free_all();
}

static void
test_two_nodes_uppercase(void **state)
{
    struct far f;
    struct near n;
    pair_start(&f, &n, OCKAM_WIRE_CURRENT);
    ockam_msg *m = request_via(&n, "uppercase", "\x05hello", 6);
    assert_payload(m, "\x05HELLO", 6);
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#uppercase", ockam_conn_address(n.conn));
    ockam_msg_free(m);
    tn_free_all();
}

static void
run_two_nodes_hop(ockam_wire_profile profile)
{
    struct far f;
    struct near n;
    pair_start(&f, &n, profile);
    assert_int_equal(ockam_conn_profile(n.conn), profile);
    ockam_msg *m = request_via(&n, "hop => echo", "via hop", 7);
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#hop => 0#echo", ockam_conn_address(n.conn));
    assert_payload(m, "via hop", 7);
    ockam_msg_free(m);
    tn_free_all();
}

static void
test_two_nodes_hop(void **state)
{
    run_two_nodes_hop(OCKAM_WIRE_CURRENT);
}

static void
test_two_nodes_hop_legacy(void **state)
{
    run_two_nodes_hop(OCKAM_WIRE_LEGACY);
}

/* n1 -> TCP -> n2 (hop) -> TCP -> n3 (inspect, uppercase), and back the same way. */
static void
test_three_node_bridge(void **state)
{
    struct far n2, n3;
    char route[256];
    far_start(&n3, NULL);
    far_services(&n3);
    tn_probe *inspect = tn_probe_start(n3.node, "inspect");
    far_allow(&n3, "inspect");
    far_start(&n2, NULL);
    assert_int_equal(ockam_hop_start(n2.node, NULL, NULL), OCKAM_OK);
    far_allow(&n2, "hop");
    ockam_conn *c23 = tn_tcp_connect(n2.node, n3.addr, OCKAM_WIRE_CURRENT);
    ockam_node *n1 = tn_node_new();
    tn_probe *app = tn_probe_start(n1, "app");
    ockam_conn *c12 = tn_tcp_connect(n1, n2.addr, OCKAM_WIRE_CURRENT);
    tn_drain(); /* let n2 and n3 accept */
    const char *s2 = ockam_conn_address(tn_only_accepted(n2.node));
    const char *s3 = ockam_conn_address(tn_only_accepted(n3.node));

    /* Out: on n3 the return route names every way back. */
    snprintf(route, sizeof route, "%s => hop => %s => inspect", ockam_conn_address(c12),
        ockam_conn_address(c23));
    assert_int_equal(tn_send(tn_probe_worker(app), route, "ping", 4), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(inspect, WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_onward(m), "0#inspect");
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#hop => 0#%s => 0#app", s3, s2);
    assert_payload(m, "ping", 4);

    /* Back: the reply retraces it, and n1 sees the whole path from its side. */
    assert_int_equal(ockam_reply(tn_probe_worker(inspect), m, "pong", 4), OCKAM_OK);
    m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#hop => 0#%s => 0#inspect",
        ockam_conn_address(c12), ockam_conn_address(c23));
    assert_payload(m, "pong", 4);
    ockam_msg_free(m);

    snprintf(route, sizeof route, "%s => hop => %s => uppercase", ockam_conn_address(c12),
        ockam_conn_address(c23));
    m = request(app, route,
        "\x06"
        "bridge",
        7);
    assert_payload(m,
        "\x06"
        "BRIDGE",
        7);
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#hop => 0#%s => 0#uppercase",
        ockam_conn_address(c12), ockam_conn_address(c23));
    ockam_msg_free(m);
    tn_free_all();
}

/* Default deny: a worker not allowed for the listener gets nothing, directly or through an
 * allowed hop. An echo round trip sent after the denied message on the same connection
 * proves the denied one was processed (and dropped) first. */
static void
test_flow_control_default_deny(void **state)
{
    struct far f;
    char route[256];
    far_start(&f, NULL);
    far_services(&f);
    tn_probe *secret = tn_probe_start(f.node, "secret");
    ockam_node *n1 = tn_node_new();
    tn_probe *app = tn_probe_start(n1, "app");
    const char *c = ockam_conn_address(tn_tcp_connect(n1, f.addr, OCKAM_WIRE_CURRENT));

    snprintf(route, sizeof route, "%s => secret", c);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "direct", 6), OCKAM_OK);
    snprintf(route, sizeof route, "%s => hop => secret", c);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "via hop", 7), OCKAM_OK);
    snprintf(route, sizeof route, "%s => hop => echo", c);
    ockam_msg *m = request(app, route, "control", 7);
    assert_payload(m, "control", 7);
    ockam_msg_free(m);
    tn_drain();
    assert_int_equal(tn_probe_total(secret), 0);

    /* Allowed now: the same message gets through. */
    far_allow(&f, "secret");
    snprintf(route, sizeof route, "%s => hop => secret", c);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "via hop", 7), OCKAM_OK);
    m = tn_probe_wait(secret, WAIT_MS);
    assert_non_null(m);
    ockam_msg_free(m);
    tn_free_all();
}

/* On an outgoing connection, only workers that sent through it (or were allowed for it)
 * receive what the peer sends. */
static void
test_flow_control_outgoing(void **state)
{
    struct far f;
    char route[256];
    far_start(&f, NULL);
    tn_probe *peer = tn_probe_start(f.node, "peer");
    far_allow(&f, "peer");
    ockam_node *n1 = tn_node_new();
    tn_probe *app = tn_probe_start(n1, "app");
    tn_probe *other = tn_probe_start(n1, "other");
    ockam_conn *c = tn_tcp_connect(n1, f.addr, OCKAM_WIRE_CURRENT);

    snprintf(route, sizeof route, "%s => peer", ockam_conn_address(c));
    assert_int_equal(tn_send(tn_probe_worker(app), route, "hi", 2), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(peer, WAIT_MS);
    assert_non_null(m);
    const ockam_route *back = ockam_msg_return(m); /* [<accepted sender>, app] */
    ockam_addr s = ockam_route_front(back);
    char s_text[64];
    snprintf(s_text, sizeof s_text, "%.*s", (int)s.len, (const char *)s.bytes);

    /* The peer writes to "other" first, then replies to app. */
    snprintf(route, sizeof route, "%s => other", s_text);
    assert_int_equal(tn_send(tn_probe_worker(peer), route, "sneaky", 6), OCKAM_OK);
    assert_int_equal(ockam_reply(tn_probe_worker(peer), m, "reply", 5), OCKAM_OK);
    m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m);
    assert_payload(m, "reply", 5);
    ockam_msg_free(m);
    tn_drain();
    assert_int_equal(tn_probe_total(other), 0);
    tn_free_all();
}

/* A worker restarted under the same name still gets the replies to what it sends. */
static void
test_replies_reach_restarted_worker(void **state)
{
    struct far f;
    struct near n;
    pair_start(&f, &n, OCKAM_WIRE_CURRENT);
    ockam_msg_free(request_via(&n, "echo", "one", 3));
    ockam_worker_stop(tn_probe_worker(n.app));
    n.app = tn_probe_start(n.node, "app");
    ockam_msg *m = request_via(&n, "echo", "two", 3);
    assert_payload(m, "two", 3);
    ockam_msg_free(m);
    tn_free_all();
}

static void
multiaddr_route(char *out, size_t cap, const char *ma_text)
{
    ockam_multiaddr *ma = NULL;
    ockam_route *r = ockam_route_new();
    assert_int_equal(ockam_multiaddr_parse(ma_text, &ma), OCKAM_OK);
    assert_int_equal(ockam_multiaddr_to_route(ma, r), OCKAM_OK);
    ockam_route_format(r, out, cap);
    ockam_route_free(r);
    ockam_multiaddr_free(ma);
}

/* /ip4/A/tcp/P/service/hop/ip4/B/tcp/Q/service/echo, sent by n1. The hop on n2 gets a message
 * from another node whose next hop is 1#B:Q: n2 must not open that connection unless its
 * operator allowed it. */
static void
run_open_proxy(const char *allow, bool allowed)
{
    struct far n2, n3;
    char ma[256], route[512];
    far_start(&n3, NULL);
    far_services(&n3);
    const char *entries[1];
    char spelled[64];
    ockam_tcp_config cfg = OCKAM_TCP_CONFIG_INIT;
    /* "n3 as localhost": the allow-list names n3 as localhost:P, the route as 127.0.0.1:P. */
    snprintf(spelled, sizeof spelled, "localhost:%s", strrchr(n3.addr, ':') + 1);
    if (allow) {
        entries[0] = strcmp(allow, "n3") == 0       ? n3.addr
            : strcmp(allow, "n3 as localhost") == 0 ? spelled
                                                    : allow;
        cfg.allowed_outgoing = entries;
        cfg.allowed_outgoing_count = 1;
    }
    far_start(&n2, &cfg);
    far_services(&n2);
    ockam_node *n1 = tn_node_new();
    assert_int_equal(ockam_tcp_init(n1, NULL), OCKAM_OK);
    tn_probe *app = tn_probe_start(n1, "app");

    const char *p2 = strrchr(n2.addr, ':') + 1, *p3 = strrchr(n3.addr, ':') + 1;
    snprintf(ma, sizeof ma, "/ip4/127.0.0.1/tcp/%s/service/hop/ip4/127.0.0.1/tcp/%s/service/echo",
        p2, p3);
    multiaddr_route(route, sizeof route, ma);
    /* n1 connects on demand: the message was created on n1. */
    assert_int_equal(tn_send(tn_probe_worker(app), route, "proxied", 7), OCKAM_OK);

    snprintf(route, sizeof route, "1#%s => echo", n2.addr);
    if (!allowed) {
        /* A later round trip on the same connection: the refusal happened before it. */
        ockam_msg *m = request(app, route, "control", 7);
        assert_payload(m, "control", 7);
        ockam_msg_free(m);
        tn_drain();
        assert_null(ockam_conn_find(n2.node, n3.addr));
        assert_int_equal(tn_conn_count(n3.node), 0);
        assert_int_equal(tn_probe_total(app), 1);
        tn_free_all();
        return;
    }
    ockam_msg *m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m);
    assert_payload(m, "proxied", 7);
    ockam_conn *c12 = ockam_conn_find(n1, n2.addr), *c23 = ockam_conn_find(n2.node, n3.addr);
    assert_non_null(c12);
    assert_non_null(c23);
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#hop => 0#%s => 0#echo", ockam_conn_address(c12),
        ockam_conn_address(c23));
    ockam_msg_free(m);
    /* Both hops reuse their connections for the next message. */
    multiaddr_route(route, sizeof route, ma);
    m = request(app, route, "again", 5);
    ockam_msg_free(m);
    assert_int_equal(tn_conn_count(n1), 1);
    assert_int_equal(tn_conn_count(n2.node), 2);
    tn_free_all();
}

static void
test_open_proxy_refused(void **state)
{
    run_open_proxy(NULL, false);
}

static void
test_open_proxy_other_destination_refused(void **state)
{
    run_open_proxy("127.0.0.1:1", false);
}

static void
test_open_proxy_allowed(void **state)
{
    run_open_proxy("n3", true);
}

static void
test_open_proxy_allowed_any(void **state)
{
    run_open_proxy("*", true);
}

/* The allow-list compares endpoints, not spellings (ockam__endpoint_canon). */
static void
test_open_proxy_allowed_other_spelling(void **state)
{
    run_open_proxy("n3 as localhost", true);
}

/* One lazy connection per endpoint: localhost:P, LocalHost:P and 127.0.0.1:P share it,
 * whichever spelling came first. */
static void
test_lazy_reuse_across_spellings(void **state)
{
    struct far f;
    char route[256];
    far_start(&f, NULL);
    far_services(&f);
    const char *port = strrchr(f.addr, ':') + 1;
    const char *first[] = {"localhost", "127.0.0.1"}, *second[] = {"127.0.0.1", "LocalHost"};
    for (int k = 0; k < 2; k++) {
        ockam_node *n1 = tn_node_new();
        assert_int_equal(ockam_tcp_init(n1, NULL), OCKAM_OK);
        tn_probe *app = tn_probe_start(n1, "app");
        snprintf(route, sizeof route, "1#%s:%s => echo", first[k], port);
        ockam_msg *m = request(app, route, "one", 3);
        ockam_msg_free(m);
        snprintf(route, sizeof route, "1#%s:%s => echo", second[k], port);
        m = request(app, route, "two", 3);
        assert_payload(m, "two", 3);
        ockam_msg_free(m);
        assert_int_equal(tn_conn_count(n1), 1);
        tn_node_free(n1);
    }
    /* A different endpoint is a different connection. */
    ockam_node *n1 = tn_node_new();
    assert_int_equal(ockam_tcp_init(n1, NULL), OCKAM_OK);
    tn_probe *app = tn_probe_start(n1, "app");
    struct far g;
    far_start(&g, NULL);
    far_services(&g);
    snprintf(route, sizeof route, "1#localhost:%s => echo", port);
    ockam_msg_free(request(app, route, "a", 1));
    snprintf(route, sizeof route, "1#localhost:%s => echo", strrchr(g.addr, ':') + 1);
    ockam_msg_free(request(app, route, "b", 1));
    assert_int_equal(tn_conn_count(n1), 2);
    tn_free_all();
}

/* localhost names both loopback addresses: a node listening on [::1] only is reached through
 * localhost:P (127.0.0.1 is refused, then [::1] is tried), as curl does. */
static void
test_localhost_reaches_ipv6_listener(void **state)
{
    ockam_node *far = tn_node_new();
    ockam_listener *l6 = NULL;
    assert_int_equal(ockam_tcp_init(far, NULL), OCKAM_OK);
    assert_int_equal(ockam_tcp_listen(far, "[::1]:0", NULL, &l6), OCKAM_OK);
    assert_int_equal(ockam_echo_start(far, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(far, "echo", ockam_listener_flow_id(l6)), OCKAM_OK);
    ockam_node *n1 = tn_node_new();
    assert_int_equal(ockam_tcp_init(n1, NULL), OCKAM_OK);
    tn_probe *app = tn_probe_start(n1, "app");
    char route[128];
    snprintf(route, sizeof route, "1#localhost:%s => echo",
        strrchr(ockam_listener_address(l6), ':') + 1);
    ockam_msg *m = request(app, route, "six", 3);
    assert_payload(m, "six", 3);
    ockam_msg_free(m);
    tn_free_all();
}

/* Several listeners on one node, IPv4 and IPv6; port 0 reports the bound port. */
static void
test_listeners(void **state)
{
    ockam_node *n = tn_node_new();
    ockam_listener *l4 = NULL, *l6 = NULL, *lh = NULL;
    assert_int_equal(ockam_echo_start(n, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_tcp_listen(n, "127.0.0.1:0", NULL, &l4), OCKAM_OK);
    assert_int_equal(ockam_tcp_listen(n, "[::1]:0", NULL, &l6), OCKAM_OK);
    assert_int_equal(ockam_tcp_listen(n, "localhost:0", NULL, &lh), OCKAM_OK);
    assert_string_not_equal(ockam_listener_address(l4), "127.0.0.1:0");
    assert_true(strncmp(ockam_listener_address(l6), "[::1]:", 6) == 0);
    assert_true(strncmp(ockam_listener_address(lh), "127.0.0.1:", 10) == 0);
    assert_ptr_equal(ockam_listener_find(n, ockam_listener_id(l6)), l6);
    assert_ptr_equal(ockam_listener_find(n, ockam_listener_address(l4)), l4);
    assert_int_equal(ockam_listener_transport(l4), OCKAM_TRANSPORT_TCP);
    assert_int_equal(ockam_tcp_listen(n, ockam_listener_address(l4), NULL, NULL), OCKAM_EADDRINUSE);
    assert_int_equal(ockam_tcp_listen(n, "nohost", NULL, NULL), OCKAM_EADDRINVAL);
    assert_int_equal(ockam_tcp_listen(n, "example.com:80", NULL, NULL), OCKAM_EADDRINVAL);
    assert_int_equal(ockam_tcp_listen(n, "127.0.0.1:70000", NULL, NULL), OCKAM_EADDRINVAL);
    ockam_listener *lists[] = {l4, l6, lh};
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            ockam_flow_add_consumer(n, "echo", ockam_listener_flow_id(lists[i])), OCKAM_OK);

    ockam_node *n1 = tn_node_new();
    tn_probe *app = tn_probe_start(n1, "app");
    char route[256];
    for (int i = 0; i < 3; i++) {
        ockam_conn *c = tn_tcp_connect(n1, ockam_listener_address(lists[i]), OCKAM_WIRE_CURRENT);
        snprintf(route, sizeof route, "%s => echo", ockam_conn_address(c));
        ockam_msg *m = request(app, route, "x", 1);
        ockam_msg_free(m);
    }
    /* Closing a listener keeps its connections. */
    ockam_listener_close(l6);
    assert_null(ockam_listener_find(n, "[::1]:0"));
    tn_drain();
    assert_int_equal(tn_conn_count(n), 3);
    tn_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TN_TEST(test_two_nodes_echo),
        TN_TEST(test_two_nodes_uppercase),
        TN_TEST(test_two_nodes_hop),
        TN_TEST(test_two_nodes_hop_legacy),
        TN_TEST(test_three_node_bridge),
        TN_TEST(test_flow_control_default_deny),
        TN_TEST(test_flow_control_outgoing),
        TN_TEST(test_replies_reach_restarted_worker),
        TN_TEST(test_open_proxy_refused),
        TN_TEST(test_open_proxy_other_destination_refused),
        TN_TEST(test_open_proxy_allowed),
        TN_TEST(test_open_proxy_allowed_any),
        TN_TEST(test_open_proxy_allowed_other_spelling),
        TN_TEST(test_lazy_reuse_across_spellings),
        TN_TEST(test_localhost_reaches_ipv6_listener),
        TN_TEST(test_listeners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
