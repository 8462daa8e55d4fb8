/* Address registry (see registry.h). */
#include "node/registry.h"

#define MIN_CAP 64u

/* Slots hold 32-bit hashes: the upper half of the 64-bit one. */
static uint32_t
hash_bytes(const uint8_t *p, size_t len)
{
    return (uint32_t)(ockam__hash_bytes(p, len) >> 32);
}

void
ockam__registry_init(struct ockam__registry *r)
{
    r->slots = NULL;
    r->mask = 0;
    r->count = 0;
    r->removals = 0;
}

void
ockam__registry_fini(struct ockam__registry *r)
{
    if (r->slots) {
        for (size_t i = 0; i <= r->mask; i++) {
            struct ockam__entry *e = r->slots[i].entry;
            if (e) {
                ockam__free(e->consumes);
                ockam__free(e);
            }
        }
    }
    ockam__free(r->slots);
    ockam__registry_init(r);
}

static bool
matches(const struct ockam__slot_ref *s, uint32_t h, const uint8_t *key, size_t len)
{
    const struct ockam__entry *e = s->entry;
    return s->hash == h && e->len == len && memcmp(e->key, key, len) == 0;
}

struct ockam__entry *
ockam__registry_find(const struct ockam__registry *r, const uint8_t *key, size_t len)
{
    if (!r->slots)
        return NULL;
    uint32_t h = hash_bytes(key, len);
    for (size_t i = h & r->mask;; i = (i + 1) & r->mask) {
        const struct ockam__slot_ref *s = &r->slots[i];
        if (!s->entry)
            return NULL;
        if (matches(s, h, key, len))
            return s->entry;
    }
}

static void
insert_slot(struct ockam__slot_ref *slots, size_t mask, uint32_t h, struct ockam__entry *e)
{
    size_t i = h & mask;
    while (slots[i].entry)
        i = (i + 1) & mask;
    slots[i].hash = h;
    slots[i].entry = e;
}

static bool
grow(struct ockam__registry *r)
{
    size_t cap = r->slots ? (r->mask + 1) * 2 : MIN_CAP;
    struct ockam__slot_ref *slots = ockam__zalloc(sizeof *slots * cap);
    if (!slots)
        return false;
    if (r->slots) {
        for (size_t i = 0; i <= r->mask; i++) {
            if (r->slots[i].entry)
                insert_slot(slots, cap - 1, r->slots[i].hash, r->slots[i].entry);
        }
    }
    ockam__free(r->slots);
    r->slots = slots;
    r->mask = cap - 1;
    return true;
}

struct ockam__entry *
ockam__registry_get(struct ockam__registry *r, const uint8_t *key, size_t len)
{
    struct ockam__entry *e = ockam__registry_find(r, key, len);
    if (e)
        return e;
    /* Keep the load factor at or below 1/2 so probe sequences stay short. */
    if ((r->count + 1) * 2 > (r->slots ? r->mask + 1 : 0) && !grow(r))
        return NULL;
    e = ockam__zalloc(sizeof *e + len);
    if (!e)
        return NULL;
    e->hash = hash_bytes(key, len);
    e->len = (uint16_t)len;
    memcpy(e->key, key, len);
    insert_slot(r->slots, r->mask, e->hash, e);
    r->count++;
    return e;
}

void
ockam__registry_remove(struct ockam__registry *r, struct ockam__entry *e)
{
    size_t i = e->hash & r->mask;
    while (r->slots[i].entry != e)
        i = (i + 1) & r->mask;
    /* Backward-shift deletion: pull later members of the probe run into the hole. */
    size_t hole = i;
    for (size_t j = (i + 1) & r->mask; r->slots[j].entry; j = (j + 1) & r->mask) {
        size_t home = r->slots[j].hash & r->mask;
        bool movable = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            r->slots[hole] = r->slots[j];
            hole = j;
        }
    }
    r->slots[hole].entry = NULL;
    r->slots[hole].hash = 0;
    r->count--;
    r->removals++;
    ockam__free(e->consumes);
    ockam__free(e);
}

void
ockam__registry_each(
    const struct ockam__registry *r, void (*fn)(struct ockam__entry *e, void *arg), void *arg)
{
    if (!r->slots)
        return;
    for (size_t i = 0; i <= r->mask; i++) {
        if (r->slots[i].entry)
            fn(r->slots[i].entry, arg);
    }
}

bool
ockam__entry_consumes(const struct ockam__entry *e, ockam_flow_id id)
{
    if (id == 0)
        return false;
    for (uint16_t i = 0; i < e->n_consumes; i++) {
        if (e->consumes[i] == id)
            return true;
    }
    return false;
}

ockam_err
ockam__entry_add_consumer(struct ockam__entry *e, ockam_flow_id id)
{
    if (ockam__entry_consumes(e, id))
        return OCKAM_OK;
    if (e->n_consumes == e->cap_consumes) {
        if (e->cap_consumes >= UINT16_MAX / 2)
            return OCKAM_ENOMEM;
        uint16_t cap = e->cap_consumes ? (uint16_t)(e->cap_consumes * 2) : 2;
        ockam_flow_id *c = ockam__realloc(e->consumes, sizeof *c * cap);
        if (!c)
            return OCKAM_ENOMEM;
        e->consumes = c;
        e->cap_consumes = cap;
    }
    e->consumes[e->n_consumes++] = id;
    return OCKAM_OK;
}

void
ockam__entry_remove_consumer(struct ockam__entry *e, ockam_flow_id id)
{
    for (uint16_t i = 0; i < e->n_consumes; i++) {
        if (e->consumes[i] == id) {
            e->consumes[i] = e->consumes[--e->n_consumes];
            return;
        }
    }
}
