/* Identities: verifying change histories, creating and rotating Ed25519 identities, and
 * purpose-key attestations, with the rules of Ockam's identity verification (see
 * include/ockam/identity.h and docs/wire.md §15). */
#include "identity/crypto.h"
#include "identity/identity_internal.h"

/* ---- verification ------------------------------------------------------------------- */

/* Signatures that verified lately on this thread. A secure-channel end meets the same peers
 * again and again, and each handshake verifies the peer's change history and attestation:
 * two signature verifications, about half of a handshake's work, over the same bytes every
 * time. An entry is compared whole (key, signed hash, signature), so a hit is exactly a
 * verification done before; only successes are kept, a signature that fails is checked in
 * full every time. Everything around the signatures (chaining, validity times, the attested
 * key) is still checked on every call. Per thread: no locks, nothing to free. */
#define VERIFIED_MAX 16

struct verified {
    ockam__pubkey key;
    ockam__sig sig;
    uint8_t hash[32];
};

static _Thread_local struct {
    struct verified e[VERIFIED_MAX];
    unsigned count, next; /* entries in use; the one to replace next */
} verified;

/* The bytes the verification reads: 32 for Ed25519, 65 (uncompressed point) for P-256. */
static bool
same_key(const ockam__pubkey *a, const ockam__pubkey *b)
{
    size_t n = a->type == OCKAM__KEY_ED25519 ? 32 : OCKAM__P256_PUBLIC_LEN;
    return a->type == b->type && memcmp(a->key, b->key, n) == 0;
}

static bool
verified_before(const ockam__pubkey *key, const uint8_t hash[32], const ockam__sig *sig)
{
    for (unsigned i = 0; i < verified.count; i++) {
        const struct verified *v = &verified.e[i];
        if (memcmp(v->hash, hash, 32) == 0 && memcmp(v->sig.sig, sig->sig, sizeof sig->sig) == 0
            && v->sig.type == sig->type && same_key(&v->key, key))
            return true;
    }
    return false;
}

static void
remember_verified(const ockam__pubkey *key, const uint8_t hash[32], const ockam__sig *sig)
{
    struct verified *v = &verified.e[verified.next];
    v->key = *key;
    v->sig = *sig;
    memcpy(v->hash, hash, 32);
    verified.next = (verified.next + 1) % VERIFIED_MAX;
    if (verified.count < VERIFIED_MAX)
        verified.count++;
}

ockam_err
ockam__sig_verify(const ockam__pubkey *key, const uint8_t hash[32], const ockam__sig *sig)
{
    if (key->type != sig->type)
        return OCKAM_EKEYTYPE;
    if (verified_before(key, hash, sig))
        return OCKAM_OK;
    /* Ockam signs the 32-byte SHA-256 of the record: Ed25519 signs those bytes, ECDSA
     * hashes them once more (ECDSA-SHA256 over the digest). */
    ockam_err err = key->type == OCKAM__KEY_ED25519
        ? ockam__ed25519_verify(key->key, hash, 32, sig->sig)
        : ockam__p256_verify(key->key, hash, 32, sig->sig);
    if (!err)
        remember_verified(key, hash, sig);
    return err;
}

/* Decode change i at r, check that it chains to prev (NULL for the first change) and that
 * its signatures verify; fill *out. */
static ockam_err
verify_change(ockam__cbor_rd *r, const ockam__verified_change *prev, ockam__verified_change *out)
{
    ockam__change ch;
    ockam__change_data cd;
    ockam_slice inner;
    ockam_err err = ockam__change_decode(r, &ch);
    if (!err)
        err = ockam__sha256(ch.data.ptr, ch.data.len, out->hash);
    if (!err)
        err = ockam__versioned_decode(ch.data.ptr, ch.data.len, OCKAM__DATA_CHANGE, &inner);
    if (!err)
        err = ockam__change_data_decode(inner.ptr, inner.len, &cd);
    if (err)
        return err;
    if (!prev && cd.has_previous)
        return OCKAM_ECHAIN;
    if (prev) {
        /* Names the previous change, does not start before it, and the previous key
         * agrees (Ockam allows a start after the previous key's end). */
        if (!cd.has_previous || memcmp(cd.previous, prev->hash, 32) != 0)
            return OCKAM_ECHAIN;
        if (cd.valid_from < prev->valid_from || !ch.has_previous_signature)
            return OCKAM_ECHAIN;
        err = ockam__sig_verify(&prev->key, out->hash, &ch.previous_signature);
        if (err)
            return err;
    }
    err = ockam__sig_verify(&cd.key, out->hash, &ch.signature);
    if (err)
        return err;
    out->key = cd.key;
    out->valid_from = cd.valid_from;
    out->valid_until = cd.valid_until;
    return OCKAM_OK;
}

ockam_err
ockam__history_verify(const uint8_t *buf, size_t len, struct ockam_identity *id)
{
    ockam__cbor_rd r = {buf, len, 0};
    uint64_t n;
    /* A change takes far more than 64 bytes; the bound keeps the allocation honest. */
    ockam_err err = ockam__cbor_array(&r, 64, &n);
    if (err)
        return err;
    if (n == 0)
        return OCKAM_ECHAIN;
    ockam__verified_change *changes = ockam__zalloc(sizeof(*changes) * (size_t)n);
    if (!changes)
        return OCKAM_ENOMEM;
    for (uint64_t i = 0; i < n && !err; i++)
        err = verify_change(&r, i ? &changes[i - 1] : NULL, &changes[i]);
    if (!err && r.pos != len)
        err = OCKAM_ETRAILING;
    uint8_t *copy = err ? NULL : ockam__alloc(len);
    if (!err && !copy)
        err = OCKAM_ENOMEM;
    if (err) {
        ockam__free(changes);
        return err;
    }
    memcpy(copy, buf, len);
    id->history = copy;
    id->history_len = len;
    id->changes = changes;
    id->count = (size_t)n;
    memcpy(id->id, changes[0].hash, 32);
    ockam_identifier_format(id->id, id->id_str);
    return OCKAM_OK;
}

static const ockam__verified_change *
latest(const ockam_identity *id)
{
    return &id->changes[id->count - 1];
}

/* ---- identifiers -------------------------------------------------------------------- */

void
ockam_identifier_format(const uint8_t id[32], char out[OCKAM_IDENTIFIER_STR_SIZE])
{
    out[0] = 'I';
    ockam__hex_encode(id, 32, out + 1);
}

ockam_err
ockam_identifier_parse(const char *text, uint8_t out[32])
{
    size_t n;
    if (!text || text[0] != 'I' || strlen(text) != 65)
        return OCKAM_EIDENTIFIER;
    if (!ockam__hex_decode(text + 1, 64, out, 32, &n))
        return OCKAM_EIDENTIFIER;
    return OCKAM_OK;
}

/* ---- import / export ---------------------------------------------------------------- */

ockam_err
ockam_identity_import(
    const uint8_t *history, size_t len, const char *expected_identifier, ockam_identity **out)
{
    uint8_t want[32];
    if (!history || !out)
        return OCKAM_EINVAL;
    *out = NULL;
    if (expected_identifier && ockam_identifier_parse(expected_identifier, want))
        return OCKAM_EIDENTIFIER;
    ockam_identity *id = ockam__zalloc(sizeof(*id));
    if (!id)
        return OCKAM_ENOMEM;
    ockam_err err = ockam__history_verify(history, len, id);
    if (!err && expected_identifier && memcmp(want, id->id, 32) != 0)
        err = OCKAM_EIDENTIFIER;
    if (err) {
        ockam_identity_free(id);
        return err;
    }
    *out = id;
    return OCKAM_OK;
}

ockam_err
ockam_identity_import_hex(
    const char *hex, size_t hex_len, const char *expected_identifier, ockam_identity **out)
{
    size_t n;
    if (!hex || !out)
        return OCKAM_EINVAL;
    *out = NULL;
    uint8_t *bytes = ockam__alloc(hex_len / 2 + 1);
    if (!bytes)
        return OCKAM_ENOMEM;
    ockam_err err = ockam__hex_decode(hex, hex_len, bytes, hex_len / 2 + 1, &n)
        ? ockam_identity_import(bytes, n, expected_identifier, out)
        : OCKAM_EHEX;
    ockam__free(bytes);
    return err;
}

ockam_err
ockam_identity_load(ockam_vault *vault, const uint8_t *history, size_t len, ockam_identity **out)
{
    if (!vault)
        return OCKAM_EINVAL;
    ockam_err err = ockam_identity_import(history, len, NULL, out);
    if (err)
        return err;
    const ockam__verified_change *last = latest(*out);
    err = last->key.type == OCKAM__KEY_ED25519
        ? ockam_vault_has(vault, OCKAM_KEY_ED25519, last->key.key)
        : OCKAM_ENOKEY; /* we sign with Ed25519 keys only */
    if (err) {
        ockam_identity_free(*out);
        *out = NULL;
        return err;
    }
    (*out)->vault = vault;
    return OCKAM_OK;
}

void
ockam_identity_free(ockam_identity *id)
{
    if (!id)
        return;
    ockam__free(id->history);
    ockam__free(id->changes);
    ockam__free(id);
}

const char *
ockam_identity_identifier(const ockam_identity *id)
{
    return id->id_str;
}

void
ockam_identity_identifier_bytes(const ockam_identity *id, uint8_t out[32])
{
    memcpy(out, id->id, 32);
}

size_t
ockam_identity_change_count(const ockam_identity *id)
{
    return id->count;
}

bool
ockam_identity_can_sign(const ockam_identity *id)
{
    return id->vault != NULL;
}

ockam_slice
ockam_identity_export(const ockam_identity *id)
{
    return (ockam_slice) {id->history, id->history_len};
}

ockam_err
ockam_identity_export_hex(const ockam_identity *id, char **hex)
{
    if (!id || !hex)
        return OCKAM_EINVAL;
    *hex = ockam__alloc(2 * id->history_len + 1);
    if (!*hex)
        return OCKAM_ENOMEM;
    ockam__hex_encode(id->history, id->history_len, *hex);
    return OCKAM_OK;
}

/* ---- creation and rotation ---------------------------------------------------------- */

/* Sign the SHA-256 of data with an Ed25519 key of the vault (Ockam signs the digest). */
static ockam_err
sign_digest(ockam_vault *vault, const uint8_t key[32], const uint8_t *data, size_t len,
    uint8_t hash[32], ockam__wbuf *sig_out)
{
    uint8_t sig[64];
    ockam_err err = ockam__sha256(data, len, hash);
    if (!err)
        err = ockam_vault_sign(vault, key, hash, 32, sig);
    if (!err)
        ockam__wbuf_variant_bytes(sig_out, OCKAM__KEY_ED25519, sig, 64);
    return err;
}

/* Encode one signed Change for key `key` (and previous key prev_key, NULL for the first).
 * *hash receives the change hash. */
static ockam_err
make_change(ockam_vault *vault, const uint8_t key[32], const uint8_t *prev_hash,
    const uint8_t *prev_key, uint64_t from, uint64_t until, ockam__wbuf *out)
{
    ockam__wbuf cd = {0}, vd = {0}, sig = {0}, psig = {0};
    uint8_t hash[32];

    ockam__wbuf_head(&cd, OCKAM__CBOR_ARRAY, 5);
    if (prev_hash)
        ockam__wbuf_bytes(&cd, prev_hash, 32);
    else
        ockam__wbuf_raw(&cd, (uint8_t[]) {OCKAM__CBOR_NULL}, 1);
    ockam__wbuf_variant_bytes(&cd, OCKAM__KEY_ED25519, key, 32);
    ockam__wbuf_raw(&cd, (uint8_t[]) {OCKAM__CBOR_FALSE}, 1); /* revoke_all_purpose_keys */
    ockam__wbuf_head(&cd, OCKAM__CBOR_UINT, from);
    ockam__wbuf_head(&cd, OCKAM__CBOR_UINT, until);
    ockam__wbuf_versioned(&vd, OCKAM__DATA_CHANGE, &cd);

    ockam_err err = cd.oom || vd.oom ? OCKAM_ENOMEM : OCKAM_OK;
    if (!err)
        err = sign_digest(vault, key, vd.p, vd.len, hash, &sig);
    if (!err && prev_key)
        err = sign_digest(vault, prev_key, vd.p, vd.len, hash, &psig);
    if (!err) {
        ockam__wbuf_head(out, OCKAM__CBOR_ARRAY, prev_key ? 3 : 2);
        ockam__wbuf_bytes(out, vd.p, vd.len);
        ockam__wbuf_raw(out, sig.p, sig.len);
        ockam__wbuf_raw(out, psig.p, psig.len);
        if (sig.oom || psig.oom || out->oom)
            err = OCKAM_ENOMEM;
    }
    ockam__wbuf_free(&cd);
    ockam__wbuf_free(&vd);
    ockam__wbuf_free(&sig);
    ockam__wbuf_free(&psig);
    return err;
}

/* Re-verify a freshly built history and move the result into id (keeping its vault). */
static ockam_err
adopt_history(ockam_identity *id, const ockam__wbuf *history)
{
    ockam_identity fresh = {0};
    if (history->oom)
        return OCKAM_ENOMEM;
    ockam_err err = ockam__history_verify(history->p, history->len, &fresh);
    if (err)
        return err;
    ockam__free(id->history);
    ockam__free(id->changes);
    fresh.vault = id->vault;
    *id = fresh;
    return OCKAM_OK;
}

ockam_err
ockam_identity_create(ockam_vault *vault, uint64_t now_s, uint64_t ttl_s, ockam_identity **out)
{
    uint8_t key[32];
    if (!vault || !out || ttl_s == 0 || now_s > UINT64_MAX - ttl_s)
        return OCKAM_EINVAL;
    *out = NULL;
    ockam_identity *id = ockam__zalloc(sizeof(*id));
    if (!id)
        return OCKAM_ENOMEM;
    id->vault = vault;
    ockam__wbuf h = {0};
    /* The key's label is set to the identifier once it is known (it depends on the key). */
    ockam_err err = ockam_vault_generate(vault, OCKAM_KEY_ED25519, "", key);
    if (!err) {
        ockam__wbuf_head(&h, OCKAM__CBOR_ARRAY, 1);
        err = make_change(vault, key, NULL, NULL, now_s, now_s + ttl_s, &h);
    }
    if (!err)
        err = adopt_history(id, &h);
    ockam__wbuf_free(&h);
    if (!err)
        err = ockam_vault_set_label(vault, OCKAM_KEY_ED25519, key, id->id_str);
    if (err) {
        ockam_vault_delete(vault, OCKAM_KEY_ED25519, key);
        ockam_identity_free(id);
        return err;
    }
    *out = id;
    return OCKAM_OK;
}

ockam_err
ockam_identity_rotate(ockam_identity *id, uint64_t now_s, uint64_t ttl_s)
{
    if (!id || !id->vault || ttl_s == 0 || now_s > UINT64_MAX - ttl_s)
        return OCKAM_EINVAL;
    const ockam__verified_change *last = latest(id);
    if (now_s < last->valid_from || last->key.type != OCKAM__KEY_ED25519)
        return OCKAM_EINVAL;
    uint8_t old_key[32], key[32], last_hash[32];
    memcpy(old_key, last->key.key, 32);
    memcpy(last_hash, last->hash, 32);

    ockam_err err = ockam_vault_generate(id->vault, OCKAM_KEY_ED25519, id->id_str, key);
    if (err)
        return err;
    /* New history: a longer array head, the old changes byte for byte, the new change. */
    ockam__cbor_rd r = {id->history, id->history_len, 0};
    uint64_t n;
    ockam__wbuf h = {0};
    err = ockam__cbor_array(&r, 1, &n);
    if (!err) {
        ockam__wbuf_head(&h, OCKAM__CBOR_ARRAY, n + 1);
        ockam__wbuf_raw(&h, id->history + r.pos, id->history_len - r.pos);
        err = make_change(id->vault, key, last_hash, old_key, now_s, now_s + ttl_s, &h);
    }
    if (!err)
        err = adopt_history(id, &h);
    ockam__wbuf_free(&h);
    if (err) {
        ockam_vault_delete(id->vault, OCKAM_KEY_ED25519, key);
        return err;
    }
    /* As Ockam: the old key is of no further use; failing to delete it is not fatal. */
    if (ockam_vault_delete(id->vault, OCKAM_KEY_ED25519, old_key) != OCKAM_OK)
        OCKAM_LOG_W("identity %s: could not delete the previous key", id->id_str);
    return OCKAM_OK;
}

/* ---- purpose-key attestations ------------------------------------------------------- */

ockam_err
ockam_identity_attest_sc_key(ockam_identity *id, const uint8_t x25519_public[32],
    uint64_t created_at, uint64_t expires_at, uint8_t **att, size_t *att_len)
{
    if (!id || !x25519_public || !att || !att_len || !id->vault)
        return OCKAM_EINVAL;
    const ockam__verified_change *last = latest(id);
    if (created_at > expires_at || created_at < last->valid_from || expires_at > last->valid_until
        || last->key.type != OCKAM__KEY_ED25519)
        return OCKAM_EINVAL;

    ockam__wbuf d = {0}, vd = {0}, sig = {0}, out = {0};
    uint8_t hash[32];
    ockam__wbuf_head(&d, OCKAM__CBOR_ARRAY, 5);
    ockam__wbuf_bytes(&d, id->id, 32);
    ockam__wbuf_bytes(&d, last->hash, 32);
    ockam__wbuf_variant_bytes(&d, 0, x25519_public, 32); /* SecureChannelStatic */
    ockam__wbuf_head(&d, OCKAM__CBOR_UINT, created_at);
    ockam__wbuf_head(&d, OCKAM__CBOR_UINT, expires_at);
    ockam__wbuf_versioned(&vd, OCKAM__DATA_ATTESTATION, &d);
    ockam_err err = d.oom || vd.oom ? OCKAM_ENOMEM : OCKAM_OK;
    if (!err)
        err = sign_digest(id->vault, last->key.key, vd.p, vd.len, hash, &sig);
    if (!err) {
        ockam__wbuf_head(&out, OCKAM__CBOR_ARRAY, 2);
        ockam__wbuf_bytes(&out, vd.p, vd.len);
        ockam__wbuf_raw(&out, sig.p, sig.len);
        err = out.oom || sig.oom ? OCKAM_ENOMEM : OCKAM_OK;
    }
    ockam__wbuf_free(&d);
    ockam__wbuf_free(&vd);
    ockam__wbuf_free(&sig);
    if (err) {
        ockam__wbuf_free(&out);
        return err;
    }
    *att = out.p;
    *att_len = out.len;
    return OCKAM_OK;
}

/* The time and subject rules of Ockam's purpose-key verification, in its order. */
static ockam_err
check_attestation(const ockam_identity *subject, const ockam__attestation_data *ad, uint64_t now)
{
    const ockam__verified_change *last = latest(subject);
    if (memcmp(ad->subject, subject->id, 32) != 0)
        return OCKAM_EIDENTIFIER;
    if (memcmp(ad->latest_change, last->hash, 32) != 0)
        return OCKAM_EATTESTATION;
    if (ad->expires_at > last->valid_until || ad->created_at < last->valid_from)
        return OCKAM_EATTESTATION;
    if (ad->created_at > now && ad->created_at - now > OCKAM_ATTESTATION_MAX_DRIFT_S)
        return OCKAM_EFUTURE;
    if (ad->expires_at < now)
        return OCKAM_EEXPIRED;
    return OCKAM_OK;
}

ockam_err
ockam_attestation_verify(const ockam_identity *subject, const uint8_t *att, size_t att_len,
    uint64_t now_s, uint8_t x25519_public[32])
{
    if (!subject || !att || !x25519_public)
        return OCKAM_EINVAL;
    ockam__cbor_rd r = {att, att_len, 0};
    ockam_slice data, inner;
    ockam__sig sig;
    ockam__attestation_data ad;
    uint8_t hash[32];
    ockam_err err = ockam__attestation_decode(&r, &data, &sig);
    if (!err && r.pos != att_len)
        err = OCKAM_ETRAILING;
    if (!err)
        err = ockam__versioned_decode(data.ptr, data.len, OCKAM__DATA_ATTESTATION, &inner);
    if (!err)
        err = ockam__attestation_data_decode(inner.ptr, inner.len, &ad);
    if (!err)
        err = check_attestation(subject, &ad, now_s);
    if (!err)
        err = ockam__sha256(data.ptr, data.len, hash);
    if (!err)
        err = ockam__sig_verify(&latest(subject)->key, hash, &sig);
    if (err)
        return err;
    /* Only now that it verified does the kind of key matter. */
    if (!ad.secure_channel)
        return OCKAM_EKEYTYPE;
    memcpy(x25519_public, ad.x25519, 32);
    return OCKAM_OK;
}
