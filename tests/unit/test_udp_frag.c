/* UDP fragments (docs/wire.md §5.2): U1, the 600-byte two-fragment example, prefixes,
 * mutations and field ranges; the routing number peeked from a datagram's first bytes (what
 * an ICMP error quotes, docs/wire.md §5.5). */
#include "codec_util.h"
#include "codec_vectors.h"
#include "support/guard.h"

static ockam_err
decode_hex(const char *hex, ockam__udp_frag *f)
{
    static uint8_t buf[1024];
    size_t n = tn_hex(hex, buf, sizeof buf);
    uint8_t *g = test_guard_copy(buf, n);
    ockam_err err = ockam__udp_frag_decode(g, n, f);
    test_guard_free(g);
    return err;
}

static void
test_u1(void **state)
{
    uint8_t want[64], body[64], out[64];
    size_t n = tn_hex(VEC_U1, want, sizeof want), nb = tn_hex(VEC_C1_BODY, body, sizeof body);
    size_t written;
    ockam__udp_frag f;
    uint8_t *g = test_guard_copy(want, n);

    assert_int_equal(n, 31);
    assert_int_equal(ockam__udp_frag_decode(g, n, &f), OCKAM_OK);
    assert_int_equal(f.version, 1);
    assert_int_equal(f.routing_number, 0x1234);
    assert_int_equal(f.offset, 0);
    assert_true(f.is_last);
    assert_int_equal(f.data.len, nb);
    assert_memory_equal(f.data.ptr, body, nb);
    assert_ptr_equal(f.data.ptr, g + 8); /* a view, not a copy */

    /* The reassembled routing message is C1. */
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(ockam__cbor_decode_msg(f.data.ptr, f.data.len, m), OCKAM_OK);
    cu_assert_route(ockam_msg_onward_const(m), "0#echo");
    cu_assert_route(ockam_msg_return_const(m), "0#app");
    ockam_msg_free(m);

    assert_int_equal(ockam__udp_frag_encode(&f, out, sizeof out, &written), OCKAM_OK);
    assert_int_equal(written, n);
    assert_memory_equal(out, want, n);
    assert_int_equal(ockam__udp_frag_encode(&f, out, n - 1, &written), OCKAM_EMSGSIZE);
    assert_int_equal(written, n);
    test_guard_free(g);
}

/* docs/wire.md §5.2: a 600-byte routing message goes as offset 0 / 493 bytes / f4, then offset 493
 * (19 01 ed) / 107 bytes / f5. */
static void
test_600_bytes(void **state)
{
    uint8_t msg[600], out[OCKAM_UDP_MAX_DATAGRAM], joined[600];
    size_t written, got = 0;
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7);

    const struct {
        uint32_t offset;
        size_t len;
        bool last;
        const char *header;
    } frags[] = {
        {0, 493, false, "85 01 19 12 34 00 f4 59 01 ed"},
        {493, 107, true, "85 01 19 12 34 19 01 ed f5 58 6b"},
    };
    for (size_t i = 0; i < 2; i++) {
        uint8_t hdr[16];
        size_t hl = tn_hex(frags[i].header, hdr, sizeof hdr);
        ockam__udp_frag f = {.version = 1,
            .routing_number = 0x1234,
            .offset = frags[i].offset,
            .is_last = frags[i].last,
            .data = {msg + frags[i].offset, frags[i].len}};
        assert_int_equal(ockam__udp_frag_encode(&f, out, sizeof out, &written), OCKAM_OK);
        assert_int_equal(written, hl + frags[i].len);
        assert_true(written <= OCKAM_UDP_MAX_DATAGRAM);
        assert_memory_equal(out, hdr, hl);

        ockam__udp_frag d;
        uint8_t *g = test_guard_copy(out, written);
        assert_int_equal(ockam__udp_frag_decode(g, written, &d), OCKAM_OK);
        assert_int_equal(d.offset, got);
        assert_int_equal(d.is_last, frags[i].last);
        memcpy(joined + got, d.data.ptr, d.data.len);
        got += d.data.len;
        test_guard_free(g);
    }
    assert_int_equal(got, sizeof msg);
    assert_memory_equal(joined, msg, sizeof msg);
}

/* Worst-case header is 15 bytes: a full 493-byte fragment fits 508 exactly. */
static void
test_max_sizes(void **state)
{
    uint8_t data[OCKAM_UDP_MAX_FRAGMENT_PAYLOAD + 1] = {0}, out[600];
    size_t written;
    ockam__udp_frag f = {.version = 255,
        .routing_number = 0xffff,
        .offset = 0xffffffffu,
        .is_last = true,
        .data = {data, OCKAM_UDP_MAX_FRAGMENT_PAYLOAD}};
    assert_int_equal(ockam__udp_frag_encode(&f, out, sizeof out, &written), OCKAM_OK);
    assert_int_equal(written, OCKAM_UDP_MAX_DATAGRAM);
    ockam__udp_frag d;
    assert_int_equal(ockam__udp_frag_decode(out, written, &d), OCKAM_OK);
    assert_int_equal(d.version, 255);
    assert_int_equal(d.routing_number, 0xffff);
    assert_int_equal(d.offset, 0xffffffffu);

    f.data.len++;
    assert_int_equal(ockam__udp_frag_encode(&f, out, sizeof out, &written), OCKAM_EMSGSIZE);
    /* A datagram above 508 bytes never decodes (Rust's receive buffer truncates it). */
    uint8_t big[OCKAM_UDP_MAX_DATAGRAM + 1] = {0x85};
    assert_int_equal(ockam__udp_frag_decode(big, sizeof big, &d), OCKAM_EMSGSIZE);
}

static void
test_malformed(void **state)
{
    ockam__udp_frag f;
    assert_int_equal(decode_hex("", &f), OCKAM_ETRUNCATED);
    assert_int_equal(ockam__udp_frag_decode(NULL, 0, &f), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("84 01 01 00 f5", &f), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("a5 01 01 00 f5 40", &f), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("9f 01 01 00 f5 40 ff", &f), OCKAM_ECBORINDEF);
    /* Field ranges: version u8, routing number u16, offset u32. */
    assert_int_equal(decode_hex("85 19 01 00 01 00 f5 40", &f), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("85 18 ff 19 ff ff 1a ff ff ff ff f5 40", &f), OCKAM_OK);
    assert_int_equal(decode_hex("85 01 1a 00 01 00 00 00 f5 40", &f), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("85 01 01 1b 00 00 00 01 00 00 00 00 f5 40", &f), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("85 20 01 00 f5 40", &f), OCKAM_ECBORTYPE);
    /* is_last must be a bool; payload must be a definite byte string. */
    assert_int_equal(decode_hex("85 01 01 00 01 40", &f), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("85 01 01 00 f6 40", &f), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("85 01 01 00 f5 60", &f), OCKAM_ECBORTYPE);
    assert_int_equal(decode_hex("85 01 01 00 f5 5f 41 00 ff", &f), OCKAM_ECBORINDEF);
    assert_int_equal(decode_hex("85 01 01 00 f5 45 00", &f), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("85 01 01 00 f5 40 00", &f), OCKAM_ETRAILING);
    /* Extra trailing fields are skipped; they must be well-formed. */
    assert_int_equal(decode_hex("87 01 01 00 f5 41 61 f6 a1 01 02", &f), OCKAM_OK);
    assert_int_equal(f.data.len, 1);
    assert_int_equal(decode_hex("86 01 01 00 f5 41 61", &f), OCKAM_ETRUNCATED);
    /* Non-shortest heads are accepted. */
    assert_int_equal(decode_hex("98 05 18 01 19 00 02 1a 00 00 00 03 f4 58 01 61", &f), OCKAM_OK);
    assert_int_equal(f.version, 1);
    assert_int_equal(f.routing_number, 2);
    assert_int_equal(f.offset, 3);
    assert_false(f.is_last);
}

static void
check_prefix(const uint8_t *buf, size_t len, void *arg)
{
    ockam__udp_frag f;
    ockam_err err = ockam__udp_frag_decode(buf, len, &f);
    assert_int_not_equal(err, OCKAM_OK);
    assert_int_not_equal(err, OCKAM_EAGAIN);
}

static void
check_roundtrip(const uint8_t *buf, size_t len, void *arg)
{
    ockam__udp_frag f, again;
    uint8_t out[OCKAM_UDP_MAX_DATAGRAM];
    size_t written;
    if (ockam__udp_frag_decode(buf, len, &f) != OCKAM_OK)
        return;
    assert_true(f.data.ptr >= buf && f.data.ptr + f.data.len <= buf + len);
    if (f.data.len > OCKAM_UDP_MAX_FRAGMENT_PAYLOAD) {
        assert_int_equal(ockam__udp_frag_encode(&f, out, sizeof out, &written), OCKAM_EMSGSIZE);
        return;
    }
    assert_int_equal(ockam__udp_frag_encode(&f, out, sizeof out, &written), OCKAM_OK);
    assert_int_equal(ockam__udp_frag_decode(out, written, &again), OCKAM_OK);
    assert_int_equal(again.version, f.version);
    assert_int_equal(again.routing_number, f.routing_number);
    assert_int_equal(again.offset, f.offset);
    assert_int_equal(again.is_last, f.is_last);
    assert_int_equal(again.data.len, f.data.len);
    if (f.data.len)
        assert_memory_equal(again.data.ptr, f.data.ptr, f.data.len);
}

static void
test_prefixes_and_mutations(void **state)
{
    static const char *const vecs[] = {
        VEC_U1,
        "85 01 19 12 34 19 01 ed f5 58 0b 00 01 02 03 04 05 06 07 08 09 0a",
        "85 18 ff 19 ff ff 1a ff ff ff ff f4 40",
    };
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
        uint8_t buf[64];
        size_t n = tn_hex(vecs[i], buf, sizeof buf);
        cu_each_prefix(buf, n, check_prefix, NULL);
        cu_each_mutation(buf, n, check_roundtrip, NULL);
    }
}

/* Every prefix of U1 long enough to hold the number gives it; shorter ones fail, reading
 * nothing past their end (guarded copies). */
static void
test_peek_number(void **state)
{
    uint8_t buf[64];
    size_t n = tn_hex(VEC_U1, buf, sizeof buf);
    for (size_t len = 0; len <= n; len++) {
        uint16_t number = 0;
        uint8_t *g = test_guard_copy(buf, len);
        ockam_err err = ockam__udp_frag_peek_number(g, len, &number);
        test_guard_free(g);
        if (len >= 5) { /* 85 01 19 12 34 */
            assert_int_equal(err, OCKAM_OK);
            assert_int_equal(number, 0x1234);
        } else {
            assert_int_not_equal(err, OCKAM_OK);
        }
    }
    uint16_t number;
    uint8_t other[8];
    n = tn_hex("82 01 19 12 34", other, sizeof other); /* fewer than five fields */
    assert_int_not_equal(ockam__udp_frag_peek_number(other, n, &number), OCKAM_OK);
    n = tn_hex("85 01 1a 00 01 00 00", other, sizeof other); /* number beyond u16 */
    assert_int_not_equal(ockam__udp_frag_peek_number(other, n, &number), OCKAM_OK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u1),
        cmocka_unit_test(test_600_bytes),
        cmocka_unit_test(test_max_sizes),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_prefixes_and_mutations),
        cmocka_unit_test(test_peek_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
