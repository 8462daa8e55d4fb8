/* Secure-channel frames, sans-IO (docs/wire.md §17.2).
 *
 *   frame     = nonce (8 bytes, big-endian) || AES-256-GCM(plaintext) || tag (16)
 *   GCM nonce = 4 zero bytes || the same 8 bytes; additional data empty
 *   plaintext = CBOR [message, padding: bstr]
 *   message   = [0, [[onward, return, payload]]]   Payload
 *             / [1, [refresh_credentials]]         RefreshCredentials
 *             / [2, []]                            Close
 *
 * Each direction has its own key, replaced every OCKAM__SC_REKEY_EVERY frames by Noise REKEY:
 * nonces 0..31 use k0, 32..63 REKEY(k0), and so on. The receiver accepts a nonce at most 32
 * away from the highest one it accepted and not seen before (a 64-bit window), with the
 * previous, current or next key; it changes nothing before the frame authenticated.
 *
 * Ownership: the structs are the caller's; the fini calls erase their keys. No allocation except
 * the OpenSSL contexts (one per direction, and up to three more on the receiving side; a rekey
 * changes the key of a context, it makes none). Threading: one thread at a time per struct. */
#ifndef OCKAM_CHANNEL_FRAME_H
#define OCKAM_CHANNEL_FRAME_H

#include "channel/noise.h"
#include "core/codec.h"

#define OCKAM__SC_NONCE_LEN 8
#define OCKAM__SC_OVERHEAD (OCKAM__SC_NONCE_LEN + OCKAM__TAG_LEN)
#define OCKAM__SC_REKEY_EVERY 32
#define OCKAM__SC_WINDOW 32

typedef enum ockam__sc_kind {
    OCKAM__SC_PAYLOAD = 0,
    OCKAM__SC_REFRESH = 1,
    OCKAM__SC_CLOSE = 2,
} ockam__sc_kind;

/* ---- plaintext ------------------------------------------------------------------------ */

/* Bytes of the plaintext of a Payload (onward, return, payload), empty padding. */
size_t ockam__sc_payload_size(const ockam__msg_parts *m);
/* Encode that plaintext. OCKAM_EMSGSIZE when cap is short; OCKAM_EADDRTYPE for an address
 * type that cannot go on the wire. m->tracing is ignored (frames carry none). */
ockam_err ockam__sc_payload_encode(
    const ockam__msg_parts *m, uint8_t *out, size_t cap, size_t *written);
/* The plaintext of a Payload up to and including the payload's CBOR head (msg must carry no
 * tracing): the payload bytes and the padding (OCKAM__SC_EMPTY_PADDING) follow. */
ockam_err ockam__sc_payload_head(const ockam_msg *msg, uint8_t *out, size_t cap, size_t *written);
#define OCKAM__SC_EMPTY_PADDING 0x40
/* The Close plaintext (5 bytes). */
#define OCKAM__SC_CLOSE_LEN 5
void ockam__sc_close_encode(uint8_t out[OCKAM__SC_CLOSE_LEN]);
/* Decode a plaintext of any kind; for a Payload, out (if not NULL) is reset and gets its routes
 * and payload, borrowed from `from` when it says so (see ockam__borrow; may be NULL). Padding of
 * any length is accepted; bytes after the array give OCKAM_ETRAILING; shapes other than the three
 * give OCKAM_ECBORTYPE. */
ockam_err ockam__sc_plain_decode(const uint8_t *buf, size_t len, ockam__sc_kind *kind,
    ockam_msg *out, const ockam__borrow *from);

/* ---- sending side ----------------------------------------------------------------------- */

typedef struct ockam__sc_tx {
    ockam__aead aead;
    uint64_t nonce; /* the next frame's */
} ockam__sc_tx;

ockam_err ockam__sc_tx_init(ockam__sc_tx *tx, const uint8_t key[OCKAM__KEY_LEN]);
void ockam__sc_tx_fini(ockam__sc_tx *tx);
/* frame[8 .. 8 + len) holds the plaintext; on return frame[0 .. len + 24) is the frame.
 * Rekeys first when the nonce starts a new interval. OCKAM_ECLOSED once the nonces are used
 * up (the channel must then be re-created). */
ockam_err ockam__sc_tx_seal(ockam__sc_tx *tx, uint8_t *frame, size_t len);

/* The same with the plaintext in pieces (parts[0] may start at frame + 8): the frame is still
 * written contiguously from frame + 8. */
ockam_err ockam__sc_tx_seal_gather(
    ockam__sc_tx *tx, uint8_t *frame, const ockam_slice *parts, size_t count);

/* ---- receiving side ----------------------------------------------------------------------- */

typedef struct ockam__sc_rx {
    ockam__aead cur, prev, next; /* prev/next: ctx NULL when absent */
    ockam__aead spare;           /* a retired context, for the next key (ctx may be NULL) */
    uint64_t rekeys;             /* cur covers nonces [rekeys * 32, rekeys * 32 + 32) */
    uint64_t highest;            /* highest accepted nonce */
    uint64_t seen;               /* bit i: nonce highest - i was accepted */
} ockam__sc_rx;

ockam_err ockam__sc_rx_init(ockam__sc_rx *rx, const uint8_t key[OCKAM__KEY_LEN]);
void ockam__sc_rx_fini(ockam__sc_rx *rx);
/* Authenticate and decrypt frame[0 .. len) into out (len - 24 bytes; out may not overlap).
 * OCKAM_ETRUNCATED (shorter than 24 bytes), OCKAM_EPROTO for a nonce outside the window or
 * already accepted (a replay), OCKAM_EAUTH when the tag does not verify.
 * Only a frame that authenticated moves the window or the keys. */
ockam_err ockam__sc_rx_open(ockam__sc_rx *rx, const uint8_t *frame, size_t len, uint8_t *out,
    size_t *out_len, uint64_t *nonce);

#endif
