/* `ockam vault ...` and `ockam identity ...`: the local vaults and identities (idstore.h). */
#include "cli/cli.h"
#include "cli/idstore.h"
#include "cli/output.h"
#include "cli/state.h"
#include "identity/identity_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A name given on the command line, or a fresh random one. */
static char *
name_arg(const cli_args *a, int *code)
{
    if (a->npos == 0)
        return state_random_name();
    if (!state_name_valid(a->pos[0])) {
        *code = out_error(EXIT_USAGE, "Names use letters, digits, '-' and '_'.",
            "'%s' is not a valid name.", a->pos[0]);
        return NULL;
    }
    return xstrdup(a->pos[0]);
}

/* The object named by the first argument, or the default one. */
static json_t *
pick(const cli_args *a, const char *kind, int *code)
{
    char *name = a->npos ? xstrdup(a->pos[0]) : idstore_default_get(kind);
    json_t *obj = name ? idstore_get(kind, name) : NULL;
    if (!obj) {
        char *hint = xasprintf("See 'ockam %s list'.", kind);
        if (name)
            *code = out_error(EXIT_RUNTIME, hint, "There is no %s named %s.", kind, name);
        else
            *code = out_error(EXIT_RUNTIME, hint, "There is no default %s yet.", kind);
        free(hint);
    }
    free(name);
    return obj;
}

static bool
is_default(const char *kind, const char *name)
{
    char *def = idstore_default_get(kind);
    bool yes = def && strcmp(def, name) == 0;
    free(def);
    return yes;
}

/* ---- vault ---------------------------------------------------------------------------------- */

static char *
vault_plain(json_t *v)
{
    const char *name = cli_str(v, "name");
    return xasprintf("%s Vault %s%s\n  Type: OCKAM\n  Path: %s", out_mark_item(), name,
        is_default("vault", name) ? " (default)" : "", cli_str(v, "path"));
}

static int
vault_create(const cli_args *a)
{
    int code = EXIT_OK;
    char *name = name_arg(a, &code);
    if (!name)
        return code;
    json_t *v;
    code = idstore_vault_create(name, args_value(a, "path"), &v);
    if (!code) {
        char *plain = xasprintf("%s Vault %s created", out_mark_ok(), name);
        out_result(plain, name, v);
        free(plain);
    }
    free(name);
    return code;
}

static int
vault_list(const cli_args *a)
{
    size_t n;
    char **names = idstore_names("vault", &n);
    json_t *list = json_array();
    strbuf sb = {0};
    for (size_t i = 0; i < n; i++) {
        json_t *v = idstore_get("vault", names[i]);
        if (!v)
            continue;
        char *p = vault_plain(v);
        sb_printf(&sb, "%s%s", sb.len ? "\n\n" : "", p);
        free(p);
        json_array_append_new(list, v);
    }
    state_names_free(names, n);
    char *plain = sb_take(&sb);
    out_result(n ? plain : "No vaults found. Create one with 'ockam vault create'.", NULL, list);
    free(plain);
    return EXIT_OK;
}

static int
vault_show(const cli_args *a)
{
    int code = EXIT_OK;
    json_t *v = pick(a, "vault", &code);
    if (!v)
        return code;
    char *plain = vault_plain(v);
    char *machine = xstrdup(cli_str(v, "name"));
    out_result(plain, machine, v);
    free(machine);
    free(plain);
    return EXIT_OK;
}

/* The identities kept in vault `name`. */
static size_t
vault_users(const char *name)
{
    size_t n, used = 0;
    char **ids = idstore_names("identity", &n);
    for (size_t i = 0; i < n; i++) {
        json_t *id = idstore_get("identity", ids[i]);
        used += id && strcmp(cli_str(id, "vault"), name) == 0;
        json_decref(id);
    }
    state_names_free(ids, n);
    return used;
}

static int
vault_delete(const cli_args *a)
{
    int code = EXIT_OK;
    json_t *v = pick(a, "vault", &code);
    if (!v)
        return code;
    const char *name = cli_str(v, "name");
    if (vault_users(name)) {
        code = out_error(EXIT_RUNTIME, "Delete the identities kept in it first.",
            "The vault %s holds the keys of identities.", name);
        json_decref(v);
        return code;
    }
    char *q = xasprintf("Delete the vault %s and its keys?", name);
    bool go = out_confirm(q, args_flag(a, "yes"), &code);
    free(q);
    if (go) {
        unlink(cli_str(v, "path"));
        char *lock = xasprintf("%s.lock", cli_str(v, "path"));
        unlink(lock);
        free(lock);
        idstore_remove("vault", name);
        char *plain = xasprintf("%s Vault with name '%s' has been deleted", out_mark_ok(), name);
        char *machine = xstrdup(name);
        out_result(plain, machine, json_pack("{s:s}", "name", name));
        free(machine);
        free(plain);
    }
    json_decref(v);
    return code;
}

/* Move the vault's file: open it (so nobody else writes it meanwhile), copy, then rename. */
static int
vault_move(const cli_args *a)
{
    int code = EXIT_OK;
    const char *to = args_value(a, "path");
    if (!to)
        return out_error(EXIT_USAGE, "Example: ockam vault move v1 --path /secure/place/v1",
            "The argument '--path PATH' is required.");
    json_t *v = pick(a, "vault", &code);
    if (!v)
        return code;
    char *from = xstrdup(cli_str(v, "path"));
    size_t len;
    char *data = read_file(from, &len);
    if (!data) {
        code = out_error(EXIT_RUNTIME, NULL, "Cannot read %s: %s.", from, strerror(errno));
    } else if (write_file_atomic(to, data, len, 0600) != 0) {
        code = out_error(EXIT_RUNTIME, NULL, "Cannot write %s: %s.", to, strerror(errno));
    } else {
        ockam_vault *check;
        json_object_set_new(v, "path", json_string(to));
        code = idstore_vault_open(v, &check);
        if (!code) {
            ockam_vault_free(check);
            idstore_save("vault", v);
            unlink(from);
            char *plain = xasprintf(
                "%s Moved the vault %s from %s to %s", out_mark_ok(), cli_str(v, "name"), from, to);
            out_result(plain, to, json_incref(v));
            free(plain);
        } else {
            unlink(to);
        }
    }
    if (data)
        memset(data, 0, len);
    free(data);
    free(from);
    json_decref(v);
    return code;
}

static const cli_opt vault_create_opts[] = {
    {"path", 0, OPT_VALUE, "PATH", "Where the vault file goes [default: under OCKAM_HOME]"},
    {"aws-kms", 0, OPT_FLAG, NULL, NULL},
    {NULL, 0, 0, NULL, NULL},
};
static const cli_opt vault_move_opts[] = {
    {"path", 0, OPT_VALUE, "PATH", "The vault file's new place"},
    {NULL, 0, 0, NULL, NULL},
};
static const cli_opt yes_opts[] = {
    {"yes", 'y', OPT_FLAG, NULL, "Do not ask for confirmation"},
    {NULL, 0, 0, NULL, NULL},
};
static const cli_opt no_opts[] = {{NULL, 0, 0, NULL, NULL}};

const cli_cmd cli_vault_cmds[] = {
    {"create", "[NAME]", 0, 1, vault_create_opts, vault_create, "Create a vault",
        "The first vault becomes the default one. Its secrets are kept in one file (mode 0600,\n"
        "in a directory of mode 0700)."},
    {"list", "", 0, 0, no_opts, vault_list, "List vaults", NULL},
    {"show", "[NAME]", 0, 1, no_opts, vault_show, "Show a vault (the default one without NAME)",
        NULL},
    {"delete", "NAME", 1, 1, yes_opts, vault_delete, "Delete a vault and its keys", NULL},
    {"move", "NAME", 1, 1, vault_move_opts, vault_move, "Move a vault's file to another path",
        NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};

/* ---- identity ---------------------------------------------------------------------------- */

static int
identity_create(const cli_args *a)
{
    int code = EXIT_OK;
    char *name = name_arg(a, &code);
    if (!name)
        return code;
    json_t *id;
    code = idstore_identity_create(name, args_value(a, "vault"), args_value(a, "identity"), &id);
    if (!code) {
        char *identifier = xstrdup(cli_str(id, "identifier"));
        char *plain = xasprintf(
            "%s Identity %s created successfully as %s", out_mark_ok(), identifier, name);
        out_result(plain, identifier, id);
        free(plain);
        free(identifier);
    }
    free(name);
    return code;
}

static void
key_hex(strbuf *sb, const ockam__pubkey *k)
{
    char *hex = hex_encode(k->key, k->len);
    sb_printf(
        sb, "%s: %s", k->type == OCKAM__KEY_P256 ? "ECDSASHA256CurveP256" : "EdDSACurve25519", hex);
    free(hex);
}

/* The change history, one block per change (Ockam's layout). */
static char *
full_text(const char *hex)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    ockam_identity *id = NULL;
    if (!hex_decode(hex, &bytes, &len) || ockam_identity_import(bytes, len, NULL, &id)) {
        free(bytes);
        return NULL;
    }
    free(bytes);
    strbuf sb = {0};
    sb_printf(&sb, "Identifier: %s", ockam_identity_identifier(id));
    for (size_t i = 0; i < id->count; i++) {
        const ockam__verified_change *c = &id->changes[i];
        char *h = hex_encode(c->hash, sizeof c->hash);
        sb_printf(&sb, "\n  Change[%zu]:\n    identifier: %s\n    primary_public_key: ", i, h);
        key_hex(&sb, &c->key);
        sb_printf(&sb, "\n    valid_from: %llu\n    valid_until: %llu",
            (unsigned long long)c->valid_from, (unsigned long long)c->valid_until);
        free(h);
    }
    ockam_identity_free(id);
    return sb_take(&sb);
}

static int
identity_show(const cli_args *a)
{
    int code = EXIT_OK;
    json_t *id;
    if (a->npos == 0) {
        code = idstore_identity_ensure(NULL, &id);
        if (code)
            return code;
    } else if (!(id = pick(a, "identity", &code))) {
        return code;
    }
    const char *enc = args_value(a, "encoding");
    if (enc && strcmp(enc, "hex") != 0) {
        json_decref(id);
        return out_error(EXIT_USAGE, "The only encoding is hex.", "Unknown encoding '%s'.", enc);
    }
    char *text;
    if (enc)
        text = xstrdup(cli_str(id, "change_history"));
    else if (args_flag(a, "full"))
        text = full_text(cli_str(id, "change_history"));
    else
        text = xstrdup(cli_str(id, "identifier"));
    if (!text) {
        json_decref(id);
        return out_error(EXIT_RUNTIME, NULL, "The stored identity is corrupt.");
    }
    json_t *j = json_pack("{s:O, s:O, s:O, s:O, s:b}", "name", json_object_get(id, "name"),
        "identifier", json_object_get(id, "identifier"), "vault", json_object_get(id, "vault"),
        "change_history", json_object_get(id, "change_history"), "is_default",
        is_default("identity", cli_str(id, "name")));
    out_result(text, text, j);
    free(text);
    json_decref(id);
    return EXIT_OK;
}

static int
identity_list(const cli_args *a)
{
    size_t n;
    char **names = idstore_names("identity", &n);
    json_t *list = json_array();
    strbuf sb = {0};
    for (size_t i = 0; i < n; i++) {
        json_t *id = idstore_get("identity", names[i]);
        if (!id)
            continue;
        bool def = is_default("identity", names[i]);
        sb_printf(&sb, "%s%s Identity %s%s\n  %s", sb.len ? "\n\n" : "", out_mark_item(), names[i],
            def ? " (default)" : "", cli_str(id, "identifier"));
        json_object_set_new(id, "is_default", json_boolean(def));
        json_array_append_new(list, id);
    }
    state_names_free(names, n);
    char *plain = sb_take(&sb);
    out_result(
        n ? plain : "No identities found. Create one with 'ockam identity create'.", NULL, list);
    free(plain);
    return EXIT_OK;
}

/* Whether a node's configuration names the identity: as the node's own, or as that of a
 * secure channel listener `node start` restores. */
static bool
config_uses(json_t *cfg, const char *name)
{
    if (strcmp(cli_str(cfg, "identity"), name) == 0)
        return true;
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(cfg, "secure_channel_listeners"), i, l)
    {
        const char *used = json_string_value(json_object_get(l, "identity"));
        if (used && strcmp(used, name) == 0)
            return true;
    }
    return false;
}

/* The first node whose configuration names the identity, or NULL (caller frees). */
static char *
identity_user(const char *name)
{
    size_t n;
    char **nodes = state_node_names(&n);
    char *user = NULL;
    for (size_t i = 0; i < n && !user; i++) {
        json_t *cfg = state_config_load(nodes[i]);
        if (cfg && config_uses(cfg, name))
            user = xstrdup(nodes[i]);
        json_decref(cfg);
    }
    state_names_free(nodes, n);
    return user;
}

static int
delete_one(const char *name)
{
    char *user = identity_user(name);
    if (user) {
        char *hint = xasprintf("Delete the node first (ockam node delete %s -y), or its secure "
                               "channel listeners that present this identity.",
            user);
        int code = out_error(EXIT_RUNTIME, hint, "The identity %s is used by node %s.", name, user);
        free(hint);
        free(user);
        return code;
    }
    if (!idstore_remove("identity", name))
        return out_error(
            EXIT_RUNTIME, "See 'ockam identity list'.", "There is no identity named %s.", name);
    out_success("Identity '%s' deleted", name);
    return EXIT_OK;
}

static int
identity_delete(const cli_args *a)
{
    int code = EXIT_OK;
    bool all = args_flag(a, "all");
    if (!all && a->npos == 0)
        return out_error(EXIT_USAGE, "Example: ockam identity delete i1 --yes",
            "Give the NAME of the identity to delete, or --all.");
    char *q
        = all ? xstrdup("Delete every identity?") : xasprintf("Delete the identity %s?", a->pos[0]);
    bool go = out_confirm(q, args_flag(a, "yes"), &code);
    free(q);
    if (!go)
        return code;
    json_t *deleted = json_array();
    if (all) {
        size_t n;
        char **names = idstore_names("identity", &n);
        for (size_t i = 0; i < n; i++) {
            int c = delete_one(names[i]);
            if (!c)
                json_array_append_new(deleted, json_string(names[i]));
            code = code ? code : c;
        }
        state_names_free(names, n);
    } else {
        code = delete_one(a->pos[0]);
        if (!code)
            json_array_append_new(deleted, json_string(a->pos[0]));
    }
    if (!code)
        out_result(NULL, NULL, json_pack("{s:o}", "deleted", deleted));
    else
        json_decref(deleted);
    return code;
}

static int
identity_default(const cli_args *a)
{
    if (a->npos == 0) {
        json_t *id;
        int code = idstore_identity_ensure(NULL, &id);
        if (code)
            return code;
        char *name = xstrdup(cli_str(id, "name"));
        char *plain = xasprintf("The name of the default identity is '%s'", name);
        out_result(plain, name, id);
        free(plain);
        free(name);
        return EXIT_OK;
    }
    json_t *id = idstore_get("identity", a->pos[0]);
    if (!id)
        return out_error(EXIT_RUNTIME, "See 'ockam identity list'.",
            "There is no identity named %s.", a->pos[0]);
    idstore_default_set("identity", a->pos[0]);
    char *plain
        = xasprintf("%s The identity named '%s' is now the default", out_mark_ok(), a->pos[0]);
    out_result(plain, a->pos[0], id);
    free(plain);
    return EXIT_OK;
}

static const cli_opt identity_create_opts[] = {
    {"vault", 0, OPT_VALUE, "VAULT",
        "The vault for the identity's key [default: the default vault]"},
    {"identity", 0, OPT_VALUE, "HEX",
        "Import this change history (public only) instead of "
        "creating a new identity"},
    {NULL, 0, 0, NULL, NULL},
};
static const cli_opt identity_show_opts[] = {
    {"full", 0, OPT_FLAG, NULL, "Show the change history"},
    {"encoding", 0, OPT_VALUE, "hex", "Print the exportable change history in this encoding"},
    {NULL, 0, 0, NULL, NULL},
};
static const cli_opt identity_delete_opts[] = {
    {"all", 0, OPT_FLAG, NULL, "Delete every identity"},
    {"yes", 'y', OPT_FLAG, NULL, "Do not ask for confirmation"},
    {NULL, 0, 0, NULL, NULL},
};

const cli_cmd cli_identity_cmds[] = {
    {"create", "[NAME]", 0, 1, identity_create_opts, identity_create,
        "Create an identity (or import one with --identity HEX)",
        "The first identity becomes the default one. Its Ed25519 key is kept in the vault.\n"
        "With --identity, the change history printed by 'identity show --encoding hex' is\n"
        "verified and stored without any key: it can be named, not used to sign."},
    {"show", "[NAME]", 0, 1, identity_show_opts, identity_show,
        "Show an identity's identifier (the default one without NAME)", NULL},
    {"list", "", 0, 0, no_opts, identity_list, "List identities", NULL},
    {"delete", "[NAME]", 0, 1, identity_delete_opts, identity_delete,
        "Delete an identity (refused while a node uses it)", NULL},
    {"default", "[NAME]", 0, 1, no_opts, identity_default,
        "Show the default identity, or make NAME the default", NULL},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
