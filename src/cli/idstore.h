/* Vaults and identities of the `ockam` command, under $OCKAM_HOME:
 *
 *   vaults/<name>.json        {"name", "path" (the vault file), "use_aws_kms": "No"}
 *   vaults/<name>/vault       the default place of a vault's file (mode 0600, directory 0700;
 *                             ockam/vault.h, file vault)
 *   identities/<name>.json    {"name", "identifier", "vault", "change_history" (hex, as
 *                             `identity show --encoding hex` prints it), "created_at"}
 *   default_vault             the default vault's name
 *   default_identity          the default identity's name
 *
 * The first command that needs an identity creates the vault "default" and the identity
 * "default" (and makes them the defaults). Secrets live only in the vault file; the JSON
 * files hold public data. A vault file admits one owner at a time: commands open it for the
 * few milliseconds they need it (retrying while another holds it), and a node copies its keys
 * into memory at start, and those of any other identity a listener or channel names, when
 * it is created (idstore_identity_load). */
#ifndef OCKAM_CLI_IDSTORE_H
#define OCKAM_CLI_IDSTORE_H

#include "ockam/identity.h"

#include <jansson.h>
#include <stdbool.h>

/* How long a command or a starting node waits for a vault file another process holds (each
 * holds it only for the few milliseconds it needs). */
#define IDSTORE_VAULT_WAIT_MS 2000u

/* kind: "vault" or "identity". */
json_t *idstore_get(const char *kind, const char *name); /* NULL when missing or corrupt */
bool idstore_save(const char *kind, json_t *obj);        /* by obj's "name" */
bool idstore_remove(const char *kind, const char *name);
/* Names, sorted; the caller frees each and the array. */
char **idstore_names(const char *kind, size_t *n);
char *idstore_default_get(const char *kind); /* NULL when none */
bool idstore_default_set(const char *kind, const char *name);

/* The vault `name` (NULL: the default one, created when there is none). Prints the error and
 * returns its exit code. *out_name is the vault's name (caller frees). */
int idstore_vault_ensure(const char *name, char **out_name);
/* Create the vault `name` (its file at path, or vaults/<name>/vault). */
int idstore_vault_create(const char *name, const char *path, json_t **out);
/* Open the vault's file (waits up to 2 s while another process holds it). */
int idstore_vault_open(json_t *vault, ockam_vault **out);

/* The identity `name` (NULL: the default one, created with the default vault when there is
 * none). New reference in *out. Prints the error and returns its exit code. */
int idstore_identity_ensure(const char *name, json_t **out);
/* Create (import_hex NULL) or import the identity `name` in vault (NULL: default). */
int idstore_identity_create(
    const char *name, const char *vault, const char *import_hex, json_t **out);

/* For a node: a memory copy of the identity's vault and the identity loaded from it (so the
 * node can sign). The vault file is held only while it is copied; while another process holds
 * it, this waits up to wait_ms (0: tries once) and then fails with OCKAM_EBUSY. On failure
 * writes a sentence to err. */
ockam_err idstore_identity_load(json_t *ident, uint32_t wait_ms, ockam_vault **vault,
    ockam_identity **id, char *err, size_t cap);

#endif
