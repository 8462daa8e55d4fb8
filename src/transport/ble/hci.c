/* Sans-IO HCI for an LE host (see hci.h for the rules). */
#include "transport/ble/hci.h"

#define H4_CMD 0x01
#define H4_ACL 0x02
#define H4_EVT 0x04

#define EVT_DISCONN_COMPLETE 0x05
#define EVT_CMD_COMPLETE 0x0E
#define EVT_CMD_STATUS 0x0F
#define EVT_HW_ERROR 0x10
#define EVT_NUM_COMPLETED 0x13
#define EVT_BUFFER_OVERFLOW 0x1A
#define EVT_LE_META 0x3E
#define LE_CONN_COMPLETE 0x01
#define LE_ADV_REPORT 0x02

/* Largest ACL fragment we send, whatever the controller says it can take. */
#define MAX_FRAGMENT 1024u

/* ---- helpers ------------------------------------------------------------------------- */

static void
fail(ockam__hci *h, const char *why)
{
    if (h->failed)
        return;
    h->failed = true;
    h->cmd_count = 0;
    h->out_busy = false;
    if (h->cbs.fail)
        h->cbs.fail(h->cbs.user, why);
}

static struct ockam__hci_conn *
conn_find(ockam__hci *h, uint16_t handle)
{
    for (size_t i = 0; i < OCKAM__HCI_MAX_CONNS; i++) {
        if (h->conns[i].used && h->conns[i].handle == handle)
            return &h->conns[i];
    }
    return NULL;
}

static unsigned
total_in_flight(const ockam__hci *h)
{
    unsigned n = 0;
    for (size_t i = 0; i < OCKAM__HCI_MAX_CONNS; i++)
        n += h->conns[i].used ? h->conns[i].in_flight : 0;
    return n;
}

/* ---- commands ------------------------------------------------------------------------ */

static void
send_next_command(ockam__hci *h)
{
    if (h->failed || h->cmd_busy || h->cmd_count == 0)
        return;
    struct ockam__hci_cmd *c = &h->cmds[h->cmd_head];
    uint8_t pkt[4 + OCKAM__HCI_MAX_PARAMS];
    pkt[0] = H4_CMD;
    ockam__put16le(pkt + 1, c->opcode);
    pkt[3] = c->len;
    memcpy(pkt + 4, c->params, c->len);
    h->cmd_busy = true;
    h->cmd_opcode = c->opcode;
    h->cmd_deadline = h->now + h->cmd_timeout_ms;
    h->cmd_head = (h->cmd_head + 1) % OCKAM__HCI_CMD_QUEUE;
    h->cmd_count--;
    h->cbs.write(h->cbs.user, pkt, 4u + c->len);
}

ockam_err
ockam__hci_command(ockam__hci *h, uint16_t opcode, const void *params, uint8_t len)
{
    if (h->failed)
        return OCKAM_ECLOSED;
    if (h->cmd_count == OCKAM__HCI_CMD_QUEUE)
        return OCKAM_EBUSY;
    struct ockam__hci_cmd *c = &h->cmds[(h->cmd_head + h->cmd_count) % OCKAM__HCI_CMD_QUEUE];
    c->opcode = opcode;
    c->len = len;
    if (len)
        memcpy(c->params, params, len);
    h->cmd_count++;
    send_next_command(h);
    return OCKAM_OK;
}

static void
maybe_ready(ockam__hci *h)
{
    if (h->ready || h->init_step != 0 || h->acl_mtu == 0 || h->acl_pkts == 0)
        return;
    h->ready = true;
    h->acl_credits = 1; /* one fragment in flight, whatever the controller has */
    if (h->cbs.ready)
        h->cbs.ready(h->cbs.user, h->bdaddr, h->acl_mtu, h->acl_pkts);
}

/* Results of the initialisation commands; false if the opcode is not one of them. */
static bool
init_result(ockam__hci *h, uint16_t opcode, const uint8_t *r, size_t n)
{
    switch (opcode) {
    case OCKAM__HCI_OP_RESET:
    case OCKAM__HCI_OP_SET_EVENT_MASK:
    case OCKAM__HCI_OP_LE_SET_EVENT_MASK:
        break;
    case OCKAM__HCI_OP_LE_READ_BUFFER_SIZE:
        if (n >= 4 && r[0] == 0 && ockam__get16le(r + 1) != 0 && r[3] != 0) {
            h->acl_mtu = ockam__get16le(r + 1);
            h->acl_pkts = r[3];
            break;
        }
        /* Shared buffers (or no LE buffer command): use the BR/EDR ones. This step is then
         * done by the Read Buffer Size answer. */
        (void)ockam__hci_command(h, OCKAM__HCI_OP_READ_BUFFER_SIZE, NULL, 0);
        return true;
    case OCKAM__HCI_OP_READ_BUFFER_SIZE:
        if (n < 8 || r[0] != 0 || ockam__get16le(r + 1) == 0 || ockam__get16le(r + 4) == 0) {
            fail(h, "controller reports no ACL buffers");
            return true;
        }
        h->acl_mtu = ockam__get16le(r + 1);
        h->acl_pkts = ockam__get16le(r + 4);
        break;
    case OCKAM__HCI_OP_READ_BD_ADDR:
        if (n < 7) {
            fail(h, "malformed Read BD_ADDR answer");
            return true;
        }
        memcpy(h->bdaddr, r + 1, 6);
        break;
    default:
        return false;
    }
    if (n < 1 || r[0] != 0) {
        fail(h, "controller refused an initialisation command");
        return true;
    }
    h->init_step--;
    maybe_ready(h);
    return true;
}

static void
command_result(ockam__hci *h, uint16_t opcode, const uint8_t *r, size_t n, bool status_event)
{
    if (opcode == 0 || !h->cmd_busy || opcode != h->cmd_opcode)
        return; /* NOP, or an answer to nothing we asked: ignore */
    h->cmd_busy = false;
    uint8_t status = n ? r[0] : 0xFF;
    if (!h->ready && init_result(h, opcode, r, n)) {
        send_next_command(h);
        return;
    }
    if (!(status_event && status == 0) && h->cbs.cmd_done)
        h->cbs.cmd_done(h->cbs.user, opcode, status);
    send_next_command(h);
}

/* ---- ACL output ---------------------------------------------------------------------- */

static void
pump_acl(ockam__hci *h)
{
    while (h->out_busy && !h->failed && total_in_flight(h) < h->acl_credits) {
        struct ockam__hci_conn *c = conn_find(h, h->out_handle);
        if (!c) {
            h->out_busy = false;
            break;
        }
        size_t mtu = h->acl_mtu < MAX_FRAGMENT ? h->acl_mtu : MAX_FRAGMENT;
        size_t n = h->out_len - h->out_off;
        if (n > mtu)
            n = mtu;
        uint8_t pkt[5 + MAX_FRAGMENT];
        uint16_t pb = h->out_off == 0 ? 0x0000 : 0x1000; /* first non-flushable / continuation */
        pkt[0] = H4_ACL;
        ockam__put16le(pkt + 1, (uint16_t)(h->out_handle | pb));
        ockam__put16le(pkt + 3, (uint16_t)n);
        memcpy(pkt + 5, h->out + h->out_off, n);
        h->out_off += n;
        c->in_flight++;
        h->acl_deadline = h->now + h->cmd_timeout_ms;
        if (h->out_off == h->out_len)
            h->out_busy = false;
        h->cbs.write(h->cbs.user, pkt, 5 + n);
    }
    if (!h->out_busy && !h->failed && h->ready && h->cbs.acl_idle)
        h->cbs.acl_idle(h->cbs.user);
}

bool
ockam__hci_acl_ready(const ockam__hci *h)
{
    return h->ready && !h->failed && !h->out_busy;
}

ockam_err
ockam__hci_acl_send(ockam__hci *h, uint16_t handle, const uint8_t *frame, size_t len)
{
    if (h->failed)
        return OCKAM_ECLOSED;
    if (!h->ready || h->out_busy)
        return OCKAM_EBUSY;
    if (len == 0 || len > OCKAM__HCI_MAX_PDU)
        return OCKAM_EMSGSIZE;
    if (!conn_find(h, handle))
        return OCKAM_ENOENT;
    memcpy(h->out, frame, len);
    h->out_len = len;
    h->out_off = 0;
    h->out_handle = handle;
    h->out_busy = true;
    pump_acl(h);
    return OCKAM_OK;
}

/* ---- connections --------------------------------------------------------------------- */

static struct ockam__hci_conn *
conn_add(ockam__hci *h, uint16_t handle)
{
    if (conn_find(h, handle))
        return NULL; /* the controller reused a live handle: refuse the new one */
    for (size_t i = 0; i < OCKAM__HCI_MAX_CONNS; i++) {
        struct ockam__hci_conn *c = &h->conns[i];
        if (!c->used) {
            memset(c, 0, sizeof *c);
            c->used = true;
            c->handle = handle;
            return c;
        }
    }
    return NULL;
}

void
ockam__hci_forget(ockam__hci *h, uint16_t handle)
{
    struct ockam__hci_conn *c = conn_find(h, handle);
    if (!c)
        return;
    ockam__free(c->rx);
    memset(c, 0, sizeof *c); /* its packets in flight are flushed by the controller */
    if (h->out_busy && h->out_handle == handle)
        h->out_busy = false;
    pump_acl(h);
}

/* ---- ACL input ----------------------------------------------------------------------- */

static void
acl_error(ockam__hci *h, struct ockam__hci_conn *c, const char *why)
{
    c->rx_len = c->rx_want = 0;
    if (h->cbs.link_error)
        h->cbs.link_error(h->cbs.user, c->handle, why);
}

static void
acl_in(ockam__hci *h, const uint8_t *p, size_t n)
{
    uint16_t hf = ockam__get16le(p);
    uint16_t handle = hf & 0x0FFF, pb = (hf >> 12) & 3;
    const uint8_t *d = p + 4;
    size_t dlen = n - 4;
    struct ockam__hci_conn *c = conn_find(h, handle);
    if (!c) {
        OCKAM_LOG_W("ble: ACL data for unknown handle 0x%03x dropped", handle);
        return;
    }
    bool start = pb != 1;
    if (start && c->rx_len) {
        acl_error(h, c, "a new L2CAP frame began before the previous one ended");
        return;
    }
    if (!start && c->rx_len == 0) {
        acl_error(h, c, "ACL continuation without a start");
        return;
    }
    if (!c->rx && !(c->rx = ockam__alloc(OCKAM__HCI_MAX_PDU))) {
        acl_error(h, c, "out of memory");
        return;
    }
    if (dlen > OCKAM__HCI_MAX_PDU - c->rx_len) {
        acl_error(h, c, "L2CAP frame too long");
        return;
    }
    memcpy(c->rx + c->rx_len, d, dlen);
    c->rx_len += dlen;
    if (c->rx_want == 0 && c->rx_len >= 2) {
        c->rx_want = 4u + ockam__get16le(c->rx);
        if (c->rx_want > OCKAM__HCI_MAX_PDU) {
            acl_error(h, c, "L2CAP frame too long");
            return;
        }
    }
    if (c->rx_want == 0 || c->rx_len < c->rx_want)
        return;
    if (c->rx_len > c->rx_want) {
        acl_error(h, c, "ACL data beyond the end of the L2CAP frame");
        return;
    }
    size_t len = c->rx_len;
    c->rx_len = c->rx_want = 0;
    h->cbs.l2cap(h->cbs.user, handle, c->rx, len);
}

/* ---- events -------------------------------------------------------------------------- */

static void
evt_completed(ockam__hci *h, const uint8_t *p, size_t n)
{
    if (n < 1 || n < 1u + 4u * p[0]) {
        fail(h, "malformed Number Of Completed Packets event");
        return;
    }
    for (size_t i = 0; i < p[0]; i++) {
        struct ockam__hci_conn *c = conn_find(h, ockam__get16le(p + 1 + 4 * i) & 0x0FFF);
        uint16_t count = ockam__get16le(p + 3 + 4 * i);
        if (c)
            c->in_flight = count >= c->in_flight ? 0 : (uint16_t)(c->in_flight - count);
    }
    pump_acl(h);
}

static void
evt_disconnected(ockam__hci *h, const uint8_t *p, size_t n)
{
    if (n < 4) {
        fail(h, "malformed Disconnection Complete event");
        return;
    }
    uint16_t handle = ockam__get16le(p + 1) & 0x0FFF;
    if (p[0] != 0 || !conn_find(h, handle))
        return;
    ockam__hci_forget(h, handle);
    if (h->cbs.disconnected)
        h->cbs.disconnected(h->cbs.user, handle, p[3]);
}

static void
evt_conn_complete(ockam__hci *h, const uint8_t *p, size_t n)
{
    if (n < 19) {
        fail(h, "malformed LE Connection Complete event");
        return;
    }
    uint8_t status = p[1];
    uint16_t handle = ockam__get16le(p + 2) & 0x0FFF;
    if (status == 0 && conn_find(h, handle)) {
        /* A controller reuses a handle only once its connection is gone, even when it never
         * said so (BlueZ's emulator, when the peer's controller vanished). */
        ockam__hci_forget(h, handle);
        if (h->cbs.disconnected)
            h->cbs.disconnected(h->cbs.user, handle, 0x08 /* connection timeout */);
    }
    if (status == 0 && !conn_add(h, handle)) {
        OCKAM_LOG_W("ble: no room for connection 0x%03x: disconnecting", handle);
        uint8_t d[3];
        ockam__put16le(d, handle);
        d[2] = 0x13; /* remote user terminated connection */
        (void)ockam__hci_command(h, OCKAM__HCI_OP_DISCONNECT, d, sizeof d);
        return;
    }
    if (h->cbs.conn_complete)
        h->cbs.conn_complete(h->cbs.user, status, handle, p[4], p[5], p + 6);
}

/* Reports laid out one after the other (as controllers send them). */
static void
evt_adv_report(ockam__hci *h, const uint8_t *p, size_t n)
{
    if (n < 2) {
        fail(h, "malformed LE Advertising Report event");
        return;
    }
    size_t off = 2;
    for (unsigned i = 0; i < p[1]; i++) {
        if (n - off < 10 || n - off < 10u + p[off + 8]) {
            fail(h, "malformed LE Advertising Report event");
            return;
        }
        uint8_t dlen = p[off + 8];
        if (h->cbs.adv_report)
            h->cbs.adv_report(h->cbs.user, p[off + 1], p + off + 2, p + off + 9, dlen);
        off += 10u + dlen;
    }
}

static void
event_in(ockam__hci *h, uint8_t code, const uint8_t *p, size_t n)
{
    switch (code) {
    case EVT_CMD_COMPLETE:
        if (n < 3)
            fail(h, "malformed Command Complete event");
        else
            command_result(h, ockam__get16le(p + 1), p + 3, n - 3, false);
        break;
    case EVT_CMD_STATUS:
        if (n < 4)
            fail(h, "malformed Command Status event");
        else
            command_result(h, ockam__get16le(p + 2), p, 1, true);
        break;
    case EVT_DISCONN_COMPLETE:
        evt_disconnected(h, p, n);
        break;
    case EVT_NUM_COMPLETED:
        evt_completed(h, p, n);
        break;
    case EVT_HW_ERROR:
        fail(h, "controller hardware error");
        break;
    case EVT_BUFFER_OVERFLOW:
        fail(h, "controller buffer overflow");
        break;
    case EVT_LE_META:
        if (n < 1)
            fail(h, "malformed LE Meta event");
        else if (p[0] == LE_CONN_COMPLETE)
            evt_conn_complete(h, p, n);
        else if (p[0] == LE_ADV_REPORT)
            evt_adv_report(h, p, n);
        break;
    default:
        break; /* events we did not ask for are ignored */
    }
}

static void
packet_in(ockam__hci *h)
{
    if (h->in[0] == H4_EVT)
        event_in(h, h->in[1], h->in + 3, h->in_len - 3);
    else
        acl_in(h, h->in + 1, h->in_len - 1);
}

ockam_err
ockam__hci_input(ockam__hci *h, const uint8_t *buf, size_t len)
{
    while (len && !h->failed) {
        if (h->in_len == 0) {
            if (buf[0] != H4_EVT && buf[0] != H4_ACL) {
                fail(h, "unknown H4 packet type from the controller");
                break;
            }
            h->in_want = buf[0] == H4_EVT ? 3 : 5;
        }
        size_t take = h->in_want - h->in_len;
        if (take > len)
            take = len;
        memcpy(h->in + h->in_len, buf, take);
        h->in_len += take;
        buf += take;
        len -= take;
        if (h->in_len < h->in_want)
            continue;
        bool header_only = h->in_want == (h->in[0] == H4_EVT ? 3u : 5u);
        size_t plen = h->in[0] == H4_EVT ? h->in[2] : ockam__get16le(h->in + 3);
        if (header_only && plen) {
            h->in_want += plen;
            continue;
        }
        packet_in(h);
        h->in_len = h->in_want = 0;
    }
    return h->failed ? OCKAM_EPROTO : OCKAM_OK;
}

/* ---- lifecycle ----------------------------------------------------------------------- */

void
ockam__hci_init(ockam__hci *h, const ockam__hci_cbs *cbs, uint32_t cmd_timeout_ms, uint64_t now_ms)
{
    memset(h, 0, sizeof *h);
    h->cbs = *cbs;
    h->now = now_ms;
    h->cmd_timeout_ms = cmd_timeout_ms;
    /* Disconnection Complete, Command Complete/Status, Hardware Error, Number Of Completed
     * Packets, Data Buffer Overflow and LE Meta, plus the defaults. */
    static const uint8_t mask[8] = {0xFF, 0xFF, 0xFB, 0xFF, 0x07, 0xF8, 0xBF, 0x3D};
    static const uint8_t le_mask[8] = {0x1F, 0, 0, 0, 0, 0, 0, 0};
    h->init_step = 5;
    (void)ockam__hci_command(h, OCKAM__HCI_OP_RESET, NULL, 0);
    (void)ockam__hci_command(h, OCKAM__HCI_OP_SET_EVENT_MASK, mask, sizeof mask);
    (void)ockam__hci_command(h, OCKAM__HCI_OP_LE_SET_EVENT_MASK, le_mask, sizeof le_mask);
    (void)ockam__hci_command(h, OCKAM__HCI_OP_LE_READ_BUFFER_SIZE, NULL, 0);
    (void)ockam__hci_command(h, OCKAM__HCI_OP_READ_BD_ADDR, NULL, 0);
}

void
ockam__hci_fini(ockam__hci *h)
{
    for (size_t i = 0; i < OCKAM__HCI_MAX_CONNS; i++) {
        ockam__free(h->conns[i].rx);
        h->conns[i].rx = NULL;
    }
}

void
ockam__hci_tick(ockam__hci *h, uint64_t now_ms)
{
    h->now = now_ms;
    if (h->failed)
        return;
    if (h->cmd_busy && now_ms > h->cmd_deadline) {
        fail(h, "controller stopped answering commands");
        return;
    }
    if (!total_in_flight(h) || now_ms <= h->acl_deadline)
        return;
    /* The controller dropped the connection without telling us (BlueZ's emulator does when
     * the peer's controller vanishes): that link is gone, the controller is not. */
    for (size_t i = 0; i < OCKAM__HCI_MAX_CONNS; i++) {
        struct ockam__hci_conn *c = &h->conns[i];
        if (!c->used || c->in_flight == 0)
            continue;
        uint16_t handle = c->handle;
        ockam__hci_forget(h, handle);
        if (h->cbs.link_error)
            h->cbs.link_error(h->cbs.user, handle, "controller stopped completing its ACL packets");
    }
}
