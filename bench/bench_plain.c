/* Plain TCP baselines: length-prefixed frames (u32 big-endian length + payload, the same
 * framing as Ockam's CURRENT profile minus the routing body) over blocking sockets, with
 * batched writes; an epoll byte relay; and a bulk byte stream for the portal comparison.
 *
 * Roles (arguments are key=value; see bench_util.h for the protocol with the runner):
 *   sink                          accept one connection, count frames until the end marker
 *   source port= size= secs=      send frames of `size` bytes for `secs`, batched in 256 KiB
 *                                 writes, then the end marker
 *   echo                          accept one connection, write every frame back
 *   ping port= size= secs=        ping-pong one frame at a time, report p50/p99
 *   relay to=                     epoll relay: connect to 127.0.0.1:to, accept one connection
 *                                 and copy bytes both ways
 *   bulk-sink                     accept one connection, read until EOF, report bytes/s
 *   bulk-source port= mib=        write mib MiB, then close
 *   socat to=                     listen; accept one connection, then become
 *                                 `socat -b 131072 FD:3 TCP:127.0.0.1:to` (socat relays it) */
#include "bench_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH (256u * 1024u)
#define RBUF (256u * 1024u)

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void
nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Listen on 127.0.0.1:0; returns the socket and sets *port. */
static int
listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0
        || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        bench_die("listen: %s", strerror(errno));
    *port = ntohs(a.sin_port);
    return fd;
}

static int
accept_one(int lfd)
{
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        bench_die("accept: %s", strerror(errno));
    close(lfd);
    nodelay(fd);
    return fd;
}

static int
connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        .sin_port = htons((uint16_t)port)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        bench_die("connect to %d: %s", port, strerror(errno));
    nodelay(fd);
    return fd;
}

static void
write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            bench_die("write: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

/* Read exactly n bytes; false on EOF before the first byte. */
static int
read_full(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            bench_die("read: %s", strerror(errno));
        if (r == 0) {
            if (got == 0)
                return 0;
            bench_die("read: EOF inside a frame");
        }
        got += (size_t)r;
    }
    return 1;
}

/* ---- one-way throughput ----------------------------------------------------------------- */

static int
role_sink(int argc, char **argv)
{
    int port, lfd = listen_any(&port);
    bench_ready(port);
    int fd = accept_one(lfd);
    uint8_t *buf = malloc(RBUF);
    size_t len = 0;
    uint64_t msgs = 0, bytes = 0, t0 = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, RBUF - len);
        if (r <= 0)
            bench_die("sink: connection ended before the end marker");
        if (t0 == 0)
            t0 = bench_now_ns();
        len += (size_t)r;
        size_t off = 0;
        while (len - off >= 4) {
            uint32_t n = get32(buf + off);
            if (n > RBUF - 4)
                bench_die("sink: frame too large");
            if (len - off < 4 + (size_t)n)
                break;
            if (n == BENCH_END_SIZE) {
                bench_report_thr(msgs, bytes, bench_now_ns() - t0);
                return 0;
            }
            msgs++;
            bytes += n;
            off += 4 + n;
        }
        memmove(buf, buf + off, len - off);
        len -= off;
    }
}

static int
role_source(int argc, char **argv)
{
    size_t size = (size_t)bench_arg_long(argc, argv, "size", 256);
    double secs = bench_arg_double(argc, argv, "secs", 0.5);
    int fd = connect_to((int)bench_arg_long(argc, argv, "port", 0));
    uint8_t *payload = bench_payload(size);
    size_t cap = BATCH > size + 4 ? BATCH : size + 4;
    uint8_t *batch = malloc(cap);
    uint64_t end = bench_now_ns() + (uint64_t)(secs * 1e9);
    do {
        size_t len = 0;
        while (len + 4 + size <= cap) {
            put32(batch + len, (uint32_t)size);
            memcpy(batch + len + 4, payload, size);
            len += 4 + size;
        }
        write_all(fd, batch, len);
    } while (bench_now_ns() < end);
    put32(batch, BENCH_END_SIZE);
    batch[4] = 'E';
    write_all(fd, batch, 4 + BENCH_END_SIZE);
    shutdown(fd, SHUT_WR);
    while (read(fd, batch, cap) > 0) { }
    close(fd);
    return 0;
}

/* ---- request/reply ------------------------------------------------------------------------ */

static int
role_echo(int argc, char **argv)
{
    int port, lfd = listen_any(&port);
    bench_ready(port);
    int fd = accept_one(lfd);
    uint8_t *buf = malloc(RBUF);
    for (;;) {
        if (!read_full(fd, buf, 4))
            return 0;
        uint32_t n = get32(buf);
        if (n > RBUF - 4)
            bench_die("echo: frame too large");
        if (!read_full(fd, buf + 4, n))
            bench_die("echo: EOF inside a frame");
        write_all(fd, buf, 4 + n);
    }
}

static int
role_ping(int argc, char **argv)
{
    size_t size = (size_t)bench_arg_long(argc, argv, "size", 16);
    double secs = bench_arg_double(argc, argv, "secs", 0.3);
    int fd = connect_to((int)bench_arg_long(argc, argv, "port", 0));
    uint8_t *out = malloc(4 + size), *in = malloc(4 + size);
    put32(out, (uint32_t)size);
    memcpy(out + 4, bench_payload(size), size);
    struct bench_lat lat;
    bench_lat_init(&lat, 1000000);
    uint64_t start = bench_now_ns(), end = start + (uint64_t)(secs * 1e9);
    for (long i = 0;; i++) {
        uint64_t t = bench_now_ns();
        write_all(fd, out, 4 + size);
        if (!read_full(fd, in, 4 + size) || get32(in) != size)
            bench_die("ping: bad reply");
        uint64_t now = bench_now_ns();
        if (i >= 200 && !bench_lat_add(&lat, now - t)) /* the first 200 warm up */
            break;
        if (now >= end && lat.n >= 1000)
            break;
    }
    close(fd);
    bench_lat_report(&lat);
    return 0;
}

/* ---- epoll relay ----------------------------------------------------------------------- */

struct pipe_dir {
    int from, to;
    uint8_t *buf;
    size_t len, off;
    int eof;
};

static void
set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Move bytes from d->from to d->to until one side would block or the read came up short
 * (level-triggered epoll reports the socket again if more arrived). Returns -1 when done. */
static int
pump(struct pipe_dir *d)
{
    for (;;) {
        while (d->off < d->len) {
            ssize_t w = write(d->to, d->buf + d->off, d->len - d->off);
            if (w < 0 && errno == EAGAIN)
                return 0;
            if (w < 0)
                return -1;
            d->off += (size_t)w;
        }
        size_t last = d->len;
        d->off = d->len = 0;
        if (d->eof)
            return -1;
        if (last > 0 && last < RBUF)
            return 0;
        ssize_t r = read(d->from, d->buf, RBUF);
        if (r < 0 && errno == EAGAIN)
            return 0;
        if (r <= 0) {
            d->eof = 1;
            shutdown(d->to, SHUT_WR);
            return -1;
        }
        d->len = (size_t)r;
    }
}

/* What a socket waits for: readable while its outgoing direction has nothing pending,
 * writable while the other direction has bytes stuck for it. */
static uint32_t
wanted(const struct pipe_dir *out_of, const struct pipe_dir *into)
{
    uint32_t ev = 0;
    if (!out_of->eof && out_of->off == out_of->len)
        ev |= EPOLLIN;
    if (into->off < into->len)
        ev |= EPOLLOUT;
    return ev;
}

static void
rewatch(int ep, int fd, uint32_t *cur, uint32_t want)
{
    if (*cur == want)
        return;
    struct epoll_event ev = {.events = want, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) != 0)
        bench_die("epoll_ctl: %s", strerror(errno));
    *cur = want;
}

static int
role_relay(int argc, char **argv)
{
    int down = connect_to((int)bench_arg_long(argc, argv, "to", 0));
    int port, lfd = listen_any(&port);
    bench_ready(port);
    int up = accept_one(lfd);
    set_nonblock(up);
    set_nonblock(down);
    struct pipe_dir fwd = {.from = up, .to = down, .buf = malloc(RBUF)};
    struct pipe_dir back = {.from = down, .to = up, .buf = malloc(RBUF)};
    int ep = epoll_create1(0);
    uint32_t ev_up = EPOLLIN, ev_down = EPOLLIN;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = up};
    epoll_ctl(ep, EPOLL_CTL_ADD, up, &ev);
    ev.data.fd = down;
    epoll_ctl(ep, EPOLL_CTL_ADD, down, &ev);
    int done_fwd = 0, done_back = 0;
    while (!(done_fwd && done_back)) {
        struct epoll_event evs[4];
        int n = epoll_wait(ep, evs, 4, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            bench_die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            uint32_t e = evs[i].events;
            /* Readable up or writable down moves the forward direction; the reverse for
             * the replies. Errors and hang-ups let the read report them. */
            if (!done_fwd && ((fd == up && (e & ~EPOLLOUT)) || (fd == down && (e & EPOLLOUT))))
                done_fwd = pump(&fwd) < 0;
            if (!done_back && ((fd == down && (e & ~EPOLLOUT)) || (fd == up && (e & EPOLLOUT))))
                done_back = pump(&back) < 0;
        }
        rewatch(ep, up, &ev_up, done_fwd && done_back ? 0 : wanted(&fwd, &back));
        rewatch(ep, down, &ev_down, done_fwd && done_back ? 0 : wanted(&back, &fwd));
    }
    return 0;
}

/* ---- bulk byte stream (portal comparison) ------------------------------------------------ */

static int
role_bulk_sink(int argc, char **argv)
{
    int port, lfd = listen_any(&port);
    bench_ready(port);
    int fd = accept_one(lfd);
    uint8_t *buf = malloc(RBUF);
    uint64_t bytes = 0, t0 = 0, reads = 0;
    for (;;) {
        ssize_t r = read(fd, buf, RBUF);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            bench_die("bulk-sink: %s", strerror(errno));
        if (r == 0)
            break;
        if (t0 == 0)
            t0 = bench_now_ns();
        bytes += (uint64_t)r;
        reads++;
    }
    bench_report_thr(reads, bytes, bench_now_ns() - t0);
    return 0;
}

static int
role_bulk_source(int argc, char **argv)
{
    uint64_t total = (uint64_t)bench_arg_long(argc, argv, "mib", 256) << 20;
    int fd = connect_to((int)bench_arg_long(argc, argv, "port", 0));
    uint8_t *buf = bench_payload(BATCH);
    for (uint64_t sent = 0; sent < total; sent += BATCH)
        write_all(fd, buf, BATCH);
    close(fd);
    return 0;
}

/* socat prints no readiness line: we listen and accept for it, then hand it the connection. */
static int
role_socat(int argc, char **argv)
{
    char target[64];
    snprintf(target, sizeof target, "TCP:127.0.0.1:%ld", bench_arg_long(argc, argv, "to", 0));
    int port, lfd = listen_any(&port);
    bench_ready(port);
    int fd = accept_one(lfd);
    if (dup2(fd, 3) < 0)
        bench_die("dup2: %s", strerror(errno));
    execlp("socat", "socat", "-b", "131072", "FD:3", target, (char *)NULL);
    bench_die("exec socat: %s", strerror(errno));
}

int
main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } roles[] = {{"sink", role_sink}, {"source", role_source}, {"echo", role_echo},
        {"ping", role_ping}, {"relay", role_relay}, {"bulk-sink", role_bulk_sink},
        {"bulk-source", role_bulk_source}, {"socat", role_socat}};
    for (size_t i = 0; argc > 1 && i < sizeof roles / sizeof roles[0]; i++) {
        if (strcmp(argv[1], roles[i].name) == 0)
            return roles[i].fn(argc, argv);
    }
    fprintf(stderr, "usage: %s sink|source|echo|ping|relay|bulk-sink|bulk-source|socat [k=v...]\n",
        argv[0]);
    return 64;
}
