/* Attaching the Kafka transport in a node process (see kafka.h): the saved options are checked
 * here, once, and turned into an ockam_kafka_config. */
#include "cli/kafka.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* `node stop` sends SIGTERM and kills the node 5 s later. Shutdown flushes the producer and then
 * leaves the consumer group, each bounded by this: 2 x 2 s stays inside the 5 s. */
#define KAFKA_FLUSH_TIMEOUT_MS 2000u

const bool cli_kafka_built = true;

/* The options of config.json's "kafka", borrowed from the JSON. */
struct kafka_opts {
    const char *bootstrap, *inbox, *group;
    const char **allowed, **props;
    size_t nallowed, nprops;
    char group_buf[OCKAM_KAFKA_MAX_TOPIC + 8];
};

struct report {
    char *text, *hint;
    size_t text_cap, hint_cap;
};

static bool fail(struct report *r, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
fail(struct report *r, const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->text, r->text_cap, fmt, ap);
    va_end(ap);
    snprintf(r->hint, r->hint_cap, "%s", hint ? hint : "");
    return false;
}

/* ---- reading and checking the options ----------------------------------------------------- */

/* The strings of a JSON array (borrowed; the array is NULL-terminated). */
static const char **
strings_of(json_t *arr, size_t *n)
{
    size_t count = json_array_size(arr);
    const char **out = xmalloc((count + 1) * sizeof *out);
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (s)
            out[(*n)++] = s;
    }
    out[*n] = NULL;
    return out;
}

static bool
topic_valid(const char *topic)
{
    char name[OCKAM_KAFKA_MAX_TOPIC + 1];
    int32_t partition;
    return ockam_kafka_addr_parse(topic, strlen(topic), name, &partition) == OCKAM_OK
        && partition == -1;
}

/* One bootstrap server: HOST:PORT, [V6]:PORT, optionally after librdkafka's "PROTO://". */
static bool
server_valid(const char *entry, size_t len)
{
    char text[300], host[256];
    uint16_t port;
    if (len == 0 || len >= sizeof text)
        return false;
    memcpy(text, entry, len);
    text[len] = '\0';
    const char *scheme_end = strstr(text, "://");
    const char *hp = scheme_end ? scheme_end + 3 : text;
    return ockam__host_port_parse(hp, host, sizeof host, &port) == OCKAM_OK && port > 0;
}

/* "H:P[,H:P...]": librdkafka would take almost anything and fail later, in the background,
 * with a log line nobody reads; a typo is better reported by `node create` at once. */
static bool
bootstrap_valid(const char *list)
{
    for (const char *p = list;; p++) {
        size_t len = strcspn(p, ",");
        if (!server_valid(p, len))
            return false;
        p += len;
        if (!*p)
            return true;
    }
}

static bool
has_property(const struct kafka_opts *o, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < o->nprops; i++) {
        if (strncmp(o->props[i], key, n) == 0 && o->props[i][n] == '=')
            return true;
    }
    return false;
}

static bool
check_topics(const struct kafka_opts *o, struct report *r)
{
    static const char hint[]
        = "A topic is 1 to 249 characters of letters, digits, '.', '_' and '-'.";
    if (!o->inbox)
        return fail(r, "Add --kafka-inbox TOPIC: the topic this node consumes.",
            "The Kafka transport needs an inbox topic.");
    if (!topic_valid(o->inbox))
        return fail(r, hint, "'%s' is not a valid Kafka inbox topic.", o->inbox);
    for (size_t i = 0; i < o->nallowed; i++) {
        if (strcmp(o->allowed[i], "*") != 0 && !topic_valid(o->allowed[i]))
            return fail(r, hint, "'%s' is not a valid topic for --kafka-allow.", o->allowed[i]);
    }
    return true;
}

static bool
check_opts(const struct kafka_opts *o, struct report *r)
{
    if (!check_topics(o, r))
        return false;
    if (!o->bootstrap && !has_property(o, "bootstrap.servers"))
        return fail(r, "Add --kafka-bootstrap HOST:PORT[,HOST:PORT...].",
            "The Kafka transport needs bootstrap servers.");
    if (o->bootstrap && !bootstrap_valid(o->bootstrap))
        return fail(r, "Use HOST:PORT[,HOST:PORT...], e.g. 127.0.0.1:9092.",
            "'%s' is not a valid list of Kafka bootstrap servers.", o->bootstrap);
    if (o->group && !o->group[0])
        return fail(r, NULL, "The Kafka consumer group (--kafka-group) cannot be empty.");
    static const char hint[] = "Use -X key=value, e.g. -X consumer.fetch.wait.max.ms=5.";
    for (size_t i = 0; i < o->nprops; i++) {
        const char *eq = strchr(o->props[i], '=');
        if (!eq)
            return fail(r, hint, "The Kafka property '%s' is not key=value.", o->props[i]);
        if (eq == o->props[i]) /* never print a value: it may be a password */
            return fail(r, hint, "Kafka property number %zu has no key.", i + 1);
    }
    return true;
}

static void
opts_load(struct kafka_opts *o, json_t *kafka)
{
    memset(o, 0, sizeof *o);
    o->bootstrap = json_string_value(json_object_get(kafka, "bootstrap_servers"));
    o->inbox = json_string_value(json_object_get(kafka, "inbox_topic"));
    o->group = json_string_value(json_object_get(kafka, "group_id"));
    o->allowed = strings_of(json_object_get(kafka, "allowed_outgoing"), &o->nallowed);
    o->props = strings_of(json_object_get(kafka, "properties"), &o->nprops);
}

static void
opts_free(struct kafka_opts *o)
{
    free(o->allowed);
    free(o->props);
}

/* ---- attaching ------------------------------------------------------------------------------ */

/* The library says why it refused a configuration in one ERROR log line (a property librdkafka
 * does not know, a value it rejects). While the transport starts, that line is kept so that it
 * becomes the startup error; every line still goes to the node's log. The node process uses
 * the default handler otherwise. */
static char init_error[512];

static void
capture_log(ockam_log_level level, const char *line, void *user)
{
    if (level == OCKAM_LOG_ERROR && !init_error[0])
        snprintf(init_error, sizeof init_error, "%s",
            strncmp(line, "kafka: ", 7) == 0 ? line + 7 : line);
    fprintf(stderr, "ockam: %s\n", line);
}

static ockam_err
init_capturing(ockam_node *node, const ockam_kafka_config *cfg)
{
    init_error[0] = '\0';
    ockam_log_set_handler(capture_log, NULL);
    ockam_err err = ockam_kafka_init(node, cfg);
    ockam_log_set_handler(NULL, NULL);
    return err;
}

static bool
attach(ockam_node *node, struct kafka_opts *o, struct report *r)
{
    ockam_kafka_config cfg = OCKAM_KAFKA_CONFIG_INIT;
    if (!o->group) {
        snprintf(o->group_buf, sizeof o->group_buf, "ockam.%s", o->inbox);
        o->group = o->group_buf;
    }
    cfg.bootstrap_servers = o->bootstrap;
    cfg.inbox_topic = o->inbox;
    cfg.group_id = o->group;
    cfg.properties = o->props;
    cfg.properties_count = o->nprops;
    cfg.allowed_outgoing = o->allowed;
    cfg.allowed_outgoing_count = o->nallowed;
    cfg.flush_timeout_ms = KAFKA_FLUSH_TIMEOUT_MS;
    ockam_err err = init_capturing(node, &cfg);
    if (err == OCKAM_EINVAL)
        return fail(r, "Check the -X properties: librdkafka's CONFIGURATION.md lists them.",
            "The Kafka client refused its configuration: %s.",
            init_error[0] ? init_error : ockam_strerror(err));
    if (err)
        return fail(r, NULL, "Cannot start the Kafka transport: %s.", ockam_strerror(err));
    return true;
}

bool
cli_kafka_start(
    ockam_node *node, json_t *kafka, char *text, size_t text_cap, char *hint, size_t hint_cap)
{
    struct report r = {text, hint, text_cap, hint_cap};
    if (!kafka || json_is_null(kafka))
        return true;
    if (!json_is_object(kafka))
        return fail(&r, "Delete the node and create it again.",
            "The Kafka part of the node's configuration is corrupt.");
    struct kafka_opts o;
    opts_load(&o, kafka);
    bool ok = check_opts(&o, &r) && attach(node, &o, &r);
    opts_free(&o);
    return ok;
}
