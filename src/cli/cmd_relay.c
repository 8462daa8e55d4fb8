/* `ockam relay create|list|show|delete` (docs/cli.md §1.16): thin clients of the node manager's
 * /node/relay endpoints. Vocabulary as in Ockam: --at is the node where the relay lives (it runs
 * the relay service), --to is the local node that registers it and receives what it forwards. */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_NAME "default"
#define CREATE_WAIT_MS 5000 /* the node waits this long for the first outcome */

/* --at: a bare node name stands for /node/NAME. */
static int
resolve_at(const char *at, char **out)
{
    if (!at)
        return out_error(EXIT_USAGE,
            "There are no projects here: give the relay node, e.g. --at /node/n2.",
            "The argument '--at ROUTE' is required.");
    if (at[0] != '/') {
        char *text = xasprintf("/node/%s", at);
        int code = cli_resolve_multiaddr(text, "--at", out);
        free(text);
        return code;
    }
    return cli_resolve_multiaddr(at, "--at", out);
}

static bool
is_up(json_t *r)
{
    return strcmp(cli_str(r, "connection_status"), "Up") == 0;
}

static char *
remote_route(json_t *r)
{
    const char *remote = json_string_value(json_object_get(r, "remote_address"));
    if (remote)
        return xasprintf("/service/%s", remote);
    return xasprintf("/service/forward_to_%s", cli_str(r, "name"));
}

/* ---- create ------------------------------------------------------------------------------- */

static json_t *
create_body(const cli_args *a, const char *name, const char *at, int *code)
{
    uint64_t ping_ms = 0;
    const char *ping = args_value(a, "ping-interval");
    if (ping && (!parse_duration_ms(ping, &ping_ms) || ping_ms == 0 || ping_ms > 3600000)) {
        *code = out_error(EXIT_USAGE, "Durations look like 500ms, 10s, 2m.",
            "Invalid --ping-interval '%s'.", ping);
        return NULL;
    }
    bool wait = !args_flag(a, "no-connection-wait");
    json_t *auth = cli_json_list(a, "authorized");
    if (!auth)
        auth = json_array();
    return json_pack("{s:s, s:s, s:I, s:I, s:o}", "name", name, "at", at, "wait_ms",
        (json_int_t)(wait ? CREATE_WAIT_MS : 0), "ping_interval_ms", (json_int_t)ping_ms,
        "authorized", auth);
}

/* Where others reach the relay: the route to the relay node, without a /secure/NAME at its
 * end (that channel is this node's own, to register and receive through). */
static char *
public_at(const char *at)
{
    char *text = xstrdup(at);
    char *sec = strstr(text, "/secure/");
    if (sec && !strchr(sec + 8, '/'))
        *sec = '\0';
    return text;
}

static void
print_created(const cli_args *a, const char *node, const char *secure_at, json_t *res)
{
    char *at = public_at(secure_at);
    char *remote = remote_route(res);
    char *plain;
    if (is_up(res)) {
        plain = xasprintf("%s Now relaying messages from %s%s → /node/%s%s", out_mark_ok(), at,
            remote, node, cli_str(res, "worker_address"));
    } else if (args_flag(a, "no-connection-wait")) {
        plain = xasprintf("%s Relay will be created automatically from %s%s → /node/%s as soon as "
                          "a connection can be established.",
            out_mark_ok(), at, remote, node);
    } else {
        const char *why = json_string_value(json_object_get(res, "last_failure"));
        out_warn("A relay was created at /node/%s but failed to connect to %s%s%s", node, at,
            why ? ": " : "", why ? why : "");
        out_info("It will retry to connect automatically");
        plain = xasprintf("%s Relay %s at %s%s (DOWN, retrying)", out_mark_item(),
            cli_str(res, "name"), at, remote);
    }
    json_object_set_new(res, "node", json_string(node));
    out_result(plain, remote, res);
    free(plain);
    free(remote);
    free(at);
}

/* The relay node refused the registration (it restricts who may register, or the name is
 * bound to another identity): retrying will not help, so nothing is left behind and the
 * command fails with Ockam's wording. EXIT_OK when it was not refused. */
static int
fail_refused(const char *node, const char *given_at, json_t *res)
{
    const char *why = json_string_value(json_object_get(res, "last_failure"));
    if (is_up(res) || !why || !strstr(why, "refused the registration"))
        return EXIT_OK;
    char *text = xstrdup(why);
    if (text[0] >= 'a' && text[0] <= 'z')
        text[0] = (char)(text[0] - 'a' + 'A');
    char *at = public_at(given_at);
    json_t *gone = NULL;
    if (cli_item_request(node, "DELETE", "/node/relay", cli_str(res, "name"), "relay", &gone)
        == EXIT_OK)
        json_decref(gone);
    int code = out_error(EXIT_RUNTIME, NULL, "Failed to create relay at %s with name %s. %s", at,
        cli_str(res, "name"), text);
    free(at);
    free(text);
    return code;
}

static int
relay_create(const cli_args *a)
{
    const char *name = a->npos ? a->pos[0] : DEFAULT_NAME;
    char *at = NULL, *node = NULL;
    json_t *res = NULL;
    int code = resolve_at(args_value(a, "at"), &at);
    json_t *body = code ? NULL : create_body(a, name, at, &code);
    if (body)
        node = cli_pick_node(args_value(a, "to"), true, &code);
    if (node)
        code = api_call(node, "POST", "/node/relay", body, API_TIMEOUT_MS + CREATE_WAIT_MS, &res);
    else
        json_decref(body);
    if (node && !code && (code = fail_refused(node, args_value(a, "at"), res)) != EXIT_OK)
        json_decref(res);
    else if (node && !code)
        print_created(a, node, at, res);
    free(at);
    free(node);
    return code;
}

/* ---- list, show, delete ----------------------------------------------------------------- */

static char *
relay_plain(json_t *r)
{
    char *remote = remote_route(r);
    const char *st = is_up(r) ? "UP" : "DOWN";
    char *text = xasprintf("%s Relay %s is %s%s%s at %s\n%s With address %s", out_mark_item(),
        cli_str(r, "name"), out_color_start(is_up(r) ? "green" : "red"), st, out_color_end(),
        cli_str(r, "destination_address"), out_mark_item(), remote);
    free(remote);
    return text;
}

static int
relay_list(const cli_args *a)
{
    int code = EXIT_OK;
    char *node = cli_pick_node(args_value(a, "to"), false, &code);
    json_t *res;
    if (!node)
        return code;
    code = api_call(node, "GET", "/node/relay", NULL, API_TIMEOUT_MS, &res);
    if (!code) {
        strbuf sb = {0};
        for (size_t i = 0; i < json_array_size(res); i++) {
            char *item = relay_plain(json_array_get(res, i));
            sb_printf(&sb, "%s%s", i ? "\n\n" : "", item);
            free(item);
        }
        if (!json_array_size(res))
            sb_printf(&sb, "No relays on node %s.", node);
        char *plain = sb_take(&sb);
        out_result(plain, NULL, res);
        free(plain);
    }
    free(node);
    return code;
}

static int
relay_show(const cli_args *a)
{
    int code = EXIT_OK;
    char *node = cli_pick_node(args_value(a, "at"), false, &code);
    if (!node)
        return code;
    json_t *r;
    code = cli_item_request(
        node, "GET", "/node/relay", a->npos ? a->pos[0] : DEFAULT_NAME, "relay", &r);
    if (r) {
        char *remote = remote_route(r);
        /* As Ockam's relay show: the remote address as a route, and the destination. */
        json_object_set_new(r, "remote_address", json_string(remote));
        json_object_set(r, "destination", json_object_get(r, "destination_address"));
        const char *why = json_string_value(json_object_get(r, "last_failure"));
        char *plain = xasprintf(
            "Relay:\n  Name: %s\n  Destination: %s\n  Status: %s\n  Relay Route: "
            "%s\n  Remote Address: %s\n  Worker Address: %s%s%s",
            cli_str(r, "name"), cli_str(r, "destination_address"), is_up(r) ? "UP" : "DOWN",
            json_is_string(json_object_get(r, "relay_route")) ? cli_str(r, "relay_route") : "-",
            remote, cli_str(r, "worker_address"), why ? "\n  Last Failure: " : "", why ? why : "");
        out_result(plain, cli_str(r, "name"), r);
        free(plain);
        free(remote);
    }
    free(node);
    return code;
}

static int
relay_delete(const cli_args *a)
{
    int code = EXIT_OK;
    const char *name = a->npos ? a->pos[0] : DEFAULT_NAME;
    char *q = xasprintf("Delete the relay %s?", name);
    bool go = out_confirm(q, args_flag(a, "yes"), &code);
    free(q);
    if (!go)
        return code;
    char *node = cli_pick_node(args_value(a, "at"), false, &code);
    if (!node)
        return code;
    json_t *res;
    code = cli_item_request(node, "DELETE", "/node/relay", name, "relay", &res);
    if (res) {
        char *plain = xasprintf(
            "%s Relay with name %s on Node %s has been deleted", out_mark_ok(), name, node);
        json_decref(res);
        out_result(plain, name, json_pack("{s:s, s:s}", "name", name, "node", node));
        free(plain);
    }
    free(node);
    return code;
}

/* ---- table ----------------------------------------------------------------------------------- */

static const cli_opt create_opts[] = {
    {"at", 0, OPT_VALUE, "ROUTE", "The node where the relay lives, e.g. /node/n2"},
    {"to", 0, OPT_VALUE, "NODE", "The node that registers it [default: the default node]"},
    {"no-connection-wait", 0, OPT_FLAG, NULL, "Return at once; the relay connects in background"},
    {"authorized", 0, OPT_LIST, "IDENTIFIER",
        "With --at .../secure/api: the relay node must be this identity (repeatable)"},
    {"ping-interval", 0, OPT_VALUE, "DURATION", NULL}, /* supervision period (tests) */
    {NULL, 0, 0, NULL, NULL},
};

static const cli_opt to_opts[] = {
    {"to", 0, OPT_VALUE, "NODE", "The node that registered the relays [default: the default node]"},
    {NULL, 0, 0, NULL, NULL},
};

static const cli_opt at_opts[] = {
    {"at", 0, OPT_VALUE, "NODE", "The node that registered the relay [default: the default node]"},
    {NULL, 0, 0, NULL, NULL},
};

static const cli_opt at_yes_opts[] = {
    {"at", 0, OPT_VALUE, "NODE", "The node that registered the relay [default: the default node]"},
    {"yes", 'y', OPT_FLAG, NULL, "Do not ask for confirmation (needed without a terminal)"},
    {NULL, 0, 0, NULL, NULL},
};

const cli_cmd cli_relay_cmds[] = {
    {"create", "[NAME]", 0, 1, create_opts, relay_create,
        "Register a relay at another node, so others reach this one through it",
        "NAME defaults to 'default'; the relay's address is forward_to_NAME on the --at node.\n"
        "The relay is supervised: it is pinged every 10 s and registered again (with backoff)\n"
        "when it is lost, e.g. after the relay node restarts. It comes back with node start.\n\n"
        "With --at /node/N/secure/api the relay is registered through a secure channel to N:\n"
        "what N forwards arrives encrypted and authenticated, and with --authorized ID only a\n"
        "relay node with that identity is used. Clients still reach the relay at\n"
        "/node/N/service/forward_to_NAME.\n\n"
        "Example:\n"
        "  ockam relay create n3 --at /node/n2 --to /node/n3\n"
        "  ockam message send hi --to /node/n2/service/forward_to_n3/service/uppercase"},
    {"list", "", 0, 0, to_opts, relay_list, "List the relays a node registered", NULL},
    {"show", "[NAME]", 0, 1, at_opts, relay_show, "Show one relay", NULL},
    {"delete", "[NAME]", 0, 1, at_yes_opts, relay_delete,
        "Delete a relay (it also disappears from the relay node)", NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
