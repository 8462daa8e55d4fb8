/* The node: one libuv loop, a registry of workers by address, a router, access control and
 * flow control, timers, and one thread-safe post call.
 *
 * Threading: everything here must be called on the node's loop thread (the thread that runs
 * ockam_node_run*), except ockam_node_post() and ockam_node_stop(), which any thread may call.
 * Before the loop runs, the creating thread counts as the loop thread.
 *
 * Delivery: sending never calls a worker re-entrantly. Messages are queued and delivered from
 * the loop, in order per (sender, receiver) pair. A worker callback owns the message it gets.
 *
 * Flow control (docs/wire.md §9.4): a message that entered from a transport has a non-zero
 * origin. Such a message is delivered to an address only when that address is a consumer of
 * the origin's producer or spawner flow id, or was marked with ockam_flow_allow_any_origin()
 * (transport senders of connections the operator created). Otherwise it is dropped with one
 * log line. Locally created messages (origin 0) may reach any worker whose access control
 * allows them. */
#ifndef OCKAM_NODE_H
#define OCKAM_NODE_H

#include "ockam/msg.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ockam_node ockam_node;
typedef struct ockam_worker ockam_worker;
typedef struct ockam_timer ockam_timer;

/* ---- node lifecycle ---------------------------------------------------------------- */

/* Create a node with its own loop. NULL on ENOMEM. */
OCKAM_API ockam_node *ockam_node_new(void);
/* Stop every worker, close every transport and handle, run the loop until all is closed, and
 * free the node. Must not be called while ockam_node_run() is on the stack. */
OCKAM_API void ockam_node_free(ockam_node *node);

/* Run until ockam_node_stop(). Returns OCKAM_OK. */
OCKAM_API ockam_err ockam_node_run(ockam_node *node);
/* One loop iteration (blocks for I/O if nothing is ready). Returns true while work remains. */
OCKAM_API bool ockam_node_run_once(ockam_node *node);
/* One loop iteration without blocking. */
OCKAM_API bool ockam_node_run_nowait(ockam_node *node);
/* Make ockam_node_run() return soon. Thread-safe, idempotent. */
OCKAM_API void ockam_node_stop(ockam_node *node);
/* Run fn(arg) on the loop thread soon. Thread-safe. OCKAM_ENOMEM or OCKAM_ECLOSED. */
OCKAM_API ockam_err ockam_node_post(ockam_node *node, void (*fn)(void *arg), void *arg);

/* Milliseconds of the loop's monotonic clock. */
OCKAM_API uint64_t ockam_node_now_ms(ockam_node *node);

/* ---- workers ----------------------------------------------------------------------- */

/* Called on the loop thread with a message the worker now owns. */
typedef void (*ockam_worker_cb)(ockam_worker *worker, ockam_msg *msg, void *user);
/* Called once, when the worker is gone: its user state may then be freed. */
typedef void (*ockam_worker_stop_cb)(ockam_worker *worker, void *user);
/* Access-control callback: return true to let the message through. msg is borrowed. */
typedef bool (*ockam_access_cb)(ockam_worker *worker, const ockam_msg *msg, void *user);

typedef enum ockam_access_kind {
    OCKAM_ACCESS_ALLOW_ALL = 0,
    OCKAM_ACCESS_DENY_ALL = 1,
    OCKAM_ACCESS_CALLBACK = 2,
} ockam_access_kind;

typedef struct ockam_access {
    ockam_access_kind kind;
    ockam_access_cb cb; /* for OCKAM_ACCESS_CALLBACK */
    void *user;
} ockam_access;

typedef struct ockam_worker_opts {
    ockam_worker_cb on_message;   /* required */
    ockam_worker_stop_cb on_stop; /* optional */
    void *user;
    ockam_access incoming; /* checked before delivery to this worker; default allow all */
    ockam_access outgoing; /* checked when this worker sends; default allow all */
} ockam_worker_opts;

/* Start a worker at a local address (bytes of type-0 address; NULL = random 32-hex address).
 * OCKAM_EEXIST if the address is taken. *out may be NULL. */
OCKAM_API ockam_err ockam_worker_start(
    ockam_node *node, const char *address, const ockam_worker_opts *opts, ockam_worker **out);
/* Register one more local address for the same worker. */
OCKAM_API ockam_err ockam_worker_add_address(ockam_worker *worker, const char *address);
/* Unregister the worker's addresses, free its queued messages and call on_stop. After this
 * returns, no message is delivered to it. Safe from inside its own callback (the struct is
 * freed when the callback returns). Idempotent. */
OCKAM_API void ockam_worker_stop(ockam_worker *worker);
/* Stop the worker registered at a local address; OCKAM_ENOENT if none. */
OCKAM_API ockam_err ockam_worker_stop_at(ockam_node *node, const char *address);

/* The worker's first address (local, type 0). */
OCKAM_API ockam_addr ockam_worker_addr(const ockam_worker *worker);
OCKAM_API ockam_node *ockam_worker_node(const ockam_worker *worker);
OCKAM_API void *ockam_worker_user(const ockam_worker *worker);
OCKAM_API void ockam_worker_set_incoming(ockam_worker *worker, ockam_access access);
OCKAM_API void ockam_worker_set_outgoing(ockam_worker *worker, ockam_access access);

OCKAM_API bool ockam_node_has_worker(ockam_node *node, const char *address);
/* Calls fn for every registered local address (in no particular order). */
OCKAM_API void ockam_node_each_address(
    ockam_node *node, void (*fn)(ockam_addr addr, void *arg), void *arg);
OCKAM_API size_t ockam_node_worker_count(const ockam_node *node);

/* ---- sending (every call consumes msg) --------------------------------------------- */

/* Send from a worker: the return route becomes [worker address]. */
OCKAM_API ockam_err ockam_send(ockam_worker *from, ockam_msg *msg);
/* Convenience: a message with a copy of onward and payload, sent from `from`. onward and
 * data stay the caller's. When the first hop is an open TCP connection (and `from` allows all
 * outgoing messages), the frame is encoded straight into that connection's output buffer
 * without building a message: same bytes, same checks, the cheapest way to send. */
OCKAM_API ockam_err ockam_send_to(
    ockam_worker *from, const ockam_route *onward, const void *data, size_t len);
/* Route the message as it is (routes unchanged). from may be NULL for node-level code. */
OCKAM_API ockam_err ockam_forward(ockam_worker *from, ockam_msg *msg);
/* Reuse a received message as the reply: onward := its return route, return := [from],
 * payload := data. The origin is kept. */
OCKAM_API ockam_err ockam_reply(
    ockam_worker *from, ockam_msg *received, const void *data, size_t len);

/* Errors of the calls above: OCKAM_EROUTE (empty onward route), OCKAM_ENOENT (no worker at
 * the first local address; one log line), OCKAM_ENOTSUP (no transport for its type),
 * OCKAM_EACCES (the sender's outgoing check refused), OCKAM_ECLOSED (node stopping). */

/* ---- blocking convenience ---------------------------------------------------------- */

/* Send data along onward from a temporary worker and run the loop until one reply arrives or
 * timeout_ms passes. On OCKAM_OK *reply is the reply (caller frees). OCKAM_ETIMEDOUT, or a
 * send error. Must not be called from inside a callback of the same node. */
OCKAM_API ockam_err ockam_node_request(ockam_node *node, const ockam_route *onward,
    const void *data, size_t len, uint64_t timeout_ms, ockam_msg **reply);

/* ---- flow control ------------------------------------------------------------------ */

OCKAM_API ockam_flow_id ockam_flow_id_new(ockam_node *node);
/* Let messages whose origin has this producer or spawner id reach the local address. */
OCKAM_API ockam_err ockam_flow_add_consumer(
    ockam_node *node, const char *address, ockam_flow_id id);
OCKAM_API void ockam_flow_remove_consumer(ockam_node *node, const char *address, ockam_flow_id id);
OCKAM_API bool ockam_flow_is_consumer(ockam_node *node, const char *address, ockam_flow_id id);
/* Let messages of any origin reach the address (used for transport senders of connections the
 * operator created: reaching them never opens anything new). */
OCKAM_API ockam_err ockam_flow_allow_any_origin(ockam_node *node, const char *address, bool allow);

/* ---- timers ------------------------------------------------------------------------ */

typedef void (*ockam_timer_cb)(ockam_timer *timer, void *user);

/* Fire after timeout_ms, then every repeat_ms if non-zero. The node owns the timer; it is
 * freed by ockam_timer_stop() or at node free. */
OCKAM_API ockam_err ockam_timer_start(ockam_node *node, uint64_t timeout_ms, uint64_t repeat_ms,
    ockam_timer_cb cb, void *user, ockam_timer **out);
/* Cancel and free (safe from inside its own callback). */
OCKAM_API void ockam_timer_stop(ockam_timer *timer);

#ifdef __cplusplus
}
#endif
#endif
