/* Helpers shared by the libockam roles of the benchmark suite (bench_ockam, bench_channel,
 * bench_portal); the roles without libockam use bench_util.h only, so these live apart.
 *
 * Each role runs one node, driven from main on its loop thread; every helper exits through
 * bench_die() on an error instead of returning it. */
#ifndef OCKAM_BENCH_NODE_H
#define OCKAM_BENCH_NODE_H

#include "ockam/ockam.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sender throttle: encode until this many bytes wait in the write queue, then let the loop
 * write them (and block in it while the queue stays above the mark). */
#define BENCH_QUEUE_MARK (256u * 1024u)

/* Exit with "what: <error>" unless err is OCKAM_OK. */
void bench_must(ockam_err err, const char *what);
/* The port of a "host:port" address. */
int bench_port_of(const char *addr);
/* Connect node to 127.0.0.1:port, running the loop until the connection is up. */
ockam_conn *bench_connect(ockam_node *node, long port);
/* The route parsed from printf-style text. */
ockam_route *bench_route(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A worker callback that drops what it gets. */
void bench_ignore_message(ockam_worker *w, ockam_msg *msg, void *user);

/* A worker counting messages until the end marker (a BENCH_END_SIZE payload); then it prints
 * the throughput line and stops its node. Start it with .on_message = bench_sink_on_message
 * and .user = the struct (node set, the rest zero). */
struct bench_sink {
    ockam_node *node;
    uint64_t msgs, bytes, t0;
};
void bench_sink_on_message(ockam_worker *w, ockam_msg *msg, void *user);

/* From app, send size-byte payloads along route for secs (or exactly count of them when
 * count > 0: instruction counts, bench/sc_instr.sh), throttled on conn's write queue, then the
 * end marker; close conn once what it queued is written (the sink may already have closed
 * it). turn_each_burst: run the loop once per burst as well (a secure channel encrypts in its
 * encryptor's turn, so the connection's queue grows only then). */
void bench_source_run(ockam_node *node, ockam_worker *app, ockam_conn *conn,
    const ockam_route *route, const uint8_t *payload, size_t size, double secs, long count,
    bool turn_each_burst);

#endif
