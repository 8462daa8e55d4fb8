/* TCP transport (address type 1), wire-compatible with Ockam v0.128+ (CURRENT profile) and,
 * per listener or connection, with Ockam <= v0.127 (LEGACY profile). docs/wire.md §4.
 *
 * Security rules:
 *  - Flow control, default deny: a message arriving on a connection reaches only addresses
 *    that are consumers of the connection's flow id (outgoing) or of its listener's flow id
 *    (accepted). The worker that sent a message through a connection becomes a consumer of
 *    that connection, so replies always reach it. A message keeps that origin while local
 *    workers (hop, relay...) forward it, so every later decision on this node uses it too.
 *  - A message whose next hop is 1#host:port makes the node connect (or reuse a connection to
 *    that peer) only when the message was created on this node. A message that arrived from
 *    another node never opens a connection unless host:port is in allowed_outgoing ("*" allows
 *    any), so a hop worker cannot be used as an open proxy. Entries are compared with the
 *    address text exactly as it appears in the route ("localhost:4000" is not
 *    "127.0.0.1:4000"). With the list, one route may cross several TCP hops
 *    (/ip4/A/tcp/P/service/hop/ip4/B/tcp/Q/service/echo), each node deciding for itself.
 *  - Every connection's sender address (outgoing and accepted) accepts messages of any
 *    origin. This is safe because reaching a sender never opens anything: it only writes to a
 *    peer this node is already connected to, whose own flow control then decides what it
 *    accepts. It is needed because replies to remote peers travel through local workers
 *    (echo, hop, relays) whose messages keep the remote origin; denying them would cut every
 *    reply. A sender address is 128 random bits, learnt only from return routes of messages
 *    that crossed that connection, so a peer can only write to connections that took part
 *    in its own exchanges.
 *
 * Behaviour worth knowing:
 *  - Lazy connects reuse an open (or opening) outgoing connection of default_profile to the
 *    same host:port text; otherwise they open a new one and queue the message until it is up.
 *    If it fails, the queued messages are freed and counted, with one log line.
 *  - A message too large for a connection's profile (body > 16 MiB CURRENT, > 65 535 LEGACY)
 *    is refused with one log line and counted in stats.refused; the connection stays up
 *    (Rust closes it; we do not, so one oversized send cannot cut every other user of a
 *    shared connection). Through a 1#host:port hop the sender gets OCKAM_EMSGSIZE.
 *  - Reads per connection are bounded per loop turn, and a connection whose messages fill
 *    another connection's write queue above write_high_water stops being read until that
 *    queue drains below half the mark: a relay's memory stays near the mark and no message
 *    is dropped for it.
 *  - TCP_NODELAY and keepalive (300 s) are set on every connection. The handshake timeout
 *    covers connecting, the peer's version byte (CURRENT) and, on accepted LEGACY
 *    connections, the first frame header.
 *  - ockam_tcp_listen() and ockam_tcp_connect() register the transport with the defaults
 *    when ockam_tcp_init() was not called first.
 *  - Registering TCP or UDS sets SIGPIPE to "ignore" if it still has its default action:
 *    writing to a connection the peer closed must fail with an error, not kill the process.
 *    A handler the application installed is left alone.
 * Threading: loop thread only. */
#ifndef OCKAM_TCP_H
#define OCKAM_TCP_H

#include "ockam/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ockam_tcp_config {
    /* Write queue high-water mark per connection: above it the node stops reading from the
     * connections that feed it, and resumes below half of it. */
    size_t write_high_water;
    /* A peer must complete the handshake (CURRENT: version byte; LEGACY: first frame header)
     * within this time or the connection is closed. 0 = no limit. */
    uint32_t handshake_timeout_ms;
    /* Destinations that messages from other nodes may make this node connect to. */
    const char *const *allowed_outgoing;
    size_t allowed_outgoing_count;
    /* Profile used for connections opened on demand for 1#host:port hops. */
    ockam_wire_profile default_profile;
} ockam_tcp_config;

#define OCKAM_TCP_CONFIG_INIT                                                                      \
    {                                                                                              \
        .write_high_water = 4u * 1024u * 1024u, .handshake_timeout_ms = 10000,                     \
        .allowed_outgoing = NULL, .allowed_outgoing_count = 0,                                     \
        .default_profile = OCKAM_WIRE_CURRENT                                                      \
    }

/* Register the TCP transport on a node (cfg NULL = defaults). OCKAM_EEXIST if already done. */
OCKAM_API ockam_err ockam_tcp_init(ockam_node *node, const ockam_tcp_config *cfg);

typedef struct ockam_tcp_listen_opts {
    ockam_wire_profile profile;
} ockam_tcp_listen_opts;

/* Bind and listen at "host:port" (IPv4, "[v6]:port", or "localhost:port"; port 0 picks one).
 * Synchronous: on return the socket is bound (ockam_listener_address has the real port).
 * OCKAM_EADDRINUSE, OCKAM_EADDRINVAL, OCKAM_ESYSERR. opts NULL = CURRENT. */
OCKAM_API ockam_err ockam_tcp_listen(ockam_node *node, const char *host_port,
    const ockam_tcp_listen_opts *opts, ockam_listener **out);

typedef struct ockam_tcp_connect_opts {
    ockam_wire_profile profile;
} ockam_tcp_connect_opts;

/* Connect to "host:port" (names resolved off the loop). cb runs exactly once, never from
 * inside this call. The connection's sender address accepts messages of any origin (the
 * operator chose this destination). OCKAM_EADDRINVAL for a malformed address (cb not called). */
OCKAM_API ockam_err ockam_tcp_connect(ockam_node *node, const char *host_port,
    const ockam_tcp_connect_opts *opts, ockam_connect_cb cb, void *user);

#ifdef __cplusplus
}
#endif
#endif
