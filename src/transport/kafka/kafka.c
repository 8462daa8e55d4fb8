/* Kafka transport: configuration, lifecycle and the bridge from librdkafka's threads to the
 * node's loop. See kafka_internal.h for ownership and threading.
 *
 * The bridge: both handles' final queues (the producer's main queue and the consumer queue,
 * to which the consumer's main and log queues are forwarded) write one byte to a non-blocking
 * pipe whenever they turn non-empty (rd_kafka_queue_io_event_enable). A uv_poll_t watches the
 * pipe; its callback empties the pipe first and the queues second, so a byte written while we
 * drain always leads to another callback and no wake-up is ever lost. */
#include "transport/kafka/kafka_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* ---- small shared helpers ------------------------------------------------------------- */

void
ockam__kafka_emit(struct ockam__kafka *k, ockam_kafka_event_kind kind, const char *topic,
    int32_t partition, int64_t offset, ockam_err err, const char *reason)
{
    if (!k->on_event)
        return;
    ockam_kafka_event ev = {.kind = kind,
        .topic = topic,
        .partition = partition,
        .offset = offset,
        .err = err,
        .reason = reason ? reason : ""};
    k->on_event(&ev, k->user);
}

ockam_err
ockam__kafka_map_err(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return OCKAM_OK;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        return OCKAM_EMSGSIZE;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        return OCKAM_EBUSY;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
        return OCKAM_ETIMEDOUT;
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
        return OCKAM_ECLOSED;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        return OCKAM_EADDRINVAL;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        return OCKAM_EACCES;
    default:
        return OCKAM_EPROTO;
    }
}

/* ---- the wake-up pipe ----------------------------------------------------------------- */

void
ockam__kafka_wake(struct ockam__kafka *k)
{
    char c = 1;
    /* EAGAIN means the pipe is full, so a wake-up is pending anyway. */
    if (write(k->wake_fd[1], &c, 1) < 0 && errno != EAGAIN)
        OCKAM_LOG_W("kafka: cannot wake the loop: %s", strerror(errno));
}

static void
empty_pipe(struct ockam__kafka *k)
{
    char buf[256];
    /* A short read means the pipe is empty: no second read (and syscall) to see EAGAIN. */
    while (read(k->wake_fd[0], buf, sizeof buf) == (ssize_t)sizeof buf)
        ;
}

static void
on_readable(uv_poll_t *h, int status, int events)
{
    struct ockam__kafka *k = h->data;
    if (status < 0) {
        OCKAM_LOG_E("kafka: wake-up pipe failed: %s", uv_strerror(status));
        return;
    }
    empty_pipe(k);
    rd_kafka_poll(k->producer, 0); /* delivery reports, producer errors and logs */
    ockam__kafka_drain(k);
}

static ockam_err
open_pipe(struct ockam__kafka *k)
{
    if (pipe(k->wake_fd) != 0) {
        k->wake_fd[0] = k->wake_fd[1] = -1;
        OCKAM_LOG_E("kafka: pipe: %s", strerror(errno));
        return OCKAM_ESYSERR;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(k->wake_fd[i], F_SETFL, fcntl(k->wake_fd[i], F_GETFL) | O_NONBLOCK);
        fcntl(k->wake_fd[i], F_SETFD, FD_CLOEXEC);
    }
    return OCKAM_OK;
}

/* ---- librdkafka callbacks served on the loop thread ----------------------------------- */

static void
on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    /* syslog levels. librdkafka logs each error it reports through on_error (connection
     * failures, brokers down) at 3 as well; on_error logs those once per change, so the
     * duplicate lines go to INFO. */
    ockam_log_level l = level <= 2 ? OCKAM_LOG_ERROR
        : level == 4               ? OCKAM_LOG_WARN
        : level <= 6               ? OCKAM_LOG_INFO
                                   : OCKAM_LOG_DEBUG;
    ockam__log(l, "kafka: %s: %s", fac, buf);
}

static void
on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct ockam__kafka *k = opaque;
    char fatal[512];
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        OCKAM_LOG_E("kafka: fatal client error (records will fail until restart): %s", fatal);
        reason = fatal;
    } else if (err != (int)k->last_client_err) {
        OCKAM_LOG_W("kafka: %s", reason);
    } else {
        OCKAM_LOG_D("kafka: %s", reason);
    }
    k->last_client_err = (rd_kafka_resp_err_t)err;
    ockam__kafka_emit(k, OCKAM_KAFKA_CLIENT_ERROR, NULL, -1, -1,
        ockam__kafka_map_err((rd_kafka_resp_err_t)err), reason);
}

/* ---- configuration -------------------------------------------------------------------- */

static ockam_err
conf_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
    char err[512];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
        OCKAM_LOG_E("kafka: property %s: %s", key, err);
        return OCKAM_EINVAL;
    }
    return OCKAM_OK;
}

static ockam_err
conf_set_all(rd_kafka_conf_t *conf, const char *const (*kv)[2], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ockam_err err = conf_set(conf, kv[i][0], kv[i][1]);
        if (err)
            return err;
    }
    return OCKAM_OK;
}

/* Apply one "key=value" if it is meant for this client ("producer."/"consumer." prefixes). */
static ockam_err
apply_property(rd_kafka_conf_t *conf, bool producer, const char *prop)
{
    const char *eq = strchr(prop, '=');
    if (!eq || eq == prop) {
        OCKAM_LOG_E("kafka: property '%s' is not key=value", prop);
        return OCKAM_EINVAL;
    }
    const char *mine = producer ? "producer." : "consumer.";
    const char *other = producer ? "consumer." : "producer.";
    if (strncmp(prop, other, strlen(other)) == 0)
        return OCKAM_OK;
    if (strncmp(prop, mine, strlen(mine)) == 0)
        prop += strlen(mine);
    char key[256];
    size_t klen = (size_t)(strchr(prop, '=') - prop);
    if (klen == 0 || klen >= sizeof key) {
        /* Never log the value: it may be a password (sasl.password, ssl.key.password...). */
        OCKAM_LOG_E("kafka: a property has an empty or over-long key");
        return OCKAM_EINVAL;
    }
    memcpy(key, prop, klen);
    key[klen] = '\0';
    return conf_set(conf, key, prop + klen + 1);
}

/* Every callback is served by rd_kafka_poll / rd_kafka_consumer_poll on the loop thread. */
static void
set_callbacks(rd_kafka_conf_t *conf, struct ockam__kafka *k, bool producer)
{
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
    if (producer) {
        rd_kafka_conf_set_dr_msg_cb(conf, ockam__kafka_on_delivery);
    } else {
        rd_kafka_conf_set_rebalance_cb(conf, ockam__kafka_on_rebalance);
        rd_kafka_conf_set_offset_commit_cb(conf, ockam__kafka_on_commit);
    }
}

/* Our defaults, then the user's properties, then what the transport's guarantees need. */
static ockam_err
build_conf(struct ockam__kafka *k, const ockam_kafka_config *cfg, bool producer, const char *group,
    rd_kafka_conf_t **out)
{
    static const char *const common[][2] = {{"client.id", "ockam"},
        /* A routing hop is latency-bound: no Nagle delay on broker connections. */
        {"socket.nagle.disable", "true"}};
    static const char *const prod[][2] = {{"enable.idempotence", "true"}, {"acks", "all"},
        /* Send as soon as possible; librdkafka still batches while requests are in flight. */
        {"linger.ms", "0"}};
    /* An inbox keeps what arrived while the node was away: a new group starts at the
     * beginning. No EOF events: an inbox never ends. */
    static const char *const cons[][2]
        = {{"auto.offset.reset", "earliest"}, {"enable.partition.eof", "false"}};
    /* Forced last: commits only after hand-off (at least once), and logs only through the
     * queue we serve on the loop thread. */
    static const char *const forced[][2] = {{"log.queue", "true"}};
    static const char *const forced_cons[][2]
        = {{"enable.auto.commit", "false"}, {"enable.auto.offset.store", "false"}};

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    ockam_err err = conf_set_all(conf, common, 2);
    if (!err && cfg->bootstrap_servers)
        err = conf_set(conf, "bootstrap.servers", cfg->bootstrap_servers);
    if (!err)
        err = producer ? conf_set_all(conf, prod, 3) : conf_set_all(conf, cons, 2);
    if (!err && !producer)
        err = conf_set(conf, "group.id", group);
    for (size_t i = 0; !err && i < cfg->properties_count; i++)
        err = apply_property(conf, producer, cfg->properties[i]);
    if (!err)
        err = conf_set_all(conf, forced, 1);
    if (!err && !producer)
        err = conf_set_all(conf, forced_cons, 2);
    if (err) {
        rd_kafka_conf_destroy(conf);
        return err;
    }
    set_callbacks(conf, k, producer);
    *out = conf;
    return OCKAM_OK;
}

static bool
has_bootstrap(const ockam_kafka_config *cfg)
{
    if (cfg->bootstrap_servers && cfg->bootstrap_servers[0])
        return true;
    for (size_t i = 0; i < cfg->properties_count; i++) {
        if (strncmp(cfg->properties[i], "bootstrap.servers=", 18) == 0)
            return true;
    }
    return false;
}

static ockam_err
check_config(const ockam_kafka_config *cfg)
{
    char topic[OCKAM_KAFKA_MAX_TOPIC + 1];
    int32_t part;
    if ((cfg->properties_count && !cfg->properties)
        || (cfg->allowed_outgoing_count && !cfg->allowed_outgoing)) {
        OCKAM_LOG_E("kafka: a list count is set but the list is NULL");
        return OCKAM_EINVAL;
    }
    if (!cfg->inbox_topic || !has_bootstrap(cfg)) {
        OCKAM_LOG_E("kafka: an inbox topic and bootstrap servers are required");
        return OCKAM_EINVAL;
    }
    if (ockam_kafka_addr_parse(cfg->inbox_topic, strlen(cfg->inbox_topic), topic, &part)
        || part != -1) {
        OCKAM_LOG_E("kafka: bad inbox topic '%s'", cfg->inbox_topic);
        return OCKAM_EINVAL;
    }
    return OCKAM_OK;
}

/* ---- client handles ------------------------------------------------------------------- */

static rd_kafka_t *
new_client(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) {
        OCKAM_LOG_E("kafka: cannot create the %s: %s",
            type == RD_KAFKA_PRODUCER ? "producer" : "consumer", err);
        rd_kafka_conf_destroy(conf); /* rd_kafka_new keeps conf only on success */
    }
    return rk;
}

static ockam_err
start_producer(struct ockam__kafka *k, const ockam_kafka_config *cfg)
{
    rd_kafka_conf_t *conf;
    ockam_err err = build_conf(k, cfg, true, NULL, &conf);
    if (err)
        return err;
    k->producer = new_client(RD_KAFKA_PRODUCER, conf);
    if (!k->producer)
        return OCKAM_EINVAL;
    rd_kafka_set_log_queue(k->producer, NULL); /* logs go to the main queue we serve */
    k->producer_q = rd_kafka_queue_get_main(k->producer);
    rd_kafka_queue_io_event_enable(k->producer_q, k->wake_fd[1], "1", 1);
    return OCKAM_OK;
}

static ockam_err
subscribe(struct ockam__kafka *k)
{
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, k->inbox, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t rerr = rd_kafka_subscribe(k->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (rerr) {
        OCKAM_LOG_E("kafka: cannot subscribe to %s: %s", k->inbox, rd_kafka_err2str(rerr));
        return OCKAM_EINVAL;
    }
    return OCKAM_OK;
}

static ockam_err
start_consumer(struct ockam__kafka *k, const ockam_kafka_config *cfg)
{
    char group[OCKAM_KAFKA_MAX_TOPIC + 8];
    if (!cfg->group_id)
        snprintf(group, sizeof group, "ockam.%s", cfg->inbox_topic);
    rd_kafka_conf_t *conf;
    ockam_err err = build_conf(k, cfg, false, cfg->group_id ? cfg->group_id : group, &conf);
    if (err)
        return err;
    k->consumer = new_client(RD_KAFKA_CONSUMER, conf);
    if (!k->consumer)
        return OCKAM_EINVAL;
    /* One queue to serve: the main queue (errors, logs, rebalances) joins the consumer's. */
    rd_kafka_set_log_queue(k->consumer, NULL);
    rd_kafka_poll_set_consumer(k->consumer);
    k->consumer_q = rd_kafka_queue_get_consumer(k->consumer);
    rd_kafka_queue_io_event_enable(k->consumer_q, k->wake_fd[1], "1", 1);
    return subscribe(k);
}

static void
destroy_clients(struct ockam__kafka *k)
{
    if (k->producer_q)
        rd_kafka_queue_destroy(k->producer_q);
    if (k->consumer_q)
        rd_kafka_queue_destroy(k->consumer_q);
    k->producer_q = k->consumer_q = NULL;
    ockam__kafka_drop_topic_handles(k);
    if (k->producer)
        rd_kafka_destroy(k->producer);
    /* The consumer was closed already (bounded); destroy must not block on it again. */
    if (k->consumer)
        rd_kafka_destroy_flags(k->consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    k->producer = k->consumer = NULL;
}

/* ---- ops ------------------------------------------------------------------------------ */

static void release(struct ockam__kafka *k);

static ockam_err
kafka_init(void *self, ockam_node *node, const void *config)
{
    struct ockam__kafka *k = self;
    const ockam_kafka_config *cfg = config;
    k->wake_fd[0] = k->wake_fd[1] = -1; /* before any return: release() may run after us */
    if (!cfg || check_config(cfg))
        return OCKAM_EINVAL;
    k->node = node;
    /* The inbox is open to every producer of the topic: only local senders are adopted. */
    ockam__policy_flow_init(&k->flow, node, OCKAM__FLOW_LOCAL_SENDERS);
    k->flush_timeout_ms = cfg->flush_timeout_ms;
    k->high_water = cfg->high_water ? cfg->high_water : 16u * 1024u * 1024u;
    k->commit_interval_ms = cfg->commit_interval_ms;
    k->reply_to_announced = cfg->reply_to_announced;
    k->on_event = cfg->on_event;
    k->user = cfg->user;
    k->inbox = ockam__strdup(cfg->inbox_topic);
    k->inbox_len = strlen(cfg->inbox_topic);
    ockam_err err = k->inbox ? ockam__policy_set_outgoing(node, OCKAM_TRANSPORT_KAFKA,
                        cfg->allowed_outgoing, cfg->allowed_outgoing_count)
                             : OCKAM_ENOMEM;
    if (!err)
        err = open_pipe(k);
    if (!err)
        err = start_producer(k, cfg);
    if (!err)
        err = start_consumer(k, cfg);
    /* Last, so that a failure above needs no asynchronous handle close. */
    if (!err && uv_poll_init(ockam__node_loop(node), &k->poll, k->wake_fd[0]) != 0)
        err = OCKAM_ESYSERR;
    if (err) {
        release(k);
        return err;
    }
    k->poll_open = true;
    k->poll.data = k;
    uv_poll_start(&k->poll, UV_READABLE, on_readable);
    /* Log lines rd_kafka_new queued before io events were enabled wrote no wake-up byte. */
    ockam__kafka_wake(k);
    return OCKAM_OK;
}

static void
kafka_shutdown(void *self)
{
    struct ockam__kafka *k = self;
    if (k->closing)
        return;
    k->closing = true;
    if (k->poll_open)
        uv_close((uv_handle_t *)&k->poll, NULL);
    ockam__kafka_close_commit_timer(k);
    /* Producer first: replies to records we consumed are the freshest data in flight. */
    ockam__kafka_flush(k, k->flush_timeout_ms);
    ockam__kafka_commit_pending(k);
    ockam__kafka_close_consumer(k, k->flush_timeout_ms);
    destroy_clients(k);
}

/* Everything but the poll handle; safe on a partly initialised state. */
static void
release(struct ockam__kafka *k)
{
    destroy_clients(k);
    if (k->pending)
        rd_kafka_topic_partition_list_destroy(k->pending);
    k->pending = NULL;
    for (int i = 0; i < 2; i++) {
        if (k->wake_fd[i] >= 0)
            close(k->wake_fd[i]);
        k->wake_fd[i] = -1;
    }
    ockam__policy_flow_fini(&k->flow);
    ockam__kafka_topics_free(&k->announced);
    ockam__free(k->enc);
    k->enc = NULL;
    ockam__kafka_free_held(k);
    ockam__free(k->paused);
    k->paused = NULL;
    ockam__free(k->inbox);
    k->inbox = NULL;
}

static void
kafka_fini(void *self)
{
    /* The loop has closed the poll handle: nothing watches the pipe any more. */
    release(self);
}

static const struct ockam__transport_ops kafka_ops = {
    .type = OCKAM_TRANSPORT_KAFKA,
    .name = "kafka",
    .size = sizeof(struct ockam__kafka),
    .init = kafka_init,
    .route = ockam__kafka_route,
    .shutdown = kafka_shutdown,
    .fini = kafka_fini,
};

/* ---- public API ----------------------------------------------------------------------- */

ockam_err
ockam_kafka_init(ockam_node *node, const ockam_kafka_config *cfg)
{
    if (!node || !cfg)
        return OCKAM_EINVAL;
    return ockam__transport_register(node, &kafka_ops, cfg, NULL);
}

static struct ockam__kafka *
get(ockam_node *node)
{
    return ockam__transport_get(node, OCKAM_TRANSPORT_KAFKA);
}

ockam_flow_id
ockam_kafka_flow_id(ockam_node *node)
{
    struct ockam__kafka *k = get(node);
    return k ? k->flow.id : 0;
}

const char *
ockam_kafka_inbox(ockam_node *node)
{
    struct ockam__kafka *k = get(node);
    return k ? k->inbox : NULL;
}

ockam_err
ockam_kafka_stats(ockam_node *node, struct ockam_kafka_stats *out)
{
    struct ockam__kafka *k = get(node);
    if (!k)
        return OCKAM_ENOTSUP;
    *out = k->stats;
    return OCKAM_OK;
}
