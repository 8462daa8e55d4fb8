/* TCP transport (address type 1), wire-compatible with Ockam v0.128+ (CURRENT profile) and,
 * per listener or connection, with Ockam <= v0.127 (LEGACY profile). Wire spec §4.
 *
 * Security rules:
 *  - Flow control, default deny: a message arriving on a connection reaches only addresses
 *    that are consumers of the connection's flow id (outgoing) or of its listener's flow id
 *    (accepted). The worker that sent a message through a connection becomes a consumer of
 *    that connection, so replies always reach it.
 *  - A message whose next hop is 1#host:port makes the node connect (or reuse a connection to
 *    that peer) only when the message was created on this node. A message that arrived from
 *    another node never opens a connection unless host:port is in allowed_outgoing ("*" allows
 *    any), so a hop worker cannot be used as an open proxy.
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
