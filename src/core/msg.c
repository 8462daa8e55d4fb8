/* Messages: two routes, a payload buffer that is reused when it is big enough, an optional
 * tracing string and a local-info list.
 *
 * Freed messages go to a small per-thread cache, with their route storage and payload buffer,
 * and ockam_msg_new() hands them out again: a message that crosses a node (decoded, routed,
 * delivered, freed) then costs no allocation at all. The cache is per thread because nodes on
 * different threads free messages concurrently; a thread's cache is freed when it exits. */
#include "core/core.h"

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

struct msg_cache {
    ockam_msg *head; /* linked through ->next */
    unsigned count;
    size_t payload_bytes; /* capacity of the payload buffers kept */
    bool registered;      /* the thread-exit destructor knows this cache */
};

static _Thread_local struct msg_cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void
msg_destroy(ockam_msg *m)
{
    ockam__route_fini(&m->onward);
    ockam__route_fini(&m->ret);
    ockam__free(m->payload);
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
}

static void
cache_key_init(void)
{
    (void)pthread_key_create(&cache_key, cache_drop_all);
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

/* Keep an emptied message (routes cleared, no tracing or local info); false when it cannot be
 * kept (cache full, or no thread-exit destructor could be registered). */
static bool
cache_put(ockam_msg *m)
{
    if (cache.count >= CACHE_MAX)
        return false;
    if (!cache.registered) {
        (void)pthread_once(&cache_once, cache_key_init);
        if (pthread_setspecific(cache_key, &cache) != 0)
            return false;
        cache.registered = true;
    }
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
        ockam__free(i->type);
        ockam__free(i);
        i = next;
    }
    m->info = NULL;
}

void
ockam__msg_reset(ockam_msg *m)
{
    ockam__route_clear(&m->onward);
    ockam__route_clear(&m->ret);
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

ockam_msg *
ockam_msg_clone(const ockam_msg *msg)
{
    ockam_msg *c = ockam_msg_new();
    if (!c)
        return NULL;
    if (ockam_route_copy(&c->onward, &msg->onward) || ockam_route_copy(&c->ret, &msg->ret)
        || ockam_msg_set_payload(c, msg->payload, msg->payload_len)
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

uint8_t *
ockam_msg_payload_reserve(ockam_msg *msg, size_t len)
{
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
    uint8_t *p = ockam_msg_payload_reserve(msg, len);
    if (!p)
        return OCKAM_ENOMEM;
    if (len)
        memmove(p, data, len);
    return OCKAM_OK;
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
    struct ockam__local_info *i = ockam__alloc(sizeof *i + len);
    if (!i)
        return OCKAM_ENOMEM;
    i->type = ockam__strdup(type);
    if (!i->type) {
        ockam__free(i);
        return OCKAM_ENOMEM;
    }
    i->len = len;
    if (len)
        memcpy(i->data, data, len);

    /* Replace an entry of the same type, keeping the list order otherwise. */
    struct ockam__local_info **pp = &msg->info;
    while (*pp && strcmp((*pp)->type, type) != 0)
        pp = &(*pp)->next;
    i->next = *pp ? (*pp)->next : NULL;
    if (*pp) {
        ockam__free((*pp)->type);
        ockam__free(*pp);
    }
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
