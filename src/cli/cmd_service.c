/* `ockam service start hop|list` and `ockam worker list`. */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A local worker address as it appears in /service/ADDR: printable, no '/' or spaces. */
static bool
valid_addr(const char *addr)
{
    size_t n = strlen(addr);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (addr[i] <= ' ' || addr[i] > '~' || addr[i] == '/')
            return false;
    }
    return true;
}

static int
service_start(const cli_args *a)
{
    if (strcmp(a->pos[0], "hop") != 0)
        return out_error(EXIT_USAGE, "echo and uppercase already run on every node.",
            "Only the hop service can be started: ockam service start hop [--addr A] [--at NODE].");
    const char *addr = args_value(a, "addr");
    if (addr && !valid_addr(addr))
        return out_error(EXIT_USAGE, "Use printable characters without '/' or spaces.",
            "'%s' is not a valid service address.", addr);
    int code = EXIT_OK;
    char *node = cli_pick_node(args_value(a, "at"), false, &code);
    if (!node)
        return code;
    /* Without --addr, a hop already running at "hop" is what the user wants: success. */
    json_t *body
        = json_pack("{s:s, s:b}", "addr", addr ? addr : "hop", "allow_existing", addr == NULL);
    json_t *res;
    code = api_call(node, "POST", "/node/services/hop", body, API_TIMEOUT_MS, &res);
    if (code) {
        free(node);
        return code;
    }
    const char *at = json_string_value(json_object_get(res, "addr"));
    bool created = json_is_true(json_object_get(res, "created"));
    if (created)
        out_warn("SECURITY WARNING: Don't use Hop service in production nodes");
    char *plain = created
        ? xasprintf("%s Service started at address %s on node %s", out_mark_ok(), at, node)
        : xasprintf("%s The hop service is already running at address %s on node %s", out_mark_ok(),
            at, node);
    char *machine = xasprintf("/service/%s", at);
    json_object_set_new(res, "node", json_string(node));
    out_result(plain, machine, res);
    free(machine);
    free(plain);
    free(node);
    return EXIT_OK;
}

/* GET path on the --at node and print each array item with fmt (one or two %s: key values). */
static int
list_at(const cli_args *a, const char *path, const char *empty)
{
    int code = EXIT_OK;
    char *node = cli_pick_node(args_value(a, "at"), false, &code);
    if (!node)
        return code;
    json_t *res;
    code = api_call(node, "GET", path, NULL, API_TIMEOUT_MS, &res);
    if (code) {
        free(node);
        return code;
    }
    strbuf sb = {0};
    for (size_t i = 0; i < json_array_size(res); i++) {
        json_t *it = json_array_get(res, i);
        const char *addr = json_string_value(json_object_get(it, "addr"));
        const char *type = json_string_value(json_object_get(it, "type"));
        if (type)
            sb_printf(&sb, "%s%s %s service at %s", i ? "\n" : "", out_mark_item(), type, addr);
        else
            sb_printf(&sb, "%s%s Worker %s", i ? "\n" : "", out_mark_item(), addr);
    }
    if (!json_array_size(res))
        sb_printf(&sb, "%s %s", empty, node);
    char *plain = sb_take(&sb);
    out_result(plain, NULL, res);
    free(plain);
    free(node);
    return EXIT_OK;
}

static int
service_list(const cli_args *a)
{
    return list_at(a, "/node/services", "No services found on");
}

static int
worker_list(const cli_args *a)
{
    return list_at(a, "/node/workers", "No workers found on");
}

static const cli_opt start_opts[] = {
    {"addr", 0, OPT_VALUE, "ADDRESS", "The service's address [default: hop]"},
    {"at", 0, OPT_VALUE, "NODE", "The node to start it on [default: the default node]"},
    {NULL, 0, 0, NULL, NULL},
};

static const cli_opt at_opts[] = {
    {"at", 0, OPT_VALUE, "NODE", "The node to look at [default: the default node]"},
    {NULL, 0, 0, NULL, NULL},
};

const cli_cmd cli_service_cmds[] = {
    {"start", "hop", 1, 1, start_opts, service_start,
        "Start a hop service (echo and uppercase run on every node)",
        "A hop removes itself from the onward route, adds itself to the return route and\n"
        "forwards. It is reachable through every TCP listener of the node and every TCP\n"
        "connection created with tcp-connection create.\n\n"
        "Examples:\n  ockam service start hop --addr h1 --at n1\n  ockam service start hop --at "
        "n2"},
    {"list", "", 0, 0, at_opts, service_list, "List the services of a node", NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const cli_cmd cli_worker_cmds[] = {
    {"list", "", 0, 0, at_opts, worker_list, "List every worker address on a node", NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
