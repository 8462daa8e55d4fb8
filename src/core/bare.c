/* BARE TransportMessage (docs/wire.md §3) and BARE strings.
 *
 * The decoders see a whole body (framing already delimited it), so running out of bytes is
 * OCKAM_ETRUNCATED here, never OCKAM_EAGAIN. */
#include "core/codec.h"

/* A bounded cursor over a complete body. */
struct rd {
    const uint8_t *p;
    size_t len;
    size_t pos;
};

static size_t
left(const struct rd *r)
{
    return r->len - r->pos;
}

static ockam_err
rd_varint(struct rd *r, uint64_t *v)
{
    size_t used;
    if (left(r) == 0) /* also keeps NULL + 0 away from an empty input */
        return OCKAM_ETRUNCATED;
    ockam_err err = ockam__varint_get(r->p + r->pos, left(r), v, &used);
    if (err == OCKAM_EAGAIN)
        return OCKAM_ETRUNCATED;
    if (err)
        return err;
    r->pos += used;
    return OCKAM_OK;
}

/* A varint length followed by that many bytes, all of which must be present. */
static ockam_err
rd_data(struct rd *r, ockam_slice *out)
{
    uint64_t n;
    ockam_err err = rd_varint(r, &n);
    if (err)
        return err;
    if (n > left(r))
        return OCKAM_ETRUNCATED;
    out->ptr = r->p + r->pos;
    out->len = (size_t)n;
    r->pos += (size_t)n;
    return OCKAM_OK;
}

static ockam_err
rd_addr(struct rd *r, struct ockam_route *route)
{
    ockam_slice bytes;

    if (left(r) == 0)
        return OCKAM_ETRUNCATED;
    uint8_t type = r->p[r->pos++];
    if (type > OCKAM_TRANSPORT_MAX)
        return OCKAM_EADDRTYPE;
    ockam_err err = rd_data(r, &bytes);
    if (err)
        return err;
    if (bytes.len > OCKAM_MAX_ADDR_LEN)
        return OCKAM_EADDRLEN;
    return ockam_route_push_back(route, ockam_addr_of(type, bytes.ptr, bytes.len));
}

static ockam_err
rd_route(struct rd *r, struct ockam_route *route)
{
    uint64_t count;
    ockam_err err = rd_varint(r, &count);
    if (err)
        return err;
    /* Every address needs at least a type byte and a length byte: refuse absurd counts
     * before looping, and only then apply the route limit. */
    if (count > left(r) / 2)
        return OCKAM_ETRUNCATED;
    if (count > OCKAM_MAX_ROUTE_LEN)
        return OCKAM_EROUTELEN;
    for (uint64_t i = 0; i < count; i++) {
        err = rd_addr(r, route);
        if (err)
            return err;
    }
    return OCKAM_OK;
}

static ockam_err
rd_payload(struct rd *r, ockam_msg *out, const ockam__borrow *from)
{
    ockam_slice data;
    ockam_err err = rd_data(r, &data);
    return err ? err : ockam__payload_take(out, data, from);
}

/* Field 5 of version 2. Rust treats a missing option, a tag other than 1 and invalid UTF-8
 * as "no tracing context"; only a string that runs past the end is an error. */
static ockam_err
rd_tracing(struct rd *r, ockam_msg *out)
{
    ockam_slice text;

    if (left(r) == 0 || r->p[r->pos] != 1)
        return OCKAM_OK;
    r->pos++;
    ockam_err err = rd_data(r, &text);
    if (err)
        return err;
    if (!ockam__utf8_valid(text.ptr, text.len))
        return OCKAM_OK;
    return ockam_msg_set_tracing(out, (const char *)text.ptr, text.len);
}

static ockam_err
decode_fields(struct rd *r, ockam_msg *out, uint8_t *version, const ockam__borrow *from)
{
    if (left(r) == 0)
        return OCKAM_ETRUNCATED;
    uint8_t v = r->p[r->pos++];
    if (v != 1 && v != 2)
        return OCKAM_EVERSION;
    if (version)
        *version = v;
    ockam_err err = rd_route(r, &out->onward);
    if (!err)
        err = rd_route(r, &out->ret);
    if (!err)
        err = rd_payload(r, out, from);
    /* Version 1 ignores whatever follows field 4 (Rust v0.119-v0.127 append a field 5). */
    if (!err && v == 2)
        err = rd_tracing(r, out);
    return err;
}

ockam_err
ockam__bare_decode_msg_borrow(
    const uint8_t *buf, size_t len, ockam_msg *out, uint8_t *version, const ockam__borrow *from)
{
    struct rd r = {.p = buf, .len = len, .pos = 0};

    ockam__msg_reset(out);
    ockam_err err = decode_fields(&r, out, version, from);
    if (err)
        ockam__msg_reset(out);
    return err;
}

ockam_err
ockam__bare_decode_msg(const uint8_t *buf, size_t len, ockam_msg *out, uint8_t *version)
{
    return ockam__bare_decode_msg_borrow(buf, len, out, version, NULL);
}

/* ---- encoding ------------------------------------------------------------------------ */

static size_t
data_size(size_t len)
{
    return ockam__varint_len(len) + len;
}

static size_t
route_size(const struct ockam_route *r)
{
    size_t n = ockam__varint_len(r->count);
    for (uint32_t i = 0; i < r->count; i++)
        n += 1 + data_size(r->slots[r->start + i].len);
    return n;
}

size_t
ockam__bare_msg_size(const ockam_msg *msg, uint8_t version)
{
    size_t n = 1 + route_size(&msg->onward) + route_size(&msg->ret) + data_size(msg->payload_len);
    if (version == 2)
        n += msg->tracing ? 1 + data_size(msg->tracing_len) : 1;
    return n;
}

static uint8_t *
put_data(uint8_t *p, const void *data, size_t len)
{
    p += ockam__varint_put(p, len);
    if (len)
        memcpy(p, data, len);
    return p + len;
}

/* Writes straight from the slot array; the caller has checked the size and the types. */
static uint8_t *
put_route(uint8_t *p, const struct ockam_route *r)
{
    p += ockam__varint_put(p, r->count);
    for (uint32_t i = 0; i < r->count; i++) {
        const struct ockam__slot *s = &r->slots[r->start + i];
        *p++ = s->type;
        p = put_data(p, ockam__slot_bytes(s), s->len);
    }
    return p;
}

static bool
route_types_ok(const struct ockam_route *r)
{
    for (uint32_t i = 0; i < r->count; i++) {
        if (r->slots[r->start + i].type > OCKAM_TRANSPORT_MAX)
            return false;
    }
    return true;
}

ockam_err
ockam__bare_encode_msg(
    const ockam_msg *msg, uint8_t version, uint8_t *out, size_t cap, size_t *written)
{
    if (version != 1 && version != 2)
        return OCKAM_EVERSION;
    if (!route_types_ok(&msg->onward) || !route_types_ok(&msg->ret))
        return OCKAM_EADDRTYPE;
    size_t size = ockam__bare_msg_size(msg, version);
    *written = size;
    if (size > cap)
        return OCKAM_EMSGSIZE;

    uint8_t *p = out;
    *p++ = version;
    p = put_route(p, &msg->onward);
    p = put_route(p, &msg->ret);
    p = put_data(p, msg->payload, msg->payload_len);
    if (version == 2) {
        *p++ = msg->tracing ? 1 : 0;
        if (msg->tracing)
            p = put_data(p, msg->tracing, msg->tracing_len);
    }
    OCKAM_ASSERT((size_t)(p - out) == size);
    return OCKAM_OK;
}

/* ---- BARE strings -------------------------------------------------------------------- */

ockam_err
ockam__bare_string_decode(const uint8_t *buf, size_t len, ockam_slice *text)
{
    struct rd r = {.p = buf, .len = len, .pos = 0};
    ockam_slice s;

    ockam_err err = rd_data(&r, &s);
    if (err)
        return err;
    if (left(&r) != 0)
        return OCKAM_ETRAILING;
    if (!ockam__utf8_valid(s.ptr, s.len))
        return OCKAM_EUTF8;
    *text = s;
    return OCKAM_OK;
}

size_t
ockam__bare_string_size(size_t text_len)
{
    return data_size(text_len);
}

ockam_err
ockam__bare_string_encode(
    const void *text, size_t text_len, uint8_t *out, size_t cap, size_t *written)
{
    size_t size = data_size(text_len);
    *written = size;
    if (size > cap)
        return OCKAM_EMSGSIZE;
    put_data(out, text, text_len);
    return OCKAM_OK;
}
