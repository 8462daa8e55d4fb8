/* Bad input closes only what it concerns, with one log line, and the node keeps serving:
 *  - from a peer (a raw host driving its own emulated controller): L2CAP signalling
 *    garbage, an ACL continuation without a start, an SDU longer than its first K-frame
 *    announced, an SDU that is no TransportMessage -> that link is disconnected;
 *  - from the controller (a fake controller the node connects to): ACL data for a handle
 *    nobody has -> dropped; a malformed event, or a controller that stops answering ->
 *    the controller is reported down, local workers keep working. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ble_util.h"
#include "raw_hci.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int
teardown(void **state)
{
    tn_log_release();
    tn_free_all();
    return 0;
}

/* Another node still reaches `name` and gets an echo back. */
static void
still_serves(const char *name)
{
    ockam_node *a = bt_node(NULL);
    tn_probe *app = tn_probe_start(a, "app");
    char route[64];
    snprintf(route, sizeof route, "4#%s => 0#echo", name);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "still", 5), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, BT_WAIT_MS);
    assert_non_null(m);
    ockam_msg_free(m);
}

/* A node listening under a fresh name, and a raw host connected to it. */
static ockam_node *
victim(char *name, int *raw, uint16_t *handle)
{
    snprintf(name, OCKAM_BLE_MAX_NAME + 1, "%s", bt_name("bad"));
    ockam_node *b = bt_node(name);
    *raw = rh_host_open(bv_controller());
    *handle = rh_host_connect(*raw, ockam_ble_local_address(b));
    return b;
}

static void
expect_link_closed(int raw, uint16_t handle, const char *why)
{
    assert_true(rh_host_wait_disconnected(raw, handle, BT_WAIT_MS));
    tn_drain();
    assert_int_equal(tn_log_count("link closed"), 1);
    assert_int_equal(tn_log_count(why), 1);
}

static void
test_signalling_garbage(void **state)
{
    char name[OCKAM_BLE_MAX_NAME + 1];
    int raw;
    uint16_t h;
    (void)victim(name, &raw, &h);
    tn_log_capture();
    const uint8_t garbage[] = {0x14, 0x01, 0x03, 0x00, 0xde, 0xad, 0xbe};
    rh_host_l2cap(raw, h, 0x0005, garbage, sizeof garbage);
    expect_link_closed(raw, h, "malformed LE credit-based connection request");
    tn_log_release();
    close(raw);
    still_serves(name);
}

static void
test_continuation_without_start(void **state)
{
    char name[OCKAM_BLE_MAX_NAME + 1];
    int raw;
    uint16_t h;
    (void)victim(name, &raw, &h);
    tn_log_capture();
    uint8_t acl[8] = {(uint8_t)h, (uint8_t)(0x10 | (h >> 8)), 4, 0, 1, 2, 3, 4};
    rh_write(raw, 0x02, acl, sizeof acl);
    expect_link_closed(raw, h, "ACL continuation without a start");
    tn_log_release();
    close(raw);
    still_serves(name);
}

/* Open an LE credit-based channel to the node; returns the node's CID. */
static uint16_t
open_channel(int raw, uint16_t h)
{
    const uint8_t req[] = {0x14, 0x01, 10, 0, 0x81, 0x00, 0x40, 0x00, 0x00, 0x02, 100, 0, 5, 0};
    rh_host_l2cap(raw, h, 0x0005, req, sizeof req);
    uint8_t rsp[64];
    long n = rh_host_wait_l2cap(raw, 0x0005, rsp, sizeof rsp, BT_WAIT_MS);
    assert_int_equal(n, 14);
    assert_int_equal(rsp[0], 0x15);
    assert_int_equal(rsp[12] | (rsp[13] << 8), 0); /* success */
    return (uint16_t)(rsp[4] | (rsp[5] << 8));
}

/* A victim's channel gets kframe: the node closes the link saying why, and still serves. */
static void
expect_kframe_closes(const uint8_t *kframe, size_t len, const char *why)
{
    char name[OCKAM_BLE_MAX_NAME + 1];
    int raw;
    uint16_t h;
    (void)victim(name, &raw, &h);
    uint16_t cid = open_channel(raw, h);
    tn_log_capture();
    rh_host_l2cap(raw, h, cid, kframe, len);
    expect_link_closed(raw, h, why);
    tn_log_release();
    close(raw);
    still_serves(name);
}

static void
test_sdu_longer_than_announced(void **state)
{
    const uint8_t kframe[] = {4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    expect_kframe_closes(kframe, sizeof kframe, "SDU longer than announced");
}

static void
test_sdu_not_a_message(void **state)
{
    const uint8_t kframe[] = {3, 0, 0x07, 0x00, 0x00};
    expect_kframe_closes(kframe, sizeof kframe, "malformed message");
}

/* ---- a misbehaving controller ---------------------------------------------------------- */

static ockam_node *
node_on_fake(int *lfd, int *cfd, uint32_t cmd_timeout_ms, bool answer_init)
{
    const char *spec;
    *lfd = rh_ctrl_listen(&spec);
    ockam_node *n = tn_node_new();
    assert_int_equal(ockam_echo_start(n, NULL, NULL), OCKAM_OK);
    ockam_ble_config cfg = bt_config("fake");
    cfg.controller = spec;
    cfg.command_timeout_ms = cmd_timeout_ms;
    assert_int_equal(ockam_ble_init(n, &cfg), OCKAM_OK);
    *cfd = rh_ctrl_accept(*lfd);
    if (answer_init)
        rh_ctrl_serve_init(*cfd);
    return n;
}

static bool
down(void *arg)
{
    return ockam_ble_controller_down(arg);
}

static void
local_echo_works(ockam_node *n)
{
    tn_probe *app = tn_probe_start(n, NULL);
    assert_int_equal(tn_send(tn_probe_worker(app), "0#echo", "local", 5), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, BT_WAIT_MS);
    assert_non_null(m);
    ockam_msg_free(m);
}

static void
test_acl_for_unknown_handle(void **state)
{
    int lfd, cfd;
    ockam_node *n = node_on_fake(&lfd, &cfd, 3000, true);
    tn_log_capture();
    const uint8_t acl[] = {0xBC, 0x0A, 4, 0, 0, 0, 0x40, 0};
    rh_write(cfd, 0x02, acl, sizeof acl);
    assert_true(tn_wait((bool (*)(void *))(void *)tn_log_count, "unknown handle", BT_WAIT_MS));
    assert_int_equal(tn_log_count(NULL), 1);
    assert_false(ockam_ble_controller_down(n));
    tn_log_release();
    close(cfd);
    rh_ctrl_close(lfd);
}

static void
test_malformed_event(void **state)
{
    int lfd, cfd;
    ockam_node *n = node_on_fake(&lfd, &cfd, 3000, true);
    tn_log_capture();
    const uint8_t evt[] = {0x3E, 2, 0x01, 0x00}; /* LE Connection Complete cut short */
    rh_write(cfd, 0x04, evt, sizeof evt);
    assert_true(tn_wait(down, n, BT_WAIT_MS));
    tn_drain();
    assert_int_equal(tn_log_count(NULL), 1);
    assert_int_equal(tn_log_count("malformed LE Connection Complete event"), 1);
    tn_log_release();
    local_echo_works(n);
    close(cfd);
    rh_ctrl_close(lfd);
}

static void
test_controller_stops_answering(void **state)
{
    int lfd, cfd;
    tn_log_capture();
    uint64_t t0 = tn_now_ms();
    ockam_node *n = node_on_fake(&lfd, &cfd, 300, false);
    assert_true(tn_wait(down, n, BT_WAIT_MS));
    assert_true(tn_now_ms() - t0 >= 300);
    tn_drain();
    assert_int_equal(tn_log_count(NULL), 1);
    assert_int_equal(tn_log_count("stopped answering commands"), 1);
    tn_log_release();
    local_echo_works(n);
    close(cfd);
    rh_ctrl_close(lfd);
}

int
main(void)
{
    BT_REQUIRE_BTVIRT();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_signalling_garbage, teardown),
        cmocka_unit_test_teardown(test_continuation_without_start, teardown),
        cmocka_unit_test_teardown(test_sdu_longer_than_announced, teardown),
        cmocka_unit_test_teardown(test_sdu_not_a_message, teardown),
        cmocka_unit_test_teardown(test_acl_for_unknown_handle, teardown),
        cmocka_unit_test_teardown(test_malformed_event, teardown),
        cmocka_unit_test_teardown(test_controller_stops_answering, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
