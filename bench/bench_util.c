/* Helpers shared by the benchmark roles (see bench_util.h). */
#include "bench_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t
bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static const char *
find_arg(int argc, char **argv, const char *key)
{
    size_t klen = strlen(key);
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], key, klen) == 0 && argv[i][klen] == '=')
            return argv[i] + klen + 1;
    }
    return NULL;
}

long
bench_arg_long(int argc, char **argv, const char *key, long def)
{
    const char *v = find_arg(argc, argv, key);
    if (!v)
        return def;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v)
        bench_die("%s: bad value for %s: %s", argv[0], key, v);
    return n;
}

double
bench_arg_double(int argc, char **argv, const char *key, double def)
{
    const char *v = find_arg(argc, argv, key);
    if (!v)
        return def;
    char *end;
    double d = strtod(v, &end);
    if (*end || end == v)
        bench_die("%s: bad value for %s: %s", argv[0], key, v);
    return d;
}

const char *
bench_arg_str(int argc, char **argv, const char *key, const char *def)
{
    const char *v = find_arg(argc, argv, key);
    return v ? v : def;
}

void
bench_ready(int port)
{
    printf("port %d\n", port);
    fflush(stdout);
}

void
bench_report_thr(uint64_t msgs, uint64_t bytes, uint64_t ns)
{
    double secs = (double)ns / 1e9;
    if (secs <= 0)
        secs = 1e-9;
    printf("result msgs=%llu bytes=%llu secs=%.6f msg_s=%.0f mib_s=%.1f\n",
        (unsigned long long)msgs, (unsigned long long)bytes, secs, (double)msgs / secs,
        (double)bytes / secs / (1024.0 * 1024.0));
    fflush(stdout);
}

void
bench_lat_init(struct bench_lat *l, size_t cap)
{
    l->ns = malloc(cap * sizeof *l->ns);
    if (!l->ns)
        bench_die("out of memory");
    l->n = 0;
    l->cap = cap;
}

int
bench_lat_add(struct bench_lat *l, uint64_t ns)
{
    if (l->n == l->cap)
        return 0;
    l->ns[l->n++] = ns;
    return 1;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void
bench_lat_report(struct bench_lat *l)
{
    if (l->n == 0)
        bench_die("no latency samples");
    qsort(l->ns, l->n, sizeof *l->ns, cmp_u64);
    double sum = 0;
    for (size_t i = 0; i < l->n; i++)
        sum += (double)l->ns[i];
    double p50 = (double)l->ns[l->n / 2] / 1e3;
    double p99 = (double)l->ns[(l->n * 99) / 100] / 1e3;
    printf("result n=%zu p50_us=%.2f p99_us=%.2f mean_us=%.2f\n", l->n, p50, p99,
        sum / (double)l->n / 1e3);
    fflush(stdout);
    free(l->ns);
    l->ns = NULL;
    l->n = l->cap = 0;
}

long
bench_rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

long
bench_raise_nofile(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    rlim_t target = (rlim_t)want;
    if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
        target = rl.rlim_max;
    if (target > rl.rlim_cur) {
        rl.rlim_cur = target;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            return -1;
    }
    return (long)rl.rlim_cur;
}

uint8_t *
bench_payload(size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        bench_die("out of memory");
    for (size_t i = 0; i < size; i++)
        p[i] = (uint8_t)('a' + i % 26);
    return p;
}
