/* LD_PRELOAD shim for BlueZ's controller emulator `btvirt -s` (test code, never linked into
 * libockam).
 *
 * 1. LE controllers call bt_crypto_new(), which opens AF_ALG sockets; a kernel without AF_ALG
 *    makes btvirt close every LE client at once. socket(AF_ALG) becomes a harmless AF_UNIX
 *    socket and bind() of an AF_ALG address succeeds. The emulator then has no real AES
 *    (no LE encryption, SMP or private addresses), which our host never asks for.
 * 2. btvirt 5.66 always creates its server sockets as /tmp/bt-server-*. With BTVIRT_DIR set,
 *    bind() and unlink() of those paths are redirected into that directory, so concurrent
 *    test runs each get their own emulator and never touch each other's sockets.
 * 3. With BTVIRT_READY_FD set, one byte is written to that descriptor once the LE server
 *    socket listens: the launcher waits for it instead of polling. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef AF_ALG
#define AF_ALG 38
#endif

static const char prefix[] = "/tmp/bt-server-";
static int le_fd = -1;

/* The redirected path for a /tmp/bt-server-* path, or NULL to leave it alone. */
static const char *
redirect(const char *path, char *out, size_t cap)
{
    const char *dir = getenv("BTVIRT_DIR");
    if (!dir || strncmp(path, prefix, sizeof prefix - 1) != 0)
        return NULL;
    int n = snprintf(out, cap, "%s/%s", dir, path + 5);
    return n > 0 && (size_t)n < cap ? out : NULL;
}

int
socket(int domain, int type, int protocol)
{
    int (*real)(int, int, int) = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
    if (domain == AF_ALG)
        return real(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    return real(domain, type, protocol);
}

int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    int (*real)(int, const struct sockaddr *, socklen_t)
        = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
    if (sa && sa->sa_family == AF_ALG)
        return 0;
    if (sa && sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
        struct sockaddr_un copy = *sun;
        if (redirect(sun->sun_path, copy.sun_path, sizeof copy.sun_path)) {
            if (strstr(sun->sun_path, "-le"))
                le_fd = fd;
            return real(fd, (const struct sockaddr *)&copy, sizeof copy);
        }
    }
    return real(fd, sa, len);
}

int
listen(int fd, int backlog)
{
    int (*real)(int, int) = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
    int rc = real(fd, backlog);
    const char *ready = getenv("BTVIRT_READY_FD");
    if (rc == 0 && fd == le_fd && ready) {
        int rfd = atoi(ready);
        (void)!write(rfd, "L", 1);
        close(rfd);
    }
    return rc;
}

int
unlink(const char *path)
{
    int (*real)(const char *) = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
    const char *p = redirect(path, buf, sizeof buf);
    return real(p ? p : path);
}
