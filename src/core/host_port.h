/* "host:port" text, split once for every layer (transports, portals, the node manager, the
 * `ockam` command). Hex is in core.h. Pure functions on (ptr, len) input: no allocation, no
 * libuv, no sockets; any thread. */
#ifndef OCKAM_CORE_HOST_PORT_H
#define OCKAM_CORE_HOST_PORT_H

#include "ockam/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- host:port ----------------------------------------------------------------------- */

/* A "host:port" text split into views of the input (nothing is copied). */
typedef struct ockam__host_port {
    const char *host; /* without the brackets of an IPv6 literal; not NUL-terminated */
    size_t host_len;  /* > 0 */
    uint16_t port;    /* 0 is accepted: a caller that needs a real port checks */
    bool bracketed;   /* the host was written "[...]" (an IPv6 literal, by rule) */
} ockam__host_port;

/* Split "1.2.3.4:80", "[::1]:80" or "name:80" (text[0..len), no NUL needed). The port is the
 * 1 to 5 decimal digits after the last ':', at most 65535; an IPv6 literal must be in brackets,
 * since "::1:80" would be ambiguous. No name or address check beyond that: resolving is the
 * caller's. OCKAM_EADDRINVAL when malformed. Reads nothing past text[len - 1]. */
ockam_err ockam__host_port_split(const char *text, size_t len, ockam__host_port *out);

/* ockam__host_port_split of the NUL-terminated text (NULL: OCKAM_EADDRINVAL), with the host
 * copied NUL-terminated into host[host_cap]. OCKAM_EADDRINVAL also when the host does not fit
 * (a host of host_cap - 1 bytes does). */
ockam_err ockam__host_port_parse(const char *text, char *host, size_t host_cap, uint16_t *port);

#endif
