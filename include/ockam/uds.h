/* Unix-domain-socket transport (address type 5): LEGACY framing (u16 BE length + BARE
 * TransportMessage), wire spec §6.2. Same connection/listener objects and flow-control rules
 * as TCP (see ockam/tcp.h and ockam/stream.h). Listener sockets are created with mode 0600
 * and removed when the listener closes. Loop thread only. */
#ifndef OCKAM_UDS_H
#define OCKAM_UDS_H

#include "ockam/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Register the UDS transport (uses the same defaults as TCP for queue marks and timeouts). */
OCKAM_API ockam_err ockam_uds_init(ockam_node *node);
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
