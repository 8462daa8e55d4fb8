/* BARE varints, TransportMessage (docs/wire.md §3) and strings: every vector of docs/wire.md, every
 * prefix, every single-byte mutation, and the limits. */
#include "codec_util.h"
#include "codec_vectors.h"
#include "support/guard.h"

#include <stdlib.h>

/* ---- varints ------------------------------------------------------------------------- */

struct varint_case {
    uint64_t value;
    const char *hex;
};

static const struct varint_case varint_cases[] = {
    {0, "00"},
    {1, "01"},
    {127, "7f"},
    {128, "80 01"},
    {300, "ac 02"},
    {16383, "ff 7f"},
    {16384, "80 80 01"},
    {UINT32_MAX, "ff ff ff ff 0f"},
    {UINT64_MAX, "ff ff ff ff ff ff ff ff ff 01"},
};

static void
test_varint_vectors(void **state)
{
    for (size_t i = 0; i < sizeof varint_cases / sizeof varint_cases[0]; i++) {
        uint8_t want[16], out[OCKAM__VARINT_MAX];
        size_t n = tn_hex(varint_cases[i].hex, want, sizeof want);
        uint64_t v = 0;
        size_t used = 0;

        assert_int_equal(ockam__varint_put(out, varint_cases[i].value), n);
        assert_memory_equal(out, want, n);
        assert_int_equal(ockam__varint_len(varint_cases[i].value), n);

        uint8_t *g = test_guard_copy(want, n);
        assert_int_equal(ockam__varint_get(g, n, &v, &used), OCKAM_OK);
        assert_true(v == varint_cases[i].value);
        assert_int_equal(used, n);
        test_guard_free(g);
        /* Every strict prefix needs more bytes. */
        for (size_t k = 0; k < n; k++) {
            g = test_guard_copy(want, k);
            assert_int_equal(ockam__varint_get(g, k, &v, &used), OCKAM_EAGAIN);
            test_guard_free(g);
        }
    }
}

static void
expect_varint(const char *hex, ockam_err expected)
{
    uint8_t buf[32];
    size_t n = tn_hex(hex, buf, sizeof buf);
    uint64_t v;
    size_t used;
    uint8_t *g = test_guard_copy(buf, n);
    assert_int_equal(ockam__varint_get(g, n, &v, &used), expected);
    test_guard_free(g);
}

static void
test_varint_malformed(void **state)
{
    expect_varint("80 00", OCKAM_EVARINT);                            /* overlong 0 */
    expect_varint("ff 00", OCKAM_EVARINT);                            /* overlong 127 */
    expect_varint("80 80 80 00", OCKAM_EVARINT);                      /* overlong, 4 bytes */
    expect_varint("ff ff ff ff ff ff ff ff ff 02", OCKAM_EVARINT);    /* 2^64 */
    expect_varint("ff ff ff ff ff ff ff ff ff 7f", OCKAM_EVARINT);    /* far above u64 */
    expect_varint("80 80 80 80 80 80 80 80 80 80 01", OCKAM_EVARINT); /* 11 bytes */
    expect_varint("ff ff ff ff ff ff ff ff ff 81 01", OCKAM_EVARINT);
    expect_varint("", OCKAM_EAGAIN);
    expect_varint("80", OCKAM_EAGAIN);
    expect_varint("ff ff ff ff ff ff ff ff ff", OCKAM_EAGAIN);
    /* Bytes after the varint are not its business. */
    expect_varint("05 ff ff", OCKAM_OK);
}

/* ---- TransportMessage vectors ---------------------------------------------------------- */

struct bare_vec {
    const char *name;
    const char *hex;
    uint8_t version;
    const char *onward;
    const char *ret;
    const char *payload_hex;
    const char *tracing;
    /* false: a form our encoder never writes (decode only). */
    bool encodable;
    /* The one strict prefix that decodes OK (fields 1-4 complete: version 1 ignores what
     * follows and field 5 of version 2 is optional); 0 = every strict prefix is an error. */
    size_t ok_prefix;
};

static const struct bare_vec bare_vecs[] = {
    {"V1", VEC_V1, 1, "0#echo", "0#app", "05 68 65 6c 6c 6f", NULL, true, 0},
    /* V2 is version 1 followed by an "absent" tag: Rust v0.119+ writes it, we never do
     * (version 1 has no field 5 for us). Decode only: the trailing byte is ignored. */
    {"V2", VEC_V2, 1, "0#echo", "0#app", "05 68 65 6c 6c 6f", NULL, false, 21},
    {"V3", VEC_V3, 2, "0#echo", "0#app", "05 68 65 6c 6c 6f", "{}", true, 21},
    {"V4", VEC_V4, 1, "", "", "", NULL, true, 0},
    {"V5", VEC_V5_MSG, 1, "1#127.0.0.1:4000 => 0#echo", "", "", NULL, true, 0},
    {"V6", VEC_V6, 1, "0#uppercase", "0#app", "05 68 65 6c 6c 6f", NULL, true, 0},
    {"relay registration (LEGACY)", VEC_REG_LEGACY_BODY, 1, "0#forwarding_service", "0#app",
        "08 72 65 67 69 73 74 65 72", NULL, true, 0},
};

#define NBARE (sizeof bare_vecs / sizeof bare_vecs[0])

static ockam_msg *
expected_msg(const struct bare_vec *v)
{
    return cu_vec_msg(v->onward, v->ret, v->payload_hex, v->tracing);
}

/* The decoder under test as a cu_decode_fn (the version is not asked for). */
static ockam_err
bare_decode(const uint8_t *buf, size_t len, ockam_msg *m)
{
    return ockam__bare_decode_msg(buf, len, m, NULL);
}

static void
test_bare_decode_vectors(void **state)
{
    ockam_msg *got = ockam_msg_new();
    for (size_t i = 0; i < NBARE; i++) {
        const struct bare_vec *v = &bare_vecs[i];
        uint8_t buf[256];
        size_t n = tn_hex(v->hex, buf, sizeof buf);
        uint8_t version = 0;
        uint8_t *g = test_guard_copy(buf, n);

        print_message("%s\n", v->name);
        assert_int_equal(ockam__bare_decode_msg(g, n, got, &version), OCKAM_OK);
        assert_int_equal(version, v->version);
        cu_assert_vec_msg(got, v->onward, v->ret, v->payload_hex, v->tracing);
        test_guard_free(g);
    }
    ockam_msg_free(got);
}

static void
test_bare_encode_vectors(void **state)
{
    for (size_t i = 0; i < NBARE; i++) {
        const struct bare_vec *v = &bare_vecs[i];
        if (!v->encodable)
            continue;
        uint8_t want[256], out[256];
        size_t n = tn_hex(v->hex, want, sizeof want), written = 0;
        ockam_msg *m = expected_msg(v);

        print_message("%s\n", v->name);
        assert_int_equal(ockam__bare_msg_size(m, v->version), n);
        assert_int_equal(
            ockam__bare_encode_msg(m, v->version, out, sizeof out, &written), OCKAM_OK);
        assert_int_equal(written, n);
        assert_memory_equal(out, want, n);
        /* Exactly the size fits; one byte less does not, and says how much is needed. */
        assert_int_equal(ockam__bare_encode_msg(m, v->version, out, n, &written), OCKAM_OK);
        assert_int_equal(
            ockam__bare_encode_msg(m, v->version, out, n - 1, &written), OCKAM_EMSGSIZE);
        assert_int_equal(written, n);
        ockam_msg_free(m);
    }
}

/* V2's bytes are what our version-2 encoder writes for V1 minus the version byte change:
 * check the version-2 form of "no tracing" explicitly. */
static void
test_bare_encode_v2_absent(void **state)
{
    uint8_t want[64], out[64];
    size_t n = tn_hex(VEC_V2, want, sizeof want), written;
    want[0] = 2;
    ockam_msg *m = cu_msg("0#echo", "0#app", "\x05hello", 6, NULL);
    assert_int_equal(ockam__bare_encode_msg(m, 2, out, sizeof out, &written), OCKAM_OK);
    assert_int_equal(written, n);
    assert_memory_equal(out, want, n);
    assert_int_equal(ockam__bare_encode_msg(m, 3, out, sizeof out, &written), OCKAM_EVERSION);
    assert_int_equal(ockam__bare_encode_msg(m, 0, out, sizeof out, &written), OCKAM_EVERSION);
    ockam_msg_free(m);
}

struct prefix_ctx {
    ockam_msg *msg;
    size_t ok_len;
};

static void
check_prefix(const uint8_t *buf, size_t len, void *arg)
{
    struct prefix_ctx *c = arg;
    ockam_err err = ockam__bare_decode_msg(buf, len, c->msg, NULL);
    if (c->ok_len && len == c->ok_len) {
        assert_int_equal(err, OCKAM_OK);
        return;
    }
    assert_int_not_equal(err, OCKAM_OK);
    assert_int_not_equal(err, OCKAM_EAGAIN); /* bodies are delimited: never "need more" */
    cu_assert_reset(c->msg);
}

static void
test_bare_prefixes(void **state)
{
    struct prefix_ctx c = {.msg = ockam_msg_new()};
    for (size_t i = 0; i < NBARE; i++) {
        c.ok_len = bare_vecs[i].ok_prefix;
        cu_each_prefix_hex(bare_vecs[i].hex, check_prefix, &c);
    }
    ockam_msg_free(c.msg);
}

/* A decoded message re-encodes (in the version it came in) to bytes that decode the same. */
static void
check_roundtrip(const uint8_t *buf, size_t len, void *arg)
{
    ockam_msg *m = arg;
    uint8_t version;
    if (ockam__bare_decode_msg(buf, len, m, &version) != OCKAM_OK)
        return;
    size_t size = ockam__bare_msg_size(m, version), written;
    uint8_t *out = malloc(size);
    assert_non_null(out);
    assert_int_equal(ockam__bare_encode_msg(m, version, out, size, &written), OCKAM_OK);
    ockam_msg *again = ockam_msg_new();
    uint8_t v2;
    assert_int_equal(ockam__bare_decode_msg(out, written, again, &v2), OCKAM_OK);
    assert_int_equal(v2, version);
    assert_true(cu_msg_eq(m, again));
    ockam_msg_free(again);
    free(out);
}

static void
test_bare_mutations(void **state)
{
    ockam_msg *m = ockam_msg_new();
    for (size_t i = 0; i < NBARE; i++)
        cu_each_mutation_hex(bare_vecs[i].hex, check_roundtrip, m);
    ockam_msg_free(m);
}

/* ---- malformed and limits ------------------------------------------------------------ */

static ockam_err
decode_hex(const char *hex, ockam_msg *m)
{
    return cu_decode_hex(bare_decode, hex, m);
}

static void
test_bare_malformed(void **state)
{
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(decode_hex("", m), OCKAM_ETRUNCATED);
    assert_int_equal(ockam__bare_decode_msg(NULL, 0, m, NULL), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("00 00 00 00", m), OCKAM_EVERSION);
    assert_int_equal(decode_hex("03 00 00 00", m), OCKAM_EVERSION);
    assert_int_equal(decode_hex("ff 00 00 00", m), OCKAM_EVERSION);
    /* A route count of 1e9 (and of 2^32-1) with 5 bytes left fails before any allocation. */
    assert_int_equal(decode_hex("01 80 94 eb dc 03 00 00 00 00 00", m), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("01 ff ff ff ff 0f 00 00 00 00 00", m), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("01 ff ff ff ff ff ff ff ff ff 01 00", m), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("01 80 00 00 00", m), OCKAM_EVARINT);
    /* Address type >= 128 (Elixir would read a two-byte varint). */
    assert_int_equal(decode_hex("01 01 80 04 65 63 68 6f 00 00", m), OCKAM_EADDRTYPE);
    assert_int_equal(decode_hex("01 01 ff 04 65 63 68 6f 00 00", m), OCKAM_EADDRTYPE);
    assert_int_equal(decode_hex("01 01 7f 04 65 63 68 6f 00 00", m), OCKAM_OK);
    /* Address, payload and string lengths that run past the end. */
    assert_int_equal(decode_hex("01 01 00 05 65 63 68 6f 00 00", m), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("01 00 00 07 05 68 65 6c 6c 6f", m), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("01 00 00 ff ff ff ff 0f 00", m), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("01 01 00", m), OCKAM_ETRUNCATED);
    ockam_msg_free(m);
}

static void
test_bare_version2_tracing(void **state)
{
    ockam_msg *m = ockam_msg_new();
    ockam_slice t;
    /* Missing field 5, tag 0, an unknown tag, and invalid UTF-8: all "absent". */
    assert_int_equal(decode_hex("02 00 00 00", m), OCKAM_OK);
    assert_false(ockam_msg_tracing(m, &t));
    assert_int_equal(decode_hex("02 00 00 00 00", m), OCKAM_OK);
    assert_false(ockam_msg_tracing(m, &t));
    assert_int_equal(decode_hex("02 00 00 00 07 02 7b 7d", m), OCKAM_OK);
    assert_false(ockam_msg_tracing(m, &t));
    assert_int_equal(decode_hex("02 00 00 00 01 02 c3 28", m), OCKAM_OK);
    assert_false(ockam_msg_tracing(m, &t));
    /* Empty string is present-but-empty. */
    assert_int_equal(decode_hex("02 00 00 00 01 00", m), OCKAM_OK);
    assert_true(ockam_msg_tracing(m, &t));
    assert_int_equal(t.len, 0);
    /* A string that runs past the end is malformed. */
    assert_int_equal(decode_hex("02 00 00 00 01 05 7b 7d", m), OCKAM_ETRUNCATED);
    /* Version 1 ignores everything after field 4, even a valid-looking field 5. */
    assert_int_equal(decode_hex("01 00 00 00 01 02 7b 7d", m), OCKAM_OK);
    assert_false(ockam_msg_tracing(m, &t));
    ockam_msg_free(m);
}

/* version, route count, then count addresses of addr_len bytes each, empty return/payload. */
static uint8_t *
build_route_msg(size_t count, size_t addr_len, uint8_t type, size_t *len)
{
    size_t cap = 32 + count * (addr_len + 4);
    uint8_t *buf = malloc(cap), *p = buf;
    assert_non_null(buf);
    *p++ = 1;
    p += ockam__varint_put(p, count);
    for (size_t i = 0; i < count; i++) {
        *p++ = type;
        p += ockam__varint_put(p, addr_len);
        memset(p, 'a', addr_len);
        p += addr_len;
    }
    *p++ = 0;
    *p++ = 0;
    *len = (size_t)(p - buf);
    return buf;
}

static ockam_err
decode_built(size_t count, size_t addr_len, uint8_t type, ockam_msg *m)
{
    size_t len;
    uint8_t *buf = build_route_msg(count, addr_len, type, &len);
    ockam_err err = cu_decode_guarded(bare_decode, buf, len, m);
    free(buf);
    return err;
}

static ockam_err
decode_built_local(size_t count, size_t addr_len, ockam_msg *m)
{
    return decode_built(count, addr_len, 0, m);
}

static void
test_bare_limits(void **state)
{
    cu_assert_route_limits(decode_built_local);
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(decode_built(OCKAM_MAX_ROUTE_LEN, 1, 128, m), OCKAM_EADDRTYPE);
    ockam_msg_free(m);
}

static void
test_bare_encode_rejects(void **state)
{
    uint8_t out[64];
    size_t written;
    ockam_msg *m = cu_msg("", "0#app", "x", 1, NULL);
    ockam_route_push_back(ockam_msg_onward(m), ockam_addr_of(200, "h:1", 3));
    assert_int_equal(ockam__bare_encode_msg(m, 1, out, sizeof out, &written), OCKAM_EADDRTYPE);
    ockam_msg_free(m);
}

/* A 300-byte payload gets the two-byte varint length ac 02 (docs/wire.md §4.2 size note). */
static void
test_bare_large_payload(void **state)
{
    uint8_t payload[300], out[400];
    size_t written;
    memset(payload, 'p', sizeof payload);
    ockam_msg *m = cu_msg("", "", payload, sizeof payload, NULL);
    assert_int_equal(ockam__bare_encode_msg(m, 1, out, sizeof out, &written), OCKAM_OK);
    assert_int_equal(written, 3 + 2 + 300);
    assert_int_equal(out[3], 0xac);
    assert_int_equal(out[4], 0x02);
    ockam_msg *back = ockam_msg_new();
    assert_int_equal(ockam__bare_decode_msg(out, written, back, NULL), OCKAM_OK);
    cu_assert_msg_eq(back, m);
    ockam_msg_free(back);
    ockam_msg_free(m);
}

/* ---- BARE strings (relay registration payloads, portal data) --------------------------- */

struct str_vec {
    const char *hex;
    const char *text;
};

static const struct str_vec str_vecs[] = {
    {VEC_STATIC_REG_PAYLOAD, "mybox"},
    {"08 72 65 67 69 73 74 65 72", "register"},
    {"05 68 65 6c 6c 6f", "hello"},
    {"2b " HEX_RELAY, STR_RELAY},
    {"00", ""},
};

static void
test_bare_string_vectors(void **state)
{
    for (size_t i = 0; i < sizeof str_vecs / sizeof str_vecs[0]; i++) {
        uint8_t want[64], out[64];
        size_t n = tn_hex(str_vecs[i].hex, want, sizeof want), written;
        size_t tl = strlen(str_vecs[i].text);
        ockam_slice text;
        uint8_t *g = test_guard_copy(want, n);

        assert_int_equal(ockam__bare_string_decode(g, n, &text), OCKAM_OK);
        assert_int_equal(text.len, tl);
        if (tl)
            assert_memory_equal(text.ptr, str_vecs[i].text, tl);
        test_guard_free(g);
        for (size_t k = 0; k < n; k++) {
            g = test_guard_copy(want, k);
            assert_int_equal(ockam__bare_string_decode(g, k, &text), OCKAM_ETRUNCATED);
            test_guard_free(g);
        }

        assert_int_equal(ockam__bare_string_size(tl), n);
        assert_int_equal(
            ockam__bare_string_encode(str_vecs[i].text, tl, out, sizeof out, &written), OCKAM_OK);
        assert_int_equal(written, n);
        assert_memory_equal(out, want, n);
        assert_int_equal(
            ockam__bare_string_encode(str_vecs[i].text, tl, out, n - 1, &written), OCKAM_EMSGSIZE);
    }
}

static void
test_bare_string_malformed(void **state)
{
    uint8_t buf[16];
    ockam_slice text;
    size_t n = tn_hex("05 6d 79 62 6f 78 00", buf, sizeof buf);
    assert_int_equal(ockam__bare_string_decode(buf, n, &text), OCKAM_ETRAILING);
    n = tn_hex("02 c3 28", buf, sizeof buf);
    assert_int_equal(ockam__bare_string_decode(buf, n, &text), OCKAM_EUTF8);
    n = tn_hex("80 00", buf, sizeof buf);
    assert_int_equal(ockam__bare_string_decode(buf, n, &text), OCKAM_EVARINT);
    assert_int_equal(ockam__bare_string_decode(NULL, 0, &text), OCKAM_ETRUNCATED);
}

/* Portal Payload "GET" (§7.1): tag 03, then BARE data = the same bytes as a string. */
static void
test_portal_payload_get(void **state)
{
    uint8_t buf[16];
    ockam_slice data;
    size_t n = tn_hex(VEC_PORTAL_GET, buf, sizeof buf);
    assert_int_equal(buf[0], 3);
    assert_int_equal(ockam__bare_string_decode(buf + 1, n - 1, &data), OCKAM_OK);
    assert_int_equal(data.len, 3);
    assert_memory_equal(data.ptr, "GET", 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_vectors),
        cmocka_unit_test(test_varint_malformed),
        cmocka_unit_test(test_bare_decode_vectors),
        cmocka_unit_test(test_bare_encode_vectors),
        cmocka_unit_test(test_bare_encode_v2_absent),
        cmocka_unit_test(test_bare_prefixes),
        cmocka_unit_test(test_bare_mutations),
        cmocka_unit_test(test_bare_malformed),
        cmocka_unit_test(test_bare_version2_tracing),
        cmocka_unit_test(test_bare_limits),
        cmocka_unit_test(test_bare_encode_rejects),
        cmocka_unit_test(test_bare_large_payload),
        cmocka_unit_test(test_bare_string_vectors),
        cmocka_unit_test(test_bare_string_malformed),
        cmocka_unit_test(test_portal_payload_get),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
