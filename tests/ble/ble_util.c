/* See ble_util.h. */
#include "ble_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdio.h>

ockam_ble_config
bt_config(const char *listener_name)
{
    ockam_ble_config cfg = OCKAM_BLE_CONFIG_INIT;
    cfg.controller = bv_controller();
    assert_non_null(cfg.controller);
    cfg.listener_name = listener_name;
    cfg.heartbeat_ms = BT_HEARTBEAT_MS;
    cfg.timeout_ms = BT_TIMEOUT_MS;
    cfg.connect_timeout_ms = 5000;
    return cfg;
}

static bool
ready(void *arg)
{
    return ockam_ble_ready(arg);
}

void
bt_init(ockam_node *node, const ockam_ble_config *cfg)
{
    assert_int_equal(ockam_ble_init(node, cfg), OCKAM_OK);
    assert_true(tn_wait(ready, node, BT_WAIT_MS));
}

ockam_node *
bt_node(const char *listener_name)
{
    ockam_node *node = tn_node_new();
    ockam_ble_config cfg = bt_config(listener_name);
    bt_init(node, &cfg);
    assert_int_equal(ockam_echo_start(node, NULL, NULL), OCKAM_OK);
    if (listener_name)
        bt_allow(node, "echo");
    return node;
}

void
bt_allow(ockam_node *node, const char *address)
{
    assert_int_equal(
        ockam_flow_add_consumer(node, address, ockam_ble_listener_flow_id(node)), OCKAM_OK);
}

struct up {
    int calls;
    ockam_err status;
};

static void
on_up(ockam_ble_link *link, ockam_err status, void *arg)
{
    struct up *u = arg;
    u->calls++;
    u->status = status;
}

static bool
up_done(void *arg)
{
    return ((struct up *)arg)->calls > 0;
}

ockam_ble_link *
bt_connect(ockam_node *node, const char *name)
{
    struct up u = {0};
    ockam_ble_link *link = NULL;
    assert_int_equal(ockam_ble_connect(node, name, on_up, &u, &link), OCKAM_OK);
    assert_true(tn_wait(up_done, &u, BT_WAIT_MS));
    assert_int_equal(u.status, OCKAM_OK);
    return link;
}

const char *
bt_name(const char *prefix)
{
    static unsigned n;
    static char buf[OCKAM_BLE_MAX_NAME + 1];
    snprintf(buf, sizeof buf, "%s%u", prefix, ++n);
    return buf;
}
