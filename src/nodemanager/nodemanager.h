/* The node manager: the control-API worker at "_internal.nodemanager" that the `ockam` command
 * drives, and the bookkeeping of what a node exposes (public services, TCP listeners, the
 * connections the operator created). Loop thread only.
 *
 * Reachability: the worker is a flow-control consumer of the api.sock (UDS) listener's flow id
 * and of nothing else. A message that entered through TCP keeps that origin while local workers
 * forward it, so neither [_internal.nodemanager] nor [hop, _internal.nodemanager] sent over TCP
 * ever reaches it; locally created messages (origin 0) do, as everything local may.
 *
 * Public services (echo, uppercase, hop workers started here) are consumers of every TCP
 * listener's flow id and of every outgoing connection created through POST
 * /node/tcp/connection; a service started later is added to all of them, and so is a listener
 * or connection created later. The same holds for UDP listeners (binds without a fixed peer)
 * and UDP connections (binds with a fixed peer) created here, but not for the transport's
 * default binds, which carry replies to local senders only (nodemanager_udp.c). When the node
 * has a Kafka transport (attached before the manager starts), every public service is also a
 * consumer of ockam_kafka_flow_id(): what arrives through the node's inbox topic reaches the
 * services and nothing else -- never the manager (nodemanager_kafka.c).
 *
 * Protocol: one request per message, one reply per request, both UTF-8 JSON payloads.
 *   request: {"method": "GET"|"POST"|"DELETE", "path": "/node/...", "body": {...}?}
 *   reply:   {"status": 200, "body": <value>}  or  {"status": 4xx|5xx, "error": "<message>"}
 * Statuses: 400 malformed request or argument, 404 no such resource or endpoint, 409 conflict
 * (address taken, main listener), 502 a peer could not be reached, 504 no reply in time,
 * 500 anything else. Errors are whole sentences meant for people.
 *
 * Endpoints (every body is a JSON object):
 *   GET    /node                          resources: {name, pid, tcp_listeners, connections,
 *                                         services, allowed_outgoing}
 *   GET    /node/tcp/listener             [listener]
 *   POST   /node/tcp/listener             {"address": "H:P"} -> listener
 *   GET    /node/tcp/listener/{id|H:P}    listener
 *   DELETE /node/tcp/listener/{id|H:P}    listener (the main listener cannot be deleted: 409)
 *   GET    /node/tcp/connection           [connection]  (TCP only, incoming and outgoing)
 *   POST   /node/tcp/connection           {"to": "H:P"} -> connection (replies once connected)
 *   GET    /node/tcp/connection/{addr|peer}      connection
 *   DELETE /node/tcp/connection/{addr|peer}      connection
 *   GET    /node/udp/listener             [udp listener]
 *   POST   /node/udp/listener             {"address": "H:P"} -> udp listener
 *   GET    /node/udp/listener/{id|H:P}    udp listener
 *   DELETE /node/udp/listener/{id|H:P}    udp listener
 *   GET    /node/udp/connection           [udp connection]
 *   POST   /node/udp/connection           {"to": "H:P"} -> udp connection (a bind with a fixed
 *                                         peer; nothing is sent, so it succeeds at once)
 *   GET    /node/udp/connection/{addr|peer}      udp connection
 *   DELETE /node/udp/connection/{addr|peer}      udp connection
 *   GET    /node/services                 [service]
 *   POST   /node/services/{hop|echo|uppercase}  {"addr": "h1", "allow_existing": bool}
 *                                         -> service + {"created": bool}; with allow_existing
 *                                         an existing service of the same type at addr is 200
 *   GET    /node/workers                  [{"addr": "..."}]
 *   GET    /node/relay                    [relay]  (relays this node registered elsewhere)
 *   POST   /node/relay                    {"name", "at": "<multiaddr of the relay node>",
 *                                         "wait_ms"?, "ping_interval_ms"?} -> relay, once it is
 *                                         UP, its first attempt failed, or wait_ms (5000) passed
 *                                         (it keeps retrying); 409 if the name exists
 *   GET    /node/relay/{name}             relay
 *   DELETE /node/relay/{name}             relay (its connection closes: the relay goes away)
 *   GET    /node/inlet                    [inlet]
 *   POST   /node/inlet                    {"alias", "from": "H:P", "to": "<multiaddr of the
 *                                         outlet>", "ping_interval_ms"?} -> inlet; 409 alias or
 *                                         address taken
 *   GET    /node/inlet/{alias|H:P}        inlet
 *   DELETE /node/inlet/{alias|H:P}        inlet (its connections close)
 *   GET    /node/outlet                   [outlet]
 *   POST   /node/outlet                   {"to": "H:P", "from"?: "addr"} -> outlet (from:
 *                                         "outlet", or "outlet-N" when taken); 409 if taken
 *   GET    /node/outlet/{addr}            outlet ("outlet" or "/service/outlet")
 *   DELETE /node/outlet/{addr}            outlet (its connections close)
 *   POST   /v0/message                    {"to": "<multiaddr without /node>", "payload_hex":
 *                                         "...", "timeout_ms": N} -> {"payload_hex": "..."}
 * where listener = {id, type: "tcp", mode: "listen", address, main, flow_control_id},
 * connection = {address, route: "/worker/<address>", type: "tcp", mode: "outgoing"|"incoming",
 * peer, operator: bool, flow_control_id}, service = {addr, type},
 * udp listener = {id, type: "udp", mode: "listen", address, main, flow_control_id, stats},
 * udp connection = {address, route: "/worker/<address>", type: "udp", mode: "outgoing", peer,
 * local, operator: true, flow_control_id, stats}, stats = {datagrams_in, datagrams_out,
 * messages_in, messages_out, malformed, send_dropped}. GET /node adds "udp_listeners" and
 * "udp_connections", and "kafka": {inbox_topic, flow_control_id, stats: {produced, delivered,
 * delivery_failed, consumed, routed, bad_records, commits, commit_failures,
 * assigned_partitions}} or null when the node has no Kafka transport.
 * relay = {name, destination_address, connection_status: "Up"|"Down", forwarding_route,
 * relay_route (the same), remote_address ("forward_to_<name>" or null), worker_address,
 * flow_control_id, last_failure (or null), registrations}; inlet = {alias, bind_addr, to,
 * outlet_route, outlet_addr, status: "Up"|"Down", last_error, connections, accepted, failed,
 * bytes_in, bytes_out}; outlet = {node_name, alias, from, worker_address: "/service/<addr>",
 * to, last_error, connections, accepted, failed, bytes_in, bytes_out}. GET /node adds
 * "relays", "inlets", "outlets" and "relays_served" (relays other nodes registered here:
 * {address, name, forward_route, connection, forwarded}).
 *
 * Every node runs the relay service (forwarding_service, static_forwarding_service, prefix
 * forward_to_); it, its relays and every outlet are consumers of the same flows as the public
 * services (nodemanager_relay.c, nodemanager_portal.c). An inlet probes the outlet's node (its
 * route with echo as the last hop) every 10 s for its status.
 *
 * POST /v0/message connects explicitly to a first TCP hop (so a refused connection is a quick
 * 502, not a timeout) and closes that connection after the reply or the timeout: connections
 * made for one message never pile up. A first UDP hop (2#H:P) goes through the transport's
 * default bind; nothing can refuse a datagram, so an unreachable peer is a 504
 * (nodemanager_send.c).
 *
 * Built as libockam_nodemanager, which only the `ockam` command links (with jansson): libockam
 * itself knows nothing of this control plane. */
#ifndef OCKAM_NODEMANAGER_H
#define OCKAM_NODEMANAGER_H

#include "ockam/stream.h"
#include "ockam/udp.h"

#include <jansson.h>

#define OCKAM__NODEMANAGER_ADDR "_internal.nodemanager"

typedef struct ockam__nodemanager ockam__nodemanager;

typedef struct ockam__nodemanager_opts {
    const char *node_name;
    /* The api.sock listener: the only flow the manager consumes. Required. */
    ockam_listener *api_listener;
    /* Called after anything that `node start` must restore changed (listeners, services). */
    void (*on_change)(ockam__nodemanager *nm, void *user);
    void *user;
} ockam__nodemanager_opts;

/* Start the worker at OCKAM__NODEMANAGER_ADDR. The manager's state is freed when the worker
 * stops (at node free at the latest); *out stays valid until then. */
ockam_err ockam__nodemanager_start(
    ockam_node *node, const ockam__nodemanager_opts *opts, ockam__nodemanager **out);

/* Start a public service of `type` ("echo", "uppercase", "hop") at addr (NULL = the type's
 * name). OCKAM_EEXIST if addr is taken, OCKAM_EINVAL for an unknown type. */
ockam_err ockam__nodemanager_start_service(
    ockam__nodemanager *nm, const char *type, const char *addr);

/* Bind a TCP listener that reaches the public services. The first one is the node's main
 * listener. Errors of ockam_tcp_listen. *out may be NULL. */
ockam_err ockam__nodemanager_tcp_listen(
    ockam__nodemanager *nm, const char *host_port, ockam_listener **out);

/* Bind a UDP listener (no fixed peer) that reaches the public services; main marks the node's
 * UDP listener address (node create --udp-listener-address). Errors of ockam_udp_bind_open.
 * *out may be NULL. */
ockam_err ockam__nodemanager_udp_listen(
    ockam__nodemanager *nm, const char *host_port, bool main, ockam_udp_bind **out);
/* Open a UDP connection (a bind with the fixed peer `to`) that reaches the public services,
 * as POST /node/udp/connection does. Errors of ockam_udp_bind_open. *out may be NULL. */
ockam_err ockam__nodemanager_udp_connect(
    ockam__nodemanager *nm, const char *to, ockam_udp_bind **out);

/* The body of GET /node: {name, pid, tcp_listeners, connections, services, allowed_outgoing}.
 * New reference. */
json_t *ockam__nodemanager_resources(ockam__nodemanager *nm);

/* What `node start` needs: {"tcp_listener_address": "H:P" (main, real port), "tcp_listeners":
 * ["H:P", ...] (the others), "services": [{"addr", "type"}, ...], "udp_listener_address":
 * "H:P" (real port) or null, "udp_listeners": ["H:P", ...] (the others), "udp_connections":
 * ["H:P" (the peer), ...], "outlets":
 * [{"from", "to"}], "inlets": [{"alias", "from" (bound address), "to"}], "relays":
 * [{"name", "at"}]}. New reference. */
json_t *ockam__nodemanager_config(ockam__nodemanager *nm);

/* Bring back what the config lists under "outlets", "inlets" and "relays" (node start);
 * an item that cannot come back is logged and skipped. */
void ockam__nodemanager_restore_portals(ockam__nodemanager *nm, json_t *config);

/* Who may register relays at this node (docs/cli.md, node create --relay-allow): allow is
 * null (anyone) or a non-empty array of identifiers and "secure" (any secure-channel peer);
 * only registrations out of a secure channel of an allowed identity are accepted. Kept in
 * the config as "relay_allow". OCKAM_EINVAL (malformed), OCKAM_ENOMEM. */
ockam_err ockam__nodemanager_relay_allow(ockam__nodemanager *nm, json_t *allow);

#endif
