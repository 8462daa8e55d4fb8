/* UDP on the wire, against raw POSIX sockets: vector U1 (docs/wire.md §5.2) in both directions and
 * the echo reply's exact datagram, the return route a bind builds (with and without a fixed
 * peer), the 600-byte fragmentation example, and bad input: truncated CBOR, other version
 * numbers (accepted, as Ockam does not check them), offsets beyond 16 MiB, is_last without a
 * start, reordered and missing fragments, datagrams over 508 bytes, an empty onward route,
 * foreign sources for a fixed peer, stale partials, and a flood of first fragments from
 * many source ports (memory stays bounded). */
#include "udp_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ockam_udp_stats
bind_stats_of(const ockam_udp_bind *b)
{
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(b, &s);
    return s;
}

struct rig {
    ockam_node *node;
    ockam_udp_bind *bind;
    tn_probe *echo_probe; /* stands in for "echo" where the test inspects arrivals */
    int raw;
    char raw_name[32];
};

/* A node with one bind on 127.0.0.1:0 and a raw socket. probe: put a probe at "echo"
 * (instead of the echo service) to look at what arrives. */
static void
rig_start(struct rig *r, const ockam_udp_config *cfg, bool probe, const char *peer)
{
    memset(r, 0, sizeof *r);
    r->node = tu_node(cfg);
    r->raw = tu_raw(r->raw_name);
    r->bind = tu_bind(r->node, "127.0.0.1:0", peer ? r->raw_name : NULL);
    if (probe)
        r->echo_probe = tn_probe_start(r->node, "echo");
    else
        assert_int_equal(ockam_echo_start(r->node, NULL, NULL), OCKAM_OK);
    tu_allow(r->node, r->bind, "echo");
}

static void
rig_stop(struct rig *r)
{
    close(r->raw);
    tn_free_all();
}

static void
send_u1(struct rig *r, int fd)
{
    uint8_t u1[64];
    size_t n = tn_hex(TU_U1_HEX, u1, sizeof u1);
    tu_raw_sendto(fd, ockam_udp_bind_local(r->bind), u1, n);
}

static ockam_msg *
arrival(struct rig *r)
{
    ockam_msg *m = tn_probe_wait(r->echo_probe, TU_WAIT_MS);
    assert_non_null(m);
    return m;
}

static void
assert_hello(const ockam_msg *m)
{
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, 6);
    assert_memory_equal(p.ptr, "\x05hello", 6);
}

/* ---- U1 ------------------------------------------------------------------------------ */

/* Our encoder produces U1 byte for byte. */
static void
test_u1_encode(void **state)
{
    uint8_t want[64], body[64], got[OCKAM_UDP_MAX_DATAGRAM];
    size_t wn = tn_hex(TU_U1_HEX, want, sizeof want);
    size_t bn = tn_hex(TU_C1_BODY_HEX, body, sizeof body);
    size_t n = tu_frag(got, 0x1234, 0, true, body, bn);
    assert_int_equal(n, wn);
    assert_memory_equal(got, want, wn);
}

static void
test_u1_return_route(void **state)
{
    struct rig r;
    rig_start(&r, NULL, true, NULL);
    send_u1(&r, r.raw);
    ockam_msg *m = arrival(&r);
    tn_assert_route(ockam_msg_onward(m), "0#echo");
    tn_assert_route(
        ockam_msg_return(m), "0#%s => 2#%s => 0#app", ockam_udp_bind_address(r.bind), r.raw_name);
    assert_hello(m);
    assert_int_equal(ockam_msg_origin(m).producer, ockam_udp_bind_flow_id(r.bind));
    assert_int_equal(ockam_msg_origin(m).spawner, 0);
    ockam_msg_free(m);
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(r.bind, &s);
    assert_int_equal(s.datagrams_in, 1);
    assert_int_equal(s.messages_in, 1);
    assert_int_equal(s.peers, 1);
    rig_stop(&r);
}

/* Echo's reply to U1 is C3's body in one datagram [1, n, 0, true, C3]. */
static void
test_u1_echo_reply(void **state)
{
    struct rig r;
    uint8_t dgram[2048], c3[64];
    size_t c3n = tn_hex(TU_C3_BODY_HEX, c3, sizeof c3);
    rig_start(&r, NULL, false, NULL);

    send_u1(&r, r.raw);
    ssize_t n = tu_raw_recv(r.raw, dgram, sizeof dgram, TU_WAIT_MS);
    assert_true(n > 0);
    ockam__udp_frag f;
    assert_int_equal(ockam__udp_frag_decode(dgram, (size_t)n, &f), OCKAM_OK);
    assert_int_equal(dgram[0], 0x85);
    assert_int_equal(f.version, 1);
    assert_int_equal(f.offset, 0);
    assert_true(f.is_last);
    assert_int_equal(f.data.len, c3n);
    assert_memory_equal(f.data.ptr, c3, c3n);
    /* The exact bytes, whatever the routing number. */
    uint8_t want[OCKAM_UDP_MAX_DATAGRAM];
    size_t wn = tu_frag(want, f.routing_number, 0, true, c3, c3n);
    assert_int_equal((size_t)n, wn);
    assert_memory_equal(dgram, want, wn);

    /* The next reply uses the next routing number (U1 again, with a newer number: the same
     * number again would be a late duplicate). */
    uint8_t c1[64], again[OCKAM_UDP_MAX_DATAGRAM];
    size_t c1n = tn_hex(TU_C1_BODY_HEX, c1, sizeof c1);
    size_t an = tu_frag(again, 0x1235, 0, true, c1, c1n);
    tu_raw_sendto(r.raw, ockam_udp_bind_local(r.bind), again, an);
    ockam__udp_frag g;
    n = tu_raw_recv(r.raw, dgram, sizeof dgram, TU_WAIT_MS);
    assert_true(n > 0);
    assert_int_equal(ockam__udp_frag_decode(dgram, (size_t)n, &g), OCKAM_OK);
    assert_int_equal(g.routing_number, (uint16_t)(f.routing_number + 1));
    rig_stop(&r);
}

/* A 600-byte routing message goes as offset 0 / 493 bytes / f4, then offset 493 (19 01 ed) /
 * 107 bytes / f5 -- and a raw 600-byte message sent that way arrives intact. */
static void
test_600_byte_fragments(void **state)
{
    struct rig r;
    uint8_t d1[2048], d2[2048];
    uint8_t payload[600];
    rig_start(&r, NULL, true, NULL);
    tn_probe *app = tn_probe_start(r.node, "app");

    /* [onward [0#echo], return [0#app], bytes(581)]: 1 + 8 + 7 + 3 + 581 = 600 bytes. */
    size_t body_len = 0;
    uint8_t *body = tu_body("0#echo", "0#app", payload, 581, &body_len);
    assert_int_equal(body_len, 600);
    free(body);

    char route[128];
    snprintf(
        route, sizeof route, "0#%s => 2#%s => 0#echo", ockam_udp_bind_address(r.bind), r.raw_name);
    tu_fill(payload, sizeof payload, 1);
    assert_int_equal(tn_send(tn_probe_worker(app), route, payload, 581), OCKAM_OK);
    ssize_t n1 = tu_raw_recv(r.raw, d1, sizeof d1, TU_WAIT_MS);
    ssize_t n2 = tu_raw_recv(r.raw, d2, sizeof d2, TU_WAIT_MS);
    assert_true(n1 > 0 && n2 > 0);
    assert_true(n1 <= OCKAM_UDP_MAX_DATAGRAM);
    ockam__udp_frag f1, f2;
    assert_int_equal(ockam__udp_frag_decode(d1, (size_t)n1, &f1), OCKAM_OK);
    assert_int_equal(ockam__udp_frag_decode(d2, (size_t)n2, &f2), OCKAM_OK);
    assert_int_equal(f1.offset, 0);
    assert_int_equal(f1.data.len, 493);
    assert_false(f1.is_last);
    assert_int_equal(f2.offset, 493);
    assert_int_equal(f2.data.len, 107);
    assert_true(f2.is_last);
    assert_int_equal(f1.routing_number, f2.routing_number);
    const uint8_t off493[] = {0x19, 0x01, 0xed, 0xf5};
    assert_non_null(memmem(d2, 10, off493, sizeof off493));

    /* The same 600 bytes back into the bind from the raw socket. */
    uint8_t whole[600];
    memcpy(whole, f1.data.ptr, 493);
    memcpy(whole + 493, f2.data.ptr, 107);
    tu_raw_send_msg(r.raw, ockam_udp_bind_local(r.bind), 77, whole, 600);
    ockam_msg *m = arrival(&r);
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, 581);
    assert_true(tu_check(p.ptr, p.len, 1));
    ockam_msg_free(m);
    rig_stop(&r);
}

/* ---- fixed peer ---------------------------------------------------------------------- */

static void
test_fixed_peer(void **state)
{
    struct rig r;
    char other_name[32];
    rig_start(&r, NULL, true, "peer");
    int other = tu_raw(other_name);
    assert_string_equal(ockam_udp_bind_peer(r.bind), r.raw_name);

    send_u1(&r, other); /* not the fixed peer: dropped */
    send_u1(&r, r.raw);
    ockam_msg *m = arrival(&r);
    /* No 2# hop in the return route with a fixed peer. */
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#app", ockam_udp_bind_address(r.bind));
    assert_hello(m);
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(r.bind, &s);
    assert_int_equal(s.foreign, 1);
    assert_int_equal(s.messages_in, 1);

    /* Replying through the bind sends to the peer; the 2# hop is not needed. */
    assert_int_equal(ockam_reply(tn_probe_worker(r.echo_probe), m, "\x05hello", 6), OCKAM_OK);
    uint8_t dgram[2048], c3[64];
    size_t c3n = tn_hex(TU_C3_BODY_HEX, c3, sizeof c3);
    ssize_t n = tu_raw_recv(r.raw, dgram, sizeof dgram, TU_WAIT_MS);
    ockam__udp_frag f;
    assert_true(n > 0);
    assert_int_equal(ockam__udp_frag_decode(dgram, (size_t)n, &f), OCKAM_OK);
    assert_int_equal(f.data.len, c3n);
    assert_memory_equal(f.data.ptr, c3, c3n);
    assert_int_equal(tn_raw_pending(other), 0);
    close(other);
    rig_stop(&r);
}

/* ---- bad input ----------------------------------------------------------------------- */

static bool
has_malformed_5(const struct ockam_udp_stats *s)
{
    return s->malformed >= 5;
}

/* Every prefix of U1 (and the empty datagram) is dropped and counted; U1 still works. */
static void
test_truncated_cbor(void **state)
{
    struct rig r;
    uint8_t u1[64];
    size_t n = tn_hex(TU_U1_HEX, u1, sizeof u1);
    rig_start(&r, NULL, true, NULL);
    const size_t cuts[] = {0, 1, 5, 8, 20, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        tu_raw_sendto(r.raw, ockam_udp_bind_local(r.bind), u1, cuts[i]);
    /* A complete datagram whose routing message is cut short. */
    uint8_t dgram[64];
    size_t dn = tu_frag(dgram, 9, 0, true, u1 + 8, n - 8 - 3);
    tu_raw_sendto(r.raw, ockam_udp_bind_local(r.bind), dgram, dn);
    assert_true(tu_wait_stats(r.bind, has_malformed_5, TU_WAIT_MS));
    send_u1(&r, r.raw);
    ockam_msg *m = arrival(&r);
    assert_hello(m);
    ockam_msg_free(m);
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(r.bind, &s);
    assert_int_equal(s.malformed, 7);
    assert_int_equal(s.messages_in, 1);
    assert_int_equal(tn_probe_total(r.echo_probe), 1);
    rig_stop(&r);
}

/* The version field is not checked (Ockam's receiver ignores it): version 7 is accepted. */
static void
test_other_version_accepted(void **state)
{
    struct rig r;
    uint8_t u1[64];
    size_t n = tn_hex(TU_U1_HEX, u1, sizeof u1);
    rig_start(&r, NULL, true, NULL);
    u1[1] = 0x07;
    tu_raw_sendto(r.raw, ockam_udp_bind_local(r.bind), u1, n);
    ockam_msg *m = arrival(&r);
    assert_hello(m);
    ockam_msg_free(m);
    rig_stop(&r);
}

static bool
has_malformed_2(const struct ockam_udp_stats *s)
{
    return s->malformed >= 2;
}

static bool
has_gaps_2(const struct ockam_udp_stats *s)
{
    return s->gaps >= 2;
}

static void
test_offset_beyond_16mib(void **state)
{
    struct rig r;
    uint8_t dgram[OCKAM_UDP_MAX_DATAGRAM], junk[493] = {0};
    rig_start(&r, NULL, true, NULL);
    size_t n = tu_frag(dgram, 1, 16u * 1024u * 1024u, false, junk, sizeof junk);
    tu_raw_sendto(r.raw, ockam_udp_bind_local(r.bind), dgram, n);
    n = tu_frag(dgram, 2, UINT32_MAX, true, junk, 1);
    tu_raw_sendto(r.raw, ockam_udp_bind_local(r.bind), dgram, n);
    assert_true(tu_wait_stats(r.bind, has_malformed_2, TU_WAIT_MS));
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(r.bind, &s);
    assert_int_equal(s.reassembly_peak, 0);
    assert_int_equal(s.messages_in, 0);
    rig_stop(&r);
}

/* is_last without a start, and a reordered message: only those are lost. */
static void
test_no_start_and_reorder(void **state)
{
    struct rig r;
    uint8_t dgram[OCKAM_UDP_MAX_DATAGRAM];
    uint8_t payload[1200];
    const char *to;
    rig_start(&r, NULL, true, NULL);
    to = ockam_udp_bind_local(r.bind);
    tu_fill(payload, sizeof payload, 5);

    size_t blen;
    uint8_t *body = tu_body("0#echo", "0#app", payload, sizeof payload, &blen);
    assert_true(blen > 2 * 493);
    /* is_last at offset 493, no start */
    size_t n = tu_frag(dgram, 40, 493, true, body + 493, 100);
    tu_raw_sendto(r.raw, to, dgram, n);
    /* message 41 in the order 0, 2, 1 */
    n = tu_frag(dgram, 41, 0, false, body, 493);
    tu_raw_sendto(r.raw, to, dgram, n);
    n = tu_frag(dgram, 41, 986, true, body + 986, blen - 986);
    tu_raw_sendto(r.raw, to, dgram, n);
    n = tu_frag(dgram, 41, 493, false, body + 493, 493);
    tu_raw_sendto(r.raw, to, dgram, n);
    /* message 42 in order */
    tu_raw_send_msg(r.raw, to, 42, body, blen);
    ockam_msg *m = arrival(&r);
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, sizeof payload);
    assert_true(tu_check(p.ptr, p.len, 5));
    ockam_msg_free(m);
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(r.bind, &s);
    assert_int_equal(s.gaps, 2);
    assert_int_equal(s.late, 1);
    assert_int_equal(s.messages_in, 1);
    assert_int_equal(s.reassembly_bytes, 0);
    assert_true(has_gaps_2(&s));
    free(body);
    rig_stop(&r);
}

static bool
has_oversized_2(const struct ockam_udp_stats *s)
{
    return s->oversized >= 2;
}

/* Datagrams over 508 bytes are dropped and counted, even when their content is valid. */
static void
test_oversized(void **state)
{
    struct rig r;
    rig_start(&r, NULL, true, NULL);
    size_t blen;
    uint8_t payload[600] = {0};
    uint8_t *body = tu_body("0#echo", "0#app", payload, 500, &blen);
    uint8_t *big = malloc(65000);
    /* A well-formed datagram that carries 530 bytes in one piece. */
    size_t head = 8;
    big[0] = 0x85;
    big[1] = 0x01;
    big[2] = 0x03;
    big[3] = 0x00;
    big[4] = 0xf5;
    big[5] = 0x59;
    big[6] = (uint8_t)(blen >> 8);
    big[7] = (uint8_t)blen;
    memcpy(big + head, body, blen);
    tu_raw_sendto(r.raw, ockam_udp_bind_local(r.bind), big, head + blen);
    memset(big, 0xab, 65000);
    tu_raw_sendto(r.raw, ockam_udp_bind_local(r.bind), big, 65000);
    assert_true(tu_wait_stats(r.bind, has_oversized_2, TU_WAIT_MS));
    send_u1(&r, r.raw);
    ockam_msg *m = arrival(&r);
    assert_hello(m);
    ockam_msg_free(m);
    assert_int_equal(tn_probe_total(r.echo_probe), 1);
    free(big);
    free(body);
    rig_stop(&r);
}

static bool
has_empty(const struct ockam_udp_stats *s)
{
    return s->empty >= 1;
}

/* A routing message with an empty onward route is dropped (heartbeat-shaped). */
static void
test_empty_onward(void **state)
{
    struct rig r;
    uint8_t c5[8], dgram[32];
    size_t n = tn_hex("83 80 80 40", c5, sizeof c5);
    rig_start(&r, NULL, true, NULL);
    size_t dn = tu_frag(dgram, 3, 0, true, c5, n);
    tu_raw_sendto(r.raw, ockam_udp_bind_local(r.bind), dgram, dn);
    assert_true(tu_wait_stats(r.bind, has_empty, TU_WAIT_MS));
    assert_int_equal(bind_stats_of(r.bind).messages_in, 0);
    rig_stop(&r);
}

static bool
has_stale(const struct ockam_udp_stats *s)
{
    return s->stale >= 1 && s->reassembly_bytes == 0;
}

static void
test_stale_partial(void **state)
{
    struct rig r;
    ockam_udp_config cfg = OCKAM_UDP_CONFIG_INIT;
    cfg.partial_timeout_ms = 50;
    uint8_t dgram[OCKAM_UDP_MAX_DATAGRAM], junk[493] = {0};
    rig_start(&r, &cfg, true, NULL);
    size_t n = tu_frag(dgram, 1, 0, false, junk, sizeof junk);
    tu_raw_sendto(r.raw, ockam_udp_bind_local(r.bind), dgram, n);
    assert_true(tu_wait_stats(r.bind, has_stale, TU_WAIT_MS));
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(r.bind, &s);
    assert_int_equal(s.abandoned, 1);
    assert_true(s.reassembly_peak >= 493);
    assert_int_equal(ockam_udp_reassembly_bytes(r.node), 0);
    rig_stop(&r);
}

/* ---- the flood ----------------------------------------------------------------------- */

#define FLOOD_SOCKETS 300
#define FLOOD_PEERS 64
#define FLOOD_TOTAL (48u * 1024u)

struct flood {
    ockam_udp_bind *bind;
    uint64_t want;
};

static bool
flood_seen(void *arg)
{
    struct flood *f = arg;
    return bind_stats_of(f->bind).datagrams_in >= f->want;
}

/* First fragments from 300 source ports, several rounds: the peer table and the reassembly
 * bytes stay within their caps, the logs stay short, and a real message still arrives. */
static void
test_flood_of_first_fragments(void **state)
{
    struct rig r;
    ockam_udp_config cfg = OCKAM_UDP_CONFIG_INIT;
    cfg.max_peers = FLOOD_PEERS;
    cfg.max_total_bytes = FLOOD_TOTAL;
    uint8_t dgram[OCKAM_UDP_MAX_DATAGRAM], junk[493] = {0};
    int fds[FLOOD_SOCKETS];

    tn_log_capture();
    rig_start(&r, &cfg, true, NULL);
    for (int i = 0; i < FLOOD_SOCKETS; i++)
        fds[i] = tu_raw(NULL);
    struct flood f = {.bind = r.bind};
    for (uint16_t round = 0; round < 4; round++) {
        for (int i = 0; i < FLOOD_SOCKETS; i++) {
            size_t n
                = tu_frag(dgram, (uint16_t)(round * 7 + (uint16_t)i), 0, false, junk, sizeof junk);
            tu_raw_sendto(fds[i], ockam_udp_bind_local(r.bind), dgram, n);
        }
        f.want += FLOOD_SOCKETS;
        assert_true(tn_wait(flood_seen, &f, TU_WAIT_MS));
        struct ockam_udp_stats s;
        ockam_udp_bind_stats(r.bind, &s);
        assert_true(s.peers <= FLOOD_PEERS);
        assert_true(s.reassembly_peak <= FLOOD_TOTAL);
        assert_true(ockam_udp_reassembly_bytes(r.node) <= FLOOD_TOTAL);
    }
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(r.bind, &s);
    assert_true(s.evicted >= 4 * FLOOD_SOCKETS - FLOOD_PEERS);
    assert_true(s.abandoned + s.over_cap >= 4 * FLOOD_SOCKETS - FLOOD_PEERS);
    /* Rate-limited: a handful of lines, not one per datagram. */
    assert_true(tn_log_count("udp ") < 50);

    send_u1(&r, r.raw);
    ockam_msg *m = arrival(&r);
    assert_hello(m);
    ockam_msg_free(m);
    for (int i = 0; i < FLOOD_SOCKETS; i++)
        close(fds[i]);
    rig_stop(&r);
    tn_log_release();
}

int
main(void)
{
    ockam_log_set_level(OCKAM_LOG_WARN);
    const struct CMUnitTest tests[] = {
        TN_TEST(test_u1_encode),
        TN_TEST(test_u1_return_route),
        TN_TEST(test_u1_echo_reply),
        TN_TEST(test_600_byte_fragments),
        TN_TEST(test_fixed_peer),
        TN_TEST(test_truncated_cbor),
        TN_TEST(test_other_version_accepted),
        TN_TEST(test_offset_beyond_16mib),
        TN_TEST(test_no_start_and_reorder),
        TN_TEST(test_oversized),
        TN_TEST(test_empty_onward),
        TN_TEST(test_stale_partial),
        TN_TEST(test_flood_of_first_fragments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
