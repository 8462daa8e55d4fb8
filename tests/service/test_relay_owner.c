/* Relay names and identities (ockam/relay.h, ownership), with real secure channels over TCP: a
 * name registered through a channel belongs to that identifier. The same identity registers
 * it again (over a new channel); another identity and a plaintext registration are refused,
 * both clients report the refusal, the relay node logs it, and the owner's relay keeps
 * forwarding after each refused attempt. A plaintext name is still taken over (and then
 * bound) by a channel registration. */
#include "../channel/sc_util.h"

#include <stdio.h>
#include <string.h>

#define WAIT_MS 10000

/* The relay node: a TCP listener, a secure-channel listener "api" reachable through it, and
 * the relay service reachable from both. */
struct relay_node {
    ockam_node *node;
    ockam_listener *l;
    sc_listener sl;
    ockam_relay_service *svc;
};

static void
relay_node_start(struct relay_node *r)
{
    r->node = tn_node_new();
    assert_int_equal(ockam_tcp_init(r->node, NULL), OCKAM_OK);
    r->l = tn_tcp_listen(r->node, OCKAM_WIRE_CURRENT);
    sc_listen(&r->sl, r->node, sc_identity(), "api", NULL);
    assert_int_equal(
        ockam_flow_add_consumer(r->node, "api", ockam_listener_flow_id(r->l)), OCKAM_OK);
    ockam_flow_id allow[2] = {ockam_listener_flow_id(r->l), ockam_sc_listener_flow_id(r->sl.l)};
    ockam_relay_service_config cfg = OCKAM_RELAY_SERVICE_CONFIG_INIT;
    cfg.allow = allow;
    cfg.allow_count = 2;
    assert_int_equal(ockam_relay_service_start(r->node, &cfg, &r->svc), OCKAM_OK);
}

/* A registering node with its own identity and a probe "p" that relayed messages reach. */
struct reg_node {
    ockam_node *node;
    ockam_identity *id;
    ockam_sc *sc;
    ockam_relay_client *rc;
    tn_probe *p;
};

static void
reg_node_new(struct reg_node *n)
{
    memset(n, 0, sizeof *n);
    n->node = tn_node_new();
    assert_int_equal(ockam_tcp_init(n->node, NULL), OCKAM_OK);
    n->id = sc_identity();
    n->p = tn_probe_start(n->node, "p");
}

/* A channel to the relay node; what comes out of it may reach "p". */
static ockam_sc *
open_channel(struct reg_node *n, struct relay_node *r)
{
    ockam_conn *c = tn_tcp_connect(n->node, ockam_listener_address(r->l), OCKAM_WIRE_CURRENT);
    ockam_route *to = tn_route("%s => api", ockam_conn_address(c));
    n->sc = sc_open(n->node, n->id, to, NULL);
    ockam_route_free(to);
    assert_int_equal(ockam_flow_add_consumer(n->node, "p", ockam_sc_flow_id(n->sc)), OCKAM_OK);
    return n->sc;
}

/* Register `name` through the channel (channel true) or in plaintext over TCP. */
static void
register_name(struct reg_node *n, struct relay_node *r, const char *name, bool channel)
{
    ockam_route *to = channel ? tn_route("%s", ockam_sc_encryptor(n->sc))
                              : tn_route("1#%s", ockam_listener_address(r->l));
    ockam_relay_client_config cfg = OCKAM_RELAY_CLIENT_CONFIG_INIT;
    cfg.to = to;
    cfg.name = name;
    cfg.ping_interval_ms = 60000;
    cfg.backoff_min_ms = 50;
    cfg.backoff_max_ms = 200;
    if (!channel) {
        cfg.expose = ockam_flow_id_new(n->node);
        assert_int_equal(ockam_flow_add_consumer(n->node, "p", cfg.expose), OCKAM_OK);
    }
    assert_int_equal(ockam_relay_client_start(n->node, &cfg, &n->rc), OCKAM_OK);
    ockam_route_free(to);
}

static bool
is_up(void *arg)
{
    return ockam_relay_client_state(arg) == OCKAM_RELAY_UP;
}

static bool
refused(void *arg)
{
    return strstr(ockam_relay_client_last_error(arg), "refused the registration") != NULL;
}

struct bound {
    const char *address;
    const char *identifier; /* found */
    bool found;
};

static void
find_relay(const ockam_relay_info *info, void *arg)
{
    struct bound *b = arg;
    if (strcmp(info->address, b->address) == 0) {
        b->found = true;
        b->identifier = info->identifier;
    }
}

/* The identifier the relay at `address` is bound to ("" if plaintext, NULL if none). */
static const char *
owner_of(struct relay_node *r, const char *address)
{
    struct bound b = {.address = address};
    ockam_relay_service_each(r->svc, find_relay, &b);
    if (!b.found)
        return NULL;
    return b.identifier ? b.identifier : "";
}

/* A third party sends one message through the relay: it must reach `to`'s probe. */
static void
assert_reaches(tn_probe *app, const char *via, const char *name, struct reg_node *to)
{
    char route[256];
    size_t before = tn_probe_total(to->p);
    snprintf(route, sizeof route, "%s => forward_to_%s => p", via, name);
    assert_int_equal(tn_send(tn_probe_worker(app), route, "hello", 5), OCKAM_OK);
    assert_true(tn_probe_wait_total(to->p, before + 1, WAIT_MS));
    ockam_msg *m = tn_probe_wait(to->p, WAIT_MS);
    assert_non_null(m);
    assert_int_equal(ockam_msg_payload(m).len, 5);
    assert_memory_equal(ockam_msg_payload(m).ptr, "hello", 5);
    ockam_msg_free(m);
}

/* A third party: a node with a probe "app" and a TCP connection to the relay node, whose
 * address is *via. */
static tn_probe *
third_party(struct relay_node *r, const char **via)
{
    ockam_node *t = tn_node_new();
    tn_probe *app = tn_probe_start(t, "app");
    ockam_conn *tc = tn_tcp_connect(t, ockam_listener_address(r->l), OCKAM_WIRE_CURRENT);
    *via = ockam_conn_address(tc);
    return app;
}

/* n: a new node with its own identity registers `name` through a new channel: UP. */
static void
register_bound(struct reg_node *n, struct relay_node *r, const char *name)
{
    reg_node_new(n);
    open_channel(n, r);
    register_name(n, r, name, true);
    assert_true(tn_wait(is_up, n->rc, WAIT_MS));
}

/* `name` is bound to n's identifier, and a third party reaches n through it. */
static void
assert_bound_to(struct relay_node *r, const char *name, struct reg_node *n)
{
    char address[OCKAM_MAX_ADDR_LEN + 1];
    const char *via;
    snprintf(address, sizeof address, "forward_to_%s", name);
    assert_string_equal(owner_of(r, address), ockam_identity_identifier(n->id));
    tn_probe *app = third_party(r, &via);
    assert_reaches(app, via, name, n);
}

static void
test_bound_name(void **state)
{
    struct relay_node r;
    struct reg_node a, b, plain, a2;
    relay_node_start(&r);
    const char *via;
    tn_probe *app = third_party(&r, &via);

    /* A registers "box" through its channel: bound to A. */
    reg_node_new(&a);
    open_channel(&a, &r);
    assert_true(sc_wait_accepted(&r.sl, 1));
    char gate[OCKAM_MAX_ADDR_LEN + 1];
    snprintf(gate, sizeof gate, "%s", ockam_sc_encryptor(r.sl.last));
    ockam_flow_id lflow = ockam_listener_flow_id(r.l);
    assert_false(ockam_flow_is_consumer(r.node, gate, lflow));
    register_name(&a, &r, "box", true);
    assert_true(tn_wait(is_up, a.rc, WAIT_MS));
    assert_string_equal(owner_of(&r, "forward_to_box"), ockam_identity_identifier(a.id));
    /* Third parties reach A's channel only through the relay that uses it. */
    assert_true(ockam_flow_is_consumer(r.node, gate, lflow));
    assert_reaches(app, via, "box", &a);

    /* B (another identity) is refused; its client says so; A's relay still forwards. */
    reg_node_new(&b);
    open_channel(&b, &r);
    tn_log_capture();
    register_name(&b, &r, "box", true);
    assert_true(tn_wait(refused, b.rc, WAIT_MS));
    assert_non_null(strstr(ockam_relay_client_last_error(b.rc), "bound to another identity"));
    assert_int_equal(ockam_relay_client_state(b.rc), OCKAM_RELAY_DOWN);
    assert_true(tn_log_count("registration of forward_to_box refused") >= 1);
    assert_int_equal(tn_log_count("is UP"), 0);
    tn_log_release();
    assert_int_equal(ockam_relay_service_count(r.svc), 1);
    assert_string_equal(owner_of(&r, "forward_to_box"), ockam_identity_identifier(a.id));
    assert_reaches(app, via, "box", &a);
    ockam_relay_client_stop(b.rc);

    /* A plaintext registration is refused too. */
    reg_node_new(&plain);
    register_name(&plain, &r, "box", false);
    assert_true(tn_wait(refused, plain.rc, WAIT_MS));
    assert_non_null(strstr(ockam_relay_client_last_error(plain.rc), "plaintext"));
    assert_int_equal(ockam_relay_client_state(plain.rc), OCKAM_RELAY_DOWN);
    assert_reaches(app, via, "box", &a);
    ockam_relay_client_stop(plain.rc);
    assert_int_equal(tn_probe_total(b.p) + tn_probe_total(plain.p), 0);

    /* A again, over a new channel (a new node with the same identity): accepted, and the
     * relay now goes through that channel. */
    memset(&a2, 0, sizeof a2);
    a2.node = tn_node_new();
    assert_int_equal(ockam_tcp_init(a2.node, NULL), OCKAM_OK);
    a2.id = a.id;
    a2.p = tn_probe_start(a2.node, "p");
    open_channel(&a2, &r);
    register_name(&a2, &r, "box", true);
    assert_true(tn_wait(is_up, a2.rc, WAIT_MS));
    assert_int_equal(ockam_relay_service_count(r.svc), 1);
    size_t old = tn_probe_total(a.p);
    assert_reaches(app, via, "box", &a2);
    assert_int_equal(tn_probe_total(a.p), old);
    /* The replaced relay's channel is closed to third parties again; the new one is open. */
    assert_false(ockam_flow_is_consumer(r.node, gate, lflow));
    assert_true(ockam_flow_is_consumer(r.node, ockam_sc_encryptor(r.sl.last), lflow));
    tn_free_all();
    sc_free_all();
}

/* A plaintext name is taken over by a channel registration, which binds it. */
static void
test_plaintext_name_taken_and_bound(void **state)
{
    struct relay_node r;
    struct reg_node plain, b;
    relay_node_start(&r);
    reg_node_new(&plain);
    register_name(&plain, &r, "open", false);
    assert_true(tn_wait(is_up, plain.rc, WAIT_MS));
    assert_string_equal(owner_of(&r, "forward_to_open"), "");
    register_bound(&b, &r, "open");
    assert_bound_to(&r, "open", &b);
    tn_free_all();
    sc_free_all();
}

/* A name that ends like the refusal's reason: the refusal still never ends with the name, so
 * the client cannot take it for a confirmation. */
static void
test_refusal_never_ends_with_name(void **state)
{
    static const char name[] = "another identity";
    struct relay_node r;
    struct reg_node a, b;
    relay_node_start(&r);
    register_bound(&a, &r, name);
    reg_node_new(&b);
    open_channel(&b, &r);
    register_name(&b, &r, name, true);
    assert_true(tn_wait(refused, b.rc, WAIT_MS));
    assert_null(ockam_relay_client_remote_address(b.rc));
    assert_int_equal(ockam_relay_client_registrations(b.rc), 0);
    tn_free_all();
    sc_free_all();
}

static size_t
relay_count(void *arg)
{
    return ockam_relay_service_count(arg);
}

static bool
no_relays(void *arg)
{
    return relay_count(arg) == 0;
}

/* A relay registered through a secure channel lives as long as that channel, as a plaintext
 * one lives as long as its connection: when the channel closes the relay goes (the TCP
 * connection under it stays up), and the name is free for another identity. */
static void
test_bound_relay_goes_with_its_channel(void **state)
{
    struct relay_node r;
    struct reg_node a, b;
    relay_node_start(&r);
    register_bound(&a, &r, "box");
    assert_int_equal(ockam_relay_service_count(r.svc), 1);
    ockam_relay_client_stop(a.rc); /* (its own connection is the channel's: nothing closes) */
    ockam_sc_close(a.sc);
    assert_true(tn_wait(no_relays, r.svc, WAIT_MS));
    assert_false(ockam_node_has_worker(r.node, "forward_to_box"));
    register_bound(&b, &r, "box");
    assert_bound_to(&r, "box", &b);
    tn_free_all();
    sc_free_all();
}

/* The relay node's end of the channel closes (the node closed it): the relay goes too. */
static void
test_bound_relay_goes_when_relay_node_closes_channel(void **state)
{
    struct relay_node r;
    struct reg_node a;
    relay_node_start(&r);
    register_bound(&a, &r, "box");
    assert_true(sc_wait_accepted(&r.sl, 1));
    ockam_sc_close(r.sl.last);
    assert_int_equal(ockam_relay_service_count(r.svc), 0);
    assert_false(ockam_node_has_worker(r.node, "forward_to_box"));
    tn_free_all();
    sc_free_all();
}

static bool
refused_with(struct reg_node *n, const char *why)
{
    if (!tn_wait(refused, n->rc, WAIT_MS))
        return false;
    return strstr(ockam_relay_client_last_error(n->rc), why) != NULL
        && ockam_relay_client_state(n->rc) == OCKAM_RELAY_DOWN;
}

/* A restricted service: only the listed identity registers (through a channel); another
 * identity and a plaintext registration are refused with a reason; "any channel peer" lets
 * every identity in but still no plaintext; lifting it lets plaintext in again. A
 * restriction removes the live relays it no longer allows. */
static void
test_restricted_registrants(void **state)
{
    struct relay_node r;
    struct reg_node a, b, plain, plain2, b2;
    relay_node_start(&r);
    reg_node_new(&a);
    reg_node_new(&b);
    reg_node_new(&plain);
    /* Before any restriction: a plaintext relay, removed by the restriction below. */
    register_name(&plain, &r, "early", false);
    assert_true(tn_wait(is_up, plain.rc, WAIT_MS));
    const char *aid = ockam_identity_identifier(a.id);
    ockam_sc_trust only_a = {.identifiers = &aid, .count = 1};
    assert_int_equal(ockam_relay_service_restrict(r.svc, &only_a), OCKAM_OK);
    assert_int_equal(ockam_relay_service_count(r.svc), 0);
    ockam_relay_client_stop(plain.rc);
    const char *bad = "Inot-an-identifier";
    ockam_sc_trust malformed = {.identifiers = &bad, .count = 1};
    assert_int_equal(ockam_relay_service_restrict(r.svc, &malformed), OCKAM_EINVAL);

    open_channel(&a, &r);
    register_name(&a, &r, "a", true);
    assert_true(tn_wait(is_up, a.rc, WAIT_MS));
    open_channel(&b, &r);
    tn_log_capture();
    register_name(&b, &r, "b", true);
    assert_true(refused_with(&b, "not allowed to register relays"));
    assert_true(tn_log_count("registration of forward_to_b refused") >= 1);
    tn_log_release();
    reg_node_new(&plain2);
    register_name(&plain2, &r, "p", false);
    assert_true(refused_with(&plain2, "only through a secure channel"));
    assert_int_equal(ockam_relay_service_count(r.svc), 1);
    assert_false(ockam_node_has_worker(r.node, "forward_to_b"));
    assert_false(ockam_node_has_worker(r.node, "forward_to_p"));
    ockam_relay_client_stop(b.rc);
    ockam_relay_client_stop(plain2.rc);

    /* Any channel peer: B gets in, plaintext still does not. */
    ockam_sc_trust any = {.identifiers = NULL, .count = 0};
    assert_int_equal(ockam_relay_service_restrict(r.svc, &any), OCKAM_OK);
    b2 = b;
    register_name(&b2, &r, "b", true);
    assert_true(tn_wait(is_up, b2.rc, WAIT_MS));
    assert_int_equal(ockam_relay_service_count(r.svc), 2);
    const char *via;
    tn_probe *app = third_party(&r, &via);
    assert_reaches(app, via, "b", &b2);
    assert_reaches(app, via, "a", &a);

    /* Lifted: plaintext again. */
    assert_int_equal(ockam_relay_service_restrict(r.svc, NULL), OCKAM_OK);
    register_name(&plain2, &r, "p", false);
    assert_true(tn_wait(is_up, plain2.rc, WAIT_MS));
    assert_int_equal(ockam_relay_service_count(r.svc), 3);
    tn_free_all();
    sc_free_all();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TN_TEST(test_bound_name),
        TN_TEST(test_plaintext_name_taken_and_bound),
        TN_TEST(test_refusal_never_ends_with_name),
        TN_TEST(test_bound_relay_goes_with_its_channel),
        TN_TEST(test_bound_relay_goes_when_relay_node_closes_channel),
        TN_TEST(test_restricted_registrants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
