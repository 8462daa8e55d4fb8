/* Background node processes (see spawn.h). */
#include "cli/spawn.h"

#include "cli/output.h"
#include "cli/state.h"
#include "cli/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* A node that has not reported within this time is reported as failed. */
#define STARTUP_TIMEOUT_MS 30000u
#define MAX_VERBOSITY 3
/* A report is a few hundred bytes; anything near this is not a report. */
#define MAX_REPORT (1u << 20)

/* ---- waiting on locks ------------------------------------------------------------------- */

static void
on_alarm(int sig)
{
    (void)sig;
}

static struct timeval
tv_of_ms(unsigned ms)
{
    return (struct timeval) {.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
}

bool
lock_wait(int fd, int op, unsigned timeout_ms)
{
    if (flock(fd, op | LOCK_NB) == 0)
        return true;
    if (errno != EWOULDBLOCK || timeout_ms == 0)
        return false;
    /* A blocking flock interrupted by a timer: no polling. Without SA_RESTART the signal makes
     * flock fail with EINTR. The interval re-arms the timer, so an alarm that fires just
     * before flock starts to block cannot leave it blocked for good. */
    struct sigaction sa = {.sa_handler = on_alarm}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old);
    struct itimerval it = {.it_value = tv_of_ms(timeout_ms), .it_interval = tv_of_ms(20)};
    struct itimerval off = {0};
    setitimer(ITIMER_REAL, &it, NULL);
    int rc = flock(fd, op);
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    return rc == 0;
}

/* ---- starting --------------------------------------------------------------------------- */

/* The grandchild: detach from the terminal and the CLI, then become the node. Never returns. */
static void
become_node(int report_fd, const char *log, const char *errlog, char **argv)
{
    /* Park the report pipe above the standard descriptors before rearranging them. */
    int keep = fcntl(report_fd, F_DUPFD_CLOEXEC, 10);
    int devnull = open("/dev/null", O_RDONLY);
    int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    int errfd = open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (keep < 0 || devnull < 0 || logfd < 0 || errfd < 0)
        _exit(127);
    dup2(devnull, STDIN_FILENO);
    dup2(logfd, STDOUT_FILENO);
    dup2(errfd, STDERR_FILENO);
    dup2(keep, SPAWN_READY_FD); /* dup2 clears close-on-exec on the copy */
    execv(argv[0], argv);
    dprintf(SPAWN_READY_FD, "{\"status\":\"error\",\"error\":\"Cannot run %s: %s.\"}\n", argv[0],
        strerror(errno));
    _exit(127);
}

/* Read the node's report until EOF (the node closes its end) or the deadline. */
static json_t *
read_report(int fd, unsigned timeout_ms)
{
    strbuf sb = {0};
    char buf[4096];
    uint64_t deadline = now_ms() + timeout_ms;
    while (sb.len < MAX_REPORT) {
        uint64_t now = now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = now < deadline ? poll(&p, 1, (int)(deadline - now)) : 0;
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        sb_printf(&sb, "%.*s", (int)r, buf);
    }
    char *text = sb_take(&sb);
    json_error_t err;
    json_t *report = text[0] ? json_loads(text, 0, &err) : NULL;
    free(text);
    return report;
}

/* The last non-empty line of the node's log, to explain a node that died silently. */
static char *
last_log_line(const char *log)
{
    char *text = read_file(log, NULL);
    if (!text)
        return NULL;
    size_t len = strlen(text);
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    char *start = strrchr(text, '\n');
    char *line = len ? xstrdup(start ? start + 1 : text) : NULL;
    free(text);
    return line;
}

static int
report_failure(const char *name, json_t *report, const char *log)
{
    const char *error = json_string_value(json_object_get(report, "error"));
    const char *hint = json_string_value(json_object_get(report, "hint"));
    char *log_hint = xasprintf("See the node's log: %s", log);
    if (error) {
        out_error(EXIT_RUNTIME, hint && hint[0] ? hint : log_hint, "%s", error);
    } else if (report) {
        out_error(EXIT_RUNTIME, log_hint, "Node %s sent an unexpected startup report.", name);
    } else {
        char *last = last_log_line(log);
        out_error(EXIT_RUNTIME, log_hint, "Node %s stopped during startup%s%s", name,
            last ? ": " : ".", last ? last : "");
        free(last);
    }
    free(log_hint);
    return EXIT_RUNTIME;
}

static char **
child_argv(const char *exe, const char *name, int verbosity)
{
    char **argv = xmalloc((10 + MAX_VERBOSITY) * sizeof *argv);
    int i = 0;
    argv[i++] = (char *)exe;
    argv[i++] = "node";
    argv[i++] = "create";
    argv[i++] = (char *)name;
    argv[i++] = "--foreground";
    argv[i++] = "--child-process";
    argv[i++] = "--home";
    argv[i++] = (char *)state_home();
    for (int v = 0; v < verbosity && v < MAX_VERBOSITY; v++)
        argv[i++] = "-v";
    argv[i] = NULL;
    return argv;
}

int
spawn_node(const char *name, int verbosity, json_t **ready)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    int fds[2];
    if (len <= 0 || pipe2(fds, O_CLOEXEC) != 0)
        return out_error(EXIT_RUNTIME, NULL, "Cannot start a node process: %s.", strerror(errno));
    exe[len] = '\0';
    char *log = state_node_path(name, STATE_LOG_FILE);
    char *errlog = state_node_path(name, STATE_ERR_FILE);
    char **argv = child_argv(exe, name, verbosity);

    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        /* A new session, then a second fork: the node is no session leader, so it can never
         * get a controlling terminal, and init (or the nearest subreaper) adopts it. */
        setsid();
        pid_t node = fork();
        if (node == 0)
            become_node(fds[1], log, errlog, argv);
        _exit(node < 0 ? 1 : 0);
    }
    close(fds[1]);
    free(argv);
    if (pid < 0) {
        close(fds[0]);
        free(log);
        free(errlog);
        return out_error(EXIT_RUNTIME, NULL, "Cannot start a node process: %s.", strerror(errno));
    }
    waitpid(pid, NULL, 0); /* the intermediate process: exits at once */
    json_t *report = read_report(fds[0], STARTUP_TIMEOUT_MS);
    close(fds[0]);
    const char *status = json_string_value(json_object_get(report, "status"));
    int code = EXIT_OK;
    if (status && strcmp(status, "ready") == 0)
        *ready = json_incref(report);
    else
        code = report_failure(name, report, log);
    json_decref(report);
    free(log);
    free(errlog);
    return code;
}

/* ---- stopping --------------------------------------------------------------------------- */

/* Wait until the node releases its lock (it has exited) or the deadline passes. */
static bool
wait_stopped(const char *name, uint64_t deadline)
{
    char *path = state_node_path(name, "lock");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return true;
    uint64_t now = now_ms();
    bool ok = lock_wait(fd, LOCK_SH, now < deadline ? (unsigned)(deadline - now) : 0);
    close(fd);
    return ok;
}

static void
signal_running(char *const *names, size_t n, bool *down, int sig)
{
    for (size_t i = 0; i < n; i++) {
        pid_t pid;
        if (down[i])
            continue;
        if (!state_node_running(names[i], &pid))
            down[i] = true;
        else if (pid > 0)
            kill(pid, sig);
    }
}

static void
wait_all(char *const *names, size_t n, bool *down)
{
    uint64_t deadline = now_ms() + STOP_GRACE_MS;
    for (size_t i = 0; i < n; i++) {
        if (!down[i])
            down[i] = wait_stopped(names[i], deadline);
    }
}

size_t
stop_nodes(char *const *names, size_t n, bool *stopped)
{
    bool *down = xmalloc((n ? n : 1) * sizeof *down);
    memset(down, 0, (n ? n : 1) * sizeof *down);
    signal_running(names, n, down, SIGTERM);
    wait_all(names, n, down);
    signal_running(names, n, down, SIGKILL);
    wait_all(names, n, down);
    size_t left = 0;
    for (size_t i = 0; i < n; i++) {
        if (down[i]) {
            char *pid = state_node_path(names[i], "pid");
            unlink(pid);
            free(pid);
        } else {
            left++;
        }
        if (stopped)
            stopped[i] = down[i];
    }
    free(down);
    return left;
}

/* ---- orphans ---------------------------------------------------------------------------- */

/* The node name in a background node's command line, when it belongs to this OCKAM_HOME. */
static bool
orphan_name(const char *cmdline, size_t len, char *name, size_t cap)
{
    const char *args[16];
    size_t n = 0;
    for (size_t off = 0; off < len && n < 16; off += strlen(cmdline + off) + 1)
        args[n++] = cmdline + off;
    bool child = false, home = false;
    const char *node = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(args[i], "--child-process") == 0)
            child = true;
        if (strcmp(args[i], "--home") == 0 && i + 1 < n && strcmp(args[i + 1], state_home()) == 0)
            home = true;
        if (strcmp(args[i], "create") == 0 && i + 1 < n)
            node = args[i + 1];
    }
    if (!child || !home || !node || strlen(node) >= cap)
        return false;
    strcpy(name, node);
    return true;
}

static void
kill_and_wait(pid_t pid)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    kill(pid, SIGKILL);
    if (pidfd < 0)
        return;
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    poll(&p, 1, STOP_GRACE_MS); /* readable once the process has exited */
    close(pidfd);
}

size_t
kill_orphans(void)
{
    DIR *d = opendir("/proc");
    size_t killed = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == getpid())
            continue;
        char path[64], name[80];
        size_t len;
        snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
        char *cmdline = read_file(path, &len);
        if (cmdline && orphan_name(cmdline, len, name, sizeof name) && !state_node_exists(name)) {
            kill_and_wait((pid_t)pid);
            killed++;
        }
        free(cmdline);
    }
    if (d)
        closedir(d);
    return killed;
}
