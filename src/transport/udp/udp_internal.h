/* UDP transport internals shared by udp.c (binds, receive path, workers, ops),
 * udp_send.c (fragmentation, send queue, name resolution) and udp_addr.c (host:port text).
 *
 * Ownership: the transport state owns its binds. A bind is freed when its handle has closed
 * and every pending request that points at it (name resolutions, queued sends) has ended
 * (refs reaches zero); until then a closed bind is off the list and unreachable.
 * Threading: loop thread only. */
#ifndef OCKAM_TRANSPORT_UDP_INTERNAL_H
#define OCKAM_TRANSPORT_UDP_INTERNAL_H

#include "core/list.h"
#include "node/policy.h"
#include "node/transport.h"
#include "node/uv_err.h"
#include "ockam/udp.h"
#include "transport/udp/udp_reasm.h"

#include <netinet/in.h>

/* Send requests a bind keeps in libuv at once; beyond it datagrams wait in the bind's own
 * queue as whole encoded messages (so memory stays ~ the message bytes). */
#define OCKAM__UDP_INFLIGHT 64
/* Name resolutions (uv_getaddrinfo) a bind may have pending. */
#define OCKAM__UDP_MAX_RESOLVING 32

union ockam__udp_sa {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    struct sockaddr_storage ss;
};

/* A parsed "host:port". */
struct ockam__udp_dest {
    char host[OCKAM_MAX_ADDR_LEN + 1]; /* without brackets */
    uint16_t port;
    bool numeric; /* host is an IPv4 or IPv6 literal: sa is filled */
    union ockam__udp_sa sa;
};

/* One message waiting for the socket, already encoded; sent fragment by fragment. */
struct ockam__udp_out {
    struct ockam__udp_out *next;
    union ockam__udp_sa dst;
    uint16_t number;
    size_t total; /* length of the whole routing message */
    size_t base;  /* offset of body[0] in it (the fragments before were sent directly) */
    size_t off;   /* offset of the next fragment to send */
    size_t len;   /* bytes in body */
    uint8_t body[];
};

struct ockam__udp_req {
    uv_udp_send_t req;
    struct ockam__udp_req *next_free;
    ockam_udp_bind *bind;
    uint8_t dgram[OCKAM_UDP_MAX_DATAGRAM];
};

struct ockam__udp_resolve; /* udp_send.c */

/* Private state of the registered UDP transport. */
struct ockam__udp {
    ockam_node *node;
    ockam_udp_config cfg;     /* without allowed_outgoing: node/policy.c keeps it */
    struct ockam__link binds; /* open binds (ockam_udp_bind), newest first */
    ockam_udp_bind *default4, *default6;
    struct ockam__udp_budget budget;
    uint8_t *rbuf; /* receive buffer shared by all binds (callbacks never overlap) */
    size_t rbuf_len;
    uint8_t *scratch; /* encoding buffer */
    size_t scratch_cap;
    uv_timer_t sweep; /* drops stale partial messages */
    bool shutting_down;
};

struct ockam_udp_bind {
    struct ockam__udp *t;
    struct ockam__link link; /* in t->binds while open */
    uv_udp_t io;
    int refs; /* the handle + pending resolutions */
    bool closing, is_default, fixed;
    int family; /* AF_INET / AF_INET6 */
    ockam_worker *sender;
    char addr[OCKAM_RANDOM_ADDR_LEN + 1];
    char local[OCKAM__UDP_PEER_TEXT];
    char peer_text[OCKAM__UDP_PEER_TEXT];
    union ockam__udp_sa peer_sa;
    struct ockam__udp_pkey peer_key;
    struct ockam__policy_flow flow; /* its id is the producer of arriving messages */
    uint16_t next_number;
    struct ockam__udp_reasm reasm;
    struct ockam_udp_stats stats;
    /* send queue */
    struct ockam__udp_out *out_head, *out_tail;
    size_t out_bytes;
    uint32_t inflight;
    struct ockam__udp_req *free_reqs;
    struct ockam__udp_req *reqs; /* OCKAM__UDP_INFLIGHT of them, allocated on first need */
    struct ockam__udp_resolve *resolving;
    uint32_t nresolving;
};

/* ---- udp_addr.c ----------------------------------------------------------------------- */
/* Parse "a.b.c.d:p", "[v6]:p" or "name:p" (port 0..65535; port_required rejects 0). */
ockam_err ockam__udp_parse(
    const char *text, size_t len, bool port_required, struct ockam__udp_dest *out);
/* "ip:port" / "[ip6]:port" into out (OCKAM__UDP_PEER_TEXT bytes). */
void ockam__udp_format(const struct sockaddr *sa, char *out);
/* Hashable key of a socket address; false for a family other than IPv4/IPv6. */
bool ockam__udp_key(const struct sockaddr *sa, struct ockam__udp_pkey *key);
/* Resolve a name synchronously (blocking the loop; only for operator calls). */
ockam_err ockam__udp_resolve_now(uv_loop_t *loop, struct ockam__udp_dest *d, int family);

/* ---- udp_send.c ----------------------------------------------------------------------- */
/* Encode msg and send it to dst, fragment by fragment. Consumes msg. */
ockam_err ockam__udp_send(ockam_udp_bind *b, ockam_msg *msg, const union ockam__udp_sa *dst);
/* Send to a parsed destination: at once when numeric, after uv_getaddrinfo otherwise.
 * Consumes msg. */
ockam_err ockam__udp_send_to(ockam_udp_bind *b, ockam_msg *msg, const struct ockam__udp_dest *d);
/* Cancel resolutions, free the send queue (the bind is closing). */
void ockam__udp_send_close(ockam_udp_bind *b);
/* The bind may be freed once the last reference is gone (udp.c). */
void ockam__udp_bind_unref(ockam_udp_bind *b);
/* Count and log (rate-limited) a message that could not be sent. Consumes msg. */
ockam_err ockam__udp_send_drop(ockam_udp_bind *b, ockam_msg *msg, ockam_err err, const char *why);

#endif
