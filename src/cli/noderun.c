/* A node running in this process (see noderun.h). */
#include "cli/noderun.h"

#include "cli/idstore.h"
#include "cli/kafka.h"
#include "cli/logfile.h"
#include "cli/output.h"
#include "cli/spawn.h"
#include "cli/state.h"
#include "cli/util.h"
#include "nodemanager/nodemanager.h"
#include "nodemanager/nodemanager_secure.h"
#include "ockam/ockam.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/un.h>
#include <unistd.h>

/* A concurrent liveness probe holds the lock for microseconds; a live node holds it forever. */
#define LOCK_TIMEOUT_MS 1000

struct noderun {
    const char *name;
    json_t *config;
    ockam_node *node;
    ockam__nodemanager *nm;
    const char **allowed; /* HOST:PORT and "*": TCP and UDP */
    size_t nallowed;
    const char **ble_allowed; /* ble:NAME entries without the prefix, and "*" */
    size_t nble_allowed;
    bool booted; /* saves happen only once booting is over */
};

/* The signal handler's only way to the node; ockam_node_stop() is async-signal-safe (an
 * atomic store and uv_async_send). */
static ockam_node *volatile signalled_node;

static void
on_signal(int sig)
{
    (void)sig;
    if (signalled_node)
        ockam_node_stop(signalled_node);
}

static void
install_signals(ockam_node *node)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    signalled_node = node;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- startup report ----------------------------------------------------------------------- */

typedef struct startup_error {
    char text[512];
    char hint[256];
} startup_error;

static bool fail(startup_error *e, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
fail(startup_error *e, const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
    snprintf(e->hint, sizeof e->hint, "%s", hint ? hint : "");
    return false;
}

/* Write the one-line report (stolen) and close: the parent stops waiting at EOF. */
static void
write_report(int fd, json_t *report)
{
    char *text = json_dumps(report, JSON_COMPACT);
    json_decref(report);
    if (text) {
        dprintf(fd, "%s\n", text);
        free(text);
    }
    close(fd);
}

/* Lifecycle lines: into the log for a background node, as status lines in a terminal. */
/* Where the node's own lines go: stderr in a terminal; in a background node its log
 * (stdout.log, line-buffered), so that stderr.log keeps only what the process cannot log. */
static FILE *notes;

static void note(bool background, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(bool background, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (background)
        fprintf(notes, "ockam: %s\n", text);
    else
        out_info("%s", text);
}

/* ---- config ------------------------------------------------------------------------------- */

static void
save_config(struct noderun *r)
{
    json_t *live = ockam__nodemanager_config(r->nm);
    if (live)
        json_object_update(r->config, live);
    json_decref(live);
    if (!state_config_save(r->name, r->config))
        fprintf(notes, "ockam: cannot save the configuration of node %s: %s\n", r->name,
            strerror(errno));
}

static void
on_change(ockam__nodemanager *nm, void *user)
{
    struct noderun *r = user;
    if (r->booted)
        save_config(r);
}

static void
load_allowed(struct noderun *r)
{
    json_t *list = json_object_get(r->config, "allowed_outgoing");
    size_t n = json_array_size(list);
    r->allowed = xmalloc((n ? n : 1) * sizeof *r->allowed);
    r->ble_allowed = xmalloc((n ? n : 1) * sizeof *r->ble_allowed);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(list, i));
        if (s && strncmp(s, "ble:", 4) == 0)
            r->ble_allowed[r->nble_allowed++] = s + 4;
        else if (s)
            r->allowed[r->nallowed++] = s;
        if (s && strcmp(s, "*") == 0)
            r->ble_allowed[r->nble_allowed++] = s;
    }
}

/* ---- boot --------------------------------------------------------------------------------- */

/* One allow-list for every transport: a HOST:PORT the operator allowed may be reached over
 * TCP or UDP by messages from other nodes (the hop after the destination says which). */
static ockam_err
start_udp_transport(struct noderun *r)
{
    ockam_udp_config udp = OCKAM_UDP_CONFIG_INIT;
    udp.allowed_outgoing = r->allowed;
    udp.allowed_outgoing_count = r->nallowed;
    return ockam_udp_init(r->node, &udp);
}

static bool
start_transports(struct noderun *r, startup_error *e)
{
    ockam_tcp_config tcp = OCKAM_TCP_CONFIG_INIT;
    tcp.allowed_outgoing = r->allowed;
    tcp.allowed_outgoing_count = r->nallowed;
    r->node = ockam_node_new();
    if (!r->node)
        return fail(e, NULL, "Out of memory.");
    ockam_err err = ockam_tcp_init(r->node, &tcp);
    if (!err)
        err = ockam_uds_init(r->node, NULL);
    if (!err)
        err = start_udp_transport(r);
    if (err)
        return fail(e, NULL, "Cannot set up the transports: %s.", ockam_strerror(err));
    return true;
}

/* Before the node manager, so that the services it starts consume the BLE listener's flow.
 * The controller must open (its initialisation then runs on the loop). */
static bool
start_ble(struct noderun *r, startup_error *e)
{
    const char *ctl = json_string_value(json_object_get(r->config, "ble_controller"));
    if (!ctl)
        return true;
    ockam_ble_config cfg = OCKAM_BLE_CONFIG_INIT;
    cfg.controller = ctl;
    cfg.listener_name = json_string_value(json_object_get(r->config, "ble_listener_name"));
    cfg.allowed_outgoing = r->ble_allowed;
    cfg.allowed_outgoing_count = r->nble_allowed;
    ockam_err err = ockam_ble_init(r->node, &cfg);
    if (err)
        return fail(e,
            "Check that the controller exists (btvirt -s serves unix:/tmp/bt-server-le).",
            "Cannot open the BLE controller %s: %s.", ctl,
            err == OCKAM_ENOTSUP ? "not available here (no Bluetooth in this kernel?)"
                                 : ockam_strerror(err));
    /* "ready" means the controller answered its initialisation (a silent one is declared
     * down after the command timeout), so a wrong SPEC is a startup error, not a log line. */
    uint64_t until = ockam_node_now_ms(r->node) + cfg.command_timeout_ms * 2u;
    while (!ockam_ble_ready(r->node) && !ockam_ble_controller_down(r->node)
        && ockam_node_now_ms(r->node) < until)
        ockam_node_run_once(r->node);
    if (!ockam_ble_ready(r->node))
        return fail(e, "Is it an HCI controller? See the node's log.",
            "The BLE controller %s did not initialise.", ctl);
    return true;
}

/* Before the node manager: the services it starts must consume the Kafka flow (kafka.h). */
static bool
start_kafka(struct noderun *r, startup_error *e)
{
    return cli_kafka_start(r->node, json_object_get(r->config, "kafka"), e->text, sizeof e->text,
        e->hint, sizeof e->hint);
}

static bool
start_api(struct noderun *r, startup_error *e)
{
    char *sock = state_node_path(r->name, "api.sock");
    ockam_listener *api = NULL;
    /* Any depth works: the UDS transport binds a long path through its directory. */
    ockam_err err = ockam_uds_listen(r->node, sock, &api);
    if (err) {
        fail(e, NULL, "Cannot open the control socket %s: %s.", sock, ockam_strerror(err));
        free(sock);
        return false;
    }
    free(sock);
    ockam__nodemanager_opts opts = {
        .node_name = r->name,
        .api_listener = api,
        .on_change = on_change,
        .user = r,
    };
    err = ockam__nodemanager_start(r->node, &opts, &r->nm);
    if (err)
        return fail(e, NULL, "Cannot start the node manager: %s.", ockam_strerror(err));
    return true;
}

/* Who may register relays here: applied before any listener exists, so no registration comes
 * in unrestricted; a restriction that cannot be applied stops the node from starting. */
static bool
start_relay_allow(struct noderun *r, startup_error *e)
{
    json_t *allow = json_object_get(r->config, "relay_allow");
    if (!allow || json_is_null(allow))
        return true;
    ockam_err err = ockam__nodemanager_relay_allow(r->nm, allow);
    if (err)
        return fail(e, "Each --relay-allow is an identifier or secure.",
            "Cannot restrict who registers relays: %s.", ockam_strerror(err));
    return true;
}

static bool
start_main_listener(struct noderun *r, startup_error *e)
{
    const char *addr = json_string_value(json_object_get(r->config, "tcp_listener_address"));
    if (!addr)
        addr = "127.0.0.1:0";
    ockam_err err = ockam__nodemanager_tcp_listen(r->nm, addr, NULL);
    if (err == OCKAM_EADDRINUSE)
        return fail(e,
            "Pick another address with --tcp-listener-address, or leave it out to get a free port.",
            "%s is already in use.", addr);
    if (err == OCKAM_EADDRINVAL)
        return fail(e, "Use HOST:PORT, e.g. 127.0.0.1:4000.",
            "'%s' is not a valid TCP listener address.", addr);
    if (err)
        return fail(e, NULL, "Unable to listen on %s: %s.", addr, ockam_strerror(err));
    return true;
}

/* Default services first, then the ones saved by an earlier run (already running ones are
 * skipped), then the extra listeners. A saved item that cannot come back is logged. */
static bool
start_services(struct noderun *r, startup_error *e)
{
    static const char *const defaults[] = {"echo", "uppercase", "hop"};
    for (size_t i = 0; i < 3; i++) {
        ockam_err err = ockam__nodemanager_start_service(r->nm, defaults[i], NULL);
        if (err)
            return fail(
                e, NULL, "Cannot start the %s service: %s.", defaults[i], ockam_strerror(err));
    }
    json_t *saved = json_object_get(r->config, "services");
    for (size_t i = 0; i < json_array_size(saved); i++) {
        json_t *s = json_array_get(saved, i);
        const char *addr = json_string_value(json_object_get(s, "addr"));
        const char *type = json_string_value(json_object_get(s, "type"));
        if (!addr || !type || ockam_node_has_worker(r->node, addr))
            continue;
        ockam_err err = ockam__nodemanager_start_service(r->nm, type, addr);
        if (err)
            fprintf(notes, "ockam: cannot restore the %s service at %s: %s\n", type, addr,
                ockam_strerror(err));
    }
    json_t *extra = json_object_get(r->config, "tcp_listeners");
    for (size_t i = 0; i < json_array_size(extra); i++) {
        const char *addr = json_string_value(json_array_get(extra, i));
        ockam_err err = addr ? ockam__nodemanager_tcp_listen(r->nm, addr, NULL) : OCKAM_EINVAL;
        if (err)
            fprintf(notes, "ockam: cannot restore the TCP listener %s: %s\n", addr ? addr : "?",
                ockam_strerror(err));
    }
    return true;
}

/* The UDP listener given with --udp-listener-address must come up, like the TCP one: the
 * user asked for that address. Extra UDP listeners and the UDP connections saved by an
 * earlier run are logged when they cannot come back. */
static bool
start_udp_listeners(struct noderun *r, startup_error *e)
{
    const char *addr = json_string_value(json_object_get(r->config, "udp_listener_address"));
    ockam_err err = addr ? ockam__nodemanager_udp_listen(r->nm, addr, true, NULL) : OCKAM_OK;
    if (err == OCKAM_EADDRINUSE)
        return fail(e, "Pick another address with --udp-listener-address.",
            "%s is already in use (UDP).", addr);
    if (err == OCKAM_EADDRINVAL)
        return fail(e, "Use HOST:PORT, e.g. 127.0.0.1:6000.",
            "'%s' is not a valid UDP listener address.", addr);
    if (err)
        return fail(e, NULL, "Unable to listen on %s (UDP): %s.", addr, ockam_strerror(err));
    json_t *extra = json_object_get(r->config, "udp_listeners");
    for (size_t i = 0; i < json_array_size(extra); i++) {
        const char *a = json_string_value(json_array_get(extra, i));
        err = a ? ockam__nodemanager_udp_listen(r->nm, a, false, NULL) : OCKAM_EINVAL;
        if (err)
            fprintf(notes, "ockam: cannot restore the UDP listener %s: %s\n", a ? a : "?",
                ockam_strerror(err));
    }
    json_t *conns = json_object_get(r->config, "udp_connections");
    for (size_t i = 0; i < json_array_size(conns); i++) {
        const char *to = json_string_value(json_array_get(conns, i));
        err = to ? ockam__nodemanager_udp_connect(r->nm, to, NULL) : OCKAM_EINVAL;
        if (err)
            fprintf(notes, "ockam: cannot restore the UDP connection to %s: %s\n", to ? to : "?",
                ockam_strerror(err));
    }
    return true;
}

/* The node manager's loader of the identities requests name (nodemanager_secure.h): any the
 * user has, its keys copied out of its vault file as the node's own are. */
static ockam_err
load_identity(void *user, const char *name, uint32_t wait_ms, ockam_identity **id,
    ockam_vault **vault, char *why, size_t cap)
{
    json_t *ident = idstore_get("identity", name);
    if (!ident) {
        snprintf(why, cap,
            "There is no identity named %s: create it with 'ockam identity create %s'.", name,
            name);
        return OCKAM_ENOENT;
    }
    char reason[300];
    ockam_err err = idstore_identity_load(ident, wait_ms, vault, id, reason, sizeof reason);
    json_decref(ident);
    if (err == OCKAM_ENOKEY)
        snprintf(why, cap,
            "The identity %s has no key here (it was imported): use one made with 'ockam "
            "identity create'.",
            name);
    else if (err)
        snprintf(why, cap, "%s", reason);
    return err;
}

/* Whether the user's identity `name` is still `identifier` (nodemanager_secure.h). */
static bool
identity_current(void *user, const char *name, const char *identifier)
{
    (void)user;
    json_t *ident = idstore_get("identity", name);
    const char *now = json_string_value(json_object_get(ident, "identifier"));
    bool same = now && strcmp(now, identifier) == 0;
    json_decref(ident);
    return same;
}

/* The node's identity (the default one when the configuration names none, e.g. a default
 * node made on first need), its keys copied out of the shared vault file, and the secure
 * channel listener at api plus the saved ones. */
static bool
start_identity(struct noderun *r, startup_error *e)
{
    json_t *ident = NULL;
    const char *name = json_string_value(json_object_get(r->config, "identity"));
    if (idstore_identity_ensure(name, &ident) != EXIT_OK)
        return fail(e, "See 'ockam identity list'.", "The identity %s cannot be used.",
            name ? name : "default");
    json_object_set(r->config, "identity", json_object_get(ident, "name"));
    ockam__nm_secure_opts o = {.name = json_string_value(json_object_get(r->config, "identity")),
        .load = load_identity,
        .current = identity_current};
    char why[400];
    ockam_err err
        = idstore_identity_load(ident, IDSTORE_VAULT_WAIT_MS, &o.vault, &o.id, why, sizeof why);
    json_decref(ident);
    if (err)
        return fail(e, "An imported identity has no key: give the node one made here.", "%s", why);
    err = ockam__nm_secure_start(r->nm, &o, r->config);
    if (err)
        return fail(e, NULL, "Cannot start the secure channel listener: %s.", ockam_strerror(err));
    return true;
}

static bool
write_pid(struct noderun *r, startup_error *e)
{
    char *path = state_node_path(r->name, "pid");
    char text[32];
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    int rc = write_file_atomic(path, text, (size_t)n, 0600);
    free(path);
    if (rc != 0)
        return fail(e, NULL, "Cannot write the pid file of node %s: %s.", r->name, strerror(errno));
    return true;
}

static bool
boot(struct noderun *r, startup_error *e)
{
    r->config = state_config_load(r->name);
    if (!r->config)
        return fail(e, "Delete it and create it again: ockam node delete NAME -y.",
            "The configuration of node %s is missing or corrupt.", r->name);
    load_allowed(r);
    if (!start_transports(r, e) || !start_ble(r, e) || !start_kafka(r, e) || !start_api(r, e)
        || !start_relay_allow(r, e) || !start_main_listener(r, e) || !start_services(r, e)
        || !start_udp_listeners(r, e) || !start_identity(r, e))
        return false;
    ockam__nodemanager_restore_portals(r->nm, r->config);
    r->booted = true;
    save_config(r);
    return write_pid(r, e);
}

/* The lock is never unlocked or closed: the kernel releases it when the process has exited,
 * after every socket is closed and sanitizer reports are written, so "unlocked" means "gone". */
static int
take_lock(const char *name, startup_error *e)
{
    char *path = state_node_path(name, "lock");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (fd < 0) {
        fail(e, NULL, "Cannot open the lock file of node %s: %s.", name, strerror(errno));
        return -1;
    }
    if (!lock_wait(fd, LOCK_EX, LOCK_TIMEOUT_MS)) {
        char hint[160];
        snprintf(hint, sizeof hint, "Stop it first with 'ockam node stop %s'.", name);
        fail(e, hint, "Node %s is already running.", name);
        close(fd);
        return -1;
    }
    return fd;
}

static void
set_log_level(int verbosity, bool background)
{
    static const ockam_log_level levels[]
        = {OCKAM_LOG_INFO, OCKAM_LOG_DEBUG, OCKAM_LOG_TRACE, OCKAM_LOG_TRACE};
    if (verbosity < 0)
        verbosity = 0;
    if (verbosity > 3)
        verbosity = 3;
    /* A node in a terminal stays quiet unless asked; a background node logs to its file. */
    ockam_log_set_level(!background && verbosity == 0 ? OCKAM_LOG_WARN : levels[verbosity]);
}

static json_t *
ready_report(struct noderun *r)
{
    return json_pack("{s:s, s:I, s:O?, s:o}", "status", "ready", "pid", (json_int_t)getpid(),
        "tcp_listener_address", json_object_get(r->config, "tcp_listener_address"), "resources",
        ockam__nodemanager_resources(r->nm));
}

static void
cleanup(struct noderun *r, bool remove_pid)
{
    signalled_node = NULL;
    ockam_node_free(r->node); /* closes every listener (api.sock is removed) and connection */
    if (remove_pid) {
        char *pid = state_node_path(r->name, "pid");
        unlink(pid);
        free(pid);
    }
    json_decref(r->config);
    free(r->allowed);
    free(r->ble_allowed);
}

int
noderun(const char *name, int verbosity, int report_fd, noderun_ready_fn on_ready, void *user)
{
    struct noderun r = {.name = name};
    startup_error e = {.text = ""};
    bool background = report_fd >= 0;
    notes = background ? stdout : stderr;
    if (background)
        setvbuf(stdout, NULL, _IOLBF, 0);
    set_log_level(verbosity, background);
    int lock_fd = take_lock(name, &e);
    if (lock_fd < 0 || !boot(&r, &e)) {
        if (background) {
            fprintf(notes, "ockam: node %s did not start: %s\n", name, e.text);
            write_report(report_fd,
                json_pack("{s:s, s:s, s:s}", "status", "error", "error", e.text, "hint", e.hint));
        } else {
            out_error(EXIT_RUNTIME, e.hint[0] ? e.hint : NULL, "%s", e.text);
        }
        cleanup(&r, false);
        if (lock_fd >= 0)
            close(lock_fd); /* a node that never ran frees its name at once */
        return EXIT_RUNTIME;
    }
    install_signals(r.node);
    if (background) {
        /* After boot: the Kafka transport borrows the log handler while it starts. */
        char *log = state_node_path(name, STATE_LOG_FILE);
        logfile_start(log); /* bounded: rotation by size, repeats collapsed */
        free(log);
    }
    json_t *report = ready_report(&r);
    if (background) {
        fprintf(notes, "ockam: node %s is ready (pid %ld, listening at %s)\n", name, (long)getpid(),
            json_string_value(json_object_get(report, "tcp_listener_address")));
        write_report(report_fd, json_incref(report));
    } else if (on_ready) {
        on_ready(name, report, user);
    }
    json_decref(report);
    ockam_node_run(r.node);
    note(background, "Exit signal received; stopping node %s.", name);
    cleanup(&r, true);
    if (background)
        logfile_stop();
    note(background, "Node %s stopped.", name);
    return EXIT_OK;
}
