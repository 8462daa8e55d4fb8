/* Small helpers every command file uses: JSON field access, argument checks and one API call
 * to the node named by a flag. */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"

#include <stdlib.h>
#include <string.h>

const char *
cli_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

const char *
cli_strip_worker(const char *arg)
{
    return strncmp(arg, "/worker/", 8) == 0 ? arg + 8 : arg;
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
    char *route = cli_transport_route(cli_str(res, "address"), proto);
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
