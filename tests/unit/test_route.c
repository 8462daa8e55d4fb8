/* Addresses, routes and messages: text forms, deque operations, ownership. */
#include "nodes.h"

#include <stdio.h>
#include <string.h>

static void
test_addr_parse_and_format(void **state)
{
    ockam_addr_buf b;
    char text[64];

    assert_int_equal(ockam_addr_parse("echo", 4, &b), OCKAM_OK);
    assert_int_equal(b.type, 0);
    assert_int_equal(b.len, 4);
    ockam_addr_format(ockam_addr_buf_view(&b), text, sizeof text);
    assert_string_equal(text, "0#echo");

    const char *tcp = "1#127.0.0.1:4000";
    assert_int_equal(ockam_addr_parse(tcp, strlen(tcp), &b), OCKAM_OK);
    assert_int_equal(b.type, 1);
    assert_memory_equal(b.bytes, "127.0.0.1:4000", 14);
    ockam_addr_format(ockam_addr_buf_view(&b), text, sizeof text);
    assert_string_equal(text, tcp);

    assert_int_equal(ockam_addr_parse("1#a#b", 5, &b), OCKAM_EINVAL);
    assert_int_equal(ockam_addr_parse("#a", 2, &b), OCKAM_EINVAL);
    assert_int_equal(ockam_addr_parse("x#a", 3, &b), OCKAM_EINVAL);
    assert_int_equal(ockam_addr_parse("128#a", 5, &b), OCKAM_EADDRTYPE);

    uint8_t bad[] = {0xff, 0xfe};
    ockam_addr_format(ockam_addr_of(0, bad, 2), text, sizeof text);
    assert_string_equal(text, "0#Invalid UTF-8");
}

static void
test_addr_random(void **state)
{
    char a[OCKAM_RANDOM_ADDR_LEN + 1], b[OCKAM_RANDOM_ADDR_LEN + 1];
    ockam_addr_random(a);
    ockam_addr_random(b);
    assert_int_equal(strlen(a), 32);
    assert_string_not_equal(a, b);
    for (int i = 0; i < 32; i++)
        assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
}

static void
test_route_ops(void **state)
{
    ockam_route *r = ockam_route_new();
    assert_int_equal(ockam_route_pop_front(r), OCKAM_EROUTE);
    for (int i = 0; i < 100; i++) {
        char name[16];
        snprintf(name, sizeof name, "a%d", i);
        assert_int_equal(ockam_route_push_front(r, ockam_addr_local(name)), OCKAM_OK);
    }
    assert_int_equal(ockam_route_len(r), 100);
    assert_true(ockam_addr_is_local(ockam_route_front(r), "a99"));
    assert_true(ockam_addr_is_local(ockam_route_back(r), "a0"));
    for (int i = 0; i < 50; i++)
        assert_int_equal(ockam_route_pop_front(r), OCKAM_OK);
    assert_true(ockam_addr_is_local(ockam_route_front(r), "a49"));
    assert_int_equal(ockam_route_pop_back(r), OCKAM_OK);
    assert_true(ockam_addr_is_local(ockam_route_back(r), "a1"));

    /* Long addresses live on the heap; they must survive moves and be freed. */
    char big[300];
    memset(big, 'x', sizeof big);
    assert_int_equal(ockam_route_push_back(r, ockam_addr_of(0, big, sizeof big)), OCKAM_OK);
    for (int i = 0; i < 200; i++)
        assert_int_equal(ockam_route_push_front(r, ockam_addr_local("f")), OCKAM_OK);
    ockam_addr last = ockam_route_back(r);
    assert_int_equal(last.len, 300);
    assert_memory_equal(last.bytes, big, 300);
    ockam_route_free(r);
}

static void
test_route_limits(void **state)
{
    ockam_route *r = ockam_route_new();
    for (int i = 0; i < OCKAM_MAX_ROUTE_LEN; i++)
        assert_int_equal(ockam_route_push_back(r, ockam_addr_local("x")), OCKAM_OK);
    assert_int_equal(ockam_route_push_back(r, ockam_addr_local("x")), OCKAM_EROUTELEN);
    assert_int_equal(ockam_route_push_front(r, ockam_addr_local("x")), OCKAM_EROUTELEN);
    ockam_route_free(r);
}

static void
test_route_text(void **state)
{
    ockam_route *r = tn_route("a=>  1#127.0.0.1:4000 =>0#echo");
    tn_assert_route(r, "0#a => 1#127.0.0.1:4000 => 0#echo");
    ockam_route *empty = tn_route("%s", "");
    assert_int_equal(ockam_route_len(empty), 0);
    tn_assert_route(empty, "%s", "");

    ockam_route *bad = ockam_route_new();
    assert_int_equal(ockam_route_parse(bad, "a => => b"), OCKAM_EINVAL);
    ockam_route_free(bad);

    /* prepend / append / copy / eq */
    ockam_route *front = tn_route("x => y");
    assert_int_equal(ockam_route_prepend(r, front), OCKAM_OK);
    tn_assert_route(r, "0#x => 0#y => 0#a => 1#127.0.0.1:4000 => 0#echo");
    assert_int_equal(ockam_route_append(r, front), OCKAM_OK);
    tn_assert_route(r, "0#x => 0#y => 0#a => 1#127.0.0.1:4000 => 0#echo => 0#x => 0#y");
    ockam_route *copy = ockam_route_new();
    assert_int_equal(ockam_route_copy(copy, r), OCKAM_OK);
    assert_true(ockam_route_eq(copy, r));
    assert_false(ockam_route_eq(copy, front));
    ockam_route_free(copy);
    ockam_route_free(front);
    ockam_route_free(empty);
    ockam_route_free(r);
}

static void
test_msg_basics(void **state)
{
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(ockam_route_parse(ockam_msg_onward(m), "echo"), OCKAM_OK);
    assert_int_equal(ockam_route_parse(ockam_msg_return(m), "app"), OCKAM_OK);
    assert_int_equal(ockam_msg_set_payload(m, "hello", 5), OCKAM_OK);
    assert_int_equal(ockam_msg_set_tracing(m, "{}", 2), OCKAM_OK);
    assert_int_equal(ockam_msg_local_info_set(m, "identity", "abc", 3), OCKAM_OK);
    assert_int_equal(ockam_msg_local_info_set(m, "identity", "abcd", 4), OCKAM_OK);
    assert_int_equal(ockam_msg_local_info_set(m, "other", "", 0), OCKAM_OK);
    assert_int_equal(ockam_msg_local_info_count(m), 2);
    ockam_msg_set_origin(m, (ockam_origin) {7, 9});

    ockam_msg *c = ockam_msg_clone(m);
    ockam_slice s;
    assert_true(ockam_msg_local_info_get(c, "identity", &s));
    assert_int_equal(s.len, 4);
    assert_true(ockam_msg_tracing(c, &s));
    assert_memory_equal(s.ptr, "{}", 2);
    s = ockam_msg_payload(c);
    assert_memory_equal(s.ptr, "hello", 5);
    assert_int_equal(ockam_msg_origin(c).producer, 7);
    tn_assert_route(ockam_msg_onward(c), "0#echo");
    ockam_msg_free(c);
    ockam_msg_free(m);
}

static void
test_strerror(void **state)
{
    for (int e = 0; e < OCKAM_ERR_COUNT; e++) {
        assert_non_null(ockam_strerror((ockam_err)e));
        assert_string_not_equal(ockam_err_name((ockam_err)e), "OCKAM_E?");
    }
    assert_string_equal(ockam_strerror(OCKAM_ERR_COUNT), "unknown error");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_parse_and_format),
        cmocka_unit_test(test_addr_random),
        cmocka_unit_test(test_route_ops),
        cmocka_unit_test(test_route_limits),
        cmocka_unit_test(test_route_text),
        cmocka_unit_test(test_msg_basics),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
