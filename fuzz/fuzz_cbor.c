/* CBOR routing message. Properties: never "need more" on a delimited body; the one-pass
 * decoder for the usual shape and the general one agree (same result, same message);
 * borrowing the payload from a chunk decodes the same; decode OK => encode => decode gives the
 * same message, and our encoding is a fixed point. */
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ockam_msg *m, *again, *general;
    size_t written, written2;

    if (!m) {
        m = ockam_msg_new();
        again = ockam_msg_new();
        general = ockam_msg_new();
        FUZZ_CHECK(m && again && general);
    }
    uint8_t *copy = fuzz_dup(data, size);
    ockam_err err = ockam__cbor_decode_msg(copy, size, m);
    ockam_err err_general = ockam__cbor_decode_msg_general(copy, size, general);
    free(copy);
    FUZZ_CHECK(err == err_general);
    FUZZ_CHECK(err != OCKAM_OK || fuzz_msg_eq(m, general, true));
    fuzz_check_borrow(ockam__cbor_decode_msg_borrow, data, size, err, m);
    FUZZ_CHECK(err != OCKAM_EAGAIN);
    if (err != OCKAM_OK) {
        /* Left reset on error. */
        FUZZ_CHECK(ockam_route_len(ockam_msg_onward_const(m)) == 0);
        FUZZ_CHECK(ockam_msg_payload(m).len == 0);
        return 0;
    }
    size_t n = ockam__cbor_msg_size(m);
    FUZZ_CHECK(n <= size); /* shortest heads, no extras: never longer than the input */
    uint8_t *out = malloc(n), *out2 = malloc(n);
    FUZZ_CHECK(out && out2);
    FUZZ_CHECK(ockam__cbor_encode_msg(m, out, n, &written) == OCKAM_OK && written == n);
    FUZZ_CHECK(ockam__cbor_decode_msg(out, n, again) == OCKAM_OK);
    FUZZ_CHECK(fuzz_msg_eq(m, again, true));
    FUZZ_CHECK(ockam__cbor_encode_msg(again, out2, n, &written2) == OCKAM_OK);
    FUZZ_CHECK(written2 == n && memcmp(out, out2, n) == 0);
    free(out);
    free(out2);
    return 0;
}
