/* The Kafka transport in the `ockam` command: the `node create --kafka-*` options, what they
 * become in the node's config.json, attaching the transport when a node process boots (create
 * and start alike), the "kafka" part of a node's view, and `ockam kafka-transport show`.
 *
 * config.json holds, when any --kafka-* option or -X was given:
 *   "kafka": {"bootstrap_servers": "H:P,..." | null, "inbox_topic": "T" | null,
 *             "group_id": "G" | null (null: "ockam." + inbox_topic, the library's default),
 *             "allowed_outgoing": ["T" | "*", ...], "properties": ["key=value", ...]}
 * The options are stored as given and checked by the node process when it boots, so that a
 * bad value is one startup error reported through the ready pipe, for `node create` and for
 * `node start` of a hand-edited config alike. Property values may be secrets (sasl.password):
 * config.json is 0600 in a 0700 directory, and views never show such values. */
#ifndef OCKAM_CLI_KAFKA_H
#define OCKAM_CLI_KAFKA_H

#include "cli/cli.h"
#include "ockam/ockam.h"

#include <jansson.h>

/* Whether this `ockam` has the Kafka transport (CMake option OCKAM_WITH_KAFKA): true in
 * kafka_node.c, false in kafka_none.c. */
extern const bool cli_kafka_built;

#define CLI_KAFKA_NOT_BUILT "This ockam was built without the Kafka transport."
#define CLI_KAFKA_REBUILD_HINT                                                                     \
    "Install librdkafka-dev (scripts/install-deps.sh) and build again with -DOCKAM_WITH_KAFKA=ON."

/* In a build without the Kafka transport: print that error (for a Kafka command or a /kafka
 * first hop) and return EXIT_RUNTIME. */
int cli_kafka_not_built(void);

/* The "kafka" object for config.json from node create's options (new reference), or NULL when
 * no Kafka option was given. */
json_t *cli_kafka_config_from_args(const cli_args *a);

/* In the node process: attach the Kafka transport described by kafka (config.json's "kafka";
 * NULL = none, nothing to do). In a build without the transport, any "kafka" object is a
 * startup error, so `node create --kafka-*` and `node start` of such a node say why. On failure
 * returns false with a sentence in text and, when there is one, advice in hint. Must run before the
 * node manager starts, so that the public services it starts consume the transport's flow. */
bool cli_kafka_start(
    ockam_node *node, json_t *kafka, char *text, size_t text_cap, char *hint, size_t hint_cap);

/* Add "kafka" to a node's view: the saved configuration (secrets hidden) merged with what the
 * running node reported in res ("kafka" of GET /node; res may be NULL), or null. */
void cli_kafka_add_view(json_t *view, json_t *cfg, json_t *res);
/* The plain-text lines of view["kafka"] for `node show` (nothing when it is null). */
void cli_kafka_plain(strbuf *sb, json_t *view);
/* The line `node create` prints about the transport (nothing without one). */
void cli_kafka_created(strbuf *sb, json_t *view);

/* `message send` with a route that starts with a Kafka hop: the sending node must have the
 * Kafka transport. from: the --from node name or NULL (a temporary node, which has none).
 * Returns EXIT_OK, or prints the error and returns its exit code. */
int cli_kafka_check_first_hop(const ockam_multiaddr *ma, const char *from);

#endif
