/* Small helpers of the `ockam` command: allocation that never returns NULL, a string
 * builder, hex, durations, files. HOST:PORT is split by core/host_port.h, as everywhere. */
#ifndef OCKAM_CLI_UTIL_H
#define OCKAM_CLI_UTIL_H

#include "core/host_port.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes (sysexits): success, usage errors, runtime errors. */
#define EXIT_OK 0
#define EXIT_USAGE 64
#define EXIT_RUNTIME 70

/* The CLI cannot do anything useful without memory: these print and exit(70) on ENOMEM. */
void *xmalloc(size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

typedef struct strbuf {
    char *buf;
    size_t len, cap;
} strbuf;

void sb_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text ("" when nothing was added); the caller frees it and the builder is reset. */
char *sb_take(strbuf *sb);

/* Allocating forms of core.h's hex. */
char *hex_encode(const uint8_t *p, size_t n);
/* false when the text is not an even number of hex digits. *out is freed by the caller. */
bool hex_decode(const char *text, uint8_t **out, size_t *len);

/* "<n>[ms|s|m|h|d]", a bare number meaning seconds. */
bool parse_duration_ms(const char *text, uint64_t *ms);

/* Whole file into a NUL-terminated buffer; NULL with errno set. */
char *read_file(const char *path, size_t *len);
/* Replace path atomically (write a temporary file, then rename). 0 or -1 with errno. */
int write_file_atomic(const char *path, const char *data, size_t len, unsigned mode);
/* rm -rf; 0 or -1 with errno. A missing path is success. */
int remove_tree(const char *path);

/* Milliseconds of a monotonic clock. */
uint64_t now_ms(void);

#endif
