/* Identities: Ockam's change histories, identifiers and purpose-key attestations.
 *
 * An identity is a change history: a list of signed changes, each naming a primary public
 * key (Ed25519, or ECDSA P-256 for identities whose key lives in a cloud KMS) and the time
 * window in which that key may attest purpose keys. The identifier is "I" followed by the
 * 64 hex digits of SHA-256 of the first change's signed bytes, so it survives key rotation.
 * The encodings (CBOR, as Ockam's) are in docs/wire.md §15.
 *
 * Security rules:
 * - Every identity object comes from a change history that verified: each change is signed
 *   by its own key and (after the first) by the previous key, and the changes chain by hash.
 *   There is no way to build an ockam_identity from unverified bytes.
 * - The bytes of a change are hashed exactly as received (never re-encoded), as Ockam does.
 * - Time is passed in (Unix seconds) rather than read here, so callers and tests control it.
 * - A purpose-key attestation is accepted only when it names the identity's latest change,
 *   lies inside that change's validity window, is not expired, was not created more than
 *   OCKAM_ATTESTATION_MAX_DRIFT_S in the future, and verifies under the latest primary key.
 *
 * We create only Ed25519 identities (the key is generated in a vault); P-256 identities are
 * verified, not created.
 *
 * Ownership: an identity borrows the vault it was created or loaded with (free the identity
 * first). Byte buffers returned through `uint8_t **` are the caller's, freed with
 * ockam_free. Threading: an identity is not thread-safe; share verified identities read-only
 * or use one per thread. */
#ifndef OCKAM_IDENTITY_H
#define OCKAM_IDENTITY_H

#include "ockam/common.h"
#include "ockam/error.h"
#include "ockam/vault.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OCKAM_IDENTIFIER_LEN 32                                   /* bytes */
#define OCKAM_IDENTIFIER_STR_SIZE 66                              /* "I" + 64 hex + NUL */
#define OCKAM_IDENTITY_DEFAULT_TTL_S (10ull * 365 * 24 * 60 * 60) /* Ockam's: ten years */
#define OCKAM_SC_KEY_DEFAULT_TTL_S (5ull * 365 * 24 * 60 * 60)    /* Ockam's: five years */
#define OCKAM_ATTESTATION_MAX_DRIFT_S 60

typedef struct ockam_identity ockam_identity;

/* A new Ed25519 identity: its key is generated in `vault` (labelled with the identifier) and
 * may attest purpose keys from now_s to now_s + ttl_s. */
OCKAM_API ockam_err ockam_identity_create(
    ockam_vault *vault, uint64_t now_s, uint64_t ttl_s, ockam_identity **out);
/* Verify a change history (CBOR bytes) and make a public-only identity of it. When
 * expected_identifier is not NULL the history must be that identity's (OCKAM_EIDENTIFIER). */
OCKAM_API ockam_err ockam_identity_import(
    const uint8_t *history, size_t len, const char *expected_identifier, ockam_identity **out);
/* The same from the hex text Ockam shows ("81825837..."): OCKAM_EHEX for bad hex. */
OCKAM_API ockam_err ockam_identity_import_hex(
    const char *hex, size_t hex_len, const char *expected_identifier, ockam_identity **out);
/* Verify a history whose latest primary key is in `vault`: the identity can then sign
 * (rotate, attest). OCKAM_ENOKEY when the vault lacks that key. */
OCKAM_API ockam_err ockam_identity_load(
    ockam_vault *vault, const uint8_t *history, size_t len, ockam_identity **out);
OCKAM_API void ockam_identity_free(ockam_identity *id);

/* "I" + 64 lowercase hex digits, NUL-terminated; valid while the identity lives. */
OCKAM_API const char *ockam_identity_identifier(const ockam_identity *id);
OCKAM_API void ockam_identity_identifier_bytes(const ockam_identity *id, uint8_t out[32]);
OCKAM_API size_t ockam_identity_change_count(const ockam_identity *id);
/* Whether this identity can sign (it was created or loaded with the vault holding its key). */
OCKAM_API bool ockam_identity_can_sign(const ockam_identity *id);

/* The change history exactly as verified: a view valid while the identity lives. */
OCKAM_API ockam_slice ockam_identity_export(const ockam_identity *id);
/* The same as lowercase hex, NUL-terminated; the caller frees it with ockam_free. */
OCKAM_API ockam_err ockam_identity_export_hex(const ockam_identity *id, char **hex);

/* Rotate to a new Ed25519 primary key (generated in the identity's vault), signed by the new
 * and the previous key; the identifier stays, the old key is deleted from the vault. The new
 * key may attest from now_s to now_s + ttl_s (now_s must not be below the current key's
 * start: OCKAM_EINVAL). Purpose keys attested before must be attested again. */
OCKAM_API ockam_err ockam_identity_rotate(ockam_identity *id, uint64_t now_s, uint64_t ttl_s);

/* "I" + 64 hex digits (either case) -> 32 bytes. OCKAM_EIDENTIFIER when malformed. */
OCKAM_API ockam_err ockam_identifier_parse(const char *text, uint8_t out[32]);
OCKAM_API void ockam_identifier_format(const uint8_t id[32], char out[OCKAM_IDENTIFIER_STR_SIZE]);

/* ---- purpose-key attestations (secure-channel static keys) ---------------------------- */
/* Attest that x25519_public is this identity's secure-channel static key from created_at to
 * expires_at: the CBOR PurposeKeyAttestation, signed by the latest primary key.
 * OCKAM_EINVAL when the window lies outside the key's attestation window or is empty. */
OCKAM_API ockam_err ockam_identity_attest_sc_key(ockam_identity *id,
    const uint8_t x25519_public[32], uint64_t created_at, uint64_t expires_at, uint8_t **att,
    size_t *att_len);
/* Verify an attestation of subject's secure-channel key at time now_s (the rules above) and
 * write the attested X25519 public key. Errors: decoding codes, OCKAM_EVERSION,
 * OCKAM_EDATATYPE, OCKAM_EKEYTYPE (not a secure-channel key, or signature type differs from
 * the primary key's), OCKAM_EIDENTIFIER (another subject), OCKAM_EATTESTATION (not the
 * latest change, or outside its window), OCKAM_EFUTURE, OCKAM_EEXPIRED, OCKAM_ESIGNATURE. */
OCKAM_API ockam_err ockam_attestation_verify(const ockam_identity *subject, const uint8_t *att,
    size_t att_len, uint64_t now_s, uint8_t x25519_public[32]);

#ifdef __cplusplus
}
#endif
#endif
