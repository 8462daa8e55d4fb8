/* The transport conformance suite (tests/conformance/transport_suite.h) over BLE, on BlueZ's
 * emulated controllers. "listen" gives node B a listener name (it advertises it); "connect"
 * opens a link from node A to that name and reports the link's sender address.
 *
 * The largest message: both nodes use max_message = 1 MiB, so the suite sends 1 MiB (split
 * over SDUs) and 1 MiB + 1 byte, which the sender refuses while the link stays up.
 * Refused connection: a name nobody advertises fails after connect_timeout_ms.
 * Bad frame from a raw client: BLE has no raw socket to the node; test_ble_bad_input.c
 * drives a raw HCI controller of the emulator against a node instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ble_util.h"
#include "conformance/transport_suite.h"
#include "core/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    };
    return ts_run(&t);
}
