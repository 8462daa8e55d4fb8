/* Helpers for the UDP tests (see udp_util.h). */
#include "udp_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *const TU_U1_HEX = "85 01 19 12 34 00 f5 57 83 81 82 00 44 65 63 68 6f 81 82 00 43 "
                              "61 70 70 46 05 68 65 6c 6c 6f";
const char *const TU_C1_BODY_HEX
    = "83 81 82 00 44 65 63 68 6f 81 82 00 43 61 70 70 46 05 68 65 6c 6c 6f";
const char *const TU_C3_BODY_HEX
    = "83 81 82 00 43 61 70 70 81 82 00 44 65 63 68 6f 46 05 68 65 6c 6c 6f";

ockam_node *
tu_node(const ockam_udp_config *cfg)
{
    ockam_node *n = tn_node_new();
    assert_int_equal(ockam_udp_init(n, cfg), OCKAM_OK);
    return n;
}

ockam_udp_bind *
tu_bind(ockam_node *node, const char *host_port, const char *peer)
{
    ockam_udp_bind *b = NULL;
    ockam_udp_bind_opts o = {.peer = peer};
    assert_int_equal(ockam_udp_bind_open(node, host_port, &o, &b), OCKAM_OK);
    assert_non_null(b);
    return b;
}

void
tu_allow(ockam_node *node, ockam_udp_bind *b, const char *address)
{
    assert_int_equal(ockam_flow_add_consumer(node, address, ockam_udp_bind_flow_id(b)), OCKAM_OK);
}

void
tu_services(ockam_node *node, ockam_udp_bind *b)
{
    assert_int_equal(ockam_echo_start(node, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_uppercase_start(node, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_hop_start(node, NULL, NULL), OCKAM_OK);
    tu_allow(node, b, "echo");
    tu_allow(node, b, "uppercase");
    tu_allow(node, b, "hop");
}

void
tu_side_start(tu_side *s, const ockam_udp_config *cfg, const char *host_port, const char *peer)
{
    s->node = tu_node(cfg);
    s->bind = tu_bind(s->node, host_port, peer);
    snprintf(s->local, sizeof s->local, "%s", ockam_udp_bind_local(s->bind));
    snprintf(s->sender, sizeof s->sender, "%s", ockam_udp_bind_address(s->bind));
    snprintf(s->port, sizeof s->port, "%s", strrchr(s->local, ':') + 1);
}

void
tu_assert_payload(const ockam_msg *m, const void *data, size_t len)
{
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, len);
    assert_memory_equal(p.ptr, data, len);
}

ockam_msg *
tu_request(tn_probe *app, const char *route, const void *data, size_t len)
{
    assert_int_equal(tn_send(tn_probe_worker(app), route, data, len), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, TU_WAIT_MS);
    assert_non_null(m);
    return m;
}

int
tu_raw(char *name)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    if (name)
        snprintf(name, 32, "127.0.0.1:%u", ntohs(sa.sin_port));
    return fd;
}

static struct sockaddr_in
to_sa(const char *host_port)
{
    char host[64];
    const char *colon = strrchr(host_port, ':');
    assert_non_null(colon);
    snprintf(host, sizeof host, "%.*s", (int)(colon - host_port), host_port);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    assert_int_equal(inet_pton(AF_INET, host, &sa.sin_addr), 1);
    return sa;
}

void
tu_raw_sendto(int fd, const char *host_port, const void *buf, size_t len)
{
    struct sockaddr_in sa = to_sa(host_port);
    ssize_t n = sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof sa);
    assert_int_equal(n, (ssize_t)len);
}

struct raw_rx {
    int fd;
    void *buf;
    size_t cap;
    ssize_t got;
};

static bool
raw_rx_step(void *arg)
{
    struct raw_rx *rx = arg;
    ssize_t n = recv(rx->fd, rx->buf, rx->cap, MSG_DONTWAIT);
    if (n < 0) {
        assert_true(errno == EAGAIN || errno == EINTR);
        return false;
    }
    rx->got = n;
    return true;
}

ssize_t
tu_raw_recv(int fd, void *buf, size_t cap, uint64_t timeout_ms)
{
    struct raw_rx rx = {.fd = fd, .buf = buf, .cap = cap, .got = -1};
    if (!tn_wait(raw_rx_step, &rx, timeout_ms))
        return -1;
    return rx.got;
}

size_t
tu_frag(uint8_t *out, uint16_t number, uint32_t offset, bool last, const void *data, size_t len)
{
    ockam__udp_frag f = {
        .version = 1,
        .routing_number = number,
        .offset = offset,
        .is_last = last,
        .data = {.ptr = data, .len = len},
    };
    size_t n = 0;
    assert_int_equal(ockam__udp_frag_encode(&f, out, OCKAM_UDP_MAX_DATAGRAM, &n), OCKAM_OK);
    return n;
}

uint8_t *
tu_body(const char *onward, const char *ret, const void *payload, size_t len, size_t *out_len)
{
    ockam_msg *m = ockam_msg_new();
    assert_non_null(m);
    assert_int_equal(ockam_route_parse(ockam_msg_onward(m), onward), OCKAM_OK);
    assert_int_equal(ockam_route_parse(ockam_msg_return(m), ret), OCKAM_OK);
    assert_int_equal(ockam_msg_set_payload(m, payload, len), OCKAM_OK);
    size_t size = ockam__cbor_msg_size(m);
    uint8_t *body = malloc(size);
    assert_non_null(body);
    assert_int_equal(ockam__cbor_encode_msg(m, body, size, out_len), OCKAM_OK);
    ockam_msg_free(m);
    return body;
}

void
tu_raw_send_msg(int fd, const char *to, uint16_t number, const uint8_t *body, size_t len)
{
    uint8_t dgram[OCKAM_UDP_MAX_DATAGRAM];
    for (size_t off = 0; off < len;) {
        size_t take = len - off < OCKAM_UDP_MAX_FRAGMENT_PAYLOAD ? len - off
                                                                 : OCKAM_UDP_MAX_FRAGMENT_PAYLOAD;
        size_t n = tu_frag(dgram, number, (uint32_t)off, off + take == len, body + off, take);
        tu_raw_sendto(fd, to, dgram, n);
        off += take;
    }
}

struct stats_wait {
    ockam_udp_bind *b;
    bool (*pred)(const struct ockam_udp_stats *s);
};

static bool
stats_step(void *arg)
{
    struct stats_wait *w = arg;
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(w->b, &s);
    return w->pred(&s);
}

bool
tu_wait_stats(ockam_udp_bind *b, bool (*pred)(const struct ockam_udp_stats *s), uint64_t ms)
{
    struct stats_wait w = {b, pred};
    return tn_wait(stats_step, &w, ms);
}

static uint8_t
byte_at(size_t i, uint32_t seed)
{
    uint32_t x = (uint32_t)i * 2654435761u ^ seed;
    return (uint8_t)(x >> 13 ^ x);
}

void
tu_fill(uint8_t *p, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = byte_at(i, seed);
}

bool
tu_check(const uint8_t *p, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != byte_at(i, seed))
            return false;
    }
    return true;
}
