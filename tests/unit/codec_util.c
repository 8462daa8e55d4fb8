#include "codec_util.h"

#include "support/guard.h"

#include <stdlib.h>

ockam_msg *
cu_msg(const char *onward, const char *ret, const void *payload, size_t len, const char *tracing)
{
    ockam_msg *m = ockam_msg_new();
    assert_non_null(m);
    assert_int_equal(ockam_route_parse(ockam_msg_onward(m), onward), OCKAM_OK);
    assert_int_equal(ockam_route_parse(ockam_msg_return(m), ret), OCKAM_OK);
    assert_int_equal(ockam_msg_set_payload(m, payload, len), OCKAM_OK);
    if (tracing)
        assert_int_equal(ockam_msg_set_tracing(m, tracing, strlen(tracing)), OCKAM_OK);
    return m;
}

void
cu_assert_route(const ockam_route *got, const char *expected_text)
{
    ockam_route *want = ockam_route_new();
    assert_non_null(want);
    assert_int_equal(ockam_route_parse(want, expected_text), OCKAM_OK);
    assert_int_equal(ockam_route_len(got), ockam_route_len(want));
    for (size_t i = 0; i < ockam_route_len(want); i++) {
        ockam_addr g = ockam_route_at(got, i), w = ockam_route_at(want, i);
        assert_int_equal(g.type, w.type);
        assert_int_equal(g.len, w.len);
        if (w.len)
            assert_memory_equal(g.bytes, w.bytes, w.len);
    }
    ockam_route_free(want);
}

static void
assert_tracing_eq(const ockam_msg *got, const ockam_msg *expected)
{
    ockam_slice g, w;
    bool has_g = ockam_msg_tracing(got, &g), has_w = ockam_msg_tracing(expected, &w);
    assert_int_equal(has_g, has_w);
    if (!has_w)
        return;
    assert_int_equal(g.len, w.len);
    if (w.len)
        assert_memory_equal(g.ptr, w.ptr, w.len);
}

void
cu_assert_msg_eq(const ockam_msg *got, const ockam_msg *expected)
{
    const ockam_route *routes[2][2] = {
        {ockam_msg_onward_const(got), ockam_msg_onward_const(expected)},
        {ockam_msg_return_const(got), ockam_msg_return_const(expected)},
    };
    for (int r = 0; r < 2; r++) {
        assert_int_equal(ockam_route_len(routes[r][0]), ockam_route_len(routes[r][1]));
        for (size_t i = 0; i < ockam_route_len(routes[r][1]); i++)
            assert_true(
                ockam_addr_eq(ockam_route_at(routes[r][0], i), ockam_route_at(routes[r][1], i)));
    }
    ockam_slice pg = ockam_msg_payload(got), pw = ockam_msg_payload(expected);
    assert_int_equal(pg.len, pw.len);
    if (pw.len)
        assert_memory_equal(pg.ptr, pw.ptr, pw.len);
    assert_tracing_eq(got, expected);
}

bool
cu_msg_eq(const ockam_msg *a, const ockam_msg *b)
{
    ockam_slice pa = ockam_msg_payload(a), pb = ockam_msg_payload(b), ta, tb;
    bool has_a = ockam_msg_tracing(a, &ta), has_b = ockam_msg_tracing(b, &tb);

    if (!ockam_route_eq(ockam_msg_onward_const(a), ockam_msg_onward_const(b))
        || !ockam_route_eq(ockam_msg_return_const(a), ockam_msg_return_const(b)))
        return false;
    if (pa.len != pb.len || (pa.len && memcmp(pa.ptr, pb.ptr, pa.len) != 0))
        return false;
    if (has_a != has_b)
        return false;
    return !has_a || (ta.len == tb.len && (ta.len == 0 || memcmp(ta.ptr, tb.ptr, ta.len) == 0));
}

void
cu_each_prefix(const uint8_t *buf, size_t len, cu_input_fn fn, void *arg)
{
    for (size_t n = 0; n < len; n++) {
        uint8_t *g = test_guard_copy(buf, n);
        fn(g, n, arg);
        test_guard_free(g);
    }
}

void
cu_each_mutation(const uint8_t *buf, size_t len, cu_input_fn fn, void *arg)
{
    uint8_t *g = test_guard_copy(buf, len);
    for (size_t i = 0; i < len; i++) {
        const uint8_t orig = buf[i];
        const uint8_t values[] = {0x00, 0xff, (uint8_t)(orig + 1), (uint8_t)(orig ^ 0x80)};
        for (size_t v = 0; v < sizeof values; v++) {
            if (values[v] == orig)
                continue;
            g[i] = values[v];
            fn(g, len, arg);
            /* The callee only reads, but restore from the pristine copy to be sure. */
            memcpy(g, buf, len);
        }
    }
    test_guard_free(g);
}

ockam_msg *
cu_vec_msg(const char *onward, const char *ret, const char *payload_hex, const char *tracing)
{
    uint8_t payload[64];
    size_t n = tn_hex(payload_hex, payload, sizeof payload);
    return cu_msg(onward, ret, payload, n, tracing);
}

void
cu_assert_vec_msg(const ockam_msg *got, const char *onward, const char *ret,
    const char *payload_hex, const char *tracing)
{
    cu_assert_route(ockam_msg_onward_const(got), onward);
    cu_assert_route(ockam_msg_return_const(got), ret);
    ockam_msg *want = cu_vec_msg(onward, ret, payload_hex, tracing);
    cu_assert_msg_eq(got, want);
    ockam_msg_free(want);
}

void
cu_assert_reset(const ockam_msg *m)
{
    assert_int_equal(ockam_route_len(ockam_msg_onward_const(m)), 0);
    assert_int_equal(ockam_route_len(ockam_msg_return_const(m)), 0);
    assert_int_equal(ockam_msg_payload(m).len, 0);
}

ockam_err
cu_decode_guarded(cu_decode_fn decode, const uint8_t *buf, size_t len, ockam_msg *m)
{
    uint8_t *g = test_guard_copy(buf, len);
    ockam_err err = decode(g, len, m);
    test_guard_free(g);
    return err;
}

ockam_err
cu_decode_hex(cu_decode_fn decode, const char *hex, ockam_msg *m)
{
    uint8_t buf[256];
    size_t n = tn_hex(hex, buf, sizeof buf);
    return cu_decode_guarded(decode, buf, n, m);
}

void
cu_assert_route_limits(cu_build_decode_fn build_decode)
{
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(build_decode(1, OCKAM_MAX_ADDR_LEN, m), OCKAM_OK);
    assert_int_equal(ockam_route_front(ockam_msg_onward_const(m)).len, OCKAM_MAX_ADDR_LEN);
    assert_int_equal(build_decode(1, OCKAM_MAX_ADDR_LEN + 1, m), OCKAM_EADDRLEN);
    assert_int_equal(build_decode(OCKAM_MAX_ROUTE_LEN, 0, m), OCKAM_OK);
    assert_int_equal(ockam_route_len(ockam_msg_onward_const(m)), OCKAM_MAX_ROUTE_LEN);
    assert_int_equal(build_decode(OCKAM_MAX_ROUTE_LEN + 1, 0, m), OCKAM_EROUTELEN);
    assert_int_equal(ockam_route_len(ockam_msg_onward_const(m)), 0);
    ockam_msg_free(m);
}

void
cu_each_prefix_hex(const char *hex, cu_input_fn fn, void *arg)
{
    uint8_t buf[256];
    size_t n = tn_hex(hex, buf, sizeof buf);
    cu_each_prefix(buf, n, fn, arg);
}

void
cu_each_mutation_hex(const char *hex, cu_input_fn fn, void *arg)
{
    uint8_t buf[256];
    size_t n = tn_hex(hex, buf, sizeof buf);
    cu_each_mutation(buf, n, fn, arg);
}
