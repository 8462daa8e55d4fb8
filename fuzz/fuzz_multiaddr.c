/* Multiaddr, text and binary. Properties: binary decode OK => encode gives exactly the input
 * (the binary form is canonical); text parse OK => format => parse gives the same components;
 * either way text and binary forms agree; conversion to a route never crashes. */
#include "fuzz_util.h"
#include "ockam/multiaddr.h"

static bool
ma_eq(const ockam_multiaddr *a, const ockam_multiaddr *b)
{
    if (ockam_multiaddr_count(a) != ockam_multiaddr_count(b))
        return false;
    for (size_t i = 0; i < ockam_multiaddr_count(a); i++) {
        ockam_ma_component x = ockam_multiaddr_at(a, i), y = ockam_multiaddr_at(b, i);
        if (x.code != y.code || !fuzz_slice_eq(x.value, y.value))
            return false;
    }
    return true;
}

static char *
format_alloc(const ockam_multiaddr *ma)
{
    size_t n = ockam_multiaddr_format(ma, NULL, 0);
    char *text = malloc(n + 1);
    FUZZ_CHECK(text);
    FUZZ_CHECK(ockam_multiaddr_format(ma, text, n + 1) == n && strlen(text) == n);
    return text;
}

/* ma came from somewhere valid: its text and binary forms must both lead back to it. */
static void
check_forms(const ockam_multiaddr *ma)
{
    ockam_multiaddr *again = NULL;
    size_t n, written;

    FUZZ_CHECK(ockam_multiaddr_encode(ma, NULL, 0, &n) == (n ? OCKAM_EMSGSIZE : OCKAM_OK));
    uint8_t *bin = malloc(n ? n : 1);
    FUZZ_CHECK(bin);
    FUZZ_CHECK(ockam_multiaddr_encode(ma, bin, n, &written) == OCKAM_OK && written == n);
    FUZZ_CHECK(ockam_multiaddr_decode(bin, n, &again) == OCKAM_OK && ma_eq(ma, again));
    ockam_multiaddr_free(again);
    free(bin);

    if (ockam_multiaddr_count(ma) > 0) {
        char *text = format_alloc(ma);
        FUZZ_CHECK(ockam_multiaddr_parse(text, &again) == OCKAM_OK && ma_eq(ma, again));
        char *text2 = format_alloc(again);
        FUZZ_CHECK(strcmp(text, text2) == 0);
        ockam_multiaddr_free(again);
        free(text);
        free(text2);
    }

    ockam_route *r = ockam_route_new();
    FUZZ_CHECK(r);
    ockam_err err = ockam_multiaddr_to_route(ma, r);
    FUZZ_CHECK(err == OCKAM_OK || ockam_route_len(r) == 0);
    ockam_route_free(r);
}

static void
check_binary(const uint8_t *data, size_t size)
{
    ockam_multiaddr *ma = NULL;
    uint8_t *copy = fuzz_dup(data, size);
    ockam_err err = ockam_multiaddr_decode(copy, size, &ma);
    free(copy);
    if (err != OCKAM_OK)
        return;
    uint8_t *out = malloc(size ? size : 1);
    size_t written;
    FUZZ_CHECK(out);
    FUZZ_CHECK(ockam_multiaddr_encode(ma, out, size, &written) == OCKAM_OK && written == size);
    FUZZ_CHECK(memcmp(out, data, size) == 0);
    free(out);
    check_forms(ma);
    ockam_multiaddr_free(ma);
}

static void
check_text(const uint8_t *data, size_t size)
{
    ockam_multiaddr *ma = NULL;
    char *text = malloc(size + 1);
    FUZZ_CHECK(text);
    memcpy(text, data, size);
    text[size] = '\0';
    ockam_err err = ockam_multiaddr_parse(text, &ma);
    free(text);
    if (err != OCKAM_OK)
        return;
    check_forms(ma);
    ockam_multiaddr_free(ma);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_binary(data, size);
    check_text(data, size);
    return 0;
}
