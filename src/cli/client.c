/* Talking to nodes from the `ockam` command (see client.h). */
#include "cli/client.h"

#include "cli/output.h"
#include "cli/state.h"
#include "cli/util.h"
#include "nodemanager/nodemanager.h"

#include <stdlib.h>
#include <string.h>

/* Lives on the heap: when the wait gives up, the connect callback still runs later (at node
 * free at the latest) and frees it. */
struct connect_wait {
    bool done, abandoned;
    ockam_err status;
    ockam_conn *conn;
};

static void
connect_done(ockam_conn *conn, ockam_err status, void *user)
{
    struct connect_wait *w = user;
    if (w->abandoned) {
        if (conn)
            ockam_conn_close(conn);
        free(w);
        return;
    }
    w->done = true;
    w->status = status;
    w->conn = conn;
}

static void
deadline_passed(ockam_timer *t, void *user)
{
    *(bool *)user = true;
}

/* Run the loop until *flag is set or timeout_ms passes; false on timeout. */
static bool
run_until(ockam_node *node, const bool *flag, uint64_t timeout_ms)
{
    bool expired = false;
    ockam_timer *t;
    if (ockam_timer_start(node, timeout_ms, 0, deadline_passed, &expired, &t) != OCKAM_OK)
        return false;
    while (!*flag && !expired)
        ockam_node_run_once(node);
    ockam_timer_stop(t);
    return *flag;
}

static ockam_err
await_connect(ockam_node *node, struct connect_wait *w, ockam_err started, uint64_t timeout_ms,
    ockam_conn **out)
{
    if (started) {
        free(w);
        return started;
    }
    if (!run_until(node, &w->done, timeout_ms)) {
        w->abandoned = true;
        return OCKAM_ETIMEDOUT;
    }
    ockam_err status = w->status;
    *out = w->conn;
    free(w);
    return status;
}

ockam_err
client_connect_tcp(ockam_node *node, const char *host_port, uint64_t timeout_ms, ockam_conn **out)
{
    struct connect_wait *w = xmalloc(sizeof *w);
    *w = (struct connect_wait) {0};
    ockam_err err = ockam_tcp_connect(node, host_port, NULL, connect_done, w);
    return await_connect(node, w, err, timeout_ms, out);
}

ockam_err
client_connect_uds(ockam_node *node, const char *path, uint64_t timeout_ms, ockam_conn **out)
{
    struct connect_wait *w = xmalloc(sizeof *w);
    *w = (struct connect_wait) {0};
    ockam_err err = ockam_uds_connect(node, path, connect_done, w);
    return await_connect(node, w, err, timeout_ms, out);
}

struct reply_wait {
    ockam_msg *reply;
    bool done;
    bool closed; /* the connection to the node closed before the reply came */
};

static void
on_reply(ockam_worker *w, ockam_msg *msg, void *user)
{
    struct reply_wait *r = user;
    if (r->reply) {
        ockam_msg_free(msg); /* only the first reply counts */
        return;
    }
    r->reply = msg;
    r->done = true;
}

/* A node that dies in the middle of a request closes the connection: no reply can come, so the
 * wait ends at once rather than at the timeout. */
static void
on_conn_closed(ockam_conn *conn, ockam_err reason, void *user)
{
    struct reply_wait *r = user;
    r->closed = true;
    r->done = true;
}

ockam_err
client_request(ockam_node *node, ockam_conn *conn, const ockam_route *route, const void *data,
    size_t len, uint64_t timeout_ms, ockam_msg **reply)
{
    struct reply_wait r = {0};
    ockam_worker_opts opts = {.on_message = on_reply, .user = &r};
    ockam_worker *w;
    char self[OCKAM_RANDOM_ADDR_LEN + 1];

    ockam_addr_random(self);
    ockam_err err = ockam_worker_start(node, self, &opts, &w);
    if (err)
        return err;
    bool watching = false;
    if (conn) {
        ockam_flow_add_consumer(node, self, ockam_conn_flow_id(conn));
        watching = ockam_conn_on_close(conn, on_conn_closed, &r) == OCKAM_OK;
    }
    err = ockam_send_to(w, route, data, len);
    if (!err && !run_until(node, &r.done, timeout_ms))
        err = OCKAM_ETIMEDOUT;
    if (!err && !r.reply)
        err = OCKAM_ECLOSED;
    /* The watcher points into this frame: it must not outlive the call (a closed connection
     * has already dropped it, and may be freed). */
    if (watching && !r.closed)
        ockam_conn_off_close(conn, on_conn_closed, &r);
    ockam_worker_stop(w);
    if (err) {
        ockam_msg_free(r.reply);
        return err;
    }
    *reply = r.reply;
    return OCKAM_OK;
}

/* ---- control API ------------------------------------------------------------------------ */

static int
node_unavailable(const char *name)
{
    if (!state_node_exists(name)) {
        char *hint = xasprintf("Run 'ockam node list' to see your nodes, or create it with "
                               "'ockam node create %s'.",
            name);
        out_error(EXIT_RUNTIME, hint, "The node %s was not found.", name);
        free(hint);
        return EXIT_RUNTIME;
    }
    char *hint = xasprintf("Start it with 'ockam node start %s'.", name);
    out_error(EXIT_RUNTIME, hint, "The node %s is not running.", name);
    free(hint);
    return EXIT_RUNTIME;
}

/* Parse the node's reply into *res. */
static void
api_reply(ockam_msg *reply, api_result *res)
{
    ockam_slice p = ockam_msg_payload(reply);
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)p.ptr, p.len, 0, &jerr);
    res->status = (int)json_integer_value(json_object_get(doc, "status"));
    if (res->status == 200) {
        res->body = json_incref(json_object_get(doc, "body"));
        if (!res->body)
            res->body = json_null();
    } else {
        const char *msg = json_string_value(json_object_get(doc, "error"));
        res->error = xstrdup(msg ? msg : "The node sent a reply that is not valid JSON.");
        if (!res->status)
            res->status = 500;
    }
    json_decref(doc);
}

static int
api_exchange(
    ockam_node *node, const char *name, const char *request, uint64_t timeout_ms, api_result *res)
{
    char *sock = state_node_path(name, "api.sock");
    ockam_conn *conn = NULL;
    ockam_err err = client_connect_uds(node, sock, timeout_ms, &conn);
    free(sock);
    if (err == OCKAM_ECONNREFUSED || err == OCKAM_EADDRINVAL || err == OCKAM_ESYSERR)
        return node_unavailable(name);
    if (err)
        return out_error(
            EXIT_RUNTIME, NULL, "Cannot reach node %s: %s.", name, ockam_strerror(err));

    ockam_route *route = ockam_route_new();
    ockam_msg *reply = NULL;
    if (!route || ockam_route_push_back(route, ockam_addr_local(ockam_conn_address(conn)))
        || ockam_route_push_back(route, ockam_addr_local(OCKAM__NODEMANAGER_ADDR))) {
        ockam_route_free(route);
        return out_error(EXIT_RUNTIME, NULL, "Out of memory.");
    }
    err = client_request(node, conn, route, request, strlen(request), timeout_ms, &reply);
    ockam_route_free(route);
    if (err == OCKAM_ETIMEDOUT) {
        char *log = state_node_path(name, STATE_LOG_FILE);
        char *hint = xasprintf("See its log: %s", log);
        out_error(EXIT_RUNTIME, hint, "Node %s did not answer within %llu ms.", name,
            (unsigned long long)timeout_ms);
        free(hint);
        free(log);
        return EXIT_RUNTIME;
    }
    if (err == OCKAM_ECLOSED) {
        char *log = state_node_path(name, STATE_LOG_FILE);
        char *hint = xasprintf("See its log: %s", log);
        out_error(EXIT_RUNTIME, hint, "Node %s stopped while handling the request.", name);
        free(hint);
        free(log);
        return EXIT_RUNTIME;
    }
    if (err)
        return out_error(
            EXIT_RUNTIME, NULL, "Cannot send to node %s: %s.", name, ockam_strerror(err));
    api_reply(reply, res);
    ockam_msg_free(reply);
    return EXIT_OK;
}

int
api_request(const char *name, const char *method, const char *path, json_t *body,
    uint64_t timeout_ms, api_result *res)
{
    *res = (api_result) {0};
    if (!state_node_running(name, NULL)) {
        json_decref(body);
        return node_unavailable(name);
    }
    json_t *req = json_pack("{s:s, s:s}", "method", method, "path", path);
    if (body)
        json_object_set_new(req, "body", body);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    ockam_node *node = ockam_node_new();
    if (!text || !node || ockam_uds_init(node, NULL) != OCKAM_OK) {
        free(text);
        ockam_node_free(node);
        return out_error(EXIT_RUNTIME, NULL, "Cannot set up a client for node %s.", name);
    }
    int code = api_exchange(node, name, text, timeout_ms, res);
    ockam_node_free(node);
    free(text);
    return code;
}

void
api_result_free(api_result *res)
{
    json_decref(res->body);
    free(res->error);
    *res = (api_result) {0};
}

int
api_call(const char *name, const char *method, const char *path, json_t *body, uint64_t timeout_ms,
    json_t **out)
{
    api_result res;
    *out = NULL;
    int code = api_request(name, method, path, body, timeout_ms, &res);
    if (code)
        return code;
    if (res.status == 200) {
        *out = json_incref(res.body);
    } else {
        code = out_error(EXIT_RUNTIME, NULL, "%s", res.error);
    }
    api_result_free(&res);
    return code;
}
