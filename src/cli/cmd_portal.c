/* `ockam tcp-outlet ...` and `ockam tcp-inlet ...` (CLI spec §1.17, §1.18): thin clients of
 * the node manager's /node/outlet and /node/inlet endpoints. */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INLET_WAIT_MS 3000 /* the node waits this long for the outlet's node to answer */

/* "5432" -> "127.0.0.1:5432"; "H:P" as it is. Caller frees; NULL (error printed) if invalid. */
static char *
host_port_arg(const char *value, const char *what)
{
    char host[256];
    uint16_t port;
    char *text = strchr(value, ':') ? xstrdup(value) : xasprintf("127.0.0.1:%s", value);
    if (ockam__host_port_parse(text, host, sizeof host, &port) == OCKAM_OK)
        return text;
    free(text);
    out_error(EXIT_USAGE, "Use [HOST:]PORT, e.g. 127.0.0.1:5000 or 5000.", "Invalid %s '%s'.", what,
        value);
    return NULL;
}

static bool
confirm_delete(const cli_args *a, const char *what, int *code)
{
    char *q = xasprintf("Delete the %s %s?", what, a->pos[0]);
    bool go = out_confirm(q, args_flag(a, "yes"), code);
    free(q);
    return go;
}

/* ---- tcp-outlet ------------------------------------------------------------------------------ */

static char *
outlet_plain(json_t *o)
{
    const char *err = json_string_value(json_object_get(o, "last_error"));
    return xasprintf("%s Outlet at %s is connected to %s%s%s", out_mark_item(), cli_str(o, "from"),
        cli_str(o, "to"), err ? "\n  Last error: " : "", err ? err : "");
}

static int
outlet_create(const cli_args *a)
{
    const char *to_arg = args_value(a, "to");
    if (!to_arg)
        return out_error(EXIT_USAGE, "Example: ockam tcp-outlet create --at n1 --to 127.0.0.1:5000",
            "The argument '--to HOST:PORT' is required.");
    char *to = host_port_arg(to_arg, "--to address");
    if (!to)
        return EXIT_USAGE;
    json_t *body = json_pack("{s:s}", "to", to);
    size_t nallow = 0;
    const char *const *allow = args_list(a, "allow", &nallow);
    if (allow) {
        json_t *arr = json_array();
        for (size_t i = 0; i < nallow; i++)
            json_array_append_new(arr, json_string(allow[i]));
        json_object_set_new(body, "allow", arr);
    }
    if (args_value(a, "from"))
        json_object_set_new(body, "from", json_string(args_value(a, "from")));
    char *node;
    json_t *res;
    int code
        = cli_call_at(a, "at", true, "POST", "/node/outlet", body, API_TIMEOUT_MS, &node, &res);
    if (!code) {
        char *plain = xasprintf("%s Created a new TCP Outlet in the Node %s at %s bound to %s",
            out_mark_ok(), node, cli_str(res, "from"), to);
        char *machine = xstrdup(cli_str(res, "from"));
        out_result(plain, machine, res);
        free(machine);
        free(plain);
    }
    free(node);
    free(to);
    return code;
}

static int
outlet_list(const cli_args *a)
{
    char *node;
    json_t *res;
    int code
        = cli_call_at(a, "at", false, "GET", "/node/outlet", NULL, API_TIMEOUT_MS, &node, &res);
    if (!code) {
        char *empty = xasprintf("No TCP outlets on node %s.", node);
        cli_print_list(res, outlet_plain, empty);
        free(empty);
    }
    free(node);
    return code;
}

static int
outlet_show(const cli_args *a)
{
    char *node, *path = xasprintf("/node/outlet/%s", a->pos[0]);
    json_t *o;
    int code = cli_call_at(a, "at", false, "GET", path, NULL, API_TIMEOUT_MS, &node, &o);
    free(path);
    if (!code) {
        const char *err = json_string_value(json_object_get(o, "last_error"));
        char *plain = xasprintf("Outlet\n  On Node: %s\n  From address: %s\n  To TCP server: %s\n"
                                "  Connections: %lld%s%s",
            node, cli_str(o, "from"), cli_str(o, "to"),
            (long long)json_integer_value(json_object_get(o, "connections")),
            err ? "\n  Last error: " : "", err ? err : "");
        out_result(plain, NULL, o);
        free(plain);
    }
    free(node);
    return code;
}

/* Confirm, DELETE collection/<alias> and report it: "<label> with alias A on <node_word> N
 * has been deleted". */
static int
portal_delete(const cli_args *a, const char *what, const char *collection, const char *label,
    const char *node_word)
{
    int code = EXIT_OK;
    if (!confirm_delete(a, what, &code))
        return code;
    char *node, *path = xasprintf("%s/%s", collection, a->pos[0]);
    json_t *res;
    code = cli_call_at(a, "at", false, "DELETE", path, NULL, API_TIMEOUT_MS, &node, &res);
    free(path);
    if (!code) {
        char *alias = xstrdup(cli_str(res, "alias"));
        char *plain = xasprintf("%s %s with alias %s on %s %s has been deleted", out_mark_ok(),
            label, alias, node_word, node);
        json_decref(res);
        out_result(plain, alias, json_pack("{s:s, s:s}", "alias", alias, "node", node));
        free(plain);
        free(alias);
    }
    free(node);
    return code;
}

static int
outlet_delete(const cli_args *a)
{
    return portal_delete(a, "TCP outlet", "/node/outlet", "TCP Outlet", "node");
}

/* ---- tcp-inlet ------------------------------------------------------------------------------- */

static bool
inlet_up(json_t *i)
{
    return strcmp(cli_str(i, "status"), "Up") == 0;
}

static char *
inlet_plain(json_t *i)
{
    return xasprintf("%s Inlet %s at %s is %s%s%s\n%s With route to outlet %s", out_mark_item(),
        cli_str(i, "alias"), cli_str(i, "bind_addr"),
        out_color_start(inlet_up(i) ? "green" : "red"), inlet_up(i) ? "UP" : "DOWN",
        out_color_end(), out_mark_item(), cli_str(i, "to"));
}

/* --to: a full route; a bare outlet name would need a project, which this CLI has not. */
static int
inlet_to(const char *to, char **out)
{
    if (!to)
        return out_error(EXIT_USAGE,
            "Example: ockam tcp-inlet create --at n2 --from 6000 --to /node/n1/service/outlet",
            "The argument '--to MULTIADDR' is required.");
    /* One /service/NAME alone would name an outlet in a project; /service/<encryptor>/...
     * (what `secure-channel create` prints, then the outlet) is a full route. */
    if (to[0] != '/' || (strncmp(to, "/service/", 9) == 0 && !strchr(to + 9, '/')))
        return out_error(EXIT_USAGE,
            "There are no projects here: give the whole route, e.g. /node/n1/service/outlet.",
            "'%s' is not a full route to an outlet.", to);
    return cli_resolve_multiaddr(to, "--to", out);
}

static json_t *
inlet_body(const cli_args *a, const char *from, const char *to, int *code)
{
    uint64_t ping_ms = 0;
    const char *ping = args_value(a, "ping-interval");
    if (ping && (!parse_duration_ms(ping, &ping_ms) || ping_ms == 0 || ping_ms > 3600000)) {
        *code = out_error(EXIT_USAGE, "Durations look like 500ms, 10s, 2m.",
            "Invalid --ping-interval '%s'.", ping);
        return NULL;
    }
    char *alias = args_value(a, "alias") ? xstrdup(args_value(a, "alias")) : state_random_name();
    bool wait = !args_flag(a, "no-connection-wait");
    json_t *body = json_pack("{s:s, s:s, s:s, s:I, s:I}", "alias", alias, "from", from, "to", to,
        "wait_ms", (json_int_t)(wait ? INLET_WAIT_MS : 0), "ping_interval_ms", (json_int_t)ping_ms);
    free(alias);
    return body;
}

static void
print_inlet_created(const char *node, json_t *res)
{
    if (!inlet_up(res)) {
        const char *why = json_string_value(json_object_get(res, "last_error"));
        out_warn("The TCP inlet at %s failed to reach the outlet at %s%s%s",
            cli_str(res, "bind_addr"), cli_str(res, "to"), why ? ": " : "", why ? why : "");
        out_info("It will retry to connect automatically");
    }
    char *plain = xasprintf("%s Created a new TCP Inlet in the Node %s bound to %s\n    sending "
                            "traffic to the TCP Outlet at %s",
        out_mark_ok(), node, cli_str(res, "bind_addr"), cli_str(res, "to"));
    char *machine = xstrdup(cli_str(res, "bind_addr"));
    out_result(plain, machine, res);
    free(machine);
    free(plain);
}

static int
inlet_create(const cli_args *a)
{
    char *to = NULL, *node = NULL;
    char *from = host_port_arg(
        args_value(a, "from") ? args_value(a, "from") : "127.0.0.1:0", "--from address");
    if (!from)
        return EXIT_USAGE;
    int code = inlet_to(args_value(a, "to"), &to);
    json_t *body = code ? NULL : inlet_body(a, from, to, &code), *res;
    if (body)
        code = cli_call_at(a, "at", true, "POST", "/node/inlet", body,
            API_TIMEOUT_MS + INLET_WAIT_MS, &node, &res);
    if (body && !code)
        print_inlet_created(node, res);
    free(from);
    free(to);
    free(node);
    return code;
}

static int
inlet_list(const cli_args *a)
{
    char *node;
    json_t *res;
    int code = cli_call_at(a, "at", false, "GET", "/node/inlet", NULL, API_TIMEOUT_MS, &node, &res);
    if (!code) {
        char *empty = xasprintf("No TCP inlets on node %s.", node);
        cli_print_list(res, inlet_plain, empty);
        free(empty);
    }
    free(node);
    return code;
}

static int
inlet_show(const cli_args *a)
{
    char *node, *path = xasprintf("/node/inlet/%s", a->pos[0]);
    json_t *i;
    int code = cli_call_at(a, "at", false, "GET", path, NULL, API_TIMEOUT_MS, &node, &i);
    free(path);
    if (!code) {
        const char *err = json_string_value(json_object_get(i, "last_error"));
        char *plain = xasprintf("Inlet\n  Alias: %s\n  On Node: %s\n  Status: %s\n  Bind address: "
                                "%s\n  Outlet route: %s\n  Connections: %lld%s%s",
            cli_str(i, "alias"), node, inlet_up(i) ? "UP" : "DOWN", cli_str(i, "bind_addr"),
            cli_str(i, "to"), (long long)json_integer_value(json_object_get(i, "connections")),
            err ? "\n  Last error: " : "", err ? err : "");
        out_result(plain, NULL, i);
        free(plain);
    }
    free(node);
    return code;
}

static int
inlet_delete(const cli_args *a)
{
    return portal_delete(a, "TCP inlet", "/node/inlet", "TCP Inlet", "Node");
}

/* ---- tables ---------------------------------------------------------------------------------- */

static const cli_opt outlet_create_opts[] = {
    {"at", 0, OPT_VALUE, "NODE", "The node to act on [default: the default node]"},
    {"from", 0, OPT_VALUE, "ADDR", "The outlet's address, e.g. /service/db [default: outlet]"},
    {"to", 0, OPT_VALUE, "[HOST:]PORT", "The TCP server the outlet connects to"},
    {"allow", 0, OPT_LIST, "IDENTIFIER|secure",
        "Accept connections only through secure channels of this identity (repeatable); "
        "'secure': of any identity [default: anyone who can reach the node]"},
    {NULL, 0, 0, NULL, NULL},
};

static const cli_opt inlet_create_opts[] = {
    {"at", 0, OPT_VALUE, "NODE", "The node to act on [default: the default node]"},
    {"from", 0, OPT_VALUE, "[HOST:]PORT", "Where to listen [default: 127.0.0.1, a free port]"},
    {"to", 0, OPT_VALUE, "MULTIADDR", "Route to the outlet, e.g. /node/n1/service/outlet"},
    {"alias", 0, OPT_VALUE, "ALIAS", "A name for the inlet [default: a random name]"},
    {"no-connection-wait", 0, OPT_FLAG, NULL, "Do not wait for the outlet's node to answer"},
    {"ping-interval", 0, OPT_VALUE, "DURATION", NULL}, /* status probe period (tests) */
    {NULL, 0, 0, NULL, NULL},
};

const cli_cmd cli_tcp_outlet_cmds[] = {
    {"create", "", 0, 0, outlet_create_opts, outlet_create,
        "Create a TCP outlet: the server end of a portal",
        "Each connection arriving through an inlet opens a TCP connection to --to.\n"
        "With --allow, only inlets whose route reaches the outlet through a secure channel\n"
        "(e.g. --to /node/n1/secure/api/service/outlet) of an allowed identity can open\n"
        "connections: plaintext Pings are refused.\n\n"
        "Examples:\n  ockam tcp-outlet create --at n1 --to 127.0.0.1:5000\n"
        "  ockam tcp-outlet create --at n1 --to 127.0.0.1:5000 --allow I3bc1...\n"
        "  ockam tcp-outlet create --at n1 --to 127.0.0.1:5000 --allow secure"},
    {"list", "", 0, 0, cli_at_opts, outlet_list, "List a node's TCP outlets", NULL},
    {"show", "ADDR", 1, 1, cli_at_opts, outlet_show, "Show one TCP outlet", NULL},
    {"delete", "ADDR", 1, 1, cli_at_yes_opts, outlet_delete, "Delete a TCP outlet", NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const cli_cmd cli_tcp_inlet_cmds[] = {
    {"create", "", 0, 0, inlet_create_opts, inlet_create,
        "Create a TCP inlet: the client end of a portal",
        "Applications connect to --from; each connection is carried to the outlet at --to.\n\n"
        "Examples:\n"
        "  ockam tcp-inlet create --at n2 --from 127.0.0.1:6000 --to /node/n1/service/outlet\n"
        "  ockam tcp-inlet create --at n1 --from 6000 --to "
        "/node/n2/service/forward_to_n3/service/outlet"},
    {"list", "", 0, 0, cli_at_opts, inlet_list, "List a node's TCP inlets", NULL},
    {"show", "ALIAS", 1, 1, cli_at_opts, inlet_show, "Show one TCP inlet", NULL},
    {"delete", "ALIAS", 1, 1, cli_at_yes_opts, inlet_delete, "Delete a TCP inlet", NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
