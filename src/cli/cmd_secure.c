/* `ockam secure-channel-listener ...` and `ockam secure-channel ...`: thin clients of the node
 * manager's /node/secure_channel_listener and /node/secure_channel endpoints
 * (service/nodemanager_secure.h). */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/idstore.h"
#include "cli/output.h"
#include "cli/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HANDSHAKE_MARGIN_MS 2000u /* the node reports its own timeout before the CLI gives up */

/* --authorized ID (repeatable) as a JSON array; NULL (error printed) when one is malformed. */
static json_t *
authorized_arg(const cli_args *a, int *code)
{
    json_t *arr = json_array();
    size_t n = 0;
    const char *const *list = args_list(a, "authorized", &n);
    for (size_t i = 0; list && i < n; i++) {
        uint8_t raw[32];
        if (ockam_identifier_parse(list[i], raw) != OCKAM_OK) {
            *code = out_error(EXIT_USAGE,
                "An identifier is I followed by 64 hex digits: see 'ockam identity show'.",
                "'%s' is not an identifier.", list[i]);
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, json_string(list[i]));
    }
    return arr;
}

/* --identity NAME: any identity the user has; the node loads it (and its keys, from its vault)
 * by name, so no secret crosses the control socket. A missing one is reported here, before a
 * default node is made for nothing; the node checks again. */
static int
check_identity(const cli_args *a)
{
    const char *name = args_value(a, "identity");
    json_t *ident = name ? idstore_get("identity", name) : NULL;
    if (!name || ident) {
        json_decref(ident);
        return EXIT_OK;
    }
    return out_error(EXIT_RUNTIME, NULL,
        "There is no identity named %s: create it with 'ockam identity create %s'.", name, name);
}

/* The request body's "identity" (only when --identity was given). */
static void
set_identity(const cli_args *a, json_t *body)
{
    const char *name = args_value(a, "identity");
    if (name)
        json_object_set_new(body, "identity", json_string(name));
}

/* ---- secure-channel-listener ---------------------------------------------------------------- */

static char *
listener_plain(json_t *l)
{
    json_t *auth = json_object_get(l, "authorized");
    strbuf sb = {0};
    sb_printf(&sb,
        "%s Secure Channel Listener at /service/%s\n  Identity: %s\n  Identifier: %s\n"
        "  Authorized: ",
        out_mark_item(), cli_str(l, "address"), cli_str(l, "identity"), cli_str(l, "identifier"));
    if (!json_array_size(auth))
        sb_printf(&sb, "everyone");
    for (size_t i = 0; i < json_array_size(auth); i++)
        sb_printf(&sb, "%s%s", i ? ", " : "", json_string_value(json_array_get(auth, i)));
    return sb_take(&sb);
}

static int
listener_create(const cli_args *a)
{
    int code = EXIT_OK;
    json_t *auth = authorized_arg(a, &code);
    if (!auth)
        return code;
    if ((code = check_identity(a))) {
        json_decref(auth);
        return code;
    }
    char *node = cli_pick_node(args_value(a, "at"), true, &code);
    if (!node) {
        json_decref(auth);
        return code;
    }
    json_t *body = json_pack("{s:s, s:o}", "address", a->pos[0], "authorized", auth);
    set_identity(a, body);
    json_t *res;
    char *ignored;
    code = cli_call_at(a, "at", true, "POST", "/node/secure_channel_listener", body, API_TIMEOUT_MS,
        &ignored, &res);
    free(ignored);
    if (!code) {
        char *addr = xasprintf("/service/%s", cli_str(res, "address"));
        char *plain = xasprintf("%s Secure Channel Listener at %s created successfully at node %s",
            out_mark_ok(), addr, node);
        out_result(plain, addr, res);
        free(plain);
        free(addr);
    }
    free(node);
    return code;
}

static int
listener_list(const cli_args *a)
{
    return cli_list_cmd(
        a, "/node/secure_channel_listener", listener_plain, "secure channel", "listeners");
}

static const char *
strip_service(const char *arg)
{
    return strncmp(arg, "/service/", 9) == 0 ? arg + 9 : arg;
}

static int
item_cmd(const cli_args *a, const char *method, const char *collection, json_t **res, char **node)
{
    char *path = xasprintf("%s/%s", collection, strip_service(a->pos[0]));
    int code = cli_call_at(a, "at", false, method, path, NULL, API_TIMEOUT_MS, node, res);
    free(path);
    return code;
}

/* show NAME: one item of the collection, printed by plain(). */
static int
item_show(const cli_args *a, const char *collection, char *(*plain_fn)(json_t *))
{
    json_t *res;
    char *node;
    int code = item_cmd(a, "GET", collection, &res, &node);
    if (!code) {
        char *plain = plain_fn(res);
        out_result(plain, NULL, res);
        free(plain);
    }
    free(node);
    return code;
}

/* delete NAME --yes: asks `question` first, then prints "Deleted <label><the item's key
 * field> on node N". */
static int
item_delete(const cli_args *a, const char *question, const char *collection, const char *key,
    const char *label)
{
    int code = EXIT_OK;
    char *q = xasprintf("%s %s?", question, a->pos[0]);
    bool go = out_confirm(q, args_flag(a, "yes"), &code);
    free(q);
    if (!go)
        return code;
    json_t *res;
    char *node;
    code = item_cmd(a, "DELETE", collection, &res, &node);
    if (!code) {
        char *plain = xasprintf(
            "%s Deleted %s%s on node %s", out_mark_ok(), label, cli_str(res, key), node);
        out_result(plain, NULL, res);
        free(plain);
    }
    free(node);
    return code;
}

static int
listener_show(const cli_args *a)
{
    return item_show(a, "/node/secure_channel_listener", listener_plain);
}

static int
listener_delete(const cli_args *a)
{
    return item_delete(a, "Delete the secure channel listener", "/node/secure_channel_listener",
        "address", "Secure Channel Listener at /service/");
}

static const cli_opt listener_create_opts[] = {
    {"at", 0, OPT_VALUE, "NODE", "The node [default: the default node]"},
    {"identity", 0, OPT_VALUE, "NAME",
        "The identity the listener presents (any in 'ockam identity list') [default: the "
        "node's]"},
    {"authorized", 0, OPT_LIST, "IDENTIFIER",
        "Accept only channels from this identity (repeatable) [default: everyone]"},
    {NULL, 0, 0, NULL, NULL},
};

const cli_cmd cli_secure_channel_listener_cmds[] = {
    {"create", "ADDRESS", 1, 1, listener_create_opts, listener_create,
        "Start a secure channel listener at ADDRESS",
        "Every node runs one at /service/api, trusting everyone. A listener restricted with\n"
        "--authorized refuses the handshake of any other identity; as Ockam's, it answers\n"
        "nothing, so the initiator's channel opens and its first message gets no reply.\n"
        "With --identity NAME the listener presents that identity instead of the node's: the\n"
        "node loads it and its keys from its vault, keeps it while the listener lives, and\n"
        "'node start' restores the listener with it.\n\n"
        "Examples:\n"
        "  ockam secure-channel-listener create l1 --at n1 --authorized I1234...\n"
        "  ockam secure-channel-listener create l2 --at n1 --identity bob\n"},
    {"list", "", 0, 0, cli_at_opts, listener_list, "List the secure channel listeners of a node",
        NULL},
    {"show", "ADDRESS", 1, 1, cli_at_opts, listener_show, "Show a secure channel listener", NULL},
    {"delete", "ADDRESS", 1, 1, cli_at_yes_opts, listener_delete,
        "Delete a secure channel listener (open channels stay up)", NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};

/* ---- secure-channel ---------------------------------------------------------------------- */

static char *
channel_plain(json_t *c)
{
    return xasprintf("%s Secure Channel at %s\n  To: %s\n  Identity: %s (%s)\n  Peer: %s",
        out_mark_item(), cli_str(c, "encryptor"), cli_str(c, "to"), cli_str(c, "identity"),
        cli_str(c, "identifier"), cli_str(c, "peer"));
}

static int
channel_create(const cli_args *a)
{
    int code = EXIT_OK;
    const char *to = args_value(a, "to");
    if (!to)
        return out_error(EXIT_USAGE,
            "Example: ockam secure-channel create --from n1 --to /node/n2/service/api",
            "The argument '--to ROUTE' is required.");
    uint64_t timeout_ms = 10000;
    const char *t = args_value(a, "timeout");
    if (t && (!parse_duration_ms(t, &timeout_ms) || timeout_ms == 0 || timeout_ms > 600000))
        return out_error(
            EXIT_USAGE, "Durations look like 500ms, 10s, 2m.", "Invalid --timeout '%s'.", t);
    json_t *auth = authorized_arg(a, &code);
    if (!auth)
        return code;
    char *resolved = NULL;
    code = check_identity(a);
    if (!code)
        code = cli_resolve_multiaddr(to, "--to", &resolved);
    char *node = code ? NULL : cli_pick_node(args_value(a, "from"), true, &code);
    if (code) {
        json_decref(auth);
        free(resolved);
        free(node);
        return code;
    }
    json_t *body = json_pack("{s:s, s:o, s:I}", "to", resolved, "authorized", auth, "timeout_ms",
        (json_int_t)timeout_ms);
    set_identity(a, body);
    api_result res = {0};
    int asked = api_request(
        node, "POST", "/node/secure_channel", body, timeout_ms + HANDSHAKE_MARGIN_MS, &res);
    code = asked;
    if (!asked && res.status != 200)
        code = out_error(EXIT_RUNTIME, NULL, "%s", res.error ? res.error : "The node failed.");
    if (!code) {
        const char *enc = cli_str(res.body, "encryptor");
        char *plain = xasprintf("%s Secure Channel at %s created successfully\n  From /node/%s "
                                "to %s",
            out_mark_ok(), enc, node, to);
        out_result(plain, enc, json_incref(res.body));
        free(plain);
    }
    if (!asked)
        api_result_free(&res);
    free(resolved);
    free(node);
    return code;
}

static int
channel_list(const cli_args *a)
{
    return cli_list_cmd(a, "/node/secure_channel", channel_plain, "secure", "channels");
}

static int
channel_show(const cli_args *a)
{
    return item_show(a, "/node/secure_channel", channel_plain);
}

static int
channel_delete(const cli_args *a)
{
    return item_delete(a, "Delete the secure channel", "/node/secure_channel", "encryptor",
        "secure channel with address ");
}

static const cli_opt channel_create_opts[] = {
    {"from", 0, OPT_VALUE, "NODE",
        "The node that initiates the channel [default: the default "
        "node]"},
    {"to", 0, OPT_VALUE, "ROUTE", "Route to a secure channel listener, e.g. /node/n2/service/api"},
    {"identity", 0, OPT_VALUE, "NAME",
        "The identity this end proves in the handshake (any in 'ockam identity list') "
        "[default: the node's]"},
    {"authorized", 0, OPT_LIST, "IDENTIFIER",
        "Accept only this identity at the other end (repeatable) [default: everyone]"},
    {"timeout", 0, OPT_VALUE, "DURATION", "How long the handshake may take [default: 10s]"},
    {NULL, 0, 0, NULL, NULL},
};

const cli_cmd cli_secure_channel_cmds[] = {
    {"create", "", 0, 0, channel_create_opts, channel_create,
        "Create a secure channel and print its address",
        "The last /service/NAME of --to is the listener. The channel is an ordinary route, so\n"
        "--to may go through relays, hops, UDP and Kafka. On a pipe only the channel's address\n"
        "(/service/<encryptor>) is printed, for routes that continue inside it. With\n"
        "--identity NAME this end proves that identity (any you have) instead of the node's;\n"
        "the node loads it and its keys from its vault.\n\n"
        "Examples:\n"
        "  ockam secure-channel create --from n1 --to /node/n2/service/api\n"
        "  ockam secure-channel create --from c --to /node/relay/service/forward_to_s/service/api "
        "\\\n"
        "    | ockam tcp-inlet create --at c --from 127.0.0.1:7000 --to -/service/outlet\n"
        "  ockam secure-channel create --from n1 --to /node/n2/service/api --identity alice"},
    {"list", "", 0, 0, cli_at_opts, channel_list, "List the secure channels a node initiated",
        NULL},
    {"show", "ADDRESS", 1, 1, cli_at_opts, channel_show, "Show a secure channel", NULL},
    {"delete", "ADDRESS", 1, 1, cli_at_yes_opts, channel_delete,
        "Close a secure channel (the peer closes its end too)", NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
