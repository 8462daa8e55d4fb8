/* The cryptographic primitives identities and vaults use, all from OpenSSL 3 (libcrypto):
 * nothing here is hand-written. Thin wrappers with fixed-size arguments so that callers
 * never handle EVP objects or DER, and every OpenSSL failure becomes an ockam_err (the
 * OpenSSL error queue is cleared, so failures never leak into unrelated later calls).
 *
 * Secrets passed in are read, never kept; the caller erases its copies (ockam_secure_zero).
 * Thread-safe (OpenSSL 3 is, and these keep no state). */
#ifndef OCKAM_IDENTITY_CRYPTO_H
#define OCKAM_IDENTITY_CRYPTO_H

#include "ockam/error.h"

#include <stddef.h>
#include <stdint.h>

#define OCKAM__SHA256_LEN 32
#define OCKAM__P256_PUBLIC_LEN 65 /* uncompressed SEC1: 0x04 || x || y */

ockam_err ockam__sha256(const uint8_t *data, size_t len, uint8_t out[32]);
/* len bytes from OpenSSL's CSPRNG. */
ockam_err ockam__random(uint8_t *buf, size_t len);

/* Ed25519 (RFC 8032). The secret is the 32-byte seed. Verify: OCKAM_OK, or
 * OCKAM_ESIGNATURE when the signature does not verify (a malformed key included). */
ockam_err ockam__ed25519_public(const uint8_t seed[32], uint8_t public_key[32]);
/* A fresh random key pair (the caller erases seed when done). */
ockam_err ockam__ed25519_keygen(uint8_t seed[32], uint8_t public_key[32]);
ockam_err ockam__ed25519_sign(
    const uint8_t seed[32], const uint8_t *msg, size_t len, uint8_t signature[64]);
ockam_err ockam__ed25519_verify(
    const uint8_t public_key[32], const uint8_t *msg, size_t len, const uint8_t signature[64]);

/* ECDSA on P-256 with SHA-256 of msg; signature is r || s (32 bytes each, big-endian), the
 * public key uncompressed. OCKAM_EKEYTYPE when the key is not a point of the curve,
 * OCKAM_ESIGNATURE when the signature does not verify. */
ockam_err ockam__p256_verify(
    const uint8_t public_key[65], const uint8_t *msg, size_t len, const uint8_t signature[64]);

/* X25519 (RFC 7748). OCKAM_ECRYPTO when the result is all zero (a low-order peer key). */
ockam_err ockam__x25519_public(const uint8_t secret[32], uint8_t public_key[32]);
/* A fresh random key pair, e.g. a Noise ephemeral (the caller erases secret when done). */
ockam_err ockam__x25519_keygen(uint8_t secret[32], uint8_t public_key[32]);
ockam_err ockam__x25519(
    const uint8_t secret[32], const uint8_t peer_public[32], uint8_t shared[32]);

#endif
