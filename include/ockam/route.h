/* Routes: ordered lists of addresses (docs/wire.md §1.2). The front is the next hop.
 *
 * Ownership: a route owns copies of its addresses. Routes inside a message belong to the
 * message (ockam_msg_onward/ockam_msg_return); free only routes made with ockam_route_new.
 * Push/pop at the front and the back are O(1) amortised (headroom at both ends).
 * Threading: a route is not thread-safe; use it from one thread at a time. */
#ifndef OCKAM_ROUTE_H
#define OCKAM_ROUTE_H

#include "ockam/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most addresses a route may hold; decoders refuse more with OCKAM_EROUTELEN. */
#define OCKAM_MAX_ROUTE_LEN 1024

typedef struct ockam_route ockam_route;

OCKAM_API ockam_route *ockam_route_new(void); /* NULL on ENOMEM */
OCKAM_API void ockam_route_free(ockam_route *route);

OCKAM_API size_t ockam_route_len(const ockam_route *route);
/* i must be < len. The view is valid until the route is next modified. */
OCKAM_API ockam_addr ockam_route_at(const ockam_route *route, size_t i);
/* Front / back of a non-empty route (asserts on an empty one). */
OCKAM_API ockam_addr ockam_route_front(const ockam_route *route);
OCKAM_API ockam_addr ockam_route_back(const ockam_route *route);

/* Each copies the address bytes. OCKAM_EROUTELEN when full, OCKAM_EADDRLEN if too long. */
OCKAM_API ockam_err ockam_route_push_front(ockam_route *route, ockam_addr addr);
OCKAM_API ockam_err ockam_route_push_back(ockam_route *route, ockam_addr addr);
/* OCKAM_EROUTE on an empty route. */
OCKAM_API ockam_err ockam_route_pop_front(ockam_route *route);
OCKAM_API ockam_err ockam_route_pop_back(ockam_route *route);

/* dst := src ‖ dst (prepend) / dst := dst ‖ src (append). dst and src must differ. */
OCKAM_API ockam_err ockam_route_prepend(ockam_route *dst, const ockam_route *src);
OCKAM_API ockam_err ockam_route_append(ockam_route *dst, const ockam_route *src);
/* dst := copy of src. */
OCKAM_API ockam_err ockam_route_copy(ockam_route *dst, const ockam_route *src);
OCKAM_API void ockam_route_clear(ockam_route *route);
OCKAM_API bool ockam_route_eq(const ockam_route *a, const ockam_route *b);

/* Parse "a => b => 1#h:p" ('=>' with optional spaces) and append to dst. An empty string is
 * an empty route. Errors from ockam_addr_parse, or OCKAM_EINVAL for an empty element. */
OCKAM_API ockam_err ockam_route_parse(ockam_route *dst, const char *text);
/* Print "0#a => 0#b" like snprintf (returns the full length needed). */
OCKAM_API size_t ockam_route_format(const ockam_route *route, char *buf, size_t cap);
/* Same, into a new string the caller frees with ockam_free(). NULL on ENOMEM. */
OCKAM_API char *ockam_route_to_string(const ockam_route *route);

#ifdef __cplusplus
}
#endif
#endif
