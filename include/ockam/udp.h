/* UDP transport (address type 2), wire-compatible with Ockam v0.130+ (docs/wire.md §5.2).
 *
 * Model: a *bind* is one UDP socket plus a sender worker at a random local address (32 hex
 * characters, the address used in routes). A message delivered to the sender worker is sent:
 *  - without a fixed peer, the sender pops its own address and the next hop, which must be
 *    2#host:port, and sends the rest to host:port. A message arriving from source S gets the
 *    return route [0#<sender>, 2#S] ‖ <return route on the wire>;
 *  - with a fixed peer, the sender pops only its own address and sends to the peer; arriving
 *    messages get the return route [0#<sender>] ‖ <wire return route>, and datagrams from any
 *    other source are dropped (and counted).
 * On the wire a routing message is the TCP body (CBOR [onward, return, payload, tracing?]),
 * cut into fragments of at most 493 bytes, each sent as one CBOR datagram
 * [1, routing number, offset, is_last, bytes] of at most 508 bytes. Routing numbers start at
 * a random value per bind and increase by one per message. Messages up to 16 MiB.
 *
 * Delivery is best effort, exactly as Ockam's: there are no acknowledgements, retransmissions
 * or reordering. A lost or reordered fragment loses its whole message (and only that one). An
 * n-fragment message survives a loss rate p with probability (1-p)^n.
 *
 * Reassembly (per bind, per peer socket address, Ockam's rules): a fragment of an older
 * routing number (serial-number comparison over u16) is dropped as late; a newer number
 * abandons the message being assembled; a fragment whose offset is not exactly the number of
 * bytes collected so far discards the message. Hence at most ONE partial message exists per
 * peer (the per-peer message cap is 1 by construction). Memory is bounded by the caps in
 * ockam_udp_config: bytes per peer, bytes for all binds of the node, peers tracked per bind
 * (least recently heard peer evicted first) and a timeout for stale partial messages. Every
 * drop is counted in ockam_udp_stats and logged once per peer (and at most a few lines per
 * second per bind). Datagrams over 508 bytes are dropped. The version field of arriving
 * datagrams is not checked, as in Ockam.
 *
 * Names (docs/wire.md §5.5). A destination written as a name -- a 2#name:port hop, or a
 * fixed peer -- stands for every address it resolves to that the bind's socket can reach, in
 * the resolver's order: an IPv4 socket takes the IPv4 addresses only, an IPv6 socket bound
 * to one address the IPv6 ones only, and an IPv6 wildcard socket ([::]:P, made dual-stack:
 * IPV6_V6ONLY off whatever the system's default) both. "localhost" is 127.0.0.1 then ::1 without
 * DNS (RFC 6761), as for TCP. Messages go to one address at a time, the first one first. When the
 * network refuses a datagram (an ICMP port or host unreachable, which Linux reports on the socket's
 * error queue), the name moves on to its next address and the messages sent to the refused one in
 * the last 2 s are sent again to the new one (from copies kept, at most 256 KiB per bind); an
 * address that refused nothing for 2 s after its first datagram is taken as working and copies
 * stop. When every address refused, the next message starts again from the first address, resolving
 * the name again unless it is an IP literal or localhost. A DNS answer is also asked again after 30
 * s, keeping the working address if the answer still has it. A message the network refused and that
 * was not sent again is counted in send_dropped and logged; refused datagrams are counted in
 * `unreachable`, messages sent again in `resent`. A network that drops datagrams silently (no ICMP)
 * gives no signal: the messages are lost as any UDP datagram may be. Names are resolved with
 * uv_getaddrinfo, off the loop, once per name (the bind remembers 64), while their messages wait in
 * order (64 per bind at most, then dropped and counted); bind addresses and fixed peers are
 * resolved when the operator makes the bind (blocking). Without IP_RECVERR (systems other than
 * Linux), names use their first address only.
 *
 * Security rules (same intent as TCP, see ockam/tcp.h):
 *  - Flow control, default deny: a message arriving on a bind has the origin
 *    {producer = the bind's flow id, spawner = 0}, so it reaches only addresses that are
 *    consumers of that flow id. The local worker that sent a message through a bind (the
 *    first address of its return route) becomes a consumer, so replies reach it.
 *  - Bind sender workers accept messages of any origin (the operator created the bind).
 *  - Destinations chosen by other nodes: a message that came from another node (non-zero
 *    origin) may be sent through a bind without a fixed peer only to a peer the bind knows --
 *    a source it received datagrams from, or a numeric destination that a message created on
 *    this node was sent to (the table is bounded by max_peers) -- or to a host:port listed in
 *    allowed_outgoing ("*" allows any). Otherwise it is dropped (counted, logged).
 *  - A message whose FIRST onward address is 2#host:port (not behind a bind's sender) goes
 *    through the node's default bind (created on first use: 0.0.0.0:0 for an IPv4 literal,
 *    [::]:0 -- dual-stack, so that a name reaches both families -- for an IPv6 literal or a
 *    name, 0.0.0.0:0 for a name where IPv6 is missing): always for
 *    messages created on this node, and for messages from other nodes only when host:port is
 *    in allowed_outgoing. So a hop worker cannot be used as an open proxy.
 *
 * Ownership: binds belong to the node; a bind pointer is valid until ockam_udp_bind_close()
 * or node free. Strings returned by accessors live as long as the bind.
 * Threading: loop thread only. */
#ifndef OCKAM_UDP_H
#define OCKAM_UDP_H

#include "ockam/node.h"
#include "ockam/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ockam_udp_bind ockam_udp_bind;

typedef struct ockam_udp_config {
    /* Bytes one peer's partial message may hold. Defaults to OCKAM_UDP_MAX_MESSAGE, so that
     * the largest message Ockam allows can be reassembled. */
    size_t max_peer_bytes;
    /* Bytes all partial messages of all binds of the node may hold together. */
    size_t max_total_bytes;
    /* A partial message that receives nothing for this long is dropped. */
    uint32_t partial_timeout_ms;
    /* Peers (source socket addresses) whose reassembly state a bind keeps. */
    uint32_t max_peers;
    /* SO_RCVBUF for every bind; the kernel may clamp it (net.core.rmem_max). 0 = OS default.
     * Bursts of fragments overflow a small receive buffer before the loop can read them. */
    size_t recv_buffer_size;
    /* Bytes a bind may queue when the socket is not writable; above it messages are dropped
     * (counted in send_dropped). */
    size_t max_send_queue;
    /* Destinations (exact "host:port" text, or "*") that messages from other nodes may be
     * sent to through the default bind or a bind without a fixed peer. Copied. */
    const char *const *allowed_outgoing;
    size_t allowed_outgoing_count;
} ockam_udp_config;

#define OCKAM_UDP_CONFIG_INIT                                                                      \
    {                                                                                              \
        .max_peer_bytes = OCKAM_UDP_MAX_MESSAGE, .max_total_bytes = 2u * OCKAM_UDP_MAX_MESSAGE,    \
        .partial_timeout_ms = 5000, .max_peers = 1024, .recv_buffer_size = 4u * 1024u * 1024u,     \
        .max_send_queue = 8u * 1024u * 1024u, .allowed_outgoing = NULL,                            \
        .allowed_outgoing_count = 0                                                                \
    }

/* Register the UDP transport on a node (cfg NULL = defaults). Must precede the other calls.
 * OCKAM_EEXIST if already registered, OCKAM_EINVAL for a zero cap, OCKAM_ENOMEM. */
OCKAM_API ockam_err ockam_udp_init(ockam_node *node, const ockam_udp_config *cfg);

typedef struct ockam_udp_bind_opts {
    /* Fixed peer "host:port" (names are resolved now, blocking, and every address the socket
     * reaches is kept for the fallback above), or NULL for none. */
    const char *peer;
} ockam_udp_bind_opts;

/* Bind a UDP socket at "host:port" ("0.0.0.0:0", "127.0.0.1:4000", "[::1]:0",
 * "localhost:0"; names are resolved now, blocking) and start its sender worker. Synchronous:
 * on return the socket is bound and receiving (ockam_udp_bind_local has the real port).
 * opts may be NULL. Errors: OCKAM_ENOTSUP (ockam_udp_init not called), OCKAM_EADDRINVAL
 * (malformed or unresolvable address, or a peer with no address the socket reaches),
 * OCKAM_EADDRINUSE, OCKAM_ENOMEM, OCKAM_ESYSERR. *out may be NULL. */
OCKAM_API ockam_err ockam_udp_bind_open(
    ockam_node *node, const char *host_port, const ockam_udp_bind_opts *opts, ockam_udp_bind **out);

/* A bind's counters, read with ockam_udp_bind_stats(). */
struct ockam_udp_stats {
    uint64_t datagrams_in, datagrams_out;
    uint64_t messages_in;    /* routing messages reassembled, decoded and routed */
    uint64_t messages_out;   /* routing messages handed to the socket (every fragment) */
    uint64_t malformed;      /* datagrams (or reassembled messages) that did not decode, and
                                fragments reaching beyond the 16 MiB message limit */
    uint64_t oversized;      /* datagrams larger than OCKAM_UDP_MAX_DATAGRAM */
    uint64_t foreign;        /* datagrams from a source other than the fixed peer */
    uint64_t late;           /* fragments of an older routing number */
    uint64_t gaps;           /* messages dropped because a fragment was missing or reordered */
    uint64_t abandoned;      /* partial messages dropped, for any reason (newer message, gap,
                                cap, timeout, peer evicted) */
    uint64_t over_cap;       /* messages dropped because a reassembly cap was reached */
    uint64_t stale;          /* partial messages dropped by the timeout */
    uint64_t evicted;        /* peers forgotten to make room for new ones */
    uint64_t empty;          /* reassembled messages with an empty onward route (dropped) */
    uint64_t send_dropped;   /* messages not sent: socket error, queue full, bad destination,
                                refused by the security rules, refused by the network (ICMP)
                                and not sent again */
    uint64_t unreachable;    /* datagrams the network refused (ICMP port/host unreachable) */
    uint64_t resent;         /* messages sent again to the next address of their name */
    size_t queued_bytes;     /* bytes waiting for the socket (the bind's queue and libuv's) */
    size_t reassembly_bytes; /* bytes held by partial messages now */
    size_t reassembly_peak;  /* highest reassembly_bytes seen */
    uint32_t peers;          /* peers tracked now */
};

/* The bind's sender address (32 hex chars): put it in routes, e.g. [0#<it>, 2#h:p, 0#echo]. */
OCKAM_API const char *ockam_udp_bind_address(const ockam_udp_bind *bind);
/* The bound socket address with the real port: "127.0.0.1:54321", "[::1]:54321". */
OCKAM_API const char *ockam_udp_bind_local(const ockam_udp_bind *bind);
/* The fixed peer's address in use now, as a numeric "ip:port" (it changes when the peer's
 * name falls back to its next address), or NULL without a fixed peer. */
OCKAM_API const char *ockam_udp_bind_peer(const ockam_udp_bind *bind);
/* The fixed peer as it was given ("localhost:4000"), or NULL without one. */
OCKAM_API const char *ockam_udp_bind_peer_name(const ockam_udp_bind *bind);
/* Producer flow id of messages arriving on this bind: make workers consumers of it. */
OCKAM_API ockam_flow_id ockam_udp_bind_flow_id(const ockam_udp_bind *bind);
/* True for the default bind the transport created for 2#host:port first hops. */
OCKAM_API bool ockam_udp_bind_is_default(const ockam_udp_bind *bind);
OCKAM_API void ockam_udp_bind_stats(const ockam_udp_bind *bind, struct ockam_udp_stats *out);
/* Stop the sender worker, drop queued datagrams and partial messages, close the socket
 * (asynchronously). The pointer must not be used after this call; a closed bind is no longer
 * found or listed. */
OCKAM_API void ockam_udp_bind_close(ockam_udp_bind *bind);

/* Find a bind by sender address or bound address text; NULL if none. */
OCKAM_API ockam_udp_bind *ockam_udp_bind_find(ockam_node *node, const char *address_or_local);
/* Calls fn for every open bind (fn must not close binds). */
OCKAM_API void ockam_udp_bind_each(
    ockam_node *node, void (*fn)(ockam_udp_bind *bind, void *arg), void *arg);
/* Bytes held by partial messages of all binds of the node (bounded by max_total_bytes). */
OCKAM_API size_t ockam_udp_reassembly_bytes(ockam_node *node);

#ifdef __cplusplus
}
#endif
#endif
