/* sc_load: N secure channels open at the same time between two nodes (two processes, TCP on
 * 127.0.0.1), one echoed message through each, and the peak RSS of each node. Used by
 * scripts/load.sh (`make load`).
 *
 * The responder is a forked child: a node with a TCP listener, a secure-channel listener
 * "api" (trusting every identity) and echo. The initiator creates N channels with at most
 * WINDOW handshakes in flight, sends "i" through each ([encryptor, echo]) and counts the
 * replies; every channel stays open until all N have answered. Prints one JSON line: channels
 * opened, failed, echoed, seconds, and each node's peak RSS (VmHWM) in KiB. Exit 1 unless all
 * N channels opened and echoed.
 *
 * Usage: sc_load N
 * Threading: one node per process, each on its own loop. */
#include "ockam/identity.h"
#include "ockam/ockam.h"
#include "ockam/secure_channel.h"
#include "ockam/vault.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 256

static long
peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    }
    if (f)
        fclose(f);
    return kb;
}

static ockam_identity *
new_identity(void)
{
    ockam_vault *vault = NULL;
    ockam_identity *id = NULL;
    uint64_t now = (uint64_t)time(NULL);
    if (ockam_vault_memory_new(&vault) != OCKAM_OK
        || ockam_identity_create(vault, now - 60, OCKAM_IDENTITY_DEFAULT_TTL_S, &id) != OCKAM_OK)
        return NULL;
    return id; /* the vault lives as long as the process */
}

/* ---- responder (child) ------------------------------------------------------------------ */

static volatile sig_atomic_t stop_requested;

static void
on_term(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void
poll_stop(ockam_timer *t, void *user)
{
    (void)t;
    if (stop_requested)
        ockam_node_stop(user);
}

static int
responder(int port_fd, int result_fd)
{
    signal(SIGTERM, on_term);
    ockam_node *node = ockam_node_new();
    ockam_identity *id = new_identity();
    ockam_listener *tcp = NULL;
    ockam_sc_listener *sl = NULL;
    ockam_sc_listener_opts opts = {0};
    if (!node || !id || ockam_tcp_init(node, NULL) != OCKAM_OK
        || ockam_tcp_listen(node, "127.0.0.1:0", NULL, &tcp) != OCKAM_OK
        || ockam_sc_listen(node, id, "api", &opts, &sl) != OCKAM_OK
        || ockam_flow_add_consumer(node, "api", ockam_listener_flow_id(tcp)) != OCKAM_OK
        || ockam_echo_start(node, NULL, NULL) != OCKAM_OK
        || ockam_flow_add_consumer(node, "echo", ockam_sc_listener_flow_id(sl)) != OCKAM_OK
        || ockam_timer_start(node, 50, 50, poll_stop, node, NULL) != OCKAM_OK)
        return 70;
    const char *addr = ockam_listener_address(tcp);
    if (write(port_fd, addr, strlen(addr) + 1) < 0)
        return 70;
    close(port_fd);
    ockam_node_run(node);
    long kb = peak_rss_kb();
    if (write(result_fd, &kb, sizeof kb) < 0)
        return 70;
    return 0;
}

/* ---- initiator (parent) ------------------------------------------------------------------ */

struct load {
    ockam_node *node;
    ockam_identity *id;
    ockam_worker *app;
    ockam_route *to;
    size_t n, started, opened, failed, echoed;
    ockam_err first_error;
};

static void start_one(struct load *l);

static void
finish_if_done(struct load *l)
{
    if (l->echoed + l->failed == l->n)
        ockam_node_stop(l->node);
}

static void
on_open(ockam_sc *sc, ockam_err status, void *user)
{
    struct load *l = user;
    if (status != OCKAM_OK) {
        l->failed++;
        if (!l->first_error)
            l->first_error = status;
        start_one(l);
        finish_if_done(l);
        return;
    }
    l->opened++;
    ockam_route *r = ockam_route_new();
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%zu", l->opened);
    if (!r || ockam_route_push_back(r, ockam_addr_local(ockam_sc_encryptor(sc))) != OCKAM_OK
        || ockam_route_push_back(r, ockam_addr_local("echo")) != OCKAM_OK
        || ockam_send_to(l->app, r, buf, (size_t)len) != OCKAM_OK) {
        l->failed++;
        finish_if_done(l);
    }
    ockam_route_free(r);
    start_one(l);
}

static void
start_one(struct load *l)
{
    if (l->started == l->n)
        return;
    l->started++;
    ockam_sc_opts opts = {.timeout_ms = 60000};
    ockam_err err = ockam_sc_create(l->node, l->id, l->to, &opts, on_open, l);
    if (err) {
        l->failed++;
        if (!l->first_error)
            l->first_error = err;
        finish_if_done(l);
    }
}

static void
on_echo(ockam_worker *self, ockam_msg *msg, void *user)
{
    (void)self;
    struct load *l = user;
    ockam_msg_free(msg);
    l->echoed++;
    finish_if_done(l);
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sc_load N\n");
        return 64;
    }
    int port_pipe[2], result_pipe[2];
    if (pipe(port_pipe) || pipe(result_pipe))
        return 70;
    pid_t child = fork();
    if (child < 0)
        return 70;
    if (child == 0) {
        close(port_pipe[0]);
        close(result_pipe[0]);
        _exit(responder(port_pipe[1], result_pipe[1]));
    }
    close(port_pipe[1]);
    close(result_pipe[1]);
    char addr[64] = {0};
    if (read(port_pipe[0], addr, sizeof addr - 1) <= 0)
        return 70;

    struct load l = {.n = strtoul(argv[1], NULL, 10)};
    char route[96];
    snprintf(route, sizeof route, "1#%s => api", addr);
    l.node = ockam_node_new();
    l.id = new_identity();
    l.to = ockam_route_new();
    ockam_worker_opts wo = {.on_message = on_echo, .user = &l};
    if (!l.node || !l.id || !l.to || ockam_route_parse(l.to, route) != OCKAM_OK
        || ockam_tcp_init(l.node, NULL) != OCKAM_OK
        || ockam_worker_start(l.node, "app", &wo, &l.app) != OCKAM_OK)
        return 70;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < WINDOW; i++)
        start_one(&l);
    ockam_node_run(l.node);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long mine = peak_rss_kb();
    kill(child, SIGTERM);
    long theirs = -1;
    if (read(result_pipe[0], &theirs, sizeof theirs) != sizeof theirs)
        theirs = -1;
    waitpid(child, NULL, 0);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"channels\": %zu, \"opened\": %zu, \"failed\": %zu, \"echoed\": %zu, "
           "\"seconds\": %.2f, \"first_error\": \"%s\", \"initiator_peak_rss_kb\": %ld, "
           "\"responder_peak_rss_kb\": %ld}\n",
        l.n, l.opened, l.failed, l.echoed, secs, l.first_error ? ockam_strerror(l.first_error) : "",
        mine, theirs);
    ockam_route_free(l.to);
    ockam_node_free(l.node);
    return l.opened == l.n && l.echoed == l.n ? 0 : 1;
}
