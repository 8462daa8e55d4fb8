/* UDP transport internals shared by udp.c (binds, receive path, workers, ops),
 * udp_send.c (fragmentation, send queue), udp_name.c (names, their addresses and the
 * fallback when one proves unreachable) and udp_addr.c (host:port text, socket addresses).
 *
 * Ownership: the transport state owns its binds; a bind owns its names. A bind is freed when
 * its handle has closed and every pending request that points at it (name resolutions,
 * queued sends) has ended (refs reaches zero); until then a closed bind is off the list and
 * unreachable.
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

/* Messages a bind may hold while their destination names are being resolved. */
#define OCKAM__UDP_MAX_WAITING 64
/* Addresses of one name that are tried in turn. */
#define OCKAM__UDP_MAX_CANDIDATES 8
/* Names a bind without a fixed peer remembers (least recently used forgotten first). */
#define OCKAM__UDP_MAX_NAMES 64
/* A name resolved by DNS is resolved again, for the next message, after this long. */
#define OCKAM__UDP_NAME_TTL_MS 30000u
/* An address nothing refused for this long after its first datagram is taken as working:
 * copies of messages are no longer kept for a resend (an ICMP error comes back in one
 * round trip). */
#define OCKAM__UDP_PROVE_MS 2000u
/* Bytes of such copies one bind may keep. */
#define OCKAM__UDP_KEEP_BYTES (256u * 1024u)
/* (address, routing number) pairs a bind remembers as already sent again, so that the other
 * fragments of a message bouncing later are not counted as lost. */
#define OCKAM__UDP_RESENT 64

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

/* The one datagram a bind has in libuv while its socket is full (udp_send.c). */
struct ockam__udp_req {
    uv_udp_send_t req;
    ockam_udp_bind *bind;
    union ockam__udp_sa dst; /* as given to the socket */
    uint16_t number;         /* its message's routing number */
    int retries;             /* sends again after another datagram's pending error */
    uv_buf_t buf;
    uint8_t dgram[OCKAM_UDP_MAX_DATAGRAM];
};

/* A copy of a message sent to a name's address that is not proven yet, to send it again to
 * the name's next address if this one refuses it. */
struct ockam__udp_kept {
    struct ockam__udp_kept *next;
    uint16_t number;
    uint64_t at;
    size_t len;
    uint8_t body[];
};

/* A message waiting for its destination name to resolve. */
struct ockam__udp_wait {
    struct ockam__udp_wait *next;
    ockam_msg *msg;
};

/* A destination name ("host:port" as written) and the addresses it resolved to, tried in
 * turn (udp_name.c). */
struct ockam__udp_name {
    struct ockam__udp_name *next; /* in the bind's list; the fixed peer's is not listed */
    ockam_udp_bind *bind;
    char host[OCKAM_MAX_ADDR_LEN + 1];
    uint16_t port;
    bool stable;    /* an IP literal or localhost: the list never changes, no DNS */
    bool resolving; /* uv_getaddrinfo pending (it holds a reference on the bind) */
    bool resolved;  /* addrs holds the answer */
    bool exhausted; /* every address refused: start again (resolve again) on the next send */
    bool tried;     /* a datagram went to addrs[cur], at `since` */
    bool proven;    /* addrs[cur] refused nothing for OCKAM__UDP_PROVE_MS after that */
    uint8_t n, cur;
    union ockam__udp_sa addrs[OCKAM__UDP_MAX_CANDIDATES]; /* unmapped IPv4, ports set */
    uint64_t resolved_at, since, used_at;
    struct ockam__udp_wait *wait_head, *wait_tail;
    struct ockam__udp_kept *kept_head, *kept_tail;
    uv_getaddrinfo_t gai;
};

struct ockam__udp_resent {
    struct ockam__udp_pkey key;
    uint16_t number;
};

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
    int family;        /* AF_INET / AF_INET6 */
    bool dual;         /* an IPv6 wildcard socket that reaches IPv4 too (v4-mapped) */
    bool errq_pending; /* the socket's error queue may hold ICMP errors to read */
    ockam_worker *sender;
    char addr[OCKAM_RANDOM_ADDR_LEN + 1];
    char local[OCKAM__UDP_PEER_TEXT];
    char peer_text[OCKAM__UDP_PEER_TEXT]; /* the fixed peer's address in use */
    char peer_given[OCKAM_MAX_ADDR_LEN + 1];
    struct ockam__udp_name *peer; /* the fixed peer */
    struct ockam__udp_name *names;
    uint32_t nnames;
    uint32_t nwaiting; /* messages waiting for a name, all names together */
    size_t kept_bytes;
    struct ockam__udp_resent *resent; /* OCKAM__UDP_RESENT of them, allocated on first need */
    uint32_t resent_next;
    struct ockam__policy_flow flow; /* its id is the producer of arriving messages */
    uint16_t next_number;
    struct ockam__udp_reasm reasm;
    struct ockam_udp_stats stats;
    /* send queue: messages (or their rest) the socket did not take yet, in order */
    struct ockam__udp_out *out_head, *out_tail;
    size_t out_bytes;
    bool in_libuv;              /* req is in libuv: nothing else may be sent before it */
    struct ockam__udp_req *req; /* allocated when the socket is first full */
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
/* A v4-mapped IPv6 address ("::ffff:a.b.c.d") becomes the IPv4 address it maps, in place:
 * names, keys and texts always use the plain form. */
void ockam__udp_unmap(union ockam__udp_sa *sa);
/* The address to give b's socket for dst: dst itself, or its v4-mapped form on a dual-stack
 * socket. False when b's socket cannot reach dst's family. */
bool ockam__udp_to_wire(
    const ockam_udp_bind *b, const union ockam__udp_sa *dst, union ockam__udp_sa *wire);
/* True for "localhost" in any case: both loopback addresses, no DNS (RFC 6761). */
bool ockam__udp_is_localhost(const char *host);

/* ---- udp_send.c ----------------------------------------------------------------------- */
/* Encode msg and send it to dst (plain form), fragment by fragment. With `keep`, a copy is
 * kept for a resend to the name's next address (ockam__udp_name_keep). Consumes msg. */
ockam_err ockam__udp_send(ockam_udp_bind *b, ockam_msg *msg, const union ockam__udp_sa *dst,
    struct ockam__udp_name *keep);
/* Send an encoded routing message again (or for the first time) under routing number
 * `number`; counts and logs a failure. body is not consumed. */
ockam_err ockam__udp_send_encoded(ockam_udp_bind *b, const uint8_t *body, size_t total,
    uint16_t number, const union ockam__udp_sa *dst);
/* Send to a parsed destination: at once when numeric, through the bind's name table
 * otherwise (udp_name.c). Consumes msg. */
ockam_err ockam__udp_send_to(ockam_udp_bind *b, ockam_msg *msg, const struct ockam__udp_dest *d);
/* Free the send queue (the bind is closing). */
void ockam__udp_send_close(ockam_udp_bind *b);
/* True for the errors a send returns when an earlier datagram's ICMP error is pending on the
 * socket (IP_RECVERR): that send did not happen and may be tried again. */
bool ockam__udp_pending_error(int uv_err);

/* ---- udp_name.c ----------------------------------------------------------------------- */
/* Send msg to the name d (not numeric) through a bind without a fixed peer. Consumes msg. */
ockam_err ockam__udp_name_send_to(
    ockam_udp_bind *b, ockam_msg *msg, const struct ockam__udp_dest *d);
/* Send msg to the fixed peer. Consumes msg. */
ockam_err ockam__udp_name_send_peer(ockam_udp_bind *b, ockam_msg *msg);
/* Make the fixed peer from its text (names resolved now, blocking: operator calls only).
 * OCKAM_EADDRINVAL when malformed, unresolvable or of no family the socket reaches. */
ockam_err ockam__udp_name_peer(ockam_udp_bind *b, const char *text);
/* True when key is one of the fixed peer's addresses. */
bool ockam__udp_name_peer_has(const ockam_udp_bind *b, const struct ockam__udp_pkey *key);
/* Keep a copy of an encoded message just sent to name's current address. */
void ockam__udp_name_keep(
    struct ockam__udp_name *name, const uint8_t *body, size_t len, uint16_t number);
/* Enable ICMP error reports on the socket (IP_RECVERR/IPV6_RECVERR, Linux). */
void ockam__udp_errqueue_enable(ockam_udp_bind *b);
/* Read the socket's error queue: every refused datagram is counted, its name moves on to
 * its next address, and a kept copy is sent there. */
void ockam__udp_errqueue_read(ockam_udp_bind *b);
/* Cancel resolutions and drop waiting messages (the bind is closing). */
void ockam__udp_name_close(ockam_udp_bind *b);
/* Free every name (the bind is being freed). */
void ockam__udp_name_free_all(ockam_udp_bind *b);
/* For tests: take `answer` as the resolver's answer for the DNS name host_port on a bind
 * without a fixed peer, exactly as an answer of uv_getaddrinfo is taken (a machine's resolver
 * may have no name whose first address is ::1, or 127.0.0.1). OCKAM_EINVAL for a literal,
 * localhost or a fixed-peer bind. */
struct addrinfo;
ockam_err ockam__udp_name_answer(
    ockam_udp_bind *b, const char *host_port, const struct addrinfo *answer);
/* The bind may be freed once the last reference is gone (udp.c). */
void ockam__udp_bind_unref(ockam_udp_bind *b);
/* Count and log (rate-limited) a message that could not be sent. Consumes msg. */
ockam_err ockam__udp_send_drop(ockam_udp_bind *b, ockam_msg *msg, ockam_err err, const char *why);

#endif
