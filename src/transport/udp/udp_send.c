/* UDP sending: encode the routing message once, cut it into fragments of at most 493 bytes
 * (docs/wire.md §5.2), and hand the datagrams to the socket. While the socket takes them,
 * datagrams go out with uv_udp_try_send and nothing is allocated. When it would block, the
 * rest of the message (and every later message, to keep the order) waits in the bind's
 * queue as encoded bytes, and at most OCKAM__UDP_INFLIGHT send requests are in libuv at a
 * time, which libuv flushes with sendmmsg when the socket becomes writable.
 *
 * With ICMP errors reported (IP_RECVERR, udp_name.c), a send may fail with the error of an
 * EARLIER datagram that is pending on the socket (Linux returns it from the next send or
 * receive, and that send did not happen): such a send is tried once more, and the error
 * queue is read on the next receive callback. */
#include "transport/udp/udp_internal.h"

#include <netdb.h>

#define SCRATCH_KEEP (256u * 1024u) /* a larger encoding buffer is released after use */

ockam_err
ockam__udp_send_drop(ockam_udp_bind *b, ockam_msg *msg, ockam_err err, const char *why)
{
    char line[256];
    b->stats.send_dropped++;
    snprintf(line, sizeof line, "message not sent: %s (%s)", why, ockam_strerror(err));
    ockam__udp_reasm_log(
        &b->reasm, NULL, OCKAM__UDP_LOG_OTHER, uv_now(ockam__node_loop(b->t->node)), line);
    ockam_msg_free(msg);
    return err;
}

/* ---- encoding ------------------------------------------------------------------------ */

static ockam_err
encode(struct ockam__udp *t, const ockam_msg *msg, size_t *len)
{
    size_t need = ockam__cbor_msg_size(msg);
    if (need > OCKAM_UDP_MAX_MESSAGE)
        return OCKAM_EMSGSIZE;
    if (need > t->scratch_cap) {
        uint8_t *p = ockam__realloc(t->scratch, need);
        if (!p)
            return OCKAM_ENOMEM;
        t->scratch = p;
        t->scratch_cap = need;
    }
    return ockam__cbor_encode_msg(msg, t->scratch, t->scratch_cap, len);
}

static void
scratch_trim(struct ockam__udp *t)
{
    if (t->scratch_cap <= SCRATCH_KEEP)
        return;
    ockam__free(t->scratch);
    t->scratch = NULL;
    t->scratch_cap = 0;
}

/* Encode the fragment of `total` bytes starting at absolute offset `off`; data points at
 * that offset. Returns the datagram length; *n gets the payload bytes it carries. */
static size_t
fragment(uint16_t number, const uint8_t *data, size_t total, size_t off, uint8_t *dgram, size_t *n)
{
    size_t left = total - off;
    size_t take = left < OCKAM_UDP_MAX_FRAGMENT_PAYLOAD ? left : OCKAM_UDP_MAX_FRAGMENT_PAYLOAD;
    ockam__udp_frag f = {
        .version = 1,
        .routing_number = number,
        .offset = (uint32_t)off,
        .is_last = take == left,
        .data = {.ptr = data, .len = take},
    };
    size_t written = 0;
    ockam_err err = ockam__udp_frag_encode(&f, dgram, OCKAM_UDP_MAX_DATAGRAM, &written);
    OCKAM_ASSERT(err == OCKAM_OK); /* 493 payload bytes always fit in 508 */
    (void)err;
    *n = take;
    return written;
}

/* ---- the queue ----------------------------------------------------------------------- */

static struct ockam__udp_req *
take_req(ockam_udp_bind *b)
{
    if (!b->reqs) {
        b->reqs = ockam__zalloc(OCKAM__UDP_INFLIGHT * sizeof *b->reqs);
        if (!b->reqs)
            return NULL;
        for (uint32_t i = 0; i < OCKAM__UDP_INFLIGHT; i++) {
            b->reqs[i].bind = b;
            b->reqs[i].next_free = b->free_reqs;
            b->free_reqs = &b->reqs[i];
        }
    }
    struct ockam__udp_req *r = b->free_reqs;
    if (r)
        b->free_reqs = r->next_free;
    return r;
}

static void
put_req(ockam_udp_bind *b, struct ockam__udp_req *r)
{
    r->next_free = b->free_reqs;
    b->free_reqs = r;
}

static void
pop_out(ockam_udp_bind *b)
{
    struct ockam__udp_out *o = b->out_head;
    b->out_head = o->next;
    if (!b->out_head)
        b->out_tail = NULL;
    b->out_bytes -= o->len;
    ockam__free(o);
}

static void pump(ockam_udp_bind *b);

bool
ockam__udp_pending_error(int uv_err)
{
    return uv_err == UV_ECONNREFUSED || uv_err == UV_EHOSTUNREACH || uv_err == UV_ENETUNREACH
        || uv_err == UV_EHOSTDOWN || uv_err == UV_ENONET;
}

static void
on_sent(uv_udp_send_t *req, int status)
{
    struct ockam__udp_req *r = req->data;
    ockam_udp_bind *b = r->bind;
    if (!b->closing && ockam__udp_pending_error(status) && !r->retried) {
        r->retried = true;
        b->errq_pending = true;
        if (uv_udp_send(&r->req, &b->io, &r->buf, 1, &r->dst.sa, on_sent) == 0)
            return;
    }
    b->inflight--;
    put_req(b, r);
    if (status < 0 && status != UV_ECANCELED) {
        b->stats.send_dropped++; /* its message cannot be reassembled */
        ockam__udp_reasm_log(&b->reasm, NULL, OCKAM__UDP_LOG_OTHER, uv_now(b->io.loop),
            "datagram not sent: socket error");
    }
    if (!b->closing)
        pump(b);
}

/* Hand the next fragment of the head message to libuv; false when nothing more can go. */
static bool
pump_one(ockam_udp_bind *b)
{
    struct ockam__udp_out *o = b->out_head;
    struct ockam__udp_req *r = take_req(b);
    if (!r)
        return false;
    size_t n;
    size_t w = fragment(o->number, o->body + (o->off - o->base), o->total, o->off, r->dgram, &n);
    r->buf = uv_buf_init((char *)r->dgram, (unsigned)w);
    r->req.data = r;
    r->dst = o->dst;
    r->retried = false;
    int rc = uv_udp_send(&r->req, &b->io, &r->buf, 1, &o->dst.sa, on_sent);
    if (rc != 0) {
        put_req(b, r);
        b->stats.send_dropped++;
        pop_out(b);
        return true;
    }
    b->inflight++;
    b->stats.datagrams_out++;
    o->off += n;
    if (o->off == o->total) {
        b->stats.messages_out++;
        pop_out(b);
    }
    return true;
}

static void
pump(ockam_udp_bind *b)
{
    while (b->out_head && b->inflight < OCKAM__UDP_INFLIGHT) {
        if (!pump_one(b))
            break;
    }
    /* Without a request in flight nothing would call pump again: give up on the queue. */
    if (b->inflight == 0) {
        while (b->out_head) {
            b->stats.send_dropped++;
            pop_out(b);
        }
    }
}

static ockam_err
enqueue(ockam_udp_bind *b, const uint8_t *body, size_t total, size_t off, uint16_t number,
    const union ockam__udp_sa *dst)
{
    size_t rest = total - off;
    if (b->out_bytes + rest > b->t->cfg.max_send_queue)
        return OCKAM_EBUSY;
    struct ockam__udp_out *o = ockam__alloc(sizeof *o + rest);
    if (!o)
        return OCKAM_ENOMEM;
    o->next = NULL;
    o->dst = *dst;
    o->number = number;
    o->total = total;
    o->base = off;
    o->off = off;
    o->len = rest;
    memcpy(o->body, body + off, rest);
    if (b->out_tail)
        b->out_tail->next = o;
    else
        b->out_head = o;
    b->out_tail = o;
    b->out_bytes += rest;
    pump(b);
    return OCKAM_OK;
}

/* Send fragments straight to the socket until it would block; *off = bytes sent. */
static ockam_err
send_direct(ockam_udp_bind *b, const uint8_t *body, size_t total, uint16_t number,
    const union ockam__udp_sa *dst, size_t *off)
{
    uint8_t dgram[OCKAM_UDP_MAX_DATAGRAM];
    *off = 0;
    while (*off < total) {
        size_t n;
        size_t w = fragment(number, body + *off, total, *off, dgram, &n);
        uv_buf_t buf = uv_buf_init((char *)dgram, (unsigned)w);
        int rc = uv_udp_try_send(&b->io, &buf, 1, &dst->sa);
        if (ockam__udp_pending_error(rc)) {
            b->errq_pending = true;
            rc = uv_udp_try_send(&b->io, &buf, 1, &dst->sa);
        }
        if (rc == UV_EAGAIN)
            return OCKAM_OK;
        if (rc < 0)
            return ockam__err_from_uv(rc);
        b->stats.datagrams_out++;
        *off += n;
    }
    return OCKAM_OK;
}

/* ---- sending ----------------------------------------------------------------------- */

/* body[0..total) under `number` to dst (plain form): straight to the socket while it takes
 * datagrams, then through the queue. */
static ockam_err
send_bytes(ockam_udp_bind *b, const uint8_t *body, size_t total, uint16_t number,
    const union ockam__udp_sa *dst)
{
    union ockam__udp_sa wire;
    size_t off = 0;
    ockam_err err = OCKAM_OK;

    if (!ockam__udp_to_wire(b, dst, &wire))
        return OCKAM_EADDRINVAL;
    if (!b->out_head && b->inflight == 0)
        err = send_direct(b, body, total, number, &wire, &off);
    if (!err && off == total)
        b->stats.messages_out++;
    else if (!err)
        err = enqueue(b, body, total, off, number, &wire);
    return err;
}

ockam_err
ockam__udp_send_encoded(ockam_udp_bind *b, const uint8_t *body, size_t total, uint16_t number,
    const union ockam__udp_sa *dst)
{
    if (b->closing)
        return ockam__udp_send_drop(b, NULL, OCKAM_ECLOSED, "bind closed");
    ockam_err err = send_bytes(b, body, total, number, dst);
    if (err)
        return ockam__udp_send_drop(b, NULL, err, "socket error or send queue full");
    return OCKAM_OK;
}

ockam_err
ockam__udp_send(
    ockam_udp_bind *b, ockam_msg *msg, const union ockam__udp_sa *dst, struct ockam__udp_name *keep)
{
    struct ockam__udp *t = b->t;
    size_t total = 0;

    if (b->closing)
        return ockam__udp_send_drop(b, msg, OCKAM_ECLOSED, "bind closed");
    ockam_err err = encode(t, msg, &total);
    if (err)
        return ockam__udp_send_drop(b, msg, err, "cannot encode");
    ockam_msg_free(msg);
    /* Numbers are taken per message, whether or not it gets out. */
    uint16_t number = b->next_number++;
    if (keep)
        ockam__udp_name_keep(keep, t->scratch, total, number);
    err = send_bytes(b, t->scratch, total, number, dst);
    scratch_trim(t);
    if (err)
        return ockam__udp_send_drop(b, NULL, err, "socket error or send queue full");
    return OCKAM_OK;
}

ockam_err
ockam__udp_send_to(ockam_udp_bind *b, ockam_msg *msg, const struct ockam__udp_dest *d)
{
    union ockam__udp_sa wire;
    if (!d->numeric)
        return ockam__udp_name_send_to(b, msg, d);
    if (!ockam__udp_to_wire(b, &d->sa, &wire))
        return ockam__udp_send_drop(
            b, msg, OCKAM_EADDRINVAL, "destination is of another address family than the bind");
    return ockam__udp_send(b, msg, &d->sa, NULL);
}

void
ockam__udp_send_close(ockam_udp_bind *b)
{
    while (b->out_head) {
        b->stats.send_dropped++;
        pop_out(b);
    }
}
