/* Change histories: Ockam's public vectors, creation, export/import, rotation, and every
 * class of bad input with its own error code. */
#include "identity/crypto.h"
#include "identity_util.h"

#include <stdlib.h>

#define NOW 1765000000ull /* 2025-12-06 */
#define DAY 86400ull

static ockam_identity *
import_hex_ok(const char *hex, const char *expect)
{
    ockam_identity *id = NULL;
    assert_int_equal(ockam_identity_import_hex(hex, strlen(hex), expect, &id), OCKAM_OK);
    assert_non_null(id);
    return id;
}

/* ---- Ockam's vectors ---------------------------------------------------------------- */

static void
ed25519_vector_verifies_and_derives_identifier(void **state)
{
    ockam_identity *id = import_hex_ok(TV_ED25519_HISTORY, NULL);
    assert_string_equal(ockam_identity_identifier(id), TV_ED25519_ID);
    assert_int_equal(ockam_identity_change_count(id), 1);
    assert_false(ockam_identity_can_sign(id));
    /* Export gives the bytes exactly as imported (never re-encoded). */
    char *hex = NULL;
    assert_int_equal(ockam_identity_export_hex(id, &hex), OCKAM_OK);
    assert_string_equal(hex, TV_ED25519_HISTORY);
    ockam_free(hex);
    const ockam__verified_change *c = &id->changes[0];
    assert_int_equal(c->key.type, OCKAM__KEY_ED25519);
    assert_int_equal(c->valid_from, 0x654cebe9);
    assert_int_equal(c->valid_until, 0x7818eee9);
    ockam_identity_free(id);
    /* With the expected identifier given. */
    ockam_identity_free(import_hex_ok(TV_ED25519_HISTORY, TV_ED25519_ID));
}

static void
p256_vector_verifies_and_derives_identifier(void **state)
{
    ockam_identity *id = import_hex_ok(TV_P256_HISTORY, TV_P256_ID);
    assert_string_equal(ockam_identity_identifier(id), TV_P256_ID);
    assert_int_equal(id->changes[0].key.type, OCKAM__KEY_P256);
    assert_int_equal(id->changes[0].key.len, 65);
    ockam_identity_free(id);
}

static void
vectors_with_a_flipped_signature_bit_are_refused(void **state)
{
    const char *vecs[] = {TV_ED25519_HISTORY, TV_P256_HISTORY};
    for (size_t v = 0; v < 2; v++) {
        size_t len;
        uint8_t *b = tu_hex(vecs[v], &len);
        b[len - 5] ^= 0x20; /* inside the 64-byte signature at the end */
        ockam_identity *id = NULL;
        assert_int_equal(ockam_identity_import(b, len, NULL, &id), OCKAM_ESIGNATURE);
        assert_null(id);
        free(b);
    }
}

static void
vector_with_another_expected_identifier_is_refused(void **state)
{
    ockam_identity *id = NULL;
    assert_int_equal(
        ockam_identity_import_hex(TV_ED25519_HISTORY, strlen(TV_ED25519_HISTORY), TV_P256_ID, &id),
        OCKAM_EIDENTIFIER);
    assert_int_equal(
        ockam_identity_import_hex(TV_ED25519_HISTORY, strlen(TV_ED25519_HISTORY), "I1234", &id),
        OCKAM_EIDENTIFIER);
    assert_null(id);
}

static void
every_truncation_is_an_error_never_a_crash(void **state)
{
    const char *vecs[] = {TV_ED25519_HISTORY, TV_P256_HISTORY};
    for (size_t v = 0; v < 2; v++) {
        size_t len;
        uint8_t *b = tu_hex(vecs[v], &len);
        for (size_t n = 0; n < len; n++) {
            /* An exact-size copy, so ASan sees any read past n. */
            uint8_t *c = malloc(n ? n : 1);
            memcpy(c, b, n);
            ockam_identity *id = NULL;
            ockam_err err = ockam_identity_import(c, n, NULL, &id);
            assert_int_not_equal(err, OCKAM_OK);
            assert_null(id);
            free(c);
        }
        free(b);
    }
}

static void
bad_hex_is_ehex(void **state)
{
    ockam_identity *id = NULL;
    assert_int_equal(ockam_identity_import_hex("8", 1, NULL, &id), OCKAM_EHEX);
    assert_int_equal(ockam_identity_import_hex("zz", 2, NULL, &id), OCKAM_EHEX);
    /* Upper case is hex too. */
    char *up = strdup(TV_ED25519_HISTORY);
    for (char *p = up; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    ockam_identity_free(import_hex_ok(up, TV_ED25519_ID));
    free(up);
}

static void
trailing_bytes_are_refused(void **state)
{
    size_t len;
    uint8_t *b = tu_hex(TV_ED25519_HISTORY, &len);
    uint8_t *c = malloc(len + 1);
    memcpy(c, b, len);
    c[len] = 0x00;
    ockam_identity *id = NULL;
    assert_int_equal(ockam_identity_import(c, len + 1, NULL, &id), OCKAM_ETRAILING);
    free(c);
    free(b);
}

static void
identifier_parse_and_format(void **state)
{
    uint8_t raw[32];
    char text[OCKAM_IDENTIFIER_STR_SIZE];
    assert_int_equal(ockam_identifier_parse(TV_P256_ID, raw), OCKAM_OK);
    ockam_identifier_format(raw, text);
    assert_string_equal(text, TV_P256_ID);
    assert_int_equal(ockam_identifier_parse("X84502ce0", raw), OCKAM_EIDENTIFIER);
    assert_int_equal(ockam_identifier_parse(
                         "I84502ce0d9a0a91bae29026b84e19be69fb4203a6bdd1424c85a43c812772a0g", raw),
        OCKAM_EIDENTIFIER);
    assert_int_equal(ockam_identifier_parse(
                         "I84502ce0d9a0a91bae29026b84e19be69fb4203a6bdd1424c85a43c812772a000", raw),
        OCKAM_EIDENTIFIER);
}

/* ---- creation, export/import, rotation ---------------------------------------------- */

static void
create_export_import_round_trip(void **state)
{
    ockam_vault *v = NULL;
    ockam_identity *id = NULL, *back = NULL;
    assert_int_equal(ockam_vault_memory_new(&v), OCKAM_OK);
    assert_int_equal(ockam_identity_create(v, NOW, OCKAM_IDENTITY_DEFAULT_TTL_S, &id), OCKAM_OK);
    assert_true(ockam_identity_can_sign(id));
    assert_int_equal(strlen(ockam_identity_identifier(id)), 65);
    assert_int_equal(ockam_identity_identifier(id)[0], 'I');
    assert_int_equal(id->changes[0].valid_from, NOW);
    assert_int_equal(id->changes[0].valid_until, NOW + OCKAM_IDENTITY_DEFAULT_TTL_S);

    /* Bytes. */
    ockam_slice s = ockam_identity_export(id);
    assert_int_equal(
        ockam_identity_import(s.ptr, s.len, ockam_identity_identifier(id), &back), OCKAM_OK);
    assert_string_equal(ockam_identity_identifier(back), ockam_identity_identifier(id));
    assert_false(ockam_identity_can_sign(back));
    ockam_identity_free(back);
    /* Hex. */
    char *hex = NULL;
    assert_int_equal(ockam_identity_export_hex(id, &hex), OCKAM_OK);
    back = import_hex_ok(hex, ockam_identity_identifier(id));
    ockam_free(hex);
    ockam_identity_free(back);
    /* Load with the vault: can sign; the key is labelled with the identifier. */
    assert_int_equal(ockam_identity_load(v, s.ptr, s.len, &back), OCKAM_OK);
    assert_true(ockam_identity_can_sign(back));
    uint8_t pub[32];
    assert_int_equal(
        ockam_vault_find(v, OCKAM_KEY_ED25519, ockam_identity_identifier(id), pub), OCKAM_OK);
    assert_memory_equal(pub, id->changes[0].key.key, 32);
    ockam_identity_free(back);
    /* Another vault lacks the key. */
    ockam_vault *other = NULL;
    assert_int_equal(ockam_vault_memory_new(&other), OCKAM_OK);
    assert_int_equal(ockam_identity_load(other, s.ptr, s.len, &back), OCKAM_ENOKEY);
    assert_null(back);
    /* A P-256 identity cannot be loaded for signing (we sign with Ed25519 only). */
    size_t plen;
    uint8_t *p = tu_hex(TV_P256_HISTORY, &plen);
    assert_int_equal(ockam_identity_load(other, p, plen, &back), OCKAM_ENOKEY);
    free(p);
    ockam_vault_free(other);
    ockam_identity_free(id);
    ockam_vault_free(v);
}

static void
two_identities_differ(void **state)
{
    ockam_vault *v = NULL;
    ockam_identity *a = NULL, *b = NULL;
    assert_int_equal(ockam_vault_memory_new(&v), OCKAM_OK);
    assert_int_equal(ockam_identity_create(v, NOW, DAY, &a), OCKAM_OK);
    assert_int_equal(ockam_identity_create(v, NOW, DAY, &b), OCKAM_OK);
    assert_string_not_equal(ockam_identity_identifier(a), ockam_identity_identifier(b));
    ockam_identity_free(a);
    ockam_identity_free(b);
    ockam_vault_free(v);
}

static void
rotation_keeps_identifier_and_chains(void **state)
{
    ockam_vault *v = NULL;
    ockam_identity *id = NULL, *back = NULL;
    assert_int_equal(ockam_vault_memory_new(&v), OCKAM_OK);
    assert_int_equal(ockam_identity_create(v, NOW, 10 * DAY, &id), OCKAM_OK);
    char ident[OCKAM_IDENTIFIER_STR_SIZE];
    strcpy(ident, ockam_identity_identifier(id));
    uint8_t first_key[32];
    memcpy(first_key, id->changes[0].key.key, 32);

    for (int i = 1; i <= 3; i++) {
        assert_int_equal(ockam_identity_rotate(id, NOW + (uint64_t)i * DAY, 10 * DAY), OCKAM_OK);
        assert_string_equal(ockam_identity_identifier(id), ident);
        assert_int_equal(ockam_identity_change_count(id), (size_t)i + 1);
        assert_memory_not_equal(id->changes[i].key.key, id->changes[i - 1].key.key, 32);
        /* The old key is gone from the vault, the new one is there. */
        assert_int_equal(
            ockam_vault_has(v, OCKAM_KEY_ED25519, id->changes[i - 1].key.key), OCKAM_ENOKEY);
        assert_int_equal(ockam_vault_has(v, OCKAM_KEY_ED25519, id->changes[i].key.key), OCKAM_OK);
    }
    ockam_slice s = ockam_identity_export(id);
    assert_int_equal(ockam_identity_import(s.ptr, s.len, ident, &back), OCKAM_OK);
    assert_int_equal(ockam_identity_change_count(back), 4);
    assert_memory_equal(back->changes[0].key.key, first_key, 32);
    ockam_identity_free(back);
    assert_int_equal(ockam_identity_load(v, s.ptr, s.len, &back), OCKAM_OK);
    ockam_identity_free(back);

    /* Rotating to a start before the current key's start is refused. */
    assert_int_equal(ockam_identity_rotate(id, NOW, DAY), OCKAM_EINVAL);
    /* A public-only identity cannot rotate. */
    assert_int_equal(ockam_identity_import(s.ptr, s.len, NULL, &back), OCKAM_OK);
    assert_int_equal(ockam_identity_rotate(back, NOW + 9 * DAY, DAY), OCKAM_EINVAL);
    ockam_identity_free(back);
    ockam_identity_free(id);
    ockam_vault_free(v);
}

/* ---- built histories: P-256 rotations and every broken chain ------------------------ */

typedef struct chain {
    tu_key k[3];
    ockam__wbuf w;
    uint8_t h[3][32];
} chain;

static void
chain_free(chain *c)
{
    for (int i = 0; i < 3; i++)
        tu_key_free(&c->k[i]);
    ockam__wbuf_free(&c->w);
}

static ockam_err
import_built(const chain *c, size_t n, ockam_identity **out)
{
    size_t len;
    uint8_t *h = tu_history(&c->w, n, &len);
    ockam_err err = ockam_identity_import(h, len, NULL, out);
    ockam_free(h);
    return err;
}

/* Three changes with the given key types and one option tweak on the third change. */
static ockam_err
three_changes(const int types[3], void (*tweak)(tu_change_opts *o, chain *c), ockam_identity **out)
{
    chain c = {0};
    for (int i = 0; i < 3; i++)
        tu_key_new(&c.k[i], types[i]);
    for (int i = 0; i < 3; i++) {
        tu_change_opts o = {
            .key = &c.k[i],
            .prev_key = i ? &c.k[i - 1] : NULL,
            .prev_hash = i ? c.h[i - 1] : NULL,
            .from = NOW + (uint64_t)i * DAY,
            .until = NOW + 100 * DAY,
        };
        if (i == 2 && tweak)
            tweak(&o, &c);
        tu_change(&c.w, &o, c.h[i]);
    }
    ockam_err err = import_built(&c, 3, out);
    chain_free(&c);
    return err;
}

static void
p256_and_mixed_rotations_verify(void **state)
{
    const int all_p256[3] = {OCKAM__KEY_P256, OCKAM__KEY_P256, OCKAM__KEY_P256};
    const int mixed[3] = {OCKAM__KEY_ED25519, OCKAM__KEY_P256, OCKAM__KEY_ED25519};
    const int *cases[] = {all_p256, mixed};
    for (int i = 0; i < 2; i++) {
        ockam_identity *id = NULL;
        assert_int_equal(three_changes(cases[i], NULL, &id), OCKAM_OK);
        assert_int_equal(ockam_identity_change_count(id), 3);
        assert_int_equal(id->changes[2].key.type, cases[i][2]);
        /* The identifier is the first change's hash, whatever follows. */
        assert_memory_equal(id->id, id->changes[0].hash, 32);
        ockam_identity_free(id);
    }
}

static void
tw_bad_sig(tu_change_opts *o, chain *c)
{
    o->bad_sig = true;
}
static void
tw_bad_prev_sig(tu_change_opts *o, chain *c)
{
    o->bad_prev_sig = true;
}
static void
tw_omit_prev_sig(tu_change_opts *o, chain *c)
{
    o->omit_prev_sig = true;
}
static void
tw_wrong_prev_hash(tu_change_opts *o, chain *c)
{
    o->prev_hash = c->h[0];
}
static void
tw_no_prev_hash(tu_change_opts *o, chain *c)
{
    o->prev_hash = NULL;
}
static void
tw_earlier_start(tu_change_opts *o, chain *c)
{
    o->from = NOW;
}
static void
tw_version(tu_change_opts *o, chain *c)
{
    o->version = 2;
}
static void
tw_data_type(tu_change_opts *o, chain *c)
{
    o->data_type = 2;
}
/* Signed by a key that is not the previous one. */
static void
tw_prev_signer(tu_change_opts *o, chain *c)
{
    o->prev_key = &c->k[0];
}

static void
broken_chains_have_their_error(void **state)
{
    static const struct {
        void (*tweak)(tu_change_opts *, chain *);
        ockam_err want;
    } cases[] = {
        {tw_bad_sig, OCKAM_ESIGNATURE},
        {tw_bad_prev_sig, OCKAM_ESIGNATURE},
        {tw_omit_prev_sig, OCKAM_ECHAIN},
        {tw_wrong_prev_hash, OCKAM_ECHAIN},
        {tw_no_prev_hash, OCKAM_ECHAIN},
        {tw_earlier_start, OCKAM_ECHAIN},
        {tw_version, OCKAM_EVERSION},
        {tw_data_type, OCKAM_EDATATYPE},
        {tw_prev_signer, OCKAM_ESIGNATURE},
    };
    const int types[2][3] = {{OCKAM__KEY_ED25519, OCKAM__KEY_ED25519, OCKAM__KEY_ED25519},
        {OCKAM__KEY_P256, OCKAM__KEY_P256, OCKAM__KEY_P256}};
    for (int t = 0; t < 2; t++) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            ockam_identity *id = NULL;
            ockam_err err = three_changes(types[t], cases[i].tweak, &id);
            if (err != cases[i].want)
                fail_msg("types %d case %zu: %s, want %s", t, i, ockam_err_name(err),
                    ockam_err_name(cases[i].want));
            assert_null(id);
        }
    }
}

static void
first_change_naming_a_previous_one_is_refused(void **state)
{
    chain c = {0};
    uint8_t fake[32] = {1};
    tu_key_new(&c.k[0], OCKAM__KEY_ED25519);
    tu_change_opts o = {.key = &c.k[0], .prev_hash = fake, .from = NOW, .until = NOW + DAY};
    tu_change(&c.w, &o, c.h[0]);
    ockam_identity *id = NULL;
    assert_int_equal(import_built(&c, 1, &id), OCKAM_ECHAIN);
    chain_free(&c);
}

static void
changes_out_of_order_are_refused(void **state)
{
    /* Changes 1 and 2 swapped: the second no longer names the first. */
    chain c = {0};
    ockam__wbuf one = {0}, two = {0};
    tu_key_new(&c.k[0], OCKAM__KEY_ED25519);
    tu_key_new(&c.k[1], OCKAM__KEY_ED25519);
    tu_change_opts o1 = {.key = &c.k[0], .from = NOW, .until = NOW + DAY};
    tu_change(&one, &o1, c.h[0]);
    tu_change_opts o2 = {
        .key = &c.k[1], .prev_key = &c.k[0], .prev_hash = c.h[0], .from = NOW, .until = NOW + DAY};
    tu_change(&two, &o2, c.h[1]);
    ockam__wbuf_raw(&c.w, two.p, two.len);
    ockam__wbuf_raw(&c.w, one.p, one.len);
    ockam_identity *id = NULL;
    assert_int_equal(import_built(&c, 2, &id), OCKAM_ECHAIN);
    ockam__wbuf_free(&one);
    ockam__wbuf_free(&two);
    chain_free(&c);
}

static void
malformed_cbor_has_its_error(void **state)
{
    static const struct {
        const char *hex;
        ockam_err want;
    } cases[] = {
        {"80", OCKAM_ECHAIN},         /* no change at all */
        {"a0", OCKAM_ECBORTYPE},      /* a map, not an array */
        {"9f", OCKAM_ECBORINDEF},     /* indefinite array */
        {"81", OCKAM_ETRUNCATED},     /* one change announced, none there */
        {"818158", OCKAM_ETRUNCATED}, /* change too short */
        {"8181f6", OCKAM_ETRUNCATED}, /* a change of one element (plausibility) */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len;
        uint8_t *b = tu_hex(cases[i].hex, &len);
        ockam_identity *id = NULL;
        ockam_err err = ockam_identity_import(b, len, NULL, &id);
        if (err != cases[i].want)
            fail_msg("case %s: %s, want %s", cases[i].hex, ockam_err_name(err),
                ockam_err_name(cases[i].want));
        free(b);
    }
    /* The vector with an unknown signature variant (2) in place of 0. */
    size_t len;
    uint8_t *b = tu_hex(TV_ED25519_HISTORY, &len);
    /* ... 82 00 81 58 40 <sig>: the variant byte sits 68 bytes from the end. */
    assert_int_equal(b[len - 68], 0x00);
    b[len - 68] = 0x02;
    ockam_identity *id = NULL;
    assert_int_equal(ockam_identity_import(b, len, NULL, &id), OCKAM_EKEYTYPE);
    /* Signature variant P-256 for an Ed25519 key. */
    b[len - 68] = 0x01;
    assert_int_equal(ockam_identity_import(b, len, NULL, &id), OCKAM_EKEYTYPE);
    free(b);
}

/* Signatures that verified are remembered per thread (a peer's history and attestation come
 * back with every handshake): a hit must be exactly the same key, hash and signature. */
static void
remembered_signatures_match_exactly(void **state)
{
    uint8_t seed[32], other_seed[32], hash[32], other_hash[32];
    ockam__pubkey key = {.type = OCKAM__KEY_ED25519, .len = 32};
    ockam__pubkey other = {.type = OCKAM__KEY_ED25519, .len = 32};
    ockam__sig sig = {.type = OCKAM__KEY_ED25519};
    assert_int_equal(ockam__ed25519_keygen(seed, key.key), OCKAM_OK);
    assert_int_equal(ockam__ed25519_keygen(other_seed, other.key), OCKAM_OK);
    memset(hash, 0x5a, sizeof hash);
    memset(other_hash, 0x5a, sizeof other_hash);
    other_hash[31] ^= 1;
    assert_int_equal(ockam__ed25519_sign(seed, hash, 32, sig.sig), OCKAM_OK);
    assert_int_equal(ockam__sig_verify(&key, hash, &sig), OCKAM_OK);
    assert_int_equal(ockam__sig_verify(&key, hash, &sig), OCKAM_OK); /* remembered */
    assert_int_equal(ockam__sig_verify(&key, other_hash, &sig), OCKAM_ESIGNATURE);
    assert_int_equal(ockam__sig_verify(&other, hash, &sig), OCKAM_ESIGNATURE);
    ockam__sig bad = sig;
    bad.sig[10] ^= 0x04;
    assert_int_equal(ockam__sig_verify(&key, hash, &bad), OCKAM_ESIGNATURE);
    ockam__sig p256 = sig;
    p256.type = OCKAM__KEY_P256;
    assert_int_equal(ockam__sig_verify(&key, hash, &p256), OCKAM_EKEYTYPE);
    /* Many other signatures later (the oldest are forgotten), still the same answers. */
    for (int i = 0; i < 40; i++) {
        ockam__sig s = {.type = OCKAM__KEY_ED25519};
        other_hash[0] = (uint8_t)i;
        assert_int_equal(ockam__ed25519_sign(other_seed, other_hash, 32, s.sig), OCKAM_OK);
        assert_int_equal(ockam__sig_verify(&other, other_hash, &s), OCKAM_OK);
    }
    assert_int_equal(ockam__sig_verify(&key, hash, &sig), OCKAM_OK);
    assert_int_equal(ockam__sig_verify(&key, hash, &bad), OCKAM_ESIGNATURE);
    ockam_secure_zero(seed, sizeof seed);
    ockam_secure_zero(other_seed, sizeof other_seed);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ed25519_vector_verifies_and_derives_identifier),
        cmocka_unit_test(remembered_signatures_match_exactly),
        cmocka_unit_test(p256_vector_verifies_and_derives_identifier),
        cmocka_unit_test(vectors_with_a_flipped_signature_bit_are_refused),
        cmocka_unit_test(vector_with_another_expected_identifier_is_refused),
        cmocka_unit_test(every_truncation_is_an_error_never_a_crash),
        cmocka_unit_test(bad_hex_is_ehex),
        cmocka_unit_test(trailing_bytes_are_refused),
        cmocka_unit_test(identifier_parse_and_format),
        cmocka_unit_test(create_export_import_round_trip),
        cmocka_unit_test(two_identities_differ),
        cmocka_unit_test(rotation_keeps_identifier_and_chains),
        cmocka_unit_test(p256_and_mixed_rotations_verify),
        cmocka_unit_test(broken_chains_have_their_error),
        cmocka_unit_test(first_change_naming_a_previous_one_is_refused),
        cmocka_unit_test(changes_out_of_order_are_refused),
        cmocka_unit_test(malformed_cbor_has_its_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
