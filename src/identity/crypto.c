/* OpenSSL 3 wrappers (see crypto.h). Every EVP object is freed on every path, and the
 * error queue is cleared whenever OpenSSL reports a failure. */
#include "identity/crypto.h"

#include "ockam/vault.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

static ockam_err
fail(ockam_err err)
{
    ERR_clear_error();
    return err;
}

void
ockam_secure_zero(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}

ockam_err
ockam__sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) || n != 32)
        return fail(OCKAM_ECRYPTO);
    return OCKAM_OK;
}

ockam_err
ockam__random(uint8_t *buf, size_t len)
{
    if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1)
        return fail(OCKAM_ECRYPTO);
    return OCKAM_OK;
}

/* Public half of a raw 32-byte private key of the given type (Ed25519 or X25519). */
static ockam_err
raw_public(int type, const uint8_t secret[32], uint8_t public_key[32])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(type, NULL, secret, 32);
    size_t n = 32;
    if (!k)
        return fail(OCKAM_ECRYPTO);
    int ok = EVP_PKEY_get_raw_public_key(k, public_key, &n) == 1 && n == 32;
    EVP_PKEY_free(k);
    return ok ? OCKAM_OK : fail(OCKAM_ECRYPTO);
}

ockam_err
ockam__ed25519_public(const uint8_t seed[32], uint8_t public_key[32])
{
    return raw_public(EVP_PKEY_ED25519, seed, public_key);
}

ockam_err
ockam__x25519_public(const uint8_t secret[32], uint8_t public_key[32])
{
    return raw_public(EVP_PKEY_X25519, secret, public_key);
}

/* A random 32-byte private key of that type and its public key. */
static ockam_err
keygen(int type, uint8_t secret[32], uint8_t public_key[32])
{
    ockam_err err = ockam__random(secret, 32);
    if (!err)
        err = raw_public(type, secret, public_key);
    if (err)
        OPENSSL_cleanse(secret, 32);
    return err;
}

ockam_err
ockam__ed25519_keygen(uint8_t seed[32], uint8_t public_key[32])
{
    return keygen(EVP_PKEY_ED25519, seed, public_key);
}

ockam_err
ockam__x25519_keygen(uint8_t secret[32], uint8_t public_key[32])
{
    return keygen(EVP_PKEY_X25519, secret, public_key);
}

ockam_err
ockam__ed25519_sign(const uint8_t seed[32], const uint8_t *msg, size_t len, uint8_t signature[64])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t n = 64;
    int ok = k && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1
        && EVP_DigestSign(ctx, signature, &n, msg, len) == 1 && n == 64;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return ok ? OCKAM_OK : fail(OCKAM_ECRYPTO);
}

ockam_err
ockam__ed25519_verify(
    const uint8_t public_key[32], const uint8_t *msg, size_t len, const uint8_t signature[64])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!k || !ctx) {
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(k);
        return fail(OCKAM_ECRYPTO);
    }
    int rc = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1
        ? EVP_DigestVerify(ctx, signature, 64, msg, len)
        : -1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return rc == 1 ? OCKAM_OK : fail(OCKAM_ESIGNATURE);
}

/* An EVP_PKEY for an uncompressed P-256 point; NULL when it is not a point of the curve. */
static EVP_PKEY *
p256_public(const uint8_t public_key[65])
{
    if (public_key[0] != 0x04)
        return NULL;
    char group[] = "prime256v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(
            OSSL_PKEY_PARAM_PUB_KEY, (void *)public_key, OCKAM__P256_PUBLIC_LEN),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!pc || EVP_PKEY_fromdata_init(pc) != 1
        || EVP_PKEY_fromdata(pc, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
        k = NULL;
    EVP_PKEY_CTX_free(pc);
    return k;
}

/* r || s -> DER ECDSA-Sig-Value; *der is OpenSSL-allocated. Returns the length, 0 on error. */
static int
p256_sig_der(const uint8_t signature[64], unsigned char **der)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(signature, 32, NULL), *s = BN_bin2bn(signature + 32, 32, NULL);
    int n = 0;
    if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = s = NULL; /* owned by sig now */
        n = i2d_ECDSA_SIG(sig, der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return n > 0 ? n : 0;
}

ockam_err
ockam__p256_verify(
    const uint8_t public_key[65], const uint8_t *msg, size_t len, const uint8_t signature[64])
{
    EVP_PKEY *k = p256_public(public_key);
    if (!k)
        return fail(OCKAM_EKEYTYPE);
    unsigned char *der = NULL;
    int der_len = p256_sig_der(signature, &der);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = -1;
    if (der_len > 0 && ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k) == 1)
        rc = EVP_DigestVerify(ctx, der, (size_t)der_len, msg, len);
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    EVP_PKEY_free(k);
    return rc == 1 ? OCKAM_OK : fail(OCKAM_ESIGNATURE);
}

ockam_err
ockam__x25519(const uint8_t secret[32], const uint8_t peer_public[32], uint8_t shared[32])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, secret, 32);
    EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_public, 32);
    EVP_PKEY_CTX *ctx = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
    size_t n = 32;
    /* OpenSSL refuses an all-zero result (a low-order peer key) in the derive step. */
    int ok = p && ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, p) == 1
        && EVP_PKEY_derive(ctx, shared, &n) == 1 && n == 32;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(p);
    EVP_PKEY_free(k);
    if (!ok)
        OPENSSL_cleanse(shared, 32);
    return ok ? OCKAM_OK : fail(OCKAM_ECRYPTO);
}
