/* Address registry: local address bytes -> entry (worker and flow-control consumer ids).
 * Open addressing with linear probing and backward-shift deletion; no tombstones, so lookups
 * stay short after millions of start/stop cycles. Loop thread only. */
#ifndef OCKAM_NODE_REGISTRY_H
#define OCKAM_NODE_REGISTRY_H

#include "core/core.h"
#include "ockam/node.h"

struct ockam__entry {
    struct ockam__entry *next_of_worker; /* the worker's other addresses */
    ockam_worker *worker;                /* NULL: only flow-control registrations so far */
    ockam_flow_id *consumes;             /* flow ids whose traffic may reach this address */
    uint32_t hash;
    uint16_t n_consumes;
    uint16_t cap_consumes;
    uint16_t len;
    bool any_origin;
    uint8_t key[];
};

struct ockam__registry {
    struct ockam__slot_ref {
        uint32_t hash;
        struct ockam__entry *entry;
    } * slots;
    size_t mask; /* capacity - 1; capacity is a power of two */
    size_t count;
    uint64_t removals; /* entries and consumer ids removed so far (see ockam__node_flow_epoch) */
};

void ockam__registry_init(struct ockam__registry *r);
void ockam__registry_fini(struct ockam__registry *r); /* frees every entry */
struct ockam__entry *ockam__registry_find(
    const struct ockam__registry *r, const uint8_t *key, size_t len);
/* Find or create; NULL on ENOMEM. */
struct ockam__entry *ockam__registry_get(struct ockam__registry *r, const uint8_t *key, size_t len);
/* Remove and free the entry. */
void ockam__registry_remove(struct ockam__registry *r, struct ockam__entry *e);
void ockam__registry_each(
    const struct ockam__registry *r, void (*fn)(struct ockam__entry *e, void *arg), void *arg);

bool ockam__entry_consumes(const struct ockam__entry *e, ockam_flow_id id);
ockam_err ockam__entry_add_consumer(struct ockam__entry *e, ockam_flow_id id);
void ockam__entry_remove_consumer(struct ockam__entry *e, ockam_flow_id id);

#endif
