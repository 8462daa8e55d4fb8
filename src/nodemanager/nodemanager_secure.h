/* The node manager's identity and secure channels (nodemanager_secure.c). Loop thread only.
 *
 * A node started by `ockam node create` has an identity (its keys copied into a memory vault
 * at start) and a secure channel listener at "api" that trusts every identity unless the
 * configuration lists authorized identifiers. Listeners consume every flow the public
 * services consume, and the public services (echo, uppercase, hop, relays, outlets) consume
 * every listener's flow: what comes out of a channel reaches them.
 *
 * /secure/NAME in a multiaddr: the hops before it lead to the listener NAME; a channel is
 * created there and the rest of the route continues inside it (as /service/<encryptor>).
 * A route with /secure/ is never sent as a plain hop.
 *
 * Identities: "identity": NAME in a listener's or a channel's request makes it use that
 * identity (any the user has, loaded through the loader given at start; by default the
 * node's own). An identity is loaded once and shared by everything that names it; it stays
 * in memory while a listener or a channel uses it, so its vault file is never held for
 * longer than a copy. A request whose identity's vault file another process holds is
 * handled again a few milliseconds later (up to 2 s): the loop never waits on the lock.
 *
 * Endpoints:
 *   GET    /node/secure_channel_listener          [listener]
 *   POST   /node/secure_channel_listener          {"address", "authorized"?: [ID],
 *                                                 "identity"?: NAME} -> listener; 404 no
 *                                                 such identity
 *   GET    /node/secure_channel_listener/{addr}   listener
 *   DELETE /node/secure_channel_listener/{addr}   listener ("api" included)
 *   GET    /node/secure_channel                   [channel]  (channels this node initiated)
 *   POST   /node/secure_channel                   {"to": multiaddr, "authorized"?: [ID],
 *                                                 "identity"?: NAME, "timeout_ms"?}
 *                                                 -> channel once it is open; 403 refused
 *                                                 identity, 404 no such identity, 502
 *                                                 unreachable, 504 handshake timeout
 *   GET    /node/secure_channel/{encryptor}       channel
 *   DELETE /node/secure_channel/{encryptor}       channel (Close is sent to the peer)
 * listener = {address, identity: NAME, identifier, authorized: [ID] (empty: everyone),
 * flow_control_id}; channel = {encryptor: "/service/<addr>", decryptor, to, identity: NAME,
 * identifier (this end's), peer, authorized, initiator}. */
#ifndef OCKAM_NODEMANAGER_SECURE_H
#define OCKAM_NODEMANAGER_SECURE_H

#include "nodemanager/nodemanager_internal.h"
#include "ockam/identity.h"
#include "ockam/portal.h"

struct ockam__nm_secure;

/* Loads the identity `name` for the node: the identity and a memory vault holding the keys it
 * signs with (both owned by the caller from then on), read from the identity's vault, whose
 * file admits one owner at a time and is held only while the keys are copied. wait_ms bounds
 * the wait while another process holds it (0: try once), then OCKAM_EBUSY. OCKAM_ENOENT:
 * there is no identity of that name. On failure, a sentence for people in why. Loop thread;
 * blocks for at most wait_ms. */
typedef ockam_err (*ockam__nm_identity_load_fn)(void *user, const char *name, uint32_t wait_ms,
    ockam_identity **id, ockam_vault **vault, char *why, size_t cap);
/* Whether the identity `name` is still `identifier` (a name can be deleted and made again with
 * new keys while a node holds the old one). Loop thread; reads a small file. */
typedef bool (*ockam__nm_identity_current_fn)(void *user, const char *name, const char *identifier);

typedef struct ockam__nm_secure_opts {
    const char *name;   /* the node's identity: its name, */
    ockam_identity *id; /* the identity and */
    ockam_vault *vault; /* the vault it signs with (both owned by the manager from now on) */
    /* Other identities, named by "identity" in requests and saved listeners; NULL: only the
     * node's own can be named. */
    ockam__nm_identity_load_fn load;
    ockam__nm_identity_current_fn current; /* NULL: a loaded identity is always current */
    void *load_user;
} ockam__nm_secure_opts;

/* Give the manager its identities and start the listener at "api" plus those saved in config
 * ("secure_channel_listeners"; one whose identity cannot be loaded is left out, with a log
 * line). */
ockam_err ockam__nm_secure_start(
    ockam__nodemanager *nm, const ockam__nm_secure_opts *opts, json_t *config);
/* Add "identifier" and "secure_channel_listeners" to res (views) or cfg (what node start
 * restores). */
void ockam__nm_secure_resources(ockam__nodemanager *nm, json_t *res);
void ockam__nm_secure_config(ockam__nodemanager *nm, json_t *cfg);
/* A flow the public services consume was added or removed: the listeners follow it. */
void ockam__nm_secure_flow(ockam__nodemanager *nm, ockam_flow_id flow, bool add);
/* A public service started: it consumes every listener's flow. */
ockam_err ockam__nm_secure_consume_all(ockam__nodemanager *nm, const char *addr);
void ockam__nm_secure_free(ockam__nodemanager *nm);

/* POST /v0/message: a "to" with /secure/ gets its channels first (closed after the reply had
 * time to come back); anything else goes to ockam__nm_send_message as it is. */
void ockam__nm_secure_send(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body);

/* For an inlet or a relay whose route has /secure/: a forwarding worker at a stable address
 * that sends through the channel(s) of `to`, re-creating them (with backoff) whenever the far
 * end stops answering. authorized (borrowed, NULL = any): identities the listener may have.
 * identity: the name of the identity the channels present (NULL: the node's own), loaded when
 * its vault file is free (OCKAM_EINVAL: not a name; OCKAM_ENOENT: no such identity;
 * OCKAM_ENOKEY: imported, without its key).
 * expose: the node's services consume the channel's flow while it is up (a relay registered
 * through it: what the relay node forwards comes out of the channel). *route_text is
 * "/service/<worker>/<the rest of to after the last /secure/NAME>" (caller frees with
 * ockam__free); *proxy names the worker for ockam__nm_secure_proxy_stop. */
ockam_err ockam__nm_secure_proxy_start(ockam__nodemanager *nm, const char *to, json_t *authorized,
    const char *identity, bool expose, char **route_text, char **proxy);
void ockam__nm_secure_proxy_stop(ockam__nodemanager *nm, const char *proxy);

/* Outlets restricted to identities ("allow": [ID, ...], or ["secure"] for any channel peer):
 * whether allow is well formed (NULL is), applying it to the outlet at addr (it then refuses
 * every Ping that did not come out of a secure channel of an allowed identity), the
 * restriction of an outlet (borrowed, NULL without), and forgetting it. */
bool ockam__nm_secure_allow_valid(json_t *allow);
/* NULL, JSON null, or an array of identifiers. */
bool ockam__nm_secure_ids_valid(json_t *ids);
ockam_err ockam__nm_secure_outlet_allow(ockam__nodemanager *nm, ockam_outlet *o, json_t *allow);
json_t *ockam__nm_secure_outlet_allowed(ockam__nodemanager *nm, const char *addr);
void ockam__nm_secure_outlet_forget(ockam__nodemanager *nm, const char *addr);

void ockam__nm_sc_listener_list(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b);
void ockam__nm_sc_listener_create(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b);
void ockam__nm_sc_listener_show(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b);
void ockam__nm_sc_listener_delete(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b);
void ockam__nm_sc_list(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b);
void ockam__nm_sc_create(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b);
void ockam__nm_sc_show(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b);
void ockam__nm_sc_delete(ockam__nodemanager *nm, ockam_msg *req, const char *a, json_t *b);

/* nodemanager.c: the slot of this part's state. */
struct ockam__nm_secure **ockam__nm_secure_slot(ockam__nodemanager *nm);

#endif
