/* The transport conformance suite (see transport_suite.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "transport_suite.h"

#include "nodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAIT_MS 30000

static const ts_transport *tr;

/* Room for a way: a local address, maybe followed by a hop or two (see ts_connected_cb). */
#define WAY_CAP (2 * OCKAM_MAX_ADDR_LEN + 16)

/* Node B listens and runs echo and a probe "inbox"; node A runs the probe "app" and has a
 * way to B: the route text `way`, whose first address is `way_addr` (a local worker on A, or
 * a transport address such as Kafka's 16#<topic>). `way_typed` is the way as routes print it
 * (every address with its type), which is also how it comes back on return routes. */
struct world {
    ockam_node *a, *b;
    void *listener;
    char addr[256];
    tn_probe *app, *inbox;
    char way[WAY_CAP];
    char way_typed[WAY_CAP + 8];
    char way_addr[OCKAM_MAX_ADDR_LEN + 1];
    bool way_local;
};

static struct world w;

struct connected {
    int calls;
    ockam_err status;
    char addr[WAY_CAP];
};

static void
on_connected(const char *local_addr, ockam_err status, void *arg)
{
    struct connected *c = arg;
    c->calls++;
    c->status = status;
    snprintf(c->addr, sizeof c->addr, "%s", local_addr ? local_addr : "");
}

static bool
connected_done(void *arg)
{
    return ((struct connected *)arg)->calls > 0;
}

static void
connect_a_to_b(void)
{
    struct connected c = {0};
    assert_int_equal(tr->connect(w.a, tr->ctx, w.addr, on_connected, &c), OCKAM_OK);
    assert_int_equal(c.calls, 0);
    assert_true(tn_wait(connected_done, &c, WAIT_MS));
    assert_int_equal(c.status, OCKAM_OK);
    assert_true(c.addr[0] != '\0');
    snprintf(w.way, sizeof w.way, "%s", c.addr);
    snprintf(w.way_addr, sizeof w.way_addr, "%.*s", (int)strcspn(c.addr, " "), c.addr);
    w.way_local = strchr(w.way_addr, '#') == NULL;
    snprintf(w.way_typed, sizeof w.way_typed, "%s%s", w.way_local ? "0#" : "", w.way);
}

static int
setup(void **state)
{
    memset(&w, 0, sizeof w);
    w.b = tn_node_new();
    if (tr->setup)
        tr->setup(w.b, tr->ctx);
    assert_int_equal(ockam_echo_start(w.b, NULL, NULL), OCKAM_OK);
    w.inbox = tn_probe_start(w.b, "inbox");
    assert_int_equal(tr->listen(w.b, tr->ctx, w.addr, sizeof w.addr, &w.listener), OCKAM_OK);
    tr->allow(w.b, w.listener, "echo");
    tr->allow(w.b, w.listener, "inbox");
    w.a = tn_node_new();
    if (tr->setup)
        tr->setup(w.a, tr->ctx);
    w.app = tn_probe_start(w.a, "app");
    connect_a_to_b();
    return 0;
}

static int
teardown(void **state)
{
    tn_free_all();
    return 0;
}

static void
send_from_app(const char *last_hop, const void *data, size_t len)
{
    char route[WAY_CAP + OCKAM_MAX_ADDR_LEN];
    snprintf(route, sizeof route, "%s => %s", w.way, last_hop);
    assert_int_equal(tn_send(tn_probe_worker(w.app), route, data, len), OCKAM_OK);
}

static void
assert_payload(const ockam_msg *m, const void *data, size_t len)
{
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, len);
    assert_true(len == 0 || memcmp(p.ptr, data, len) == 0);
}

static void
test_listen_connect(void **state)
{
    if (w.way_local) {
        assert_int_equal(strlen(w.way_addr), OCKAM_RANDOM_ADDR_LEN);
        assert_true(ockam_node_has_worker(w.a, w.way_addr));
        return;
    }
    /* A transport address: its transport routes it (no local worker stands for it). */
    ockam_route *r = tn_route("%s", w.way_addr);
    assert_int_equal(ockam_route_len(r), 1);
    assert_int_not_equal(ockam_route_front(r).type, OCKAM_TRANSPORT_LOCAL);
    ockam_route_free(r);
}

static void
test_exchange(void **state)
{
    send_from_app("echo", "hello", 5);
    ockam_msg *m = tn_probe_wait(w.app, WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    tn_assert_route(ockam_msg_return(m), "%s => 0#echo", w.way_typed);
    assert_payload(m, "hello", 5);
    ockam_msg_free(m);
}

static size_t
expected_return_len(void)
{
    return tr->return_route_len ? tr->return_route_len : 2;
}

static void
test_reply_by_return_route(void **state)
{
    send_from_app("inbox", "ping", 4);
    ockam_msg *m = tn_probe_wait(w.inbox, WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_onward(m), "0#inbox");
    /* [<B's local address for this peer>, app], or with the source between them */
    assert_int_equal(ockam_route_len(ockam_msg_return(m)), expected_return_len());
    assert_true(ockam_addr_is_local(ockam_route_back(ockam_msg_return(m)), "app"));
    assert_int_equal(ockam_reply(tn_probe_worker(w.inbox), m, "pong", 4), OCKAM_OK);
    m = tn_probe_wait(w.app, WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_return(m), "%s => 0#inbox", w.way_typed);
    assert_payload(m, "pong", 4);
    ockam_msg_free(m);
}

#define MANY 1000

static void
test_many_in_order(void **state)
{
    for (uint32_t i = 0; i < MANY; i++)
        send_from_app("inbox", &i, sizeof i);
    assert_true(tn_probe_wait_total(w.inbox, MANY, WAIT_MS));
    for (uint32_t i = 0; i < MANY; i++) {
        ockam_msg *m = tn_probe_wait(w.inbox, 0);
        assert_non_null(m);
        assert_payload(m, &i, sizeof i);
        ockam_msg_free(m);
    }
}

/* Body size of [echo] / [app] / len bytes. */
static size_t
body_of(size_t len)
{
    ockam_msg *m = ockam_msg_new();
    assert_non_null(m);
    assert_int_equal(
        ockam_route_push_back(ockam_msg_onward(m), ockam_addr_local("echo")), OCKAM_OK);
    assert_int_equal(ockam_route_push_back(ockam_msg_return(m), ockam_addr_local("app")), OCKAM_OK);
    assert_non_null(ockam_msg_payload_reserve(m, len));
    size_t n = tr->body_size(m);
    ockam_msg_free(m);
    return n;
}

static void
test_huge_message(void **state)
{
    if (!tr->max_body) {
        print_message("%s: skipped: the adapter sets no largest message\n", tr->name);
        skip();
        return;
    }
    size_t len = tr->max_body - (body_of(tr->max_body) - tr->max_body);
    while (body_of(len) > tr->max_body)
        len--;
    while (body_of(len + 1) <= tr->max_body)
        len++;
    uint8_t *data = malloc(len + 1);
    assert_non_null(data);
    for (size_t i = 0; i <= len; i++)
        data[i] = (uint8_t)(i * 7 + (i >> 10));

    send_from_app("echo", data, len);
    ockam_msg *m = tn_probe_wait(w.app, WAIT_MS);
    assert_non_null(m);
    assert_payload(m, data, len);
    ockam_msg_free(m);

    /* One byte more does not arrive (refused at once, or later by the way's sender), and the
     * way stays usable. */
    char route[WAY_CAP + 8];
    snprintf(route, sizeof route, "%s => echo", w.way);
    ockam_err err = tn_send(tn_probe_worker(w.app), route, data, len + 1);
    assert_true(err == OCKAM_OK || err == OCKAM_EMSGSIZE);
    send_from_app("echo", "after", 5);
    m = tn_probe_wait(w.app, WAIT_MS);
    assert_non_null(m);
    assert_payload(m, "after", 5);
    ockam_msg_free(m);
    tn_drain();
    assert_int_equal(tn_probe_total(w.app), 2);
    free(data);
}

static void
test_refused_connection(void **state)
{
    char dead[256];
    struct connected c = {0};
    if (!tr->dead_address) {
        skip();
        return;
    }
    tr->dead_address(tr->ctx, dead, sizeof dead);
    assert_int_equal(tr->connect(w.a, tr->ctx, dead, on_connected, &c), OCKAM_OK);
    assert_true(tn_wait(connected_done, &c, WAIT_MS));
    assert_int_not_equal(c.status, OCKAM_OK);
    tn_drain();
    assert_int_equal(c.calls, 1);
}

struct closed {
    int calls;
    uint64_t dropped;
};

static void
on_closed(uint64_t dropped, void *arg)
{
    struct closed *c = arg;
    c->calls++;
    c->dropped = dropped;
}

static bool
closed_done(void *arg)
{
    return ((struct closed *)arg)->calls > 0;
}

/* Messages sent before the close are either delivered (in order) or counted as dropped;
 * nothing is lost silently. */
static void
test_close_with_messages_in_flight(void **state)
{
    struct closed c = {0};
    if (!tr->close) {
        skip();
        return;
    }
    for (uint32_t i = 0; i < 100; i++)
        send_from_app("inbox", &i, sizeof i);
    tr->close(w.a, w.way_addr, on_closed, &c);
    assert_true(tn_wait(closed_done, &c, WAIT_MS));
    assert_false(ockam_node_has_worker(w.a, w.way_addr));
    assert_true(tn_probe_wait_total(w.inbox, 100 - (size_t)c.dropped, WAIT_MS));
    tn_drain();
    assert_int_equal(tn_probe_total(w.inbox) + c.dropped, 100);
    for (uint32_t i = 0; i < tn_probe_total(w.inbox); i++) {
        ockam_msg *m = tn_probe_wait(w.inbox, 0);
        assert_payload(m, &i, sizeof i);
        ockam_msg_free(m);
    }
    assert_int_equal(c.calls, 1);
}

static void
test_bad_frame(void **state)
{
    if (tr->raw_connect) {
        int fd = tr->raw_connect(tr->ctx, w.addr);
        assert_true(fd >= 0);
        if (tr->raw_preamble_len)
            assert_true(tn_raw_send(fd, tr->raw_preamble, tr->raw_preamble_len, WAIT_MS));
        (void)tn_raw_send(fd, tr->bad_frame, tr->bad_frame_len, WAIT_MS);
        assert_true(tn_raw_wait_closed(fd, WAIT_MS));
        close(fd);
    } else if (tr->raw_bad_frame) {
        assert_true(tr->raw_bad_frame(w.b, tr->ctx, w.listener, w.addr));
    } else {
        skip();
        return;
    }
    /* The existing way (unless the raw path needed it closed) and a new one still work. */
    if (!tr->raw_bad_frame_alone || tr->raw_connect)
        test_exchange(state);
    connect_a_to_b();
    test_exchange(state);
}

int
ts_run(const ts_transport *t)
{
    tr = t;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_listen_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_by_return_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_with_messages_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_frame, setup, teardown),
    };
    return _cmocka_run_group_tests(t->name, tests, sizeof tests / sizeof tests[0], NULL, NULL);
}
