/* TCP -> Kafka -> TCP: n1 --TCP--> n2 --Kafka--> n3 --TCP--> n4 (uppercase) and the reply back
 * the same way, with the route that arrives back at n1 checked exactly; then 1 000 messages
 * through the whole chain, replies in order, none lost, none duplicated. Four nodes, each on its
 * own thread, real TCP on loopback and real librdkafka clients against the mock cluster. */
#include "kafka_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define JOIN_MS 30000
#define COUNT 1000

static kmock mock;

static int
setup(void **state)
{
    const char *topics[] = {"c2.inbox:2", "c3.inbox:2"};
    kmock_start(&mock, topics, 2);
    return 0;
}

static int
teardown(void **state)
{
    kmock_stop(&mock);
    return 0;
}

struct chain {
    knode n1, n2, n3, n4;
    kt_kafka k2, k3;
    kt_collector app;
    char p2[64], p4[64]; /* listener addresses "127.0.0.1:port" */
    char allow_n4[64];
    const char *allow_n3_topic[1];
    const char *allow_n4_list[1];
};

static void
listen_on(knode *n, char *out, size_t cap, ockam_listener **l)
{
    assert_int_equal(ockam_tcp_listen(n->node, "127.0.0.1:0", NULL, l), OCKAM_OK);
    snprintf(out, cap, "%s", ockam_listener_address(*l));
}

static void
chain_start(struct chain *c)
{
    ockam_listener *l2, *l4;
    memset(c, 0, sizeof *c);
    knode_init(&c->n1);
    knode_init(&c->n2);
    knode_init(&c->n3);
    knode_init(&c->n4);

    /* n1: a client with TCP only. */
    assert_int_equal(ockam_tcp_init(c->n1.node, NULL), OCKAM_OK);
    kt_collector_start(&c->n1, &c->app, "app", false);

    /* n4: uppercase behind a TCP listener; flow control lets the listener's traffic reach it. */
    assert_int_equal(ockam_tcp_init(c->n4.node, NULL), OCKAM_OK);
    listen_on(&c->n4, c->p4, sizeof c->p4, &l4);
    assert_int_equal(ockam_uppercase_start(c->n4.node, NULL, NULL), OCKAM_OK);
    assert_int_equal(
        ockam_flow_add_consumer(c->n4.node, "uppercase", ockam_listener_flow_id(l4)), OCKAM_OK);

    /* n2: TCP listener in front, Kafka behind; messages from n1 may go to c3.inbox only. */
    assert_int_equal(ockam_tcp_init(c->n2.node, NULL), OCKAM_OK);
    listen_on(&c->n2, c->p2, sizeof c->p2, &l2);
    kt_kafka_config(&c->k2, mock.bootstrap, "c2.inbox");
    c->allow_n3_topic[0] = "c3.inbox";
    c->k2.cfg.allowed_outgoing = c->allow_n3_topic;
    c->k2.cfg.allowed_outgoing_count = 1;
    kt_kafka_init(&c->n2, &c->k2);

    /* n3: Kafka in front, TCP behind; messages from Kafka may connect to n4 only. Replies to
     * c2.inbox are allowed because n2 announced it on the return route. */
    kt_kafka_config(&c->k3, mock.bootstrap, "c3.inbox");
    kt_kafka_init(&c->n3, &c->k3);
    snprintf(c->allow_n4, sizeof c->allow_n4, "%s", c->p4);
    c->allow_n4_list[0] = c->allow_n4;
    ockam_tcp_config tcfg = OCKAM_TCP_CONFIG_INIT;
    tcfg.allowed_outgoing = c->allow_n4_list;
    tcfg.allowed_outgoing_count = 1;
    assert_int_equal(ockam_tcp_init(c->n3.node, &tcfg), OCKAM_OK);

    knode_start(&c->n1);
    knode_start(&c->n2);
    knode_start(&c->n3);
    knode_start(&c->n4);
    assert_true(kt_wait_assigned(&c->k2, JOIN_MS));
    assert_true(kt_wait_assigned(&c->k3, JOIN_MS));
}

static void
chain_free(struct chain *c)
{
    knode_free(&c->n1);
    knode_free(&c->n2);
    knode_free(&c->n3);
    knode_free(&c->n4);
    kt_collector_free(&c->app);
}

/* The sender address of a node's only connection. */
struct conn_arg {
    ockam_node *node;
    char addr[64];
    int count;
};

static void
each_conn(ockam_conn *conn, void *arg)
{
    struct conn_arg *a = arg;
    snprintf(a->addr, sizeof a->addr, "%s", ockam_conn_address(conn));
    a->count++;
}

static void
find_conn(void *arg)
{
    struct conn_arg *a = arg;
    ockam_conn_each(a->node, each_conn, a);
}

static void
only_conn(knode *n, char *out, size_t cap)
{
    struct conn_arg a = {.node = n->node};
    knode_call(n, find_conn, &a);
    assert_int_equal(a.count, 1);
    snprintf(out, cap, "%s", a.addr);
}

static void
bare(const char *text, uint8_t **out, size_t *len)
{
    assert_int_equal(ockam_bare_string_encode(text, strlen(text), out, len), OCKAM_OK);
}

static void
assert_bare(const kt_item *it, const char *text)
{
    ockam_slice s;
    assert_int_equal(ockam_bare_string_decode(it->payload, it->len, &s), OCKAM_OK);
    assert_int_equal(s.len, strlen(text));
    assert_memory_equal(s.ptr, text, s.len);
}

static void
test_tcp_kafka_tcp(void **state)
{
    struct chain c;
    chain_start(&c);
    char route[256], want[256], conn1[64], conn3[64];
    snprintf(route, sizeof route, "1#%s => 16#c3.inbox => 1#%s => uppercase", c.p2, c.p4);

    uint8_t *hello;
    size_t hello_len;
    bare("hello", &hello, &hello_len);
    assert_int_equal(kt_send(&c.n1, c.app.worker, route, hello, hello_len), OCKAM_OK);
    ockam_free(hello);
    assert_true(kt_collector_wait(&c.app, 1, 30000));

    only_conn(&c.n1, conn1, sizeof conn1);
    only_conn(&c.n3, conn3, sizeof conn3);
    snprintf(want, sizeof want, "0#%s => 16#c3.inbox => 0#%s => 0#uppercase", conn1, conn3);
    kt_lock();
    assert_string_equal(c.app.items[0].onward, "0#app");
    assert_string_equal(c.app.items[0].ret, want);
    assert_bare(&c.app.items[0], "HELLO");
    kt_unlock();

    /* 1 000 more along the same route: replies in order, each exactly once. */
    uint64_t t0 = kt_now_ms();
    for (int i = 0; i < COUNT; i++) {
        char text[32];
        uint8_t *p;
        size_t n;
        snprintf(text, sizeof text, "msg-%04d", i);
        bare(text, &p, &n);
        assert_int_equal(kt_send(&c.n1, c.app.worker, route, p, n), OCKAM_OK);
        ockam_free(p);
    }
    assert_true(kt_collector_wait(&c.app, 1 + COUNT, 60000));
    print_message("%d requests through TCP -> Kafka -> TCP and back in %llu ms\n", COUNT,
        (unsigned long long)(kt_now_ms() - t0));
    kt_lock();
    assert_int_equal(c.app.count, 1 + COUNT);
    for (int i = 0; i < COUNT; i++) {
        char text[32];
        snprintf(text, sizeof text, "MSG-%04d", i);
        assert_bare(&c.app.items[1 + i], text);
        assert_string_equal(c.app.items[1 + i].ret, want);
    }
    kt_unlock();
    /* Each record was produced and consumed exactly once on both Kafka legs. */
    struct ockam_kafka_stats s2 = kt_stats(&c.n2), s3 = kt_stats(&c.n3);
    assert_int_equal(s2.produced, 1 + COUNT);
    assert_int_equal(s3.consumed, 1 + COUNT);
    assert_int_equal(s3.produced, 1 + COUNT);
    assert_int_equal(s2.consumed, 1 + COUNT);
    assert_int_equal(s2.delivery_failed + s3.delivery_failed, 0);
    chain_free(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_kafka_tcp),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
