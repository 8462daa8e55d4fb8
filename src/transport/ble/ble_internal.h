/* BLE transport internals shared by ble.c (controller, discovery, connections) and
 * ble_link.c (links: sender workers, SDU framing, heartbeats). Loop thread only. */
#ifndef OCKAM_TRANSPORT_BLE_INTERNAL_H
#define OCKAM_TRANSPORT_BLE_INTERNAL_H

#include "node/policy.h"
#include "node/transport.h"
#include "ockam/ble.h"
#include "transport/ble/hci.h"
#include "transport/ble/kernel_l2cap.h"
#include "transport/ble/l2cap.h"
#include "transport/ble/link.h"

#define BLE_NAME_CACHE 16

enum ble_link_state {
    BLE_SCANNING,   /* outgoing: waiting for an advertisement of the name */
    BLE_CONNECTING, /* outgoing: address known, LE Create Connection (re)tried */
    BLE_OPENING,    /* ACL up, L2CAP channel being opened */
    BLE_UP,
    BLE_DRAINING, /* closing after the queue empties */
    BLE_DEAD,     /* torn down, waiting to be freed */
};

struct ble_out {
    struct ble_out *next;
    size_t len;
    uint8_t data[];
};

struct ockam__ble;

struct ble_waiter {
    struct ble_waiter *next;
    ockam_ble_connect_cb done;
    void *arg;
};

/* A socket of the `bluez` controller watched by the loop; freed (and the socket closed) by
 * its close callback, so it may outlive the link that used it. */
struct ble_kpoll {
    uv_poll_t poll;
    int fd;
};

struct ockam_ble_link {
    struct ockam__ble *t;
    struct ockam_ble_link *next;
    enum ble_link_state state;
    bool outgoing;
    char addr[OCKAM_RANDOM_ADDR_LEN + 1];
    char peer[OCKAM_BLE_MAX_NAME + 1];
    ockam_worker *sender;
    struct ockam__policy_flow flow; /* flow.id: producer id of what arrives here */
    ockam_flow_id spawner;
    /* controller side */
    bool has_handle;
    uint16_t handle;
    uint8_t peer_type, peer_addr[6];
    bool addr_known;
    uint64_t deadline, next_retry;
    uint32_t retry_ms;
    ockam__l2cap l2;
    int ch;
    /* the `bluez` controller: one kernel socket per link instead of hci/l2cap */
    struct ble_kpoll *kp;
    bool kconnecting, ktx_busy, kwant_write;
    const uint8_t *ktx;
    size_t ktx_len, kmtu;
    uint8_t *krx;
    /* sending */
    struct ble_out *q_head, *q_tail, *cur;
    size_t queued, cur_off;
    uint8_t len_sdu[8];
    bool len_sent, hb_pending, congested;
    uint64_t last_rx, last_tx;
    /* receiving a message split over SDUs (into a chunk the message then borrows from) */
    struct ockam__chunk *big;
    size_t big_len, big_want;
    /* Receive-side backpressure: one chunk reference per message delivered whose bytes a
     * consumer may still hold (a mailbox, a worker, a write queue downstream). rx_bytes
     * counts them; above max_queue the channel's credits are withheld (rx_paused) until
     * consumers have let go of all but half of it. */
    struct ockam__chunk **rx_held;
    size_t rx_nheld, rx_capheld, rx_bytes;
    bool rx_paused;
    /* completions */
    struct ble_waiter *waiters; /* ockam_ble_connect() callers waiting for the link */
    ockam_ble_closed_cb on_closed;
    void *on_closed_arg;
    ockam_msg *close_marker;
    struct ockam_ble_stats stats;
};

struct ble_name {
    char name[OCKAM_BLE_MAX_NAME + 1];
    uint8_t type, addr[6];
};

struct ockam__ble {
    ockam_node *node;
    ockam_ble_config cfg;
    char *controller, *listener_name;
    ockam__ble_link io;
    ockam__hci hci;
    bool ready, down, shutting_down, pumping, repump;
    bool kernel; /* controller "bluez": kernel sockets, no HCI */
    struct ble_kpoll *klisten;
    bool advertising, scanning, scan_busy, creating;
    char local[18];
    uv_timer_t tick;
    bool tick_started;
    uv_check_t rx_check; /* runs after each loop turn while some link withholds credits */
    bool rx_check_init;
    ockam_flow_id listener_flow;
    ockam_ble_link *links, *dead;
    ockam_ble_link *pump_next;
    struct ble_name names[BLE_NAME_CACHE];
    unsigned nnames;
    uint8_t pdu[OCKAM__HCI_MAX_PDU];
};

/* ble.c */
uint64_t ockam__ble_now(struct ockam__ble *t);
void ockam__ble_pump(struct ockam__ble *t);
void ockam__ble_discover(struct ockam__ble *t);
void ockam__ble_disconnect(struct ockam__ble *t, uint16_t handle);
void ockam__ble_cancel_connect(struct ockam__ble *t);
/* Start watching links that withhold credits (each loop turn, until none does). */
void ockam__ble_watch_rx(struct ockam__ble *t);

/* ble_link.c */
ockam_ble_link *ockam__ble_link_new(struct ockam__ble *t, bool outgoing, const char *peer);
ockam_err ockam__ble_link_send(ockam_ble_link *k, ockam_msg *msg);
/* Close now: queued messages are dropped and counted; one log line when why != NULL. */
void ockam__ble_link_teardown(ockam_ble_link *k, ockam_err status, const char *why);
void ockam__ble_link_free(ockam_ble_link *k);
void ockam__ble_link_channel_up(ockam_ble_link *k);
void ockam__ble_link_feed(ockam_ble_link *k);
void ockam__ble_link_tick(ockam_ble_link *k, uint64_t now);
/* A link that withholds credits: give them back if its consumers have caught up (queued as
 * signalling: the caller pumps). Returns whether it still withholds. */
bool ockam__ble_link_rx_check(ockam_ble_link *k);
void ockam__ble_link_init_l2cap(ockam_ble_link *k);
/* Tell every waiter of k (in the order they came) and forget them. */
void ockam__ble_link_report(ockam_ble_link *k, ockam_err status);
/* The `bluez` controller: give the link its kernel socket (connecting: completion pending). */
ockam_err ockam__ble_link_kernel_attach(ockam_ble_link *k, int fd, bool connecting);
/* Send what the link has, as far as the socket takes it. */
void ockam__ble_link_kernel_pump(ockam_ble_link *k);
/* Close a kernel socket poll (asynchronously; the socket is closed with it). */
void ockam__ble_kpoll_close(struct ble_kpoll *kp);

#endif
