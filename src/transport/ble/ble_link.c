/* BLE links: the sender worker, the per-link queue, SDU framing of messages (one BARE
 * TransportMessage per SDU, or an 8-byte length SDU and the encoding split over SDUs),
 * heartbeats, and the L2CAP callbacks of the link's connection. See ockam/ble.h. */
#include "core/codec.h"
#include "transport/ble/ble_internal.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static const uint8_t heartbeat_sdu[4] = {0x01, 0x00, 0x00, 0x00};

/* ---- sending ------------------------------------------------------------------------- */

static void
drop_queue(ockam_ble_link *k)
{
    if (k->cur) {
        k->stats.dropped++;
        ockam__free(k->cur);
        k->cur = NULL;
    }
    while (k->q_head) {
        struct ble_out *o = k->q_head;
        k->q_head = o->next;
        k->stats.dropped++;
        ockam__free(o);
    }
    k->q_tail = NULL;
    k->queued = 0;
}

static bool
tx_busy(const ockam_ble_link *k)
{
    return k->kp ? k->ktx_busy : ockam__l2cap_tx_busy(&k->l2, k->ch);
}

static size_t
tx_mtu(const ockam_ble_link *k)
{
    if (k->kp)
        return k->kconnecting ? 0 : k->kmtu;
    return ockam__l2cap_tx_mtu(&k->l2, k->ch);
}

/* Start sending one SDU: the channel copies nothing, the buffer stays ours until it is out. */
static ockam_err
sdu_start(ockam_ble_link *k, const uint8_t *p, size_t n)
{
    if (!k->kp)
        return ockam__l2cap_send_sdu(&k->l2, k->ch, p, n);
    k->ktx = p;
    k->ktx_len = n;
    k->ktx_busy = true;
    return OCKAM_OK;
}

/* Hand the channel its next SDU when it has none: the rest of the current message, the
 * next queued message, or a heartbeat. */
void
ockam__ble_link_feed(ockam_ble_link *k)
{
    if ((k->state != BLE_UP && k->state != BLE_DRAINING) || tx_busy(k))
        return;
    size_t mtu = tx_mtu(k);
    if (mtu == 0)
        return;
    if (!k->cur && k->q_head) {
        k->cur = k->q_head;
        k->q_head = k->cur->next;
        if (!k->q_head)
            k->q_tail = NULL;
        k->cur_off = 0;
        k->len_sent = false;
    }
    if (!k->cur) {
        if (k->hb_pending && sdu_start(k, heartbeat_sdu, 4) == OCKAM_OK) {
            k->hb_pending = false;
            k->stats.heartbeats_out++;
            k->stats.sdus_out++;
        }
        return;
    }
    if (k->cur->len > mtu && !k->len_sent) {
        uint64_t n = k->cur->len;
        for (int i = 7; i >= 0; i--, n >>= 8)
            k->len_sdu[i] = (uint8_t)n;
        k->len_sent = true;
        (void)sdu_start(k, k->len_sdu, 8);
        k->stats.sdus_out++;
        return;
    }
    size_t n = k->cur->len - k->cur_off;
    if (n > mtu)
        n = mtu;
    (void)sdu_start(k, k->cur->data + k->cur_off, n);
    k->cur_off += n;
    k->stats.sdus_out++;
}

/* One SDU is out. After a length SDU cur_off is still 0; the message is out when all its
 * bytes are. */
static void
sdu_done(ockam_ble_link *k)
{
    if (k->cur && k->cur_off == k->cur->len) {
        k->queued -= k->cur->len;
        k->stats.messages_out++;
        ockam__free(k->cur);
        k->cur = NULL;
        if (k->congested && k->queued < k->t->cfg.max_queue / 2)
            k->congested = false;
    }
}

static void
on_sdu_sent(void *user, int ch)
{
    ockam_ble_link *k = user;
    sdu_done(k);
    ockam__ble_link_feed(k);
}

/* Queue one message (its onward route already starts at the peer). Consumes msg. */
ockam_err
ockam__ble_link_send(ockam_ble_link *k, ockam_msg *msg)
{
    if (k->state >= BLE_DRAINING) {
        k->stats.dropped++;
        ockam_msg_free(msg);
        return OCKAM_ECLOSED;
    }
    /* The local sender gets the replies that come back on this link. */
    ockam__policy_adopt_msg(&k->flow, msg);
    size_t len = ockam__bare_msg_size(msg, 1);
    if (len > k->t->cfg.max_message) {
        k->stats.dropped++;
        OCKAM_LOG_W("ble %s: message of %zu bytes refused (limit %zu)", k->peer, len,
            k->t->cfg.max_message);
        ockam_msg_free(msg);
        return OCKAM_EMSGSIZE;
    }
    if (k->queued + len > k->t->cfg.max_queue) {
        k->stats.dropped++;
        if (!k->congested)
            OCKAM_LOG_W(
                "ble %s: send queue full (%zu bytes): dropping messages", k->peer, k->queued);
        k->congested = true;
        ockam_msg_free(msg);
        return OCKAM_EBUSY;
    }
    struct ble_out *o = ockam__alloc(sizeof *o + len);
    size_t written = 0;
    ockam_err err = o ? ockam__bare_encode_msg(msg, 1, o->data, len, &written) : OCKAM_ENOMEM;
    ockam_msg_free(msg);
    if (err) {
        ockam__free(o);
        k->stats.dropped++;
        return err;
    }
    o->len = written;
    o->next = NULL;
    if (k->q_tail)
        k->q_tail->next = o;
    else
        k->q_head = o;
    k->q_tail = o;
    k->queued += written;
    k->stats.queued_bytes = k->queued;
    ockam__ble_link_feed(k);
    ockam__ble_pump(k->t);
    return OCKAM_OK;
}

/* ---- receive-side backpressure ------------------------------------------------------ */

/* Forget the chunks nobody but us holds any more. Messages are mostly consumed in the order
 * they came, so the cheap pass stops at the first one still held; the full pass (when the
 * mark is crossed) also finds those consumed out of order. */
static void
rx_reclaim(ockam_ble_link *k, bool full)
{
    size_t j = 0, i = 0;
    for (; i < k->rx_nheld; i++) {
        struct ockam__chunk *ch = k->rx_held[i];
        if (ockam__chunk_shared(ch)) {
            if (!full)
                break;
            k->rx_held[j++] = ch;
            continue;
        }
        k->rx_bytes -= ch->cap;
        ockam__chunk_unref(ch);
    }
    if (j == i)
        return; /* nothing kept before i: shift the rest down */
    memmove(k->rx_held + j, k->rx_held + i, (k->rx_nheld - i) * sizeof *k->rx_held);
    k->rx_nheld = j + (k->rx_nheld - i);
}

static void
rx_forget_all(ockam_ble_link *k)
{
    for (size_t i = 0; i < k->rx_nheld; i++)
        ockam__chunk_unref(k->rx_held[i]);
    ockam__free(k->rx_held);
    k->rx_held = NULL;
    k->rx_nheld = k->rx_capheld = 0;
    k->rx_bytes = 0;
}

static void kernel_events(ockam_ble_link *k);

static void
rx_pause(ockam_ble_link *k)
{
    if (k->rx_paused)
        return;
    if (!k->kp && ockam__l2cap_hold_credits(&k->l2, k->ch, true) != OCKAM_OK)
        return;
    k->rx_paused = true;
    kernel_events(k); /* the kernel stops returning credits once its socket buffer is full */
    ockam__ble_watch_rx(k->t);
}

/* Keep our reference to the chunk a delivered message borrows from: while anyone else holds
 * it, its bytes count against the mark. */
static void
rx_track(ockam_ble_link *k, struct ockam__chunk *ch)
{
    if (!ockam__chunk_shared(ch)
        || ockam__array_reserve(k->rx_held, k->rx_capheld, k->rx_nheld + 1, 16) != OCKAM_OK) {
        ockam__chunk_unref(ch); /* consumed already (or no room: better unpaced than stuck) */
        rx_reclaim(k, false);
        return;
    }
    k->rx_held[k->rx_nheld++] = ch;
    k->rx_bytes += ch->cap;
    rx_reclaim(k, false);
    if (k->rx_bytes > k->t->cfg.max_queue)
        rx_reclaim(k, true);
    if (k->rx_bytes > k->t->cfg.max_queue)
        rx_pause(k);
}

bool
ockam__ble_link_rx_check(ockam_ble_link *k)
{
    if (!k->rx_paused)
        return false;
    if (k->state != BLE_UP && k->state != BLE_DRAINING) {
        k->rx_paused = false;
        return false;
    }
    rx_reclaim(k, true);
    if (k->rx_bytes > k->t->cfg.max_queue / 2)
        return true;
    if (!k->kp && ockam__l2cap_hold_credits(&k->l2, k->ch, false) != OCKAM_OK)
        return true; /* signalling queue full: next turn */
    k->rx_paused = false;
    /* The peer could not speak while it had no credits: its silence starts now. */
    k->last_rx = ockam__ble_now(k->t);
    kernel_events(k);
    return false; /* the caller pumps the credits out */
}

/* ---- receiving ----------------------------------------------------------------------- */

/* buf is the chunk's whole data (the encoded message): the payload is borrowed from it, and
 * the chunk tracked until every holder lets it go. Consumes our reference to ch. */
static void
deliver(ockam_ble_link *k, struct ockam__chunk *ch, size_t len)
{
    ockam_msg *m = ockam_msg_new();
    if (!m) {
        OCKAM_LOG_W("ble %s: message dropped: out of memory", k->peer);
        ockam__chunk_unref(ch);
        return;
    }
    ockam__borrow from = {.chunk = ch, .min = 1};
    ockam_err err = ockam__bare_decode_msg_borrow(ch->data, len, m, NULL, &from);
    if (err) {
        ockam_msg_free(m);
        ockam__chunk_unref(ch);
        ockam__ble_link_teardown(k, OCKAM_EPROTO, "malformed message");
        return;
    }
    if (ockam_route_len(&m->onward) == 0) {
        k->stats.heartbeats_in++;
        ockam_msg_free(m);
        ockam__chunk_unref(ch);
        return;
    }
    err = ockam_route_push_front(
        &m->ret, ockam_addr_of(OCKAM_TRANSPORT_LOCAL, k->addr, OCKAM_RANDOM_ADDR_LEN));
    if (err) {
        OCKAM_LOG_W("ble %s: message dropped: %s", k->peer, ockam_strerror(err));
        ockam_msg_free(m);
        ockam__chunk_unref(ch);
        return;
    }
    m->origin = (ockam_origin) {.producer = k->flow.id, .spawner = k->spawner};
    k->stats.messages_in++;
    ockam__node_route_incoming(k->t->node, m);
    if (k->state == BLE_DEAD) {
        ockam__chunk_unref(ch); /* routing closed the link (it holds nothing any more) */
        return;
    }
    rx_track(k, ch);
}

static void
on_sdu(void *user, int ch, const uint8_t *sdu, size_t len)
{
    ockam_ble_link *k = user;
    k->stats.sdus_in++;
    if (k->big) {
        if (len > k->big_want - k->big_len) {
            ockam__ble_link_teardown(k, OCKAM_EPROTO, "message longer than its length SDU said");
            return;
        }
        memcpy(k->big->data + k->big_len, sdu, len);
        k->big_len += len;
        if (k->big_len < k->big_want)
            return;
        struct ockam__chunk *big = k->big;
        k->big = NULL;
        deliver(k, big, k->big_len);
        return;
    }
    if (len == 8 && sdu[0] == 0) {
        uint64_t n = 0;
        for (int i = 0; i < 8; i++)
            n = (n << 8) | sdu[i];
        if (n == 0 || n > k->t->cfg.max_message) {
            ockam__ble_link_teardown(k, OCKAM_EMSGSIZE, "announced message too large");
            return;
        }
        if (!(k->big = ockam__chunk_new((size_t)n))) {
            ockam__ble_link_teardown(k, OCKAM_ENOMEM, "out of memory for a large message");
            return;
        }
        k->big_want = (size_t)n;
        k->big_len = 0;
        return;
    }
    /* The SDU buffer is reused for the next one: the message gets a chunk of its own. */
    struct ockam__chunk *c = ockam__chunk_new(len ? len : 1);
    if (!c) {
        OCKAM_LOG_W("ble %s: message dropped: out of memory", k->peer);
        return;
    }
    memcpy(c->data, sdu, len);
    deliver(k, c, len);
}

/* ---- L2CAP callbacks ----------------------------------------------------------------- */

static void
on_opened(void *user, int ch)
{
    ockam_ble_link *k = user;
    if (k->state != BLE_OPENING) {
        /* A second channel on one link: we use one. */
        (void)ockam__l2cap_disconnect(&k->l2, ch);
        return;
    }
    k->ch = ch;
    ockam__ble_link_channel_up(k);
}

static void
on_refused(void *user, int ch, uint16_t result)
{
    ockam_ble_link *k = user;
    char why[64];
    snprintf(why, sizeof why, "peer refused the channel (result 0x%04x)", result);
    ockam__ble_link_teardown(k, OCKAM_ECONNREFUSED, why);
}

static void
on_chan_closed(void *user, int ch)
{
    ockam_ble_link *k = user;
    if (ch == k->ch && k->state == BLE_UP)
        ockam__ble_link_teardown(k, OCKAM_ECONNRESET, "peer closed the channel");
}

void
ockam__ble_link_init_l2cap(ockam_ble_link *k)
{
    struct ockam__ble *t = k->t;
    /* One K-frame fills 4 ACL fragments of the controller: few headers, and credits x
     * fragments stays far below what the emulator buffers for a slow reader. */
    uint32_t mps = 4u * (t->hci.acl_mtu ? t->hci.acl_mtu : 27u) - 4u;
    if (mps > OCKAM__HCI_MAX_PDU - 4u)
        mps = OCKAM__HCI_MAX_PDU - 4u;
    if (mps < 23)
        mps = 23;
    ockam__l2cap_params p = {
        .rx_mtu = 65535,
        .rx_mps = (uint16_t)mps,
        .rx_credits = t->cfg.credits,
        .listen_spsm = k->outgoing ? 0 : t->cfg.spsm,
    };
    ockam__l2cap_cbs cbs = {
        .user = k,
        .opened = on_opened,
        .refused = on_refused,
        .sdu = on_sdu,
        .sdu_sent = on_sdu_sent,
        .closed = on_chan_closed,
    };
    ockam__l2cap_init(&k->l2, &p, &cbs);
    k->ch = -1;
}

/* ---- the sender worker --------------------------------------------------------------- */

static void begin_drain(ockam_ble_link *k);

static void
sender_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_ble_link *k = user;
    if (msg == k->close_marker) {
        k->close_marker = NULL;
        ockam_msg_free(msg);
        begin_drain(k);
        return;
    }
    ockam_route_pop_front(&msg->onward);
    (void)ockam__ble_link_send(k, msg);
}

static void
sender_on_stop(ockam_worker *w, void *user)
{
    ockam_ble_link *k = user;
    if (k->sender != w)
        return;
    k->sender = NULL;
    ockam__ble_link_teardown(k, OCKAM_ECLOSED, NULL);
}

ockam_ble_link *
ockam__ble_link_new(struct ockam__ble *t, bool outgoing, const char *peer)
{
    ockam_ble_link *k = ockam__zalloc(sizeof *k);
    if (!k)
        return NULL;
    k->t = t;
    k->outgoing = outgoing;
    snprintf(k->peer, sizeof k->peer, "%s", peer);
    ockam__policy_flow_init(&k->flow, t->node, 0);
    k->spawner = outgoing ? 0 : t->listener_flow;
    k->last_rx = k->last_tx = ockam__ble_now(t);
    k->deadline = k->last_rx + t->cfg.connect_timeout_ms;
    k->state = outgoing ? BLE_SCANNING : BLE_OPENING;
    ockam__ble_link_init_l2cap(k);
    ockam_worker_opts opts
        = {.on_message = sender_on_message, .on_stop = sender_on_stop, .user = k};
    if (ockam_worker_start(t->node, NULL, &opts, &k->sender) != OCKAM_OK) {
        ockam__policy_flow_fini(&k->flow);
        ockam__free(k);
        return NULL;
    }
    ockam_addr a = ockam_worker_addr(k->sender);
    memcpy(k->addr, a.bytes, a.len);
    k->addr[a.len] = '\0';
    (void)ockam__policy_open_sender(t->node, k->addr);
    k->next = t->links;
    t->links = k;
    return k;
}

/* ---- state changes ------------------------------------------------------------------- */

void
ockam__ble_link_report(ockam_ble_link *k, ockam_err status)
{
    while (k->waiters) {
        struct ble_waiter *w = k->waiters;
        k->waiters = w->next;
        ockam_ble_connect_cb done = w->done;
        void *arg = w->arg;
        ockam__free(w);
        done(k, status, arg);
    }
}

void
ockam__ble_link_channel_up(ockam_ble_link *k)
{
    k->state = BLE_UP;
    k->last_rx = k->last_tx = ockam__ble_now(k->t);
    OCKAM_LOG_I("ble %s: link up (%s)", k->peer, k->addr);
    ockam__ble_link_feed(k);
    ockam__ble_pump(k->t);
    ockam__ble_link_report(k, OCKAM_OK);
}

static void
finish_close(ockam_ble_link *k)
{
    ockam_ble_closed_cb cb = k->on_closed;
    k->on_closed = NULL;
    if (cb)
        cb(k->stats.dropped, k->on_closed_arg);
}

void
ockam__ble_link_teardown(ockam_ble_link *k, ockam_err status, const char *why)
{
    struct ockam__ble *t = k->t;
    if (k->state == BLE_DEAD)
        return;
    if (why)
        OCKAM_LOG_W("ble %s: link closed: %s", k->peer, why);
    bool was_up = k->state == BLE_UP || k->state == BLE_DRAINING;
    if (k->state == BLE_CONNECTING)
        ockam__ble_cancel_connect(t);
    k->state = BLE_DEAD;
    drop_queue(k);
    rx_forget_all(k);
    k->rx_paused = false;
    if (k->kp) {
        ockam__ble_kpoll_close(k->kp);
        k->kp = NULL;
    }
    if (k->has_handle && !t->down && !t->shutting_down) {
        ockam__ble_disconnect(t, k->handle);
        /* Whatever still comes on that handle is not ours any more. */
        ockam__hci_forget(&t->hci, k->handle);
        k->has_handle = false;
    }
    if (k->sender) {
        ockam_worker *w = k->sender;
        k->sender = NULL;
        ockam_worker_stop(w);
    }
    ockam__policy_flow_fini(&k->flow);
    for (ockam_ble_link **p = &t->links; *p; p = &(*p)->next) {
        if (*p == k) {
            *p = k->next;
            break;
        }
    }
    if (t->pump_next == k)
        t->pump_next = NULL;
    k->next = t->dead;
    t->dead = k;
    ockam__ble_link_report(k, was_up || status == OCKAM_OK ? OCKAM_ECLOSED : status);
    finish_close(k);
    ockam__ble_discover(t);
}

void
ockam__ble_link_free(ockam_ble_link *k)
{
    ockam__l2cap_fini(&k->l2);
    ockam__free(k->krx);
    ockam__chunk_unref(k->big);
    rx_forget_all(k);
    ockam__free(k);
}

static bool
drained(const ockam_ble_link *k)
{
    if (k->kp)
        return !k->cur && !k->q_head && !k->ktx_busy;
    return !k->cur && !k->q_head && !ockam__l2cap_tx_busy(&k->l2, k->ch)
        && ockam__hci_acl_ready(&k->t->hci);
}

static void
begin_drain(ockam_ble_link *k)
{
    if (k->state != BLE_UP) {
        ockam__ble_link_teardown(k, OCKAM_ECLOSED, NULL);
        return;
    }
    k->state = BLE_DRAINING;
    k->deadline = ockam__ble_now(k->t) + k->t->cfg.timeout_ms;
    if (k->sender) {
        ockam_worker *w = k->sender;
        k->sender = NULL;
        ockam_worker_stop(w);
    }
    ockam__ble_link_feed(k);
    ockam__ble_pump(k->t);
    if (drained(k))
        ockam__ble_link_teardown(k, OCKAM_OK, NULL);
}

void
ockam__ble_link_tick(ockam_ble_link *k, uint64_t now)
{
    switch (k->state) {
    case BLE_SCANNING:
    case BLE_CONNECTING:
    case BLE_OPENING:
        if (now >= k->deadline)
            ockam__ble_link_teardown(k, OCKAM_ETIMEDOUT, "could not connect in time");
        return;
    case BLE_UP:
        /* Consumers freed on other threads wake no loop turn: look here too. */
        if (ockam__ble_link_rx_check(k))
            k->last_rx = now; /* the peer has no credits to speak with */
        if (now - k->last_rx >= k->t->cfg.timeout_ms) {
            char why[64];
            snprintf(why, sizeof why, "nothing heard for %u ms", (unsigned)(now - k->last_rx));
            ockam__ble_link_teardown(k, OCKAM_ETIMEDOUT, why);
            return;
        }
        if (now - k->last_tx >= k->t->cfg.heartbeat_ms && !k->hb_pending) {
            k->hb_pending = true;
            ockam__ble_link_feed(k);
        }
        return;
    case BLE_DRAINING:
        if (drained(k))
            ockam__ble_link_teardown(k, OCKAM_OK, NULL);
        else if (now >= k->deadline)
            ockam__ble_link_teardown(k, OCKAM_ETIMEDOUT, "closing: queue not sent in time");
        return;
    case BLE_DEAD:
        return;
    }
}

/* ---- public API ---------------------------------------------------------------------- */

const char *
ockam_ble_link_address(const ockam_ble_link *link)
{
    return link->addr;
}

const char *
ockam_ble_link_peer(const ockam_ble_link *link)
{
    return link->peer;
}

bool
ockam_ble_link_is_outgoing(const ockam_ble_link *link)
{
    return link->outgoing;
}

const char *
ockam_ble_link_state(const ockam_ble_link *link)
{
    static const char *const names[]
        = {"scanning", "connecting", "opening", "up", "closing", "closed"};
    return names[link->state];
}

ockam_flow_id
ockam_ble_link_flow_id(const ockam_ble_link *link)
{
    return link->flow.id;
}

void
ockam_ble_link_stats(const ockam_ble_link *link, struct ockam_ble_stats *out)
{
    *out = link->stats;
    out->queued_bytes = link->queued;
}

void
ockam_ble_link_close(ockam_ble_link *link, ockam_ble_closed_cb done, void *arg)
{
    if (link->state == BLE_DEAD || link->on_closed || link->close_marker)
        return;
    link->on_closed = done;
    link->on_closed_arg = arg;
    /* Through the sender's mailbox, so messages already sent to the link go first. */
    ockam_msg *marker = ockam_msg_new();
    if (link->sender && marker
        && ockam_route_push_back(&marker->onward, ockam_addr_local(link->addr)) == OCKAM_OK) {
        link->close_marker = marker;
        if (ockam_forward(link->sender, marker) == OCKAM_OK)
            return;
        link->close_marker = NULL;
    } else {
        ockam_msg_free(marker);
    }
    begin_drain(link);
}

/* ---- the `bluez` controller: one kernel socket per link -------------------------------- */

static void
kpoll_closed(uv_handle_t *h)
{
    struct ble_kpoll *kp = (struct ble_kpoll *)h;
    close(kp->fd);
    ockam__free(kp);
}

void
ockam__ble_kpoll_close(struct ble_kpoll *kp)
{
    kp->poll.data = NULL;
    uv_close((uv_handle_t *)&kp->poll, kpoll_closed);
}

static void on_kpoll(uv_poll_t *p, int status, int events);

static void
kernel_events(ockam_ble_link *k)
{
    if (!k->kp)
        return;
    int ev
        = (k->rx_paused ? 0 : UV_READABLE) | (k->kconnecting || k->kwant_write ? UV_WRITABLE : 0);
    uv_poll_start(&k->kp->poll, ev, on_kpoll);
}

void
ockam__ble_link_kernel_pump(ockam_ble_link *k)
{
    k->kwant_write = false;
    for (int i = 0;
         i < 64 && !k->kconnecting && k->kp && (k->state == BLE_UP || k->state == BLE_DRAINING);
         i++) {
        if (!k->ktx_busy)
            ockam__ble_link_feed(k);
        if (!k->ktx_busy)
            break;
        ssize_t n = send(k->kp->fd, k->ktx, k->ktx_len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            k->kwant_write = true;
            break;
        }
        if (n < 0 || (size_t)n != k->ktx_len) {
            ockam__ble_link_teardown(k, OCKAM_ECONNRESET, "send on the channel failed");
            return;
        }
        k->ktx_busy = false;
        k->last_tx = ockam__ble_now(k->t);
        sdu_done(k);
        if (i == 63)
            k->kwant_write = true; /* more next turn */
    }
    kernel_events(k);
}

static void
kernel_read(ockam_ble_link *k)
{
    for (int i = 0; i < 16 && k->kp && k->state != BLE_DEAD; i++) {
        ssize_t n = recv(k->kp->fd, k->krx, 65536, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            ockam__ble_link_teardown(k, OCKAM_ECONNRESET,
                n == 0 ? "peer closed the channel" : "receive on the channel failed");
            return;
        }
        k->last_rx = ockam__ble_now(k->t);
        on_sdu(k, 0, k->krx, (size_t)n);
    }
}

static void
on_kpoll(uv_poll_t *p, int status, int events)
{
    ockam_ble_link *k = p->data;
    if (!k)
        return;
    if (status < 0) {
        ockam__ble_link_teardown(k, OCKAM_ECONNRESET, "channel socket error");
    } else if (k->kconnecting && (events & UV_WRITABLE)) {
        ockam_err err = ockam__bluez_connect_result(k->kp->fd);
        if (err) {
            ockam__ble_link_teardown(k, err, "could not connect");
        } else {
            k->kconnecting = false;
            k->kmtu = ockam__bluez_tx_mtu(k->kp->fd);
            ockam__ble_link_channel_up(k);
        }
    } else {
        if (events & UV_READABLE)
            kernel_read(k);
        if (k->kp && k->state != BLE_DEAD && (events & UV_WRITABLE))
            ockam__ble_link_kernel_pump(k);
    }
    ockam__ble_pump(k->t);
}

ockam_err
ockam__ble_link_kernel_attach(ockam_ble_link *k, int fd, bool connecting)
{
    struct ble_kpoll *kp = ockam__zalloc(sizeof *kp);
    k->krx = ockam__alloc(65536);
    if (!kp || !k->krx || uv_poll_init(ockam__node_loop(k->t->node), &kp->poll, fd) != 0) {
        ockam__free(kp);
        close(fd);
        return OCKAM_ENOMEM;
    }
    kp->fd = fd;
    kp->poll.data = k;
    k->kp = kp;
    k->kconnecting = connecting;
    k->state = BLE_OPENING;
    if (!connecting) {
        k->kmtu = ockam__bluez_tx_mtu(fd);
        ockam__ble_link_channel_up(k);
    }
    kernel_events(k);
    return OCKAM_OK;
}
