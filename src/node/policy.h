/* The node's security policy (internal): the one place that decides what a message from another
 * node may reach. Transports and services call it; none re-implements a rule. The rules, in
 * the order a message meets them (docs/architecture.md §5; docs/security.md):
 *
 *  1. Locality. A message created on this node has the origin {0, 0}; a message that arrived
 *     through a transport carries the flow ids of the connection (producer) and listener
 *     (spawner) it came in on, and keeps them while local workers forward it.
 *     ockam_origin_is_local() (ockam/msg.h) is the only test for it.
 *  2. Flow control, default deny. A non-local message reaches a local address only when the
 *     address consumes its producer or spawner id, or accepts any origin
 *     (ockam__policy_flow_allows, called by the router for every local delivery).
 *  3. Senders accept any origin. A transport's sender worker (a connection's, a UDP bind's)
 *     only writes to a peer the node is already talking to, whose own flow control decides
 *     what it accepts; replies to remote peers travel through local workers and keep the
 *     remote origin, so denying them would cut every reply (ockam__policy_open_sender).
 *  4. Outgoing allow-list. A non-local message never makes a transport open a way to a new
 *     destination (TCP/UDS connect, UDP default bind, Kafka topic) unless the operator allowed
 *     that destination for that transport; "*" allows any (ockam__policy_may_reach). The list
 *     is the node's, kept per transport type, in the order given.
 *  5. Sender adoption. The local worker that sends through a flow (the front of the return
 *     route of a message handed to a connection, a bind or a topic) becomes a consumer of
 *     that flow, so the replies reach it (ockam__policy_adopt).
 *
 * Sender adoption is one behaviour for every transport (it used to differ per transport):
 *  - The worker must exist. A return route may name an address nobody runs; registering it
 *    would leave a grant behind that a worker started later under that name inherits.
 *  - Checked, not trusted: a registration is re-checked after any flow-control removal
 *    (ockam__node_flow_epoch); otherwise the last adopted sender is remembered, so the usual
 *    stream of messages from one worker costs one compare. A cache without the epoch goes
 *    stale when a worker stops and a new one reuses its name (its replies would be denied).
 *  - Tracked: the registrations a flow made are removed when the flow ends
 *    (ockam__policy_flow_fini), up to POLICY_MAX_TRACKED names per flow; beyond that they
 *    stay, harmless, since flow ids are never reused.
 *  - Which senders: any origin for a connection or bind (a hop forwarding a remote peer's
 *    message through a connection needs the replies), local origin only for a flow open to a
 *    whole cluster (OCKAM__FLOW_LOCAL_SENDERS, the Kafka inbox: every producer of the topic
 *    would otherwise reach a hop that merely forwarded someone else's message into Kafka).
 *
 * Threading: loop thread only. Hot-path checks are inline and cost what the copies they
 * replaced cost (one compare for a local message, one cached compare per adopted send). */
#ifndef OCKAM_NODE_POLICY_H
#define OCKAM_NODE_POLICY_H

#include "node/node_internal.h"
#include "node/registry.h"

/* ---- the node's policy state (embedded in the node) ----------------------------------- */

struct ockam__allow_entry {
    uint8_t type;
    uint16_t len;
    char *text; /* NUL-terminated, len bytes */
};

struct ockam__policy {
    struct ockam__allow_entry *allow; /* every transport's list, in the order given */
    size_t nallow;
    ockam_flow_id next_flow_id;
};

void ockam__policy_init(struct ockam__policy *p);
void ockam__policy_fini(struct ockam__policy *p);

/* ---- rule 2: flow control ------------------------------------------------------------- */

static inline bool
ockam__policy_flow_allows(const struct ockam__entry *e, ockam_origin o)
{
    if (ockam_origin_is_local(o))
        return true;
    return e->any_origin || ockam__entry_consumes(e, o.producer)
        || ockam__entry_consumes(e, o.spawner);
}

/* ---- rule 3: senders ------------------------------------------------------------------ */

/* Mark a transport's sender worker address (NUL-terminated) as reachable from any origin. */
ockam_err ockam__policy_open_sender(ockam_node *node, const char *address);

/* ---- rule 4: outgoing allow-list ------------------------------------------------------ */

/* Replace the allow-list of transport `type` (1..127) with list[0..count): destination texts
 * as the transport compares them (TCP/UDP "host:port", compared as endpoints: see
 * ockam__endpoint_canon; a UDS path, a Kafka topic), or "*". Copied. OCKAM_EINVAL (a NULL entry, or
 * list NULL with count > 0), OCKAM_ENOMEM; on error the previous list stays. A transport calls it
 * from its init. */
ockam_err ockam__policy_set_outgoing(
    ockam_node *node, uint8_t type, const char *const *list, size_t count);

/* True when dest[0..len) (or "*") is in the list of `type`. For TCP and UDP an entry and a
 * destination also match when they name the same endpoint (ockam__endpoint_canon): the
 * list is about where a connection goes, not how the address is spelled. */
bool ockam__policy_outgoing_listed(ockam_node *node, uint8_t type, const void *dest, size_t len);

/* ---- endpoints: when two "host:port" texts are the same place -------------------------- */

#define OCKAM__ENDPOINT_MAX 64 /* "[v6 address]:port" and NUL */

/* The rule, for TCP and UDP (lazy connection reuse and the allow-list follow it):
 *  - an IP literal is its normal form: "127.000.0.1:04000" and "127.0.0.1:4000" are one
 *    endpoint, "[::1]:80" and "[0:0::1]:80" too (port without leading zeros);
 *  - "localhost" (any case, RFC 6761) names both loopback addresses, "127.0.0.1:P" and
 *    "[::1]:P", without asking DNS -- as curl does -- so it is the same endpoint as either;
 *  - any other name is compared as written: it is only known to be the same as an address
 *    once a connection to it is made (the stream transport then also files the connection
 *    under the address it reached, so that address finds it too).
 * Writes up to two canonical texts to out and returns how many (0: an other name, or
 * malformed; 1: a literal; 2: localhost). No DNS, no sockets. */
size_t ockam__endpoint_canon(const void *text, size_t len, char out[2][OCKAM__ENDPOINT_MAX]);

/* True when a and b name a common endpoint by the rule above (or are the same text). */
bool ockam__endpoint_same(const void *a, size_t alen, const void *b, size_t blen);

/* May a message of origin o make transport `type` open a way to dest[0..len)? */
static inline bool
ockam__policy_may_reach(
    ockam_node *node, uint8_t type, ockam_origin o, const void *dest, size_t len)
{
    return ockam_origin_is_local(o) || ockam__policy_outgoing_listed(node, type, dest, len);
}

/* Call fn for each entry of `type`'s list, in order (for reporting). */
void ockam__policy_outgoing_each(
    ockam_node *node, uint8_t type, void (*fn)(const char *entry, void *arg), void *arg);

/* ---- rule 5: sender adoption ---------------------------------------------------------- */

#define OCKAM__FLOW_LOCAL_SENDERS 1u /* adopt only senders of locally created messages */

/* One flow of a transport (a connection, a bind, the Kafka inbox), embedded in its object. */
struct ockam__policy_flow {
    ockam_node *node;
    ockam_flow_id id;
    unsigned flags;
    /* The sender adopted last, valid while the node's flow epoch stays noted_epoch. */
    uint64_t noted_epoch;
    uint8_t noted_len; /* 0: none */
    char noted[OCKAM_RANDOM_ADDR_LEN];
    char **tracked; /* addresses this flow made consumers (removed by fini) */
    size_t ntracked, captracked;
};

/* A new flow id for the node (never 0, never reused). */
ockam_flow_id ockam__policy_new_flow_id(ockam_node *node);
/* Start a flow with a new id. */
void ockam__policy_flow_init(struct ockam__policy_flow *f, ockam_node *node, unsigned flags);
/* Remove every registration adoption made for this flow. Idempotent. */
void ockam__policy_flow_fini(struct ockam__policy_flow *f);

void ockam__policy_adopt_slow(struct ockam__policy_flow *f, ockam_addr sender);

/* The local worker at `sender` sent a message of origin o through flow f. */
static inline void
ockam__policy_adopt(struct ockam__policy_flow *f, ockam_addr sender, ockam_origin o)
{
    if (sender.type != OCKAM_TRANSPORT_LOCAL || sender.len == 0)
        return;
    if ((f->flags & OCKAM__FLOW_LOCAL_SENDERS) && !ockam_origin_is_local(o))
        return;
    if (f->noted_len && ockam__bytes_eq(f->noted, f->noted_len, sender)
        && ockam__node_flow_epoch(f->node) == f->noted_epoch)
        return;
    ockam__policy_adopt_slow(f, sender);
}

/* The same for a message about to go out through f: its sender is the return route's front. */
static inline void
ockam__policy_adopt_msg(struct ockam__policy_flow *f, const ockam_msg *m)
{
    if (ockam_route_len(&m->ret) > 0)
        ockam__policy_adopt(f, ockam_route_front(&m->ret), m->origin);
}

#endif
