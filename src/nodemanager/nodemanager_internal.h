/* What the node manager's core (nodemanager.c) shares with its parts: TCP
 * (nodemanager_tcp.c), UDP (nodemanager_udp.c), Kafka (nodemanager_kafka.c, or
 * nodemanager_nokafka.c in a build without it), relays (nodemanager_relay.c), portals
 * (nodemanager_portal.c), and POST /v0/message (nodemanager_send.c). Internal to src/nodemanager;
 * loop thread only.
 *
 * nodemanager.c owns the manager, the public services, pending requests and the dispatch
 * table; a part keeps its own state behind one pointer in the manager (ockam__nm_*_slot) and
 * calls back here to reply and to expose its flows to the public services. */
#ifndef OCKAM_NODEMANAGER_INTERNAL_H
#define OCKAM_NODEMANAGER_INTERNAL_H

#include "core/list.h"
#include "nodemanager/nodemanager.h"

struct ockam__nm_tcp;
struct ockam__nm_udp;
struct ockam__nm_ble;
struct ockam__nm_relay;
struct ockam__nm_portal;

/* A request waiting for something asynchronous (a connect, a reply), embedded in the part's
 * own record of it. The manager may be gone before it completes (node teardown): nm is then
 * NULL, the replies below only drop the request, and the part only cleans up. */
struct ockam__nm_pending {
    struct ockam__link link; /* in the manager's pending list while linked */
    ockam__nodemanager *nm;
    ockam_msg *request;
};

/* ---- nodemanager.c ------------------------------------------------------------------- */

ockam_node *ockam__nm_node(ockam__nodemanager *nm);
const char *ockam__nm_name(ockam__nodemanager *nm);
struct ockam__nm_tcp **ockam__nm_tcp_slot(ockam__nodemanager *nm);
struct ockam__nm_udp **ockam__nm_udp_slot(ockam__nodemanager *nm);
struct ockam__nm_ble **ockam__nm_ble_slot(ockam__nodemanager *nm);
struct ockam__nm_relay **ockam__nm_relay_slot(ockam__nodemanager *nm);
struct ockam__nm_portal **ockam__nm_portal_slot(ockam__nodemanager *nm);
/* Make addr a consumer of every flow the public services consume. */
ockam_err ockam__nm_consume_all(ockam__nodemanager *nm, const char *addr);
/* Reply {"status": 200, "body": body} (body stolen). Consumes req. */
void ockam__nm_reply_ok(ockam__nodemanager *nm, ockam_msg *req, json_t *body);
/* Reply {"status": status, "error": text}. Consumes req. */
void ockam__nm_reply_err(ockam__nodemanager *nm, ockam_msg *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Something `node start` restores changed: save the configuration. */
void ockam__nm_changed(ockam__nodemanager *nm);
/* Make every public service a consumer of flow (a listener's or an operator connection's),
 * or stop that. */
void ockam__nm_services_consume(ockam__nodemanager *nm, ockam_flow_id flow);
void ockam__nm_services_release(ockam__nodemanager *nm, ockam_flow_id flow);

/* Remember that req waits on p (p zeroed before, or unlinked). */
void ockam__nm_pending_link(ockam__nodemanager *nm, struct ockam__nm_pending *p, ockam_msg *req);
/* Forget p; harmless when it was never linked or is already unlinked. */
void ockam__nm_pending_unlink(struct ockam__nm_pending *p);
/* Reply once to the waiting request (body stolen); later calls do nothing. Without the
 * manager the request is dropped. */
void ockam__nm_pending_reply_ok(struct ockam__nm_pending *p, json_t *body);
void ockam__nm_pending_reply_err(struct ockam__nm_pending *p, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What a create request waits for: the view of what it created (new reference) once its
 * first outcome is known or timed_out is true, JSON null when it was deleted meanwhile, NULL
 * to keep waiting. */
typedef json_t *(*ockam__nm_outcome_fn)(ockam__nodemanager *nm, const char *name, bool timed_out);
/* Reply to req with outcome's view: at once when it is known (or wait_ms is 0), else as soon
 * as it is (looked at every 50 ms), at the latest after wait_ms; deleted meanwhile is a 404.
 * Consumes req (dropped if the manager stops first). */
void ockam__nm_reply_when(ockam__nodemanager *nm, ockam_msg *req, const char *name,
    uint64_t wait_ms, ockam__nm_outcome_fn outcome);

/* An endpoint of nodemanager.c's dispatch table: answers req (consumed) about arg (the rest
 * of the request path after a trailing '/', else NULL) with body (the request's JSON, borrowed;
 * may be NULL). */
typedef void ockam__nm_handler(
    ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body);

/* Multiaddr text -> route (/node must already be resolved by the caller); caller frees. */
ockam_err ockam__nm_route_of(const char *text, ockam_route **out);
/* A route as JSON text, or null. New reference. */
json_t *ockam__nm_route_json(const ockam_route *r);
/* A last-error text as JSON: null when empty. New reference. */
json_t *ockam__nm_error_json(const char *text);
/* body[key] as milliseconds (0 to one hour), else dflt. */
uint32_t ockam__nm_body_ms(json_t *body, const char *key, uint32_t dflt);
/* item[key] when it is a string, else NULL (borrowed). */
const char *ockam__nm_item_str(json_t *item, const char *key);

/* ---- nodemanager_tcp.c ------------------------------------------------------------------ */

/* The node's main TCP listener (NULL before it exists). */
ockam_listener *ockam__nm_main_listener(ockam__nodemanager *nm);
/* Make the service at addr a consumer of every TCP listener and operator connection. */
ockam_err ockam__nm_tcp_consume_all(ockam__nodemanager *nm, const char *addr);
/* Add "tcp_listener_address" (the main listener, when there is one) and "tcp_listeners" (the
 * others) to the configuration object cfg. */
void ockam__nm_tcp_config(ockam__nodemanager *nm, json_t *cfg);
/* GET /node's "tcp_listeners" and "connections" (TCP only, incoming and outgoing). New
 * references. */
json_t *ockam__nm_tcp_listeners_json(ockam__nodemanager *nm);
json_t *ockam__nm_tcp_conns_json(ockam__nodemanager *nm);
/* Forget the TCP bookkeeping (the node closes the listeners and connections themselves). */
void ockam__nm_tcp_free(ockam__nodemanager *nm);

/* Endpoints. */
ockam__nm_handler ockam__nm_tcp_list_listeners, ockam__nm_tcp_create_listener,
    ockam__nm_tcp_show_listener, ockam__nm_tcp_delete_listener, ockam__nm_tcp_list_conns,
    ockam__nm_tcp_create_conn, ockam__nm_tcp_show_conn, ockam__nm_tcp_delete_conn;

/* ---- nodemanager_send.c ----------------------------------------------------------------- */

/* POST /v0/message. */
ockam__nm_handler ockam__nm_send_message;

/* ---- nodemanager_udp.c ------------------------------------------------------------------ */

/* Make the service at addr a consumer of every UDP listener and operator connection. */
ockam_err ockam__nm_udp_consume_all(ockam__nodemanager *nm, const char *addr);
/* Add "udp_listener_address" (main, real port, or null), "udp_listeners" (the others) and
 * "udp_connections" (their peers) to
 * the configuration object cfg. */
void ockam__nm_udp_config(ockam__nodemanager *nm, json_t *cfg);
/* Add "udp_listeners" and "udp_connections" (views as the endpoints return) to res. */
void ockam__nm_udp_resources(ockam__nodemanager *nm, json_t *res);
/* Forget the UDP bookkeeping (the node closes the binds themselves). */
void ockam__nm_udp_free(ockam__nodemanager *nm);

/* Endpoints. */
ockam__nm_handler ockam__nm_udp_list_listeners, ockam__nm_udp_create_listener,
    ockam__nm_udp_show_listener, ockam__nm_udp_delete_listener, ockam__nm_udp_list_conns,
    ockam__nm_udp_create_conn, ockam__nm_udp_show_conn, ockam__nm_udp_delete_conn;

/* ---- nodemanager_ble.c ------------------------------------------------------------------ */

/* Make the service at addr a consumer of the BLE listener and the operator's BLE links;
 * nothing when the node has no BLE transport. */
ockam_err ockam__nm_ble_consume_all(ockam__nodemanager *nm, const char *addr);
/* Add "ble" ({address, listener_name, ready, controller_down} or null) and
 * "ble_connections" (link views) to res. */
void ockam__nm_ble_resources(ockam__nodemanager *nm, json_t *res);
/* Forget the bookkeeping (the transport closes the links itself). */
void ockam__nm_ble_free(ockam__nodemanager *nm);
ockam__nm_handler ockam__nm_ble_list_conns, ockam__nm_ble_create_conn, ockam__nm_ble_show_conn,
    ockam__nm_ble_delete_conn;

/* ---- nodemanager_kafka.c ---------------------------------------------------------------- */

/* Make the service at addr a consumer of the Kafka transport's flow (what the node consumes
 * from its inbox); nothing when the node has no Kafka transport. */
ockam_err ockam__nm_kafka_consume_all(ockam__nodemanager *nm, const char *addr);
/* Add "kafka" to res: {inbox_topic, flow_control_id, stats}, or null without the transport. */
void ockam__nm_kafka_resources(ockam__nodemanager *nm, json_t *res);

/* ---- nodemanager_relay.c ---------------------------------------------------------------- */

/* Start the node's relay service (forwarding_service, static_forwarding_service). */
ockam_err ockam__nm_relay_start(ockam__nodemanager *nm);
/* A flow the public services consume was added or removed: the relay service follows. */
void ockam__nm_relay_flow(ockam__nodemanager *nm, ockam_flow_id flow, bool add);
/* The secure channel a relay proxy (ockam__nm_secure_proxy_start) sends through was made
 * again: the relay that uses it registers again at once. */
void ockam__nm_relay_channel_remade(ockam__nodemanager *nm, const char *proxy);
/* Add "relays" (what `node start` restores) to cfg. */
void ockam__nm_relay_config(ockam__nodemanager *nm, json_t *cfg);
/* Add "relays" (registered elsewhere), or "relays_served" (registered here), to res. */
void ockam__nm_relay_resources(ockam__nodemanager *nm, json_t *res);
void ockam__nm_relay_served(ockam__nodemanager *nm, json_t *res);
/* Bring back the config's "relays" (node start); one that cannot come back is logged. */
void ockam__nm_relay_restore(ockam__nodemanager *nm, json_t *config);
/* Forget the bookkeeping (the node stops the workers themselves). */
void ockam__nm_relay_free(ockam__nodemanager *nm);

ockam__nm_handler ockam__nm_relay_list, ockam__nm_relay_create, ockam__nm_relay_show,
    ockam__nm_relay_delete;

/* ---- nodemanager_portal.c --------------------------------------------------------------- */

/* A flow the public services consume was added or removed: the outlets follow. */
void ockam__nm_portal_flow(ockam__nodemanager *nm, ockam_flow_id flow, bool add);
/* Add "inlets" and "outlets" (what `node start` restores) to cfg. */
void ockam__nm_portal_config(ockam__nodemanager *nm, json_t *cfg);
/* Add "inlets" and "outlets" (views) to res. */
void ockam__nm_portal_resources(ockam__nodemanager *nm, json_t *res);
/* Forget the bookkeeping (the node stops the workers themselves). */
void ockam__nm_portal_free(ockam__nodemanager *nm);

ockam__nm_handler ockam__nm_inlet_list, ockam__nm_inlet_create, ockam__nm_inlet_show,
    ockam__nm_inlet_delete, ockam__nm_outlet_list, ockam__nm_outlet_create, ockam__nm_outlet_show,
    ockam__nm_outlet_delete;

#endif
