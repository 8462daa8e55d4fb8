/* Vaults: where the secret keys of identities and secure channels live.
 *
 * A vault holds Ed25519 signing keys (identity primary keys) and X25519 keys (secure-channel
 * static keys). A key is named by its type and its 32-byte public key; it also carries a
 * short label (at most OCKAM_VAULT_LABEL_MAX bytes, any bytes but NUL) so that a key can be
 * found again after a restart, e.g. the secure-channel key of one identity.
 *
 * Security rules:
 * - Ed25519 secrets never leave the vault: callers ask the vault to sign.
 * - X25519 secrets leave only through ockam_vault_x25519_secret (the Noise handshake needs
 *   the static secret for its DH steps); the caller erases the copy when done.
 * - Secret bytes are erased (OPENSSL_cleanse) on every path that drops them, and are never
 *   logged nor put in error messages.
 * - The file vault keeps its secrets in one file (mode 0600) in a directory of mode 0700,
 *   rewritten atomically on every change (temporary file, fsync, rename, fsync of the
 *   directory): a crash leaves the old vault or the new one, never a torn file. Its format
 *   is documented in docs/wire.md §15.6 and in src/identity/vault_file.c.
 *
 * Backends: a vault is an ops table plus its state (ockam_vault_new); the memory and file
 * vaults below are two such backends, and a hardware key store could be a third.
 *
 * Threading: a vault is not thread-safe; use it from one thread at a time (a node's loop
 * thread). The file vault writes synchronously (fsync): key creation is rare.
 * Ownership: ockam_vault_free releases the vault and erases every secret it holds in
 * memory; objects that use a vault (identities) borrow it and must be freed first. */
#ifndef OCKAM_VAULT_H
#define OCKAM_VAULT_H

#include "ockam/common.h"
#include "ockam/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ockam_key_type {
    OCKAM_KEY_ED25519 = 1, /* signing (identity primary keys) */
    OCKAM_KEY_X25519 = 2,  /* Diffie-Hellman (secure-channel static keys) */
} ockam_key_type;

#define OCKAM_VAULT_LABEL_MAX 96
#define OCKAM_KEY_LEN 32 /* secret and public keys of both types */
#define OCKAM_SIG_LEN 64 /* Ed25519 signature */

/* A backend. Every op returns OCKAM_ENOKEY when no key of that type has that public key.
 * Ops never see NULL pointers: the ockam_vault_* wrappers check arguments first. */
typedef struct ockam_vault_ops {
    const char *name;
    /* Store a key made from `secret` (32 bytes; the backend copies it) under `label`, and
     * write its public key. Storing a key that is already there only updates its label. */
    ockam_err (*store)(void *state, ockam_key_type type, const uint8_t secret[32],
        const char *label, uint8_t public_key[32]);
    /* OCKAM_OK when the key is there. */
    ockam_err (*has)(void *state, ockam_key_type type, const uint8_t public_key[32]);
    /* Public key of the first key of that type with that label. */
    ockam_err (*find)(void *state, ockam_key_type type, const char *label, uint8_t public_key[32]);
    /* Ed25519 signature of data[0..len) by the key. */
    ockam_err (*sign)(void *state, const uint8_t public_key[32], const uint8_t *data, size_t len,
        uint8_t signature[64]);
    /* X25519(secret of the key, peer_public) into shared (32 bytes). */
    ockam_err (*ecdh)(void *state, const uint8_t public_key[32], const uint8_t peer_public[32],
        uint8_t shared[32]);
    /* Copy of an X25519 secret (never of an Ed25519 one). */
    ockam_err (*x25519_secret)(void *state, const uint8_t public_key[32], uint8_t secret[32]);
    ockam_err (*set_label)(
        void *state, ockam_key_type type, const uint8_t public_key[32], const char *label);
    ockam_err (*remove)(void *state, ockam_key_type type, const uint8_t public_key[32]);
    void (*destroy)(void *state); /* erase every secret, free the state */
} ockam_vault_ops;

typedef struct ockam_vault ockam_vault;

/* Wrap a backend (ops must outlive the vault; state is owned by the vault from now on and
 * released with ops->destroy). */
OCKAM_API ockam_err ockam_vault_new(const ockam_vault_ops *ops, void *state, ockam_vault **out);
/* A vault in memory only (tests, embedded use): its keys die with it. */
OCKAM_API ockam_err ockam_vault_memory_new(ockam_vault **out);
/* A vault kept in the file `path`. Creates the file's directory (mode 0700) when missing
 * and an empty vault when the file is missing; refuses (OCKAM_EACCES) a directory or file
 * that others may read or write. A corrupt file gives OCKAM_EVAULTFILE, never a crash.
 * One owner at a time: while the vault is open it holds an exclusive lock ("<path>.lock"),
 * and another open of the same file, in this process or another, gives OCKAM_EBUSY. */
OCKAM_API ockam_err ockam_vault_file_open(const char *path, ockam_vault **out);
OCKAM_API void ockam_vault_free(ockam_vault *vault);

/* Make a new random key; *public_key names it from now on. */
OCKAM_API ockam_err ockam_vault_generate(
    ockam_vault *vault, ockam_key_type type, const char *label, uint8_t public_key[32]);
/* Import a key from its 32-byte secret (Ed25519 seed or X25519 scalar). */
OCKAM_API ockam_err ockam_vault_import(ockam_vault *vault, ockam_key_type type,
    const uint8_t secret[32], const char *label, uint8_t public_key[32]);
OCKAM_API ockam_err ockam_vault_find(
    ockam_vault *vault, ockam_key_type type, const char *label, uint8_t public_key[32]);
/* Whether the vault holds the key (OCKAM_OK) or not (OCKAM_ENOKEY). */
OCKAM_API ockam_err ockam_vault_has(
    ockam_vault *vault, ockam_key_type type, const uint8_t public_key[32]);
OCKAM_API ockam_err ockam_vault_sign(ockam_vault *vault, const uint8_t public_key[32],
    const uint8_t *data, size_t len, uint8_t signature[64]);
OCKAM_API ockam_err ockam_vault_ecdh(ockam_vault *vault, const uint8_t public_key[32],
    const uint8_t peer_public[32], uint8_t shared[32]);
/* The caller erases `secret` (ockam_secure_zero) when done. */
OCKAM_API ockam_err ockam_vault_x25519_secret(
    ockam_vault *vault, const uint8_t public_key[32], uint8_t secret[32]);
OCKAM_API ockam_err ockam_vault_set_label(
    ockam_vault *vault, ockam_key_type type, const uint8_t public_key[32], const char *label);
OCKAM_API ockam_err ockam_vault_delete(
    ockam_vault *vault, ockam_key_type type, const uint8_t public_key[32]);

/* Erase len bytes in a way the compiler cannot optimise away. */
OCKAM_API void ockam_secure_zero(void *p, size_t len);

#ifdef __cplusplus
}
#endif
#endif
