#include "identity_util.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <stdlib.h>

const char TV_ED25519_HISTORY[]
    = "81825837830101583285f68200815820f405e06d988fa8039cce1cd0ae607e46847c1b64bc459ca9d89dd9b2"
      "1ae30681f41a654cebe91a7818eee98200815840494c9b70e8a9ad5593fceb478f722a513b4bd39fa70f4265"
      "d584253bc24617d0eb498ce532273f6d0d5326921e013696fce57c20cc6c4008f74b816810f0b009";
const char TV_ED25519_ID[] = "I923829d0397a06fa862be5a87b7966959b8ef99ab6455b843ca9131a747b4819";
const char TV_P256_HISTORY[]
    = "81825858830101585385f6820181584104ebf9d78281a04f180029c12a74e994386c7c9fee24903f3bfe3514"
      "97a9952758ee5f4b57d7ed6236ab5082ed85e1ae8c07d5600e0587f652d36727904b3e310df41a656a365d1a"
      "7836395d820181584050bf79071ecaf08a966228c712295a17da53994dc781a22103602afe656276ef83ba83"
      "a1004845b1e979e0944abff3cd8c7ceef834a8f5eeeca0e8f720fa38f4";
const char TV_P256_ID[] = "I84502ce0d9a0a91bae29026b84e19be69fb4203a6bdd1424c85a43c812772a00";

uint8_t *
tu_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    uint8_t *p = malloc(n / 2 + 1);
    assert_non_null(p);
    assert_true(ockam__hex_decode(hex, n, p, n / 2 + 1, len));
    return p;
}

void
tu_key_new(tu_key *k, int type)
{
    memset(k, 0, sizeof(*k));
    k->type = type;
    if (type == OCKAM__KEY_ED25519) {
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        k->pub_len = 32;
        assert_non_null(k->pkey);
        assert_int_equal(EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &k->pub_len), 1);
    } else {
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        assert_non_null(k->pkey);
        assert_int_equal(EVP_PKEY_get_octet_string_param(
                             k->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, k->pub, 65, &k->pub_len),
            1);
    }
    assert_int_equal(k->pub_len, type == OCKAM__KEY_ED25519 ? 32 : 65);
}

void
tu_key_free(tu_key *k)
{
    EVP_PKEY_free(k->pkey);
    k->pkey = NULL;
}

void
tu_sign(const tu_key *k, const uint8_t hash[32], uint8_t sig[64])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t n = sizeof(der);
    const EVP_MD *md = k->type == OCKAM__KEY_ED25519 ? NULL : EVP_sha256();
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, k->pkey), 1);
    assert_int_equal(EVP_DigestSign(ctx, der, &n, hash, 32), 1);
    EVP_MD_CTX_free(ctx);
    if (k->type == OCKAM__KEY_ED25519) {
        assert_int_equal(n, 64);
        memcpy(sig, der, 64);
        return;
    }
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
    assert_non_null(es);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32), 32);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32), 32);
    ECDSA_SIG_free(es);
}

static void
put_sig(ockam__wbuf *w, const tu_key *k, const uint8_t hash[32], bool corrupt)
{
    uint8_t sig[64];
    tu_sign(k, hash, sig);
    if (corrupt)
        sig[10] ^= 0x01;
    ockam__wbuf_variant_bytes(w, (uint8_t)k->type, sig, 64);
}

void
tu_change(ockam__wbuf *w, const tu_change_opts *o, uint8_t hash[32])
{
    ockam__wbuf cd = {0}, vd = {0};
    ockam__wbuf_head(&cd, OCKAM__CBOR_ARRAY, 5);
    if (o->prev_hash)
        ockam__wbuf_bytes(&cd, o->prev_hash, 32);
    else
        ockam__wbuf_raw(&cd, (uint8_t[]) {OCKAM__CBOR_NULL}, 1);
    ockam__wbuf_variant_bytes(&cd, (uint8_t)o->key->type, o->key->pub, o->key->pub_len);
    ockam__wbuf_raw(&cd, (uint8_t[]) {OCKAM__CBOR_FALSE}, 1);
    ockam__wbuf_head(&cd, OCKAM__CBOR_UINT, o->from);
    ockam__wbuf_head(&cd, OCKAM__CBOR_UINT, o->until);
    ockam__wbuf_head(&vd, OCKAM__CBOR_ARRAY, 3);
    ockam__wbuf_head(&vd, OCKAM__CBOR_UINT, o->version ? o->version : 1);
    ockam__wbuf_head(&vd, OCKAM__CBOR_UINT, o->data_type ? o->data_type : 1);
    ockam__wbuf_bytes(&vd, cd.p, cd.len);
    assert_false(cd.oom || vd.oom);
    assert_int_equal(EVP_Digest(vd.p, vd.len, hash, NULL, EVP_sha256(), NULL), 1);

    bool with_prev = o->prev_key && !o->omit_prev_sig;
    ockam__wbuf_head(w, OCKAM__CBOR_ARRAY, with_prev ? 3 : 2);
    ockam__wbuf_bytes(w, vd.p, vd.len);
    put_sig(w, o->key, hash, o->bad_sig);
    if (with_prev)
        put_sig(w, o->prev_key, hash, o->bad_prev_sig);
    ockam__wbuf_free(&cd);
    ockam__wbuf_free(&vd);
}

uint8_t *
tu_history(const ockam__wbuf *changes, size_t n, size_t *len)
{
    ockam__wbuf h = {0};
    ockam__wbuf_head(&h, OCKAM__CBOR_ARRAY, n);
    ockam__wbuf_raw(&h, changes->p, changes->len);
    assert_false(h.oom);
    *len = h.len;
    return h.p;
}
