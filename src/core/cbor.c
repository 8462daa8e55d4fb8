/* The CBOR subset (wire spec §2.2) and the TCP/UDP routing message [onward, return,
 * payload, tracing?] (§4.2, §5.2). */
#include "core/cbor_internal.h"
#include "core/codec.h"

static size_t
left(const ockam__cbor_rd *r)
{
    return r->len - r->pos;
}

/* ---- reader -------------------------------------------------------------------------- */

static uint64_t
get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

ockam_err
ockam__cbor_head(ockam__cbor_rd *r, uint8_t *major, uint64_t *arg)
{
    if (left(r) == 0)
        return OCKAM_ETRUNCATED;
    uint8_t ib = r->p[r->pos];
    uint8_t mt = (uint8_t)(ib >> 5);
    uint8_t ai = ib & 0x1f;

    if (ai == 31)
        return mt >= OCKAM__CBOR_BYTES && mt <= OCKAM__CBOR_MAP ? OCKAM_ECBORINDEF
                                                                : OCKAM_ECBORTYPE;
    if (ai >= 28)
        return OCKAM_ECBORTYPE; /* reserved additional information */
    if (ai < 24) {
        *arg = ai;
        r->pos++;
    } else {
        size_t n = (size_t)1 << (ai - 24);
        if (left(r) - 1 < n)
            return OCKAM_ETRUNCATED;
        *arg = get_be(r->p + r->pos + 1, n);
        r->pos += 1 + n;
        /* RFC 8949 §3.3: simple values below 32 must use the one-byte form. */
        if (mt == OCKAM__CBOR_SIMPLE && ai == 24 && *arg < 32)
            return OCKAM_ECBORTYPE;
    }
    *major = mt;
    return OCKAM_OK;
}

ockam_err
ockam__cbor_uint(ockam__cbor_rd *r, uint64_t max, uint64_t *v)
{
    uint8_t mt;
    ockam_err err = ockam__cbor_head(r, &mt, v);
    if (err)
        return err;
    if (mt != OCKAM__CBOR_UINT || *v > max)
        return OCKAM_ECBORTYPE;
    return OCKAM_OK;
}

/* The one-byte head (argument < 24) of the expected major type, the common case on the
 * per-message path; false (nothing consumed) for anything else. */
static inline bool
head_small(ockam__cbor_rd *r, uint8_t major, uint64_t *arg)
{
    if (left(r) == 0)
        return false;
    uint8_t ib = r->p[r->pos];
    if (ib >> 5 != major || (ib & 0x1f) >= 24)
        return false;
    *arg = ib & 0x1f;
    r->pos++;
    return true;
}

ockam_err
ockam__cbor_array(ockam__cbor_rd *r, size_t min_item, uint64_t *count)
{
    uint8_t mt = OCKAM__CBOR_ARRAY;
    ockam_err err
        = head_small(r, OCKAM__CBOR_ARRAY, count) ? OCKAM_OK : ockam__cbor_head(r, &mt, count);
    if (err)
        return err;
    if (mt != OCKAM__CBOR_ARRAY)
        return OCKAM_ECBORTYPE;
    if (*count > left(r) / min_item)
        return OCKAM_ETRUNCATED;
    return OCKAM_OK;
}

ockam_err
ockam__cbor_string(ockam__cbor_rd *r, uint8_t major, ockam_slice *out)
{
    uint8_t mt = major;
    uint64_t n;
    ockam_err err = head_small(r, major, &n) ? OCKAM_OK : ockam__cbor_head(r, &mt, &n);
    if (err)
        return err;
    if (mt != major)
        return OCKAM_ECBORTYPE;
    if (n > left(r))
        return OCKAM_ETRUNCATED;
    out->ptr = r->p + r->pos;
    out->len = (size_t)n;
    r->pos += (size_t)n;
    return OCKAM_OK;
}

static ockam_err skip_items(ockam__cbor_rd *r, uint64_t count, unsigned depth);

/* Every item takes at least one byte, so counts are checked against the bytes left before
 * looping: the work is bounded by the input length, the recursion by the depth limit. */
static ockam_err
skip_item(ockam__cbor_rd *r, unsigned depth)
{
    uint8_t mt;
    uint64_t arg;

    if (depth > OCKAM__CBOR_MAX_DEPTH)
        return OCKAM_ECBORTYPE;
    ockam_err err = ockam__cbor_head(r, &mt, &arg);
    if (err)
        return err;
    switch (mt) {
    case OCKAM__CBOR_BYTES:
    case OCKAM__CBOR_TEXT:
        if (arg > left(r))
            return OCKAM_ETRUNCATED;
        r->pos += (size_t)arg;
        return OCKAM_OK;
    case OCKAM__CBOR_ARRAY:
        return skip_items(r, arg, depth + 1);
    case OCKAM__CBOR_MAP:
        if (arg > left(r) / 2)
            return OCKAM_ETRUNCATED;
        return skip_items(r, 2 * arg, depth + 1);
    case OCKAM__CBOR_TAG:
        return skip_item(r, depth + 1);
    default: /* integers and simple values/floats: the head was the whole item */
        return OCKAM_OK;
    }
}

static ockam_err
skip_items(ockam__cbor_rd *r, uint64_t count, unsigned depth)
{
    if (count > left(r))
        return OCKAM_ETRUNCATED;
    for (uint64_t i = 0; i < count; i++) {
        ockam_err err = skip_item(r, depth);
        if (err)
            return err;
    }
    return OCKAM_OK;
}

ockam_err
ockam__cbor_skip(ockam__cbor_rd *r)
{
    return skip_item(r, 1);
}

ockam_err
ockam__cbor_skip_n(ockam__cbor_rd *r, uint64_t count)
{
    return skip_items(r, count, 1);
}

/* ---- writer -------------------------------------------------------------------------- */

size_t
ockam__cbor_head_len(uint64_t arg)
{
    if (arg < 24)
        return 1;
    if (arg <= UINT8_MAX)
        return 2;
    if (arg <= UINT16_MAX)
        return 3;
    if (arg <= UINT32_MAX)
        return 5;
    return 9;
}

size_t
ockam__cbor_head_put(uint8_t *out, uint8_t major, uint64_t arg)
{
    size_t n = ockam__cbor_head_len(arg);
    uint8_t mt = (uint8_t)(major << 5);

    if (n == 1) {
        out[0] = (uint8_t)(mt | arg);
        return 1;
    }
    /* 2, 3, 5, 9 bytes <=> additional information 24, 25, 26, 27. */
    static const uint8_t ai_for_len[10] = {[2] = 24, [3] = 25, [5] = 26, [9] = 27};
    out[0] = (uint8_t)(mt | ai_for_len[n]);
    for (size_t i = n - 1; i >= 1; i--) {
        out[i] = (uint8_t)arg;
        arg >>= 8;
    }
    return n;
}

/* ---- routing message: decode ----------------------------------------------------------- */

/* The smallest address, [0, h''], is 3 bytes (82 00 40). */
#define MIN_ADDR_BYTES 3

/* The usual address, [type < 24, bytes of < 256], decoded without the general item reader;
 * anything else (and every error) goes through rd_addr's general path. */
static bool
rd_addr_fast(ockam__cbor_rd *r, struct ockam_route *route, ockam_err *err)
{
    const uint8_t *p = r->p + r->pos;
    size_t n = left(r), hl, len;
    if (n < 3 || p[0] != 0x82 || p[1] >= 24)
        return false;
    if (p[2] >= 0x40 && p[2] < 0x58) {
        hl = 3;
        len = p[2] - 0x40u;
    } else if (p[2] == 0x58 && n >= 4) {
        hl = 4;
        len = p[3];
    } else {
        return false;
    }
    if (len > n - hl)
        return false;
    r->pos += hl + len;
    if (len > OCKAM__SLOT_INLINE || route->start + route->count >= route->cap) {
        *err = ockam_route_push_back(route, ockam_addr_of(p[1], p + hl, len));
        return true;
    }
    /* rd_route reserved the room: fill the slot in place. */
    struct ockam__slot *s = &route->slots[route->start + route->count];
    s->type = p[1];
    s->heap = 0;
    s->len = (uint16_t)len;
    ockam__copy_small(s->u.in, p + hl, len);
    route->count++;
    *err = OCKAM_OK;
    return true;
}

/* Address = [uint type, bytes]; like minicbor-derive, extra trailing fields are skipped. */
static ockam_err
rd_addr(ockam__cbor_rd *r, struct ockam_route *route)
{
    uint64_t n, type;
    ockam_slice bytes;

    ockam_err err;
    if (rd_addr_fast(r, route, &err))
        return err;
    err = ockam__cbor_array(r, 1, &n);
    if (err)
        return err;
    if (n < 2)
        return OCKAM_ECBORTYPE;
    err = ockam__cbor_uint(r, UINT64_MAX, &type);
    if (err)
        return err;
    if (type > OCKAM_TRANSPORT_MAX)
        return OCKAM_EADDRTYPE;
    err = ockam__cbor_string(r, OCKAM__CBOR_BYTES, &bytes);
    if (err)
        return err;
    if (bytes.len > OCKAM_MAX_ADDR_LEN)
        return OCKAM_EADDRLEN;
    err = ockam__cbor_skip_n(r, n - 2);
    if (err)
        return err;
    return ockam_route_push_back(route, ockam_addr_of((uint8_t)type, bytes.ptr, bytes.len));
}

static ockam_err
rd_route(ockam__cbor_rd *r, struct ockam_route *route)
{
    uint64_t count;
    ockam_err err = ockam__cbor_array(r, MIN_ADDR_BYTES, &count);
    if (err)
        return err;
    if (count > OCKAM_MAX_ROUTE_LEN)
        return OCKAM_EROUTELEN;
    err = ockam__route_reserve_back(route, (uint32_t)count);
    if (err)
        return err;
    for (uint64_t i = 0; i < count; i++) {
        err = rd_addr(r, route);
        if (err)
            return err;
    }
    return OCKAM_OK;
}

static ockam_err
rd_payload(ockam__cbor_rd *r, ockam_msg *out, const ockam__borrow *from)
{
    ockam_slice data;
    ockam_err err = ockam__cbor_string(r, OCKAM__CBOR_BYTES, &data);
    if (err)
        return err;
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

/* Index 3: null (absent) or a text string. */
static ockam_err
rd_tracing(ockam__cbor_rd *r, ockam_msg *out)
{
    ockam_slice text;

    if (left(r) > 0 && r->p[r->pos] == OCKAM__CBOR_NULL) {
        r->pos++;
        return OCKAM_OK;
    }
    ockam_err err = ockam__cbor_string(r, OCKAM__CBOR_TEXT, &text);
    if (err)
        return err;
    if (!ockam__utf8_valid(text.ptr, text.len))
        return OCKAM_EUTF8;
    return ockam_msg_set_tracing(out, (const char *)text.ptr, text.len);
}

static ockam_err
decode_fields(ockam__cbor_rd *r, ockam_msg *out, const ockam__borrow *from)
{
    uint64_t n;
    ockam_err err = ockam__cbor_array(r, 1, &n);
    if (err)
        return err;
    if (n < 3)
        return OCKAM_ECBORTYPE;
    err = rd_route(r, &out->onward);
    if (!err)
        err = rd_route(r, &out->ret);
    if (!err)
        err = rd_payload(r, out, from);
    if (!err && n >= 4)
        err = rd_tracing(r, out);
    if (!err && n > 4)
        err = ockam__cbor_skip_n(r, n - 4);
    if (!err && left(r) != 0)
        err = OCKAM_ETRAILING;
    return err;
}

ockam_err
ockam__cbor_decode_msg_borrow(
    const uint8_t *buf, size_t len, ockam_msg *out, const ockam__borrow *from)
{
    ockam__cbor_rd r = {.p = buf, .len = len, .pos = 0};

    ockam__msg_reset(out);
    ockam_err err = decode_fields(&r, out, from);
    if (err)
        ockam__msg_reset(out);
    return err;
}

ockam_err
ockam__cbor_decode_msg(const uint8_t *buf, size_t len, ockam_msg *out)
{
    return ockam__cbor_decode_msg_borrow(buf, len, out, NULL);
}

/* ---- routing message: encode ----------------------------------------------------------- */

static size_t
string_size(size_t len)
{
    return ockam__cbor_head_len(len) + len;
}

static size_t
route_size(const struct ockam_route *r)
{
    size_t n = ockam__cbor_head_len(r->count);
    for (uint32_t i = 0; i < r->count; i++) {
        const struct ockam__slot *s = &r->slots[r->start + i];
        n += 1 + ockam__cbor_head_len(s->type) + string_size(s->len);
    }
    return n;
}

size_t
ockam__cbor_msg_size(const ockam_msg *msg)
{
    size_t n = 1 + route_size(&msg->onward) + route_size(&msg->ret) + string_size(msg->payload_len);
    if (msg->tracing)
        n += string_size(msg->tracing_len);
    return n;
}

static uint8_t *
put_string(uint8_t *p, uint8_t major, const void *data, size_t len)
{
    p += ockam__cbor_head_put(p, major, len);
    if (len)
        memcpy(p, data, len);
    return p + len;
}

/* Writes straight from the slot array; the caller has checked the size and the types. */
static uint8_t *
put_route(uint8_t *p, const struct ockam_route *r)
{
    p += ockam__cbor_head_put(p, OCKAM__CBOR_ARRAY, r->count);
    for (uint32_t i = 0; i < r->count; i++) {
        const struct ockam__slot *s = &r->slots[r->start + i];
        *p++ = 0x82;
        if (s->type < 24 && s->len < 24) { /* the usual address: three one-byte heads */
            *p++ = s->type;
            *p++ = (uint8_t)(0x40 | s->len);
            ockam__copy_small(p, s->u.in, s->len);
            p += s->len;
            continue;
        }
        p += ockam__cbor_head_put(p, OCKAM__CBOR_UINT, s->type);
        p = put_string(p, OCKAM__CBOR_BYTES, ockam__slot_bytes(s), s->len);
    }
    return p;
}

/* route_size, or SIZE_MAX when an address type cannot go on the wire (>= 128). */
static size_t
route_size_checked(const struct ockam_route *r)
{
    size_t n = ockam__cbor_head_len(r->count);
    for (uint32_t i = 0; i < r->count; i++) {
        const struct ockam__slot *s = &r->slots[r->start + i];
        if (s->type > OCKAM_TRANSPORT_MAX)
            return SIZE_MAX;
        n += 1 + ockam__cbor_head_len(s->type) + string_size(s->len);
    }
    return n;
}

ockam_err
ockam__cbor_encode_msg(const ockam_msg *msg, uint8_t *out, size_t cap, size_t *written)
{
    size_t onward = route_size_checked(&msg->onward), ret = route_size_checked(&msg->ret);
    if (onward == SIZE_MAX || ret == SIZE_MAX)
        return OCKAM_EADDRTYPE;
    /* A CBOR text string must be UTF-8, or the peer rejects the whole message. */
    if (msg->tracing && !ockam__utf8_valid((const uint8_t *)msg->tracing, msg->tracing_len))
        return OCKAM_EUTF8;
    size_t size = 1 + onward + ret + string_size(msg->payload_len);
    if (msg->tracing)
        size += string_size(msg->tracing_len);
    OCKAM_ASSERT(size == ockam__cbor_msg_size(msg));
    *written = size;
    if (size > cap)
        return OCKAM_EMSGSIZE;

    uint8_t *p = out;
    *p++ = msg->tracing ? 0x84 : 0x83;
    p = put_route(p, &msg->onward);
    p = put_route(p, &msg->ret);
    p = put_string(p, OCKAM__CBOR_BYTES, msg->payload, msg->payload_len);
    if (msg->tracing)
        p = put_string(p, OCKAM__CBOR_TEXT, msg->tracing, msg->tracing_len);
    OCKAM_ASSERT((size_t)(p - out) == size);
    return OCKAM_OK;
}

ockam_err
ockam__cbor_encode_msg_head(const ockam_msg *msg, uint8_t *out, size_t cap, size_t *written)
{
    OCKAM_ASSERT(!msg->tracing);
    size_t onward = route_size_checked(&msg->onward), ret = route_size_checked(&msg->ret);
    if (onward == SIZE_MAX || ret == SIZE_MAX)
        return OCKAM_EADDRTYPE;
    size_t size = 1 + onward + ret + ockam__cbor_head_len(msg->payload_len);
    *written = size;
    if (size > cap)
        return OCKAM_EMSGSIZE;
    uint8_t *p = out;
    *p++ = 0x83;
    p = put_route(p, &msg->onward);
    p = put_route(p, &msg->ret);
    p += ockam__cbor_head_put(p, OCKAM__CBOR_BYTES, msg->payload_len);
    OCKAM_ASSERT((size_t)(p - out) == size);
    return OCKAM_OK;
}
