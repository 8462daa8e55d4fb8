/* `ockam udp-listener ...` and `ockam udp-connection ...`: thin clients of the node manager's
 * /node/udp/listener and /node/udp/connection endpoints, shaped like the TCP commands
 * (cmd_tcp.c) so that scripts can treat both alike.
 *
 * A UDP listener is a bind without a fixed peer: any node may send to it, and the node's
 * public services answer. A UDP connection is a bind with a fixed peer: nothing is exchanged
 * to create it, so `create` succeeds even when nothing listens at the peer yet (a message
 * through it then simply gets no reply). */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- udp-listener --------------------------------------------------------------------------- */

#define LISTENERS "/node/udp/listener"
#define CONNECTIONS "/node/udp/connection"

static char *
listener_plain(json_t *l)
{
    return cli_listener_plain(l, "UDP");
}

static int
listener_create(const cli_args *a)
{
    return cli_create_listener(a, LISTENERS, "udp", "Udp", "127.0.0.1:6000");
}

static int
listener_list(const cli_args *a)
{
    return cli_list_cmd(a, LISTENERS, listener_plain, "UDP", "listeners");
}

static int
listener_show(const cli_args *a)
{
    return cli_show_cmd(a, LISTENERS, listener_plain);
}

static int
listener_delete(const cli_args *a)
{
    return cli_delete_listener(a, LISTENERS, "UDP");
}

/* ---- udp-connection ------------------------------------------------------------------------- */

static char *
conn_plain(json_t *c)
{
    return xasprintf("%s UDP, to %s from %s (created by you)\n%s Route %s", out_mark_item(),
        cli_str(c, "peer"), cli_str(c, "local"), out_mark_item(), cli_str(c, "route"));
}

static int
conn_create(const cli_args *a)
{
    return cli_create_connection(a, CONNECTIONS, "UDP", "udp-connection", "127.0.0.1:6000");
}

static int
conn_list(const cli_args *a)
{
    return cli_list_cmd(a, CONNECTIONS, conn_plain, "UDP", "connections");
}

static int
conn_show(const cli_args *a)
{
    return cli_show_cmd(a, CONNECTIONS, conn_plain);
}

static int
conn_delete(const cli_args *a)
{
    return cli_delete_connection(a, CONNECTIONS, "UDP");
}

/* ---- tables --------------------------------------------------------------------------------- */

static const cli_opt conn_create_opts[] = {
    {"from", 0, OPT_VALUE, "NODE", "The node that sends [default: the default node]"},
    {"to", 't', OPT_VALUE, "HOST:PORT", "The peer (another node's UDP listener)"},
    {NULL, 0, 0, NULL, NULL},
};

const cli_cmd cli_udp_listener_cmds[] = {
    {"create", "HOST:PORT", 1, 1, cli_at_opts, listener_create,
        "Create one more UDP listener on a node (kept across node restarts)",
        "Any node may send to a UDP listener; the node's echo, uppercase and hop services\n"
        "answer. Port 0 picks a free port: the output (or --output json) has the real one.\n\n"
        "Example:\n  ockam udp-listener create 127.0.0.1:6000 --at n1"},
    {"list", "", 0, 0, cli_at_opts, listener_list, "List a node's UDP listeners", NULL},
    {"show", "ID|HOST:PORT", 1, 1, cli_at_opts, listener_show, "Show one UDP listener", NULL},
    {"delete", "ID|HOST:PORT", 1, 1, cli_at_yes_opts, listener_delete, "Delete a UDP listener",
        NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const cli_cmd cli_udp_connection_cmds[] = {
    {"create", "", 0, 0, conn_create_opts, conn_create,
        "Open a UDP socket on a node with its peer fixed to another node's UDP listener",
        "Prints the connection's route, /worker/<address>, to use in multiaddrs with\n"
        "message send --from. Datagrams from any other source are dropped. Nothing is sent\n"
        "to create it, so it succeeds even when nothing listens at HOST:PORT yet.\n\n"
        "Example:\n  ockam udp-connection create --from n1 --to 127.0.0.1:6000"},
    {"list", "", 0, 0, cli_at_opts, conn_list, "List a node's UDP connections", NULL},
    {"show", "ADDRESS", 1, 1, cli_at_opts, conn_show,
        "Show one UDP connection (by /worker/<address>, address, or peer HOST:PORT)", NULL},
    {"delete", "ADDRESS", 1, 1, cli_at_yes_opts, conn_delete, "Close and delete a UDP connection",
        NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
