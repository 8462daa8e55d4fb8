/* Kafka backpressure: n1 --TCP--> n2 --Kafka--> n3, with n2's librdkafka queue made tiny (16
 * records) so that it is full most of the time. Every message still arrives, in order: n2
 * holds what the queue has no room for and pauses the TCP connection from n1 above its mark
 * (resumed at half), instead of failing records with OCKAM_EBUSY. Real nodes on their own
 * threads, real TCP on loopback, real librdkafka clients against the mock cluster. */
#include "kafka_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define JOIN_MS 30000
#define COUNT 3000
#define SIZE 1024

static kmock mock;

static int
setup(void **state)
{
    const char *topics[] = {"b2.inbox", "b3.inbox"};
    kmock_start(&mock, topics, 2);
    return 0;
}

static int
teardown(void **state)
{
    kmock_stop(&mock);
    return 0;
}

static void
test_full_queue_pauses_instead_of_dropping(void **state)
{
    knode n1 = {0}, n2 = {0}, n3 = {0};
    kt_kafka k2 = {0}, k3 = {0};
    kt_collector app = {0}, sink = {0};
    ockam_listener *l2;
    const char *allow[] = {"b3.inbox"};
    char route[256];

    knode_init(&n1);
    knode_init(&n2);
    knode_init(&n3);
    assert_int_equal(ockam_tcp_init(n1.node, NULL), OCKAM_OK);
    kt_collector_start(&n1, &app, "app", false);

    assert_int_equal(ockam_tcp_init(n2.node, NULL), OCKAM_OK);
    assert_int_equal(ockam_tcp_listen(n2.node, "127.0.0.1:0", NULL, &l2), OCKAM_OK);
    kt_kafka_config(&k2, mock.bootstrap, "b2.inbox");
    kt_kafka_prop(&k2, "producer.queue.buffering.max.messages=16");
    k2.cfg.allowed_outgoing = allow;
    k2.cfg.allowed_outgoing_count = 1;
    k2.cfg.high_water = 32u * 1024u;
    kt_kafka_init(&n2, &k2);
    snprintf(route, sizeof route, "1#%s => 16#b3.inbox => sink", ockam_listener_address(l2));

    kt_kafka_config(&k3, mock.bootstrap, "b3.inbox");
    kt_kafka_init(&n3, &k3);
    kt_collector_start(&n3, &sink, "sink", false);
    assert_int_equal(
        ockam_flow_add_consumer(n3.node, "sink", ockam_kafka_flow_id(n3.node)), OCKAM_OK);

    knode_start(&n1);
    knode_start(&n2);
    knode_start(&n3);
    assert_true(kt_wait_assigned(&k2, JOIN_MS));
    assert_true(kt_wait_assigned(&k3, JOIN_MS));

    uint8_t payload[SIZE];
    uint64_t t0 = kt_now_ms();
    for (int i = 0; i < COUNT; i++) {
        memset(payload, 'a' + i % 26, sizeof payload);
        memcpy(payload, &i, sizeof i);
        assert_int_equal(kt_send(&n1, app.worker, route, payload, sizeof payload), OCKAM_OK);
    }
    assert_true(kt_collector_wait(&sink, COUNT, 120000));
    print_message("%d messages through a full producer queue in %llu ms\n", COUNT,
        (unsigned long long)(kt_now_ms() - t0));
    kt_lock();
    assert_int_equal(sink.count, COUNT);
    for (int i = 0; i < COUNT; i++) {
        int got;
        assert_int_equal(sink.items[i].len, SIZE);
        memcpy(&got, sink.items[i].payload, sizeof got);
        assert_int_equal(got, i); /* in order, none lost, none twice */
    }
    kt_unlock();
    struct ockam_kafka_stats s2 = kt_stats(&n2);
    print_message("n2: produced %llu, held %llu, pauses %llu, failed %llu\n",
        (unsigned long long)s2.produced, (unsigned long long)s2.held, (unsigned long long)s2.pauses,
        (unsigned long long)s2.delivery_failed);
    assert_int_equal(s2.delivery_failed, 0);
    assert_int_equal(s2.produced, COUNT);
    assert_true(s2.held > 0);   /* the queue was full: records waited instead of failing */
    assert_true(s2.pauses > 0); /* and the connection from n1 was held back */
    knode_free(&n1);
    knode_free(&n2);
    knode_free(&n3);
    kt_collector_free(&app);
    kt_collector_free(&sink);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_queue_pauses_instead_of_dropping),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
