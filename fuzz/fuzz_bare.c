/* BARE TransportMessage, strings and varints. Properties: decode OK => encode (same version)
 * => decode gives the same message and the same bytes again; a decoded string or varint
 * re-encodes to exactly the input (both encodings are canonical); borrowing the payload
 * from a chunk decodes the same. */
#include "fuzz_util.h"

static ockam_err
bare_decode_borrow(const uint8_t *buf, size_t len, ockam_msg *out, const ockam__borrow *from)
{
    return ockam__bare_decode_msg_borrow(buf, len, out, NULL, from);
}

static void
check_msg(const uint8_t *data, size_t size)
{
    static ockam_msg *m, *again;
    uint8_t version, version2;
    size_t written, written2;

    if (!m) {
        m = ockam_msg_new();
        again = ockam_msg_new();
        FUZZ_CHECK(m && again);
    }
    ockam_err err = ockam__bare_decode_msg(data, size, m, &version);
    fuzz_check_borrow(bare_decode_borrow, data, size, err, m);
    FUZZ_CHECK(err != OCKAM_EAGAIN);
    if (err != OCKAM_OK)
        return;
    size_t n = ockam__bare_msg_size(m, version);
    uint8_t *out = malloc(n), *out2 = malloc(n);
    FUZZ_CHECK(out && out2);
    FUZZ_CHECK(ockam__bare_encode_msg(m, version, out, n, &written) == OCKAM_OK && written == n);
    FUZZ_CHECK(ockam__bare_decode_msg(out, n, again, &version2) == OCKAM_OK);
    FUZZ_CHECK(version2 == version && fuzz_msg_eq(m, again, true));
    FUZZ_CHECK(ockam__bare_encode_msg(again, version, out2, n, &written2) == OCKAM_OK);
    FUZZ_CHECK(written2 == n && memcmp(out, out2, n) == 0);
    free(out);
    free(out2);
}

static void
check_string(const uint8_t *data, size_t size)
{
    ockam_slice text;
    uint8_t out[64];
    size_t written;

    if (ockam__bare_string_decode(data, size, &text) != OCKAM_OK)
        return;
    FUZZ_CHECK(text.ptr >= data && text.ptr + text.len == data + size);
    FUZZ_CHECK(ockam__bare_string_size(text.len) == size);
    if (size > sizeof out)
        return;
    FUZZ_CHECK(
        ockam__bare_string_encode(text.ptr, text.len, out, sizeof out, &written) == OCKAM_OK);
    FUZZ_CHECK(written == size && memcmp(out, data, size) == 0);
}

static void
check_varint(const uint8_t *data, size_t size)
{
    uint64_t v;
    size_t used;
    uint8_t out[OCKAM__VARINT_MAX];

    if (ockam__varint_get(data, size, &v, &used) != OCKAM_OK)
        return;
    FUZZ_CHECK(used <= size && used == ockam__varint_len(v));
    FUZZ_CHECK(ockam__varint_put(out, v) == used && memcmp(out, data, used) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = fuzz_dup(data, size);
    check_msg(copy, size);
    check_string(copy, size);
    check_varint(copy, size);
    free(copy);
    return 0;
}
