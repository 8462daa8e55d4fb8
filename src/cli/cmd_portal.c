/* `ockam tcp-outlet ...` and `ockam tcp-inlet ...` (docs/cli.md §1.17, §1.18): thin clients of
 * the node manager's /node/outlet and /node/inlet endpoints. */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/state.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --connection-wait: how long the node waits for the outlet's node to answer (Ockam's default). */
#define INLET_WAIT_DEFAULT "5s"
#define INLET_WAIT_MAX_MS 600000u

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

/* --ping-interval (hidden, for tests): how often a portal checks the far end; 0 = the default. */
static bool
ping_interval(const cli_args *a, uint64_t *ms, int *code)
{
    const char *ping = args_value(a, "ping-interval");
    *ms = 0;
    if (ping && (!parse_duration_ms(ping, ms) || *ms == 0 || *ms > 3600000)) {
        *code = out_error(EXIT_USAGE, "Durations look like 500ms, 10s, 2m.",
            "Invalid --ping-interval '%s'.", ping);
        return false;
    }
    return true;
}

static int
outlet_create(const cli_args *a)
{
    const char *to_arg = args_value(a, "to");
    uint64_t ping_ms;
    int code = 0;
    if (!to_arg)
        return out_error(EXIT_USAGE, "Example: ockam tcp-outlet create --at n1 --to 127.0.0.1:5000",
            "The argument '--to HOST:PORT' is required.");
    if (!ping_interval(a, &ping_ms, &code))
        return code;
    char *to = host_port_arg(to_arg, "--to address");
    if (!to)
        return EXIT_USAGE;
    json_t *body = json_pack("{s:s, s:I}", "to", to, "ping_interval_ms", (json_int_t)ping_ms);
    json_t *allow = cli_json_list(a, "allow");
    if (allow)
        json_object_set_new(body, "allow", allow);
    if (args_value(a, "from"))
        json_object_set_new(body, "from", json_string(args_value(a, "from")));
    char *node;
    json_t *res;
    code = cli_call_at(a, "at", true, "POST", "/node/outlet", body, API_TIMEOUT_MS, &node, &res);
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

/* GET or DELETE one item of collection at the --at node (see cli_item_request). *node is set
 * unless the node could not be picked (caller frees). */
static int
item_at(const cli_args *a, const char *method, const char *collection, const char *term,
    char **node, json_t **res)
{
    int code = EXIT_OK;
    *res = NULL;
    *node = cli_pick_node(args_value(a, "at"), false, &code);
    if (!*node)
        return code;
    return cli_item_request(*node, method, collection, cli_strip_service(a->pos[0]), term, res);
}

static int
outlet_show(const cli_args *a)
{
    char *node;
    json_t *o;
    int code = item_at(a, "GET", "/node/outlet", "tcp outlet", &node, &o);
    if (o) {
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

/* "TCP outlet" -> "tcp outlet" (Ockam's word for the item in its messages). Caller frees. */
static char *
lower(const char *what)
{
    char *term = xstrdup(what);
    for (char *c = term; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return term;
}

/* The plain line for one deleted item: "<label> with alias A on <node_word> N has been
 * deleted". */
static char *
deleted_line(const char *label, const char *alias, const char *node_word, const char *node)
{
    return xasprintf("%s %s with alias %s on %s %s has been deleted", out_mark_ok(), label, alias,
        node_word, node);
}

/* --all: every item of collection at the --at node, after one confirmation. An empty collection
 * is Ockam's "There are no ... to delete" (JSON []). */
static int
portal_delete_all(const cli_args *a, const char *what, const char *collection, const char *label,
    const char *node_word)
{
    char *node;
    json_t *list = NULL; /* stays NULL when no node could be picked */
    int code = cli_call_at(a, "at", false, "GET", collection, NULL, API_TIMEOUT_MS, &node, &list);
    char *term = lower(what), *q = NULL;
    if (!code && json_array_size(list) == 0) {
        char *plain = xasprintf("> There are no %ss to delete", term);
        out_result(plain, NULL, json_array());
        free(plain);
    } else if (!code) {
        q = xasprintf("Delete all %zu %ss on node %s?", json_array_size(list), term, node);
        if (out_confirm(q, args_flag(a, "yes"), &code)) {
            strbuf sb = {0};
            json_t *done = json_array();
            for (size_t i = 0; i < json_array_size(list); i++) {
                const char *alias = cli_str(json_array_get(list, i), "alias");
                char *path = xasprintf("%s/%s", collection, alias);
                json_t *res;
                int c = api_call(node, "DELETE", path, NULL, API_TIMEOUT_MS, &res);
                free(path);
                if (c) {
                    code = c;
                    continue;
                }
                json_decref(res);
                char *line = deleted_line(label, alias, node_word, node);
                sb_printf(&sb, "%s%s", sb.len ? "\n" : "", line);
                free(line);
                json_array_append_new(done, json_pack("{s:s, s:s}", "alias", alias, "node", node));
            }
            char *plain = sb_take(&sb);
            out_result(plain, NULL, done);
            free(plain);
        }
    }
    json_decref(list);
    free(q);
    free(term);
    free(node);
    return code;
}

/* Confirm, DELETE collection/<alias> and report it (or every item with --all). */
static int
portal_delete(const cli_args *a, const char *what, const char *collection, const char *label,
    const char *node_word)
{
    int code = EXIT_OK;
    if (args_flag(a, "all") != !a->npos)
        return out_error(EXIT_USAGE, "Name one, or use --all.",
            "Give either an ALIAS or --all to 'ockam %s delete'.",
            strcmp(collection, "/node/outlet") == 0 ? "tcp-outlet" : "tcp-inlet");
    if (args_flag(a, "all"))
        return portal_delete_all(a, what, collection, label, node_word);
    if (!confirm_delete(a, what, &code))
        return code;
    char *node;
    json_t *res;
    char *term = lower(what);
    code = item_at(a, "DELETE", collection, term, &node, &res);
    free(term);
    if (res) {
        char *alias = xstrdup(cli_str(res, "alias"));
        char *plain = deleted_line(label, alias, node_word, node);
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
inlet_body(const cli_args *a, const char *from, const char *to, uint64_t wait_ms, int *code)
{
    uint64_t ping_ms;
    if (!ping_interval(a, &ping_ms, code))
        return NULL;
    char *alias = args_value(a, "alias") ? xstrdup(args_value(a, "alias")) : state_random_name();
    bool wait = !args_flag(a, "no-connection-wait");
    json_t *body = json_pack("{s:s, s:s, s:s, s:I, s:I}", "alias", alias, "from", from, "to", to,
        "wait_ms", (json_int_t)(wait ? wait_ms : 0), "ping_interval_ms", (json_int_t)ping_ms);
    free(alias);
    /* With /secure/ in --to: who this end is, who the far end must be. */
    if (args_value(a, "identity"))
        json_object_set_new(body, "identity", json_string(args_value(a, "identity")));
    json_t *auth = cli_json_list(a, "authorized");
    if (auth)
        json_object_set_new(body, "authorized", auth);
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
    const char *wait = args_value(a, "connection-wait");
    uint64_t wait_ms = 0;
    int code = inlet_to(args_value(a, "to"), &to);
    if (!code
        && (!parse_duration_ms(wait ? wait : INLET_WAIT_DEFAULT, &wait_ms)
            || wait_ms > INLET_WAIT_MAX_MS))
        code = out_error(EXIT_USAGE, "Durations look like 500ms, 10s, 2m (at most 10m).",
            "Invalid --connection-wait '%s'.", wait);
    json_t *body = code ? NULL : inlet_body(a, from, to, wait_ms, &code), *res;
    if (body)
        code = cli_call_at(
            a, "at", true, "POST", "/node/inlet", body, API_TIMEOUT_MS + wait_ms, &node, &res);
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
    char *node;
    json_t *i;
    int code = item_at(a, "GET", "/node/inlet", "tcp inlet", &node, &i);
    if (i) {
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
    {"ping-interval", 0, OPT_VALUE, "DURATION", NULL}, /* inlet check period (tests) */
    {NULL, 0, 0, NULL, NULL},
};

static const cli_opt inlet_create_opts[] = {
    {"at", 0, OPT_VALUE, "NODE", "The node to act on [default: the default node]"},
    {"from", 0, OPT_VALUE, "[HOST:]PORT", "Where to listen [default: 127.0.0.1, a free port]"},
    {"to", 0, OPT_VALUE, "MULTIADDR", "Route to the outlet, e.g. /node/n1/service/outlet"},
    {"alias", 0, OPT_VALUE, "ALIAS", "A name for the inlet [default: a random name]"},
    {"connection-wait", 0, OPT_VALUE, "DURATION",
        "How long to wait for the outlet's node to answer [default: 5s]"},
    {"no-connection-wait", 0, OPT_FLAG, NULL, "Do not wait for the outlet's node to answer"},
    {"identity", 0, OPT_VALUE, "IDENTITY_NAME",
        "With /secure/ in --to: the identity the channel presents [default: the node's]"},
    {"authorized", 0, OPT_LIST, "IDENTIFIER",
        "With /secure/ in --to: the far end must be this identity (repeatable)"},
    {"ping-interval", 0, OPT_VALUE, "DURATION", NULL}, /* status probe period (tests) */
    {NULL, 0, 0, NULL, NULL},
};

static const cli_opt delete_opts[] = {
    {"at", 0, OPT_VALUE, "NODE", "The node to act on [default: the default node]"},
    {"yes", 'y', OPT_FLAG, NULL, "Do not ask for confirmation (needed without a terminal)"},
    {"all", 0, OPT_FLAG, NULL, "Delete all of them on the node"},
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
    {"delete", "[ADDR]", 0, 1, delete_opts, outlet_delete, "Delete a TCP outlet, or all of them",
        NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const cli_cmd cli_tcp_inlet_cmds[] = {
    {"create", "", 0, 0, inlet_create_opts, inlet_create,
        "Create a TCP inlet: the client end of a portal",
        "Applications connect to --from; each connection is carried to the outlet at --to.\n"
        "With /secure/NAME in --to, the connections go through a secure channel to that\n"
        "listener, made again whenever the far end stops answering; --identity and\n"
        "--authorized say who each end must be.\n\n"
        "Examples:\n"
        "  ockam tcp-inlet create --at n2 --from 127.0.0.1:6000 --to /node/n1/service/outlet\n"
        "  ockam tcp-inlet create --at n1 --from 6000 --to "
        "/node/n2/service/forward_to_n3/service/outlet\n"
        "  ockam tcp-inlet create --at n1 --from 6000 --identity alice --authorized I3bc1... "
        "\\\n      --to /node/n2/service/forward_to_n3/secure/api/service/outlet"},
    {"list", "", 0, 0, cli_at_opts, inlet_list, "List a node's TCP inlets", NULL},
    {"show", "ALIAS", 1, 1, cli_at_opts, inlet_show, "Show one TCP inlet", NULL},
    {"delete", "[ALIAS]", 0, 1, delete_opts, inlet_delete, "Delete a TCP inlet, or all of them",
        NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
