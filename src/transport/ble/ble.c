/* BLE transport (address type 4): the controller (HCI link, initialisation, advertising,
 * scanning, connection set-up), the ACL pump shared by every link, the route op and the
 * node-level API. Links themselves are in ble_link.c. Rules: ockam/ble.h. */
#include "transport/ble/ble_internal.h"

#include <stdio.h>
#include <unistd.h>

#define AD_FLAGS 0x01
#define AD_SHORT_NAME 0x08
#define AD_COMPLETE_NAME 0x09
#define TICK_MS 20u
#define RETRY_MIN_MS 5u
#define RETRY_MAX_MS 200u

static const struct ockam__transport_ops ble_ops;

static struct ockam__ble *
transport_of(ockam_node *node)
{
    return ockam__transport_get(node, OCKAM_TRANSPORT_BLE);
}

uint64_t
ockam__ble_now(struct ockam__ble *t)
{
    return ockam_node_now_ms(t->node);
}

static ockam_ble_link *
link_by_handle(struct ockam__ble *t, uint16_t handle)
{
    for (ockam_ble_link *k = t->links; k; k = k->next) {
        if (k->has_handle && k->handle == handle)
            return k;
    }
    return NULL;
}

static void
reap(struct ockam__ble *t)
{
    while (t->dead) {
        ockam_ble_link *k = t->dead;
        t->dead = k->next;
        ockam__ble_link_free(k);
    }
}

/* ---- the controller going down -------------------------------------------------------- */

static void
controller_down(struct ockam__ble *t, const char *why)
{
    if (t->down)
        return;
    t->down = true;
    t->ready = false;
    OCKAM_LOG_E("ble: controller %s down: %s", t->controller, why);
    while (t->links)
        ockam__ble_link_teardown(t->links, OCKAM_ECLOSED, NULL);
}

/* ---- ACL pump: one PDU at a time, links served in turn -------------------------------- */

static bool
pump_one(struct ockam__ble *t)
{
    ockam_ble_link *start = t->pump_next ? t->pump_next : t->links;
    ockam_ble_link *k = start;
    if (!k)
        return false;
    do {
        ockam_ble_link *next = k->next ? k->next : t->links;
        if (k->has_handle && k->state != BLE_DEAD) {
            size_t n = ockam__l2cap_next_pdu(&k->l2, t->pdu, sizeof t->pdu);
            if (n) {
                t->pump_next = next;
                k->last_tx = ockam__ble_now(t);
                if (ockam__hci_acl_send(&t->hci, k->handle, t->pdu, n) != OCKAM_OK)
                    ockam__ble_link_teardown(k, OCKAM_ECLOSED, "controller refused ACL data");
                return true;
            }
        }
        k = next;
    } while (k != start && k);
    return false;
}

void
ockam__ble_pump(struct ockam__ble *t)
{
    if (t->kernel) {
        for (ockam_ble_link *k = t->links, *next; k; k = next) {
            next = k->next;
            if (k->kp && !k->kconnecting)
                ockam__ble_link_kernel_pump(k);
        }
        return;
    }
    if (t->pumping) {
        t->repump = true;
        return;
    }
    t->pumping = true;
    do {
        t->repump = false;
        while (!t->down && ockam__hci_acl_ready(&t->hci) && pump_one(t))
            ;
    } while (t->repump);
    t->pumping = false;
}

/* ---- commands ------------------------------------------------------------------------ */

static void
command(struct ockam__ble *t, uint16_t opcode, const void *params, uint8_t len)
{
    ockam_err err = ockam__hci_command(&t->hci, opcode, params, len);
    if (err == OCKAM_EBUSY)
        controller_down(t, "command queue full (controller not answering?)");
}

void
ockam__ble_disconnect(struct ockam__ble *t, uint16_t handle)
{
    uint8_t d[3];
    ockam__put16le(d, handle);
    d[2] = 0x13; /* remote user terminated connection */
    command(t, OCKAM__HCI_OP_DISCONNECT, d, sizeof d);
}

static void
start_advertising(struct ockam__ble *t)
{
    if (!t->listener_name || t->advertising || t->down)
        return;
    t->advertising = true;
    command(t, OCKAM__HCI_OP_LE_SET_ADV_ENABLE, (const uint8_t[]) {1}, 1);
}

static void
setup_advertising(struct ockam__ble *t)
{
    /* ADV_IND every 100 ms on all three channels, public address. */
    uint8_t p[15] = {0xA0, 0x00, 0xA0, 0x00, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0x07, 0x00};
    command(t, OCKAM__HCI_OP_LE_SET_ADV_PARAMS, p, sizeof p);
    uint8_t d[32] = {0};
    size_t n = strlen(t->listener_name);
    d[1] = 2;
    d[2] = AD_FLAGS;
    d[3] = 0x06; /* LE general discoverable, BR/EDR not supported */
    d[4] = (uint8_t)(n + 1);
    d[5] = AD_COMPLETE_NAME;
    memcpy(d + 6, t->listener_name, n);
    d[0] = (uint8_t)(5 + n);
    command(t, OCKAM__HCI_OP_LE_SET_ADV_DATA, d, sizeof d);
    start_advertising(t);
}

static void
set_scan(struct ockam__ble *t, bool on)
{
    if (t->scanning == on || t->down || !t->ready)
        return;
    if (on) {
        /* Passive scan: the name is in the advertising data itself. */
        uint8_t p[7] = {0x00, 0x10, 0x00, 0x10, 0x00, 0x00, 0x00};
        command(t, OCKAM__HCI_OP_LE_SET_SCAN_PARAMS, p, sizeof p);
    }
    t->scanning = on;
    uint8_t e[2] = {on ? 1 : 0, 0};
    command(t, OCKAM__HCI_OP_LE_SET_SCAN_ENABLE, e, sizeof e);
}

static void
create_connection(struct ockam__ble *t, ockam_ble_link *k)
{
    uint8_t p[25] = {0};
    ockam__put16le(p, 0x0010);     /* scan interval */
    ockam__put16le(p + 2, 0x0010); /* scan window */
    p[4] = 0;                      /* no accept list */
    p[5] = k->peer_type;
    memcpy(p + 6, k->peer_addr, 6);
    p[12] = 0;                      /* own address: public */
    ockam__put16le(p + 13, 0x0006); /* interval min 7.5 ms */
    ockam__put16le(p + 15, 0x000C); /* interval max 15 ms */
    ockam__put16le(p + 17, 0);      /* latency */
    ockam__put16le(p + 19, 0x00C8); /* supervision timeout 2 s */
    t->creating = true;
    k->state = BLE_CONNECTING;
    command(t, OCKAM__HCI_OP_LE_CREATE_CONN, p, sizeof p);
}

/* ---- discovery: names, scanning, connection attempts --------------------------------- */

static struct ble_name *
name_find(struct ockam__ble *t, const char *name)
{
    for (unsigned i = 0; i < t->nnames; i++) {
        if (strcmp(t->names[i].name, name) == 0)
            return &t->names[i];
    }
    return NULL;
}

static void
name_put(struct ockam__ble *t, const char *name, uint8_t type, const uint8_t addr[6])
{
    struct ble_name *e = name_find(t, name);
    if (!e) {
        e = &t->names[t->nnames < BLE_NAME_CACHE ? t->nnames++ : 0];
        snprintf(e->name, sizeof e->name, "%s", name);
    }
    e->type = type;
    memcpy(e->addr, addr, 6);
}

static bool
link_connecting(const struct ockam__ble *t)
{
    return t->creating;
}

/* Move links along: known names get a connection attempt (one at a time), unknown ones
 * keep the scanner on. */
/* The `bluez` controller: the name is the device address; the kernel connects. */
static void
kernel_connect(struct ockam__ble *t, ockam_ble_link *k)
{
    uint8_t addr[6], type;
    int fd;
    if (!ockam__bluez_parse_addr(k->peer, addr, &type)) {
        ockam__ble_link_teardown(k, OCKAM_EADDRINVAL,
            "with the bluez controller a peer is a device address XX:XX:XX:XX:XX:XX");
        return;
    }
    ockam_err err = ockam__bluez_connect(addr, type, t->cfg.spsm, &fd);
    if (err) {
        char why[96];
        snprintf(why, sizeof why, "cannot open an L2CAP socket: %s",
            err == OCKAM_ENOTSUP ? "this kernel has no Bluetooth" : ockam_strerror(err));
        ockam__ble_link_teardown(k, err, why);
        return;
    }
    if (ockam__ble_link_kernel_attach(k, fd, true) != OCKAM_OK)
        ockam__ble_link_teardown(k, OCKAM_ENOMEM, "out of memory");
}

static void
kernel_discover(struct ockam__ble *t)
{
    for (ockam_ble_link *k = t->links, *next; k; k = next) {
        next = k->next;
        if (k->state == BLE_SCANNING)
            kernel_connect(t, k);
    }
}

void
ockam__ble_discover(struct ockam__ble *t)
{
    if (!t->ready || t->down || t->shutting_down)
        return;
    if (t->kernel)
        return; /* connects happen on the tick, never inside the caller's call */
    bool need_scan = false;
    uint64_t now = ockam__ble_now(t);
    for (ockam_ble_link *k = t->links; k; k = k->next) {
        if (k->state != BLE_SCANNING || k->addr_known)
            continue;
        struct ble_name *e = name_find(t, k->peer);
        if (e) {
            k->peer_type = e->type;
            memcpy(k->peer_addr, e->addr, 6);
            k->addr_known = true;
        } else {
            need_scan = true;
        }
    }
    /* Scanning stops before a connection attempt when nothing else needs it: some
     * controllers refuse to initiate while they scan. */
    set_scan(t, need_scan);
    for (ockam_ble_link *k = t->links; k && !link_connecting(t); k = k->next) {
        if (k->state == BLE_SCANNING && k->addr_known && now >= k->next_retry)
            create_connection(t, k);
    }
}

/* A link given up while its LE Create Connection is pending: real controllers keep trying
 * until cancelled (the answer, a failed LE Connection Complete, ends `creating`). */
void
ockam__ble_cancel_connect(struct ockam__ble *t)
{
    if (t->creating && !t->down && !t->shutting_down)
        command(t, OCKAM__HCI_OP_LE_CREATE_CONN_CANCEL, NULL, 0);
}

static void
on_adv_report(void *user, uint8_t type, const uint8_t addr[6], const uint8_t *d, size_t n)
{
    struct ockam__ble *t = user;
    char name[OCKAM_BLE_MAX_NAME + 1];
    for (size_t i = 0; i < n;) {
        size_t len = d[i];
        if (len == 0 || len > n - i - 1)
            break;
        uint8_t ad = d[i + 1];
        if ((ad == AD_COMPLETE_NAME || ad == AD_SHORT_NAME) && len - 1 <= OCKAM_BLE_MAX_NAME) {
            memcpy(name, d + i + 2, len - 1);
            name[len - 1] = '\0';
            if (strlen(name) == len - 1)
                name_put(t, name, type, addr);
        }
        i += 1 + len;
    }
    ockam__ble_discover(t);
}

/* ---- HCI callbacks ------------------------------------------------------------------- */

static void
on_hci_write(void *user, const uint8_t *pkt, size_t len)
{
    struct ockam__ble *t = user;
    if (ockam__ble_link_write(&t->io, pkt, len) != OCKAM_OK)
        controller_down(t, "cannot write to the controller");
}

static void
format_bdaddr(char out[18], const uint8_t a[6])
{
    snprintf(out, 18, "%02X:%02X:%02X:%02X:%02X:%02X", a[5], a[4], a[3], a[2], a[1], a[0]);
}

static void
on_hci_ready(void *user, const uint8_t bdaddr[6], uint16_t acl_mtu, uint16_t acl_pkts)
{
    struct ockam__ble *t = user;
    format_bdaddr(t->local, bdaddr);
    t->ready = true;
    OCKAM_LOG_I("ble: controller %s ready: %s, ACL %u bytes x %u", t->controller, t->local, acl_mtu,
        acl_pkts);
    if (t->listener_name)
        setup_advertising(t);
    ockam__ble_discover(t);
}

static void
on_cmd_done(void *user, uint16_t opcode, uint8_t status)
{
    struct ockam__ble *t = user;
    switch (opcode) {
    case OCKAM__HCI_OP_LE_CREATE_CONN:
        /* Refused outright (Command Status error): the attempt is over. */
        for (ockam_ble_link *k = t->links; k; k = k->next) {
            if (k->state == BLE_CONNECTING) {
                k->state = BLE_SCANNING;
                k->next_retry = ockam__ble_now(t) + RETRY_MIN_MS;
            }
        }
        t->creating = false;
        break;
    case OCKAM__HCI_OP_LE_CREATE_CONN_CANCEL:
        /* Refused: nothing was pending any more (its LE Connection Complete came first). */
        if (status != 0)
            t->creating = false;
        ockam__ble_discover(t);
        break;
    case OCKAM__HCI_OP_LE_SET_ADV_ENABLE:
        if (status != 0 && status != 0x0C) /* 0x0C: already in that state */
            OCKAM_LOG_W("ble: advertising refused by the controller (0x%02x)", status);
        break;
    default:
        break;
    }
}

static void
outgoing_complete(struct ockam__ble *t, uint8_t status, uint16_t handle)
{
    ockam_ble_link *k = NULL;
    for (ockam_ble_link *x = t->links; x; x = x->next) {
        if (x->state == BLE_CONNECTING)
            k = x;
    }
    t->creating = false;
    if (!k) {
        if (status == 0)
            ockam__ble_disconnect(t, handle); /* its link closed meanwhile */
        ockam__ble_discover(t);
        return;
    }
    if (status != 0) {
        /* Not advertising at that instant (btvirt answers at once): try again soon. */
        k->state = BLE_SCANNING;
        k->retry_ms = k->retry_ms ? k->retry_ms * 2 : RETRY_MIN_MS;
        if (k->retry_ms > RETRY_MAX_MS)
            k->retry_ms = RETRY_MAX_MS;
        k->next_retry = ockam__ble_now(t) + k->retry_ms;
        ockam__ble_discover(t);
        return;
    }
    k->has_handle = true;
    k->handle = handle;
    k->state = BLE_OPENING;
    int ch;
    if (ockam__l2cap_connect(&k->l2, t->cfg.spsm, &ch) != OCKAM_OK) {
        ockam__ble_link_teardown(k, OCKAM_ENOMEM, "cannot open a channel");
        return;
    }
    k->ch = ch;
    ockam__ble_pump(t);
    ockam__ble_discover(t);
}

static void
incoming_complete(struct ockam__ble *t, uint16_t handle, const uint8_t peer[6])
{
    char name[18];
    format_bdaddr(name, peer);
    /* Legacy advertising stops when a central connects: resume it for the next one. */
    t->advertising = false;
    start_advertising(t);
    if (!t->listener_name) {
        ockam__ble_disconnect(t, handle);
        return;
    }
    ockam_ble_link *k = ockam__ble_link_new(t, false, name);
    if (!k) {
        OCKAM_LOG_W("ble: cannot accept a link from %s: out of memory", name);
        ockam__ble_disconnect(t, handle);
        return;
    }
    k->has_handle = true;
    k->handle = handle;
}

static void
on_conn_complete(void *user, uint8_t status, uint16_t handle, uint8_t role, uint8_t peer_type,
    const uint8_t peer[6])
{
    struct ockam__ble *t = user;
    if (role == 0 || status != 0)
        outgoing_complete(t, status, handle);
    else
        incoming_complete(t, handle, peer);
}

static void
on_disconnected(void *user, uint16_t handle, uint8_t reason)
{
    struct ockam__ble *t = user;
    ockam_ble_link *k = link_by_handle(t, handle);
    if (!k)
        return;
    k->has_handle = false;
    char why[48];
    snprintf(why, sizeof why, "disconnected (reason 0x%02x)", reason);
    ockam__ble_link_teardown(k, OCKAM_ECONNRESET, why);
}

static void
on_l2cap(void *user, uint16_t handle, const uint8_t *frame, size_t len)
{
    struct ockam__ble *t = user;
    ockam_ble_link *k = link_by_handle(t, handle);
    if (!k)
        return; /* a link we are disconnecting */
    k->last_rx = ockam__ble_now(t);
    if (ockam__l2cap_input(&k->l2, frame, len) != OCKAM_OK)
        ockam__ble_link_teardown(k, OCKAM_EPROTO, k->l2.error);
    ockam__ble_pump(t);
}

static void
on_acl_idle(void *user)
{
    ockam__ble_pump(user);
}

static void
on_link_error(void *user, uint16_t handle, const char *why)
{
    struct ockam__ble *t = user;
    ockam_ble_link *k = link_by_handle(t, handle);
    if (k)
        ockam__ble_link_teardown(k, OCKAM_EPROTO, why);
    else
        ockam__ble_disconnect(t, handle);
}

static void
on_hci_fail(void *user, const char *why)
{
    controller_down(user, why);
}

/* ---- I/O and timer ------------------------------------------------------------------- */

static void
on_io_data(void *user, const uint8_t *buf, size_t len)
{
    struct ockam__ble *t = user;
    ockam__hci_tick(&t->hci, ockam__ble_now(t));
    (void)ockam__hci_input(&t->hci, buf, len);
    ockam__ble_pump(t);
    reap(t);
}

static void
on_io_error(void *user, const char *why, int err)
{
    controller_down(user, why);
    reap(user);
}

static void
on_tick(uv_timer_t *timer)
{
    struct ockam__ble *t = timer->data;
    uint64_t now = ockam__ble_now(t);
    if (t->kernel)
        kernel_discover(t);
    else
        ockam__hci_tick(&t->hci, now);
    for (ockam_ble_link *k = t->links, *next; k; k = next) {
        next = k->next;
        ockam__ble_link_tick(k, now);
        if (k->state == BLE_UP && k->waiters)
            ockam__ble_link_report(k, OCKAM_OK);
    }
    ockam__ble_discover(t);
    ockam__ble_pump(t);
    reap(t);
}

/* After each loop turn (the node has delivered what it could): links that withhold credits
 * give them back once their consumers caught up. Stops when no link withholds. */
static void
on_rx_check(uv_check_t *h)
{
    struct ockam__ble *t = h->data;
    bool any = false;
    for (ockam_ble_link *k = t->links; k; k = k->next)
        any |= ockam__ble_link_rx_check(k);
    if (!any)
        uv_check_stop(h);
    ockam__ble_pump(t);
    reap(t);
}

void
ockam__ble_watch_rx(struct ockam__ble *t)
{
    if (!t->rx_check_init || t->shutting_down)
        return;
    if (!uv_is_active((uv_handle_t *)&t->rx_check))
        uv_check_start(&t->rx_check, on_rx_check);
}

/* ---- transport ops ------------------------------------------------------------------- */

static bool
name_ok(const char *name, size_t len)
{
    return len > 0 && len <= OCKAM_BLE_MAX_NAME && !memchr(name, 0, len);
}

static ockam_ble_link *
find_outgoing(struct ockam__ble *t, const char *name)
{
    for (ockam_ble_link *k = t->links; k; k = k->next) {
        if (k->outgoing && k->state < BLE_DRAINING && strcmp(k->peer, name) == 0)
            return k;
    }
    return NULL;
}

static unsigned
link_count(const struct ockam__ble *t)
{
    unsigned n = 0;
    for (ockam_ble_link *k = t->links; k; k = k->next)
        n++;
    return n;
}

static ockam_err
open_link(struct ockam__ble *t, const char *name, ockam_ble_link **out)
{
    if (t->down)
        return OCKAM_ECLOSED;
    ockam_ble_link *k = find_outgoing(t, name);
    if (!k) {
        if (link_count(t) >= OCKAM_BLE_MAX_LINKS)
            return OCKAM_EBUSY;
        if (!(k = ockam__ble_link_new(t, true, name)))
            return OCKAM_ENOMEM;
        ockam__ble_discover(t);
    }
    *out = k;
    return OCKAM_OK;
}

static ockam_err
ble_route(void *self, ockam_msg *msg)
{
    struct ockam__ble *t = self;
    char name[OCKAM_BLE_MAX_NAME + 1];
    ockam_addr a = ockam_route_front(&msg->onward);
    if (!name_ok((const char *)a.bytes, a.len)) {
        OCKAM_LOG_W("ble: message dropped: bad device name in 4# address");
        ockam_msg_free(msg);
        return OCKAM_EADDRINVAL;
    }
    memcpy(name, a.bytes, a.len);
    name[a.len] = '\0';
    ockam_ble_link *k = find_outgoing(t, name);
    if (!k && !ockam__policy_may_reach(t->node, OCKAM_TRANSPORT_BLE, msg->origin, a.bytes, a.len)) {
        OCKAM_LOG_W("ble: refusing to connect to %s for a message from another node; add it "
                    "to allowed_outgoing",
            name);
        ockam_msg_free(msg);
        return OCKAM_EACCES;
    }
    ockam_err err = k ? OCKAM_OK : open_link(t, name, &k);
    if (err) {
        OCKAM_LOG_W("ble: cannot reach %s: %s; message dropped", name, ockam_strerror(err));
        ockam_msg_free(msg);
        return err;
    }
    ockam_route_pop_front(&msg->onward);
    return ockam__ble_link_send(k, msg);
}

static void
free_strings(struct ockam__ble *t)
{
    ockam__free(t->controller);
    ockam__free(t->listener_name);
    t->controller = t->listener_name = NULL;
}

static ockam_err
copy_config(struct ockam__ble *t, const ockam_ble_config *cfg)
{
    t->cfg = *cfg;
    t->controller = ockam__strdup(cfg->controller);
    t->listener_name = cfg->listener_name ? ockam__strdup(cfg->listener_name) : NULL;
    if (!t->controller || (cfg->listener_name && !t->listener_name))
        return OCKAM_ENOMEM;
    t->cfg.allowed_outgoing = NULL;
    /* Names other nodes may make this node connect to: the node's policy keeps the list. */
    return ockam__policy_set_outgoing(
        t->node, OCKAM_TRANSPORT_BLE, cfg->allowed_outgoing, cfg->allowed_outgoing_count);
}

static ockam_err
check_config(const ockam_ble_config *cfg)
{
    if (!cfg || !cfg->controller || !cfg->controller[0] || cfg->credits == 0
        || cfg->heartbeat_ms == 0 || cfg->timeout_ms <= cfg->heartbeat_ms || cfg->max_message == 0
        || cfg->max_message > OCKAM_BLE_MAX_MESSAGE || cfg->max_queue < cfg->max_message
        || cfg->command_timeout_ms == 0 || (cfg->spsm < 0x0080 || cfg->spsm > 0x00FF))
        return OCKAM_EINVAL;
    if (cfg->listener_name && !name_ok(cfg->listener_name, strlen(cfg->listener_name)))
        return OCKAM_EINVAL;
    if (cfg->allowed_outgoing_count && !cfg->allowed_outgoing)
        return OCKAM_EINVAL;
    return OCKAM_OK;
}

static void
on_klisten(uv_poll_t *p, int status, int events)
{
    struct ockam__ble *t = p->data;
    if (!t)
        return;
    for (int i = 0; i < 16; i++) {
        int fd;
        char peer[18];
        ockam_err err = ockam__bluez_accept(t->klisten->fd, &fd, peer);
        if (err == OCKAM_EAGAIN)
            break;
        if (err) {
            OCKAM_LOG_W("ble: accepting an L2CAP channel failed: %s", ockam_strerror(err));
            break;
        }
        ockam_ble_link *k = ockam__ble_link_new(t, false, peer);
        if (!k) {
            close(fd);
            continue;
        }
        if (ockam__ble_link_kernel_attach(k, fd, false) != OCKAM_OK)
            ockam__ble_link_teardown(k, OCKAM_ENOMEM, "out of memory");
    }
    reap(t);
}

/* The `bluez` controller: the kernel's host stack, no HCI of ours. */
static ockam_err
kernel_init(struct ockam__ble *t)
{
    t->kernel = true;
    t->io.fd = -1;
    snprintf(t->local, sizeof t->local, "bluez");
    if (t->listener_name) {
        int fd;
        ockam_err err = ockam__bluez_listen(t->cfg.spsm, &fd);
        if (err)
            return err;
        t->klisten = ockam__zalloc(sizeof *t->klisten);
        if (!t->klisten || uv_poll_init(ockam__node_loop(t->node), &t->klisten->poll, fd) != 0) {
            ockam__free(t->klisten);
            t->klisten = NULL;
            close(fd);
            return OCKAM_ENOMEM;
        }
        t->klisten->fd = fd;
        t->klisten->poll.data = t;
        uv_poll_start(&t->klisten->poll, UV_READABLE, on_klisten);
        t->advertising = true; /* advertising itself is BlueZ's (bluetoothctl advertise on) */
    }
    t->ready = true;
    return OCKAM_OK;
}

static ockam_err
ble_init(void *self, ockam_node *node, const void *config)
{
    struct ockam__ble *t = self;
    const ockam_ble_config *cfg = config;
    t->node = node;
    ockam_err err = check_config(cfg);
    if (!err)
        err = copy_config(t, cfg);
    bool kernel = !err && strcmp(t->controller, "bluez") == 0;
    if (!err && kernel) {
        err = kernel_init(t);
    } else if (!err) {
        t->io.user = t;
        t->io.on_data = on_io_data;
        t->io.on_error = on_io_error;
        err = ockam__ble_link_open(&t->io, ockam__node_loop(node), t->controller);
    }
    if (err) {
        free_strings(t);
        return err;
    }
    t->listener_flow = ockam__policy_new_flow_id(node);
    uv_timer_init(ockam__node_loop(node), &t->tick);
    t->tick.data = t;
    uv_timer_start(&t->tick, on_tick, TICK_MS, TICK_MS);
    t->tick_started = true;
    uv_check_init(ockam__node_loop(node), &t->rx_check);
    t->rx_check.data = t;
    t->rx_check_init = true;
    ockam__hci_cbs cbs = {
        .user = t,
        .write = on_hci_write,
        .ready = on_hci_ready,
        .cmd_done = on_cmd_done,
        .adv_report = on_adv_report,
        .conn_complete = on_conn_complete,
        .disconnected = on_disconnected,
        .l2cap = on_l2cap,
        .acl_idle = on_acl_idle,
        .link_error = on_link_error,
        .fail = on_hci_fail,
    };
    if (!kernel)
        ockam__hci_init(&t->hci, &cbs, cfg->command_timeout_ms, ockam_node_now_ms(node));
    return OCKAM_OK;
}

static void
ble_shutdown(void *self)
{
    struct ockam__ble *t = self;
    t->shutting_down = true;
    while (t->links)
        ockam__ble_link_teardown(t->links, OCKAM_ECLOSED, NULL);
    reap(t);
    if (t->tick_started)
        uv_close((uv_handle_t *)&t->tick, NULL);
    if (t->rx_check_init)
        uv_close((uv_handle_t *)&t->rx_check, NULL);
    if (t->klisten) {
        ockam__ble_kpoll_close(t->klisten);
        t->klisten = NULL;
    }
    t->io.on_closed = NULL;
    ockam__ble_link_close(&t->io);
}

static void
ble_fini(void *self)
{
    struct ockam__ble *t = self;
    reap(t);
    ockam__hci_fini(&t->hci);
    free_strings(t);
}

static const struct ockam__transport_ops ble_ops = {
    .type = OCKAM_TRANSPORT_BLE,
    .name = "ble",
    .size = sizeof(struct ockam__ble),
    .init = ble_init,
    .route = ble_route,
    .send_direct = NULL,
    .shutdown = ble_shutdown,
    .fini = ble_fini,
};

/* ---- public API ---------------------------------------------------------------------- */

ockam_err
ockam_ble_init(ockam_node *node, const ockam_ble_config *cfg)
{
    return ockam__transport_register(node, &ble_ops, cfg, NULL);
}

bool
ockam_ble_ready(ockam_node *node)
{
    struct ockam__ble *t = transport_of(node);
    return t && t->ready && !t->down && (!t->listener_name || t->advertising);
}

bool
ockam_ble_controller_down(ockam_node *node)
{
    struct ockam__ble *t = transport_of(node);
    return t && t->down;
}

const char *
ockam_ble_local_address(ockam_node *node)
{
    struct ockam__ble *t = transport_of(node);
    return t ? t->local : "";
}

const char *
ockam_ble_listener_name(ockam_node *node)
{
    struct ockam__ble *t = transport_of(node);
    return t ? t->listener_name : NULL;
}

ockam_flow_id
ockam_ble_listener_flow_id(ockam_node *node)
{
    struct ockam__ble *t = transport_of(node);
    return t ? t->listener_flow : 0;
}

ockam_err
ockam_ble_connect(
    ockam_node *node, const char *name, ockam_ble_connect_cb done, void *arg, ockam_ble_link **out)
{
    struct ockam__ble *t = transport_of(node);
    if (!t)
        return OCKAM_ENOTSUP;
    if (!name || !name_ok(name, strlen(name)))
        return OCKAM_EADDRINVAL;
    ockam_ble_link *k;
    ockam_err err = open_link(t, name, &k);
    if (err)
        return err;
    if (done) {
        /* Appended: waiters hear in the order they came. A link already up tells its new
         * waiter on the next tick, never inside this call. */
        struct ble_waiter *w = ockam__zalloc(sizeof *w), **p = &k->waiters;
        if (!w)
            return OCKAM_ENOMEM;
        w->done = done;
        w->arg = arg;
        while (*p)
            p = &(*p)->next;
        *p = w;
    }
    if (out)
        *out = k;
    return OCKAM_OK;
}

ockam_ble_link *
ockam_ble_link_find(ockam_node *node, const char *address_or_peer)
{
    struct ockam__ble *t = transport_of(node);
    for (ockam_ble_link *k = t ? t->links : NULL; k; k = k->next) {
        if (strcmp(k->addr, address_or_peer) == 0 || strcmp(k->peer, address_or_peer) == 0)
            return k;
    }
    return NULL;
}

void
ockam_ble_link_each(ockam_node *node, void (*fn)(ockam_ble_link *link, void *arg), void *arg)
{
    struct ockam__ble *t = transport_of(node);
    for (ockam_ble_link *k = t ? t->links : NULL; k; k = k->next)
        fn(k, arg);
}
