/* The node manager's BLE part: the links of the node's BLE transport (those opened by
 * `ble-connection create`, by 4#NAME hops, and those a central opened to us), their
 * endpoints, and the flows the public services consume: the listener's (accepted links)
 * and those of links the operator created, as for TCP. The protocol is documented in
 * nodemanager.h. Nothing here when the node has no BLE controller. */
#include "nodemanager/nodemanager_internal.h"

#include "core/core.h"
#include "ockam/ble.h"

#include <stdio.h>
#include <string.h>

struct nm_link {
    char addr[OCKAM_RANDOM_ADDR_LEN + 1];
    ockam_flow_id flow;
};

/* A create request waiting for its link: detached (nm NULL) when the manager goes first. */
struct pending_create {
    ockam__nodemanager *nm;
    ockam_msg *req;
    struct pending_create *next;
};

struct ockam__nm_ble {
    struct nm_link *links; /* created by the operator */
    size_t n, cap;
    struct pending_create *pending;
};

static bool
has_ble(ockam__nodemanager *nm)
{
    return ockam_ble_listener_flow_id(ockam__nm_node(nm)) != 0;
}

static struct ockam__nm_ble *
state(ockam__nodemanager *nm)
{
    struct ockam__nm_ble **slot = ockam__nm_ble_slot(nm);
    if (!*slot)
        *slot = ockam__zalloc(sizeof **slot);
    return *slot;
}

static size_t
find_tracked(struct ockam__nm_ble *s, const char *addr)
{
    for (size_t i = 0; s && i < s->n; i++) {
        if (strcmp(s->links[i].addr, addr) == 0)
            return i;
    }
    return SIZE_MAX;
}

static ockam_err
track(ockam__nodemanager *nm, ockam_ble_link *link)
{
    struct ockam__nm_ble *s = state(nm);
    if (!s)
        return OCKAM_ENOMEM;
    if (find_tracked(s, ockam_ble_link_address(link)) != SIZE_MAX)
        return OCKAM_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        struct nm_link *p = ockam__realloc(s->links, cap * sizeof *p);
        if (!p)
            return OCKAM_ENOMEM;
        s->links = p;
        s->cap = cap;
    }
    struct nm_link *l = &s->links[s->n++];
    snprintf(l->addr, sizeof l->addr, "%s", ockam_ble_link_address(link));
    l->flow = ockam_ble_link_flow_id(link);
    ockam__nm_services_consume(nm, l->flow);
    return OCKAM_OK;
}

static void
untrack(ockam__nodemanager *nm, const char *addr)
{
    struct ockam__nm_ble *s = state(nm);
    size_t i = find_tracked(s, addr);
    if (i == SIZE_MAX)
        return;
    ockam__nm_services_release(nm, s->links[i].flow);
    memmove(&s->links[i], &s->links[i + 1], (s->n - i - 1) * sizeof *s->links);
    s->n--;
}

ockam_err
ockam__nm_ble_consume_all(ockam__nodemanager *nm, const char *addr)
{
    ockam_node *node = ockam__nm_node(nm);
    if (!has_ble(nm))
        return OCKAM_OK;
    ockam_err err = ockam_flow_add_consumer(node, addr, ockam_ble_listener_flow_id(node));
    struct ockam__nm_ble *s = *ockam__nm_ble_slot(nm);
    for (size_t i = 0; !err && s && i < s->n; i++)
        err = ockam_flow_add_consumer(node, addr, s->links[i].flow);
    return err;
}

/* ---- views --------------------------------------------------------------------------- */

static json_t *
link_json(ockam_ble_link *link)
{
    struct ockam_ble_stats st;
    ockam_ble_link_stats(link, &st);
    char route[OCKAM_RANDOM_ADDR_LEN + 16];
    snprintf(route, sizeof route, "/worker/%s", ockam_ble_link_address(link));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "address",
        ockam_ble_link_address(link), "route", route, "peer", ockam_ble_link_peer(link),
        "direction", ockam_ble_link_is_outgoing(link) ? "outgoing" : "incoming", "state",
        ockam_ble_link_state(link), "messages_in", (json_int_t)st.messages_in, "messages_out",
        (json_int_t)st.messages_out, "heartbeats_in", (json_int_t)st.heartbeats_in, "dropped",
        (json_int_t)st.dropped);
}

static void
append_link(ockam_ble_link *link, void *arg)
{
    json_array_append_new(arg, link_json(link));
}

static json_t *
links_json(ockam__nodemanager *nm)
{
    json_t *arr = json_array();
    ockam_ble_link_each(ockam__nm_node(nm), append_link, arr);
    return arr;
}

void
ockam__nm_ble_resources(ockam__nodemanager *nm, json_t *res)
{
    ockam_node *node = ockam__nm_node(nm);
    if (!has_ble(nm)) {
        json_object_set_new(res, "ble", json_null());
        json_object_set_new(res, "ble_connections", json_array());
        return;
    }
    const char *name = ockam_ble_listener_name(node);
    json_object_set_new(res, "ble",
        json_pack("{s:s, s:s?, s:b, s:b}", "address", ockam_ble_local_address(node),
            "listener_name", name, "ready", ockam_ble_ready(node), "controller_down",
            ockam_ble_controller_down(node)));
    json_object_set_new(res, "ble_connections", links_json(nm));
}

void
ockam__nm_ble_free(ockam__nodemanager *nm)
{
    struct ockam__nm_ble *s = *ockam__nm_ble_slot(nm);
    if (!s)
        return;
    for (struct pending_create *p = s->pending; p; p = p->next)
        p->nm = NULL;
    ockam__free(s->links);
    ockam__free(s);
    *ockam__nm_ble_slot(nm) = NULL;
}

/* ---- endpoints ----------------------------------------------------------------------- */

static bool
require_ble(ockam__nodemanager *nm, ockam_msg *req)
{
    if (has_ble(nm))
        return true;
    ockam__nm_reply_err(nm, req, 409,
        "Node %s has no BLE controller: create it with --ble-controller.", ockam__nm_name(nm));
    return false;
}

void
ockam__nm_ble_list_conns(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    if (require_ble(nm, req))
        ockam__nm_reply_ok(nm, req, links_json(nm));
}

static void
unlink_pending(struct ockam__nm_ble *s, struct pending_create *p)
{
    for (struct pending_create **q = s ? &s->pending : NULL; q && *q; q = &(*q)->next) {
        if (*q == p) {
            *q = p->next;
            return;
        }
    }
}

static void
on_created(ockam_ble_link *link, ockam_err status, void *arg)
{
    struct pending_create *p = arg;
    ockam__nodemanager *nm = p->nm;
    if (!nm) {
        ockam_msg_free(p->req);
        ockam__free(p);
        return;
    }
    unlink_pending(*ockam__nm_ble_slot(nm), p);
    if (status == OCKAM_OK && track(nm, link) == OCKAM_OK) {
        OCKAM_LOG_I("nodemanager: BLE connection %s to %s created", ockam_ble_link_address(link),
            ockam_ble_link_peer(link));
        ockam__nm_reply_ok(nm, p->req, link_json(link));
    } else {
        ockam__nm_reply_err(nm, p->req, 504, "Could not reach the BLE device %s: %s.",
            status == OCKAM_OK ? "?" : ockam_ble_link_peer(link), ockam_strerror(status));
    }
    ockam__free(p);
}

void
ockam__nm_ble_create_conn(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    const char *to = json_string_value(json_object_get(body, "to"));
    if (!require_ble(nm, req))
        return;
    if (!to || !to[0] || strlen(to) > OCKAM_BLE_MAX_NAME) {
        ockam__nm_reply_err(nm, req, 400,
            "The request needs a \"to\" device name of 1 to %d bytes.", OCKAM_BLE_MAX_NAME);
        return;
    }
    struct ockam__nm_ble *s = state(nm);
    struct pending_create *p = s ? ockam__zalloc(sizeof *p) : NULL;
    if (!p) {
        ockam__nm_reply_err(nm, req, 500, "Out of memory.");
        return;
    }
    p->nm = nm;
    p->req = req;
    ockam_err err = ockam_ble_connect(ockam__nm_node(nm), to, on_created, p, NULL);
    if (err) {
        ockam__free(p);
        ockam__nm_reply_err(nm, req, 500, "Cannot connect to %s: %s.", to, ockam_strerror(err));
        return;
    }
    p->next = s->pending;
    s->pending = p;
}

void
ockam__nm_ble_show_conn(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    if (!require_ble(nm, req))
        return;
    ockam_ble_link *link = ockam_ble_link_find(ockam__nm_node(nm), arg);
    if (!link)
        ockam__nm_reply_err(
            nm, req, 404, "There is no BLE connection %s on node %s.", arg, ockam__nm_name(nm));
    else
        ockam__nm_reply_ok(nm, req, link_json(link));
}

void
ockam__nm_ble_delete_conn(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    if (!require_ble(nm, req))
        return;
    ockam_ble_link *link = ockam_ble_link_find(ockam__nm_node(nm), arg);
    if (!link) {
        ockam__nm_reply_err(
            nm, req, 404, "There is no BLE connection %s on node %s.", arg, ockam__nm_name(nm));
        return;
    }
    json_t *view = link_json(link);
    untrack(nm, ockam_ble_link_address(link));
    ockam_ble_link_close(link, NULL, NULL);
    ockam__nm_reply_ok(nm, req, view);
}
