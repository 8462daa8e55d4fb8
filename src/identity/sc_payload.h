/* What a secure-channel end presents about itself in Noise XX messages 2 and 3, and how it
 * checks what the peer presents (docs/wire.md §15.5).
 *
 * The payload is Ockam's CBOR IdentityAndCredentials
 *   [change_history, purpose_key_attestation, credentials]
 * where the attestation binds the X25519 static key of the handshake to the identity. We
 * send no credentials (an empty array) and, having no authority to check them against,
 * ignore well-formed credentials a peer sends (as Ockam does without an authority).
 *
 * Threading: call from the thread that owns the identity and its vault. */
#ifndef OCKAM_IDENTITY_SC_PAYLOAD_H
#define OCKAM_IDENTITY_SC_PAYLOAD_H

#include "ockam/identity.h"

/* Credentials a secure channel end presents: its X25519 static key pair and the CBOR
 * IdentityAndCredentials payload [change_history, purpose_key_attestation, credentials=[]]
 * that binds the static public key to the identity (Ockam's format). */
typedef struct ockam__sc_creds {
    uint8_t static_secret[32]; /* X25519 secret; zero it with ockam__sc_creds_clear */
    uint8_t static_public[32];
    uint8_t *payload; /* malloc'd, owned */
    size_t payload_len;
} ockam__sc_creds;

/* Make (or load from the vault: one secure-channel purpose key per identity, as Ockam) the
 * X25519 key and a fresh attestation valid for ttl_s from now_s (ending at the identity
 * key's attestations_valid_until at the latest, which peers would otherwise refuse). The
 * identity must be able to sign (created or loaded with its vault): OCKAM_EINVAL otherwise,
 * and when now_s lies before its key's window. On error *out is left cleared. */
ockam_err ockam__sc_creds_make(
    ockam_identity *id, uint64_t now_s, uint64_t ttl_s, ockam__sc_creds *out);
/* Erase the secret, free the payload; the struct may be reused. */
void ockam__sc_creds_clear(ockam__sc_creds *c);

/* Verify a peer's payload: the change history verifies, the attestation is signed by the
 * identity's current primary key, names exactly `peer_static`, and is valid at now_s.
 * On success writes the peer's identifier ("I" + 64 hex + NUL). Errors: the decoding and
 * verification codes of ockam_identity_import and ockam_attestation_verify, and
 * OCKAM_EKEYMISMATCH when the attested key is not peer_static. */
ockam_err ockam__sc_payload_verify(const uint8_t *payload, size_t len,
    const uint8_t peer_static[32], uint64_t now_s, char out_identifier[66]);

/* The same, also returning the verified peer identity (caller frees); *peer may be NULL. */
ockam_err ockam__sc_payload_verify_identity(const uint8_t *payload, size_t len,
    const uint8_t peer_static[32], uint64_t now_s, ockam_identity **peer);

#endif
