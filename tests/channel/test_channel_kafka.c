/* A secure channel over TCP -> Kafka -> TCP: n1 --TCP--> n2 --Kafka(c3.inbox)--> n3 --TCP-->
 * n4 (listener "api"), each node on its own thread, against the mock cluster in a child
 * process. The handshake and every frame cross the Kafka topics both ways; the echo's reply
 * comes back through the channel with the exact routes and the responder's identifier. */
#include "kafka_harness.h"
#include "ockam/ockam.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define JOIN_MS 30000
#define WAIT_MS 30000

static kmock mock;

static int
setup(void **state)
{
    const char *topics[] = {"c2.inbox", "c3.inbox"};
    kmock_start(&mock, topics, 2);
    return 0;
}

static int
teardown(void **state)
{
    kmock_stop(&mock);
    return 0;
}

/* ---- connecting and opening on a node's thread ------------------------------------------ */

struct op {
    knode *n;
    const char *peer;
    ockam_conn *conn;
    ockam_identity *id;
    ockam_route *to;
    ockam_sc *sc;
    ockam_err status;
    bool done;
};

static void
on_connected(ockam_conn *conn, ockam_err status, void *user)
{
    struct op *o = user;
    kt_lock();
    o->conn = conn;
    o->status = status;
    o->done = true;
    kt_signal();
    kt_unlock();
}

static void
connect_on_loop(void *arg)
{
    struct op *o = arg;
    assert_int_equal(ockam_tcp_connect(o->n->node, o->peer, NULL, on_connected, o), OCKAM_OK);
}

static bool
op_done(void *arg)
{
    return ((struct op *)arg)->done;
}

static ockam_conn *
connect_from(knode *n, const char *peer)
{
    struct op o = {.n = n, .peer = peer};
    knode_call(n, connect_on_loop, &o);
    assert_true(kt_wait(op_done, &o, WAIT_MS));
    assert_int_equal(o.status, OCKAM_OK);
    return o.conn;
}

static void
on_open(ockam_sc *sc, ockam_err status, void *user)
{
    struct op *o = user;
    kt_lock();
    o->sc = sc;
    o->status = status;
    o->done = true;
    kt_signal();
    kt_unlock();
}

static void
open_on_loop(void *arg)
{
    struct op *o = arg;
    ockam_sc_opts opts = {.timeout_ms = WAIT_MS};
    assert_int_equal(ockam_sc_create(o->n->node, o->id, o->to, &opts, on_open, o), OCKAM_OK);
}

static ockam_listener *
listen_tcp(knode *n)
{
    ockam_listener *l;
    assert_int_equal(ockam_tcp_listen(n->node, "127.0.0.1:0", NULL, &l), OCKAM_OK);
    return l;
}

static void
test_tcp_kafka_tcp(void **state)
{
    knode ns[4];
#define n1 ns[0]
#define n2 ns[1]
#define n3 ns[2]
#define n4 ns[3]
    kt_kafka k2, k3;
    kt_collector app, seen;
    ockam_vault *vault;
    ockam_identity *a, *b;
    ockam_sc_listener *sl;
    memset(&app, 0, sizeof app);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(ockam_vault_memory_new(&vault), OCKAM_OK);
    uint64_t now = (uint64_t)time(NULL) - 60;
    assert_int_equal(ockam_identity_create(vault, now, OCKAM_IDENTITY_DEFAULT_TTL_S, &a), OCKAM_OK);
    assert_int_equal(ockam_identity_create(vault, now, OCKAM_IDENTITY_DEFAULT_TTL_S, &b), OCKAM_OK);

    for (int i = 0; i < 4; i++)
        knode_init(&ns[i]);
    for (knode *n = ns; n < ns + 4; n++)
        assert_int_equal(ockam_tcp_init(n->node, NULL), OCKAM_OK);
    /* n2 relays what n1 sends into n3's inbox; n3 answers into inboxes it saw announced. */
    static const char *const to_n3[] = {"c3.inbox"};
    kt_kafka_config(&k2, mock.bootstrap, "c2.inbox");
    k2.cfg.allowed_outgoing = to_n3;
    k2.cfg.allowed_outgoing_count = 1;
    kt_kafka_config(&k3, mock.bootstrap, "c3.inbox");
    kt_kafka_init(&n2, &k2);
    kt_kafka_init(&n3, &k3);
    ockam_listener *l2 = listen_tcp(&n2), *l4 = listen_tcp(&n4);
    /* n4: the listener "api" (reachable from its TCP listener) and an echo collector
     * reachable out of its channels. */
    assert_int_equal(ockam_sc_listen(n4.node, b, "api", NULL, &sl), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(n4.node, "api", ockam_listener_flow_id(l4)), OCKAM_OK);
    kt_collector_start(&n4, &seen, "echo", true);
    assert_int_equal(
        ockam_flow_add_consumer(n4.node, "echo", ockam_sc_listener_flow_id(sl)), OCKAM_OK);
    kt_collector_start(&n1, &app, "app", false);
    for (knode *n = ns; n < ns + 4; n++)
        knode_start(n);
    assert_true(kt_wait_assigned(&k2, JOIN_MS));
    assert_true(kt_wait_assigned(&k3, JOIN_MS));
    char peer2[64], peer4[64];
    snprintf(peer2, sizeof peer2, "%s", ockam_listener_address(l2));
    snprintf(peer4, sizeof peer4, "%s", ockam_listener_address(l4));
    ockam_conn *c1 = connect_from(&n1, peer2);
    ockam_conn *c3 = connect_from(&n3, peer4);

    char text[256];
    snprintf(text, sizeof text, "%s => 16#c3.inbox => %s => api", ockam_conn_address(c1),
        ockam_conn_address(c3));
    struct op o = {.n = &n1, .id = a, .to = ockam_route_new()};
    assert_int_equal(ockam_route_parse(o.to, text), OCKAM_OK);
    knode_call(&n1, open_on_loop, &o);
    assert_true(kt_wait(op_done, &o, 2 * WAIT_MS));
    assert_int_equal(o.status, OCKAM_OK);
    assert_string_equal(ockam_sc_peer(o.sc), ockam_identity_identifier(b));

    snprintf(text, sizeof text, "%s => echo", ockam_sc_encryptor(o.sc));
    static const char secret[] = "over kafka, encrypted";
    assert_int_equal(kt_send(&n1, app.worker, text, secret, sizeof secret), OCKAM_OK);
    assert_true(kt_collector_wait(&app, 1, WAIT_MS));
    kt_lock();
    assert_int_equal(app.items[0].len, sizeof secret);
    assert_memory_equal(app.items[0].payload, secret, sizeof secret);
    assert_string_equal(app.items[0].onward, "0#app");
    snprintf(text, sizeof text, "0#%s => 0#echo", ockam_sc_encryptor(o.sc));
    assert_string_equal(app.items[0].ret, text);
    assert_string_equal(seen.items[0].onward, "0#echo");
    kt_unlock();
    /* The handshake and both frames went through Kafka. */
    struct ockam_kafka_stats s3 = kt_stats(&n3), s2 = kt_stats(&n2);
    assert_int_equal(s3.consumed, 3); /* message 1, message 3, one frame */
    assert_int_equal(s2.consumed, 2); /* message 2, one frame */
    assert_int_equal(s2.bad_records + s3.bad_records, 0);

    for (knode *n = ns; n < ns + 4; n++)
        knode_free(n);
    ockam_route_free(o.to);
    kt_collector_free(&app);
    kt_collector_free(&seen);
    ockam_identity_free(a);
    ockam_identity_free(b);
    ockam_vault_free(vault);
#undef n1
#undef n2
#undef n3
#undef n4
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_kafka_tcp),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
