/* Kafka transport, receiving: consume the inbox, hand each record to the router as if it had
 * arrived on a transport connection, then commit its offset. Rebalance and commit callbacks
 * are served by rd_kafka_consumer_poll on the loop thread. */
#include "core/codec.h"
#include "transport/kafka/kafka_internal.h"

#include <inttypes.h>

/* ---- offsets ---------------------------------------------------------------------------- */

/* Remember that everything up to this record was handed over (at least once: the commit
 * follows the hand-off, never precedes it). */
static void
mark_done(struct ockam__kafka *k, const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    if (!k->pending) {
        k->pending = rd_kafka_topic_partition_list_new(4);
        k->pending_last = -1;
    }
    /* Records come in runs from one partition (one fetched batch): check the last one first. */
    rd_kafka_topic_partition_t *p = NULL;
    if (k->pending_last >= 0 && k->pending->elems[k->pending_last].partition == m->partition
        && strcmp(k->pending->elems[k->pending_last].topic, topic) == 0)
        p = &k->pending->elems[k->pending_last];
    if (!p)
        p = rd_kafka_topic_partition_list_find(k->pending, topic, m->partition);
    if (!p)
        p = rd_kafka_topic_partition_list_add(k->pending, topic, m->partition);
    k->pending_last = (int)(p - k->pending->elems);
    p->offset = m->offset + 1; /* Kafka commits the next offset to read */
}

void
ockam__kafka_commit_pending(struct ockam__kafka *k)
{
    if (!k->pending || !k->consumer)
        return;
    /* Asynchronous: the list is copied, the result arrives in ockam__kafka_on_commit. */
    rd_kafka_resp_err_t err = rd_kafka_commit(k->consumer, k->pending, 1);
    if (err) {
        k->stats.commit_failures++;
        OCKAM_LOG_W("kafka: cannot commit offsets: %s", rd_kafka_err2str(err));
    }
    rd_kafka_topic_partition_list_destroy(k->pending);
    k->pending = NULL;
}

static void
on_commit_timer(uv_timer_t *t)
{
    ockam__kafka_commit_pending(t->data);
}

/* Commit now, or within commit_interval_ms: one request for everything handed over since. */
static void
schedule_commit(struct ockam__kafka *k)
{
    if (!k->pending)
        return;
    if (k->commit_interval_ms == 0) {
        ockam__kafka_commit_pending(k);
        return;
    }
    if (!k->commit_timer_open) {
        uv_timer_init(ockam__node_loop(k->node), &k->commit_timer);
        k->commit_timer.data = k;
        k->commit_timer_open = true;
    }
    if (!uv_is_active((uv_handle_t *)&k->commit_timer))
        uv_timer_start(&k->commit_timer, on_commit_timer, k->commit_interval_ms, 0);
}

void
ockam__kafka_close_commit_timer(struct ockam__kafka *k)
{
    if (k->commit_timer_open)
        uv_close((uv_handle_t *)&k->commit_timer, NULL);
    k->commit_timer_open = false;
}

void
ockam__kafka_on_commit(
    rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    struct ockam__kafka *k = opaque;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET || !offsets)
        return; /* nothing needed committing */
    for (int i = 0; i < offsets->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &offsets->elems[i];
        rd_kafka_resp_err_t e = err ? err : p->err;
        if (e) {
            k->stats.commit_failures++;
            OCKAM_LOG_W("kafka: commit of %s[%" PRId32 "]@%" PRId64 " failed: %s", p->topic,
                p->partition, p->offset, rd_kafka_err2str(e));
        } else {
            k->stats.commits++;
        }
        ockam__kafka_emit(k, OCKAM_KAFKA_COMMITTED, p->topic, p->partition, p->offset,
            ockam__kafka_map_err(e), e ? rd_kafka_err2str(e) : "");
    }
}

/* ---- rebalances ------------------------------------------------------------------------- */

static bool
cooperative(rd_kafka_t *rk)
{
    const char *proto = rd_kafka_rebalance_protocol(rk);
    return proto && strcmp(proto, "COOPERATIVE") == 0;
}

static void
log_assign_error(rd_kafka_error_t *error, rd_kafka_resp_err_t err)
{
    if (error) {
        OCKAM_LOG_W("kafka: assignment change failed: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (err) {
        OCKAM_LOG_W("kafka: assignment change failed: %s", rd_kafka_err2str(err));
    }
}

static void
take_partitions(struct ockam__kafka *k, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    if (cooperative(rk)) {
        log_assign_error(rd_kafka_incremental_assign(rk, parts), 0);
        k->stats.assigned_partitions += (uint32_t)parts->cnt;
    } else {
        log_assign_error(NULL, rd_kafka_assign(rk, parts));
        k->stats.assigned_partitions = (uint32_t)parts->cnt;
    }
    OCKAM_LOG_I("kafka: consuming %s: %d partition(s) assigned", k->inbox, parts->cnt);
    ockam__kafka_emit(
        k, OCKAM_KAFKA_ASSIGNED, k->inbox, (int32_t)k->stats.assigned_partitions, -1, OCKAM_OK, "");
}

static void
give_back_partitions(struct ockam__kafka *k, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    /* Commit what the router already has before another member takes the partitions over,
     * so it does not process those records again. */
    ockam__kafka_commit_pending(k);
    if (cooperative(rk)) {
        log_assign_error(rd_kafka_incremental_unassign(rk, parts), 0);
        uint32_t n = (uint32_t)parts->cnt;
        k->stats.assigned_partitions
            -= n < k->stats.assigned_partitions ? n : k->stats.assigned_partitions;
    } else {
        log_assign_error(NULL, rd_kafka_assign(rk, NULL));
        k->stats.assigned_partitions = 0;
    }
    ockam__kafka_emit(
        k, OCKAM_KAFKA_REVOKED, k->inbox, (int32_t)k->stats.assigned_partitions, -1, OCKAM_OK, "");
}

void
ockam__kafka_on_rebalance(
    rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct ockam__kafka *k = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        take_partitions(k, rk, parts);
    } else {
        if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
            OCKAM_LOG_W("kafka: rebalance failed: %s", rd_kafka_err2str(err));
        give_back_partitions(k, rk, parts);
    }
}

/* ---- records ---------------------------------------------------------------------------- */

static void
bad_record(struct ockam__kafka *k, const rd_kafka_message_t *m, ockam_err err)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    k->stats.bad_records++;
    OCKAM_LOG_W("kafka: skipping bad record %s[%" PRId32 "]@%" PRId64 " (%zu bytes): %s", topic,
        m->partition, m->offset, m->len, ockam_strerror(err));
    ockam__kafka_emit(
        k, OCKAM_KAFKA_BAD_RECORD, topic, m->partition, m->offset, err, ockam_strerror(err));
}

static ockam_err
decode(const rd_kafka_message_t *m, ockam_msg **out)
{
    if (m->len > OCKAM_MAX_FRAME_CURRENT)
        return OCKAM_EMSGSIZE;
    ockam_msg *msg = ockam_msg_new();
    if (!msg)
        return OCKAM_ENOMEM;
    static const uint8_t empty[1];
    const uint8_t *value = m->payload ? m->payload : empty; /* a NULL value is an empty one */
    ockam_err err = ockam__cbor_decode_msg(value, m->len, msg);
    if (err) {
        ockam_msg_free(msg);
        return err;
    }
    *out = msg;
    return OCKAM_OK;
}

/* The sender put its own inbox first on the return route: replies to it are the Kafka
 * equivalent of answering through the connection a message came in on. */
static void
learn_reply_inbox(struct ockam__kafka *k, const ockam_msg *msg)
{
    char topic[OCKAM_KAFKA_MAX_TOPIC + 1];
    int32_t partition;
    const ockam_route *ret = ockam_msg_return_const(msg);
    if (!k->reply_to_announced || ockam_route_len(ret) == 0)
        return;
    ockam_addr a = ockam_route_front(ret);
    /* Most records of a run repeat the last inbox: skip the parse and the set lookup. */
    if (a.type != OCKAM_TRANSPORT_KAFKA
        || (a.len == k->last_announced_len && memcmp(a.bytes, k->last_announced, a.len) == 0)
        || ockam_kafka_addr_parse((const char *)a.bytes, a.len, topic, &partition))
        return;
    if (!ockam__kafka_topics_has(&k->announced, topic)) {
        if (k->announced.count >= OCKAM__KAFKA_MAX_ANNOUNCED) {
            if (!k->announced_full_logged)
                OCKAM_LOG_W("kafka: more than %d reply inboxes; not learning %s",
                    OCKAM__KAFKA_MAX_ANNOUNCED, topic);
            k->announced_full_logged = true;
            return;
        }
        if (ockam__kafka_topics_add(&k->announced, topic) != OCKAM_OK)
            return;
    }
    if (a.len <= sizeof k->last_announced) { /* always true for an address that parsed */
        memcpy(k->last_announced, a.bytes, a.len);
        k->last_announced_len = a.len;
    }
}

static void
handle_record(struct ockam__kafka *k, const rd_kafka_message_t *m)
{
    ockam_msg *msg = NULL;
    k->stats.consumed++;
    ockam_err err = decode(m, &msg);
    if (err) {
        bad_record(k, m, err);
    } else if (ockam_route_len(ockam_msg_onward_const(msg)) == 0) {
        OCKAM_LOG_D("kafka: dropping a record with an empty onward route (heartbeat)");
        ockam_msg_free(msg);
    } else {
        learn_reply_inbox(k, msg);
        ockam_msg_set_origin(msg, (ockam_origin) {.producer = k->flow.id, .spawner = 0});
        ockam__node_route_incoming(k->node, msg);
        k->stats.routed++;
    }
    mark_done(k, m); /* bad records too: they must not wedge the partition */
}

static void
consumer_error(struct ockam__kafka *k, const rd_kafka_message_t *m)
{
    const char *reason = rd_kafka_message_errstr(m);
    if (m->err != k->last_client_err)
        OCKAM_LOG_W("kafka: consumer: %s", reason);
    else
        OCKAM_LOG_D("kafka: consumer: %s", reason);
    k->last_client_err = m->err;
    ockam__kafka_emit(k, OCKAM_KAFKA_CLIENT_ERROR, m->rkt ? rd_kafka_topic_name(m->rkt) : NULL,
        m->partition, -1, ockam__kafka_map_err(m->err), reason);
}

void
ockam__kafka_drain(struct ockam__kafka *k)
{
    int n = 0;
    while (n < OCKAM__KAFKA_BUDGET && !k->closing) {
        /* Also serves rebalance, commit, error and log callbacks queued before records. */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->consumer, 0);
        if (!m)
            break;
        if (m->err)
            consumer_error(k, m);
        else
            handle_record(k, m);
        rd_kafka_message_destroy(m);
        n++;
    }
    schedule_commit(k);
    /* Stopped at the budget, or records remain: librdkafka writes a wake-up byte only when
     * its queue turns non-empty, so make our own. */
    if (n == OCKAM__KAFKA_BUDGET || rd_kafka_queue_length(k->consumer_q) > 0)
        ockam__kafka_wake(k);
}

/* ---- closing ---------------------------------------------------------------------------- */

void
ockam__kafka_close_consumer(struct ockam__kafka *k, uint32_t timeout_ms)
{
    if (!k->consumer)
        return;
    rd_kafka_queue_t *q = rd_kafka_queue_new(k->consumer);
    rd_kafka_error_t *error = rd_kafka_consumer_close_queue(k->consumer, q);
    if (error) {
        OCKAM_LOG_W("kafka: closing the consumer: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        rd_kafka_queue_destroy(q);
        return;
    }
    /* Leaving the group serves the revoke callback (final commit) on this queue. */
    uint64_t deadline = uv_hrtime() / 1000000u + timeout_ms;
    while (!rd_kafka_consumer_closed(k->consumer) && uv_hrtime() / 1000000u < deadline)
        rd_kafka_queue_poll_callback(q, 10);
    if (!rd_kafka_consumer_closed(k->consumer))
        OCKAM_LOG_W("kafka: consumer did not leave its group within %u ms", timeout_ms);
    rd_kafka_queue_destroy(q);
}
