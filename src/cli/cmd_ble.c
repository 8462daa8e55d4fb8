/* `ockam ble-connection ...`: thin client of the node manager's /node/ble/connection
 * endpoints, shaped like the TCP and UDP connection commands. A BLE connection is a link from
 * a node with a BLE controller (node create --ble-controller) to a device that advertises a
 * name (another node created with --ble-listener-name). */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/state.h"
#include "ockam/ble.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECTIONS "/node/ble/connection"
/* Scanning, connecting (retried until the peer advertises) and opening the channel. */
#define CREATE_TIMEOUT_MS 20000u

static char *
conn_plain(json_t *c)
{
    return xasprintf("%s BLE, %s %s (%s)\n%s Route %s", out_mark_item(),
        strcmp(cli_str(c, "direction"), "outgoing") == 0 ? "to" : "from", cli_str(c, "peer"),
        cli_str(c, "state"), out_mark_item(), cli_str(c, "route"));
}

static int
conn_create(const cli_args *a)
{
    const char *to = args_value(a, "to");
    if (!to || !to[0] || strlen(to) > OCKAM_BLE_MAX_NAME)
        return out_error(EXIT_USAGE, "Example: ockam ble-connection create --from c1 --to b1",
            "The argument '--to NAME' is required: a BLE device name of 1 to %d bytes.",
            OCKAM_BLE_MAX_NAME);
    char *node;
    json_t *res;
    int code = cli_call_at(a, "from", true, "POST", CONNECTIONS, json_pack("{s:s}", "to", to),
        CREATE_TIMEOUT_MS, &node, &res);
    if (code) {
        free(node);
        return code;
    }
    char *route = xstrdup(cli_str(res, "route"));
    char *plain = xasprintf("%s A BLE connection was created at the node %s\n  to the device "
                            "%s; use it in routes as:\n%s",
        out_mark_ok(), node, to, route);
    json_object_set_new(res, "from", json_string(node));
    json_object_set_new(res, "to", json_string(to));
    out_result(plain, route, res);
    free(plain);
    free(route);
    free(node);
    return EXIT_OK;
}

static int
conn_list(const cli_args *a)
{
    return cli_list_cmd(a, CONNECTIONS, conn_plain, "BLE", "connections");
}

static int
conn_show(const cli_args *a)
{
    return cli_show_cmd(a, CONNECTIONS, conn_plain);
}

static int
conn_delete(const cli_args *a)
{
    return cli_delete_connection(a, CONNECTIONS, "BLE");
}

static const cli_opt conn_create_opts[] = {
    {"from", 0, OPT_VALUE, "NODE", "The node that connects [default: the default node]"},
    {"to", 't', OPT_VALUE, "NAME", "The device name another node advertises"},
    {NULL, 0, 0, NULL, NULL},
};

const cli_cmd cli_ble_connection_cmds[] = {
    {"create", "", 0, 0, conn_create_opts, conn_create,
        "Connect a node's BLE controller to a device that advertises NAME",
        "The node scans for NAME, connects and opens an L2CAP channel, then prints the\n"
        "connection's route, /worker/<address>, to use in multiaddrs with message send\n"
        "--from. A route may also name the device directly: /ble/NAME/service/echo.\n\n"
        "Example:\n  ockam ble-connection create --from c1 --to b1"},
    {"list", "", 0, 0, cli_at_opts, conn_list, "List a node's BLE connections", NULL},
    {"show", "ADDRESS", 1, 1, cli_at_opts, conn_show,
        "Show one BLE connection (by /worker/<address>, address, or peer name)", NULL},
    {"delete", "ADDRESS", 1, 1, cli_at_yes_opts, conn_delete, "Close and delete a BLE connection",
        NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
