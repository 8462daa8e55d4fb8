/* Guard-page buffers for decoder tests: the copy ends exactly where a PROT_NONE page begins,
 * so reading even one byte past the end faults, with or without ASan. */
#ifndef OCKAM_TESTS_SUPPORT_GUARD_H
#define OCKAM_TESTS_SUPPORT_GUARD_H

#include <stddef.h>
#include <stdint.h>

/* Copy data[0..len) into a fresh mapping that ends at a guard page; len may be 0 (the
 * result then points at the guard page itself). Aborts if the mapping fails. */
uint8_t *test_guard_copy(const void *data, size_t len);
/* Release a buffer from test_guard_copy (NULL is ignored). */
void test_guard_free(uint8_t *buf);

#endif
