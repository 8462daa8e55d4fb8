/* Helpers for the identity tests: Ockam's public change-history vectors, and a builder of
 * change histories signed by test keys (Ed25519 or P-256, through OpenSSL directly) so that
 * tests can make well-formed and deliberately broken histories. */
#ifndef OCKAM_TEST_IDENTITY_UTIL_H
#define OCKAM_TEST_IDENTITY_UTIL_H

#include "identity/identity_internal.h"
#include "nodes.h"

#include <openssl/evp.h>

/* build-trust/ockam, implementations/rust/ockam/ockam_identity/src/identity/identity.rs,
 * test_display: a one-change Ed25519 history and its identifier. */
extern const char TV_ED25519_HISTORY[];
extern const char TV_ED25519_ID[];
/* build-trust/ockam, .../identities/storage/change_history_repository_sql.rs,
 * orchestrator_identity (also the node database migration that installs it): a one-change
 * ECDSA P-256 history and its identifier. */
extern const char TV_P256_HISTORY[];
extern const char TV_P256_ID[];

/* hex -> malloc'd bytes (asserts on bad hex). */
uint8_t *tu_hex(const char *hex, size_t *len);

typedef struct tu_key {
    int type; /* OCKAM__KEY_ED25519 or OCKAM__KEY_P256 */
    EVP_PKEY *pkey;
    uint8_t pub[65];
    size_t pub_len;
} tu_key;

void tu_key_new(tu_key *k, int type);
void tu_key_free(tu_key *k);
/* Sign the 32-byte hash as Ockam does (Ed25519 over it, or ECDSA-SHA256 over it, r || s). */
void tu_sign(const tu_key *k, const uint8_t hash[32], uint8_t sig[64]);

typedef struct tu_change_opts {
    const tu_key *key;      /* the change's primary key */
    const tu_key *prev_key; /* NULL for the first change */
    const uint8_t *prev_hash;
    uint64_t from, until;
    uint64_t version, data_type; /* 0 = the right values (1, 1) */
    bool bad_sig, bad_prev_sig, omit_prev_sig;
} tu_change_opts;

/* Append one Change to w; writes its hash. */
void tu_change(ockam__wbuf *w, const tu_change_opts *o, uint8_t hash[32]);
/* [changes...]: head for n changes + the concatenated changes. Caller frees with ockam_free. */
uint8_t *tu_history(const ockam__wbuf *changes, size_t n, size_t *len);

#endif
