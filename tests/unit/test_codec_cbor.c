/* CBOR routing message (docs/wire.md §4.2): every body of docs/wire.md, every prefix, every
 * single-byte mutation, the lenient decoding rules and the limits. */
#include "codec_util.h"
#include "codec_vectors.h"
#include "core/cbor_internal.h"
#include "support/guard.h"

#include <stdlib.h>

struct cbor_vec {
    const char *name;
    const char *hex;
    const char *onward;
    const char *ret;
    const char *payload_hex;
    const char *tracing;
};

/* All of these are exactly what our encoder writes (C2: tracing "{}" gives 4 elements). */
static const struct cbor_vec cbor_vecs[] = {
    {"C1", VEC_C1_BODY, "0#echo", "0#app", "05 68 65 6c 6c 6f", NULL},
    {"C2", VEC_C2_BODY, "0#echo", "0#app", "05 68 65 6c 6c 6f", "{}"},
    {"C3", VEC_C3_BODY, "0#app", "0#echo", "05 68 65 6c 6c 6f", NULL},
    {"C4", VEC_C4_BODY, "0#echo", "0#app", "68 65 6c 6c 6f", NULL},
    {"C5", VEC_C5_BODY, "", "", "", NULL},
    {"C6", VEC_C6_MSG, "1#127.0.0.1:4000 => 0#echo", "", "", NULL},
    {"portal Ping", VEC_PING_BODY, "0#outlet", "0#" STR_CLIENT, "00", NULL},
    {"relay registration", VEC_REG_BODY, "0#forwarding_service", "0#" STR_CLIENT,
        "08 72 65 67 69 73 74 65 72", NULL},
    {"relay confirmation", VEC_CONFIRM_BODY, "0#" STR_CLIENT, "0#" STR_RELAY, "2b " HEX_RELAY,
        NULL},
};

#define NCBOR (sizeof cbor_vecs / sizeof cbor_vecs[0])

static ockam_msg *
expected_msg(const struct cbor_vec *v)
{
    return cu_vec_msg(v->onward, v->ret, v->payload_hex, v->tracing);
}

static void
test_cbor_decode_vectors(void **state)
{
    ockam_msg *got = ockam_msg_new();
    for (size_t i = 0; i < NCBOR; i++) {
        const struct cbor_vec *v = &cbor_vecs[i];
        uint8_t buf[256];
        size_t n = tn_hex(v->hex, buf, sizeof buf);
        uint8_t *g = test_guard_copy(buf, n);

        print_message("%s\n", v->name);
        assert_int_equal(ockam__cbor_decode_msg(g, n, got), OCKAM_OK);
        cu_assert_vec_msg(got, v->onward, v->ret, v->payload_hex, v->tracing);
        test_guard_free(g);
    }
    ockam_msg_free(got);
}

static void
test_cbor_encode_vectors(void **state)
{
    for (size_t i = 0; i < NCBOR; i++) {
        const struct cbor_vec *v = &cbor_vecs[i];
        uint8_t want[256], out[256];
        size_t n = tn_hex(v->hex, want, sizeof want), written = 0;
        ockam_msg *m = expected_msg(v);

        print_message("%s\n", v->name);
        assert_int_equal(ockam__cbor_msg_size(m), n);
        assert_int_equal(ockam__cbor_encode_msg(m, out, sizeof out, &written), OCKAM_OK);
        assert_int_equal(written, n);
        assert_memory_equal(out, want, n);
        assert_int_equal(ockam__cbor_encode_msg(m, out, n, &written), OCKAM_OK);
        assert_int_equal(ockam__cbor_encode_msg(m, out, n - 1, &written), OCKAM_EMSGSIZE);
        assert_int_equal(written, n);
        ockam_msg_free(m);
    }
}

/* U1 carries C1's body unchanged (docs/wire.md §5.2: the UDP routing message is the TCP body). */
static void
test_cbor_u1_payload_is_c1(void **state)
{
    uint8_t u1[64], c1[64];
    size_t nu = tn_hex(VEC_U1, u1, sizeof u1), nc = tn_hex(VEC_C1_BODY, c1, sizeof c1);
    assert_int_equal(nu, 8 + nc);
    assert_memory_equal(u1 + 8, c1, nc);
}

static void
check_prefix(const uint8_t *buf, size_t len, void *arg)
{
    ockam_msg *m = arg;
    ockam_err err = ockam__cbor_decode_msg(buf, len, m);
    assert_int_not_equal(err, OCKAM_OK);
    assert_int_not_equal(err, OCKAM_EAGAIN);
    cu_assert_reset(m);
}

static void
test_cbor_prefixes(void **state)
{
    ockam_msg *m = ockam_msg_new();
    for (size_t i = 0; i < NCBOR; i++)
        cu_each_prefix_hex(cbor_vecs[i].hex, check_prefix, m);
    ockam_msg_free(m);
}

/* decode OK => encode => decode gives the same message, and encoding is a fixed point. */
static void
check_roundtrip(const uint8_t *buf, size_t len, void *arg)
{
    ockam_msg *m = arg;
    if (ockam__cbor_decode_msg(buf, len, m) != OCKAM_OK)
        return;
    size_t size = ockam__cbor_msg_size(m), written, written2;
    uint8_t *out = malloc(size), *out2 = malloc(size);
    assert_true(out && out2);
    assert_int_equal(ockam__cbor_encode_msg(m, out, size, &written), OCKAM_OK);
    ockam_msg *again = ockam_msg_new();
    assert_int_equal(ockam__cbor_decode_msg(out, written, again), OCKAM_OK);
    assert_true(cu_msg_eq(m, again));
    assert_int_equal(ockam__cbor_encode_msg(again, out2, size, &written2), OCKAM_OK);
    assert_int_equal(written2, written);
    assert_memory_equal(out, out2, written);
    ockam_msg_free(again);
    free(out);
    free(out2);
}

static void
test_cbor_mutations(void **state)
{
    ockam_msg *m = ockam_msg_new();
    for (size_t i = 0; i < NCBOR; i++)
        cu_each_mutation_hex(cbor_vecs[i].hex, check_roundtrip, m);
    ockam_msg_free(m);
}

/* ---- lenient decoding ----------------------------------------------------------------- */

#define ROUTES_PAYLOAD "81 82 00 44 65 63 68 6f 81 82 00 43 61 70 70 46 05 68 65 6c 6c 6f"

static ockam_err
decode_hex(const char *hex, ockam_msg *m)
{
    return cu_decode_hex(ockam__cbor_decode_msg, hex, m);
}

/* C1's routes and payload; the tracing context is checked by the caller. */
static void
assert_is_c1(ockam_msg *m)
{
    ockam_msg *want = cu_msg("0#echo", "0#app", "\x05hello", 6, NULL);
    ockam_slice t;
    if (ockam_msg_tracing(m, &t))
        assert_int_equal(ockam_msg_set_tracing(want, (const char *)t.ptr, t.len), OCKAM_OK);
    cu_assert_msg_eq(m, want);
    ockam_msg_free(want);
}

static void
test_cbor_fourth_element(void **state)
{
    ockam_msg *m = ockam_msg_new();
    ockam_slice t;
    /* null */
    assert_int_equal(decode_hex("84 " ROUTES_PAYLOAD " f6", m), OCKAM_OK);
    assert_is_c1(m);
    assert_false(ockam_msg_tracing(m, &t));
    /* text */
    assert_int_equal(decode_hex("84 " ROUTES_PAYLOAD " 62 7b 7d", m), OCKAM_OK);
    assert_true(ockam_msg_tracing(m, &t));
    assert_int_equal(t.len, 2);
    assert_memory_equal(t.ptr, "{}", 2);
    /* empty text: present */
    assert_int_equal(decode_hex("84 " ROUTES_PAYLOAD " 60", m), OCKAM_OK);
    assert_true(ockam_msg_tracing(m, &t));
    assert_int_equal(t.len, 0);
    /* wrong types: uint, bytes, array, false, undefined */
    assert_int_equal(decode_hex("84 " ROUTES_PAYLOAD " 01", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("84 " ROUTES_PAYLOAD " 42 7b 7d", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("84 " ROUTES_PAYLOAD " 80", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("84 " ROUTES_PAYLOAD " f4", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("84 " ROUTES_PAYLOAD " f7", m), OCKAM_ECBORTYPE);
    /* invalid UTF-8 text */
    assert_int_equal(decode_hex("84 " ROUTES_PAYLOAD " 62 c3 28", m), OCKAM_EUTF8);
    /* indefinite text */
    assert_int_equal(decode_hex("84 " ROUTES_PAYLOAD " 7f 62 7b 7d ff", m), OCKAM_ECBORINDEF);
    /* announced but missing */
    assert_int_equal(decode_hex("84 " ROUTES_PAYLOAD, m), OCKAM_ETRUNCATED);
    assert_int_equal(ockam_route_len(ockam_msg_onward_const(m)), 0);
    ockam_msg_free(m);
}

static void
test_cbor_extra_elements(void **state)
{
    ockam_msg *m = ockam_msg_new();
    ockam_slice t;
    /* One extra of each kind: uint, negative, bytes, text, array, map, tag, simple, floats. */
    assert_int_equal(decode_hex("85 " ROUTES_PAYLOAD " f6 01", m), OCKAM_OK);
    assert_is_c1(m);
    assert_false(ockam_msg_tracing(m, &t));
    assert_int_equal(decode_hex("8f " ROUTES_PAYLOAD " 62 7b 7d 1b 00 00 00 00 00 00 00 01 20 "
                                "43 01 02 03 61 78 82 01 80 a2 01 02 61 6b 80 c1 1a 5f 00 00 00 "
                                "f5 f9 3c 00 fa 3f 80 00 00 fb 3f f0 00 00 00 00 00 00",
                         m),
        OCKAM_OK);
    assert_is_c1(m);
    assert_true(ockam_msg_tracing(m, &t));
    /* Extras must still be well-formed and present. */
    assert_int_equal(decode_hex("85 " ROUTES_PAYLOAD " f6", m), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("85 " ROUTES_PAYLOAD " f6 43 01", m), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("85 " ROUTES_PAYLOAD " f6 9f ff", m), OCKAM_ECBORINDEF);
    assert_int_equal(decode_hex("85 " ROUTES_PAYLOAD " f6 bf ff", m), OCKAM_ECBORINDEF);
    assert_int_equal(decode_hex("85 " ROUTES_PAYLOAD " f6 ff", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("85 " ROUTES_PAYLOAD " f6 1c", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("85 " ROUTES_PAYLOAD " f6 f8 10", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("85 " ROUTES_PAYLOAD " f6 a1 01", m), OCKAM_ETRUNCATED);
    assert_int_equal(
        decode_hex("85 " ROUTES_PAYLOAD " f6 bb ff ff ff ff ff ff ff ff", m), OCKAM_ETRUNCATED);
    ockam_msg_free(m);
}

/* Build [C1 routes+payload, null, <depth nested arrays>] and decode it. */
static ockam_err
decode_nested(size_t depth, ockam_msg *m)
{
    uint8_t buf[256];
    size_t n = tn_hex("85 " ROUTES_PAYLOAD " f6", buf, sizeof buf);
    for (size_t i = 0; i + 1 < depth; i++)
        buf[n++] = 0x81;
    buf[n++] = 0x80;
    return cu_decode_guarded(ockam__cbor_decode_msg, buf, n, m);
}

static void
test_cbor_skip_depth(void **state)
{
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(decode_nested(1, m), OCKAM_OK);
    assert_int_equal(decode_nested(16, m), OCKAM_OK);
    assert_int_equal(decode_nested(17, m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_nested(100, m), OCKAM_ECBORTYPE);
    ockam_msg_free(m);
}

static void
test_cbor_indefinite(void **state)
{
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(decode_hex("9f " ROUTES_PAYLOAD " ff", m), OCKAM_ECBORINDEF);
    assert_int_equal(decode_hex("83 9f 82 00 44 65 63 68 6f ff 80 40", m), OCKAM_ECBORINDEF);
    assert_int_equal(decode_hex("83 81 9f 00 44 65 63 68 6f ff 80 40", m), OCKAM_ECBORINDEF);
    assert_int_equal(decode_hex("83 81 82 00 5f 44 65 63 68 6f ff 80 40", m), OCKAM_ECBORINDEF);
    assert_int_equal(decode_hex("83 80 80 5f 41 00 ff", m), OCKAM_ECBORINDEF);
    ockam_msg_free(m);
}

/* Non-shortest heads are valid CBOR: accepted, and re-encoded in the shortest form. */
static void
test_cbor_wide_heads(void **state)
{
    ockam_msg *m = ockam_msg_new();
    uint8_t want[64], out[64];
    size_t n = tn_hex(VEC_C1_BODY, want, sizeof want), written;
    assert_int_equal(decode_hex("98 03 98 01 98 02 18 00 58 04 65 63 68 6f "
                                "99 00 01 82 19 00 00 5a 00 00 00 03 61 70 70 "
                                "5b 00 00 00 00 00 00 00 06 05 68 65 6c 6c 6f",
                         m),
        OCKAM_OK);
    assert_is_c1(m);
    assert_int_equal(ockam__cbor_encode_msg(m, out, sizeof out, &written), OCKAM_OK);
    assert_int_equal(written, n);
    assert_memory_equal(out, want, n);
    ockam_msg_free(m);
}

static void
test_cbor_malformed(void **state)
{
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(decode_hex("", m), OCKAM_ETRUNCATED);
    assert_int_equal(ockam__cbor_decode_msg(NULL, 0, m), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex(VEC_C1_BODY " 00", m), OCKAM_ETRAILING);
    assert_int_equal(decode_hex("82 80 80", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("80", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("a3 80 80 40", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("43 80 80 40", m), OCKAM_ECBORTYPE);
    /* Route given as a map / address as a map / short address array. */
    assert_int_equal(decode_hex("83 a0 80 40", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("83 81 a1 00 40 80 40", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("83 81 81 00 80 40 00", m), OCKAM_ECBORTYPE);
    /* Address bytes as text; address type negative or text. */
    assert_int_equal(decode_hex("83 81 82 00 64 65 63 68 6f 80 40", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("83 81 82 20 44 65 63 68 6f 80 40", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("83 81 82 61 30 44 65 63 68 6f 80 40", m), OCKAM_ECBORTYPE);
    /* Payload as text or array. */
    assert_int_equal(decode_hex("83 80 80 60", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("83 80 80 80", m), OCKAM_ECBORTYPE);
    /* Address type >= 128, and far beyond a byte. */
    assert_int_equal(decode_hex("83 81 82 18 80 44 65 63 68 6f 80 40", m), OCKAM_EADDRTYPE);
    assert_int_equal(
        decode_hex("83 81 82 1a 00 01 00 00 44 65 63 68 6f 80 40", m), OCKAM_EADDRTYPE);
    assert_int_equal(decode_hex("83 81 82 18 7f 44 65 63 68 6f 80 40", m), OCKAM_OK);
    /* Extra address fields are skipped like any derived struct's. */
    assert_int_equal(decode_hex("83 81 83 00 44 65 63 68 6f f6 80 40", m), OCKAM_OK);
    cu_assert_route(ockam_msg_onward_const(m), "0#echo");
    /* Counts and lengths far beyond the input fail before looping or allocating. */
    assert_int_equal(decode_hex("83 9a 3b 9a ca 00 82 00 40 80 40", m), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("9b ff ff ff ff ff ff ff ff 80 80 40", m), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("83 80 80 5b ff ff ff ff ff ff ff ff 00", m), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("83 81 82 00 5a 00 10 00 00 65 80 40", m), OCKAM_ETRUNCATED);
    /* Reserved additional information and a stray break. */
    assert_int_equal(decode_hex("83 80 80 5c", m), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("ff", m), OCKAM_ECBORTYPE);
    ockam_msg_free(m);
}

/* [route of count addresses of addr_len bytes, [], h''] */
static ockam_err
decode_built(size_t count, size_t addr_len, ockam_msg *m)
{
    size_t cap = 32 + count * (addr_len + 8);
    uint8_t *buf = malloc(cap), *p = buf;
    assert_non_null(buf);
    *p++ = 0x83;
    p += ockam__cbor_head_put(p, OCKAM__CBOR_ARRAY, count);
    for (size_t i = 0; i < count; i++) {
        *p++ = 0x82;
        *p++ = 0x00;
        p += ockam__cbor_head_put(p, OCKAM__CBOR_BYTES, addr_len);
        memset(p, 'a', addr_len);
        p += addr_len;
    }
    *p++ = 0x80;
    *p++ = 0x40;
    ockam_err err = cu_decode_guarded(ockam__cbor_decode_msg, buf, (size_t)(p - buf), m);
    free(buf);
    return err;
}

static void
test_cbor_limits(void **state)
{
    cu_assert_route_limits(decode_built);
}

static void
test_cbor_encode_rejects(void **state)
{
    uint8_t out[64];
    size_t written;
    ockam_msg *m = cu_msg("0#echo", "", "x", 1, NULL);
    ockam_route_push_back(ockam_msg_return(m), ockam_addr_of(128, "h:1", 3));
    assert_int_equal(ockam__cbor_encode_msg(m, out, sizeof out, &written), OCKAM_EADDRTYPE);
    ockam_msg_free(m);

    m = cu_msg("0#echo", "", "x", 1, NULL);
    assert_int_equal(ockam_msg_set_tracing(m, "\xc3\x28", 2), OCKAM_OK);
    assert_int_equal(ockam__cbor_encode_msg(m, out, sizeof out, &written), OCKAM_EUTF8);
    ockam_msg_free(m);
}

/* docs/wire.md §4.2 size note: a 300-byte payload has the head 59 01 2c. Also the head widths. */
static void
test_cbor_heads(void **state)
{
    uint8_t payload[300], out[400];
    size_t written;
    memset(payload, 'p', sizeof payload);
    ockam_msg *m = cu_msg("", "", payload, sizeof payload, NULL);
    assert_int_equal(ockam__cbor_encode_msg(m, out, sizeof out, &written), OCKAM_OK);
    assert_int_equal(written, 3 + 3 + 300);
    assert_memory_equal(out, "\x83\x80\x80\x59\x01\x2c", 6);
    ockam_msg_free(m);

    const struct {
        uint64_t v;
        const char *hex;
    } heads[] = {
        {0, "00"},
        {23, "17"},
        {24, "18 18"},
        {255, "18 ff"},
        {256, "19 01 00"},
        {65535, "19 ff ff"},
        {65536, "1a 00 01 00 00"},
        {UINT32_MAX, "1a ff ff ff ff"},
        {(uint64_t)UINT32_MAX + 1, "1b 00 00 00 01 00 00 00 00"},
        {UINT64_MAX, "1b ff ff ff ff ff ff ff ff"},
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        uint8_t want[16], got[16];
        size_t n = tn_hex(heads[i].hex, want, sizeof want);
        assert_int_equal(ockam__cbor_head_len(heads[i].v), n);
        assert_int_equal(ockam__cbor_head_put(got, OCKAM__CBOR_UINT, heads[i].v), n);
        assert_memory_equal(got, want, n);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cbor_decode_vectors),
        cmocka_unit_test(test_cbor_encode_vectors),
        cmocka_unit_test(test_cbor_u1_payload_is_c1),
        cmocka_unit_test(test_cbor_prefixes),
        cmocka_unit_test(test_cbor_mutations),
        cmocka_unit_test(test_cbor_fourth_element),
        cmocka_unit_test(test_cbor_extra_elements),
        cmocka_unit_test(test_cbor_skip_depth),
        cmocka_unit_test(test_cbor_indefinite),
        cmocka_unit_test(test_cbor_wide_heads),
        cmocka_unit_test(test_cbor_malformed),
        cmocka_unit_test(test_cbor_limits),
        cmocka_unit_test(test_cbor_encode_rejects),
        cmocka_unit_test(test_cbor_heads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
