/* `ockam tcp-listener ...` and `ockam tcp-connection ...`: thin clients of the node manager's
 * /node/tcp/listener and /node/tcp/connection endpoints. */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tcp-listener --------------------------------------------------------------------------- */

static char *
listener_plain(json_t *l)
{
    return cli_listener_plain(l, "TCP");
}

static int
listener_create(const cli_args *a)
{
    return cli_create_listener(a, "/node/tcp/listener", "tcp", "Tcp", "127.0.0.1:4000");
}

static int
listener_list(const cli_args *a)
{
    return cli_list_cmd(a, "/node/tcp/listener", listener_plain, "TCP", "listeners");
}

static int
listener_show(const cli_args *a)
{
    return cli_show_cmd(a, "/node/tcp/listener", listener_plain);
}

static int
listener_delete(const cli_args *a)
{
    return cli_delete_listener(a, "/node/tcp/listener", "TCP");
}

/* ---- tcp-connection ------------------------------------------------------------------------- */

static char *
conn_plain(json_t *c)
{
    bool out = strcmp(cli_str(c, "mode"), "outgoing") == 0;
    bool mine = json_is_true(json_object_get(c, "operator"));
    return xasprintf("%s TCP, %s %s%s\n%s Route %s", out_mark_item(),
        out ? "Outgoing to" : "Incoming from", cli_str(c, "peer"), mine ? " (created by you)" : "",
        out_mark_item(), cli_str(c, "route"));
}

static int
conn_create(const cli_args *a)
{
    return cli_create_connection(
        a, "/node/tcp/connection", "TCP", "tcp-connection", "127.0.0.1:4000");
}

static int
conn_list(const cli_args *a)
{
    return cli_list_cmd(a, "/node/tcp/connection", conn_plain, "TCP", "connections");
}

static int
conn_show(const cli_args *a)
{
    return cli_show_cmd(a, "/node/tcp/connection", conn_plain);
}

static int
conn_delete(const cli_args *a)
{
    return cli_delete_connection(a, "/node/tcp/connection", "TCP");
}

/* ---- tables --------------------------------------------------------------------------------- */

static const cli_opt conn_create_opts[] = {
    {"from", 0, OPT_VALUE, "NODE", "The node that connects [default: the default node]"},
    {"to", 't', OPT_VALUE, "HOST:PORT", "Where to connect (another node's listener)"},
    {NULL, 0, 0, NULL, NULL},
};

const cli_cmd cli_tcp_listener_cmds[] = {
    {"create", "HOST:PORT", 1, 1, cli_at_opts, listener_create,
        "Create one more TCP listener on a node (kept across node restarts)",
        "Example:\n  ockam tcp-listener create 127.0.0.1:5000 --at n1"},
    {"list", "", 0, 0, cli_at_opts, listener_list, "List a node's TCP listeners", NULL},
    {"show", "ID|HOST:PORT", 1, 1, cli_at_opts, listener_show, "Show one TCP listener", NULL},
    {"delete", "ID|HOST:PORT", 1, 1, cli_at_yes_opts, listener_delete, "Delete a TCP listener",
        NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const cli_cmd cli_tcp_connection_cmds[] = {
    {"create", "", 0, 0, conn_create_opts, conn_create,
        "Connect a node to another node's TCP listener",
        "Prints the connection's route, /worker/<address>, to use in multiaddrs with\n"
        "message send --from.\n\n"
        "Example:\n  ockam tcp-connection create --from n1 --to 127.0.0.1:7000"},
    {"list", "", 0, 0, cli_at_opts, conn_list, "List a node's TCP connections (both directions)",
        NULL},
    {"show", "ADDRESS", 1, 1, cli_at_opts, conn_show,
        "Show one TCP connection (by /worker/<address>, address, or peer HOST:PORT)", NULL},
    {"delete", "ADDRESS", 1, 1, cli_at_yes_opts, conn_delete, "Close and delete a TCP connection",
        NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
