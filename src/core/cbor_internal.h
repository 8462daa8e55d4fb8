/* The CBOR subset shared by cbor.c (TCP/UDP bodies) and udp_frag.c (docs/wire.md §2.2).
 *
 * The reader works on a complete, already delimited item, so running out of bytes is
 * OCKAM_ETRUNCATED. Heads of any width are accepted; encoders always write the shortest. */
#ifndef OCKAM_CORE_CBOR_INTERNAL_H
#define OCKAM_CORE_CBOR_INTERNAL_H

#include "core/core.h"

#define OCKAM__CBOR_UINT 0
#define OCKAM__CBOR_NINT 1
#define OCKAM__CBOR_BYTES 2
#define OCKAM__CBOR_TEXT 3
#define OCKAM__CBOR_ARRAY 4
#define OCKAM__CBOR_MAP 5
#define OCKAM__CBOR_TAG 6
#define OCKAM__CBOR_SIMPLE 7

#define OCKAM__CBOR_FALSE 0xf4
#define OCKAM__CBOR_TRUE 0xf5
#define OCKAM__CBOR_NULL 0xf6

/* Nesting limit of the generic skipper (arrays, maps and tags). */
#define OCKAM__CBOR_MAX_DEPTH 16

typedef struct ockam__cbor_rd {
    const uint8_t *p;
    size_t len;
    size_t pos;
} ockam__cbor_rd;

/* One head: major type and argument (length, count, value, simple value or float bits).
 * Indefinite lengths give OCKAM_ECBORINDEF, reserved or stray-break heads OCKAM_ECBORTYPE. */
ockam_err ockam__cbor_head(ockam__cbor_rd *r, uint8_t *major, uint64_t *arg);
/* An unsigned integer no larger than max (OCKAM_ECBORTYPE otherwise). */
ockam_err ockam__cbor_uint(ockam__cbor_rd *r, uint64_t max, uint64_t *v);
/* An array head whose count is plausible for the bytes left (each item takes >= min_item
 * bytes), else OCKAM_ETRUNCATED. */
ockam_err ockam__cbor_array(ockam__cbor_rd *r, size_t min_item, uint64_t *count);
/* A byte (major 2) or text (major 3) string whose bytes are all present. */
ockam_err ockam__cbor_string(ockam__cbor_rd *r, uint8_t major, ockam_slice *out);
/* Skip one well-formed, definite-length item of any type (maps included), nested at most
 * OCKAM__CBOR_MAX_DEPTH deep. */
ockam_err ockam__cbor_skip(ockam__cbor_rd *r);
/* Skip count items (the unknown trailing fields of a struct-like array). */
ockam_err ockam__cbor_skip_n(ockam__cbor_rd *r, uint64_t count);

/* Inline: every message's encoding writes several heads. */
static inline size_t
ockam__cbor_head_len(uint64_t arg)
{
    if (arg < 24)
        return 1;
    if (arg <= UINT8_MAX)
        return 2;
    if (arg <= UINT16_MAX)
        return 3;
    if (arg <= UINT32_MAX)
        return 5;
    return 9;
}

/* Write a shortest-form head; out needs ockam__cbor_head_len(arg) bytes. */
static inline size_t
ockam__cbor_head_put(uint8_t *out, uint8_t major, uint64_t arg)
{
    size_t n = ockam__cbor_head_len(arg);
    uint8_t mt = (uint8_t)(major << 5);

    if (n == 1) {
        out[0] = (uint8_t)(mt | arg);
        return 1;
    }
    /* 2, 3, 5, 9 bytes <=> additional information 24, 25, 26, 27. */
    static const uint8_t ai_for_len[10] = {[2] = 24, [3] = 25, [5] = 26, [9] = 27};
    out[0] = (uint8_t)(mt | ai_for_len[n]);
    for (size_t i = n - 1; i >= 1; i--) {
        out[i] = (uint8_t)arg;
        arg >>= 8;
    }
    return n;
}

#endif
