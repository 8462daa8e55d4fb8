/* Secure channels end to end, every node in this process: over TCP, TCP -> TCP through a hop
 * (whose forwarded bytes are recorded: the plaintext never appears there), through a relay,
 * over UDP, a channel inside a channel; routes and the authenticated identifier at both ends;
 * 1 000 messages each way (rekeying); the largest message TCP carries; trust policies refusing
 * on both sides with nothing left behind; tampered, replayed and late frames dropped and
 * counted while good ones pass; identity-based access control; Close; half-open limits. */
#include "sc_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A node with a TCP listener, a secure-channel listener "api" reachable from it, and an echo
 * and a probe "svc" reachable from the channels of that listener. */
struct far {
    ockam_node *node;
    ockam_listener *tcp;
    ockam_identity *id;
    sc_listener sl;
    tn_probe *svc;
};

static void
far_start(struct far *f, const ockam_sc_listener_opts *opts)
{
    f->node = tn_node_new();
    assert_int_equal(ockam_tcp_init(f->node, NULL), OCKAM_OK);
    f->tcp = tn_tcp_listen(f->node, OCKAM_WIRE_CURRENT);
    f->id = sc_identity();
    sc_listen(&f->sl, f->node, f->id, "api", opts);
    assert_int_equal(
        ockam_flow_add_consumer(f->node, "api", ockam_listener_flow_id(f->tcp)), OCKAM_OK);
    ockam_flow_id sf = ockam_sc_listener_flow_id(f->sl.l);
    assert_int_equal(ockam_echo_start(f->node, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(f->node, "echo", sf), OCKAM_OK);
    f->svc = tn_probe_start(f->node, "svc");
    assert_int_equal(ockam_flow_add_consumer(f->node, "svc", sf), OCKAM_OK);
}

/* The near node: an app probe and a TCP connection to the far node; `to` is the route to the
 * far listener through it (freed by finish()). */
struct near {
    ockam_node *node;
    ockam_identity *id;
    tn_probe *app;
    ockam_conn *conn;
    ockam_route *to;
};

static void
near_start(struct near *n, struct far *f)
{
    n->node = tn_node_new();
    assert_int_equal(ockam_tcp_init(n->node, NULL), OCKAM_OK);
    n->id = sc_identity();
    n->app = tn_probe_start(n->node, "app");
    n->conn = NULL;
    n->to = NULL;
    if (!f)
        return;
    n->conn = tn_tcp_connect(n->node, ockam_listener_address(f->tcp), OCKAM_WIRE_CURRENT);
    n->to = tn_route("%s => api", ockam_conn_address(n->conn));
}

/* far (its listener with opts) and near connected to it. */
static void
both_start(struct far *f, struct near *n, const ockam_sc_listener_opts *opts)
{
    far_start(f, opts);
    near_start(n, f);
}

/* The channel near -> far along n->to, once the far end has accepted it. */
static ockam_sc *
open_accepted(struct far *f, struct near *n)
{
    ockam_sc *sc = sc_open(n->node, n->id, n->to, NULL);
    assert_true(sc_wait_accepted(&f->sl, 1));
    return sc;
}

/* far, a middle node whose spy forwards (and records) what comes in on one TCP connection to
 * the far node on another, and near connected to the middle node: n->to goes through the spy.
 * The channel along it is open (the spy has seen the handshake) when this returns. */
static spy *
open_spied(struct far *f, struct near *n, ockam_sc **sc)
{
    far_start(f, NULL);
    ockam_node *mid = tn_node_new();
    assert_int_equal(ockam_tcp_init(mid, NULL), OCKAM_OK);
    ockam_listener *ml = tn_tcp_listen(mid, OCKAM_WIRE_CURRENT);
    spy *s = spy_start(mid, "spy");
    assert_int_equal(ockam_flow_add_consumer(mid, "spy", ockam_listener_flow_id(ml)), OCKAM_OK);
    ockam_conn *c2 = tn_tcp_connect(mid, ockam_listener_address(f->tcp), OCKAM_WIRE_CURRENT);
    near_start(n, NULL);
    n->conn = tn_tcp_connect(n->node, ockam_listener_address(ml), OCKAM_WIRE_CURRENT);
    n->to = tn_route("%s => spy => %s => api", ockam_conn_address(n->conn), ockam_conn_address(c2));
    *sc = open_accepted(f, n);
    return s;
}

/* The end of every test: the route it kept (may be NULL), its nodes and identities. */
static void
finish(ockam_route *to)
{
    ockam_route_free(to);
    tn_free_all();
    sc_free_all();
}

static bool
never(void *arg)
{
    return false;
}

/* Let every node run for ms (to show that something does NOT happen). */
static void
run_for(uint64_t ms)
{
    tn_wait(never, NULL, ms);
}

static bool
relay_up(void *arg)
{
    return ockam_relay_client_state(arg) == OCKAM_RELAY_UP;
}

static bool
no_half_open(void *arg)
{
    return ockam_sc_listener_half_open(arg) == 0;
}

static void
send_via(tn_probe *from, const ockam_sc *sc, const char *dest, const void *data, size_t len)
{
    char route[128];
    snprintf(route, sizeof route, "%s => %s", ockam_sc_encryptor(sc), dest);
    assert_int_equal(tn_send(tn_probe_worker(from), route, data, len), OCKAM_OK);
}

static struct ockam_sc_stats
stats_of(const ockam_sc *sc)
{
    struct ockam_sc_stats s;
    ockam_sc_stats(sc, &s);
    return s;
}

static void
assert_payload(const ockam_msg *m, const void *data, size_t len)
{
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, len);
    assert_memory_equal(p.ptr, data, len);
}

static void
assert_identifier(const ockam_msg *m, const ockam_identity *id)
{
    char got[OCKAM_SC_IDENTIFIER_SIZE];
    assert_true(ockam_sc_msg_identifier(m, got));
    assert_string_equal(got, ockam_identity_identifier(id));
}

/* Echo through the channel and check both routes, the identifier and the origin. */
static void
check_echo(struct near *n, const ockam_sc *sc, const ockam_identity *far_id)
{
    send_via(n->app, sc, "echo", "hello", 5);
    ockam_msg *m = tn_probe_wait(n->app, SC_WAIT_MS);
    assert_non_null(m);
    assert_payload(m, "hello", 5);
    tn_assert_route(ockam_msg_onward(m), "0#app");
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#echo", ockam_sc_encryptor(sc));
    assert_identifier(m, far_id);
    assert_int_equal(ockam_msg_origin(m).producer, ockam_sc_flow_id(sc));
    ockam_msg_free(m);
}

static void
test_tcp(void **state)
{
    struct far f;
    struct near n;
    both_start(&f, &n, NULL);
    ockam_sc *sc = open_accepted(&f, &n);
    assert_string_equal(ockam_sc_peer(sc), ockam_identity_identifier(f.id));
    assert_true(ockam_sc_is_initiator(sc));
    ockam_sc *rs = f.sl.last;
    assert_string_equal(ockam_sc_peer(rs), ockam_identity_identifier(n.id));
    assert_false(ockam_sc_is_initiator(rs));
    assert_int_equal(ockam_sc_listener_half_open(f.sl.l), 0);

    check_echo(&n, sc, f.id);
    /* At the far end: the inner return route starts with the far encryptor. */
    send_via(n.app, sc, "svc", "to svc", 6);
    ockam_msg *m = tn_probe_wait(f.svc, SC_WAIT_MS);
    assert_non_null(m);
    tn_assert_route(ockam_msg_onward(m), "0#svc");
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#app", ockam_sc_encryptor(rs));
    assert_identifier(m, n.id);
    assert_int_equal(ockam_msg_origin(m).producer, ockam_sc_flow_id(rs));
    assert_int_equal(ockam_msg_origin(m).spawner, ockam_sc_listener_flow_id(f.sl.l));
    /* The far service answers through the channel. */
    assert_int_equal(ockam_reply(tn_probe_worker(f.svc), m, "back", 4), OCKAM_OK);
    m = tn_probe_wait(n.app, SC_WAIT_MS);
    assert_non_null(m);
    assert_payload(m, "back", 4);
    tn_assert_route(ockam_msg_return(m), "0#%s => 0#svc", ockam_sc_encryptor(sc));
    ockam_msg_free(m);
    assert_int_equal(stats_of(sc).sent, 2);
    assert_int_equal(stats_of(sc).received, 2);
    assert_int_equal(stats_of(rs).dropped_auth, 0);
    /* Out of the channel, only consumers of its flows: a worker that is not one gets nothing,
     * even though the channel itself authenticated the sender. */
    tn_probe *other = tn_probe_start(f.node, "other");
    tn_log_capture();
    send_via(n.app, sc, "other", "no", 2);
    send_via(n.app, sc, "svc", "yes", 3);
    assert_true(tn_probe_wait_total(f.svc, 2, SC_WAIT_MS));
    assert_int_equal(tn_probe_total(other), 0);
    assert_int_equal(tn_log_count("flow control denies"), 1);
    tn_log_release();
    finish(n.to);
}

/* Both ends on one node: the handshake and frames never leave it. */
static void
test_local(void **state)
{
    ockam_node *node = tn_node_new();
    ockam_identity *a = sc_identity(), *b = sc_identity();
    sc_listener sl;
    sc_listen(&sl, node, b, "api", NULL);
    assert_int_equal(ockam_echo_start(node, NULL, NULL), OCKAM_OK);
    assert_int_equal(
        ockam_flow_add_consumer(node, "echo", ockam_sc_listener_flow_id(sl.l)), OCKAM_OK);
    tn_probe *app = tn_probe_start(node, "app");
    ockam_route *to = tn_route("api");
    ockam_sc *sc = NULL;
    assert_int_equal(ockam_sc_create_sync(node, a, to, NULL, &sc), OCKAM_OK);
    struct near n = {.node = node, .app = app};
    check_echo(&n, sc, b);
    finish(to);
}

/* n1 -> n2 (a spy hop) -> n3: the middle node forwards only ciphertext. */
static void
test_hop_plaintext_never_seen(void **state)
{
    static const char secret[] = "the plaintext that must not leak 0123456789";
    struct far f;
    struct near n;
    ockam_sc *sc;
    spy *s = open_spied(&f, &n, &sc);
    for (int i = 0; i < 40; i++) {
        send_via(n.app, sc, "echo", secret, sizeof secret);
        ockam_msg *m = tn_probe_wait(n.app, SC_WAIT_MS);
        assert_non_null(m);
        assert_payload(m, secret, sizeof secret);
        tn_assert_route(ockam_msg_return(m), "0#%s => 0#echo", ockam_sc_encryptor(sc));
        ockam_msg_free(m);
    }
    /* The three handshake messages and 40 frames each way. */
    assert_int_equal(s->count, 3 + 80);
    assert_false(spy_saw(s, secret, sizeof secret - 1));
    assert_false(spy_saw(s, "echo", 4));                  /* inner routes hidden */
    assert_false(spy_saw(s, tn_probe_address(n.app), 3)); /* "app" */
    /* Message 1 is the bare ephemeral key; every frame is nonce + ciphertext + tag. */
    assert_int_equal(s->lens[0], 32);
    for (size_t i = 3; i < s->count; i++)
        assert_int_equal(s->lens[i], 24 + 4 + (1 + 8 + 7 + 2 + sizeof secret) + 1);
    finish(n.to);
}

/* n1 -> relay node -> n3 (which registered a relay): the channel goes through it. */
static void
test_relay(void **state)
{
    struct far f;
    struct near n;
    far_start(&f, NULL);
    ockam_node *rn = tn_node_new();
    ockam_listener *rl = tn_tcp_listen(rn, OCKAM_WIRE_CURRENT);
    ockam_flow_id rid = ockam_listener_flow_id(rl);
    ockam_relay_service_config rcfg = OCKAM_RELAY_SERVICE_CONFIG_INIT;
    rcfg.allow = &rid;
    rcfg.allow_count = 1;
    assert_int_equal(ockam_relay_service_start(rn, &rcfg, NULL), OCKAM_OK);
    /* The far node registers "far"; the relay's messages reach "api" through its connection,
     * whose spawner is `expose`. */
    ockam_flow_id expose = ockam_flow_id_new(f.node);
    assert_int_equal(ockam_flow_add_consumer(f.node, "api", expose), OCKAM_OK);
    ockam_route *rto = tn_route("1#%s", ockam_listener_address(rl));
    ockam_relay_client_config cc = OCKAM_RELAY_CLIENT_CONFIG_INIT;
    ockam_relay_client *rc;
    cc.to = rto;
    cc.name = "far";
    cc.expose = expose;
    assert_int_equal(ockam_relay_client_start(f.node, &cc, &rc), OCKAM_OK);
    near_start(&n, NULL);
    ockam_conn *c = tn_tcp_connect(n.node, ockam_listener_address(rl), OCKAM_WIRE_CURRENT);
    assert_true(tn_wait(relay_up, rc, SC_WAIT_MS));

    ockam_route *to = tn_route("%s => forward_to_far => api", ockam_conn_address(c));
    ockam_sc *sc = sc_open(n.node, n.id, to, NULL);
    check_echo(&n, sc, f.id);
    ockam_route_free(rto);
    finish(to);
}

/* Over UDP: the handshake and frames in UDP datagrams (fragmented for message 2 and 3). */
static void
test_udp(void **state)
{
    ockam_node *n1 = tn_node_new(), *n2 = tn_node_new();
    ockam_udp_bind *b1, *b2;
    assert_int_equal(ockam_udp_init(n1, NULL), OCKAM_OK);
    assert_int_equal(ockam_udp_init(n2, NULL), OCKAM_OK);
    assert_int_equal(ockam_udp_bind_open(n1, "127.0.0.1:0", NULL, &b1), OCKAM_OK);
    assert_int_equal(ockam_udp_bind_open(n2, "127.0.0.1:0", NULL, &b2), OCKAM_OK);
    ockam_identity *a = sc_identity(), *b = sc_identity();
    sc_listener sl;
    sc_listen(&sl, n2, b, "api", NULL);
    assert_int_equal(ockam_flow_add_consumer(n2, "api", ockam_udp_bind_flow_id(b2)), OCKAM_OK);
    assert_int_equal(ockam_echo_start(n2, NULL, NULL), OCKAM_OK);
    assert_int_equal(
        ockam_flow_add_consumer(n2, "echo", ockam_sc_listener_flow_id(sl.l)), OCKAM_OK);
    struct near n = {.node = n1, .app = tn_probe_start(n1, "app")};
    ockam_route *to
        = tn_route("0#%s => 2#%s => api", ockam_udp_bind_address(b1), ockam_udp_bind_local(b2));
    ockam_sc *sc = sc_open(n1, a, to, NULL);
    check_echo(&n, sc, b);
    /* 2 KiB: several datagrams per frame. */
    char big[2048];
    memset(big, 'u', sizeof big);
    send_via(n.app, sc, "echo", big, sizeof big);
    ockam_msg *m = tn_probe_wait(n.app, SC_WAIT_MS);
    assert_non_null(m);
    assert_payload(m, big, sizeof big);
    ockam_msg_free(m);
    finish(to);
}

/* A channel inside a channel: the inner handshake and frames travel as the outer payload. */
static void
test_nested(void **state)
{
    struct far f;
    struct near n;
    both_start(&f, &n, NULL);
    ockam_sc *outer = sc_open(n.node, n.id, n.to, NULL);
    /* A second listener on the far node, reachable only out of the first one's channels. */
    ockam_identity *inner_id = sc_identity();
    sc_listener l2;
    sc_listen(&l2, f.node, inner_id, "api2", NULL);
    assert_int_equal(
        ockam_flow_add_consumer(f.node, "api2", ockam_sc_listener_flow_id(f.sl.l)), OCKAM_OK);
    assert_int_equal(
        ockam_flow_add_consumer(f.node, "echo", ockam_sc_listener_flow_id(l2.l)), OCKAM_OK);
    ockam_route *to2 = tn_route("%s => api2", ockam_sc_encryptor(outer));
    ockam_identity *n_inner = sc_identity();
    ockam_sc *inner = sc_open(n.node, n_inner, to2, NULL);
    assert_string_equal(ockam_sc_peer(inner), ockam_identity_identifier(inner_id));
    assert_true(sc_wait_accepted(&l2, 1));
    assert_string_equal(ockam_sc_peer(l2.last), ockam_identity_identifier(n_inner));
    uint64_t outer_before = stats_of(outer).sent;
    check_echo(&n, inner, inner_id);
    /* The inner frame went through the outer channel. */
    assert_int_equal(stats_of(outer).sent, outer_before + 1);
    ockam_route_free(to2);
    finish(n.to);
}

static bool
probe_has_total(tn_probe *p, size_t total)
{
    return tn_probe_wait_total(p, total, 3 * SC_WAIT_MS);
}

/* 1 000 messages each way: keys change every 32 frames on both directions. */
static void
test_thousand_each_way(void **state)
{
    struct far f;
    struct near n;
    both_start(&f, &n, NULL);
    ockam_sc *sc = open_accepted(&f, &n);
    ockam_sc *rs = f.sl.last;
    for (uint32_t i = 0; i < 1000; i++)
        send_via(n.app, sc, "svc", &i, sizeof i);
    assert_true(probe_has_total(f.svc, 1000));
    char route[128];
    snprintf(route, sizeof route, "%s => app", ockam_sc_encryptor(rs));
    for (uint32_t i = 0; i < 1000; i++) {
        ockam_msg *m = tn_probe_wait(f.svc, 0);
        assert_non_null(m);
        assert_payload(m, &i, sizeof i); /* in order, each once */
        assert_identifier(m, n.id);
        ockam_msg_free(m);
        uint32_t back = 1000000 + i;
        assert_int_equal(tn_send(tn_probe_worker(f.svc), route, &back, sizeof back), OCKAM_OK);
    }
    assert_true(probe_has_total(n.app, 1000));
    for (uint32_t i = 0; i < 1000; i++) {
        ockam_msg *m = tn_probe_wait(n.app, 0);
        uint32_t back = 1000000 + i;
        assert_payload(m, &back, sizeof back);
        ockam_msg_free(m);
    }
    struct ockam_sc_stats a = stats_of(sc), b = stats_of(rs);
    assert_int_equal(a.sent, 1000);
    assert_int_equal(a.received, 1000);
    assert_int_equal(b.sent, 1000);
    assert_int_equal(b.received, 1000);
    assert_int_equal(a.dropped_auth + a.dropped_replay + b.dropped_auth + b.dropped_replay, 0);
    finish(n.to);
}

/* The largest message a TCP frame carries, through a channel, both ways; one byte more is
 * refused by the connection and the channel keeps working. */
static void
test_largest(void **state)
{
    struct far f;
    struct near n;
    both_start(&f, &n, NULL);
    ockam_sc *sc = open_accepted(&f, &n);
    /* The TCP body: [onward [decryptor], return [], frame] = 1 + 37 + 1 + 5 + frame bytes;
     * frame = 24 + plaintext; plaintext = 4 + [[echo], [app], payload] + 1 padding
     * = 4 + (1 + 8 + 7 + 5 + payload) + 1. The echo's reply has the same sizes. */
    size_t max = OCKAM_MAX_FRAME_CURRENT - (1 + 37 + 1 + 5) - 24 - (4 + 1 + 8 + 7 + 5 + 1);
    uint8_t *big = malloc(max + 64);
    for (size_t i = 0; i < max + 64; i++)
        big[i] = (uint8_t)(i * 7);
    send_via(n.app, sc, "echo", big, max);
    ockam_msg *m = tn_probe_wait(n.app, 3 * SC_WAIT_MS);
    assert_non_null(m);
    assert_payload(m, big, max);
    ockam_msg_free(m);
    tn_log_capture();
    send_via(n.app, sc, "echo", big, max + 64);
    send_via(n.app, sc, "echo", "after", 5);
    m = tn_probe_wait(n.app, SC_WAIT_MS);
    assert_non_null(m);
    assert_payload(m, "after", 5);
    ockam_msg_free(m);
    assert_int_equal(tn_log_count("message refused by the connection"), 1);
    tn_log_release();
    free(big);
    finish(n.to);
}

static size_t
worker_count(ockam_node *node)
{
    return ockam_node_worker_count(node);
}

/* The responder trusts only someone else: it drops message 3, opens nothing and keeps no
 * worker; what the initiator then sends never arrives. */
static void
test_responder_refuses(void **state)
{
    struct far f;
    struct near n;
    ockam_identity *other = sc_identity();
    const char *only[] = {ockam_identity_identifier(other)};
    ockam_sc_listener_opts lo = {.trust = {only, 1}};
    both_start(&f, &n, &lo);
    size_t far_workers = worker_count(f.node);
    tn_log_capture();
    ockam_sc *sc = sc_open(n.node, n.id, n.to, NULL); /* XX: the initiator is done first */
    send_via(n.app, sc, "echo", "x", 1);
    assert_null(tn_probe_wait(n.app, 300));
    assert_int_equal(f.sl.count, 0);
    assert_int_equal(ockam_sc_listener_half_open(f.sl.l), 0);
    assert_int_equal(worker_count(f.node), far_workers);
    assert_int_equal(tn_log_count("initiator not trusted"), 1);
    tn_log_release();
    finish(n.to);
}

/* The initiator trusts only someone else: its callback says OCKAM_EUNTRUSTED, it keeps no
 * worker, and the responder's half-open handshake is dropped after its timeout. */
static void
test_initiator_refuses(void **state)
{
    struct far f;
    struct near n;
    ockam_sc_listener_opts lo = {.handshake_timeout_ms = 200};
    both_start(&f, &n, &lo);
    size_t near_workers = worker_count(n.node), far_workers = worker_count(f.node);
    ockam_identity *other = sc_identity();
    const char *only[] = {ockam_identity_identifier(other)};
    ockam_sc_opts o = {.trust = {only, 1}};
    ockam_sc *sc = (ockam_sc *)1;
    assert_int_equal(sc_try_open(n.node, n.id, n.to, &o, &sc), OCKAM_EUNTRUSTED);
    assert_null(sc);
    assert_int_equal(worker_count(n.node), near_workers);
    assert_int_equal(ockam_sc_listener_half_open(f.sl.l), 1);
    assert_true(tn_wait(no_half_open, f.sl.l, SC_WAIT_MS));
    assert_int_equal(ockam_sc_listener_half_open(f.sl.l), 0);
    assert_int_equal(worker_count(f.node), far_workers);
    /* Trusting the right identifier (in upper case) works. */
    char upper[OCKAM_SC_IDENTIFIER_SIZE];
    snprintf(upper, sizeof upper, "%s", ockam_identity_identifier(f.id));
    for (char *p = upper + 1; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
    const char *good[] = {upper};
    o.trust = (ockam_sc_trust) {good, 1};
    assert_int_equal(sc_try_open(n.node, n.id, n.to, &o, &sc), OCKAM_OK);
    check_echo(&n, sc, f.id);
    finish(n.to);
}

/* No listener answers: the initiator times out and leaves nothing behind. */
static void
test_timeout(void **state)
{
    struct far f;
    struct near n;
    both_start(&f, &n, NULL);
    assert_int_equal(
        ockam_flow_add_consumer(f.node, "nobody", ockam_listener_flow_id(f.tcp)), OCKAM_OK);
    tn_probe *sink = tn_probe_start(f.node, "nobody");
    size_t near_workers = worker_count(n.node);
    ockam_route *to = tn_route("%s => nobody", ockam_conn_address(n.conn));
    ockam_sc_opts o = {.timeout_ms = 150};
    ockam_sc *sc;
    assert_int_equal(sc_try_open(n.node, n.id, to, &o, &sc), OCKAM_ETIMEDOUT);
    assert_int_equal(tn_probe_total(sink), 1);
    assert_int_equal(worker_count(n.node), near_workers);
    ockam_route_free(to);
    finish(n.to);
}

/* Tampered, replayed and late frames are dropped and counted; good ones still pass; the
 * connection stays up. */
static void
test_tamper_replay(void **state)
{
    struct far f;
    struct near n;
    ockam_sc *sc;
    spy *s = open_spied(&f, &n, &sc);
    ockam_sc *rs = f.sl.last;
    tn_log_capture();
    /* 0: tampered (dropped), 1: fine, 2: replayed (second copy dropped), 3: held. Each frame
     * passes the spy before the next mode is set. */
    static const spy_mode modes[4] = {SPY_TAMPER_NEXT, SPY_FORWARD, SPY_DUP_NEXT, SPY_HOLD_NEXT};
    for (uint32_t v = 0; v < 4; v++) {
        size_t seen = s->count;
        s->mode = modes[v];
        send_via(n.app, sc, "svc", &v, 4);
        assert_true(spy_wait_count(s, seen + 1));
    }
    assert_true(probe_has_total(f.svc, 3));
    for (uint32_t want = 1; want <= 3; want++) {
        ockam_msg *m = tn_probe_wait(f.svc, SC_WAIT_MS);
        assert_non_null(m);
        assert_payload(m, &want, 4);
        ockam_msg_free(m);
    }
    spy_replay_held(s);               /* late replay of frame 3 */
    for (uint32_t i = 4; i < 70; i++) /* past two rekeys */
        send_via(n.app, sc, "svc", &i, 4);
    assert_true(probe_has_total(f.svc, 3 + 66));
    run_for(50);
    assert_int_equal(tn_probe_total(f.svc), 3 + 66);
    struct ockam_sc_stats st = stats_of(rs);
    assert_int_equal(st.dropped_auth, 1);
    assert_int_equal(st.dropped_replay, 2);
    assert_int_equal(st.received, 3 + 66);
    assert_int_equal(tn_log_count("does not authenticate"), 1);
    assert_int_equal(tn_conn_count(f.node), 1); /* the connection is up */
    tn_log_release();
    finish(n.to);
}

static void
on_closed(ockam_sc *sc, void *user)
{
    (*(int *)user)++;
}

static bool
int_is_one(void *arg)
{
    return *(int *)arg == 1;
}

/* Close from the initiator closes the responder; a frame for the dead channel is dropped with
 * one log line. */
static void
test_close_and_dead_channel(void **state)
{
    struct far f;
    struct near n;
    ockam_sc *sc;
    spy *s = open_spied(&f, &n, &sc);
    size_t far_workers = worker_count(f.node);
    int closed_far = 0, closed_near = 0;
    ockam_sc_set_closed_cb(f.sl.last, on_closed, &closed_far);
    ockam_sc_set_closed_cb(sc, on_closed, &closed_near);
    s->mode = SPY_HOLD_NEXT;
    send_via(n.app, sc, "svc", "x", 1);
    assert_true(probe_has_total(f.svc, 1));
    size_t frames_before = s->count;
    ockam_sc_close(sc);
    assert_int_equal(closed_near, 1);
    assert_true(tn_wait(int_is_one, &closed_far, SC_WAIT_MS));
    assert_int_equal(worker_count(f.node), far_workers - 1);
    /* A Payload frame leaves its encryptor with an empty return route (the spy sees only the
     * connection's address); the Close frame comes from the encryptor: [conn, encryptor]. */
    assert_int_equal(s->count, frames_before + 1);
    assert_int_equal(s->ret_lens[frames_before - 1], 1);
    assert_int_equal(s->ret_lens[frames_before], 2);
    tn_log_capture();
    spy_replay_held(s);
    run_for(100);
    assert_int_equal(tn_log_count("no worker at"), 1);
    assert_int_equal(tn_probe_total(f.svc), 1);
    tn_log_release();
    finish(n.to);
}

/* A worker that requires the peer identifier: it gets messages from that identity's channel
 * only, never from another identity's channel nor from a plain connection. */
static void
test_identity_access(void **state)
{
    struct far f;
    struct near n, o;
    both_start(&f, &n, NULL);
    near_start(&o, &f);
    const char *only[] = {ockam_identity_identifier(n.id)};
    ockam_sc_trust allowed = {only, 1};
    tn_probe *guarded = tn_probe_start(f.node, "guarded");
    ockam_worker_set_incoming(tn_probe_worker(guarded),
        (ockam_access) {OCKAM_ACCESS_CALLBACK, ockam_sc_access_identity, &allowed});
    assert_int_equal(
        ockam_flow_add_consumer(f.node, "guarded", ockam_sc_listener_flow_id(f.sl.l)), OCKAM_OK);
    /* Reachable from the TCP listener too, so only the identity check stands in the way. */
    assert_int_equal(
        ockam_flow_add_consumer(f.node, "guarded", ockam_listener_flow_id(f.tcp)), OCKAM_OK);
    ockam_sc *good = sc_open(n.node, n.id, n.to, NULL);
    ockam_sc *bad = sc_open(o.node, o.id, o.to, NULL);
    send_via(n.app, good, "guarded", "yes", 3);
    send_via(o.app, bad, "guarded", "no", 2);
    char plain[128];
    snprintf(plain, sizeof plain, "%s => guarded", ockam_conn_address(o.conn));
    assert_int_equal(tn_send(tn_probe_worker(o.app), plain, "plain", 5), OCKAM_OK);
    assert_true(probe_has_total(guarded, 1));
    run_for(200);
    assert_int_equal(tn_probe_total(guarded), 1);
    ockam_msg *m = tn_probe_wait(guarded, 0);
    assert_payload(m, "yes", 3);
    ockam_msg_free(m);
    ockam_route_free(o.to);
    finish(n.to);
}

/* First messages beyond max_half_open are refused; half-open ones are reaped in time. */
static void
test_half_open_bound(void **state)
{
    struct far f;
    struct near n;
    ockam_sc_listener_opts lo = {.max_half_open = 3, .handshake_timeout_ms = 150};
    both_start(&f, &n, &lo);
    size_t far_workers = worker_count(f.node);
    char route[128];
    snprintf(route, sizeof route, "%s => api", ockam_conn_address(n.conn));
    tn_log_capture();
    uint8_t e[32];
    for (int i = 0; i < 10; i++) {
        memset(e, 9 + i, sizeof e); /* any 32 bytes pass for an ephemeral key */
        assert_int_equal(tn_send(tn_probe_worker(n.app), route, e, sizeof e), OCKAM_OK);
    }
    assert_true(probe_has_total(n.app, 3)); /* three message 2s */
    assert_int_equal(ockam_sc_listener_half_open(f.sl.l), 3);
    assert_int_equal(ockam_sc_listener_refused(f.sl.l), 7);
    assert_int_equal(tn_log_count("refusing more"), 1);
    assert_int_equal(worker_count(f.node), far_workers + 3);
    assert_true(tn_wait(no_half_open, f.sl.l, SC_WAIT_MS));
    assert_int_equal(ockam_sc_listener_half_open(f.sl.l), 0);
    assert_int_equal(worker_count(f.node), far_workers);
    tn_log_release();
    /* A real channel still opens. */
    ockam_sc *sc = sc_open(n.node, n.id, n.to, NULL);
    for (ockam_msg *m; (m = tn_probe_wait(n.app, 0)) != NULL;)
        ockam_msg_free(m); /* the three messages 2 */
    check_echo(&n, sc, f.id);
    finish(n.to);
}

/* Messages 1 too short for an ephemeral key: refused, nothing kept (LeakSanitizer checks
 * the buffer each one is read into), and the listener still works. */
static void
test_short_message_1(void **state)
{
    struct far f;
    struct near n;
    both_start(&f, &n, NULL);
    size_t far_workers = worker_count(f.node);
    char route[128];
    snprintf(route, sizeof route, "%s => api", ockam_conn_address(n.conn));
    for (size_t len = 0; len < 32; len += 7)
        assert_int_equal(
            tn_send(tn_probe_worker(n.app), route, "0123456789abcdef0123456789abcdef", len),
            OCKAM_OK);
    assert_true(tn_wait(no_half_open, f.sl.l, SC_WAIT_MS));
    tn_drain();
    assert_int_equal(worker_count(f.node), far_workers);
    assert_int_equal(tn_probe_total(n.app), 0); /* no message 2 */
    ockam_sc *sc = sc_open(n.node, n.id, n.to, NULL);
    check_echo(&n, sc, f.id);
    finish(n.to);
}

/* The initiator moves to a second connection; the responder follows on the first frame that
 * comes the new way (its nonce is above that of the last re-route), so the reply takes the new
 * connection too, even once the first one is closed. */
static void
test_responder_follows(void **state)
{
    struct far f;
    struct near n;
    both_start(&f, &n, NULL);
    ockam_sc *sc = open_accepted(&f, &n);
    ockam_sc *rs = f.sl.last;
    check_echo(&n, sc, f.id);
    char acc1[64];
    snprintf(acc1, sizeof acc1, "%s", ockam_conn_address(tn_only_accepted(f.node)));
    tn_assert_route(ockam_sc_remote_route(rs), "0#%s => 0#%s", acc1, ockam_sc_decryptor(sc));
    ockam_conn *c2 = tn_tcp_connect(n.node, ockam_listener_address(f.tcp), OCKAM_WIRE_CURRENT);
    ockam_route *via2 = tn_route("%s", ockam_conn_address(c2));
    assert_int_equal(ockam_sc_update_route(rs, via2), OCKAM_EINVAL); /* initiator only */
    assert_int_equal(ockam_sc_update_route(sc, via2), OCKAM_OK);
    check_echo(&n, sc, f.id);
    /* The responder's route now ends on the second connection's accepted side. */
    const ockam_route *r = ockam_sc_remote_route(rs);
    assert_int_equal(ockam_route_len(r), 2);
    assert_true(ockam_addr_is_local(ockam_route_back(r), ockam_sc_decryptor(sc)));
    char first[64];
    ockam_addr_format(ockam_route_front(r), first, sizeof first);
    assert_true(strstr(first, acc1) == NULL);
    ockam_conn_close(n.conn);
    check_echo(&n, sc, f.id);
    ockam_route_free(via2);
    finish(n.to);
}

/* Bad arguments are refused up front and leave nothing behind. */
static void
test_bad_arguments(void **state)
{
    ockam_node *node = tn_node_new();
    ockam_identity *a = sc_identity();
    ockam_sc_listener *l;
    size_t workers = ockam_node_worker_count(node);
    const char *bad[] = {"I1234"};
    ockam_sc_listener_opts lo = {.trust = {bad, 1}};
    assert_int_equal(ockam_sc_listen(node, a, "api", &lo, &l), OCKAM_EINVAL);
    assert_int_equal(ockam_sc_listen(node, a, "api", NULL, &l), OCKAM_OK);
    assert_int_equal(ockam_sc_listen(node, a, "api", NULL, &l), OCKAM_EEXIST);
    ockam_sc_listener_stop(l);
    assert_int_equal(ockam_node_worker_count(node), workers);
    ockam_route *empty = ockam_route_new(), *nowhere = tn_route("nobody");
    ockam_sc *sc;
    assert_int_equal(ockam_sc_create_sync(node, a, empty, NULL, &sc), OCKAM_EINVAL);
    tn_log_capture();
    assert_int_equal(ockam_sc_create_sync(node, a, nowhere, NULL, &sc), OCKAM_ENOENT);
    tn_log_release();
    ockam_sc_opts o = {.trust = {bad, 1}};
    assert_int_equal(ockam_sc_create_sync(node, a, nowhere, &o, &sc), OCKAM_EINVAL);
    assert_int_equal(ockam_node_worker_count(node), workers);
    ockam_route_free(empty);
    ockam_route_free(nowhere);
    finish(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TN_TEST(test_tcp),
        TN_TEST(test_local),
        TN_TEST(test_hop_plaintext_never_seen),
        TN_TEST(test_relay),
        TN_TEST(test_udp),
        TN_TEST(test_nested),
        TN_TEST(test_thousand_each_way),
        TN_TEST(test_largest),
        TN_TEST(test_responder_refuses),
        TN_TEST(test_initiator_refuses),
        TN_TEST(test_timeout),
        TN_TEST(test_tamper_replay),
        TN_TEST(test_close_and_dead_channel),
        TN_TEST(test_identity_access),
        TN_TEST(test_half_open_bound),
        TN_TEST(test_short_message_1),
        TN_TEST(test_responder_follows),
        TN_TEST(test_bad_arguments),
    };
    const char *only = getenv("SC_TEST");
    if (only) {
        struct CMUnitTest sel[32];
        size_t k = 0;
        for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
            if (strstr(only, tests[i].name))
                sel[k++] = tests[i];
        return _cmocka_run_group_tests("sel", sel, k, NULL, NULL);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
