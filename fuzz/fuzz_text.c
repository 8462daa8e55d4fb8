/* Hex (core/core.h) and "host:port" text (core/host_port.h). Properties: hex that decodes encodes
 * back to the same digits in lower case; a split host:port lies inside the input, and formatting it
 * again
 * ("host:port", "[host]:port") splits to the same host and port. The input is copied to a
 * buffer of exactly its size, so ASan sees any read past the end. */
#include "fuzz_util.h"

#include "core/host_port.h"
#include "node/policy.h"

#include <ctype.h>
#include <stdio.h>

static void
check_hex(const char *text, size_t size)
{
    uint8_t *bytes = malloc(size / 2 + 1);
    char *again = malloc(size + 1);
    FUZZ_CHECK(bytes && again);
    size_t n;
    if (ockam__hex_decode(text, size, bytes, size / 2 + 1, &n)) {
        FUZZ_CHECK(n == size / 2);
        ockam__hex_encode(bytes, size / 2, again);
        for (size_t i = 0; i < size; i++)
            FUZZ_CHECK(again[i] == tolower((unsigned char)text[i]));
        FUZZ_CHECK(again[size] == '\0');
    }
    free(bytes);
    free(again);
}

static void
check_host_port(const char *text, size_t size)
{
    ockam__host_port hp, hp2;
    if (ockam__host_port_split(text, size, &hp) != OCKAM_OK)
        return;
    FUZZ_CHECK(hp.host_len > 0 && hp.host >= text && hp.host + hp.host_len <= text + size);
    FUZZ_CHECK(!memchr(hp.host, ':', hp.host_len) || hp.bracketed);
    /* Built with memcpy, not printf: the host may hold any byte, NUL included. */
    char *again = malloc(hp.host_len + 16);
    FUZZ_CHECK(again);
    size_t n = 0;
    if (hp.bracketed)
        again[n++] = '[';
    memcpy(again + n, hp.host, hp.host_len);
    n += hp.host_len;
    if (hp.bracketed)
        again[n++] = ']';
    n += (size_t)snprintf(again + n, 8, ":%u", (unsigned)hp.port);
    FUZZ_CHECK(ockam__host_port_split(again, n, &hp2) == OCKAM_OK);
    FUZZ_CHECK(hp2.host_len == hp.host_len && memcmp(hp2.host, hp.host, hp.host_len) == 0);
    FUZZ_CHECK(hp2.port == hp.port && hp2.bracketed == hp.bracketed);
    free(again);
}

/* Endpoints (node/policy.h): every canonical text is NUL-terminated, fits, and is its own
 * canonical form; an endpoint is the same as itself. */
static void
check_endpoint(const char *text, size_t size)
{
    char c[2][OCKAM__ENDPOINT_MAX], again[2][OCKAM__ENDPOINT_MAX];
    size_t n = ockam__endpoint_canon(text, size, c);
    FUZZ_CHECK(n <= 2);
    for (size_t i = 0; i < n; i++) {
        size_t len = strnlen(c[i], OCKAM__ENDPOINT_MAX);
        FUZZ_CHECK(len < OCKAM__ENDPOINT_MAX);
        FUZZ_CHECK(ockam__endpoint_canon(c[i], len, again) == 1);
        FUZZ_CHECK(strcmp(again[0], c[i]) == 0);
    }
    FUZZ_CHECK(ockam__endpoint_same(text, size, text, size));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = (char *)fuzz_dup(data, size);
    check_hex(text, size);
    check_host_port(text, size);
    check_endpoint(text, size);
    free(text);
    return 0;
}
