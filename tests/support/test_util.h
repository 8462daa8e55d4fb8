/* Helpers shared by the tests: run a node's loop until a condition holds or a deadline passes
 * (never sleeping), and hex helpers for wire vectors. */
#ifndef OCKAM_TEST_UTIL_H
#define OCKAM_TEST_UTIL_H

#include "ockam/ockam.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* After its prerequisites (a separate block, so include sorting keeps the order). */
#include <cmocka.h>

/* Run the node's loop until cond(arg) is true or timeout_ms passes; returns cond's value. */
bool test_run_until(ockam_node *node, bool (*cond)(void *arg), void *arg, uint64_t timeout_ms);
/* Run the node's loop until nothing is ready (every queued message delivered). */
void test_drain(ockam_node *node);

/* "01 0a ff" or "010aff" -> bytes; returns the count. Asserts on malformed text. */
size_t test_hex(const char *text, uint8_t *out, size_t cap);

/* Build a route from text ("a => b"); asserts success. Caller frees. */
ockam_route *test_route(const char *text);
/* Assert a route's text form. */
void test_assert_route(const ockam_route *route, const char *expected);

#endif
