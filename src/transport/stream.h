/* The stream-connection engine shared by the TCP and UDS transports (internal).
 *
 * One struct ockam__stream is the private state of one registered transport (TCP or UDS);
 * the kind table says what differs (handle type, how to connect, socket options). Everything
 * else -- framing, route rewriting (docs/wire.md §4.4), lazy connects (§4.5), batched writes,
 * backpressure, handshake timeouts and the connection lifecycle -- lives in stream.c.
 *
 * Ownership: listeners and connections belong to their transport state. Each is freed after
 * every libuv handle and request it owns has completed; until then a torn-down connection
 * stays allocated but is unreachable (off every list and map).
 * Threading: loop thread only. */
#ifndef OCKAM_TRANSPORT_STREAM_H
#define OCKAM_TRANSPORT_STREAM_H

#include "core/codec.h"
#include "core/list.h"
#include "node/policy.h"
#include "node/transport.h"
#include "node/uv_err.h"
#include "ockam/stream.h"

#include <netdb.h>

/* ---- connection maps (stream_map.c) --------------------------------------------------- */

/* A chained hash map from a 64-bit hash to connections; the caller compares keys. */
struct ockam__hent {
    struct ockam__hent *next;
    uint64_t hash;
    ockam_conn *conn;
};
struct ockam__cmap {
    struct ockam__hent **buckets;
    size_t nbuckets, count;
};

/* OCKAM_ENOMEM. */
ockam_err ockam__cmap_put(struct ockam__cmap *m, uint64_t hash, ockam_conn *c);
void ockam__cmap_del(struct ockam__cmap *m, uint64_t hash, ockam_conn *c);
void ockam__cmap_fini(struct ockam__cmap *m);

/* The chain that holds every entry of `hash` (inline: lazy connects look here per message). */
static inline struct ockam__hent *
ockam__cmap_chain(const struct ockam__cmap *m, uint64_t hash)
{
    return m->nbuckets ? m->buckets[hash & (m->nbuckets - 1)] : NULL;
}

union ockam__handle {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
};

/* What differs between stream transports. */
struct ockam__stream_kind {
    uint8_t type;     /* OCKAM_TRANSPORT_TCP / OCKAM_TRANSPORT_UDS */
    const char *name; /* "tcp" / "uds", for log lines */
    /* uv_tcp_init / uv_pipe_init. */
    int (*handle_init)(uv_loop_t *loop, union ockam__handle *h);
    /* Start connecting conn to conn->peer (already validated). Completion must end in
     * ockam__conn_connected() or ockam__conn_fail(). An error return means nothing started. */
    ockam_err (*connect)(ockam_conn *conn);
    /* Validate a peer text taken from a route before connecting to it. */
    ockam_err (*check_peer)(const char *peer);
    /* Socket options for an open connection (TCP_NODELAY, keepalive). May be NULL. */
    void (*tune)(ockam_conn *conn);
    /* Peer text of an accepted connection (caller frees); NULL on ENOMEM. */
    char *(*peer_name)(ockam_conn *conn, ockam_listener *l);
    /* Address text of a listening socket (caller frees); NULL on ENOMEM. Used when
     * ockam__listener_start() is given no address. */
    char *(*local_name)(ockam_listener *l);
    /* The listener's handle is closed (UDS removes its socket file). May be NULL. */
    void (*listener_closed)(ockam_listener *l);
};

/* Private state of one registered stream transport (ops->size = sizeof). */
struct ockam__stream {
    ockam_node *node;
    const struct ockam__stream_kind *kind;
    size_t write_high_water;
    size_t read_budget; /* bytes routed per connection per loop turn before yielding */
    uint32_t handshake_timeout_ms;
    ockam_wire_profile default_profile;
    bool shutting_down;
    struct ockam__link conns;     /* every live connection */
    struct ockam__link draining;  /* closed connections reading to the peer's EOF */
    struct ockam__link listeners; /* every open listener */
    struct ockam__link flush_q;   /* connections with frames to write at the end of the turn */
    struct ockam__link resume_q;  /* connections to start reading again next turn */
    struct ockam__cmap by_flow;   /* producer flow id -> connection (backpressure) */
    struct ockam__cmap by_peer;   /* peer text -> outgoing connection (lazy connects) */
    ockam_conn *recent;           /* the connection ockam__stream_route used last, or NULL */
    uv_prepare_t flusher;
    uv_idle_t resumer;
    uv_check_t turns;
    uint64_t turn; /* loop turns so far (read budgets are per turn) */
};

enum ockam__conn_state {
    OCKAM__CONN_CONNECTING, /* resolving or connecting; frames queue up */
    OCKAM__CONN_OPEN,
    OCKAM__CONN_CLOSING, /* ockam_conn_close: flushing, then FIN (and draining: see below) */
    OCKAM__CONN_DEAD,    /* torn down; waiting for handles and requests to finish */
};

/* A big payload written from the message's own buffer instead of being copied into p: its
 * bytes go out right after p[0..at). */
struct ockam__oseg {
    size_t at;
    uint8_t *data; /* owned (cap bytes, recycled once written), or borrowed from chunk */
    size_t len, cap;
    struct ockam__chunk *chunk; /* a payload forwarded from a read buffer: one reference */
};

/* One output buffer: frames encoded back to back (p, with segs spliced in). */
struct ockam__obuf {
    uint8_t *p;
    size_t len, cap;
    size_t off;      /* bytes already written (partial uv_try_write), of len + seg_bytes */
    uint32_t frames; /* whole frames in it, for the dropped count */
    struct ockam__oseg *segs;
    uint32_t nsegs, capsegs;
    size_t seg_bytes;
};

struct ockam__watcher {
    ockam_conn_close_cb cb;
    void *user;
};

/* ockam_conn_on_drain: fires once when the write queue is at or below `below`. */
struct ockam__drain {
    ockam_conn_drain_cb cb;
    void *user;
    size_t below;
};

struct ockam_conn {
    struct ockam__stream *st;
    struct ockam__link all, flush_link, resume_link;
    union ockam__handle *io; /* heap: a retried TCP connect replaces it */
    uv_timer_t timer;        /* handshake timeout, then the close linger */
    uv_connect_t creq;
    uv_getaddrinfo_t gai;
    struct addrinfo *ai_list, *ai_next; /* TCP: resolved addresses still to try */
    bool loopback6_next;                /* TCP: localhost, [::1] is still to try */
    int refs; /* open handles and pending requests; freed at zero once dead */
    enum ockam__conn_state state;
    bool outgoing, reading, handshaken, writing, in_flush, in_resume, budget_stop;
    bool connect_reported, close_requested, resolving, quiet;
    bool peer_closed; /* end of stream seen; frames read before it are still being routed */
    /* ockam_conn_close, once all is written: FIN, and after the teardown the socket is still
     * read (and what comes discarded) until the peer's EOF or the close linger, so that its
     * close is not a reset that throws away the frames just written. */
    bool shut, draining;
    uv_shutdown_t sreq;
    ockam_msg *close_marker; /* ockam_conn_close: closing starts when it reaches the sender */
    ockam_wire_profile profile;
    struct ockam__policy_flow flow; /* its id is the producer of arriving messages */
    ockam_flow_id spawner_id;
    ockam_worker *sender;
    char addr[OCKAM_RANDOM_ADDR_LEN + 1];
    char *peer;
    size_t peer_len; /* strlen(peer), for the per-message lookup */
    uint64_t peer_hash;
    /* TCP: the endpoint it goes to (ockam__endpoint_canon): the normal form of an address
     * literal at once, the address reached for a name once connected; NULL until known. Filed
     * in by_peer under this text too when it differs from peer (lazy reuse across spellings). */
    char *canon;
    uint64_t canon_hash;
    ockam__framer framer;
    struct ockam__chunk *rchunk; /* read buffer (NULL when idle); messages may borrow from it */
    size_t rlen, rneed;
    size_t roff; /* unprocessed bytes are rchunk->data[roff..rlen); rneed counts from roff */
    bool rbig;   /* reads fill their buffer: the next read buffer is a big one */
    size_t budget_used;
    uint64_t budget_turn;
    struct ockam__obuf out[2];
    uint8_t cur; /* index of the buffer being filled; the other may be in flight */
    uv_write_t wreq;
    ockam_flow_id *paused; /* upstream connections this one stopped (by flow id) */
    size_t npaused, cappaused;
    uint32_t pausers; /* downstream connections that currently hold this one stopped */
    struct ockam__watcher *watchers;
    size_t nwatchers, capwatchers;
    struct ockam__drain *drains; /* ockam_conn_on_drain watchers */
    size_t ndrains, capdrains;
    struct ockam__drain *firing; /* drain watchers being called (off_drain clears entries) */
    size_t nfiring;
    uint32_t user_pauses; /* ockam_conn_pause calls not yet resumed (also counted in pausers) */
    ockam_connect_cb connect_cb;
    void *connect_user;
    struct ockam_conn_stats stats;
    uint64_t write_calls; /* batches handed to the socket (for tests of write batching) */
};

struct ockam_listener {
    struct ockam__stream *st;
    struct ockam__link link;
    union ockam__handle io;
    char id[OCKAM_RANDOM_ADDR_LEN + 1];
    char *address; /* bound address text, or the socket path */
    ockam_wire_profile profile;
    ockam_flow_id flow_id;
    bool closed;
    uint64_t kind_data[2]; /* UDS: device and inode of the socket file it created */
};

/* ---- transport ops, shared by tcp.c and uds.c ----------------------------------------- */
/* What a stream transport's public config says (each kind maps its own config to this). */
struct ockam__stream_config {
    size_t write_high_water; /* 0 = the default (4 MiB) */
    uint32_t handshake_timeout_ms;
    ockam_wire_profile default_profile;
    const char *const *allowed_outgoing; /* handed to the node's policy (node/policy.h) */
    size_t allowed_outgoing_count;
};
ockam_err ockam__stream_init(struct ockam__stream *st, ockam_node *node,
    const struct ockam__stream_kind *kind, const struct ockam__stream_config *cfg);
ockam_err ockam__stream_route(struct ockam__stream *st, ockam_msg *msg);
/* The transport's send_direct op (transport.h). */
ockam_err ockam__stream_send_direct(struct ockam__stream *st, const ockam_route *onward,
    ockam_addr from, const void *data, size_t len);
void ockam__stream_shutdown(struct ockam__stream *st);
void ockam__stream_fini(struct ockam__stream *st);

/* The stream transports a node may have (TCP, UDS): ockam__stream_nth(node, 0..KINDS-1) is
 * the state of each, or NULL when it is not registered. For walks over every connection. */
#define OCKAM__STREAM_KINDS 2
struct ockam__stream *ockam__stream_nth(ockam_node *node, size_t i);

/* ---- for the kinds -------------------------------------------------------------------- */
/* A new outgoing connection to `peer` in the CONNECTING state: sender worker started (accepts
 * any origin), frames may be queued. Then call kind->connect. NULL on error (*err set). */
ockam_conn *ockam__conn_new_outgoing(
    struct ockam__stream *st, const char *peer, ockam_wire_profile profile, ockam_err *err);
/* Open a connection with ockam__conn_new_outgoing and start connecting; cb (may be NULL) runs
 * once, later. On error nothing remains and cb is not called. */
ockam_err ockam__stream_connect(struct ockam__stream *st, const char *peer,
    ockam_wire_profile profile, ockam_connect_cb cb, void *user, ockam_conn **out);
/* Connect completion from the kind (uv status: 0 or a UV_E* code). */
void ockam__conn_connected(ockam_conn *conn, int status);
/* Connecting failed before a connect request could run (e.g. name resolution). */
void ockam__conn_fail(ockam_conn *conn, ockam_err reason);
/* Replace the connection's handle with a fresh one (retrying a connect on another address). */
ockam_err ockam__conn_renew_handle(ockam_conn *conn);
/* Take one reference for a pending request (getaddrinfo) / drop it when the request ends. */
void ockam__conn_ref(ockam_conn *conn);
void ockam__conn_unref(ockam_conn *conn);

/* A listener whose io handle is initialised (kind->handle_init) but not yet bound. */
ockam_listener *ockam__listener_new(struct ockam__stream *st, ockam_wire_profile profile);
/* After a successful bind: record the address text (copied; NULL = ask kind->local_name),
 * listen and start accepting. On error the listener is closed and freed. */
ockam_err ockam__listener_start(ockam_listener *l, const char *address);
/* Close and free a listener that never started. */
void ockam__listener_abort(ockam_listener *l);
/* A connection is waiting on listener l: accept it as a new connection (stream.c). False
 * when none could be allocated (the listener then rejects the socket); a connection that
 * fails later is closed and logged here. */
bool ockam__conn_accept(ockam_listener *l);

/* ---- connections without a listener (fuzzing; nothing else uses these) ----------------- */
/* Make fd (one end of a socketpair; this call owns it, and closes it on error) an open incoming
 * connection of a UDS transport, as if a listener with flow id `spawner` had accepted it from
 * `peer`, speaking `profile`. OCKAM_ENOTSUP for another kind, OCKAM_ECLOSED, OCKAM_EINVAL,
 * OCKAM_ENOMEM. */
ockam_err ockam__conn_adopt(struct ockam__stream *st, uv_file fd, const char *peer,
    ockam_wire_profile profile, ockam_flow_id spawner, ockam_conn **out);
/* Hand the connection bytes as if a read had returned them (framing, decoding, routing all
 * run as for a socket). Returns how many it took: fewer than len once its read budget for
 * this loop turn is spent, it is paused or it closed (run the loop, then feed the rest). */
size_t ockam__conn_feed(ockam_conn *c, const void *data, size_t len);
/* As if a read had reported the end of the stream. Nothing if the connection is not reading. */
void ockam__conn_feed_eof(ockam_conn *c);

/* Batches written so far (each one uv_try_write, plus a uv_write for any remainder). */
uint64_t ockam__conn_write_calls(const ockam_conn *conn);

#endif
