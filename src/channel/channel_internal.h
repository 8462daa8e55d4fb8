/* Secure-channel ends shared by channel.c (frames, the open channel, the public calls) and
 * handshake.c (initiator, listener and responder). Loop thread only. */
#ifndef OCKAM_CHANNEL_INTERNAL_H
#define OCKAM_CHANNEL_INTERNAL_H

#include "channel/frame.h"
#include "identity/sc_payload.h"
#include "node/node_internal.h"
#include "node/policy.h"
#include "ockam/secure_channel.h"

#define OCKAM__SC_DEFAULT_TIMEOUT_MS 10000
#define OCKAM__SC_DEFAULT_MAX_HALF_OPEN 1024
/* Validity of the attestation a listener or initiator presents (Ockam's purpose keys last
 * five years; a channel end only needs one that outlives its handshakes). A listener makes a
 * new one when its own is older than OCKAM__SC_CREDS_RENEW_S. */
#define OCKAM__SC_CREDS_TTL_S (30ull * 24 * 3600)
#define OCKAM__SC_CREDS_RENEW_S (24ull * 3600)

enum ockam__sc_state { SC_HANDSHAKE, SC_OPEN, SC_CLOSED };

/* A trust policy's identifiers, copied and lower-cased. */
struct ockam__sc_trust {
    char (*ids)[OCKAM_SC_IDENTIFIER_SIZE];
    size_t count;
};

struct ockam_sc_listener {
    ockam_node *node;
    ockam_worker *worker;
    char *address;
    ockam_identity *id;  /* borrowed: must outlive the listener */
    uint64_t creds_made; /* Unix seconds */
    ockam__sc_creds creds;
    void *s_key; /* the static key as an OpenSSL object, shared by the responders */
    struct ockam__sc_trust trust;
    ockam_flow_id flow;
    uint32_t timeout_ms;
    uint32_t max_half_open;
    size_t half_open;
    uint64_t refused;
    bool full_logged; /* one log line per burst of refusals */
    void (*on_channel)(ockam_sc *sc, void *user);
    void *user;
    unsigned refs; /* the worker and each half-open responder */
};

struct ockam_sc {
    ockam_node *node;
    ockam_worker *worker; /* addresses: decryptor (primary) and encryptor */
    char decryptor[OCKAM_RANDOM_ADDR_LEN + 1];
    char encryptor[OCKAM_RANDOM_ADDR_LEN + 1];
    uint8_t state;
    bool initiator;
    bool closing_sent;
    ockam_route *remote; /* to the peer's decryptor */
    uint64_t reroute_nonce;
    struct ockam__policy_flow flow; /* the channel's producer flow (id 0 until open) */
    ockam_flow_id spawner;
    char peer[OCKAM_SC_IDENTIFIER_SIZE];
    ockam__sc_tx tx;
    ockam__sc_rx rx;
    struct ockam_sc_stats stats;
    bool auth_logged;
    ockam_origin remote_origin; /* of the message whose return route became `remote` */
    ockam_err fail;             /* why the handshake ended, for the initiator's callback */
    /* handshake only */
    ockam__noise *hs;
    ockam__sc_creds creds;
    struct ockam__sc_trust trust;
    ockam_timer *timer;
    ockam_sc_listener *listener; /* responder while half-open */
    ockam_sc_open_cb open_cb;
    void *open_user;
    /* open channel */
    ockam_sc_closed_cb closed_cb;
    void *closed_user;
};

/* channel.c */
/* A channel end with its worker (decryptor + encryptor addresses) started. */
ockam_err ockam__sc_new(ockam_node *node, bool initiator, ockam_sc **out);
/* Handshake done (keys from Split): install the frame keys, the flow id, make the encryptor a
 * consumer of it; the handshake state is freed. */
ockam_err ockam__sc_open(ockam_sc *sc, const uint8_t k1[OCKAM__KEY_LEN],
    const uint8_t k2[OCKAM__KEY_LEN], ockam_flow_id spawner);
/* Stop the worker (frees sc through its on_stop). */
void ockam__sc_stop(ockam_sc *sc);
/* Frames arriving at the decryptor of an open channel (consumes msg). */
void ockam__sc_on_frame(ockam_sc *sc, ockam_msg *msg);
/* The worker is a channel end (its addresses are a decryptor and an encryptor): a route that
 * reaches it leaves this node through the channel. */
bool ockam__sc_is_worker(const ockam_worker *w);

ockam_err ockam__sc_trust_copy(struct ockam__sc_trust *dst, const ockam_sc_trust *src);
void ockam__sc_trust_free(struct ockam__sc_trust *t);
bool ockam__sc_trust_allows(const struct ockam__sc_trust *t, const char *identifier);
uint64_t ockam__sc_now_s(void);

/* handshake.c */
/* Handshake messages arriving at the decryptor (consumes msg). */
void ockam__sc_on_handshake(ockam_sc *sc, ockam_msg *msg);
/* The channel is going away during its handshake: release its share of the listener, free
 * the handshake state; the initiator's callback gets `status` unless already called. */
void ockam__sc_handshake_end(ockam_sc *sc, ockam_err status);

#endif
