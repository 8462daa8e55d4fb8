/* Helpers shared by the benchmark roles (bench_ockam, bench_plain, bench_zmq, bench_nng).
 *
 * Every role is one process started by scripts/bench.sh. The protocol with the runner is a
 * few lines on stdout:
 *   "port N"            a listening role is ready (bound, and connected downstream if it
 *                       relays); the runner starts the next role only after reading it
 *   "result k=v ..."    the measurement, printed once at the end
 * Arguments are key=value pairs (size=256 secs=0.5 port=4000 to=5000). Throughput runs send
 * messages of `size` bytes for `secs` seconds, then one end marker (a 1-byte message); the
 * receiver measures from its first message to the end marker, like ZeroMQ's local_thr. */
#ifndef OCKAM_BENCH_UTIL_H
#define OCKAM_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_END_SIZE 1u /* payload size of the end marker */

uint64_t bench_now_ns(void);

/* Value of key=... among argv[2..], or def. Exits with a message when a value is malformed. */
long bench_arg_long(int argc, char **argv, const char *key, long def);
double bench_arg_double(int argc, char **argv, const char *key, double def);
const char *bench_arg_str(int argc, char **argv, const char *key, const char *def);

/* Print "port N" and flush: the runner waits for this line. */
void bench_ready(int port);
/* Print "result msgs=.. bytes=.. secs=.. msg_s=.. mib_s=.." and flush. */
void bench_report_thr(uint64_t msgs, uint64_t bytes, uint64_t ns);
/* Exit with a message (and status 1). */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Latency samples (nanoseconds). */
struct bench_lat {
    uint64_t *ns;
    size_t n, cap;
};
void bench_lat_init(struct bench_lat *l, size_t cap);
/* Returns false when full. */
int bench_lat_add(struct bench_lat *l, uint64_t ns);
/* Print "result n=.. p50_us=.. p99_us=.. mean_us=.." (sorts the samples) and free them. */
void bench_lat_report(struct bench_lat *l);

/* Resident set size of this process in bytes (/proc/self/statm). */
long bench_rss_bytes(void);
/* Raise RLIMIT_NOFILE's soft limit towards want (up to the hard limit); returns the new one. */
long bench_raise_nofile(long want);

/* Payload buffer of at least size bytes (filled with a pattern), shared by a role. */
uint8_t *bench_payload(size_t size);

#endif
