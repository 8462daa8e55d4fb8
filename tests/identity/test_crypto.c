/* The OpenSSL wrappers: standard vectors and the refusals callers rely on. The Ed25519 and
 * X25519 RFC vectors run through the vaults (test_vault.c), P-256 through Ockam's
 * change-history vector (test_identity.c). */
#include "identity/crypto.h"
#include "identity_util.h"

static void
sha256_vectors(void **state)
{
    uint8_t out[32], want[32];
    assert_int_equal(ockam__sha256((const uint8_t *)"abc", 3, out), OCKAM_OK);
    tn_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 32);
    assert_memory_equal(out, want, 32);
    assert_int_equal(ockam__sha256(NULL, 0, out), OCKAM_OK);
    tn_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, 32);
    assert_memory_equal(out, want, 32);
}

static void
keygen_sign_verify_ecdh(void **state)
{
    uint8_t s1[32], p1[32], s2[32], p2[32], sig[64], k12[32], k21[32], again[32];
    assert_int_equal(ockam__ed25519_keygen(s1, p1), OCKAM_OK);
    assert_int_equal(ockam__ed25519_public(s1, again), OCKAM_OK);
    assert_memory_equal(again, p1, 32);
    assert_int_equal(ockam__ed25519_sign(s1, (const uint8_t *)"msg", 3, sig), OCKAM_OK);
    assert_int_equal(ockam__ed25519_verify(p1, (const uint8_t *)"msg", 3, sig), OCKAM_OK);
    assert_int_equal(ockam__ed25519_verify(p1, (const uint8_t *)"msh", 3, sig), OCKAM_ESIGNATURE);
    sig[63] ^= 0x40;
    assert_int_equal(ockam__ed25519_verify(p1, (const uint8_t *)"msg", 3, sig), OCKAM_ESIGNATURE);

    assert_int_equal(ockam__x25519_keygen(s1, p1), OCKAM_OK);
    assert_int_equal(ockam__x25519_keygen(s2, p2), OCKAM_OK);
    assert_memory_not_equal(p1, p2, 32);
    assert_int_equal(ockam__x25519(s1, p2, k12), OCKAM_OK);
    assert_int_equal(ockam__x25519(s2, p1, k21), OCKAM_OK);
    assert_memory_equal(k12, k21, 32);
}

static void
p256_refusals(void **state)
{
    tu_key k;
    uint8_t hash[32] = {9}, sig[64], pub[65];
    tu_key_new(&k, OCKAM__KEY_P256);
    tu_sign(&k, hash, sig);
    assert_int_equal(ockam__p256_verify(k.pub, hash, 32, sig), OCKAM_OK);
    hash[0] ^= 1;
    assert_int_equal(ockam__p256_verify(k.pub, hash, 32, sig), OCKAM_ESIGNATURE);
    hash[0] ^= 1;
    /* r = 0 and s = 0 are never valid. */
    uint8_t zero[64] = {0};
    assert_int_equal(ockam__p256_verify(k.pub, hash, 32, zero), OCKAM_ESIGNATURE);
    /* A point off the curve, and a compressed-point tag, are not keys. */
    memcpy(pub, k.pub, 65);
    pub[64] ^= 1;
    assert_int_equal(ockam__p256_verify(pub, hash, 32, sig), OCKAM_EKEYTYPE);
    memcpy(pub, k.pub, 65);
    pub[0] = 0x02;
    assert_int_equal(ockam__p256_verify(pub, hash, 32, sig), OCKAM_EKEYTYPE);
    tu_key_free(&k);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_vectors),
        cmocka_unit_test(keygen_sign_verify_ecdh),
        cmocka_unit_test(p256_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
