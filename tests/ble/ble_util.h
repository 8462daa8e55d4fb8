/* BLE test helpers: nodes with the BLE transport on the emulator's controllers. Everything
 * asserts on failure. Threading: the test thread (tests/support/nodes.h). */
#ifndef OCKAM_TESTS_BLE_UTIL_H
#define OCKAM_TESTS_BLE_UTIL_H

#include "btvirt_harness.h"
#include "nodes.h"
#include "ockam/ockam.h"

#define BT_WAIT_MS 20000
#define BT_HEARTBEAT_MS 100
#define BT_TIMEOUT_MS 1000

/* Exit code ctest reads as "skipped". */
#define BT_SKIP 77

/* Return BT_SKIP from main with a clear message when btvirt is not installed. */
#define BT_REQUIRE_BTVIRT()                                                                        \
    do {                                                                                           \
        if (!bv_controller()) {                                                                    \
            printf("SKIPPED: btvirt (Debian bluez-test-tools) is not installed\n");                \
            return BT_SKIP;                                                                        \
        }                                                                                          \
    } while (0)

/* The test configuration: the emulator's controller, short heartbeat and timeout. */
ockam_ble_config bt_config(const char *listener_name);
/* Register BLE on node with cfg and wait until the controller is ready. */
void bt_init(ockam_node *node, const ockam_ble_config *cfg);
/* A new node with BLE (listener name or NULL) and echo running; waits until ready. */
ockam_node *bt_node(const char *listener_name);
/* Let messages arriving on node's BLE listener reach address. */
void bt_allow(ockam_node *node, const char *address);
/* Connect to name and wait until the link is up. */
ockam_ble_link *bt_connect(ockam_node *node, const char *name);
/* A name nobody else uses in this process ("<prefix><n>"). */
const char *bt_name(const char *prefix);

#endif
