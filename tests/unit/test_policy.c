/* The node's security policy (node/policy.h), one test per rule: locality, flow control,
 * senders open to any origin, the outgoing allow-list, sender adoption. The transports' own
 * tests check that each of them applies these rules on real sockets. */
#include "node/policy.h"
#include "nodes.h"

#include <string.h>

static const ockam_origin local = {0, 0};
static const ockam_origin remote = {.producer = 1000, .spawner = 2000};

struct sink {
    int count;
};

static void
sink_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ((struct sink *)user)->count++;
    ockam_msg_free(msg);
}

static ockam_worker *
start_sink(ockam_node *n, const char *addr, struct sink *s)
{
    ockam_worker *w;
    ockam_worker_opts o = {.on_message = sink_on_message, .user = s};
    assert_int_equal(ockam_worker_start(n, addr, &o, &w), OCKAM_OK);
    return w;
}

static struct ockam__entry *
entry(ockam_node *n, const char *addr)
{
    struct ockam__entry *e
        = ockam__registry_find(ockam__node_registry(n), (const uint8_t *)addr, strlen(addr));
    assert_non_null(e);
    return e;
}

/* Hand the router a message for `to` as if a transport had received it with origin o. */
static void
arrive(ockam_node *n, const char *to, ockam_origin o)
{
    ockam_msg *m = ockam_msg_new();
    assert_non_null(m);
    assert_int_equal(ockam_route_push_back(ockam_msg_onward(m), ockam_addr_local(to)), OCKAM_OK);
    ockam_msg_set_origin(m, o);
    ockam__node_route_incoming(n, m);
    tn_drain_node(n);
}

/* Rule 1: a message is local exactly when it has no producer and no spawner. */
static void
test_locality(void **state)
{
    assert_true(ockam_origin_is_local(local));
    assert_false(ockam_origin_is_local((ockam_origin) {.producer = 1}));
    assert_false(ockam_origin_is_local((ockam_origin) {.spawner = 1}));
    assert_false(ockam_origin_is_local(remote));
}

/* Rule 2: default deny for messages from other nodes; the producer or the spawner id grants;
 * local messages always pass. Checked directly and through the router. */
static void
test_flow_control(void **state)
{
    ockam_node *n = ockam_node_new();
    struct sink s = {0};
    start_sink(n, "w", &s);
    assert_true(ockam__policy_flow_allows(entry(n, "w"), local));
    assert_false(ockam__policy_flow_allows(entry(n, "w"), remote));
    arrive(n, "w", remote);
    assert_int_equal(s.count, 0);

    assert_int_equal(ockam_flow_add_consumer(n, "w", remote.spawner), OCKAM_OK);
    assert_true(ockam__policy_flow_allows(entry(n, "w"), remote));
    assert_false(ockam__policy_flow_allows(entry(n, "w"), (ockam_origin) {.producer = 7}));
    arrive(n, "w", remote);
    assert_int_equal(s.count, 1);

    ockam_flow_remove_consumer(n, "w", remote.spawner);
    assert_int_equal(ockam_flow_add_consumer(n, "w", remote.producer), OCKAM_OK);
    assert_true(ockam__policy_flow_allows(entry(n, "w"), remote));
    ockam_flow_remove_consumer(n, "w", remote.producer);
    arrive(n, "w", remote);
    assert_int_equal(s.count, 1);
    arrive(n, "w", local);
    assert_int_equal(s.count, 2);
    ockam_node_free(n);
}

/* Rule 3: a transport's sender address accepts any origin; other addresses do not. */
static void
test_sender_open(void **state)
{
    ockam_node *n = ockam_node_new();
    struct sink s = {0}, other = {0};
    start_sink(n, "sender", &s);
    start_sink(n, "other", &other);
    assert_int_equal(ockam__policy_open_sender(n, "sender"), OCKAM_OK);
    arrive(n, "sender", remote);
    arrive(n, "other", remote);
    assert_int_equal(s.count, 1);
    assert_int_equal(other.count, 0);
    ockam_node_free(n);
}

static void
collect(const char *entry, void *arg)
{
    char *out = arg;
    strcat(out, entry);
    strcat(out, ";");
}

/* Rule 4: a message from another node reaches only listed destinations of that transport
 * (the same endpoint, or "*"); a local one reaches any. Lists are per transport, replaced whole, and
 * a bad list changes nothing. */
static void
test_outgoing_allow_list(void **state)
{
    ockam_node *n = ockam_node_new();
    const char *tcp[] = {"127.0.0.1:4000", "[::1]:5000"};
    const char *any[] = {"*"};
    const char *bad[] = {"a", NULL};
    const char *d = "127.0.0.1:4000";
    char listed[128] = "";

    assert_false(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, remote, d, strlen(d)));
    assert_true(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, local, d, strlen(d)));
    assert_int_equal(ockam__policy_set_outgoing(n, OCKAM_TRANSPORT_TCP, tcp, 2), OCKAM_OK);
    assert_true(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, remote, d, strlen(d)));
    assert_true(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, remote, "[::1]:5000", 10));
    /* Endpoints, not spellings (ockam__endpoint_canon): localhost is either loopback. */
    assert_true(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, remote, "localhost:4000", 14));
    assert_true(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, remote, "LOCALHOST:5000", 14));
    assert_true(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, remote, "[0::1]:5000", 11));
    assert_false(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, remote, "localhost:4001", 14));
    assert_false(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, remote, "[::1]:4000", 10));
    assert_false(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, remote, "127.0.0.2:4000", 14));
    assert_false(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, remote, "example.com:4000", 16));
    assert_false(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, remote, d, strlen(d) - 1));
    assert_false(ockam__policy_may_reach(n, OCKAM_TRANSPORT_UDP, remote, d, strlen(d)));

    assert_int_equal(ockam__policy_set_outgoing(n, OCKAM_TRANSPORT_UDP, any, 1), OCKAM_OK);
    assert_true(ockam__policy_may_reach(n, OCKAM_TRANSPORT_UDP, remote, "10.0.0.1:9", 10));
    assert_false(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, remote, "10.0.0.1:9", 10));

    assert_int_equal(ockam__policy_set_outgoing(n, OCKAM_TRANSPORT_TCP, bad, 2), OCKAM_EINVAL);
    assert_int_equal(ockam__policy_set_outgoing(n, OCKAM_TRANSPORT_TCP, NULL, 1), OCKAM_EINVAL);
    assert_int_equal(ockam__policy_set_outgoing(n, OCKAM_TRANSPORT_LOCAL, any, 1), OCKAM_EINVAL);
    ockam__policy_outgoing_each(n, OCKAM_TRANSPORT_TCP, collect, listed);
    assert_string_equal(listed, "127.0.0.1:4000;[::1]:5000;");

    assert_int_equal(ockam__policy_set_outgoing(n, OCKAM_TRANSPORT_TCP, tcp + 1, 1), OCKAM_OK);
    assert_false(ockam__policy_may_reach(n, OCKAM_TRANSPORT_TCP, remote, d, strlen(d)));
    assert_true(ockam__policy_may_reach(n, OCKAM_TRANSPORT_UDP, remote, d, strlen(d)));
    ockam_node_free(n);
}

/* Rule 5: the local worker that sends through a flow becomes its consumer -- only if it
 * exists, re-checked after its registration went (a restarted worker under the same name),
 * only for local messages on a flow open to a whole cluster -- and the flow's end removes the
 * registrations it made. */
static void
test_sender_adoption(void **state)
{
    ockam_node *n = ockam_node_new();
    struct sink s = {0};
    struct ockam__policy_flow f, kafka;
    ockam__policy_flow_init(&f, n, 0);
    ockam__policy_flow_init(&kafka, n, OCKAM__FLOW_LOCAL_SENDERS);
    assert_int_not_equal(f.id, 0);
    assert_int_not_equal(f.id, kafka.id);

    ockam__policy_adopt(&f, ockam_addr_local("ghost"), local);
    assert_false(ockam_flow_is_consumer(n, "ghost", f.id));

    ockam_worker *w = start_sink(n, "app", &s);
    ockam__policy_adopt(&f, ockam_addr_local("app"), remote);
    assert_true(ockam_flow_is_consumer(n, "app", f.id));
    ockam__policy_adopt(&f, ockam_addr_of(OCKAM_TRANSPORT_TCP, "app", 3), local);
    ockam__policy_adopt(&kafka, ockam_addr_local("app"), remote);
    assert_false(ockam_flow_is_consumer(n, "app", kafka.id));
    ockam__policy_adopt(&kafka, ockam_addr_local("app"), local);
    assert_true(ockam_flow_is_consumer(n, "app", kafka.id));

    /* Stopping the worker drops its registrations; a new worker with the name sends again. */
    ockam_worker_stop(w);
    start_sink(n, "app", &s);
    assert_false(ockam_flow_is_consumer(n, "app", f.id));
    ockam__policy_adopt(&f, ockam_addr_local("app"), local);
    assert_true(ockam_flow_is_consumer(n, "app", f.id));

    ockam__policy_flow_fini(&f);
    assert_false(ockam_flow_is_consumer(n, "app", f.id));
    ockam__policy_flow_fini(&f); /* idempotent */
    ockam__policy_flow_fini(&kafka);
    assert_false(ockam_flow_is_consumer(n, "app", kafka.id));
    ockam_node_free(n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locality),
        cmocka_unit_test(test_flow_control),
        cmocka_unit_test(test_sender_open),
        cmocka_unit_test(test_outgoing_allow_list),
        cmocka_unit_test(test_sender_adoption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
