/* BLE transport (address type 4): our own LE host -- HCI, L2CAP LE credit-based channels --
 * driving one controller per node (docs/wire.md §16; docs/architecture.md §11).
 *
 * Controllers (ockam_ble_config.controller):
 *   unix:PATH               H4 over a Unix stream socket, e.g. BlueZ's emulator
 *                           (`btvirt -s` serves /tmp/bt-server-le); what the tests use
 *   serial:/dev/ttyX[:BAUD] H4 over a UART (HCI-firmware radios); untested here
 *   hci-user:N              Linux HCI_CHANNEL_USER on hciN; untested here (no kernel BT)
 *   bluez                   the kernel's own host stack: L2CAP LE credit-based sockets
 *                           (SOCK_SEQPACKET, BT_MODE_LE_FLOWCTL). Peers are named by device
 *                           address ("XX:XX:XX:XX:XX:XX", "/random" suffix for random ones);
 *                           advertising is BlueZ's job. Untested here (no kernel BT): on this
 *                           kernel it reports OCKAM_ENOTSUP.
 *
 * Model: a node with a listener name advertises it (legacy advertising, Complete Local Name)
 * and accepts L2CAP LE credit-based channels on the SPSM. A message whose first onward
 * address is 4#NAME makes the node scan for NAME, connect (retrying until the peer
 * advertises, up to connect_timeout_ms), open a channel and send; messages queue meanwhile.
 * Each link has a sender worker at a random 32-hex address, used in routes like a TCP
 * connection's; a message arriving on a link gets that address prepended to its return route.
 *
 * Wire: each Ockam message is one SDU holding the BARE TransportMessage (version 1), the
 * encoding Ockam's BLE transport uses. A message larger than the peer's SDU MTU is sent as
 * an 8-byte SDU with its length (u64 big-endian; first byte 0, which no TransportMessage
 * starts with) followed by SDUs carrying the encoding in order. Heartbeat: the empty
 * TransportMessage `01 00 00 00`, sent when the link has been quiet for heartbeat_ms; a link
 * that hears nothing (data or heartbeat) for timeout_ms is closed, which is how a peer that
 * vanished without a disconnection is noticed.
 *
 * Backpressure: the peer's credits pace the sender; messages wait in a per-link queue of at
 * most max_queue bytes; a message that does not fit is refused (OCKAM_EBUSY to a local
 * sender, counted in stats.dropped, one log line per congestion episode).
 * Receiving, a link stops returning credits while the messages it delivered and that are
 * still held (mailboxes, workers, queues downstream) exceed max_queue bytes, and returns
 * them below half of it: a slow consumer stops the peer's sender instead of piling up
 * messages (docs/wire.md §16, L2CAP).
 *
 * Security rules (as TCP, see ockam/tcp.h): messages arriving on a link have the origin
 * {producer = the link's flow id, spawner = the listener's flow id for accepted links}, so
 * they reach only consumers of those ids; the local worker that sends through a link becomes
 * a consumer of its flow id; link senders accept any origin; a message from another node
 * makes this node connect to 4#NAME only when NAME is in allowed_outgoing ("*": any).
 *
 * Memory: a link holds at most max_queue bytes waiting to go out, one SDU being reassembled
 * (64 KiB) and one message split over SDUs being reassembled (up to max_message), so a node
 * with OCKAM_BLE_MAX_LINKS links accepted from hostile centrals holds at most about
 * 15 x (max_message + 64 KiB) for reassembly: lower max_message where that matters.
 *
 * Not supported: LE encryption/pairing, extended advertising, more than
 * OCKAM_BLE_MAX_LINKS links per node. With BlueZ's emulator (5.66) a peripheral serves one
 * central at a time: the emulator tells a peripheral the central's connection handle, which
 * collides when a second central connects, and a reused handle retires the link it belonged
 * to (on real controllers handles are unique among live connections).
 *
 * Threading: loop thread only. Ownership: links belong to the node; a link pointer is valid
 * until its close completes or the node is freed. Strings from accessors live as long as
 * the link (or the node). */
#ifndef OCKAM_BLE_H
#define OCKAM_BLE_H

#include "ockam/node.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OCKAM_BLE_MAX_MESSAGE (16u * 1024u * 1024u)
/* Advertising data holds 31 bytes: flags (3) + name header (2) + the name. */
#define OCKAM_BLE_MAX_NAME 26
#define OCKAM_BLE_MAX_LINKS 15
/* Our LE PSM (dynamic range 0x0080-0x00FF). */
#define OCKAM_BLE_DEFAULT_SPSM 0x0081

typedef struct ockam_ble_link ockam_ble_link;

typedef struct ockam_ble_config {
    const char *controller;    /* required: "unix:PATH", "serial:DEV[:BAUD]", "hci-user:N",
                                  "bluez" */
    const char *listener_name; /* advertise and accept links under this name; NULL: none */
    uint16_t spsm;
    uint32_t heartbeat_ms;       /* quiet time before a heartbeat is sent */
    uint32_t timeout_ms;         /* silence after which a link is closed */
    uint32_t connect_timeout_ms; /* scan + connect + channel, for one link */
    uint32_t command_timeout_ms; /* the controller must answer within this */
    size_t max_message;          /* largest encoded message sent or accepted (<= 16 MiB) */
    size_t max_queue;            /* bytes waiting per link */
    uint16_t credits;            /* K-frame credits we give each channel */
    const char *const *allowed_outgoing;
    size_t allowed_outgoing_count;
} ockam_ble_config;

#define OCKAM_BLE_CONFIG_INIT                                                                      \
    {                                                                                              \
        .controller = NULL, .listener_name = NULL, .spsm = OCKAM_BLE_DEFAULT_SPSM,                 \
        .heartbeat_ms = 1000, .timeout_ms = 5000, .connect_timeout_ms = 10000,                     \
        .command_timeout_ms = 3000, .max_message = OCKAM_BLE_MAX_MESSAGE,                          \
        .max_queue = OCKAM_BLE_MAX_MESSAGE + 65536u, .credits = 16, .allowed_outgoing = NULL,      \
        .allowed_outgoing_count = 0                                                                \
    }

/* Register the transport and open the controller (synchronously; its initialisation then
 * runs on the loop). OCKAM_EEXIST if registered, OCKAM_EINVAL for a bad config (no
 * controller, name too long), OCKAM_EADDRINVAL for a malformed controller spec,
 * OCKAM_ECONNREFUSED if nothing answers there, OCKAM_ENOTSUP for an unavailable backend. */
OCKAM_API ockam_err ockam_ble_init(ockam_node *node, const ockam_ble_config *cfg);
/* True once the controller is initialised (and advertising, with a listener name). */
OCKAM_API bool ockam_ble_ready(ockam_node *node);
/* True after the controller failed (one log line said why); nothing works any more. */
OCKAM_API bool ockam_ble_controller_down(ockam_node *node);
/* The controller's public address "00:AA:01:01:00:42" (empty before ready). */
OCKAM_API const char *ockam_ble_local_address(ockam_node *node);
/* The listener name, or NULL. */
OCKAM_API const char *ockam_ble_listener_name(ockam_node *node);
/* Spawner flow id of accepted links: make workers consumers of it. */
OCKAM_API ockam_flow_id ockam_ble_listener_flow_id(ockam_node *node);

typedef void (*ockam_ble_connect_cb)(ockam_ble_link *link, ockam_err status, void *arg);
/* Open (or reuse) a link to NAME. The link and its sender address exist at once; messages
 * sent to it queue until it is up. done (may be NULL) runs once, never inside this call:
 * OCKAM_OK when the channel is up (for a link already up, on the transport's next tick),
 * OCKAM_ETIMEDOUT if NAME could not be reached in time (the link is then closed),
 * OCKAM_ECLOSED if it closed first. Several callers may wait for one link. */
OCKAM_API ockam_err ockam_ble_connect(
    ockam_node *node, const char *name, ockam_ble_connect_cb done, void *arg, ockam_ble_link **out);

/* A link's counters, read with ockam_ble_link_stats(). */
struct ockam_ble_stats {
    uint64_t messages_in, messages_out; /* routed in; fully handed to the controller */
    uint64_t sdus_in, sdus_out, heartbeats_in, heartbeats_out;
    uint64_t dropped; /* refused (queue full, too large) or lost when the link closed */
    size_t queued_bytes;
};

OCKAM_API const char *ockam_ble_link_address(const ockam_ble_link *link);
/* The peer's name (outgoing) or its device address (accepted). */
OCKAM_API const char *ockam_ble_link_peer(const ockam_ble_link *link);
OCKAM_API bool ockam_ble_link_is_outgoing(const ockam_ble_link *link);
/* "scanning", "connecting", "opening", "up", "closing". */
OCKAM_API const char *ockam_ble_link_state(const ockam_ble_link *link);
OCKAM_API ockam_flow_id ockam_ble_link_flow_id(const ockam_ble_link *link);
OCKAM_API void ockam_ble_link_stats(const ockam_ble_link *link, struct ockam_ble_stats *out);

typedef void (*ockam_ble_closed_cb)(uint64_t dropped, void *arg);
/* Close after the messages already sent to the link went out (bounded by timeout_ms); done
 * (may be NULL) gets how many were dropped. The sender address goes once the messages
 * already in its mailbox are taken in. */
OCKAM_API void ockam_ble_link_close(ockam_ble_link *link, ockam_ble_closed_cb done, void *arg);
/* Find by sender address or peer; NULL if none. */
OCKAM_API ockam_ble_link *ockam_ble_link_find(ockam_node *node, const char *address_or_peer);
/* Calls fn for every link (fn must not close links). */
OCKAM_API void ockam_ble_link_each(
    ockam_node *node, void (*fn)(ockam_ble_link *link, void *arg), void *arg);

#ifdef __cplusplus
}
#endif
#endif
