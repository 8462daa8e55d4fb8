/* An open secure channel: the worker behind its two addresses, frames in and out, Close, and
 * the public calls on a channel. The handshake is in handshake.c.
 *
 * One worker serves both addresses of a channel end: messages to the encryptor are
 * plaintext to encrypt towards the peer; messages to the decryptor are handshake messages
 * until the handshake is done, then frames. */
#include "channel/channel_internal.h"

#include "ockam/stream.h"
#include "ockam/udp.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <time.h>

/* Frames with at most this much plaintext are decrypted on the stack and copied out; bigger
 * ones into a chunk their payload then borrows from (one pass over the bytes, no copy). */
#define SMALL_FRAME 4096
/* Frames and plaintexts above this size are cut from the thread's standard chunks
 * (ockam__chunk_carve): allocating and freeing a block of this size per message makes the C
 * library trim and grow its heap every time (page faults on every frame), and a whole chunk
 * per frame holds more chunks than the thread keeps for reuse. */
#define BIG_FRAME (32u * 1024u)

uint64_t
ockam__sc_now_s(void)
{
    return (uint64_t)time(NULL);
}

/* ---- trust lists --------------------------------------------------------------------- */

static bool
identifier_valid(const char *s)
{
    if (!s || s[0] != 'I' || strlen(s) != OCKAM_SC_IDENTIFIER_SIZE - 1)
        return false;
    for (size_t i = 1; s[i]; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

ockam_err
ockam__sc_trust_copy(struct ockam__sc_trust *dst, const ockam_sc_trust *src)
{
    dst->ids = NULL;
    dst->count = 0;
    if (!src || src->count == 0)
        return OCKAM_OK;
    for (size_t i = 0; i < src->count; i++) {
        if (!identifier_valid(src->identifiers[i]))
            return OCKAM_EINVAL;
    }
    dst->ids = ockam__alloc(src->count * sizeof dst->ids[0]);
    if (!dst->ids)
        return OCKAM_ENOMEM;
    for (size_t i = 0; i < src->count; i++) {
        const char *s = src->identifiers[i];
        dst->ids[i][0] = 'I';
        for (size_t k = 1; k < OCKAM_SC_IDENTIFIER_SIZE; k++)
            dst->ids[i][k] = (char)tolower((unsigned char)s[k]);
    }
    dst->count = src->count;
    return OCKAM_OK;
}

void
ockam__sc_trust_free(struct ockam__sc_trust *t)
{
    ockam__free(t->ids);
    t->ids = NULL;
    t->count = 0;
}

static bool
same_identifier(const char *a, const char *b)
{
    for (size_t k = 0; k < OCKAM_SC_IDENTIFIER_SIZE - 1; k++) {
        if (tolower((unsigned char)a[k]) != tolower((unsigned char)b[k]))
            return false;
    }
    return true;
}

bool
ockam__sc_trust_allows(const struct ockam__sc_trust *t, const char *identifier)
{
    if (t->count == 0)
        return true;
    for (size_t i = 0; i < t->count; i++) {
        if (same_identifier(t->ids[i], identifier))
            return true;
    }
    return false;
}

/* ---- sending ---------------------------------------------------------------------------- */

/* A buffer for a frame of n bytes: the message's own payload buffer, or a piece of a standard
 * chunk for a big frame (*ch set; the message borrows it once the frame is sealed). */
static uint8_t *
frame_buf(ockam_msg *out, size_t n, struct ockam__chunk **ch)
{
    *ch = NULL;
    if (n > BIG_FRAME && n <= OCKAM__CHUNK_STD)
        return ockam__chunk_carve(n, ch);
    return ockam_msg_payload_reserve(out, n);
}

/* Seal the plaintext pieces (the first at frame + 8; len bytes in all) and send the frame on
 * the remote route with the given return route (empty for Payload frames, [encryptor] for
 * Close). Consumes out and the reference to ch. */
static ockam_err
send_frame(ockam_sc *sc, ockam_msg *out, uint8_t *frame, struct ockam__chunk *ch,
    const ockam_slice *parts, size_t count, size_t len, bool from_encryptor)
{
    ockam_err err = ockam__sc_tx_seal_gather(&sc->tx, frame, parts, count);
    if (!err && ch)
        ockam__msg_borrow_payload(out, ch, frame, len + OCKAM__SC_OVERHEAD);
    ockam__chunk_unref(ch);
    if (!err)
        err = ockam_route_copy(&out->onward, sc->remote);
    if (!err && from_encryptor)
        err = ockam_route_push_back(&out->ret, ockam_addr_local(sc->encryptor));
    if (err) {
        ockam_msg_free(out);
        return err;
    }
    /* Frames go where a peer's message pointed: they keep that message's origin, so no
     * transport opens a connection for them that a remote message could not open. */
    ockam_msg_set_origin(out, sc->remote_origin);
    sc->stats.sent++;
    return ockam_forward(sc->worker, out);
}

static void
on_plaintext(ockam_sc *sc, ockam_msg *msg)
{
    size_t written;
    struct ockam__chunk *ch = NULL;
    if (sc->state != SC_OPEN) {
        OCKAM_LOG_W("secure channel %s: not open, dropping a message", sc->encryptor);
        ockam_msg_free(msg);
        return;
    }
    ockam_route_pop_front(&msg->onward);
    /* The worker that sends through the encryptor must receive what comes back out of the
     * channel: it becomes a consumer of the channel's flow, as with a connection. */
    ockam__policy_adopt_msg(&sc->flow, msg);
    ockam__msg_parts parts = ockam__msg_parts_of(msg);
    size_t len = ockam__sc_payload_size(&parts);
    ockam_msg *out = ockam_msg_new();
    uint8_t *frame = out ? frame_buf(out, len + OCKAM__SC_OVERHEAD, &ch) : NULL;
    ockam_err err = frame ? OCKAM_OK : OCKAM_ENOMEM;
    static const uint8_t padding = OCKAM__SC_EMPTY_PADDING;
    ockam_slice pieces[3] = {{frame + OCKAM__SC_NONCE_LEN, len}};
    size_t count = 1;
    if (!err && parts.payload_len >= BIG_FRAME) {
        /* The payload is encrypted straight from the message: no copy into the plaintext. */
        ockam_msg_clear_tracing(msg);
        err = ockam__sc_payload_head(msg, frame + OCKAM__SC_NONCE_LEN, len, &written);
        OCKAM_ASSERT(err || written + parts.payload_len + 1 == len);
        pieces[0].len = written;
        pieces[1] = (ockam_slice) {parts.payload, parts.payload_len};
        pieces[2] = (ockam_slice) {&padding, 1};
        count = 3;
    } else if (!err) {
        err = ockam__sc_payload_encode(&parts, frame + OCKAM__SC_NONCE_LEN, len, &written);
    }
    if (!err) {
        err = send_frame(sc, out, frame, ch, pieces, count, len, false);
        out = NULL;
        ch = NULL;
    }
    ockam_msg_free(msg);
    ockam__chunk_unref(ch);
    ockam_msg_free(out);
    if (err == OCKAM_ECLOSED) {
        OCKAM_LOG_W("secure channel %s: nonces used up, closing", sc->encryptor);
        ockam__sc_stop(sc);
    } else if (err && err != OCKAM_ENOENT && err != OCKAM_EACCES) {
        /* (routing errors were logged by the router) */
        OCKAM_LOG_W("secure channel %s: cannot send: %s", sc->encryptor, ockam_strerror(err));
    }
}

static void
send_close(ockam_sc *sc)
{
    ockam_msg *out = ockam_msg_new();
    uint8_t *frame
        = out ? ockam_msg_payload_reserve(out, OCKAM__SC_CLOSE_LEN + OCKAM__SC_OVERHEAD) : NULL;
    if (!frame) {
        ockam_msg_free(out);
        return;
    }
    ockam__sc_close_encode(frame + OCKAM__SC_NONCE_LEN);
    ockam_slice plain = {frame + OCKAM__SC_NONCE_LEN, OCKAM__SC_CLOSE_LEN};
    (void)send_frame(sc, out, frame, NULL, &plain, 1, OCKAM__SC_CLOSE_LEN, true);
}

/* ---- receiving --------------------------------------------------------------------------- */

static void
count_drop(ockam_sc *sc, ockam_err err, uint64_t nonce)
{
    if (err == OCKAM_EAUTH || err == OCKAM_ETRUNCATED) {
        sc->stats.dropped_auth++;
        /* One line per channel: a peer (or anyone on the path) could send many. */
        if (!sc->auth_logged)
            OCKAM_LOG_W("secure channel %s: dropping a frame that does not authenticate "
                        "(further ones are only counted)",
                sc->decryptor);
        sc->auth_logged = true;
    } else {
        sc->stats.dropped_replay++;
        OCKAM_LOG_D("secure channel %s: dropping frame %llu (replayed or outside the window)",
            sc->decryptor, (unsigned long long)nonce);
    }
}

/* Whether frame came over the route the channel sends on: its return route followed by the
 * peer's decryptor (the usual case: every frame comes the same way). */
static bool
same_route_back(const ockam_sc *sc, const ockam_msg *frame)
{
    size_t n = ockam_route_len(&frame->ret);
    if (ockam_route_len(sc->remote) != n + 1)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!ockam_addr_eq(ockam_route_at(&frame->ret, i), ockam_route_at(sc->remote, i)))
            return false;
    }
    return true;
}

/* The responder follows the initiator to the route its newest frames come from. */
static void
maybe_reroute(ockam_sc *sc, const ockam_msg *frame, uint64_t nonce)
{
    if (sc->initiator || nonce <= sc->reroute_nonce || ockam_route_len(sc->remote) == 0)
        return;
    if (same_route_back(sc, frame)) {
        sc->remote_origin = frame->origin;
        sc->reroute_nonce = nonce;
        return;
    }
    ockam_route *r = ockam_route_new();
    if (!r || ockam_route_copy(r, &frame->ret)
        || ockam_route_push_back(r, ockam_route_back(sc->remote))) {
        ockam_route_free(r);
        return;
    }
    ockam_route_free(sc->remote);
    sc->remote = r;
    sc->remote_origin = frame->origin;
    sc->reroute_nonce = nonce;
}

static void
deliver(ockam_sc *sc, ockam_msg *inner)
{
    ockam_err err = ockam_route_push_front(&inner->ret, ockam_addr_local(sc->encryptor));
    if (!err)
        err = ockam_msg_local_info_set(
            inner, OCKAM_SC_LOCAL_INFO, sc->peer, OCKAM_SC_IDENTIFIER_SIZE - 1);
    if (err) {
        ockam_msg_free(inner);
        return;
    }
    ockam_msg_set_origin(inner, (ockam_origin) {.producer = sc->flow.id, .spawner = sc->spawner});
    (void)ockam_forward(sc->worker, inner); /* errors are logged by the router */
}

/* Authenticate, decrypt and decode a frame; on success inner holds the Payload (when kind says
 * so). *authentic tells an authenticated frame whose plaintext did not decode. */
static ockam_err
open_frame(ockam_sc *sc, ockam_slice f, ockam_msg *inner, ockam__sc_kind *kind, uint64_t *nonce,
    bool *authentic)
{
    uint8_t small[SMALL_FRAME];
    size_t len;
    *nonce = 0;
    *authentic = false;
    if (f.len < OCKAM__SC_OVERHEAD)
        return OCKAM_ETRUNCATED;
    size_t plain_len = f.len - OCKAM__SC_OVERHEAD;
    struct ockam__chunk *ch = NULL;
    uint8_t *plain = small;
    if (plain_len > BIG_FRAME && plain_len <= OCKAM__CHUNK_STD) {
        if (!(plain = ockam__chunk_carve(plain_len, &ch)))
            return OCKAM_ENOMEM;
    } else if (plain_len > sizeof small) {
        if (!(ch = ockam__chunk_new(plain_len)))
            return OCKAM_ENOMEM;
        plain = ch->data;
    }
    ockam_err err = ockam__sc_rx_open(&sc->rx, f.ptr, f.len, plain, &len, nonce);
    if (!err) {
        ockam__borrow from = {.chunk = ch, .min = 0};
        *authentic = true;
        err = ockam__sc_plain_decode(plain, len, kind, inner, ch ? &from : NULL);
    }
    if (plain == small)
        OPENSSL_cleanse(small, plain_len < sizeof small ? plain_len : sizeof small);
    ockam__chunk_unref(ch);
    return err;
}

void
ockam__sc_on_frame(ockam_sc *sc, ockam_msg *msg)
{
    ockam__sc_kind kind = OCKAM__SC_PAYLOAD;
    uint64_t nonce;
    bool authentic;
    ockam_msg *inner = ockam_msg_new();
    if (!inner) {
        ockam_msg_free(msg);
        return;
    }
    ockam_err err = open_frame(sc, ockam_msg_payload(msg), inner, &kind, &nonce, &authentic);
    if (err && authentic) {
        sc->stats.received++;
        sc->stats.dropped_bad++;
        OCKAM_LOG_W("secure channel %s: frame %llu decrypted but does not decode", sc->decryptor,
            (unsigned long long)nonce);
    } else if (err) {
        count_drop(sc, err, nonce);
    }
    if (err) {
        ockam_msg_free(inner);
        ockam_msg_free(msg);
        return;
    }
    sc->stats.received++;
    if (kind == OCKAM__SC_PAYLOAD)
        maybe_reroute(sc, msg, nonce);
    ockam_msg_free(msg);
    switch (kind) {
    case OCKAM__SC_PAYLOAD:
        deliver(sc, inner);
        return;
    case OCKAM__SC_CLOSE:
        ockam_msg_free(inner);
        OCKAM_LOG_I("secure channel %s: closed by the peer", sc->encryptor);
        sc->closing_sent = true; /* no Close back */
        ockam__sc_stop(sc);
        return;
    case OCKAM__SC_REFRESH:
        /* We present no credentials and check none (no authority): nothing to update. */
        ockam_msg_free(inner);
        OCKAM_LOG_D("secure channel %s: ignoring RefreshCredentials", sc->decryptor);
        return;
    }
}

/* ---- the worker ------------------------------------------------------------------------ */

static void
sc_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_sc *sc = user;
    if (ockam_route_len(&msg->onward) > 0
        && ockam_addr_is_local(ockam_route_front(&msg->onward), sc->encryptor)) {
        on_plaintext(sc, msg);
    } else if (sc->state == SC_HANDSHAKE) {
        ockam__sc_on_handshake(sc, msg);
    } else if (sc->state == SC_OPEN) {
        ockam__sc_on_frame(sc, msg);
    } else {
        ockam_msg_free(msg);
    }
}

bool
ockam__sc_is_worker(const ockam_worker *w)
{
    return w && ockam__worker_handler(w) == sc_on_message;
}

static void
sc_free(ockam_sc *sc)
{
    ockam__sc_tx_fini(&sc->tx);
    ockam__sc_rx_fini(&sc->rx);
    if (sc->flow.node)
        ockam__policy_flow_fini(&sc->flow);
    ockam_route_free(sc->remote);
    OPENSSL_cleanse(sc, sizeof *sc);
    ockam__free(sc);
}

static void
sc_on_stop(ockam_worker *w, void *user)
{
    ockam_sc *sc = user;
    uint8_t was = sc->state;
    sc->state = SC_CLOSED;
    if (was == SC_HANDSHAKE) {
        ockam__sc_handshake_end(sc, sc->fail ? sc->fail : OCKAM_ECLOSED);
    } else if (was == SC_OPEN && sc->closed_cb) {
        sc->closed_cb(sc, sc->closed_user);
    }
    sc_free(sc);
}

ockam_err
ockam__sc_new(ockam_node *node, bool initiator, ockam_sc **out)
{
    ockam_sc *sc = ockam__zalloc(sizeof *sc);
    if (!sc)
        return OCKAM_ENOMEM;
    sc->node = node;
    sc->initiator = initiator;
    sc->state = SC_HANDSHAKE;
    ockam_addr_random(sc->decryptor);
    ockam_addr_random(sc->encryptor);
    ockam_worker_opts opts = {.on_message = sc_on_message, .on_stop = sc_on_stop, .user = sc};
    ockam_err err = ockam_worker_start(node, sc->decryptor, &opts, &sc->worker);
    if (err) {
        ockam__free(sc);
        return err;
    }
    /* From here the worker owns sc: stopping it frees sc. */
    if ((err = ockam_worker_add_address(sc->worker, sc->encryptor)) != OCKAM_OK) {
        ockam_worker_stop(sc->worker);
        return err;
    }
    *out = sc;
    return OCKAM_OK;
}

ockam_err
ockam__sc_open(ockam_sc *sc, const uint8_t k1[OCKAM__KEY_LEN], const uint8_t k2[OCKAM__KEY_LEN],
    ockam_flow_id spawner)
{
    /* Ockam's key direction: the initiator encrypts with k2, the responder with k1. */
    const uint8_t *enc = sc->initiator ? k2 : k1, *dec = sc->initiator ? k1 : k2;
    ockam_err err = ockam__sc_tx_init(&sc->tx, enc);
    if (!err)
        err = ockam__sc_rx_init(&sc->rx, dec);
    if (err)
        return err;
    ockam__policy_flow_init(&sc->flow, sc->node, 0);
    sc->spawner = spawner;
    /* Replies of local workers to delivered messages keep the channel's origin. */
    if ((err = ockam_flow_add_consumer(sc->node, sc->encryptor, sc->flow.id)) != OCKAM_OK)
        return err;
    sc->state = SC_OPEN;
    return OCKAM_OK;
}

void
ockam__sc_stop(ockam_sc *sc)
{
    ockam_worker_stop(sc->worker);
}

/* ---- public calls ------------------------------------------------------------------------ */

const char *
ockam_sc_encryptor(const ockam_sc *sc)
{
    return sc->encryptor;
}

const char *
ockam_sc_decryptor(const ockam_sc *sc)
{
    return sc->decryptor;
}

const char *
ockam_sc_peer(const ockam_sc *sc)
{
    return sc->peer;
}

bool
ockam_sc_is_initiator(const ockam_sc *sc)
{
    return sc->initiator;
}

ockam_flow_id
ockam_sc_flow_id(const ockam_sc *sc)
{
    return sc->flow.id;
}

void
ockam_sc_stats(const ockam_sc *sc, struct ockam_sc_stats *out)
{
    *out = sc->stats;
}

const ockam_route *
ockam_sc_remote_route(const ockam_sc *sc)
{
    return sc->remote;
}

/* The peer's frames will come back over the new route's first hop: when that is one of this
 * node's connections or UDP sockets, the decryptor becomes a consumer of its flow (a transport
 * adopts only the senders of the messages it carries, and frames leave with an empty return
 * route). */
static ockam_err
consume_first_hop(ockam_sc *sc, const ockam_route *r)
{
    char name[OCKAM_MAX_ADDR_LEN + 1];
    ockam_addr a = ockam_route_front(r);
    if (a.type != OCKAM_TRANSPORT_LOCAL || memchr(a.bytes, 0, a.len))
        return OCKAM_OK;
    memcpy(name, a.bytes, a.len);
    name[a.len] = '\0';
    ockam_flow_id id = 0;
    ockam_conn *c = ockam_conn_find(sc->node, name);
    ockam_udp_bind *b = c ? NULL : ockam_udp_bind_find(sc->node, name);
    if (c)
        id = ockam_conn_flow_id(c);
    else if (b)
        id = ockam_udp_bind_flow_id(b);
    return id ? ockam_flow_add_consumer(sc->node, sc->decryptor, id) : OCKAM_OK;
}

ockam_err
ockam_sc_update_route(ockam_sc *sc, const ockam_route *to_node)
{
    if (!sc->initiator || sc->state != SC_OPEN || !to_node || ockam_route_len(to_node) == 0)
        return OCKAM_EINVAL;
    ockam_route *r = ockam_route_new();
    if (!r)
        return OCKAM_ENOMEM;
    ockam_err err = ockam_route_copy(r, to_node);
    if (!err)
        err = ockam_route_push_back(r, ockam_route_back(sc->remote));
    if (!err)
        err = consume_first_hop(sc, to_node);
    if (err) {
        ockam_route_free(r);
        return err;
    }
    ockam_route_free(sc->remote);
    sc->remote = r;
    sc->remote_origin = (ockam_origin) {0, 0}; /* chosen here */
    return OCKAM_OK;
}

void
ockam_sc_set_closed_cb(ockam_sc *sc, ockam_sc_closed_cb cb, void *user)
{
    sc->closed_cb = cb;
    sc->closed_user = user;
}

void
ockam_sc_close(ockam_sc *sc)
{
    if (sc->state == SC_OPEN && !sc->closing_sent) {
        sc->closing_sent = true;
        send_close(sc);
    }
    ockam__sc_stop(sc);
}

bool
ockam_sc_msg_identifier(const ockam_msg *msg, char out[OCKAM_SC_IDENTIFIER_SIZE])
{
    ockam_slice v;
    if (!ockam_msg_local_info_get(msg, OCKAM_SC_LOCAL_INFO, &v)
        || v.len != OCKAM_SC_IDENTIFIER_SIZE - 1)
        return false;
    memcpy(out, v.ptr, v.len);
    out[v.len] = '\0';
    return true;
}

bool
ockam_sc_access_identity(ockam_worker *worker, const ockam_msg *msg, void *user)
{
    const ockam_sc_trust *t = user;
    char id[OCKAM_SC_IDENTIFIER_SIZE];
    if (!ockam_sc_msg_identifier(msg, id))
        return false;
    if (!t || t->count == 0)
        return true;
    for (size_t i = 0; i < t->count; i++) {
        if (identifier_valid(t->identifiers[i]) && same_identifier(t->identifiers[i], id))
            return true;
    }
    return false;
}
