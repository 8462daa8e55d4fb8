/* End-to-end secure channels: Ockam's Noise XX channel (OCKAM_XX_25519_AES256_GCM_SHA256),
 * wire-compatible with Ockam v0.128+ (docs/wire.md §17; docs/security.md §7).
 *
 * A channel joins two workers across any route (TCP, UDP, Kafka, relays, other channels): the
 * handshake messages and the encrypted frames are ordinary routed messages, so every hop in
 * between sees only ciphertext. Each end has two local addresses: its decryptor (where the
 * peer's frames arrive) and its encryptor (where local workers send plaintext:
 * [encryptor, ...route on the far node]). A message delivered out of a channel has the
 * encryptor's address prepended to its return route, so replies go back encrypted.
 *
 * Security rules:
 *  - The peer proves its identity in the handshake: its change history verifies, its
 *    purpose-key attestation names the Noise static key it used, and the trust policy
 *    (trust everyone, or a set of identifiers) accepts its identifier. Anything else ends the
 *    handshake (the initiator's callback gets OCKAM_EAUTH or OCKAM_EUNTRUSTED; a responder
 *    sends nothing back, as Ockam) and leaves no worker behind.
 *  - Flow control: a message that comes out of a channel has the channel's flow id as its
 *    producer (ockam_sc_flow_id) and, on the responder side, the listener's flow id as its
 *    spawner (ockam_sc_listener_flow_id). It reaches only consumers of one of them. A worker
 *    that sends through an encryptor becomes a consumer of that channel, so replies reach it.
 *  - The authenticated identifier travels with every delivered message as local info
 *    (OCKAM_SC_LOCAL_INFO, never on the wire): ockam_sc_msg_identifier() reads it, and
 *    ockam_sc_access_identity() is an incoming access check that requires one of a set of
 *    identifiers. Nothing a peer writes can set it.
 *  - Frames: a frame that does not authenticate is dropped and counted (the channel and the
 *    connection stay up); a replayed frame, or one more than 32 nonces away from the newest,
 *    is dropped and counted; neither changes any state. Keys change every 32 frames.
 *  - Half-open handshakes are bounded per listener in number (max_half_open) and in time
 *    (handshake_timeout_ms): a flood of first messages cannot grow memory without bound.
 *  - The listener address must be reachable from where initiators come from: make it a
 *    consumer of the transport listener's or connection's flow id (ockam_flow_add_consumer).
 *
 * Behaviour worth knowing:
 *  - As in Ockam, the responder follows the initiator when its frames arrive over a new
 *    route: a Payload frame whose nonce is higher than that of the last re-route (0 at first)
 *    moves the responder's route to that frame's return route.
 *  - Closing an end sends a Close frame to the peer, which then closes its end too.
 *  - Frames carry no padding; messages up to the transport's limit minus ~30 bytes of frame
 *    and route encoding fit.
 *
 * Ownership: a channel (ockam_sc) belongs to its node; the handle is valid until its closed
 * callback ran (or the node is freed). The initiator's identity is borrowed for the duration
 * of ockam_sc_create; a listener's must outlive the listener (it attests the channel key
 * again once a day). Threading: loop thread only. */
#ifndef OCKAM_SECURE_CHANNEL_H
#define OCKAM_SECURE_CHANNEL_H

#include "ockam/node.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ockam_identity ockam_identity;
typedef struct ockam_sc ockam_sc;
typedef struct ockam_sc_listener ockam_sc_listener;

/* Local-info type of messages delivered out of a channel: the peer's identifier as text. */
#define OCKAM_SC_LOCAL_INFO "IDENTITY_SECURE_CHANNEL_IDENTIFIER"
/* "I" + 64 hex digits + NUL. */
#define OCKAM_SC_IDENTIFIER_SIZE 66

/* Trust policy: count == 0 trusts every identity that authenticates; otherwise only the
 * listed identifiers ("I" + 64 hex, compared case-insensitively). The list is copied. */
typedef struct ockam_sc_trust {
    const char *const *identifiers;
    size_t count;
} ockam_sc_trust;

struct ockam_sc_stats {
    uint64_t sent;           /* frames sent */
    uint64_t received;       /* frames that authenticated */
    uint64_t dropped_auth;   /* frames that did not authenticate (tampered, wrong key) */
    uint64_t dropped_replay; /* frames with a nonce seen before or outside the window */
    uint64_t dropped_bad;    /* authenticated frames whose plaintext did not decode */
};

/* ---- initiator ------------------------------------------------------------------------ */

/* status OCKAM_OK: sc is open. Otherwise sc is NULL and status says why: OCKAM_ETIMEDOUT,
 * OCKAM_EAUTH (a message did not authenticate), OCKAM_EUNTRUSTED, an identity verification
 * code (signature, attestation, expiry...), or a routing error. Called once, never from
 * inside ockam_sc_create. */
typedef void (*ockam_sc_open_cb)(ockam_sc *sc, ockam_err status, void *user);

typedef struct ockam_sc_opts {
    ockam_sc_trust trust;
    uint32_t timeout_ms; /* whole handshake; 0 = 10 000 */
} ockam_sc_opts;

/* Start a handshake with the listener at the end of `to` (e.g. [1#127.0.0.1:4000, api]).
 * `to` is copied. Errors returned here mean cb will not be called. */
OCKAM_API ockam_err ockam_sc_create(ockam_node *node, ockam_identity *id, const ockam_route *to,
    const ockam_sc_opts *opts, ockam_sc_open_cb cb, void *user);
/* The same, running the node's loop until the channel is open or failed. Must not be called
 * from a callback of the same node. */
OCKAM_API ockam_err ockam_sc_create_sync(ockam_node *node, ockam_identity *id,
    const ockam_route *to, const ockam_sc_opts *opts, ockam_sc **out);

/* ---- listener (responder) ------------------------------------------------------------- */

typedef struct ockam_sc_listener_opts {
    ockam_sc_trust trust;
    uint32_t handshake_timeout_ms; /* a half-open handshake is dropped after this; 0 = 10 000 */
    uint32_t max_half_open;        /* first messages beyond this are dropped; 0 = 1024 */
    void (*on_channel)(ockam_sc *sc, void *user); /* each channel that opened; optional */
    void *user;
} ockam_sc_listener_opts;

/* A listener worker at `address` (e.g. "api"). OCKAM_EEXIST if the address is taken; errors
 * of the identity when it cannot attest a secure-channel key. */
OCKAM_API ockam_err ockam_sc_listen(ockam_node *node, ockam_identity *id, const char *address,
    const ockam_sc_listener_opts *opts, ockam_sc_listener **out);
OCKAM_API ockam_flow_id ockam_sc_listener_flow_id(const ockam_sc_listener *l);
/* Handshakes in progress. */
OCKAM_API size_t ockam_sc_listener_half_open(const ockam_sc_listener *l);
/* First messages dropped because max_half_open was reached. */
OCKAM_API uint64_t ockam_sc_listener_refused(const ockam_sc_listener *l);
/* Stop listening; channels already open stay up, handshakes in progress may finish. */
OCKAM_API void ockam_sc_listener_stop(ockam_sc_listener *l);

/* ---- an open channel ---------------------------------------------------------------- */

/* The encryptor's local address (NUL-terminated): send plaintext to [it, ...]. */
OCKAM_API const char *ockam_sc_encryptor(const ockam_sc *sc);
/* The decryptor's local address (the peer's frames arrive there). */
OCKAM_API const char *ockam_sc_decryptor(const ockam_sc *sc);
/* The peer's authenticated identifier. */
OCKAM_API const char *ockam_sc_peer(const ockam_sc *sc);
OCKAM_API bool ockam_sc_is_initiator(const ockam_sc *sc);
OCKAM_API ockam_flow_id ockam_sc_flow_id(const ockam_sc *sc);
OCKAM_API void ockam_sc_stats(const ockam_sc *sc, struct ockam_sc_stats *out);
/* The route frames currently take to the peer's decryptor (a view, valid until the next
 * frame is handled). */
OCKAM_API const ockam_route *ockam_sc_remote_route(const ockam_sc *sc);

/* Initiator only: send frames along a new route to the peer's node from now on (`to_node`,
 * without the peer's decryptor address, which is appended). The responder follows on the
 * first frame that arrives the new way. OCKAM_EINVAL on a responder or an empty route. */
OCKAM_API ockam_err ockam_sc_update_route(ockam_sc *sc, const ockam_route *to_node);

/* Called once when the channel is gone (closed here, Close from the peer, or node free);
 * the handle is freed right after. */
typedef void (*ockam_sc_closed_cb)(ockam_sc *sc, void *user);
OCKAM_API void ockam_sc_set_closed_cb(ockam_sc *sc, ockam_sc_closed_cb cb, void *user);
/* Send Close to the peer and stop this end (asynchronous for the peer, immediate here). */
OCKAM_API void ockam_sc_close(ockam_sc *sc);

/* ---- identity-based access control ------------------------------------------------------- */

/* The identifier of the channel peer a message came through; false for any other message. */
OCKAM_API bool ockam_sc_msg_identifier(const ockam_msg *msg, char out[OCKAM_SC_IDENTIFIER_SIZE]);

/* An ockam_access_cb: user is an ockam_sc_trust (kept alive by the caller) listing the
 * identifiers allowed; a message passes only when it came out of a secure channel whose
 * authenticated peer is one of them (count 0: any secure-channel peer). */
OCKAM_API bool ockam_sc_access_identity(ockam_worker *worker, const ockam_msg *msg, void *user);

#ifdef __cplusplus
}
#endif
#endif
