/* Common definitions: export macro, byte slices, the allocator hook and logging.
 *
 * Threading: ockam_set_allocator() must be called before any other ockam_ call.
 * ockam_log_set_handler()/ockam_log_set_level() should be called before nodes start; the
 * handler itself may be called from any node's loop thread. */
#ifndef OCKAM_COMMON_H
#define OCKAM_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OCKAM_API __attribute__((visibility("default")))

/* A borrowed byte range. Never owns its memory. */
typedef struct ockam_slice {
    const uint8_t *ptr;
    size_t len;
} ockam_slice;

/* Replace the allocator used for every internal allocation (global, set once at start-up). */
OCKAM_API void ockam_set_allocator(
    void *(*alloc_fn)(size_t), void *(*realloc_fn)(void *, size_t), void (*free_fn)(void *));

/* Free memory that a function documented as "caller frees with ockam_free" returned. */
OCKAM_API void ockam_free(void *ptr);

typedef enum ockam_log_level {
    OCKAM_LOG_ERROR = 0,
    OCKAM_LOG_WARN = 1,
    OCKAM_LOG_INFO = 2,
    OCKAM_LOG_DEBUG = 3,
    OCKAM_LOG_TRACE = 4,
} ockam_log_level;

/* Receives one formatted line (no trailing newline). The default handler writes to stderr. */
typedef void (*ockam_log_cb)(ockam_log_level level, const char *line, void *user);

OCKAM_API void ockam_log_set_handler(ockam_log_cb cb, void *user);
/* Lines above this level are dropped before formatting. Default: OCKAM_LOG_WARN. */
OCKAM_API void ockam_log_set_level(ockam_log_level level);
OCKAM_API ockam_log_level ockam_log_get_level(void);
/* Collapse repeats (0 = off, the default): within window_ms of a line, further lines made by
 * the same log statement are counted instead of written, and one line "... and N more like
 * this in the last S s: <the first line>" follows once the window is over (written at the
 * next log call, or by ockam_log_flush). Per thread (one node loop per thread). A peer that
 * opens and drops connections in a loop then costs a few lines, not one per connection. */
OCKAM_API void ockam_log_set_repeat_window(uint32_t window_ms);
/* Write the pending "... and N more" lines of this thread now (e.g. before exiting) and end
 * every window: the next line of any statement is written again. */
OCKAM_API void ockam_log_flush(void);

#ifdef __cplusplus
}
#endif
#endif
