/* Sans-IO L2CAP LE signalling and credit-based channels (see l2cap.h). */
#include "transport/ble/l2cap.h"
#include "transport/ble/hci.h"

#define SIG_REJECT 0x01
#define SIG_DISCONN_REQ 0x06
#define SIG_DISCONN_RSP 0x07
#define SIG_CONN_PARAM_REQ 0x12
#define SIG_CONN_PARAM_RSP 0x13
#define SIG_LE_CONN_REQ 0x14
#define SIG_LE_CONN_RSP 0x15
#define SIG_CREDITS 0x16

#define RES_OK 0x0000
#define RES_BAD_SPSM 0x0002
#define RES_NO_RESOURCES 0x0004
#define RES_BAD_SCID 0x0009
#define RES_SCID_TAKEN 0x000A
#define RES_BAD_PARAMS 0x000B

#define MIN_MTU 23u

static ockam_err
bad(ockam__l2cap *l, const char *why)
{
    l->error = why;
    return OCKAM_EPROTO;
}

/* ---- signalling output --------------------------------------------------------------- */

static ockam_err
sig_push(ockam__l2cap *l, uint8_t code, uint8_t ident, const uint8_t *data, uint16_t len)
{
    if (l->sig_count == OCKAM__L2CAP_SIG_QUEUE)
        return bad(l, "too much signalling to answer");
    unsigned i = (l->sig_head + l->sig_count) % OCKAM__L2CAP_SIG_QUEUE;
    uint8_t *p = l->sig[i];
    ockam__put16le(p, (uint16_t)(4 + len));
    ockam__put16le(p + 2, OCKAM__L2CAP_CID_SIGNALLING);
    p[4] = code;
    p[5] = ident;
    ockam__put16le(p + 6, len);
    memcpy(p + 8, data, len);
    l->sig_len[i] = (uint8_t)(8 + len);
    l->sig_count++;
    return OCKAM_OK;
}

static uint8_t
new_ident(ockam__l2cap *l)
{
    if (++l->next_ident == 0)
        l->next_ident = 1;
    return l->next_ident;
}

/* ---- channels ------------------------------------------------------------------------ */

static int
chan_free_slot(ockam__l2cap *l)
{
    for (int i = 0; i < OCKAM__L2CAP_MAX_CHANS; i++) {
        if (l->ch[i].state == OCKAM__L2CAP_FREE)
            return i;
    }
    return -1;
}

static int
chan_by_scid(ockam__l2cap *l, uint16_t scid)
{
    for (int i = 0; i < OCKAM__L2CAP_MAX_CHANS; i++) {
        if (l->ch[i].state != OCKAM__L2CAP_FREE && l->ch[i].scid == scid)
            return i;
    }
    return -1;
}

static int
chan_by_dcid(ockam__l2cap *l, uint16_t dcid)
{
    for (int i = 0; i < OCKAM__L2CAP_MAX_CHANS; i++) {
        if (l->ch[i].state == OCKAM__L2CAP_OPEN && l->ch[i].dcid == dcid)
            return i;
    }
    return -1;
}

static void
chan_release(ockam__l2cap *l, int i)
{
    ockam__free(l->ch[i].rx_sdu);
    memset(&l->ch[i], 0, sizeof l->ch[i]);
}

static ockam_err
chan_open(ockam__l2cap *l, int i, uint16_t dcid, uint16_t mtu, uint16_t mps, uint16_t credits)
{
    struct ockam__l2cap_chan *c = &l->ch[i];
    if (!(c->rx_sdu = ockam__alloc(l->p.rx_mtu))) {
        l->error = "out of memory";
        return OCKAM_ENOMEM;
    }
    c->state = OCKAM__L2CAP_OPEN;
    c->dcid = dcid;
    c->tx_mtu = mtu;
    c->tx_mps = mps;
    c->tx_credits = credits;
    c->rx_credits = l->p.rx_credits;
    return OCKAM_OK;
}

/* ---- signalling input ---------------------------------------------------------------- */

static ockam_err
conn_rsp_send(ockam__l2cap *l, uint8_t ident, uint16_t scid, uint16_t result)
{
    uint8_t d[10];
    ockam__put16le(d, result == RES_OK ? scid : 0);
    ockam__put16le(d + 2, result == RES_OK ? l->p.rx_mtu : 0);
    ockam__put16le(d + 4, result == RES_OK ? l->p.rx_mps : 0);
    ockam__put16le(d + 6, result == RES_OK ? l->p.rx_credits : 0);
    ockam__put16le(d + 8, result);
    return sig_push(l, SIG_LE_CONN_RSP, ident, d, sizeof d);
}

static uint16_t
conn_req_check(ockam__l2cap *l, uint16_t spsm, uint16_t dcid, uint16_t mtu, uint16_t mps)
{
    if (l->p.listen_spsm == 0 || spsm != l->p.listen_spsm)
        return RES_BAD_SPSM;
    if (dcid < OCKAM__L2CAP_CID_DYN_FIRST || dcid > OCKAM__L2CAP_CID_DYN_LAST)
        return RES_BAD_SCID;
    for (int i = 0; i < OCKAM__L2CAP_MAX_CHANS; i++) {
        if (l->ch[i].state != OCKAM__L2CAP_FREE && l->ch[i].dcid == dcid)
            return RES_SCID_TAKEN;
    }
    if (mtu < MIN_MTU || mps < MIN_MTU || mps > 65533)
        return RES_BAD_PARAMS;
    return chan_free_slot(l) < 0 ? RES_NO_RESOURCES : RES_OK;
}

static ockam_err
on_conn_req(ockam__l2cap *l, uint8_t ident, const uint8_t *d, size_t n)
{
    if (n != 10)
        return bad(l, "malformed LE credit-based connection request");
    uint16_t spsm = ockam__get16le(d), dcid = ockam__get16le(d + 2);
    uint16_t mtu = ockam__get16le(d + 4), mps = ockam__get16le(d + 6);
    uint16_t credits = ockam__get16le(d + 8);
    uint16_t res = conn_req_check(l, spsm, dcid, mtu, mps);
    if (res != RES_OK)
        return conn_rsp_send(l, ident, 0, res);
    int i = chan_free_slot(l);
    l->ch[i].scid = (uint16_t)(OCKAM__L2CAP_CID_DYN_FIRST + i);
    l->ch[i].spsm = spsm;
    ockam_err err = chan_open(l, i, dcid, mtu, mps, credits);
    if (err) {
        l->ch[i].state = OCKAM__L2CAP_FREE;
        return err;
    }
    err = conn_rsp_send(l, ident, l->ch[i].scid, RES_OK);
    if (err)
        return err;
    if (l->cbs.opened)
        l->cbs.opened(l->cbs.user, i);
    return OCKAM_OK;
}

static ockam_err
on_conn_rsp(ockam__l2cap *l, uint8_t ident, const uint8_t *d, size_t n)
{
    if (n != 10)
        return bad(l, "malformed LE credit-based connection response");
    int i;
    for (i = 0; i < OCKAM__L2CAP_MAX_CHANS; i++) {
        if (l->ch[i].state == OCKAM__L2CAP_CONNECTING && l->ch[i].ident == ident)
            break;
    }
    if (i == OCKAM__L2CAP_MAX_CHANS)
        return OCKAM_OK; /* an answer to nothing we asked: ignored */
    uint16_t dcid = ockam__get16le(d), mtu = ockam__get16le(d + 2), mps = ockam__get16le(d + 4);
    uint16_t credits = ockam__get16le(d + 6), res = ockam__get16le(d + 8);
    if (res == RES_OK
        && (dcid < OCKAM__L2CAP_CID_DYN_FIRST || dcid > OCKAM__L2CAP_CID_DYN_LAST || mtu < MIN_MTU
            || mps < MIN_MTU || mps > 65533))
        return bad(l, "LE credit-based connection response with invalid parameters");
    if (res != RES_OK) {
        chan_release(l, i);
        if (l->cbs.refused)
            l->cbs.refused(l->cbs.user, i, res);
        return OCKAM_OK;
    }
    ockam_err err = chan_open(l, i, dcid, mtu, mps, credits);
    if (err)
        return err;
    if (l->cbs.opened)
        l->cbs.opened(l->cbs.user, i);
    return OCKAM_OK;
}

static ockam_err
on_credits(ockam__l2cap *l, const uint8_t *d, size_t n)
{
    if (n != 4)
        return bad(l, "malformed flow control credit indication");
    int i = chan_by_dcid(l, ockam__get16le(d));
    if (i < 0)
        return OCKAM_OK; /* a channel that just closed */
    l->ch[i].tx_credits += ockam__get16le(d + 2);
    if (l->ch[i].tx_credits > 65535)
        return bad(l, "peer gave more than 65535 credits");
    return OCKAM_OK;
}

static ockam_err
on_disconn_req(ockam__l2cap *l, uint8_t ident, const uint8_t *d, size_t n)
{
    if (n != 4)
        return bad(l, "malformed disconnection request");
    uint16_t ours = ockam__get16le(d), theirs = ockam__get16le(d + 2);
    int i = chan_by_scid(l, ours);
    if (i < 0 || l->ch[i].dcid != theirs) {
        uint8_t r[6] = {0x02, 0x00}; /* invalid CID in request */
        memcpy(r + 2, d, 4);
        return sig_push(l, SIG_REJECT, ident, r, sizeof r);
    }
    ockam_err err = sig_push(l, SIG_DISCONN_RSP, ident, d, 4);
    chan_release(l, i);
    if (l->cbs.closed)
        l->cbs.closed(l->cbs.user, i);
    return err;
}

static ockam_err
on_disconn_rsp(ockam__l2cap *l, const uint8_t *d, size_t n)
{
    if (n != 4)
        return bad(l, "malformed disconnection response");
    int i = chan_by_scid(l, ockam__get16le(d + 2));
    if (i < 0 || l->ch[i].state != OCKAM__L2CAP_DISCONNECTING)
        return OCKAM_OK;
    chan_release(l, i);
    if (l->cbs.closed)
        l->cbs.closed(l->cbs.user, i);
    return OCKAM_OK;
}

static ockam_err
signalling_in(ockam__l2cap *l, const uint8_t *p, size_t n)
{
    if (n < 4 || ockam__get16le(p + 2) != n - 4)
        return bad(l, "malformed signalling frame");
    uint8_t code = p[0], ident = p[1];
    const uint8_t *d = p + 4;
    n -= 4;
    if (ident == 0)
        return bad(l, "signalling command with identifier 0");
    switch (code) {
    case SIG_LE_CONN_REQ:
        return on_conn_req(l, ident, d, n);
    case SIG_LE_CONN_RSP:
        return on_conn_rsp(l, ident, d, n);
    case SIG_CREDITS:
        return on_credits(l, d, n);
    case SIG_DISCONN_REQ:
        return on_disconn_req(l, ident, d, n);
    case SIG_DISCONN_RSP:
        return on_disconn_rsp(l, d, n);
    case SIG_CONN_PARAM_REQ: {
        uint8_t r[2] = {0x01, 0x00}; /* parameters rejected: we keep what we have */
        return n == 8 ? sig_push(l, SIG_CONN_PARAM_RSP, ident, r, sizeof r)
                      : bad(l, "malformed connection parameter update request");
    }
    case SIG_REJECT:
        return OCKAM_OK;
    default: {
        uint8_t r[2] = {0x00, 0x00}; /* command not understood */
        return sig_push(l, SIG_REJECT, ident, r, sizeof r);
    }
    }
}

/* ---- data input ---------------------------------------------------------------------- */

static ockam_err
return_credits(ockam__l2cap *l, struct ockam__l2cap_chan *c)
{
    if (c->rx_hold || c->rx_credits > l->p.rx_credits / 2)
        return OCKAM_OK;
    uint8_t d[4];
    ockam__put16le(d, c->scid);
    ockam__put16le(d + 2, (uint16_t)(l->p.rx_credits - c->rx_credits));
    c->rx_credits = l->p.rx_credits;
    return sig_push(l, SIG_CREDITS, new_ident(l), d, sizeof d);
}

static ockam_err
kframe_in(ockam__l2cap *l, int i, const uint8_t *p, size_t n)
{
    struct ockam__l2cap_chan *c = &l->ch[i];
    if (n > l->p.rx_mps)
        return bad(l, "K-frame larger than our MPS");
    if (c->rx_credits == 0)
        return bad(l, "K-frame without credit");
    c->rx_credits--;
    if (!c->rx_active) {
        if (n < 2)
            return bad(l, "first K-frame without SDU length");
        c->rx_want = ockam__get16le(p);
        if (c->rx_want > l->p.rx_mtu)
            return bad(l, "SDU longer than our MTU");
        c->rx_len = 0;
        c->rx_active = true;
        p += 2;
        n -= 2;
    }
    if (n > c->rx_want - c->rx_len)
        return bad(l, "SDU longer than announced");
    memcpy(c->rx_sdu + c->rx_len, p, n);
    c->rx_len += n;
    ockam_err err = return_credits(l, c);
    if (err || c->rx_len < c->rx_want)
        return err;
    c->rx_active = false;
    if (l->cbs.sdu)
        l->cbs.sdu(l->cbs.user, i, c->rx_sdu, c->rx_len);
    return OCKAM_OK;
}

ockam_err
ockam__l2cap_input(ockam__l2cap *l, const uint8_t *frame, size_t len)
{
    if (len < 4 || ockam__get16le(frame) != len - 4)
        return bad(l, "L2CAP frame length does not match its header");
    uint16_t cid = ockam__get16le(frame + 2);
    if (cid == OCKAM__L2CAP_CID_SIGNALLING)
        return signalling_in(l, frame + 4, len - 4);
    if (cid < OCKAM__L2CAP_CID_DYN_FIRST)
        return OCKAM_OK; /* ATT, SMP...: not used by this transport */
    int i = chan_by_scid(l, cid);
    if (i < 0 || l->ch[i].state != OCKAM__L2CAP_OPEN)
        return OCKAM_OK; /* data racing a disconnection */
    return kframe_in(l, i, frame + 4, len - 4);
}

/* ---- output -------------------------------------------------------------------------- */

ockam_err
ockam__l2cap_connect(ockam__l2cap *l, uint16_t spsm, int *ch)
{
    int i = chan_free_slot(l);
    if (i < 0 || l->sig_count == OCKAM__L2CAP_SIG_QUEUE)
        return OCKAM_EBUSY;
    struct ockam__l2cap_chan *c = &l->ch[i];
    memset(c, 0, sizeof *c);
    c->state = OCKAM__L2CAP_CONNECTING;
    c->scid = (uint16_t)(OCKAM__L2CAP_CID_DYN_FIRST + i);
    c->spsm = spsm;
    c->ident = new_ident(l);
    uint8_t d[10];
    ockam__put16le(d, spsm);
    ockam__put16le(d + 2, c->scid);
    ockam__put16le(d + 4, l->p.rx_mtu);
    ockam__put16le(d + 6, l->p.rx_mps);
    ockam__put16le(d + 8, l->p.rx_credits);
    (void)sig_push(l, SIG_LE_CONN_REQ, c->ident, d, sizeof d);
    *ch = i;
    return OCKAM_OK;
}

ockam_err
ockam__l2cap_send_sdu(ockam__l2cap *l, int ch, const uint8_t *sdu, size_t len)
{
    struct ockam__l2cap_chan *c = &l->ch[ch];
    if (c->state != OCKAM__L2CAP_OPEN)
        return OCKAM_ECLOSED;
    if (c->tx_busy)
        return OCKAM_EBUSY;
    if (len > c->tx_mtu)
        return OCKAM_EMSGSIZE;
    c->tx_sdu = sdu;
    c->tx_len = len;
    c->tx_off = 0;
    c->tx_busy = true;
    return OCKAM_OK;
}

ockam_err
ockam__l2cap_disconnect(ockam__l2cap *l, int ch)
{
    struct ockam__l2cap_chan *c = &l->ch[ch];
    if (c->state != OCKAM__L2CAP_OPEN)
        return OCKAM_ECLOSED;
    uint8_t d[4];
    ockam__put16le(d, c->dcid);
    ockam__put16le(d + 2, c->scid);
    ockam_err err = sig_push(l, SIG_DISCONN_REQ, new_ident(l), d, sizeof d);
    if (err)
        return OCKAM_EBUSY;
    c->state = OCKAM__L2CAP_DISCONNECTING;
    c->tx_busy = false;
    return OCKAM_OK;
}

static size_t
kframe_out(ockam__l2cap *l, int i, uint8_t *out, size_t cap)
{
    struct ockam__l2cap_chan *c = &l->ch[i];
    size_t room = c->tx_mps < cap - 4 ? c->tx_mps : cap - 4;
    size_t head = c->tx_off == 0 ? 2 : 0;
    size_t n = c->tx_len - c->tx_off;
    if (n > room - head)
        n = room - head;
    ockam__put16le(out, (uint16_t)(head + n));
    ockam__put16le(out + 2, c->dcid);
    if (head)
        ockam__put16le(out + 4, (uint16_t)c->tx_len);
    memcpy(out + 4 + head, c->tx_sdu + c->tx_off, n);
    c->tx_off += n;
    c->tx_credits--;
    if (c->tx_off == c->tx_len) {
        c->tx_busy = false;
        c->tx_sdu = NULL;
        if (l->cbs.sdu_sent)
            l->cbs.sdu_sent(l->cbs.user, i);
    }
    return 4 + head + n;
}

size_t
ockam__l2cap_next_pdu(ockam__l2cap *l, uint8_t *out, size_t cap)
{
    if (cap < 4 + MIN_MTU)
        return 0;
    if (l->sig_count) {
        size_t n = l->sig_len[l->sig_head];
        memcpy(out, l->sig[l->sig_head], n);
        l->sig_head = (l->sig_head + 1) % OCKAM__L2CAP_SIG_QUEUE;
        l->sig_count--;
        return n;
    }
    for (unsigned k = 0; k < OCKAM__L2CAP_MAX_CHANS; k++) {
        int i = (int)((l->rr + k) % OCKAM__L2CAP_MAX_CHANS);
        struct ockam__l2cap_chan *c = &l->ch[i];
        if (c->state == OCKAM__L2CAP_OPEN && c->tx_busy && c->tx_credits > 0) {
            l->rr = (unsigned)i + 1;
            return kframe_out(l, i, out, cap);
        }
    }
    return 0;
}

uint16_t
ockam__l2cap_tx_mtu(const ockam__l2cap *l, int ch)
{
    return l->ch[ch].state == OCKAM__L2CAP_OPEN ? l->ch[ch].tx_mtu : 0;
}

bool
ockam__l2cap_tx_busy(const ockam__l2cap *l, int ch)
{
    return l->ch[ch].tx_busy;
}

void
ockam__l2cap_init(ockam__l2cap *l, const ockam__l2cap_params *p, const ockam__l2cap_cbs *cbs)
{
    memset(l, 0, sizeof *l);
    l->p = *p;
    l->cbs = *cbs;
}

void
ockam__l2cap_fini(ockam__l2cap *l)
{
    for (int i = 0; i < OCKAM__L2CAP_MAX_CHANS; i++)
        chan_release(l, i);
}

ockam_err
ockam__l2cap_hold_credits(ockam__l2cap *l, int ch, bool hold)
{
    if (ch < 0 || ch >= OCKAM__L2CAP_MAX_CHANS || l->ch[ch].state != OCKAM__L2CAP_OPEN)
        return OCKAM_ECLOSED;
    struct ockam__l2cap_chan *c = &l->ch[ch];
    if (hold || !c->rx_hold) {
        c->rx_hold = hold;
        return OCKAM_OK;
    }
    /* Releasing: the credits must go out now, or the peer (which may have none left) never
     * sends again. With the signalling queue full, stay held and let the owner retry. */
    if (c->rx_credits <= l->p.rx_credits / 2 && l->sig_count == OCKAM__L2CAP_SIG_QUEUE)
        return OCKAM_EBUSY;
    c->rx_hold = false;
    return return_credits(l, c);
}
