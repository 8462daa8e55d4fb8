/* The transport conformance suite (tests/conformance/transport_suite.h) run for Kafka, against
 * the mock cluster the other Kafka tests use (kafka_mock in a child process).
 *
 * Mapping: every node gets the Kafka transport with an inbox topic of its own (created on the
 * mock first). "listen" reports the node's inbox topic; "allow" makes an address a consumer of
 * the node's Kafka flow id; "connect" opens nothing -- the way to a peer is the address
 * 16#<its inbox>, routed by the transport itself, so the way starts with a transport address
 * instead of a local worker. Replies come back through the sender's inbox, which the
 * transport pushes onto the return route (reply_to_announced lets the echo answer).
 *
 * Skipped:
 *  - the largest message: the transport's own limit is a 16 MiB CBOR body, and a 16 MiB
 *    round trip does pass on the mock, but the mock keeps at most 5 MiB per partition log:
 *    the next record after a big one makes it drop records, and the consumer's position
 *    falls out of range, so the suite's "one byte more, then a small one" cannot pass there
 *    (a smaller cap would need librdkafka's exact per-record overhead, which differs with
 *    the record key). test_kafka_unit.c checks that an oversized record is refused and
 *    counted. Against a real cluster the limit is the broker's message.max.bytes.
 * And because a topic is not a connection:
 *  - refused connection: producing to a topic nobody consumes is not refused by anyone;
 *  - close with messages in flight: there is no per-peer way to close (the transport's
 *    shutdown flushes or reports every record; test_kafka_outage.c covers delivery failures);
 *  - bad frame from a raw client: test_kafka_bad.c produces malformed records and checks
 *    they are skipped and counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "conformance/transport_suite.h"
#include "core/codec.h"
#include "kafka_harness.h"
#include "nodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_NODES 64
#define INBOX_FORMAT "cf.inbox.%06u"

struct kafka_ctx {
    kmock mock;
    unsigned next;
    kt_kafka slots[MAX_NODES]; /* configs and event counters live as long as the test */
    char inbox[MAX_NODES][32];
};

static struct kafka_ctx ctx;

static void
kafka_setup(ockam_node *node, void *arg)
{
    struct kafka_ctx *c = arg;
    char cmd[64];
    assert_true(c->next < MAX_NODES);
    unsigned i = c->next++;
    snprintf(c->inbox[i], sizeof c->inbox[i], INBOX_FORMAT, i);
    snprintf(cmd, sizeof cmd, "topic %s 1", c->inbox[i]);
    assert_true(kmock_cmd(&c->mock, cmd));
    kt_kafka *k = &c->slots[i];
    kt_kafka_config(k, c->mock.bootstrap, c->inbox[i]);
    k->cfg.reply_to_announced = true;
    assert_int_equal(ockam_kafka_init(node, &k->cfg), OCKAM_OK);
}

static ockam_err
kafka_listen(ockam_node *node, void *arg, char *addr, size_t cap, void **listener)
{
    snprintf(addr, cap, "%s", ockam_kafka_inbox(node));
    *listener = NULL; /* the node's one Kafka flow is the "listener" */
    return OCKAM_OK;
}

static void
kafka_allow(ockam_node *node, void *listener, const char *address)
{
    assert_int_equal(ockam_flow_add_consumer(node, address, ockam_kafka_flow_id(node)), OCKAM_OK);
}

struct pending {
    ts_connected_cb done;
    void *arg;
    char way[64];
};

static void
report_connected(void *arg)
{
    struct pending *p = arg;
    p->done(p->way, OCKAM_OK, p->arg);
    free(p);
}

static ockam_err
kafka_connect(ockam_node *node, void *arg, const char *addr, ts_connected_cb done, void *cb_arg)
{
    struct pending *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->done = done;
    p->arg = cb_arg;
    snprintf(p->way, sizeof p->way, "16#%s", addr);
    /* The suite wants the completion later, never inside this call. */
    return ockam_node_post(node, report_connected, p);
}

static void
kafka_dead_address(void *arg, char *addr, size_t cap)
{
    print_message("kafka: skipped: a topic is not a connection; nothing refuses a record\n");
    skip();
}

static void
kafka_close(ockam_node *node, const char *local_addr, ts_closed_cb done, void *arg)
{
    print_message("kafka: skipped: there is no per-peer way to close\n");
    skip();
}

static size_t
kafka_body_size(const ockam_msg *msg)
{
    return ockam__cbor_msg_size(msg);
}

int
main(void)
{
    kmock_start(&ctx.mock, NULL, 0);
    ts_transport t = {
        .name = "kafka",
        .ctx = &ctx,
        .max_body = 0, /* the largest message: skipped (see above) */
        .body_size = kafka_body_size,
        .setup = kafka_setup,
        .listen = kafka_listen,
        .allow = kafka_allow,
        .connect = kafka_connect,
        .dead_address = kafka_dead_address,
        .close = kafka_close,
        .raw_connect = NULL, /* bad frame: skipped by the suite (see above) */
    };
    int failed = ts_run(&t);
    kmock_stop(&ctx.mock);
    return failed;
}
