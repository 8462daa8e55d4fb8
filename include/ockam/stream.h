/* Connections and listeners of the stream transports (TCP, Unix sockets). Both share one
 * implementation; these accessors work on either.
 *
 * Ownership: listeners and connections belong to the node. Pointers stay valid until the
 * object's close callback (or node free); ockam_*_close() is asynchronous and idempotent.
 * Threading: loop thread only. */
#ifndef OCKAM_STREAM_H
#define OCKAM_STREAM_H

#include "ockam/node.h"
#include "ockam/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ockam_listener ockam_listener;
typedef struct ockam_conn ockam_conn;

/* Called once when a connection is gone (peer close, reset, error, local close, node free).
 * reason: OCKAM_OK for a local close, OCKAM_ECLOSED for an orderly peer close, otherwise the
 * error. The conn pointer is valid during the call only. */
typedef void (*ockam_conn_close_cb)(ockam_conn *conn, ockam_err reason, void *user);

/* A connection's counters, read with ockam_conn_stats(). Every object's counters are read
 * the same way, ockam_<obj>_stats(obj, &out), into a struct without a typedef (the getter
 * has the name). */
struct ockam_conn_stats {
    uint64_t frames_in, frames_out;
    uint64_t bytes_in, bytes_out;
    uint64_t dropped;    /* messages freed because the connection died before sending them */
    uint64_t refused;    /* messages refused by this connection (too large for its profile) */
    size_t queued_bytes; /* bytes waiting in the write queue */
};

/* The connection's local sender address (32 hex chars), used in routes: "/worker/<hex>". */
OCKAM_API const char *ockam_conn_address(const ockam_conn *conn);
/* "127.0.0.1:7000", "[::1]:7000" or a socket path. */
OCKAM_API const char *ockam_conn_peer(const ockam_conn *conn);
OCKAM_API bool ockam_conn_is_outgoing(const ockam_conn *conn);
OCKAM_API uint8_t ockam_conn_transport(const ockam_conn *conn); /* OCKAM_TRANSPORT_TCP/UDS */
OCKAM_API ockam_wire_profile ockam_conn_profile(const ockam_conn *conn);
/* Producer flow id of messages arriving on this connection. */
OCKAM_API ockam_flow_id ockam_conn_flow_id(const ockam_conn *conn);
/* The accepting listener's flow id (spawner), 0 for outgoing connections unless set with
 * ockam_conn_set_spawner_id. */
OCKAM_API ockam_flow_id ockam_conn_spawner_id(const ockam_conn *conn);
/* Treat messages that arrive on this connection from now on as if a listener with flow id `id`
 * had accepted it: consumers of `id` receive them (0 = none). A relay client uses this on its
 * outgoing connection to the relay node, so that the node is reachable through the relay
 * exactly as through its own listener. */
OCKAM_API void ockam_conn_set_spawner_id(ockam_conn *conn, ockam_flow_id id);
OCKAM_API void ockam_conn_stats(const ockam_conn *conn, struct ockam_conn_stats *out);
/* Add a close watcher (several may be added). OCKAM_ENOMEM. */
OCKAM_API ockam_err ockam_conn_on_close(ockam_conn *conn, ockam_conn_close_cb cb, void *user);
/* Remove a watcher added with the same cb and user. */
OCKAM_API void ockam_conn_off_close(ockam_conn *conn, ockam_conn_close_cb cb, void *user);
/* Stop reading from the connection until as many ockam_conn_resume() calls (counted, so
 * several users may pause the same connection). Messages already read are still delivered.
 * Used by a worker that cannot get rid of what the connection brings (a portal writing to a
 * slow socket). No effect on a closed connection. */
OCKAM_API void ockam_conn_pause(ockam_conn *conn);
/* Undo one ockam_conn_pause(); reading restarts on a later loop turn (never inside this call)
 * once nothing else holds it stopped. Extra calls are ignored. */
OCKAM_API void ockam_conn_resume(ockam_conn *conn);
/* True while reading is stopped by ockam_conn_pause() or by a full downstream write queue. */
OCKAM_API bool ockam_conn_is_paused(const ockam_conn *conn);

/* Called once when the write queue has drained to at most `below` bytes; conn is valid during
 * the call. Never called from inside ockam_conn_on_drain(), and not called when the connection
 * closes (watch that with ockam_conn_on_close); callers should re-check the level, as a call
 * may come early when memory is short. */
typedef void (*ockam_conn_drain_cb)(ockam_conn *conn, void *user);
/* Add a one-shot drain watcher. OCKAM_ENOMEM, OCKAM_ECLOSED, OCKAM_EINVAL (cb NULL). */
OCKAM_API ockam_err ockam_conn_on_drain(
    ockam_conn *conn, size_t below, ockam_conn_drain_cb cb, void *user);
/* Remove the watchers added with the same cb and user (safe while watchers run). */
OCKAM_API void ockam_conn_off_drain(ockam_conn *conn, ockam_conn_drain_cb cb, void *user);

/* Flush queued frames, then close. Asynchronous and idempotent: watchers run later, never
 * inside this call. Messages handed to the connection before the call -- frames already
 * queued and messages already waiting for its sender worker -- are written first; later ones
 * are refused. Whatever cannot be written within the handshake timeout (10 s if none) is
 * dropped and counted. A connection still connecting closes at once, its queued messages
 * dropped and counted. */
OCKAM_API void ockam_conn_close(ockam_conn *conn);

/* Find a connection by sender address or peer text (any stream transport). Live
 * connections only: one being torn down is no longer found. */
OCKAM_API ockam_conn *ockam_conn_find(ockam_node *node, const char *address_or_peer);
/* fn may close the connection it is given, but no other. */
OCKAM_API void ockam_conn_each(
    ockam_node *node, void (*fn)(ockam_conn *conn, void *arg), void *arg);

/* The bound address ("127.0.0.1:54321" with the real port, or the socket path). */
OCKAM_API const char *ockam_listener_address(const ockam_listener *l);
/* A stable 32-hex id for listing and deleting listeners. */
OCKAM_API const char *ockam_listener_id(const ockam_listener *l);
OCKAM_API uint8_t ockam_listener_transport(const ockam_listener *l);
OCKAM_API ockam_wire_profile ockam_listener_profile(const ockam_listener *l);
/* Spawner flow id: consumers of it receive messages from every accepted connection. */
OCKAM_API ockam_flow_id ockam_listener_flow_id(const ockam_listener *l);
/* Stop accepting (existing connections stay up). Frees the listener (asynchronously). */
OCKAM_API void ockam_listener_close(ockam_listener *l);
OCKAM_API ockam_listener *ockam_listener_find(ockam_node *node, const char *id_or_address);
OCKAM_API void ockam_listener_each(
    ockam_node *node, void (*fn)(ockam_listener *l, void *arg), void *arg);

/* Connect completion: conn is NULL when status != OCKAM_OK (OCKAM_ECONNREFUSED, OCKAM_EDNS,
 * OCKAM_ETIMEDOUT, OCKAM_ECLOSED when closed or the node freed first...). */
typedef void (*ockam_connect_cb)(ockam_conn *conn, ockam_err status, void *user);

#ifdef __cplusplus
}
#endif
#endif
