/* Raw HCI over H4 for tests, with no libockam on this path: a peer that drives an emulated
 * controller by hand (to send what a correct host never would), and a fake controller that
 * a node connects to (to send what a correct controller never would). Reads and writes run
 * the registered nodes meanwhile (tests/support/nodes.h). Everything asserts on failure. */
#ifndef OCKAM_TESTS_BLE_RAW_HCI_H
#define OCKAM_TESTS_BLE_RAW_HCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One H4 packet: type 0x01/0x02/0x04, then its bytes (header included). */
typedef struct rh_packet {
    uint8_t type;
    uint8_t data[4 + 65535];
    size_t len;
} rh_packet;

/* Read one packet; false on timeout or EOF. */
bool rh_read(int fd, rh_packet *p, uint64_t timeout_ms);
void rh_write(int fd, uint8_t type, const void *bytes, size_t len);

/* ---- a raw host on the emulator ---------------------------------------------------- */
/* Connect to the emulator, reset, unmask LE events. */
int rh_host_open(const char *controller_spec);
/* Send a command and wait for its Command Complete/Status (other packets are skipped). */
void rh_host_cmd(int fd, uint16_t opcode, const void *params, uint8_t len);
/* LE Create Connection to "XX:XX:XX:XX:XX:XX" (retried until the target advertises);
 * returns the handle. */
uint16_t rh_host_connect(int fd, const char *bdaddr_text);
/* Send one L2CAP frame (CID + payload) in one ACL packet. */
void rh_host_l2cap(int fd, uint16_t handle, uint16_t cid, const void *payload, size_t len);
/* Wait for Disconnection Complete of handle (skipping other packets). */
bool rh_host_wait_disconnected(int fd, uint16_t handle, uint64_t timeout_ms);
/* Wait for an L2CAP frame on cid; copies its payload; returns its length or -1. */
long rh_host_wait_l2cap(int fd, uint16_t cid, uint8_t *out, size_t cap, uint64_t timeout_ms);

/* ---- a fake controller ------------------------------------------------------------- */
/* Listen on a fresh Unix socket; *spec gets "unix:PATH" (static storage). */
int rh_ctrl_listen(const char **spec);
/* Accept the node's connection (run the nodes meanwhile). */
int rh_ctrl_accept(int lfd);
/* Answer the host's initialisation commands (Reset ... Read BD_ADDR) correctly. */
void rh_ctrl_serve_init(int fd);
void rh_ctrl_close(int lfd);

#endif
