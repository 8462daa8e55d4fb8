/* Unix-domain-socket transport (address type 5): LEGACY framing (u16 BE length + BARE
 * TransportMessage), docs/wire.md §6.2. Same connection/listener objects and flow-control rules
 * as TCP (see ockam/tcp.h and ockam/stream.h). Listener sockets are created with mode 0600
 * and removed when the listener closes. Loop thread only. */
#ifndef OCKAM_UDS_H
#define OCKAM_UDS_H

#include "ockam/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ockam_uds_config {
    /* Write queue high-water mark per connection (as ockam_tcp_config.write_high_water). */
    size_t write_high_water;
    /* A peer must send its first frame header within this time after connecting, or the
     * connection is closed. 0 = no limit. */
    uint32_t handshake_timeout_ms;
    /* Socket paths that messages from other nodes may make this node connect to ("*" allows
     * any); compared with the path exactly as it appears in the route. */
    const char *const *allowed_outgoing;
    size_t allowed_outgoing_count;
} ockam_uds_config;

#define OCKAM_UDS_CONFIG_INIT                                                                      \
    {                                                                                              \
        .write_high_water = 4u * 1024u * 1024u, .handshake_timeout_ms = 10000,                     \
        .allowed_outgoing = NULL, .allowed_outgoing_count = 0                                      \
    }

/* Register the UDS transport on a node (cfg NULL = defaults). OCKAM_EEXIST if already done,
 * OCKAM_EINVAL for a list count without a list. */
OCKAM_API ockam_err ockam_uds_init(ockam_node *node, const ockam_uds_config *cfg);
/* Listen at a filesystem path (an existing stale socket file is replaced; a live socket or
 * any other file there gives OCKAM_EADDRINUSE; a path too long for sun_path gives
 * OCKAM_EADDRINVAL). Listen and connect register the transport if needed. */
OCKAM_API ockam_err ockam_uds_listen(ockam_node *node, const char *path, ockam_listener **out);
OCKAM_API ockam_err ockam_uds_connect(
    ockam_node *node, const char *path, ockam_connect_cb cb, void *user);

#ifdef __cplusplus
}
#endif
#endif
