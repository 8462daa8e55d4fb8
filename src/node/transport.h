/* The transport plug-in interface (internal). A transport is a static ops table registered on
 * a node under its address type byte; the node owns the table (one slot per type, filled
 * only by ockam__transport_register in node.c), allocates and zeroes `size` bytes of private
 * state for it, and calls shutdown and fini when it is freed. Every op runs on the node's
 * loop thread.
 *
 * Internal, not public: a transport works on the message's internals (core/core.h: routes
 * edited in place, payloads borrowed from read buffers, the codecs) and the node's loop,
 * which the public API deliberately hides. Transports live in this tree.
 *
 * Adding a transport (docs/architecture.md §6): one folder under
 * src/transport/ with its ops table and public header, its multiaddr code (core/multiaddr.c),
 * the security rules through node/policy.h (never re-implemented), and an adapter for the
 * conformance suite (tests/conformance/transport_suite.h), which every transport must pass.
 *
 * Outbound: when the first address of a message's onward route has the transport's type, the
 * router calls route(). The transport then owns the message: it finds or (if the rules allow)
 * opens a connection for that address, pops the address and sends the rest, exactly as a
 * connection's sender worker would. A message whose origin is non-zero (it came from another
 * node) must never make the transport open a new connection unless the operator allowed that
 * destination.
 *
 * Inbound: a connection decodes a frame into a message, prepends its local sender address to
 * the return route, sets the origin and calls ockam__node_route_incoming(). */
#ifndef OCKAM_NODE_TRANSPORT_H
#define OCKAM_NODE_TRANSPORT_H

#include "node/node_internal.h"

struct ockam__transport_ops {
    uint8_t type;     /* address type byte, 1..127 */
    const char *name; /* "tcp", "udp", "uds"... for logs and the CLI */
    size_t size;      /* bytes of private state the node allocates (zeroed) */
    /* Set up; config is the transport's public config struct (may be NULL for defaults). */
    ockam_err (*init)(void *self, ockam_node *node, const void *config);
    /* Consumes msg. Errors go back to the local sender (OCKAM_EACCES, OCKAM_EADDRINVAL...). */
    ockam_err (*route)(void *self, ockam_msg *msg);
    /* Optional shortcut of ockam_send_to() for a locally created message whose sender's
     * outgoing access control allows everything: send the message [onward, return = [from],
     * payload data[0..len)] -- onward starting with this transport's address -- without
     * building it, when a connection for that address is already there. OCKAM_EAGAIN: not
     * possible now (nothing sent; the caller builds the message and calls route()). Any other
     * result is what route() would have returned. May be NULL. */
    ockam_err (*send_direct)(
        void *self, const ockam_route *onward, ockam_addr from, const void *data, size_t len);
    /* Close every listener and connection (uv_close); called once when the node is freed. The
     * node then runs its loop until every handle is closed. */
    void (*shutdown)(void *self);
    /* Free what remains; called after the loop has closed every handle. May be NULL. */
    void (*fini)(void *self);
};

/* Register a transport and call its init. OCKAM_EEXIST if the type is taken, OCKAM_ECLOSED
 * while the node is being freed. *self_out (may be NULL) receives the private state. Asserts
 * that route, init and shutdown are present and the type is 1..127. init must leave nothing
 * behind when it fails: the state is then freed without fini. */
ockam_err ockam__transport_register(
    ockam_node *node, const struct ockam__transport_ops *ops, const void *config, void **self_out);
/* The private state of the transport registered for `type`, or NULL. */
void *ockam__transport_get(ockam_node *node, uint8_t type);

#endif
