/* TCP portals (docs/wire.md §7): an inlet listens on a local TCP port; each client connection is
 * carried as Ockam messages to an outlet, which opens a TCP connection to its target for it.
 * The inlet and outlet sockets are plain TCP (the applications never see Ockam framing).
 *
 * Protocol, exactly as Rust Ockam since v0.42 (§7.1, §7.3):
 *  - per accepted client the inlet starts one worker (random address) and sends Ping (`00`)
 *    from it along the outlet route; nothing is read from the client yet;
 *  - the outlet listener (default address `outlet`) accepts only Ping; per Ping it starts one
 *    worker, connects to the target and answers Pong (`01`) from that worker; the inlet worker
 *    takes the Pong's return route as its peer route and starts reading its client;
 *  - then both workers exchange Payload (`03` + BARE bytes) directly, each read of a socket
 *    becoming one Payload of at most 48 KiB (49 152 bytes); an optional packet counter after
 *    the bytes is accepted (and checked: 0, 1, 2... wrapping, as Rust does) and never sent;
 *  - Disconnect (`02`) both ways; a worker drops messages whose onward route has anything
 *    after its own address, and Ping/Pong once it is connected.
 * Rust splits each side into a sender worker and a receiver processor (four addresses); on our
 * single loop one worker per TCP connection per side does both, so each TCP connection has its
 * own worker pair: one worker on the inlet side, one on the outlet side.
 *
 * Closing and errors (a byte stream is delivered whole, or the application sees a reset: never
 * a short clean end):
 *  - Half-close (an extension Ockam's portals ignore; docs/wire.md §7.4): right after the
 *    handshake each side sends Hello (an empty Payload, `03 00`). When its socket reads EOF, a
 *    side whose peer said Hello sends Fin (`03 00 00`) and goes on writing what the peer sends;
 *    the peer shuts down its socket's write side (FIN) once it has written everything, and
 *    keeps reading. The second EOF sends Disconnect. So a client that half-closes after its
 *    request, or a server that answers early and then reads the rest, works as directly.
 *  - a peer that never said Hello (Ockam's own): EOF sends Disconnect, which ends the other
 *    direction too: Payloads that still come are written until none came for 300 ms, then
 *    the socket is reset, never closed with a FIN (the peer's application had not ended).
 *  - a side that gets Disconnect writes what it still holds for its socket, then FIN, then
 *    reads until EOF (closing with unread bytes would make the kernel reset the connection and
 *    drop what is still unsent). Bytes read after the peer left are lost: the socket is then
 *    reset once everything written before is acknowledged. At most 30 s, then a reset.
 *  - the target refuses or cannot be reached: the outlet sends Disconnect instead of Pong and
 *    records the error (ockam_outlet_last_error, one log line); the inlet then closes its
 *    client. No Pong within pong_timeout_ms: the inlet resets its client.
 *  - errors (a socket read or write fails, the transport connection a portal's peer route
 *    starts with closes, the portal stops): the socket is reset, the peer gets Disconnect.
 *    A socket is reset by the kernel, too, when the node's process dies (SO_LINGER 0 until
 *    a clean end).
 *  - a side that sent Disconnect keeps its worker for a short linger (2 s) so late messages
 *    are dropped quietly.
 *
 * A dead route (inlets with a probe, ping_route): when the outlet's node dies behind another
 * node (a relay node, a hop), the inlet's own transport connection stays up and the node in
 * between drops its Payloads: nothing says the connections are dead, and their clients would
 * wait forever. The probe decides: after max_failures quiet periods with a probe unanswered,
 * a probe that had answered before, the inlet is DOWN and every one of its connections is
 * aborted as on an error (the client sees a reset; the peer gets Disconnect, in case it is
 * reachable after all), as Ockam drops an inlet's connections when its pings fail. The
 * inlet keeps listening; new clients get Ping and the Pong timeout. A period is quiet when
 * nothing else showed the route alive or the answer held back: no message came from any of
 * the inlet's connections' peers (their Payloads prove the route works), and the transport
 * connection the answers arrive on brought no frame and is not paused (an answer waits behind
 * the Payloads queued in front of it, for as long as the slowest client takes to read them:
 * that is backpressure, not a dead route). So healthy connections are never reset for being
 * idle (an idle SSH session lasts as long as the probe answers) or slow, and a probe that
 * never answered (no echo on the far node) resets nothing. While the answer connection stays
 * busy with other traffic (another inlet's transfer on the same connection) the periods are
 * not quiet and the verdict waits.
 *   A far node that restarts within those periods answers the probe again, while the
 * connections it had died with it. So, once per period, the inlet also asks its outlet about
 * the connections whose peer said nothing in the period (docs/wire.md §7.5, Query; only
 * peers that said Hello, i.e. ours): an outlet that has no worker at a listed address any
 * more says so (Gone), and that connection is reset. Silence never resets anything there.
 * Without a probe (ping_route NULL) neither check runs.
 *
 * A vanished inlet (outlets): when the inlet's node dies behind another node, the outlet's
 * transport connection stays up too, and its connections to the target would stay open until
 * the target closes them. So every ask_interval_ms the outlet asks each inlet worker that said
 * Hello (ours; Ockam's are never asked) and that sent nothing in the period whether it is
 * still there (docs/wire.md §7.6: Ask, answered with Here). After 3 such periods in a row with
 * nothing from the inlet, the connection is reset (the target sees a reset; the inlet gets
 * Disconnect, in case it is reachable after all). A period does not count while the question
 * or its answer may be held back by backpressure (the transport connection our Payloads take
 * has a queue or is paused, or we stopped reading our socket): a slow transfer is not a dead
 * one. An idle connection costs one Ask and one Here per period.
 *
 * End-to-end backpressure (neither node buffers without bound):
 *  - sending: after each Payload a worker looks at the write queue of the transport connection
 *    its peer route starts with; above high_water it stops reading its socket until that
 *    queue drains to half (ockam_conn_on_drain). A socket is also read at most 256 KiB per
 *    loop turn, so what sits in mailboxes before reaching the connection stays small.
 *  - receiving: a worker whose socket write queue is above high_water pauses the transport
 *    connection the Payloads arrive on (ockam_conn_pause) until the socket drains to half.
 *    The sender's queue towards us then fills, so the first rule stops the far socket; a relay
 *    node in between applies the TCP transport's own rule (it stops reading the connection
 *    whose messages fill another's queue). Pausing a connection holds back everything it
 *    carries, including other portals multiplexed on it (head-of-line blocking).
 *  - when both workers are on the same node (peer route = one local address), the receiver
 *    pauses its peer's socket reading directly.
 *
 * Flow control: the outlet listener only accepts what flow control lets through: make it a
 * consumer of the flow ids that may open portals (ockam_flow_add_consumer on
 * ockam_outlet_address(), e.g. the node's listener). The per-connection workers become
 * consumers of their peer's connection when they first send through it.
 *
 * Ownership: inlets and outlets belong to the node (freed at node free at the latest); the
 * *_stop functions free them (sockets close asynchronously). Threading: loop thread only.
 * Callbacks never run inside the call that caused them. */
#ifndef OCKAM_PORTAL_H
#define OCKAM_PORTAL_H

#include "ockam/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OCKAM_OUTLET_ADDR "outlet"
/* Largest Payload a portal sends (bytes of TCP data per message). */
#define OCKAM_PORTAL_MAX_PAYLOAD 49152u

/* Counters of an inlet or outlet, read with ockam_inlet_stats() / ockam_outlet_stats(). */
struct ockam_portal_stats {
    uint64_t accepted;  /* connections opened in total (inlet: clients; outlet: Pings) */
    uint64_t failed;    /* of which never connected (no Pong; target refused or unreachable) */
    size_t active;      /* connections open now */
    uint64_t bytes_in;  /* bytes read from this side's sockets */
    uint64_t bytes_out; /* bytes written to this side's sockets */
    size_t queued;      /* bytes waiting to be written to this side's sockets now */
};

/* ---- outlet ------------------------------------------------------------------------ */

typedef struct ockam_outlet ockam_outlet;

typedef struct ockam_outlet_config {
    const char *address;         /* listener worker address; NULL = "outlet" */
    const char *target;          /* "host:port", "[v6]:port" or "name:port"; required */
    uint32_t connect_timeout_ms; /* 0 = 10000 */
    size_t high_water;           /* 0 = 1 MiB (see above) */
    bool no_half_close;          /* speak only Ockam's messages (see "Half-close" above) */
    uint32_t ask_interval_ms;    /* 0 = 10000: the period of "A vanished inlet" above */
} ockam_outlet_config;

#define OCKAM_OUTLET_CONFIG_INIT                                                                   \
    {                                                                                              \
        .address = NULL, .target = NULL, .connect_timeout_ms = 0, .high_water = 0,                 \
        .no_half_close = false, .ask_interval_ms = 0                                               \
    }

/* Start the outlet listener. OCKAM_EINVAL (no or malformed target), OCKAM_EEXIST (address
 * taken), OCKAM_ENOMEM. The target is not contacted until the first Ping. */
OCKAM_API ockam_err ockam_outlet_start(
    ockam_node *node, const ockam_outlet_config *cfg, ockam_outlet **out);
/* Stop the listener and every connection (each peer gets Disconnect); frees the outlet. */
OCKAM_API void ockam_outlet_stop(ockam_outlet *outlet);
/* Who may open connections through the outlet: the access check of its listener worker, which
 * gets every Ping (e.g. ockam_sc_access_identity: only through secure channels of some
 * identities). Each connection's worker answers only the inlet worker that pinged. */
OCKAM_API void ockam_outlet_set_access(ockam_outlet *outlet, ockam_access incoming);
OCKAM_API const char *ockam_outlet_address(const ockam_outlet *outlet);
OCKAM_API const char *ockam_outlet_target(const ockam_outlet *outlet);
/* Why the last connection to the target failed ("" if none did), e.g.
 * "cannot connect to 10.1.2.3:80: connection timed out". */
OCKAM_API const char *ockam_outlet_last_error(const ockam_outlet *outlet);
OCKAM_API void ockam_outlet_stats(const ockam_outlet *outlet, struct ockam_portal_stats *out);

/* ---- inlet ------------------------------------------------------------------------- */

typedef enum ockam_inlet_state {
    OCKAM_INLET_DOWN = 0,
    OCKAM_INLET_UP = 1,
} ockam_inlet_state;

typedef struct ockam_inlet ockam_inlet;

/* Called on every change between UP and DOWN. */
typedef void (*ockam_inlet_status_cb)(ockam_inlet *inlet, ockam_inlet_state state, void *user);

typedef struct ockam_inlet_config {
    const char *bind;                /* "host:port" to listen on (port 0 picks one); required */
    const ockam_route *outlet_route; /* where Pings go; required; copied */
    /* Optional health probe, e.g. the outlet node's echo: every ping_interval_ms a message is
     * sent there, and the inlet is DOWN after max_failures quiet periods with a probe
     * unanswered, UP again at the next answer; going DOWN resets its connections (see "A dead
     * route" above). Without it the state follows the last handshake (UP at start). */
    const ockam_route *ping_route;
    uint32_t ping_interval_ms; /* 0 = 10000 */
    uint32_t max_failures;     /* 0 = 3 */
    uint32_t pong_timeout_ms;  /* 0 = 10000 */
    size_t high_water;         /* 0 = 1 MiB */
    bool no_half_close;        /* speak only Ockam's messages (see "Half-close" above) */
    ockam_inlet_status_cb on_status;
    void *user;
} ockam_inlet_config;

#define OCKAM_INLET_CONFIG_INIT                                                                    \
    {                                                                                              \
        .bind = NULL, .outlet_route = NULL, .ping_route = NULL, .ping_interval_ms = 0,             \
        .max_failures = 0, .pong_timeout_ms = 0, .high_water = 0, .no_half_close = false,          \
        .on_status = NULL, .user = NULL                                                            \
    }

/* Bind and listen (synchronously: on return ockam_inlet_bind_address has the real port).
 * OCKAM_EINVAL, OCKAM_EADDRINVAL, OCKAM_EADDRINUSE, OCKAM_EACCES, OCKAM_ENOMEM. */
OCKAM_API ockam_err ockam_inlet_start(
    ockam_node *node, const ockam_inlet_config *cfg, ockam_inlet **out);
/* Stop listening and close every connection (each peer gets Disconnect); frees the inlet. */
OCKAM_API void ockam_inlet_stop(ockam_inlet *inlet);
/* "127.0.0.1:54321" with the real port. */
OCKAM_API const char *ockam_inlet_bind_address(const ockam_inlet *inlet);
OCKAM_API const ockam_route *ockam_inlet_outlet_route(const ockam_inlet *inlet);
OCKAM_API ockam_inlet_state ockam_inlet_status(const ockam_inlet *inlet);
/* Why the inlet is or last was DOWN, or the last handshake failure ("" if none). */
OCKAM_API const char *ockam_inlet_last_error(const ockam_inlet *inlet);
OCKAM_API void ockam_inlet_stats(const ockam_inlet *inlet, struct ockam_portal_stats *out);

#ifdef __cplusplus
}
#endif
#endif
