/* The Kafka transport in the `ockam` command (see kafka.h): node create's options as config,
 * the "kafka" part of a node's view, and the first-hop rule of `message send`. The command
 * `ockam kafka-transport show` is cmd_kafka.c. */
#include "cli/kafka.h"
#include "cli/output.h"
#include "cli/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- node create: options -> config -------------------------------------------------------- */

static json_t *
strings_json(const char *const *list)
{
    json_t *arr = json_array();
    for (size_t i = 0; list && list[i]; i++)
        json_array_append_new(arr, json_string(list[i]));
    return arr;
}

json_t *
cli_kafka_config_from_args(const cli_args *a)
{
    const char *bootstrap = args_value(a, "kafka-bootstrap");
    const char *inbox = args_value(a, "kafka-inbox");
    const char *group = args_value(a, "kafka-group");
    const char *const *allowed = args_list(a, "kafka-allow", NULL);
    const char *const *props = args_list(a, "kafka-property", NULL);
    /* Any Kafka option attaches the transport; what is missing is then a startup error. */
    if (!bootstrap && !inbox && !group && !allowed && !props)
        return NULL;
    return json_pack("{s:s?, s:s?, s:s?, s:o, s:o}", "bootstrap_servers", bootstrap, "inbox_topic",
        inbox, "group_id", group, "allowed_outgoing", strings_json(allowed), "properties",
        strings_json(props));
}

/* ---- views ---------------------------------------------------------------------------------- */

/* Security settings (TLS keys, SASL credentials) are librdkafka's ssl.* and sasl.* properties;
 * anything else named like a secret is hidden as well. */
static bool
is_secret(const char *key, size_t len)
{
    static const char *const prefixes[] = {"producer.", "consumer."};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(prefixes[i]);
        if (len > n && strncmp(key, prefixes[i], n) == 0) {
            key += n;
            len -= n;
        }
    }
    char k[256];
    snprintf(k, sizeof k, "%.*s", (int)len, key);
    return strncmp(k, "ssl.", 4) == 0 || strncmp(k, "sasl.", 5) == 0 || strstr(k, "password")
        || strstr(k, "secret");
}

static json_t *
properties_view(json_t *props)
{
    json_t *out = json_array();
    for (size_t i = 0; i < json_array_size(props); i++) {
        const char *p = json_string_value(json_array_get(props, i));
        const char *eq = p ? strchr(p, '=') : NULL;
        if (!p)
            continue;
        if (eq && is_secret(p, (size_t)(eq - p))) {
            char *hidden = xasprintf("%.*s=<hidden>", (int)(eq - p), p);
            json_array_append_new(out, json_string(hidden));
            free(hidden);
        } else {
            json_array_append_new(out, json_string(p));
        }
    }
    return out;
}

/* The group the node process uses: the given one, else the library's default. */
static char *
effective_group(json_t *kafka)
{
    const char *group = json_string_value(json_object_get(kafka, "group_id"));
    const char *inbox = json_string_value(json_object_get(kafka, "inbox_topic"));
    if (group)
        return xstrdup(group);
    return inbox ? xasprintf("ockam.%s", inbox) : NULL;
}

/* A new reference to value, or JSON null when it is absent. */
static json_t *
or_null(json_t *value)
{
    return value ? json_incref(value) : json_null();
}

void
cli_kafka_add_view(json_t *view, json_t *cfg, json_t *res)
{
    json_t *kafka = json_object_get(cfg, "kafka");
    if (!json_is_object(kafka)) {
        json_object_set_new(view, "kafka", json_null());
        return;
    }
    json_t *live = json_object_get(res, "kafka"); /* NULL or null when stopped */
    json_t *allowed = json_object_get(kafka, "allowed_outgoing");
    char *group = effective_group(kafka);
    json_object_set_new(view, "kafka",
        json_pack("{s:O?, s:O?, s:s?, s:o, s:o, s:o, s:o}", "bootstrap_servers",
            json_object_get(kafka, "bootstrap_servers"), "inbox_topic",
            json_object_get(kafka, "inbox_topic"), "group_id", group, "allowed_outgoing",
            json_is_array(allowed) ? json_incref(allowed) : json_array(), "properties",
            properties_view(json_object_get(kafka, "properties")), "flow_control_id",
            or_null(json_object_get(live, "flow_control_id")), "stats",
            or_null(json_object_get(live, "stats"))));
    free(group);
}

static long long
num(json_t *obj, const char *key)
{
    return (long long)json_integer_value(json_object_get(obj, key));
}

/* "a, b, c" of a JSON array of strings, or `none`. */
static void
plain_list(strbuf *sb, json_t *arr, const char *none)
{
    for (size_t i = 0; i < json_array_size(arr); i++)
        sb_printf(sb, "%s%s", i ? ", " : "", json_string_value(json_array_get(arr, i)));
    if (!json_array_size(arr))
        sb_printf(sb, "%s", none);
}

static void
plain_stats(strbuf *sb, json_t *st)
{
    sb_printf(sb,
        "    Records: %lld produced, %lld delivered, %lld failed; %lld consumed, %lld routed, "
        "%lld bad\n",
        num(st, "produced"), num(st, "delivered"), num(st, "delivery_failed"), num(st, "consumed"),
        num(st, "routed"), num(st, "bad_records"));
    sb_printf(sb, "    Partitions assigned: %lld; offset commits: %lld (%lld failed)\n",
        num(st, "assigned_partitions"), num(st, "commits"), num(st, "commit_failures"));
}

void
cli_kafka_plain(strbuf *sb, json_t *view)
{
    json_t *k = json_object_get(view, "kafka");
    if (!json_is_object(k))
        return;
    sb_printf(sb, "  Kafka transport:\n    Bootstrap servers %s\n",
        json_is_string(json_object_get(k, "bootstrap_servers")) ? cli_str(k, "bootstrap_servers")
                                                                : "(from -X bootstrap.servers)");
    sb_printf(sb, "    Inbox topic %s, consumer group %s\n", cli_str(k, "inbox_topic"),
        cli_str(k, "group_id"));
    sb_printf(sb, "    Topics messages from other nodes may go to: ");
    plain_list(sb, json_object_get(k, "allowed_outgoing"), "none (replies only)");
    sb_printf(sb, "\n");
    json_t *props = json_object_get(k, "properties");
    if (json_array_size(props)) {
        sb_printf(sb, "    Properties: ");
        plain_list(sb, props, "");
        sb_printf(sb, "\n");
    }
    if (json_is_integer(json_object_get(k, "flow_control_id")))
        sb_printf(sb, "    Flow control id %lld (the public services consume it)\n",
            num(k, "flow_control_id"));
    if (json_is_object(json_object_get(k, "stats")))
        plain_stats(sb, json_object_get(k, "stats"));
}

void
cli_kafka_created(strbuf *sb, json_t *view)
{
    json_t *k = json_object_get(view, "kafka");
    if (json_is_object(k))
        sb_printf(sb, "%s Attached the Kafka transport: consuming %s as group %s\n", out_mark_ok(),
            cli_str(k, "inbox_topic"), cli_str(k, "group_id"));
}

/* ---- message send: a first Kafka hop -------------------------------------------------------- */

int
cli_kafka_not_built(void)
{
    return out_error(EXIT_RUNTIME, CLI_KAFKA_REBUILD_HINT, CLI_KAFKA_NOT_BUILT);
}

int
cli_kafka_check_first_hop(const ockam_multiaddr *ma, const char *from)
{
    if (ockam_multiaddr_count(ma) == 0 || ockam_multiaddr_at(ma, 0).code != OCKAM_MA_KAFKA)
        return EXIT_OK;
    if (!cli_kafka_built)
        return cli_kafka_not_built();
    if (!from)
        return out_error(EXIT_USAGE,
            "Send from a node that has the Kafka transport (--from NODE), or start the route at "
            "such a node's listener, e.g. /node/n2/kafka/TOPIC/...",
            "A route cannot start with /kafka without --from: a temporary node has no Kafka "
            "transport.");
    const char *name = state_name_from_arg(from);
    if (!name || !state_node_exists(name))
        return EXIT_OK; /* the caller reports a bad or unknown node */
    json_t *cfg = state_config_load(name);
    bool has = json_is_object(json_object_get(cfg, "kafka"));
    json_decref(cfg);
    if (has)
        return EXIT_OK;
    char *hint = xasprintf("Send --from a node created with --kafka-bootstrap and --kafka-inbox, "
                           "or go through one: /node/NAME/kafka/TOPIC/...");
    out_error(EXIT_RUNTIME, hint,
        "Node %s has no Kafka transport: a route from it cannot start "
        "with /kafka.",
        name);
    free(hint);
    return EXIT_RUNTIME;
}
