/* Kafka transport without a cluster: address syntax, configuration errors, the open-proxy rule,
 * route errors, and shutdown with records that can never be delivered (reported, not lost).
 * The bootstrap address points at a closed port, so librdkafka only retries in the
 * background; everything here runs on the test thread, which is the node's loop thread. */
#include "kafka_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#define DEAD_BOOTSTRAP "127.0.0.1:1"

static void
addr_ok(const char *text, const char *topic, int32_t partition)
{
    char t[OCKAM_KAFKA_MAX_TOPIC + 1];
    int32_t p = 99;
    assert_int_equal(ockam_kafka_addr_parse(text, strlen(text), t, &p), OCKAM_OK);
    assert_string_equal(t, topic);
    assert_int_equal(p, partition);
}

static void
addr_bad(const char *text)
{
    char t[OCKAM_KAFKA_MAX_TOPIC + 1];
    int32_t p;
    assert_int_equal(ockam_kafka_addr_parse(text, strlen(text), t, &p), OCKAM_EADDRINVAL);
}

static void
test_addr_parse(void **state)
{
    char long_topic[OCKAM_KAFKA_MAX_TOPIC + 2];
    addr_ok("ockam.n3.inbox", "ockam.n3.inbox", -1);
    addr_ok("ockam.n3.inbox/0", "ockam.n3.inbox", 0);
    addr_ok("A-b_c.9/2147483647", "A-b_c.9", 2147483647);
    addr_bad("");
    addr_bad("/0");
    addr_bad(".");
    addr_bad("..");
    addr_bad("a b");
    addr_bad("a#b");
    addr_bad("topic/");
    addr_bad("topic/01");
    addr_bad("topic/-1");
    addr_bad("topic/2147483648");
    addr_bad("topic/1/2");
    memset(long_topic, 'x', sizeof long_topic - 1);
    long_topic[sizeof long_topic - 1] = '\0';
    addr_bad(long_topic);
    long_topic[OCKAM_KAFKA_MAX_TOPIC] = '\0';
    addr_ok(long_topic, long_topic, -1);
    /* Only len bytes count: the text need not be NUL-terminated there. */
    char t[OCKAM_KAFKA_MAX_TOPIC + 1];
    int32_t p;
    assert_int_equal(ockam_kafka_addr_parse("abc/7zzz", 5, t, &p), OCKAM_OK);
    assert_string_equal(t, "abc");
    assert_int_equal(p, 7);
}

static ockam_err
init_with(ockam_node *node, const char *bootstrap, const char *inbox, const char *prop)
{
    ockam_kafka_config cfg = OCKAM_KAFKA_CONFIG_INIT;
    const char *props[1] = {prop};
    cfg.bootstrap_servers = bootstrap;
    cfg.inbox_topic = inbox;
    cfg.properties = props;
    cfg.properties_count = prop ? 1 : 0;
    cfg.flush_timeout_ms = 200;
    return ockam_kafka_init(node, &cfg);
}

static void
test_config_errors(void **state)
{
    ockam_node *node = ockam_node_new();
    struct ockam_kafka_stats st;
    assert_int_equal(ockam_kafka_stats(node, &st), OCKAM_ENOTSUP);
    assert_int_equal(ockam_kafka_flow_id(node), 0);
    assert_null(ockam_kafka_inbox(node));
    assert_int_equal(ockam_kafka_init(node, NULL), OCKAM_EINVAL);
    assert_int_equal(init_with(node, DEAD_BOOTSTRAP, NULL, NULL), OCKAM_EINVAL);
    assert_int_equal(init_with(node, NULL, "inbox", NULL), OCKAM_EINVAL);
    assert_int_equal(init_with(node, DEAD_BOOTSTRAP, "in box", NULL), OCKAM_EINVAL);
    assert_int_equal(init_with(node, DEAD_BOOTSTRAP, "inbox/0", NULL), OCKAM_EINVAL);
    assert_int_equal(init_with(node, DEAD_BOOTSTRAP, "inbox", "no.such.property=1"), OCKAM_EINVAL);
    assert_int_equal(init_with(node, DEAD_BOOTSTRAP, "inbox", "novalue"), OCKAM_EINVAL);
    assert_int_equal(init_with(node, DEAD_BOOTSTRAP, "inbox", "acks=maybe"), OCKAM_EINVAL);
    /* Nothing was registered by the failures above. */
    assert_int_equal(ockam_kafka_stats(node, &st), OCKAM_ENOTSUP);
    /* Bootstrap servers given as a property; a producer-only property is not seen by the
     * consumer (which would refuse it). */
    assert_int_equal(init_with(node, NULL, "inbox", "bootstrap.servers=" DEAD_BOOTSTRAP), OCKAM_OK);
    assert_int_equal(init_with(node, DEAD_BOOTSTRAP, "inbox", NULL), OCKAM_EEXIST);
    assert_string_equal(ockam_kafka_inbox(node), "inbox");
    assert_true(ockam_kafka_flow_id(node) != 0);
    ockam_node_free(node);

    node = ockam_node_new();
    assert_int_equal(init_with(node, DEAD_BOOTSTRAP, "inbox", "producer.linger.ms=3"), OCKAM_OK);
    ockam_node_free(node);
}

/* ---- routing rules ---------------------------------------------------------------------- */

struct fixture {
    ockam_node *node;
    ockam_worker *w;
    kt_events events;
};

static void
ignore(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_msg_free(msg);
}

static void
fixture_init(struct fixture *f, const char *const *allowed, size_t n_allowed)
{
    memset(f, 0, sizeof *f);
    f->node = ockam_node_new();
    ockam_kafka_config cfg = OCKAM_KAFKA_CONFIG_INIT;
    cfg.bootstrap_servers = DEAD_BOOTSTRAP;
    cfg.inbox_topic = "my.inbox";
    cfg.allowed_outgoing = allowed;
    cfg.allowed_outgoing_count = n_allowed;
    cfg.flush_timeout_ms = 200;
    cfg.on_event = kt_on_event;
    cfg.user = &f->events;
    assert_int_equal(ockam_kafka_init(f->node, &cfg), OCKAM_OK);
    ockam_worker_opts opts = {.on_message = ignore};
    assert_int_equal(ockam_worker_start(f->node, "relay", &opts, &f->w), OCKAM_OK);
}

/* Forward a message along route text from the relay worker, as if it came from origin. */
static ockam_err
forward(struct fixture *f, const char *route, ockam_origin origin)
{
    ockam_msg *m = ockam_msg_new();
    assert_non_null(m);
    assert_int_equal(ockam_route_parse(ockam_msg_onward(m), route), OCKAM_OK);
    assert_int_equal(
        ockam_route_parse(ockam_msg_return(m), "relay => 1#10.0.0.1:4000 => app"), OCKAM_OK);
    assert_int_equal(ockam_msg_set_payload(m, "x", 1), OCKAM_OK);
    ockam_msg_set_origin(m, origin);
    return ockam_forward(f->w, m);
}

static void
test_open_proxy_rule(void **state)
{
    const ockam_origin remote = {.producer = 77, .spawner = 0};
    const ockam_origin local = {0, 0};
    const char *allowed[] = {"ok.topic"};
    struct fixture f;
    fixture_init(&f, allowed, 1);

    assert_int_equal(forward(&f, "16#other.topic => echo", remote), OCKAM_EACCES);
    assert_int_equal(forward(&f, "16#ok.topic => echo", remote), OCKAM_OK);
    assert_int_equal(forward(&f, "16#ok.topic/3 => echo", remote), OCKAM_OK);
    assert_int_equal(forward(&f, "16#other.topic => echo", local), OCKAM_OK);
    struct ockam_kafka_stats st;
    assert_int_equal(ockam_kafka_stats(f.node, &st), OCKAM_OK);
    assert_int_equal(st.produced, 3);
    assert_int_equal(st.delivery_failed, 0);
    /* The broker is unreachable: at shutdown the three records are purged and reported. */
    ockam_node_free(f.node);
    assert_int_equal(f.events.delivery_failed, 3);
    assert_int_equal(f.events.last_failure, OCKAM_ECLOSED);

    const char *any[] = {"*"};
    fixture_init(&f, any, 1);
    assert_int_equal(forward(&f, "16#whatever => echo", remote), OCKAM_OK);
    ockam_node_free(f.node);
    assert_int_equal(f.events.delivery_failed, 1);
}

static void
test_route_errors(void **state)
{
    const ockam_origin local = {0, 0};
    struct fixture f;
    fixture_init(&f, NULL, 0);
    assert_int_equal(forward(&f, "16#bad topic => echo", local), OCKAM_EADDRINVAL);
    assert_int_equal(forward(&f, "16#t/x => echo", local), OCKAM_EADDRINVAL);
    assert_int_equal(forward(&f, "16#t", local), OCKAM_EROUTE);
    struct ockam_kafka_stats st;
    assert_int_equal(ockam_kafka_stats(f.node, &st), OCKAM_OK);
    assert_int_equal(st.produced, 0);
    ockam_node_free(f.node);
    assert_int_equal(f.events.delivery_failed, 0);
}

/* A record above librdkafka's message.max.bytes fails at produce time, counted and reported. */
static void
test_too_large(void **state)
{
    struct fixture f;
    fixture_init(&f, NULL, 0);
    static uint8_t big[1100000];
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(ockam_route_parse(ockam_msg_onward(m), "16#t => echo"), OCKAM_OK);
    assert_int_equal(ockam_msg_set_payload(m, big, sizeof big), OCKAM_OK);
    assert_int_equal(ockam_send(f.w, m), OCKAM_EMSGSIZE);
    struct ockam_kafka_stats st;
    assert_int_equal(ockam_kafka_stats(f.node, &st), OCKAM_OK);
    assert_int_equal(st.produced, 0);
    assert_int_equal(st.delivery_failed, 1);
    assert_int_equal(f.events.delivery_failed, 1);
    ockam_node_free(f.node);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_open_proxy_rule),
        cmocka_unit_test(test_route_errors),
        cmocka_unit_test(test_too_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
