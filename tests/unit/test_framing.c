/* Stream framing (docs/wire.md §4.2, §4.3): whole frames from docs/wire.md, every prefix, arbitrary
 * chunk splits down to one byte at a time, the preamble, the length limits, and whole-frame
 * encoding. Also the profile names (wire.h). */
#include "codec_util.h"
#include "codec_vectors.h"
#include "support/guard.h"

#include <stdlib.h>

struct frame_vec {
    const char *name;
    ockam_wire_profile profile;
    const char *frame; /* header + body, no preamble */
    bool encodable;    /* our encoder writes exactly these bytes for the decoded message */
};

static const struct frame_vec frame_vecs[] = {
    {"C1", OCKAM_WIRE_CURRENT, VEC_C1, true},
    {"C2", OCKAM_WIRE_CURRENT, VEC_C2, true},
    {"C3", OCKAM_WIRE_CURRENT, VEC_C3, true},
    {"C4", OCKAM_WIRE_CURRENT, VEC_C4, true},
    {"C5", OCKAM_WIRE_CURRENT, VEC_C5, true},
    {"portal Ping", OCKAM_WIRE_CURRENT, VEC_PING, true},
    {"relay registration", OCKAM_WIRE_CURRENT, VEC_REG, true},
    {"relay confirmation", OCKAM_WIRE_CURRENT, VEC_CONFIRM, true},
    {"V1 framed", OCKAM_WIRE_LEGACY, VEC_V1_FRAME, true},
    {"V4 heartbeat", OCKAM_WIRE_LEGACY, VEC_V4_FRAME, true},
    {"relay registration (LEGACY)", OCKAM_WIRE_LEGACY, VEC_REG_LEGACY, true},
    /* Version 2 bodies in a LEGACY frame decode, but LEGACY frames are written as version 1. */
    {"V3 framed", OCKAM_WIRE_LEGACY, "00 19 " VEC_V3, false},
};

#define NFRAMES (sizeof frame_vecs / sizeof frame_vecs[0])

/* The stream a peer sends: CURRENT starts with the 0x01 preamble. */
static size_t
stream_of(const struct frame_vec *v, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (v->profile == OCKAM_WIRE_CURRENT)
        out[n++] = OCKAM_WIRE_VERSION;
    return n + tn_hex(v->frame, out + n, cap - n);
}

static void
test_frame_vectors(void **state)
{
    ockam_msg *m = ockam_msg_new();
    for (size_t i = 0; i < NFRAMES; i++) {
        const struct frame_vec *v = &frame_vecs[i];
        uint8_t buf[256];
        size_t n = stream_of(v, buf, sizeof buf), consumed, need;
        size_t pre = v->profile == OCKAM_WIRE_CURRENT ? 1 : 0;
        size_t hl = ockam__frame_header_len(v->profile);
        ockam__framer f;
        ockam_slice body;
        uint8_t *g = test_guard_copy(buf, n);

        print_message("%s\n", v->name);
        ockam__framer_init(&f, v->profile);
        assert_int_equal(ockam__framer_next(&f, g, n, &consumed, &body, &need), OCKAM_OK);
        assert_int_equal(consumed, n);
        assert_ptr_equal(body.ptr, g + pre + hl);
        assert_int_equal(body.len, n - pre - hl);
        assert_int_equal(ockam__frame_decode_body(v->profile, body.ptr, body.len, m), OCKAM_OK);
        /* Nothing more in the stream. */
        assert_int_equal(ockam__framer_next(&f, g + n, 0, &consumed, &body, &need), OCKAM_EAGAIN);
        assert_int_equal(consumed, 0);
        assert_int_equal(need, hl);

        if (v->encodable) {
            uint8_t out[256];
            size_t written;
            assert_int_equal(ockam__frame_msg_size(v->profile, m), n - pre);
            assert_int_equal(
                ockam__frame_encode_msg(v->profile, m, out, sizeof out, &written), OCKAM_OK);
            assert_int_equal(written, n - pre);
            assert_memory_equal(out, buf + pre, n - pre);
            assert_int_equal(
                ockam__frame_encode_msg(v->profile, m, out, n - pre - 1, &written), OCKAM_EMSGSIZE);
            assert_int_equal(written, n - pre);
            assert_int_equal(
                ockam__frame_encode_msg(v->profile, m, out, 1, &written), OCKAM_EMSGSIZE);
            assert_int_equal(written, n - pre);
        }
        test_guard_free(g);
    }
    ockam_msg_free(m);
}

/* Every strict prefix of a stream needs more bytes; *need says how many. */
struct prefix_ctx {
    ockam_wire_profile profile;
    size_t full;
};

static void
check_prefix(const uint8_t *buf, size_t len, void *arg)
{
    struct prefix_ctx *c = arg;
    ockam__framer f;
    ockam_slice body;
    size_t consumed = 99, need = 0;
    ockam__framer_init(&f, c->profile);
    assert_int_equal(ockam__framer_next(&f, buf, len, &consumed, &body, &need), OCKAM_EAGAIN);
    assert_true(consumed <= len);
    assert_true(need > len - consumed);
    assert_true(consumed + need <= c->full);
}

static void
test_frame_prefixes(void **state)
{
    for (size_t i = 0; i < NFRAMES; i++) {
        uint8_t buf[256];
        size_t n = stream_of(&frame_vecs[i], buf, sizeof buf);
        struct prefix_ctx c = {frame_vecs[i].profile, n};
        cu_each_prefix(buf, n, check_prefix, &c);
    }
}

/* Feed a stream through a framer in chunks, the way a reader would: keep unconsumed bytes,
 * append the next chunk, call until EAGAIN. Returns the frames' bodies concatenated with a
 * 4-byte length before each, so two splits can be compared. */
struct collected {
    uint8_t *bytes;
    size_t len;
    size_t frames;
    ockam_err last;
};

static struct collected
feed(ockam_wire_profile profile, const uint8_t *stream, size_t len, size_t (*chunk)(size_t),
    uint8_t *scratch)
{
    struct collected out = {.bytes = malloc(len * 2 + 16)};
    ockam__framer f;
    size_t start = 0, have = 0, k = 0, consumed, need;
    ockam_slice body;

    assert_non_null(out.bytes);
    ockam__framer_init(&f, profile);
    for (;;) {
        /* A fresh copy of the unconsumed bytes each call: nothing may depend on old buffers. */
        memcpy(scratch, stream + start, have - start);
        out.last = ockam__framer_next(&f, scratch, have - start, &consumed, &body, &need);
        if (out.last == OCKAM_OK) {
            ockam__put32be(out.bytes + out.len, (uint32_t)body.len);
            memcpy(out.bytes + out.len + 4, body.ptr, body.len);
            out.len += 4 + body.len;
            out.frames++;
            start += consumed;
            continue;
        }
        if (out.last != OCKAM_EAGAIN)
            return out;
        assert_true(need > have - start - consumed);
        start += consumed;
        if (have == len)
            return out;
        size_t c = chunk(k++);
        have += c < len - have ? c : len - have;
    }
}

static size_t
chunk_1(size_t k)
{
    return 1;
}

static size_t
chunk_2(size_t k)
{
    return 2;
}

static size_t
chunk_7(size_t k)
{
    return 7;
}

static size_t
chunk_varied(size_t k)
{
    static const size_t sizes[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 32, 1, 100};
    return sizes[k % (sizeof sizes / sizeof sizes[0])];
}

static size_t
chunk_all(size_t k)
{
    return SIZE_MAX;
}

static size_t
build_stream(ockam_wire_profile profile, uint8_t *out, size_t cap, size_t *frames)
{
    size_t n = 0;
    *frames = 0;
    if (profile == OCKAM_WIRE_CURRENT)
        out[n++] = OCKAM_WIRE_VERSION;
    for (size_t i = 0; i < NFRAMES; i++) {
        if (frame_vecs[i].profile != profile)
            continue;
        n += tn_hex(frame_vecs[i].frame, out + n, cap - n);
        (*frames)++;
    }
    return n;
}

static void
test_frame_chunk_splits(void **state)
{
    size_t (*const chunkers[])(size_t) = {chunk_1, chunk_2, chunk_7, chunk_varied};
    const ockam_wire_profile profiles[] = {OCKAM_WIRE_CURRENT, OCKAM_WIRE_LEGACY};
    for (size_t p = 0; p < 2; p++) {
        uint8_t stream[2048], scratch[2048];
        size_t frames;
        size_t n = build_stream(profiles[p], stream, sizeof stream, &frames);
        struct collected whole = feed(profiles[p], stream, n, chunk_all, scratch);
        assert_int_equal(whole.frames, frames);
        assert_int_equal(whole.last, OCKAM_EAGAIN);
        for (size_t c = 0; c < sizeof chunkers / sizeof chunkers[0]; c++) {
            struct collected split = feed(profiles[p], stream, n, chunkers[c], scratch);
            assert_int_equal(split.frames, frames);
            assert_int_equal(split.last, OCKAM_EAGAIN);
            assert_int_equal(split.len, whole.len);
            assert_memory_equal(split.bytes, whole.bytes, whole.len);
            free(split.bytes);
        }
        free(whole.bytes);
    }
}

/* ---- preamble and lengths ------------------------------------------------------------ */

static ockam_err
next_hex(ockam_wire_profile profile, const char *hex, size_t *consumed, size_t *need)
{
    uint8_t buf[64];
    size_t n = tn_hex(hex, buf, sizeof buf);
    ockam__framer f;
    ockam_slice body;
    uint8_t *g = test_guard_copy(buf, n);
    ockam__framer_init(&f, profile);
    ockam_err err = ockam__framer_next(&f, g, n, consumed, &body, need);
    test_guard_free(g);
    return err;
}

static void
test_frame_preamble(void **state)
{
    size_t consumed, need;
    assert_int_equal(next_hex(OCKAM_WIRE_CURRENT, "", &consumed, &need), OCKAM_EAGAIN);
    assert_int_equal(need, 1);
    assert_int_equal(next_hex(OCKAM_WIRE_CURRENT, "00", &consumed, &need), OCKAM_EVERSION);
    assert_int_equal(next_hex(OCKAM_WIRE_CURRENT, "02", &consumed, &need), OCKAM_EVERSION);
    assert_int_equal(
        next_hex(OCKAM_WIRE_CURRENT, "ff 00 00 00 04", &consumed, &need), OCKAM_EVERSION);
    /* A LEGACY peer's first bytes (u16 length 0x0015) seen by a CURRENT reader. */
    assert_int_equal(next_hex(OCKAM_WIRE_CURRENT, VEC_V1_FRAME, &consumed, &need), OCKAM_EVERSION);
    /* The preamble alone is consumed at once; the framer then waits for a header. */
    assert_int_equal(next_hex(OCKAM_WIRE_CURRENT, "01", &consumed, &need), OCKAM_EAGAIN);
    assert_int_equal(consumed, 1);
    assert_int_equal(need, 4);
    assert_int_equal(next_hex(OCKAM_WIRE_CURRENT, "01 00 00", &consumed, &need), OCKAM_EAGAIN);
    assert_int_equal(consumed, 1);
    assert_int_equal(need, 4);
    assert_int_equal(
        next_hex(OCKAM_WIRE_CURRENT, "01 00 00 00 17 83", &consumed, &need), OCKAM_EAGAIN);
    assert_int_equal(consumed, 1);
    assert_int_equal(need, 4 + 0x17);
    /* LEGACY has no preamble: 0x01 is the high byte of a length. */
    assert_int_equal(next_hex(OCKAM_WIRE_LEGACY, "01", &consumed, &need), OCKAM_EAGAIN);
    assert_int_equal(consumed, 0);
    assert_int_equal(need, 2);
    assert_int_equal(next_hex(OCKAM_WIRE_LEGACY, "01 00", &consumed, &need), OCKAM_EAGAIN);
    assert_int_equal(need, 2 + 256);

    /* Only the first frame of a connection has the preamble. */
    uint8_t buf[64];
    size_t n = tn_hex("01 " VEC_C5 " " VEC_C5, buf, sizeof buf);
    ockam__framer f;
    ockam_slice body;
    ockam__framer_init(&f, OCKAM_WIRE_CURRENT);
    assert_int_equal(ockam__framer_next(&f, buf, n, &consumed, &body, &need), OCKAM_OK);
    assert_int_equal(consumed, 9);
    assert_int_equal(ockam__framer_next(&f, buf + 9, n - 9, &consumed, &body, &need), OCKAM_OK);
    assert_int_equal(consumed, 8);
    assert_int_equal(body.len, 4);
    /* need may be NULL. */
    ockam__framer_init(&f, OCKAM_WIRE_CURRENT);
    assert_int_equal(ockam__framer_next(&f, buf, 3, &consumed, &body, NULL), OCKAM_EAGAIN);
}

static void
test_frame_lengths(void **state)
{
    size_t consumed, need;
    assert_int_equal(
        next_hex(OCKAM_WIRE_CURRENT, "01 00 00 00 00", &consumed, &need), OCKAM_EFRAMELEN);
    assert_int_equal(next_hex(OCKAM_WIRE_LEGACY, "00 00", &consumed, &need), OCKAM_EFRAMELEN);
    /* CURRENT maximum is 16 MiB: exactly that waits for the body, one more is refused. */
    assert_int_equal(
        next_hex(OCKAM_WIRE_CURRENT, "01 01 00 00 00", &consumed, &need), OCKAM_EAGAIN);
    assert_int_equal(need, 4 + OCKAM_MAX_FRAME_CURRENT);
    assert_int_equal(
        next_hex(OCKAM_WIRE_CURRENT, "01 01 00 00 01", &consumed, &need), OCKAM_EFRAMELEN);
    assert_int_equal(
        next_hex(OCKAM_WIRE_CURRENT, "01 ff ff ff ff", &consumed, &need), OCKAM_EFRAMELEN);
    /* A smaller configured maximum. */
    ockam__framer f;
    ockam_slice body;
    uint8_t hdr[] = {0x00, 0x00, 0x10, 0x01};
    ockam__framer_init(&f, OCKAM_WIRE_CURRENT);
    f.need_preamble = false;
    f.max_body = 4096;
    assert_int_equal(
        ockam__framer_next(&f, hdr, sizeof hdr, &consumed, &body, &need), OCKAM_EFRAMELEN);

    /* LEGACY 65535 (the largest u16) is a valid length. */
    size_t n = 2 + OCKAM_MAX_FRAME_LEGACY;
    uint8_t *big = calloc(1, n);
    assert_non_null(big);
    ockam__put16be(big, 0xffff);
    uint8_t *g = test_guard_copy(big, n);
    ockam__framer_init(&f, OCKAM_WIRE_LEGACY);
    assert_int_equal(ockam__framer_next(&f, g, n, &consumed, &body, &need), OCKAM_OK);
    assert_int_equal(consumed, n);
    assert_int_equal(body.len, OCKAM_MAX_FRAME_LEGACY);
    ockam__framer_init(&f, OCKAM_WIRE_LEGACY);
    assert_int_equal(ockam__framer_next(&f, g, n - 1, &consumed, &body, &need), OCKAM_EAGAIN);
    assert_int_equal(need, n);
    test_guard_free(g);
    free(big);
}

static void
test_frame_encode_limits(void **state)
{
    size_t big = OCKAM_MAX_FRAME_LEGACY; /* body = 1 + 1 + 1 + 3 + big > 65535 */
    uint8_t *payload = calloc(1, big), *out = malloc(big + 64);
    size_t written;
    assert_true(payload && out);
    ockam_msg *m = cu_msg("", "", payload, big, NULL);
    assert_int_equal(
        ockam__frame_encode_msg(OCKAM_WIRE_LEGACY, m, out, big + 64, &written), OCKAM_EMSGSIZE);
    assert_int_equal(
        ockam__frame_encode_msg(OCKAM_WIRE_CURRENT, m, out, big + 64, &written), OCKAM_OK);
    assert_int_equal(written, ockam__frame_msg_size(OCKAM_WIRE_CURRENT, m));
    assert_int_equal(ockam__get32be(out), written - 4);
    /* Largest LEGACY body that fits: 65535 = 1 + 1 + 1 + 3 (varint) + payload. */
    assert_int_equal(ockam_msg_set_payload(m, payload, 65535 - 6), OCKAM_OK);
    assert_int_equal(
        ockam__frame_encode_msg(OCKAM_WIRE_LEGACY, m, out, big + 64, &written), OCKAM_OK);
    assert_int_equal(written, 2 + 65535);
    assert_int_equal(ockam__get16be(out), 0xffff);
    ockam_msg_free(m);
    free(payload);
    free(out);

    uint8_t hdr[4];
    assert_int_equal(ockam__frame_header_len(OCKAM_WIRE_CURRENT), 4);
    assert_int_equal(ockam__frame_header_len(OCKAM_WIRE_LEGACY), 2);
    ockam__frame_header_put(OCKAM_WIRE_CURRENT, hdr, 0x01020304);
    assert_memory_equal(hdr, "\x01\x02\x03\x04", 4);
    ockam__frame_header_put(OCKAM_WIRE_LEGACY, hdr, 0xfffe);
    assert_memory_equal(hdr, "\xff\xfe", 2);
}

/* Mutated streams never crash; a frame found is inside the input. */
static void
check_mutation(const uint8_t *buf, size_t len, void *arg)
{
    const ockam_wire_profile *profile = arg;
    ockam__framer f;
    ockam_slice body;
    size_t consumed, need, pos = 0;
    ockam_msg *m = ockam_msg_new();
    ockam__framer_init(&f, *profile);
    for (;;) {
        ockam_err err = ockam__framer_next(&f, buf + pos, len - pos, &consumed, &body, &need);
        if (err != OCKAM_OK)
            break;
        assert_true(body.ptr >= buf && body.ptr + body.len <= buf + len);
        ockam__frame_decode_body(*profile, body.ptr, body.len, m);
        pos += consumed;
    }
    ockam_msg_free(m);
}

static void
test_frame_mutations(void **state)
{
    for (size_t i = 0; i < NFRAMES; i++) {
        uint8_t buf[256];
        size_t n = stream_of(&frame_vecs[i], buf, sizeof buf);
        ockam_wire_profile profile = frame_vecs[i].profile;
        cu_each_mutation(buf, n, check_mutation, &profile);
    }
}

static void
test_wire_profile_names(void **state)
{
    ockam_wire_profile p = OCKAM_WIRE_LEGACY;
    assert_string_equal(ockam_wire_profile_name(OCKAM_WIRE_CURRENT), "current");
    assert_string_equal(ockam_wire_profile_name(OCKAM_WIRE_LEGACY), "legacy");
    assert_int_equal(ockam_wire_profile_parse("current", &p), OCKAM_OK);
    assert_int_equal(p, OCKAM_WIRE_CURRENT);
    assert_int_equal(ockam_wire_profile_parse("legacy", &p), OCKAM_OK);
    assert_int_equal(p, OCKAM_WIRE_LEGACY);
    assert_int_equal(ockam_wire_profile_parse("", &p), OCKAM_EINVAL);
    assert_int_equal(ockam_wire_profile_parse("Current ", &p), OCKAM_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_vectors),
        cmocka_unit_test(test_frame_prefixes),
        cmocka_unit_test(test_frame_chunk_splits),
        cmocka_unit_test(test_frame_preamble),
        cmocka_unit_test(test_frame_lengths),
        cmocka_unit_test(test_frame_encode_limits),
        cmocka_unit_test(test_frame_mutations),
        cmocka_unit_test(test_wire_profile_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
