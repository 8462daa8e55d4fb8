/* The intrusive doubly linked list: an element embeds a struct ockam__link, a list is a head
 * link that points to itself when empty (so insert and remove never test for NULL or for
 * the ends). Not thread-safe: a list belongs to its owner's thread. */
#ifndef OCKAM_CORE_LIST_H
#define OCKAM_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct ockam__link {
    struct ockam__link *prev, *next;
};

/* The element that embeds link l as its member `member`. */
#define OCKAM__CONTAINER_OF(l, type, member) ((type *)(void *)((char *)(l)-offsetof(type, member)))

/* An empty list, or an element on no list (ockam__link_del then does nothing harmful). */
static inline void
ockam__link_init(struct ockam__link *l)
{
    l->prev = l->next = l;
}

static inline bool
ockam__link_empty(const struct ockam__link *head)
{
    return head->next == head;
}

/* Append l (on no list) at the tail of head. */
static inline void
ockam__link_push(struct ockam__link *head, struct ockam__link *l)
{
    l->prev = head->prev;
    l->next = head;
    head->prev->next = l;
    head->prev = l;
}

/* Insert l (on no list) at the front of head. */
static inline void
ockam__link_push_front(struct ockam__link *head, struct ockam__link *l)
{
    ockam__link_push(head->next, l);
}

/* Take l off its list; it is then on none (ockam__link_init). */
static inline void
ockam__link_del(struct ockam__link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    ockam__link_init(l);
}

/* Move every element of src to dst (whatever dst held is forgotten); src is then empty. */
static inline void
ockam__link_take(struct ockam__link *dst, struct ockam__link *src)
{
    ockam__link_init(dst);
    if (ockam__link_empty(src))
        return;
    dst->next = src->next;
    dst->prev = src->prev;
    dst->next->prev = dst;
    dst->prev->next = dst;
    ockam__link_init(src);
}

#endif
