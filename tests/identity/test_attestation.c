/* Purpose-key attestations and the secure-channel payload: created, verified, and refused
 * for every rule of Ockam's verification (time, subject, latest change, window, types,
 * signature, key binding). */
#include "identity/crypto.h"
#include "identity/sc_payload.h"
#include "identity_util.h"

#include <stdlib.h>

#define NOW 1765000000ull
#define DAY 86400ull

typedef struct fixture {
    ockam_vault *vault;
    ockam_identity *id;
    uint8_t x[32]; /* an X25519 public key */
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_int_equal(ockam_vault_memory_new(&f->vault), OCKAM_OK);
    assert_int_equal(ockam_identity_create(f->vault, NOW, 100 * DAY, &f->id), OCKAM_OK);
    assert_int_equal(ockam_vault_generate(f->vault, OCKAM_KEY_X25519, "x", f->x), OCKAM_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    ockam_identity_free(f->id);
    ockam_vault_free(f->vault);
    free(f);
    return 0;
}

static ockam_err
attest_and_verify(fixture *f, uint64_t created, uint64_t expires, uint64_t now)
{
    uint8_t *att = NULL, got[32];
    size_t len = 0;
    assert_int_equal(
        ockam_identity_attest_sc_key(f->id, f->x, created, expires, &att, &len), OCKAM_OK);
    ockam_err err = ockam_attestation_verify(f->id, att, len, now, got);
    if (!err)
        assert_memory_equal(got, f->x, 32);
    ockam_free(att);
    return err;
}

static void
attestation_verifies(void **state)
{
    fixture *f = *state;
    assert_int_equal(attest_and_verify(f, NOW, NOW + DAY, NOW), OCKAM_OK);
    /* A public-only copy of the identity verifies it just the same. */
    uint8_t *att = NULL, got[32];
    size_t len;
    ockam_identity *pub = NULL;
    ockam_slice s = ockam_identity_export(f->id);
    assert_int_equal(ockam_identity_import(s.ptr, s.len, NULL, &pub), OCKAM_OK);
    assert_int_equal(ockam_identity_attest_sc_key(pub, f->x, NOW, NOW + DAY, &att, &len),
        OCKAM_EINVAL); /* cannot sign */
    assert_int_equal(
        ockam_identity_attest_sc_key(f->id, f->x, NOW, NOW + DAY, &att, &len), OCKAM_OK);
    assert_int_equal(ockam_attestation_verify(pub, att, len, NOW + 5, got), OCKAM_OK);
    assert_memory_equal(got, f->x, 32);
    ockam_free(att);
    ockam_identity_free(pub);
}

static void
time_rules(void **state)
{
    fixture *f = *state;
    /* Created up to 60 s in the future is tolerated (clock drift), 61 s is not. */
    assert_int_equal(attest_and_verify(f, NOW + 60, NOW + DAY, NOW), OCKAM_OK);
    assert_int_equal(attest_and_verify(f, NOW + 61, NOW + DAY, NOW), OCKAM_EFUTURE);
    /* Valid through its expiry second, expired after it. */
    assert_int_equal(attest_and_verify(f, NOW, NOW + DAY, NOW + DAY), OCKAM_OK);
    assert_int_equal(attest_and_verify(f, NOW, NOW + DAY, NOW + DAY + 1), OCKAM_EEXPIRED);
    /* Creation outside the identity key's window is refused at the source. */
    uint8_t *att = NULL;
    size_t len;
    assert_int_equal(
        ockam_identity_attest_sc_key(f->id, f->x, NOW - 1, NOW + DAY, &att, &len), OCKAM_EINVAL);
    assert_int_equal(
        ockam_identity_attest_sc_key(f->id, f->x, NOW, NOW + 101 * DAY, &att, &len), OCKAM_EINVAL);
    assert_int_equal(
        ockam_identity_attest_sc_key(f->id, f->x, NOW + 2, NOW + 1, &att, &len), OCKAM_EINVAL);
}

static void
rotation_makes_old_attestations_stale(void **state)
{
    fixture *f = *state;
    uint8_t *att = NULL, got[32];
    size_t len;
    assert_int_equal(
        ockam_identity_attest_sc_key(f->id, f->x, NOW, NOW + DAY, &att, &len), OCKAM_OK);
    assert_int_equal(ockam_identity_rotate(f->id, NOW + 10, 100 * DAY), OCKAM_OK);
    assert_int_equal(ockam_attestation_verify(f->id, att, len, NOW + 20, got), OCKAM_EATTESTATION);
    ockam_free(att);
    /* Attested again under the new key, it verifies. */
    assert_int_equal(attest_and_verify(f, NOW + 10, NOW + DAY, NOW + 20), OCKAM_OK);
}

/* An attestation made by hand, signed with the identity's key through its vault, so that
 * every field can be wrong in turn. */
typedef struct craft {
    const uint8_t *subject, *latest;
    uint8_t variant; /* 0 SecureChannelStatic, 1 CredentialSigning */
    uint64_t created, expires, version, data_type;
    bool bad_sig;
} craft;

static uint8_t *
crafted(fixture *f, const craft *c, size_t *len)
{
    ockam__wbuf d = {0}, vd = {0}, out = {0};
    ockam__wbuf_head(&d, OCKAM__CBOR_ARRAY, 5);
    ockam__wbuf_bytes(&d, c->subject ? c->subject : f->id->id, 32);
    ockam__wbuf_bytes(&d, c->latest ? c->latest : f->id->changes[f->id->count - 1].hash, 32);
    if (c->variant == 0) {
        ockam__wbuf_variant_bytes(&d, 0, f->x, 32);
    } else {
        ockam__wbuf_head(&d, OCKAM__CBOR_ARRAY, 2);
        ockam__wbuf_head(&d, OCKAM__CBOR_UINT, 1);
        ockam__wbuf_head(&d, OCKAM__CBOR_ARRAY, 1);
        ockam__wbuf_variant_bytes(&d, 0, f->x, 32);
    }
    ockam__wbuf_head(&d, OCKAM__CBOR_UINT, c->created ? c->created : NOW);
    ockam__wbuf_head(&d, OCKAM__CBOR_UINT, c->expires ? c->expires : NOW + DAY);
    ockam__wbuf_head(&vd, OCKAM__CBOR_ARRAY, 3);
    ockam__wbuf_head(&vd, OCKAM__CBOR_UINT, c->version ? c->version : 1);
    ockam__wbuf_head(&vd, OCKAM__CBOR_UINT, c->data_type ? c->data_type : 2);
    ockam__wbuf_bytes(&vd, d.p, d.len);
    uint8_t hash[32], sig[64];
    assert_int_equal(EVP_Digest(vd.p, vd.len, hash, NULL, EVP_sha256(), NULL), 1);
    assert_int_equal(
        ockam_vault_sign(f->vault, f->id->changes[f->id->count - 1].key.key, hash, 32, sig),
        OCKAM_OK);
    if (c->bad_sig)
        sig[0] ^= 1;
    ockam__wbuf_head(&out, OCKAM__CBOR_ARRAY, 2);
    ockam__wbuf_bytes(&out, vd.p, vd.len);
    ockam__wbuf_variant_bytes(&out, 0, sig, 64);
    ockam__wbuf_free(&d);
    ockam__wbuf_free(&vd);
    assert_false(out.oom);
    *len = out.len;
    return out.p;
}

static void
every_rule_has_its_error(void **state)
{
    fixture *f = *state;
    uint8_t other[32] = {7};
    const struct {
        craft c;
        ockam_err want;
    } cases[] = {
        {{0}, OCKAM_OK},
        {{.subject = other}, OCKAM_EIDENTIFIER},
        {{.latest = other}, OCKAM_EATTESTATION},
        {{.created = NOW - 1}, OCKAM_EATTESTATION},         /* before the key's window */
        {{.expires = NOW + 101 * DAY}, OCKAM_EATTESTATION}, /* after it */
        {{.created = NOW + 61}, OCKAM_EFUTURE},
        {{.expires = NOW - 1, .created = NOW}, OCKAM_EEXPIRED},
        {{.version = 2}, OCKAM_EVERSION},
        {{.data_type = 1}, OCKAM_EDATATYPE},
        {{.data_type = 3}, OCKAM_EDATATYPE},
        {{.variant = 1}, OCKAM_EKEYTYPE},
        {{.bad_sig = true}, OCKAM_ESIGNATURE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len;
        uint8_t *att = crafted(f, &cases[i].c, &len), got[32];
        ockam_err err = ockam_attestation_verify(f->id, att, len, NOW, got);
        if (err != cases[i].want)
            fail_msg(
                "case %zu: %s, want %s", i, ockam_err_name(err), ockam_err_name(cases[i].want));
        /* And no truncation of it is accepted. */
        for (size_t n = 0; n < len; n++) {
            uint8_t *c = malloc(n ? n : 1);
            memcpy(c, att, n);
            assert_int_not_equal(ockam_attestation_verify(f->id, c, n, NOW, got), OCKAM_OK);
            free(c);
        }
        ockam_free(att);
    }
}

static void
attestation_of_another_identity_is_refused(void **state)
{
    fixture *f = *state;
    ockam_identity *other = NULL;
    uint8_t *att = NULL, got[32];
    size_t len;
    assert_int_equal(ockam_identity_create(f->vault, NOW, DAY, &other), OCKAM_OK);
    assert_int_equal(
        ockam_identity_attest_sc_key(other, f->x, NOW, NOW + DAY, &att, &len), OCKAM_OK);
    assert_int_equal(ockam_attestation_verify(f->id, att, len, NOW, got), OCKAM_EIDENTIFIER);
    ockam_free(att);
    ockam_identity_free(other);
}

/* ---- the secure-channel payload ----------------------------------------------------- */

static void
sc_payload_round_trip(void **state)
{
    fixture *f = *state;
    ockam__sc_creds c, again;
    char ident[66];
    assert_int_equal(ockam__sc_creds_make(f->id, NOW, OCKAM_SC_KEY_DEFAULT_TTL_S, &c), OCKAM_OK);
    /* The secret matches the public key. */
    uint8_t pub[32];
    assert_int_equal(ockam__x25519_public(c.static_secret, pub), OCKAM_OK);
    assert_memory_equal(pub, c.static_public, 32);
    assert_int_equal(
        ockam__sc_payload_verify(c.payload, c.payload_len, c.static_public, NOW + 1, ident),
        OCKAM_OK);
    assert_string_equal(ident, ockam_identity_identifier(f->id));
    /* Shape: [history, attestation, []] with the history byte for byte. */
    ockam_slice h = ockam_identity_export(f->id);
    assert_int_equal(c.payload[0], 0x83);
    assert_memory_equal(c.payload + 1, h.ptr, h.len);
    assert_int_equal(c.payload[c.payload_len - 1], 0x80);

    /* One secure-channel key per identity: the next make reuses it. */
    assert_int_equal(ockam__sc_creds_make(f->id, NOW + 100, DAY, &again), OCKAM_OK);
    assert_memory_equal(again.static_public, c.static_public, 32);
    ockam__sc_creds_clear(&again);

    /* A key the attestation does not name. */
    uint8_t wrong[32];
    memcpy(wrong, c.static_public, 32);
    wrong[0] ^= 1;
    assert_int_equal(ockam__sc_payload_verify(c.payload, c.payload_len, wrong, NOW + 1, ident),
        OCKAM_EKEYMISMATCH);
    /* The attestation is capped at the identity key's end (100 days here, not 5 years). */
    assert_int_equal(
        ockam__sc_payload_verify(c.payload, c.payload_len, c.static_public, NOW + 100 * DAY, ident),
        OCKAM_OK);
    assert_int_equal(ockam__sc_payload_verify(
                         c.payload, c.payload_len, c.static_public, NOW + 100 * DAY + 1, ident),
        OCKAM_EEXPIRED);
    /* Presented before it was made (a peer clock 61 s behind). */
    assert_int_equal(
        ockam__sc_payload_verify(c.payload, c.payload_len, c.static_public, NOW - 61, ident),
        OCKAM_EFUTURE);
    ockam__sc_creds_clear(&c);
    uint8_t zero[32] = {0};
    assert_memory_equal(c.static_secret, zero, 32);
    assert_null(c.payload);
}

static void
sc_payload_after_rotation(void **state)
{
    fixture *f = *state;
    ockam__sc_creds c;
    char ident[66];
    assert_int_equal(ockam_identity_rotate(f->id, NOW + 5, 100 * DAY), OCKAM_OK);
    assert_int_equal(ockam__sc_creds_make(f->id, NOW + 6, DAY, &c), OCKAM_OK);
    assert_int_equal(
        ockam__sc_payload_verify(c.payload, c.payload_len, c.static_public, NOW + 7, ident),
        OCKAM_OK);
    assert_string_equal(ident, ockam_identity_identifier(f->id));
    ockam__sc_creds_clear(&c);
}

static void
sc_payload_needs_a_signing_identity(void **state)
{
    fixture *f = *state;
    ockam__sc_creds c;
    ockam_identity *pub = NULL;
    ockam_slice s = ockam_identity_export(f->id);
    assert_int_equal(ockam_identity_import(s.ptr, s.len, NULL, &pub), OCKAM_OK);
    assert_int_equal(ockam__sc_creds_make(pub, NOW, DAY, &c), OCKAM_EINVAL);
    assert_null(c.payload);
    ockam_identity_free(pub);
}

/* [history, attestation, credentials] rebuilt from parts. */
static uint8_t *
payload_of(ockam_slice h, const uint8_t *att, size_t att_len, const char *creds_hex, size_t *len)
{
    ockam__wbuf w = {0};
    size_t cl;
    uint8_t *creds = tu_hex(creds_hex, &cl);
    ockam__wbuf_head(&w, OCKAM__CBOR_ARRAY, 3);
    ockam__wbuf_raw(&w, h.ptr, h.len);
    ockam__wbuf_raw(&w, att, att_len);
    ockam__wbuf_raw(&w, creds, cl);
    free(creds);
    *len = w.len;
    return w.p;
}

static void
sc_payload_bad_inputs(void **state)
{
    fixture *f = *state;
    ockam__sc_creds c;
    char ident[66];
    assert_int_equal(ockam__sc_creds_make(f->id, NOW, DAY, &c), OCKAM_OK);
    /* Every truncation fails cleanly. */
    for (size_t n = 0; n < c.payload_len; n++) {
        uint8_t *t = malloc(n ? n : 1);
        memcpy(t, c.payload, n);
        assert_int_not_equal(ockam__sc_payload_verify(t, n, c.static_public, NOW, ident), OCKAM_OK);
        free(t);
    }
    /* Credentials are ignored when well-formed (no authority to check them against), and
     * must be an array. */
    ockam_slice h = ockam_identity_export(f->id);
    uint8_t *att = NULL;
    size_t att_len, len;
    assert_int_equal(
        ockam_identity_attest_sc_key(f->id, c.static_public, NOW, NOW + DAY, &att, &len), OCKAM_OK);
    att_len = len;
    uint8_t *p = payload_of(h, att, att_len, "818241004101", &len);
    assert_int_equal(ockam__sc_payload_verify(p, len, c.static_public, NOW, ident), OCKAM_OK);
    ockam_free(p);
    p = payload_of(h, att, att_len, "a0", &len);
    assert_int_equal(
        ockam__sc_payload_verify(p, len, c.static_public, NOW, ident), OCKAM_ECBORTYPE);
    ockam_free(p);
    /* Another identity's history with this identity's attestation. */
    ockam_identity *other = NULL;
    assert_int_equal(ockam_identity_create(f->vault, NOW, DAY, &other), OCKAM_OK);
    p = payload_of(ockam_identity_export(other), att, att_len, "80", &len);
    assert_int_equal(
        ockam__sc_payload_verify(p, len, c.static_public, NOW, ident), OCKAM_EIDENTIFIER);
    ockam_free(p);
    ockam_identity_free(other);
    /* A history that does not verify. */
    uint8_t *bad = malloc(h.len);
    memcpy(bad, h.ptr, h.len);
    bad[h.len - 3] ^= 1;
    p = payload_of((ockam_slice) {bad, h.len}, att, att_len, "80", &len);
    assert_int_equal(
        ockam__sc_payload_verify(p, len, c.static_public, NOW, ident), OCKAM_ESIGNATURE);
    ockam_free(p);
    free(bad);
    /* Trailing bytes, fewer than three items. */
    uint8_t *longer = malloc(c.payload_len + 1);
    memcpy(longer, c.payload, c.payload_len);
    longer[c.payload_len] = 0;
    assert_int_equal(
        ockam__sc_payload_verify(longer, c.payload_len + 1, c.static_public, NOW, ident),
        OCKAM_ETRAILING);
    free(longer);
    uint8_t two[] = {0x82, 0x80, 0x80};
    assert_int_equal(
        ockam__sc_payload_verify(two, sizeof(two), c.static_public, NOW, ident), OCKAM_ECBORTYPE);
    ockam_free(att);
    ockam__sc_creds_clear(&c);
}

/* A peer whose identity key is ECDSA P-256 (as cloud-KMS identities are): its history and
 * its attestation, both signed with P-256, verify, and its payload too. */
static void
p256_identity_attestation_and_payload(void **state)
{
    tu_key k;
    ockam__wbuf changes = {0}, d = {0}, vd = {0}, att = {0}, pl = {0};
    uint8_t hash[32], sig[64], x[32] = {5}, xs[32];
    tu_key_new(&k, OCKAM__KEY_P256);
    tu_change_opts o = {.key = &k, .from = NOW, .until = NOW + DAY};
    tu_change(&changes, &o, hash);
    size_t hl;
    uint8_t *h = tu_history(&changes, 1, &hl);
    ockam_identity *id = NULL;
    assert_int_equal(ockam_identity_import(h, hl, NULL, &id), OCKAM_OK);
    assert_int_equal(ockam__x25519_public(x, xs), OCKAM_OK);

    ockam__wbuf_head(&d, OCKAM__CBOR_ARRAY, 5);
    ockam__wbuf_bytes(&d, id->id, 32);
    ockam__wbuf_bytes(&d, hash, 32);
    ockam__wbuf_variant_bytes(&d, 0, xs, 32);
    ockam__wbuf_head(&d, OCKAM__CBOR_UINT, NOW);
    ockam__wbuf_head(&d, OCKAM__CBOR_UINT, NOW + 3600);
    ockam__wbuf_versioned(&vd, OCKAM__DATA_ATTESTATION, &d);
    uint8_t vh[32], got[32];
    assert_int_equal(ockam__sha256(vd.p, vd.len, vh), OCKAM_OK);
    tu_sign(&k, vh, sig);
    ockam__wbuf_head(&att, OCKAM__CBOR_ARRAY, 2);
    ockam__wbuf_bytes(&att, vd.p, vd.len);
    ockam__wbuf_variant_bytes(&att, OCKAM__KEY_P256, sig, 64);
    assert_int_equal(ockam_attestation_verify(id, att.p, att.len, NOW + 1, got), OCKAM_OK);
    assert_memory_equal(got, xs, 32);

    ockam__wbuf_head(&pl, OCKAM__CBOR_ARRAY, 3);
    ockam__wbuf_raw(&pl, h, hl);
    ockam__wbuf_raw(&pl, att.p, att.len);
    ockam__wbuf_head(&pl, OCKAM__CBOR_ARRAY, 0);
    char ident[66];
    assert_int_equal(ockam__sc_payload_verify(pl.p, pl.len, xs, NOW + 1, ident), OCKAM_OK);
    assert_string_equal(ident, ockam_identity_identifier(id));
    /* The same attestation with the signature variant claiming Ed25519. */
    att.p[att.len - 68] = OCKAM__KEY_ED25519;
    assert_int_equal(ockam_attestation_verify(id, att.p, att.len, NOW + 1, got), OCKAM_EKEYTYPE);

    ockam_identity_free(id);
    ockam_free(h);
    ockam__wbuf_free(&changes);
    ockam__wbuf_free(&d);
    ockam__wbuf_free(&vd);
    ockam__wbuf_free(&att);
    ockam__wbuf_free(&pl);
    tu_key_free(&k);
}

/* Bytes encoded by Ockam's Rust code: the RefreshCredentials sample in Ockam's Elixir tests
 * (implementations/elixir/ockam/ockam/test/ockam/secure_channel/messages_test.exs). Its
 * subject's change history verifies with the subject's identifier, and its credential's
 * purpose-key attestation (a CredentialSigning key, attested by the authority
 * Ib1fea177...cf550) decodes field by field. The authority's history is not in the sample,
 * so that attestation's signature cannot be checked here. */
static const char RUST_SUBJECT_HISTORY[]
    = "81825837830101583285f682008158208bd01513a019c95d96553015b1b0a3014e7bd67c7f3c8e6223e83911"
      "1041f8d6f41a659c99fd1a78689cfd820081584067118992d037593809f8b217641aed54dc983f2847f95b20"
      "68207c3647beb73a60b0e14012c14bfee487c880f0f74d9f8a7d7abd3ef333f2f90f097ef366900c";
static const char RUST_CREDENTIAL_ATTESTATION[]
    = "82587c8301025877855820b1fea1775d75079abdb1e78b96921fa9ec340bc2b5aa70f37e65342d859cf55058"
      "20b1fea1775d75079abdb1e78b96921fa9ec340bc2b5aa70f37e65342d859cf5508201818200815820389852"
      "b0f4fee7b6b962442a924d1672c56b8813fb846a50da80db7e1bbe41591a659c9a2f1a6f029baf8200815840"
      "adf4a66e097de839d3539694a6c6a82a978ff009205df8bf7eb03b9990958b7c4e7037fd9d365cf220a2757e"
      "d60f0542f47965d8b9f354fd950841ce66304606";

static void
rust_encoded_records_decode(void **state)
{
    ockam_identity *id = NULL;
    assert_int_equal(ockam_identity_import_hex(RUST_SUBJECT_HISTORY, strlen(RUST_SUBJECT_HISTORY),
                         "I904192e6e480915e0d1256d3abf9c3c9c67bc2b4c41ffca77550d8a3f12fbb1e", &id),
        OCKAM_OK);
    ockam_identity_free(id);

    size_t len;
    uint8_t *att = tu_hex(RUST_CREDENTIAL_ATTESTATION, &len), authority[32];
    ockam__cbor_rd r = {att, len, 0};
    ockam_slice data, inner;
    ockam__sig sig;
    ockam__attestation_data ad;
    assert_int_equal(ockam__attestation_decode(&r, &data, &sig), OCKAM_OK);
    assert_int_equal(r.pos, len);
    assert_int_equal(sig.type, OCKAM__KEY_ED25519);
    assert_int_equal(
        ockam__versioned_decode(data.ptr, data.len, OCKAM__DATA_ATTESTATION, &inner), OCKAM_OK);
    assert_int_equal(ockam__versioned_decode(data.ptr, data.len, OCKAM__DATA_CREDENTIAL, &inner),
        OCKAM_EDATATYPE);
    assert_int_equal(
        ockam__versioned_decode(data.ptr, data.len, OCKAM__DATA_ATTESTATION, &inner), OCKAM_OK);
    assert_int_equal(ockam__attestation_data_decode(inner.ptr, inner.len, &ad), OCKAM_OK);
    assert_int_equal(
        ockam_identifier_parse(
            "Ib1fea1775d75079abdb1e78b96921fa9ec340bc2b5aa70f37e65342d859cf550", authority),
        OCKAM_OK);
    assert_memory_equal(ad.subject, authority, 32);
    assert_memory_equal(ad.latest_change, authority, 32); /* a one-change authority */
    assert_false(ad.secure_channel);                      /* CredentialSigning */
    assert_int_equal(ad.created_at, 0x659c9a2f);
    assert_int_equal(ad.expires_at, 0x6f029baf);
    free(att);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(attestation_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(time_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(rotation_makes_old_attestations_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(every_rule_has_its_error, setup, teardown),
        cmocka_unit_test_setup_teardown(
            attestation_of_another_identity_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(sc_payload_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(sc_payload_after_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(sc_payload_needs_a_signing_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(sc_payload_bad_inputs, setup, teardown),
        cmocka_unit_test(p256_identity_attestation_and_payload),
        cmocka_unit_test(rust_encoded_records_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
