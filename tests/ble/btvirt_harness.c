/* See btvirt_harness.h. */

#include "btvirt_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BTVIRT_SHIM
#error "BTVIRT_SHIM must name the shim library"
#endif

static pid_t child = -1;
static char dir[64];
static char spec[128];

static const char *
find_btvirt(void)
{
    static char path[512];
    const char *env = getenv("PATH");
    char *copy = strdup(env ? env : "/usr/bin:/usr/sbin:/bin");
    const char *found = NULL;
    for (char *save = NULL, *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        snprintf(path, sizeof path, "%s/btvirt", p);
        if (access(path, X_OK) == 0) {
            found = path;
            break;
        }
    }
    free(copy);
    return found;
}

static void
remove_dir(void)
{
    static const char *const names[] = {"bredrle", "bredr", "amp", "le", "mon"};
    char p[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/bt-server-%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    dir[0] = 0;
}

void
bv_stop(void)
{
    if (child > 0) {
        kill(child, SIGTERM);
        waitpid(child, NULL, 0);
        child = -1;
    }
    if (dir[0])
        remove_dir();
}

static void
die(const char *what)
{
    fprintf(stderr, "btvirt harness: %s: %s\n", what, strerror(errno));
    bv_stop();
    abort();
}

static void
exec_child(const char *btvirt, int ready_fd)
{
    char fdtext[16];
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* btvirt writes to clients that may have just closed; without this, SIGPIPE kills it
     * (and every controller with it). An ignored disposition survives exec. */
    signal(SIGPIPE, SIG_IGN);
    snprintf(fdtext, sizeof fdtext, "%d", ready_fd);
    setenv("LD_PRELOAD", BTVIRT_SHIM, 1);
    setenv("BTVIRT_DIR", dir, 1);
    setenv("BTVIRT_READY_FD", fdtext, 1);
    /* OCKAM_BTVIRT_LOG=path keeps the emulator's output (debugging). */
    const char *log = getenv("OCKAM_BTVIRT_LOG");
    int null = log ? open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600) : open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, 1);
        dup2(null, 2);
    }
    if (getenv("OCKAM_BTVIRT_DEBUG"))
        execl(btvirt, "btvirt", "-d", "-s", (char *)NULL);
    execl(btvirt, "btvirt", "-s", (char *)NULL);
    _exit(127);
}

const char *
bv_controller(void)
{
    if (child > 0)
        return spec;
    const char *btvirt = find_btvirt();
    if (!btvirt)
        return NULL;
    snprintf(dir, sizeof dir, "/tmp/ockam-btvirt-XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp");
    int fds[2];
    if (pipe(fds) != 0)
        die("pipe");
    child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        close(fds[0]);
        exec_child(btvirt, fds[1]);
    }
    close(fds[1]);
    atexit(bv_stop);
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    char c;
    if (poll(&p, 1, 10000) != 1 || read(fds[0], &c, 1) != 1) {
        errno = ETIMEDOUT;
        die("btvirt did not start listening");
    }
    close(fds[0]);
    snprintf(spec, sizeof spec, "unix:%s/bt-server-le", dir);
    return spec;
}
