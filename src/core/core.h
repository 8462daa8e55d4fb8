/* Internal core definitions shared by src/core, src/node and the transports: the allocator,
 * logging, byte helpers, and the layouts of routes and messages (opaque to users).
 * No libuv and no sockets here. */
#ifndef OCKAM_CORE_CORE_H
#define OCKAM_CORE_CORE_H

#include "ockam/addr.h"
#include "ockam/common.h"
#include "ockam/error.h"
#include "ockam/msg.h"
#include "ockam/route.h"

#include <assert.h>
#include <stdatomic.h>
#include <string.h>

/* ---- allocation (all internal allocation goes through these) ------------------------- */
void *ockam__alloc(size_t size);
void *ockam__zalloc(size_t size);
void *ockam__realloc(void *ptr, size_t size);
void ockam__free(void *ptr);
char *ockam__strdup(const char *s);
char *ockam__strndup(const char *s, size_t n);

/* Growable arrays: room for `need` elements in the array `arr` (an lvalue of pointer type)
 * whose capacity, in elements, is the size_t lvalue `cap`. When short, the capacity doubles,
 * starting at min_cap, until it fits. OCKAM_ENOMEM leaves the array and cap as they were. */
#define ockam__array_reserve(arr, cap, need, min_cap)                                              \
    ((size_t)(need) <= (cap)                                                                       \
            ? OCKAM_OK                                                                             \
            : ockam__array_grow(&(arr), &(cap), (need), sizeof *(arr), (min_cap)))
/* The slow path of ockam__array_reserve; arrp points to the array's pointer. */
ockam_err ockam__array_grow(void *arrp, size_t *cap, size_t need, size_t elem, size_t min_cap);

/* ---- logging ------------------------------------------------------------------------- */
extern ockam_log_level ockam__log_level;
void ockam__log_impl(ockam_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define ockam__log(level, ...)                                                                     \
    do {                                                                                           \
        if ((level) <= ockam__log_level)                                                           \
            ockam__log_impl((level), __VA_ARGS__);                                                 \
    } while (0)
#define OCKAM_LOG_E(...) ockam__log(OCKAM_LOG_ERROR, __VA_ARGS__)
#define OCKAM_LOG_W(...) ockam__log(OCKAM_LOG_WARN, __VA_ARGS__)
#define OCKAM_LOG_I(...) ockam__log(OCKAM_LOG_INFO, __VA_ARGS__)
#define OCKAM_LOG_D(...) ockam__log(OCKAM_LOG_DEBUG, __VA_ARGS__)

#define OCKAM_ASSERT(x) assert(x)

/* ---- wire integers (never cast-and-dereference) -------------------------------------- */
static inline uint16_t
ockam__get16be(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t
ockam__get32be(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void
ockam__put16be(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void
ockam__put32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* memcpy for the short byte strings of addresses (n <= 48): fixed-size moves the compiler
 * inlines, instead of a library call per address on the per-message path. */
static inline void
ockam__copy_small(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n >= 16) {
        memcpy(d, s, 16);
        if (n > 32)
            memcpy(d + 16, s + 16, 16);
        memcpy(d + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}

/* key[0..len) == a's bytes. Inline, with word compares for the short names most workers
 * have: the router checks one on every message. */
static inline bool
ockam__bytes_eq(const void *key, size_t len, ockam_addr a)
{
    const uint8_t *x = key, *y = a.bytes;
    if (len != a.len)
        return false;
    if (len > 16)
        return memcmp(x, y, len) == 0;
    if (len >= 8) {
        uint64_t u, v, s, t;
        memcpy(&u, x, 8);
        memcpy(&v, y, 8);
        memcpy(&s, x + len - 8, 8);
        memcpy(&t, y + len - 8, 8);
        return u == v && s == t;
    }
    if (len >= 4) {
        uint32_t u, v, s, t;
        memcpy(&u, x, 4);
        memcpy(&v, y, 4);
        memcpy(&s, x + len - 4, 4);
        memcpy(&t, y + len - 4, 4);
        return u == v && s == t;
    }
    for (size_t i = 0; i < len; i++) {
        if (x[i] != y[i])
            return false;
    }
    return true;
}

/* ---- routes -------------------------------------------------------------------------- */
/* Addresses up to this many bytes live inside the slot (32-hex names and host:port fit). */
#define OCKAM__SLOT_INLINE 44

struct ockam__slot {
    uint8_t type;
    uint8_t heap; /* bytes live in u.ptr (allocated) rather than u.in */
    uint16_t len;
    union {
        uint8_t in[OCKAM__SLOT_INLINE];
        uint8_t *ptr;
    } u;
};

/* A deque of slots with headroom at both ends: slots[start .. start+count). */
struct ockam_route {
    struct ockam__slot *slots;
    uint32_t start;
    uint32_t count;
    uint32_t cap;
};

void ockam__route_init(struct ockam_route *r);
void ockam__route_fini(struct ockam_route *r);
void ockam__route_release_heap(struct ockam_route *r);
/* ockam_route_clear, inline: every message is cleared when freed. Slots holding their bytes
 * on the heap (addresses over OCKAM__SLOT_INLINE bytes) are rare; one or two short addresses
 * are checked in place. */
static inline void
ockam__route_clear(struct ockam_route *r)
{
    if (r->count > 0) {
        const struct ockam__slot *s = r->slots + r->start;
        if (r->count > 2 || s[0].heap || (r->count > 1 && s[1].heap))
            ockam__route_release_heap(r);
    }
    r->count = 0;
    r->start = r->cap / 2;
}

ockam_err ockam__route_grow(struct ockam_route *r, uint32_t front, uint32_t back);
/* Room for `front` more slots before the first one and `back` after the last (decoders then
 * fill slots[start + count] and bump count themselves). OCKAM_EROUTELEN, OCKAM_ENOMEM. Inline:
 * on the per-message path the room is nearly always there already. */
static inline ockam_err
ockam__route_reserve(struct ockam_route *r, uint32_t front, uint32_t back)
{
    if ((size_t)r->count + front + back <= OCKAM_MAX_ROUTE_LEN && r->start >= front
        && r->cap - r->start - r->count >= back && r->slots)
        return OCKAM_OK;
    return ockam__route_grow(r, front, back);
}
static inline ockam_err
ockam__route_reserve_back(struct ockam_route *r, uint32_t n)
{
    return ockam__route_reserve(r, 0, n);
}
static inline const uint8_t *
ockam__slot_bytes(const struct ockam__slot *s)
{
    return s->heap ? s->u.ptr : s->u.in;
}

/* ---- chunks: reference-counted byte blocks -------------------------------------------- */
/* A stream connection reads into a chunk, and messages decoded from it borrow their big
 * payloads from it instead of copying them out. Each holder owns one reference: the
 * connection while it reads into the chunk, each message that borrows from it, each queued
 * write of such a payload. Bytes that a borrower references are never written again; only
 * the sole holder (ockam__chunk_shared() false) may reuse the block.
 * Threading: references may be dropped on any thread (messages are freed on application
 * threads too); everything else belongs to the holder's thread. */
#define OCKAM__CHUNK_STD (256u * 1024u) /* the usual big size; freed ones are kept for reuse */

struct ockam__chunk {
    atomic_size_t refs;
    size_t cap;
    struct ockam__chunk *next; /* link of the per-thread cache of free chunks */
    uint8_t data[];
};

/* A chunk of cap bytes with one reference for the caller. NULL on ENOMEM. */
struct ockam__chunk *ockam__chunk_new(size_t cap);
void ockam__chunk_ref(struct ockam__chunk *ch);
/* Drop one reference; the last one frees (or recycles) the chunk. NULL is ignored. */
void ockam__chunk_unref(struct ockam__chunk *ch);
/* Whether anyone besides the caller holds a reference. */
bool ockam__chunk_shared(struct ockam__chunk *ch);
/* len bytes (at most OCKAM__CHUNK_STD) for a payload that messages will borrow, cut from this
 * thread's current standard chunk: *chunk gets a reference for the caller, who writes the
 * bytes and then makes messages borrow them (and drops its reference). Consecutive pieces
 * share a chunk, and a chunk nobody borrows from any more is cut again from its start: a
 * thread that makes big payloads one after the other (secure-channel frames) reuses a few warm
 * chunks instead of a fresh 256 KiB block per payload, which would make the C library trim
 * and grow its heap (page faults on every payload). Loop thread of the caller; NULL (and
 * *chunk NULL) on ENOMEM or when len is too big. */
uint8_t *ockam__chunk_carve(size_t len, struct ockam__chunk **chunk);
/* Free the standard chunks this thread keeps for reuse (its cache refills as chunks are
 * freed). For leak checks that count live allocations (fuzz/fuzz_node.h); never needed
 * otherwise: a thread's cache is freed when it exits. */
void ockam__chunk_cache_release(void);

/* ---- messages ------------------------------------------------------------------------ */
struct ockam__local_info {
    struct ockam__local_info *next;
    char *type; /* inside the same block, after data */
    size_t len;
    uint8_t data[];
};

struct ockam_msg {
    struct ockam_msg *next; /* intrusive link for node queues; NULL when not queued */
    struct ockam_route onward;
    struct ockam_route ret;
    /* The payload: an owned buffer of payload_cap bytes (reused while big enough), or, when
     * chunk is set, payload_len bytes borrowed from that chunk (payload_cap 0; one chunk
     * reference held). A borrowed payload is read-only: replacing it drops the reference. */
    uint8_t *payload;
    size_t payload_len;
    size_t payload_cap;
    struct ockam__chunk *chunk;
    char *tracing; /* NULL when absent */
    size_t tracing_len;
    struct ockam__local_info *info;
    ockam_origin origin;
};

/* Reset a message to empty (keeps owned allocations for reuse; drops a borrowed payload). */
void ockam__msg_reset(ockam_msg *msg);
/* Free the messages and payload buffers this thread keeps for reuse (as
 * ockam__chunk_cache_release, for leak checks). */
void ockam__msg_cache_release(void);
/* Make data[0..len) inside chunk->data the payload, without a copy: takes a new reference
 * to chunk, and frees the payload the message had. */
void ockam__msg_borrow_payload(
    ockam_msg *msg, struct ockam__chunk *chunk, const uint8_t *data, size_t len);
/* The payload for writing in place: a borrowed one is first copied into an owned buffer.
 * NULL on ENOMEM (the payload is then unchanged). */
uint8_t *ockam__msg_payload_mut(ockam_msg *msg);
/* Take the payload out of the message, which is left with none. Returns its bytes; *chunk
 * gets the chunk they are borrowed from, with the message's reference (the caller unrefs it
 * when done), or NULL when the caller now owns the returned buffer of *cap bytes (and gives
 * it to ockam__msg_recycle_payload or ockam__free). */
uint8_t *ockam__msg_take_payload(ockam_msg *msg, size_t *cap, struct ockam__chunk **chunk);
/* Done with an owned payload buffer of cap bytes: kept for the payload of a later message on
 * this thread (a sender of big messages then reuses warm buffers instead of growing and
 * trimming the heap for each one), or freed. */
void ockam__msg_recycle_payload(uint8_t *buf, size_t cap);

/* ---- misc ---------------------------------------------------------------------------- */
/* A 64-bit hash of len bytes, eight bytes per step: the router and the transports look a
 * name up on every message (32-hex worker addresses, host:port peers). */
uint64_t ockam__hash_bytes(const void *p, size_t len);
/* Mix one word (ids as hash keys). */
static inline uint64_t
ockam__hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}
/* Fill buf with len cryptographically random bytes (getrandom; falls back to /dev/urandom). */
void ockam__random_bytes(void *buf, size_t len);
bool ockam__utf8_valid(const uint8_t *p, size_t len);
/* Lowercase hex of p[0..n) into out (2n + 1 bytes, NUL-terminated). */
void ockam__hex_encode(const uint8_t *p, size_t n, char *out);
/* text[0..len) (hex digits, either case, even count) into out[0..cap); *n = bytes written.
 * false when a character is not a hex digit, the count is odd, or out is too small. */
bool ockam__hex_decode(const char *text, size_t len, uint8_t *out, size_t cap, size_t *n);

#endif
