/* Messages: an onward route, a return route, a payload, an optional tracing context and a
 * local-info list (never sent on the wire).
 *
 * Ownership: a message has exactly one owner. Every function that sends a message consumes
 * it, even when it fails. A worker callback owns the message it receives and must forward,
 * reply with, or free it. The routes and payload belong to the message.
 *
 * Origin: a message that entered the node from a transport carries that origin (the
 * connection's producer flow id and the listener's spawner flow id) for as long as local
 * workers forward it, so every access decision can use it. Locally created messages have a
 * zero origin. */
#ifndef OCKAM_MSG_H
#define OCKAM_MSG_H

#include "ockam/route.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ockam_msg ockam_msg;

/* Flow-control id: 0 means "none" / local. */
typedef uint64_t ockam_flow_id;

typedef struct ockam_origin {
    ockam_flow_id producer; /* the connection (or other producer) the message came from */
    ockam_flow_id spawner;  /* the listener that accepted that connection, or 0 */
} ockam_origin;

/* True for a message created on this node (no transport origin). Every "did this come from
 * another node?" decision -- the router's flow control, the transports' outgoing rules, a
 * service's own checks -- uses this test. */
static inline bool
ockam_origin_is_local(ockam_origin o)
{
    return o.producer == 0 && o.spawner == 0;
}

OCKAM_API ockam_msg *ockam_msg_new(void); /* empty routes and payload; NULL on ENOMEM */
OCKAM_API void ockam_msg_free(ockam_msg *msg);
/* Deep copy, including local info and origin. NULL on ENOMEM. */
OCKAM_API ockam_msg *ockam_msg_clone(const ockam_msg *msg);

OCKAM_API ockam_route *ockam_msg_onward(ockam_msg *msg);
OCKAM_API ockam_route *ockam_msg_return(ockam_msg *msg);
OCKAM_API const ockam_route *ockam_msg_onward_const(const ockam_msg *msg);
OCKAM_API const ockam_route *ockam_msg_return_const(const ockam_msg *msg);

/* Replace the payload with a copy of data[0..len). */
OCKAM_API ockam_err ockam_msg_set_payload(ockam_msg *msg, const void *data, size_t len);
/* Replace the payload with len uninitialised bytes and return them for filling; NULL on
 * ENOMEM. The pointer is valid until the payload is next replaced or the message freed. */
OCKAM_API uint8_t *ockam_msg_payload_reserve(ockam_msg *msg, size_t len);
OCKAM_API ockam_slice ockam_msg_payload(const ockam_msg *msg);

/* Tracing context (wire field 4 / BARE field 5): absent unless set. */
OCKAM_API ockam_err ockam_msg_set_tracing(ockam_msg *msg, const char *text, size_t len);
OCKAM_API void ockam_msg_clear_tracing(ockam_msg *msg);
/* false when absent. */
OCKAM_API bool ockam_msg_tracing(const ockam_msg *msg, ockam_slice *out);

/* Local info: (type, bytes) pairs attached by workers; a later add with the same type
 * replaces the earlier one. Never encoded on the wire. */
OCKAM_API ockam_err ockam_msg_local_info_set(
    ockam_msg *msg, const char *type, const void *data, size_t len);
OCKAM_API bool ockam_msg_local_info_get(const ockam_msg *msg, const char *type, ockam_slice *out);
OCKAM_API size_t ockam_msg_local_info_count(const ockam_msg *msg);

OCKAM_API ockam_origin ockam_msg_origin(const ockam_msg *msg);
/* Only transports should set an origin; forwarding workers never change it. */
OCKAM_API void ockam_msg_set_origin(ockam_msg *msg, ockam_origin origin);

#ifdef __cplusplus
}
#endif
#endif
