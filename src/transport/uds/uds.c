/* Unix-domain-socket transport (address type 5, docs/wire.md §6.2): LEGACY framing only.
 * Listening sockets are created with mode 0600 and removed when the listener closes; the
 * connection engine is the one TCP uses (transport/stream.c).
 *
 * Paths of any length: a socket address holds at most 107 bytes of path, and a node's
 * api.sock under a deep home directory is longer. Such a path is bound and connected through
 * its directory instead: an O_PATH descriptor of the directory, named
 * /proc/self/fd/N/<file name> (no chdir, which would change the whole process; the socket
 * file is still created in, and reached through, its own directory with its permissions).
 * Everything else (lstat, chmod, unlink) takes the full path. */
#include "ockam/uds.h"
#include "transport/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static bool
path_fits(const char *path)
{
    return path && path[0] && strlen(path) < PATH_MAX;
}

static ockam_err
err_from_errno(int e)
{
    return ockam__err_from_uv(-e); /* libuv's UV_E* values are -errno on Unix */
}

/* The name to give bind/connect for path: the path itself when it fits a socket address,
 * else /proc/self/fd/N/<file name> with N an O_PATH descriptor of its directory (see the top
 * of the file). Close it with sock_name_done once the call is made. */
struct sock_name {
    char text[sizeof((struct sockaddr_un *)0)->sun_path];
    int dirfd;
};

static ockam_err
sock_name_open(const char *path, struct sock_name *sn)
{
    sn->dirfd = -1;
    size_t n = strlen(path);
    if (n < sizeof sn->text) {
        memcpy(sn->text, path, n + 1);
        return OCKAM_OK;
    }
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path || !slash[1])
        return OCKAM_EADDRINVAL;
    char *dir = ockam__strndup(path, (size_t)(slash - path));
    if (!dir)
        return OCKAM_ENOMEM;
    int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int e = errno;
    ockam__free(dir);
    if (fd < 0)
        return e == ENOENT ? OCKAM_ECONNREFUSED : err_from_errno(e);
    int len = snprintf(sn->text, sizeof sn->text, "/proc/self/fd/%d/%s", fd, slash + 1);
    if (len < 0 || (size_t)len >= sizeof sn->text) {
        close(fd);
        return OCKAM_EADDRINVAL; /* the file name alone is too long */
    }
    sn->dirfd = fd;
    return OCKAM_OK;
}

static void
sock_name_done(struct sock_name *sn)
{
    if (sn->dirfd >= 0)
        close(sn->dirfd);
    sn->dirfd = -1;
}

static void
fill_sun(struct sockaddr_un *sun, const struct sock_name *sn)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, sn->text, strlen(sn->text) + 1); /* fits: see sock_name_open */
}

/* A socket file nobody listens on any more is stale and may be replaced; anything else at
 * that path (a live socket, a regular file) is not ours to remove. */
static ockam_err
clear_stale(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT ? OCKAM_OK : err_from_errno(errno);
    if (!S_ISSOCK(sb.st_mode))
        return OCKAM_EADDRINUSE;
    struct sock_name sn;
    ockam_err err = sock_name_open(path, &sn);
    if (err)
        return err == OCKAM_ECONNREFUSED ? OCKAM_OK : err;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        sock_name_done(&sn);
        return err_from_errno(errno);
    }
    struct sockaddr_un sun;
    fill_sun(&sun, &sn);
    int rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
    int e = errno;
    close(fd);
    sock_name_done(&sn);
    if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
        return OCKAM_EADDRINUSE;
    if (e != ECONNREFUSED)
        return err_from_errno(e);
    return unlink(path) == 0 || errno == ENOENT ? OCKAM_OK : err_from_errno(errno);
}

/* Bind with the final mode from the start: on Linux the socket file takes the mode of the
 * socket's inode, so there is no window in which another user could connect. */
static ockam_err
bind_private(const char *path, int *out)
{
    struct sock_name sn;
    ockam_err err = sock_name_open(path, &sn);
    if (err)
        return err == OCKAM_ECONNREFUSED ? err_from_errno(ENOENT) : err;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        sock_name_done(&sn);
        return err_from_errno(errno);
    }
    struct sockaddr_un sun;
    fill_sun(&sun, &sn);
    (void)fchmod(fd, 0600);
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
    int e = errno;
    sock_name_done(&sn);
    if (rc != 0) {
        close(fd);
        return err_from_errno(e);
    }
    if (chmod(path, 0600) != 0) {
        e = errno;
        unlink(path);
        close(fd);
        return err_from_errno(e);
    }
    *out = fd;
    return OCKAM_OK;
}

/* ---- kind ops ------------------------------------------------------------------------ */

static int
uds_handle_init(uv_loop_t *loop, union ockam__handle *h)
{
    return uv_pipe_init(loop, &h->pipe, 0);
}

static ockam_err
uds_check_peer(const char *peer)
{
    return path_fits(peer) ? OCKAM_OK : OCKAM_EADDRINVAL;
}

static void
on_connect(uv_connect_t *req, int status)
{
    ockam_conn *c = req->data;
    if (c->state == OCKAM__CONN_DEAD)
        return;
    /* No socket file at that path: for the caller that is a refused connection. */
    ockam__conn_connected(c, status == UV_ENOENT ? UV_ECONNREFUSED : status);
}

static ockam_err
uds_connect(ockam_conn *c)
{
    struct sock_name sn;
    ockam_err err = sock_name_open(c->peer, &sn);
    if (err)
        return err;
    /* libuv calls connect(2) right away: the directory descriptor may go after the call. */
    uv_pipe_connect(&c->creq, &c->io->pipe, sn.text, on_connect);
    sock_name_done(&sn);
    return OCKAM_OK;
}

static char *
uds_peer_name(ockam_conn *c, ockam_listener *l)
{
    return ockam__strdup(l->address); /* accepted Unix sockets have no name of their own */
}

static char *
uds_local_name(ockam_listener *l)
{
    return NULL; /* never asked: uds_listen passes the path */
}

static void
uds_listener_closed(ockam_listener *l)
{
    struct stat sb;
    /* Remove the file only if it is still the one this listener created. */
    if (lstat(l->address, &sb) == 0 && (uint64_t)sb.st_dev == l->kind_data[0]
        && (uint64_t)sb.st_ino == l->kind_data[1])
        unlink(l->address);
}

static const struct ockam__stream_kind uds_kind = {
    .type = OCKAM_TRANSPORT_UDS,
    .name = "uds",
    .handle_init = uds_handle_init,
    .connect = uds_connect,
    .check_peer = uds_check_peer,
    .tune = NULL,
    .peer_name = uds_peer_name,
    .local_name = uds_local_name,
    .listener_closed = uds_listener_closed,
};

/* ---- transport ops ------------------------------------------------------------------- */

static ockam_err
uds_init(void *self, ockam_node *node, const void *config)
{
    static const ockam_uds_config defaults = OCKAM_UDS_CONFIG_INIT;
    const ockam_uds_config *c = config ? config : &defaults;
    struct ockam__stream_config sc = {
        .write_high_water = c->write_high_water,
        .handshake_timeout_ms = c->handshake_timeout_ms,
        .default_profile = OCKAM_WIRE_LEGACY, /* the only framing Ockam's UDS speaks */
        .allowed_outgoing = c->allowed_outgoing,
        .allowed_outgoing_count = c->allowed_outgoing_count,
    };
    return ockam__stream_init(self, node, &uds_kind, &sc);
}

static ockam_err
uds_route(void *self, ockam_msg *msg)
{
    return ockam__stream_route(self, msg);
}

static void
uds_shutdown(void *self)
{
    ockam__stream_shutdown(self);
}

static void
uds_fini(void *self)
{
    ockam__stream_fini(self);
}

static const struct ockam__transport_ops uds_ops = {
    .type = OCKAM_TRANSPORT_UDS,
    .name = "uds",
    .size = sizeof(struct ockam__stream),
    .init = uds_init,
    .route = uds_route,
    .shutdown = uds_shutdown,
    .fini = uds_fini,
};

/* ---- public API ---------------------------------------------------------------------- */

ockam_err
ockam_uds_init(ockam_node *node, const ockam_uds_config *cfg)
{
    return ockam__transport_register(node, &uds_ops, cfg, NULL);
}

static struct ockam__stream *
uds_state(ockam_node *node, ockam_err *err)
{
    struct ockam__stream *st = ockam__transport_get(node, OCKAM_TRANSPORT_UDS);
    *err = OCKAM_OK;
    if (!st) {
        *err = ockam_uds_init(node, NULL);
        st = *err ? NULL : ockam__transport_get(node, OCKAM_TRANSPORT_UDS);
    }
    return st;
}

static ockam_err
listen_on_fd(ockam_listener *l, int fd, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0) {
        l->kind_data[0] = (uint64_t)sb.st_dev;
        l->kind_data[1] = (uint64_t)sb.st_ino;
    }
    int rc = uv_pipe_open(&l->io.pipe, fd);
    if (rc) {
        close(fd);
        unlink(path);
        ockam__listener_abort(l);
        return ockam__err_from_uv(rc);
    }
    return ockam__listener_start(l, path);
}

ockam_err
ockam_uds_listen(ockam_node *node, const char *path, ockam_listener **out)
{
    ockam_err err;
    int fd = -1;
    if (!path_fits(path))
        return OCKAM_EADDRINVAL;
    struct ockam__stream *st = uds_state(node, &err);
    if (!st)
        return err;
    if ((err = clear_stale(path)) != OCKAM_OK || (err = bind_private(path, &fd)) != OCKAM_OK)
        return err;
    ockam_listener *l = ockam__listener_new(st, OCKAM_WIRE_LEGACY);
    if (!l) {
        close(fd);
        unlink(path);
        return OCKAM_ENOMEM;
    }
    err = listen_on_fd(l, fd, path);
    if (!err && out)
        *out = l;
    return err;
}

ockam_err
ockam_uds_connect(ockam_node *node, const char *path, ockam_connect_cb cb, void *user)
{
    ockam_err err;
    if (!path_fits(path))
        return OCKAM_EADDRINVAL;
    struct ockam__stream *st = uds_state(node, &err);
    if (!st)
        return err;
    return ockam__stream_connect(st, path, OCKAM_WIRE_LEGACY, cb, user, NULL);
}
