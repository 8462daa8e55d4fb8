/* Small helpers shared by the fuzz targets (header-only: each target is one file). */
#ifndef OCKAM_FUZZ_FUZZ_UTIL_H
#define OCKAM_FUZZ_FUZZ_UTIL_H

#include "core/codec.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property failed: abort so libFuzzer records the input as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static inline bool
fuzz_slice_eq(ockam_slice a, ockam_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool
fuzz_msg_eq(const ockam_msg *a, const ockam_msg *b, bool with_tracing)
{
    ockam_slice ta = {0}, tb = {0};
    if (!ockam_route_eq(ockam_msg_onward_const(a), ockam_msg_onward_const(b))
        || !ockam_route_eq(ockam_msg_return_const(a), ockam_msg_return_const(b))
        || !fuzz_slice_eq(ockam_msg_payload(a), ockam_msg_payload(b)))
        return false;
    if (!with_tracing)
        return true;
    bool has_a = ockam_msg_tracing(a, &ta), has_b = ockam_msg_tracing(b, &tb);
    return has_a == has_b && fuzz_slice_eq(ta, tb);
}

/* A fresh heap copy of exactly len bytes, so ASan sees any read past the end. */
static inline uint8_t *
fuzz_dup(const uint8_t *data, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    FUZZ_CHECK(p);
    if (len)
        memcpy(p, data, len);
    return p;
}

/* A message decoder with the *_borrow signature. */
typedef ockam_err (*fuzz_borrow_decoder)(
    const uint8_t *buf, size_t len, ockam_msg *out, const ockam__borrow *from);

/* The borrowing decode of the same input (in a chunk of exactly len bytes, so ASan sees any
 * read past the end) gives the same result as the copying one (`expect`, status `err`),
 * every non-empty payload borrows from the chunk, and freeing the message drops its
 * reference. */
static inline void
fuzz_check_borrow(fuzz_borrow_decoder decode, const uint8_t *data, size_t len, ockam_err err,
    const ockam_msg *expect)
{
    static ockam_msg *m;
    if (!m) {
        m = ockam_msg_new();
        FUZZ_CHECK(m);
    }
    struct ockam__chunk *ch = ockam__chunk_new(len);
    FUZZ_CHECK(ch);
    if (len)
        memcpy(ch->data, data, len);
    ockam__borrow from = {.chunk = ch, .min = 0};
    FUZZ_CHECK(decode(ch->data, len, m, &from) == err);
    if (err == OCKAM_OK) {
        ockam_slice p = ockam_msg_payload(m);
        FUZZ_CHECK(fuzz_msg_eq(m, expect, true));
        FUZZ_CHECK(p.len == 0 || (p.ptr >= ch->data && p.ptr + p.len <= ch->data + len));
    }
    ockam__msg_reset(m);
    FUZZ_CHECK(atomic_load(&ch->refs) == 1);
    ockam__chunk_unref(ch);
}

#endif
