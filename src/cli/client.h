/* Talking to nodes from the `ockam` command, through a throwaway in-process node:
 * connecting (TCP or Unix socket) with a deadline, one request/response with a deadline, and
 * the control API over a node's api.sock (protocol in src/nodemanager/nodemanager.h). */
#ifndef OCKAM_CLI_CLIENT_H
#define OCKAM_CLI_CLIENT_H

#include "ockam/ockam.h"

#include <jansson.h>

/* Default time the CLI waits for a node's control API. */
#define API_TIMEOUT_MS 30000u

/* Connect and run the node's loop until connected, failed or timed out (OCKAM_ETIMEDOUT).
 * The connection belongs to the node. */
ockam_err client_connect_tcp(
    ockam_node *node, const char *host_port, uint64_t timeout_ms, ockam_conn **out);
ockam_err client_connect_uds(
    ockam_node *node, const char *path, uint64_t timeout_ms, ockam_conn **out);

/* Send data along route from a temporary worker and wait for one reply. When conn is given,
 * the worker is made a consumer of its flow so the reply coming back on it may reach it.
 * OCKAM_ETIMEDOUT, OCKAM_ECLOSED (conn closed before the reply came: its node died), or a send
 * error (OCKAM_ENOENT: no worker at the first local address). */
ockam_err client_request(ockam_node *node, ockam_conn *conn, const ockam_route *route,
    const void *data, size_t len, uint64_t timeout_ms, ockam_msg **reply);

/* The node manager's answer: status 200 with a body, or another status with an error text. */
typedef struct api_result {
    int status;
    json_t *body; /* status 200 (json null when the reply had none) */
    char *error;  /* other statuses */
} api_result;

/* One control-API request to node `name` (body stolen, may be NULL). Returns EXIT_OK when the
 * node answered, whatever the status (free *res with api_result_free); otherwise prints why
 * there is no answer (no such node, not running, no reply in time) and returns the exit
 * code. */
int api_request(const char *name, const char *method, const char *path, json_t *body,
    uint64_t timeout_ms, api_result *res);
void api_result_free(api_result *res);

/* api_request for callers that only want success: on status 200 returns EXIT_OK and *out is the
 * body (caller decrefs); otherwise prints the node's error and returns EXIT_RUNTIME. */
int api_call(const char *name, const char *method, const char *path, json_t *body,
    uint64_t timeout_ms, json_t **out);

#endif
