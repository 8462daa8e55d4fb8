/* BLE between nodes on BlueZ's emulated controllers: lazy connect through a 4#NAME hop with
 * exact routes both ways, explicit links, 1 MiB messages, and a peer that vanishes without
 * a disconnection (the heartbeat timeout notices it, and the next message reconnects). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ble_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
teardown(void **state)
{
    tn_free_all();
    return 0;
}

static void
test_lazy_connect_routes(void **state)
{
    const char *name = bt_name("lz");
    ockam_node *b = bt_node(name);
    ockam_node *a = bt_node(NULL);
    tn_probe *app = tn_probe_start(a, "app");
    char route[64];
    snprintf(route, sizeof route, "4#%s => 0#echo", name);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "hello", 5), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, BT_WAIT_MS);
    assert_non_null(m);
    ockam_ble_link *link = ockam_ble_link_find(a, name);
    assert_non_null(link);
    assert_string_equal(ockam_ble_link_state(link), "up");
    tn_assert_route(ockam_msg_onward(m), "0#app");
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#echo", ockam_ble_link_address(link));
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, 5);
    assert_memory_equal(p.ptr, "hello", 5);
    ockam_msg_free(m);

    /* A second message reuses the link. */
    assert_int_equal(tn_send(tn_probe_worker(app), route, "again", 5), OCKAM_OK);
    m = tn_probe_wait(app, BT_WAIT_MS);
    assert_non_null(m);
    ockam_msg_free(m);
    assert_ptr_equal(ockam_ble_link_find(a, name), link);
    (void)b;
}

/* A message with an empty payload is a message: it is routed and counted at both ends, never
 * taken for a heartbeat. */
static void
test_empty_payload_counted(void **state)
{
    const char *name = bt_name("ep");
    ockam_node *b = bt_node(name);
    ockam_node *a = bt_node(NULL);
    ockam_ble_link *link = bt_connect(a, name);
    tn_probe *app = tn_probe_start(a, "app");
    char route[96];
    snprintf(route, sizeof route, "0#%s => 0#echo", ockam_ble_link_address(link));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tn_send(tn_probe_worker(app), route, "", 0), OCKAM_OK);
        ockam_msg *m = tn_probe_wait(app, BT_WAIT_MS);
        assert_non_null(m);
        assert_int_equal(ockam_msg_payload(m).len, 0);
        ockam_msg_free(m);
    }
    struct ockam_ble_stats st;
    ockam_ble_link_stats(link, &st);
    assert_int_equal(st.messages_out, 3);
    assert_int_equal(st.messages_in, 3);
    (void)b;
}

static void
test_big_messages(void **state)
{
    const char *name = bt_name("big");
    ockam_node *b = bt_node(name);
    ockam_node *a = bt_node(NULL);
    ockam_ble_link *link = bt_connect(a, name);
    tn_probe *app = tn_probe_start(a, "app");
    size_t len = 1024 * 1024;
    uint8_t *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 31 + (i >> 12));
    char route[96];
    snprintf(route, sizeof route, "0#%s => 0#echo", ockam_ble_link_address(link));
    uint64_t t0 = tn_now_ms();
    assert_int_equal(tn_send(tn_probe_worker(app), route, data, len), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, BT_WAIT_MS);
    assert_non_null(m);
    print_message("1 MiB echoed over BLE in %llu ms\n", (unsigned long long)(tn_now_ms() - t0));
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, len);
    assert_memory_equal(p.ptr, data, len);
    ockam_msg_free(m);
    free(data);
    (void)b;
}

static bool
link_gone(void *arg)
{
    void **v = arg;
    return ockam_ble_link_find(v[0], v[1]) == NULL;
}

/* A peer whose controller goes away: the emulator reports the disconnection at once. */
static void
test_peer_vanishes_then_reconnect(void **state)
{
    char keep[OCKAM_BLE_MAX_NAME + 1];
    snprintf(keep, sizeof keep, "%s", bt_name("gone"));
    ockam_node *b = bt_node(keep);
    ockam_node *a = bt_node(NULL);
    (void)bt_connect(a, keep);
    tn_node_free(b);
    void *v[2] = {a, keep};
    assert_true(tn_wait(link_gone, v, BT_WAIT_MS));

    /* The peer comes back under the same name: the next message reconnects. */
    b = bt_node(keep);
    tn_probe *app = tn_probe_start(a, "app");
    char route[64];
    snprintf(route, sizeof route, "4#%s => 0#echo", keep);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "back", 4), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, BT_WAIT_MS);
    assert_non_null(m);
    ockam_msg_free(m);
}

/* Runs the unregistered node `hung` too, until cond holds. */
struct driven {
    ockam_node *hung;
    bool (*cond)(void *);
    void *arg;
};

static bool
drive(void *arg)
{
    struct driven *d = arg;
    for (int i = 0; i < 8; i++)
        (void)ockam_node_run_nowait(d->hung);
    return d->cond(d->arg);
}

static bool
hung_ready(void *arg)
{
    return ockam_ble_ready(arg);
}

struct up {
    int calls;
    ockam_err status;
};

static void
on_up(ockam_ble_link *link, ockam_err status, void *arg)
{
    ((struct up *)arg)->calls++;
    ((struct up *)arg)->status = status;
}

static bool
up_done(void *arg)
{
    return ((struct up *)arg)->calls > 0;
}

/* A peer that stays connected but stops answering (its node no longer runs): no event comes,
 * only the heartbeat timeout notices. Then a healthy peer under that name is reached again. */
static void
test_hung_peer_detected_by_heartbeat(void **state)
{
    char keep[OCKAM_BLE_MAX_NAME + 1];
    snprintf(keep, sizeof keep, "%s", bt_name("hung"));
    ockam_node *hung = ockam_node_new();
    assert_non_null(hung);
    ockam_ble_config cfg = bt_config(keep);
    assert_int_equal(ockam_ble_init(hung, &cfg), OCKAM_OK);
    struct driven d = {hung, hung_ready, hung};
    assert_true(tn_wait(drive, &d, BT_WAIT_MS));
    ockam_node *a = bt_node(NULL);
    struct up u = {0};
    ockam_ble_link *link = NULL;
    assert_int_equal(ockam_ble_connect(a, keep, on_up, &u, &link), OCKAM_OK);
    d.cond = up_done;
    d.arg = &u;
    assert_true(tn_wait(drive, &d, BT_WAIT_MS));
    assert_int_equal(u.status, OCKAM_OK);

    /* From now on `hung` is not run. */
    tn_log_capture();
    uint64_t t0 = tn_now_ms();
    void *v[2] = {a, keep};
    assert_true(tn_wait(link_gone, v, BT_WAIT_MS));
    uint64_t took = tn_now_ms() - t0;
    print_message("hung peer noticed after %llu ms (timeout %u ms)\n", (unsigned long long)took,
        BT_TIMEOUT_MS);
    assert_true(took >= BT_TIMEOUT_MS - 2 * BT_HEARTBEAT_MS);
    assert_true(took <= BT_TIMEOUT_MS + 500);
    assert_int_equal(tn_log_count("nothing heard for"), 1);
    tn_log_release();
    ockam_node_free(hung);

    ockam_node *b = bt_node(keep);
    (void)bt_connect(a, keep);
    (void)b;
}

static void
test_idle_link_stays_up(void **state)
{
    const char *name = bt_name("idle");
    ockam_node *b = bt_node(name);
    ockam_node *a = bt_node(NULL);
    ockam_ble_link *link = bt_connect(a, name);
    /* Three timeouts of silence from the application: heartbeats keep the link. */
    uint64_t until = tn_now_ms() + 3 * BT_TIMEOUT_MS;
    while (tn_now_ms() < until) {
        bool never = false;
        (void)tn_wait((bool (*)(void *))(void *)ockam_ble_controller_down, a, 50);
        (void)never;
    }
    assert_ptr_equal(ockam_ble_link_find(a, name), link);
    assert_string_equal(ockam_ble_link_state(link), "up");
    struct ockam_ble_stats st;
    ockam_ble_link_stats(link, &st);
    assert_true(st.heartbeats_out >= 3);
    (void)b;
}

static void
on_waiter(ockam_ble_link *link, ockam_err status, void *arg)
{
    int *slot = arg;
    slot[0]++;
    slot[1] = (int)status;
}

static bool
first_two_called(void *arg)
{
    int(*w)[2] = arg;
    return w[0][0] && w[1][0];
}

static bool
third_called(void *arg)
{
    int(*w)[2] = arg;
    return w[2][0] != 0;
}

/* Several callers may wait for one link, each hears once; one arriving after the link is up
 * hears later, never inside its own call. */
static void
test_connect_waiters(void **state)
{
    char keep[OCKAM_BLE_MAX_NAME + 1];
    snprintf(keep, sizeof keep, "%s", bt_name("wait"));
    ockam_node *b = bt_node(keep);
    ockam_node *a = bt_node(NULL);
    int w[3][2] = {{0}};
    ockam_ble_link *l1, *l2, *l3;
    assert_int_equal(ockam_ble_connect(a, keep, on_waiter, w[0], &l1), OCKAM_OK);
    assert_int_equal(ockam_ble_connect(a, keep, on_waiter, w[1], &l2), OCKAM_OK);
    assert_ptr_equal(l1, l2);
    assert_true(tn_wait(first_two_called, w, BT_WAIT_MS));
    assert_int_equal(w[0][1], OCKAM_OK);
    assert_int_equal(w[1][1], OCKAM_OK);
    assert_int_equal(ockam_ble_connect(a, keep, on_waiter, w[2], &l3), OCKAM_OK);
    assert_ptr_equal(l3, l1);
    assert_int_equal(w[2][0], 0);
    assert_true(tn_wait(third_called, w, BT_WAIT_MS));
    assert_int_equal(w[2][1], OCKAM_OK);
    tn_drain();
    assert_int_equal(w[0][0] + w[1][0] + w[2][0], 3);
    (void)b;
}

/* The largest message Ockam allows (16 MiB encoded) crosses one link intact; one byte more is
 * refused to the sender and the link stays. */
static void
test_largest_message(void **state)
{
    const char *name = bt_name("max");
    char keep[OCKAM_BLE_MAX_NAME + 1];
    snprintf(keep, sizeof keep, "%s", name);
    ockam_node *b = bt_node(keep);
    tn_probe *inbox = tn_probe_start(b, "inbox");
    bt_allow(b, "inbox");
    ockam_node *a = bt_node(NULL);
    tn_probe *app = tn_probe_start(a, "app");
    char route[64];
    snprintf(route, sizeof route, "4#%s => 0#inbox", keep);
    /* TransportMessage of [inbox] / [app] / payload: version 1, onward 1 + 2 + 5, return
     * 1 + 2 + 3, then a 4-byte varint length and the payload: 19 bytes around it. */
    size_t len = OCKAM_BLE_MAX_MESSAGE - 19;
    uint8_t *data = malloc(len + 1);
    assert_non_null(data);
    for (size_t i = 0; i <= len; i++)
        data[i] = (uint8_t)(i ^ (i >> 11));
    uint64_t t0 = tn_now_ms();
    assert_int_equal(tn_send(tn_probe_worker(app), route, data, len), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(inbox, 120000);
    assert_non_null(m);
    print_message("16 MiB over BLE in %llu ms\n", (unsigned long long)(tn_now_ms() - t0));
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, len);
    assert_memory_equal(p.ptr, data, len);
    ockam_msg_free(m);
    assert_int_equal(tn_send(tn_probe_worker(app), route, data, len + 1), OCKAM_EMSGSIZE);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "after", 5), OCKAM_OK);
    m = tn_probe_wait(inbox, BT_WAIT_MS);
    assert_non_null(m);
    assert_int_equal(ockam_msg_payload(m).len, 5);
    ockam_msg_free(m);
    free(data);
}

/* The link's queue is bounded: what does not fit is refused at once (OCKAM_EBUSY, counted),
 * what fits is delivered in order once the credits let it through. */
static void
test_bounded_queue(void **state)
{
    char keep[OCKAM_BLE_MAX_NAME + 1];
    snprintf(keep, sizeof keep, "%s", bt_name("bq"));
    ockam_node *b = bt_node(keep);
    tn_probe *inbox = tn_probe_start(b, "inbox");
    bt_allow(b, "inbox");
    ockam_node *a = tn_node_new();
    ockam_ble_config cfg = bt_config(NULL);
    cfg.max_message = 8192;
    cfg.max_queue = 64 * 1024;
    bt_init(a, &cfg);
    ockam_ble_link *link = bt_connect(a, keep);
    tn_probe *app = tn_probe_start(a, "app");
    char route[64];
    snprintf(route, sizeof route, "4#%s => 0#inbox", keep);
    static uint8_t data[4096];
    size_t accepted = 0, refused = 0;
    for (uint32_t i = 0; i < 100; i++) {
        memcpy(data, &i, sizeof i);
        ockam_err err = tn_send(tn_probe_worker(app), route, data, sizeof data);
        assert_true(err == OCKAM_OK || err == OCKAM_EBUSY);
        if (err == OCKAM_OK)
            accepted++;
        else
            refused++;
        struct ockam_ble_stats st;
        ockam_ble_link_stats(link, &st);
        assert_true(st.queued_bytes <= cfg.max_queue);
    }
    print_message("accepted %zu, refused %zu\n", accepted, refused);
    assert_true(accepted >= 10 && refused >= 50);
    assert_true(tn_probe_wait_total(inbox, accepted, BT_WAIT_MS));
    for (uint32_t i = 0; i < accepted; i++) {
        ockam_msg *m = tn_probe_wait(inbox, 0);
        assert_non_null(m);
        uint32_t got;
        memcpy(&got, ockam_msg_payload(m).ptr, sizeof got);
        assert_int_equal(got, i);
        ockam_msg_free(m);
    }
    struct ockam_ble_stats st;
    ockam_ble_link_stats(link, &st);
    assert_int_equal(st.dropped, refused);
    (void)b;
}

int
main(void)
{
    BT_REQUIRE_BTVIRT();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_lazy_connect_routes, teardown),
        cmocka_unit_test_teardown(test_empty_payload_counted, teardown),
        cmocka_unit_test_teardown(test_big_messages, teardown),
        cmocka_unit_test_teardown(test_peer_vanishes_then_reconnect, teardown),
        cmocka_unit_test_teardown(test_hung_peer_detected_by_heartbeat, teardown),
        cmocka_unit_test_teardown(test_idle_link_stays_up, teardown),
        cmocka_unit_test_teardown(test_connect_waiters, teardown),
        cmocka_unit_test_teardown(test_largest_message, teardown),
        cmocka_unit_test_teardown(test_bounded_queue, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
