/* Broker outage: the mock's brokers are set down while messages are sent through the Kafka hop.
 *  - with the default delivery timeout, every message sent during the outage arrives after it,
 *    in order, exactly once;
 *  - with a short delivery timeout, every one of them is reported failed (event + counter);
 *  - in both cases the node keeps answering local requests during the outage.
 * The outage is observed through events (the client's error report, delivery reports), never
 * timed with sleeps. */
#include "kafka_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define JOIN_MS 30000
#define DURING 50

static kmock mock;

static int
setup(void **state)
{
    const char *topics[] = {"d2.inbox", "d3.inbox", "f2.inbox", "f3.inbox"};
    kmock_start(&mock, topics, 4);
    return 0;
}

static int
teardown(void **state)
{
    kmock_stop(&mock);
    return 0;
}

struct pair {
    knode n2, n3;
    kt_kafka k2, k3;
    kt_collector client, spy, pinger;
};

static void
pair_start(struct pair *p, const char *inbox2, const char *inbox3, const char *prop2)
{
    memset(p, 0, sizeof *p);
    knode_init(&p->n2);
    knode_init(&p->n3);
    kt_kafka_config(&p->k2, mock.bootstrap, inbox2);
    if (prop2)
        kt_kafka_prop(&p->k2, prop2);
    kt_kafka_config(&p->k3, mock.bootstrap, inbox3);
    kt_kafka_init(&p->n2, &p->k2);
    kt_kafka_init(&p->n3, &p->k3);
    kt_collector_start(&p->n2, &p->client, "client", false);
    kt_collector_start(&p->n2, &p->pinger, "pinger", false);
    assert_int_equal(ockam_echo_start(p->n2.node, NULL, NULL), OCKAM_OK);
    kt_collector_start(&p->n3, &p->spy, "spy", true);
    assert_int_equal(
        ockam_flow_add_consumer(p->n3.node, "spy", ockam_kafka_flow_id(p->n3.node)), OCKAM_OK);
    knode_start(&p->n2);
    knode_start(&p->n3);
    assert_true(kt_wait_assigned(&p->k2, JOIN_MS));
    assert_true(kt_wait_assigned(&p->k3, JOIN_MS));
}

static void
pair_free(struct pair *p)
{
    knode_free(&p->n2);
    knode_free(&p->n3);
    kt_collector_free(&p->client);
    kt_collector_free(&p->spy);
    kt_collector_free(&p->pinger);
}

static void
send_numbered(struct pair *p, const char *route, int from, int to)
{
    char buf[32];
    for (int i = from; i < to; i++) {
        int n = snprintf(buf, sizeof buf, "m%04d", i);
        assert_int_equal(kt_send(&p->n2, p->client.worker, route, buf, (size_t)n), OCKAM_OK);
    }
}

/* A local request answered by n2's echo: the loop is not blocked by the outage. */
static void
assert_responsive(struct pair *p)
{
    size_t before = p->pinger.count;
    uint64_t t0 = kt_now_ms();
    assert_int_equal(kt_send(&p->n2, p->pinger.worker, "echo", "ping", 4), OCKAM_OK);
    assert_true(kt_collector_wait(&p->pinger, before + 1, 2000));
    print_message("local echo during the outage answered in %llu ms\n",
        (unsigned long long)(kt_now_ms() - t0));
}

static bool
saw_client_error(void *arg)
{
    return ((kt_events *)arg)->client_errors > 0;
}

/* Bring the brokers down once the hop is warm (the producer has its id, the groups are
 * joined), and wait until n2's client reports it. */
static void
outage_begin(struct pair *p, const char *route)
{
    send_numbered(p, route, 0, 1);
    assert_true(kt_collector_wait(&p->client, 1, 20000));
    kt_lock();
    p->k2.events.client_errors = 0;
    kt_unlock();
    assert_true(kmock_cmd(&mock, "down -1"));
    assert_true(kt_wait(saw_client_error, &p->k2.events, 20000));
}

static void
test_outage_delivered_after(void **state)
{
    struct pair p;
    pair_start(&p, "d2.inbox", "d3.inbox", NULL);
    const char *route = "16#d3.inbox => spy";
    outage_begin(&p, route);

    send_numbered(&p, route, 1, 1 + DURING);
    assert_responsive(&p);
    struct ockam_kafka_stats s2 = kt_stats(&p.n2);
    assert_int_equal(s2.produced, 1 + DURING);
    assert_int_equal(s2.delivered, 1); /* the warm-up only: the rest waits for the brokers */
    assert_true(kmock_cmd(&mock, "up -1"));

    assert_true(kt_collector_wait(&p.client, 1 + DURING, 60000));
    kt_lock();
    for (int i = 0; i < 1 + DURING; i++) {
        char want[32];
        int n = snprintf(want, sizeof want, "m%04d", i);
        assert_memory_equal(p.client.items[i].payload, want, (size_t)n);
    }
    kt_unlock();
    s2 = kt_stats(&p.n2);
    struct ockam_kafka_stats s3 = kt_stats(&p.n3);
    assert_int_equal(s2.delivered, 1 + DURING);
    assert_int_equal(s2.delivery_failed, 0);
    assert_int_equal(s3.consumed, 1 + DURING);
    pair_free(&p);
}

static bool
all_failed(void *arg)
{
    return ((kt_events *)arg)->delivery_failed >= 10;
}

static void
test_outage_reported_failed(void **state)
{
    struct pair p;
    /* Records not acknowledged within 1.5 s fail instead of waiting for the brokers. */
    pair_start(&p, "f2.inbox", "f3.inbox", "producer.message.timeout.ms=1500");
    const char *route = "16#f3.inbox => spy";
    outage_begin(&p, route);

    send_numbered(&p, route, 1, 11);
    assert_responsive(&p);
    assert_true(kt_wait(all_failed, &p.k2.events, 20000));
    struct ockam_kafka_stats s2 = kt_stats(&p.n2);
    assert_int_equal(s2.delivery_failed, 10);
    assert_int_equal(s2.delivered, 1);
    kt_lock();
    assert_int_equal(p.k2.events.last_failure, OCKAM_ETIMEDOUT);
    kt_unlock();

    /* After the outage the hop works again. */
    assert_true(kmock_cmd(&mock, "up -1"));
    send_numbered(&p, route, 11, 12);
    assert_true(kt_collector_wait(&p.client, 2, 60000));
    kt_lock();
    assert_memory_equal(p.client.items[1].payload, "m0011", 5);
    kt_unlock();
    pair_free(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outage_delivered_after),
        cmocka_unit_test(test_outage_reported_failed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
