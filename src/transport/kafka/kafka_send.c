/* Kafka transport, sending: the route op turns a message whose next hop is 16#topic[/part]
 * into one record, and delivery reports settle every record exactly once (delivered or
 * failed). Loop thread only (delivery reports are served by rd_kafka_poll on the loop).
 *
 * Backpressure, as TCP's: bytes produced and not yet acknowledged (plus held ones) are
 * counted; above high_water the stream connection a message came in on (its origin flow id)
 * is paused, and every paused connection is resumed once the count is at half. A record
 * librdkafka's queue has no room for is held, in order (later records queue behind it), and
 * produced as delivery reports make room: never dropped. Only a message created on this node
 * (nothing to pause) fails with OCKAM_EBUSY when records are held already. */
#include "core/codec.h"
#include "ockam/stream.h"
#include "transport/kafka/kafka_internal.h"

/* ---- topic sets (announced reply inboxes)
 * ---------------------------------------------------------- */

bool
ockam__kafka_topics_has(const struct ockam__kafka_topics *t, const char *name)
{
    /* Linear: allow lists are short, and only messages from other nodes are checked. */
    for (size_t i = 0; i < t->count; i++) {
        if (strcmp(t->names[i], name) == 0)
            return true;
    }
    return false;
}

ockam_err
ockam__kafka_topics_add(struct ockam__kafka_topics *t, const char *name)
{
    if (ockam__kafka_topics_has(t, name))
        return OCKAM_OK;
    if (ockam__array_reserve(t->names, t->cap, t->count + 1, 4) != OCKAM_OK)
        return OCKAM_ENOMEM;
    t->names[t->count] = ockam__strdup(name);
    if (!t->names[t->count])
        return OCKAM_ENOMEM;
    t->count++;
    return OCKAM_OK;
}

void
ockam__kafka_topics_free(struct ockam__kafka_topics *t)
{
    for (size_t i = 0; i < t->count; i++)
        ockam__free(t->names[i]);
    ockam__free(t->names);
    memset(t, 0, sizeof *t);
}

/* ---- topic handles -------------------------------------------------------------------- */

static rd_kafka_topic_t *
topic_handle(struct ockam__kafka *k, const char *name)
{
    for (size_t i = 0; i < k->n_rkts; i++) {
        if (strcmp(k->rkts[i].name, name) != 0)
            continue;
        struct ockam__kafka_rkt hit = k->rkts[i];
        memmove(&k->rkts[1], &k->rkts[0], i * sizeof hit); /* most recent first */
        k->rkts[0] = hit;
        return hit.rkt;
    }
    char *copy = ockam__strdup(name);
    rd_kafka_topic_t *rkt = copy ? rd_kafka_topic_new(k->producer, name, NULL) : NULL;
    if (!rkt) {
        ockam__free(copy);
        return NULL;
    }
    if (k->n_rkts == OCKAM__KAFKA_TOPIC_CACHE) {
        /* Records in flight hold their own reference: dropping ours is safe. */
        k->n_rkts--;
        rd_kafka_topic_destroy(k->rkts[k->n_rkts].rkt);
        ockam__free(k->rkts[k->n_rkts].name);
    }
    memmove(&k->rkts[1], &k->rkts[0], k->n_rkts * sizeof k->rkts[0]);
    k->rkts[0] = (struct ockam__kafka_rkt) {copy, rkt};
    k->n_rkts++;
    return rkt;
}

void
ockam__kafka_drop_topic_handles(struct ockam__kafka *k)
{
    for (size_t i = 0; i < k->n_rkts; i++) {
        rd_kafka_topic_destroy(k->rkts[i].rkt);
        ockam__free(k->rkts[i].name);
    }
    k->n_rkts = 0;
}

/* ---- failures -------------------------------------------------------------------------- */

/* Every record that does not reach Kafka passes here exactly once. */
static ockam_err
fail(struct ockam__kafka *k, const char *topic, ockam_err err, const char *reason)
{
    k->stats.delivery_failed++;
    OCKAM_LOG_W("kafka: record to %s not delivered: %s", topic, reason);
    ockam__kafka_emit(k, OCKAM_KAFKA_DELIVERY_FAILED, topic, -1, -1, err, reason);
    return err;
}

static void after_report(struct ockam__kafka *k);

void
ockam__kafka_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct ockam__kafka *k = opaque;
    k->in_flight--;
    k->queued_bytes -= m->len <= k->queued_bytes ? m->len : k->queued_bytes;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        k->stats.delivered++;
    else
        fail(
            k, rd_kafka_topic_name(m->rkt), ockam__kafka_map_err(m->err), rd_kafka_err2str(m->err));
    after_report(k);
}

void
ockam__kafka_flush(struct ockam__kafka *k, uint32_t timeout_ms)
{
    if (!k->producer)
        return;
    /* Held records go in as delivery reports make room (after_report), within the bound. */
    uint64_t deadline = uv_hrtime() / 1000000u + timeout_ms;
    while (k->held && uv_hrtime() / 1000000u < deadline)
        rd_kafka_poll(k->producer, 10);
    for (struct ockam__kafka_held *h = k->held; h; h = h->next)
        fail(k, h->topic, OCKAM_ECLOSED, "held at shutdown");
    ockam__kafka_free_held(k);
    rd_kafka_flush(k->producer, (int)timeout_ms); /* serves delivery reports meanwhile */
    if (k->in_flight == 0)
        return;
    OCKAM_LOG_W("kafka: %llu records still in flight after %u ms; purging them",
        (unsigned long long)k->in_flight, timeout_ms);
    rd_kafka_purge(k->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    /* Purged records come back as failed delivery reports; give them a bounded moment. */
    for (int i = 0; i < 100 && k->in_flight > 0; i++)
        rd_kafka_poll(k->producer, 10);
    if (k->in_flight > 0)
        OCKAM_LOG_E(
            "kafka: %llu records unaccounted for at shutdown", (unsigned long long)k->in_flight);
}

/* ---- the open-proxy rule (node/policy.h) and announced reply inboxes ------------------- */

static bool
may_produce(const struct ockam__kafka *k, const ockam_msg *msg, const char *topic)
{
    if (ockam__policy_may_reach(k->node, OCKAM_TRANSPORT_KAFKA, msg->origin, topic, strlen(topic)))
        return true;
    return k->reply_to_announced && ockam__kafka_topics_has(&k->announced, topic);
}

/* ---- producing ------------------------------------------------------------------------- */

/* The key is the route's origin worker (last return hop, as type byte + bytes): every message
 * of one route hashes to one partition, so Kafka keeps their order. */
static size_t
make_key(const ockam_msg *msg, uint8_t key[1 + OCKAM_MAX_ADDR_LEN])
{
    ockam_addr a = ockam_route_back(ockam_msg_return_const(msg));
    key[0] = a.type;
    memcpy(key + 1, a.bytes, a.len);
    return 1 + (size_t)a.len;
}

/* A buffer for encoding, reused by every record: librdkafka copies the value into the same
 * allocation as its own message (RD_KAFKA_MSG_F_COPY), so a record costs us no allocation. */
static uint8_t *
encode_buffer(struct ockam__kafka *k, size_t size)
{
    if (size <= k->enc_cap)
        return k->enc;
    uint8_t *b = ockam__realloc(k->enc, size);
    if (!b)
        return NULL;
    k->enc = b;
    k->enc_cap = size;
    return b;
}

/* librdkafka's RD_KAFKA_V_* macros use GNU statement expressions (refused by -Wpedantic), so
 * the record is described with the equivalent array form. */
static rd_kafka_error_t *
send_record(rd_kafka_t *producer, rd_kafka_topic_t *rkt, int32_t partition, const uint8_t *key,
    size_t klen, const uint8_t *value, size_t vlen)
{
    rd_kafka_vu_t vu[5];
    memset(vu, 0, sizeof vu);
    vu[0].vtype = RD_KAFKA_VTYPE_RKT;
    vu[0].u.rkt = rkt;
    vu[1].vtype = RD_KAFKA_VTYPE_PARTITION;
    vu[1].u.i32 = partition < 0 ? RD_KAFKA_PARTITION_UA : partition;
    vu[2].vtype = RD_KAFKA_VTYPE_KEY;
    vu[2].u.mem.ptr = (void *)key; /* keys are always copied */
    vu[2].u.mem.size = klen;
    vu[3].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[3].u.mem.ptr = (void *)value;
    vu[3].u.mem.size = vlen;
    vu[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[4].u.i = RD_KAFKA_MSG_F_COPY;
    return rd_kafka_produceva(producer, vu, 5);
}

/* ---- backpressure ---------------------------------------------------------------------- */

void
ockam__kafka_free_held(struct ockam__kafka *k)
{
    while (k->held) {
        struct ockam__kafka_held *h = k->held;
        k->held = h->next;
        ockam__free(h);
    }
    k->held_tail = NULL;
}

static ockam_err
hold(struct ockam__kafka *k, const char *topic, int32_t partition, const uint8_t *key, size_t klen,
    const uint8_t *value, size_t vlen)
{
    size_t tlen = strlen(topic) + 1;
    struct ockam__kafka_held *h = ockam__alloc(sizeof *h + klen + vlen + tlen);
    if (!h)
        return OCKAM_ENOMEM;
    h->next = NULL;
    h->key = (uint8_t *)(h + 1);
    h->value = h->key + klen;
    h->topic = (char *)(h->value + vlen);
    memcpy(h->key, key, klen);
    memcpy(h->value, value, vlen);
    memcpy(h->topic, topic, tlen);
    h->partition = partition;
    h->klen = klen;
    h->vlen = vlen;
    if (k->held_tail)
        k->held_tail->next = h;
    else
        k->held = h;
    k->held_tail = h;
    k->stats.held++;
    return OCKAM_OK;
}

struct find_flow {
    ockam_flow_id id;
    ockam_conn *found;
};

static void
match_flow(ockam_conn *c, void *arg)
{
    struct find_flow *f = arg;
    if (!f->found && ockam_conn_flow_id(c) == f->id)
        f->found = c;
}

static ockam_conn *
conn_of_flow(struct ockam__kafka *k, ockam_flow_id id)
{
    struct find_flow f = {id, NULL};
    ockam_conn_each(k->node, match_flow, &f);
    return f.found;
}

/* Above the mark: stop the connection the message came in on (once). */
static void
pause_source(struct ockam__kafka *k, const ockam_msg *msg)
{
    ockam_flow_id id = ockam_msg_origin(msg).producer;
    if (!id || id == k->flow.id || k->queued_bytes <= k->high_water)
        return;
    for (size_t i = 0; i < k->npaused; i++) {
        if (k->paused[i] == id)
            return;
    }
    ockam_conn *c = conn_of_flow(k, id);
    if (!c)
        return; /* not a stream connection (UDP, Kafka): nothing to pause */
    if (k->npaused == k->cappaused) {
        size_t cap = k->cappaused ? k->cappaused * 2 : 4;
        ockam_flow_id *p = ockam__realloc(k->paused, cap * sizeof *p);
        if (!p)
            return;
        k->paused = p;
        k->cappaused = cap;
    }
    k->paused[k->npaused++] = id;
    k->stats.pauses++;
    ockam_conn_pause(c);
}

static void
resume_sources(struct ockam__kafka *k)
{
    size_t n = k->npaused;
    k->npaused = 0;
    for (size_t i = 0; i < n; i++) {
        ockam_conn *c = conn_of_flow(k, k->paused[i]);
        if (c)
            ockam_conn_resume(c);
    }
}

/* A delivery report made room: held records go in first, then the sources may go on. */
static void
after_report(struct ockam__kafka *k)
{
    while (k->held) {
        struct ockam__kafka_held *h = k->held;
        rd_kafka_topic_t *rkt = topic_handle(k, h->topic);
        rd_kafka_error_t *error = rkt
            ? send_record(k->producer, rkt, h->partition, h->key, h->klen, h->value, h->vlen)
            : NULL;
        if (error && rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_error_destroy(error);
            break; /* still no room: the next report tries again */
        }
        k->held = h->next;
        if (!k->held)
            k->held_tail = NULL;
        if (!rkt || error) {
            k->queued_bytes -= h->vlen <= k->queued_bytes ? h->vlen : k->queued_bytes;
            fail(k, h->topic,
                error ? ockam__kafka_map_err(rd_kafka_error_code(error)) : OCKAM_ENOMEM,
                error ? rd_kafka_error_string(error) : "no topic handle");
        } else {
            k->stats.produced++;
            k->in_flight++;
        }
        if (error)
            rd_kafka_error_destroy(error);
        ockam__free(h);
    }
    if (k->npaused && k->queued_bytes <= k->high_water / 2)
        resume_sources(k);
}

static ockam_err
produce(struct ockam__kafka *k, const ockam_msg *msg, const char *topic, int32_t partition)
{
    uint8_t key[1 + OCKAM_MAX_ADDR_LEN];
    size_t size = ockam__cbor_msg_size(msg), written = 0;
    if (size > OCKAM_MAX_FRAME_CURRENT)
        return fail(k, topic, OCKAM_EMSGSIZE, "message larger than 16 MiB");
    rd_kafka_topic_t *rkt = topic_handle(k, topic);
    if (!rkt)
        return fail(k, topic, ockam__kafka_map_err(rd_kafka_last_error()), "no topic handle");
    uint8_t *value = encode_buffer(k, size);
    if (!value)
        return fail(k, topic, OCKAM_ENOMEM, "out of memory");
    ockam_err err = ockam__cbor_encode_msg(msg, value, size, &written);
    if (err)
        return fail(k, topic, err, ockam_strerror(err));
    size_t klen = make_key(msg, key);
    bool local = ockam_msg_origin(msg).producer == 0 && ockam_msg_origin(msg).spawner == 0;
    if (k->held) {
        /* Behind records that wait for room: keep the order. */
        if (local && k->queued_bytes > k->high_water)
            return fail(k, topic, OCKAM_EBUSY, "the producer queue is full");
        err = hold(k, topic, partition, key, klen, value, written);
        if (err)
            return fail(k, topic, err, "out of memory");
        k->queued_bytes += written;
        pause_source(k, msg);
        return OCKAM_OK;
    }
    rd_kafka_error_t *error = send_record(k->producer, rkt, partition, key, klen, value, written);
    if (error && rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL && !local) {
        rd_kafka_error_destroy(error);
        err = hold(k, topic, partition, key, klen, value, written);
        if (err)
            return fail(k, topic, err, "out of memory");
        k->queued_bytes += written;
        pause_source(k, msg);
        return OCKAM_OK;
    }
    if (error) {
        err = fail(k, topic, ockam__kafka_map_err(rd_kafka_error_code(error)),
            rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        return err;
    }
    k->stats.produced++;
    k->in_flight++;
    k->queued_bytes += written;
    pause_source(k, msg);
    return OCKAM_OK;
}

static ockam_err
drop(ockam_msg *msg, ockam_err err)
{
    ockam_msg_free(msg);
    return err;
}

ockam_err
ockam__kafka_route(void *self, ockam_msg *msg)
{
    struct ockam__kafka *k = self;
    char topic[OCKAM_KAFKA_MAX_TOPIC + 1];
    int32_t partition;

    if (k->closing)
        return drop(msg, OCKAM_ECLOSED);
    ockam_addr hop = ockam_route_front(ockam_msg_onward_const(msg));
    if (ockam_kafka_addr_parse((const char *)hop.bytes, hop.len, topic, &partition)) {
        OCKAM_LOG_W("kafka: dropping message: malformed Kafka address");
        return drop(msg, OCKAM_EADDRINVAL);
    }
    if (!may_produce(k, msg, topic)) {
        OCKAM_LOG_W("kafka: dropping message from another node: topic %s is not allowed", topic);
        return drop(msg, OCKAM_EACCES);
    }
    ockam_route_pop_front(ockam_msg_onward(msg));
    if (ockam_route_len(ockam_msg_onward_const(msg)) == 0) {
        OCKAM_LOG_W("kafka: dropping message: nothing after the hop to %s", topic);
        return drop(msg, OCKAM_EROUTE);
    }
    ockam__policy_adopt_msg(&k->flow, msg);
    ockam_err err = ockam_route_push_front(
        ockam_msg_return(msg), ockam_addr_of(OCKAM_TRANSPORT_KAFKA, k->inbox, k->inbox_len));
    if (err)
        return drop(msg, err);
    err = produce(k, msg, topic, partition);
    ockam_msg_free(msg);
    return err;
}
