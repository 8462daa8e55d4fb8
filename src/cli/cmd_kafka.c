/* `ockam kafka-transport show`: a node's Kafka transport as configured (kafka.c makes the
 * view) and, while the node runs, its counters. */
#include "cli/client.h"
#include "cli/kafka.h"
#include "cli/output.h"
#include "cli/state.h"

#include <stdlib.h>
#include <string.h>

/* The node manager answers GET /node in microseconds; a node that takes longer is stuck. */
#define SHOW_TIMEOUT_MS 5000u

/* ---- kafka-transport show ------------------------------------------------------------------- */

static int
no_kafka(const char *node)
{
    char *hint = xasprintf("Attach it when creating a node: ockam node create NAME "
                           "--kafka-bootstrap HOST:PORT --kafka-inbox TOPIC");
    out_error(EXIT_RUNTIME, hint, "Node %s has no Kafka transport.", node);
    free(hint);
    return EXIT_RUNTIME;
}

static int
kafka_show(const cli_args *a)
{
    if (!cli_kafka_built)
        return cli_kafka_not_built();
    int code = EXIT_OK;
    char *node = cli_pick_node(args_value(a, "at"), false, &code);
    if (!node)
        return code;
    json_t *res = NULL, *cfg = state_config_load(node), *view = json_object();
    if (state_node_running(node, NULL))
        code = api_call(node, "GET", "/node", NULL, SHOW_TIMEOUT_MS, &res);
    if (!code)
        cli_kafka_add_view(view, cfg, res);
    json_t *k = json_object_get(view, "kafka");
    if (!code && !json_is_object(k))
        code = no_kafka(node);
    if (!code) {
        strbuf sb = {0};
        sb_printf(&sb, "Node %s\n", node);
        cli_kafka_plain(&sb, view);
        char *plain = sb_take(&sb);
        plain[strlen(plain) - 1] = '\0'; /* out_result adds the final newline */
        out_result(plain, cli_str(k, "inbox_topic"), json_incref(k));
        free(plain);
    }
    json_decref(view);
    json_decref(res);
    json_decref(cfg);
    free(node);
    return code;
}

const cli_cmd cli_kafka_transport_cmds[] = {
    {"show", "", 0, 0, cli_at_opts, kafka_show, "Show a node's Kafka transport and its counters",
        "Bootstrap servers, inbox topic, consumer group, allowed topics, properties (security\n"
        "settings hidden), and, while the node runs, its flow control id and record counters.\n"
        "The transport is attached with 'ockam node create --kafka-bootstrap ... --kafka-inbox\n"
        "...' and comes back with 'ockam node start'.\n\n"
        "Example:\n  ockam kafka-transport show --at n3 --output json | jq .stats"},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
