/* Relays (docs/wire.md §8): a node that cannot accept connections registers a relay on a node
 * that can; others then reach it through `<route to relay node> => forward_to_<name> => ...`.
 *
 * Two halves:
 *  - the relay service (server side, every node may run one): `forwarding_service` (payload
 *    `register` -> a random name) and its alias `static_forwarding_service` (payload = the
 *    name). Each registration starts a relay worker at prefix + name (`forward_to_<name>`).
 *  - the relay client (the registering side): registers from a dedicated local address,
 *    supervises the relay with pings and re-registers with backoff when it is lost.
 *
 * Wire behaviour, exactly as Rust Ockam >= v0.127 (§8.1-§8.3):
 *  - registration payload: BARE string, `register` or the name;
 *  - confirmation: one message from the relay worker to the registration's full return route
 *    (the "forward route"), return route [0#forward_to_<name>], payload = BARE string of the
 *    full relay address;
 *  - forwarding: the relay pops itself from the onward route and prepends its forward route
 *    WITHOUT its last hop (the registering worker), as Rust does since v0.88: a message sent to
 *    `... => forward_to_x => echo` reaches `echo` on the registering node directly. The relay
 *    does not add itself to the return route. Our client also accepts the pre-v0.88/Elixir
 *    variant (messages that arrive at its registration address with more hops behind it are
 *    forwarded locally), so it works with every relay server in the history.
 *
 * Rules of the server:
 *  - A relay lives as long as the connection or secure channel it was registered over (where
 *    its forward route leaves this node, behind local hops such as `hop`); it disappears when
 *    that connection or channel closes. A registration whose route passes through a local
 *    address that is gone (a connection that closed while the registration waited) is
 *    dropped. A relay registered by a local worker lives until removed, or until a message
 *    finds a local first hop of its route gone: it then goes at once (it could never forward
 *    again). Messages to a relay that is gone are dropped by the node like any message to an
 *    unknown address: Ockam's routing has no error reply, so a sender learns of it only by
 *    its own probes (a portal inlet's, ockam/portal.h, "A dead route").
 *  - Registrants (ockam_relay_service_restrict, docs/security.md, relays): by default anyone
 *    who reaches the service may register; a restricted service accepts only registrations
 *    that came out of a secure channel, optionally only from listed identifiers, and refuses
 *    the others with a refusal answer (below).
 *  - Ownership (docs/security.md, relays): a registration that came out of a secure channel
 *    binds the name to the channel's authenticated identifier (read from the message's local
 *    info, never from anything the peer writes). Registering a live name again REPLACES the
 *    old relay (last registration wins: re-registration after a network change works while
 *    the old connection is not yet known to be dead) only when the old relay is not bound,
 *    or is bound to the same identifier. Otherwise the registration is refused: the old
 *    relay keeps working, the service logs a warning and answers the registering worker
 *    with a BARE string starting with OCKAM_RELAY_REFUSED (never ending with the name, so
 *    a client that knows only confirmations takes it for an invalid one). A plaintext name
 *    can still be taken over by anyone who reaches the service (and, by a channel, bound):
 *    register through a secure channel to keep a name. There is no `ockam-relay` attribute
 *    check (no credentials in this implementation).
 *  - Flow control (§9.4): the service and every relay are consumers of the flow ids given in
 *    the config (typically the node's TCP listeners) -- third parties reach the relay through
 *    them. Each relay is also a consumer of the flow of the connection it was registered over,
 *    so the registering node can reach it too. A relay bound to a channel forwards into that
 *    channel's encryptor on this node, which otherwise accepts only its own channel's flow:
 *    while such a relay uses it, the encryptor is a consumer of the same allowed flows
 *    (whoever reaches the relay reaches the channel through it, as in Ockam's relay worker,
 *    and nothing more: what comes out at the far end obeys that node's flow control). A relay only
 * ever forwards along its stored route: what a third party appends is interpreted by the
 * registering node, whose own flow control decides what it accepts. Replies travel through
 * connection senders, which accept any origin. So the two sides reach each other through the relay
 * and nothing else.
 *
 * Rules of the client:
 *  - When the route to the relay node starts with a TCP address (`1#host:port`), the client
 *    opens its OWN connection to it (not a shared lazy one): the relay lives exactly as long as
 *    that connection, reconnecting means a new connection, and stopping the client closes it,
 *    which removes the relay on the relay node. Otherwise the route is used as it is.
 *  - Messages that arrive through that connection are treated as if the node's listener with
 *    flow id `expose` had accepted them (ockam_conn_set_spawner_id): the node is reachable
 *    through the relay exactly as through that listener, and no more.
 *  - Supervision: every ping_interval_ms the client sends a ping through the relay back to
 *    itself (`relay route => <ping address>`), which checks the connection, the relay node and
 *    the registration at once. After max_failures unanswered pings in a row (not counting
 *    intervals in which the connection is paused by local backpressure), or at once when its
 *    connection closes, the relay is DOWN: the client closes its connection and re-registers
 *    after a delay that doubles from backoff_min_ms to backoff_max_ms, each with random jitter
 *    (50-100% of the delay), never in a tight loop. The delay resets once the relay is UP.
 *  - A refusal from the relay service (see ownership above) is a failed attempt whose reason
 *    is the service's: last_error reads "the relay node refused the registration: <why>",
 *    and the client keeps retrying with backoff (the name may be freed later).
 *  - To register through a secure channel, give `to` as [<encryptor address>] (the channel
 *    to the relay node): the relay is then bound to this node's identifier.
 *  - Each change between UP and DOWN is logged once (UP at info, DOWN at warning); failed
 *    retries while DOWN only at debug level.
 *
 * Ownership: the service and the clients belong to the node (freed at node free at the latest).
 * Threading: loop thread only. Callbacks never run inside the call that caused them. */
#ifndef OCKAM_RELAY_H
#define OCKAM_RELAY_H

#include "ockam/secure_channel.h"
#include "ockam/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- relay service (the relaying node) --------------------------------------------- */

#define OCKAM_RELAY_SERVICE_ADDR "forwarding_service"
#define OCKAM_RELAY_STATIC_SERVICE_ADDR "static_forwarding_service"
#define OCKAM_RELAY_PREFIX "forward_to_"
/* The refusal answer's text starts with this (the reason follows). */
#define OCKAM_RELAY_REFUSED "ockam.relay.refused: "
/* Longest name accepted in a registration (bytes). */
#define OCKAM_RELAY_NAME_MAX 256

typedef struct ockam_relay_service ockam_relay_service;

typedef struct ockam_relay_service_config {
    const char *address;      /* NULL = "forwarding_service" */
    const char *static_alias; /* NULL = "static_forwarding_service"; "" = no alias */
    const char *prefix;       /* NULL = "forward_to_" ("" is allowed, as in the Rust library) */
    /* Flow ids whose messages may register and reach relays (copied). */
    const ockam_flow_id *allow;
    size_t allow_count;
    /* Called when a relay worker has started at `address` (before its confirmation is sent),
     * e.g. to make it a consumer of more flows. May be NULL. */
    void (*on_relay)(ockam_relay_service *svc, const char *address, void *user);
    void *user;
} ockam_relay_service_config;

#define OCKAM_RELAY_SERVICE_CONFIG_INIT                                                            \
    {                                                                                              \
        .address = NULL, .static_alias = NULL, .prefix = NULL, .allow = NULL, .allow_count = 0,    \
        .on_relay = NULL, .user = NULL                                                             \
    }

/* Start the service (cfg NULL = defaults). OCKAM_EEXIST if an address is taken, OCKAM_ENOMEM.
 * *out may be NULL. */
OCKAM_API ockam_err ockam_relay_service_start(
    ockam_node *node, const ockam_relay_service_config *cfg, ockam_relay_service **out);
/* Stop the service and every relay it started. The pointer is invalid afterwards. */
OCKAM_API void ockam_relay_service_stop(ockam_relay_service *svc);
/* Let messages of one more flow id register and reach relays (a listener created later).
 * Applied to the service and to every live relay. OCKAM_ENOMEM. */
OCKAM_API ockam_err ockam_relay_service_allow(ockam_relay_service *svc, ockam_flow_id id);
/* Who may register relays: trust NULL lifts any restriction (plaintext registrations too);
 * otherwise only registrations that came out of a secure channel, and with trust->count > 0
 * only those whose authenticated peer is one of the identifiers (copied; compared
 * case-insensitively). Live relays whose registrant is no longer allowed are removed.
 * OCKAM_EINVAL (a malformed identifier), OCKAM_ENOMEM. */
OCKAM_API ockam_err ockam_relay_service_restrict(
    ockam_relay_service *svc, const ockam_sc_trust *trust);

/* A live relay, as seen by the relaying node. Views valid during the callback only. */
typedef struct ockam_relay_info {
    const char *address;       /* "forward_to_<name>" */
    const char *name;          /* the part after the prefix */
    const ockam_route *route;  /* forward route (without the client's registration address) */
    const char *registered_by; /* the client's registration address (last hop) */
    const char *conn;          /* sender address of the connection it lives on, or NULL */
    uint64_t forwarded;        /* messages forwarded so far */
    const char *identifier;    /* the identifier the name is bound to, NULL if plaintext */
} ockam_relay_info;

OCKAM_API size_t ockam_relay_service_count(const ockam_relay_service *svc);
OCKAM_API void ockam_relay_service_each(
    ockam_relay_service *svc, void (*fn)(const ockam_relay_info *info, void *arg), void *arg);
/* Remove the relay at address ("forward_to_x"). OCKAM_ENOENT. */
OCKAM_API ockam_err ockam_relay_service_remove(ockam_relay_service *svc, const char *address);

/* ---- relay client (the registering node) ------------------------------------------- */

typedef enum ockam_relay_state {
    OCKAM_RELAY_DOWN = 0,
    OCKAM_RELAY_UP = 1,
} ockam_relay_state;

typedef struct ockam_relay_client ockam_relay_client;

/* Called on every change between UP and DOWN (not on the initial DOWN). */
typedef void (*ockam_relay_status_cb)(ockam_relay_client *rc, ockam_relay_state state, void *user);

typedef struct ockam_relay_client_config {
    /* Route to the relay node, without the service: "1#host:port" or "<conn address>", ...
     * Required; copied. */
    const ockam_route *to;
    /* NULL = an ephemeral relay (`register` to forwarding_service); otherwise a static relay
     * with this name (sent to static_forwarding_service). Copied. */
    const char *name;
    /* Local address the registration is sent from (NULL = random). Copied. */
    const char *address;
    /* Registration service address on the relay node (NULL = the default for the kind). */
    const char *service;
    /* Spawner flow id given to the client's own connection (see above); 0 = none. */
    ockam_flow_id expose;
    uint32_t ping_interval_ms;    /* 0 = 10000 */
    uint32_t max_failures;        /* 0 = 3 */
    uint32_t register_timeout_ms; /* wait for the connection + confirmation; 0 = 10000 */
    uint32_t backoff_min_ms;      /* 0 = 500 */
    uint32_t backoff_max_ms;      /* 0 = 5000 */
    ockam_relay_status_cb on_status;
    void *user;
} ockam_relay_client_config;

#define OCKAM_RELAY_CLIENT_CONFIG_INIT                                                             \
    {                                                                                              \
        .to = NULL, .name = NULL, .address = NULL, .service = NULL, .expose = 0,                   \
        .ping_interval_ms = 0, .max_failures = 0, .register_timeout_ms = 0, .backoff_min_ms = 0,   \
        .backoff_max_ms = 0, .on_status = NULL, .user = NULL                                       \
    }

/* Start registering (asynchronously; the state starts DOWN). OCKAM_EINVAL (no route, empty or
 * over-long name), OCKAM_EEXIST (address taken), OCKAM_ENOMEM. *out may be NULL, but the
 * client can then only be stopped by node free. */
OCKAM_API ockam_err ockam_relay_client_start(
    ockam_node *node, const ockam_relay_client_config *cfg, ockam_relay_client **out);
/* The route to the relay node leads somewhere new -- the secure channel it goes through was
 * made again, say after the relay node restarted and lost its relays: register again now,
 * instead of after the pings fail (max_failures x ping_interval_ms) or the backoff ends. The
 * state stays as it is until the confirmation (UP) or a failure (DOWN). Nothing happens while
 * the client's own TCP connection is being made. */
OCKAM_API void ockam_relay_client_register_now(ockam_relay_client *rc);
/* Stop supervising, close the client's own connection (which removes the relay on the relay
 * node) and free the client. No callback runs afterwards. */
OCKAM_API void ockam_relay_client_stop(ockam_relay_client *rc);

OCKAM_API ockam_relay_state ockam_relay_client_state(const ockam_relay_client *rc);
/* The name asked for (NULL for an ephemeral relay). */
OCKAM_API const char *ockam_relay_client_name(const ockam_relay_client *rc);
/* The local registration address. */
OCKAM_API const char *ockam_relay_client_address(const ockam_relay_client *rc);
/* The relay's address on the relay node ("forward_to_x"), NULL before the first confirmation. */
OCKAM_API const char *ockam_relay_client_remote_address(const ockam_relay_client *rc);
/* How to reach the relay from this node (the confirmation's return route, e.g.
 * "0#<conn> => 0#forward_to_x"), NULL before the first confirmation. Valid until the next
 * registration. */
OCKAM_API const ockam_route *ockam_relay_client_route(const ockam_relay_client *rc);
/* The route to the relay node as configured. */
OCKAM_API const ockam_route *ockam_relay_client_to(const ockam_relay_client *rc);
/* Why the relay is or last was DOWN ("" if it never was). */
OCKAM_API const char *ockam_relay_client_last_error(const ockam_relay_client *rc);
/* Confirmed registrations so far (1 after the first, +1 per re-registration). */
OCKAM_API uint32_t ockam_relay_client_registrations(const ockam_relay_client *rc);
/* The client's own connection while it has one (NULL otherwise). */
OCKAM_API ockam_conn *ockam_relay_client_conn(const ockam_relay_client *rc);

#ifdef __cplusplus
}
#endif
#endif
