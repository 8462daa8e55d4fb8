/* Background node processes: starting one detached and waiting for its readiness report,
 * stopping nodes, and waiting on their lock files.
 *
 * A background node is this binary re-executed as `ockam node create NAME --foreground
 * --child-process --home DIR`, in its own session, with stdin on /dev/null, stdout on its
 * stdout.log and stderr on its stderr.log (Ockam's names), and SPAWN_READY_FD the write end of a
 * pipe. The node writes one JSON line there —
 * {"status":"ready","pid":N,"tcp_listener_address":"H:P","resources":{GET /node}} or
 * {"status":"error","error":"...","hint":"..."} — and closes it. The intermediate process of the
 * double fork exits at once and is reaped here, so no zombie is left behind. */
#ifndef OCKAM_CLI_SPAWN_H
#define OCKAM_CLI_SPAWN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SPAWN_READY_FD 3
/* How long `node stop` waits after SIGTERM, then after SIGKILL. */
#define STOP_GRACE_MS 5000

/* Start node `name` (its config.json already saved) and wait for its report. On success
 * returns EXIT_OK and *ready is the report; otherwise prints the node's exact startup error and
 * returns the exit code. */
int spawn_node(const char *name, int verbosity, json_t **ready);

/* Stop the running nodes among names: SIGTERM to all, wait for each to release its lock (up to
 * STOP_GRACE_MS in total), SIGKILL those left and wait again. stopped[i] (may be NULL) tells
 * which ones are down afterwards; returns how many are still running (0 normally). */
size_t stop_nodes(char *const *names, size_t n, bool *stopped);

/* Kill node processes of this OCKAM_HOME whose state directory is gone (orphans left by
 * hand-deleted state). Returns how many were killed. */
size_t kill_orphans(void);

/* flock(fd, op) that gives up after timeout_ms (false then). op: LOCK_EX or LOCK_SH. */
bool lock_wait(int fd, int op, unsigned timeout_ms);

#endif
