/* Logging: one formatted line per event, handed to a replaceable handler; repeats of one log
 * statement (its format string) may be collapsed (ockam_log_set_repeat_window). */
#include "core/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

ockam_log_level ockam__log_level = OCKAM_LOG_WARN;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

static void
default_handler(ockam_log_level level, const char *line, void *user)
{
    struct timespec ts;
    struct tm tm;
    char stamp[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %-5s ockam: %s\n", stamp, ts.tv_nsec / 1000000L, level_names[level],
        line);
}

static ockam_log_cb handler = default_handler;
static void *handler_user;

/* ---- repeats ------------------------------------------------------------------------- */

#define REPEAT_SLOTS 32
#define REPEAT_TEXT 120

static uint32_t repeat_window_ms; /* set once at start-up, like the handler */

struct repeat {
    const char *fmt; /* the log statement (NULL: free slot) */
    ockam_log_level level;
    uint64_t start_ms;
    uint64_t suppressed;
    char first[REPEAT_TEXT]; /* the line written at the start of the window (for the summary) */
};

/* Per thread: every node loop runs on its own, and the core takes no locks. */
static _Thread_local struct repeat repeats[REPEAT_SLOTS];

static uint64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
summarize(struct repeat *r)
{
    char line[REPEAT_TEXT + 96];
    if (r->suppressed == 0)
        return;
    snprintf(line, sizeof line, "... and %llu more like this in the last %u s: %s",
        (unsigned long long)r->suppressed, (repeat_window_ms + 999u) / 1000u, r->first);
    r->suppressed = 0;
    handler(r->level, line, handler_user);
}

void
ockam_log_set_repeat_window(uint32_t window_ms)
{
    repeat_window_ms = window_ms;
}

/* Flushing ends every window: the counts go out and the next line of any statement is
 * written again (a window left open would swallow the first lines logged after a flush). */
void
ockam_log_flush(void)
{
    for (size_t i = 0; i < REPEAT_SLOTS; i++) {
        summarize(&repeats[i]);
        repeats[i].fmt = NULL;
    }
}

/* The slot of this statement if its line is to be written (NULL: counted, not written). */
static struct repeat *
repeat_admit(ockam_log_level level, const char *fmt, bool *suppress)
{
    uint64_t now = mono_ms();
    struct repeat *mine = NULL, *free_slot = NULL, *oldest = NULL;
    *suppress = false;
    for (size_t i = 0; i < REPEAT_SLOTS; i++) {
        struct repeat *r = &repeats[i];
        if (!r->fmt) {
            free_slot = free_slot ? free_slot : r;
            continue;
        }
        if (now - r->start_ms >= repeat_window_ms)
            summarize(r); /* a window that ended: its count goes out first */
        if (r->fmt == fmt && r->level == level)
            mine = r;
        if (!oldest || r->start_ms < oldest->start_ms)
            oldest = r;
    }
    if (mine && now - mine->start_ms < repeat_window_ms) {
        mine->suppressed++;
        *suppress = true;
        return NULL;
    }
    if (!mine) {
        mine = free_slot ? free_slot : oldest; /* the oldest window gives way */
        summarize(mine);
    }
    mine->fmt = fmt;
    mine->level = level;
    mine->start_ms = now;
    mine->suppressed = 0;
    return mine;
}

void
ockam_log_set_handler(ockam_log_cb cb, void *user)
{
    handler = cb ? cb : default_handler;
    handler_user = user;
}

void
ockam_log_set_level(ockam_log_level level)
{
    ockam__log_level = level;
}

ockam_log_level
ockam_log_get_level(void)
{
    return ockam__log_level;
}

void
ockam__log_impl(ockam_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    struct repeat *r = NULL;

    if (repeat_window_ms) {
        bool suppress;
        r = repeat_admit(level, fmt, &suppress);
        if (suppress)
            return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (r)
        snprintf(r->first, sizeof r->first, "%s", line);
    handler(level, line, handler_user);
}
