/* Kafka transport internals (see include/ockam/kafka.h for the model and the rules).
 *
 * Files: kafka.c (configuration, lifecycle, the loop wake-up, public getters), kafka_send.c
 * (the route op: producing records, delivery reports, the open-proxy rule), kafka_recv.c
 * (consuming the inbox, rebalances, offset commits), kafka_addr.c (address syntax).
 *
 * Ownership: struct ockam__kafka is the transport's private state, allocated and freed by the
 * node (ops->size). It owns both librdkafka handles, the wake-up pipe, the poll handle, the
 * announced reply inboxes, the pending offsets and one encoding buffer reused for every record
 * (librdkafka copies each value into its own message allocation).
 *
 * Threading: all functions run on the node's loop thread. librdkafka's threads only write one
 * byte to wake_fd[1] when a served queue turns non-empty; every callback set here
 * (delivery report, rebalance, commit, error, log) is served by rd_kafka_poll() or
 * rd_kafka_consumer_poll() called from the loop thread. */
#ifndef OCKAM_TRANSPORT_KAFKA_INTERNAL_H
#define OCKAM_TRANSPORT_KAFKA_INTERNAL_H

#include "node/policy.h"
#include "node/transport.h"
#include "ockam/kafka.h"

#include <librdkafka/rdkafka.h>

/* Records handed to the router per wake-up before other I/O gets a turn. */
#define OCKAM__KAFKA_BUDGET 512
/* Most reply inboxes remembered for the open-proxy rule (beyond it, one log line). */
#define OCKAM__KAFKA_MAX_ANNOUNCED 1024
/* Topic handles kept for producing (most recently used first). */
#define OCKAM__KAFKA_TOPIC_CACHE 16

struct ockam__kafka_topics {
    char **names;
    size_t count, cap;
};

struct ockam__kafka_rkt {
    char *name;
    rd_kafka_topic_t *rkt;
};

/* A record librdkafka's queue had no room for: it waits here, in order, until a delivery
 * report makes room (see "Backpressure" in kafka_send.c). */
struct ockam__kafka_held {
    struct ockam__kafka_held *next;
    char *topic;
    int32_t partition;
    size_t klen, vlen;
    uint8_t *key, *value; /* one allocation with the struct */
};

struct ockam__kafka {
    ockam_node *node;
    rd_kafka_t *producer;
    rd_kafka_t *consumer;
    rd_kafka_queue_t *producer_q; /* the producer's main queue (delivery reports, logs) */
    rd_kafka_queue_t *consumer_q; /* the consumer queue (records, rebalances, commits) */
    uv_poll_t poll;
    bool poll_open;
    bool closing;
    int wake_fd[2];                 /* non-blocking pipe: librdkafka writes, the loop reads */
    struct ockam__policy_flow flow; /* the inbox: its id is the origin of consumed records */
    char *inbox;
    size_t inbox_len;
    struct ockam__kafka_topics announced; /* reply inboxes learned from consumed records */
    bool reply_to_announced;
    bool announced_full_logged;
    /* The last reply inbox seen (already in `announced`): most records repeat it. */
    char last_announced[OCKAM_KAFKA_MAX_TOPIC + 12]; /* topic "/" partition */
    size_t last_announced_len;
    /* Producing by handle skips librdkafka's per-record topic lookup (a client-wide lock). */
    struct ockam__kafka_rkt rkts[OCKAM__KAFKA_TOPIC_CACHE];
    size_t n_rkts;
    uv_timer_t commit_timer; /* started lazily, on the first record */
    bool commit_timer_open;
    uint32_t commit_interval_ms;
    rd_kafka_topic_partition_list_t *pending; /* next offsets to commit, NULL when none */
    int pending_last;                         /* index in pending of the last partition */
    rd_kafka_resp_err_t last_client_err;      /* to log a repeated client error once */
    uint64_t in_flight; /* produced records whose delivery report has not been served */
    /* Backpressure (kafka_send.c): bytes produced and not yet reported plus bytes held; the
     * records librdkafka had no room for; the connections paused (by flow id). */
    size_t queued_bytes, high_water;
    struct ockam__kafka_held *held, *held_tail;
    ockam_flow_id *paused;
    size_t npaused, cappaused;
    uint8_t *enc; /* encoding buffer, grown to the largest record so far */
    size_t enc_cap;
    uint32_t flush_timeout_ms;
    ockam_kafka_event_cb on_event;
    void *user;
    struct ockam_kafka_stats stats;
};

/* kafka.c */
void ockam__kafka_emit(struct ockam__kafka *k, ockam_kafka_event_kind kind, const char *topic,
    int32_t partition, int64_t offset, ockam_err err, const char *reason);
ockam_err ockam__kafka_map_err(rd_kafka_resp_err_t err);
/* Make the poll callback run again soon (used when a drain stops at its budget). */
void ockam__kafka_wake(struct ockam__kafka *k);

/* kafka_send.c */
ockam_err ockam__kafka_route(void *self, ockam_msg *msg);
void ockam__kafka_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
/* Wait up to timeout_ms for in-flight records, then purge and report the rest as failed. */
void ockam__kafka_flush(struct ockam__kafka *k, uint32_t timeout_ms);
bool ockam__kafka_topics_has(const struct ockam__kafka_topics *t, const char *name);
ockam_err ockam__kafka_topics_add(struct ockam__kafka_topics *t, const char *name);
void ockam__kafka_topics_free(struct ockam__kafka_topics *t);
/* Free held records without reporting them (the flush reported them already). */
void ockam__kafka_free_held(struct ockam__kafka *k);
/* Release the cached topic handles (before the producer is destroyed). */
void ockam__kafka_drop_topic_handles(struct ockam__kafka *k);

/* kafka_recv.c */
void ockam__kafka_drain(struct ockam__kafka *k);
void ockam__kafka_on_rebalance(
    rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts, void *opaque);
void ockam__kafka_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *offsets, void *opaque);
/* Commit the offsets of records already handed to the router (asynchronous). */
void ockam__kafka_commit_pending(struct ockam__kafka *k);
/* Stop the commit timer (shutdown). */
void ockam__kafka_close_commit_timer(struct ockam__kafka *k);
/* Leave the group, bounded by timeout_ms. */
void ockam__kafka_close_consumer(struct ockam__kafka *k, uint32_t timeout_ms);

#endif
