/* A sans-IO LE host controller interface: HCI commands and events, ACL fragmentation and
 * reassembly, connection handles, controller buffer credits. Bytes from the controller go
 * in (H4 framing: 01 command, 02 ACL, 04 event), whole H4 packets come out through
 * cbs.write, and what happened is reported through the other callbacks. No clock, no I/O:
 * the owner calls ockam__hci_tick() with the time so that a controller that stops answering
 * is noticed (docs/wire.md §16).
 *
 * Flow rules (they also keep BlueZ's emulator happy): one command in flight (the next is
 * sent when the controller answers the previous one), one outgoing L2CAP PDU at a time,
 * its ACL fragments sent one by one as the controller's Number Of Completed Packets events
 * return buffer credits (never more than min(controller buffers, 1) outstanding).
 *
 * Bad input: an H4 packet type we do not know or an event too short for its kind makes the
 * controller stream unusable: fail() is called once and the object refuses everything
 * after. ACL data for a handle we do not know is dropped (one log line). An L2CAP frame on a
 * known handle that breaks the rules (a continuation without a start, a length above
 * max_pdu) is reported through link_error(); the owner closes that link only.
 *
 * Ownership: the struct is the caller's (embed it); buffers passed to callbacks are borrowed
 * for the duration of the call. Threading: one thread (the node's loop). Callbacks may call
 * back into this object except ockam__hci_input (no re-entrant input). */
#ifndef OCKAM_TRANSPORT_BLE_HCI_H
#define OCKAM_TRANSPORT_BLE_HCI_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCKAM__HCI_MAX_CONNS 16
#define OCKAM__HCI_CMD_QUEUE 16
#define OCKAM__HCI_MAX_PARAMS 255
/* Largest L2CAP frame (basic header included) accepted or sent on a connection. */
#define OCKAM__HCI_MAX_PDU 4096u

static inline uint16_t
ockam__get16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline void
ockam__put16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* Opcodes (OGF << 10 | OCF). */
#define OCKAM__HCI_OP_DISCONNECT 0x0406
#define OCKAM__HCI_OP_SET_EVENT_MASK 0x0C01
#define OCKAM__HCI_OP_RESET 0x0C03
#define OCKAM__HCI_OP_READ_BUFFER_SIZE 0x1005
#define OCKAM__HCI_OP_READ_BD_ADDR 0x1009
#define OCKAM__HCI_OP_LE_SET_EVENT_MASK 0x2001
#define OCKAM__HCI_OP_LE_READ_BUFFER_SIZE 0x2002
#define OCKAM__HCI_OP_LE_SET_ADV_PARAMS 0x2006
#define OCKAM__HCI_OP_LE_SET_ADV_DATA 0x2008
#define OCKAM__HCI_OP_LE_SET_ADV_ENABLE 0x200A
#define OCKAM__HCI_OP_LE_SET_SCAN_PARAMS 0x200B
#define OCKAM__HCI_OP_LE_SET_SCAN_ENABLE 0x200C
#define OCKAM__HCI_OP_LE_CREATE_CONN 0x200D
#define OCKAM__HCI_OP_LE_CREATE_CONN_CANCEL 0x200E

typedef struct ockam__hci_cbs {
    void *user;
    /* One whole H4 packet to write to the controller. */
    void (*write)(void *user, const uint8_t *pkt, size_t len);
    /* Initialisation finished: the controller's public address and ACL buffer size. */
    void (*ready)(void *user, const uint8_t bdaddr[6], uint16_t acl_mtu, uint16_t acl_pkts);
    /* A command the owner queued completed (Command Complete, or Command Status with an
     * error; a successful Command Status is not reported). */
    void (*cmd_done)(void *user, uint16_t opcode, uint8_t status);
    /* One legacy advertising report. */
    void (*adv_report)(
        void *user, uint8_t addr_type, const uint8_t addr[6], const uint8_t *data, size_t len);
    /* LE Connection Complete (status != 0: the attempt failed). role 0 central, 1 peripheral. */
    void (*conn_complete)(void *user, uint8_t status, uint16_t handle, uint8_t role,
        uint8_t peer_type, const uint8_t peer[6]);
    void (*disconnected)(void *user, uint16_t handle, uint8_t reason);
    /* A complete L2CAP frame (basic header included) on a known handle. */
    void (*l2cap)(void *user, uint16_t handle, const uint8_t *frame, size_t len);
    /* The outgoing PDU went to the controller: the owner may hand over the next one. */
    void (*acl_idle)(void *user);
    /* One connection broke the ACL rules (why is a static string). */
    void (*link_error)(void *user, uint16_t handle, const char *why);
    /* The controller is unusable (why is a static string); called once. */
    void (*fail)(void *user, const char *why);
} ockam__hci_cbs;

struct ockam__hci_cmd {
    uint16_t opcode;
    uint8_t len;
    uint8_t params[OCKAM__HCI_MAX_PARAMS];
};

struct ockam__hci_conn {
    bool used;
    uint16_t handle;
    uint16_t in_flight; /* our ACL packets the controller has not completed */
    uint8_t *rx;        /* reassembly of one L2CAP frame (OCKAM__HCI_MAX_PDU bytes) */
    size_t rx_len, rx_want;
};

typedef struct ockam__hci {
    ockam__hci_cbs cbs;
    bool failed, ready;
    int init_step;
    /* H4 input parser */
    uint8_t in[4 + 65535];
    size_t in_len, in_want;
    /* commands */
    struct ockam__hci_cmd cmds[OCKAM__HCI_CMD_QUEUE];
    unsigned cmd_head, cmd_count;
    bool cmd_busy;
    uint16_t cmd_opcode;
    uint64_t cmd_deadline;
    uint32_t cmd_timeout_ms;
    /* ACL output: one PDU, fragmented */
    uint16_t acl_mtu, acl_pkts, acl_credits;
    uint8_t out[OCKAM__HCI_MAX_PDU];
    size_t out_len, out_off;
    uint16_t out_handle;
    bool out_busy;
    uint64_t acl_deadline; /* completion of the outstanding fragment expected by then */
    uint64_t now;
    uint8_t bdaddr[6];
    struct ockam__hci_conn conns[OCKAM__HCI_MAX_CONNS];
} ockam__hci;

/* Prepare h and send the initialisation commands (Reset, event masks, buffer size, address):
 * the first one is written at once. cmd_timeout_ms bounds every answer (and every ACL
 * completion); now_ms is the owner's clock. */
void ockam__hci_init(
    ockam__hci *h, const ockam__hci_cbs *cbs, uint32_t cmd_timeout_ms, uint64_t now_ms);
/* Free the reassembly buffers. */
void ockam__hci_fini(ockam__hci *h);
/* Bytes from the controller (any split). OCKAM_EPROTO once the stream is unusable. */
ockam_err ockam__hci_input(ockam__hci *h, const uint8_t *buf, size_t len);
/* Queue a command. OCKAM_EBUSY when the queue is full, OCKAM_ECLOSED after failure. */
ockam_err ockam__hci_command(ockam__hci *h, uint16_t opcode, const void *params, uint8_t len);
/* True when a PDU may be handed over now. */
bool ockam__hci_acl_ready(const ockam__hci *h);
/* Send one L2CAP frame (basic header included, <= OCKAM__HCI_MAX_PDU) on a known handle.
 * Copied. OCKAM_EBUSY if a PDU is still going out, OCKAM_ENOENT for an unknown handle. */
ockam_err ockam__hci_acl_send(ockam__hci *h, uint16_t handle, const uint8_t *frame, size_t len);
/* Forget a handle (after Disconnection Complete, or when we give it up). */
void ockam__hci_forget(ockam__hci *h, uint16_t handle);
/* Advance the clock. A command unanswered for cmd_timeout_ms: fail(). An ACL packet not
 * completed in that time: that connection is forgotten and reported through link_error(). */
void ockam__hci_tick(ockam__hci *h, uint64_t now_ms);

#endif
