/* The node manager's UDP part: UDP listeners (binds without a fixed peer) and UDP connections
 * (binds with a fixed peer) that the operator creates, their endpoints, and what `node start`
 * restores. The protocol is documented in nodemanager.h.
 *
 * Why the manager keeps its own list instead of walking ockam_udp_bind_each(): the transport
 * also opens default binds (for 2#host:port first hops of locally created messages), and
 * those must never expose the public services -- they carry replies to the local senders
 * only. Only the binds listed here do. */
#include "nodemanager/nodemanager_internal.h"

#include "core/core.h"
#include "core/host_port.h"
#include "ockam/udp.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct nm_bind {
    ockam_udp_bind *bind;
    bool main; /* the listener given with `node create --udp-listener-address` */
};

struct ockam__nm_udp {
    struct nm_bind *binds; /* listeners and connections, in creation order */
    size_t n, cap;
};

/* ---- bookkeeping --------------------------------------------------------------------- */

static struct ockam__nm_udp *
state(ockam__nodemanager *nm)
{
    struct ockam__nm_udp **slot = ockam__nm_udp_slot(nm);
    if (!*slot)
        *slot = ockam__zalloc(sizeof **slot);
    return *slot;
}

static bool
is_listener(const ockam_udp_bind *b)
{
    return ockam_udp_bind_peer(b) == NULL;
}

static ockam_err
track(ockam__nodemanager *nm, ockam_udp_bind *b, bool main)
{
    struct ockam__nm_udp *s = state(nm);
    if (!s)
        return OCKAM_ENOMEM;
    if (ockam__array_reserve(s->binds, s->cap, s->n + 1, 4) != OCKAM_OK)
        return OCKAM_ENOMEM;
    s->binds[s->n++] = (struct nm_bind) {b, main};
    return OCKAM_OK;
}

/* Index of the listener (want_listener) or connection named by its sender address, its bound
 * address, or (connections) its peer, as given or as the address in use; SIZE_MAX when there
 * is none. */
static size_t
find(ockam__nodemanager *nm, const char *name, bool want_listener)
{
    struct ockam__nm_udp *s = state(nm);
    for (size_t i = 0; s && i < s->n; i++) {
        ockam_udp_bind *b = s->binds[i].bind;
        if (is_listener(b) != want_listener)
            continue;
        const char *peer = ockam_udp_bind_peer(b), *given = ockam_udp_bind_peer_name(b);
        if (strcmp(ockam_udp_bind_address(b), name) == 0
            || strcmp(ockam_udp_bind_local(b), name) == 0 || (peer && strcmp(peer, name) == 0)
            || (given && strcmp(given, name) == 0))
            return i;
    }
    return SIZE_MAX;
}

/* Stop exposing the services on the bind, forget it and close it. */
static void
untrack_and_close(ockam__nodemanager *nm, size_t i)
{
    struct ockam__nm_udp *s = state(nm);
    ockam_udp_bind *b = s->binds[i].bind;
    ockam__nm_services_release(nm, ockam_udp_bind_flow_id(b));
    memmove(&s->binds[i], &s->binds[i + 1], (s->n - i - 1) * sizeof *s->binds);
    s->n--;
    ockam_udp_bind_close(b);
}

/* Open a bind, track it and expose the public services on it. */
static ockam_err
open_public(
    ockam__nodemanager *nm, const char *at, const char *peer, bool main, ockam_udp_bind **out)
{
    ockam_udp_bind_opts opts = {.peer = peer};
    ockam_udp_bind *b;
    ockam_err err = ockam_udp_bind_open(ockam__nm_node(nm), at, &opts, &b);
    if (err)
        return err;
    err = track(nm, b, main);
    if (err) {
        ockam_udp_bind_close(b);
        return err;
    }
    ockam__nm_services_consume(nm, ockam_udp_bind_flow_id(b));
    if (out)
        *out = b;
    return OCKAM_OK;
}

ockam_err
ockam__nodemanager_udp_listen(
    ockam__nodemanager *nm, const char *host_port, bool main, ockam_udp_bind **out)
{
    ockam_err err = open_public(nm, host_port, NULL, main, out);
    if (!err)
        ockam__nm_changed(nm);
    return err;
}

ockam_err
ockam__nm_udp_consume_all(ockam__nodemanager *nm, const char *addr)
{
    struct ockam__nm_udp *s = *ockam__nm_udp_slot(nm);
    ockam_err err = OCKAM_OK;
    for (size_t i = 0; s && i < s->n && !err; i++)
        err = ockam_flow_add_consumer(
            ockam__nm_node(nm), addr, ockam_udp_bind_flow_id(s->binds[i].bind));
    return err;
}

void
ockam__nm_udp_free(ockam__nodemanager *nm)
{
    struct ockam__nm_udp **slot = ockam__nm_udp_slot(nm);
    if (!*slot)
        return;
    ockam__free((*slot)->binds);
    ockam__free(*slot);
    *slot = NULL;
}

/* ---- JSON views ---------------------------------------------------------------------- */

static json_t *
stats_json(const ockam_udp_bind *b)
{
    struct ockam_udp_stats st;
    ockam_udp_bind_stats(b, &st);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "datagrams_in",
        (json_int_t)st.datagrams_in, "datagrams_out", (json_int_t)st.datagrams_out, "messages_in",
        (json_int_t)st.messages_in, "messages_out", (json_int_t)st.messages_out, "malformed",
        (json_int_t)st.malformed, "send_dropped", (json_int_t)st.send_dropped, "unreachable",
        (json_int_t)st.unreachable, "resent", (json_int_t)st.resent);
}

static json_t *
listener_json(const struct nm_bind *nb)
{
    const ockam_udp_bind *b = nb->bind;
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:I, s:o}", "id", ockam_udp_bind_address(b), "type",
        "udp", "mode", "listen", "address", ockam_udp_bind_local(b), "main", nb->main,
        "flow_control_id", (json_int_t)ockam_udp_bind_flow_id(b), "stats", stats_json(b));
}

static json_t *
conn_json(const struct nm_bind *nb)
{
    const ockam_udp_bind *b = nb->bind;
    char route[OCKAM_RANDOM_ADDR_LEN + 16];
    snprintf(route, sizeof route, "/worker/%s", ockam_udp_bind_address(b));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:o}", "address",
        ockam_udp_bind_address(b), "route", route, "type", "udp", "mode", "outgoing", "peer",
        ockam_udp_bind_peer(b), "to", ockam_udp_bind_peer_name(b), "local", ockam_udp_bind_local(b),
        "operator", 1, "flow_control_id", (json_int_t)ockam_udp_bind_flow_id(b), "stats",
        stats_json(b));
}

static json_t *
list_json(ockam__nodemanager *nm, bool listeners)
{
    struct ockam__nm_udp *s = *ockam__nm_udp_slot(nm);
    json_t *arr = json_array();
    for (size_t i = 0; s && i < s->n; i++) {
        if (is_listener(s->binds[i].bind) == listeners)
            json_array_append_new(
                arr, listeners ? listener_json(&s->binds[i]) : conn_json(&s->binds[i]));
    }
    return arr;
}

void
ockam__nm_udp_config(ockam__nodemanager *nm, json_t *cfg)
{
    struct ockam__nm_udp *s = *ockam__nm_udp_slot(nm);
    json_t *main = json_null(), *others = json_array(), *conns = json_array();
    for (size_t i = 0; s && i < s->n; i++) {
        ockam_udp_bind *b = s->binds[i].bind;
        if (!is_listener(b)) {
            /* Nothing is sent to open one, so `node start` can always bring it back; as given,
             * so that a name is resolved again (and tried address by address) then. */
            json_array_append_new(conns, json_string(ockam_udp_bind_peer_name(b)));
            continue;
        }
        if (s->binds[i].main) {
            json_decref(main);
            main = json_string(ockam_udp_bind_local(b));
        } else {
            json_array_append_new(others, json_string(ockam_udp_bind_local(b)));
        }
    }
    json_object_set_new(cfg, "udp_listener_address", main);
    json_object_set_new(cfg, "udp_listeners", others);
    json_object_set_new(cfg, "udp_connections", conns);
}

void
ockam__nm_udp_resources(ockam__nodemanager *nm, json_t *res)
{
    json_object_set_new(res, "udp_listeners", list_json(nm, true));
    json_object_set_new(res, "udp_connections", list_json(nm, false));
}

/* ---- endpoints: listeners ------------------------------------------------------------ */

void
ockam__nm_udp_list_listeners(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    ockam__nm_reply_ok(nm, req, list_json(nm, true));
}

void
ockam__nm_udp_create_listener(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    const char *address = json_string_value(json_object_get(body, "address"));
    ockam_udp_bind *b;
    if (!address) {
        ockam__nm_reply_err(nm, req, 400, "The request needs an \"address\" (HOST:PORT).");
        return;
    }
    ockam_err err = ockam__nodemanager_udp_listen(nm, address, false, &b);
    if (err == OCKAM_EADDRINUSE)
        ockam__nm_reply_err(nm, req, 409, "%s is already in use.", address);
    else if (err == OCKAM_EADDRINVAL)
        ockam__nm_reply_err(nm, req, 400, "'%s' is not a valid HOST:PORT address.", address);
    else if (err)
        ockam__nm_reply_err(
            nm, req, 500, "Unable to listen on %s: %s.", address, ockam_strerror(err));
    else
        ockam__nm_reply_ok(nm, req, listener_json(&(struct nm_bind) {b, false}));
}

void
ockam__nm_udp_show_listener(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    size_t i = find(nm, arg, true);
    if (i == SIZE_MAX)
        ockam__nm_reply_err(
            nm, req, 404, "UDP listener %s was not found on node %s.", arg, ockam__nm_name(nm));
    else
        ockam__nm_reply_ok(nm, req, listener_json(&state(nm)->binds[i]));
}

void
ockam__nm_udp_delete_listener(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    size_t i = find(nm, arg, true);
    if (i == SIZE_MAX) {
        ockam__nm_reply_err(
            nm, req, 404, "UDP listener %s was not found on node %s.", arg, ockam__nm_name(nm));
        return;
    }
    json_t *view = listener_json(&state(nm)->binds[i]);
    untrack_and_close(nm, i);
    ockam__nm_changed(nm);
    ockam__nm_reply_ok(nm, req, view);
}

/* ---- endpoints: connections ---------------------------------------------------------- */

void
ockam__nm_udp_list_conns(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    ockam__nm_reply_ok(nm, req, list_json(nm, false));
}

/* The wildcard bind for a peer: an IPv4 literal needs an IPv4 socket, an IPv6 literal an IPv6
 * one, and a name a dual-stack one, so that every address it resolves to can be tried
 * (include/ockam/udp.h, "Names"); IPv4 alone where the machine has no IPv6. */
static bool
is_ipv4_literal(const char *peer)
{
    char host[64];
    uint16_t port;
    struct in_addr a;
    return ockam__host_port_parse(peer, host, sizeof host, &port) == OCKAM_OK
        && inet_pton(AF_INET, host, &a) == 1;
}

ockam_err
ockam__nodemanager_udp_connect(ockam__nodemanager *nm, const char *to, ockam_udp_bind **out)
{
    bool v4 = is_ipv4_literal(to);
    ockam_err err = open_public(nm, v4 ? "0.0.0.0:0" : "[::]:0", to, false, out);
    if (err && !v4 && to[0] != '[')
        err = open_public(nm, "0.0.0.0:0", to, false, out);
    if (!err)
        ockam__nm_changed(nm);
    return err;
}

/* A UDP "connection" is a bind with a fixed peer: nothing is sent to create it, so it exists
 * at once, whether or not anything listens at the peer yet. */
void
ockam__nm_udp_create_conn(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    const char *to = json_string_value(json_object_get(body, "to"));
    ockam_udp_bind *b;
    if (!to) {
        ockam__nm_reply_err(nm, req, 400, "The request needs a \"to\" address (HOST:PORT).");
        return;
    }
    ockam_err err = ockam__nodemanager_udp_connect(nm, to, &b);
    if (err == OCKAM_EADDRINVAL)
        ockam__nm_reply_err(nm, req, 400,
            "'%s' is not a valid HOST:PORT address with a port, or it cannot be resolved.", to);
    else if (err)
        ockam__nm_reply_err(
            nm, req, 500, "Unable to open a UDP socket for %s: %s.", to, ockam_strerror(err));
    if (err)
        return;
    OCKAM_LOG_I("nodemanager: UDP connection %s to %s created", ockam_udp_bind_address(b),
        ockam_udp_bind_peer(b));
    ockam__nm_reply_ok(nm, req, conn_json(&(struct nm_bind) {b, false}));
}

void
ockam__nm_udp_show_conn(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    size_t i = find(nm, arg, false);
    if (i == SIZE_MAX)
        ockam__nm_reply_err(
            nm, req, 404, "UDP connection %s was not found on node %s.", arg, ockam__nm_name(nm));
    else
        ockam__nm_reply_ok(nm, req, conn_json(&state(nm)->binds[i]));
}

void
ockam__nm_udp_delete_conn(ockam__nodemanager *nm, ockam_msg *req, const char *arg, json_t *body)
{
    size_t i = find(nm, arg, false);
    if (i == SIZE_MAX) {
        ockam__nm_reply_err(
            nm, req, 404, "UDP connection %s was not found on node %s.", arg, ockam__nm_name(nm));
        return;
    }
    json_t *view = conn_json(&state(nm)->binds[i]);
    untrack_and_close(nm, i);
    ockam__nm_changed(nm);
    ockam__nm_reply_ok(nm, req, view);
}
