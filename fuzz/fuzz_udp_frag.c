/* UDP fragments. Properties: the data view lies inside the input; a decodable datagram's
 * routing number is what ockam__udp_frag_peek_number finds; decode OK => encode =>
 * decode gives the same fields and data (when the data fits one fragment). */
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ockam__udp_frag f, again;
    uint8_t out[OCKAM_UDP_MAX_DATAGRAM];
    size_t written;

    uint16_t peeked;

    uint8_t *copy = fuzz_dup(data, size);
    ockam_err peek = ockam__udp_frag_peek_number(copy, size, &peeked);
    ockam_err err = ockam__udp_frag_decode(copy, size, &f);
    FUZZ_CHECK(err != OCKAM_EAGAIN);
    /* A datagram that decodes has a number a peek at its start finds too. */
    FUZZ_CHECK(err != OCKAM_OK || (peek == OCKAM_OK && peeked == f.routing_number));
    if (err != OCKAM_OK) {
        free(copy);
        return 0;
    }
    FUZZ_CHECK(f.data.ptr >= copy && f.data.ptr + f.data.len <= copy + size);
    err = ockam__udp_frag_encode(&f, out, sizeof out, &written);
    if (f.data.len > OCKAM_UDP_MAX_FRAGMENT_PAYLOAD) {
        FUZZ_CHECK(err == OCKAM_EMSGSIZE);
        free(copy);
        return 0;
    }
    FUZZ_CHECK(err == OCKAM_OK && written <= size && written <= OCKAM_UDP_MAX_DATAGRAM);
    FUZZ_CHECK(ockam__udp_frag_decode(out, written, &again) == OCKAM_OK);
    FUZZ_CHECK(again.version == f.version && again.routing_number == f.routing_number
        && again.offset == f.offset && again.is_last == f.is_last
        && fuzz_slice_eq(again.data, f.data));
    free(copy);
    return 0;
}
