/* Guard-page buffers (see guard.h). The mapping's base and size are stored just before the
 * data so that test_guard_free needs nothing but the pointer. */
#include "guard.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard_hdr {
    void *base;
    size_t size;
};

uint8_t *
test_guard_copy(const void *data, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t body = (len + sizeof(struct guard_hdr) + page - 1) / page * page;
    size_t size = body + page;

    uint8_t *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        abort();
    if (mprotect(base + body, page, PROT_NONE) != 0)
        abort();
    uint8_t *buf = base + body - len;
    struct guard_hdr hdr = {.base = base, .size = size};
    /* buf may be unaligned, so the header is copied in and out as bytes. */
    memcpy(buf - sizeof hdr, &hdr, sizeof hdr);
    if (len)
        memcpy(buf, data, len);
    return buf;
}

void
test_guard_free(uint8_t *buf)
{
    struct guard_hdr hdr;
    if (!buf)
        return;
    memcpy(&hdr, buf - sizeof hdr, sizeof hdr);
    munmap(hdr.base, hdr.size);
}
