/* The node: n-hop delivery with exact return routes, unknown addresses, access and flow
 * control, stopping workers with queued messages, many workers, timers, post, request. */
#include "node/node_internal.h"
#include "nodes.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A sink that keeps the last message it received. */
struct sink {
    ockam_msg *last;
    int count;
};

static void
sink_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct sink *s = user;
    ockam_msg_free(s->last);
    s->last = msg;
    s->count++;
}

static bool
sink_has(void *arg)
{
    return ((struct sink *)arg)->count > 0;
}

static ockam_worker *
start_sink(ockam_node *n, const char *addr, struct sink *s)
{
    ockam_worker *w;
    ockam_worker_opts o = {.on_message = sink_on_message, .user = s};
    assert_int_equal(ockam_worker_start(n, addr, &o, &w), OCKAM_OK);
    return w;
}

/* Send "Hello" along h1 => ... => hN => echo from "app"; check the message on arrival at echo
 * (a sink standing in for it) and the reply's routes when it comes back. */
static void
run_hops(int hops)
{
    ockam_node *n = ockam_node_new();
    char name[32];
    char *onward = calloc(1, (size_t)hops * 16 + 16);
    char *ret = calloc(1, (size_t)hops * 16 + 16);
    char *p = onward;
    for (int i = 1; i <= hops; i++) {
        snprintf(name, sizeof name, "h%d", i);
        assert_int_equal(ockam_hop_start(n, name, NULL), OCKAM_OK);
        p += sprintf(p, "h%d => ", i);
    }
    strcpy(p, "target");

    struct sink target = {0}, app = {0};
    ockam_worker *tw = start_sink(n, "target", &target);
    ockam_worker *aw = start_sink(n, "app", &app);
    ockam_route *r = tn_route("%s", onward);
    assert_int_equal(ockam_send_to(aw, r, "Hello", 5), OCKAM_OK);
    assert_true(tn_run_until(n, sink_has, &target, 5000));

    /* On arrival: onward = [target], return = [h_n, ..., h_1, app]. */
    tn_assert_route(ockam_msg_onward(target.last), "0#target");
    p = ret;
    for (int i = hops; i >= 1; i--)
        p += sprintf(p, "0#h%d => ", i);
    strcpy(p, "0#app");
    tn_assert_route(ockam_msg_return(target.last), "%s", ret);

    /* Reply from target: goes back through every hop, which pushes itself again. */
    ockam_msg *m = target.last;
    target.last = NULL;
    assert_int_equal(ockam_reply(tw, m, "World", 5), OCKAM_OK);
    assert_true(tn_run_until(n, sink_has, &app, 5000));
    tn_assert_route(ockam_msg_onward(app.last), "0#app");
    p = ret;
    for (int i = 1; i <= hops; i++)
        p += sprintf(p, "0#h%d => ", i);
    strcpy(p, "0#target");
    tn_assert_route(ockam_msg_return(app.last), "%s", ret);
    ockam_slice s = ockam_msg_payload(app.last);
    assert_memory_equal(s.ptr, "World", 5);

    ockam_msg_free(app.last);
    ockam_route_free(r);
    free(onward);
    free(ret);
    ockam_node_free(n);
}

static void
test_hops_1(void **state)
{
    run_hops(1);
}
static void
test_hops_2(void **state)
{
    run_hops(2);
}
static void
test_hops_10(void **state)
{
    run_hops(10);
}
static void
test_hops_1000(void **state)
{
    run_hops(1000);
}

static void
test_unknown_address(void **state)
{
    ockam_node *n = ockam_node_new();
    struct sink app = {0};
    ockam_worker *aw = start_sink(n, "app", &app);
    ockam_route *r = tn_route("nobody");
    assert_int_equal(ockam_send_to(aw, r, "x", 1), OCKAM_ENOENT);
    ockam_route_free(r);
    r = tn_route("%s", "");
    assert_int_equal(ockam_send_to(aw, r, "x", 1), OCKAM_EROUTE);
    ockam_route_free(r);
    r = tn_route("9#somewhere");
    assert_int_equal(ockam_send_to(aw, r, "x", 1), OCKAM_ENOTSUP);
    ockam_route_free(r);
    assert_int_equal(app.count, 0);
    ockam_node_free(n);
}

static bool
deny_odd(ockam_worker *w, const ockam_msg *m, void *user)
{
    ockam_slice p = ockam_msg_payload(m);
    return p.len % 2 == 0;
}

static void
test_access_control(void **state)
{
    ockam_node *n = ockam_node_new();
    struct sink target = {0}, app = {0};
    ockam_worker *tw = start_sink(n, "target", &target);
    ockam_worker *aw = start_sink(n, "app", &app);
    ockam_route *r = tn_route("target");

    ockam_worker_set_incoming(tw, (ockam_access) {.kind = OCKAM_ACCESS_DENY_ALL});
    assert_int_equal(ockam_send_to(aw, r, "x", 1), OCKAM_EACCES);

    ockam_worker_set_incoming(tw, (ockam_access) {.kind = OCKAM_ACCESS_CALLBACK, .cb = deny_odd});
    assert_int_equal(ockam_send_to(aw, r, "x", 1), OCKAM_EACCES);
    assert_int_equal(ockam_send_to(aw, r, "xy", 2), OCKAM_OK);
    tn_drain_node(n);
    assert_int_equal(target.count, 1);

    ockam_worker_set_incoming(tw, (ockam_access) {.kind = OCKAM_ACCESS_ALLOW_ALL});
    ockam_worker_set_outgoing(aw, (ockam_access) {.kind = OCKAM_ACCESS_DENY_ALL});
    assert_int_equal(ockam_send_to(aw, r, "xy", 2), OCKAM_EACCES);
    tn_drain_node(n);
    assert_int_equal(target.count, 1);

    ockam_msg_free(target.last);
    ockam_route_free(r);
    ockam_node_free(n);
}

static void
test_flow_control(void **state)
{
    ockam_node *n = ockam_node_new();
    struct sink target = {0};
    start_sink(n, "target", &target);
    assert_int_equal(ockam_hop_start(n, "hop", NULL), OCKAM_OK);
    ockam_flow_id producer = ockam_flow_id_new(n), spawner = ockam_flow_id_new(n);
    assert_int_not_equal(producer, spawner);

    /* A message from "another node": origin set, as a transport would. */
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(ockam_route_parse(ockam_msg_onward(m), "target"), OCKAM_OK);
    ockam_msg_set_origin(m, (ockam_origin) {producer, spawner});
    ockam_msg *m2 = ockam_msg_clone(m);
    ockam_msg *via_hop = ockam_msg_clone(m);
    ockam_route_clear(ockam_msg_onward(via_hop));
    assert_int_equal(ockam_route_parse(ockam_msg_onward(via_hop), "hop => target"), OCKAM_OK);
    ockam_msg *via_hop2 = ockam_msg_clone(via_hop);

    ockam__node_route_incoming(n, m); /* denied: target consumes nothing */
    assert_int_equal(ockam_flow_add_consumer(n, "hop", spawner), OCKAM_OK);
    ockam__node_route_incoming(n, via_hop); /* hop allowed, target still not: dropped */
    tn_drain_node(n);
    assert_int_equal(target.count, 0);

    assert_int_equal(ockam_flow_add_consumer(n, "target", spawner), OCKAM_OK);
    assert_true(ockam_flow_is_consumer(n, "target", spawner));
    ockam__node_route_incoming(n, m2);
    ockam__node_route_incoming(n, via_hop2);
    tn_drain_node(n);
    assert_int_equal(target.count, 2);
    /* The origin stays with the message through the hop. */
    assert_int_equal(ockam_msg_origin(target.last).producer, producer);
    ockam_msg_free(target.last);
    ockam_node_free(n);
}

static void
test_stop_with_queued(void **state)
{
    ockam_node *n = ockam_node_new();
    struct sink target = {0}, app = {0};
    ockam_worker *tw = start_sink(n, "target", &target);
    ockam_worker *aw = start_sink(n, "app", &app);
    ockam_route *r = tn_route("target");
    for (int i = 0; i < 100; i++)
        assert_int_equal(ockam_send_to(aw, r, "x", 1), OCKAM_OK);
    ockam_worker_stop(tw);
    ockam_worker_stop(tw); /* idempotent */
    tn_drain_node(n);
    assert_int_equal(target.count, 0);
    assert_int_equal(ockam_send_to(aw, r, "x", 1), OCKAM_ENOENT);
    assert_false(ockam_node_has_worker(n, "target"));
    ockam_route_free(r);
    ockam_node_free(n);
}

/* A worker that stops itself from inside its own callback. */
static void
self_stop(ockam_worker *w, ockam_msg *msg, void *user)
{
    (*(int *)user)++;
    ockam_msg_free(msg);
    ockam_worker_stop(w);
}

static void
count_stop(ockam_worker *w, void *user)
{
    (*(int *)user) += 1000;
}

static void
test_stop_inside_callback(void **state)
{
    ockam_node *n = ockam_node_new();
    int calls = 0;
    ockam_worker_opts o = {.on_message = self_stop, .on_stop = count_stop, .user = &calls};
    ockam_worker *w, *aw;
    struct sink app = {0};
    assert_int_equal(ockam_worker_start(n, "once", &o, &w), OCKAM_OK);
    aw = start_sink(n, "app", &app);
    ockam_route *r = tn_route("once");
    assert_int_equal(ockam_send_to(aw, r, "a", 1), OCKAM_OK);
    assert_int_equal(ockam_send_to(aw, r, "b", 1), OCKAM_OK);
    tn_drain_node(n);
    assert_int_equal(calls, 1001); /* one delivery, one stop callback, second message freed */
    ockam_route_free(r);
    ockam_node_free(n);
}

static void
test_many_workers(void **state)
{
    ockam_node *n = ockam_node_new();
    enum { N = 100000 };
    ockam_worker **ws = calloc(N, sizeof *ws);
    struct sink s = {0};
    ockam_worker_opts o = {.on_message = sink_on_message, .user = &s};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++)
            assert_int_equal(ockam_worker_start(n, NULL, &o, &ws[i]), OCKAM_OK);
        assert_int_equal(ockam_node_worker_count(n), N);
        for (int i = 0; i < N; i++)
            ockam_worker_stop(ws[i]);
        assert_int_equal(ockam_node_worker_count(n), 0);
    }
    /* Named addresses can be reused after stop. */
    assert_int_equal(ockam_worker_start(n, "x", &o, NULL), OCKAM_OK);
    assert_int_equal(ockam_worker_start(n, "x", &o, NULL), OCKAM_EEXIST);
    assert_int_equal(ockam_worker_stop_at(n, "x"), OCKAM_OK);
    assert_int_equal(ockam_worker_start(n, "x", &o, NULL), OCKAM_OK);
    free(ws);
    ockam_node_free(n);
}

static void
test_aliases(void **state)
{
    ockam_node *n = ockam_node_new();
    struct sink s = {0}, app = {0};
    ockam_worker *w = start_sink(n, "main", &s);
    ockam_worker *aw = start_sink(n, "app", &app);
    assert_int_equal(ockam_worker_add_address(w, "alias"), OCKAM_OK);
    assert_int_equal(ockam_worker_add_address(w, "app"), OCKAM_EEXIST);
    assert_true(ockam_addr_is_local(ockam_worker_addr(w), "main"));
    ockam_route *r = tn_route("alias");
    assert_int_equal(ockam_send_to(aw, r, "x", 1), OCKAM_OK);
    tn_drain_node(n);
    assert_int_equal(s.count, 1);
    ockam_worker_stop(w);
    assert_false(ockam_node_has_worker(n, "alias"));
    ockam_msg_free(s.last);
    ockam_route_free(r);
    ockam_node_free(n);
}

static void
count_timer(ockam_timer *t, void *user)
{
    int *c = user;
    if (++*c == 3)
        ockam_timer_stop(t);
}

static bool
int_is_3(void *arg)
{
    return *(int *)arg == 3;
}

static void
test_timers(void **state)
{
    ockam_node *n = ockam_node_new();
    int c = 0;
    assert_int_equal(ockam_timer_start(n, 1, 1, count_timer, &c, NULL), OCKAM_OK);
    assert_true(tn_run_until(n, int_is_3, &c, 5000));
    /* A timer still pending at free is closed by the node. */
    assert_int_equal(ockam_timer_start(n, 100000, 0, count_timer, &c, NULL), OCKAM_OK);
    ockam_node_free(n);
}

static void
posted(void *arg)
{
    (*(int *)arg)++;
}

static void *
poster_thread(void *arg)
{
    ockam_node *n = arg;
    static int hits;
    for (int i = 0; i < 1000; i++)
        ockam_node_post(n, posted, &hits);
    ockam_node_stop(n);
    return &hits;
}

static void
test_post_and_stop(void **state)
{
    ockam_node *n = ockam_node_new();
    pthread_t t;
    void *res;
    pthread_create(&t, NULL, poster_thread, n);
    pthread_join(t, &res);
    /* Posts made before the stop request all run before run() returns. */
    assert_int_equal(ockam_node_run(n), OCKAM_OK);
    assert_int_equal(*(int *)res, 1000);
    ockam_node_free(n);
}

static void
test_request_echo_uppercase(void **state)
{
    ockam_node *n = ockam_node_new();
    assert_int_equal(ockam_echo_start(n, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_uppercase_start(n, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_hop_start(n, NULL, NULL), OCKAM_OK);

    ockam_route *r = tn_route("hop => echo");
    ockam_msg *reply;
    assert_int_equal(ockam_node_request(n, r, "ping", 4, 5000, &reply), OCKAM_OK);
    ockam_slice p = ockam_msg_payload(reply);
    assert_int_equal(p.len, 4);
    assert_memory_equal(p.ptr, "ping", 4);
    ockam_msg_free(reply);
    ockam_route_free(r);

    uint8_t *enc;
    size_t len;
    assert_int_equal(ockam_bare_string_encode("hello", 5, &enc, &len), OCKAM_OK);
    r = tn_route("uppercase");
    assert_int_equal(ockam_node_request(n, r, enc, len, 5000, &reply), OCKAM_OK);
    ockam_slice text;
    p = ockam_msg_payload(reply);
    assert_int_equal(ockam_bare_string_decode(p.ptr, p.len, &text), OCKAM_OK);
    assert_int_equal(text.len, 5);
    assert_memory_equal(text.ptr, "HELLO", 5);
    ockam_msg_free(reply);
    ockam_route_free(r);
    ockam_free(enc);

    /* No reply: uppercase ignores a payload that is not a BARE string. */
    r = tn_route("uppercase");
    assert_int_equal(ockam_node_request(n, r, "\x09zz", 3, 50, &reply), OCKAM_ETIMEDOUT);
    assert_null(reply);
    ockam_route_free(r);
    ockam_node_free(n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hops_1),
        cmocka_unit_test(test_hops_2),
        cmocka_unit_test(test_hops_10),
        cmocka_unit_test(test_hops_1000),
        cmocka_unit_test(test_unknown_address),
        cmocka_unit_test(test_access_control),
        cmocka_unit_test(test_flow_control),
        cmocka_unit_test(test_stop_with_queued),
        cmocka_unit_test(test_stop_inside_callback),
        cmocka_unit_test(test_many_workers),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_post_and_stop),
        cmocka_unit_test(test_request_echo_uppercase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
