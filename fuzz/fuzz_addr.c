/* Address and route text (ockam_addr_parse, ockam_route_parse). Properties: a parsed address
 * formats to text that parses back to the same address; a parsed route formats to text that
 * parses back to the same route. Both only where the text form can represent the bytes
 * (valid UTF-8 without NUL: otherwise the format is lossy by design, "Invalid UTF-8"). */
#include "fuzz_util.h"

static bool
text_representable(ockam_addr a)
{
    return ockam__utf8_valid(a.bytes, a.len) && !memchr(a.bytes, '\0', a.len);
}

static void
check_addr(const uint8_t *data, size_t size)
{
    static ockam_addr_buf buf, again;
    char text[OCKAM_MAX_ADDR_LEN + 16];

    char *copy = (char *)fuzz_dup(data, size);
    ockam_err err = ockam_addr_parse(copy, size, &buf);
    free(copy);
    if (err != OCKAM_OK)
        return;
    ockam_addr a = ockam_addr_buf_view(&buf);
    FUZZ_CHECK(a.type <= OCKAM_TRANSPORT_MAX && a.len <= OCKAM_MAX_ADDR_LEN);
    size_t n = ockam_addr_format(a, text, sizeof text);
    FUZZ_CHECK(n < sizeof text && strlen(text) <= n);
    if (!text_representable(a))
        return;
    FUZZ_CHECK(strlen(text) == n);
    FUZZ_CHECK(ockam_addr_parse(text, n, &again) == OCKAM_OK);
    FUZZ_CHECK(ockam_addr_eq(a, ockam_addr_buf_view(&again)));
}

static void
check_route(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    ockam_route *r = ockam_route_new(), *again = ockam_route_new();
    FUZZ_CHECK(text && r && again);
    memcpy(text, data, size);
    text[size] = '\0';

    if (ockam_route_parse(r, text) == OCKAM_OK) {
        bool representable = true;
        for (size_t i = 0; i < ockam_route_len(r); i++)
            representable = representable && text_representable(ockam_route_at(r, i));
        char *formatted = ockam_route_to_string(r);
        FUZZ_CHECK(formatted);
        if (representable) {
            FUZZ_CHECK(ockam_route_parse(again, formatted) == OCKAM_OK);
            FUZZ_CHECK(ockam_route_eq(r, again));
        }
        ockam_free(formatted);
    }
    free(text);
    ockam_route_free(r);
    ockam_route_free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_addr(data, size);
    check_route(data, size);
    return 0;
}
