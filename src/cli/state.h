/* Local state of the `ockam` command under $OCKAM_HOME (default ~/.ockam):
 *
 *   default_node               the default node's name
 *   nodes/<name>/              one directory per node, mode 0700
 *     config.json              what the node was created with and what `node start` restores:
 *                              {"name", "tcp_listener_address" (the real bound address once it
 *                              ran), "tcp_listeners": [...], "services": [{"addr","type"}],
 *                              "allowed_outgoing": [...], "verbosity",
 *                              "udp_listener_address" (given at create; the real bound
 *                              address once it ran; null after it was deleted),
 *                              "udp_listeners": [...], "outlets": [{"from","to"}],
 *                              "inlets": [{"alias","from","to"}], "relays": [{"name","at"}],
 *                              "kafka": {...} (only with --kafka-*; layout in cli/kafka.h)}
 *     stdout.log               the background node's log (its stdout), rotated by size
 *     stderr.log               its stderr: what the process itself prints (a crash report)
 *     lock                     flock(LOCK_EX) held by the running node: liveness never relies
 *                              on a pid that may be stale or reused
 *     pid                      written by the running node, for signalling it
 *     api.sock                 the control API (Unix socket; the directory is 0700)
 */
#ifndef OCKAM_CLI_STATE_H
#define OCKAM_CLI_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* A background node's files in its directory, named as Ockam names them. */
#define STATE_LOG_FILE "stdout.log"
#define STATE_ERR_FILE "stderr.log"

/* Resolve the home directory (override, else $OCKAM_HOME, else $HOME/.ockam) and create it.
 * false after printing an error. */
bool state_init(const char *override);
const char *state_home(void);

/* [A-Za-z0-9_-]+, at most 64 characters. */
bool state_name_valid(const char *name);
/* "n1", "/node/n1" -> "n1" (a view into text); NULL when invalid. */
const char *state_name_from_arg(const char *text);

/* Paths (caller frees): the node's directory and a file in it. */
char *state_node_dir(const char *name);
char *state_node_path(const char *name, const char *file);

bool state_node_exists(const char *name);
/* A fresh random "adjective-animal" name that no node uses yet (caller frees). */
char *state_random_name(void);
/* Node names, sorted; *n set; the caller frees each and the array. */
char **state_node_names(size_t *n);
void state_names_free(char **names, size_t n);

/* Whether a node process holds the lock; *pid (may be NULL) from its pid file, or 0. A process
 * that was killed and is still being torn down is waited for (up to STOP_GRACE_MS): it is not
 * running. */
bool state_node_running(const char *name, pid_t *pid);

json_t *state_config_load(const char *name); /* NULL when missing or corrupt */
bool state_config_save(const char *name, json_t *config);
/* The listener address saved in the config ("127.0.0.1:PORT"), caller frees; NULL if none. */
char *state_listener_address(const char *name);

/* The default node, if it exists (caller frees); NULL otherwise. */
char *state_default_get(void);
bool state_default_set(const char *name);
/* After deleting nodes: if the default is gone, make the first remaining node the default. */
void state_default_repair(void);

/* Create nodes/<name>/ (0700); wipes an old stopped node of that name first. */
bool state_node_prepare(const char *name);
/* rm -rf nodes/<name>. */
bool state_node_remove(const char *name);

#endif
