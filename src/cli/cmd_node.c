/* `ockam node ...` and `ockam reset`: creating, listing, showing, starting, stopping and
 * deleting nodes, the default node, the log path. */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/idstore.h"
#include "cli/kafka.h"
#include "cli/noderun.h"
#include "cli/output.h"
#include "cli/spawn.h"
#include "cli/state.h"
#include "ockam/ble.h"
#include "ockam/identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The node manager answers GET /node in microseconds; a node that takes longer is stuck. */
#define SHOW_TIMEOUT_MS 5000u

/* ---- views -------------------------------------------------------------------------------- */

static bool
is_default(const char *name)
{
    char *def = state_default_get();
    bool yes = def && strcmp(def, name) == 0;
    free(def);
    return yes;
}

static json_t *
list_or_empty(json_t *res, const char *key)
{
    json_t *v = json_object_get(res, key);
    return json_is_array(v) ? json_incref(v) : json_array();
}

/* The UDP part of a node's view: its UDP listener address (from the config, with the real
 * port once it ran; null without one), and what GET /node reported. */
static void
add_udp_view(json_t *view, json_t *cfg, json_t *res)
{
    json_t *udp = json_object_get(cfg, "udp_listener_address");
    json_object_set_new(
        view, "udp_listener_address", json_is_string(udp) ? json_incref(udp) : json_null());
    json_object_set_new(view, "udp_listeners", list_or_empty(res, "udp_listeners"));
    json_object_set_new(view, "udp_connections", list_or_empty(res, "udp_connections"));
}

/* The BLE part: the controller and listener name given at create (null without), and what
 * GET /node reported about the controller and its links. */
static void
add_ble_view(json_t *view, json_t *cfg, json_t *res)
{
    static const char *const keys[] = {"ble_controller", "ble_listener_name"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(cfg, keys[i]);
        json_object_set_new(view, keys[i], json_is_string(v) ? json_incref(v) : json_null());
    }
    json_t *ble = json_object_get(res, "ble");
    json_object_set_new(view, "ble", json_is_object(ble) ? json_incref(ble) : json_null());
    json_object_set_new(view, "ble_connections", list_or_empty(res, "ble_connections"));
}

/* Ockam's `transports` list of a node (listeners only, in its field names), for scripts
 * written against Ockam's NodeResources. */
static json_t *
ockam_transports(json_t *res)
{
    json_t *out = json_array(), *listeners = json_object_get(res, "tcp_listeners");
    for (size_t i = 0; i < json_array_size(listeners); i++) {
        json_t *l = json_array_get(listeners, i);
        json_t *fc = json_object_get(l, "flow_control_id");
        char *fc_text = xasprintf("%lld", (long long)json_integer_value(fc));
        json_array_append_new(out,
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "Tcp", "mode", "Listen",
                "socket_addr", cli_str(l, "address"), "worker_addr", "<none>", "processor_address",
                cli_str(l, "id"), "flow_control_id", fc_text));
        free(fc_text);
    }
    return out;
}

/* The one JSON shape of a node, for create, show and start (res: GET /node, or NULL). */
static json_t *
node_view(const char *name, json_t *res)
{
    pid_t pid = 0;
    bool running = state_node_running(name, &pid);
    json_t *cfg = state_config_load(name);
    const char *addr = json_string_value(json_object_get(cfg, "tcp_listener_address"));
    char *verbose = addr ? cli_display_route(addr, "tcp") : NULL;
    char *short_route = xasprintf("/node/%s", name);
    char *log = state_node_path(name, STATE_LOG_FILE);
    json_t *allowed = json_object_get(cfg, "allowed_outgoing");
    json_t *relay_allow = json_object_get(cfg, "relay_allow");
    json_t *view = json_pack("{s:s, s:b, s:s, s:o, s:{s:s, s:s?}, s:s?, s:o, s:o, s:o, s:o, s:s}",
        "name", name, "is_default", is_default(name), "status", running ? "running" : "stopped",
        "pid", running && pid ? json_integer(pid) : json_null(), "route", "short", short_route,
        "verbose", verbose, "tcp_listener_address", addr, "tcp_listeners",
        list_or_empty(res, "tcp_listeners"), "connections", list_or_empty(res, "connections"),
        "services", list_or_empty(res, "services"), "allowed_outgoing",
        json_is_array(allowed) ? json_incref(allowed) : json_array(), "log", log);
    json_object_set_new(view, "transports", ockam_transports(res));
    json_object_set_new(
        view, "relay_allow", json_is_array(relay_allow) ? json_incref(relay_allow) : json_null());
    add_udp_view(view, cfg, res);
    add_ble_view(view, cfg, res);
    cli_kafka_add_view(view, cfg, res);
    /* Portals and relays (nodemanager_portal.c, nodemanager_relay.c): empty lists when the node
     * is not running. */
    static const char *const portal_keys[] = {"inlets", "outlets", "relays", "relays_served"};
    for (size_t i = 0; i < sizeof portal_keys / sizeof portal_keys[0]; i++)
        json_object_set_new(view, portal_keys[i], list_or_empty(res, portal_keys[i]));
    /* Its identity (nodemanager_secure.c): the identifier is known once the node ran. */
    json_t *idf = json_object_get(res, "identifier");
    json_object_set_new(view, "identity", json_string(cli_str(cfg, "identity")));
    json_object_set_new(view, "identifier", json_is_string(idf) ? json_incref(idf) : json_null());
    json_object_set_new(
        view, "secure_channel_listeners", list_or_empty(res, "secure_channel_listeners"));
    free(log);
    free(short_route);
    free(verbose);
    json_decref(cfg);
    return view;
}

/* The view of a node, asking it for its resources when it runs. */
static json_t *
fetch_view(const char *name)
{
    json_t *res = NULL;
    if (state_node_running(name, NULL))
        api_call(name, "GET", "/node", NULL, SHOW_TIMEOUT_MS, &res);
    json_t *view = node_view(name, res);
    json_decref(res);
    return view;
}

/* One section of the plain view: a title, then one line per item of view[key]. */
static void
plain_section(strbuf *sb, json_t *view, const char *key, const char *title)
{
    json_t *arr = json_object_get(view, key);
    if (json_array_size(arr))
        sb_printf(sb, "  %s:\n", title);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *it = json_array_get(arr, i);
        if (strcmp(key, "services") == 0)
            sb_printf(sb, "    %s service at %s\n", cli_str(it, "type"), cli_str(it, "addr"));
        else if (strcmp(key, "secure_channel_listeners") == 0)
            sb_printf(sb, "    Listening at /service/%s\n", cli_str(it, "address"));
        else if (strcmp(key, "tcp_listeners") == 0 || strcmp(key, "udp_listeners") == 0)
            sb_printf(sb, "    Listening at %s%s\n", cli_str(it, "address"),
                json_is_true(json_object_get(it, "main")) ? " (main)" : "");
        else if (strcmp(key, "ble_connections") == 0)
            sb_printf(sb, "    %s %s (%s) at %s\n", cli_str(it, "direction"), cli_str(it, "peer"),
                cli_str(it, "state"), cli_str(it, "route"));
        else
            sb_printf(sb, "    %s %s at %s\n", cli_str(it, "mode"), cli_str(it, "peer"),
                cli_str(it, "route"));
    }
}

static void
plain_ble(strbuf *sb, json_t *view)
{
    json_t *ble = json_object_get(view, "ble");
    const char *ctl = json_string_value(json_object_get(view, "ble_controller"));
    if (!ctl)
        return;
    const char *name = json_string_value(json_object_get(view, "ble_listener_name"));
    sb_printf(sb, "  BLE: controller %s%s%s%s%s\n", ctl, json_is_object(ble) ? ", address " : "",
        json_is_object(ble) ? cli_str(ble, "address") : "", name ? ", advertising " : "",
        name ? name : "");
    plain_section(sb, view, "ble_connections", "BLE connections");
}

static char *
plain_view(json_t *view)
{
    strbuf sb = {0};
    const char *name = cli_str(view, "name");
    bool up = strcmp(cli_str(view, "status"), "running") == 0;
    const char *verbose
        = json_string_value(json_object_get(json_object_get(view, "route"), "verbose"));
    sb_printf(&sb, "Node %s%s\n", name,
        json_is_true(json_object_get(view, "is_default")) ? " (default)" : "");
    if (up)
        sb_printf(&sb, "  The node is %sUP%s, with PID %lld\n", out_color_start("green"),
            out_color_end(), (long long)json_integer_value(json_object_get(view, "pid")));
    else
        sb_printf(&sb, "  The node is %sDOWN%s\n", out_color_start("red"), out_color_end());
    sb_printf(
        &sb, "  With route /node/%s%s%s\n", name, verbose ? " or " : "", verbose ? verbose : "");
    plain_section(&sb, view, "tcp_listeners", "TCP listeners");
    plain_section(&sb, view, "connections", "TCP connections");
    plain_section(&sb, view, "udp_listeners", "UDP listeners");
    plain_section(&sb, view, "udp_connections", "UDP connections");
    plain_ble(&sb, view);
    plain_section(&sb, view, "services", "Services");
    plain_section(&sb, view, "secure_channel_listeners", "Secure Channel Listeners");
    if (json_is_string(json_object_get(view, "identifier")))
        sb_printf(&sb, "  Identity: %s\n  Identifier: %s\n", cli_str(view, "identity"),
            cli_str(view, "identifier"));
    json_t *relay_allow = json_object_get(view, "relay_allow");
    if (json_array_size(relay_allow)) {
        sb_printf(&sb, "  Relays may be registered by:\n");
        size_t i;
        json_t *v;
        json_array_foreach(relay_allow, i, v)
        {
            const char *t = json_string_value(v);
            sb_printf(&sb, "    %s\n",
                strcmp(t, "secure") == 0 ? "any identity, through a secure channel" : t);
        }
    }
    cli_kafka_plain(&sb, view);
    sb_printf(&sb, "  Log: %s", cli_str(view, "log"));
    return sb_take(&sb);
}

static void
print_view(json_t *view)
{
    char *plain = out_wants_plain() ? plain_view(view) : NULL;
    out_result(plain, NULL, view);
    free(plain);
}

/* ---- node create -------------------------------------------------------------------------- */

struct created {
    bool made_default;
};

static void
print_created(const char *name, json_t *report, void *user)
{
    const struct created *c = user;
    const char *addr = json_string_value(json_object_get(report, "tcp_listener_address"));
    json_t *view = node_view(name, json_object_get(report, "resources"));
    const char *udp = json_string_value(json_object_get(view, "udp_listener_address"));
    char *plain = NULL;
    if (out_wants_plain()) {
        strbuf sb = {0};
        sb_printf(&sb, "%s Created a new Node named %s, listening at %s\n", out_mark_ok(), name,
            addr ? addr : "?");
        if (udp)
            sb_printf(&sb, "%s Listening for UDP at %s\n", out_mark_ok(), udp);
        const char *ble = json_string_value(json_object_get(view, "ble_listener_name"));
        if (ble)
            sb_printf(&sb, "%s Advertising %s over BLE\n", out_mark_ok(), ble);
        cli_kafka_created(&sb, view);
        if (c->made_default)
            sb_printf(
                &sb, "%s Marked %s as your default Node, on this machine\n", out_mark_ok(), name);
        sb_printf(&sb, "\n    To see more details on this Node, run: ockam node show %s", name);
        plain = sb_take(&sb);
    }
    out_result(plain, name, view);
    free(plain);
}

static int
check_address(const char *what, const char *value)
{
    char host[256];
    uint16_t port;
    if (strcmp(what, "--allow-outgoing") == 0 && strcmp(value, "*") == 0)
        return EXIT_OK;
    /* ble:NAME: a BLE device that messages from other nodes may make this node connect to. */
    if (strcmp(what, "--allow-outgoing") == 0 && strncmp(value, "ble:", 4) == 0) {
        size_t n = strlen(value + 4);
        if (n == 0 || n > OCKAM_BLE_MAX_NAME)
            return out_error(EXIT_USAGE, "Use ble:NAME with a device name of 1 to 26 bytes.",
                "Invalid value '%s' for %s.", value, what);
        return EXIT_OK;
    }
    if (ockam__host_port_parse(value, host, sizeof host, &port) != OCKAM_OK)
        return out_error(EXIT_USAGE, "Use HOST:PORT, e.g. 127.0.0.1:4000.",
            "Invalid value '%s' for %s.", value, what);
    return EXIT_OK;
}

static json_t *
config_from_args(const char *name, const cli_args *a)
{
    json_t *allowed = cli_json_list(a, "allow-outgoing");
    if (!allowed)
        allowed = json_array();
    json_t *cfg
        = cli_config_new(name, args_value(a, "tcp-listener-address"), allowed, cli_verbosity(a));
    const char *udp = args_value(a, "udp-listener-address");
    if (cfg && udp)
        json_object_set_new(cfg, "udp_listener_address", json_string(udp));
    const char *ble = args_value(a, "ble-controller");
    const char *ble_name = args_value(a, "ble-listener-name");
    if (cfg && ble)
        json_object_set_new(cfg, "ble_controller", json_string(ble));
    if (cfg && ble_name)
        json_object_set_new(cfg, "ble_listener_name", json_string(ble_name));
    json_t *relay_allow = cli_json_list(a, "relay-allow");
    if (cfg && relay_allow)
        json_object_set_new(cfg, "relay_allow", relay_allow);
    else
        json_decref(relay_allow);
    json_t *kafka = cli_kafka_config_from_args(a);
    if (cfg && kafka)
        json_object_set_new(cfg, "kafka", kafka);
    else
        json_decref(kafka);
    return cfg;
}

static int
validate_ble(const cli_args *a)
{
    const char *ctl = args_value(a, "ble-controller");
    const char *name = args_value(a, "ble-listener-name");
    if (name && !ctl)
        return out_error(EXIT_USAGE, "Example: --ble-controller unix:/tmp/bt-server-le",
            "--ble-listener-name needs --ble-controller.");
    if (name && (!name[0] || strlen(name) > OCKAM_BLE_MAX_NAME))
        return out_error(EXIT_USAGE, NULL,
            "--ble-listener-name must have 1 to %d bytes (it is advertised).", OCKAM_BLE_MAX_NAME);
    if (ctl && strncmp(ctl, "unix:", 5) != 0 && strncmp(ctl, "serial:", 7) != 0
        && strncmp(ctl, "hci-user:", 9) != 0 && strcmp(ctl, "bluez") != 0)
        return out_error(EXIT_USAGE,
            "Use unix:PATH (H4 over a Unix socket, e.g. btvirt), serial:/dev/ttyX[:BAUD], "
            "hci-user:N or bluez (the kernel's L2CAP sockets).",
            "'%s' is not a BLE controller.", ctl);
    return EXIT_OK;
}

static int
validate_create(const cli_args *a, const char *name)
{
    if (!state_name_valid(name))
        return out_error(EXIT_USAGE, "Node names use letters, digits, '-' and '_' (at most 64).",
            "'%s' is not a valid node name.", name);
    const char *listen = args_value(a, "tcp-listener-address");
    if (listen && check_address("--tcp-listener-address", listen))
        return EXIT_USAGE;
    const char *udp = args_value(a, "udp-listener-address");
    if (udp && check_address("--udp-listener-address", udp))
        return EXIT_USAGE;
    const char *const *list = args_list(a, "allow-outgoing", NULL);
    for (size_t i = 0; list && list[i]; i++) {
        if (check_address("--allow-outgoing", list[i]))
            return EXIT_USAGE;
    }
    if (validate_ble(a))
        return EXIT_USAGE;
    list = args_list(a, "relay-allow", NULL);
    for (size_t i = 0; list && list[i]; i++) {
        uint8_t raw[32];
        if (strcmp(list[i], "secure") != 0 && ockam_identifier_parse(list[i], raw) != OCKAM_OK)
            return out_error(EXIT_USAGE,
                "Use an identifier (I followed by 64 hex digits: see 'ockam identity show'), or "
                "secure for any identity.",
                "Invalid value '%s' for --relay-allow.", list[i]);
    }
    if (state_node_running(name, NULL)) {
        char *hint
            = xasprintf("Pick another name, or delete it first: ockam node delete %s -y", name);
        out_error(EXIT_RUNTIME, hint, "Node %s already exists and is running.", name);
        free(hint);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

static int
node_create(const cli_args *a)
{
    if (args_flag(a, "child-process"))
        return a->npos == 1 ? noderun(a->pos[0], cli_verbosity(a), SPAWN_READY_FD, NULL, NULL)
                            : EXIT_USAGE;
    char *name = a->npos ? xstrdup(a->pos[0]) : state_random_name();
    int code = validate_create(a, name);
    json_t *ident = NULL, *cfg = NULL;
    if (!code) /* the node's identity; the default one (made now if need be) without --identity */
        code = idstore_identity_ensure(args_value(a, "identity"), &ident);
    if (!code) {
        cfg = config_from_args(name, a);
        json_object_set(cfg, "identity", json_object_get(ident, "name"));
        code = cli_node_prepare(name, cfg);
    }
    json_decref(ident);
    if (code) {
        free(name);
        return code;
    }
    char *def = state_default_get();
    struct created created = {.made_default = def == NULL};
    free(def);
    if (args_flag(a, "foreground")) {
        if (created.made_default)
            state_default_set(name);
        out_info("To exit and stop the Node, please press Ctrl+C");
        code = noderun(name, cli_verbosity(a), -1, print_created, &created);
        free(name);
        return code;
    }
    json_t *ready = NULL;
    code = cli_node_spawn(name, cli_verbosity(a), &ready);
    if (!code) {
        if (created.made_default)
            state_default_set(name);
        print_created(name, ready, &created);
    }
    json_decref(ready);
    free(name);
    return code;
}

/* ---- node list / show / logs / default ---------------------------------------------------- */

static json_t *
list_entry(const char *name, const char *def, strbuf *plain)
{
    pid_t pid = 0;
    bool running = state_node_running(name, &pid);
    bool dflt = def && strcmp(def, name) == 0;
    char *addr = state_listener_address(name);
    if (plain) {
        sb_printf(plain, "%s%s Node %s%s %s%s%s\n", plain->len ? "\n" : "", out_mark_item(), name,
            dflt ? " (default)" : "", out_color_start(running ? "green" : "red"),
            running ? "UP" : "DOWN", out_color_end());
        if (running)
            sb_printf(plain, "%s Process id %ld, listening at %s\n", out_mark_item(), (long)pid,
                addr ? addr : "?");
        else
            sb_printf(plain, "%s No process running\n", out_mark_item());
    }
    json_t *e = json_pack("{s:s, s:s, s:o, s:b, s:s?}", "name", name, "status",
        running ? "running" : "stopped", "pid", running && pid ? json_integer(pid) : json_null(),
        "is_default", dflt, "tcp_listener_address", addr);
    json_object_set_new(e, "node_name", json_string(name)); /* Ockam's key for the name */
    free(addr);
    return e;
}

static int
node_list(const cli_args *a)
{
    size_t n;
    char **names = state_node_names(&n);
    char *def = state_default_get();
    json_t *arr = json_array();
    strbuf plain = {0};
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, list_entry(names[i], def, out_wants_plain() ? &plain : NULL));
    char *text = n ? sb_take(&plain) : xstrdup("No nodes found on this system.");
    size_t len = strlen(text);
    if (len && text[len - 1] == '\n')
        text[len - 1] = '\0'; /* out_result adds the final newline */
    out_result(text, NULL, arr);
    free(text);
    free(def);
    state_names_free(names, n);
    return EXIT_OK;
}

static int
node_show(const cli_args *a)
{
    int code = EXIT_OK;
    char *name = cli_node_or_default(a->npos ? a->pos[0] : NULL, &code);
    if (!name)
        return code;
    print_view(fetch_view(name));
    free(name);
    return EXIT_OK;
}

static int
node_logs(const cli_args *a)
{
    int code = EXIT_OK;
    char *name = cli_node_or_default(a->npos ? a->pos[0] : NULL, &code);
    if (!name)
        return code;
    char *path = state_node_path(name, STATE_LOG_FILE);
    char *plain = xasprintf("%s The path for the log file is: %s", out_mark_ok(), path);
    out_result(plain, path, json_pack("{s:s, s:s}", "name", name, "path", path));
    free(plain);
    free(path);
    free(name);
    return EXIT_OK;
}

static int
node_default(const cli_args *a)
{
    int code = EXIT_OK;
    char *name = cli_node_or_default(a->npos ? a->pos[0] : NULL, &code);
    if (!name)
        return code;
    char *plain;
    if (!a->npos) {
        plain = xasprintf("%s The default node is '%s'", out_mark_ok(), name);
    } else if (is_default(name)) {
        plain = xasprintf("%s The node '%s' is already the default", out_mark_ok(), name);
    } else {
        if (!state_default_set(name)) {
            free(name);
            return out_error(EXIT_RUNTIME, NULL, "Cannot save the default node.");
        }
        plain = xasprintf("%s The node '%s' is now the default", out_mark_ok(), name);
    }
    out_result(plain, name, json_pack("{s:s}", "name", name));
    free(plain);
    free(name);
    return EXIT_OK;
}

/* ---- node start / stop -------------------------------------------------------------------- */

static int
node_start(const cli_args *a)
{
    int code = EXIT_OK;
    char *name = cli_node_or_default(a->npos ? a->pos[0] : NULL, &code);
    if (!name)
        return code;
    if (state_node_running(name, NULL)) {
        char *plain = xasprintf("%s The node '%s' is already running. If you want to restart it "
                                "you can call ockam node stop %s and then ockam node start %s",
            out_mark_fail(), name, name, name);
        out_result(plain, name, fetch_view(name));
        free(plain);
        free(name);
        return EXIT_OK;
    }
    json_t *cfg = state_config_load(name);
    int verbosity = cli_verbosity(a) ? cli_verbosity(a)
                                     : (int)json_integer_value(json_object_get(cfg, "verbosity"));
    json_decref(cfg);
    json_t *ready = NULL;
    code = spawn_node(name, verbosity, &ready);
    if (!code) {
        out_success("Node %s started.", name);
        /* As Ockam: the node as `node show` prints it (JSON on a pipe), not its name. */
        print_view(node_view(name, json_object_get(ready, "resources")));
    }
    json_decref(ready);
    free(name);
    return code;
}

static int
node_stop(const cli_args *a)
{
    int code = EXIT_OK;
    char *name = cli_node_or_default(a->npos ? a->pos[0] : NULL, &code);
    if (!name)
        return code;
    json_t *json = json_pack("{s:s, s:s}", "name", name, "status", "stopped");
    if (!state_node_running(name, NULL)) {
        out_info("The node %s is not running.", name);
        out_result(NULL, name, json);
        free(name);
        return EXIT_OK;
    }
    if (stop_nodes(&name, 1, NULL) != 0) {
        json_decref(json);
        code = out_error(EXIT_RUNTIME, "Check the process table (ps) for it.",
            "The node %s did not stop, even after SIGKILL.", name);
        free(name);
        return code;
    }
    char *plain = xasprintf("%s The node with name %s was stopped", out_mark_ok(), name);
    out_result(plain, name, json);
    free(plain);
    free(name);
    return EXIT_OK;
}

/* ---- node delete / reset ------------------------------------------------------------------ */

/* Stop and delete nodes; always ends with their state gone. Prints the result. */
static int
delete_nodes(char **names, size_t n, bool as_list)
{
    bool *stopped = xmalloc((n ? n : 1) * sizeof *stopped);
    stop_nodes(names, n, stopped);
    json_t *arr = json_array();
    strbuf plain = {0}, machine = {0};
    int code = EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        if (!stopped[i])
            out_warn("The node %s did not stop; its process will be killed.", names[i]);
        if (!state_node_remove(names[i])) {
            code = out_error(EXIT_RUNTIME, NULL, "Cannot remove the state of node %s.", names[i]);
            continue;
        }
        sb_printf(&plain, "%s%s The node with name %s has been deleted", i ? "\n" : "",
            out_mark_ok(), names[i]);
        sb_printf(&machine, "%s%s", i ? "\n" : "", names[i]);
        json_array_append_new(arr, json_pack("{s:s}", "name", names[i]));
    }
    kill_orphans(); /* anything that survived lost its directory above */
    state_default_repair();
    char *p = sb_take(&plain), *m = sb_take(&machine);
    json_t *json = as_list ? arr : json_incref(json_array_get(arr, 0));
    if (!as_list)
        json_decref(arr);
    out_result(p, m, json);
    free(p);
    free(m);
    free(stopped);
    return code;
}

static int
node_delete(const cli_args *a)
{
    int code = EXIT_OK;
    bool all = args_flag(a, "all");
    if (all && a->npos)
        return out_error(
            EXIT_USAGE, "Use either NAME or --all.", "NAME and --all exclude each other.");
    size_t n = 1;
    char **names;
    if (all) {
        names = state_node_names(&n);
    } else {
        names = xmalloc(sizeof *names);
        if (!(names[0] = cli_node_or_default(a->npos ? a->pos[0] : NULL, &code))) {
            free(names);
            return code;
        }
    }
    if (n == 0) {
        kill_orphans();
        out_result("There are no nodes to delete.", NULL, json_array());
        free(names);
        return EXIT_OK;
    }
    char *question
        = all ? xasprintf("Delete all %zu nodes?", n) : xasprintf("Delete node %s?", names[0]);
    bool go = out_confirm(question, args_flag(a, "yes"), &code);
    free(question);
    if (go)
        code = delete_nodes(names, n, all);
    state_names_free(names, n);
    return code;
}

static int
reset(const cli_args *a)
{
    int code = EXIT_OK;
    if (!out_confirm("Delete every node and all local Ockam state?", args_flag(a, "yes"), &code))
        return code;
    size_t n;
    char **names = state_node_names(&n);
    bool *stopped = xmalloc((n ? n : 1) * sizeof *stopped);
    stop_nodes(names, n, stopped);
    json_t *deleted = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(deleted, json_string(names[i]));
    char *nodes = xasprintf("%s/nodes", state_home());
    char *def = xasprintf("%s/default_node", state_home());
    bool ok = remove_tree(nodes) == 0 && remove_tree(def) == 0;
    /* Identities and vaults too (a vault file given with --path outside OCKAM_HOME stays). */
    static const char *const idstate[]
        = {"vaults", "identities", "default_vault", "default_identity"};
    for (size_t i = 0; i < sizeof idstate / sizeof idstate[0]; i++) {
        char *p = xasprintf("%s/%s", state_home(), idstate[i]);
        ok = remove_tree(p) == 0 && ok;
        free(p);
    }
    kill_orphans();
    rmdir(state_home()); /* only when nothing else lives there */
    free(def);
    free(nodes);
    free(stopped);
    state_names_free(names, n);
    if (!ok) {
        json_decref(deleted);
        return out_error(EXIT_RUNTIME, "Check the permissions of OCKAM_HOME.",
            "Cannot delete everything under %s.", state_home());
    }
    char *plain = xasprintf("%s Local Ockam configuration deleted", out_mark_ok());
    out_result(plain, NULL, json_pack("{s:o}", "deleted_nodes", deleted));
    free(plain);
    return EXIT_OK;
}

/* ---- table -------------------------------------------------------------------------------- */

static const cli_opt create_opts[] = {
    {"tcp-listener-address", 't', OPT_VALUE, "HOST:PORT",
        "Address of the node's TCP listener [default: 127.0.0.1:0, a free port]"},
    {"udp-listener-address", 0, OPT_VALUE, "HOST:PORT",
        "Also listen for UDP at HOST:PORT (port 0: a free port) [default: no UDP listener]"},
    {"ble-controller", 0, OPT_VALUE, "SPEC",
        "Attach a BLE controller: unix:PATH, serial:/dev/ttyX[:BAUD], hci-user:N or bluez"},
    {"ble-listener-name", 0, OPT_VALUE, "NAME",
        "Advertise NAME over BLE and accept connections (needs --ble-controller)"},
    {"foreground", 'f', OPT_FLAG, NULL, "Run the node in this process until Ctrl+C"},
    {"allow-outgoing", 0, OPT_LIST, "HOST:PORT",
        "Let messages from other nodes make this node connect to HOST:PORT, or to the BLE "
        "device ble:NAME (repeatable; '*' allows any)"},
    {"kafka-bootstrap", 0, OPT_VALUE, "HOST:PORT[,...]",
        "Attach the Kafka transport: the cluster's bootstrap servers"},
    {"kafka-inbox", 0, OPT_VALUE, "TOPIC", "The topic this node consumes (needed with Kafka)"},
    {"kafka-group", 0, OPT_VALUE, "ID", "Kafka consumer group [default: ockam.<inbox topic>]"},
    {"kafka-allow", 0, OPT_LIST, "TOPIC",
        "Let messages from other nodes be produced to TOPIC (repeatable; '*' allows any)"},
    {"kafka-property", 'X', OPT_LIST, "KEY=VALUE",
        "librdkafka property (repeatable); a producer. or consumer. prefix applies it to one "
        "client only"},
    {"identity", 0, OPT_VALUE, "NAME",
        "The node's identity [default: the default identity, created if need be]"},
    {"relay-allow", 0, OPT_LIST, "IDENTIFIER|secure",
        "Accept relay registrations only through secure channels of this identity (repeatable; "
        "secure: any identity) [default: anyone may register]"},
    {"child-process", 0, OPT_FLAG, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};

static const cli_opt no_opts[] = {{NULL, 0, 0, NULL, NULL}};

static const cli_opt delete_opts[] = {
    {"all", 'a', OPT_FLAG, NULL, "Delete every node"},
    {"yes", 'y', OPT_FLAG, NULL, "Do not ask for confirmation (needed without a terminal)"},
    {"force", 'f', OPT_FLAG, NULL, NULL}, /* Ockam's deprecated no-op, kept for scripts */
    {NULL, 0, 0, NULL, NULL},
};

static const cli_opt stop_opts[] = {
    {"force", 'f', OPT_FLAG, NULL, NULL}, /* Ockam's deprecated no-op, kept for scripts */
    {NULL, 0, 0, NULL, NULL},
};

static const cli_opt yes_opts[] = {
    {"yes", 'y', OPT_FLAG, NULL, "Do not ask for confirmation (needed without a terminal)"},
    {NULL, 0, 0, NULL, NULL},
};

const cli_cmd cli_node_cmds[] = {
    {"create", "[NAME]", 0, 1, create_opts, node_create,
        "Create a node and start it in the background",
        "Without a NAME the node gets a random two-word name. The command returns once the node\n"
        "listens, or fails at once with the node's startup error. The first node becomes the\n"
        "default node.\n\n"
        "Examples:\n"
        "  ockam node create n1\n"
        "  ockam node create n2 --tcp-listener-address 127.0.0.1:7000\n"
        "  ockam node create n3 --allow-outgoing 127.0.0.1:8000\n"
        "  ockam node create n4 --udp-listener-address 127.0.0.1:6000\n"
        "  ockam node create relay --relay-allow I3bc1...   # relays only from that identity\n"
        "  ockam node create n5 --kafka-bootstrap 127.0.0.1:9092 --kafka-inbox ockam.n5.inbox \\\n"
        "      --kafka-allow ockam.n6.inbox -X consumer.fetch.wait.max.ms=5"},
    {"list", "", 0, 0, no_opts, node_list, "List nodes and whether they run (UP or DOWN)", NULL},
    {"show", "[NAME]", 0, 1, no_opts, node_show,
        "Show a node: status, route, listeners, connections, services", NULL},
    {"start", "[NAME]", 0, 1, no_opts, node_start,
        "Start a stopped node again, with the same listener address, services and listeners", NULL},
    {"stop", "[NAME]", 0, 1, stop_opts, node_stop,
        "Stop a node (SIGTERM, then SIGKILL after 5 s); its state is kept", NULL},
    {"delete", "[NAME]", 0, 1, delete_opts, node_delete, "Stop and delete a node, or all of them",
        "Examples:\n  ockam node delete n1 -y\n  ockam node delete --all -y"},
    {"logs", "[NAME]", 0, 1, no_opts, node_logs, "Print the path of a node's log file",
        "Example:\n  tail -f $(ockam node logs n1)"},
    {"default", "[NAME]", 0, 1, no_opts, node_default, "Show or set the default node", NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};

const cli_cmd cli_reset_cmds[] = {
    {"", "", 0, 0, yes_opts, reset, "Delete every node and all local state", NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
