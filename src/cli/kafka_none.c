/* The Kafka part of the node process in an `ockam` built without the Kafka transport
 * (OCKAM_WITH_KAFKA=OFF; kafka_node.c otherwise). The options, views and commands stay
 * (cmd_kafka.c), so that using them says why they cannot work instead of "unknown option". */
#include "cli/kafka.h"

#include <stdio.h>

const bool cli_kafka_built = false;

bool
cli_kafka_start(
    ockam_node *node, json_t *kafka, char *text, size_t text_cap, char *hint, size_t hint_cap)
{
    if (!kafka || json_is_null(kafka))
        return true;
    snprintf(text, text_cap, "%s", CLI_KAFKA_NOT_BUILT);
    snprintf(hint, hint_cap, "%s", CLI_KAFKA_REBUILD_HINT);
    return false;
}
