/* Wire profiles and their limits (docs/wire.md §4.2, §4.3, §6.2). */
#ifndef OCKAM_WIRE_H
#define OCKAM_WIRE_H

#include "ockam/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ockam_wire_profile {
    /* Ockam v0.128+: one 0x01 version byte each way, then u32 BE length + CBOR body. */
    OCKAM_WIRE_CURRENT = 0,
    /* Ockam <= v0.127, UDS, WS, BLE: u16 BE length + BARE TransportMessage, no preamble. */
    OCKAM_WIRE_LEGACY = 1,
} ockam_wire_profile;

#define OCKAM_WIRE_VERSION 0x01
#define OCKAM_MAX_FRAME_CURRENT (16u * 1024u * 1024u) /* body bytes */
#define OCKAM_MAX_FRAME_LEGACY 65535u                 /* body bytes */

/* UDP (docs/wire.md §5.2) */
#define OCKAM_UDP_MAX_DATAGRAM 508
#define OCKAM_UDP_MAX_FRAGMENT_PAYLOAD 493
#define OCKAM_UDP_MAX_MESSAGE (16u * 1024u * 1024u)

OCKAM_API const char *ockam_wire_profile_name(ockam_wire_profile profile); /* "current"/"legacy" */
/* Parse "current" or "legacy"; OCKAM_EINVAL otherwise. */
OCKAM_API ockam_err ockam_wire_profile_parse(const char *text, ockam_wire_profile *out);

#ifdef __cplusplus
}
#endif
#endif
