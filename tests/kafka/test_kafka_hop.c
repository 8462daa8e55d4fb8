/* Kafka hop between two nodes in one process, each on its own thread: n2 --Kafka--> n3 and the
 * reply back through Kafka, with routes checked exactly; 1 000 messages per route in order,
 * none lost, none duplicated; the open-proxy rule for replies. Real librdkafka clients against
 * a mock cluster in a child process. */
#include "kafka_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define JOIN_MS 30000 /* a fresh consumer group takes ~3 s on the mock */

static kmock mock;

static int
setup(void **state)
{
    const char *topics[]
        = {"h2.inbox", "h3.inbox", "o2.inbox:4", "o3.inbox:4", "p2.inbox", "p3.inbox"};
    kmock_start(&mock, topics, 6);
    return 0;
}

static int
teardown(void **state)
{
    kmock_stop(&mock);
    return 0;
}

/* Two nodes with the Kafka transport and a collector each; n3's collector replies. */
struct pair {
    knode n2, n3;
    kt_kafka k2, k3;
    kt_collector client, spy;
};

static void
pair_start(struct pair *p, const char *inbox2, const char *inbox3, bool reply_to_announced)
{
    memset(p, 0, sizeof *p);
    knode_init(&p->n2);
    knode_init(&p->n3);
    kt_kafka_config(&p->k2, mock.bootstrap, inbox2);
    kt_kafka_config(&p->k3, mock.bootstrap, inbox3);
    p->k3.cfg.reply_to_announced = reply_to_announced;
    p->k3.cfg.commit_interval_ms = 0; /* n3 commits after every batch, n2 on the timer */
    kt_kafka_init(&p->n2, &p->k2);
    kt_kafka_init(&p->n3, &p->k3);
    kt_collector_start(&p->n2, &p->client, "client", false);
    kt_collector_start(&p->n3, &p->spy, "spy", true);
    /* Default deny: only consumers of the Kafka flow id receive what comes from Kafka. The
     * client needs no registration: sending through Kafka made it a consumer. */
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
}

static bool
n3_committed_one(void *arg)
{
    return ((kt_kafka *)arg)->events.committed_offset[0] >= 1;
}

static void
test_routes_exact(void **state)
{
    struct pair p;
    pair_start(&p, "h2.inbox", "h3.inbox", true);

    assert_int_equal(kt_send(&p.n2, p.client.worker, "16#h3.inbox => spy", "hello", 5), OCKAM_OK);
    assert_true(kt_collector_wait(&p.spy, 1, 20000));
    kt_lock();
    assert_string_equal(p.spy.items[0].onward, "0#spy");
    assert_string_equal(p.spy.items[0].ret, "16#h2.inbox => 0#client");
    kt_unlock();

    assert_true(kt_collector_wait(&p.client, 1, 20000));
    kt_lock();
    assert_string_equal(p.client.items[0].onward, "0#client");
    assert_string_equal(p.client.items[0].ret, "16#h3.inbox => 0#spy");
    assert_int_equal(p.client.items[0].len, 5);
    assert_memory_equal(p.client.items[0].payload, "hello", 5);
    kt_unlock();

    struct ockam_kafka_stats s2 = kt_stats(&p.n2), s3 = kt_stats(&p.n3);
    assert_int_equal(s2.produced, 1);
    assert_int_equal(s2.consumed, 1);
    assert_int_equal(s2.routed, 1);
    assert_int_equal(s3.consumed, 1);
    assert_int_equal(s3.routed, 1);
    assert_int_equal(s2.bad_records + s3.bad_records, 0);
    /* n3 runs with commit_interval_ms = 0: the offset is committed right after the batch. */
    assert_true(kt_wait(n3_committed_one, &p.k3, 20000));
    pair_free(&p);
}

/* ---- order ------------------------------------------------------------------------------ */

#define PER_ROUTE 1000

struct flood {
    ockam_worker *a, *b;
};

static void
flood_on_loop(void *arg)
{
    struct flood *f = arg;
    ockam_route *r = ockam_route_new();
    assert_int_equal(ockam_route_parse(r, "16#o3.inbox => spy"), OCKAM_OK);
    char buf[32];
    /* Interleaved, so that order per route is what is tested, not order overall. */
    for (int i = 0; i < PER_ROUTE; i++) {
        int n = snprintf(buf, sizeof buf, "A:%04d", i);
        assert_int_equal(ockam_send_to(f->a, r, buf, (size_t)n), OCKAM_OK);
        n = snprintf(buf, sizeof buf, "B:%04d", i);
        assert_int_equal(ockam_send_to(f->b, r, buf, (size_t)n), OCKAM_OK);
    }
    ockam_route_free(r);
}

static void
assert_sequence(const kt_collector *c, char tag, size_t count)
{
    char want[32];
    assert_int_equal(c->count, count);
    for (size_t i = 0; i < count; i++) {
        int n = snprintf(want, sizeof want, "%c:%04zu", tag, i);
        assert_int_equal(c->items[i].len, (size_t)n);
        assert_memory_equal(c->items[i].payload, want, (size_t)n);
    }
}

/* At the spy, the messages of each route (told apart by the return route) are in order. */
static void
assert_spy_order(const kt_collector *spy)
{
    int next_a = 0, next_b = 0;
    char want[32];
    for (size_t i = 0; i < spy->count; i++) {
        const kt_item *it = &spy->items[i];
        bool a = strcmp(it->ret, "16#o2.inbox => 0#ca") == 0;
        assert_true(a || strcmp(it->ret, "16#o2.inbox => 0#cb") == 0);
        int n = snprintf(want, sizeof want, "%c:%04d", a ? 'A' : 'B', a ? next_a++ : next_b++);
        assert_memory_equal(it->payload, want, (size_t)n);
    }
    assert_int_equal(next_a, PER_ROUTE);
    assert_int_equal(next_b, PER_ROUTE);
}

static void
test_order_1000_per_route(void **state)
{
    struct pair p;
    memset(&p, 0, sizeof p);
    knode_init(&p.n2);
    knode_init(&p.n3);
    kt_kafka_config(&p.k2, mock.bootstrap, "o2.inbox");
    kt_kafka_config(&p.k3, mock.bootstrap, "o3.inbox");
    kt_kafka_init(&p.n2, &p.k2);
    kt_kafka_init(&p.n3, &p.k3);
    kt_collector ca = {0}, cb = {0};
    kt_collector_start(&p.n2, &ca, "ca", false);
    kt_collector_start(&p.n2, &cb, "cb", false);
    kt_collector_start(&p.n3, &p.spy, "spy", true);
    assert_int_equal(
        ockam_flow_add_consumer(p.n3.node, "spy", ockam_kafka_flow_id(p.n3.node)), OCKAM_OK);
    knode_start(&p.n2);
    knode_start(&p.n3);
    assert_true(kt_wait_assigned(&p.k2, JOIN_MS));
    assert_true(kt_wait_assigned(&p.k3, JOIN_MS));

    struct flood f = {ca.worker, cb.worker};
    uint64_t t0 = kt_now_ms();
    knode_call(&p.n2, flood_on_loop, &f);
    assert_true(kt_collector_wait(&ca, PER_ROUTE, 60000));
    assert_true(kt_collector_wait(&cb, PER_ROUTE, 60000));
    print_message("2 x %d round trips through Kafka in %llu ms\n", PER_ROUTE,
        (unsigned long long)(kt_now_ms() - t0));

    struct ockam_kafka_stats s2 = kt_stats(&p.n2), s3 = kt_stats(&p.n3);
    kt_lock();
    assert_sequence(&ca, 'A', PER_ROUTE);
    assert_sequence(&cb, 'B', PER_ROUTE);
    assert_spy_order(&p.spy);
    kt_unlock();
    /* Exactly once in the normal case: every record produced once, consumed once. */
    assert_int_equal(s2.produced, 2 * PER_ROUTE);
    assert_int_equal(s3.produced, 2 * PER_ROUTE);
    assert_int_equal(s3.consumed, 2 * PER_ROUTE);
    assert_int_equal(s2.consumed, 2 * PER_ROUTE);
    assert_int_equal(s2.delivery_failed + s3.delivery_failed, 0);
    pair_free(&p);
    kt_collector_free(&ca);
    kt_collector_free(&cb);
}

/* ---- the open-proxy rule for replies ---------------------------------------------------- */

static void
test_reply_needs_permission(void **state)
{
    /* n3 does not reply to announced inboxes and allows no topic: the spy's reply (it carries
     * the Kafka origin) is refused; the request itself still arrives. */
    struct pair p;
    pair_start(&p, "p2.inbox", "p3.inbox", false);
    assert_int_equal(kt_send(&p.n2, p.client.worker, "16#p3.inbox => spy", "x", 1), OCKAM_OK);
    assert_true(kt_collector_wait(&p.spy, 1, 20000));
    struct ockam_kafka_stats s3 = kt_stats(&p.n3);
    assert_int_equal(s3.routed, 1);
    assert_int_equal(s3.produced, 0);
    pair_free(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_exact),
        cmocka_unit_test(test_order_1000_per_route),
        cmocka_unit_test(test_reply_needs_permission),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
