/* Codec micro-benchmark: encode and decode of a C1-sized message (CBOR, docs/wire.md §4.2) and of
 * V1 (BARE, §3.4), in ns per operation. One line per case: "codec cbor encode: N ns/op". */
#include "core/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MIN_NS 300000000ull /* run each case for at least 0.3 s */

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct ctx {
    ockam_msg *msg; /* the message to encode */
    ockam_msg *out; /* decode target, reused like a connection's receive message */
    uint8_t buf[128];
    size_t len;      /* encoded length */
    uint8_t version; /* BARE version */
};

static volatile size_t sink;

static void
cbor_encode(struct ctx *c)
{
    size_t n;
    if (ockam__cbor_encode_msg(c->msg, c->buf, sizeof c->buf, &n) != OCKAM_OK)
        abort();
    sink += n;
}

static void
cbor_decode(struct ctx *c)
{
    if (ockam__cbor_decode_msg(c->buf, c->len, c->out) != OCKAM_OK)
        abort();
    sink += ockam_msg_payload(c->out).len;
}

static void
bare_encode(struct ctx *c)
{
    size_t n;
    if (ockam__bare_encode_msg(c->msg, c->version, c->buf, sizeof c->buf, &n) != OCKAM_OK)
        abort();
    sink += n;
}

static void
bare_decode(struct ctx *c)
{
    if (ockam__bare_decode_msg(c->buf, c->len, c->out, NULL) != OCKAM_OK)
        abort();
    sink += ockam_msg_payload(c->out).len;
}

/* Batches of iterations until MIN_NS has passed; reports the mean. */
static void
bench(const char *name, void (*op)(struct ctx *), struct ctx *c)
{
    uint64_t iters = 0, start;

    for (int i = 0; i < 10000; i++) /* warm-up: caches, allocator, branch predictors */
        op(c);
    start = now_ns();
    uint64_t elapsed;
    do {
        for (int i = 0; i < 10000; i++)
            op(c);
        iters += 10000;
        elapsed = now_ns() - start;
    } while (elapsed < MIN_NS);
    printf("codec %s: %.1f ns/op\n", name, (double)elapsed / (double)iters);
}

static ockam_msg *
c1_message(void)
{
    ockam_msg *m = ockam_msg_new();
    if (!m || ockam_route_push_back(ockam_msg_onward(m), ockam_addr_local("echo"))
        || ockam_route_push_back(ockam_msg_return(m), ockam_addr_local("app"))
        || ockam_msg_set_payload(m, "\x05hello", 6))
        abort();
    return m;
}

int
main(void)
{
    struct ctx c = {.msg = c1_message(), .out = ockam_msg_new(), .version = 1};
    if (!c.out)
        abort();

    /* C1: 23-byte CBOR body. */
    if (ockam__cbor_encode_msg(c.msg, c.buf, sizeof c.buf, &c.len) != OCKAM_OK || c.len != 23)
        abort();
    bench("cbor encode", cbor_encode, &c);
    bench("cbor decode", cbor_decode, &c);

    /* V1: 21-byte BARE version-1 body. */
    if (ockam__bare_encode_msg(c.msg, 1, c.buf, sizeof c.buf, &c.len) != OCKAM_OK || c.len != 21)
        abort();
    bench("bare encode", bare_encode, &c);
    bench("bare decode", bare_decode, &c);

    ockam_msg_free(c.msg);
    ockam_msg_free(c.out);
    return 0;
}
