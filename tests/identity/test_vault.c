/* Vaults: one suite run against the memory and the file vault (standard Ed25519 and X25519
 * vectors, labels, deletion, argument checks), then what only the file vault does:
 * permissions, persistence, atomic replacement, corrupt files. */
#include "identity/crypto.h"
#include "identity/sc_payload.h"
#include "identity/vault_internal.h"
#include "identity_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* RFC 8032 section 7.1, test 1 (empty message). */
static const char ED_SECRET[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char ED_PUBLIC[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char ED_SIG[] = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                             "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
/* RFC 7748 section 6.1. */
static const char X_A_SECRET[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char X_A_PUBLIC[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char X_B_SECRET[] = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char X_B_PUBLIC[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char X_SHARED[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

static void
h32(const char *hex, uint8_t out[32])
{
    assert_int_equal(tn_hex(hex, out, 32), 32);
}

/* ---- the suite every vault passes --------------------------------------------------- */

static void
suite_vectors(ockam_vault *v)
{
    uint8_t secret[32], pub[32], want[32], sig[64], want_sig[64], shared[32];
    h32(ED_SECRET, secret);
    h32(ED_PUBLIC, want);
    assert_int_equal(ockam_vault_import(v, OCKAM_KEY_ED25519, secret, "ed", pub), OCKAM_OK);
    assert_memory_equal(pub, want, 32);
    assert_int_equal(ockam_vault_sign(v, pub, NULL, 0, sig), OCKAM_OK);
    assert_int_equal(tn_hex(ED_SIG, want_sig, 64), 64);
    assert_memory_equal(sig, want_sig, 64);
    assert_int_equal(ockam__ed25519_verify(pub, (const uint8_t *)"", 0, sig), OCKAM_OK);

    h32(X_A_SECRET, secret);
    h32(X_A_PUBLIC, want);
    assert_int_equal(ockam_vault_import(v, OCKAM_KEY_X25519, secret, "xa", pub), OCKAM_OK);
    assert_memory_equal(pub, want, 32);
    uint8_t bob[32];
    h32(X_B_PUBLIC, bob);
    assert_int_equal(ockam_vault_ecdh(v, pub, bob, shared), OCKAM_OK);
    h32(X_SHARED, want);
    assert_memory_equal(shared, want, 32);
    /* And from Bob's side. */
    h32(X_B_SECRET, secret);
    assert_int_equal(ockam_vault_import(v, OCKAM_KEY_X25519, secret, "xb", pub), OCKAM_OK);
    assert_memory_equal(pub, bob, 32);
    h32(X_A_PUBLIC, want);
    assert_int_equal(ockam_vault_ecdh(v, bob, want, shared), OCKAM_OK);
    h32(X_SHARED, want);
    assert_memory_equal(shared, want, 32);
    /* The secret comes out for X25519 keys only. */
    assert_int_equal(ockam_vault_x25519_secret(v, bob, secret), OCKAM_OK);
    h32(X_B_SECRET, want);
    assert_memory_equal(secret, want, 32);
    h32(ED_PUBLIC, pub);
    assert_int_equal(ockam_vault_x25519_secret(v, pub, secret), OCKAM_ENOKEY);
    /* A low-order peer key (all zero) gives no shared secret. */
    memset(want, 0, 32);
    assert_int_equal(ockam_vault_ecdh(v, bob, want, shared), OCKAM_ECRYPTO);
    assert_memory_equal(shared, want, 32);
}

static void
suite_labels_and_delete(ockam_vault *v)
{
    uint8_t a[32], b[32], found[32], sig[64];
    assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_ED25519, "alpha", a), OCKAM_OK);
    assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_X25519, "alpha", b), OCKAM_OK);
    assert_int_equal(ockam_vault_find(v, OCKAM_KEY_ED25519, "alpha", found), OCKAM_OK);
    assert_memory_equal(found, a, 32);
    assert_int_equal(ockam_vault_find(v, OCKAM_KEY_X25519, "alpha", found), OCKAM_OK);
    assert_memory_equal(found, b, 32);
    assert_int_equal(ockam_vault_find(v, OCKAM_KEY_X25519, "beta", found), OCKAM_ENOKEY);
    assert_int_equal(ockam_vault_set_label(v, OCKAM_KEY_X25519, b, "beta"), OCKAM_OK);
    assert_int_equal(ockam_vault_find(v, OCKAM_KEY_X25519, "beta", found), OCKAM_OK);
    assert_int_equal(ockam_vault_find(v, OCKAM_KEY_X25519, "alpha", found), OCKAM_ENOKEY);
    /* Keys are typed: no signing with an X25519 key, no ECDH with an Ed25519 key. */
    assert_int_equal(ockam_vault_sign(v, b, (const uint8_t *)"m", 1, sig), OCKAM_ENOKEY);
    assert_int_equal(ockam_vault_ecdh(v, a, b, found), OCKAM_ENOKEY);
    assert_int_equal(ockam_vault_has(v, OCKAM_KEY_ED25519, a), OCKAM_OK);
    assert_int_equal(ockam_vault_delete(v, OCKAM_KEY_ED25519, a), OCKAM_OK);
    assert_int_equal(ockam_vault_has(v, OCKAM_KEY_ED25519, a), OCKAM_ENOKEY);
    assert_int_equal(ockam_vault_delete(v, OCKAM_KEY_ED25519, a), OCKAM_ENOKEY);
    assert_int_equal(ockam_vault_sign(v, a, (const uint8_t *)"m", 1, sig), OCKAM_ENOKEY);
    /* Many keys (the key ring grows). */
    for (int i = 0; i < 40; i++)
        assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_X25519, "many", found), OCKAM_OK);
    assert_int_equal(ockam_vault_has(v, OCKAM_KEY_X25519, b), OCKAM_OK);
}

static void
suite_arguments(ockam_vault *v)
{
    uint8_t pub[32], secret[32] = {1};
    char long_label[OCKAM_VAULT_LABEL_MAX + 2];
    memset(long_label, 'a', sizeof(long_label) - 1);
    long_label[sizeof(long_label) - 1] = '\0';
    assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_ED25519, long_label, pub), OCKAM_EINVAL);
    long_label[OCKAM_VAULT_LABEL_MAX] = '\0'; /* exactly the maximum is fine */
    assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_ED25519, long_label, pub), OCKAM_OK);
    assert_int_equal(ockam_vault_generate(v, (ockam_key_type)7, "x", pub), OCKAM_EINVAL);
    assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_ED25519, NULL, pub), OCKAM_EINVAL);
    assert_int_equal(ockam_vault_import(NULL, OCKAM_KEY_X25519, secret, "x", pub), OCKAM_EINVAL);
    assert_int_equal(ockam_vault_sign(v, pub, NULL, 3, (uint8_t[64]) {0}), OCKAM_EINVAL);
}

static void
run_suite(ockam_vault *v)
{
    suite_vectors(v);
    suite_labels_and_delete(v);
    suite_arguments(v);
}

static void
memory_vault_suite(void **state)
{
    ockam_vault *v = NULL;
    assert_int_equal(ockam_vault_memory_new(&v), OCKAM_OK);
    run_suite(v);
    ockam_vault_free(v);
}

/* ---- the file vault ----------------------------------------------------------------- */

typedef struct dirs {
    char root[64];
    char dir[128];  /* root/sub: made by the vault */
    char path[192]; /* dir/vault */
    char tmp[200];
} dirs;

static int
setup(void **state)
{
    dirs *d = calloc(1, sizeof(*d));
    strcpy(d->root, "/tmp/ockam-vault-XXXXXX");
    assert_non_null(mkdtemp(d->root));
    snprintf(d->dir, sizeof(d->dir), "%s/sub/deeper", d->root);
    snprintf(d->path, sizeof(d->path), "%s/vault", d->dir);
    snprintf(d->tmp, sizeof(d->tmp), "%s.tmp", d->path);
    *state = d;
    return 0;
}

static int
teardown(void **state)
{
    dirs *d = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->root);
    assert_int_equal(system(cmd), 0);
    free(d);
    return 0;
}

static ockam_vault *
open_ok(const dirs *d)
{
    ockam_vault *v = NULL;
    assert_int_equal(ockam_vault_file_open(d->path, &v), OCKAM_OK);
    return v;
}

static void
file_vault_suite_and_permissions(void **state)
{
    dirs *d = *state;
    ockam_vault *v = open_ok(d);
    struct stat st;
    assert_int_equal(stat(d->dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    run_suite(v);
    assert_int_equal(stat(d->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_not_equal(access(d->tmp, F_OK), 0); /* no temporary file left behind */
    ockam_vault_free(v);
}

static void
file_vault_persists(void **state)
{
    dirs *d = *state;
    uint8_t ed[32], x[32], found[32], sig1[64], sig2[64], gone[32];
    ockam_vault *v = open_ok(d);
    assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_ED25519, "id", ed), OCKAM_OK);
    assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_X25519, "sc", x), OCKAM_OK);
    assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_X25519, "gone", gone), OCKAM_OK);
    assert_int_equal(ockam_vault_delete(v, OCKAM_KEY_X25519, gone), OCKAM_OK);
    assert_int_equal(ockam_vault_sign(v, ed, (const uint8_t *)"hello", 5, sig1), OCKAM_OK);
    ockam_vault_free(v);

    v = open_ok(d);
    assert_int_equal(ockam_vault_find(v, OCKAM_KEY_ED25519, "id", found), OCKAM_OK);
    assert_memory_equal(found, ed, 32);
    assert_int_equal(ockam_vault_find(v, OCKAM_KEY_X25519, "sc", found), OCKAM_OK);
    assert_memory_equal(found, x, 32);
    assert_int_equal(ockam_vault_has(v, OCKAM_KEY_X25519, gone), OCKAM_ENOKEY);
    /* Ed25519 is deterministic: the same key signs the same bytes the same way. */
    assert_int_equal(ockam_vault_sign(v, ed, (const uint8_t *)"hello", 5, sig2), OCKAM_OK);
    assert_memory_equal(sig1, sig2, 64);
    ockam_vault_free(v);
}

static void
identity_and_channel_key_survive_a_restart(void **state)
{
    dirs *d = *state;
    ockam_vault *v = open_ok(d);
    ockam_identity *id = NULL;
    ockam__sc_creds c1, c2;
    assert_int_equal(ockam_identity_create(v, 1765000000, 86400, &id), OCKAM_OK);
    assert_int_equal(ockam__sc_creds_make(id, 1765000000, 3600, &c1), OCKAM_OK);
    char *hex = NULL;
    assert_int_equal(ockam_identity_export_hex(id, &hex), OCKAM_OK);
    ockam_identity_free(id);
    ockam_vault_free(v);

    v = open_ok(d);
    size_t len;
    uint8_t *h = tu_hex(hex, &len);
    assert_int_equal(ockam_identity_load(v, h, len, &id), OCKAM_OK);
    assert_int_equal(ockam__sc_creds_make(id, 1765000100, 3600, &c2), OCKAM_OK);
    assert_memory_equal(c1.static_public, c2.static_public, 32);
    assert_memory_equal(c1.static_secret, c2.static_secret, 32);
    char ident[66];
    assert_int_equal(
        ockam__sc_payload_verify(c2.payload, c2.payload_len, c2.static_public, 1765000100, ident),
        OCKAM_OK);
    assert_string_equal(ident, ockam_identity_identifier(id));
    ockam__sc_creds_clear(&c1);
    ockam__sc_creds_clear(&c2);
    free(h);
    ockam_free(hex);
    ockam_identity_free(id);
    ockam_vault_free(v);
}

static void
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static uint8_t *
read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *p = malloc(1 << 16);
    *n = fread(p, 1, 1 << 16, f);
    fclose(f);
    return p;
}

static void
one_owner_at_a_time(void **state)
{
    dirs *d = *state;
    ockam_vault *v = open_ok(d), *second = NULL;
    assert_int_equal(ockam_vault_file_open(d->path, &second), OCKAM_EBUSY);
    assert_null(second);
    ockam_vault_free(v);
    v = open_ok(d);
    ockam_vault_free(v);
}

static void
crash_leaves_old_vault(void **state)
{
    dirs *d = *state;
    uint8_t a[32], b[32];
    ockam_vault *v = open_ok(d);
    assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_ED25519, "a", a), OCKAM_OK);
    ockam_vault_free(v);
    /* A crash in the middle of the next write: a partial temporary file. */
    size_t n;
    uint8_t *img = read_all(d->path, &n);
    write_file(d->tmp, img, n / 2, 0600);
    v = open_ok(d);
    assert_int_equal(ockam_vault_has(v, OCKAM_KEY_ED25519, a), OCKAM_OK);
    /* The next write replaces the stale temporary file. */
    assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_ED25519, "b", b), OCKAM_OK);
    assert_int_not_equal(access(d->tmp, F_OK), 0);
    ockam_vault_free(v);
    v = open_ok(d);
    assert_int_equal(ockam_vault_has(v, OCKAM_KEY_ED25519, a), OCKAM_OK);
    assert_int_equal(ockam_vault_has(v, OCKAM_KEY_ED25519, b), OCKAM_OK);
    ockam_vault_free(v);
    free(img);
}

static void
failed_write_changes_nothing(void **state)
{
    dirs *d = *state;
    uint8_t a[32], b[32];
    ockam_vault *v = open_ok(d);
    assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_ED25519, "a", a), OCKAM_OK);
    size_t n1, n2;
    uint8_t *before = read_all(d->path, &n1);
    /* The temporary file's name is taken by a directory: the write fails (even for root). */
    assert_int_equal(mkdir(d->tmp, 0700), 0);
    assert_int_not_equal(ockam_vault_generate(v, OCKAM_KEY_ED25519, "b", b), OCKAM_OK);
    assert_int_not_equal(ockam_vault_set_label(v, OCKAM_KEY_ED25519, a, "renamed"), OCKAM_OK);
    assert_int_not_equal(ockam_vault_delete(v, OCKAM_KEY_ED25519, a), OCKAM_OK);
    /* Memory and file are as before each failed change. */
    uint8_t found[32];
    assert_int_equal(ockam_vault_find(v, OCKAM_KEY_ED25519, "a", found), OCKAM_OK);
    assert_memory_equal(found, a, 32);
    assert_int_equal(ockam_vault_find(v, OCKAM_KEY_ED25519, "b", found), OCKAM_ENOKEY);
    uint8_t *after = read_all(d->path, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(before, after, n1);
    assert_int_equal(rmdir(d->tmp), 0);
    ockam_vault_free(v);
    free(before);
    free(after);
}

static void
loose_permissions_are_refused(void **state)
{
    dirs *d = *state;
    uint8_t a[32];
    ockam_vault *v = open_ok(d);
    assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_ED25519, "a", a), OCKAM_OK);
    ockam_vault_free(v);
    assert_int_equal(chmod(d->path, 0644), 0);
    assert_int_equal(ockam_vault_file_open(d->path, &v), OCKAM_EACCES);
    assert_null(v);
    assert_int_equal(chmod(d->path, 0600), 0);
    assert_int_equal(chmod(d->dir, 0755), 0);
    assert_int_equal(ockam_vault_file_open(d->path, &v), OCKAM_EACCES);
    assert_int_equal(chmod(d->dir, 0700), 0);
    /* A symbolic link in place of the file is not followed. */
    char moved[256];
    snprintf(moved, sizeof(moved), "%s/real", d->dir);
    assert_int_equal(rename(d->path, moved), 0);
    assert_int_equal(symlink(moved, d->path), 0);
    assert_int_equal(ockam_vault_file_open(d->path, &v), OCKAM_EACCES);
    assert_null(v);
}

static void
corrupt_files_are_refused(void **state)
{
    dirs *d = *state;
    uint8_t a[32];
    ockam_vault *v = open_ok(d);
    assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_X25519, "label", a), OCKAM_OK);
    ockam_vault_free(v);
    size_t n;
    uint8_t *img = read_all(d->path, &n);
    assert_int_equal(n, 11 + 2 + 5 + 32 + 32);
    assert_memory_equal(img, "OCKVAULT\x01\x00\x01", 11);
    /* Every flipped bit and every truncation. */
    for (size_t i = 0; i < n; i++) {
        img[i] ^= 0x04;
        write_file(d->path, img, n, 0600);
        v = NULL;
        assert_int_equal(ockam_vault_file_open(d->path, &v), OCKAM_EVAULTFILE);
        assert_null(v);
        img[i] ^= 0x04;
        write_file(d->path, img, i, 0600);
        assert_int_equal(ockam_vault_file_open(d->path, &v), OCKAM_EVAULTFILE);
    }
    free(img);
}

#define Z32 "0000000000000000000000000000000000000000000000000000000000000000"

static void
decoder_rejects_bad_layouts_with_good_checksums(void **state)
{
    /* Layout errors behind a valid checksum: only the decoder's checks can catch them. */
    struct {
        const char *body; /* hex after the magic, before the checksum */
        ockam_err want;
    } cases[] = {
        {"010000", OCKAM_OK},         /* empty vault */
        {"020000", OCKAM_EVAULTFILE}, /* version 2 */
        {"010001", OCKAM_EVAULTFILE}, /* one key announced, none there */
        {"010001"
         "0300" Z32,
            OCKAM_EVAULTFILE}, /* type 3 */
        {"010001"
         "020100" Z32,
            OCKAM_EVAULTFILE}, /* label with a NUL */
        {"010001"
         "020161" Z32,
            OCKAM_OK}, /* label "a" */
        {"010002"
         "0200" Z32 "0200" Z32,
            OCKAM_EVAULTFILE}, /* the same key twice */
        {"010002"
         "0200" Z32 "0100" Z32,
            OCKAM_OK}, /* two keys of either type */
        {"010001"
         "0200" Z32 "ff",
            OCKAM_EVAULTFILE},            /* trailing byte */
        {"0100010261", OCKAM_EVAULTFILE}, /* label longer than what is left */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[256];
        memcpy(buf, "OCKVAULT", 8);
        size_t n = 8 + tn_hex(cases[i].body, buf + 8, sizeof(buf) - 40);
        assert_int_equal(ockam__sha256(buf, n, buf + n), OCKAM_OK);
        ockam__keyring kr = {0};
        ockam_err err = ockam__vault_file_decode(buf, n + 32, &kr);
        if (err != cases[i].want)
            fail_msg("case %zu: %s", i, ockam_err_name(err));
        ockam__keyring_clear(&kr);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memory_vault_suite),
        cmocka_unit_test_setup_teardown(file_vault_suite_and_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(file_vault_persists, setup, teardown),
        cmocka_unit_test_setup_teardown(
            identity_and_channel_key_survive_a_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(one_owner_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(crash_leaves_old_vault, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_write_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(loose_permissions_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_files_are_refused, setup, teardown),
        cmocka_unit_test(decoder_rejects_bad_layouts_with_good_checksums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
