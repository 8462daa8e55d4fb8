/* The one helper API of the tests: several nodes and raw sockets in one test thread, one
 * node's loop for unit tests, routes and hex from text. It includes cmocka: a test file
 * includes this and nothing else of tests/support (guard.h aside).
 *
 * Each node keeps its own loop. tn_wait() turns every registered node's loop without blocking,
 * checks a condition, then waits in poll() on the loops' backend descriptors (and, for the raw
 * socket helpers, the socket) until something is ready -- so tests wait on events with a
 * deadline and never sleep. Everything runs on the calling thread, which is every node's loop
 * thread.
 *
 * Ownership: nodes made by tn_node_new() are freed by tn_free_all() (call it at the end of
 * each test). Probes belong to their node and are freed with it; messages taken from a probe
 * belong to the caller. Raw sockets are plain POSIX descriptors the caller closes. */
#ifndef OCKAM_TESTS_SUPPORT_NODES_H
#define OCKAM_TESTS_SUPPORT_NODES_H

#include "ockam/ockam.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* After its prerequisites (a separate block, so include sorting keeps the order). */
#include <cmocka.h>

#define TN_MAX_NODES 8

/* ---- nodes ---------------------------------------------------------------------------- */

/* A new node, registered for tn_wait(); asserts on failure. */
ockam_node *tn_node_new(void);
/* Free every registered node (closing their transports) and forget them. */
void tn_free_all(void);
/* cmocka teardown calling tn_free_all(). A failed assertion leaves the test function at once,
 * skipping the test's own tn_free_all(): without this the tests after a failed one would fail
 * on TN_MAX_NODES instead of on their own checks. */
int tn_teardown(void **state);
/* A test entry of a program that makes nodes with tn_node_new(). */
#define TN_TEST(f) cmocka_unit_test_teardown(f, tn_teardown)
/* Free one registered node (its peers see its connections close) and forget it. */
void tn_node_free(ockam_node *node);
/* Run every registered node until cond(arg) holds or timeout_ms passes; returns cond's value. */
bool tn_wait(bool (*cond)(void *arg), void *arg, uint64_t timeout_ms);
/* Run every registered node until none has ready work left (bounded). */
void tn_drain(void);
/* Milliseconds of a monotonic clock. */
uint64_t tn_now_ms(void);

/* ---- one node the test made itself (ockam_node_new, not registered) ------------------- */

/* Run the node's loop until cond(arg) is true or timeout_ms passes; returns cond's value. */
bool tn_run_until(ockam_node *node, bool (*cond)(void *arg), void *arg, uint64_t timeout_ms);
/* Run the node's loop until nothing is ready (every queued message delivered). */
void tn_drain_node(ockam_node *node);

/* ---- text ------------------------------------------------------------------------------ */

/* "01 0a ff" or "010aff" -> bytes; returns the count. Asserts on malformed text. */
size_t tn_hex(const char *text, uint8_t *out, size_t cap);

/* ---- probes: workers that keep what they receive -------------------------------------- */

typedef struct tn_probe tn_probe;

/* Start a probe at address (NULL = random); asserts on failure. */
tn_probe *tn_probe_start(ockam_node *node, const char *address);
ockam_worker *tn_probe_worker(tn_probe *p);
/* The probe's address as a NUL-terminated string (valid while the probe lives). */
const char *tn_probe_address(const tn_probe *p);
/* Messages received and not yet taken. */
size_t tn_probe_count(const tn_probe *p);
/* Messages received in total. */
size_t tn_probe_total(const tn_probe *p);
/* Wait for a message and take the oldest; NULL when none arrives in time. Caller frees. */
ockam_msg *tn_probe_wait(tn_probe *p, uint64_t timeout_ms);
/* Wait until the probe has received `total` messages in all. */
bool tn_probe_wait_total(tn_probe *p, size_t total, uint64_t timeout_ms);

/* ---- TCP helpers (assert on failure) ------------------------------------------------- */

/* Listen on 127.0.0.1:0 with the profile. */
ockam_listener *tn_tcp_listen(ockam_node *node, ockam_wire_profile profile);
/* Connect and wait for the connection (asserts it succeeds). */
ockam_conn *tn_tcp_connect(ockam_node *node, const char *host_port, ockam_wire_profile profile);
/* The connection count of a node (every stream transport). */
size_t tn_conn_count(ockam_node *node);
/* The only connection of a node accepted by a listener (asserts there is exactly one). */
ockam_conn *tn_only_accepted(ockam_node *node);
/* A 127.0.0.1 port that was just bound and released: connecting to it is refused. */
uint16_t tn_dead_port(void);
/* Build a route from text with printf formatting; caller frees. */
ockam_route *tn_route(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Assert a route's text form (printf formatting). */
void tn_assert_route(const ockam_route *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Send a copy of data along the route text from worker `from`. */
ockam_err tn_send(ockam_worker *from, const char *route_text, const void *data, size_t len);

/* ---- log capture ---------------------------------------------------------------------- */

/* Record the library's log lines (warnings and errors; they are still printed). */
void tn_log_capture(void);
/* Recorded lines containing `text` (NULL: all of them). */
size_t tn_log_count(const char *text);
/* Stop recording and forget the lines. */
void tn_log_release(void);

/* ---- raw sockets: plain POSIX, no libockam on the client path -------------------------- */

/* Connect to "127.0.0.1:port" (blocking connect, then non-blocking). -1 on failure. */
int tn_raw_connect(const char *host_port);
/* Connect to a Unix socket path. -1 on failure. */
int tn_raw_connect_unix(const char *path);
/* A raw listening socket on 127.0.0.1:0; *port gets the port. */
int tn_raw_listen(uint16_t *port);
/* Accept one connection on a raw listener while the nodes run; -1 on timeout. */
int tn_raw_accept(int lfd, uint64_t timeout_ms);
/* Write all of buf while the nodes run. false on error or timeout. */
bool tn_raw_send(int fd, const void *buf, size_t len, uint64_t timeout_ms);
/* Read exactly len bytes while the nodes run. false on EOF, error or timeout. */
bool tn_raw_recv(int fd, void *buf, size_t len, uint64_t timeout_ms);
/* Read and discard until the peer closes (EOF or reset). false on timeout. */
bool tn_raw_wait_closed(int fd, uint64_t timeout_ms);
/* Close with SO_LINGER 0, so the peer sees a reset. */
void tn_raw_reset(int fd);
/* Bytes readable right now without blocking (0 if none). */
size_t tn_raw_pending(int fd);
/* The socket's own address as "127.0.0.1:port" (what the node calls its peer). */
void tn_raw_local_name(int fd, char *out, size_t cap);

#endif
