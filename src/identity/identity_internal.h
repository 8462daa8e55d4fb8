/* Identity internals shared by identity.c, identity_cbor.c and sc_payload.c: the decoded
 * forms of Ockam's identity records and their CBOR codec (docs/wire.md §15).
 *
 * Decoders take (ptr, len), never read past it, and return the codes of core/codec.h plus:
 * OCKAM_EVERSION (VersionedData.version != 1), OCKAM_EDATATYPE (another data_type),
 * OCKAM_EKEYTYPE (unknown key or signature variant). Records are CBOR arrays; elements
 * beyond the known ones are skipped (as Ockam's decoder does), missing ones are
 * OCKAM_ECBORTYPE, and bytes after the top-level item are OCKAM_ETRAILING. */
#ifndef OCKAM_IDENTITY_INTERNAL_H
#define OCKAM_IDENTITY_INTERNAL_H

#include "core/core.h"
#include "ockam/identity.h"

#define OCKAM__KEY_ED25519 0 /* variant index of EdDSACurve25519 in keys and signatures */
#define OCKAM__KEY_P256 1    /* ECDSASHA256CurveP256 */

#define OCKAM__DATA_CHANGE 1
#define OCKAM__DATA_ATTESTATION 2
#define OCKAM__DATA_CREDENTIAL 3

typedef struct ockam__pubkey {
    uint8_t type; /* OCKAM__KEY_* */
    uint8_t len;  /* 32 or 65 */
    uint8_t key[65];
} ockam__pubkey;

typedef struct ockam__sig {
    uint8_t type; /* OCKAM__KEY_* */
    uint8_t sig[64];
} ockam__sig;

typedef struct ockam__change_data {
    bool has_previous;
    uint8_t previous[32];
    ockam__pubkey key;
    bool revoke_all_purpose_keys;
    uint64_t valid_from, valid_until;
} ockam__change_data;

typedef struct ockam__change {
    ockam_slice data; /* VersionedData bytes, view into the history */
    ockam__sig signature;
    bool has_previous_signature;
    ockam__sig previous_signature;
} ockam__change;

typedef struct ockam__attestation_data {
    uint8_t subject[32];
    uint8_t latest_change[32];
    bool secure_channel; /* SecureChannelStatic (else CredentialSigning) */
    uint8_t x25519[32];  /* when secure_channel */
    uint64_t created_at, expires_at;
} ockam__attestation_data;

/* One verified change, as an identity keeps it. */
typedef struct ockam__verified_change {
    uint8_t hash[32];
    ockam__pubkey key;
    uint64_t valid_from, valid_until;
} ockam__verified_change;

struct ockam_identity {
    uint8_t *history; /* the CBOR change history, exactly as verified */
    size_t history_len;
    ockam__verified_change *changes;
    size_t count;
    uint8_t id[32];
    char id_str[OCKAM_IDENTIFIER_STR_SIZE];
    ockam_vault *vault; /* NULL: public only */
};

/* ---- decoding ----------------------------------------------------------------------- */
#include "core/cbor_internal.h"

/* VersionedData [version, data_type, data]: the whole buffer; *data views into it. */
ockam_err ockam__versioned_decode(
    const uint8_t *buf, size_t len, uint8_t expected_type, ockam_slice *data);
ockam_err ockam__change_data_decode(const uint8_t *buf, size_t len, ockam__change_data *out);
/* One Change item at r (not the whole buffer). */
ockam_err ockam__change_decode(ockam__cbor_rd *r, ockam__change *out);
/* PurposeKeyAttestation [data, signature] item at r. */
ockam_err ockam__attestation_decode(ockam__cbor_rd *r, ockam_slice *data, ockam__sig *sig);
ockam_err ockam__attestation_data_decode(
    const uint8_t *buf, size_t len, ockam__attestation_data *out);

/* Verify a change history that fills buf[0..len) and fill id (changes, identifier; the
 * history is copied). id must be zeroed; on error it holds nothing to free. */
ockam_err ockam__history_verify(const uint8_t *buf, size_t len, struct ockam_identity *id);
/* Signature of key over the 32-byte hash: OCKAM_EKEYTYPE when the types differ. */
ockam_err ockam__sig_verify(
    const ockam__pubkey *key, const uint8_t hash[32], const ockam__sig *sig);

/* ---- encoding ----------------------------------------------------------------------- */
/* A growable output buffer; an allocation failure sticks (oom) and is reported at the end. */
typedef struct ockam__wbuf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} ockam__wbuf;

void ockam__wbuf_head(ockam__wbuf *w, uint8_t major, uint64_t arg);
void ockam__wbuf_raw(ockam__wbuf *w, const void *p, size_t n);
void ockam__wbuf_bytes(ockam__wbuf *w, const void *p, size_t n); /* a CBOR byte string */
void ockam__wbuf_free(ockam__wbuf *w);

/* [0, [bstr]] for an Ed25519 key or signature, or [0, [bstr32]] for a SecureChannelStatic
 * purpose key (same shape: variant 0 with one byte string). */
void ockam__wbuf_variant_bytes(ockam__wbuf *w, uint8_t variant, const uint8_t *p, size_t n);
/* VersionedData [1, data_type, bstr(inner)]. */
void ockam__wbuf_versioned(ockam__wbuf *w, uint8_t data_type, const ockam__wbuf *inner);

#endif
