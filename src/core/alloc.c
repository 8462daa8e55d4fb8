/* The global allocator hook. Set once, before any other call (ockam_set_allocator). */
#include "core/core.h"

#include <stdlib.h>

static void *(*alloc_fn)(size_t) = malloc;
static void *(*realloc_fn)(void *, size_t) = realloc;
static void (*free_fn)(void *) = free;

void
ockam_set_allocator(void *(*a)(size_t), void *(*r)(void *, size_t), void (*f)(void *))
{
    alloc_fn = a ? a : malloc;
    realloc_fn = r ? r : realloc;
    free_fn = f ? f : free;
}

void *
ockam__alloc(size_t size)
{
    return alloc_fn(size ? size : 1);
}

void *
ockam__zalloc(size_t size)
{
    void *p = ockam__alloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

void *
ockam__realloc(void *ptr, size_t size)
{
    return realloc_fn(ptr, size ? size : 1);
}

void
ockam__free(void *ptr)
{
    if (ptr)
        free_fn(ptr);
}

void
ockam_free(void *ptr)
{
    ockam__free(ptr);
}

char *
ockam__strndup(const char *s, size_t n)
{
    char *d = ockam__alloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *
ockam__strdup(const char *s)
{
    return ockam__strndup(s, strlen(s));
}

ockam_err
ockam__array_grow(void *arrp, size_t *cap, size_t need, size_t elem, size_t min_cap)
{
    size_t ncap = *cap ? *cap : (min_cap ? min_cap : 1);
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return OCKAM_ENOMEM;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return OCKAM_ENOMEM;
    /* Through memcpy: arrp is the address of a T *, for any element type T. */
    void *old;
    memcpy(&old, arrp, sizeof old);
    void *p = ockam__realloc(old, ncap * elem);
    if (!p)
        return OCKAM_ENOMEM;
    memcpy(arrp, &p, sizeof p);
    *cap = ncap;
    return OCKAM_OK;
}
