/* TCP portals whose far node dies during a transfer (ockam/portal.h, "A dead route"): the
 * inlet's own transport connection stays up (the node in between lives), the node in between
 * drops the inlet's Payloads, and nothing ever comes back. The inlet's probe must declare the
 * route dead and reset the client: an error within a bound, never a hang, never a clean end
 * before all the bytes.
 *
 * Topologies: inlet n1 -> hop node -> outlet node n3 (the hop's lazy connection to n3 closes),
 * and inlet n1 -> relay node -> n3 (its relay goes with its connection); n3 restarted at once
 * behind the relay (the probe answers again; the liveness Query of docs/wire.md §7.5 finds the
 * old connection gone). And the other side of the rules: a connection idle for many probe
 * periods while the route is healthy survives, a slow download keeps the inlet UP, and a probe
 * that never answered resets nothing.
 *
 * The outlet's side ("A vanished inlet", §7.6): the inlet's node dies behind the hop or the
 * relay node while its client's connection is idle: the outlet's Asks go unanswered and it
 * resets its connection to the target. Every outlet here asks every PING_MS, so the tests of
 * healthy connections (idle, slow) check that its rule leaves them alone too. */
#include "nodes.h"
#include "portal_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 10000
#define PING_MS 100u
#define FAILURES 3u
/* The client must see the reset this soon after the outlet node dies: the probe's period
 * times the failures it takes, with a wide margin for a loaded machine. */
#define DEAD_BOUND_MS 5000
#define BODY (256u * 1024u * 1024u) /* far more than flows before the outlet node dies */

struct env {
    ockam_node *apps; /* the plain applications (server and client) */
    uv_loop_t *loop;
    ockam_node *n1, *mid, *n3; /* inlet node, node in between, outlet node */
    ockam_listener *lmid, *l3;
    ockam_relay_client *rc;
    ockam_inlet *inlet;
    uint16_t port;   /* the inlet's */
    uint16_t target; /* the server's, behind the outlet */
    int downs;       /* changes to DOWN */
};

static void
env_apps(struct env *e)
{
    memset(e, 0, sizeof *e);
    e->loop = pu_apps_start(&e->apps);
}

/* n3 runs the outlet to target and echo (the probe's end), both reachable through `flow`. */
static void
outlet_node(struct env *e, uint16_t target, ockam_flow_id flow)
{
    char text[32];
    snprintf(text, sizeof text, "127.0.0.1:%u", target);
    ockam_outlet_config cfg = OCKAM_OUTLET_CONFIG_INIT;
    cfg.target = text;
    cfg.ask_interval_ms = PING_MS;
    assert_int_equal(ockam_outlet_start(e->n3, &cfg, NULL), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(e->n3, "outlet", flow), OCKAM_OK);
    assert_int_equal(ockam_echo_start(e->n3, NULL, NULL), OCKAM_OK);
    assert_int_equal(ockam_flow_add_consumer(e->n3, "echo", flow), OCKAM_OK);
}

/* n1 -> 1#mid => hop => 1#n3 => outlet; the hop node may connect anywhere. */
static void
env_hop(struct env *e, uint16_t target, char *route, char *probe, size_t cap)
{
    static const char *const any[] = {"*"};
    e->mid = tn_node_new();
    ockam_tcp_config tcfg = OCKAM_TCP_CONFIG_INIT;
    tcfg.allowed_outgoing = any;
    tcfg.allowed_outgoing_count = 1;
    assert_int_equal(ockam_tcp_init(e->mid, &tcfg), OCKAM_OK);
    e->lmid = tn_tcp_listen(e->mid, OCKAM_WIRE_CURRENT);
    assert_int_equal(ockam_hop_start(e->mid, NULL, NULL), OCKAM_OK);
    assert_int_equal(
        ockam_flow_add_consumer(e->mid, "hop", ockam_listener_flow_id(e->lmid)), OCKAM_OK);
    e->n3 = tn_node_new();
    e->l3 = tn_tcp_listen(e->n3, OCKAM_WIRE_CURRENT);
    outlet_node(e, target, ockam_listener_flow_id(e->l3));
    const char *m = ockam_listener_address(e->lmid), *o = ockam_listener_address(e->l3);
    snprintf(route, cap, "1#%s => hop => 1#%s => outlet", m, o);
    snprintf(probe, cap, "1#%s => hop => 1#%s => echo", m, o);
}

/* n3 (again): no listener; it registers relay n3 at mid. */
static void
relayed_outlet_node(struct env *e, uint16_t target)
{
    e->n3 = tn_node_new();
    ockam_flow_id expose = ockam_flow_id_new(e->n3);
    outlet_node(e, target, expose);
    ockam_route *to = tn_route("1#%s", ockam_listener_address(e->lmid));
    ockam_relay_client_config ccfg = OCKAM_RELAY_CLIENT_CONFIG_INIT;
    ccfg.to = to;
    ccfg.name = "n3";
    ccfg.expose = expose;
    assert_int_equal(ockam_relay_client_start(e->n3, &ccfg, &e->rc), OCKAM_OK);
    ockam_route_free(to);
    assert_true(tn_wait(pu_relay_up, e->rc, WAIT_MS));
}

/* n1 -> 1#mid => forward_to_n3 => outlet; n3 has no listener and registers relay n3. */
static void
env_relay(struct env *e, uint16_t target, char *route, char *probe, size_t cap)
{
    e->mid = tn_node_new();
    e->lmid = tn_tcp_listen(e->mid, OCKAM_WIRE_CURRENT);
    ockam_flow_id lid = ockam_listener_flow_id(e->lmid);
    ockam_relay_service_config rcfg = OCKAM_RELAY_SERVICE_CONFIG_INIT;
    rcfg.allow = &lid;
    rcfg.allow_count = 1;
    assert_int_equal(ockam_relay_service_start(e->mid, &rcfg, NULL), OCKAM_OK);
    relayed_outlet_node(e, target);
    const char *m = ockam_listener_address(e->lmid);
    snprintf(route, cap, "1#%s => forward_to_n3 => outlet", m);
    snprintf(probe, cap, "1#%s => forward_to_n3 => echo", m);
}

static void
on_status(ockam_inlet *in, ockam_inlet_state state, void *user)
{
    struct env *e = user;
    if (state == OCKAM_INLET_DOWN)
        e->downs++;
}

static void
env_inlet(struct env *e, const char *route, const char *probe)
{
    e->n1 = tn_node_new();
    assert_int_equal(ockam_tcp_init(e->n1, NULL), OCKAM_OK);
    ockam_route *r = tn_route("%s", route), *p = tn_route("%s", probe);
    ockam_inlet_config cfg = OCKAM_INLET_CONFIG_INIT;
    cfg.bind = "127.0.0.1:0";
    cfg.outlet_route = r;
    cfg.ping_route = p;
    cfg.ping_interval_ms = PING_MS;
    cfg.max_failures = FAILURES;
    cfg.pong_timeout_ms = 1000; /* a new client while the route is dead: closed soon */
    cfg.on_status = on_status;
    cfg.user = e;
    assert_int_equal(ockam_inlet_start(e->n1, &cfg, &e->inlet), OCKAM_OK);
    ockam_route_free(r);
    ockam_route_free(p);
    const char *bind = ockam_inlet_bind_address(e->inlet);
    e->port = (uint16_t)atoi(strrchr(bind, ':') + 1);
}

static size_t
inlet_active(const ockam_inlet *in)
{
    struct ockam_portal_stats st;
    ockam_inlet_stats(in, &st);
    return st.active;
}

static bool
inlet_idle(void *arg)
{
    return inlet_active(arg) == 0;
}

/* apps, a server (`mode`, `bytes` for a source) behind the outlet node n3, reached through the
 * relay or the hop node, and the inlet on n1 (not yet UP). Without echo on n3 (stopped before
 * the inlet starts), the probe is never answered. */
static pu_server *
env_start(struct env *e, enum pu_mode mode, uint64_t bytes, bool through_relay, bool echo)
{
    char route[256], probe[256];
    env_apps(e);
    pu_server *srv = pu_server_start(e->loop, mode, bytes);
    e->target = pu_server_port(srv);
    if (through_relay)
        env_relay(e, e->target, route, probe, sizeof route);
    else
        env_hop(e, e->target, route, probe, sizeof route);
    if (!echo)
        assert_int_equal(ockam_worker_stop_at(e->n3, "echo"), OCKAM_OK);
    env_inlet(e, route, probe);
    return srv;
}

/* A download of BODY bytes is under way through the inlet, once UP: the client reads slowly,
 * has 2 MiB and has not ended. */
static pu_client *
download_under_way(struct env *e, bool through_relay)
{
    env_start(e, PU_SOURCE, BODY, through_relay, true);
    assert_true(tn_wait(pu_inlet_up, e->inlet, WAIT_MS));
    pu_client *c = pu_client_start(e->loop, e->port, 0, 0, false);
    pu_client_set_rate(c, 256u * 1024u, 10);
    pu_want w = {c, 2u * 1024u * 1024u};
    assert_true(tn_wait(pu_client_got, &w, WAIT_MS));
    assert_false(pu_client_ended(c));
    return c;
}

/* What happened to the outlet node (`what`) must end the download within DEAD_BOUND_MS in a
 * reset (an error, or an EOF libuv reports after one), never a clean short end. */
static void
expect_download_reset(struct env *e, pu_client *c, const char *what)
{
    uint64_t t0 = tn_now_ms();
    bool ended = tn_wait(pu_client_ended, c, DEAD_BOUND_MS);
    const pu_side *s = pu_client_side(c);
    print_message("after the outlet node %s: client %s after %llu ms (%llu bytes, eof %d, "
                  "reset %d, error %d), inlet %s, DOWN %d times\n",
        what, ended ? "ended" : "still waiting", (unsigned long long)(tn_now_ms() - t0),
        (unsigned long long)s->bytes_in, s->eof, s->reset, s->error,
        ockam_inlet_status(e->inlet) == OCKAM_INLET_UP ? "UP" : "DOWN", e->downs);
    assert_true(ended);
    assert_true(s->error != 0 || s->reset);
    assert_true(s->bytes_in < BODY);
}

/* The download is under way when n3 dies (freed: its sockets close as when its process is
 * killed). */
static void
download_then_kill(bool through_relay)
{
    struct env e;
    pu_client *c = download_under_way(&e, through_relay);
    tn_node_free(e.n3);
    e.n3 = NULL;
    expect_download_reset(&e, c, "died");
    assert_int_equal(ockam_inlet_status(e.inlet), OCKAM_INLET_DOWN);
    assert_non_null(strstr(ockam_inlet_last_error(e.inlet), "unanswered"));
    assert_true(tn_wait(inlet_idle, e.inlet, WAIT_MS));
    /* The inlet still listens: a new client is closed (no Pong comes), never left hanging. */
    pu_client *c2 = pu_client_start(e.loop, e.port, 0, 0, false);
    assert_true(tn_wait(pu_client_ended, c2, 2 * WAIT_MS));
    assert_int_equal(pu_client_side(c2)->bytes_in, 0);
    pu_teardown(NULL);
}

static void
test_outlet_node_dies_behind_hop(void **state)
{
    download_then_kill(false);
}

static void
test_outlet_node_dies_behind_relay(void **state)
{
    download_then_kill(true);
}

/* The outlet node dies and comes back at once (same relay name, same outlet address): the
 * probe answers again and the inlet never goes DOWN, but the new node has none of the old
 * connections' workers. The inlet's Query finds the download's worker gone: reset. */
static void
test_outlet_node_restarts_behind_relay(void **state)
{
    struct env e;
    pu_client *c = download_under_way(&e, true);
    tn_node_free(e.n3);
    relayed_outlet_node(&e, e.target);
    expect_download_reset(&e, c, "restarted");
    assert_int_equal(e.downs, 0); /* the probe alone would never have told */
    /* And the portal works through the new node. */
    pu_client *c2 = pu_client_start(e.loop, e.port, 0, 0, false);
    pu_want w2 = {c2, 1024u * 1024u};
    assert_true(tn_wait(pu_client_got, &w2, WAIT_MS));
    assert_true(pu_client_side(c2)->bytes_in >= 1024u * 1024u);
    pu_teardown(NULL);
}

/* A client (seed) through the echo server gets its 1000 bytes back, stays connected through
 * twenty probe periods of silence (the condition never holds: the loop runs them all) with the
 * inlet in `status`, then gets 4 more bytes back whole. */
static void
expect_silence_survived(struct env *e, uint64_t seed, ockam_inlet_state status)
{
    pu_client *c = pu_client_start(e->loop, e->port, seed, 1000, false);
    pu_want w = {c, 1000};
    assert_true(tn_wait(pu_client_got, &w, WAIT_MS));
    assert_false(tn_wait(pu_client_ended, c, 20 * PING_MS));
    assert_int_equal(ockam_inlet_status(e->inlet), status);
    pu_client_write(c, "more", 4);
    w.n = 1004;
    assert_true(tn_wait(pu_client_got, &w, WAIT_MS));
    assert_int_equal(pu_client_side(c)->bytes_in, 1004);
    assert_true(pu_client_side(c)->sum_in == pu_client_side(c)->sum_out);
    assert_false(pu_client_ended(c));
}

struct want_server {
    pu_server *s;
    uint64_t n;
};

static bool
server_got(void *arg)
{
    struct want_server *w = arg;
    return pu_server_totals(w->s).bytes_in >= w->n;
}

static bool
server_ended(void *arg)
{
    return pu_server_accepted(arg) == 1 && pu_server_open(arg) == 0;
}

/* The client has sent its request (64 KiB) and waits for an answer that does not come yet:
 * then the inlet's node dies (freed: its sockets close as when its process is killed). The
 * outlet's connection to the target must be reset, not left open until the target ends it. */
static void
inlet_node_dies(bool through_relay)
{
    struct env e;
    pu_server *dst = env_start(&e, PU_SINK, 0, through_relay, true);
    assert_true(tn_wait(pu_inlet_up, e.inlet, WAIT_MS));
    pu_client_start(e.loop, e.port, 5, 64u * 1024u, false);
    struct want_server w = {dst, 64u * 1024u};
    assert_true(tn_wait(server_got, &w, WAIT_MS));
    /* Idle for many periods while the inlet lives: its Here answers keep the connection. */
    assert_false(tn_wait(server_ended, dst, 20 * PING_MS));

    tn_node_free(e.n1);
    e.n1 = NULL;
    uint64_t t0 = tn_now_ms();
    bool ended = tn_wait(server_ended, dst, DEAD_BOUND_MS);
    pu_side s = pu_server_totals(dst);
    print_message("after the inlet node died: the target's connection %s after %llu ms (eof %d, "
                  "reset %d, error %d)\n",
        ended ? "ended" : "still open", (unsigned long long)(tn_now_ms() - t0), s.eof, s.reset,
        s.error);
    assert_true(ended);
    assert_true(s.error != 0 || s.reset); /* a reset, not a clean end of the request */
    assert_int_equal(s.bytes_in, 64u * 1024u);
    pu_teardown(NULL);
}

static void
test_inlet_node_dies_behind_hop(void **state)
{
    inlet_node_dies(false);
}

static void
test_inlet_node_dies_behind_relay(void **state)
{
    inlet_node_dies(true);
}

/* The rule must not touch healthy connections: a connection idle for many probe periods,
 * then used again, carries its bytes whole. */
static void
test_idle_connection_survives(void **state)
{
    struct env e;
    env_start(&e, PU_ECHO, 0, true, true);
    assert_true(tn_wait(pu_inlet_up, e.inlet, WAIT_MS));
    expect_silence_survived(&e, 3, OCKAM_INLET_UP);
    pu_teardown(NULL);
}

static bool
client_done(void *arg)
{
    pu_want *w = arg;
    const pu_side *s = pu_client_side(w->c);
    return s->eof || s->error;
}

/* Nor slow ones: a download read slowly for many probe periods keeps megabytes queued in
 * front of the probe's answers (and the inlet pauses its transport connection now and then):
 * the answers come late, the inlet stays UP and the download completes. */
static void
test_slow_download_stays_up(void **state)
{
    struct env e;
    const uint64_t len = 24u * 1024u * 1024u;
    pu_server *src = env_start(&e, PU_SOURCE, len, false, true);
    assert_true(tn_wait(pu_inlet_up, e.inlet, WAIT_MS));
    pu_client *c = pu_client_start(e.loop, e.port, 0, 0, false);
    pu_client_set_rate(c, 64u * 1024u, 10); /* about 6 MB/s: 4 s, 40 probe periods */
    pu_want w = {c, len};
    uint64_t t0 = tn_now_ms();
    assert_true(tn_wait(client_done, &w, 60000));
    print_message("24 MiB read slowly in %llu ms\n", (unsigned long long)(tn_now_ms() - t0));
    assert_true(pu_client_side(c)->eof);
    assert_false(pu_client_side(c)->reset);
    assert_true(pu_client_side(c)->bytes_in == len);
    assert_true(pu_client_side(c)->sum_in == pu_server_totals(src).sum_out);
    assert_int_equal(e.downs, 0);
    pu_teardown(NULL);
}

/* A probe that never answered (here: no echo on the outlet's node) says nothing about the
 * route: the inlet stays DOWN and its working connections are left alone. */
static void
test_probe_never_answered_resets_nothing(void **state)
{
    struct env e;
    env_start(&e, PU_ECHO, 0, true, false);
    expect_silence_survived(&e, 4, OCKAM_INLET_DOWN);
    pu_teardown(NULL);
}

/* Query and Gone on the wire (docs/wire.md §7.5): an outlet answers with the listed random
 * addresses that are no worker of its node, and says nothing when all live or the Query is
 * malformed. */
static void
test_query_bytes(void **state)
{
    ockam_node *n = tn_node_new();
    ockam_outlet_config cfg = OCKAM_OUTLET_CONFIG_INIT;
    cfg.target = "127.0.0.1:1";
    assert_int_equal(ockam_outlet_start(n, &cfg, NULL), OCKAM_OK);
    assert_int_equal(ockam_echo_start(n, NULL, NULL), OCKAM_OK);
    tn_probe *app = tn_probe_start(n, "a1b2c3d4e5f60718293a4b5c6d7e8f90");
    ockam_worker *w = tn_probe_worker(app);
    uint8_t q[64];
    /* A random address that is no worker here is gone; "nope" is not even asked about (only
     * random addresses are: the Query is about connections, not the node's services). */
    const char *gone = "ffffffffffffffffffffffffffffffff";
    size_t len = tn_hex("03 00 02 04 6e 6f 70 65 20", q, sizeof q);
    memcpy(q + len, gone, 32);
    assert_int_equal(tn_send(w, "outlet", q, len + 32), OCKAM_OK);
    ockam_msg *m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m);
    uint8_t want[64];
    size_t wlen = tn_hex("03 00 03 20", want, sizeof want);
    memcpy(want + wlen, gone, 32);
    wlen += 32;
    assert_int_equal(ockam_msg_payload(m).len, wlen);
    assert_memory_equal(ockam_msg_payload(m).ptr, want, wlen);
    tn_assert_route(ockam_msg_return_const(m), "0#outlet");
    ockam_msg_free(m);
    /* All alive (the probe's own address, as in the vector): no answer. Then malformed ones:
     * a length past the end, a zero length. Then one that is answered, which must come first. */
    len = tn_hex("03 00 02 20", q, sizeof q);
    memcpy(q + len, "a1b2c3d4e5f60718293a4b5c6d7e8f90", 32);
    assert_int_equal(tn_send(w, "outlet", q, len + 32), OCKAM_OK);
    len = tn_hex("03 00 02 09 6e 6f 70 65", q, sizeof q);
    assert_int_equal(tn_send(w, "outlet", q, len), OCKAM_OK);
    len = tn_hex("03 00 02 00", q, sizeof q);
    assert_int_equal(tn_send(w, "outlet", q, len), OCKAM_OK);
    len = tn_hex("03 00 02 20", q, sizeof q);
    memcpy(q + len, gone, 32);
    assert_int_equal(tn_send(w, "outlet", q, len + 32), OCKAM_OK);
    m = tn_probe_wait(app, WAIT_MS);
    assert_non_null(m);
    assert_int_equal(ockam_msg_payload(m).len, wlen);
    assert_memory_equal(ockam_msg_payload(m).ptr, want, wlen);
    ockam_msg_free(m);
    tn_drain();
    assert_int_equal(tn_probe_count(app), 0);
    tn_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_outlet_node_dies_behind_hop, pu_teardown),
        cmocka_unit_test_teardown(test_outlet_node_dies_behind_relay, pu_teardown),
        cmocka_unit_test_teardown(test_outlet_node_restarts_behind_relay, pu_teardown),
        cmocka_unit_test_teardown(test_inlet_node_dies_behind_hop, pu_teardown),
        cmocka_unit_test_teardown(test_inlet_node_dies_behind_relay, pu_teardown),
        cmocka_unit_test_teardown(test_idle_connection_survives, pu_teardown),
        cmocka_unit_test_teardown(test_slow_download_stays_up, pu_teardown),
        cmocka_unit_test_teardown(test_probe_never_answered_resets_nothing, pu_teardown),
        cmocka_unit_test_teardown(test_query_bytes, pu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
