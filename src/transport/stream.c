/* Stream connections over uv_stream_t, shared by TCP and UDS (docs/wire.md §4, §6.2). Listeners
 * are in stream_listen.c, the connection maps in stream_map.c.
 *
 * Per connection: a sender worker at a random local address (sending to it = writing on the
 * connection), an incremental framer over a growable read buffer, two output buffers (one
 * being filled while the other is written), and a timer (handshake timeout, then the close
 * linger). The transport state keeps the lists and maps that tie connections together:
 * flow id -> connection for backpressure, peer text -> connection for lazy connects. */
#include "transport/stream.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#define RBUF_SMALL (64u * 1024u)       /* first read buffer; reads are at least RBUF_MIN_TAIL */
#define RBUF_BIG OCKAM__CHUNK_STD      /* once reads fill their buffer: fewer, larger reads */
#define RBUF_MIN_TAIL (16u * 1024u)    /* free space handed to each read */
#define RBUF_KEEP RBUF_BIG             /* above this, shrink once the big frame is consumed */
#define READ_BUDGET_MAX (256u * 1024u) /* bytes routed per connection per turn, at most */
#define OBUF_MIN 512u
#define OBUF_KEEP (256u * 1024u) /* output buffers above this are freed once written */
#define OBUF_MAX ((size_t)INT32_MAX)
#define DEFAULT_HIGH_WATER (4u * 1024u * 1024u) /* write_high_water 0 */
#define CLOSE_LINGER_MS 10000u                  /* ockam_conn_close: longest wait for the flush */
#define FRAMES_PER_TURN 128u       /* frames routed per connection per loop turn, at most */
#define IN_PLACE_MIN (16u * 1024u) /* payloads written from the message's buffer, no copy */
#define OSEG_MAX 32u               /* such payloads per output buffer */

static void conn_teardown(ockam_conn *c, ockam_err reason, const char *why);
static void conn_update_reading(ockam_conn *c);
static void schedule_flush(ockam_conn *c);
static void schedule_resume(ockam_conn *c);
static void process_frames(ockam_conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_timer(uv_timer_t *t);

static uint64_t
hash_text(const char *s)
{
    return ockam__hash_bytes(s, strlen(s));
}

/* ---- helpers -------------------------------------------------------------------------- */

static uv_loop_t *
st_loop(const struct ockam__stream *st)
{
    return ockam__node_loop(st->node);
}

static const char *
conn_dir(const ockam_conn *c)
{
    return c->outgoing ? "to" : "from";
}

static const char *
conn_peer_text(const ockam_conn *c)
{
    return c->peer ? c->peer : "?";
}

static size_t
obuf_total(const struct ockam__obuf *b)
{
    return b->len + b->seg_bytes;
}

/* What is written or about to be: the output buffers, and the messages sent to the sender
 * worker that it has not been given yet (many portal connections can each send a read's
 * worth in one loop turn before the sender runs; counting only the buffers let them all
 * pass the mark together). */
static size_t
conn_queued(const ockam_conn *c)
{
    size_t mbox = c->sender ? ockam__worker_queued_bytes(c->sender) : 0;
    return (obuf_total(&c->out[0]) - c->out[0].off) + (obuf_total(&c->out[1]) - c->out[1].off)
        + mbox;
}

static ockam_conn *
find_by_flow(struct ockam__stream *st, ockam_flow_id id)
{
    uint64_t h = ockam__hash_u64(id);
    for (struct ockam__hent *e = ockam__cmap_chain(&st->by_flow, h); e; e = e->next) {
        if (e->hash == h && e->conn->flow.id == id)
            return e->conn;
    }
    return NULL;
}

/* The producer may be a connection of any stream transport on the node (TCP feeding UDS). */
static ockam_conn *
conn_by_flow(ockam_node *node, ockam_flow_id id)
{
    for (size_t i = 0; i < OCKAM__STREAM_KINDS; i++) {
        struct ockam__stream *st = ockam__stream_nth(node, i);
        ockam_conn *c = st ? find_by_flow(st, id) : NULL;
        if (c)
            return c;
    }
    return NULL;
}

struct ockam__stream *
ockam__stream_nth(ockam_node *node, size_t i)
{
    static const uint8_t types[OCKAM__STREAM_KINDS] = {OCKAM_TRANSPORT_TCP, OCKAM_TRANSPORT_UDS};
    return i < OCKAM__STREAM_KINDS ? ockam__transport_get(node, types[i]) : NULL;
}

/* ---- lifetime ------------------------------------------------------------------------- */

static void obuf_free_segs(struct ockam__obuf *b);

static void
conn_free(ockam_conn *c)
{
    ockam__chunk_unref(c->rchunk);
    for (int i = 0; i < 2; i++) {
        obuf_free_segs(&c->out[i]);
        ockam__free(c->out[i].segs);
        ockam__free(c->out[i].p);
    }
    ockam__free(c->paused);
    ockam__free(c->watchers);
    ockam__free(c->drains);
    ockam__policy_flow_fini(&c->flow);
    ockam__free(c->peer);
    ockam__free(c->canon);
    if (c->ai_list)
        uv_freeaddrinfo(c->ai_list);
    ockam__free(c);
}

void
ockam__conn_ref(ockam_conn *c)
{
    c->refs++;
}

void
ockam__conn_unref(ockam_conn *c)
{
    OCKAM_ASSERT(c->refs > 0);
    if (--c->refs == 0) {
        OCKAM_ASSERT(c->state == OCKAM__CONN_DEAD);
        conn_free(c);
    }
}

static void
io_closed(uv_handle_t *h)
{
    ockam_conn *c = h->data;
    ockam__free(h); /* the handle union was allocated on its own */
    ockam__conn_unref(c);
}

static void
timer_closed(uv_handle_t *h)
{
    ockam__conn_unref(h->data);
}

ockam_err
ockam__conn_renew_handle(ockam_conn *c)
{
    union ockam__handle *h = ockam__zalloc(sizeof *h);
    if (!h)
        return OCKAM_ENOMEM;
    int rc = c->st->kind->handle_init(st_loop(c->st), h);
    if (rc) {
        ockam__free(h);
        return ockam__err_from_uv(rc);
    }
    h->handle.data = c;
    c->refs++;
    uv_close(&c->io->handle, io_closed);
    c->io = h;
    return OCKAM_OK;
}

/* ---- close watchers ------------------------------------------------------------------- */

static void
notify_watchers(ockam_conn *c, ockam_err reason)
{
    /* Detach the list first: a watcher may add or remove watchers while it runs. */
    struct ockam__watcher *w = c->watchers;
    size_t n = c->nwatchers;
    c->watchers = NULL;
    c->nwatchers = c->capwatchers = 0;
    for (size_t i = 0; i < n; i++)
        w[i].cb(c, reason, w[i].user);
    ockam__free(w);
}

static void
report_connect(ockam_conn *c, ockam_err status)
{
    if (c->connect_reported)
        return;
    c->connect_reported = true;
    ockam_connect_cb cb = c->connect_cb;
    c->connect_cb = NULL;
    if (cb)
        cb(status == OCKAM_OK ? c : NULL, status, c->connect_user);
}

/* ---- backpressure --------------------------------------------------------------------- */

/* d's write queue is above its mark: stop reading from the connection that produced the
 * message (if it is one of ours), until d drains below half the mark. */
static void
pause_upstream(ockam_conn *d, ockam_flow_id id)
{
    if (id == 0)
        return;
    for (size_t i = 0; i < d->npaused; i++) {
        if (d->paused[i] == id)
            return;
    }
    ockam_conn *u = conn_by_flow(d->st->node, id);
    if (!u)
        return;
    if (ockam__array_reserve(d->paused, d->cappaused, d->npaused + 1, 4) != OCKAM_OK)
        return; /* cannot remember it: better not to stop it than to stop it forever */
    d->paused[d->npaused++] = id;
    u->pausers++;
    conn_update_reading(u);
}

static void
release_paused(ockam_conn *d)
{
    size_t n = d->npaused;
    d->npaused = 0;
    for (size_t i = 0; i < n; i++) {
        ockam_conn *u = conn_by_flow(d->st->node, d->paused[i]);
        if (u && u->pausers > 0 && --u->pausers == 0)
            schedule_resume(u);
    }
}

/* Keep the watchers still waiting; fire the others. The list is detached while they run so
 * that a callback may add watchers (they wait for the next drain) or remove some
 * (ockam_conn_off_drain clears entries of the detached list too). */
static void
notify_drain(ockam_conn *c)
{
    size_t queued = conn_queued(c);
    struct ockam__drain *list = c->drains;
    size_t n = c->ndrains;
    c->drains = NULL;
    c->ndrains = c->capdrains = 0;
    for (size_t i = 0; i < n; i++) {
        /* Keep the waiting ones; if that fails, fire early (callers re-check the level). */
        if (list[i].below < queued
            && ockam_conn_on_drain(c, list[i].below, list[i].cb, list[i].user) == OCKAM_OK)
            list[i].cb = NULL;
    }
    c->firing = list;
    c->nfiring = n;
    for (uint32_t i = 0; i < n && c->state != OCKAM__CONN_DEAD; i++) {
        ockam_conn_drain_cb cb = list[i].cb;
        list[i].cb = NULL;
        if (cb)
            cb(c, list[i].user);
    }
    c->firing = NULL;
    c->nfiring = 0;
    ockam__free(list);
}

static void
after_drain(ockam_conn *c)
{
    if (c->npaused && conn_queued(c) <= c->st->write_high_water / 2)
        release_paused(c);
    if (c->ndrains && c->state != OCKAM__CONN_DEAD)
        notify_drain(c);
}

/* ---- teardown ------------------------------------------------------------------------- */

static void
conn_unlink(ockam_conn *c)
{
    struct ockam__stream *st = c->st;
    ockam__link_del(&c->all);
    if (c->in_flush)
        ockam__link_del(&c->flush_link);
    if (c->in_resume)
        ockam__link_del(&c->resume_link);
    c->in_flush = c->in_resume = false;
    ockam__cmap_del(&st->by_flow, ockam__hash_u64(c->flow.id), c);
    if (c->outgoing)
        ockam__cmap_del(&st->by_peer, c->peer_hash, c);
    if (c->outgoing && c->canon && strcmp(c->canon, c->peer) != 0)
        ockam__cmap_del(&st->by_peer, c->canon_hash, c);
    if (st->recent == c)
        st->recent = NULL;
}

static void
conn_stop_sender(ockam_conn *c)
{
    ockam_worker *w = c->sender;
    c->sender = NULL; /* before stopping: its on_stop must see that we did it */
    if (w)
        ockam_worker_stop(w);
}

static void
log_close(const ockam_conn *c, ockam_err reason, const char *why, uint64_t dropped)
{
    char tail[64] = "";
    if (dropped)
        snprintf(tail, sizeof tail, "; %llu queued messages dropped", (unsigned long long)dropped);
    bool error = reason != OCKAM_OK && reason != OCKAM_ECLOSED;
    /* A failed connect whose caller gets the error (connect callback) is the caller's to
     * report: a supervised retry loop must not add a warning per attempt. */
    bool told = c->outgoing && c->connect_cb && !c->connect_reported;
    ockam_log_level level = (why && error && !told) || dropped ? OCKAM_LOG_WARN
        : error || why                                         ? OCKAM_LOG_INFO
                                                               : OCKAM_LOG_DEBUG;
    const char *how = reason == OCKAM_OK ? "locally"
        : reason == OCKAM_ECLOSED        ? "by the peer"
                                         : ockam_strerror(reason);
    ockam__log(level, "%s: connection %s %s closed (%s)%s%s%s", c->st->kind->name, conn_dir(c),
        conn_peer_text(c), how, why ? ": " : "", why ? why : "", tail);
}

/* A closed connection whose FIN is on its way reads until the peer's EOF (bounded by the
 * close linger) before its socket closes. false if it cannot. */
static bool
drain_start(ockam_conn *c)
{
    c->reading = false;
    if (uv_read_start(&c->io->stream, on_alloc, on_read) != 0)
        return false;
    c->draining = true;
    ockam__link_push(&c->st->draining, &c->all);
    uint32_t linger = c->st->handshake_timeout_ms ? c->st->handshake_timeout_ms : CLOSE_LINGER_MS;
    uv_timer_start(&c->timer, on_timer, linger, 0);
    return true;
}

static void
drain_end(ockam_conn *c)
{
    if (!c->draining)
        return;
    c->draining = false;
    ockam__link_del(&c->all);
    uv_close(&c->io->handle, io_closed);
    uv_close((uv_handle_t *)&c->timer, timer_closed);
}

/* The one way a connection ends. Idempotent. The memory stays valid until the handles have
 * closed, so callers up the stack may still look at c (its state is DEAD). */
static void
conn_teardown(ockam_conn *c, ockam_err reason, const char *why)
{
    if (c->state == OCKAM__CONN_DEAD)
        return;
    c->state = OCKAM__CONN_DEAD;
    conn_unlink(c);
    conn_stop_sender(c);
    uint64_t dropped = (uint64_t)c->out[0].frames + c->out[1].frames;
    c->out[0].frames = c->out[1].frames = 0;
    c->stats.dropped += dropped;
    if (!c->quiet)
        log_close(c, reason, why, dropped);
    release_paused(c);
    ockam__policy_flow_fini(&c->flow); /* the senders it adopted stop consuming it */
    ockam__free(c->drains); /* drain watchers are not called on close (see ockam/stream.h) */
    c->drains = NULL;
    c->ndrains = c->capdrains = 0;
    if (c->resolving)
        uv_cancel((uv_req_t *)&c->gai);
    if (!c->shut || !drain_start(c)) {
        uv_close(&c->io->handle, io_closed);
        uv_close((uv_handle_t *)&c->timer, timer_closed);
    }
    if (c->quiet)
        return;
    if (c->outgoing)
        report_connect(c, reason == OCKAM_OK ? OCKAM_ECLOSED : reason);
    notify_watchers(c, reason);
}

/* A connection that never became visible to anyone: no log, no callbacks. */
static void
conn_discard(ockam_conn *c)
{
    c->quiet = true;
    conn_teardown(c, OCKAM_OK, NULL);
}

void
ockam__conn_fail(ockam_conn *c, ockam_err reason)
{
    conn_teardown(c, reason, "cannot connect");
}

/* ---- writing -------------------------------------------------------------------------- */

static bool
obuf_reserve(struct ockam__obuf *b, size_t extra)
{
    size_t need = b->len + extra;
    if (need <= b->cap)
        return true;
    if (need > OBUF_MAX)
        return false;
    size_t cap = b->cap ? b->cap : OBUF_MIN;
    while (cap < need)
        cap = cap > OBUF_MAX / 2 ? OBUF_MAX : cap * 2;
    /* A lone frame of several MiB gets exactly its size, not twice it. */
    if (b->len == 0 && need > 4 * OBUF_KEEP)
        cap = need;
    uint8_t *p = ockam__realloc(b->p, cap);
    if (!p)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

static void
obuf_free_segs(struct ockam__obuf *b)
{
    for (uint32_t i = 0; i < b->nsegs; i++) {
        if (b->segs[i].chunk)
            ockam__chunk_unref(b->segs[i].chunk);
        else
            ockam__msg_recycle_payload(b->segs[i].data, b->segs[i].cap);
    }
    b->nsegs = 0;
    b->seg_bytes = 0;
}

/* The unwritten bytes of b from `skip` on, as at most 2 * OSEG_MAX + 1 buffers. */
static unsigned
obuf_bufs(const struct ockam__obuf *b, size_t skip, uv_buf_t *bufs)
{
    unsigned n = 0;
    size_t pos = 0;
    for (uint32_t i = 0; i <= b->nsegs; i++) {
        const uint8_t *piece[2] = {b->p + pos, i < b->nsegs ? b->segs[i].data : NULL};
        size_t end = i < b->nsegs ? b->segs[i].at : b->len;
        size_t len[2] = {end - pos, i < b->nsegs ? b->segs[i].len : 0};
        for (int k = 0; k < 2; k++) {
            if (skip >= len[k]) {
                skip -= len[k];
                continue;
            }
            bufs[n++] = uv_buf_init((char *)piece[k] + skip, (unsigned)(len[k] - skip));
            skip = 0;
        }
        pos = end;
    }
    return n;
}

static void
obuf_done(struct ockam__obuf *b)
{
    obuf_free_segs(b);
    b->len = b->off = 0;
    b->frames = 0;
    if (b->cap > OBUF_KEEP) {
        ockam__free(b->p);
        b->p = NULL;
        b->cap = 0;
    }
}

static void
count_written(ockam_conn *c, struct ockam__obuf *b)
{
    c->stats.bytes_out += obuf_total(b); /* b->off of it went out earlier (uv_try_write) */
    c->stats.frames_out += b->frames;
    obuf_done(b);
}

static void on_write(uv_write_t *req, int status);

/* Write the buffer being filled: straight away if the socket takes it all, else hand it to
 * uv_write and let new frames collect in the other buffer (the next batch). */
static void
start_write(ockam_conn *c)
{
    struct ockam__obuf *b = &c->out[c->cur];
    size_t total = obuf_total(b);
    uv_buf_t bufs[2 * OSEG_MAX + 1];
    if (total == 0)
        return;
    unsigned nbufs = obuf_bufs(b, 0, bufs);
    c->write_calls++;
    int n = uv_try_write(&c->io->stream, bufs, nbufs);
    if (n < 0 && n != UV_EAGAIN) {
        conn_teardown(c, ockam__err_from_uv(n), "write failed");
        return;
    }
    if (n == (int)total) {
        count_written(c, b);
        after_drain(c);
        return;
    }
    b->off = n > 0 ? (size_t)n : 0;
    nbufs = obuf_bufs(b, b->off, bufs);
    int rc = uv_write(&c->wreq, &c->io->stream, bufs, nbufs, on_write);
    if (rc < 0) {
        conn_teardown(c, ockam__err_from_uv(rc), "write failed");
        return;
    }
    c->writing = true;
    c->cur ^= 1;
}

static void
on_close_shutdown(uv_shutdown_t *req, int status)
{
    ockam_conn *c = req->data;
    if (status < 0)
        drain_end(c); /* the peer is gone already: nothing to wait for */
    ockam__conn_unref(c);
}

/* Everything is written: FIN, then the teardown (see `draining` in stream.h). */
static void
maybe_finish_close(ockam_conn *c)
{
    if (c->state != OCKAM__CONN_CLOSING || c->writing || conn_queued(c) != 0)
        return;
    c->sreq.data = c;
    if (!c->peer_closed && uv_shutdown(&c->sreq, &c->io->stream, on_close_shutdown) == 0) {
        c->shut = true;
        ockam__conn_ref(c);
    }
    conn_teardown(c, OCKAM_OK, NULL);
}

static void
on_write(uv_write_t *req, int status)
{
    ockam_conn *c = req->data;
    c->writing = false;
    if (c->state == OCKAM__CONN_DEAD)
        return; /* frames were counted as dropped at teardown */
    if (status < 0) {
        conn_teardown(c, ockam__err_from_uv(status), "write failed");
        return;
    }
    count_written(c, &c->out[c->cur ^ 1]);
    start_write(c);
    if (c->state == OCKAM__CONN_DEAD)
        return;
    after_drain(c);
    maybe_finish_close(c);
}

static void
conn_flush(ockam_conn *c)
{
    if (c->state == OCKAM__CONN_DEAD)
        return;
    if (c->state == OCKAM__CONN_CONNECTING) {
        if (c->close_requested)
            conn_teardown(c, OCKAM_OK, "closed before connecting");
        return;
    }
    if (!c->writing)
        start_write(c);
    if (c->state != OCKAM__CONN_DEAD)
        maybe_finish_close(c);
}

static void
on_prepare(uv_prepare_t *h)
{
    struct ockam__stream *st = h->data;
    /* Runs once per loop turn, after the node delivered this turn's messages: every frame
     * queued during the turn goes out in one write per connection. */
    while (!ockam__link_empty(&st->flush_q)) {
        ockam_conn *c = OCKAM__CONTAINER_OF(st->flush_q.next, ockam_conn, flush_link);
        ockam__link_del(&c->flush_link);
        c->in_flush = false;
        conn_flush(c);
    }
    uv_prepare_stop(h);
}

static void
schedule_flush(ockam_conn *c)
{
    struct ockam__stream *st = c->st;
    if (c->in_flush || c->state == OCKAM__CONN_DEAD)
        return;
    c->in_flush = true;
    ockam__link_push(&st->flush_q, &c->flush_link);
    if (!uv_is_active((uv_handle_t *)&st->flusher))
        uv_prepare_start(&st->flusher, on_prepare);
}

/* A big payload without tracing goes out from the message's own buffer, which the connection
 * takes over (one copy fewer per frame; the head is encoded into p as usual). A payload the
 * message borrowed from a read buffer (a relay forwarding what it received) goes out from
 * there: the segment holds the chunk reference until the write completes. */
static ockam_err
encode_frame_in_place(ockam_conn *c, ockam_msg *msg)
{
    struct ockam__obuf *b = &c->out[c->cur];
    size_t need = ockam__frame_msg_size(c->profile, msg);
    if (need > ockam__frame_header_len(c->profile) + OCKAM_MAX_FRAME_CURRENT)
        return OCKAM_EMSGSIZE;
    if (obuf_total(b) + need > OBUF_MAX)
        return OCKAM_EBUSY;
    if (b->nsegs == b->capsegs) {
        uint32_t cap = b->capsegs ? 2 * b->capsegs : 4;
        struct ockam__oseg *segs = ockam__realloc(b->segs, cap * sizeof *segs);
        if (!segs)
            return OCKAM_ENOMEM;
        b->segs = segs;
        b->capsegs = cap;
    }
    if (!obuf_reserve(b, need - msg->payload_len))
        return OCKAM_ENOMEM;
    size_t written = 0;
    ockam_err err = ockam__frame_encode_head(msg, b->p + b->len, b->cap - b->len, &written);
    if (err)
        return err;
    b->len += written;
    struct ockam__oseg *seg = &b->segs[b->nsegs++];
    seg->at = b->len;
    seg->len = msg->payload_len;
    seg->data = ockam__msg_take_payload(msg, &seg->cap, &seg->chunk);
    b->seg_bytes += seg->len;
    b->frames++;
    return OCKAM_OK;
}

/* A CURRENT frame into the output buffer. Usually it fits in the room left: encode straight
 * away (the encoder sizes it anyway), and grow the buffer only when told the size. */
static ockam_err
encode_parts(ockam_conn *c, const ockam__msg_parts *m)
{
    struct ockam__obuf *b = &c->out[c->cur];
    size_t hl = ockam__frame_header_len(OCKAM_WIRE_CURRENT), written = 0;
    ockam_err err = OCKAM_EMSGSIZE;
    if (b->cap - b->len > hl)
        err = ockam__frame_encode_parts(m, b->p + b->len, b->cap - b->len, &written);
    if (err == OCKAM_EMSGSIZE) {
        size_t need = hl + ockam__cbor_parts_size(m);
        if (need > hl + OCKAM_MAX_FRAME_CURRENT)
            return OCKAM_EMSGSIZE;
        if (!obuf_reserve(b, need))
            return b->len + need > OBUF_MAX ? OCKAM_EBUSY : OCKAM_ENOMEM;
        err = ockam__frame_encode_parts(m, b->p + b->len, b->cap - b->len, &written);
    }
    if (err)
        return err;
    b->len += written;
    b->frames++;
    return OCKAM_OK;
}

static ockam_err
encode_frame(ockam_conn *c, ockam_msg *msg)
{
    struct ockam__obuf *b = &c->out[c->cur];
    if (c->profile == OCKAM_WIRE_CURRENT) {
        if (msg->payload_len >= IN_PLACE_MIN && !msg->tracing && b->nsegs < OSEG_MAX)
            return encode_frame_in_place(c, msg);
        ockam__msg_parts m = ockam__msg_parts_of(msg);
        return encode_parts(c, &m);
    }
    size_t written = 0;
    ockam_err err = OCKAM_EMSGSIZE;
    if (b->cap - b->len > ockam__frame_header_len(c->profile))
        err = ockam__frame_encode_msg(c->profile, msg, b->p + b->len, b->cap - b->len, &written);
    if (err == OCKAM_EMSGSIZE) {
        size_t need = ockam__frame_msg_size(c->profile, msg);
        if (need > ockam__frame_header_len(c->profile) + OCKAM_MAX_FRAME_LEGACY)
            return OCKAM_EMSGSIZE;
        if (!obuf_reserve(b, need))
            return b->len + need > OBUF_MAX ? OCKAM_EBUSY : OCKAM_ENOMEM;
        err = ockam__frame_encode_msg(c->profile, msg, b->p + b->len, b->cap - b->len, &written);
    }
    if (err)
        return err;
    b->len += written;
    b->frames++;
    return OCKAM_OK;
}

static void
refused(ockam_conn *c, ockam_err err)
{
    c->stats.refused++;
    OCKAM_LOG_W("%s: message refused by the connection %s %s: %s (%s profile)", c->st->kind->name,
        conn_dir(c), conn_peer_text(c), ockam_strerror(err), ockam_wire_profile_name(c->profile));
}

/* Queue a message (its onward route already starts at the remote node). Consumes msg. A
 * message the profile cannot carry is refused and the connection kept (unlike Rust, which
 * closes it): one bad send must not cut every other user of a shared connection. */
static ockam_err
conn_send(ockam_conn *c, ockam_msg *msg)
{
    if (c->state == OCKAM__CONN_DEAD || c->state == OCKAM__CONN_CLOSING) {
        c->stats.dropped++;
        ockam_msg_free(msg);
        return OCKAM_ECLOSED;
    }
    ockam__policy_adopt_msg(&c->flow, msg);
    ockam_err err = encode_frame(c, msg);
    if (err) {
        refused(c, err);
        ockam_msg_free(msg);
        return err;
    }
    ockam_flow_id upstream = msg->origin.producer;
    ockam_msg_free(msg);
    schedule_flush(c);
    if (conn_queued(c) > c->st->write_high_water)
        pause_upstream(c, upstream);
    return OCKAM_OK;
}

/* ---- the sender worker ---------------------------------------------------------------- */

static void begin_closing(ockam_conn *c);

static void
sender_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_conn *c = user;
    if (msg == c->close_marker) {
        c->close_marker = NULL;
        ockam_msg_free(msg);
        begin_closing(c);
        return;
    }
    /* The router delivered it here because our address is its first hop (§4.4). */
    ockam_route_pop_front(&msg->onward);
    (void)conn_send(c, msg);
}

static void
sender_on_stop(ockam_worker *w, void *user)
{
    ockam_conn *c = user;
    if (c->sender != w)
        return; /* we stopped it ourselves */
    /* Someone else stopped the worker (node teardown, ockam_worker_stop_at): without its
     * address the connection cannot be used, so it ends too. */
    c->sender = NULL;
    conn_teardown(c, OCKAM_OK, NULL);
}

static ockam_err
conn_start_sender(ockam_conn *c)
{
    ockam_worker_opts opts
        = {.on_message = sender_on_message, .on_stop = sender_on_stop, .user = c};
    ockam_err err = ockam_worker_start(c->st->node, NULL, &opts, &c->sender);
    if (err)
        return err;
    ockam_addr a = ockam_worker_addr(c->sender);
    OCKAM_ASSERT(a.len == OCKAM_RANDOM_ADDR_LEN);
    memcpy(c->addr, a.bytes, a.len);
    c->addr[a.len] = '\0';
    return ockam__policy_open_sender(c->st->node, c->addr);
}

/* ---- reading -------------------------------------------------------------------------- */

/* The read buffer is a chunk (core/core.h): frames are decoded where they were read, and
 * payloads of at least IN_PLACE_MIN bytes borrow from the chunk instead of being copied out.
 * Bytes that messages may still borrow are never moved or overwritten: while the chunk is
 * shared the connection only appends after rlen, and when it needs the room it goes on in a
 * fresh chunk with the unprocessed bytes (a partial frame) copied over. */

static size_t
rbuf_cap(const ockam_conn *c)
{
    return c->rchunk ? c->rchunk->cap : 0;
}

static bool
rbuf_shared(const ockam_conn *c)
{
    return c->rchunk && ockam__chunk_shared(c->rchunk);
}

/* Move the unprocessed bytes to the front of the buffer. Only when nobody borrows from it. */
static void
rbuf_compact(ockam_conn *c)
{
    size_t n = c->rlen - c->roff;
    OCKAM_ASSERT(!rbuf_shared(c));
    if (c->roff == 0)
        return;
    if (n)
        memmove(c->rchunk->data, c->rchunk->data + c->roff, n);
    c->rlen = n;
    c->roff = 0;
}

/* Go on in a fresh chunk of at least cap bytes holding the unprocessed bytes; the old one
 * stays alive as long as messages borrow from it. */
static bool
rbuf_move(ockam_conn *c, size_t cap)
{
    size_t n = c->rlen - c->roff;
    struct ockam__chunk *ch = ockam__chunk_new(cap);
    if (!ch)
        return false;
    if (n)
        memcpy(ch->data, c->rchunk->data + c->roff, n);
    ockam__chunk_unref(c->rchunk);
    c->rchunk = ch;
    c->rlen = n;
    c->roff = 0;
    return true;
}

/* Room for the next read: RBUF_MIN_TAIL bytes at least, and the frame being read (rneed
 * bytes from roff) must be able to complete in the buffer. */
static bool
rbuf_reserve(ockam_conn *c)
{
    size_t cap = rbuf_cap(c);
    size_t want = c->rlen + RBUF_MIN_TAIL;
    size_t frame_end = c->roff + c->rneed;
    /* Rather than grow: a budget stop or a partial frame left bytes mid-buffer. */
    bool compact = c->roff && (want > cap || frame_end > cap);
    if (compact) {
        want -= c->roff;
        frame_end -= c->roff;
    }
    if (frame_end > want) {
        /* A big frame grows the buffer with what has arrived (at most doubling it), so a
         * peer that announces 16 MiB and sends little costs little. */
        size_t doubled = 2 * cap > want ? 2 * cap : want;
        want = doubled < frame_end ? doubled : frame_end;
    }
    size_t base = c->rbig ? RBUF_BIG : RBUF_SMALL;
    if (want <= cap && !compact)
        return true;
    if (want <= cap && cap >= base && !rbuf_shared(c)) {
        rbuf_compact(c);
        return true;
    }
    return rbuf_move(c, want < base ? base : want);
}

/* Idle connections hold no read buffer (and start small again); one that just carried a big
 * frame gives it back. */
static void
rbuf_trim(ockam_conn *c)
{
    if (c->rlen == c->roff) {
        ockam__chunk_unref(c->rchunk); /* borrowers keep it as long as they need it */
        c->rchunk = NULL;
        c->rlen = c->roff = 0;
        c->rbig = false;
    } else if (rbuf_cap(c) > RBUF_KEEP && c->rlen - c->roff <= RBUF_BIG / 2
        && c->rneed <= RBUF_BIG / 2) {
        (void)rbuf_move(c, RBUF_BIG); /* on ENOMEM the big one simply stays */
    }
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    ockam_conn *c = h->data;
    if (c->draining) {
        /* Read into the free tail, which nothing borrows; it is never consumed. */
        if (!rbuf_reserve(c)) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        size_t tail = c->rchunk->cap - c->rlen;
        *buf = uv_buf_init(
            (char *)c->rchunk->data + c->rlen, (unsigned)(tail > UINT32_MAX ? UINT32_MAX : tail));
        return;
    }
    /* Over its budget for this turn: no buffer, so libuv ends this read (on_read gets
     * UV_ENOBUFS) while the socket stays watched -- cheaper than stopping and restarting
     * the watcher every turn. */
    if (c->budget_stop || c->in_resume || !rbuf_reserve(c)) {
        *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS to on_read */
        return;
    }
    size_t room = c->rchunk->cap - c->rlen;
    *buf = uv_buf_init(
        (char *)c->rchunk->data + c->rlen, (unsigned)(room > UINT32_MAX ? UINT32_MAX : room));
}

static void
bad_input(ockam_conn *c, ockam_err err)
{
    char why[96];
    snprintf(why, sizeof why, "bad input (%s)", ockam_err_name(err));
    conn_teardown(c, err, why);
}

static void
check_handshake(ockam_conn *c, size_t avail)
{
    if (c->handshaken)
        return;
    bool done = c->profile == OCKAM_WIRE_CURRENT ? !c->framer.need_preamble
                                                 : avail >= ockam__frame_header_len(c->profile);
    if (done) {
        c->handshaken = true;
        if (c->state == OCKAM__CONN_OPEN)
            uv_timer_stop(&c->timer);
    }
}

/* Inbound half of §4.4: decode, drop heartbeats, prepend our sender address to the return
 * route, record where it came from, and let the node route it. */
static void
deliver(ockam_conn *c, ockam_slice body)
{
    ockam_msg *m = ockam_msg_new();
    if (!m) {
        OCKAM_LOG_W(
            "%s: out of memory; frame from %s dropped", c->st->kind->name, conn_peer_text(c));
        return;
    }
    /* A borrowed payload keeps its whole chunk alive (in a relay's write queue, in a worker
     * that holds on to messages): only payloads of a quarter of the chunk or more borrow, so
     * the memory held is at most 4x the payload bytes that account for it. */
    size_t quarter = c->rchunk->cap / 4;
    ockam__borrow from
        = {.chunk = c->rchunk, .min = quarter > IN_PLACE_MIN ? quarter : IN_PLACE_MIN};
    ockam_err err = ockam__frame_decode_body_borrow(c->profile, body.ptr, body.len, m, &from);
    if (err) {
        ockam_msg_free(m);
        bad_input(c, err);
        return;
    }
    c->stats.frames_in++;
    if (ockam_route_len(&m->onward) == 0) {
        ockam_msg_free(m); /* heartbeat */
        return;
    }
    err = ockam_route_push_front(
        &m->ret, ockam_addr_of(OCKAM_TRANSPORT_LOCAL, c->addr, OCKAM_RANDOM_ADDR_LEN));
    if (err) {
        OCKAM_LOG_W("%s: message from %s dropped: %s", c->st->kind->name, conn_peer_text(c),
            ockam_strerror(err));
        ockam_msg_free(m);
        return;
    }
    m->origin = (ockam_origin) {.producer = c->flow.id, .spawner = c->spawner_id};
    ockam__node_route_incoming(c->st->node, m);
}

/* Each connection routes at most read_budget bytes per loop turn, then yields until the
 * next turn: the node gets to deliver them (and downstream connections to push back)
 * before this one reads more, which keeps a relay's memory near the high-water mark. */
static void
spend_budget(ockam_conn *c, size_t n)
{
    /* A frame costs at least 1/FRAMES_PER_TURN of the budget: with tiny frames a byte budget
     * alone would decode thousands of messages into mailboxes before the node delivers any,
     * and walking that many cold messages costs more than the extra loop turn. */
    size_t min_charge = c->st->read_budget / FRAMES_PER_TURN;
    if (n < min_charge)
        n = min_charge;
    if (c->budget_turn != c->st->turn) {
        c->budget_turn = c->st->turn;
        c->budget_used = 0;
    }
    c->budget_used += n;
    if (c->budget_used >= c->st->read_budget) {
        c->budget_stop = true;
        schedule_resume(c);
        conn_update_reading(c);
    }
}

static void
process_frames(ockam_conn *c)
{
    size_t off = c->roff;
    check_handshake(c, c->rlen - off);
    while (c->state == OCKAM__CONN_OPEN && c->pausers == 0 && !c->budget_stop) {
        size_t used = 0, need = 0;
        ockam_slice body;
        ockam_err err = ockam__framer_next(
            &c->framer, c->rchunk->data + off, c->rlen - off, &used, &body, &need);
        off += used;
        check_handshake(c, c->rlen - off);
        if (err == OCKAM_EAGAIN) {
            c->rneed = need;
            break;
        }
        if (err) {
            bad_input(c, err);
            return;
        }
        c->rneed = 0;
        deliver(c, body);
        spend_budget(c, used);
    }
    /* What is left stays where it is (moved only when the buffer needs the room). */
    c->roff = off;
    if (c->roff == c->rlen && !rbuf_shared(c))
        c->roff = c->rlen = 0; /* nothing left and nothing borrowed: start over at the front */
}

/* The peer closed. Frames read before that but left for the next turn's budget (or for a
 * pause to end) are routed first: libuv reports a hang-up without reading again, even while
 * on_alloc refuses buffers. The connection ends once they are through. */
static void
end_of_stream(ockam_conn *c)
{
    bool waiting = c->budget_stop || c->in_resume || c->pausers > 0;
    if (c->state == OCKAM__CONN_OPEN && waiting && c->rlen > c->roff) {
        c->peer_closed = true;
        conn_update_reading(c);
        return;
    }
    conn_teardown(
        c, OCKAM_ECLOSED, c->rlen > c->roff ? "peer closed in the middle of a frame" : NULL);
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    ockam_conn *c = s->data;
    if (c->draining) {
        if (nread < 0)
            drain_end(c); /* the peer's EOF (or it is gone): nothing is left unread */
        return;
    }
    if (nread > 0) {
        c->rlen += (size_t)nread;
        c->stats.bytes_in += (uint64_t)nread;
        if ((size_t)nread == buf->len)
            c->rbig = true; /* more is waiting: read it in big chunks */
        process_frames(c);
        /* A read that filled the buffer is followed by another one: keep the buffer (a
         * stream of big frames would otherwise free and allocate it for every frame). */
        if ((size_t)nread < buf->len)
            rbuf_trim(c);
        return;
    }
    if (nread == 0) {
        rbuf_trim(c); /* EAGAIN: the socket is drained for now */
        return;
    }
    if (nread == UV_ENOBUFS && (c->budget_stop || c->in_resume))
        return; /* read again once the budget is renewed (on_resume) */
    if (nread == UV_EOF) {
        end_of_stream(c);
        return;
    }
    conn_teardown(c, ockam__err_from_uv((int)nread), NULL);
}

static void
conn_update_reading(ockam_conn *c)
{
    if (c->draining)
        return;
    /* A budget stop keeps the socket watched (see on_alloc); pauses really stop reading. */
    bool want = c->state == OCKAM__CONN_OPEN && c->pausers == 0 && !c->peer_closed;
    if (want == c->reading)
        return;
    if (!want) {
        uv_read_stop(&c->io->stream);
        c->reading = false;
        return;
    }
    int rc = uv_read_start(&c->io->stream, on_alloc, on_read);
    if (rc) {
        conn_teardown(c, ockam__err_from_uv(rc), "cannot read");
        return;
    }
    c->reading = true;
}

static void
on_resume(uv_idle_t *h)
{
    struct ockam__stream *st = h->data;
    struct ockam__link q;
    ockam__link_take(&q, &st->resume_q); /* those queued while this runs wait for the next turn */
    while (!ockam__link_empty(&q)) {
        ockam_conn *c = OCKAM__CONTAINER_OF(q.next, ockam_conn, resume_link);
        ockam__link_del(&c->resume_link);
        c->in_resume = false;
        c->budget_stop = false;
        if (c->state == OCKAM__CONN_OPEN && c->pausers == 0 && c->rlen > c->roff)
            process_frames(c); /* frames read before the stop come first */
        if (c->peer_closed && c->state == OCKAM__CONN_OPEN && !c->budget_stop && c->pausers == 0)
            end_of_stream(c); /* everything it sent before closing is through */
        if (c->state != OCKAM__CONN_DEAD) {
            rbuf_trim(c);
            conn_update_reading(c);
        }
    }
    if (ockam__link_empty(&st->resume_q))
        uv_idle_stop(h);
}

/* Loop turns, counted after each poll phase: a connection's read budget is per turn. (The
 * loop clock would not do: libuv refreshes it after polling, so one turn can span two
 * clock readings.) Unreferenced, so it never keeps a loop alive. */
static void
on_turn(uv_check_t *h)
{
    ((struct ockam__stream *)h->data)->turn++;
}

static void
schedule_resume(ockam_conn *c)
{
    struct ockam__stream *st = c->st;
    if (c->in_resume || c->state == OCKAM__CONN_DEAD)
        return;
    c->in_resume = true;
    ockam__link_push(&st->resume_q, &c->resume_link);
    if (!uv_is_active((uv_handle_t *)&st->resumer))
        uv_idle_start(&st->resumer, on_resume);
}

/* ---- timer: handshake timeout, close linger ------------------------------------------- */

static void
on_timer(uv_timer_t *t)
{
    ockam_conn *c = t->data;
    char why[80];
    if (c->draining) {
        drain_end(c); /* the peer did not close in time: close anyway */
        return;
    }
    switch (c->state) {
    case OCKAM__CONN_CLOSING:
        conn_teardown(c, OCKAM_OK, "queued frames not flushed in time");
        return;
    case OCKAM__CONN_CONNECTING:
        snprintf(why, sizeof why, "not connected within %u ms", c->st->handshake_timeout_ms);
        break;
    default:
        if (c->handshaken)
            return;
        snprintf(why, sizeof why, "no handshake within %u ms", c->st->handshake_timeout_ms);
        break;
    }
    conn_teardown(c, OCKAM_ETIMEDOUT, why);
}

/* ---- creating connections ------------------------------------------------------------- */

static ockam_conn *
conn_alloc(struct ockam__stream *st, ockam_wire_profile profile, bool outgoing)
{
    ockam_conn *c = ockam__zalloc(sizeof *c);
    union ockam__handle *h = ockam__zalloc(sizeof *h);
    if (!c || !h || st->kind->handle_init(st_loop(st), h) != 0) {
        ockam__free(c);
        ockam__free(h);
        return NULL;
    }
    c->st = st;
    c->io = h;
    h->handle.data = c;
    uv_timer_init(st_loop(st), &c->timer);
    c->timer.data = c;
    c->refs = 2;
    c->wreq.data = c;
    c->creq.data = c;
    c->gai.data = c;
    ockam__link_init(&c->all);
    ockam__link_init(&c->flush_link);
    ockam__link_init(&c->resume_link);
    ockam__link_push(&st->conns, &c->all);
    c->state = OCKAM__CONN_CONNECTING;
    c->outgoing = outgoing;
    c->profile = profile;
    ockam__framer_init(&c->framer, profile);
    ockam__policy_flow_init(&c->flow, st->node, 0);
    return c;
}

/* Everything after the handles exist and can fail: the sender worker, the maps, the
 * preamble (CURRENT writes 0x01 at once, without waiting for the peer's) and the timer. */
static ockam_err
conn_setup(ockam_conn *c)
{
    struct ockam__stream *st = c->st;
    ockam_err err = conn_start_sender(c);
    if (!err)
        err = ockam__cmap_put(&st->by_flow, ockam__hash_u64(c->flow.id), c);
    if (!err && c->outgoing)
        err = ockam__cmap_put(&st->by_peer, c->peer_hash, c);
    if (err)
        return err;
    if (c->profile == OCKAM_WIRE_CURRENT) {
        if (!obuf_reserve(&c->out[c->cur], 1))
            return OCKAM_ENOMEM;
        c->out[c->cur].p[c->out[c->cur].len++] = OCKAM_WIRE_VERSION;
    }
    if (st->handshake_timeout_ms)
        uv_timer_start(&c->timer, on_timer, st->handshake_timeout_ms, 0);
    return OCKAM_OK;
}

/* Record the endpoint an outgoing connection goes to (see `canon` in stream.h). */
static ockam_err
set_canon(ockam_conn *c, const char *canon)
{
    c->canon = ockam__strdup(canon);
    if (!c->canon)
        return OCKAM_ENOMEM;
    c->canon_hash = hash_text(canon);
    if (strcmp(canon, c->peer) == 0)
        return OCKAM_OK;
    ockam_err err = ockam__cmap_put(&c->st->by_peer, c->canon_hash, c);
    if (err) {
        ockam__free(c->canon);
        c->canon = NULL;
    }
    return err;
}

ockam_conn *
ockam__conn_new_outgoing(
    struct ockam__stream *st, const char *peer, ockam_wire_profile profile, ockam_err *err)
{
    ockam_conn *c = conn_alloc(st, profile, true);
    if (!c) {
        *err = OCKAM_ENOMEM;
        return NULL;
    }
    c->peer = ockam__strdup(peer);
    *err = c->peer ? OCKAM_OK : OCKAM_ENOMEM;
    if (!*err) {
        c->peer_len = strlen(peer);
        c->peer_hash = hash_text(peer);
        *err = conn_setup(c);
    }
    char canon[2][OCKAM__ENDPOINT_MAX];
    if (!*err && st->kind->type == OCKAM_TRANSPORT_TCP
        && ockam__endpoint_canon(peer, c->peer_len, canon) == 1)
        *err = set_canon(c, canon[0]);
    if (*err) {
        conn_discard(c);
        return NULL;
    }
    return c;
}

static void
conn_open(ockam_conn *c)
{
    /* A name (or localhost) is known to be an endpoint once connected: file it there too. */
    if (c->outgoing && !c->canon && c->st->kind->type == OCKAM_TRANSPORT_TCP) {
        char *reached = c->st->kind->peer_name(c, NULL);
        if (reached && strcmp(reached, "unknown") != 0)
            (void)set_canon(c, reached); /* without it, only the same text finds it */
        ockam__free(reached);
    }
    c->state = OCKAM__CONN_OPEN;
    if (c->st->kind->tune)
        c->st->kind->tune(c);
    if (c->outgoing && c->profile == OCKAM_WIRE_LEGACY)
        c->handshaken = true; /* a LEGACY server speaks only when spoken to */
    if (c->handshaken)
        uv_timer_stop(&c->timer);
    conn_update_reading(c);
    schedule_flush(c);
}

void
ockam__conn_connected(ockam_conn *c, int status)
{
    if (c->state == OCKAM__CONN_DEAD)
        return;
    if (status < 0) {
        conn_teardown(c, ockam__err_from_uv(status), "cannot connect");
        return;
    }
    if (c->close_requested) {
        conn_teardown(c, OCKAM_OK, "closed before connecting");
        return;
    }
    conn_open(c);
    if (c->state != OCKAM__CONN_DEAD)
        report_connect(c, OCKAM_OK);
}

ockam_err
ockam__stream_connect(struct ockam__stream *st, const char *peer, ockam_wire_profile profile,
    ockam_connect_cb cb, void *user, ockam_conn **out)
{
    if (st->shutting_down || ockam__node_closing(st->node))
        return OCKAM_ECLOSED;
    if (profile != OCKAM_WIRE_CURRENT && profile != OCKAM_WIRE_LEGACY)
        return OCKAM_EINVAL;
    ockam_err err = st->kind->check_peer(peer);
    if (err)
        return err;
    ockam_conn *c = ockam__conn_new_outgoing(st, peer, profile, &err);
    if (!c)
        return err;
    err = st->kind->connect(c);
    if (err) {
        conn_discard(c);
        return err;
    }
    c->connect_cb = cb;
    c->connect_user = user;
    if (out)
        *out = c;
    return OCKAM_OK;
}

/* ---- accepting (the listener is in stream_listen.c) ----------------------------------- */

bool
ockam__conn_accept(ockam_listener *l)
{
    struct ockam__stream *st = l->st;
    ockam_conn *c = st->shutting_down ? NULL : conn_alloc(st, l->profile, false);
    if (!c)
        return false;
    c->spawner_id = l->flow_id;
    ockam_err err = uv_accept(&l->io.stream, &c->io->stream) ? OCKAM_ECLOSED : OCKAM_OK;
    if (!err)
        c->peer = st->kind->peer_name(c, l);
    if (!err && !c->peer)
        err = OCKAM_ENOMEM;
    if (!err)
        c->peer_len = strlen(c->peer);
    if (!err)
        err = conn_setup(c);
    if (err) {
        OCKAM_LOG_W(
            "%s: connection on %s dropped: %s", st->kind->name, l->address, ockam_strerror(err));
        conn_discard(c);
        return true;
    }
    conn_open(c);
    return true;
}

/* ---- connections without a listener (fuzzing) ------------------------------------------ */

/* The whole-node fuzz targets (fuzz/fuzz_node.c) drive real connections without a listening
 * socket: an fd the caller made (one end of a socketpair) becomes an incoming connection exactly
 * as if a listener had accepted it, and the caller hands it bytes through
 * ockam__conn_feed -- the steps libuv takes for a readable socket (on_alloc, then on_read),
 * without the syscalls. Nothing here is on the path of real connections. */
static ockam_err
adopt_refused(uv_file fd, ockam_err err)
{
    close(fd);
    return err;
}

ockam_err
ockam__conn_adopt(struct ockam__stream *st, uv_file fd, const char *peer,
    ockam_wire_profile profile, ockam_flow_id spawner, ockam_conn **out)
{
    ockam_conn *c = NULL;
    if (st->kind->type != OCKAM_TRANSPORT_UDS)
        return adopt_refused(fd, OCKAM_ENOTSUP); /* a pipe handle: only UDS makes those */
    if (st->shutting_down || ockam__node_closing(st->node))
        return adopt_refused(fd, OCKAM_ECLOSED);
    if (!(c = conn_alloc(st, profile, false)))
        return adopt_refused(fd, OCKAM_ENOMEM);
    c->spawner_id = spawner;
    if (uv_pipe_open(&c->io->pipe, fd)) {
        conn_discard(c);
        return adopt_refused(fd, OCKAM_EINVAL);
    }
    c->peer = ockam__strdup(peer); /* from here on the handle owns fd */
    ockam_err err = c->peer ? OCKAM_OK : OCKAM_ENOMEM;
    if (!err) {
        c->peer_len = strlen(c->peer);
        err = conn_setup(c);
    }
    if (err) {
        conn_discard(c);
        return err;
    }
    conn_open(c);
    if (c->state == OCKAM__CONN_DEAD)
        return OCKAM_ECLOSED;
    *out = c;
    return OCKAM_OK;
}

size_t
ockam__conn_feed(ockam_conn *c, const void *data, size_t len)
{
    size_t done = 0;
    while (done < len && c->state == OCKAM__CONN_OPEN && c->reading) {
        uv_buf_t buf;
        on_alloc(&c->io->handle, 64u * 1024u, &buf);
        if (buf.len == 0) {
            on_read(&c->io->stream, UV_ENOBUFS, &buf);
            break; /* over this turn's budget: the rest waits for a loop turn */
        }
        size_t n = len - done < buf.len ? len - done : buf.len;
        memcpy(buf.base, (const uint8_t *)data + done, n);
        done += n;
        on_read(&c->io->stream, (ssize_t)n, &buf);
    }
    return done;
}

void
ockam__conn_feed_eof(ockam_conn *c)
{
    if (c->state != OCKAM__CONN_OPEN || !c->reading)
        return; /* a paused connection sees the end of stream when it reads again */
    uv_buf_t buf = uv_buf_init(NULL, 0);
    on_read(&c->io->stream, UV_EOF, &buf);
}

/* ---- lazy connects (§4.5) ------------------------------------------------------------- */

static bool
reusable_for(const struct ockam__stream *st, const ockam_conn *c, const uint8_t *peer, size_t len)
{
    return c->profile == st->default_profile && !c->close_requested && c->state <= OCKAM__CONN_OPEN
        && ockam__bytes_eq(c->peer, c->peer_len, ockam_addr_of(0, peer, len));
}

/* A TCP connection is reused for any spelling of the endpoint it goes to (the rule is
 * ockam__endpoint_canon's: address literals in normal form, localhost for both loopback
 * addresses, other names as written until connected): "localhost:4000" and
 * "127.0.0.1:4000" share one connection. */
static ockam_conn *
find_by_endpoint(struct ockam__stream *st, const uint8_t *peer, size_t len)
{
    char canon[2][OCKAM__ENDPOINT_MAX];
    size_t n = st->kind->type == OCKAM_TRANSPORT_TCP ? ockam__endpoint_canon(peer, len, canon) : 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = hash_text(canon[i]);
        for (struct ockam__hent *e = ockam__cmap_chain(&st->by_peer, h); e; e = e->next) {
            ockam_conn *c = e->conn;
            if (e->hash == h && c->canon && strcmp(c->canon, canon[i]) == 0
                && c->profile == st->default_profile && !c->close_requested
                && c->state <= OCKAM__CONN_OPEN)
                return c;
        }
    }
    return NULL;
}

/* peer: len bytes without NUL (the address as it appears in the route). The connection used
 * last is tried first: a stream of messages to one peer then needs no hashing. */
static ockam_conn *
find_reusable(struct ockam__stream *st, const uint8_t *peer, size_t len)
{
    if (st->recent && reusable_for(st, st->recent, peer, len))
        return st->recent;
    uint64_t h = ockam__hash_bytes(peer, len);
    for (struct ockam__hent *e = ockam__cmap_chain(&st->by_peer, h); e; e = e->next) {
        if (e->hash == h && reusable_for(st, e->conn, peer, len))
            return st->recent = e->conn;
    }
    return find_by_endpoint(st, peer, len);
}

static ockam_err
route_drop(ockam_msg *msg, ockam_err err)
{
    ockam_msg_free(msg);
    return err;
}

ockam_err
ockam__stream_route(struct ockam__stream *st, ockam_msg *msg)
{
    char peer[OCKAM_MAX_ADDR_LEN + 1];
    ockam_addr a = ockam_route_front(&msg->onward);
    if (st->shutting_down)
        return route_drop(msg, OCKAM_ECLOSED);
    /* A peer text has no NUL, so an address with one matches no connection. */
    ockam_conn *c = find_reusable(st, a.bytes, a.len);
    if (!c) {
        if (a.len == 0 || memchr(a.bytes, 0, a.len)) {
            OCKAM_LOG_W("%s: message dropped: empty or binary address", st->kind->name);
            return route_drop(msg, OCKAM_EADDRINVAL);
        }
        memcpy(peer, a.bytes, a.len);
        peer[a.len] = '\0';
        if (!ockam__policy_may_reach(st->node, st->kind->type, msg->origin, peer, a.len)) {
            OCKAM_LOG_W("%s: refusing to open a connection to %s for a message from another "
                        "node; add it to allowed_outgoing",
                st->kind->name, peer);
            return route_drop(msg, OCKAM_EACCES);
        }
        ockam_err err = ockam__stream_connect(st, peer, st->default_profile, NULL, NULL, &c);
        if (err) {
            OCKAM_LOG_W("%s: cannot connect to %s: %s; message dropped", st->kind->name, peer,
                ockam_strerror(err));
            return route_drop(msg, err);
        }
    }
    /* Same as handing it to the sender worker, minus a trip through its mailbox. */
    ockam_route_pop_front(&msg->onward);
    return conn_send(c, msg);
}

ockam_err
ockam__stream_send_direct(struct ockam__stream *st, const ockam_route *onward, ockam_addr from,
    const void *data, size_t len)
{
    /* Big payloads take the general path: it writes them from the message's own buffer. */
    if (st->shutting_down || st->default_profile != OCKAM_WIRE_CURRENT || len >= IN_PLACE_MIN
        || from.len > OCKAM__SLOT_INLINE)
        return OCKAM_EAGAIN;
    ockam_addr a = ockam_route_front(onward);
    ockam_conn *c = find_reusable(st, a.bytes, a.len);
    if (!c)
        return OCKAM_EAGAIN;
    /* What conn_send would encode: the onward route minus our address, return = [from]. */
    struct ockam__slot ret = {.type = from.type, .len = from.len};
    ockam__copy_small(ret.u.in, from.bytes, from.len);
    ockam__msg_parts m = {
        .onward = onward->slots + onward->start + 1,
        .onward_count = onward->count - 1,
        .ret = &ret,
        .ret_count = 1,
        .payload = data,
        .payload_len = len,
    };
    ockam__policy_adopt(&c->flow, from, (ockam_origin) {0, 0});
    ockam_err err = encode_parts(c, &m);
    if (err) {
        refused(c, err);
        return err;
    }
    schedule_flush(c);
    return OCKAM_OK; /* a local sender: no upstream connection to pause */
}

/* ---- transport lifecycle -------------------------------------------------------------- */

/* libuv writes with write()/writev(), and a write to a connection the peer has closed raises
 * SIGPIPE, whose default action kills the process. The error is handled per connection, so
 * the signal is ignored -- unless the application installed a handler of its own. */
static void
ignore_sigpipe(void)
{
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        (void)sigaction(SIGPIPE, &sa, NULL);
    }
}

ockam_err
ockam__stream_init(struct ockam__stream *st, ockam_node *node,
    const struct ockam__stream_kind *kind, const struct ockam__stream_config *cfg)
{
    if (cfg->default_profile != OCKAM_WIRE_CURRENT && cfg->default_profile != OCKAM_WIRE_LEGACY)
        return OCKAM_EINVAL;
    if (cfg->allowed_outgoing_count && !cfg->allowed_outgoing)
        return OCKAM_EINVAL;
    st->node = node;
    st->kind = kind;
    st->write_high_water = cfg->write_high_water ? cfg->write_high_water : DEFAULT_HIGH_WATER;
    size_t budget = st->write_high_water / 16;
    st->read_budget = budget < RBUF_MIN_TAIL ? RBUF_MIN_TAIL
        : budget > READ_BUDGET_MAX           ? READ_BUDGET_MAX
                                             : budget;
    st->handshake_timeout_ms = cfg->handshake_timeout_ms;
    st->default_profile = cfg->default_profile;
    ockam_err err = ockam__policy_set_outgoing(
        node, kind->type, cfg->allowed_outgoing, cfg->allowed_outgoing_count);
    if (err)
        return err;
    ockam__link_init(&st->conns);
    ockam__link_init(&st->draining);
    ockam__link_init(&st->listeners);
    ockam__link_init(&st->flush_q);
    ockam__link_init(&st->resume_q);
    ignore_sigpipe();
    /* Nothing below can fail: the node frees st without calling fini when init fails. */
    uv_prepare_init(ockam__node_loop(node), &st->flusher);
    st->flusher.data = st;
    uv_idle_init(ockam__node_loop(node), &st->resumer);
    st->resumer.data = st;
    uv_check_init(ockam__node_loop(node), &st->turns);
    st->turns.data = st;
    uv_check_start(&st->turns, on_turn);
    uv_unref((uv_handle_t *)&st->turns);
    return OCKAM_OK;
}

void
ockam__stream_shutdown(struct ockam__stream *st)
{
    st->shutting_down = true;
    while (!ockam__link_empty(&st->listeners))
        ockam_listener_close(OCKAM__CONTAINER_OF(st->listeners.next, ockam_listener, link));
    while (!ockam__link_empty(&st->conns))
        conn_teardown(OCKAM__CONTAINER_OF(st->conns.next, ockam_conn, all), OCKAM_OK, NULL);
    while (!ockam__link_empty(&st->draining))
        drain_end(OCKAM__CONTAINER_OF(st->draining.next, ockam_conn, all));
    uv_close((uv_handle_t *)&st->flusher, NULL);
    uv_close((uv_handle_t *)&st->resumer, NULL);
    uv_close((uv_handle_t *)&st->turns, NULL);
}

void
ockam__stream_fini(struct ockam__stream *st)
{
    OCKAM_ASSERT(ockam__link_empty(&st->conns) && ockam__link_empty(&st->listeners));
    ockam__cmap_fini(&st->by_flow);
    ockam__cmap_fini(&st->by_peer);
}

uint64_t
ockam__conn_write_calls(const ockam_conn *c)
{
    return c->write_calls;
}

/* ---- public API (ockam/stream.h) ------------------------------------------------------ */

const char *
ockam_conn_address(const ockam_conn *c)
{
    return c->addr;
}

const char *
ockam_conn_peer(const ockam_conn *c)
{
    return conn_peer_text(c);
}

bool
ockam_conn_is_outgoing(const ockam_conn *c)
{
    return c->outgoing;
}

uint8_t
ockam_conn_transport(const ockam_conn *c)
{
    return c->st->kind->type;
}

ockam_wire_profile
ockam_conn_profile(const ockam_conn *c)
{
    return c->profile;
}

ockam_flow_id
ockam_conn_flow_id(const ockam_conn *c)
{
    return c->flow.id;
}

ockam_flow_id
ockam_conn_spawner_id(const ockam_conn *c)
{
    return c->spawner_id;
}

void
ockam_conn_set_spawner_id(ockam_conn *c, ockam_flow_id id)
{
    c->spawner_id = id;
}

void
ockam_conn_stats(const ockam_conn *c, struct ockam_conn_stats *out)
{
    *out = c->stats;
    out->queued_bytes = conn_queued(c);
}

ockam_err
ockam_conn_on_close(ockam_conn *c, ockam_conn_close_cb cb, void *user)
{
    if (!cb)
        return OCKAM_EINVAL;
    if (c->state == OCKAM__CONN_DEAD)
        return OCKAM_ECLOSED;
    if (ockam__array_reserve(c->watchers, c->capwatchers, c->nwatchers + 1, 2) != OCKAM_OK)
        return OCKAM_ENOMEM;
    c->watchers[c->nwatchers++] = (struct ockam__watcher) {cb, user};
    return OCKAM_OK;
}

void
ockam_conn_off_close(ockam_conn *c, ockam_conn_close_cb cb, void *user)
{
    for (size_t i = 0; i < c->nwatchers; i++) {
        if (c->watchers[i].cb == cb && c->watchers[i].user == user) {
            memmove(
                &c->watchers[i], &c->watchers[i + 1], (c->nwatchers - i - 1) * sizeof *c->watchers);
            c->nwatchers--;
            return;
        }
    }
}

void
ockam_conn_pause(ockam_conn *c)
{
    if (c->state == OCKAM__CONN_DEAD)
        return;
    c->user_pauses++;
    c->pausers++;
    conn_update_reading(c);
}

void
ockam_conn_resume(ockam_conn *c)
{
    if (c->state == OCKAM__CONN_DEAD || c->user_pauses == 0)
        return;
    c->user_pauses--;
    if (--c->pausers == 0)
        schedule_resume(c);
}

bool
ockam_conn_is_paused(const ockam_conn *c)
{
    return c->pausers > 0;
}

ockam_err
ockam_conn_on_drain(ockam_conn *c, size_t below, ockam_conn_drain_cb cb, void *user)
{
    if (!cb)
        return OCKAM_EINVAL;
    if (c->state == OCKAM__CONN_DEAD)
        return OCKAM_ECLOSED;
    if (ockam__array_reserve(c->drains, c->capdrains, c->ndrains + 1, 2) != OCKAM_OK)
        return OCKAM_ENOMEM;
    c->drains[c->ndrains++] = (struct ockam__drain) {cb, user, below};
    return OCKAM_OK;
}

void
ockam_conn_off_drain(ockam_conn *c, ockam_conn_drain_cb cb, void *user)
{
    for (size_t i = 0; i < c->nfiring; i++) {
        if (c->firing[i].cb == cb && c->firing[i].user == user)
            c->firing[i].cb = NULL;
    }
    for (size_t i = 0; i < c->ndrains;) {
        if (c->drains[i].cb == cb && c->drains[i].user == user)
            c->drains[i] = c->drains[--c->ndrains];
        else
            i++;
    }
}

/* Frames already queued and messages already in the sender's mailbox are written first: a
 * marker message sent to the sender goes behind them, and closing starts when it arrives. */
static void
begin_closing(ockam_conn *c)
{
    if (c->state != OCKAM__CONN_OPEN)
        return;
    c->state = OCKAM__CONN_CLOSING;
    conn_stop_sender(c);
    conn_update_reading(c);
    uint32_t linger = c->st->handshake_timeout_ms ? c->st->handshake_timeout_ms : CLOSE_LINGER_MS;
    uv_timer_start(&c->timer, on_timer, linger, 0);
    schedule_flush(c);
}

void
ockam_conn_close(ockam_conn *c)
{
    if (!c || c->state == OCKAM__CONN_DEAD || c->close_requested)
        return;
    c->close_requested = true;
    if (c->state != OCKAM__CONN_OPEN || !c->sender) {
        schedule_flush(c); /* not connected yet: it ends at the end of this turn */
        return;
    }
    ockam_msg *marker = ockam_msg_new();
    if (marker && ockam_route_push_back(&marker->onward, ockam_addr_local(c->addr)) == OCKAM_OK) {
        c->close_marker = marker;
        if (ockam_forward(c->sender, marker) == OCKAM_OK)
            return;
        c->close_marker = NULL;
    } else {
        ockam_msg_free(marker);
    }
    begin_closing(c);
}

ockam_conn *
ockam_conn_find(ockam_node *node, const char *address_or_peer)
{
    for (size_t i = 0; i < OCKAM__STREAM_KINDS; i++) {
        struct ockam__stream *st = ockam__stream_nth(node, i);
        if (!st)
            continue;
        for (struct ockam__link *l = st->conns.next; l != &st->conns; l = l->next) {
            ockam_conn *c = OCKAM__CONTAINER_OF(l, ockam_conn, all);
            if (strcmp(c->addr, address_or_peer) == 0
                || (c->peer && strcmp(c->peer, address_or_peer) == 0))
                return c;
        }
    }
    return NULL;
}

void
ockam_conn_each(ockam_node *node, void (*fn)(ockam_conn *conn, void *arg), void *arg)
{
    for (size_t i = 0; i < OCKAM__STREAM_KINDS; i++) {
        struct ockam__stream *st = ockam__stream_nth(node, i);
        if (!st)
            continue;
        for (struct ockam__link *l = st->conns.next, *next; l != &st->conns; l = next) {
            next = l->next; /* fn may close the connection it is given */
            fn(OCKAM__CONTAINER_OF(l, ockam_conn, all), arg);
        }
    }
}
