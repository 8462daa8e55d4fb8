/* Addresses: views, text form (docs/wire.md §1.1) and random local names. */
#include "core/core.h"

#include <stdio.h>

ockam_addr
ockam_addr_of(uint8_t type, const void *bytes, size_t len)
{
    ockam_addr a = {.type = type, .bytes = bytes};
    a.len = (uint16_t)(len > OCKAM_MAX_ADDR_LEN ? OCKAM_MAX_ADDR_LEN : len);
    return a;
}

ockam_addr
ockam_addr_local(const char *name)
{
    return ockam_addr_of(OCKAM_TRANSPORT_LOCAL, name, strlen(name));
}

bool
ockam_addr_eq(ockam_addr a, ockam_addr b)
{
    return a.type == b.type && a.len == b.len
        && (a.len == 0 || memcmp(a.bytes, b.bytes, a.len) == 0);
}

bool
ockam_addr_is_local(ockam_addr a, const char *name)
{
    size_t n = strlen(name);
    return a.type == OCKAM_TRANSPORT_LOCAL && a.len == n && memcmp(a.bytes, name, n) == 0;
}

ockam_err
ockam_addr_buf_set(ockam_addr_buf *dst, ockam_addr src)
{
    if (src.len > OCKAM_MAX_ADDR_LEN)
        return OCKAM_EADDRLEN;
    dst->type = src.type;
    dst->len = src.len;
    if (src.len)
        memmove(dst->bytes, src.bytes, src.len);
    return OCKAM_OK;
}

ockam_addr
ockam_addr_buf_view(const ockam_addr_buf *buf)
{
    return ockam_addr_of(buf->type, buf->bytes, buf->len);
}

ockam_err
ockam_addr_parse(const char *text, size_t len, ockam_addr_buf *out)
{
    const char *hash = memchr(text, '#', len);
    const char *value = text;
    size_t value_len = len;
    unsigned type = OCKAM_TRANSPORT_LOCAL;

    if (hash) {
        size_t digits = (size_t)(hash - text);
        if (digits == 0 || digits > 3 || memchr(hash + 1, '#', len - digits - 1))
            return OCKAM_EINVAL;
        type = 0;
        for (size_t i = 0; i < digits; i++) {
            if (text[i] < '0' || text[i] > '9')
                return OCKAM_EINVAL;
            type = type * 10 + (unsigned)(text[i] - '0');
        }
        if (type > OCKAM_TRANSPORT_MAX)
            return OCKAM_EADDRTYPE;
        value = hash + 1;
        value_len = len - digits - 1;
    }
    if (value_len > OCKAM_MAX_ADDR_LEN)
        return OCKAM_EADDRLEN;
    out->type = (uint8_t)type;
    out->len = (uint16_t)value_len;
    memcpy(out->bytes, value, value_len);
    return OCKAM_OK;
}

size_t
ockam_addr_format(ockam_addr a, char *buf, size_t cap)
{
    const char *value = (const char *)a.bytes;
    size_t vlen = a.len;
    char prefix[8];

    if (!ockam__utf8_valid(a.bytes, a.len)) {
        value = "Invalid UTF-8";
        vlen = strlen(value);
    }
    /* Copy the value with memcpy, not %s: a NUL byte is valid UTF-8 and must not cut it. */
    size_t plen = (size_t)snprintf(prefix, sizeof prefix, "%u#", (unsigned)a.type);
    size_t total = plen + vlen;
    if (cap == 0)
        return total;
    size_t n = plen < cap - 1 ? plen : cap - 1;
    memcpy(buf, prefix, n);
    size_t m = vlen < cap - 1 - n ? vlen : cap - 1 - n;
    if (m)
        memcpy(buf + n, value, m);
    buf[n + m] = '\0';
    return total;
}

void
ockam_addr_random(char out[OCKAM_RANDOM_ADDR_LEN + 1])
{
    uint8_t raw[OCKAM_RANDOM_ADDR_LEN / 2];

    ockam__random_bytes(raw, sizeof raw);
    ockam__hex_encode(raw, sizeof raw, out);
}
