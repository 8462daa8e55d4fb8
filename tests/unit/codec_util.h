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

/* The message a test vector describes: routes as text, the payload in hex, tracing or NULL. */
ockam_msg *cu_vec_msg(
    const char *onward, const char *ret, const char *payload_hex, const char *tracing);
/* got is exactly that message (routes checked address by address first). */
void cu_assert_vec_msg(const ockam_msg *got, const char *onward, const char *ret,
    const char *payload_hex, const char *tracing);
/* A decoder left m empty (routes and payload) after an error. */
void cu_assert_reset(const ockam_msg *m);

/* A message decoder under test, as (ptr, len) -> m. */
typedef ockam_err (*cu_decode_fn)(const uint8_t *buf, size_t len, ockam_msg *m);
/* decode on a guard-page copy of buf[0..len). */
ockam_err cu_decode_guarded(cu_decode_fn decode, const uint8_t *buf, size_t len, ockam_msg *m);
/* The same for bytes given in hex. */
ockam_err cu_decode_hex(cu_decode_fn decode, const char *hex, ockam_msg *m);

/* Build an encoded message whose onward route has count addresses of addr_len bytes (type
 * 0, empty return route and payload) and decode it. */
typedef ockam_err (*cu_build_decode_fn)(size_t count, size_t addr_len, ockam_msg *m);
/* Address length and route length limits: at each limit decodes, one above does not. */
void cu_assert_route_limits(cu_build_decode_fn build_decode);

/* Call fn on a guard-page copy of buf[0..n) for n = 0 .. len-1. */
typedef void (*cu_input_fn)(const uint8_t *buf, size_t len, void *arg);
void cu_each_prefix(const uint8_t *buf, size_t len, cu_input_fn fn, void *arg);
/* Call fn on a guard-page copy of buf with one byte changed, for every position and each of
 * 0x00, 0xff, b+1 and b^0x80 (skipping values equal to the original). */
void cu_each_mutation(const uint8_t *buf, size_t len, cu_input_fn fn, void *arg);
/* cu_each_prefix and cu_each_mutation on bytes given in hex. */
void cu_each_prefix_hex(const char *hex, cu_input_fn fn, void *arg);
void cu_each_mutation_hex(const char *hex, cu_input_fn fn, void *arg);

#endif
