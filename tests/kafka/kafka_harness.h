/* Test harness for the Kafka transport tests.
 *
 *  - kmock: the kafka_mock program (tests/kafka/kafka_mock.c) in a child process, started and
 *    stopped by the test, controlled through its stdin/stdout.
 *  - knode: a node whose loop runs on its own thread (ockam_node_run); the test thread talks
 *    to it only through ockam_node_post (knode_call) and the shared monitor below.
 *  - kt_*: one mutex + condition variable shared by every thread of a test. Workers and event
 *    callbacks (on node threads) update state under kt_lock() and call kt_signal(); the test
 *    thread waits with kt_wait() -- an event with a deadline, never a sleep.
 *  - collectors: workers that keep every message they receive (payload and both routes as
 *    text), optionally replying, for exact route checks.
 *
 * Threading: knode_* and kmock_* are called from the test thread only. Collector callbacks run
 * on their node's loop thread and take kt_lock(). */
#ifndef OCKAM_TESTS_KAFKA_HARNESS_H
#define OCKAM_TESTS_KAFKA_HARNESS_H

#include "ockam/kafka.h"
#include "ockam/ockam.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- the shared monitor ----------------------------------------------------------------- */

void kt_lock(void);
void kt_unlock(void);
/* Wake kt_wait (call with the lock held or not). */
void kt_signal(void);
/* Wait until cond(arg) (evaluated under the lock) holds or timeout_ms passes; returns it. */
bool kt_wait(bool (*cond)(void *arg), void *arg, uint64_t timeout_ms);
uint64_t kt_now_ms(void);

/* ---- the mock cluster process ----------------------------------------------------------- */

typedef struct kmock {
    pid_t pid;
    int to_child, from_child;
    char bootstrap[1024];
    char buf[2048];
    size_t len;
} kmock;

/* Start kafka_mock with topics ("name" or "name:partitions"); asserts it is up within 20 s. */
void kmock_start(kmock *m, const char *const *topics, size_t count);
/* Send one command ("down 1", "up 1", "topic x 2") and wait for its answer; true on "OK". */
bool kmock_cmd(kmock *m, const char *cmd);
/* SIGTERM and reap. Idempotent. */
void kmock_stop(kmock *m);

/* ---- nodes on their own threads --------------------------------------------------------- */

typedef struct knode {
    ockam_node *node;
    pthread_t thread;
    bool running;
} knode;

/* A new node (not yet running): set it up directly from the test thread, then knode_start. */
void knode_init(knode *n);
void knode_start(knode *n);
/* Run fn(arg) on the node's loop thread and wait until it returned (asserts within 30 s). */
void knode_call(knode *n, void (*fn)(void *arg), void *arg);
/* Stop the loop thread (if running) and free the node. */
void knode_free(knode *n);

/* ---- Kafka configuration and events ----------------------------------------------------- */

/* Event counters, one set per node (updated under kt_lock). */
typedef struct kt_events {
    int assigned, revoked, delivery_failed, bad_records, client_errors;
    int commits;
    int64_t committed_offset[8]; /* per partition, the highest committed next-offset */
    ockam_err last_failure;
} kt_events;

void kt_on_event(const ockam_kafka_event *ev, void *user); /* user = kt_events * */

/* Our test defaults: fetch.wait.max.ms=5 (the mock holds a fetch for its whole wait),
 * short session timeouts, a unique group id per call. props/extra may add more. */
typedef struct kt_kafka {
    ockam_kafka_config cfg;
    const char *props[16];
    char group[128];
    kt_events events;
} kt_kafka;

void kt_kafka_config(kt_kafka *k, const char *bootstrap, const char *inbox);
/* Append one "key=value" property. */
void kt_kafka_prop(kt_kafka *k, const char *prop);
/* Register the Kafka transport on a node that is not running yet; asserts OCKAM_OK. */
void kt_kafka_init(knode *n, kt_kafka *k);
/* The node's Kafka statistics, read on its loop thread. */
struct ockam_kafka_stats kt_stats(knode *n);
/* Wait until the node's consumer has its partitions (group joined). */
bool kt_wait_assigned(kt_kafka *k, uint64_t timeout_ms);

/* ---- collectors ------------------------------------------------------------------------- */

typedef struct kt_item {
    uint8_t *payload;
    size_t len;
    char *onward, *ret; /* text forms */
} kt_item;

typedef struct kt_collector {
    ockam_worker *worker;
    bool reply; /* echo the payload back by the return route */
    bool upper; /* ... upper-cased (ASCII) */
    kt_item *items;
    size_t count, cap;
} kt_collector;

/* Start a collector at address on a node that is not running yet (or from its loop thread). */
void kt_collector_start(knode *n, kt_collector *c, const char *address, bool reply);
/* Wait until the collector holds at least `count` messages. */
bool kt_collector_wait(kt_collector *c, size_t count, uint64_t timeout_ms);
/* Free the kept items (after the node is freed). */
void kt_collector_free(kt_collector *c);

/* Send a copy of data from a worker along route text, on the worker's loop thread. */
ockam_err kt_send(knode *n, ockam_worker *from, const char *route, const void *data, size_t len);

/* ---- plain librdkafka clients (no libockam) --------------------------------------------- */

/* Produce raw records to topic with a plain producer and wait for their delivery. */
void kt_plain_produce(const char *bootstrap, const char *topic, const void *const *values,
    const size_t *lens, size_t count);
/* The committed next-offset of group on topic/partition (-1 if none), read with a plain
 * consumer handle. */
int64_t kt_committed(const char *bootstrap, const char *group, const char *topic, int partition);

#endif
