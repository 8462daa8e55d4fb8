/* Logging: one formatted line per event, handed to a replaceable handler. */
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

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    handler(level, line, handler_user);
}
