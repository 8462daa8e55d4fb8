/* TCP transport (address type 1, docs/wire.md §4): "host:port" parsing, listening, name
 * resolution and connecting. Everything that happens on an open connection is the shared
 * stream engine's (transport/stream.c). */
#include "ockam/tcp.h"
#include "transport/stream.h"

#include "core/host_port.h"

#include <stdio.h>
#include <strings.h>

#define HOST_MAX 256
#define KEEPALIVE_DELAY_S 300 /* idle seconds before the first probe, as Ockam sets (§4.2) */

struct host_port {
    char host[HOST_MAX];
    char port_text[6];
    uint16_t port;
};

/* "1.2.3.4:80", "[::1]:80", "name:80" (core/host_port.h), with the port as text for getaddrinfo. */
static ockam_err
parse_host_port(const char *text, struct host_port *hp)
{
    ockam_err err = ockam__host_port_parse(text, hp->host, sizeof hp->host, &hp->port);
    if (err == OCKAM_OK)
        snprintf(hp->port_text, sizeof hp->port_text, "%u", (unsigned)hp->port);
    return err;
}

static bool
numeric_addr(const struct host_port *hp, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    return uv_ip4_addr(hp->host, hp->port, (struct sockaddr_in *)ss) == 0
        || uv_ip6_addr(hp->host, hp->port, (struct sockaddr_in6 *)ss) == 0;
}

/* "1.2.3.4:80" or "[::1]:80", as Rust prints socket addresses. */
static char *
format_sockaddr(const struct sockaddr_storage *ss)
{
    char ip[64], text[80];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        uv_ip4_name(a, ip, sizeof ip);
        snprintf(text, sizeof text, "%s:%u", ip, ntohs(a->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        uv_ip6_name(a, ip, sizeof ip);
        snprintf(text, sizeof text, "[%s]:%u", ip, ntohs(a->sin6_port));
    } else {
        snprintf(text, sizeof text, "unknown");
    }
    return ockam__strdup(text);
}

/* ---- kind ops ------------------------------------------------------------------------ */

static int
tcp_handle_init(uv_loop_t *loop, union ockam__handle *h)
{
    return uv_tcp_init(loop, &h->tcp);
}

static ockam_err
tcp_check_peer(const char *peer)
{
    struct host_port hp;
    return parse_host_port(peer, &hp);
}

static void
tcp_tune(ockam_conn *c)
{
    /* Frames are already batched per loop turn; Nagle would only add latency. */
    uv_tcp_nodelay(&c->io->tcp, 1);
    uv_tcp_keepalive(&c->io->tcp, 1, KEEPALIVE_DELAY_S);
}

static char *
tcp_peer_name(ockam_conn *c, ockam_listener *l)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (uv_tcp_getpeername(&c->io->tcp, (struct sockaddr *)&ss, &len) != 0)
        ss.ss_family = AF_UNSPEC; /* already reset by the peer: "unknown" */
    return format_sockaddr(&ss);
}

static char *
tcp_local_name(ockam_listener *l)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (uv_tcp_getsockname(&l->io.tcp, (struct sockaddr *)&ss, &len) != 0)
        ss.ss_family = AF_UNSPEC;
    return format_sockaddr(&ss);
}

static void try_next_address(ockam_conn *c, int last_status);
static void on_connect(uv_connect_t *req, int status);

/* "localhost" names both loopback addresses (RFC 6761, as curl treats it): 127.0.0.1 first,
 * then [::1], without asking DNS (whose answer may hold only one of them). */
static bool
is_localhost(const char *host)
{
    return strcasecmp(host, "localhost") == 0;
}

static int
connect_loopback(ockam_conn *c, bool v6)
{
    struct host_port hp;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (parse_host_port(c->peer, &hp) != OCKAM_OK)
        return UV_EINVAL;
    if (v6)
        uv_ip6_addr("::1", hp.port, (struct sockaddr_in6 *)&ss);
    else
        uv_ip4_addr("127.0.0.1", hp.port, (struct sockaddr_in *)&ss);
    return uv_tcp_connect(&c->creq, &c->io->tcp, (struct sockaddr *)&ss, on_connect);
}

static void
on_connect(uv_connect_t *req, int status)
{
    ockam_conn *c = req->data;
    if (c->state == OCKAM__CONN_DEAD)
        return; /* torn down while connecting: the handle close cancelled us */
    if (status < 0 && (c->ai_next || c->loopback6_next)) {
        /* A name with several addresses: try the next on a fresh socket, as the failed one
         * may be of the other family. */
        if (ockam__conn_renew_handle(c) == OCKAM_OK) {
            try_next_address(c, status);
            return;
        }
    }
    ockam__conn_connected(c, status);
}

static void
try_next_address(ockam_conn *c, int last_status)
{
    while (c->ai_next) {
        struct addrinfo *ai = c->ai_next;
        c->ai_next = ai->ai_next;
        last_status = uv_tcp_connect(&c->creq, &c->io->tcp, ai->ai_addr, on_connect);
        if (last_status == 0)
            return;
        if (ockam__conn_renew_handle(c) != OCKAM_OK)
            break;
    }
    if (c->loopback6_next) {
        c->loopback6_next = false;
        last_status = connect_loopback(c, true);
        if (last_status == 0)
            return;
    }
    ockam__conn_connected(c, last_status < 0 ? last_status : UV_ECONNREFUSED);
}

static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    ockam_conn *c = req->data;
    c->resolving = false;
    if (c->state == OCKAM__CONN_DEAD) {
        if (res)
            uv_freeaddrinfo(res);
    } else if (status < 0 || !res) {
        if (res)
            uv_freeaddrinfo(res);
        ockam__conn_fail(c, OCKAM_EDNS);
    } else {
        c->ai_list = c->ai_next = res;
        try_next_address(c, UV_ECONNREFUSED);
    }
    ockam__conn_unref(c);
}

static ockam_err
tcp_connect(ockam_conn *c)
{
    struct host_port hp;
    struct sockaddr_storage ss;
    ockam_err err = parse_host_port(c->peer, &hp);
    if (err)
        return err;
    if (numeric_addr(&hp, &ss)) {
        int rc = uv_tcp_connect(&c->creq, &c->io->tcp, (struct sockaddr *)&ss, on_connect);
        return ockam__err_from_uv(rc);
    }
    if (is_localhost(hp.host)) {
        c->loopback6_next = true; /* a refusal (asynchronous) moves on to [::1] */
        return ockam__err_from_uv(connect_loopback(c, false));
    }
    /* Resolved on libuv's thread pool: the loop never blocks on DNS. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int rc = uv_getaddrinfo(
        ockam__node_loop(c->st->node), &c->gai, on_resolved, hp.host, hp.port_text, &hints);
    if (rc)
        return OCKAM_EDNS;
    c->resolving = true;
    ockam__conn_ref(c);
    return OCKAM_OK;
}

static const struct ockam__stream_kind tcp_kind = {
    .type = OCKAM_TRANSPORT_TCP,
    .name = "tcp",
    .handle_init = tcp_handle_init,
    .connect = tcp_connect,
    .check_peer = tcp_check_peer,
    .tune = tcp_tune,
    .peer_name = tcp_peer_name,
    .local_name = tcp_local_name,
    .listener_closed = NULL,
};

/* ---- transport ops ------------------------------------------------------------------- */

static ockam_err
tcp_init(void *self, ockam_node *node, const void *config)
{
    static const ockam_tcp_config defaults = OCKAM_TCP_CONFIG_INIT;
    const ockam_tcp_config *c = config ? config : &defaults;
    struct ockam__stream_config sc = {
        .write_high_water = c->write_high_water,
        .handshake_timeout_ms = c->handshake_timeout_ms,
        .default_profile = c->default_profile,
        .allowed_outgoing = c->allowed_outgoing,
        .allowed_outgoing_count = c->allowed_outgoing_count,
    };
    return ockam__stream_init(self, node, &tcp_kind, &sc);
}

static ockam_err
tcp_route(void *self, ockam_msg *msg)
{
    return ockam__stream_route(self, msg);
}

static ockam_err
tcp_send_direct(
    void *self, const ockam_route *onward, ockam_addr from, const void *data, size_t len)
{
    return ockam__stream_send_direct(self, onward, from, data, len);
}

static void
tcp_shutdown(void *self)
{
    ockam__stream_shutdown(self);
}

static void
tcp_fini(void *self)
{
    ockam__stream_fini(self);
}

static const struct ockam__transport_ops tcp_ops = {
    .type = OCKAM_TRANSPORT_TCP,
    .name = "tcp",
    .size = sizeof(struct ockam__stream),
    .init = tcp_init,
    .route = tcp_route,
    .send_direct = tcp_send_direct,
    .shutdown = tcp_shutdown,
    .fini = tcp_fini,
};

/* ---- public API ---------------------------------------------------------------------- */

ockam_err
ockam_tcp_init(ockam_node *node, const ockam_tcp_config *cfg)
{
    return ockam__transport_register(node, &tcp_ops, cfg, NULL);
}

static struct ockam__stream *
tcp_state(ockam_node *node, ockam_err *err)
{
    struct ockam__stream *st = ockam__transport_get(node, OCKAM_TRANSPORT_TCP);
    *err = OCKAM_OK;
    if (!st) {
        *err = ockam_tcp_init(node, NULL);
        st = *err ? NULL : ockam__transport_get(node, OCKAM_TRANSPORT_TCP);
    }
    return st;
}

static bool
profile_valid(ockam_wire_profile p)
{
    return p == OCKAM_WIRE_CURRENT || p == OCKAM_WIRE_LEGACY;
}

ockam_err
ockam_tcp_listen(ockam_node *node, const char *host_port, const ockam_tcp_listen_opts *opts,
    ockam_listener **out)
{
    struct host_port hp;
    struct sockaddr_storage ss;
    ockam_err err;
    ockam_wire_profile profile = opts ? opts->profile : OCKAM_WIRE_CURRENT;
    if (!host_port || !profile_valid(profile))
        return host_port ? OCKAM_EINVAL : OCKAM_EADDRINVAL;
    if ((err = parse_host_port(host_port, &hp)) != OCKAM_OK)
        return err;
    if (strcmp(hp.host, "localhost") == 0)
        strcpy(hp.host, "127.0.0.1"); /* the one name listen accepts: it must not block */
    if (!numeric_addr(&hp, &ss))
        return OCKAM_EADDRINVAL;
    struct ockam__stream *st = tcp_state(node, &err);
    if (!st)
        return err;
    ockam_listener *l = ockam__listener_new(st, profile);
    if (!l)
        return OCKAM_ENOMEM;
    int rc = uv_tcp_bind(&l->io.tcp, (struct sockaddr *)&ss, 0);
    if (rc) {
        ockam__listener_abort(l);
        return ockam__err_from_uv(rc);
    }
    /* libuv reports EADDRINUSE from uv_listen, so the address is read after listening. */
    err = ockam__listener_start(l, NULL);
    if (!err && out)
        *out = l;
    return err;
}

ockam_err
ockam_tcp_connect(ockam_node *node, const char *host_port, const ockam_tcp_connect_opts *opts,
    ockam_connect_cb cb, void *user)
{
    ockam_err err;
    ockam_wire_profile profile = opts ? opts->profile : OCKAM_WIRE_CURRENT;
    if (!host_port)
        return OCKAM_EADDRINVAL;
    if (!profile_valid(profile))
        return OCKAM_EINVAL;
    struct ockam__stream *st = tcp_state(node, &err);
    if (!st)
        return err;
    return ockam__stream_connect(st, host_port, profile, cb, user, NULL);
}
