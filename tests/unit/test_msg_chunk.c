/* Messages whose payload borrows from a reference-counted chunk (core/core.h): replacing,
 * reserving, cloning and freeing such a payload (also on another thread), the per-thread
 * message cache around it, and the CBOR and BARE decoders that borrow big payloads. */
#include "core/codec.h"
#include "nodes.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define CAP 4096

static size_t
refs(struct ockam__chunk *ch)
{
    return atomic_load(&ch->refs);
}

static struct ockam__chunk *
pattern_chunk(size_t cap)
{
    struct ockam__chunk *ch = ockam__chunk_new(cap);
    assert_non_null(ch);
    assert_int_equal(ch->cap, cap);
    for (size_t i = 0; i < cap; i++)
        ch->data[i] = (uint8_t)(i * 7 + 3);
    return ch;
}

static bool
inside(const struct ockam__chunk *ch, const uint8_t *p)
{
    return (uintptr_t)p >= (uintptr_t)ch->data && (uintptr_t)p < (uintptr_t)ch->data + ch->cap;
}

/* A message borrowing ch->data[off .. off+len). */
static ockam_msg *
borrowing(struct ockam__chunk *ch, size_t off, size_t len)
{
    ockam_msg *m = ockam_msg_new();
    assert_non_null(m);
    ockam__msg_borrow_payload(m, ch, ch->data + off, len);
    return m;
}

static void
test_borrow_and_free(void **state)
{
    struct ockam__chunk *ch = pattern_chunk(CAP);
    ockam_msg *m = borrowing(ch, 10, 100);
    assert_int_equal(refs(ch), 2);
    ockam_slice p = ockam_msg_payload(m);
    assert_ptr_equal(p.ptr, ch->data + 10);
    assert_int_equal(p.len, 100);
    ockam_msg_free(m);
    assert_int_equal(refs(ch), 1);
    ockam__chunk_unref(ch);
}

/* set_payload from the message's own borrowed bytes: copied before the chunk goes away
 * (the message holds the only reference, so ASan sees any use after free). */
static void
test_set_payload_from_itself(void **state)
{
    struct ockam__chunk *ch = pattern_chunk(CAP);
    uint8_t expect[50];
    memcpy(expect, ch->data + 15, sizeof expect);
    ockam_msg *m = borrowing(ch, 10, 100);
    ockam__chunk_unref(ch);
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(ockam_msg_set_payload(m, p.ptr + 5, sizeof expect), OCKAM_OK);
    p = ockam_msg_payload(m);
    assert_int_equal(p.len, sizeof expect);
    assert_memory_equal(p.ptr, expect, sizeof expect);
    ockam_msg_free(m);
}

static void
test_reserve_detaches(void **state)
{
    struct ockam__chunk *ch = pattern_chunk(CAP);
    ockam_msg *m = borrowing(ch, 0, 200);
    uint8_t *w = ockam_msg_payload_reserve(m, 300);
    assert_non_null(w);
    assert_false(inside(ch, w));
    assert_int_equal(refs(ch), 1);
    memset(w, 0xab, 300);
    assert_int_equal(ch->data[0], 3); /* the chunk is untouched */
    ockam_msg_free(m);
    ockam__chunk_unref(ch);
}

static void
test_payload_mut_copies(void **state)
{
    struct ockam__chunk *ch = pattern_chunk(CAP);
    ockam_msg *m = borrowing(ch, 100, 64);
    uint8_t *w = ockam__msg_payload_mut(m);
    assert_non_null(w);
    assert_false(inside(ch, w));
    assert_memory_equal(w, ch->data + 100, 64);
    assert_int_equal(refs(ch), 1);
    w[0] ^= 0xff;
    assert_int_equal(ch->data[100], (uint8_t)(100 * 7 + 3));
    ockam_msg_free(m);
    ockam__chunk_unref(ch);
}

static void
test_clone_shares(void **state)
{
    struct ockam__chunk *ch = pattern_chunk(CAP);
    ockam_msg *m = borrowing(ch, 20, 1000);
    assert_int_equal(ockam_route_push_back(ockam_msg_onward(m), ockam_addr_local("x")), OCKAM_OK);
    ockam_msg *c = ockam_msg_clone(m);
    assert_non_null(c);
    assert_int_equal(refs(ch), 3);
    assert_ptr_equal(ockam_msg_payload(c).ptr, ockam_msg_payload(m).ptr);
    tn_assert_route(ockam_msg_onward(c), "0#x");
    ockam_msg_free(m);
    assert_memory_equal(ockam_msg_payload(c).ptr, ch->data + 20, 1000);
    ockam_msg_free(c);
    assert_int_equal(refs(ch), 1);
    ockam__chunk_unref(ch);
}

static void *
free_msg(void *arg)
{
    ockam_msg_free(arg);
    return NULL;
}

static void
free_on_thread(ockam_msg *m)
{
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_msg, m), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

/* Another thread drops a reference, then the last one (LeakSanitizer checks the chunk). */
static void
test_free_on_other_thread(void **state)
{
    struct ockam__chunk *ch = pattern_chunk(CAP);
    ockam_msg *a = borrowing(ch, 0, 10);
    ockam_msg *b = borrowing(ch, 10, 10);
    free_on_thread(a);
    assert_int_equal(refs(ch), 2);
    ockam__chunk_unref(ch);
    free_on_thread(b);
}

/* Owned buffers are still reused through the cache; a borrowed payload is never cached. */
static void
test_cache_reuse(void **state)
{
    ockam_msg *m = ockam_msg_new();
    uint8_t *own = ockam_msg_payload_reserve(m, 1000);
    assert_non_null(own);
    ockam_msg_free(m);
    m = ockam_msg_new();
    assert_ptr_equal(ockam_msg_payload_reserve(m, 500), own);

    /* Borrowing frees the owned buffer; freeing the message drops the reference only. */
    struct ockam__chunk *ch = pattern_chunk(CAP);
    ockam__msg_borrow_payload(m, ch, ch->data, 30);
    assert_ptr_equal(ockam_msg_payload(m).ptr, ch->data);
    ockam_msg_free(m);
    assert_int_equal(refs(ch), 1);
    m = ockam_msg_new();
    assert_int_equal(ockam_msg_payload(m).len, 0);
    assert_non_null(ockam_msg_payload_reserve(m, 10));
    assert_int_equal(refs(ch), 1);
    ockam_msg_free(m);

    /* Borrowing again from the chunk the message already borrows from. */
    m = borrowing(ch, 0, 100);
    ockam__msg_borrow_payload(m, ch, ch->data + 50, 50);
    assert_int_equal(refs(ch), 2);
    ockam_msg_free(m);
    ockam__chunk_unref(ch);
}

/* A writer takes an owned payload and gives the buffer back for the next message. */
static void
test_take_and_recycle(void **state)
{
    ockam_msg *m = ockam_msg_new();
    uint8_t *own = ockam_msg_payload_reserve(m, 20000);
    assert_non_null(own);
    size_t cap;
    struct ockam__chunk *from;
    assert_ptr_equal(ockam__msg_take_payload(m, &cap, &from), own);
    assert_null(from);
    assert_int_equal(cap, 20000);
    assert_int_equal(ockam_msg_payload(m).len, 0);
    ockam__msg_recycle_payload(own, cap);
    ockam_msg *n = ockam_msg_new();
    size_t cap2;
    ockam__free(ockam__msg_take_payload(n, &cap2, &from)); /* a cached buffer, if any */
    assert_ptr_equal(ockam_msg_payload_reserve(n, 19000), own);
    ockam_msg_free(n);
    ockam_msg_free(m);

    struct ockam__chunk *ch = pattern_chunk(CAP);
    m = borrowing(ch, 8, 16);
    assert_ptr_equal(ockam__msg_take_payload(m, &cap, &from), ch->data + 8);
    assert_ptr_equal(from, ch);
    assert_int_equal(refs(ch), 2); /* the reference moved to the taker */
    ockam_msg_free(m);
    ockam__chunk_unref(from);
    ockam__chunk_unref(ch);
}

/* [onward: x], [return: y], payload of len bytes, CBOR or BARE v1, inside a fresh chunk. */
static struct ockam__chunk *
encoded_in_chunk(bool cbor, size_t len, size_t extra, size_t *n)
{
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(ockam_route_push_back(ockam_msg_onward(m), ockam_addr_local("x")), OCKAM_OK);
    assert_int_equal(ockam_route_push_back(ockam_msg_return(m), ockam_addr_local("y")), OCKAM_OK);
    uint8_t *p = ockam_msg_payload_reserve(m, len);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i ^ (i >> 8));
    *n = cbor ? ockam__cbor_msg_size(m) : ockam__bare_msg_size(m, 1);
    struct ockam__chunk *ch = ockam__chunk_new(*n + extra + 1);
    size_t written;
    ockam_err err = cbor ? ockam__cbor_encode_msg(m, ch->data + 1, *n, &written)
                         : ockam__bare_encode_msg(m, 1, ch->data + 1, *n, &written);
    assert_int_equal(err, OCKAM_OK);
    memset(ch->data + 1 + *n, 0, extra);
    ockam_msg_free(m);
    return ch;
}

static ockam_err
decode(bool cbor, const uint8_t *buf, size_t len, ockam_msg *out, const ockam__borrow *from)
{
    return cbor ? ockam__cbor_decode_msg_borrow(buf, len, out, from)
                : ockam__bare_decode_msg_borrow(buf, len, out, NULL, from);
}

static void
run_decoder_borrows(bool cbor)
{
    size_t n, len = 20000;
    struct ockam__chunk *ch = encoded_in_chunk(cbor, len, 2, &n);
    const uint8_t *body = ch->data + 1;
    ockam_msg *m = ockam_msg_new();

    ockam__borrow big = {.chunk = ch, .min = len};
    assert_int_equal(decode(cbor, body, n, m, &big), OCKAM_OK);
    ockam_slice p = ockam_msg_payload(m);
    assert_int_equal(p.len, len);
    assert_true(inside(ch, p.ptr));
    assert_int_equal(refs(ch), 2);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(p.ptr[i], (uint8_t)(i ^ (i >> 8)));
    tn_assert_route(ockam_msg_onward(m), "0#x");

    /* Below the threshold, or without a chunk: copied. Decoding drops the old borrow. */
    ockam__borrow small = {.chunk = ch, .min = len + 1};
    assert_int_equal(decode(cbor, body, n, m, &small), OCKAM_OK);
    assert_false(inside(ch, ockam_msg_payload(m).ptr));
    assert_int_equal(refs(ch), 1);
    assert_int_equal(decode(cbor, body, n, m, NULL), OCKAM_OK);
    assert_false(inside(ch, ockam_msg_payload(m).ptr));

    /* An error after the payload leaves no reference behind. CBOR: a trailing byte. BARE:
     * version 2 whose tracing string runs past the end. */
    ockam_err err;
    if (cbor) {
        err = decode(cbor, body, n + 1, m, &big);
    } else {
        ch->data[1] = 2;
        ch->data[1 + n] = 1;
        ch->data[2 + n] = 5;
        err = decode(cbor, body, n + 2, m, &big);
    }
    assert_int_equal(err, cbor ? OCKAM_ETRAILING : OCKAM_ETRUNCATED);
    assert_int_equal(refs(ch), 1);
    assert_int_equal(ockam_msg_payload(m).len, 0);
    ockam_msg_free(m);
    ockam__chunk_unref(ch);
}

static void
test_cbor_decoder_borrows(void **state)
{
    run_decoder_borrows(true);
}

static void
test_bare_decoder_borrows(void **state)
{
    run_decoder_borrows(false);
}

/* Pieces for payloads cut one after the other from the thread's current standard chunk. */
static void
test_carve(void **state)
{
    struct ockam__chunk *c1, *c2, *c3, *c4, *c5, *c6;
    uint8_t *p1 = ockam__chunk_carve(100, &c1);
    uint8_t *p2 = ockam__chunk_carve(100, &c2);
    assert_non_null(p1);
    assert_non_null(p2);
    assert_ptr_equal(c1, c2);
    assert_int_equal(c1->cap, OCKAM__CHUNK_STD);
    assert_int_equal(refs(c1), 3); /* the carving thread and two pieces */
    assert_true(inside(c1, p1) && inside(c1, p2 + 99));
    assert_true(p2 >= p1 + 100);
    assert_int_equal((uintptr_t)p1 % 64, 0);
    assert_int_equal((uintptr_t)p2 % 64, 0);
    memset(p1, 0xaa, 100);
    memset(p2, 0xbb, 100);
    assert_int_equal(p1[99], 0xaa);

    /* Once no piece is borrowed any more, the chunk is cut again from its start. */
    ockam__chunk_unref(c1);
    ockam__chunk_unref(c2);
    uint8_t *p3 = ockam__chunk_carve(100, &c3);
    assert_ptr_equal(c3, c1);
    assert_ptr_equal(p3, p1);

    /* While p3 is borrowed, pieces go after it, then into a fresh chunk when full. */
    uint8_t *p4 = ockam__chunk_carve(100000, &c4);
    uint8_t *p5 = ockam__chunk_carve(100000, &c5);
    uint8_t *p6 = ockam__chunk_carve(100000, &c6);
    assert_ptr_equal(c4, c3);
    assert_ptr_equal(c5, c3);
    assert_true(p4 >= p3 + 100 && p5 >= p4 + 100000);
    assert_ptr_not_equal(c6, c3);
    assert_true(inside(c6, p6) && inside(c6, p6 + 99999));
    assert_int_equal(refs(c3), 3); /* the three pieces: the thread moved on to c6 */
    assert_int_equal(refs(c6), 2);

    /* A piece of a whole chunk, and one too big for any. */
    ockam__chunk_unref(c6);
    struct ockam__chunk *whole, *none = c3;
    assert_non_null(ockam__chunk_carve(OCKAM__CHUNK_STD, &whole));
    assert_null(ockam__chunk_carve(OCKAM__CHUNK_STD + 1, &none));
    assert_null(none);
    ockam__chunk_unref(whole);
    ockam__chunk_unref(c3);
    ockam__chunk_unref(c4);
    ockam__chunk_unref(c5);
    ockam__chunk_cache_release(); /* the carving chunk too (leak checks) */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_borrow_and_free),
        cmocka_unit_test(test_set_payload_from_itself),
        cmocka_unit_test(test_reserve_detaches),
        cmocka_unit_test(test_payload_mut_copies),
        cmocka_unit_test(test_clone_shares),
        cmocka_unit_test(test_free_on_other_thread),
        cmocka_unit_test(test_cache_reuse),
        cmocka_unit_test(test_take_and_recycle),
        cmocka_unit_test(test_cbor_decoder_borrows),
        cmocka_unit_test(test_bare_decoder_borrows),
        cmocka_unit_test(test_carve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
