/* What transports and services may use of the node beyond the public API. Loop thread only. */
#ifndef OCKAM_NODE_INTERNAL_H
#define OCKAM_NODE_INTERNAL_H

#include "core/core.h"
#include "ockam/node.h"

#include <uv.h>

uv_loop_t *ockam__node_loop(ockam_node *node);

/* Hand a message that arrived from a transport to the router. The transport has already
 * applied its route rewriting (return route prepended with its local address) and set the
 * message's origin. Routing errors are logged once and the message freed. Consumes msg. */
void ockam__node_route_incoming(ockam_node *node, ockam_msg *msg);

/* Changes whenever a flow-control registration may have gone (a consumer id removed, or an
 * address unregistered with everything registered for it). While it stays the same, a
 * registration seen earlier still holds: a transport may skip checking it again. */
uint64_t ockam__node_flow_epoch(const ockam_node *node);

/* The node's address registry and policy state, for the policy module (node/policy.c). */
struct ockam__registry;
struct ockam__policy;
struct ockam__registry *ockam__node_registry(ockam_node *node);
struct ockam__policy *ockam__node_policy(ockam_node *node);

/* True while ockam_node_free() is tearing the node down. */
bool ockam__node_closing(const ockam_node *node);
/* Payload bytes waiting in the worker's mailbox (sent to it, not yet delivered). */
size_t ockam__worker_queued_bytes(const ockam_worker *worker);

/* Call cb(user) once, right after the worker has stopped (its on_stop has run). cb may stop
 * other workers. OCKAM_ECLOSED when it has stopped already, OCKAM_ENOMEM. A watcher that
 * goes away first must unwatch (same cb and user). */
ockam_err ockam__worker_watch_stop(ockam_worker *worker, void (*cb)(void *user), void *user);
void ockam__worker_unwatch_stop(ockam_worker *worker, void (*cb)(void *user), void *user);
/* The worker registered at a local address, or NULL. */
ockam_worker *ockam__node_worker_at(ockam_node *node, ockam_addr addr);
/* The worker's message callback: tells which kind of worker it is. */
ockam_worker_cb ockam__worker_handler(const ockam_worker *worker);

#endif
