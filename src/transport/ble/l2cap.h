/* Sans-IO L2CAP for one LE ACL connection: the LE signalling channel (CID 0x0005) and LE
 * credit-based connection-oriented channels -- credits, MTU/MPS, SDU segmentation and
 * reassembly, disconnection (docs/wire.md §16).
 *
 * Input: whole L2CAP frames (basic header included) as ockam__hci reassembled them.
 * Output: the owner pulls frames with ockam__l2cap_next_pdu() whenever the ACL path is free;
 * signalling goes first, then K-frames of channels that have an SDU to send and credits. So
 * nothing here queues without bound: one SDU per channel is being sent at a time, and at
 * most OCKAM__L2CAP_SIG_QUEUE signalling frames wait.
 *
 * Bad input: malformed signalling, a K-frame larger than our MPS, without credit, an SDU
 * longer than our MTU or a K-frame that goes past the SDU length its first frame announced
 * make ockam__l2cap_input() return an error, with the reason in `error`; the owner closes
 * the whole ACL link (one log line). Unknown signalling codes get a Command Reject, as the
 * specification asks; frames on fixed channels other than signalling are ignored.
 *
 * Ownership: the struct is the caller's. An SDU given to ockam__l2cap_send_sdu() is borrowed
 * until the sdu_sent callback. Buffers passed to callbacks are borrowed for the call.
 * Threading: one thread. Callbacks may call ockam__l2cap_send_sdu/disconnect. */
#ifndef OCKAM_TRANSPORT_BLE_L2CAP_H
#define OCKAM_TRANSPORT_BLE_L2CAP_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCKAM__L2CAP_MAX_CHANS 4
#define OCKAM__L2CAP_SIG_QUEUE 8
#define OCKAM__L2CAP_SIG_MAX 32
#define OCKAM__L2CAP_CID_SIGNALLING 0x0005
#define OCKAM__L2CAP_CID_DYN_FIRST 0x0040
#define OCKAM__L2CAP_CID_DYN_LAST 0x007F

enum ockam__l2cap_state {
    OCKAM__L2CAP_FREE = 0,
    OCKAM__L2CAP_CONNECTING,
    OCKAM__L2CAP_OPEN,
    OCKAM__L2CAP_DISCONNECTING,
};

typedef struct ockam__l2cap_params {
    uint16_t rx_mtu;      /* largest SDU we accept (>= 23) */
    uint16_t rx_mps;      /* largest K-frame payload we accept (23..65533) */
    uint16_t rx_credits;  /* credits we keep the peer topped up with (>= 1) */
    uint16_t listen_spsm; /* connection requests for this SPSM are accepted; 0: none */
} ockam__l2cap_params;

typedef struct ockam__l2cap_cbs {
    void *user;
    void (*opened)(void *user, int ch);
    /* Our connection request was refused (result code from the response). */
    void (*refused)(void *user, int ch, uint16_t result);
    void (*sdu)(void *user, int ch, const uint8_t *sdu, size_t len);
    /* The SDU handed to ockam__l2cap_send_sdu() is fully out: the next one may follow. */
    void (*sdu_sent)(void *user, int ch);
    /* The channel is gone (the peer disconnected it, or our disconnection completed). */
    void (*closed)(void *user, int ch);
} ockam__l2cap_cbs;

struct ockam__l2cap_chan {
    enum ockam__l2cap_state state;
    uint16_t scid, dcid, spsm;
    uint8_t ident;
    uint16_t tx_mtu, tx_mps;
    uint32_t tx_credits;
    uint16_t rx_credits; /* credits the peer still holds */
    uint8_t *rx_sdu;     /* rx_mtu bytes, allocated when the channel opens */
    size_t rx_len, rx_want;
    bool rx_active;
    bool rx_hold; /* credits are not returned (the receiver's consumers are behind) */
    const uint8_t *tx_sdu;
    size_t tx_len, tx_off;
    bool tx_busy;
};

typedef struct ockam__l2cap {
    ockam__l2cap_params p;
    ockam__l2cap_cbs cbs;
    struct ockam__l2cap_chan ch[OCKAM__L2CAP_MAX_CHANS];
    uint8_t sig[OCKAM__L2CAP_SIG_QUEUE][OCKAM__L2CAP_SIG_MAX];
    uint8_t sig_len[OCKAM__L2CAP_SIG_QUEUE];
    unsigned sig_head, sig_count;
    uint8_t next_ident;
    unsigned rr; /* round robin over channels */
    const char *error;
} ockam__l2cap;

void ockam__l2cap_init(ockam__l2cap *l, const ockam__l2cap_params *p, const ockam__l2cap_cbs *cbs);
void ockam__l2cap_fini(ockam__l2cap *l);
/* One L2CAP frame. OCKAM_EPROTO (or OCKAM_ENOMEM) with l->error set: close the link. */
ockam_err ockam__l2cap_input(ockam__l2cap *l, const uint8_t *frame, size_t len);
/* Ask the peer for a channel on spsm; *ch gets its index. OCKAM_EBUSY: no free channel or
 * signalling slot. */
ockam_err ockam__l2cap_connect(ockam__l2cap *l, uint16_t spsm, int *ch);
/* Start sending one SDU (len <= the peer's MTU). OCKAM_EBUSY while the previous one is going
 * out, OCKAM_ECLOSED if the channel is not open, OCKAM_EMSGSIZE above the peer's MTU. */
ockam_err ockam__l2cap_send_sdu(ockam__l2cap *l, int ch, const uint8_t *sdu, size_t len);
/* Ask the peer to close the channel; `closed` follows its answer. */
ockam_err ockam__l2cap_disconnect(ockam__l2cap *l, int ch);
/* The next frame to send into out (cap >= 4 + min(peer MPS, ...)); 0 when there is none.
 * May call sdu_sent. */
size_t ockam__l2cap_next_pdu(ockam__l2cap *l, uint8_t *out, size_t cap);
/* Receive-side backpressure: while held, credits the peer spends are not given back, so its
 * sender stops once it has spent them; releasing returns them (if at most half remain). A
 * signalling frame may then wait in the queue: the owner pumps next_pdu afterwards. */
ockam_err ockam__l2cap_hold_credits(ockam__l2cap *l, int ch, bool hold);
/* The peer's SDU size limit on an open channel (0 otherwise). */
uint16_t ockam__l2cap_tx_mtu(const ockam__l2cap *l, int ch);
bool ockam__l2cap_tx_busy(const ockam__l2cap *l, int ch);

#endif
