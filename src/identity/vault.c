/* The vault interface (argument checks, then the backend's ops) and the memory vault. */
#include "identity/crypto.h"
#include "identity/vault_internal.h"

#include <stdio.h>

struct ockam_vault {
    const ockam_vault_ops *ops;
    void *state;
};

/* ---- key ring ----------------------------------------------------------------------- */

ockam_err
ockam__key_public(ockam_key_type type, const uint8_t secret[32], uint8_t pub[32])
{
    if (type == OCKAM_KEY_ED25519)
        return ockam__ed25519_public(secret, pub);
    if (type == OCKAM_KEY_X25519)
        return ockam__x25519_public(secret, pub);
    return OCKAM_EKEYTYPE;
}

ockam__vkey *
ockam__keyring_get(ockam__keyring *kr, ockam_key_type type, const uint8_t pub[32])
{
    for (size_t i = 0; i < kr->count; i++) {
        if (kr->keys[i].type == type && memcmp(kr->keys[i].pub, pub, 32) == 0)
            return &kr->keys[i];
    }
    return NULL;
}

static ockam_err
keyring_grow(ockam__keyring *kr)
{
    if (kr->count < kr->cap)
        return OCKAM_OK;
    size_t cap = kr->cap ? 2 * kr->cap : 8;
    /* Not realloc: the old block holds secrets and must be erased before it is freed. */
    ockam__vkey *keys = ockam__zalloc(cap * sizeof(*keys));
    if (!keys)
        return OCKAM_ENOMEM;
    if (kr->count)
        memcpy(keys, kr->keys, kr->count * sizeof(*keys));
    ockam_secure_zero(kr->keys, kr->cap * sizeof(*keys));
    ockam__free(kr->keys);
    kr->keys = keys;
    kr->cap = cap;
    return OCKAM_OK;
}

ockam_err
ockam__keyring_store(ockam__keyring *kr, ockam_key_type type, const uint8_t secret[32],
    const char *label, uint8_t pub[32])
{
    ockam_err err = ockam__key_public(type, secret, pub);
    if (err)
        return err;
    ockam__vkey *k = ockam__keyring_get(kr, type, pub);
    if (!k) {
        if ((err = keyring_grow(kr)))
            return err;
        k = &kr->keys[kr->count++];
        k->type = (uint8_t)type;
        memcpy(k->secret, secret, 32);
        memcpy(k->pub, pub, 32);
    }
    snprintf(k->label, sizeof(k->label), "%s", label);
    return OCKAM_OK;
}

void
ockam__keyring_drop(ockam__keyring *kr, size_t i)
{
    kr->keys[i] = kr->keys[kr->count - 1];
    ockam_secure_zero(&kr->keys[kr->count - 1], sizeof(kr->keys[0]));
    kr->count--;
}

void
ockam__keyring_clear(ockam__keyring *kr)
{
    ockam_secure_zero(kr->keys, kr->cap * sizeof(kr->keys[0]));
    ockam__free(kr->keys);
    *kr = (ockam__keyring) {0};
}

/* ---- memory vault ops --------------------------------------------------------------- */

static ockam_err
mem_store(
    void *state, ockam_key_type type, const uint8_t secret[32], const char *label, uint8_t pub[32])
{
    return ockam__keyring_store(state, type, secret, label, pub);
}

static ockam_err
mem_has(void *state, ockam_key_type type, const uint8_t pub[32])
{
    return ockam__keyring_get(state, type, pub) ? OCKAM_OK : OCKAM_ENOKEY;
}

static ockam_err
mem_find(void *state, ockam_key_type type, const char *label, uint8_t pub[32])
{
    ockam__keyring *kr = state;
    for (size_t i = 0; i < kr->count; i++) {
        if (kr->keys[i].type == type && strcmp(kr->keys[i].label, label) == 0) {
            memcpy(pub, kr->keys[i].pub, 32);
            return OCKAM_OK;
        }
    }
    return OCKAM_ENOKEY;
}

static ockam_err
mem_sign(void *state, const uint8_t pub[32], const uint8_t *data, size_t len, uint8_t sig[64])
{
    ockam__vkey *k = ockam__keyring_get(state, OCKAM_KEY_ED25519, pub);
    return k ? ockam__ed25519_sign(k->secret, data, len, sig) : OCKAM_ENOKEY;
}

static ockam_err
mem_ecdh(void *state, const uint8_t pub[32], const uint8_t peer[32], uint8_t shared[32])
{
    ockam__vkey *k = ockam__keyring_get(state, OCKAM_KEY_X25519, pub);
    return k ? ockam__x25519(k->secret, peer, shared) : OCKAM_ENOKEY;
}

static ockam_err
mem_x25519_secret(void *state, const uint8_t pub[32], uint8_t secret[32])
{
    ockam__vkey *k = ockam__keyring_get(state, OCKAM_KEY_X25519, pub);
    if (!k)
        return OCKAM_ENOKEY;
    memcpy(secret, k->secret, 32);
    return OCKAM_OK;
}

static ockam_err
mem_set_label(void *state, ockam_key_type type, const uint8_t pub[32], const char *label)
{
    ockam__vkey *k = ockam__keyring_get(state, type, pub);
    if (!k)
        return OCKAM_ENOKEY;
    snprintf(k->label, sizeof(k->label), "%s", label);
    return OCKAM_OK;
}

static ockam_err
mem_remove(void *state, ockam_key_type type, const uint8_t pub[32])
{
    ockam__keyring *kr = state;
    ockam__vkey *k = ockam__keyring_get(kr, type, pub);
    if (!k)
        return OCKAM_ENOKEY;
    ockam__keyring_drop(kr, (size_t)(k - kr->keys));
    return OCKAM_OK;
}

static void
mem_destroy(void *state)
{
    ockam__keyring_clear(state);
    ockam__free(state);
}

const ockam_vault_ops ockam__vault_memory_ops = {
    .name = "memory",
    .store = mem_store,
    .has = mem_has,
    .find = mem_find,
    .sign = mem_sign,
    .ecdh = mem_ecdh,
    .x25519_secret = mem_x25519_secret,
    .set_label = mem_set_label,
    .remove = mem_remove,
    .destroy = mem_destroy,
};

/* ---- the interface ------------------------------------------------------------------ */

ockam_err
ockam_vault_new(const ockam_vault_ops *ops, void *state, ockam_vault **out)
{
    if (!ops || !out || !ops->store || !ops->has || !ops->find || !ops->sign || !ops->ecdh
        || !ops->x25519_secret || !ops->set_label || !ops->remove || !ops->destroy)
        return OCKAM_EINVAL;
    *out = ockam__zalloc(sizeof(**out));
    if (!*out)
        return OCKAM_ENOMEM;
    (*out)->ops = ops;
    (*out)->state = state;
    return OCKAM_OK;
}

ockam_err
ockam_vault_memory_new(ockam_vault **out)
{
    ockam__keyring *kr = ockam__zalloc(sizeof(*kr));
    if (!kr)
        return OCKAM_ENOMEM;
    ockam_err err = ockam_vault_new(&ockam__vault_memory_ops, kr, out);
    if (err)
        ockam__free(kr);
    return err;
}

void
ockam_vault_free(ockam_vault *vault)
{
    if (!vault)
        return;
    vault->ops->destroy(vault->state);
    ockam__free(vault);
}

static bool
type_ok(ockam_key_type type)
{
    return type == OCKAM_KEY_ED25519 || type == OCKAM_KEY_X25519;
}

static bool
label_ok(const char *label)
{
    return label && strnlen(label, OCKAM_VAULT_LABEL_MAX + 1) <= OCKAM_VAULT_LABEL_MAX;
}

ockam_err
ockam_vault_import(ockam_vault *vault, ockam_key_type type, const uint8_t secret[32],
    const char *label, uint8_t public_key[32])
{
    if (!vault || !type_ok(type) || !secret || !label_ok(label) || !public_key)
        return OCKAM_EINVAL;
    return vault->ops->store(vault->state, type, secret, label, public_key);
}

ockam_err
ockam_vault_generate(
    ockam_vault *vault, ockam_key_type type, const char *label, uint8_t public_key[32])
{
    uint8_t secret[32];
    if (!vault || !type_ok(type) || !label_ok(label) || !public_key)
        return OCKAM_EINVAL;
    ockam_err err = ockam__random(secret, sizeof(secret));
    if (!err)
        err = vault->ops->store(vault->state, type, secret, label, public_key);
    ockam_secure_zero(secret, sizeof(secret));
    return err;
}

ockam_err
ockam_vault_find(ockam_vault *vault, ockam_key_type type, const char *label, uint8_t public_key[32])
{
    if (!vault || !type_ok(type) || !label_ok(label) || !public_key)
        return OCKAM_EINVAL;
    return vault->ops->find(vault->state, type, label, public_key);
}

ockam_err
ockam_vault_has(ockam_vault *vault, ockam_key_type type, const uint8_t public_key[32])
{
    if (!vault || !type_ok(type) || !public_key)
        return OCKAM_EINVAL;
    return vault->ops->has(vault->state, type, public_key);
}

ockam_err
ockam_vault_sign(ockam_vault *vault, const uint8_t public_key[32], const uint8_t *data, size_t len,
    uint8_t signature[64])
{
    if (!vault || !public_key || (!data && len) || !signature)
        return OCKAM_EINVAL;
    return vault->ops->sign(
        vault->state, public_key, data ? data : (const uint8_t *)"", len, signature);
}

ockam_err
ockam_vault_ecdh(ockam_vault *vault, const uint8_t public_key[32], const uint8_t peer_public[32],
    uint8_t shared[32])
{
    if (!vault || !public_key || !peer_public || !shared)
        return OCKAM_EINVAL;
    return vault->ops->ecdh(vault->state, public_key, peer_public, shared);
}

ockam_err
ockam_vault_x25519_secret(ockam_vault *vault, const uint8_t public_key[32], uint8_t secret[32])
{
    if (!vault || !public_key || !secret)
        return OCKAM_EINVAL;
    return vault->ops->x25519_secret(vault->state, public_key, secret);
}

ockam_err
ockam_vault_set_label(
    ockam_vault *vault, ockam_key_type type, const uint8_t public_key[32], const char *label)
{
    if (!vault || !type_ok(type) || !public_key || !label_ok(label))
        return OCKAM_EINVAL;
    return vault->ops->set_label(vault->state, type, public_key, label);
}

ockam_err
ockam_vault_delete(ockam_vault *vault, ockam_key_type type, const uint8_t public_key[32])
{
    if (!vault || !type_ok(type) || !public_key)
        return OCKAM_EINVAL;
    return vault->ops->remove(vault->state, type, public_key);
}

/* Both built-in backends keep their keys in a key ring that starts their state (the file
 * vault's state begins with its ring), so a copy is one pass over it. */
ockam_err
ockam__vault_copy_to_memory(ockam_vault *src, ockam_vault **out)
{
    if (!src || !out)
        return OCKAM_EINVAL;
    if (strcmp(src->ops->name, "memory") != 0 && strcmp(src->ops->name, "file") != 0)
        return OCKAM_ENOTSUP;
    const ockam__keyring *from = src->state;
    ockam_vault *v;
    ockam_err err = ockam_vault_memory_new(&v);
    for (size_t i = 0; !err && i < from->count; i++) {
        const ockam__vkey *k = &from->keys[i];
        uint8_t pub[32];
        err = ockam__keyring_store(v->state, k->type, k->secret, k->label, pub);
    }
    if (err && v) {
        ockam_vault_free(v);
        return err;
    }
    *out = v;
    return err;
}
