/* TCP portals at close: nothing is lost silently when one side is done before the other.
 *
 * "Reply early": a server answers at once (5 MiB), half-closes its side, then reads the
 * client's upload to its end; the client uploads 64 MiB while it reads the reply. Through
 * inlet -> TCP -> outlet the client must get the whole reply and then EOF (never a short clean
 * EOF), and the server the whole upload. "Upload early" is the mirror: the client sends 5 MiB
 * and half-closes while the server streams 64 MiB to it.
 *
 * Both cases run with both sides speaking the half-close extension (everything arrives), and
 * with one side behaving as Ockam's portals (then the direction that is cut short ends in an
 * error at both ends, and the other arrives whole). Each runs PORTAL_CLOSE_RUNS times
 * (default 2; the short clean EOF showed in about 1 run in 4 before it was fixed, so loops of
 * 100 are run by hand: PORTAL_CLOSE_RUNS=100). PORTAL_CLOSE_VERBOSE=1 prints every run. */
#include "nodes.h"
#include "portal_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 120000
#define SMALL (5u * 1024u * 1024u)
#define BIG (64u * 1024u * 1024u)

struct env {
    ockam_node *apps, *n1, *n2;
    uv_loop_t *loop;
    ockam_listener *l2;
    ockam_outlet *outlet;
    ockam_inlet *inlet;
    uint16_t port;
    pu_server *srv;
    pu_client *c;
};

static int
runs(void)
{
    const char *v = getenv("PORTAL_CLOSE_RUNS");
    int n = v ? atoi(v) : 2;
    return n > 0 ? n : 1;
}

/* Which sides speak the half-close extension (both, or one behaving as Ockam's portals). */
enum hc_mode { HC_BOTH, HC_NOT_INLET, HC_NOT_OUTLET, HC_MODES };
static const char *const hc_name[HC_MODES] = {"both half-close", "inlet without", "outlet without"};

/* apps (plain libuv server and client) | n1: inlet | n2: listener, outlet -> server. */
static void
env_start(struct env *e, uint64_t server_bytes, enum hc_mode mode)
{
    char target[32];
    memset(e, 0, sizeof *e);
    e->loop = pu_apps_start(&e->apps);
    e->srv = pu_server_start(e->loop, PU_REPLY, server_bytes);
    snprintf(target, sizeof target, "127.0.0.1:%u", pu_server_port(e->srv));

    e->n2 = tn_node_new();
    e->l2 = tn_tcp_listen(e->n2, OCKAM_WIRE_CURRENT);
    ockam_outlet_config oc = OCKAM_OUTLET_CONFIG_INIT;
    oc.target = target;
    oc.no_half_close = mode == HC_NOT_OUTLET;
    assert_int_equal(ockam_outlet_start(e->n2, &oc, &e->outlet), OCKAM_OK);
    assert_int_equal(
        ockam_flow_add_consumer(e->n2, "outlet", ockam_listener_flow_id(e->l2)), OCKAM_OK);

    e->n1 = tn_node_new();
    assert_int_equal(ockam_tcp_init(e->n1, NULL), OCKAM_OK);
    ockam_inlet_config ic = OCKAM_INLET_CONFIG_INIT;
    ockam_route *r = tn_route("1#%s => outlet", ockam_listener_address(e->l2));
    ic.outlet_route = r;
    ic.bind = "127.0.0.1:0";
    ic.no_half_close = mode == HC_NOT_INLET;
    assert_int_equal(ockam_inlet_start(e->n1, &ic, &e->inlet), OCKAM_OK);
    ockam_route_free(r);
    const char *bound = ockam_inlet_bind_address(e->inlet);
    e->port = (uint16_t)atoi(strrchr(bound, ':') + 1);
}

/* The client's reading side has ended (EOF, or an error that closed it) and its sending side
 * is done or failed (a failed write alone does not stop it reading). */
static bool
client_finished(void *arg)
{
    struct env *e = arg;
    const pu_side *s = pu_client_side(e->c);
    return (s->eof || s->closed) && (pu_client_sent_all(e->c) || s->error);
}

static bool
server_finished(void *arg)
{
    struct env *e = arg;
    return pu_server_open(e->srv) == 0 && pu_server_accepted(e->srv) == 1;
}

static void
report(const char *what, int run, const struct env *e)
{
    const pu_side *c = pu_client_side(e->c);
    pu_side s = pu_server_totals(e->srv);
    fprintf(stderr,
        "%s run %d: client in %llu (eof %d, reset %d, error %s) out %llu; server in %llu (eof "
        "%d, reset %d, error %s) out %llu\n",
        what, run, (unsigned long long)c->bytes_in, c->eof, c->reset,
        c->error ? uv_err_name(c->error) : "none", (unsigned long long)c->bytes_out,
        (unsigned long long)s.bytes_in, s.eof, s.reset, s.error ? uv_err_name(s.error) : "none",
        (unsigned long long)s.bytes_out);
}

/* One direction: the receiver got every byte the sender wrote, or its reading side ended in
 * a reset. A short stream that ends like a complete one is what must never happen (a failed
 * write does not count: a reader in another thread would not see it). */
static bool
whole_or_reset(uint64_t got, uint64_t got_sum, uint64_t sent, uint64_t sent_sum, bool reset)
{
    return (got == sent && got_sum == sent_sum) || reset;
}

/* up: client -> server (the client's bytes_out), down: server -> client. `strict_*`: that
 * direction must arrive whole (no loss is allowed by the protocol in that case). */
static void
check(const char *what, int run, struct env *e, bool strict_up, bool strict_down)
{
    const pu_side *c = pu_client_side(e->c);
    pu_side s = pu_server_totals(e->srv);
    /* (a server whose last write failed may close before it reads the EOF) */
    bool up_whole = s.bytes_in == c->bytes_out && s.sum_in == c->sum_out && (s.eof || s.error);
    bool down_whole = c->bytes_in == s.bytes_out && c->sum_in == s.sum_out && c->eof;
    bool up_ok = strict_up
        ? up_whole
        : whole_or_reset(s.bytes_in, s.sum_in, c->bytes_out, c->sum_out, s.reset);
    bool down_ok = strict_down
        ? down_whole
        : whole_or_reset(c->bytes_in, c->sum_in, s.bytes_out, s.sum_out, c->reset);
    if (!up_ok || !down_ok || getenv("PORTAL_CLOSE_VERBOSE"))
        report(what, run, e);
    assert_true(up_ok);
    assert_true(down_ok);
}

/* The server answers 5 MiB at once, half-closes, then drains the client's 64 MiB upload. The
 * reply always arrives whole; the upload too when both sides half-close, and otherwise the
 * client and the server see an error. */
static void
reply_early_once(int run, enum hc_mode mode)
{
    struct env e;
    bool client_half_closes = run % 2 == 0;
    env_start(&e, SMALL, mode);
    e.c = pu_client_start(e.loop, e.port, 11, BIG, client_half_closes);
    /* A client busy with its upload reads the reply more slowly than the portal writes it:
     * most of the reply is still queued in the inlet's socket when the outlet's Disconnect
     * arrives (about 25 to 60 MB/s, changing between runs). */
    pu_client_set_rate(e.c, (128u + 64u * (unsigned)(run % 4)) * 1024u, 5);
    assert_true(tn_wait(client_finished, &e, WAIT_MS));
    if (!client_half_closes)
        pu_client_close(e.c, false); /* it has all it wanted: a full close */
    assert_true(tn_wait(server_finished, &e, WAIT_MS));
    check(hc_name[mode], run, &e, mode == HC_BOTH, true);
    pu_teardown(NULL);
}

static bool
case_wanted(const char *name)
{
    const char *only = getenv("PORTAL_CLOSE_CASE");
    return !only || strcmp(only, name) == 0;
}

static void
test_reply_early(void **state)
{
    if (!case_wanted("reply"))
        return;
    const char *only = getenv("PORTAL_CLOSE_MODE");
    for (int m = only ? atoi(only) : 0; m < (only ? atoi(only) + 1 : HC_MODES); m++) {
        for (int i = 0; i < runs(); i++)
            reply_early_once(i, (enum hc_mode)m);
    }
}

/* The mirror: the client sends 5 MiB and half-closes while the server streams 64 MiB. */
static void
upload_early_once(int run, enum hc_mode mode)
{
    struct env e;
    env_start(&e, BIG, mode);
    e.c = pu_client_start(e.loop, e.port, 12, SMALL, true);
    assert_true(tn_wait(client_finished, &e, WAIT_MS));
    pu_client_close(e.c, false);
    assert_true(tn_wait(server_finished, &e, WAIT_MS));
    check(hc_name[mode], run, &e, true, mode == HC_BOTH);
    pu_teardown(NULL);
}

static void
test_upload_early(void **state)
{
    if (!case_wanted("upload"))
        return;
    const char *only = getenv("PORTAL_CLOSE_MODE");
    for (int m = only ? atoi(only) : 0; m < (only ? atoi(only) + 1 : HC_MODES); m++) {
        for (int i = 0; i < runs(); i++)
            upload_early_once(i, (enum hc_mode)m);
    }
}

int
main(void)
{
    if (getenv("PORTAL_CLOSE_DEBUG"))
        ockam_log_set_level(OCKAM_LOG_DEBUG);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_reply_early, pu_teardown),
        cmocka_unit_test_teardown(test_upload_early, pu_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
