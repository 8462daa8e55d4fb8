/* The CBOR subset (docs/wire.md §2.2) and the TCP/UDP routing message [onward, return,
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

/* ---- routing message: decode ----------------------------------------------------------- */

/* The smallest address, [0, h''], is 3 bytes (82 00 40). */
#define MIN_ADDR_BYTES 3

/* Address = [uint type, bytes]; like minicbor-derive, extra trailing fields are skipped. */
static ockam_err
rd_addr(ockam__cbor_rd *r, struct ockam_route *route)
{
    uint64_t n, type;
    ockam_slice bytes;

    ockam_err err = ockam__cbor_array(r, 1, &n);
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
    return err ? err : ockam__payload_take(out, data, from);
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

static ockam_err
decode_general(const uint8_t *buf, size_t len, ockam_msg *out, const ockam__borrow *from)
{
    ockam__cbor_rd r = {.p = buf, .len = len, .pos = 0};

    ockam__msg_reset(out);
    ockam_err err = decode_fields(&r, out, from);
    if (err)
        ockam__msg_reset(out);
    return err;
}

/* ---- routing message: decode, the usual shape in one pass ------------------------------ */

/* count (< 24) addresses [type < 24, bytes that fit in a slot] appended to route; false at
 * the first address of any other shape. */
static inline __attribute__((always_inline)) bool
take_route(const uint8_t **pp, const uint8_t *end, struct ockam_route *route, uint32_t count)
{
    const uint8_t *p = *pp;
    if (ockam__route_reserve(route, 1, count) != OCKAM_OK)
        return false;
    struct ockam__slot *s = &route->slots[route->start + route->count];
    for (uint32_t i = 0; i < count; i++, s++) {
        size_t hl, len;
        if (end - p < 3 || p[0] != 0x82 || p[1] >= 24)
            return false;
        if (p[2] >= 0x40 && p[2] < 0x58) {
            hl = 3;
            len = p[2] - 0x40u;
        } else if (p[2] == 0x58 && end - p >= 4) {
            hl = 4;
            len = p[3];
        } else {
            return false;
        }
        if (len > OCKAM__SLOT_INLINE || len > (size_t)(end - p) - hl)
            return false;
        s->type = p[1];
        s->heap = 0;
        s->len = (uint16_t)len;
        ockam__copy_small(s->u.in, p + hl, len);
        p += hl + len;
        route->count++;
    }
    *pp = p;
    return true;
}

/* A byte string head of any width, its bytes present; false otherwise. */
static bool
take_bytes(const uint8_t **pp, const uint8_t *end, ockam_slice *out)
{
    const uint8_t *p = *pp;
    size_t avail = (size_t)(end - p), hl;
    uint64_t n;
    if (avail == 0 || p[0] >> 5 != OCKAM__CBOR_BYTES)
        return false;
    uint8_t ai = p[0] & 0x1f;
    if (ai < 24) {
        hl = 1;
        n = ai;
    } else if (ai <= 26) {
        hl = 1 + ((size_t)1 << (ai - 24));
        if (avail < hl)
            return false;
        n = get_be(p + 1, hl - 1);
    } else {
        return false;
    }
    if (n > avail - hl)
        return false;
    out->ptr = p + hl;
    out->len = (size_t)n;
    *pp = p + hl + n;
    return true;
}

/* [onward, return, payload] or [onward, return, payload, null] with at most 23 addresses per
 * route, each [type < 24, bytes that fit in a slot]: every message a node of ours sends and
 * nearly all others. It accepts a subset of what the general decoder accepts and decodes it
 * to the same message (the fuzz target checks both agree); false sends the rest there. */
static bool
decode_usual(const uint8_t *buf, size_t len, ockam_msg *out, const ockam__borrow *from)
{
    ockam_slice payload;
    if (len < 3 || (buf[0] != 0x83 && buf[0] != 0x84) || buf[1] < 0x80 || buf[1] >= 0x80 + 24)
        return false;
    const uint8_t *p = buf, *end = buf + len;
    bool tracing = p[0] == 0x84;
    uint32_t n = p[1] - 0x80u;
    p += 2;
    if (!take_route(&p, end, &out->onward, n))
        return false;
    if (p == end || *p < 0x80 || *p >= 0x80 + 24)
        return false;
    n = *p++ - 0x80u;
    if (!take_route(&p, end, &out->ret, n) || !take_bytes(&p, end, &payload))
        return false;
    if (tracing && (p == end || *p++ != OCKAM__CBOR_NULL))
        return false;
    if (p != end)
        return false;
    if (ockam__payload_take(out, payload, from) != OCKAM_OK)
        return false;
    return true;
}

ockam_err
ockam__cbor_decode_msg_general(const uint8_t *buf, size_t len, ockam_msg *out)
{
    return decode_general(buf, len, out, NULL);
}

ockam_err
ockam__cbor_decode_msg_borrow(
    const uint8_t *buf, size_t len, ockam_msg *out, const ockam__borrow *from)
{
    ockam__msg_reset(out);
    if (decode_usual(buf, len, out, from))
        return OCKAM_OK;
    return decode_general(buf, len, out, from);
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
route_size(const struct ockam__slot *slots, uint32_t count)
{
    size_t n = ockam__cbor_head_len(count);
    for (uint32_t i = 0; i < count; i++)
        n += 1 + ockam__cbor_head_len(slots[i].type) + string_size(slots[i].len);
    return n;
}

size_t
ockam__cbor_parts_size(const ockam__msg_parts *m)
{
    size_t n = 1 + route_size(m->onward, m->onward_count) + route_size(m->ret, m->ret_count)
        + string_size(m->payload_len);
    if (m->tracing)
        n += string_size(m->tracing_len);
    return n;
}

size_t
ockam__cbor_msg_size(const ockam_msg *msg)
{
    ockam__msg_parts m = ockam__msg_parts_of(msg);
    return ockam__cbor_parts_size(&m);
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
put_route(uint8_t *p, const struct ockam__slot *slots, uint32_t count)
{
    p += ockam__cbor_head_put(p, OCKAM__CBOR_ARRAY, count);
    for (uint32_t i = 0; i < count; i++) {
        const struct ockam__slot *s = &slots[i];
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

/* Encoded size of a route, or SIZE_MAX when an address type cannot go on the wire (>= 128). */
static size_t
route_size_checked(const struct ockam__slot *slots, uint32_t count)
{
    size_t n = ockam__cbor_head_len(count);
    for (uint32_t i = 0; i < count; i++) {
        const struct ockam__slot *s = &slots[i];
        if (s->type > OCKAM_TRANSPORT_MAX)
            return SIZE_MAX;
        n += 1 + ockam__cbor_head_len(s->type) + string_size(s->len);
    }
    return n;
}

ockam__msg_parts
ockam__msg_parts_of(const ockam_msg *msg)
{
    return (ockam__msg_parts) {
        /* (a route that never held an address has no storage at all) */
        .onward = msg->onward.slots ? msg->onward.slots + msg->onward.start : NULL,
        .onward_count = msg->onward.count,
        .ret = msg->ret.slots ? msg->ret.slots + msg->ret.start : NULL,
        .ret_count = msg->ret.count,
        .payload = msg->payload,
        .payload_len = msg->payload_len,
        .tracing = msg->tracing,
        .tracing_len = msg->tracing_len,
    };
}

/* The usual route -- fewer than 24 addresses, each [type < 24, bytes kept in the slot] --
 * has one-byte heads but for addresses of 24..44 bytes: its size, or 0 for any other route. */
static inline size_t
usual_route_size(const struct ockam__slot *s, uint32_t count)
{
    if (count >= 24)
        return 0;
    size_t n = 1;
    for (uint32_t i = 0; i < count; i++) {
        if (s[i].type >= 24 || s[i].heap)
            return 0;
        n += 3u + (s[i].len >= 24) + s[i].len;
    }
    return n;
}

static inline uint8_t *
put_usual_route(uint8_t *p, const struct ockam__slot *s, uint32_t count)
{
    *p++ = (uint8_t)(0x80 | count);
    for (uint32_t i = 0; i < count; i++) {
        size_t len = s[i].len;
        p[0] = 0x82;
        p[1] = s[i].type;
        if (len < 24) {
            p[2] = (uint8_t)(0x40 | len);
            p += 3;
        } else {
            p[2] = 0x58;
            p[3] = (uint8_t)len;
            p += 4;
        }
        ockam__copy_small(p, s[i].u.in, len);
        p += len;
    }
    return p;
}

/* [onward, return, payload-head] without the payload bytes; *size is the whole body. */
static ockam_err
encode_head(const ockam__msg_parts *m, uint8_t *out, size_t cap, size_t *head, size_t *size)
{
    size_t onward = usual_route_size(m->onward, m->onward_count);
    size_t ret = usual_route_size(m->ret, m->ret_count);
    bool usual = onward && ret;
    if (!usual) {
        onward = route_size_checked(m->onward, m->onward_count);
        ret = route_size_checked(m->ret, m->ret_count);
    }
    if (onward == SIZE_MAX || ret == SIZE_MAX)
        return OCKAM_EADDRTYPE;
    /* A CBOR text string must be UTF-8, or the peer rejects the whole message. */
    if (m->tracing && !ockam__utf8_valid((const uint8_t *)m->tracing, m->tracing_len))
        return OCKAM_EUTF8;
    *head = 1 + onward + ret + ockam__cbor_head_len(m->payload_len);
    *size = *head + m->payload_len;
    if (m->tracing)
        *size += string_size(m->tracing_len);
    if (*head > cap)
        return OCKAM_EMSGSIZE;
    uint8_t *p = out;
    *p++ = m->tracing ? 0x84 : 0x83;
    if (usual) {
        p = put_usual_route(p, m->onward, m->onward_count);
        p = put_usual_route(p, m->ret, m->ret_count);
    } else {
        p = put_route(p, m->onward, m->onward_count);
        p = put_route(p, m->ret, m->ret_count);
    }
    p += ockam__cbor_head_put(p, OCKAM__CBOR_BYTES, m->payload_len);
    OCKAM_ASSERT((size_t)(p - out) == *head);
    return OCKAM_OK;
}

ockam_err
ockam__cbor_encode_parts(const ockam__msg_parts *m, uint8_t *out, size_t cap, size_t *written)
{
    size_t head, size;
    ockam_err err = encode_head(m, out, cap, &head, &size);
    *written = size;
    if (err == OCKAM_OK && size > cap)
        err = OCKAM_EMSGSIZE;
    if (err)
        return err;
    uint8_t *p = out + head;
    if (m->payload_len)
        memcpy(p, m->payload, m->payload_len);
    p += m->payload_len;
    if (m->tracing)
        p = put_string(p, OCKAM__CBOR_TEXT, m->tracing, m->tracing_len);
    OCKAM_ASSERT((size_t)(p - out) == size);
    return OCKAM_OK;
}

ockam_err
ockam__cbor_encode_msg(const ockam_msg *msg, uint8_t *out, size_t cap, size_t *written)
{
    ockam__msg_parts m = ockam__msg_parts_of(msg);
    ockam_err err = ockam__cbor_encode_parts(&m, out, cap, written);
    OCKAM_ASSERT(err != OCKAM_OK || *written == ockam__cbor_msg_size(msg));
    return err;
}

ockam_err
ockam__cbor_encode_msg_head(const ockam_msg *msg, uint8_t *out, size_t cap, size_t *written)
{
    OCKAM_ASSERT(!msg->tracing);
    ockam__msg_parts m = ockam__msg_parts_of(msg);
    size_t size;
    return encode_head(&m, out, cap, written, &size);
}
