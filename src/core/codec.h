/* Wire codecs, sans-IO (docs/wire.md §2–§5). Every decoder takes (ptr, len), never reads past
 * len, checks every count or length from the wire against the bytes that remain before using
 * it, and returns:
 *   OCKAM_OK      decoded;
 *   OCKAM_EAGAIN  the input is a strict prefix of something valid (need more bytes) — only
 *                 where the format is self-delimiting (framing, varints, CBOR items);
 *   another code  malformed; the code names the defect (OCKAM_ETRUNCATED, OCKAM_EVARINT...).
 * Every encoder takes an output capacity and returns OCKAM_EMSGSIZE when it does not fit.
 * Decoders that fill an ockam_msg reset it first and leave it reset on error. */
#ifndef OCKAM_CORE_CODEC_H
#define OCKAM_CORE_CODEC_H

#include "core/core.h"
#include "ockam/wire.h"

/* ---- borrowing payloads ----------------------------------------------------------------- */
/* Where a message decoder may take the payload from without copying it: the input buffer
 * lies inside chunk->data, and a payload of at least `min` bytes then borrows from the chunk
 * (ockam__msg_borrow_payload) instead of being copied. The *_borrow decoders take NULL for
 * "always copy", which is what the plain ones do. */
typedef struct ockam__borrow {
    struct ockam__chunk *chunk;
    size_t min;
} ockam__borrow;
/* Make data (inside the input, from->chunk's when from is given) out's payload: borrowed when
 * from allows it, copied otherwise; nothing for empty data. OCKAM_ENOMEM when the copy
 * cannot be made. */
ockam_err ockam__payload_take(ockam_msg *out, ockam_slice data, const ockam__borrow *from);

/* ---- BARE primitives ----------------------------------------------------------------- */
#define OCKAM__VARINT_MAX 10
/* LEB128; rejects > 10 bytes, overflow of u64 and (non-canonical) overlong encodings. */
ockam_err ockam__varint_get(const uint8_t *buf, size_t len, uint64_t *value, size_t *used);
size_t ockam__varint_put(uint8_t *out, uint64_t value); /* out has OCKAM__VARINT_MAX bytes */
size_t ockam__varint_len(uint64_t value);

/* ---- BARE TransportMessage (§3) ------------------------------------------------------ */
/* version 1: fields 1-4 only (vector V1). version 2: fields 1-5, field 5 = tracing option. */
size_t ockam__bare_msg_size(const ockam_msg *msg, uint8_t version);
ockam_err ockam__bare_encode_msg(
    const ockam_msg *msg, uint8_t version, uint8_t *out, size_t cap, size_t *written);
/* Lenient as §3.2: version 1 ignores trailing bytes; version 2 reads an optional tracing
 * string (missing byte, tag != 1 or invalid UTF-8 => absent); other versions: OCKAM_EVERSION.
 * The whole buffer is the body (framing already delimited it), so a short body is
 * OCKAM_ETRUNCATED, never OCKAM_EAGAIN. *version may be NULL. */
ockam_err ockam__bare_decode_msg(const uint8_t *buf, size_t len, ockam_msg *out, uint8_t *version);
ockam_err ockam__bare_decode_msg_borrow(
    const uint8_t *buf, size_t len, ockam_msg *out, uint8_t *version, const ockam__borrow *from);

/* ---- CBOR TCP/UDP body (§4.2, §5.2) -------------------------------------------------- */
/* What an encoder needs of a message, as views: lets a sender encode a message it never
 * built (ockam_send_to's shortcut straight into a connection's output buffer). */
typedef struct ockam__msg_parts {
    const struct ockam__slot *onward;
    uint32_t onward_count;
    const struct ockam__slot *ret;
    uint32_t ret_count;
    const uint8_t *payload;
    size_t payload_len;
    const char *tracing; /* NULL when absent */
    size_t tracing_len;
} ockam__msg_parts;

ockam__msg_parts ockam__msg_parts_of(const ockam_msg *msg);

/* Encodes [onward, return, payload] or, when the message has tracing, 4 elements. On
 * OCKAM_EMSGSIZE *written is the size needed (out[0..cap) may have been written). */
size_t ockam__cbor_msg_size(const ockam_msg *msg);
size_t ockam__cbor_parts_size(const ockam__msg_parts *m);
ockam_err ockam__cbor_encode_msg(const ockam_msg *msg, uint8_t *out, size_t cap, size_t *written);
ockam_err ockam__cbor_encode_parts(
    const ockam__msg_parts *m, uint8_t *out, size_t cap, size_t *written);
/* Accepts 3 elements, 4 with null or a text string, and ignores extra trailing elements
 * (which must still be well-formed). Definite lengths only. Bytes after the array:
 * OCKAM_ETRAILING. */
ockam_err ockam__cbor_decode_msg(const uint8_t *buf, size_t len, ockam_msg *out);
/* The same without the one-pass path for the usual shape (for the fuzz target's comparison). */
ockam_err ockam__cbor_decode_msg_general(const uint8_t *buf, size_t len, ockam_msg *out);
ockam_err ockam__cbor_decode_msg_borrow(
    const uint8_t *buf, size_t len, ockam_msg *out, const ockam__borrow *from);

/* ---- UDP fragments (§5.2) ------------------------------------------------------------ */
typedef struct ockam__udp_frag {
    uint8_t version;
    uint16_t routing_number;
    uint32_t offset;
    bool is_last;
    ockam_slice data; /* view into the decoded buffer */
} ockam__udp_frag;

ockam_err ockam__udp_frag_decode(const uint8_t *buf, size_t len, ockam__udp_frag *out);
ockam_err ockam__udp_frag_encode(
    const ockam__udp_frag *frag, uint8_t *out, size_t cap, size_t *written);
/* The routing number of a datagram's first bytes (the ICMP error of a datagram quotes only
 * its start): the array head, version and number are read, nothing after them. */
ockam_err ockam__udp_frag_peek_number(const uint8_t *buf, size_t len, uint16_t *number);

/* ---- stream framing (§4.2, §4.3), incremental ---------------------------------------- */
typedef struct ockam__framer {
    ockam_wire_profile profile;
    bool need_preamble; /* CURRENT: the peer's 0x01 has not been seen yet */
    uint32_t max_body;  /* OCKAM_MAX_FRAME_CURRENT or OCKAM_MAX_FRAME_LEGACY */
} ockam__framer;

void ockam__framer_init(ockam__framer *f, ockam_wire_profile profile);
/* Look for the next frame at buf[0..len). Sets *consumed to the bytes the caller must drop
 * (preamble and/or one whole frame) on OCKAM_OK and on OCKAM_EAGAIN. On OCKAM_OK *body views
 * the frame body inside buf. Errors: OCKAM_EVERSION (bad preamble), OCKAM_EFRAMELEN (length 0
 * or above max_body). On OCKAM_EAGAIN, *need (if not NULL) is the total number of bytes from
 * buf[*consumed] that the next call needs, so a reader can size its buffer. */
ockam_err ockam__framer_next(ockam__framer *f, const uint8_t *buf, size_t len, size_t *consumed,
    ockam_slice *body, size_t *need);
/* Bytes of the length prefix for the profile (4 or 2). */
size_t ockam__frame_header_len(ockam_wire_profile profile);
void ockam__frame_header_put(ockam_wire_profile profile, uint8_t *out, uint32_t body_len);

/* Whole frames: header + encoded body (CBOR for CURRENT, BARE version 1 for LEGACY).
 * OCKAM_EMSGSIZE when the body exceeds the profile maximum (or cap). */
size_t ockam__frame_msg_size(ockam_wire_profile profile, const ockam_msg *msg);
ockam_err ockam__frame_encode_msg(
    ockam_wire_profile profile, const ockam_msg *msg, uint8_t *out, size_t cap, size_t *written);
/* CURRENT profile, message without tracing: the frame up to and including the payload's
 * length, not the payload bytes themselves (the caller writes those right after, from the
 * message's own buffer). *written = bytes written (or needed, with OCKAM_EMSGSIZE when they
 * do not fit in cap); OCKAM_EMSGSIZE also when the whole frame exceeds the maximum. */
ockam_err ockam__frame_encode_head(const ockam_msg *msg, uint8_t *out, size_t cap, size_t *written);
ockam_err ockam__cbor_encode_msg_head(
    const ockam_msg *msg, uint8_t *out, size_t cap, size_t *written);
/* A whole CURRENT frame from parts; OCKAM_EMSGSIZE (with *written = bytes needed) when it
 * does not fit in cap or exceeds the profile maximum. */
ockam_err ockam__frame_encode_parts(
    const ockam__msg_parts *m, uint8_t *out, size_t cap, size_t *written);
/* Decode a frame body with the profile's codec (from: see ockam__borrow; may be NULL). */
ockam_err ockam__frame_decode_body(
    ockam_wire_profile profile, const uint8_t *body, size_t len, ockam_msg *out);
ockam_err ockam__frame_decode_body_borrow(ockam_wire_profile profile, const uint8_t *body,
    size_t len, ockam_msg *out, const ockam__borrow *from);

/* ---- BARE strings (payloads of uppercase, relays, CLI messages) ---------------------- */
/* Decode a BARE string that must fill the whole buffer; *text views into buf. */
ockam_err ockam__bare_string_decode(const uint8_t *buf, size_t len, ockam_slice *text);
size_t ockam__bare_string_size(size_t text_len);
ockam_err ockam__bare_string_encode(
    const void *text, size_t text_len, uint8_t *out, size_t cap, size_t *written);

#endif
