/* A background node's bounded log file (see logfile.h). */
#include "cli/logfile.h"

#include "ockam/ockam.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_MB 100.0
#define DEFAULT_MAX_FILES 60
#define REPEAT_WINDOW_MS 10000u

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

static struct {
    char path[PATH_MAX];
    off_t max_bytes;
    int max_files;
} lf;

static double
env_number(const char *name, double fallback)
{
    const char *v = getenv(name);
    char *end = NULL;
    double d = v ? strtod(v, &end) : 0;
    return v && end != v && *end == '\0' && d > 0 ? d : fallback;
}

/* stdout.log.(i) for i > 0, stdout.log for 0. */
static void
numbered(int i, char *out, size_t cap)
{
    if (i == 0)
        snprintf(out, cap, "%s", lf.path);
    else
        snprintf(out, cap, "%s.%d", lf.path, i);
}

/* stdout.log -> stdout.log.1 -> ... (the oldest beyond max_files goes), then a fresh stdout.log
 * becomes stdout. On failure the current file simply keeps growing. */
static void
rotate(void)
{
    char from[PATH_MAX + 16], to[PATH_MAX + 16];
    numbered(lf.max_files - 1, to, sizeof to);
    (void)unlink(to);
    for (int i = lf.max_files - 2; i >= 0; i--) {
        numbered(i, from, sizeof from);
        numbered(i + 1, to, sizeof to);
        (void)rename(from, to);
    }
    int fd = open(lf.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    fflush(stdout);
    dup2(fd, STDOUT_FILENO);
    close(fd);
}

static void
write_line(ockam_log_level level, const char *line, void *user)
{
    struct timespec ts;
    struct tm tm;
    char stamp[32], text[1200];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    int n = snprintf(text, sizeof text, "%s.%03ldZ %-5s ockam: %s\n", stamp, ts.tv_nsec / 1000000L,
        level_names[level], line);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
    struct stat sb;
    if (lf.max_files > 1 && fstat(STDOUT_FILENO, &sb) == 0 && sb.st_size > 0
        && sb.st_size + (off_t)len > lf.max_bytes)
        rotate();
    for (size_t off = 0; off < len;) {
        ssize_t w = write(STDOUT_FILENO, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

void
logfile_start(const char *path)
{
    snprintf(lf.path, sizeof lf.path, "%s", path);
    double mb = env_number("OCKAM_LOG_MAX_SIZE_MB", DEFAULT_MAX_MB);
    lf.max_bytes = (off_t)(mb * 1024.0 * 1024.0);
    if (lf.max_bytes < 1024)
        lf.max_bytes = 1024;
    lf.max_files = (int)env_number("OCKAM_LOG_MAX_FILES", DEFAULT_MAX_FILES);
    if (lf.max_files < 1)
        lf.max_files = 1;
    ockam_log_set_handler(write_line, NULL);
    double window_s = getenv("OCKAM_LOG_REPEAT_WINDOW_S")
        ? env_number("OCKAM_LOG_REPEAT_WINDOW_S", 0)
        : REPEAT_WINDOW_MS / 1000.0;
    ockam_log_set_repeat_window((uint32_t)(window_s * 1000.0));
}

void
logfile_stop(void)
{
    ockam_log_flush();
}
