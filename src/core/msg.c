/* Messages: two routes, a payload buffer that is reused when it is big enough (or a payload
 * borrowed from a chunk, see core.h), an optional tracing string and a local-info list.
 *
 * Freed messages go to a small per-thread cache, with their route storage and payload buffer,
 * and ockam_msg_new() hands them out again: a message that crosses a node (decoded, routed,
 * delivered, freed) then costs no allocation at all. The cache is per thread because nodes on
 * different threads free messages concurrently; a thread's cache is freed when it exits.
 * Borrowed payloads are never cached: freeing the message drops its chunk reference. */
#include "core/codec.h"

#include <pthread.h>

#if defined(__SANITIZE_ADDRESS__)
#define MSG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MSG_ASAN 1
#endif
#endif
#ifdef MSG_ASAN
/* Cached messages are poisoned, so a use after ockam_msg_free() still fails under ASan. */
#include <sanitizer/asan_interface.h>
#define MSG_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define MSG_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define MSG_POISON(p, n) ((void)(p), (void)(n))
#define MSG_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define CACHE_MAX 256                       /* messages kept per thread */
#define CACHE_PAYLOAD_MAX (64u * 1024u)     /* larger payload buffers are freed, not kept */
#define CACHE_PAYLOAD_TOTAL (1024u * 1024u) /* payload bytes kept per thread, at most */
#define CACHE_ROUTE_SLOTS_MAX 16            /* route storage kept up to this many slots */

#define CACHE_SPARES 16 /* payload buffers kept without a message (given back by writers) */

struct spare {
    uint8_t *p;
    size_t cap;
};

struct msg_cache {
    ockam_msg *head; /* linked through ->next */
    unsigned count;
    size_t payload_bytes; /* capacity of the payload buffers kept, spares included */
    bool registered;      /* the thread-exit destructor knows this cache */
    struct spare spares[CACHE_SPARES];
    unsigned nspares;
};

static _Thread_local struct msg_cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

/* Forget a borrowed payload (the message then has none); returns the chunk with the
 * message's reference, for the caller to drop. NULL when the payload was not borrowed. */
static struct ockam__chunk *
payload_unborrow(ockam_msg *m)
{
    struct ockam__chunk *ch = m->chunk;
    if (ch) {
        m->chunk = NULL;
        m->payload = NULL;
        m->payload_len = m->payload_cap = 0;
    }
    return ch;
}

/* No payload at all, owned or borrowed. */
static void
payload_drop(ockam_msg *m)
{
    struct ockam__chunk *ch = payload_unborrow(m);
    if (ch) {
        ockam__chunk_unref(ch);
        return;
    }
    ockam__free(m->payload);
    m->payload = NULL;
    m->payload_len = m->payload_cap = 0;
}

static void
msg_destroy(ockam_msg *m)
{
    ockam__route_fini(&m->onward);
    ockam__route_fini(&m->ret);
    payload_drop(m);
    ockam__free(m->tracing);
    ockam__free(m);
}

static void
slots_poison(struct ockam_route *r, bool poison)
{
    if (!r->slots)
        return;
    if (poison)
        MSG_POISON(r->slots, sizeof *r->slots * r->cap);
    else
        MSG_UNPOISON(r->slots, sizeof *r->slots * r->cap);
}

/* Poison a cached message's fields and buffers, except the words that hold pointers (the
 * cache link, route storage, payload, tracing, local info): LeakSanitizer ignores pointers in
 * poisoned memory, and would then report what the cache keeps as leaked. */
static void
msg_fields_poison(ockam_msg *m)
{
    MSG_POISON(&m->onward.start, offsetof(ockam_msg, ret) - offsetof(ockam_msg, onward.start));
    MSG_POISON(&m->ret.start, offsetof(ockam_msg, payload) - offsetof(ockam_msg, ret.start));
    MSG_POISON(&m->payload_len, offsetof(ockam_msg, tracing) - offsetof(ockam_msg, payload_len));
    MSG_POISON(&m->tracing_len, offsetof(ockam_msg, info) - offsetof(ockam_msg, tracing_len));
    MSG_POISON(&m->origin, sizeof *m - offsetof(ockam_msg, origin));
}

static void
cache_poison(ockam_msg *m, bool poison)
{
    if (!poison)
        MSG_UNPOISON(m, sizeof *m);
    slots_poison(&m->onward, poison);
    slots_poison(&m->ret, poison);
    if (m->payload && poison)
        MSG_POISON(m->payload, m->payload_cap);
    else if (m->payload)
        MSG_UNPOISON(m->payload, m->payload_cap);
    if (poison)
        msg_fields_poison(m);
}

static void
cache_drop_all(void *arg)
{
    struct msg_cache *c = arg;
    while (c->head) {
        ockam_msg *m = c->head;
        c->head = m->next;
        cache_poison(m, false);
        c->payload_bytes -= m->payload_cap;
        m->next = NULL;
        msg_destroy(m);
    }
    c->count = 0;
    while (c->nspares) {
        struct spare *sp = &c->spares[--c->nspares];
        MSG_UNPOISON(sp->p, sp->cap);
        c->payload_bytes -= sp->cap;
        ockam__free(sp->p);
    }
}

static void
cache_key_init(void)
{
    (void)pthread_key_create(&cache_key, cache_drop_all);
}

void
ockam__msg_cache_release(void)
{
    cache_drop_all(&cache);
}

static ockam_msg *
cache_take(void)
{
    ockam_msg *m = cache.head;
    if (!m)
        return NULL;
    cache.head = m->next;
    cache.count--;
    cache_poison(m, false);
    cache.payload_bytes -= m->payload_cap;
    m->next = NULL;
    return m;
}

/* Whether the thread-exit destructor will free what this thread's cache keeps. */
static bool
cache_register(void)
{
    if (!cache.registered) {
        (void)pthread_once(&cache_once, cache_key_init);
        if (pthread_setspecific(cache_key, &cache) != 0)
            return false;
        cache.registered = true;
    }
    return true;
}

/* Keep an emptied message (routes cleared, no tracing, local info or borrowed payload);
 * false when it cannot be kept (cache full, or no thread-exit destructor registered). */
static bool
cache_put(ockam_msg *m)
{
    OCKAM_ASSERT(m->chunk == NULL);
    if (cache.count >= CACHE_MAX || !cache_register())
        return false;
    if (m->onward.cap > CACHE_ROUTE_SLOTS_MAX)
        ockam__route_fini(&m->onward);
    if (m->ret.cap > CACHE_ROUTE_SLOTS_MAX)
        ockam__route_fini(&m->ret);
    if (m->payload_cap > CACHE_PAYLOAD_MAX
        || cache.payload_bytes + m->payload_cap > CACHE_PAYLOAD_TOTAL) {
        ockam__free(m->payload);
        m->payload = NULL;
        m->payload_cap = 0;
    }
    m->next = cache.head;
    cache.head = m;
    cache.count++;
    cache.payload_bytes += m->payload_cap;
    cache_poison(m, true);
    return true;
}

ockam_msg *
ockam_msg_new(void)
{
    ockam_msg *m = cache_take();
    if (m)
        return m;
    m = ockam__zalloc(sizeof *m);
    if (!m)
        return NULL;
    ockam__route_init(&m->onward);
    ockam__route_init(&m->ret);
    return m;
}

static void
free_info(ockam_msg *m)
{
    struct ockam__local_info *i = m->info;
    while (i) {
        struct ockam__local_info *next = i->next;
        ockam__free(i); /* its type lives in the same block */
        i = next;
    }
    m->info = NULL;
}

void
ockam__msg_reset(ockam_msg *m)
{
    ockam__route_clear(&m->onward);
    ockam__route_clear(&m->ret);
    ockam__chunk_unref(payload_unborrow(m));
    m->payload_len = 0;
    if (m->tracing)
        ockam_msg_clear_tracing(m);
    if (m->info)
        free_info(m);
    m->origin = (ockam_origin) {0, 0};
}

void
ockam_msg_free(ockam_msg *msg)
{
    if (!msg)
        return;
    OCKAM_ASSERT(msg->next == NULL);
    ockam__msg_reset(msg);
    if (!cache_put(msg))
        msg_destroy(msg);
}

/* A borrowed payload is read-only, so a clone may share it. */
static ockam_err
clone_payload(ockam_msg *c, const ockam_msg *msg)
{
    if (!msg->chunk)
        return ockam_msg_set_payload(c, msg->payload, msg->payload_len);
    ockam__msg_borrow_payload(c, msg->chunk, msg->payload, msg->payload_len);
    return OCKAM_OK;
}

ockam_msg *
ockam_msg_clone(const ockam_msg *msg)
{
    ockam_msg *c = ockam_msg_new();
    if (!c)
        return NULL;
    if (ockam_route_copy(&c->onward, &msg->onward) || ockam_route_copy(&c->ret, &msg->ret)
        || clone_payload(c, msg)
        || (msg->tracing && ockam_msg_set_tracing(c, msg->tracing, msg->tracing_len)))
        goto fail;
    for (const struct ockam__local_info *i = msg->info; i; i = i->next) {
        if (ockam_msg_local_info_set(c, i->type, i->data, i->len))
            goto fail;
    }
    c->origin = msg->origin;
    return c;
fail:
    ockam_msg_free(c);
    return NULL;
}

ockam_route *
ockam_msg_onward(ockam_msg *msg)
{
    return &msg->onward;
}

ockam_route *
ockam_msg_return(ockam_msg *msg)
{
    return &msg->ret;
}

const ockam_route *
ockam_msg_onward_const(const ockam_msg *msg)
{
    return &msg->onward;
}

const ockam_route *
ockam_msg_return_const(const ockam_msg *msg)
{
    return &msg->ret;
}

/* A message without a buffer takes the last spare if it fits and is not far too big. */
static void
spare_take(ockam_msg *m, size_t len)
{
    struct spare *sp = cache.nspares ? &cache.spares[cache.nspares - 1] : NULL;
    if (!sp || sp->cap < len || sp->cap / 4 > len)
        return;
    cache.nspares--;
    cache.payload_bytes -= sp->cap;
    MSG_UNPOISON(sp->p, sp->cap);
    m->payload = sp->p;
    m->payload_cap = sp->cap;
}

void
ockam__msg_recycle_payload(uint8_t *buf, size_t cap)
{
    if (cap > CACHE_PAYLOAD_MAX || cache.nspares == CACHE_SPARES
        || cache.payload_bytes + cap > CACHE_PAYLOAD_TOTAL || !cache_register()) {
        ockam__free(buf);
        return;
    }
    MSG_POISON(buf, cap);
    cache.spares[cache.nspares++] = (struct spare) {buf, cap};
    cache.payload_bytes += cap;
}

uint8_t *
ockam_msg_payload_reserve(ockam_msg *msg, size_t len)
{
    ockam__chunk_unref(payload_unborrow(msg)); /* never written in place */
    if (!msg->payload)
        spare_take(msg, len);
    if (len > msg->payload_cap || !msg->payload) {
        uint8_t *p = ockam__realloc(msg->payload, len);
        if (!p)
            return NULL;
        msg->payload = p;
        msg->payload_cap = len;
    }
    msg->payload_len = len;
    return msg->payload;
}

ockam_err
ockam_msg_set_payload(ockam_msg *msg, const void *data, size_t len)
{
    /* data may lie inside the borrowed payload: hold the chunk until it is copied. */
    struct ockam__chunk *held = payload_unborrow(msg);
    uint8_t *p = ockam_msg_payload_reserve(msg, len);
    if (p && len)
        memmove(p, data, len);
    ockam__chunk_unref(held);
    return p ? OCKAM_OK : OCKAM_ENOMEM;
}

void
ockam__msg_borrow_payload(
    ockam_msg *msg, struct ockam__chunk *chunk, const uint8_t *data, size_t len)
{
    OCKAM_ASSERT((uintptr_t)data >= (uintptr_t)chunk->data
        && (uintptr_t)data + len <= (uintptr_t)chunk->data + chunk->cap);
    ockam__chunk_ref(chunk); /* first: chunk may be the one the message borrows from now */
    payload_drop(msg);
    msg->chunk = chunk;
    msg->payload = (uint8_t *)data; /* read-only by the rule above */
    msg->payload_len = len;
}

ockam_err
ockam__payload_take(ockam_msg *out, ockam_slice data, const ockam__borrow *from)
{
    if (data.len == 0)
        return OCKAM_OK;
    if (from && data.len >= from->min) {
        ockam__msg_borrow_payload(out, from->chunk, data.ptr, data.len);
        return OCKAM_OK;
    }
    uint8_t *dst = ockam_msg_payload_reserve(out, data.len);
    if (!dst)
        return OCKAM_ENOMEM;
    memcpy(dst, data.ptr, data.len);
    return OCKAM_OK;
}

uint8_t *
ockam__msg_payload_mut(ockam_msg *msg)
{
    if (!msg->chunk)
        return msg->payload;
    size_t len = msg->payload_len;
    uint8_t *p = ockam__alloc(len);
    if (!p)
        return NULL;
    memcpy(p, msg->payload, len);
    ockam__chunk_unref(payload_unborrow(msg));
    msg->payload = p;
    msg->payload_len = msg->payload_cap = len;
    return p;
}

uint8_t *
ockam__msg_take_payload(ockam_msg *msg, size_t *cap, struct ockam__chunk **chunk)
{
    uint8_t *p = msg->payload;
    *cap = msg->payload_cap;
    *chunk = msg->chunk;
    msg->chunk = NULL;
    msg->payload = NULL;
    msg->payload_len = msg->payload_cap = 0;
    return p;
}

ockam_slice
ockam_msg_payload(const ockam_msg *msg)
{
    ockam_slice s = {.ptr = msg->payload, .len = msg->payload_len};
    return s;
}

ockam_err
ockam_msg_set_tracing(ockam_msg *msg, const char *text, size_t len)
{
    char *t = ockam__strndup(text, len);
    if (!t)
        return OCKAM_ENOMEM;
    ockam__free(msg->tracing);
    msg->tracing = t;
    msg->tracing_len = len;
    return OCKAM_OK;
}

void
ockam_msg_clear_tracing(ockam_msg *msg)
{
    ockam__free(msg->tracing);
    msg->tracing = NULL;
    msg->tracing_len = 0;
}

bool
ockam_msg_tracing(const ockam_msg *msg, ockam_slice *out)
{
    if (!msg->tracing)
        return false;
    out->ptr = (const uint8_t *)msg->tracing;
    out->len = msg->tracing_len;
    return true;
}

ockam_err
ockam_msg_local_info_set(ockam_msg *msg, const char *type, const void *data, size_t len)
{
    /* One block: the entry, its data, then its type (a secure channel sets one on every
     * message it delivers). */
    size_t type_len = strlen(type);
    if (len > SIZE_MAX - sizeof(struct ockam__local_info) - type_len - 1)
        return OCKAM_ENOMEM;
    struct ockam__local_info *i = ockam__alloc(sizeof *i + len + type_len + 1);
    if (!i)
        return OCKAM_ENOMEM;
    i->type = (char *)i->data + len;
    memcpy(i->type, type, type_len + 1);
    i->len = len;
    if (len)
        memcpy(i->data, data, len);

    /* Replace an entry of the same type, keeping the list order otherwise. */
    struct ockam__local_info **pp = &msg->info;
    while (*pp && strcmp((*pp)->type, type) != 0)
        pp = &(*pp)->next;
    i->next = *pp ? (*pp)->next : NULL;
    if (*pp)
        ockam__free(*pp);
    *pp = i;
    return OCKAM_OK;
}

bool
ockam_msg_local_info_get(const ockam_msg *msg, const char *type, ockam_slice *out)
{
    for (const struct ockam__local_info *i = msg->info; i; i = i->next) {
        if (strcmp(i->type, type) == 0) {
            out->ptr = i->data;
            out->len = i->len;
            return true;
        }
    }
    return false;
}

size_t
ockam_msg_local_info_count(const ockam_msg *msg)
{
    size_t n = 0;
    for (const struct ockam__local_info *i = msg->info; i; i = i->next)
        n++;
    return n;
}

ockam_origin
ockam_msg_origin(const ockam_msg *msg)
{
    return msg->origin;
}

void
ockam_msg_set_origin(ockam_msg *msg, ockam_origin origin)
{
    msg->origin = origin;
}
