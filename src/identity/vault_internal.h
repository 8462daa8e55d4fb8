/* The key ring both built-in vaults keep in memory (vault.c), and the file vault's
 * serialisation (vault_file.c). Secrets are erased whenever an entry is dropped. */
#ifndef OCKAM_IDENTITY_VAULT_INTERNAL_H
#define OCKAM_IDENTITY_VAULT_INTERNAL_H

#include "core/core.h"
#include "ockam/vault.h"

typedef struct ockam__vkey {
    uint8_t type; /* ockam_key_type */
    uint8_t secret[32];
    uint8_t pub[32];
    char label[OCKAM_VAULT_LABEL_MAX + 1];
} ockam__vkey;

typedef struct ockam__keyring {
    ockam__vkey *keys;
    size_t count, cap;
} ockam__keyring;

/* The public key of a secret of that type. */
ockam_err ockam__key_public(ockam_key_type type, const uint8_t secret[32], uint8_t pub[32]);
/* Add (or relabel, when present) the key made from secret; writes its public key. */
ockam_err ockam__keyring_store(ockam__keyring *kr, ockam_key_type type, const uint8_t secret[32],
    const char *label, uint8_t pub[32]);
ockam__vkey *ockam__keyring_get(ockam__keyring *kr, ockam_key_type type, const uint8_t pub[32]);
/* Erase and remove one entry (kr->keys[i]). */
void ockam__keyring_drop(ockam__keyring *kr, size_t i);
/* Erase every secret and free. */
void ockam__keyring_clear(ockam__keyring *kr);

/* The op bodies of the memory vault (state = ockam__keyring *), reused by the file vault. */
extern const ockam_vault_ops ockam__vault_memory_ops;

/* The vault file image of a key ring (see vault_file.c); *out is erased and freed by the
 * caller. Parsing fills an empty key ring; OCKAM_EVAULTFILE for anything malformed. */
ockam_err ockam__vault_file_encode(const ockam__keyring *kr, uint8_t **out, size_t *len);
ockam_err ockam__vault_file_decode(const uint8_t *buf, size_t len, ockam__keyring *kr);

/* A memory vault holding a copy of every key of src (a memory or file vault; OCKAM_ENOTSUP
 * for other backends). A node copies the shared file vault at start and closes it, so that
 * several nodes and commands can use one vault: the file vault admits one owner at a time. */
ockam_err ockam__vault_copy_to_memory(ockam_vault *src, ockam_vault **out);

#endif
