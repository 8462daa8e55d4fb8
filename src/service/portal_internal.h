/* Portal internals (docs/wire.md §7): the part an inlet and an outlet share (the "owner") and the
 * per-TCP-connection worker with its socket (portal_conn.c). Loop thread only.
 *
 * Lifetime: an owner is reference-counted: one reference for itself until it is stopped, one
 * for its listening handle (inlet) and one per connection. A connection is freed when its
 * worker has stopped and every libuv handle and request it owns has completed. */
#ifndef OCKAM_SERVICE_PORTAL_INTERNAL_H
#define OCKAM_SERVICE_PORTAL_INTERNAL_H

#include "core/host_port.h"
#include "core/list.h"
#include "node/node_internal.h"
#include "node/uv_err.h"
#include "ockam/portal.h"

/* PortalMessage variants (§7.1). */
#define OCKAM__PORTAL_PING 0
#define OCKAM__PORTAL_PONG 1
#define OCKAM__PORTAL_DISCONNECT 2
#define OCKAM__PORTAL_PAYLOAD 3

#define OCKAM__PORTAL_DEFAULT_HIGH_WATER (1024u * 1024u)
#define OCKAM__PORTAL_DEFAULT_TIMEOUT_MS 10000u

struct ockam__portal_conn;

enum ockam__portal_role { OCKAM__PORTAL_INLET, OCKAM__PORTAL_OUTLET };

struct ockam__portal_owner {
    ockam_node *node;
    enum ockam__portal_role role;
    size_t high_water;
    uint32_t timeout_ms; /* inlet: Pong wait; outlet: connect */
    struct ockam_portal_stats stats;
    struct ockam__link conns; /* its connections, newest first */
    int refs;
    bool stopping;
    bool half_close; /* send Hello and Fin (ockam/portal.h, Half-close) */
    /* One read buffer for all its connections: a read's bytes are copied into Payloads
     * before on_read returns, so no connection needs its own (192 KiB each otherwise, kept
     * while the connection lives: 1 000 connections held 190 MB). Allocated on the first
     * read; freed when the last connection is freed (a closing socket still reads while it
     * drains, so only then can none read) and with the owner: an idle outlet holds nothing. */
    uint8_t *rbuf;
    uint64_t heard; /* messages from the connections' peers (an inlet's probe counts them) */
    size_t nconns;  /* connections not yet freed (listed or closing) */
    char last_error[200];
    const char *name;   /* for log lines: the outlet address or the inlet bind address */
    const char *target; /* outlet: "host:port" it connects to */
    /* Called when refs reaches zero. */
    void (*destroy)(struct ockam__portal_owner *owner);
    /* Handshake results (inlet status): ok, or the reason it failed. May be NULL. */
    void (*handshake)(struct ockam__portal_owner *owner, bool ok, const char *why);
};

void ockam__portal_owner_unref(struct ockam__portal_owner *owner);
void ockam__portal_owner_error(struct ockam__portal_owner *owner, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Inlet side: a client accepted on `server`; sends Ping along outlet_route. */
void ockam__portal_conn_accept(
    struct ockam__portal_owner *owner, uv_stream_t *server, const ockam_route *outlet_route);
/* Outlet side: a Ping arrived (msg borrowed); connect to target, then Pong. */
void ockam__portal_conn_open(
    struct ockam__portal_owner *owner, const ockam_msg *ping, const char *target);
/* Close every connection of the owner (each peer gets Disconnect). At node free only the
 * sockets are left to the connections' own workers. */
void ockam__portal_conns_abort(struct ockam__portal_owner *owner);

/* The route to the peers is dead (an inlet's probe went DOWN): every connection of the owner
 * is aborted as on an error (its application sees a reset; its peer gets Disconnect, which
 * arrives if the peer is still reachable after all). The owner keeps running. */
void ockam__portal_conns_reset(struct ockam__portal_owner *owner, const char *why);

/* The liveness query extension (docs/wire.md §7.5): empty Payloads whose trailer starts with a
 * tag no implementation reads as a packet counter. Query (inlet -> outlet listener) and Gone
 * (the answer) list outlet-side worker addresses, each as u8 length + bytes. */
#define OCKAM__PORTAL_TAG_QUERY 2
#define OCKAM__PORTAL_TAG_GONE 3
#define OCKAM__PORTAL_QUERY_MAX 1000 /* addresses per Query */
/* And the outlet's side (§7.6): Ask (outlet worker -> its inlet worker) and Here (the answer),
 * exactly these three bytes each. */
#define OCKAM__PORTAL_TAG_ASK 4
#define OCKAM__PORTAL_TAG_HERE 5
#define OCKAM__PORTAL_DEFAULT_ASK_MS 10000u
#define OCKAM__PORTAL_ASK_MISSES 3u /* quiet periods in a row before a connection is reset */

/* Inlet: the Query for this period, listing the outlet-side workers of the connections that
 * heard nothing from their peer since the last call (and whose peer speaks the extensions),
 * then starts a new period. NULL when there is none. Caller frees with ockam__free. */
uint8_t *ockam__portal_query(struct ockam__portal_owner *owner, size_t *len);
/* Outlet: the Gone answer to a Query payload (the addresses that are no worker of this node),
 * or NULL when every one lives (or the Query is malformed). Caller frees with ockam__free. */
uint8_t *ockam__portal_gone(struct ockam__portal_owner *owner, ockam_slice query, size_t *len);
/* Inlet: a Gone answer arrived: the connections whose peer is listed are reset. */
void ockam__portal_on_gone(struct ockam__portal_owner *owner, ockam_slice gone);
/* Outlet: one period of the check of its inlets (§7.6): a connection that heard nothing from
 * its inlet for OCKAM__PORTAL_ASK_MISSES periods in a row, its question not held back, is
 * reset; the others that heard nothing in this period are asked. */
void ockam__portal_ask_tick(struct ockam__portal_owner *owner);
/* True when a payload is a liveness message with this tag. */
bool ockam__portal_is_ext(ockam_slice p, uint8_t tag);

/* A numeric address for host:port ("localhost" counts as 127.0.0.1). false if not numeric. */
bool ockam__portal_numeric_addr(const char *host, uint16_t port, struct sockaddr_storage *ss);
/* "1.2.3.4:80" / "[::1]:80" (caller frees with ockam__free). */
char *ockam__portal_format_sockaddr(const struct sockaddr_storage *ss);

#endif
