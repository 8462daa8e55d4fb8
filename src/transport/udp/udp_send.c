/* UDP sending: encode the routing message once, cut it into fragments of at most 493 bytes
 * (docs/wire.md §5.2), and hand the datagrams to the socket with uv_udp_try_send; nothing is
 * allocated while the socket takes them. When it would block, the rest of the message (and
 * every later message, to keep the order) waits in the bind's queue as encoded bytes, and ONE
 * datagram goes to libuv (uv_udp_send) to learn when the socket is writable again; its
 * callback sends the queue on with uv_udp_try_send.
 *
 * Why never more than one datagram in libuv: with ICMP errors reported (IP_RECVERR,
 * udp_name.c), a send may fail with the error of an EARLIER datagram that is pending on the
 * socket (Linux returns it from the next send or receive, and that send did not happen). Such
 * a datagram is sent again at once, in its place. With several datagrams in libuv, those after
 * it would already be out by the time its callback could send it again, and the receiver drops
 * a message whose fragments arrive out of order (§5.3). What this gives up is libuv's sendmmsg
 * batching, and only while the socket is full (tests/netns/udp_order.sh). The error queue is
 * read on the next receive callback. */
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

/* Sends after a pending error of another datagram before one is given up (each such failure
 * consumes one ICMP error, so this bounds a burst of them, not the normal case). */
#define PENDING_RETRIES 8

bool
ockam__udp_pending_error(int uv_err)
{
    return uv_err == UV_ECONNREFUSED || uv_err == UV_EHOSTUNREACH || uv_err == UV_ENETUNREACH
        || uv_err == UV_EHOSTDOWN || uv_err == UV_ENONET;
}

/* uv_udp_try_send of one datagram, sent again while it fails with another's pending error.
 * libuv's result: bytes sent, UV_EAGAIN, or an error. */
static int
try_send(ockam_udp_bind *b, const uint8_t *dgram, size_t len, const union ockam__udp_sa *dst)
{
    uv_buf_t buf = uv_buf_init((char *)dgram, (unsigned)len);
    int rc = uv_udp_try_send(&b->io, &buf, 1, &dst->sa);
    for (int n = 0; ockam__udp_pending_error(rc) && n < PENDING_RETRIES; n++) {
        b->errq_pending = true;
        rc = uv_udp_try_send(&b->io, &buf, 1, &dst->sa);
    }
    return rc;
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

/* The head message's next fragment is out (to the socket or to libuv). */
static void
advance(ockam_udp_bind *b, size_t n)
{
    struct ockam__udp_out *o = b->out_head;
    b->stats.datagrams_out++;
    o->off += n;
    if (o->off == o->total) {
        b->stats.messages_out++;
        pop_out(b);
    }
}

static void
drop_head(ockam_udp_bind *b)
{
    b->stats.send_dropped++;
    pop_out(b);
}

static void pump(ockam_udp_bind *b);

static void
on_sent(uv_udp_send_t *req, int status)
{
    struct ockam__udp_req *r = req->data;
    ockam_udp_bind *b = r->bind;
    b->in_libuv = false;
    if (!b->closing && ockam__udp_pending_error(status) && r->retries < PENDING_RETRIES) {
        r->retries++;
        b->errq_pending = true;
        if (uv_udp_send(&r->req, &b->io, &r->buf, 1, &r->dst.sa, on_sent) == 0) {
            b->in_libuv = true;
            return;
        }
    }
    if (status < 0 && status != UV_ECANCELED) {
        ockam__udp_reasm_log(&b->reasm, NULL, OCKAM__UDP_LOG_OTHER, uv_now(b->io.loop),
            "datagram not sent: socket error");
        /* Its message cannot be reassembled: the rest of it is not sent either. */
        if (b->out_head && b->out_head->number == r->number && b->out_head->off > b->out_head->base)
            drop_head(b);
        else
            b->stats.send_dropped++;
    }
    if (!b->closing)
        pump(b);
}

/* The socket is full: hand the head message's next fragment to libuv, which sends it when the
 * socket is writable and then calls on_sent. */
static void
hand_to_libuv(ockam_udp_bind *b)
{
    struct ockam__udp_out *o = b->out_head;
    struct ockam__udp_req *r = b->req;
    if (!r && !(r = b->req = ockam__zalloc(sizeof *r))) {
        drop_head(b);
        return;
    }
    size_t n;
    size_t w = fragment(o->number, o->body + (o->off - o->base), o->total, o->off, r->dgram, &n);
    r->bind = b;
    r->buf = uv_buf_init((char *)r->dgram, (unsigned)w);
    r->req.data = r;
    r->dst = o->dst;
    r->number = o->number;
    r->retries = 0;
    if (uv_udp_send(&r->req, &b->io, &r->buf, 1, &o->dst.sa, on_sent) != 0) {
        drop_head(b);
        return;
    }
    b->in_libuv = true;
    advance(b, n);
}

/* Send the queue until it is empty or the socket is full. */
static void
pump(ockam_udp_bind *b)
{
    uint8_t dgram[OCKAM_UDP_MAX_DATAGRAM];
    while (b->out_head && !b->in_libuv) {
        struct ockam__udp_out *o = b->out_head;
        size_t n;
        size_t w = fragment(o->number, o->body + (o->off - o->base), o->total, o->off, dgram, &n);
        int rc = try_send(b, dgram, w, &o->dst);
        if (rc == UV_EAGAIN)
            hand_to_libuv(b);
        else if (rc < 0)
            drop_head(b);
        else
            advance(b, n);
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
        int rc = try_send(b, dgram, w, dst);
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
    if (!b->out_head && !b->in_libuv)
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
