/* UDP datagrams of the CURRENT profile (docs/wire.md §5.2): one CBOR UdpTransportMessage
 * [version, routing number, offset, is_last, payload] per datagram. */
#include "core/cbor_internal.h"
#include "core/codec.h"

#define FRAG_FIELDS 5

static ockam_err
rd_bool(ockam__cbor_rd *r, bool *out)
{
    if (r->pos == r->len)
        return OCKAM_ETRUNCATED;
    uint8_t b = r->p[r->pos];
    if (b != OCKAM__CBOR_FALSE && b != OCKAM__CBOR_TRUE)
        return OCKAM_ECBORTYPE;
    *out = b == OCKAM__CBOR_TRUE;
    r->pos++;
    return OCKAM_OK;
}

static ockam_err
decode_fields(ockam__cbor_rd *r, ockam__udp_frag *out)
{
    uint64_t n, version, number, offset;
    bool last;
    ockam_slice data;

    ockam_err err = ockam__cbor_array(r, 1, &n);
    if (err)
        return err;
    if (n < FRAG_FIELDS)
        return OCKAM_ECBORTYPE;
    /* Values outside the Rust field types (u8, u16, u32) fail there too. */
    err = ockam__cbor_uint(r, UINT8_MAX, &version);
    if (!err)
        err = ockam__cbor_uint(r, UINT16_MAX, &number);
    if (!err)
        err = ockam__cbor_uint(r, UINT32_MAX, &offset);
    if (!err)
        err = rd_bool(r, &last);
    if (!err)
        err = ockam__cbor_string(r, OCKAM__CBOR_BYTES, &data);
    if (err)
        return err;
    /* Like minicbor-derive, ignore unknown trailing fields (they must still be well-formed). */
    err = ockam__cbor_skip_n(r, n - FRAG_FIELDS);
    if (err)
        return err;
    if (r->pos != r->len)
        return OCKAM_ETRAILING;
    out->version = (uint8_t)version;
    out->routing_number = (uint16_t)number;
    out->offset = (uint32_t)offset;
    out->is_last = last;
    out->data = data;
    return OCKAM_OK;
}

ockam_err
ockam__udp_frag_decode(const uint8_t *buf, size_t len, ockam__udp_frag *out)
{
    ockam__cbor_rd r = {.p = buf, .len = len, .pos = 0};

    /* Rust reads into a 508-byte buffer; anything longer never decodes there. */
    if (len > OCKAM_UDP_MAX_DATAGRAM)
        return OCKAM_EMSGSIZE;
    return decode_fields(&r, out);
}

ockam_err
ockam__udp_frag_peek_number(const uint8_t *buf, size_t len, uint16_t *number)
{
    ockam__cbor_rd r = {.p = buf, .len = len, .pos = 0};
    uint64_t n, version, value;
    uint8_t major;

    /* The array head alone: the quoted datagram may stop before its items do. */
    ockam_err err = ockam__cbor_head(&r, &major, &n);
    if (!err && (major != OCKAM__CBOR_ARRAY || n < FRAG_FIELDS))
        err = OCKAM_ECBORTYPE;
    if (!err)
        err = ockam__cbor_uint(&r, UINT8_MAX, &version);
    if (!err)
        err = ockam__cbor_uint(&r, UINT16_MAX, &value);
    if (!err)
        *number = (uint16_t)value;
    return err;
}

static size_t
frag_size(const ockam__udp_frag *frag)
{
    return 1 + ockam__cbor_head_len(frag->version) + ockam__cbor_head_len(frag->routing_number)
        + ockam__cbor_head_len(frag->offset) + 1 + ockam__cbor_head_len(frag->data.len)
        + frag->data.len;
}

ockam_err
ockam__udp_frag_encode(const ockam__udp_frag *frag, uint8_t *out, size_t cap, size_t *written)
{
    size_t size = frag_size(frag);
    *written = size;
    if (frag->data.len > OCKAM_UDP_MAX_FRAGMENT_PAYLOAD || size > cap)
        return OCKAM_EMSGSIZE;

    uint8_t *p = out;
    *p++ = 0x80 | FRAG_FIELDS;
    p += ockam__cbor_head_put(p, OCKAM__CBOR_UINT, frag->version);
    p += ockam__cbor_head_put(p, OCKAM__CBOR_UINT, frag->routing_number);
    p += ockam__cbor_head_put(p, OCKAM__CBOR_UINT, frag->offset);
    *p++ = frag->is_last ? OCKAM__CBOR_TRUE : OCKAM__CBOR_FALSE;
    p += ockam__cbor_head_put(p, OCKAM__CBOR_BYTES, frag->data.len);
    if (frag->data.len)
        memcpy(p, frag->data.ptr, frag->data.len);
    return OCKAM_OK;
}
