/* The node manager's Kafka part in a build without the Kafka transport (OCKAM_WITH_KAFKA=OFF):
 * such a node never has the transport, so it answers exactly as a node that was created without
 * one (nodemanager_kafka.c with no transport attached). */
#include "nodemanager/nodemanager_internal.h"

ockam_err
ockam__nm_kafka_consume_all(ockam__nodemanager *nm, const char *addr)
{
    return OCKAM_OK;
}

void
ockam__nm_kafka_resources(ockam__nodemanager *nm, json_t *res)
{
    json_object_set_new(res, "kafka", json_null());
}
