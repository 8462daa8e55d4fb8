/* Receive-side backpressure over BLE: a fast sender, a slow worker behind the link. The
 * receiving link withholds L2CAP credits while the messages it delivered are still held
 * above its mark (max_queue), so the sender's queue is where messages wait -- the receiver
 * holds a bounded amount, nothing is dropped, everything arrives in order. The worker also
 * stalls for longer than the heartbeat timeout: a link whose peer cannot speak (it has no
 * credits) must not be declared dead for it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ble_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT 400
#define PAYLOAD 1000
#define MARK (16u * 1024u)
#define CREDITS 16
/* The largest K-frame payload the receiver offers (4 ACL fragments of at most 192 B, the
 * emulator's buffer size, less the L2CAP header). */
#define MPS_MAX (4u * 192u - 4u)
#define STALL_MS (3u * BT_TIMEOUT_MS)

struct slow {
    ockam_msg *q[COUNT]; /* taken in, not yet processed: q[first..last) */
    size_t first, last;
    size_t held, held_bytes, max_held, max_held_bytes;
    uint32_t next_seq;
    size_t processed, out_of_order;
};

static int
teardown(void **state)
{
    tn_free_all();
    return 0;
}

static void
slow_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct slow *s = user;
    if (s->last == COUNT) { /* more than was sent: counted as a failure */
        s->out_of_order++;
        ockam_msg_free(msg);
        return;
    }
    s->q[s->last++] = msg;
    s->held++;
    s->held_bytes += ockam_msg_payload(msg).len;
    if (s->held > s->max_held)
        s->max_held = s->held;
    if (s->held_bytes > s->max_held_bytes)
        s->max_held_bytes = s->held_bytes;
}

/* One message per tick: the worker is far slower than the link. */
static void
slow_tick(ockam_timer *timer, void *user)
{
    struct slow *s = user;
    if (s->first == s->last)
        return;
    ockam_msg *m = s->q[s->first++];
    ockam_slice p = ockam_msg_payload(m);
    uint32_t seq = 0;
    if (p.len == PAYLOAD)
        memcpy(&seq, p.ptr, sizeof seq);
    if (p.len != PAYLOAD || seq != s->next_seq)
        s->out_of_order++;
    s->next_seq = seq + 1;
    s->held--;
    s->held_bytes -= p.len;
    s->processed++;
    ockam_msg_free(m);
}

static bool
all_processed(void *arg)
{
    return ((struct slow *)arg)->processed == COUNT;
}

static void
free_held(struct slow *s)
{
    while (s->first < s->last)
        ockam_msg_free(s->q[s->first++]);
}

static void
test_slow_worker_bounded(void **state)
{
    const char *name = bt_name("bp");
    ockam_node *b = tn_node_new();
    ockam_ble_config cfg = bt_config(name);
    cfg.max_message = 4096; /* max_queue may not be below it */
    cfg.max_queue = MARK;
    cfg.credits = CREDITS;
    bt_init(b, &cfg);

    struct slow s = {0};
    ockam_worker_opts opts = {.on_message = slow_on_message, .user = &s};
    assert_int_equal(ockam_worker_start(b, "slow", &opts, NULL), OCKAM_OK);
    bt_allow(b, "slow");
    /* Nothing is processed for a while (longer than the heartbeat timeout), then one message
     * per millisecond. */
    ockam_timer *timer = NULL;
    assert_int_equal(ockam_timer_start(b, STALL_MS, 1, slow_tick, &s, &timer), OCKAM_OK);

    /* The sender grants many credits: the receiver's heartbeats then draw no credit
     * indication from it for longer than the stall, so during the stall the receiver hears
     * nothing at all from it. */
    ockam_node *a = tn_node_new();
    ockam_ble_config acfg = bt_config(NULL);
    acfg.credits = 200;
    bt_init(a, &acfg);
    ockam_ble_link *link = bt_connect(a, name);
    tn_probe *app = tn_probe_start(a, "app");
    char route[96];
    snprintf(route, sizeof route, "0#%s => 0#slow", ockam_ble_link_address(link));
    uint8_t data[PAYLOAD];
    memset(data, 0x5a, sizeof data);
    for (uint32_t i = 0; i < COUNT; i++) {
        memcpy(data, &i, sizeof i);
        assert_int_equal(tn_send(tn_probe_worker(app), route, data, sizeof data), OCKAM_OK);
    }

    assert_true(tn_wait(all_processed, &s, STALL_MS + 60000));
    print_message("slow worker: at most %zu messages (%zu bytes) held at once of %d\n", s.max_held,
        s.max_held_bytes, COUNT);
    assert_int_equal(s.out_of_order, 0);
    /* The mark, what the peer's credits let through after it, and the message in reassembly. */
    assert_true(s.max_held_bytes <= MARK + CREDITS * MPS_MAX + PAYLOAD);

    /* The same link carried everything: nothing dropped, no reconnection. */
    assert_ptr_equal(ockam_ble_link_find(a, name), link);
    struct ockam_ble_stats st;
    ockam_ble_link_stats(link, &st);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.messages_out, COUNT);

    ockam_timer_stop(timer);
    free_held(&s);
}

int
main(void)
{
    BT_REQUIRE_BTVIRT();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_slow_worker_bounded, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
