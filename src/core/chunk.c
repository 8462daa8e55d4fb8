/* Reference-counted byte blocks (see core.h).
 *
 * Stream connections read into chunks and hand out views of big payloads; the chunk goes
 * away when the last message that borrows from it is freed, which is usually a few frames
 * after the connection moved on to the next chunk. Allocating and freeing a block of
 * OCKAM__CHUNK_STD bytes for each of them would cost a page-faulting mmap or a heap trim per
 * chunk (these blocks sit at glibc's mmap threshold), so threads that create chunks keep a
 * few freed standard-size ones for reuse. Other threads (application threads that free
 * messages they got from ockam_request) free chunks outright. */
#include "core/core.h"

#include <pthread.h>

#if defined(__SANITIZE_ADDRESS__)
#define CHUNK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHUNK_ASAN 1
#endif
#endif
#ifdef CHUNK_ASAN
/* A cached chunk's bytes are poisoned: a view kept past its message's free still fails. */
#include <sanitizer/asan_interface.h>
#define CHUNK_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define CHUNK_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define CHUNK_POISON(p, n) ((void)(p), (void)(n))
#define CHUNK_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define CACHE_MAX 4 /* standard chunks kept per thread (1 MiB) */

struct chunk_cache {
    struct ockam__chunk *head; /* linked through ->next */
    unsigned count;
    bool producer;   /* this thread creates chunks: keeping freed ones pays off */
    bool registered; /* the thread-exit destructor knows this cache */
    /* The standard chunk ockam__chunk_carve cuts pieces from (one reference), and where the
     * next piece starts. */
    struct ockam__chunk *carve;
    size_t carve_off;
};

static _Thread_local struct chunk_cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void
cache_drop_all(void *arg)
{
    struct chunk_cache *c = arg;
    /* Freed outright, not through ockam__chunk_unref: the cache is being emptied. */
    struct ockam__chunk *carve = c->carve;
    c->carve = NULL;
    c->carve_off = 0;
    if (carve && atomic_fetch_sub_explicit(&carve->refs, 1, memory_order_acq_rel) == 1)
        ockam__free(carve);
    while (c->head) {
        struct ockam__chunk *ch = c->head;
        c->head = ch->next;
        ockam__free(ch);
    }
    c->count = 0;
}

static void
cache_key_init(void)
{
    (void)pthread_key_create(&cache_key, cache_drop_all);
}

void
ockam__chunk_cache_release(void)
{
    cache_drop_all(&cache);
}

static struct ockam__chunk *
cache_take(void)
{
    struct ockam__chunk *ch = cache.head;
    if (!ch)
        return NULL;
    cache.head = ch->next;
    cache.count--;
    CHUNK_UNPOISON(ch->data, ch->cap);
    return ch;
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

static bool
cache_put(struct ockam__chunk *ch)
{
    if (!cache.producer || ch->cap != OCKAM__CHUNK_STD || cache.count >= CACHE_MAX)
        return false;
    if (!cache_register())
        return false;
    CHUNK_POISON(ch->data, ch->cap);
    ch->next = cache.head;
    cache.head = ch;
    cache.count++;
    return true;
}

struct ockam__chunk *
ockam__chunk_new(size_t cap)
{
    cache.producer = true;
    struct ockam__chunk *ch = cap == OCKAM__CHUNK_STD ? cache_take() : NULL;
    if (!ch) {
        if (cap > SIZE_MAX - sizeof *ch)
            return NULL;
        ch = ockam__alloc(sizeof *ch + cap);
        if (!ch)
            return NULL;
        ch->cap = cap;
    }
    ch->next = NULL;
    atomic_init(&ch->refs, 1);
    return ch;
}

void
ockam__chunk_ref(struct ockam__chunk *ch)
{
    atomic_fetch_add_explicit(&ch->refs, 1, memory_order_relaxed);
}

void
ockam__chunk_unref(struct ockam__chunk *ch)
{
    if (!ch)
        return;
    /* acq_rel: every holder's reads of the bytes happen before the block is reused. */
    if (atomic_fetch_sub_explicit(&ch->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (!cache_put(ch))
        ockam__free(ch);
}

bool
ockam__chunk_shared(struct ockam__chunk *ch)
{
    /* acquire: pairs with the release of the unref that made us the only holder. */
    return atomic_load_explicit(&ch->refs, memory_order_acquire) > 1;
}

/* Pieces start on a cache line: a piece then never shares a line with its neighbours, and
 * ciphers get aligned buffers. */
#define CARVE_ALIGN 64u

/* The first aligned offset at or after off in ch. */
static size_t
carve_start(const struct ockam__chunk *ch, size_t off)
{
    uintptr_t base = (uintptr_t)ch->data;
    uintptr_t at = (base + off + CARVE_ALIGN - 1) & ~(uintptr_t)(CARVE_ALIGN - 1);
    return (size_t)(at - base);
}

uint8_t *
ockam__chunk_carve(size_t len, struct ockam__chunk **chunk)
{
    *chunk = NULL;
    if (len > OCKAM__CHUNK_STD)
        return NULL;
    /* Nobody borrows from the current chunk any more: its bytes are all free again. */
    if (cache.carve && !ockam__chunk_shared(cache.carve))
        cache.carve_off = 0;
    size_t start = cache.carve ? carve_start(cache.carve, cache.carve_off) : 0;
    if (!cache.carve || start > OCKAM__CHUNK_STD || OCKAM__CHUNK_STD - start < len) {
        if (!cache_register())
            return NULL;
        struct ockam__chunk *ch = ockam__chunk_new(OCKAM__CHUNK_STD);
        if (!ch)
            return NULL;
        ockam__chunk_unref(cache.carve); /* its borrowers keep it as long as they need it */
        cache.carve = ch;
        start = carve_start(ch, 0);
        if (OCKAM__CHUNK_STD - start < len)
            start = 0; /* a piece of nearly the whole chunk: unaligned */
    }
    cache.carve_off = start + len;
    ockam__chunk_ref(cache.carve);
    *chunk = cache.carve;
    return cache.carve->data + start;
}
