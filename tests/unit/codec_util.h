/* Helpers shared by the codec tests: building and comparing messages, and running a decoder
 * over every strict prefix and every single-byte mutation of an input, each copy placed in a
 * guard-page buffer (tests/support/guard.h). */
#ifndef OCKAM_TESTS_UNIT_CODEC_UTIL_H
#define OCKAM_TESTS_UNIT_CODEC_UTIL_H

#include "core/codec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the headers above; keep it in its own block so sorting cannot move it. */
#include <cmocka.h>

/* tn_hex (hex text to bytes) and the other helpers every test has. */
#include "support/nodes.h"

/* A message with routes given in text form ("0#echo => 1#h:p"), payload bytes and an optional
 * tracing string (NULL = absent). Asserts success; free with ockam_msg_free. */
ockam_msg *cu_msg(
    const char *onward, const char *ret, const void *payload, size_t len, const char *tracing);

/* Address by address, then payload and tracing. */
void cu_assert_route(const ockam_route *got, const char *expected_text);
void cu_assert_msg_eq(const ockam_msg *got, const ockam_msg *expected);
bool cu_msg_eq(const ockam_msg *a, const ockam_msg *b);

/* Call fn on a guard-page copy of buf[0..n) for n = 0 .. len-1. */
typedef void (*cu_input_fn)(const uint8_t *buf, size_t len, void *arg);
void cu_each_prefix(const uint8_t *buf, size_t len, cu_input_fn fn, void *arg);
/* Call fn on a guard-page copy of buf with one byte changed, for every position and each of
 * 0x00, 0xff, b+1 and b^0x80 (skipping values equal to the original). */
void cu_each_mutation(const uint8_t *buf, size_t len, cu_input_fn fn, void *arg);

#endif
