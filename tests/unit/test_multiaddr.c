/* Multiaddr (docs/wire.md §10): the example of docs/wire.md §10.1, every protocol in text and
 * binary, malformed input, prefixes and mutations of the binary form, editing, and conversion to
 * routes. */
#include "codec_util.h"
#include "codec_vectors.h"
#include "ockam/multiaddr.h"
#include "support/guard.h"

#include <stdio.h>
#include <stdlib.h>

struct ma_vec {
    const char *text;
    const char *hex;
};

static const struct ma_vec ma_vecs[] = {
    {VEC_MA_TEXT, VEC_MA},
    {"/ip6/::1/tcp/4000", "29 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 06 0f a0"},
    {"/ip6/2001:db8::8a2e:370:7334/udp/0",
        "29 20 01 0d b8 00 00 00 00 00 00 8a 2e 03 70 73 34 91 02 00 00"},
    {"/dnsaddr/localhost/tcp/65535/secure/api",
        "38 09 6c 6f 63 61 6c 68 6f 73 74 06 ff ff c6 89 06 03 61 70 69"},
    {"/ip4/1.2.3.4/udp/5000", "04 01 02 03 04 91 02 13 88"},
    {"/ble/b1", "9e bd 07 02 62 31"},
    {"/node/n1", "ce b6 04 02 6e 31"},
    {"/project/default", "de 84 05 07 64 65 66 61 75 6c 74"},
    {"/space/s", "ee d2 05 01 73"},
    {"/worker/9f1c", "fe a0 06 04 39 66 31 63"},
    {"/service/h\xc3\xa9llo", "be e8 03 06 68 c3 a9 6c 6c 6f"},
    {"/ip4/0.0.0.0/tcp/0", "04 00 00 00 00 06 00 00"},
    {"/ip4/255.255.255.255", "04 ff ff ff ff"},
};

#define NMA (sizeof ma_vecs / sizeof ma_vecs[0])

static void
assert_text(const ockam_multiaddr *ma, const char *want)
{
    char buf[512];
    size_t n = ockam_multiaddr_format(ma, buf, sizeof buf);
    assert_int_equal(n, strlen(want));
    assert_string_equal(buf, want);
}

static void
test_ma_vectors(void **state)
{
    for (size_t i = 0; i < NMA; i++) {
        uint8_t want[64], out[64];
        size_t n = tn_hex(ma_vecs[i].hex, want, sizeof want), written;
        ockam_multiaddr *t = NULL, *b = NULL;

        print_message("%s\n", ma_vecs[i].text);
        assert_int_equal(ockam_multiaddr_parse(ma_vecs[i].text, &t), OCKAM_OK);
        assert_int_equal(ockam_multiaddr_encode(t, out, sizeof out, &written), OCKAM_OK);
        assert_int_equal(written, n);
        assert_memory_equal(out, want, n);
        assert_int_equal(ockam_multiaddr_encode(t, out, n - 1, &written), OCKAM_EMSGSIZE);
        assert_int_equal(written, n);
        assert_text(t, ma_vecs[i].text);

        uint8_t *g = test_guard_copy(want, n);
        assert_int_equal(ockam_multiaddr_decode(g, n, &b), OCKAM_OK);
        assert_text(b, ma_vecs[i].text);
        assert_int_equal(ockam_multiaddr_count(b), ockam_multiaddr_count(t));
        test_guard_free(g);
        ockam_multiaddr_free(t);
        ockam_multiaddr_free(b);
    }
}

static void
test_ma_components(void **state)
{
    ockam_multiaddr *ma = NULL;
    assert_int_equal(ockam_multiaddr_parse(VEC_MA_TEXT, &ma), OCKAM_OK);
    assert_int_equal(ockam_multiaddr_count(ma), 3);
    ockam_ma_component c = ockam_multiaddr_at(ma, 0);
    assert_int_equal(c.code, OCKAM_MA_IP4);
    assert_int_equal(c.value.len, 4);
    assert_memory_equal(c.value.ptr, "\x7f\x00\x00\x01", 4);
    c = ockam_multiaddr_at(ma, 1);
    assert_int_equal(c.code, OCKAM_MA_TCP);
    assert_memory_equal(c.value.ptr, "\x0f\xa0", 2);
    c = ockam_multiaddr_at(ma, 2);
    assert_int_equal(c.code, OCKAM_MA_SERVICE);
    assert_int_equal(c.value.len, 4);
    assert_memory_equal(c.value.ptr, "echo", 4);
    ockam_multiaddr_free(ma);

    /* "self" is /secure/api. */
    assert_int_equal(ockam_multiaddr_parse("self", &ma), OCKAM_OK);
    assert_text(ma, "/secure/api");
    ockam_multiaddr_free(ma);
}

static void
test_ma_proto_names(void **state)
{
    static const struct {
        const char *name;
        uint32_t code;
    } names[] = {{"ip4", 4}, {"tcp", 6}, {"ip6", 41}, {"dnsaddr", 56}, {"udp", 273},
        {"service", 62526}, {"node", 72526}, {"project", 82526}, {"space", 92526},
        {"secure", 99526}, {"worker", 102526}, {"ble", 122526}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_int_equal(ockam_multiaddr_proto_code(names[i].name), names[i].code);
        assert_string_equal(ockam_multiaddr_proto_name(names[i].code), names[i].name);
    }
    assert_int_equal(ockam_multiaddr_proto_code("ockam"), 0);
    assert_int_equal(ockam_multiaddr_proto_code(""), 0);
    assert_null(ockam_multiaddr_proto_name(0));
    assert_null(ockam_multiaddr_proto_name(5));
}

static void
test_ma_text_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "/",
        "//",
        "ip4/1.2.3.4",
        "/ip4",
        "/ip4/",
        "/ip4/1.2.3",
        "/ip4/1.2.3.4.5",
        "/ip4/256.0.0.1",
        "/ip4/01.2.3.4",
        "/ip4/1.2.3.4 ",
        "/ip4/1..3.4",
        "/ip4/1.2.3.-4",
        "/ip4/1234.2.3.4",
        "/ip6/zz",
        "/ip6/1.2.3.4",
        "/ip6/::1::2",
        "/ip6/0000:0000:0000:0000:0000:0000:0000:0000:0000",
        "/tcp/",
        "/tcp/65536",
        "/tcp/-1",
        "/tcp/+1",
        "/tcp/123456",
        "/tcp/0x10",
        "/service",
        "/service/",
        "/service/echo/",
        "/service/echo//",
        "/bogus/x",
        "/ockam/echo",
        "/SERVICE/echo",
        "/service/\xc3\x28",
        "self/service/echo",
        " /service/echo",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ockam_multiaddr *ma = (ockam_multiaddr *)0x1;
        print_message("'%s'\n", bad[i]);
        assert_int_equal(ockam_multiaddr_parse(bad[i], &ma), OCKAM_EMULTIADDR);
        assert_ptr_equal(ma, (ockam_multiaddr *)0x1); /* untouched on error */
    }

    /* Name limits: 255 bytes is fine, 256 is not; OCKAM_MA_MAX_COMPONENTS components fine
     * (any route of OCKAM_MAX_ROUTE_LEN addresses fits), one more not. */
    static char text[8 * OCKAM_MA_MAX_COMPONENTS + 16] = "/service/";
    memset(text + 9, 'a', 255);
    ockam_multiaddr *ma = NULL;
    assert_int_equal(ockam_multiaddr_parse(text, &ma), OCKAM_OK);
    ockam_multiaddr_free(ma);
    text[9 + 255] = 'a';
    assert_int_equal(ockam_multiaddr_parse(text, &ma), OCKAM_EMULTIADDR);
    text[0] = '\0';
    for (int i = 0; i < OCKAM_MA_MAX_COMPONENTS; i++)
        strcat(text, "/node/n");
    assert_int_equal(ockam_multiaddr_parse(text, &ma), OCKAM_OK);
    assert_int_equal(ockam_multiaddr_count(ma), OCKAM_MA_MAX_COMPONENTS);
    ockam_multiaddr_free(ma);
    strcat(text, "/node/n");
    assert_int_equal(ockam_multiaddr_parse(text, &ma), OCKAM_EMULTIADDR);
}

static ockam_err
decode_hex(const char *hex)
{
    uint8_t buf[64];
    size_t n = tn_hex(hex, buf, sizeof buf);
    ockam_multiaddr *ma = NULL;
    uint8_t *g = test_guard_copy(buf, n);
    ockam_err err = ockam_multiaddr_decode(g, n, &ma);
    test_guard_free(g);
    ockam_multiaddr_free(ma);
    return err;
}

static void
test_ma_binary_malformed(void **state)
{
    assert_int_equal(decode_hex(""), OCKAM_OK); /* the empty multiaddr */
    assert_int_equal(decode_hex("04 7f 00 00"), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("29 00 00"), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("06 0f"), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("be e8"), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("be e8 03"), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("be e8 03 05 65 63 68 6f"), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("be e8 03 ff ff ff ff 0f"), OCKAM_ETRUNCATED);
    assert_int_equal(decode_hex("84 00 7f 00 00 01"), OCKAM_EVARINT); /* overlong code */
    assert_int_equal(decode_hex("be e8 03 80 00"), OCKAM_EVARINT);
    assert_int_equal(decode_hex("05 00"), OCKAM_EMULTIADDR);                /* unknown code */
    assert_int_equal(decode_hex("80 80 80 80 10 00"), OCKAM_EMULTIADDR);    /* code > u32 */
    assert_int_equal(decode_hex("be e8 03 00"), OCKAM_EMULTIADDR);          /* empty name */
    assert_int_equal(decode_hex("be e8 03 03 61 2f 62"), OCKAM_EMULTIADDR); /* '/' */
    assert_int_equal(decode_hex("be e8 03 03 61 00 62"), OCKAM_EMULTIADDR); /* NUL */
    assert_int_equal(decode_hex("be e8 03 02 c3 28"), OCKAM_EMULTIADDR);    /* not UTF-8 */

    /* A 256-byte name and one component more than OCKAM_MA_MAX_COMPONENTS. */
    static uint8_t buf[5 * (OCKAM_MA_MAX_COMPONENTS + 1)];
    size_t n = tn_hex("be e8 03 80 02", buf, sizeof buf);
    memset(buf + n, 'a', 256);
    ockam_multiaddr *ma = NULL;
    assert_int_equal(ockam_multiaddr_decode(buf, n + 256, &ma), OCKAM_EMULTIADDR);
    for (size_t i = 0; i < OCKAM_MA_MAX_COMPONENTS + 1; i++)
        tn_hex("ee d2 05 01 73", buf + 5 * i, 5);
    assert_int_equal(ockam_multiaddr_decode(buf, 5 * OCKAM_MA_MAX_COMPONENTS, &ma), OCKAM_OK);
    ockam_multiaddr_free(ma);
    assert_int_equal(
        ockam_multiaddr_decode(buf, 5 * (OCKAM_MA_MAX_COMPONENTS + 1), &ma), OCKAM_EMULTIADDR);
}

static void
check_prefix(const uint8_t *buf, size_t len, void *arg)
{
    /* A prefix that ends between components is a shorter valid multiaddr; inside one it is
     * truncated. Either way: no crash, no leak, and a valid result re-encodes to itself. */
    ockam_multiaddr *ma = NULL;
    ockam_err err = ockam_multiaddr_decode(buf, len, &ma);
    if (err == OCKAM_OK) {
        uint8_t out[64];
        size_t written;
        assert_int_equal(ockam_multiaddr_encode(ma, out, sizeof out, &written), OCKAM_OK);
        assert_int_equal(written, len);
        assert_memory_equal(out, buf, len);
        ockam_multiaddr_free(ma);
        return;
    }
    assert_true(err == OCKAM_ETRUNCATED || err == OCKAM_EMULTIADDR);
}

/* Binary is canonical: decode OK => encode gives the same bytes, and text round-trips. */
static void
check_mutation(const uint8_t *buf, size_t len, void *arg)
{
    ockam_multiaddr *ma = NULL, *again = NULL;
    if (ockam_multiaddr_decode(buf, len, &ma) != OCKAM_OK)
        return;
    uint8_t out[64];
    size_t written;
    assert_int_equal(ockam_multiaddr_encode(ma, out, sizeof out, &written), OCKAM_OK);
    assert_int_equal(written, len);
    assert_memory_equal(out, buf, len);
    if (ockam_multiaddr_count(ma) > 0) {
        char text[1024];
        ockam_multiaddr_format(ma, text, sizeof text);
        assert_int_equal(ockam_multiaddr_parse(text, &again), OCKAM_OK);
        assert_text(again, text);
        ockam_multiaddr_free(again);
    }
    ockam_multiaddr_free(ma);
}

static void
test_ma_prefixes_and_mutations(void **state)
{
    for (size_t i = 0; i < NMA; i++) {
        uint8_t buf[64];
        size_t n = tn_hex(ma_vecs[i].hex, buf, sizeof buf);
        cu_each_prefix(buf, n, check_prefix, NULL);
        cu_each_mutation(buf, n, check_mutation, NULL);
    }
}

static void
test_ma_format_truncates(void **state)
{
    ockam_multiaddr *ma = NULL;
    char buf[8];
    assert_int_equal(ockam_multiaddr_parse(VEC_MA_TEXT, &ma), OCKAM_OK);
    assert_int_equal(ockam_multiaddr_format(ma, NULL, 0), strlen(VEC_MA_TEXT));
    assert_int_equal(ockam_multiaddr_format(ma, buf, sizeof buf), strlen(VEC_MA_TEXT));
    assert_string_equal(buf, "/ip4/12");
    ockam_multiaddr_free(ma);

    ma = ockam_multiaddr_new();
    assert_int_equal(ockam_multiaddr_format(ma, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    size_t written = 99;
    assert_int_equal(ockam_multiaddr_encode(ma, NULL, 0, &written), OCKAM_OK);
    assert_int_equal(written, 0);
    ockam_multiaddr_free(ma);
}

static void
test_ma_push(void **state)
{
    ockam_multiaddr *ma = ockam_multiaddr_new();
    assert_int_equal(ockam_multiaddr_push(ma, OCKAM_MA_IP4, "\x7f\x00\x00\x01", 4), OCKAM_OK);
    assert_int_equal(ockam_multiaddr_push(ma, OCKAM_MA_TCP, "\x0f\xa0", 2), OCKAM_OK);
    assert_int_equal(ockam_multiaddr_push(ma, OCKAM_MA_SERVICE, "echo", 4), OCKAM_OK);
    assert_text(ma, VEC_MA_TEXT);
    assert_int_equal(ockam_multiaddr_push(ma, OCKAM_MA_IP4, "\x7f\x00\x00", 3), OCKAM_EMULTIADDR);
    assert_int_equal(ockam_multiaddr_push(ma, OCKAM_MA_IP6, "\x00", 1), OCKAM_EMULTIADDR);
    assert_int_equal(ockam_multiaddr_push(ma, OCKAM_MA_UDP, "\x0f\xa0\x00", 3), OCKAM_EMULTIADDR);
    assert_int_equal(ockam_multiaddr_push(ma, OCKAM_MA_SERVICE, "", 0), OCKAM_EMULTIADDR);
    assert_int_equal(ockam_multiaddr_push(ma, OCKAM_MA_SERVICE, "a/b", 3), OCKAM_EMULTIADDR);
    assert_int_equal(ockam_multiaddr_push(ma, 7, "x", 1), OCKAM_EMULTIADDR);
    assert_int_equal(ockam_multiaddr_count(ma), 3);
    ockam_multiaddr_free(ma);
}

static void
test_ma_splice(void **state)
{
    ockam_multiaddr *ma = NULL, *node = NULL;
    assert_int_equal(ockam_multiaddr_parse("/node/n1/service/echo", &ma), OCKAM_OK);
    assert_int_equal(ockam_multiaddr_parse("/ip4/127.0.0.1/tcp/4000", &node), OCKAM_OK);
    /* The CLI's /node resolution: replace one component by two. */
    assert_int_equal(ockam_multiaddr_splice(ma, 0, 1, node), OCKAM_OK);
    assert_text(ma, VEC_MA_TEXT);
    /* Remove only, insert only, into itself. */
    assert_int_equal(ockam_multiaddr_splice(ma, 2, 1, NULL), OCKAM_OK);
    assert_text(ma, "/ip4/127.0.0.1/tcp/4000");
    assert_int_equal(ockam_multiaddr_splice(ma, 2, 0, ma), OCKAM_OK);
    assert_text(ma, "/ip4/127.0.0.1/tcp/4000/ip4/127.0.0.1/tcp/4000");
    assert_int_equal(ockam_multiaddr_splice(ma, 0, 4, NULL), OCKAM_OK);
    assert_int_equal(ockam_multiaddr_count(ma), 0);
    assert_int_equal(ockam_multiaddr_splice(ma, 0, 0, node), OCKAM_OK);
    assert_text(ma, "/ip4/127.0.0.1/tcp/4000");
    /* Out of range. */
    assert_int_equal(ockam_multiaddr_splice(ma, 3, 0, node), OCKAM_EINVAL);
    assert_int_equal(ockam_multiaddr_splice(ma, 1, 2, node), OCKAM_EINVAL);
    /* Too many components. */
    for (int i = 0; i < OCKAM_MA_MAX_COMPONENTS / 2 - 1; i++)
        assert_int_equal(ockam_multiaddr_splice(ma, 0, 0, node), OCKAM_OK);
    assert_int_equal(ockam_multiaddr_count(ma), OCKAM_MA_MAX_COMPONENTS);
    assert_int_equal(ockam_multiaddr_splice(ma, 0, 0, node), OCKAM_EMULTIADDR);
    assert_int_equal(ockam_multiaddr_splice(ma, 0, 2, node), OCKAM_OK);
    ockam_multiaddr_free(ma);
    ockam_multiaddr_free(node);
}

/* ---- to route ------------------------------------------------------------------------- */

struct route_case {
    const char *ma;
    ockam_err err;
    const char *route;
};

static const struct route_case route_cases[] = {
    {VEC_MA_TEXT, OCKAM_OK, "1#127.0.0.1:4000 => 0#echo"},
    {"/ip6/::1/tcp/4000/service/echo", OCKAM_OK, "1#[::1]:4000 => 0#echo"},
    {"/dnsaddr/localhost/tcp/4000/worker/w1", OCKAM_OK, "1#localhost:4000 => 0#w1"},
    {"/ip4/1.2.3.4/udp/5000/service/api", OCKAM_OK, "2#1.2.3.4:5000 => 0#api"},
    {"/dnsaddr/relay.example/udp/443", OCKAM_OK, "2#relay.example:443"},
    {"/ble/b1/service/hop/ip4/127.0.0.1/udp/6000/service/uppercase", OCKAM_OK,
        "4#b1 => 0#hop => 2#127.0.0.1:6000 => 0#uppercase"},
    {"/service/a/worker/b/service/c", OCKAM_OK, "0#a => 0#b => 0#c"},
    /* A channel is never a plain hop. */
    {"/ip4/1.2.3.4/udp/5000/secure/api", OCKAM_ENOTSUP, NULL},
    {"/service/a/worker/b/secure/c", OCKAM_ENOTSUP, NULL},
    {"self", OCKAM_ENOTSUP, NULL},
    /* Several transport hops are allowed (unlike Ockam). */
    {"/ip4/10.0.0.1/tcp/1/ip4/10.0.0.2/tcp/2", OCKAM_OK, "1#10.0.0.1:1 => 1#10.0.0.2:2"},
    {"/node/n1/service/echo", OCKAM_ENOTSUP, NULL},
    {"/service/echo/project/p", OCKAM_ENOTSUP, NULL},
    {"/space/s", OCKAM_ENOTSUP, NULL},
    {"/ip4/1.2.3.4", OCKAM_EMULTIADDR, NULL},
    {"/ip4/1.2.3.4/service/echo", OCKAM_EMULTIADDR, NULL},
    {"/tcp/4000", OCKAM_EMULTIADDR, NULL},
    {"/service/echo/tcp/4000", OCKAM_EMULTIADDR, NULL},
    {"/ip4/1.2.3.4/ip4/1.2.3.4/tcp/1", OCKAM_EMULTIADDR, NULL},
};

static void
test_ma_to_route(void **state)
{
    for (size_t i = 0; i < sizeof route_cases / sizeof route_cases[0]; i++) {
        const struct route_case *c = &route_cases[i];
        ockam_multiaddr *ma = NULL;
        ockam_route *r = ockam_route_new();

        print_message("%s\n", c->ma);
        assert_int_equal(ockam_multiaddr_parse(c->ma, &ma), OCKAM_OK);
        /* Appends to what is there, and leaves it untouched on error. */
        assert_int_equal(ockam_route_parse(r, "0#first"), OCKAM_OK);
        assert_int_equal(ockam_multiaddr_to_route(ma, r), c->err);
        if (c->err == OCKAM_OK) {
            char want[256];
            snprintf(want, sizeof want, "0#first => %s", c->route);
            cu_assert_route(r, want);
        } else {
            cu_assert_route(r, "0#first");
        }
        ockam_route_free(r);
        ockam_multiaddr_free(ma);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ma_vectors),
        cmocka_unit_test(test_ma_components),
        cmocka_unit_test(test_ma_proto_names),
        cmocka_unit_test(test_ma_text_malformed),
        cmocka_unit_test(test_ma_binary_malformed),
        cmocka_unit_test(test_ma_prefixes_and_mutations),
        cmocka_unit_test(test_ma_format_truncates),
        cmocka_unit_test(test_ma_push),
        cmocka_unit_test(test_ma_splice),
        cmocka_unit_test(test_ma_to_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
