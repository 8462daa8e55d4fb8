/* Kafka transport (address type 16, ours: Ockam defines no Kafka transport) on librdkafka.
 *
 * Built with libockam when the CMake option OCKAM_WITH_KAFKA is ON (the default where
 * librdkafka is installed); a libockam built without it has none of these functions, and its
 * nodes route 16# addresses nowhere (OCKAM_ENOTSUP, no transport for the type).
 *
 * Addresses: 16#<topic> or 16#<topic>/<partition>, e.g. "16#ockam.n3.inbox" or
 * "16#ockam.n3.inbox/0". A topic is 1..249 characters of [A-Za-z0-9._-] (Kafka's rule); the
 * optional partition is a decimal number 0..2147483647. Without a partition the record key
 * picks the partition.
 *
 * Model: a node with the Kafka transport consumes one inbox topic. Sending a message whose
 * next hop is 16#T pops that hop, pushes the node's own inbox (16#<inbox>) onto the return
 * route -- so the reply comes back through Kafka -- and produces one record to T whose value is
 * the CBOR body of the TCP transport (docs/wire.md §4.2, no length prefix). The record key is the
 * last address of the return route (the worker the message started from), so the messages of
 * one route stay on one partition and keep their order. The consumer routes every record of
 * its inbox exactly as if it had arrived on a transport connection.
 *
 * Delivery is AT LEAST ONCE. The producer is idempotent (enable.idempotence=true, acks=all),
 * so librdkafka's retries add no duplicates. Offsets are committed (manually, never
 * auto-committed) only after a record was handed to the node's router; a crash or a group
 * rebalance between the two redelivers the record. A record that cannot be delivered to Kafka
 * (timeout, broker refusal, too large, purged at shutdown) is logged once, counted in
 * ockam_kafka_stats.delivery_failed and reported through on_event -- never silently lost.
 *
 * Security:
 *  - Flow control, default deny: messages consumed from the inbox carry the origin
 *    {producer = ockam_kafka_flow_id(node), spawner = 0} and reach only consumers of that id.
 *    A local worker (origin 0) that sends through Kafka becomes a consumer itself, so replies
 *    reach it.
 *  - Open-proxy rule (as TCP's allowed_outgoing): a message that came from another node (origin
 *    non-zero) is produced to topic T only when T is in allowed_outgoing ("*" allows any), or
 *    when T was announced as a reply inbox (the first return hop of a record this node consumed
 *    and reply_to_announced is true). Otherwise it is dropped with OCKAM_EACCES.
 *  - TLS, SASL and every other client setting are librdkafka properties ("key=value" in
 *    properties): they work against a real cluster without code changes.
 *
 * Threading: every function here runs on the node's loop thread. librdkafka's own threads
 * never touch node state: they only wake the loop through a pipe (rd_kafka_queue_io_event_
 * enable) watched by a uv_poll_t; delivery reports, records, rebalances, commits, errors and
 * librdkafka's log lines are all served on the loop thread. on_event runs on the loop thread.
 *
 * Shutdown (ockam_node_free): in-flight records get flush_timeout_ms to be delivered; the rest
 * are purged and reported as failed; the consumer leaves its group (bounded by the same
 * timeout) and offsets of records already handed to the router are committed first. */
#ifndef OCKAM_KAFKA_H
#define OCKAM_KAFKA_H

#include "ockam/node.h"

#ifdef __cplusplus
extern "C" {
#endif

/* OCKAM_TRANSPORT_KAFKA (16) is defined in ockam/addr.h. Kafka's own limit on topic names. */
#define OCKAM_KAFKA_MAX_TOPIC 249

typedef enum ockam_kafka_event_kind {
    OCKAM_KAFKA_ASSIGNED,        /* the consumer was given `partition` partitions of the inbox */
    OCKAM_KAFKA_REVOKED,         /* the consumer lost its partitions (rebalance or close) */
    OCKAM_KAFKA_DELIVERY_FAILED, /* a record to `topic` was not delivered (`err`, `reason`) */
    OCKAM_KAFKA_BAD_RECORD,      /* a record at (`partition`, `offset`) was skipped (`err`) */
    OCKAM_KAFKA_COMMITTED,       /* offsets up to `offset` (next to read) committed, or `err` */
    OCKAM_KAFKA_CLIENT_ERROR,    /* librdkafka reported an error (e.g. brokers down) */
} ockam_kafka_event_kind;

/* Borrowed for the duration of the callback. */
typedef struct ockam_kafka_event {
    ockam_kafka_event_kind kind;
    const char *topic;  /* NULL when not about one topic */
    int32_t partition;  /* -1 when not about one partition; ASSIGNED/REVOKED: the count */
    int64_t offset;     /* -1 when not about one offset */
    ockam_err err;      /* OCKAM_OK for ASSIGNED/REVOKED and successful commits */
    const char *reason; /* librdkafka's or the decoder's text; never NULL */
} ockam_kafka_event;

typedef void (*ockam_kafka_event_cb)(const ockam_kafka_event *event, void *user);

typedef struct ockam_kafka_config {
    /* "host:port,host:port". May instead be given as property bootstrap.servers. */
    const char *bootstrap_servers;
    /* The topic this node consumes (required). Must exist, or be auto-created by the cluster. */
    const char *inbox_topic;
    /* Consumer group; NULL = "ockam." + inbox_topic. One group per node. */
    const char *group_id;
    /* librdkafka properties as "key=value", applied after our defaults so they win. A
     * "producer." or "consumer." prefix applies a property to that client only. Our defaults:
     * client.id=ockam, socket.nagle.disable=true; producer enable.idempotence=true, acks=all,
     * linger.ms=0; consumer auto.offset.reset=earliest (an inbox keeps what arrived while the
     * node was away), enable.partition.eof=false. Always forced, whatever is given:
     * log.queue=true (logs are served on the loop thread), enable.auto.commit=false and
     * enable.auto.offset.store=false (commits follow hand-off). Against the librdkafka mock
     * cluster set consumer.fetch.wait.max.ms low (1-10): the mock holds every fetch that long. */
    const char *const *properties;
    size_t properties_count;
    /* Topics that messages from other nodes may be produced to ("*" = any). */
    const char *const *allowed_outgoing;
    size_t allowed_outgoing_count;
    /* Let messages from other nodes go to inboxes announced by consumed records (replies). */
    bool reply_to_announced;
    /* Shutdown bound for flushing the producer and leaving the group. */
    uint32_t flush_timeout_ms;
    /* Offsets of records handed to the router are committed at most this often (one
     * OffsetCommit per interval instead of one per batch); 0 = after every batch. A rebalance
     * and shutdown commit at once. Longer means more redelivery after a crash. */
    uint32_t commit_interval_ms;
    /* Backpressure: above this many bytes produced and not yet acknowledged, the connections
     * whose messages feed the producer are paused, and resumed below half (0 = 16 MiB). A full
     * librdkafka queue never drops a record: it is held until there is room. */
    size_t high_water;
    ockam_kafka_event_cb on_event; /* optional */
    void *user;
} ockam_kafka_config;

#define OCKAM_KAFKA_CONFIG_INIT                                                                    \
    {                                                                                              \
        .bootstrap_servers = NULL, .inbox_topic = NULL, .group_id = NULL, .properties = NULL,      \
        .properties_count = 0, .allowed_outgoing = NULL, .allowed_outgoing_count = 0,              \
        .reply_to_announced = true, .flush_timeout_ms = 5000, .commit_interval_ms = 100,           \
        .high_water = 0, .on_event = NULL, .user = NULL                                            \
    }

/* Register the Kafka transport on a node: create the producer and the consumer, subscribe to
 * the inbox. Returns before any broker is reached (connections are made in the background).
 * OCKAM_EINVAL: missing inbox or bootstrap servers, a malformed topic, or a property that
 * librdkafka refuses (one log line names it). OCKAM_EEXIST if already registered. */
OCKAM_API ockam_err ockam_kafka_init(ockam_node *node, const ockam_kafka_config *cfg);

/* Producer flow id of messages consumed from the inbox (0 if the transport is not
 * registered): make a worker reachable from Kafka with ockam_flow_add_consumer(). */
OCKAM_API ockam_flow_id ockam_kafka_flow_id(ockam_node *node);
/* The inbox topic, or NULL if the transport is not registered. */
OCKAM_API const char *ockam_kafka_inbox(ockam_node *node);

/* The Kafka transport's counters, read with ockam_kafka_stats(). */
struct ockam_kafka_stats {
    uint64_t produced;        /* records handed to librdkafka */
    uint64_t delivered;       /* acknowledged by the cluster */
    uint64_t delivery_failed; /* reported failed (including refused at produce time) */
    uint64_t consumed;        /* records read from the inbox */
    uint64_t routed;          /* records handed to the router */
    uint64_t bad_records;     /* skipped: not a valid message body */
    uint64_t commits;         /* successful offset commits */
    uint64_t commit_failures;
    uint32_t assigned_partitions;
    uint64_t held;   /* records librdkafka's queue was full for, kept until it had room */
    uint64_t pauses; /* times a connection feeding the producer was paused (backpressure) */
};

/* OCKAM_ENOTSUP if the transport is not registered on the node. */
OCKAM_API ockam_err ockam_kafka_stats(ockam_node *node, struct ockam_kafka_stats *out);

/* Parse the value of a Kafka address ("topic" or "topic/partition", len bytes, no NUL needed).
 * topic receives the NUL-terminated topic; *partition is -1 when none was given.
 * OCKAM_EADDRINVAL when malformed. */
OCKAM_API ockam_err ockam_kafka_addr_parse(
    const char *text, size_t len, char topic[OCKAM_KAFKA_MAX_TOPIC + 1], int32_t *partition);

#ifdef __cplusplus
}
#endif
#endif
