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
};

static _Thread_local struct chunk_cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void
cache_drop_all(void *arg)
{
    struct chunk_cache *c = arg;
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

static bool
cache_put(struct ockam__chunk *ch)
{
    if (!cache.producer || ch->cap != OCKAM__CHUNK_STD || cache.count >= CACHE_MAX)
        return false;
    if (!cache.registered) {
        (void)pthread_once(&cache_once, cache_key_init);
        if (pthread_setspecific(cache_key, &cache) != 0)
            return false;
        cache.registered = true;
    }
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
