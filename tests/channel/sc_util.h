/* Helpers for the secure-channel tests: identities in one in-memory vault, opening channels
 * while several nodes run (tn_wait), and a "spy" hop for the node in the middle that records
 * every payload it forwards and can tamper with, replay or hold frames.
 *
 * Ownership: identities and spies belong to the helpers; sc_free_all() frees them (call it
 * after tn_free_all()). Threading: the test thread, which runs every node. */
#ifndef OCKAM_TESTS_CHANNEL_SC_UTIL_H
#define OCKAM_TESTS_CHANNEL_SC_UTIL_H

#include "ockam/ockam.h"
#include "support/nodes.h"

#define SC_WAIT_MS 10000

ockam_identity *sc_identity(void);
void sc_free_all(void);

/* Open a channel (asserting success) while every tn node runs. */
ockam_sc *sc_open(
    ockam_node *node, ockam_identity *id, const ockam_route *to, const ockam_sc_trust *trust);
/* Try to open one; returns the status the callback got (asserts it came in time). */
ockam_err sc_try_open(ockam_node *node, ockam_identity *id, const ockam_route *to,
    const ockam_sc_opts *opts, ockam_sc **out);

/* A listener that keeps the channels it accepted (last one in `last`, count in `count`). */
typedef struct sc_listener {
    ockam_sc_listener *l;
    ockam_sc *last;
    size_t count;
} sc_listener;

void sc_listen(sc_listener *s, ockam_node *node, ockam_identity *id, const char *address,
    const ockam_sc_listener_opts *opts);
/* Wait until the listener accepted `count` channels in all. */
bool sc_wait_accepted(sc_listener *s, size_t count);

/* ---- the spy hop ---------------------------------------------------------------------- */

typedef enum spy_mode {
    SPY_FORWARD,     /* forward as is */
    SPY_TAMPER_NEXT, /* flip a bit of the next payload's last byte, then forward it */
    SPY_DUP_NEXT,    /* forward the next one twice (a replay) */
    SPY_HOLD_NEXT,   /* keep a copy of the next one, forward it */
} spy_mode;

typedef struct spy {
    ockam_worker *worker;
    spy_mode mode;
    uint8_t **payloads; /* every payload forwarded, as received */
    size_t *lens;
    size_t *ret_lens; /* return-route length of each message as it arrived */
    size_t count, cap;
    ockam_msg *held;
} spy;

/* A hop worker (pops itself, pushes itself on the return route, forwards) that records. */
spy *spy_start(ockam_node *node, const char *address);
/* True when `needle` appears in any payload the spy forwarded. */
bool spy_saw(const spy *s, const void *needle, size_t len);
/* Wait until the spy has forwarded `count` messages in all. */
bool spy_wait_count(spy *s, size_t count);
/* Forward a copy of the held message again (a late replay). */
void spy_replay_held(spy *s);

#endif
