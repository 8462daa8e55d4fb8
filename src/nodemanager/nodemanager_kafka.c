/* The node manager's Kafka part: exposing the public services to what the node consumes from
 * its Kafka inbox, and the live view of the transport in GET /node.
 *
 * Why there is no state here (unlike nodemanager_udp.c): a node has at most one Kafka
 * transport, attached before the manager starts (`node create --kafka-*`, re-applied by
 * `node start`) and never detached while the node runs. Everything needed is asked of the
 * transport itself: its flow id, its inbox and its counters. The configuration it was given
 * (bootstrap servers, group, properties) lives in the node's config.json, where the `ockam`
 * command reads it. */
#include "nodemanager/nodemanager_internal.h"

#include "ockam/kafka.h"

ockam_err
ockam__nm_kafka_consume_all(ockam__nodemanager *nm, const char *addr)
{
    ockam_flow_id flow = ockam_kafka_flow_id(ockam__nm_node(nm));
    /* 0: no Kafka transport on this node, nothing to expose the service to. */
    return flow ? ockam_flow_add_consumer(ockam__nm_node(nm), addr, flow) : OCKAM_OK;
}

static json_t *
stats_json(const struct ockam_kafka_stats *st)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "produced",
        (json_int_t)st->produced, "delivered", (json_int_t)st->delivered, "delivery_failed",
        (json_int_t)st->delivery_failed, "consumed", (json_int_t)st->consumed, "routed",
        (json_int_t)st->routed, "bad_records", (json_int_t)st->bad_records, "commits",
        (json_int_t)st->commits, "commit_failures", (json_int_t)st->commit_failures,
        "assigned_partitions", (json_int_t)st->assigned_partitions);
}

void
ockam__nm_kafka_resources(ockam__nodemanager *nm, json_t *res)
{
    ockam_node *node = ockam__nm_node(nm);
    struct ockam_kafka_stats st;
    if (ockam_kafka_stats(node, &st) != OCKAM_OK) {
        json_object_set_new(res, "kafka", json_null());
        return;
    }
    json_object_set_new(res, "kafka",
        json_pack("{s:s, s:I, s:o}", "inbox_topic", ockam_kafka_inbox(node), "flow_control_id",
            (json_int_t)ockam_kafka_flow_id(node), "stats", stats_json(&st)));
}
