/* The helpers every layer shares: hex and growable arrays (core/core.h), "host:port"
 * (core/host_port.h), the intrusive list (core/list.h) and the libuv error table (node/uv_err.h).
 */
#include "nodes.h"

#include "core/core.h"
#include "core/host_port.h"
#include "core/list.h"
#include "node/uv_err.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* ---- hex ------------------------------------------------------------------------------ */

static void
test_hex_encode(void **state)
{
    const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[2 * sizeof bytes + 1];
    memset(out, 'x', sizeof out);
    ockam__hex_encode(bytes, sizeof bytes, out);
    assert_string_equal(out, "00017f80abff");
    char empty[1] = {'x'};
    ockam__hex_encode(bytes, 0, empty);
    assert_int_equal(empty[0], '\0');
}

static void
test_hex_decode(void **state)
{
    uint8_t out[4] = {0};
    size_t n = 99;
    assert_true(ockam__hex_decode("0aFf10", 6, out, sizeof out, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(out, ((uint8_t[]) {0x0a, 0xff, 0x10}), 3);
    assert_true(ockam__hex_decode("", 0, out, sizeof out, &n));
    assert_int_equal(n, 0);
    assert_false(ockam__hex_decode("abc", 3, out, sizeof out, &n));         /* odd */
    assert_false(ockam__hex_decode("0g", 2, out, sizeof out, &n));          /* not a digit */
    assert_false(ockam__hex_decode("0a 1", 4, out, sizeof out, &n));        /* no separators */
    assert_false(ockam__hex_decode("0102030405", 10, out, sizeof out, &n)); /* too long */
    /* Exactly len bytes, no NUL after them: ASan reports any read past the end. */
    char *text = malloc(4);
    memcpy(text, "beef", 4);
    assert_true(ockam__hex_decode(text, 4, out, 2, &n));
    assert_memory_equal(out, ((uint8_t[]) {0xbe, 0xef}), 2);
    free(text);
}

/* ---- host:port ------------------------------------------------------------------------ */

static void
expect_split(const char *text, const char *host, uint16_t port, bool bracketed)
{
    ockam__host_port hp;
    assert_int_equal(ockam__host_port_split(text, strlen(text), &hp), OCKAM_OK);
    assert_int_equal(hp.host_len, strlen(host));
    assert_memory_equal(hp.host, host, hp.host_len);
    assert_int_equal(hp.port, port);
    assert_int_equal(hp.bracketed, bracketed);
}

static void
test_host_port_accepts(void **state)
{
    expect_split("127.0.0.1:4000", "127.0.0.1", 4000, false);
    expect_split("localhost:0", "localhost", 0, false);
    expect_split("[::1]:80", "::1", 80, true);
    expect_split("[fe80::1%eth0]:65535", "fe80::1%eth0", 65535, true);
    expect_split("h:00080", "h", 80, false);
}

static void
test_host_port_rejects(void **state)
{
    static const char *const bad[] = {"", "80", ":80", "h:", "h:8a", "h:-1", "h:65536", "h:123456",
        "::1:80", "[::1]", "[::1]:", "[]:80", "[::1:80", "::1]:80", "h: 80"};
    ockam__host_port hp;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (ockam__host_port_split(bad[i], strlen(bad[i]), &hp) != OCKAM_EADDRINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    /* A length shorter than the text: only the first len bytes count. */
    assert_int_equal(ockam__host_port_split("h:80", 3, &hp), OCKAM_OK);
    assert_int_equal(hp.port, 8);
    assert_int_equal(ockam__host_port_split("h:80", 2, &hp), OCKAM_EADDRINVAL);
}

static void
test_host_port_parse(void **state)
{
    char host[5];
    uint16_t port = 1;
    assert_int_equal(ockam__host_port_parse("abcd:7", host, sizeof host, &port), OCKAM_OK);
    assert_string_equal(host, "abcd");
    assert_int_equal(port, 7);
    assert_int_equal(ockam__host_port_parse("[::1]:9", host, sizeof host, &port), OCKAM_OK);
    assert_string_equal(host, "::1");
    /* The host must fit with its NUL. */
    assert_int_equal(ockam__host_port_parse("abcde:7", host, sizeof host, &port), OCKAM_EADDRINVAL);
    assert_int_equal(ockam__host_port_parse(NULL, host, sizeof host, &port), OCKAM_EADDRINVAL);
}

/* ---- intrusive list ------------------------------------------------------------------- */

struct item {
    int v;
    struct ockam__link link;
};

static void
expect_order(struct ockam__link *head, const int *want, size_t n)
{
    size_t i = 0;
    for (struct ockam__link *l = head->next; l != head; l = l->next, i++) {
        assert_true(i < n);
        assert_int_equal(OCKAM__CONTAINER_OF(l, struct item, link)->v, want[i]);
        assert_ptr_equal(l->next->prev, l);
    }
    assert_int_equal(i, n);
}

static void
test_list(void **state)
{
    struct ockam__link head, other;
    struct item it[4];
    for (int i = 0; i < 4; i++)
        it[i].v = i;
    ockam__link_init(&head);
    assert_true(ockam__link_empty(&head));
    ockam__link_push(&head, &it[1].link);
    ockam__link_push(&head, &it[2].link);
    ockam__link_push_front(&head, &it[0].link);
    ockam__link_push(&head, &it[3].link);
    expect_order(&head, (int[]) {0, 1, 2, 3}, 4);

    ockam__link_del(&it[2].link);
    expect_order(&head, (int[]) {0, 1, 3}, 3);
    ockam__link_del(&it[2].link); /* off every list: harmless */
    expect_order(&head, (int[]) {0, 1, 3}, 3);

    ockam__link_take(&other, &head);
    assert_true(ockam__link_empty(&head));
    expect_order(&other, (int[]) {0, 1, 3}, 3);
    ockam__link_take(&head, &head); /* an empty source leaves an empty destination */
    assert_true(ockam__link_empty(&head));
    ockam__link_del(&it[0].link);
    ockam__link_del(&it[3].link);
    ockam__link_del(&it[1].link);
    assert_true(ockam__link_empty(&other));
}

/* ---- growable arrays ------------------------------------------------------------------ */

static bool fail_realloc;

static void *
failing_realloc(void *p, size_t n)
{
    return fail_realloc ? NULL : realloc(p, n);
}

static void
test_array_reserve(void **state)
{
    uint32_t *arr = NULL;
    size_t n = 0, cap = 0;
    for (uint32_t i = 0; i < 9; i++) {
        assert_int_equal(ockam__array_reserve(arr, cap, n + 1, 4), OCKAM_OK);
        arr[n++] = i;
    }
    assert_int_equal(cap, 16); /* 4, 8, 16: doubling from the minimum */
    assert_int_equal(ockam__array_reserve(arr, cap, 100, 4), OCKAM_OK);
    assert_int_equal(cap, 128);

    /* A failed growth leaves the array and its capacity as they were. */
    ockam_set_allocator(NULL, failing_realloc, NULL);
    fail_realloc = true;
    uint32_t *before = arr;
    assert_int_equal(ockam__array_reserve(arr, cap, 129, 4), OCKAM_ENOMEM);
    assert_ptr_equal(arr, before);
    assert_int_equal(cap, 128);
    for (uint32_t i = 0; i < 9; i++)
        assert_int_equal(arr[i], i);
    assert_int_equal(ockam__array_reserve(arr, cap, 128, 4), OCKAM_OK); /* no growth needed */
    fail_realloc = false;
    ockam_set_allocator(NULL, NULL, NULL);
    size_t huge = SIZE_MAX / 2 + 2;
    assert_int_equal(ockam__array_reserve(arr, cap, huge, 4), OCKAM_ENOMEM);
    ockam__free(arr);
}

/* ---- libuv errors --------------------------------------------------------------------- */

static void
test_err_from_uv(void **state)
{
    static const struct {
        int uv;
        ockam_err err;
    } table[] = {
        {0, OCKAM_OK},
        {UV_ENOMEM, OCKAM_ENOMEM},
        {UV_ENOBUFS, OCKAM_ENOMEM},
        {UV_ECONNREFUSED, OCKAM_ECONNREFUSED},
        {UV_ECONNRESET, OCKAM_ECONNRESET},
        {UV_EPIPE, OCKAM_ECONNRESET},
        {UV_EOF, OCKAM_ECLOSED},
        {UV_ECANCELED, OCKAM_ECLOSED},
        {UV_EAI_CANCELED, OCKAM_ECLOSED},
        {UV_ETIMEDOUT, OCKAM_ETIMEDOUT},
        {UV_EADDRINUSE, OCKAM_EADDRINUSE},
        {UV_EADDRNOTAVAIL, OCKAM_EADDRINVAL},
        {UV_EINVAL, OCKAM_EADDRINVAL},
        {UV_EHOSTUNREACH, OCKAM_EADDRINVAL},
        {UV_EACCES, OCKAM_EACCES},
        {UV_EPERM, OCKAM_EACCES},
        {UV_EMSGSIZE, OCKAM_EMSGSIZE},
        {UV_EAI_NONAME, OCKAM_EDNS},
        {UV_EAI_AGAIN, OCKAM_EDNS},
        {UV_EIO, OCKAM_ESYSERR},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (ockam__err_from_uv(table[i].uv) != table[i].err)
            fail_msg("%s -> %s", uv_err_name(table[i].uv),
                ockam_err_name(ockam__err_from_uv(table[i].uv)));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex_encode),
        cmocka_unit_test(test_hex_decode),
        cmocka_unit_test(test_host_port_accepts),
        cmocka_unit_test(test_host_port_rejects),
        cmocka_unit_test(test_host_port_parse),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_array_reserve),
        cmocka_unit_test(test_err_from_uv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
