/* Stream framing, both profiles. The input is the byte stream; a PRNG seeded from it picks
 * chunk sizes. Properties: the same frames (and the same final status) whether the stream
 * arrives whole or in random chunks; *need is honest; every frame body lies inside the
 * input; a body that decodes re-encodes into a frame that frames and decodes the same. */
#include "fuzz_util.h"

struct result {
    uint64_t hash; /* over every frame's length and body */
    size_t frames;
    ockam_err last;
};

static uint64_t
mix(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull; /* FNV-1a */
    return h;
}

static uint64_t
next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void
check_reencode(ockam_wire_profile profile, ockam_slice body)
{
    static ockam_msg *m, *again;
    ockam__framer f;
    ockam_slice body2;
    size_t written, consumed;

    if (!m) {
        m = ockam_msg_new();
        again = ockam_msg_new();
        FUZZ_CHECK(m && again);
    }
    if (ockam__frame_decode_body(profile, body.ptr, body.len, m) != OCKAM_OK)
        return;
    /* LEGACY frames are written as BARE version 1, which has no tracing field. */
    if (profile == OCKAM_WIRE_LEGACY)
        ockam_msg_clear_tracing(m);
    size_t n = ockam__frame_msg_size(profile, m);
    uint8_t *out = malloc(n);
    FUZZ_CHECK(out);
    /* Canonical re-encoding is never longer than the body it came from, so it fits. */
    FUZZ_CHECK(n - ockam__frame_header_len(profile) <= body.len);
    FUZZ_CHECK(ockam__frame_encode_msg(profile, m, out, n, &written) == OCKAM_OK);
    FUZZ_CHECK(written == n);
    ockam__framer_init(&f, profile);
    f.need_preamble = false;
    FUZZ_CHECK(ockam__framer_next(&f, out, n, &consumed, &body2, NULL) == OCKAM_OK);
    FUZZ_CHECK(consumed == n);
    FUZZ_CHECK(ockam__frame_decode_body(profile, body2.ptr, body2.len, again) == OCKAM_OK);
    FUZZ_CHECK(fuzz_msg_eq(m, again, true));
    free(out);
}

static void
record(struct result *r, ockam_slice body, const uint8_t *buf, size_t len)
{
    FUZZ_CHECK(body.len > 0 && body.ptr >= buf && body.ptr + body.len <= buf + len);
    uint8_t hdr[4];
    ockam__put32be(hdr, (uint32_t)body.len);
    r->hash = mix(mix(r->hash, hdr, 4), body.ptr, body.len);
    r->frames++;
}

/* chunk_seed 0: the whole stream at once. Each call sees a fresh heap copy of exactly the
 * unconsumed bytes, so an over-read is caught by ASan. */
static struct result
run(ockam_wire_profile profile, const uint8_t *data, size_t size, uint64_t chunk_seed,
    bool reencode)
{
    struct result r = {.hash = 0xcbf29ce484222325ull};
    ockam__framer f;
    size_t start = 0, have = chunk_seed ? 0 : size, consumed, need;
    ockam_slice body;

    ockam__framer_init(&f, profile);
    for (;;) {
        size_t len = have - start;
        uint8_t *buf = fuzz_dup(data + start, len);
        r.last = ockam__framer_next(&f, buf, len, &consumed, &body, &need);
        if (r.last == OCKAM_OK) {
            record(&r, body, buf, len);
            if (reencode)
                check_reencode(profile, body);
        } else if (r.last == OCKAM_EAGAIN) {
            FUZZ_CHECK(consumed <= len && need > len - consumed);
        }
        free(buf);
        if (r.last != OCKAM_OK && r.last != OCKAM_EAGAIN)
            return r;
        FUZZ_CHECK(consumed <= len);
        start += consumed;
        if (r.last == OCKAM_OK)
            continue;
        if (have == size)
            return r;
        /* Mostly small chunks, sometimes single bytes, sometimes large ones. */
        uint64_t x = next_rand(&chunk_seed);
        size_t c = (x & 3) == 0 ? 1
            : (x & 3) == 1      ? (size_t)(x >> 8) % 4096
                                : (size_t)(x >> 8) % 64;
        c = c ? c : 1;
        have += c < size - have ? c : size - have;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ockam_wire_profile profiles[] = {OCKAM_WIRE_CURRENT, OCKAM_WIRE_LEGACY};
    uint64_t seed = mix(0xcbf29ce484222325ull, data, size) | 1;

    for (size_t p = 0; p < 2; p++) {
        struct result whole = run(profiles[p], data, size, 0, true);
        struct result split = run(profiles[p], data, size, seed, false);
        FUZZ_CHECK(whole.frames == split.frames && whole.hash == split.hash);
        FUZZ_CHECK(whole.last == split.last);
    }
    return 0;
}
