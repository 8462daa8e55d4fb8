/* AES-256-GCM, REKEY, SHA-256/HKDF, X25519 and the Noise XX state machine, on OpenSSL 3. */
#include "channel/noise.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <limits.h>
#include <pthread.h>

/* ---- AES-256-GCM ---------------------------------------------------------------------- */

/* The algorithms, fetched once: EVP_aes_256_gcm(), EVP_sha256() and HMAC() make every use
 * look the implementation up in the provider again (HMAC() even builds a MAC context and
 * looks its digest up by name). Kept for the life of the process; the HMAC context is a
 * template with its digest set, duplicated for each use (reading it from several threads is
 * safe). */
static struct {
    EVP_CIPHER *gcm;
    EVP_MD *sha256;
    EVP_MAC_CTX *hmac;
} algs;
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;

static void
algs_fetch(void)
{
    algs.gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    algs.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    algs.hmac = mac ? EVP_MAC_CTX_new(mac) : NULL;
    if (algs.hmac && EVP_MAC_CTX_set_params(algs.hmac, params) != 1) {
        EVP_MAC_CTX_free(algs.hmac);
        algs.hmac = NULL;
    }
    EVP_MAC_free(mac); /* the context holds its own reference */
}

static const EVP_CIPHER *
gcm(void)
{
    (void)pthread_once(&algs_once, algs_fetch);
    return algs.gcm;
}

static const EVP_MD *
sha256(void)
{
    (void)pthread_once(&algs_once, algs_fetch);
    return algs.sha256;
}

static void
gcm_iv(uint64_t n, uint8_t iv[12])
{
    memset(iv, 0, 4);
    for (int i = 0; i < 8; i++)
        iv[4 + i] = (uint8_t)(n >> (56 - 8 * i));
}

ockam_err
ockam__aead_init(ockam__aead *a, const uint8_t key[OCKAM__KEY_LEN], bool encrypt)
{
    const EVP_CIPHER *cipher = gcm();
    EVP_CIPHER_CTX *ctx = cipher ? EVP_CIPHER_CTX_new() : NULL;
    if (!ctx)
        return OCKAM_ENOMEM;
    /* A decrypting context gets the nonce's fixed part (4 zero bytes) once; each frame then
     * sets only the other 8 bytes (see ockam__aead_open). */
    uint8_t fixed[4] = {0};
    OSSL_PARAM params[2] = {
        OSSL_PARAM_construct_octet_string(
            OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED, fixed, sizeof fixed),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_CipherInit_ex(ctx, cipher, NULL, key, NULL, encrypt ? 1 : 0) != 1
        || (!encrypt && EVP_CIPHER_CTX_set_params(ctx, params) != 1)) {
        EVP_CIPHER_CTX_free(ctx);
        return OCKAM_ENOMEM;
    }
    a->ctx = ctx;
    a->encrypt = encrypt;
    return OCKAM_OK;
}

ockam_err
ockam__aead_set_key(ockam__aead *a, const uint8_t key[OCKAM__KEY_LEN])
{
    /* Same cipher and direction: only the key schedule is computed again. */
    if (EVP_CipherInit_ex(a->ctx, NULL, NULL, key, NULL, a->encrypt ? 1 : 0) != 1)
        return OCKAM_ECRYPTO;
    return OCKAM_OK;
}

ockam_err
ockam__aead_next_key(ockam__aead *a, uint8_t out[OCKAM__KEY_LEN])
{
    EVP_CIPHER_CTX *ctx = a->ctx;
    uint8_t iv[12], buf[OCKAM__KEY_LEN] = {0};
    int outl = 0;
    gcm_iv(UINT64_MAX, iv);
    /* Encryption even in a decrypting context, whose direction is then set back (its key and
     * fixed nonce part stay). The tag is not needed. */
    ockam_err err = OCKAM_ECRYPTO;
    if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) == 1
        && EVP_EncryptUpdate(ctx, buf, &outl, buf, sizeof buf) == 1 && outl == (int)sizeof buf
        && EVP_CipherInit_ex(ctx, NULL, NULL, NULL, NULL, a->encrypt ? 1 : 0) == 1) {
        memcpy(out, buf, OCKAM__KEY_LEN);
        err = OCKAM_OK;
    }
    OPENSSL_cleanse(buf, sizeof buf);
    return err;
}

void
ockam__aead_fini(ockam__aead *a)
{
    if (a->ctx)
        EVP_CIPHER_CTX_free(a->ctx); /* erases the key schedule */
    a->ctx = NULL;
}

ockam_err
ockam__aead_seal_gather(ockam__aead *a, uint64_t n, const uint8_t *ad, size_t ad_len,
    const ockam_slice *in, size_t count, uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = a->ctx;
    uint8_t iv[12];
    int outl = 0, fin = 0;
    size_t off = 0;

    if (!a->encrypt || ad_len > INT_MAX)
        return OCKAM_EINVAL;
    gcm_iv(n, iv);
    /* Only the IV changes per message: the key schedule stays in the context. */
    if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1)
        return OCKAM_EPROTO;
    if (ad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &outl, ad, (int)ad_len) != 1)
        return OCKAM_EPROTO;
    for (size_t i = 0; i < count; i++) {
        if (in[i].len > INT_MAX)
            return OCKAM_EINVAL;
        if (in[i].len == 0)
            continue;
        if (EVP_EncryptUpdate(ctx, out + off, &outl, in[i].ptr, (int)in[i].len) != 1)
            return OCKAM_EPROTO;
        off += in[i].len; /* GCM is a stream: each update writes exactly its input's size */
    }
    if (EVP_EncryptFinal_ex(ctx, out + off, &fin) != 1)
        return OCKAM_EPROTO;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, OCKAM__TAG_LEN, out + off) != 1)
        return OCKAM_EPROTO;
    return OCKAM_OK;
}

ockam_err
ockam__aead_seal(ockam__aead *a, uint64_t n, const uint8_t *ad, size_t ad_len, const uint8_t *in,
    size_t len, uint8_t *out)
{
    ockam_slice one = {in, len};
    return ockam__aead_seal_gather(a, n, ad, ad_len, &one, 1, out);
}

ockam_err
ockam__aead_open(ockam__aead *a, uint64_t n, const uint8_t *ad, size_t ad_len, const uint8_t *in,
    size_t len, uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = a->ctx;
    uint8_t iv[12];
    int outl = 0, fin = 0;

    if (a->encrypt || len > INT_MAX || ad_len > INT_MAX)
        return OCKAM_EINVAL;
    if (len < OCKAM__TAG_LEN)
        return OCKAM_EAUTH;
    size_t ct_len = len - OCKAM__TAG_LEN;
    gcm_iv(n, iv);
    /* One parameter call per frame: the nonce's 8 variable bytes (the GCM "invocation field"
     * after the fixed part set at init, as for TLS records) and the expected tag (copied into
     * the context before out, which may overlap in, is written). A full re-initialisation
     * with the nonce would ask the provider for the IV length, then set the tag separately. */
    OSSL_PARAM params[3] = {
        OSSL_PARAM_construct_octet_string(
            OSSL_CIPHER_PARAM_AEAD_TAG, (void *)(in + ct_len), OCKAM__TAG_LEN),
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_SET_IV_INV, iv + 4, 8),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_CIPHER_CTX_set_params(ctx, params) != 1)
        return OCKAM_EPROTO;
    if (ad_len > 0 && EVP_DecryptUpdate(ctx, NULL, &outl, ad, (int)ad_len) != 1)
        return OCKAM_EPROTO;
    if (ct_len > 0 && EVP_DecryptUpdate(ctx, out, &outl, in, (int)ct_len) != 1)
        return OCKAM_EPROTO;
    if (EVP_DecryptFinal_ex(ctx, out + outl, &fin) != 1)
        return OCKAM_EAUTH;
    return OCKAM_OK;
}

/* One-shot encryption with a temporary context: the handshake (a few messages per key) and
 * REKEY (once per 32 frames) only. */
static ockam_err
seal_once(const uint8_t key[OCKAM__KEY_LEN], uint64_t n, const uint8_t *ad, size_t ad_len,
    const uint8_t *in, size_t len, uint8_t *out)
{
    ockam__aead a = {0};
    ockam_err err = ockam__aead_init(&a, key, true);
    if (!err)
        err = ockam__aead_seal(&a, n, ad, ad_len, in, len, out);
    ockam__aead_fini(&a);
    return err;
}

static ockam_err
open_once(const uint8_t key[OCKAM__KEY_LEN], uint64_t n, const uint8_t *ad, size_t ad_len,
    const uint8_t *in, size_t len, uint8_t *out)
{
    ockam__aead a = {0};
    ockam_err err = ockam__aead_init(&a, key, false);
    if (!err)
        err = ockam__aead_open(&a, n, ad, ad_len, in, len, out);
    ockam__aead_fini(&a);
    return err;
}

ockam_err
ockam__rekey(const uint8_t key[OCKAM__KEY_LEN], uint8_t out[OCKAM__KEY_LEN])
{
    uint8_t buf[OCKAM__KEY_LEN + OCKAM__TAG_LEN] = {0};
    ockam_err err = seal_once(key, UINT64_MAX, NULL, 0, buf, OCKAM__KEY_LEN, buf);
    if (!err)
        memcpy(out, buf, OCKAM__KEY_LEN);
    OPENSSL_cleanse(buf, sizeof buf);
    return err;
}

/* ---- hashing -------------------------------------------------------------------------- */

static ockam_err
sha256_2(
    const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, uint8_t out[OCKAM__HASH_LEN])
{
    const EVP_MD *md = sha256();
    EVP_MD_CTX *ctx = md ? EVP_MD_CTX_new() : NULL;
    unsigned int n = 0;
    ockam_err err = OCKAM_ENOMEM;
    if (ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, a, a_len) == 1
        && EVP_DigestUpdate(ctx, b, b_len) == 1 && EVP_DigestFinal_ex(ctx, out, &n) == 1)
        err = OCKAM_OK;
    EVP_MD_CTX_free(ctx);
    return err;
}

static ockam_err
hmac(const uint8_t key[OCKAM__HASH_LEN], const uint8_t *data, size_t len,
    uint8_t out[OCKAM__HASH_LEN])
{
    (void)pthread_once(&algs_once, algs_fetch);
    EVP_MAC_CTX *ctx = algs.hmac ? EVP_MAC_CTX_dup(algs.hmac) : NULL;
    size_t n = 0;
    ockam_err err = OCKAM_ENOMEM;
    if (ctx && EVP_MAC_init(ctx, key, OCKAM__HASH_LEN, NULL) == 1
        && EVP_MAC_update(ctx, data, len) == 1 && EVP_MAC_final(ctx, out, &n, OCKAM__HASH_LEN) == 1
        && n == OCKAM__HASH_LEN)
        err = OCKAM_OK;
    EVP_MAC_CTX_free(ctx); /* erases the keyed state */
    return err;
}

ockam_err
ockam__hkdf2(const uint8_t ck[OCKAM__HASH_LEN], const uint8_t *ikm, size_t ikm_len,
    uint8_t out1[OCKAM__HASH_LEN], uint8_t out2[OCKAM__HASH_LEN])
{
    uint8_t temp[OCKAM__HASH_LEN], buf[OCKAM__HASH_LEN + 1];
    static const uint8_t one = 0x01;
    ockam_err err = hmac(ck, ikm, ikm_len, temp);
    if (!err)
        err = hmac(temp, &one, 1, out1);
    if (!err) {
        memcpy(buf, out1, OCKAM__HASH_LEN);
        buf[OCKAM__HASH_LEN] = 0x02;
        err = hmac(temp, buf, sizeof buf, out2);
    }
    OPENSSL_cleanse(temp, sizeof temp);
    OPENSSL_cleanse(buf, sizeof buf);
    return err;
}

/* ---- Noise symmetric state ----------------------------------------------------------- */

static ockam_err
mix_hash(ockam__noise *st, const uint8_t *data, size_t len)
{
    return sha256_2(st->h, OCKAM__HASH_LEN, data, len, st->h);
}

static ockam_err
mix_key(ockam__noise *st, const uint8_t *ikm, size_t len)
{
    ockam_err err = ockam__hkdf2(st->ck, ikm, len, st->ck, st->k);
    st->n = 0;
    st->has_k = err == OCKAM_OK;
    return err;
}

/* X25519 with our key kept as an EVP_PKEY since it was made: importing a raw private key
 * makes OpenSSL compute its public key again, which would double the cost of every DH. */
static ockam_err
dh(void *own, const uint8_t peer[OCKAM__DH_LEN], uint8_t out[OCKAM__DH_LEN])
{
    EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, OCKAM__DH_LEN);
    EVP_PKEY_CTX *ctx = p ? EVP_PKEY_CTX_new(own, NULL) : NULL;
    size_t len = OCKAM__DH_LEN;
    ockam_err err = OCKAM_ENOMEM;
    if (ctx && EVP_PKEY_derive_init(ctx) == 1) {
        /* OpenSSL refuses an all-zero shared secret (a low-order peer key). */
        if (EVP_PKEY_derive_set_peer(ctx, p) == 1 && EVP_PKEY_derive(ctx, out, &len) == 1
            && len == OCKAM__DH_LEN)
            err = OCKAM_OK;
        else
            err = OCKAM_ECRYPTO;
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(p);
    return err;
}

/* A key pair from a raw private key (a test vector's, or the static key). */
static ockam_err
own_key(const uint8_t priv[OCKAM__DH_LEN], void **key, uint8_t pub[OCKAM__DH_LEN])
{
    size_t len = OCKAM__DH_LEN;
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, OCKAM__DH_LEN);
    *key = k;
    if (!k)
        return OCKAM_ECRYPTO;
    return EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 ? OCKAM_OK : OCKAM_ECRYPTO;
}

/* A fresh ephemeral key pair. */
static ockam_err
new_key(void **key, uint8_t priv[OCKAM__DH_LEN], uint8_t pub[OCKAM__DH_LEN])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
    EVP_PKEY *k = NULL;
    size_t a = OCKAM__DH_LEN, b = OCKAM__DH_LEN;
    ockam_err err = OCKAM_ECRYPTO;
    if (ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &k) == 1
        && EVP_PKEY_get_raw_private_key(k, priv, &a) == 1
        && EVP_PKEY_get_raw_public_key(k, pub, &b) == 1)
        err = OCKAM_OK;
    EVP_PKEY_CTX_free(ctx);
    *key = k;
    return err;
}

static ockam_err
mix_dh(ockam__noise *st, void *own, const uint8_t pub[OCKAM__DH_LEN])
{
    uint8_t shared[OCKAM__DH_LEN];
    ockam_err err = dh(own, pub, shared);
    if (!err)
        err = mix_key(st, shared, sizeof shared);
    OPENSSL_cleanse(shared, sizeof shared);
    return err;
}

/* out gets len (+16 once a key is set) bytes. */
static ockam_err
encrypt_and_hash(ockam__noise *st, const uint8_t *in, size_t len, uint8_t *out, size_t *written)
{
    ockam_err err;
    if (!st->has_k) {
        if (len)
            memmove(out, in, len);
        *written = len;
    } else {
        err = seal_once(st->k, st->n, st->h, OCKAM__HASH_LEN, in, len, out);
        if (err)
            return err;
        st->n++;
        *written = len + OCKAM__TAG_LEN;
    }
    return mix_hash(st, out, *written);
}

static ockam_err
decrypt_and_hash(ockam__noise *st, const uint8_t *in, size_t len, uint8_t *out, size_t *written)
{
    uint8_t h[OCKAM__HASH_LEN];
    ockam_err err;
    /* The hash covers the ciphertext: keep it before out (which may overlap in) is written. */
    err = sha256_2(st->h, OCKAM__HASH_LEN, in, len, h);
    if (err)
        return err;
    if (!st->has_k) {
        if (len)
            memmove(out, in, len);
        *written = len;
    } else {
        if (len < OCKAM__TAG_LEN)
            return OCKAM_ETRUNCATED;
        err = open_once(st->k, st->n, st->h, OCKAM__HASH_LEN, in, len, out);
        if (err)
            return err;
        st->n++;
        *written = len - OCKAM__TAG_LEN;
    }
    memcpy(st->h, h, OCKAM__HASH_LEN);
    return OCKAM_OK;
}

/* ---- handshake ---------------------------------------------------------------------------- */

ockam_err
ockam__noise_key_new(const uint8_t s[OCKAM__DH_LEN], void **key)
{
    uint8_t pub[OCKAM__DH_LEN];
    ockam_err err = own_key(s, key, pub);
    if (err) {
        EVP_PKEY_free(*key);
        *key = NULL;
    }
    return err;
}

void
ockam__noise_key_free(void *key)
{
    EVP_PKEY_free(key);
}

ockam_err
ockam__noise_init(ockam__noise *st, bool initiator, const char *name, const uint8_t *prologue,
    size_t prologue_len, const uint8_t s[OCKAM__DH_LEN], const uint8_t *e)
{
    return ockam__noise_init_key(st, initiator, name, prologue, prologue_len, s, NULL, e);
}

ockam_err
ockam__noise_init_key(ockam__noise *st, bool initiator, const char *name, const uint8_t *prologue,
    size_t prologue_len, const uint8_t s[OCKAM__DH_LEN], void *s_key, const uint8_t *e)
{
    size_t name_len = strlen(name), len = OCKAM__DH_LEN;
    ockam_err err;

    memset(st, 0, sizeof *st);
    st->initiator = initiator;
    if (name_len <= OCKAM__HASH_LEN) {
        memcpy(st->h, name, name_len);
    } else if ((err = ockam__sha256((const uint8_t *)name, name_len, st->h)) != OCKAM_OK) {
        return err;
    }
    memcpy(st->ck, st->h, OCKAM__HASH_LEN);
    if ((err = mix_hash(st, prologue, prologue_len)) != OCKAM_OK)
        return err;
    memcpy(st->s, s, OCKAM__DH_LEN);
    if (s_key) {
        /* Shared with the caller (a listener's static key serves all its responders). */
        if (EVP_PKEY_up_ref(s_key) != 1)
            return OCKAM_ECRYPTO;
        st->s_key = s_key;
        if (EVP_PKEY_get_raw_public_key(s_key, st->s_pub, &len) != 1)
            return OCKAM_ECRYPTO;
    } else if ((err = own_key(st->s, &st->s_key, st->s_pub)) != OCKAM_OK) {
        return err;
    }
    if (e) {
        memcpy(st->e, e, OCKAM__DH_LEN);
        return own_key(st->e, &st->e_key, st->e_pub);
    }
    return new_key(&st->e_key, st->e, st->e_pub);
}

static bool
my_turn(const ockam__noise *st)
{
    /* Messages 1 and 3 are the initiator's, message 2 the responder's. */
    return st->step < 3 && ((st->step % 2 == 0) == st->initiator);
}

size_t
ockam__noise_next_len(const ockam__noise *st, size_t payload_len)
{
    switch (st->step) {
    case 0:
        return OCKAM__DH_LEN + payload_len;
    case 1:
        return 2 * OCKAM__DH_LEN + 2 * OCKAM__TAG_LEN + payload_len;
    default:
        return OCKAM__DH_LEN + 2 * OCKAM__TAG_LEN + payload_len;
    }
}

/* -> e */
static ockam_err
write1(ockam__noise *st, const uint8_t *payload, size_t plen, uint8_t *out, size_t *written)
{
    size_t n = 0;
    memcpy(out, st->e_pub, OCKAM__DH_LEN);
    ockam_err err = mix_hash(st, st->e_pub, OCKAM__DH_LEN);
    if (!err)
        err = encrypt_and_hash(st, payload, plen, out + OCKAM__DH_LEN, &n);
    *written = OCKAM__DH_LEN + n;
    return err;
}

/* <- e, ee, s, es */
static ockam_err
write2(ockam__noise *st, const uint8_t *payload, size_t plen, uint8_t *out, size_t *written)
{
    size_t a = 0, b = 0;
    uint8_t *p = out;
    memcpy(p, st->e_pub, OCKAM__DH_LEN);
    p += OCKAM__DH_LEN;
    ockam_err err = mix_hash(st, st->e_pub, OCKAM__DH_LEN);
    if (!err)
        err = mix_dh(st, st->e_key, st->re);
    if (!err)
        err = encrypt_and_hash(st, st->s_pub, OCKAM__DH_LEN, p, &a);
    if (!err)
        err = mix_dh(st, st->s_key, st->re);
    if (!err)
        err = encrypt_and_hash(st, payload, plen, p + a, &b);
    *written = OCKAM__DH_LEN + a + b;
    return err;
}

/* -> s, se */
static ockam_err
write3(ockam__noise *st, const uint8_t *payload, size_t plen, uint8_t *out, size_t *written)
{
    size_t a = 0, b = 0;
    ockam_err err = encrypt_and_hash(st, st->s_pub, OCKAM__DH_LEN, out, &a);
    if (!err)
        err = mix_dh(st, st->s_key, st->re);
    if (!err)
        err = encrypt_and_hash(st, payload, plen, out + a, &b);
    *written = a + b;
    return err;
}

ockam_err
ockam__noise_write(ockam__noise *st, const uint8_t *payload, size_t payload_len, uint8_t *out,
    size_t cap, size_t *written)
{
    ockam_err err;
    if (!my_turn(st))
        return OCKAM_EPROTO;
    size_t need = ockam__noise_next_len(st, payload_len);
    if (need > cap || need > OCKAM__NOISE_MAX_MSG)
        return OCKAM_EMSGSIZE;
    if (st->step == 0)
        err = write1(st, payload, payload_len, out, written);
    else if (st->step == 1)
        err = write2(st, payload, payload_len, out, written);
    else
        err = write3(st, payload, payload_len, out, written);
    st->step = err ? 4 : (uint8_t)(st->step + 1);
    return err;
}

static ockam_err
read1(ockam__noise *st, const uint8_t *msg, size_t len, uint8_t *out, size_t *out_len)
{
    if (len < OCKAM__DH_LEN)
        return OCKAM_ETRUNCATED;
    memcpy(st->re, msg, OCKAM__DH_LEN);
    ockam_err err = mix_hash(st, st->re, OCKAM__DH_LEN);
    if (!err)
        err = decrypt_and_hash(st, msg + OCKAM__DH_LEN, len - OCKAM__DH_LEN, out, out_len);
    return err;
}

static ockam_err
read2(ockam__noise *st, const uint8_t *msg, size_t len, uint8_t *out, size_t *out_len)
{
    size_t n;
    const size_t enc_s = OCKAM__DH_LEN + OCKAM__TAG_LEN;
    if (len < OCKAM__DH_LEN + enc_s + OCKAM__TAG_LEN)
        return OCKAM_ETRUNCATED;
    memcpy(st->re, msg, OCKAM__DH_LEN);
    ockam_err err = mix_hash(st, st->re, OCKAM__DH_LEN);
    if (!err)
        err = mix_dh(st, st->e_key, st->re);
    if (!err)
        err = decrypt_and_hash(st, msg + OCKAM__DH_LEN, enc_s, st->rs, &n);
    if (!err)
        err = mix_dh(st, st->e_key, st->rs);
    if (!err) {
        size_t off = OCKAM__DH_LEN + enc_s;
        err = decrypt_and_hash(st, msg + off, len - off, out, out_len);
    }
    return err;
}

static ockam_err
read3(ockam__noise *st, const uint8_t *msg, size_t len, uint8_t *out, size_t *out_len)
{
    size_t n;
    const size_t enc_s = OCKAM__DH_LEN + OCKAM__TAG_LEN;
    if (len < enc_s + OCKAM__TAG_LEN)
        return OCKAM_ETRUNCATED;
    ockam_err err = decrypt_and_hash(st, msg, enc_s, st->rs, &n);
    if (!err)
        err = mix_dh(st, st->e_key, st->rs);
    if (!err)
        err = decrypt_and_hash(st, msg + enc_s, len - enc_s, out, out_len);
    return err;
}

ockam_err
ockam__noise_read(
    ockam__noise *st, const uint8_t *msg, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    ockam_err err;
    if (st->step >= 3 || my_turn(st))
        return OCKAM_EPROTO;
    if (cap < len || len > OCKAM__NOISE_MAX_MSG)
        return OCKAM_EMSGSIZE;
    *out_len = 0;
    if (st->step == 0)
        err = read1(st, msg, len, out, out_len);
    else if (st->step == 1)
        err = read2(st, msg, len, out, out_len);
    else
        err = read3(st, msg, len, out, out_len);
    st->step = err ? 4 : (uint8_t)(st->step + 1);
    return err;
}

bool
ockam__noise_done(const ockam__noise *st)
{
    return st->step == 3;
}

ockam_err
ockam__noise_split(const ockam__noise *st, uint8_t k1[OCKAM__KEY_LEN], uint8_t k2[OCKAM__KEY_LEN])
{
    if (!ockam__noise_done(st))
        return OCKAM_EPROTO;
    static const uint8_t none[1] = {0};
    return ockam__hkdf2(st->ck, none, 0, k1, k2);
}

void
ockam__noise_clear(ockam__noise *st)
{
    EVP_PKEY_free(st->s_key);
    EVP_PKEY_free(st->e_key);
    OPENSSL_cleanse(st, sizeof *st);
}
