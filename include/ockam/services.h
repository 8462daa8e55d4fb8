/* Workers that ship with every node (docs/wire.md §9.2, docs/cli.md §5.1). Loop thread only.
 *   echo:      replies to the return route with the payload unchanged;
 *   uppercase: payload is a BARE string; replies with it upper-cased (ASCII), as Ockam's does;
 *              a payload that is not a BARE string gets no reply (one log line);
 *   hop:       pops itself from the onward route, pushes itself on the return route, forwards.
 * address NULL = the default name ("echo", "uppercase", "hop"). */
#ifndef OCKAM_SERVICES_H
#define OCKAM_SERVICES_H

#include "ockam/node.h"

#ifdef __cplusplus
extern "C" {
#endif

OCKAM_API ockam_err ockam_echo_start(ockam_node *node, const char *address, ockam_worker **out);
OCKAM_API ockam_err ockam_uppercase_start(
    ockam_node *node, const char *address, ockam_worker **out);
OCKAM_API ockam_err ockam_hop_start(ockam_node *node, const char *address, ockam_worker **out);

/* BARE string helpers for payloads (varint length + UTF-8 bytes). Caller frees *out with
 * ockam_free. */
OCKAM_API ockam_err ockam_bare_string_encode(
    const char *text, size_t len, uint8_t **out, size_t *out_len);
/* Views into buf; the whole buffer must be one BARE string. */
OCKAM_API ockam_err ockam_bare_string_decode(const uint8_t *buf, size_t len, ockam_slice *text);

#ifdef __cplusplus
}
#endif
#endif
