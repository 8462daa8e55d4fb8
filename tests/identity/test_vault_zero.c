/* Secrets are erased before their memory goes back to the allocator: an allocator hook
 * remembers every block's size and, when a block is freed (or moved by realloc), looks for
 * the known secret bytes in it. Runs the memory and the file vault through imports, signing,
 * ECDH, secret export, relabelling, growth of the key ring, deletion, saving, loading and
 * freeing, and the secure-channel credentials made from them. */
#include "identity/sc_payload.h"
#include "identity_util.h"

#include <stdio.h>
#include <stdlib.h>

static uint8_t secret_a[32], secret_b[32];
static int found;

typedef struct hdr {
    size_t size;
    size_t pad; /* keeps the block 16-byte aligned */
} hdr;

static bool
holds(const uint8_t *p, size_t n, const uint8_t s[32])
{
    for (size_t i = 0; i + 32 <= n; i++)
        if (memcmp(p + i, s, 32) == 0)
            return true;
    return false;
}

static void
inspect(hdr *h)
{
    const uint8_t *p = (const uint8_t *)(h + 1);
    if (holds(p, h->size, secret_a) || holds(p, h->size, secret_b))
        found++;
}

static void *
t_alloc(size_t n)
{
    hdr *h = malloc(sizeof(hdr) + n);
    if (!h)
        return NULL;
    h->size = n;
    return h + 1;
}

static void
t_free(void *p)
{
    if (!p)
        return;
    hdr *h = (hdr *)p - 1;
    inspect(h);
    free(h);
}

static void *
t_realloc(void *p, size_t n)
{
    if (!p)
        return t_alloc(n);
    hdr *h = (hdr *)p - 1;
    void *q = t_alloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, h->size < n ? h->size : n);
    t_free(p);
    return q;
}

static void
exercise(ockam_vault *v)
{
    uint8_t a[32], b[32], out[32], sig[64], shared[32];
    assert_int_equal(ockam_vault_import(v, OCKAM_KEY_ED25519, secret_a, "a", a), OCKAM_OK);
    assert_int_equal(ockam_vault_import(v, OCKAM_KEY_X25519, secret_b, "b", b), OCKAM_OK);
    assert_int_equal(ockam_vault_sign(v, a, (const uint8_t *)"m", 1, sig), OCKAM_OK);
    assert_int_equal(ockam_vault_ecdh(v, b, a, shared), OCKAM_OK);
    assert_int_equal(ockam_vault_x25519_secret(v, b, out), OCKAM_OK);
    ockam_secure_zero(out, sizeof(out));
    assert_int_equal(ockam_vault_set_label(v, OCKAM_KEY_X25519, b, "renamed"), OCKAM_OK);
    for (int i = 0; i < 20; i++) /* the key ring moves to bigger blocks */
        assert_int_equal(ockam_vault_generate(v, OCKAM_KEY_X25519, "filler", out), OCKAM_OK);
    assert_int_equal(ockam_vault_delete(v, OCKAM_KEY_ED25519, a), OCKAM_OK);
    /* Secure-channel credentials carry a copy of an X25519 secret until cleared. */
    ockam_identity *id = NULL;
    ockam__sc_creds c;
    assert_int_equal(ockam_identity_create(v, 1765000000, 86400, &id), OCKAM_OK);
    uint8_t pub[32];
    char label[OCKAM_VAULT_LABEL_MAX + 1];
    snprintf(label, sizeof(label), "%s/secure-channel", ockam_identity_identifier(id));
    assert_int_equal(ockam_vault_set_label(v, OCKAM_KEY_X25519, b, label), OCKAM_OK);
    assert_int_equal(ockam__sc_creds_make(id, 1765000000, 3600, &c), OCKAM_OK);
    assert_memory_equal(c.static_public, b, 32); /* the imported key is the channel key */
    (void)pub;
    ockam__sc_creds_clear(&c);
    ockam_identity_free(id);
}

static void
memory_vault_erases_secrets(void **state)
{
    ockam_vault *v = NULL;
    found = 0;
    assert_int_equal(ockam_vault_memory_new(&v), OCKAM_OK);
    exercise(v);
    ockam_vault_free(v);
    assert_int_equal(found, 0);
}

static void
file_vault_erases_secrets(void **state)
{
    char root[] = "/tmp/ockam-vaultz-XXXXXX", path[64], cmd[96];
    assert_non_null(mkdtemp(root));
    snprintf(path, sizeof(path), "%s/v", root);
    ockam_vault *v = NULL;
    found = 0;
    assert_int_equal(ockam_vault_file_open(path, &v), OCKAM_OK);
    exercise(v);
    ockam_vault_free(v);
    /* Loading reads the secrets into a buffer and the key ring: both erased too. */
    assert_int_equal(ockam_vault_file_open(path, &v), OCKAM_OK);
    ockam_vault_free(v);
    assert_int_equal(found, 0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void
the_check_can_fail(void **state)
{
    /* A block freed with a secret in it is seen (so the tests above can fail). */
    found = 0;
    uint8_t *p = ockam__alloc(64);
    memcpy(p + 7, secret_a, 32);
    ockam__free(p);
    assert_int_equal(found, 1);
}

int
main(void)
{
    ockam_set_allocator(t_alloc, t_realloc, t_free);
    for (int i = 0; i < 32; i++) {
        secret_a[i] = (uint8_t)(0xa0 + i);
        secret_b[i] = (uint8_t)(0x30 + 3 * i);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_check_can_fail),
        cmocka_unit_test(memory_vault_erases_secrets),
        cmocka_unit_test(file_vault_erases_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
