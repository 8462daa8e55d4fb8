/* The `ockam` command: the command table and what the command files share. */
#ifndef OCKAM_CLI_CLI_H
#define OCKAM_CLI_CLI_H

#include "cli/args.h"
#include "cli/util.h"
#include "ockam/multiaddr.h"

#include <jansson.h>

/* One command: `ockam <group> <name> ...` (name "" for a group that is itself a command). */
typedef struct cli_cmd {
    const char *name; /* NULL ends a table */
    const char *usage;
    int min_pos, max_pos;
    const cli_opt *opts;
    int (*run)(const cli_args *a);
    const char *summary;
    const char *help; /* details and examples; may be NULL */
} cli_cmd;

extern const cli_cmd cli_node_cmds[];
extern const cli_cmd cli_reset_cmds[];
extern const cli_cmd cli_message_cmds[];
extern const cli_cmd cli_service_cmds[];
extern const cli_cmd cli_worker_cmds[];
extern const cli_cmd cli_tcp_listener_cmds[];
extern const cli_cmd cli_tcp_connection_cmds[];
extern const cli_cmd cli_udp_listener_cmds[];
extern const cli_cmd cli_udp_connection_cmds[];
extern const cli_cmd cli_ble_connection_cmds[];
extern const cli_cmd cli_kafka_transport_cmds[];
extern const cli_cmd cli_relay_cmds[];
extern const cli_cmd cli_tcp_inlet_cmds[];
extern const cli_cmd cli_tcp_outlet_cmds[];
extern const cli_cmd cli_vault_cmds[];
extern const cli_cmd cli_identity_cmds[];
extern const cli_cmd cli_secure_channel_listener_cmds[];
extern const cli_cmd cli_secure_channel_cmds[];

/* ---- common.c: what the command files share (none depends on another) ---------------------- */

/* Verbosity (-v count) given on the command line. */
int cli_verbosity(const cli_args *a);

/* The node named by a positional argument ("n1" or "/node/n1"), or the default node when arg
 * is NULL. On failure prints the error and returns NULL with *code set. Caller frees. */
char *cli_node_or_default(const char *arg, int *code);
/* A node's new configuration: listener address (NULL: 127.0.0.1:0), allowed outgoing
 * destinations (stolen; NULL: none), log verbosity. New reference. */
json_t *cli_config_new(const char *name, const char *listen, json_t *allowed, int verbosity);
/* A fresh state directory for name holding cfg (stolen); an old stopped node is replaced.
 * Returns an exit code. */
int cli_node_prepare(const char *name, json_t *cfg);
/* Start the prepared node name in the background and wait for its report (*ready, caller
 * decrefs); a node that never started leaves nothing behind. Returns an exit code. */
int cli_node_spawn(const char *name, int verbosity, json_t **ready);

/* The node a command acts on: --at/--from value ("n1" or "/node/n1"), else the default node.
 * With create_default, a missing default node is created first (docs/cli.md §0.6). On failure
 * prints the error and returns NULL with *code set. The caller frees the name. */
char *cli_pick_node(const char *arg, bool create_default, int *code);

/* "/ip4/127.0.0.1/tcp/PORT" (or ip6/dnsaddr) for a listener address "H:P"; 0.0.0.0 and [::]
 * map to loopback. Caller frees; NULL when the address is malformed. */
char *cli_listener_route(const char *host_port);
/* The same for any transport protocol of multiaddrs: proto "tcp" or "udp". */
char *cli_transport_route(const char *host_port, const char *proto);
/* The route printed for a listener (tcp-listener create, node show), as Ockam prints it: a TCP
 * listener reachable through loopback (bound to 127.0.0.1, 0.0.0.0 or localhost) is
 * /dnsaddr/localhost/tcp/PORT; any other, and every UDP listener, as cli_transport_route. */
char *cli_display_route(const char *host_port, const char *proto);

/* Parse a multiaddr argument (`what`: "--to"). A route longer than a node can carry is
 * reported as such ("route too long: N addresses, at most 1024"), anything else that does
 * not parse as "not a multiaddr". Prints the error and returns EXIT_USAGE on failure. */
int cli_parse_multiaddr(const char *text, const char *what, ockam_multiaddr **out);

/* Replace every /node/NAME in ma by the route of that node's listener (the node must exist
 * and run). Prints the error and returns its exit code on failure. */
int cli_resolve_nodes(ockam_multiaddr *ma);
/* Parse text as a multiaddr and resolve its /node parts; *out is the resulting text (caller
 * frees). `what` names the argument in errors. Prints the error and returns its exit code. */
int cli_resolve_multiaddr(const char *text, const char *what, char **out);

/* The string at obj[key], or "" when absent or not a string. */
const char *cli_str(json_t *obj, const char *key);
/* The values of the list option `name` as a new JSON array of strings; NULL when absent. */
json_t *cli_json_list(const cli_args *a, const char *name);
/* "/worker/<hex>" -> "<hex>"; anything else unchanged. */
const char *cli_strip_worker(const char *arg);
/* "/service/<name>" -> "<name>"; anything else unchanged (Ockam accepts both for an outlet). */
const char *cli_strip_service(const char *arg);
/* EXIT_OK when value is HOST:PORT; otherwise prints an error naming `what` with `example` as
 * the hint and returns EXIT_USAGE. */
int cli_check_host_port(const char *value, const char *what, const char *example);
/* Resolve the node named by --<flag> (or the default node, creating one when create_default),
 * then make one API request to it. *node is set (caller frees) unless resolution failed.
 * Consumes body. Returns an exit code. */
int cli_call_at(const cli_args *a, const char *flag, bool create_default, const char *method,
    const char *path, json_t *body, uint64_t timeout_ms, char **node, json_t **res);

/* Print a list result: the plain items separated by blank lines, or `empty` when none. */
void cli_print_list(json_t *res, char *(*item)(json_t *), const char *empty);
/* GET a list endpoint at the --at node and print it ("No <kind> <what> on node N." if empty). */
int cli_list_cmd(const cli_args *a, const char *path, char *(*item)(json_t *), const char *kind,
    const char *what);
/* GET collection/<first argument> at the --at node and print it with item. */
int cli_show_cmd(const cli_args *a, const char *collection, char *(*item)(json_t *));
/* Confirm, then DELETE collection/<first argument>; *node and *res are set on success
 * (caller frees *node in every case). */
int cli_delete_cmd(const cli_args *a, const char *collection, const char *kind, const char *what,
    char **node, json_t **res);
/* cli_delete_cmd for a connection, then print "<kind> connection <route> has been
 * successfully deleted" (or the JSON result). */
int cli_delete_connection(const cli_args *a, const char *collection, const char *kind);
/* The same for a listener: "<kind> listener with address <address> on Node <node> has been
 * deleted". */
int cli_delete_listener(const cli_args *a, const char *collection, const char *kind);

/* POST {"to": --to} to collection at the --from node (the default node, created if needed)
 * and print the new connection's route. command ("tcp-connection") and example_to
 * ("127.0.0.1:4000") make the usage hints. */
int cli_create_connection(const cli_args *a, const char *collection, const char *kind,
    const char *command, const char *example_to);

/* One listener of a list, kind "TCP" or "UDP". */
char *cli_listener_plain(json_t *l, const char *kind);
/* POST {"address": <first argument>} to collection at the --at node (the default node,
 * created if needed) and print the route that reaches it (proto "tcp" or "udp"; kind_word
 * "Tcp" or "Udp" as the Rust CLI prints it). example: a HOST:PORT for the usage hint. */
int cli_create_listener(const cli_args *a, const char *collection, const char *proto,
    const char *kind_word, const char *example);

/* GET or DELETE collection/<name> at node, with Ockam's answers when there is no such item
 * (`term` names it: "tcp outlet"): "The tcp outlet X was not found" (exit 70), except that
 * deleting from an empty collection prints "There are no tcp outlets to delete" (JSON []) and
 * succeeds. On EXIT_OK, *res is the node's answer, or NULL when that was printed. */
int cli_item_request(const char *node, const char *method, const char *collection, const char *name,
    const char *term, json_t **res);

/* --at NODE; and --at NODE with --yes. */
extern const cli_opt cli_at_opts[];
extern const cli_opt cli_at_yes_opts[];

#endif
