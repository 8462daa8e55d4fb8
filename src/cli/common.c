/* What the command files share (cli.h), so that none depends on another: picking and creating
 * nodes, resolving /node/NAME in multiaddrs, JSON field access, argument checks, and the API
 * calls, lists and deletes that several commands make alike. */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/spawn.h"
#include "cli/state.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- picking and creating nodes ----------------------------------------------------------- */

int
cli_verbosity(const cli_args *a)
{
    return args_count(a, "verbose");
}

static int
no_such_node(const char *name)
{
    char *hint = xasprintf("Run 'ockam node list' to see your nodes.");
    out_error(EXIT_RUNTIME, hint, "The node %s was not found.", name);
    free(hint);
    return EXIT_RUNTIME;
}

/* The node named by a positional argument, or the default node. */
char *
cli_node_or_default(const char *arg, int *code)
{
    if (arg) {
        const char *name = state_name_from_arg(arg);
        if (!name) {
            *code = out_error(EXIT_USAGE, "Node names use letters, digits, '-' and '_'.",
                "'%s' is not a valid node name.", arg);
            return NULL;
        }
        if (!state_node_exists(name)) {
            *code = no_such_node(name);
            return NULL;
        }
        return xstrdup(name);
    }
    char *def = state_default_get();
    if (!def)
        *code = out_error(EXIT_RUNTIME, "Create one with 'ockam node create', or name a node.",
            "There is no default node.");
    return def;
}

json_t *
cli_config_new(const char *name, const char *listen, json_t *allowed, int verbosity)
{
    return json_pack("{s:s, s:s, s:[], s:[], s:o, s:i}", "name", name, "tcp_listener_address",
        listen ? listen : "127.0.0.1:0", "tcp_listeners", "services", "allowed_outgoing",
        allowed ? allowed : json_array(), "verbosity", verbosity);
}

/* A fresh state directory for name holding cfg (stolen); an old stopped node is replaced. */
int
cli_node_prepare(const char *name, json_t *cfg)
{
    bool ok = cfg && state_node_prepare(name) && state_config_save(name, cfg);
    json_decref(cfg);
    return ok ? EXIT_OK : EXIT_RUNTIME;
}

int
cli_node_spawn(const char *name, int verbosity, json_t **ready)
{
    int code = spawn_node(name, verbosity, ready);
    if (code != EXIT_OK)
        state_node_remove(name); /* a node that never started leaves nothing behind */
    return code;
}

char *
cli_pick_node(const char *arg, bool create_default, int *code)
{
    if (arg || !create_default)
        return cli_node_or_default(arg, code);
    char *name = state_default_get();
    if (name)
        return name;
    /* Create commands make a default node when there is none (docs/cli.md §0.6). */
    json_t *ready = NULL;
    name = state_random_name();
    *code = cli_node_prepare(name, cli_config_new(name, NULL, NULL, 0));
    if (!*code)
        *code = cli_node_spawn(name, 0, &ready);
    json_decref(ready);
    if (*code) {
        free(name);
        return NULL;
    }
    state_default_set(name);
    out_success("Created the default node %s.", name);
    return name;
}

/* ---- routes and resolution ------------------------------------------------------------------ */

char *
cli_listener_route(const char *host_port)
{
    return cli_transport_route(host_port, "tcp");
}

char *
cli_transport_route(const char *host_port, const char *proto)
{
    char host[256];
    uint16_t port;
    struct in_addr a4;
    struct in6_addr a6;
    if (ockam__host_port_parse(host_port, host, sizeof host, &port) != OCKAM_OK)
        return NULL;
    /* A node listening on every interface is reached through loopback. */
    if (inet_pton(AF_INET, host, &a4) == 1)
        return xasprintf(
            "/ip4/%s/%s/%u", a4.s_addr == INADDR_ANY ? "127.0.0.1" : host, proto, (unsigned)port);
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return xasprintf(
            "/ip6/%s/%s/%u", IN6_IS_ADDR_UNSPECIFIED(&a6) ? "::1" : host, proto, (unsigned)port);
    return xasprintf("/dnsaddr/%s/%s/%u", host, proto, (unsigned)port);
}

static int
node_route(const char *name, ockam_multiaddr **out)
{
    if (!state_name_valid(name) || !state_node_exists(name))
        return out_error(EXIT_RUNTIME, "Run 'ockam node list' to see your nodes.",
            "The node %s was not found.", name);
    if (!state_node_running(name, NULL)) {
        char *hint = xasprintf("Start it with 'ockam node start %s'.", name);
        out_error(EXIT_RUNTIME, hint, "The node %s is not running.", name);
        free(hint);
        return EXIT_RUNTIME;
    }
    char *addr = state_listener_address(name);
    char *route = addr ? cli_listener_route(addr) : NULL;
    ockam_err err = route ? ockam_multiaddr_parse(route, out) : OCKAM_EMULTIADDR;
    free(route);
    free(addr);
    if (err)
        return out_error(EXIT_RUNTIME, "Delete it and create it again.",
            "Node %s has no usable TCP listener address in its configuration.", name);
    return EXIT_OK;
}

int
cli_resolve_nodes(ockam_multiaddr *ma)
{
    for (size_t i = 0; i < ockam_multiaddr_count(ma); i++) {
        ockam_ma_component c = ockam_multiaddr_at(ma, i);
        if (c.code != OCKAM_MA_NODE)
            continue;
        char name[80];
        snprintf(name, sizeof name, "%.*s", (int)c.value.len, (const char *)c.value.ptr);
        ockam_multiaddr *ins;
        int code = node_route(name, &ins);
        if (code)
            return code;
        ockam_err err = ockam_multiaddr_splice(ma, i, 1, ins);
        i += ockam_multiaddr_count(ins) - 1;
        ockam_multiaddr_free(ins);
        if (err)
            return out_error(
                EXIT_RUNTIME, NULL, "Cannot resolve /node/%s: %s.", name, ockam_strerror(err));
    }
    return EXIT_OK;
}

int
cli_resolve_multiaddr(const char *text, const char *what, char **out)
{
    ockam_multiaddr *ma;
    int code = cli_parse_multiaddr(text, what, &ma);
    if (code)
        return code;
    code = cli_resolve_nodes(ma);
    if (!code) {
        size_t need = ockam_multiaddr_format(ma, NULL, 0) + 1;
        *out = xmalloc(need);
        ockam_multiaddr_format(ma, *out, need);
    }
    ockam_multiaddr_free(ma);
    return code;
}

/* ---- JSON, arguments and API calls ------------------------------------------------------------
 */

const char *
cli_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

json_t *
cli_json_list(const cli_args *a, const char *name)
{
    size_t n = 0;
    const char *const *list = args_list(a, name, &n);
    if (!list)
        return NULL;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(list[i]));
    return arr;
}

const char *
cli_strip_worker(const char *arg)
{
    return strncmp(arg, "/worker/", 8) == 0 ? arg + 8 : arg;
}

const char *
cli_strip_service(const char *arg)
{
    return strncmp(arg, "/service/", 9) == 0 ? arg + 9 : arg;
}

int
cli_call_at(const cli_args *a, const char *flag, bool create_default, const char *method,
    const char *path, json_t *body, uint64_t timeout_ms, char **node, json_t **res)
{
    int code = EXIT_OK;
    *node = cli_pick_node(args_value(a, flag), create_default, &code);
    if (!*node) {
        json_decref(body);
        return code;
    }
    return api_call(*node, method, path, body, timeout_ms, res);
}

int
cli_check_host_port(const char *value, const char *what, const char *example)
{
    char host[256];
    uint16_t port;
    if (ockam__host_port_parse(value, host, sizeof host, &port) == OCKAM_OK)
        return EXIT_OK;
    char *hint = xasprintf("Use HOST:PORT, e.g. %s.", example);
    out_error(EXIT_USAGE, hint, "Invalid %s '%s'.", what, value);
    free(hint);
    return EXIT_USAGE;
}

void
cli_print_list(json_t *res, char *(*item)(json_t *), const char *empty)
{
    strbuf sb = {0};
    for (size_t i = 0; i < json_array_size(res); i++) {
        char *text = item(json_array_get(res, i));
        sb_printf(&sb, "%s%s", i ? "\n\n" : "", text);
        free(text);
    }
    if (!json_array_size(res))
        sb_printf(&sb, "%s", empty);
    char *plain = sb_take(&sb);
    out_result(plain, NULL, res);
    free(plain);
}

int
cli_list_cmd(const cli_args *a, const char *path, char *(*item)(json_t *), const char *kind,
    const char *what)
{
    char *node;
    json_t *res;
    int code = cli_call_at(a, "at", false, "GET", path, NULL, API_TIMEOUT_MS, &node, &res);
    if (!code) {
        char *empty = xasprintf("No %s %s on node %s.", kind, what, node);
        cli_print_list(res, item, empty);
        free(empty);
    }
    free(node);
    return code;
}

int
cli_show_cmd(const cli_args *a, const char *collection, char *(*item)(json_t *))
{
    char *node, *path = xasprintf("%s/%s", collection, cli_strip_worker(a->pos[0]));
    json_t *res;
    int code = cli_call_at(a, "at", false, "GET", path, NULL, API_TIMEOUT_MS, &node, &res);
    free(path);
    if (!code) {
        char *plain = item(res);
        out_result(plain, NULL, res);
        free(plain);
    }
    free(node);
    return code;
}

int
cli_delete_cmd(const cli_args *a, const char *collection, const char *kind, const char *what,
    char **node, json_t **res)
{
    int code = EXIT_OK;
    *node = NULL;
    char *q = xasprintf("Delete the %s %s %s?", kind, what, a->pos[0]);
    bool go = out_confirm(q, args_flag(a, "yes"), &code);
    free(q);
    if (!go)
        return code;
    char *path = xasprintf("%s/%s", collection, cli_strip_worker(a->pos[0]));
    code = cli_call_at(a, "at", false, "DELETE", path, NULL, API_TIMEOUT_MS, node, res);
    free(path);
    return code;
}

/* cli_delete_cmd, then print what went: the result's `key` field is the machine output. */
static int
delete_and_report(
    const cli_args *a, const char *collection, const char *kind, const char *what, const char *key)
{
    char *node;
    json_t *res;
    int code = cli_delete_cmd(a, collection, kind, what, &node, &res);
    if (!code && node) {
        const char *value = cli_str(res, key);
        char *plain = strcmp(what, "listener") == 0
            ? xasprintf("%s %s listener with address %s on Node %s has been deleted", out_mark_ok(),
                kind, value, node)
            : xasprintf(
                "%s %s %s %s has been successfully deleted", out_mark_ok(), kind, what, value);
        char *machine = xstrdup(value);
        json_object_set_new(res, "node", json_string(node));
        out_result(plain, machine, res);
        free(machine);
        free(plain);
    }
    free(node);
    return code;
}

int
cli_delete_connection(const cli_args *a, const char *collection, const char *kind)
{
    return delete_and_report(a, collection, kind, "connection", "route");
}

int
cli_delete_listener(const cli_args *a, const char *collection, const char *kind)
{
    return delete_and_report(a, collection, kind, "listener", "address");
}

const cli_opt cli_at_opts[] = {
    {"at", 0, OPT_VALUE, "NODE", "The node to act on [default: the default node]"},
    {NULL, 0, 0, NULL, NULL},
};

const cli_opt cli_at_yes_opts[] = {
    {"at", 0, OPT_VALUE, "NODE", "The node to act on [default: the default node]"},
    {"yes", 'y', OPT_FLAG, NULL, "Do not ask for confirmation (needed without a terminal)"},
    {NULL, 0, 0, NULL, NULL},
};

int
cli_create_connection(const cli_args *a, const char *collection, const char *kind,
    const char *command, const char *example_to)
{
    const char *to = args_value(a, "to");
    if (!to) {
        char *hint = xasprintf("Example: ockam %s create --from n1 --to %s", command, example_to);
        int code = out_error(EXIT_USAGE, hint, "The argument '--to HOST:PORT' is required.");
        free(hint);
        return code;
    }
    if (cli_check_host_port(to, "--to address", example_to))
        return EXIT_USAGE;
    char *node;
    json_t *res;
    int code = cli_call_at(a, "from", true, "POST", collection, json_pack("{s:s}", "to", to),
        API_TIMEOUT_MS, &node, &res);
    if (code) {
        free(node);
        return code;
    }
    char *route = xstrdup(cli_str(res, "route"));
    char *plain = xasprintf("%s A %s connection was created at the node %s\n  to the address "
                            "%s; use it in routes as:\n%s",
        out_mark_ok(), kind, node, to, route);
    json_object_set_new(res, "from", json_string(node));
    json_object_set_new(res, "to", json_string(to));
    /* Ockam's create output: "address" is the route to use ("/worker/<hex>"). */
    json_object_set_new(res, "address", json_string(route));
    out_result(plain, route, res);
    free(plain);
    free(route);
    free(node);
    return EXIT_OK;
}

char *
cli_listener_plain(json_t *l, const char *kind)
{
    return xasprintf("%s %s listener at %s%s\n%s Id %s", out_mark_item(), kind,
        cli_str(l, "address"), json_is_true(json_object_get(l, "main")) ? " (main)" : "",
        out_mark_item(), cli_str(l, "id"));
}

int
cli_create_listener(const cli_args *a, const char *collection, const char *proto,
    const char *kind_word, const char *example)
{
    if (cli_check_host_port(a->pos[0], "listener address", example))
        return EXIT_USAGE;
    char *node;
    json_t *res;
    int code = cli_call_at(a, "at", true, "POST", collection,
        json_pack("{s:s}", "address", a->pos[0]), API_TIMEOUT_MS, &node, &res);
    if (code) {
        free(node);
        return code;
    }
    char *route = cli_display_route(cli_str(res, "address"), proto);
    char *plain = xasprintf("%s %s listener created at node %s! You can send messages to it via "
                            "this route:\n    %s",
        out_mark_ok(), kind_word, node, route ? route : cli_str(res, "address"));
    json_object_set_new(res, "node", json_string(node));
    json_object_set_new(res, "route", route ? json_string(route) : json_null());
    out_result(plain, route, res);
    free(plain);
    free(route);
    free(node);
    return EXIT_OK;
}

char *
cli_display_route(const char *host_port, const char *proto)
{
    char host[256];
    uint16_t port;
    /* UDP keeps the IP: a datagram to a name that also resolves to ::1 cannot fall back to
     * 127.0.0.1 as a TCP connect does. */
    if (strcmp(proto, "tcp") != 0
        || ockam__host_port_parse(host_port, host, sizeof host, &port) != OCKAM_OK)
        return cli_transport_route(host_port, proto);
    if (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "0.0.0.0") == 0
        || strcmp(host, "localhost") == 0)
        return xasprintf("/dnsaddr/localhost/tcp/%u", port);
    return cli_transport_route(host_port, proto);
}

/* True when GET collection answers an empty list (false on any failure: then the caller
 * reports the item as missing, which it is). */
static bool
collection_empty(const char *node, const char *collection)
{
    api_result r;
    if (api_request(node, "GET", collection, NULL, API_TIMEOUT_MS, &r))
        return false;
    bool empty = r.status == 200 && json_is_array(r.body) && json_array_size(r.body) == 0;
    api_result_free(&r);
    return empty;
}

int
cli_item_request(const char *node, const char *method, const char *collection, const char *name,
    const char *term, json_t **res)
{
    api_result r;
    char *path = xasprintf("%s/%s", collection, name);
    int code = api_request(node, method, path, NULL, API_TIMEOUT_MS, &r);
    free(path);
    *res = NULL;
    if (code)
        return code;
    int status = r.status;
    if (status == 200)
        *res = json_incref(r.body);
    else if (status != 404)
        code = out_error(EXIT_RUNTIME, NULL, "%s", r.error);
    api_result_free(&r);
    if (status != 404)
        return code;
    if (strcmp(method, "DELETE") == 0 && collection_empty(node, collection)) {
        char *plain = xasprintf("> There are no %ss to delete", term);
        out_result(plain, NULL, json_array());
        free(plain);
        return EXIT_OK;
    }
    /* "tcp outlet" is the command tcp-outlet; relay lists by --to. */
    char *command = xstrdup(term);
    for (char *c = command; *c; c++)
        *c = *c == ' ' ? '-' : *c;
    char *hint = xasprintf("See what there is with 'ockam %s list %s %s'.", command,
        strcmp(command, "relay") == 0 ? "--to" : "--at", node);
    free(command);
    out_error(EXIT_RUNTIME, hint, "The %s %s was not found", term, name);
    free(hint);
    return EXIT_RUNTIME;
}

/* How many route addresses the multiaddr text makes: one per component, except the port that
 * follows a host (/ip4/A/tcp/P is one hop). */
static size_t
route_addresses(const char *text)
{
    size_t n = 0, seg = 0;
    for (const char *p = text; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, "/");
        bool port = (len == 3 && (strncmp(p, "tcp", 3) == 0 || strncmp(p, "udp", 3) == 0));
        if (seg++ % 2 == 0 && !port)
            n++;
        p += len;
    }
    return n;
}

int
cli_parse_multiaddr(const char *text, const char *what, ockam_multiaddr **out)
{
    size_t n = route_addresses(text);
    if (n > OCKAM_MAX_ROUTE_LEN)
        return out_error(EXIT_USAGE, "Split the route: relay through a node in between.",
            "Argument '%s' is invalid: route too long: %zu addresses, at most %d.", what, n,
            OCKAM_MAX_ROUTE_LEN);
    if (ockam_multiaddr_parse(text, out) != OCKAM_OK)
        return out_error(EXIT_USAGE, "Example: /node/n1/service/echo or /ip4/127.0.0.1/tcp/4000",
            "Argument '%s' is invalid: '%s' is not a multiaddr.", what, text);
    return EXIT_OK;
}
