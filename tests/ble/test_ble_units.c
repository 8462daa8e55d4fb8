/* The sans-IO LE host pieces on their own: two L2CAP endpoints wired back to back (channel
 * set-up, segmentation and reassembly over small MPS with few credits, credit return,
 * disconnection, and the bad-input rules), and the HCI host against a scripted controller
 * (initialisation, ACL fragmentation paced by completed-packet events, reassembly of
 * fragments split at every byte, unknown handles, command timeouts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ockam/ockam.h"
#include "transport/ble/hci.h"
#include "transport/ble/l2cap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- L2CAP back to back ---------------------------------------------------------------- */

struct end {
    ockam__l2cap l;
    int opened, closed, sent;
    int ch;
    uint8_t got[70000];
    size_t got_len;
    int sdus;
};

static void
e_opened(void *u, int ch)
{
    ((struct end *)u)->opened++;
    ((struct end *)u)->ch = ch;
}
static void
e_sdu(void *u, int ch, const uint8_t *s, size_t n)
{
    struct end *e = u;
    memcpy(e->got, s, n);
    e->got_len = n;
    e->sdus++;
}
static void
e_sent(void *u, int ch)
{
    ((struct end *)u)->sent++;
}
static void
e_closed(void *u, int ch)
{
    ((struct end *)u)->closed++;
}

static void
end_init(struct end *e, uint16_t mps, uint16_t credits, uint16_t spsm)
{
    memset(e, 0, sizeof *e);
    ockam__l2cap_params p
        = {.rx_mtu = 65535, .rx_mps = mps, .rx_credits = credits, .listen_spsm = spsm};
    ockam__l2cap_cbs cbs
        = {.user = e, .opened = e_opened, .sdu = e_sdu, .sdu_sent = e_sent, .closed = e_closed};
    ockam__l2cap_init(&e->l, &p, &cbs);
}

/* Move frames both ways until neither side has anything; returns frames moved. */
static size_t
shuttle(struct end *a, struct end *b)
{
    uint8_t buf[4096];
    size_t moved = 0;
    for (bool any = true; any;) {
        any = false;
        size_t n;
        while ((n = ockam__l2cap_next_pdu(&a->l, buf, sizeof buf))) {
            assert_int_equal(ockam__l2cap_input(&b->l, buf, n), OCKAM_OK);
            moved++;
            any = true;
        }
        while ((n = ockam__l2cap_next_pdu(&b->l, buf, sizeof buf))) {
            assert_int_equal(ockam__l2cap_input(&a->l, buf, n), OCKAM_OK);
            moved++;
            any = true;
        }
    }
    return moved;
}

/* a (MPS 23, 2 credits) opens a channel to b (listening on SPSM 0x81 with b_mps and
 * b_credits); the set-up frames are exchanged. */
static void
connect_ends(struct end *a, struct end *b, uint16_t b_mps, uint16_t b_credits)
{
    end_init(a, 23, 2, 0);
    end_init(b, b_mps, b_credits, 0x81);
    int ch;
    assert_int_equal(ockam__l2cap_connect(&a->l, 0x81, &ch), OCKAM_OK);
    shuttle(a, b);
}

static void
test_l2cap_channel(void **state)
{
    static struct end a, b;
    connect_ends(&a, &b, 30, 3);
    assert_int_equal(a.opened, 1);
    assert_int_equal(b.opened, 1);
    static uint8_t data[65535 + 7];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13);
    const size_t sizes[] = {0, 1, 20, 21, 22, 23, 100, 1000, 65535};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        assert_int_equal(ockam__l2cap_send_sdu(&a.l, a.ch, data, sizes[k]), OCKAM_OK);
        assert_int_equal(ockam__l2cap_send_sdu(&a.l, a.ch, data, 1), OCKAM_EBUSY);
        shuttle(&a, &b);
        assert_int_equal(b.got_len, sizes[k]);
        assert_memory_equal(b.got, data, sizes[k]);
        assert_int_equal(ockam__l2cap_send_sdu(&b.l, b.ch, data + 7, sizes[k]), OCKAM_OK);
        shuttle(&a, &b);
        assert_int_equal(a.got_len, sizes[k]);
        assert_memory_equal(a.got, data + 7, sizes[k]);
    }
    assert_int_equal(a.sent, (int)(sizeof sizes / sizeof sizes[0]));
    assert_int_equal(ockam__l2cap_disconnect(&a.l, a.ch), OCKAM_OK);
    shuttle(&a, &b);
    assert_int_equal(a.closed, 1);
    assert_int_equal(b.closed, 1);
    ockam__l2cap_fini(&a.l);
    ockam__l2cap_fini(&b.l);
}

/* Without credits returned, the sender stops after `credits` K-frames. */
static void
test_l2cap_credits_pace_the_sender(void **state)
{
    static struct end a, b;
    connect_ends(&a, &b, 23, 4);
    static uint8_t data[1000];
    assert_int_equal(ockam__l2cap_send_sdu(&a.l, a.ch, data, sizeof data), OCKAM_OK);
    uint8_t buf[256];
    size_t frames = 0;
    while (ockam__l2cap_next_pdu(&a.l, buf, sizeof buf))
        frames++;
    assert_int_equal(frames, 4); /* b granted 4 credits */
    ockam__l2cap_fini(&a.l);
    ockam__l2cap_fini(&b.l);
}

/* A receiver that holds its credits stops the sender after the credits it had; releasing
 * returns them and the SDU completes. */
static void
test_l2cap_held_credits_stop_the_sender(void **state)
{
    static struct end a, b;
    connect_ends(&a, &b, 23, 4);
    assert_int_equal(ockam__l2cap_hold_credits(&b.l, b.ch, true), OCKAM_OK);
    static uint8_t data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    assert_int_equal(ockam__l2cap_send_sdu(&a.l, a.ch, data, sizeof data), OCKAM_OK);
    assert_int_equal(shuttle(&a, &b), 4); /* the 4 credits b granted, none returned */
    assert_int_equal(b.sdus, 0);
    assert_true(ockam__l2cap_tx_busy(&a.l, a.ch));
    /* Held again while held: still nothing. */
    assert_int_equal(ockam__l2cap_hold_credits(&b.l, b.ch, true), OCKAM_OK);
    assert_int_equal(shuttle(&a, &b), 0);
    assert_int_equal(ockam__l2cap_hold_credits(&b.l, b.ch, false), OCKAM_OK);
    shuttle(&a, &b);
    assert_int_equal(b.sdus, 1);
    assert_int_equal(b.got_len, sizeof data);
    assert_memory_equal(b.got, data, sizeof data);
    assert_int_equal(a.sent, 1);
    assert_int_equal(ockam__l2cap_hold_credits(&b.l, 3, true), OCKAM_ECLOSED);
    assert_int_equal(ockam__l2cap_hold_credits(&b.l, -1, true), OCKAM_ECLOSED);
    ockam__l2cap_fini(&a.l);
    ockam__l2cap_fini(&b.l);
}

static void
test_l2cap_bad_input(void **state)
{
    static struct end b;
    end_init(&b, 23, 1, 0x81);
    const uint8_t req[] = {14, 0, 5, 0, 0x14, 1, 10, 0, 0x81, 0, 0x40, 0, 100, 0, 23, 0, 1, 0};
    assert_int_equal(ockam__l2cap_input(&b.l, req, sizeof req), OCKAM_OK);
    assert_int_equal(b.opened, 1);
    uint8_t out[64];
    size_t n = ockam__l2cap_next_pdu(&b.l, out, sizeof out);
    assert_int_equal(n, 18);
    uint16_t cid = ockam__get16le(out + 8);
    /* First K-frame announces 2 bytes and carries 3. */
    uint8_t kf[] = {5, 0, 0, 0, 2, 0, 1, 2, 3};
    ockam__put16le(kf + 2, cid);
    assert_int_equal(ockam__l2cap_input(&b.l, kf, sizeof kf), OCKAM_EPROTO);
    assert_string_equal(b.l.error, "SDU longer than announced");
    /* A frame whose header disagrees with its size. */
    const uint8_t bad[] = {9, 0, 5, 0, 1};
    assert_int_equal(ockam__l2cap_input(&b.l, bad, sizeof bad), OCKAM_EPROTO);
    /* An unknown signalling code gets a Command Reject. */
    const uint8_t unk[] = {4, 0, 5, 0, 0x77, 9, 0, 0};
    assert_int_equal(ockam__l2cap_input(&b.l, unk, sizeof unk), OCKAM_OK);
    n = ockam__l2cap_next_pdu(&b.l, out, sizeof out);
    assert_true(n >= 8);
    assert_int_equal(out[4], 0x01);
    assert_int_equal(out[5], 9);
    ockam__l2cap_fini(&b.l);
}

/* ---- HCI against a scripted controller -------------------------------------------------- */

struct ctl {
    uint8_t w[8192];
    size_t wlen;
    int ready, failed, frames, link_errors;
    uint8_t frame[5000];
    size_t frame_len;
};

static void
c_write(void *u, const uint8_t *p, size_t n)
{
    struct ctl *c = u;
    memcpy(c->w + c->wlen, p, n);
    c->wlen += n;
}
static void
c_ready(void *u, const uint8_t a[6], uint16_t mtu, uint16_t pkts)
{
    ((struct ctl *)u)->ready++;
}
static void
c_fail(void *u, const char *why)
{
    ((struct ctl *)u)->failed++;
}
static void
c_link_error(void *u, uint16_t h, const char *why)
{
    ((struct ctl *)u)->link_errors++;
}
static void
c_l2cap(void *u, uint16_t h, const uint8_t *f, size_t n)
{
    struct ctl *c = u;
    memcpy(c->frame, f, n);
    c->frame_len = n;
    c->frames++;
}

static const uint8_t init_answers[] = {0x04, 0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00, 0x04, 0x0E, 0x04,
    0x01, 0x01, 0x0C, 0x00, 0x04, 0x0E, 0x04, 0x01, 0x01, 0x20, 0x00, 0x04, 0x0E, 0x07, 0x01, 0x02,
    0x20, 0x00, 0x1B, 0x00, 0x03, 0x04, 0x0E, 0x0A, 0x01, 0x09, 0x10, 0x00, 1, 2, 3, 4, 5, 6, 0x04,
    0x3E, 0x13, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 1, 2, 3, 4, 5, 6, 6, 0, 0, 0, 0xC8, 0, 0};

static void
hci_up(ockam__hci *h, struct ctl *c)
{
    memset(c, 0, sizeof *c);
    ockam__hci_cbs cbs = {.user = c,
        .write = c_write,
        .ready = c_ready,
        .fail = c_fail,
        .l2cap = c_l2cap,
        .link_error = c_link_error};
    ockam__hci_init(h, &cbs, 100, 0);
    /* One command at a time: only Reset went out. */
    assert_int_equal(c->wlen, 4);
    for (size_t i = 0; i < sizeof init_answers; i++)
        assert_int_equal(ockam__hci_input(h, init_answers + i, 1), OCKAM_OK);
    assert_int_equal(c->ready, 1);
    c->wlen = 0;
}

static void
test_hci_fragments_paced(void **state)
{
    static ockam__hci h;
    struct ctl c;
    hci_up(&h, &c);
    static uint8_t pdu[100];
    ockam__put16le(pdu, 96);
    ockam__put16le(pdu + 2, 0x40);
    assert_int_equal(ockam__hci_acl_send(&h, 0x0001, pdu, sizeof pdu), OCKAM_OK);
    assert_int_equal(c.wlen, 5 + 27); /* one fragment until the controller completes it */
    assert_false(ockam__hci_acl_ready(&h));
    const uint8_t nocp[] = {0x04, 0x13, 0x05, 0x01, 0x01, 0x00, 0x01, 0x00};
    size_t frags = 1;
    while (c.wlen < 4 * 5 + sizeof pdu) {
        assert_int_equal(ockam__hci_input(&h, nocp, sizeof nocp), OCKAM_OK);
        frags++;
    }
    assert_int_equal(frags, 4);
    assert_int_equal(c.w[1] | (c.w[2] << 8), 0x0001);   /* first: PB 00 */
    assert_int_equal(c.w[33] | (c.w[34] << 8), 0x1001); /* then continuations */
    assert_true(ockam__hci_acl_ready(&h));
    /* No completion: that link is given up after the timeout, the controller is not. */
    ockam__hci_tick(&h, 1000);
    assert_int_equal(c.link_errors, 1);
    assert_int_equal(c.failed, 0);
    assert_int_equal(ockam__hci_acl_send(&h, 0x0001, pdu, sizeof pdu), OCKAM_ENOENT);
    ockam__hci_fini(&h);
}

static void
test_hci_reassembly_any_split(void **state)
{
    static ockam__hci h;
    struct ctl c;
    hci_up(&h, &c);
    /* A 10-byte L2CAP frame in two ACL fragments, fed one byte at a time. */
    const uint8_t in[] = {0x02, 0x01, 0x20, 0x03, 0x00, 0x06, 0x00, 0x40, 0x02, 0x01, 0x10, 0x07,
        0x00, 0x00, 1, 2, 3, 4, 5, 6};
    for (size_t i = 0; i < sizeof in; i++)
        assert_int_equal(ockam__hci_input(&h, in + i, 1), OCKAM_OK);
    assert_int_equal(c.frames, 1);
    assert_int_equal(c.frame_len, 10);
    assert_int_equal(c.frame[9], 6);
    /* An unknown packet type ruins the stream. */
    const uint8_t junk[] = {0x09, 0x00};
    assert_int_equal(ockam__hci_input(&h, junk, sizeof junk), OCKAM_EPROTO);
    assert_int_equal(c.failed, 1);
    ockam__hci_fini(&h);
}

/* ---- the bluez controller on a kernel without Bluetooth -------------------------------- */

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

static ockam_err
connect_result(ockam_node *node, const char *name)
{
    struct up u = {0};
    assert_int_equal(ockam_ble_connect(node, name, on_up, &u, NULL), OCKAM_OK);
    assert_int_equal(u.calls, 0);
    uint64_t until = ockam_node_now_ms(node) + 5000;
    while (!u.calls && ockam_node_now_ms(node) < until)
        ockam_node_run_once(node);
    assert_int_equal(u.calls, 1);
    return u.status;
}

static void
test_bluez_without_kernel_bluetooth(void **state)
{
    int fd = socket(31 /* AF_BLUETOOTH */, SOCK_SEQPACKET, 0);
    if (fd >= 0) {
        close(fd);
        print_message("skipped: this kernel has Bluetooth (the bluez controller needs a radio)\n");
        skip();
    }
    ockam_ble_config cfg = OCKAM_BLE_CONFIG_INIT;
    cfg.controller = "bluez";
    cfg.listener_name = "k1";
    ockam_node *node = ockam_node_new();
    assert_int_equal(ockam_ble_init(node, &cfg), OCKAM_ENOTSUP);
    cfg.listener_name = NULL;
    assert_int_equal(ockam_ble_init(node, &cfg), OCKAM_OK);
    assert_true(ockam_ble_ready(node));
    assert_int_equal(connect_result(node, "00:11:22:33:44:55"), OCKAM_ENOTSUP);
    assert_int_equal(connect_result(node, "not-an-address"), OCKAM_EADDRINVAL);
    ockam_node_free(node);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_l2cap_channel),
        cmocka_unit_test(test_l2cap_credits_pace_the_sender),
        cmocka_unit_test(test_l2cap_held_credits_stop_the_sender),
        cmocka_unit_test(test_l2cap_bad_input),
        cmocka_unit_test(test_hci_fragments_paced),
        cmocka_unit_test(test_hci_reassembly_any_split),
        cmocka_unit_test(test_bluez_without_kernel_bluetooth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
