/* Names that resolve to several addresses, over real UDP sockets on 127.0.0.1 and ::1
 * (include/ockam/udp.h, "Names"; docs/wire.md §5.5): the peer listens on one loopback
 * address only, the name tries the other one first, the network refuses it (ICMP port
 * unreachable, read from the socket's error queue) and the messages arrive through the next
 * address -- each exactly once, in order. Also: an IPv4 socket never picks ::1, a message
 * every address refused is counted once, the name starts again afterwards, and a send that
 * meets another datagram's pending error is not lost. The tests that need the IPv6 loopback
 * skip without it (and say so). */
#include "udp_util.h"

#include "transport/udp/udp_internal.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A peer with echo, uppercase and hop on `at` only. */
static void
peer_start(tu_side *s, const char *at)
{
    tu_side_start(s, NULL, at, NULL);
    tu_services(s->node, s->bind);
}

static bool
have_ipv6_loopback(void)
{
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

#define NEED_IPV6()                                                                                \
    do {                                                                                           \
        if (!have_ipv6_loopback()) {                                                               \
            print_message("no IPv6 loopback (::1) on this machine: skipped\n");                    \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static struct ockam_udp_stats
stats_of(const ockam_udp_bind *b)
{
    struct ockam_udp_stats s;
    ockam_udp_bind_stats(b, &s);
    return s;
}

struct stat_goal {
    const ockam_udp_bind *bind;
    size_t offset; /* of a uint64_t in struct ockam_udp_stats */
    uint64_t at_least;
};

static bool
stat_reached(void *arg)
{
    const struct stat_goal *g = arg;
    struct ockam_udp_stats s = stats_of(g->bind);
    uint64_t v;
    memcpy(&v, (const uint8_t *)&s + g->offset, sizeof v);
    return v >= g->at_least;
}

#define WAIT_STAT(b, field, n)                                                                     \
    assert_true(tn_wait(stat_reached,                                                              \
        &(struct stat_goal) {(b), offsetof(struct ockam_udp_stats, field), (n)}, TU_WAIT_MS))

/* A request whose answer carries the same payload (echo). */
static ockam_msg *
echoed(tn_probe *app, const char *route, const void *data, size_t len)
{
    ockam_msg *m = tu_request(app, route, data, len);
    tu_assert_payload(m, data, len);
    return m;
}

static void
find_default(ockam_udp_bind *b, void *arg)
{
    if (ockam_udp_bind_is_default(b))
        *(ockam_udp_bind **)arg = b;
}

/* A UDP port on 127.0.0.1 and ::1 that nothing listens on (bound, then closed). */
static uint16_t
dead_udp_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- localhost: 127.0.0.1 first, the peer on ::1 only ---------------------------------- */

/* A 2#localhost:P first hop goes through the dual-stack default bind. */
static void
test_first_hop_localhost_peer_on_v6(void **state)
{
    NEED_IPV6();
    tu_side n2;
    char route[256];
    peer_start(&n2, "[::1]:0");
    ockam_node *n1 = tu_node(NULL);
    tn_probe *app = tn_probe_start(n1, "app");

    snprintf(route, sizeof route, "2#localhost:%s => 0#echo", n2.port);
    ockam_msg *m = echoed(app, route, "first", 5);
    ockam_udp_bind *def = NULL;
    ockam_udp_bind_each(n1, find_default, &def);
    assert_non_null(def);
    tn_assert_route(
        ockam_msg_return(m), "0#%s => 2#[::1]:%s => 0#echo", ockam_udp_bind_address(def), n2.port);
    ockam_msg_free(m);
    struct ockam_udp_stats s = stats_of(def);
    assert_int_equal(s.resent, 1);
    assert_true(s.unreachable >= 1);
    assert_int_equal(s.send_dropped, 0);

    /* The working address is remembered: nothing is refused or sent twice any more. */
    m = echoed(app, route, "second", 6);
    ockam_msg_free(m);
    s = stats_of(def);
    assert_int_equal(s.resent, 1);
    assert_int_equal(stats_of(n2.bind).messages_in, 2);
    tn_free_all();
}

/* Through a bind's sender on [::]:0, several messages (one of three fragments) sent before
 * the first refusal comes back: each arrives once, in order. */
static void
test_bind_localhost_burst(void **state)
{
    NEED_IPV6();
    tu_side n1, n2;
    char route[256];
    static uint8_t big[1200];
    tu_fill(big, sizeof big, 7);
    peer_start(&n2, "[::1]:0");
    tu_side_start(&n1, NULL, "[::]:0", NULL);
    tn_probe *app = tn_probe_start(n1.node, "app");

    snprintf(route, sizeof route, "0#%s => 2#localhost:%s => 0#echo", n1.sender, n2.port);
    const char *small[] = {"one", "two", NULL, "four", "five"};
    for (int i = 0; i < 5; i++) {
        const void *p = small[i] ? (const void *)small[i] : big;
        size_t len = small[i] ? strlen(small[i]) : sizeof big;
        assert_int_equal(tn_send(tn_probe_worker(app), route, p, len), OCKAM_OK);
    }
    for (int i = 0; i < 5; i++) {
        ockam_msg *m = tn_probe_wait(app, TU_WAIT_MS);
        assert_non_null(m);
        if (small[i])
            tu_assert_payload(m, small[i], strlen(small[i]));
        else
            tu_assert_payload(m, big, sizeof big);
        tn_assert_route(ockam_msg_return(m), "0#%s => 2#[::1]:%s => 0#echo", n1.sender, n2.port);
        ockam_msg_free(m);
    }
    tn_drain();
    assert_int_equal(tn_probe_count(app), 0);
    assert_int_equal(stats_of(n2.bind).messages_in, 5); /* no duplicates */
    struct ockam_udp_stats s = stats_of(n1.bind);
    assert_true(s.resent >= 1 && s.resent <= 5);
    assert_int_equal(s.send_dropped, 0);
    tn_free_all();
}

/* A fixed peer given as localhost:P (the `udp-connection create` case). */
static void
test_fixed_peer_localhost(void **state)
{
    NEED_IPV6();
    tu_side n1, n2;
    char route[256], peer[64], v6[64];
    peer_start(&n2, "[::1]:0");
    snprintf(peer, sizeof peer, "localhost:%s", n2.port);
    tu_side_start(&n1, NULL, "[::]:0", peer);
    tn_probe *app = tn_probe_start(n1.node, "app");
    snprintf(v6, sizeof v6, "[::1]:%s", n2.port);

    assert_string_equal(ockam_udp_bind_peer_name(n1.bind), peer);
    snprintf(route, sizeof route, "0#%s => 0#echo", n1.sender);
    ockam_msg *m = echoed(app, route, "fixed", 5);
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#echo", n1.sender);
    ockam_msg_free(m);
    assert_string_equal(ockam_udp_bind_peer(n1.bind), v6);
    assert_string_equal(ockam_udp_bind_peer_name(n1.bind), peer);
    assert_int_equal(stats_of(n1.bind).foreign, 0);
    m = echoed(app, route, "again", 5);
    ockam_msg_free(m);
    assert_int_equal(stats_of(n1.bind).resent, 1);
    tn_free_all();
}

/* ---- a name whose first address is ::1, the peer on 127.0.0.1 only --------------------- */

static struct addrinfo *
answer_of(const char *const *ips, size_t n, struct addrinfo *ai, struct sockaddr_in6 *sa)
{
    for (size_t i = 0; i < n; i++) {
        memset(&ai[i], 0, sizeof ai[i]);
        memset(&sa[i], 0, sizeof sa[i]);
        if (strchr(ips[i], ':')) {
            assert_int_equal(uv_ip6_addr(ips[i], 0, &sa[i]), 0);
            ai[i].ai_family = AF_INET6;
            ai[i].ai_addrlen = sizeof(struct sockaddr_in6);
        } else {
            assert_int_equal(uv_ip4_addr(ips[i], 0, (struct sockaddr_in *)&sa[i]), 0);
            ai[i].ai_family = AF_INET;
            ai[i].ai_addrlen = sizeof(struct sockaddr_in);
        }
        ai[i].ai_socktype = SOCK_DGRAM;
        ai[i].ai_addr = (struct sockaddr *)&sa[i];
        ai[i].ai_next = i + 1 < n ? &ai[i + 1] : NULL;
    }
    return ai;
}

static void
test_name_v6_first_peer_on_v4(void **state)
{
    NEED_IPV6();
    tu_side n1, n2;
    char route[256], name[64];
    struct addrinfo ai[2];
    struct sockaddr_in6 sa[2];
    const char *order[] = {"::1", "127.0.0.1"};
    peer_start(&n2, "127.0.0.1:0");
    tu_side_start(&n1, NULL, "[::]:0", NULL);
    tn_probe *app = tn_probe_start(n1.node, "app");
    snprintf(name, sizeof name, "both.test:%s", n2.port);
    assert_int_equal(ockam__udp_name_answer(n1.bind, name, answer_of(order, 2, ai, sa)), OCKAM_OK);

    snprintf(route, sizeof route, "0#%s => 2#%s => 0#echo", n1.sender, name);
    ockam_msg *m = echoed(app, route, "v4 after v6", 11);
    /* The IPv4 peer of the dual-stack socket is named as IPv4 on the return route. */
    tn_assert_route(ockam_msg_return(m), "0#%s => 2#127.0.0.1:%s => 0#echo", n1.sender, n2.port);
    ockam_msg_free(m);
    assert_int_equal(stats_of(n1.bind).resent, 1);
    assert_int_equal(stats_of(n1.bind).send_dropped, 0);
    tn_free_all();
}

/* An IPv4 socket takes the IPv4 addresses of an answer only: nothing goes to ::1. */
static void
test_ipv4_socket_skips_v6(void **state)
{
    NEED_IPV6();
    tu_side n1, n2, n3;
    char route[256], name[64];
    struct addrinfo ai[2];
    struct sockaddr_in6 sa[2];
    const char *order[] = {"::1", "127.0.0.1"};
    peer_start(&n2, "127.0.0.1:0");
    tu_side_start(&n1, NULL, "127.0.0.1:0", NULL);
    tn_probe *app = tn_probe_start(n1.node, "app");
    snprintf(name, sizeof name, "both.test:%s", n2.port);
    assert_int_equal(ockam__udp_name_answer(n1.bind, name, answer_of(order, 2, ai, sa)), OCKAM_OK);
    snprintf(route, sizeof route, "0#%s => 2#%s => 0#echo", n1.sender, name);
    ockam_msg *m = echoed(app, route, "direct", 6);
    ockam_msg_free(m);
    assert_int_equal(stats_of(n1.bind).unreachable, 0);
    assert_int_equal(stats_of(n1.bind).resent, 0);

    /* localhost from an IPv4 socket is 127.0.0.1 alone: a peer on ::1 is out of reach, and
     * the refused message is counted once. */
    peer_start(&n3, "[::1]:0");
    snprintf(route, sizeof route, "0#%s => 2#localhost:%s => 0#echo", n1.sender, n3.port);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "lost", 4), OCKAM_OK);
    WAIT_STAT(n1.bind, send_dropped, 1);
    WAIT_STAT(n1.bind, unreachable, 1);
    tn_drain();
    assert_int_equal(stats_of(n1.bind).send_dropped, 1);
    assert_int_equal(stats_of(n1.bind).resent, 0);
    assert_int_equal(stats_of(n3.bind).datagrams_in, 0);
    tn_free_all();
}

/* ---- every address refuses, then the peer comes --------------------------------------- */

static void
test_all_refuse_then_start_again(void **state)
{
    NEED_IPV6();
    tu_side n1, n2;
    char route[256], at[64];
    tn_log_capture();
    peer_start(&n2, "[::1]:0");
    snprintf(at, sizeof at, "%s", n2.local);
    ockam_udp_bind_close(n2.bind);
    tn_drain();
    tu_side_start(&n1, NULL, "[::]:0", NULL);
    tn_probe *app = tn_probe_start(n1.node, "app");

    snprintf(route, sizeof route, "0#%s => 2#localhost:%s => 0#echo", n1.sender, n2.port);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "nobody", 6), OCKAM_OK);
    WAIT_STAT(n1.bind, send_dropped, 1);
    WAIT_STAT(n1.bind, unreachable, 2); /* 127.0.0.1, then ::1 */
    tn_drain();
    struct ockam_udp_stats s = stats_of(n1.bind);
    assert_int_equal(s.send_dropped, 1); /* one message, counted once */
    assert_int_equal(s.resent, 1);
    assert_true(tn_log_count("trying [::1]:") >= 1);
    assert_true(tn_log_count("no other address is left") >= 1);
    tn_log_release();

    /* The peer listens again (same port): the next message starts from 127.0.0.1 again. */
    ockam_udp_bind *back = tu_bind(n2.node, at, NULL);
    tu_allow(n2.node, back, "echo");
    ockam_msg *m = echoed(app, route, "somebody", 8);
    ockam_msg_free(m);
    assert_int_equal(stats_of(n1.bind).resent, 2);
    tn_free_all();
}

/* ---- a name resolved by the system's resolver ----------------------------------------- */

/* "127.1" is a name to our parser (not a dotted quad) that getaddrinfo answers without any
 * DNS server (inet_aton's form of 127.0.0.1): the asynchronous path, on any machine.
 * Messages wait for the answer in order; after the only address refused, the next message
 * resolves the name again and gets through once the peer is back. */
static void
test_resolved_name_waits_and_resolves_again(void **state)
{
    tu_side n1, n2;
    char route[256], at[64];
    peer_start(&n2, "127.0.0.1:0");
    snprintf(at, sizeof at, "%s", n2.local);
    tu_side_start(&n1, NULL, "127.0.0.1:0", NULL);
    tn_probe *app = tn_probe_start(n1.node, "app");
    snprintf(route, sizeof route, "0#%s => 2#127.1:%s => 0#echo", n1.sender, n2.port);

    const char *words[] = {"a", "bb", "ccc"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(tn_send(tn_probe_worker(app), route, words[i], i + 1), OCKAM_OK);
    for (int i = 0; i < 3; i++) {
        ockam_msg *m = tn_probe_wait(app, TU_WAIT_MS);
        assert_non_null(m);
        tu_assert_payload(m, words[i], i + 1);
        tn_assert_route(ockam_msg_return(m), "0#%s => 2#%s => 0#echo", n1.sender, at);
        ockam_msg_free(m);
    }

    /* Another peer, closed before it ever answered (a peer restarted on the same address
     * starts a new routing-number sequence, which n1's reassembly may take as late). */
    tu_side n3;
    peer_start(&n3, "127.0.0.1:0");
    snprintf(at, sizeof at, "%s", n3.local);
    ockam_udp_bind_close(n3.bind);
    tn_drain();
    snprintf(route, sizeof route, "0#%s => 2#127.1:%s => 0#echo", n1.sender, n3.port);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "gone", 4), OCKAM_OK);
    WAIT_STAT(n1.bind, send_dropped, 1);
    ockam_udp_bind *back = tu_bind(n3.node, at, NULL);
    tu_allow(n3.node, back, "echo");
    ockam_msg *m = echoed(app, route, "back", 4);
    ockam_msg_free(m);
    assert_int_equal(stats_of(n1.bind).send_dropped, 1);
    assert_int_equal(stats_of(n1.bind).resent, 0);
    tn_free_all();
}

/* ---- a pending ICMP error does not eat the next datagram ------------------------------ */

/* On Linux, the refusal of a datagram to a dead port is returned by the socket's NEXT send
 * (which then does not happen) when IP_RECVERR is on: that send must be made again. */
static void
test_pending_error_next_send_kept(void **state)
{
    tu_side n1, n2;
    char to_peer[256], to_dead[256];
    peer_start(&n2, "127.0.0.1:0");
    tu_side_start(&n1, NULL, "127.0.0.1:0", NULL);
    tn_probe *app = tn_probe_start(n1.node, "app");
    snprintf(to_peer, sizeof to_peer, "0#%s => 2#%s => 0#echo", n1.sender, n2.local);
    snprintf(
        to_dead, sizeof to_dead, "0#%s => 2#127.0.0.1:%u => 0#echo", n1.sender, dead_udp_port());

    enum { ROUNDS = 20 };
    for (int i = 0; i < ROUNDS; i++) {
        assert_int_equal(tn_send(tn_probe_worker(app), to_dead, "x", 1), OCKAM_OK);
        assert_int_equal(tn_send(tn_probe_worker(app), to_peer, "y", 1), OCKAM_OK);
    }
    assert_true(tn_probe_wait_total(app, ROUNDS, TU_WAIT_MS));
    WAIT_STAT(n1.bind, unreachable, ROUNDS);
    WAIT_STAT(n1.bind, send_dropped, ROUNDS);
    tn_drain();
    struct ockam_udp_stats s = stats_of(n1.bind);
    assert_int_equal(s.send_dropped, ROUNDS); /* exactly the messages to the dead port */
    assert_int_equal(s.messages_out, 2 * ROUNDS);
    assert_int_equal(stats_of(n2.bind).messages_in, ROUNDS);
    tn_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TN_TEST(test_first_hop_localhost_peer_on_v6),
        TN_TEST(test_bind_localhost_burst),
        TN_TEST(test_fixed_peer_localhost),
        TN_TEST(test_name_v6_first_peer_on_v4),
        TN_TEST(test_ipv4_socket_skips_v6),
        TN_TEST(test_all_refuse_then_start_again),
        TN_TEST(test_resolved_name_waits_and_resolves_again),
        TN_TEST(test_pending_error_next_send_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
