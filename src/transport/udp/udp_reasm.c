/* UDP reassembly: peer table, Ockam's routing-number rules, memory caps (see udp_reasm.h). */
#include "transport/udp/udp_reasm.h"

#define MIN_BUCKETS 16u
#define MAX_BUCKETS 65536u
#define FIRST_CAP 1024u    /* first buffer of a multi-fragment message: two fragments fit */
#define LOGS_PER_SECOND 5u /* drop log lines per reasm per second, on top of once per peer */

/* ---- hashing ------------------------------------------------------------------------- */

static uint64_t
mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

/* Keyed, because remote peers choose their source ports and could otherwise aim every entry
 * at one chain. */
static uint32_t
key_hash(const struct ockam__udp_reasm *r, const struct ockam__udp_pkey *k)
{
    uint64_t w[3] = {0, 0, 0};
    memcpy(w, k, sizeof *k < sizeof w ? sizeof *k : sizeof w);
    uint64_t h = mix(mix(mix(r->seed, w[0]), w[1]), w[2]);
    return (uint32_t)(h ^ (h >> 32));
}

static bool
key_eq(const struct ockam__udp_pkey *a, const struct ockam__udp_pkey *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

/* ---- lists --------------------------------------------------------------------------- */

static void
recency_unlink(struct ockam__udp_reasm *r, struct ockam__udp_peer *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        r->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        r->tail = p->prev;
    p->prev = p->next = NULL;
}

static void
recency_push(struct ockam__udp_reasm *r, struct ockam__udp_peer *p)
{
    p->prev = NULL;
    p->next = r->head;
    if (r->head)
        r->head->prev = p;
    else
        r->tail = p;
    r->head = p;
}

static bool
in_partials(const struct ockam__udp_reasm *r, const struct ockam__udp_peer *p)
{
    return p->pprev || r->phead == p;
}

static void
partial_unlink(struct ockam__udp_reasm *r, struct ockam__udp_peer *p)
{
    if (!in_partials(r, p))
        return;
    if (p->pprev)
        p->pprev->pnext = p->pnext;
    else
        r->phead = p->pnext;
    if (p->pnext)
        p->pnext->pprev = p->pprev;
    else
        r->ptail = p->pprev;
    p->pprev = p->pnext = NULL;
    r->npartials--;
}

/* Most recent first, so the tail is always the next one to go stale. */
static void
partial_touch(struct ockam__udp_reasm *r, struct ockam__udp_peer *p, uint64_t now)
{
    partial_unlink(r, p);
    p->last_ms = now;
    p->pnext = r->phead;
    if (r->phead)
        r->phead->pprev = p;
    else
        r->ptail = p;
    r->phead = p;
    r->npartials++;
}

/* ---- memory -------------------------------------------------------------------------- */

static void
budget_add(struct ockam__udp_reasm *r, size_t n)
{
    r->budget->used += n;
    if (r->budget->used > r->budget->peak)
        r->budget->peak = r->budget->used;
    r->stats.bytes += n;
    if (r->stats.bytes > r->stats.peak)
        r->stats.peak = r->stats.bytes;
}

static void
budget_sub(struct ockam__udp_reasm *r, size_t n)
{
    r->budget->used -= n;
    r->stats.bytes -= n;
}

static void
release_done(struct ockam__udp_reasm *r)
{
    ockam__free(r->done);
    r->done = NULL;
}

/* Forget the message being assembled (keeps the expected number). */
static void
clear_partial(struct ockam__udp_reasm *r, struct ockam__udp_peer *p)
{
    partial_unlink(r, p);
    if (p->buf) {
        budget_sub(r, p->cap);
        ockam__free(p->buf);
    }
    p->buf = NULL;
    p->len = p->cap = 0;
    p->active = false;
}

static void
abandon(struct ockam__udp_reasm *r, struct ockam__udp_peer *p)
{
    if (!p->active)
        return;
    r->stats.abandoned++;
    clear_partial(r, p);
}

/* Capacity for `need` bytes: double up to the per-peer cap; fall back to the exact size when
 * the shared budget is tight. 0 when no capacity fits. */
static size_t
grow_to(const struct ockam__udp_reasm *r, const struct ockam__udp_peer *p, size_t need)
{
    if (need > r->cfg.peer_bytes)
        return 0;
    size_t cap = p->cap ? p->cap : FIRST_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > r->cfg.peer_bytes)
        cap = r->cfg.peer_bytes;
    size_t avail = r->budget->max - r->budget->used;
    if (cap - p->cap > avail)
        cap = need;
    return cap - p->cap > avail ? 0 : cap;
}

static bool
append(struct ockam__udp_reasm *r, struct ockam__udp_peer *p, ockam_slice data)
{
    size_t need = p->len + data.len;
    if (need > p->cap) {
        size_t cap = grow_to(r, p, need);
        if (!cap)
            return false;
        uint8_t *nb = ockam__realloc(p->buf, cap);
        if (!nb)
            return false;
        budget_add(r, cap - p->cap);
        p->buf = nb;
        p->cap = cap;
    }
    if (data.len)
        memcpy(p->buf + p->len, data.ptr, data.len);
    p->len = need;
    return true;
}

/* ---- logging ------------------------------------------------------------------------- */

bool
ockam__udp_reasm_log(struct ockam__udp_reasm *r, struct ockam__udp_peer *p, uint8_t kind,
    uint64_t now, const char *what)
{
    if (p && (p->logged & kind))
        return false;
    if (now / 1000 != r->log_second) {
        r->log_second = now / 1000;
        r->log_tokens = LOGS_PER_SECOND;
    }
    if (r->log_tokens == 0) {
        r->stats.logs_suppressed++;
        return false;
    }
    r->log_tokens--;
    if (!p) {
        OCKAM_LOG_W("udp %s: %s (at most %u such lines a second; the bind's stats count every one)",
            r->cfg.name, what, LOGS_PER_SECOND);
        return true;
    }
    p->logged |= kind;
    OCKAM_LOG_W("udp %s: %s from %s (logged once per peer; the bind's stats count every one)",
        r->cfg.name, what, p->text);
    return true;
}

/* ---- peers --------------------------------------------------------------------------- */

ockam_err
ockam__udp_reasm_init(struct ockam__udp_reasm *r, const struct ockam__udp_reasm_cfg *cfg,
    struct ockam__udp_budget *budget)
{
    memset(r, 0, sizeof *r);
    if (cfg->max_peers == 0 || cfg->peer_bytes == 0)
        return OCKAM_EINVAL;
    r->cfg = *cfg;
    r->budget = budget;
    uint32_t n = MIN_BUCKETS;
    while (n < cfg->max_peers && n < MAX_BUCKETS)
        n *= 2;
    r->buckets = ockam__zalloc(n * sizeof *r->buckets);
    if (!r->buckets)
        return OCKAM_ENOMEM;
    r->mask = n - 1;
    ockam__random_bytes(&r->seed, sizeof r->seed);
    r->log_tokens = LOGS_PER_SECOND;
    return OCKAM_OK;
}

static void
unhash(struct ockam__udp_reasm *r, struct ockam__udp_peer *p)
{
    struct ockam__udp_peer **pp = &r->buckets[p->hash & r->mask];
    while (*pp && *pp != p)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = p->hnext;
}

static void
peer_free(struct ockam__udp_reasm *r, struct ockam__udp_peer *p)
{
    clear_partial(r, p);
    unhash(r, p);
    recency_unlink(r, p);
    r->stats.peers--;
    ockam__free(p);
}

void
ockam__udp_reasm_fini(struct ockam__udp_reasm *r)
{
    release_done(r);
    while (r->head)
        peer_free(r, r->head);
    ockam__free(r->buckets);
    r->buckets = NULL;
}

struct ockam__udp_peer *
ockam__udp_reasm_find(struct ockam__udp_reasm *r, const struct ockam__udp_pkey *key)
{
    uint32_t h = key_hash(r, key);
    for (struct ockam__udp_peer *p = r->buckets[h & r->mask]; p; p = p->hnext) {
        if (p->hash == h && key_eq(&p->key, key))
            return p;
    }
    return NULL;
}

static void
evict_oldest(struct ockam__udp_reasm *r, uint64_t now)
{
    struct ockam__udp_peer *p = r->tail;
    r->stats.evicted++;
    if (p->active) {
        r->stats.abandoned++;
        ockam__udp_reasm_log(r, NULL, OCKAM__UDP_LOG_OTHER, now,
            "partial message dropped: peer table full, least recent peer "
            "forgotten");
    }
    p->active = false;
    peer_free(r, p);
}

struct ockam__udp_peer *
ockam__udp_reasm_peer(
    struct ockam__udp_reasm *r, const struct ockam__udp_pkey *key, uint64_t now, bool *created)
{
    struct ockam__udp_peer *p = ockam__udp_reasm_find(r, key);
    *created = false;
    if (p) {
        recency_unlink(r, p);
        recency_push(r, p);
        return p;
    }
    if (r->stats.peers >= r->cfg.max_peers)
        evict_oldest(r, now);
    p = ockam__zalloc(sizeof *p);
    if (!p)
        return NULL;
    p->key = *key;
    p->hash = key_hash(r, key);
    p->last_ms = now;
    p->hnext = r->buckets[p->hash & r->mask];
    r->buckets[p->hash & r->mask] = p;
    recency_push(r, p);
    r->stats.peers++;
    *created = true;
    return p;
}

/* ---- the rules ----------------------------------------------------------------------- */

/* The message being assembled (or starting) is lost: discard it, expect the next number. */
static void
lose_message(struct ockam__udp_reasm *r, struct ockam__udp_peer *p, uint16_t number)
{
    abandon(r, p);
    p->expected = (uint16_t)(number + 1);
}

/* A message start this far behind the expected number is not a straggler (datagrams are not
 * reordered by thousands): the peer restarted on the same address and began a new random
 * sequence. Ockam would drop it as late until the new numbers caught up (up to 32 768
 * messages); we adopt it. */
#define RESTART_DISTANCE 1024u

static bool
is_restart(const struct ockam__udp_peer *p, const ockam__udp_frag *f)
{
    uint16_t behind = (uint16_t)(p->expected - f->routing_number);
    return f->offset == 0 && behind > RESTART_DISTANCE;
}

/* Routing-number checks; false when the fragment is late. */
static bool
accept_number(
    struct ockam__udp_reasm *r, struct ockam__udp_peer *p, const ockam__udp_frag *f, uint64_t now)
{
    uint16_t number = f->routing_number;
    if (!p->started) { /* the first fragment from a peer sets the expected number */
        p->started = true;
        p->expected = number;
        return true;
    }
    if (number == p->expected)
        return true;
    if (!ockam__udp_rn_newer(p->expected, number) && is_restart(p, f)) {
        ockam__udp_reasm_log(r, p, OCKAM__UDP_LOG_NEWER, now,
            "the peer started a new message sequence (restarted?): following it");
        abandon(r, p);
        p->expected = number;
        return true;
    }
    if (!ockam__udp_rn_newer(p->expected, number)) {
        r->stats.late++;
        ockam__udp_reasm_log(r, p, OCKAM__UDP_LOG_LATE, now, "late fragment dropped");
        return false;
    }
    if (p->active)
        ockam__udp_reasm_log(
            r, p, OCKAM__UDP_LOG_NEWER, now, "partial message abandoned: a newer message started");
    abandon(r, p);
    p->expected = number;
    return true;
}

/* Checks on the offset; false when the message is lost. */
static bool
accept_offset(
    struct ockam__udp_reasm *r, struct ockam__udp_peer *p, const ockam__udp_frag *f, uint64_t now)
{
    if ((uint64_t)f->offset + f->data.len > r->cfg.max_message) {
        r->stats.bad_offset++;
        ockam__udp_reasm_log(r, p, OCKAM__UDP_LOG_MALFORMED, now,
            "fragment beyond the 16 MiB message limit dropped");
        lose_message(r, p, f->routing_number);
        return false;
    }
    if (f->offset != p->len) {
        r->stats.gaps++;
        ockam__udp_reasm_log(r, p, OCKAM__UDP_LOG_GAP, now,
            "message dropped: a fragment is missing or out of order");
        lose_message(r, p, f->routing_number);
        return false;
    }
    return true;
}

/* Hand the assembled buffer to the caller; it is freed on the next call. */
static enum ockam__reasm_result
complete(struct ockam__udp_reasm *r, struct ockam__udp_peer *p, ockam_slice *out)
{
    partial_unlink(r, p);
    budget_sub(r, p->cap);
    r->done = p->buf;
    *out = (ockam_slice) {.ptr = p->buf, .len = p->len};
    p->buf = NULL;
    p->len = p->cap = 0;
    p->active = false;
    p->expected++;
    return OCKAM__REASM_DONE;
}

enum ockam__reasm_result
ockam__udp_reasm_feed(struct ockam__udp_reasm *r, struct ockam__udp_peer *p,
    const ockam__udp_frag *f, uint64_t now, ockam_slice *out)
{
    release_done(r);
    if (!accept_number(r, p, f, now) || !accept_offset(r, p, f, now))
        return OCKAM__REASM_NONE;
    if (f->is_last && p->len == 0) {
        /* Single fragment: deliver straight from the datagram, no copy. */
        clear_partial(r, p);
        p->expected++;
        *out = f->data;
        return OCKAM__REASM_DONE;
    }
    if (!append(r, p, f->data)) {
        r->stats.over_cap++;
        ockam__udp_reasm_log(
            r, p, OCKAM__UDP_LOG_CAP, now, "message dropped: reassembly memory cap reached");
        lose_message(r, p, f->routing_number);
        return OCKAM__REASM_NONE;
    }
    p->active = true;
    if (f->is_last)
        return complete(r, p, out);
    partial_touch(r, p, now);
    return OCKAM__REASM_NONE;
}

void
ockam__udp_reasm_expire(struct ockam__udp_reasm *r, uint64_t now)
{
    release_done(r);
    while (r->ptail && r->ptail->last_ms + r->cfg.stale_ms <= now) {
        struct ockam__udp_peer *p = r->ptail;
        r->stats.stale++;
        ockam__udp_reasm_log(r, p, OCKAM__UDP_LOG_STALE, now,
            "partial message dropped: no fragment within the timeout");
        lose_message(r, p, p->expected);
    }
}

bool
ockam__udp_reasm_deadline(const struct ockam__udp_reasm *r, uint64_t *when)
{
    if (!r->ptail)
        return false;
    *when = r->ptail->last_ms + r->cfg.stale_ms;
    return true;
}
