/* Unsigned LEB128 varints (BARE `uint`, multiformats uvarint), docs/wire.md §2.1. */
#include "core/codec.h"

ockam_err
ockam__varint_get(const uint8_t *buf, size_t len, uint64_t *value, size_t *used)
{
    uint64_t v = 0;

    for (size_t i = 0; i < OCKAM__VARINT_MAX; i++) {
        if (i == len)
            return OCKAM_EAGAIN;
        uint8_t b = buf[i];
        /* The tenth byte carries only bit 63: anything above 1 overflows u64. */
        if (i == OCKAM__VARINT_MAX - 1 && b > 1)
            return OCKAM_EVARINT;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (b & 0x80)
            continue;
        /* A zero final group after the first byte is a non-canonical (overlong) encoding. */
        if (b == 0 && i > 0)
            return OCKAM_EVARINT;
        *value = v;
        *used = i + 1;
        return OCKAM_OK;
    }
    return OCKAM_EVARINT;
}

size_t
ockam__varint_put(uint8_t *out, uint64_t value)
{
    size_t n = 0;
    while (value >= 0x80) {
        out[n++] = (uint8_t)(value | 0x80);
        value >>= 7;
    }
    out[n++] = (uint8_t)value;
    return n;
}

size_t
ockam__varint_len(uint64_t value)
{
    size_t n = 1;
    while (value >= 0x80) {
        value >>= 7;
        n++;
    }
    return n;
}
