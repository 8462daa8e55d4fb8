/* Secure-channel test helpers (see sc_util.h). */
#include "sc_util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_IDS 16

static ockam_vault *vault;
static ockam_identity *ids[MAX_IDS];
static size_t nids;
static spy *spies[8];
static size_t nspies;

ockam_identity *
sc_identity(void)
{
    if (!vault)
        assert_int_equal(ockam_vault_memory_new(&vault), OCKAM_OK);
    assert_true(nids < MAX_IDS);
    uint64_t now = (uint64_t)time(NULL);
    assert_int_equal(
        ockam_identity_create(vault, now - 60, OCKAM_IDENTITY_DEFAULT_TTL_S, &ids[nids]), OCKAM_OK);
    return ids[nids++];
}

static void
spy_free(spy *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->payloads[i]);
    free(s->payloads);
    free(s->lens);
    free(s->ret_lens);
    ockam_msg_free(s->held);
    free(s);
}

void
sc_free_all(void)
{
    for (size_t i = 0; i < nids; i++)
        ockam_identity_free(ids[i]);
    nids = 0;
    ockam_vault_free(vault);
    vault = NULL;
    for (size_t i = 0; i < nspies; i++)
        spy_free(spies[i]);
    nspies = 0;
}

/* ---- opening -------------------------------------------------------------------------- */

struct opening {
    bool done;
    ockam_err status;
    ockam_sc *sc;
};

static void
on_open(ockam_sc *sc, ockam_err status, void *user)
{
    struct opening *o = user;
    o->done = true;
    o->status = status;
    o->sc = sc;
}

static bool
opened(void *arg)
{
    return ((struct opening *)arg)->done;
}

ockam_err
sc_try_open(ockam_node *node, ockam_identity *id, const ockam_route *to, const ockam_sc_opts *opts,
    ockam_sc **out)
{
    struct opening o = {0};
    assert_int_equal(ockam_sc_create(node, id, to, opts, on_open, &o), OCKAM_OK);
    assert_false(o.done); /* never from inside the call */
    assert_true(tn_wait(opened, &o, 3 * SC_WAIT_MS));
    if (out)
        *out = o.sc;
    assert_true((o.status == OCKAM_OK) == (o.sc != NULL));
    return o.status;
}

ockam_sc *
sc_open(ockam_node *node, ockam_identity *id, const ockam_route *to, const ockam_sc_trust *trust)
{
    ockam_sc *sc = NULL;
    ockam_sc_opts opts = {0};
    if (trust)
        opts.trust = *trust;
    assert_int_equal(sc_try_open(node, id, to, &opts, &sc), OCKAM_OK);
    return sc;
}

static void
on_channel(ockam_sc *sc, void *user)
{
    sc_listener *s = user;
    s->last = sc;
    s->count++;
}

void
sc_listen(sc_listener *s, ockam_node *node, ockam_identity *id, const char *address,
    const ockam_sc_listener_opts *opts)
{
    ockam_sc_listener_opts o = {0};
    if (opts)
        o = *opts;
    o.on_channel = on_channel;
    o.user = s;
    memset(s, 0, sizeof *s);
    assert_int_equal(ockam_sc_listen(node, id, address, &o, &s->l), OCKAM_OK);
}

struct want {
    sc_listener *s;
    size_t count;
};

static bool
accepted_count(void *arg)
{
    struct want *w = arg;
    return w->s->count >= w->count;
}

bool
sc_wait_accepted(sc_listener *s, size_t count)
{
    struct want w = {s, count};
    return tn_wait(accepted_count, &w, SC_WAIT_MS);
}

/* ---- the spy hop ---------------------------------------------------------------------- */

static void
record(spy *s, ockam_slice p, size_t ret_len)
{
    if (s->count == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->payloads = realloc(s->payloads, s->cap * sizeof *s->payloads);
        s->lens = realloc(s->lens, s->cap * sizeof *s->lens);
        s->ret_lens = realloc(s->ret_lens, s->cap * sizeof *s->ret_lens);
        assert_non_null(s->ret_lens);
        assert_non_null(s->payloads);
        assert_non_null(s->lens);
    }
    s->payloads[s->count] = malloc(p.len ? p.len : 1);
    assert_non_null(s->payloads[s->count]);
    memcpy(s->payloads[s->count], p.ptr, p.len);
    s->ret_lens[s->count] = ret_len;
    s->lens[s->count++] = p.len;
}

static void
spy_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    spy *s = user;
    record(s, ockam_msg_payload(msg), ockam_route_len(ockam_msg_return(msg)));
    ockam_route_pop_front(ockam_msg_onward(msg));
    ockam_route_push_front(ockam_msg_return(msg), ockam_worker_addr(w));
    spy_mode mode = s->mode;
    s->mode = SPY_FORWARD;
    if (mode == SPY_TAMPER_NEXT) {
        ockam_slice p = ockam_msg_payload(msg);
        uint8_t *copy = malloc(p.len);
        memcpy(copy, p.ptr, p.len);
        copy[p.len - 1] ^= 0x01;
        ockam_msg_set_payload(msg, copy, p.len);
        free(copy);
    } else if (mode == SPY_DUP_NEXT) {
        ockam_forward(w, ockam_msg_clone(msg));
    } else if (mode == SPY_HOLD_NEXT) {
        ockam_msg_free(s->held);
        s->held = ockam_msg_clone(msg);
    }
    ockam_forward(w, msg);
}

spy *
spy_start(ockam_node *node, const char *address)
{
    spy *s = calloc(1, sizeof *s);
    assert_non_null(s);
    ockam_worker_opts o = {.on_message = spy_on_message, .user = s};
    assert_int_equal(ockam_worker_start(node, address, &o, &s->worker), OCKAM_OK);
    spies[nspies++] = s;
    return s;
}

bool
spy_saw(const spy *s, const void *needle, size_t len)
{
    for (size_t i = 0; i < s->count; i++) {
        if (memmem(s->payloads[i], s->lens[i], needle, len))
            return true;
    }
    return false;
}

void
spy_replay_held(spy *s)
{
    assert_non_null(s->held);
    ockam_forward(s->worker, ockam_msg_clone(s->held));
}

struct spy_want {
    spy *s;
    size_t count;
};

static bool
spy_reached(void *arg)
{
    struct spy_want *w = arg;
    return w->s->count >= w->count;
}

bool
spy_wait_count(spy *s, size_t count)
{
    struct spy_want w = {s, count};
    return tn_wait(spy_reached, &w, SC_WAIT_MS);
}
