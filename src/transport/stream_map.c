/* Connection maps of the stream engine: a chained hash map from a 64-bit hash to
 * connections (flow id -> connection for backpressure, peer text -> connection for lazy
 * connects). The caller compares keys. */
#include "transport/stream.h"

static bool
cmap_grow(struct ockam__cmap *m)
{
    size_t nb = m->nbuckets ? m->nbuckets * 2 : 64;
    struct ockam__hent **b = ockam__zalloc(nb * sizeof *b);
    if (!b)
        return false;
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct ockam__hent *e = m->buckets[i];
        while (e) {
            struct ockam__hent *next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
            e = next;
        }
    }
    ockam__free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
    return true;
}

ockam_err
ockam__cmap_put(struct ockam__cmap *m, uint64_t hash, ockam_conn *c)
{
    if (m->count >= m->nbuckets && !cmap_grow(m) && m->nbuckets == 0)
        return OCKAM_ENOMEM;
    struct ockam__hent *e = ockam__alloc(sizeof *e);
    if (!e)
        return OCKAM_ENOMEM;
    e->hash = hash;
    e->conn = c;
    e->next = m->buckets[hash & (m->nbuckets - 1)];
    m->buckets[hash & (m->nbuckets - 1)] = e;
    m->count++;
    return OCKAM_OK;
}

void
ockam__cmap_del(struct ockam__cmap *m, uint64_t hash, ockam_conn *c)
{
    if (!m->nbuckets)
        return;
    for (struct ockam__hent **pp = &m->buckets[hash & (m->nbuckets - 1)]; *pp; pp = &(*pp)->next) {
        if ((*pp)->conn == c) {
            struct ockam__hent *e = *pp;
            *pp = e->next;
            ockam__free(e);
            m->count--;
            return;
        }
    }
}

void
ockam__cmap_fini(struct ockam__cmap *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct ockam__hent *e = m->buckets[i];
        while (e) {
            struct ockam__hent *next = e->next;
            ockam__free(e);
            e = next;
        }
    }
    ockam__free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->count = 0;
}
