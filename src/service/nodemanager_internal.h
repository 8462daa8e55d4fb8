/* What nodemanager.c shares with the transport-specific parts of the node manager
 * (nodemanager_udp.c). Internal to src/service; loop thread only.
 *
 * nodemanager.c owns the manager, the public services and the dispatch table; a transport
 * part keeps its own state behind one pointer in the manager (ockam__nm_udp_slot) and calls
 * back here to reply and to expose its flows to the public services. */
#ifndef OCKAM_SERVICE_NODEMANAGER_INTERNAL_H
#define OCKAM_SERVICE_NODEMANAGER_INTERNAL_H

#include "service/nodemanager.h"

struct ockam__nm_udp;

/* ---- nodemanager.c ------------------------------------------------------------------- */

ockam_node *ockam__nm_node(ockam__nodemanager *nm);
const char *ockam__nm_name(ockam__nodemanager *nm);
struct ockam__nm_udp **ockam__nm_udp_slot(ockam__nodemanager *nm);
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

/* ---- nodemanager_udp.c ------------------------------------------------------------------ */

/* Make the service at addr a consumer of every UDP listener and operator connection. */
ockam_err ockam__nm_udp_consume_all(ockam__nodemanager *nm, const char *addr);
/* Add "udp_listener_address" (main, real port, or null) and "udp_listeners" (the others) to
 * the configuration object cfg. */
void ockam__nm_udp_config(ockam__nodemanager *nm, json_t *cfg);
/* Add "udp_listeners" and "udp_connections" (views as the endpoints return) to res. */
void ockam__nm_udp_resources(ockam__nodemanager *nm, json_t *res);
/* Forget the UDP bookkeeping (the node closes the binds themselves). */
void ockam__nm_udp_free(ockam__nodemanager *nm);

/* Endpoints (handler signature of nodemanager.c's dispatch table). */
void ockam__nm_udp_list_listeners(
    ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body);
void ockam__nm_udp_create_listener(
    ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body);
void ockam__nm_udp_show_listener(
    ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body);
void ockam__nm_udp_delete_listener(
    ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body);
void ockam__nm_udp_list_conns(
    ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body);
void ockam__nm_udp_create_conn(
    ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body);
void ockam__nm_udp_show_conn(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body);
void ockam__nm_udp_delete_conn(
    ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body);

#endif
