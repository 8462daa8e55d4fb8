/* The transport conformance suite (tests/conformance/transport_suite.h) over BLE, on BlueZ's
 * emulated controllers. "listen" gives node B a listener name (it advertises it); "connect"
 * opens a link from node A to that name and reports the link's sender address.
 *
 * The largest message: both nodes use max_message = 1 MiB, so the suite sends 1 MiB (split
 * over SDUs) and 1 MiB + 1 byte, which the sender refuses while the link stays up.
 * Refused connection: a name nobody advertises fails after connect_timeout_ms.
 * Bad frame from a raw client: BLE has no socket to the node; the raw client is a raw HCI
 * host on its own emulated controller (tests/ble/raw_hci.h, no libockam on that path). It
 * connects to the listening node, opens an LE credit-based channel and sends an SDU that is
 * no TransportMessage; the node must disconnect it. The emulator's peripheral serves one
 * central at a time, so the existing link is closed first and only a new one is checked
 * afterwards (raw_bad_frame_alone). (test_ble_bad_input.c covers other bad input.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ble_util.h"
#include "conformance/transport_suite.h"
#include "core/codec.h"
#include "raw_hci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BODY (1024u * 1024u)

static void
init(ockam_node *node, const char *listener_name)
{
    ockam_ble_config cfg = bt_config(listener_name);
    cfg.max_message = MAX_BODY;
    ockam_err err = ockam_ble_init(node, &cfg);
    assert_true(err == OCKAM_OK || (err == OCKAM_EEXIST && !listener_name));
}

static ockam_err
ble_listen(ockam_node *node, void *ctx, char *addr, size_t cap, void **listener)
{
    const char *name = bt_name("ts");
    init(node, name);
    snprintf(addr, cap, "%s", name);
    *listener = node;
    return OCKAM_OK;
}

static void
ble_allow(ockam_node *node, void *listener, const char *address)
{
    bt_allow(node, address);
}

struct pending {
    ts_connected_cb done;
    void *arg;
};

static void
on_up(ockam_ble_link *link, ockam_err status, void *arg)
{
    struct pending *p = arg;
    p->done(status == OCKAM_OK ? ockam_ble_link_address(link) : NULL, status, p->arg);
    free(p);
}

static ockam_err
ble_connect(ockam_node *node, void *ctx, const char *addr, ts_connected_cb done, void *arg)
{
    init(node, NULL);
    struct pending *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->done = done;
    p->arg = arg;
    ockam_err err = ockam_ble_connect(node, addr, on_up, p, NULL);
    if (err)
        free(p);
    return err;
}

static void
ble_dead_address(void *ctx, char *addr, size_t cap)
{
    snprintf(addr, cap, "%s", bt_name("nobody"));
}

static void
ble_close(ockam_node *node, const char *local_addr, ts_closed_cb done, void *arg)
{
    ockam_ble_link *link = ockam_ble_link_find(node, local_addr);
    assert_non_null(link);
    ockam_ble_link_close(link, done, arg);
}

/* The raw host opens a channel on the node's SPSM; returns the node's CID. */
static uint16_t
raw_open_channel(int raw, uint16_t h)
{
    /* LE Credit Based Connection Request: SPSM 0x0081, our CID 0x0040, MTU 512, MPS 100,
     * 5 credits. */
    const uint8_t req[] = {0x14, 0x01, 10, 0, 0x81, 0x00, 0x40, 0x00, 0x00, 0x02, 100, 0, 5, 0};
    rh_host_l2cap(raw, h, 0x0005, req, sizeof req);
    uint8_t rsp[64];
    long n = rh_host_wait_l2cap(raw, 0x0005, rsp, sizeof rsp, BT_WAIT_MS);
    if (n != 14 || rsp[0] != 0x15 || (rsp[12] | (rsp[13] << 8)) != 0)
        return 0;
    return (uint16_t)(rsp[4] | (rsp[5] << 8));
}

static void
count_link(ockam_ble_link *link, void *arg)
{
    ++*(size_t *)arg;
}

static bool
no_links(void *node)
{
    size_t n = 0;
    ockam_ble_link_each(node, count_link, &n);
    return n == 0;
}

static void
close_link(ockam_ble_link *link, void *arg)
{
    ockam_ble_link **all = arg;
    for (int i = 0; i < 8; i++) {
        if (!all[i]) {
            all[i] = link;
            return;
        }
    }
}

static bool
ble_raw_bad_frame(ockam_node *node, void *ctx, void *listener, const char *addr)
{
    /* The emulator's peripheral serves one central at a time: A's link goes first. */
    ockam_ble_link *links[8] = {0};
    ockam_ble_link_each(node, close_link, links);
    for (int i = 0; i < 8 && links[i]; i++)
        ockam_ble_link_close(links[i], NULL, NULL);
    if (!tn_wait(no_links, node, BT_WAIT_MS))
        return false;
    int raw = rh_host_open(bv_controller());
    uint16_t h = rh_host_connect(raw, ockam_ble_local_address(node));
    uint16_t cid = raw_open_channel(raw, h);
    bool dropped = false;
    if (cid) {
        /* One K-frame holding a whole 3-byte SDU that is no TransportMessage (version 7). */
        const uint8_t kframe[] = {3, 0, 0x07, 0x00, 0x00};
        rh_host_l2cap(raw, h, cid, kframe, sizeof kframe);
        dropped = rh_host_wait_disconnected(raw, h, BT_WAIT_MS);
    }
    close(raw);
    return dropped;
}

static size_t
ble_body_size(const ockam_msg *msg)
{
    return ockam__bare_msg_size(msg, 1);
}

int
main(void)
{
    BT_REQUIRE_BTVIRT();
    ts_transport t = {
        .name = "ble",
        .max_body = MAX_BODY,
        .body_size = ble_body_size,
        .listen = ble_listen,
        .allow = ble_allow,
        .connect = ble_connect,
        .dead_address = ble_dead_address,
        .close = ble_close,
        .raw_bad_frame = ble_raw_bad_frame,
        .raw_bad_frame_alone = true,
    };
    return ts_run(&t);
}
