/* Several nodes and raw sockets in one test thread (see nodes.h). */
#include "nodes.h"

#include "core/core.h"
#include "node/node_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_POLL_MS 20

static ockam_node *nodes[TN_MAX_NODES];
static size_t n_nodes;

uint64_t
tn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

ockam_node *
tn_node_new(void)
{
    assert_true(n_nodes < TN_MAX_NODES);
    ockam_node *n = ockam_node_new();
    assert_non_null(n);
    nodes[n_nodes++] = n;
    return n;
}

void
tn_free_all(void)
{
    while (n_nodes > 0)
        ockam_node_free(nodes[--n_nodes]);
}

int
tn_teardown(void **state)
{
    (void)state;
    tn_free_all();
    return 0;
}

void
tn_node_free(ockam_node *node)
{
    for (size_t i = 0; i < n_nodes; i++) {
        if (nodes[i] == node) {
            memmove(&nodes[i], &nodes[i + 1], (n_nodes - i - 1) * sizeof nodes[0]);
            n_nodes--;
            ockam_node_free(node);
            return;
        }
    }
    fail_msg("tn_node_free: not a registered node");
}

static void
turn_all(void)
{
    for (size_t i = 0; i < n_nodes; i++)
        ockam_node_run_nowait(nodes[i]);
}

/* Block until a loop or the extra descriptor has something, at most max_ms. */
static void
wait_events(int extra_fd, short extra_events, int max_ms)
{
    struct pollfd fds[TN_MAX_NODES + 1];
    int timeout = max_ms;
    nfds_t n = 0;
    for (size_t i = 0; i < n_nodes; i++) {
        uv_loop_t *loop = ockam__node_loop(nodes[i]);
        int t = uv_backend_timeout(loop);
        if (t >= 0 && t < timeout)
            timeout = t;
        fds[n++] = (struct pollfd) {.fd = uv_backend_fd(loop), .events = POLLIN};
    }
    if (extra_fd >= 0)
        fds[n++] = (struct pollfd) {.fd = extra_fd, .events = extra_events};
    if (timeout > 0)
        (void)poll(fds, n, timeout);
}

static bool
wait_loop(bool (*cond)(void *), void *arg, uint64_t timeout_ms, int fd, short events)
{
    uint64_t deadline = tn_now_ms() + timeout_ms;
    for (;;) {
        turn_all();
        if (cond(arg))
            return true;
        uint64_t now = tn_now_ms();
        if (now >= deadline)
            return false;
        uint64_t left = deadline - now;
        wait_events(fd, events, left < MAX_POLL_MS ? (int)left : MAX_POLL_MS);
    }
}

bool
tn_wait(bool (*cond)(void *arg), void *arg, uint64_t timeout_ms)
{
    return wait_loop(cond, arg, timeout_ms, -1, 0);
}

void
tn_drain(void)
{
    for (int i = 0; i < 1000; i++) {
        bool busy = false;
        for (size_t k = 0; k < n_nodes; k++) {
            ockam_node_run_nowait(nodes[k]);
            busy |= uv_backend_timeout(ockam__node_loop(nodes[k])) == 0;
        }
        if (!busy)
            return;
    }
}

/* ---- one node the test made itself ------------------------------------------------------ */

struct deadline {
    bool expired;
};

static void
deadline_cb(ockam_timer *t, void *user)
{
    ((struct deadline *)user)->expired = true;
}

bool
tn_run_until(ockam_node *node, bool (*cond)(void *arg), void *arg, uint64_t timeout_ms)
{
    struct deadline d = {false};
    ockam_timer *t = NULL;
    assert_int_equal(ockam_timer_start(node, timeout_ms, 0, deadline_cb, &d, &t), OCKAM_OK);
    while (!cond(arg) && !d.expired)
        ockam_node_run_once(node);
    ockam_timer_stop(t);
    ockam_node_run_nowait(node); /* let the timer's close callback run */
    return cond(arg);
}

void
tn_drain_node(ockam_node *node)
{
    /* Each turn delivers a batch; a handful of turns empties any test's queue. */
    for (int i = 0; i < 10000 && ockam_node_run_nowait(node); i++)
        ;
}

/* ---- text ------------------------------------------------------------------------------ */

size_t
tn_hex(const char *text, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = text; *p;) {
        if (*p == ' ' || *p == '\n') {
            p++;
            continue;
        }
        size_t one;
        assert_true(n < cap && p[1]);
        assert_true(ockam__hex_decode(p, 2, &out[n++], 1, &one));
        p += 2;
    }
    return n;
}

/* ---- probes -------------------------------------------------------------------------- */

struct tn_probe {
    ockam_worker *worker;
    char address[OCKAM_MAX_ADDR_LEN + 1];
    ockam_msg **msgs;
    size_t head, count, cap, total;
};

static void
probe_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    tn_probe *p = user;
    if (p->head + p->count == p->cap) {
        if (p->head > 0) {
            memmove(p->msgs, p->msgs + p->head, p->count * sizeof *p->msgs);
            p->head = 0;
        } else {
            p->cap = p->cap ? p->cap * 2 : 16;
            p->msgs = realloc(p->msgs, p->cap * sizeof *p->msgs);
            assert_non_null(p->msgs);
        }
    }
    p->msgs[p->head + p->count++] = msg;
    p->total++;
}

static void
probe_on_stop(ockam_worker *w, void *user)
{
    tn_probe *p = user;
    for (size_t i = 0; i < p->count; i++)
        ockam_msg_free(p->msgs[p->head + i]);
    free(p->msgs);
    free(p);
}

tn_probe *
tn_probe_start(ockam_node *node, const char *address)
{
    tn_probe *p = calloc(1, sizeof *p);
    assert_non_null(p);
    ockam_worker_opts o = {.on_message = probe_on_message, .on_stop = probe_on_stop, .user = p};
    assert_int_equal(ockam_worker_start(node, address, &o, &p->worker), OCKAM_OK);
    ockam_addr a = ockam_worker_addr(p->worker);
    memcpy(p->address, a.bytes, a.len);
    p->address[a.len] = '\0';
    return p;
}

ockam_worker *
tn_probe_worker(tn_probe *p)
{
    return p->worker;
}

const char *
tn_probe_address(const tn_probe *p)
{
    return p->address;
}

size_t
tn_probe_count(const tn_probe *p)
{
    return p->count;
}

size_t
tn_probe_total(const tn_probe *p)
{
    return p->total;
}

static bool
probe_has(void *arg)
{
    return ((tn_probe *)arg)->count > 0;
}

ockam_msg *
tn_probe_wait(tn_probe *p, uint64_t timeout_ms)
{
    if (!tn_wait(probe_has, p, timeout_ms))
        return NULL;
    ockam_msg *m = p->msgs[p->head++];
    p->count--;
    return m;
}

struct total_arg {
    tn_probe *p;
    size_t total;
};

static bool
probe_total_reached(void *arg)
{
    struct total_arg *t = arg;
    return t->p->total >= t->total;
}

bool
tn_probe_wait_total(tn_probe *p, size_t total, uint64_t timeout_ms)
{
    struct total_arg t = {p, total};
    return tn_wait(probe_total_reached, &t, timeout_ms);
}

/* ---- TCP helpers --------------------------------------------------------------------- */

ockam_listener *
tn_tcp_listen(ockam_node *node, ockam_wire_profile profile)
{
    ockam_listener *l = NULL;
    ockam_tcp_listen_opts o = {.profile = profile};
    assert_int_equal(ockam_tcp_listen(node, "127.0.0.1:0", &o, &l), OCKAM_OK);
    assert_non_null(l);
    return l;
}

struct connect_result {
    bool done;
    ockam_err status;
    ockam_conn *conn;
};

static void
connect_done(ockam_conn *conn, ockam_err status, void *user)
{
    struct connect_result *r = user;
    r->done = true;
    r->status = status;
    r->conn = conn;
}

static bool
connect_finished(void *arg)
{
    return ((struct connect_result *)arg)->done;
}

ockam_conn *
tn_tcp_connect(ockam_node *node, const char *host_port, ockam_wire_profile profile)
{
    struct connect_result r = {0};
    ockam_tcp_connect_opts o = {.profile = profile};
    assert_int_equal(ockam_tcp_connect(node, host_port, &o, connect_done, &r), OCKAM_OK);
    assert_true(tn_wait(connect_finished, &r, 5000));
    assert_int_equal(r.status, OCKAM_OK);
    assert_non_null(r.conn);
    return r.conn;
}

static void
count_conn(ockam_conn *c, void *arg)
{
    (*(size_t *)arg)++;
}

size_t
tn_conn_count(ockam_node *node)
{
    size_t n = 0;
    ockam_conn_each(node, count_conn, &n);
    return n;
}

static void
find_accepted(ockam_conn *c, void *arg)
{
    ockam_conn **out = arg;
    if (!ockam_conn_is_outgoing(c)) {
        assert_null(*out);
        *out = c;
    }
}

ockam_conn *
tn_only_accepted(ockam_node *node)
{
    ockam_conn *c = NULL;
    ockam_conn_each(node, find_accepted, &c);
    assert_non_null(c);
    return c;
}

uint16_t
tn_dead_port(void)
{
    uint16_t port = 0;
    int fd = tn_raw_listen(&port);
    close(fd);
    return port;
}

/* printf into a new buffer of the right size (routes of 1000 hops are long). Caller frees. */
static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *
vformat(const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    assert_true(n >= 0);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    vsnprintf(text, (size_t)n + 1, fmt, again);
    va_end(again);
    return text;
}

ockam_route *
tn_route(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = vformat(fmt, ap);
    va_end(ap);
    ockam_route *r = ockam_route_new();
    assert_non_null(r);
    assert_int_equal(ockam_route_parse(r, text), OCKAM_OK);
    free(text);
    return r;
}

void
tn_assert_route(const ockam_route *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = vformat(fmt, ap);
    va_end(ap);
    char *s = ockam_route_to_string(r);
    assert_non_null(s);
    assert_string_equal(s, text);
    ockam_free(s);
    free(text);
}

ockam_err
tn_send(ockam_worker *from, const char *route_text, const void *data, size_t len)
{
    ockam_route *r = tn_route("%s", route_text);
    ockam_err err = ockam_send_to(from, r, data, len);
    ockam_route_free(r);
    return err;
}

/* ---- log capture --------------------------------------------------------------------- */

#define MAX_LOG_LINES 256

static char *log_lines[MAX_LOG_LINES];
static size_t n_log_lines;

static void
capture_line(ockam_log_level level, const char *line, void *user)
{
    fprintf(stderr, "[log %d] %s\n", (int)level, line);
    if (level <= OCKAM_LOG_WARN && n_log_lines < MAX_LOG_LINES) {
        log_lines[n_log_lines] = strdup(line);
        assert_non_null(log_lines[n_log_lines]);
        n_log_lines++;
    }
}

void
tn_log_capture(void)
{
    tn_log_release();
    ockam_log_set_handler(capture_line, NULL);
}

size_t
tn_log_count(const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < n_log_lines; i++)
        n += !text || strstr(log_lines[i], text) != NULL;
    return n;
}

void
tn_log_release(void)
{
    ockam_log_set_handler(NULL, NULL);
    while (n_log_lines > 0)
        free(log_lines[--n_log_lines]);
}

/* ---- raw sockets --------------------------------------------------------------------- */

static void
set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    assert_true(fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
}

int
tn_raw_connect(const char *host_port)
{
    char host[64];
    const char *colon = strrchr(host_port, ':');
    assert_non_null(colon);
    snprintf(host, sizeof host, "%.*s", (int)(colon - host_port), host_port);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    assert_int_equal(inet_pton(AF_INET, host, &sa.sin_addr), 1);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    /* Loopback connects complete in the kernel (listen backlog), the node need not run. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    set_nonblocking(fd);
    return fd;
}

int
tn_raw_connect_unix(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    assert_true(strlen(path) < sizeof sun.sun_path);
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
        close(fd);
        return -1;
    }
    set_nonblocking(fd);
    return fd;
}

int
tn_raw_listen(uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 128), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    set_nonblocking(fd);
    *port = ntohs(sa.sin_port);
    return fd;
}

struct raw_io {
    int fd;
    uint8_t *buf;
    size_t len, done;
    bool failed, eof;
};

static bool
raw_accept_step(void *arg)
{
    struct raw_io *io = arg;
    int fd = accept4(io->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
        io->done = (size_t)fd + 1;
        return true;
    }
    return false;
}

int
tn_raw_accept(int lfd, uint64_t timeout_ms)
{
    struct raw_io io = {.fd = lfd};
    if (!wait_loop(raw_accept_step, &io, timeout_ms, lfd, POLLIN))
        return -1;
    return (int)io.done - 1;
}

static bool
raw_send_step(void *arg)
{
    struct raw_io *io = arg;
    while (io->done < io->len) {
        ssize_t n = send(io->fd, io->buf + io->done, io->len - io->done, MSG_NOSIGNAL);
        if (n > 0) {
            io->done += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return false;
        io->failed = true;
        return true;
    }
    return true;
}

bool
tn_raw_send(int fd, const void *buf, size_t len, uint64_t timeout_ms)
{
    struct raw_io io = {.fd = fd, .buf = (uint8_t *)buf, .len = len};
    return wait_loop(raw_send_step, &io, timeout_ms, fd, POLLOUT) && !io.failed;
}

static bool
raw_recv_step(void *arg)
{
    struct raw_io *io = arg;
    while (io->done < io->len) {
        ssize_t n = recv(io->fd, io->buf + io->done, io->len - io->done, 0);
        if (n > 0) {
            io->done += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return false;
        io->eof = true;
        return true;
    }
    return true;
}

bool
tn_raw_recv(int fd, void *buf, size_t len, uint64_t timeout_ms)
{
    struct raw_io io = {.fd = fd, .buf = buf, .len = len};
    return wait_loop(raw_recv_step, &io, timeout_ms, fd, POLLIN) && !io.eof;
}

static bool
raw_closed_step(void *arg)
{
    struct raw_io *io = arg;
    uint8_t junk[4096];
    for (;;) {
        ssize_t n = recv(io->fd, junk, sizeof junk, 0);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return false;
        return true; /* 0 = EOF, or an error such as ECONNRESET */
    }
}

bool
tn_raw_wait_closed(int fd, uint64_t timeout_ms)
{
    struct raw_io io = {.fd = fd};
    return wait_loop(raw_closed_step, &io, timeout_ms, fd, POLLIN);
}

void
tn_raw_reset(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

size_t
tn_raw_pending(int fd)
{
    int n = 0;
    if (ioctl(fd, FIONREAD, &n) != 0 || n < 0)
        return 0;
    return (size_t)n;
}

void
tn_raw_local_name(int fd, char *out, size_t cap)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    char ip[INET_ADDRSTRLEN];
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    assert_non_null(inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip));
    snprintf(out, cap, "%s:%u", ip, ntohs(sa.sin_port));
}
