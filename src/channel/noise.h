/* The cryptographic core of secure channels: AES-256-GCM keys, Noise REKEY, X25519 and the
 * Noise XX handshake state (docs/security.md §7). Everything is OpenSSL 3 EVP;
 * nothing here is hand-written cryptography.
 *
 * Noise: pattern XX (-> e; <- e, ee, s, es; -> s, se), DH 25519, cipher AES-256-GCM (nonce =
 * 4 zero bytes || 8-byte big-endian counter), hash SHA-256 with Noise's HMAC-based HKDF. The
 * protocol name and prologue are parameters so that the standard test vectors run through the
 * same code; secure channels use OCKAM__NOISE_NAME and an empty prologue.
 *
 * Ownership: every struct here is the caller's; the clear and fini calls erase its secrets.
 * Threading: no globals; a struct is used from one thread at a time. */
#ifndef OCKAM_CHANNEL_NOISE_H
#define OCKAM_CHANNEL_NOISE_H

#include "core/core.h"
#include "identity/crypto.h"

#define OCKAM__NOISE_NAME "OCKAM_XX_25519_AES256_GCM_SHA256"
#define OCKAM__KEY_LEN 32
#define OCKAM__TAG_LEN 16
#define OCKAM__DH_LEN 32
#define OCKAM__HASH_LEN 32
/* Largest handshake message (Noise's limit). */
#define OCKAM__NOISE_MAX_MSG 65535

/* ---- AES-256-GCM with one EVP context per key -------------------------------------- */

/* The context is set up once with the key; each frame only sets its 12-byte IV. The key
 * itself is not kept: only the context's key schedule. */
typedef struct ockam__aead {
    void *ctx; /* EVP_CIPHER_CTX */
    bool encrypt;
} ockam__aead;

/* For one direction: encrypt (seal) or decrypt (open). OCKAM_ENOMEM on failure. */
ockam_err ockam__aead_init(ockam__aead *a, const uint8_t key[OCKAM__KEY_LEN], bool encrypt);
/* Another key for the same context (a rekeyed one): no new context. */
ockam_err ockam__aead_set_key(ockam__aead *a, const uint8_t key[OCKAM__KEY_LEN]);
/* Noise REKEY of the context's key (see ockam__rekey), computed with the context itself. */
ockam_err ockam__aead_next_key(ockam__aead *a, uint8_t out[OCKAM__KEY_LEN]);
/* Free the context (which erases its key schedule). Safe on a zeroed or finished struct. */
void ockam__aead_fini(ockam__aead *a);
/* out[0 .. len + 16) = ciphertext || tag; in and out may be the same buffer. */
ockam_err ockam__aead_seal(ockam__aead *a, uint64_t n, const uint8_t *ad, size_t ad_len,
    const uint8_t *in, size_t len, uint8_t *out);
/* The same for a plaintext in pieces (in[0] may be out itself; no other piece may overlap
 * out): one pass, no copy to gather them first. */
ockam_err ockam__aead_seal_gather(ockam__aead *a, uint64_t n, const uint8_t *ad, size_t ad_len,
    const ockam_slice *in, size_t count, uint8_t *out);
/* in[0 .. len) = ciphertext || tag (len >= 16); out gets len - 16 bytes (may equal in).
 * OCKAM_EAUTH when the tag does not verify (out's contents are then undefined). */
ockam_err ockam__aead_open(ockam__aead *a, uint64_t n, const uint8_t *ad, size_t ad_len,
    const uint8_t *in, size_t len, uint8_t *out);
/* Noise REKEY(k): the first 32 bytes of AES-256-GCM(k, nonce 2^64-1, ad "", 32 zero bytes). */
ockam_err ockam__rekey(const uint8_t key[OCKAM__KEY_LEN], uint8_t out[OCKAM__KEY_LEN]);

/* ---- hashing and X25519 -------------------------------------------------------------- */

/* SHA-256 and plain X25519 are identity/crypto.h's (ockam__sha256, ockam__x25519_keygen...). */
/* Noise HKDF(ck, ikm) with two outputs (RFC 5869 with salt ck and empty info). */
ockam_err ockam__hkdf2(const uint8_t ck[OCKAM__HASH_LEN], const uint8_t *ikm, size_t ikm_len,
    uint8_t out1[OCKAM__HASH_LEN], uint8_t out2[OCKAM__HASH_LEN]);

/* ---- Noise XX handshake state ------------------------------------------------------- */

typedef struct ockam__noise {
    uint8_t h[OCKAM__HASH_LEN];
    uint8_t ck[OCKAM__HASH_LEN];
    uint8_t k[OCKAM__KEY_LEN];
    uint64_t n;
    bool has_k;
    bool initiator;
    uint8_t step; /* handshake messages written or read so far, 0..3 */
    uint8_t s[OCKAM__DH_LEN], s_pub[OCKAM__DH_LEN];
    uint8_t e[OCKAM__DH_LEN], e_pub[OCKAM__DH_LEN];
    uint8_t rs[OCKAM__DH_LEN], re[OCKAM__DH_LEN];
    void *s_key, *e_key; /* EVP_PKEYs of s and e, made once */
} ockam__noise;

/* name: the protocol name (hashed when longer than 32 bytes, else zero-padded); prologue may
 * be empty; s: the static private key; e: the ephemeral private key, or NULL for a random one
 * (tests pass the vectors' keys). Call ockam__noise_clear afterwards even when this fails. */
ockam_err ockam__noise_init(ockam__noise *st, bool initiator, const char *name,
    const uint8_t *prologue, size_t prologue_len, const uint8_t s[OCKAM__DH_LEN], const uint8_t *e);
/* The same with the static key already made by ockam__noise_key_new (s_key may be NULL):
 * saves computing its public key again for every handshake. s_key is shared, not taken. */
ockam_err ockam__noise_init_key(ockam__noise *st, bool initiator, const char *name,
    const uint8_t *prologue, size_t prologue_len, const uint8_t s[OCKAM__DH_LEN], void *s_key,
    const uint8_t *e);
/* An X25519 key object for a static private key, to share between handshakes. */
ockam_err ockam__noise_key_new(const uint8_t s[OCKAM__DH_LEN], void **key);
void ockam__noise_key_free(void *key);
/* Size of the next message this side writes with a payload of payload_len bytes. */
size_t ockam__noise_next_len(const ockam__noise *st, size_t payload_len);
/* Write the next handshake message (1 or 3 for the initiator, 2 for the responder).
 * OCKAM_EMSGSIZE when out is too small or the message would exceed OCKAM__NOISE_MAX_MSG;
 * OCKAM_EPROTO when it is not this side's turn. */
ockam_err ockam__noise_write(ockam__noise *st, const uint8_t *payload, size_t payload_len,
    uint8_t *out, size_t cap, size_t *written);
/* Read the peer's next handshake message; its payload is decrypted into out (cap >= len is
 * always enough). OCKAM_ETRUNCATED for a message shorter than its keys, OCKAM_EAUTH when a
 * tag fails, OCKAM_EPROTO when it is not the peer's turn. A failed read leaves the state
 * unusable: the handshake is over. */
ockam_err ockam__noise_read(
    ockam__noise *st, const uint8_t *msg, size_t len, uint8_t *out, size_t cap, size_t *out_len);
/* True once the three messages went through. */
bool ockam__noise_done(const ockam__noise *st);
/* Noise Split: k1, k2 = HKDF(ck, ""). Standard Noise sends initiator -> responder with k1;
 * Ockam's secure channels swap them (the initiator encrypts with k2). */
ockam_err ockam__noise_split(
    const ockam__noise *st, uint8_t k1[OCKAM__KEY_LEN], uint8_t k2[OCKAM__KEY_LEN]);
/* Erase every secret. */
void ockam__noise_clear(ockam__noise *st);

#endif
