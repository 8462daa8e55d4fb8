/* Plain libuv TCP applications for the portal tests (see portal_util.h). */
#include "portal_util.h"

#include "node/node_internal.h"
#include "nodes.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CHUNK (64u * 1024u)
#define WRITE_AHEAD (1024u * 1024u) /* a sender keeps at most this much in its write queue */

/* ---- data ---------------------------------------------------------------------------- */

uint64_t
pu_fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* Each 8-byte word is a hash of (seed, word index): any offset can be produced directly. */
void
pu_fill(uint64_t seed, uint64_t offset, uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t pos = offset + i;
        uint64_t x = (pos / 8) * 0x9e3779b97f4a7c15ULL ^ (seed + 1) * 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 31;
        x *= 0x94d049bb133111ebULL;
        x ^= x >> 29;
        buf[i] = (uint8_t)(x >> (8 * (pos % 8)));
    }
}

/* ---- a connection (server side or client) -------------------------------------------- */

struct pu_conn {
    struct pu_conn *next_all;
    uv_tcp_t tcp;
    uv_timer_t tick;
    uv_connect_t creq;
    uv_shutdown_t sreq;
    pu_server *server;
    pu_side side;
    enum pu_mode mode;
    uint64_t seed, to_send;
    bool shutdown_after, shut, connected, reading, closing;
    size_t queued;
    size_t per_tick, budget;
    uint32_t tick_ms;
    bool keep;
    uint8_t *kept;
    size_t kept_len, kept_cap;
    int handles;
    uint8_t rbuf[CHUNK];
};

struct pu_server {
    struct pu_server *next_all;
    uv_tcp_t tcp;
    enum pu_mode mode;
    uint64_t source_bytes;
    size_t per_tick;
    uint32_t tick_ms;
    size_t accepted, open;
    pu_side totals;
    bool closed;
};

struct pu_client {
    struct pu_conn c;
};

struct wreq {
    uv_write_t req;
    struct pu_conn *conn;
    size_t len;
    uint8_t data[];
};

static struct pu_conn *all_conns;
static pu_server *all_servers;

static void conn_pump(struct pu_conn *c);
static void conn_update_reading(struct pu_conn *c);

static void
conn_handle_closed(uv_handle_t *h)
{
    struct pu_conn *c = h->data;
    c->handles--;
}

static void
conn_close(struct pu_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    c->side.closed = true;
    if (c->server) {
        c->server->open--;
    }
    uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
    uv_close((uv_handle_t *)&c->tick, conn_handle_closed);
}

static void
account_in(struct pu_conn *c, const uint8_t *p, size_t n)
{
    c->side.bytes_in += n;
    c->side.sum_in = pu_fnv(c->side.sum_in, p, n);
    if (c->server) {
        c->server->totals.bytes_in += n;
        c->server->totals.sum_in = pu_fnv(c->server->totals.sum_in, p, n);
    }
    if (c->keep) {
        if (c->kept_len + n > c->kept_cap) {
            c->kept_cap = (c->kept_len + n) * 2;
            c->kept = realloc(c->kept, c->kept_cap);
            assert_non_null(c->kept);
        }
        memcpy(c->kept + c->kept_len, p, n);
        c->kept_len += n;
    }
}

static void
on_written(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct pu_conn *c = w->conn;
    c->queued -= w->len;
    free(w);
    if (status < 0 && status != UV_ECANCELED && !c->side.error)
        c->side.error = status;
    if (status < 0 && status != UV_ECANCELED && c->server) {
        /* Nothing more is written; what the peer sent before is still read, to its end. */
        c->server->totals.error = c->side.error;
        if (c->side.eof)
            conn_close(c);
    }
    if (!c->closing && status == 0)
        conn_pump(c);
}

static void
conn_write(struct pu_conn *c, const uint8_t *p, size_t n)
{
    struct wreq *w = malloc(sizeof *w + n);
    assert_non_null(w);
    w->conn = c;
    w->len = n;
    memcpy(w->data, p, n);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(w);
        c->side.error = UV_EPIPE;
        return;
    }
    c->queued += n;
    c->side.bytes_out += n;
    c->side.sum_out = pu_fnv(c->side.sum_out, p, n);
    if (c->server) {
        c->server->totals.bytes_out += n;
        c->server->totals.sum_out = pu_fnv(c->server->totals.sum_out, p, n);
    }
}

static void
on_shut(uv_shutdown_t *req, int status)
{
    struct pu_conn *c = req->data;
    c->handles--;
    /* A server closes once its last bytes are out (the peer sees them, then EOF); a replying
     * server keeps reading what the client sends until its EOF. */
    if (c->server && (c->mode != PU_REPLY || c->side.eof))
        conn_close(c);
}

static void
conn_shutdown(struct pu_conn *c)
{
    if (c->shut || c->closing)
        return;
    c->shut = true;
    c->sreq.data = c;
    if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shut) == 0)
        c->handles++;
}

/* Keep the write queue topped up with the stream; half-close when all is out. */
static void
conn_pump(struct pu_conn *c)
{
    uint8_t buf[CHUNK];
    while (!c->closing && c->side.bytes_out < c->to_send && c->queued < WRITE_AHEAD) {
        uint64_t left = c->to_send - c->side.bytes_out;
        size_t n = left < CHUNK ? (size_t)left : CHUNK;
        pu_fill(c->seed, c->side.bytes_out, buf, n);
        conn_write(c, buf, n);
        if (c->side.error)
            return;
    }
    if (!c->closing && c->shutdown_after && c->side.bytes_out >= c->to_send && c->queued == 0)
        conn_shutdown(c);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct pu_conn *c = h->data;
    size_t room = sizeof c->rbuf;
    if (c->per_tick && c->budget < room)
        room = c->budget;
    *buf = uv_buf_init((char *)c->rbuf, (unsigned)room);
}

/* libuv reports EOF after a reset when its last read was partial (it takes the hang-up for
 * EOF): the reset's error is still pending on the socket then, unless a write took it. */
static bool
ended_by_reset(struct pu_conn *c)
{
    uv_os_fd_t fd;
    int err = 0;
    socklen_t len = sizeof err;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0
        || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return false;
    return err != 0;
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct pu_conn *c = s->data;
    if (nread > 0) {
        account_in(c, c->rbuf, (size_t)nread);
        if (c->per_tick)
            c->budget -= (size_t)nread < c->budget ? (size_t)nread : c->budget;
        if (c->mode == PU_ECHO && c->server)
            conn_write(c, c->rbuf, (size_t)nread);
        conn_update_reading(c);
        return;
    }
    if (nread == 0)
        return;
    uv_read_stop(s);
    c->reading = false;
    if (nread == UV_EOF) {
        c->side.eof = true;
        c->side.reset = ended_by_reset(c);
        if (c->server) {
            c->server->totals.eof = true;
            c->server->totals.reset |= c->side.reset;
        }
        if (c->server && (c->shut || c->side.error))
            conn_close(c);
        else if (c->server && c->mode != PU_REPLY)
            conn_shutdown(c); /* echo and sink: FIN after what is queued, then close */
        return;
    }
    c->side.error = (int)nread;
    c->side.reset = true;
    if (c->server) {
        c->server->totals.error = (int)nread;
        c->server->totals.reset = true;
    }
    conn_close(c);
}

static void
conn_update_reading(struct pu_conn *c)
{
    bool want = !c->closing && !c->side.eof && (!c->per_tick || c->budget > 0);
    if (want == c->reading)
        return;
    c->reading = want;
    if (want)
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    else
        uv_read_stop((uv_stream_t *)&c->tcp);
}

static void
on_tick(uv_timer_t *t)
{
    struct pu_conn *c = t->data;
    c->budget = c->per_tick;
    conn_update_reading(c);
}

static void
conn_set_rate(struct pu_conn *c, size_t per_tick, uint32_t tick_ms)
{
    c->per_tick = per_tick;
    c->budget = per_tick;
    c->tick_ms = tick_ms;
    if (per_tick)
        uv_timer_start(&c->tick, on_tick, tick_ms, tick_ms);
}

static struct pu_conn *
conn_new(uv_loop_t *loop)
{
    struct pu_conn *c = calloc(1, sizeof *c);
    assert_non_null(c);
    uv_tcp_init(loop, &c->tcp);
    uv_timer_init(loop, &c->tick);
    c->tcp.data = c->tick.data = c->creq.data = c;
    c->handles = 2;
    c->side.sum_in = c->side.sum_out = PU_FNV_INIT;
    c->next_all = all_conns;
    all_conns = c;
    return c;
}

/* ---- servers ------------------------------------------------------------------------- */

static void
on_accept(uv_stream_t *server, int status)
{
    pu_server *s = server->data;
    if (status < 0)
        return;
    struct pu_conn *c = conn_new(server->loop);
    c->server = s;
    c->mode = s->mode;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    s->accepted++;
    s->open++;
    c->connected = true;
    c->seed = s->accepted;
    conn_set_rate(c, s->per_tick, s->tick_ms);
    conn_update_reading(c);
    if (s->mode == PU_SOURCE || s->mode == PU_REPLY) {
        c->to_send = s->source_bytes;
        c->shutdown_after = true;
        conn_pump(c);
    }
}

pu_server *
pu_server_start(uv_loop_t *loop, enum pu_mode mode, uint64_t source_bytes)
{
    return pu_server_start_at(loop, mode, source_bytes, false);
}

pu_server *
pu_server_start_at(uv_loop_t *loop, enum pu_mode mode, uint64_t source_bytes, bool ipv6)
{
    pu_server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    struct sockaddr_storage sa;
    if (ipv6)
        uv_ip6_addr("::1", 0, (struct sockaddr_in6 *)&sa);
    else
        uv_ip4_addr("127.0.0.1", 0, (struct sockaddr_in *)&sa);
    uv_tcp_init(loop, &s->tcp);
    s->tcp.data = s;
    s->mode = mode;
    s->source_bytes = source_bytes;
    s->totals.sum_in = s->totals.sum_out = PU_FNV_INIT;
    assert_int_equal(uv_tcp_bind(&s->tcp, (const struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&s->tcp, 1024, on_accept), 0);
    s->next_all = all_servers;
    all_servers = s;
    return s;
}

uint16_t
pu_server_port(const pu_server *s)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;
    assert_int_equal(uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&sa, &len), 0);
    if (sa.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    return ntohs(((struct sockaddr_in *)&sa)->sin_port);
}

void
pu_server_set_rate(pu_server *s, size_t per_tick, uint32_t tick_ms)
{
    s->per_tick = per_tick;
    s->tick_ms = tick_ms;
}

size_t
pu_server_accepted(const pu_server *s)
{
    return s->accepted;
}

size_t
pu_server_open(const pu_server *s)
{
    return s->open;
}

pu_side
pu_server_totals(const pu_server *s)
{
    return s->totals;
}

static void
server_closed(uv_handle_t *h)
{
    ((pu_server *)h->data)->closed = true;
}

void
pu_server_close(pu_server *s)
{
    if (!uv_is_closing((uv_handle_t *)&s->tcp))
        uv_close((uv_handle_t *)&s->tcp, server_closed);
}

/* ---- clients ------------------------------------------------------------------------- */

static void
on_connected(uv_connect_t *req, int status)
{
    struct pu_conn *c = req->data;
    c->handles--;
    if (c->closing)
        return;
    if (status < 0) {
        c->side.error = status;
        conn_close(c);
        return;
    }
    c->connected = true;
    conn_update_reading(c);
    conn_pump(c);
}

pu_client *
pu_client_start(
    uv_loop_t *loop, uint16_t port, uint64_t seed, uint64_t send_bytes, bool shutdown_after)
{
    struct pu_conn *c = conn_new(loop);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    c->mode = PU_SINK;
    c->seed = seed;
    c->to_send = send_bytes;
    c->shutdown_after = shutdown_after;
    assert_int_equal(
        uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&sa, on_connected), 0);
    c->handles++;
    return (pu_client *)c;
}

void
pu_client_keep(pu_client *pc, bool keep)
{
    pc->c.keep = keep;
}

void
pu_client_set_rate(pu_client *pc, size_t per_tick, uint32_t tick_ms)
{
    conn_set_rate(&pc->c, per_tick, tick_ms);
    conn_update_reading(&pc->c);
}

const pu_side *
pu_client_side(const pu_client *pc)
{
    return &pc->c.side;
}

bool
pu_client_connected(const pu_client *pc)
{
    return pc->c.connected;
}

bool
pu_client_sent_all(const pu_client *pc)
{
    return pc->c.side.bytes_out >= pc->c.to_send && pc->c.queued == 0;
}

const uint8_t *
pu_client_data(const pu_client *pc, size_t *len)
{
    *len = pc->c.kept_len;
    return pc->c.kept;
}

void
pu_client_write(pu_client *pc, const void *data, size_t len)
{
    conn_write(&pc->c, data, len);
}

void
pu_client_close(pu_client *pc, bool hard)
{
    struct pu_conn *c = &pc->c;
    if (c->closing)
        return;
    if (hard && c->connected) {
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) {
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
    }
    conn_close(c);
}

/* ---- cleanup ------------------------------------------------------------------------- */

static bool
all_closed(void)
{
    for (struct pu_conn *c = all_conns; c; c = c->next_all) {
        if (c->handles > 0)
            return false;
    }
    for (pu_server *s = all_servers; s; s = s->next_all) {
        if (!s->closed)
            return false;
    }
    return true;
}

void
pu_cleanup(uv_loop_t *loop)
{
    for (struct pu_conn *c = all_conns; c; c = c->next_all)
        conn_close(c);
    for (pu_server *s = all_servers; s; s = s->next_all)
        pu_server_close(s);
    for (int i = 0; i < 10000 && !all_closed(); i++)
        uv_run(loop, UV_RUN_NOWAIT);
    assert_true(all_closed());
    while (all_conns) {
        struct pu_conn *next = all_conns->next_all;
        free(all_conns->kept);
        free(all_conns);
        all_conns = next;
    }
    while (all_servers) {
        pu_server *next = all_servers->next_all;
        free(all_servers);
        all_servers = next;
    }
}

/* ---- with the tests' nodes ---------------------------------------------------------- */

static uv_loop_t *apps_loop; /* for the teardown after a failed test */

uv_loop_t *
pu_apps_start(ockam_node **apps)
{
    *apps = tn_node_new();
    apps_loop = ockam__node_loop(*apps);
    return apps_loop;
}

int
pu_teardown(void **state)
{
    (void)state;
    if (apps_loop)
        pu_cleanup(apps_loop);
    apps_loop = NULL;
    tn_free_all();
    return 0;
}

bool
pu_client_got(void *arg)
{
    const pu_want *w = arg;
    const pu_side *s = pu_client_side(w->c);
    return s->bytes_in >= w->n || s->eof || s->error;
}

bool
pu_client_ended(void *arg)
{
    const pu_side *s = pu_client_side(arg);
    return s->eof || s->error || s->closed;
}

bool
pu_inlet_up(void *arg)
{
    return ockam_inlet_status(arg) == OCKAM_INLET_UP;
}

bool
pu_relay_up(void *arg)
{
    return ockam_relay_client_state(arg) == OCKAM_RELAY_UP;
}
