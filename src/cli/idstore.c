/* Vaults and identities on disk (see idstore.h). */
#include "cli/idstore.h"

#include "cli/output.h"
#include "cli/state.h"
#include "cli/util.h"
#include "identity/vault_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *
plural(const char *kind)
{
    return strcmp(kind, "identity") == 0 ? "identities" : "vaults";
}

static char *
kind_dir(const char *kind)
{
    return xasprintf("%s/%s", state_home(), plural(kind));
}

static char *
obj_path(const char *kind, const char *name)
{
    return xasprintf("%s/%s/%s.json", state_home(), plural(kind), name);
}

json_t *
idstore_get(const char *kind, const char *name)
{
    if (!name || !state_name_valid(name))
        return NULL;
    char *path = obj_path(kind, name);
    json_t *obj = json_load_file(path, 0, NULL);
    free(path);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

bool
idstore_save(const char *kind, json_t *obj)
{
    char *dir = kind_dir(kind);
    mkdir(dir, 0700);
    free(dir);
    char *text = json_dumps(obj, JSON_INDENT(2) | JSON_SORT_KEYS);
    char *path = obj_path(kind, json_string_value(json_object_get(obj, "name")));
    int rc = text ? write_file_atomic(path, text, strlen(text), 0600) : -1;
    free(path);
    free(text);
    return rc == 0;
}

bool
idstore_remove(const char *kind, const char *name)
{
    char *path = obj_path(kind, name);
    int rc = unlink(path);
    free(path);
    char *def = idstore_default_get(kind);
    if (def && strcmp(def, name) == 0) {
        char *p = xasprintf("%s/default_%s", state_home(), kind);
        unlink(p);
        free(p);
    }
    free(def);
    return rc == 0;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
idstore_names(const char *kind, size_t *n)
{
    char *dir = kind_dir(kind);
    DIR *d = opendir(dir);
    free(dir);
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (count == cap)
            names = xrealloc(names, (cap = cap ? cap * 2 : 8) * sizeof *names);
        names[count++] = xasprintf("%.*s", (int)(len - 5), e->d_name);
    }
    if (d)
        closedir(d);
    if (count)
        qsort(names, count, sizeof *names, cmp_names);
    *n = count;
    return names;
}

char *
idstore_default_get(const char *kind)
{
    char *path = xasprintf("%s/default_%s", state_home(), kind);
    char *text = read_file(path, NULL);
    free(path);
    if (!text)
        return NULL;
    text[strcspn(text, "\n")] = '\0';
    json_t *obj = idstore_get(kind, text);
    if (!obj) {
        free(text);
        return NULL;
    }
    json_decref(obj);
    return text;
}

bool
idstore_default_set(const char *kind, const char *name)
{
    char *path = xasprintf("%s/default_%s", state_home(), kind);
    int rc = write_file_atomic(path, name, strlen(name), 0600);
    free(path);
    return rc == 0;
}

/* ---- vaults ----------------------------------------------------------------------------- */

int
idstore_vault_create(const char *name, const char *path, json_t **out)
{
    json_t *old = idstore_get("vault", name);
    if (old) {
        json_decref(old);
        return out_error(EXIT_RUNTIME, "Pick another name, or see 'ockam vault list'.",
            "A vault named %s already exists.", name);
    }
    char *file = path ? xstrdup(path) : xasprintf("%s/vaults/%s/vault", state_home(), name);
    json_t *v = json_pack("{s:s, s:s, s:s}", "name", name, "path", file, "use_aws_kms", "No");
    free(file);
    ockam_vault *vault;
    int code = idstore_vault_open(v, &vault);
    if (code) {
        json_decref(v);
        return code;
    }
    ockam_vault_free(vault);
    if (!idstore_save("vault", v)) {
        json_decref(v);
        return out_error(
            EXIT_RUNTIME, NULL, "Cannot save the vault %s: %s.", name, strerror(errno));
    }
    char *def = idstore_default_get("vault");
    if (!def)
        idstore_default_set("vault", name);
    free(def);
    *out = v;
    return EXIT_OK;
}

int
idstore_vault_ensure(const char *name, char **out_name)
{
    char *def = name ? xstrdup(name) : idstore_default_get("vault");
    if (def) {
        json_t *v = idstore_get("vault", def);
        if (!v) {
            int code = out_error(
                EXIT_RUNTIME, "See 'ockam vault list'.", "There is no vault named %s.", def);
            free(def);
            return code;
        }
        json_decref(v);
        *out_name = def;
        return EXIT_OK;
    }
    json_t *v;
    int code = idstore_vault_create("default", NULL, &v);
    if (code)
        return code;
    json_decref(v);
    *out_name = xstrdup("default");
    return EXIT_OK;
}

int
idstore_vault_open(json_t *vault, ockam_vault **out)
{
    const char *path = json_string_value(json_object_get(vault, "path"));
    if (!path)
        return out_error(EXIT_RUNTIME, NULL, "The vault %s has no path.",
            json_string_value(json_object_get(vault, "name")));
    /* The vault file's directory must be ours alone (0700): make it so when we create it. */
    char *vdir = kind_dir("vault");
    mkdir(vdir, 0700);
    free(vdir);
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0700);
    }
    free(dir);
    uint64_t until = now_ms() + IDSTORE_VAULT_WAIT_MS;
    ockam_err err;
    while ((err = ockam_vault_file_open(path, out)) == OCKAM_EBUSY && now_ms() < until)
        usleep(5000);
    if (err == OCKAM_EACCES)
        return out_error(EXIT_RUNTIME,
            "The vault file must be yours alone: mode 0600 in a directory of mode 0700.",
            "Cannot open the vault file %s: %s.", path, ockam_strerror(err));
    if (err)
        return out_error(
            EXIT_RUNTIME, NULL, "Cannot open the vault file %s: %s.", path, ockam_strerror(err));
    return EXIT_OK;
}

/* ---- identities ----------------------------------------------------------------------- */

static json_t *
identity_json(const char *name, const char *vault, ockam_identity *id)
{
    char *hex = NULL;
    ockam_identity_export_hex(id, &hex);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", name, "identifier",
        ockam_identity_identifier(id), "vault", vault, "change_history", hex ? hex : "",
        "created_at", (json_int_t)time(NULL));
    ockam_free(hex);
    return o;
}

int
idstore_identity_create(const char *name, const char *vault, const char *import_hex, json_t **out)
{
    json_t *old = idstore_get("identity", name);
    if (old) {
        json_decref(old);
        return out_error(EXIT_RUNTIME, "Pick another name, or see 'ockam identity list'.",
            "An identity named %s already exists.", name);
    }
    char *vname;
    int code = idstore_vault_ensure(vault, &vname);
    if (code)
        return code;
    ockam_identity *id = NULL;
    ockam_err err;
    if (import_hex) {
        err = ockam_identity_import_hex(import_hex, strlen(import_hex), NULL, &id);
        if (err) {
            free(vname);
            return out_error(EXIT_RUNTIME,
                "Give the hex that 'ockam identity show NAME --encoding hex' prints.",
                "The identity cannot be imported: %s.", ockam_strerror(err));
        }
    } else {
        json_t *v = idstore_get("vault", vname);
        ockam_vault *vlt;
        code = idstore_vault_open(v, &vlt);
        json_decref(v);
        if (code) {
            free(vname);
            return code;
        }
        err = ockam_identity_create(vlt, (uint64_t)time(NULL), OCKAM_IDENTITY_DEFAULT_TTL_S, &id);
        if (err) {
            ockam_vault_free(vlt);
            free(vname);
            return out_error(
                EXIT_RUNTIME, NULL, "Cannot create an identity: %s.", ockam_strerror(err));
        }
        json_t *o = identity_json(name, vname, id);
        ockam_identity_free(id);
        ockam_vault_free(vlt);
        id = NULL;
        *out = o;
    }
    if (id) {
        *out = identity_json(name, vname, id);
        ockam_identity_free(id);
    }
    free(vname);
    if (!idstore_save("identity", *out)) {
        json_decref(*out);
        return out_error(
            EXIT_RUNTIME, NULL, "Cannot save the identity %s: %s.", name, strerror(errno));
    }
    char *def = idstore_default_get("identity");
    if (!def)
        idstore_default_set("identity", name);
    free(def);
    return EXIT_OK;
}

int
idstore_identity_ensure(const char *name, json_t **out)
{
    char *def = name ? xstrdup(name) : idstore_default_get("identity");
    if (!def)
        return idstore_identity_create("default", NULL, NULL, out);
    *out = idstore_get("identity", def);
    int code = *out ? EXIT_OK
                    : out_error(EXIT_RUNTIME, "See 'ockam identity list'.",
                        "There is no identity named %s.", def);
    free(def);
    return code;
}

ockam_err
idstore_identity_load(json_t *ident, uint32_t wait_ms, ockam_vault **vault, ockam_identity **id,
    char *err, size_t cap)
{
    const char *name = json_string_value(json_object_get(ident, "name"));
    const char *hex = json_string_value(json_object_get(ident, "change_history"));
    json_t *v = idstore_get("vault", json_string_value(json_object_get(ident, "vault")));
    const char *path = json_string_value(json_object_get(v, "path"));
    if (!hex || !path) {
        snprintf(err, cap, "The identity %s or its vault is missing or corrupt.", name);
        json_decref(v);
        return OCKAM_ENOENT;
    }
    ockam_vault *file = NULL;
    uint64_t until = now_ms() + wait_ms;
    ockam_err e;
    while ((e = ockam_vault_file_open(path, &file)) == OCKAM_EBUSY && now_ms() < until)
        usleep(5000);
    json_decref(v);
    if (!e)
        e = ockam__vault_copy_to_memory(file, vault);
    ockam_vault_free(file);
    if (e) {
        snprintf(err, cap, "Cannot open the vault of identity %s: %s.", name, ockam_strerror(e));
        return e;
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!hex_decode(hex, &bytes, &len)) {
        snprintf(err, cap, "The identity %s is corrupt.", name);
        ockam_vault_free(*vault);
        *vault = NULL;
        return OCKAM_EPROTO;
    }
    e = ockam_identity_load(*vault, bytes, len, id);
    free(bytes);
    if (e) {
        snprintf(err, cap, "Cannot load the identity %s: %s.", name, ockam_strerror(e));
        ockam_vault_free(*vault);
        *vault = NULL;
        return e;
    }
    return OCKAM_OK;
}
