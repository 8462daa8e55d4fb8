/* Stream framing (docs/wire.md §4.2, §4.3): CURRENT = 0x01 preamble once, then u32 BE length +
 * CBOR body; LEGACY = u16 BE length + BARE body. Sans-IO and incremental. */
#include "core/codec.h"

void
ockam__framer_init(ockam__framer *f, ockam_wire_profile profile)
{
    f->profile = profile;
    f->need_preamble = profile == OCKAM_WIRE_CURRENT;
    f->max_body = profile == OCKAM_WIRE_CURRENT ? OCKAM_MAX_FRAME_CURRENT : OCKAM_MAX_FRAME_LEGACY;
}

size_t
ockam__frame_header_len(ockam_wire_profile profile)
{
    return profile == OCKAM_WIRE_CURRENT ? 4 : 2;
}

void
ockam__frame_header_put(ockam_wire_profile profile, uint8_t *out, uint32_t body_len)
{
    if (profile == OCKAM_WIRE_CURRENT) {
        ockam__put32be(out, body_len);
        return;
    }
    OCKAM_ASSERT(body_len <= OCKAM_MAX_FRAME_LEGACY);
    ockam__put16be(out, (uint16_t)body_len);
}

static ockam_err
need_more(size_t *need, size_t n)
{
    if (need)
        *need = n;
    return OCKAM_EAGAIN;
}

ockam_err
ockam__framer_next(ockam__framer *f, const uint8_t *buf, size_t len, size_t *consumed,
    ockam_slice *body, size_t *need)
{
    size_t pos = 0;

    *consumed = 0;
    if (f->need_preamble) {
        if (len == 0)
            return need_more(need, 1);
        if (buf[0] != OCKAM_WIRE_VERSION)
            return OCKAM_EVERSION;
        /* Consumed for good: the caller drops it even if the frame is still incomplete. */
        f->need_preamble = false;
        pos = *consumed = 1;
    }

    size_t hl = ockam__frame_header_len(f->profile);
    if (len - pos < hl)
        return need_more(need, hl);
    uint32_t body_len
        = f->profile == OCKAM_WIRE_CURRENT ? ockam__get32be(buf + pos) : ockam__get16be(buf + pos);
    if (body_len == 0 || body_len > f->max_body)
        return OCKAM_EFRAMELEN;
    if (len - pos - hl < body_len)
        return need_more(need, hl + body_len);

    body->ptr = buf + pos + hl;
    body->len = body_len;
    *consumed = pos + hl + body_len;
    return OCKAM_OK;
}

static size_t
body_size(ockam_wire_profile profile, const ockam_msg *msg)
{
    return profile == OCKAM_WIRE_CURRENT ? ockam__cbor_msg_size(msg) : ockam__bare_msg_size(msg, 1);
}

size_t
ockam__frame_msg_size(ockam_wire_profile profile, const ockam_msg *msg)
{
    return ockam__frame_header_len(profile) + body_size(profile, msg);
}

ockam_err
ockam__frame_encode_msg(
    ockam_wire_profile profile, const ockam_msg *msg, uint8_t *out, size_t cap, size_t *written)
{
    size_t hl = ockam__frame_header_len(profile);
    size_t max = profile == OCKAM_WIRE_CURRENT ? OCKAM_MAX_FRAME_CURRENT : OCKAM_MAX_FRAME_LEGACY;
    size_t body_len = 0;
    ockam_err err;

    if (cap < hl) {
        *written = ockam__frame_msg_size(profile, msg);
        return OCKAM_EMSGSIZE;
    }
    /* Capping the body capacity at the profile maximum makes the encoder size the body once
     * and reject both "too big for the wire" and "too big for out" with OCKAM_EMSGSIZE. */
    size_t body_cap = cap - hl < max ? cap - hl : max;
    if (profile == OCKAM_WIRE_CURRENT)
        err = ockam__cbor_encode_msg(msg, out + hl, body_cap, &body_len);
    else
        err = ockam__bare_encode_msg(msg, 1, out + hl, body_cap, &body_len);
    *written = hl + body_len;
    if (err)
        return err;
    ockam__frame_header_put(profile, out, (uint32_t)body_len);
    return OCKAM_OK;
}

ockam_err
ockam__frame_encode_parts(const ockam__msg_parts *m, uint8_t *out, size_t cap, size_t *written)
{
    size_t hl = ockam__frame_header_len(OCKAM_WIRE_CURRENT), body_len = 0;
    size_t body_cap = cap < hl ? 0 : cap - hl;
    if (body_cap > OCKAM_MAX_FRAME_CURRENT)
        body_cap = OCKAM_MAX_FRAME_CURRENT;
    ockam_err err = ockam__cbor_encode_parts(m, out + (cap < hl ? 0 : hl), body_cap, &body_len);
    *written = hl + body_len;
    if (err == OCKAM_OK && cap < hl)
        err = OCKAM_EMSGSIZE;
    if (err)
        return err;
    ockam__frame_header_put(OCKAM_WIRE_CURRENT, out, (uint32_t)body_len);
    return OCKAM_OK;
}

ockam_err
ockam__frame_decode_body_borrow(ockam_wire_profile profile, const uint8_t *body, size_t len,
    ockam_msg *out, const ockam__borrow *from)
{
    if (profile == OCKAM_WIRE_CURRENT)
        return ockam__cbor_decode_msg_borrow(body, len, out, from);
    return ockam__bare_decode_msg_borrow(body, len, out, NULL, from);
}

ockam_err
ockam__frame_decode_body(
    ockam_wire_profile profile, const uint8_t *body, size_t len, ockam_msg *out)
{
    return ockam__frame_decode_body_borrow(profile, body, len, out, NULL);
}

ockam_err
ockam__frame_encode_head(const ockam_msg *msg, uint8_t *out, size_t cap, size_t *written)
{
    size_t hl = ockam__frame_header_len(OCKAM_WIRE_CURRENT), head = 0;
    ockam_err err = ockam__cbor_encode_msg_head(
        msg, out + (cap < hl ? 0 : hl), cap < hl ? 0 : cap - hl, &head);
    *written = hl + head;
    if (err == OCKAM_OK && cap < hl)
        err = OCKAM_EMSGSIZE;
    if (err)
        return err;
    if (head + msg->payload_len > OCKAM_MAX_FRAME_CURRENT)
        return OCKAM_EMSGSIZE;
    ockam__frame_header_put(OCKAM_WIRE_CURRENT, out, (uint32_t)(head + msg->payload_len));
    return OCKAM_OK;
}
