/* CBOR codec of Ockam's identity records (docs/wire.md §15): VersionedData, Change,
 * ChangeData, keys and signatures, PurposeKeyAttestation(Data). Decoders only read; the
 * checks that need hashes and signatures live in identity.c. */
#include "identity/identity_internal.h"

/* ---- decoding ----------------------------------------------------------------------- */

/* The head of a record: an array of at least `fields` elements. *extra = elements to skip
 * after the known ones. */
static ockam_err
record(ockam__cbor_rd *r, uint64_t fields, uint64_t *extra)
{
    uint64_t n;
    ockam_err err = ockam__cbor_array(r, 1, &n);
    if (err)
        return err;
    if (n < fields)
        return OCKAM_ECBORTYPE;
    *extra = n - fields;
    return OCKAM_OK;
}

/* A byte string of exactly n bytes. */
static ockam_err
fixed_bytes(ockam__cbor_rd *r, uint8_t *out, size_t n)
{
    ockam_slice s;
    ockam_err err = ockam__cbor_string(r, OCKAM__CBOR_BYTES, &s);
    if (err)
        return err;
    if (s.len != n)
        return OCKAM_ECBORTYPE;
    memcpy(out, s.ptr, n);
    return OCKAM_OK;
}

/* An enum value [variant, [fields...]]: reads the variant and the head of the fields array
 * (at least one field); *extra counts the fields after the first, then the elements after
 * the fields array (both skipped by variant_end). */
static ockam_err
variant_begin(ockam__cbor_rd *r, uint64_t max_variant, uint8_t *variant, uint64_t extra[2])
{
    uint64_t v;
    ockam_err err = record(r, 2, &extra[1]);
    if (!err)
        err = ockam__cbor_uint(r, UINT8_MAX, &v);
    if (err)
        return err;
    if (v > max_variant)
        return OCKAM_EKEYTYPE;
    *variant = (uint8_t)v;
    return record(r, 1, &extra[0]);
}

static ockam_err
variant_end(ockam__cbor_rd *r, const uint64_t extra[2])
{
    ockam_err err = ockam__cbor_skip_n(r, extra[0]);
    return err ? err : ockam__cbor_skip_n(r, extra[1]);
}

/* Signature: [0, [bstr64]] (Ed25519) or [1, [bstr64]] (ECDSA P-256, r || s). */
static ockam_err
sig_decode(ockam__cbor_rd *r, ockam__sig *out)
{
    uint64_t extra[2];
    ockam_err err = variant_begin(r, OCKAM__KEY_P256, &out->type, extra);
    if (!err)
        err = fixed_bytes(r, out->sig, 64);
    return err ? err : variant_end(r, extra);
}

/* PrimaryPublicKey / CredentialVerifyingKey: [0, [bstr32]] or [1, [bstr65]]. */
static ockam_err
pubkey_decode(ockam__cbor_rd *r, ockam__pubkey *out)
{
    uint64_t extra[2];
    ockam_err err = variant_begin(r, OCKAM__KEY_P256, &out->type, extra);
    if (err)
        return err;
    out->len = out->type == OCKAM__KEY_ED25519 ? 32 : 65;
    err = fixed_bytes(r, out->key, out->len);
    return err ? err : variant_end(r, extra);
}

static ockam_err
bool_decode(ockam__cbor_rd *r, bool *out)
{
    if (r->pos >= r->len)
        return OCKAM_ETRUNCATED;
    uint8_t b = r->p[r->pos];
    if (b != OCKAM__CBOR_TRUE && b != OCKAM__CBOR_FALSE)
        return OCKAM_ECBORTYPE;
    *out = b == OCKAM__CBOR_TRUE;
    r->pos++;
    return OCKAM_OK;
}

static bool
is_null(const ockam__cbor_rd *r)
{
    return r->pos < r->len && r->p[r->pos] == OCKAM__CBOR_NULL;
}

static ockam_err
whole(const ockam__cbor_rd *r)
{
    return r->pos == r->len ? OCKAM_OK : OCKAM_ETRAILING;
}

ockam_err
ockam__versioned_decode(const uint8_t *buf, size_t len, uint8_t expected_type, ockam_slice *data)
{
    ockam__cbor_rd r = {buf, len, 0};
    uint64_t extra, version, type;
    ockam_err err = record(&r, 3, &extra);
    if (!err)
        err = ockam__cbor_uint(&r, UINT8_MAX, &version);
    if (!err)
        err = ockam__cbor_uint(&r, UINT8_MAX, &type);
    if (!err)
        err = ockam__cbor_string(&r, OCKAM__CBOR_BYTES, data);
    if (!err)
        err = ockam__cbor_skip_n(&r, extra);
    if (!err)
        err = whole(&r);
    if (err)
        return err;
    if (version != 1)
        return OCKAM_EVERSION;
    return type == expected_type ? OCKAM_OK : OCKAM_EDATATYPE;
}

ockam_err
ockam__change_data_decode(const uint8_t *buf, size_t len, ockam__change_data *out)
{
    ockam__cbor_rd r = {buf, len, 0};
    uint64_t extra;
    ockam_err err = record(&r, 5, &extra);
    if (err)
        return err;
    out->has_previous = !is_null(&r);
    if (out->has_previous)
        err = fixed_bytes(&r, out->previous, 32);
    else
        r.pos++;
    if (!err)
        err = pubkey_decode(&r, &out->key);
    if (!err)
        err = bool_decode(&r, &out->revoke_all_purpose_keys);
    if (!err)
        err = ockam__cbor_uint(&r, UINT64_MAX, &out->valid_from);
    if (!err)
        err = ockam__cbor_uint(&r, UINT64_MAX, &out->valid_until);
    if (!err)
        err = ockam__cbor_skip_n(&r, extra);
    return err ? err : whole(&r);
}

ockam_err
ockam__change_decode(ockam__cbor_rd *r, ockam__change *out)
{
    uint64_t extra;
    ockam_err err = record(r, 2, &extra);
    if (!err)
        err = ockam__cbor_string(r, OCKAM__CBOR_BYTES, &out->data);
    if (!err)
        err = sig_decode(r, &out->signature);
    if (err)
        return err;
    /* previous_signature: absent (a 2-element array), null, or a signature. */
    out->has_previous_signature = false;
    if (extra > 0) {
        extra--;
        if (is_null(r)) {
            r->pos++;
        } else {
            out->has_previous_signature = true;
            err = sig_decode(r, &out->previous_signature);
        }
    }
    return err ? err : ockam__cbor_skip_n(r, extra);
}

ockam_err
ockam__attestation_decode(ockam__cbor_rd *r, ockam_slice *data, ockam__sig *sig)
{
    uint64_t extra;
    ockam_err err = record(r, 2, &extra);
    if (!err)
        err = ockam__cbor_string(r, OCKAM__CBOR_BYTES, data);
    if (!err)
        err = sig_decode(r, sig);
    return err ? err : ockam__cbor_skip_n(r, extra);
}

/* PurposePublicKey: [0, [bstr32 X25519]] (SecureChannelStatic) or [1, [key]]
 * (CredentialSigning, a CredentialVerifyingKey). */
static ockam_err
purpose_key_decode(ockam__cbor_rd *r, ockam__attestation_data *out)
{
    uint64_t extra[2];
    uint8_t variant;
    ockam_err err = variant_begin(r, 1, &variant, extra);
    if (err)
        return err;
    out->secure_channel = variant == 0;
    if (out->secure_channel) {
        err = fixed_bytes(r, out->x25519, 32);
    } else {
        ockam__pubkey unused;
        err = pubkey_decode(r, &unused);
    }
    return err ? err : variant_end(r, extra);
}

ockam_err
ockam__attestation_data_decode(const uint8_t *buf, size_t len, ockam__attestation_data *out)
{
    ockam__cbor_rd r = {buf, len, 0};
    uint64_t extra;
    ockam_err err = record(&r, 5, &extra);
    if (!err)
        err = fixed_bytes(&r, out->subject, 32);
    if (!err)
        err = fixed_bytes(&r, out->latest_change, 32);
    if (!err)
        err = purpose_key_decode(&r, out);
    if (!err)
        err = ockam__cbor_uint(&r, UINT64_MAX, &out->created_at);
    if (!err)
        err = ockam__cbor_uint(&r, UINT64_MAX, &out->expires_at);
    if (!err)
        err = ockam__cbor_skip_n(&r, extra);
    return err ? err : whole(&r);
}

/* ---- encoding ----------------------------------------------------------------------- */

static bool
wbuf_reserve(ockam__wbuf *w, size_t n)
{
    if (w->oom)
        return false;
    if (w->cap - w->len >= n)
        return true;
    size_t cap = w->cap ? w->cap : 256;
    while (cap - w->len < n)
        cap *= 2;
    uint8_t *p = ockam__realloc(w->p, cap);
    if (!p) {
        w->oom = true;
        return false;
    }
    w->p = p;
    w->cap = cap;
    return true;
}

void
ockam__wbuf_head(ockam__wbuf *w, uint8_t major, uint64_t arg)
{
    if (wbuf_reserve(w, 9))
        w->len += ockam__cbor_head_put(w->p + w->len, major, arg);
}

void
ockam__wbuf_raw(ockam__wbuf *w, const void *p, size_t n)
{
    if (n && wbuf_reserve(w, n)) {
        memcpy(w->p + w->len, p, n);
        w->len += n;
    }
}

void
ockam__wbuf_bytes(ockam__wbuf *w, const void *p, size_t n)
{
    ockam__wbuf_head(w, OCKAM__CBOR_BYTES, n);
    ockam__wbuf_raw(w, p, n);
}

void
ockam__wbuf_free(ockam__wbuf *w)
{
    ockam__free(w->p);
    *w = (ockam__wbuf) {0};
}

void
ockam__wbuf_variant_bytes(ockam__wbuf *w, uint8_t variant, const uint8_t *p, size_t n)
{
    ockam__wbuf_head(w, OCKAM__CBOR_ARRAY, 2);
    ockam__wbuf_head(w, OCKAM__CBOR_UINT, variant);
    ockam__wbuf_head(w, OCKAM__CBOR_ARRAY, 1);
    ockam__wbuf_bytes(w, p, n);
}

void
ockam__wbuf_versioned(ockam__wbuf *w, uint8_t data_type, const ockam__wbuf *inner)
{
    ockam__wbuf_head(w, OCKAM__CBOR_ARRAY, 3);
    ockam__wbuf_head(w, OCKAM__CBOR_UINT, 1);
    ockam__wbuf_head(w, OCKAM__CBOR_UINT, data_type);
    ockam__wbuf_bytes(w, inner->p, inner->len);
}
