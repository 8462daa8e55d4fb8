/* Routes as slot deques with headroom at both ends, so the per-hop edits (pop front, push
 * front) never move the other addresses and never allocate once the route has room. */
#include "core/core.h"

#include <stdio.h>

#define INITIAL_CAP 8u

void
ockam__route_init(struct ockam_route *r)
{
    r->slots = NULL;
    r->start = r->count = r->cap = 0;
}

static void
slot_release(struct ockam__slot *s)
{
    if (s->heap)
        ockam__free(s->u.ptr);
    s->heap = 0;
}

void
ockam__route_fini(struct ockam_route *r)
{
    ockam_route_clear(r);
    ockam__free(r->slots);
    ockam__route_init(r);
}

ockam_route *
ockam_route_new(void)
{
    ockam_route *r = ockam__alloc(sizeof *r);
    if (r)
        ockam__route_init(r);
    return r;
}

void
ockam_route_free(ockam_route *route)
{
    if (!route)
        return;
    ockam__route_fini(route);
    ockam__free(route);
}

size_t
ockam_route_len(const ockam_route *route)
{
    return route->count;
}

static ockam_addr
slot_view(const struct ockam__slot *s)
{
    ockam_addr a = {.type = s->type, .len = s->len, .bytes = ockam__slot_bytes(s)};
    return a;
}

ockam_addr
ockam_route_at(const ockam_route *route, size_t i)
{
    OCKAM_ASSERT(i < route->count);
    return slot_view(&route->slots[route->start + i]);
}

ockam_addr
ockam_route_front(const ockam_route *route)
{
    return ockam_route_at(route, 0);
}

ockam_addr
ockam_route_back(const ockam_route *route)
{
    return ockam_route_at(route, route->count - 1);
}

/* The slow half of ockam__route_reserve (core.h): grow, or re-centre, so that `front` free
 * slots exist before start and `back` after the end. */
ockam_err
ockam__route_grow(struct ockam_route *r, uint32_t front, uint32_t back)
{
    if ((size_t)r->count + front + back > OCKAM_MAX_ROUTE_LEN)
        return OCKAM_EROUTELEN;
    if (r->start >= front && r->cap - r->start - r->count >= back)
        return OCKAM_OK;
    uint32_t need = r->count + front + back;
    uint32_t cap = r->cap ? r->cap : INITIAL_CAP;
    while (cap < need + need / 2 + 2)
        cap *= 2;
    /* Leave room at both ends: routes grow at the front (return routes) and at the back. */
    uint32_t start = front + (cap - need) / 2;
    struct ockam__slot *slots = ockam__alloc(sizeof *slots * cap);
    if (!slots)
        return OCKAM_ENOMEM;
    if (r->count)
        memcpy(&slots[start], &r->slots[r->start], sizeof *slots * r->count);
    ockam__free(r->slots);
    r->slots = slots;
    r->cap = cap;
    r->start = start;
    return OCKAM_OK;
}

static ockam_err slot_fill_heap(struct ockam__slot *s, ockam_addr a);

/* Inline: the per-message route edits (a connection's address pushed onto every return
 * route) copy short addresses into the slot; only long ones need the allocation. */
static inline __attribute__((always_inline)) ockam_err
slot_fill(struct ockam__slot *s, ockam_addr a)
{
    s->type = a.type;
    s->len = a.len;
    s->heap = 0;
    if (a.len <= OCKAM__SLOT_INLINE) {
        ockam__copy_small(s->u.in, a.bytes, a.len);
        return OCKAM_OK;
    }
    return slot_fill_heap(s, a);
}

static ockam_err
slot_fill_heap(struct ockam__slot *s, ockam_addr a)
{
    uint8_t *p = ockam__alloc(a.len);
    if (!p)
        return OCKAM_ENOMEM;
    memcpy(p, a.bytes, a.len);
    s->u.ptr = p;
    s->heap = 1;
    return OCKAM_OK;
}

ockam_err
ockam_route_push_front(ockam_route *route, ockam_addr addr)
{
    if (addr.len > OCKAM_MAX_ADDR_LEN)
        return OCKAM_EADDRLEN;
    ockam_err err = ockam__route_reserve(route, 1, 0);
    if (err)
        return err;
    err = slot_fill(&route->slots[route->start - 1], addr);
    if (err)
        return err;
    route->start--;
    route->count++;
    return OCKAM_OK;
}

ockam_err
ockam_route_push_back(ockam_route *route, ockam_addr addr)
{
    if (addr.len > OCKAM_MAX_ADDR_LEN)
        return OCKAM_EADDRLEN;
    ockam_err err = ockam__route_reserve(route, 0, 1);
    if (err)
        return err;
    err = slot_fill(&route->slots[route->start + route->count], addr);
    if (err)
        return err;
    route->count++;
    return OCKAM_OK;
}

ockam_err
ockam_route_pop_front(ockam_route *route)
{
    if (route->count == 0)
        return OCKAM_EROUTE;
    slot_release(&route->slots[route->start]);
    route->start++;
    route->count--;
    return OCKAM_OK;
}

ockam_err
ockam_route_pop_back(ockam_route *route)
{
    if (route->count == 0)
        return OCKAM_EROUTE;
    slot_release(&route->slots[route->start + route->count - 1]);
    route->count--;
    return OCKAM_OK;
}

/* Copy one slot: inline addresses are plain values; only long ones need their own bytes. */
static ockam_err
slot_copy(struct ockam__slot *d, const struct ockam__slot *s)
{
    if (!s->heap) {
        *d = *s;
        return OCKAM_OK;
    }
    return slot_fill(d, slot_view(s));
}

ockam_err
ockam_route_prepend(ockam_route *dst, const ockam_route *src)
{
    OCKAM_ASSERT(dst != src);
    ockam_err err = ockam__route_reserve(dst, src->count, 0);
    if (err)
        return err;
    for (uint32_t i = src->count; i-- > 0;) {
        err = slot_copy(&dst->slots[dst->start - 1], &src->slots[src->start + i]);
        if (err)
            return err;
        dst->start--;
        dst->count++;
    }
    return OCKAM_OK;
}

ockam_err
ockam_route_append(ockam_route *dst, const ockam_route *src)
{
    OCKAM_ASSERT(dst != src);
    ockam_err err = ockam__route_reserve(dst, 0, src->count);
    if (err)
        return err;
    for (uint32_t i = 0; i < src->count; i++) {
        err = slot_copy(&dst->slots[dst->start + dst->count], &src->slots[src->start + i]);
        if (err)
            return err;
        dst->count++;
    }
    return OCKAM_OK;
}

ockam_err
ockam_route_copy(ockam_route *dst, const ockam_route *src)
{
    if (dst == src)
        return OCKAM_OK;
    ockam_route_clear(dst);
    return ockam_route_append(dst, src);
}

void
ockam__route_release_heap(struct ockam_route *r)
{
    for (uint32_t i = 0; i < r->count; i++)
        slot_release(&r->slots[r->start + i]);
}

void
ockam_route_clear(ockam_route *route)
{
    ockam__route_clear(route);
}

bool
ockam_route_eq(const ockam_route *a, const ockam_route *b)
{
    if (a->count != b->count)
        return false;
    for (uint32_t i = 0; i < a->count; i++) {
        if (!ockam_addr_eq(ockam_route_at(a, i), ockam_route_at(b, i)))
            return false;
    }
    return true;
}

static const char *
skip_spaces(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

ockam_err
ockam_route_parse(ockam_route *dst, const char *text)
{
    const char *p = text;
    const char *end = text + strlen(text);
    ockam_addr_buf buf;

    p = skip_spaces(p, end);
    if (p == end)
        return OCKAM_OK;
    for (;;) {
        const char *sep = strstr(p, "=>");
        const char *item_end = sep ? sep : end;
        const char *e = item_end;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e == p)
            return OCKAM_EINVAL;
        ockam_err err = ockam_addr_parse(p, (size_t)(e - p), &buf);
        if (!err)
            err = ockam_route_push_back(dst, ockam_addr_buf_view(&buf));
        if (err)
            return err;
        if (!sep)
            return OCKAM_OK;
        p = skip_spaces(sep + 2, end);
    }
}

size_t
ockam_route_format(const ockam_route *route, char *buf, size_t cap)
{
    size_t total = 0;
    for (uint32_t i = 0; i < route->count; i++) {
        if (i > 0) {
            int n
                = snprintf(total < cap ? buf + total : NULL, total < cap ? cap - total : 0, " => ");
            total += (size_t)n;
        }
        total += ockam_addr_format(ockam_route_at(route, i), total < cap ? buf + total : NULL,
            total < cap ? cap - total : 0);
    }
    if (route->count == 0 && cap > 0)
        buf[0] = '\0';
    return total;
}

char *
ockam_route_to_string(const ockam_route *route)
{
    size_t n = ockam_route_format(route, NULL, 0);
    char *s = ockam__alloc(n + 1);
    if (s)
        ockam_route_format(route, s, n + 1);
    return s;
}
