/* Bad records in an inbox: random bytes, truncated bodies, trailing garbage, an empty record
 * and a route count far beyond the record, produced with a plain librdkafka producer. Each is
 * skipped with one log line and one event, its offset is committed past, and the good records
 * around them still arrive. */
#include "core/codec.h"
#include "kafka_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define JOIN_MS 30000
#define MAX_RECORDS 32

static kmock mock;

static int
setup(void **state)
{
    const char *topics[] = {"b3.inbox"};
    kmock_start(&mock, topics, 1);
    return 0;
}

static int
teardown(void **state)
{
    kmock_stop(&mock);
    return 0;
}

/* A valid record body (the CBOR of the TCP transport) for [spy] with payload text. */
static size_t
good_body(const char *text, uint8_t *out, size_t cap)
{
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(ockam_route_parse(ockam_msg_onward(m), "spy"), OCKAM_OK);
    assert_int_equal(ockam_route_parse(ockam_msg_return(m), "16#elsewhere => app"), OCKAM_OK);
    assert_int_equal(ockam_msg_set_payload(m, text, strlen(text)), OCKAM_OK);
    size_t n = 0;
    assert_int_equal(ockam__cbor_encode_msg(m, out, cap, &n), OCKAM_OK);
    ockam_msg_free(m);
    return n;
}

struct batch {
    uint8_t data[MAX_RECORDS][128];
    const void *values[MAX_RECORDS];
    size_t lens[MAX_RECORDS];
    size_t count;
};

static void
add(struct batch *b, const void *data, size_t len)
{
    assert_true(b->count < MAX_RECORDS && len <= sizeof b->data[0]);
    memcpy(b->data[b->count], data, len);
    b->values[b->count] = b->data[b->count];
    b->lens[b->count] = len;
    b->count++;
}

/* Returns the number of records that must be reported bad. */
static int
build_bad_then_good(struct batch *b)
{
    uint8_t body[128];
    size_t n = good_body("good-1", body, sizeof body);
    int bad = 0;
    srand(7); /* deterministic "random" bytes */
    for (int i = 0; i < 5; i++, bad++) {
        uint8_t junk[100];
        size_t len = 1 + (size_t)(rand() % (int)sizeof junk);
        for (size_t j = 0; j < len; j++)
            junk[j] = (uint8_t)rand();
        add(b, junk, len);
    }
    add(b, body, 1), bad++;     /* truncated to the array head */
    add(b, body, n / 2), bad++; /* truncated in the middle */
    add(b, body, n - 1), bad++; /* one byte short */
    uint8_t trailing[129];
    memcpy(trailing, body, n);
    trailing[n] = 0x00;
    add(b, trailing, n + 1), bad++; /* a whole message and one byte more */
    add(b, "", 0), bad++;           /* an empty record */
    /* onward route of 2^32-1 addresses in a 9-byte record */
    add(b, "\x83\x9a\xff\xff\xff\xff\x80\x40\x00", 9), bad++;
    add(b, "\x83\x80\x80\x40", 4); /* empty onward route: a heartbeat, dropped quietly */
    add(b, body, n);               /* the good one */
    return bad;
}

static int64_t expected_commit;

static bool
committed_all(void *arg)
{
    kt_kafka *k = arg;
    return k->events.committed_offset[0] >= expected_commit;
}

static void
test_bad_records_skipped(void **state)
{
    struct batch *b = calloc(1, sizeof *b);
    int bad = build_bad_then_good(b);
    kt_plain_produce(mock.bootstrap, "b3.inbox", b->values, b->lens, b->count);

    knode n3;
    kt_kafka k3;
    kt_collector spy = {0};
    knode_init(&n3);
    kt_kafka_config(&k3, mock.bootstrap, "b3.inbox");
    kt_kafka_init(&n3, &k3);
    kt_collector_start(&n3, &spy, "spy", false);
    assert_int_equal(
        ockam_flow_add_consumer(n3.node, "spy", ockam_kafka_flow_id(n3.node)), OCKAM_OK);
    knode_start(&n3);
    assert_true(kt_wait_assigned(&k3, JOIN_MS));

    /* Everything already in the inbox is read from the beginning (a new group). */
    assert_true(kt_collector_wait(&spy, 1, 20000));
    kt_lock();
    assert_memory_equal(spy.items[0].payload, "good-1", 6);
    assert_int_equal(k3.events.bad_records, bad);
    kt_unlock();

    /* A record produced after the bad ones still arrives. */
    uint8_t body[128];
    size_t n = good_body("good-2", body, sizeof body);
    const void *v[1] = {body};
    kt_plain_produce(mock.bootstrap, "b3.inbox", v, &n, 1);
    assert_true(kt_collector_wait(&spy, 2, 20000));
    kt_lock();
    assert_memory_equal(spy.items[1].payload, "good-2", 6);
    kt_unlock();

    struct ockam_kafka_stats st = kt_stats(&n3);
    assert_int_equal(st.consumed, b->count + 1);
    assert_int_equal(st.bad_records, (uint64_t)bad);
    assert_int_equal(st.routed, 2);
    /* Committed past every record (next offset = count), seen first as a commit event... */
    expected_commit = (int64_t)b->count + 1;
    assert_true(kt_wait(committed_all, &k3, 20000));
    knode_free(&n3);
    /* ... and then by a separate client asking the group coordinator. */
    assert_int_equal(kt_committed(mock.bootstrap, k3.group, "b3.inbox", 0), (int64_t)b->count + 1);
    kt_collector_free(&spy);
    free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_records_skipped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
