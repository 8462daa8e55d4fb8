/* The HCI host: bytes from a controller, in chunks the input chooses. The controller first
 * answers initialisation correctly (so connection, ACL and event paths are reachable), then
 * the input follows. Properties: no read outside the input, every frame handed up lies
 * within the announced L2CAP length and OCKAM__HCI_MAX_PDU, written packets are whole H4
 * packets, and ACL fragments in flight never exceed one. */
#include "fuzz_util.h"
#include "transport/ble/hci.h"

static unsigned acl_out;

static void
on_write(void *user, const uint8_t *pkt, size_t len)
{
    FUZZ_CHECK(len >= 4);
    if (pkt[0] == 0x01)
        FUZZ_CHECK(len == 4u + pkt[3]);
    else if (pkt[0] == 0x02)
        FUZZ_CHECK(len == 5u + ockam__get16le(pkt + 3));
    else
        FUZZ_CHECK(0);
    if (pkt[0] == 0x02)
        acl_out++;
}

static void
on_l2cap(void *user, uint16_t handle, const uint8_t *frame, size_t len)
{
    FUZZ_CHECK(len >= 4 && len <= OCKAM__HCI_MAX_PDU && len == 4u + ockam__get16le(frame));
    ockam__hci *h = user;
    if (ockam__hci_acl_ready(h))
        (void)ockam__hci_acl_send(h, handle, frame, len); /* echo it back */
}

static void
on_conn(void *user, uint8_t status, uint16_t handle, uint8_t role, uint8_t pt, const uint8_t p[6])
{
}

static void
on_adv(void *user, uint8_t type, const uint8_t addr[6], const uint8_t *d, size_t n)
{
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < n; i++)
        sink ^= d[i];
    (void)sink;
}

static const uint8_t init_answers[] = {0x04, 0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00, /* Reset */
    0x04, 0x0E, 0x04, 0x01, 0x01, 0x0C, 0x00,                   /* Set Event Mask */
    0x04, 0x0E, 0x04, 0x01, 0x01, 0x20, 0x00,                   /* LE Set Event Mask */
    0x04, 0x0E, 0x07, 0x01, 0x02, 0x20, 0x00, 0x1B, 0x00, 0x02, /* LE Read Buffer Size */
    0x04, 0x0E, 0x0A, 0x01, 0x09, 0x10, 0x00, 1, 2, 3, 4, 5, 6, /* Read BD_ADDR */
    /* LE Connection Complete, handle 0x0001, peripheral */
    0x04, 0x3E, 0x13, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 1, 2, 3, 4, 5, 6, 0x06, 0, 0, 0, 0xC8, 0,
    0};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ockam__hci h;
    ockam_log_set_level(OCKAM_LOG_ERROR); /* unknown handles are logged: keep the run quiet */
    ockam__hci_cbs cbs = {
        .user = &h,
        .write = on_write,
        .l2cap = on_l2cap,
        .conn_complete = on_conn,
        .adv_report = on_adv,
    };
    acl_out = 0;
    ockam__hci_init(&h, &cbs, 1000, 0);
    FUZZ_CHECK(ockam__hci_input(&h, init_answers, sizeof init_answers) == OCKAM_OK);
    FUZZ_CHECK(h.ready);
    /* First byte: chunk size for feeding the rest (1..256). */
    size_t chunk = size ? (size_t)data[0] + 1 : 1;
    const uint8_t *p = size ? data + 1 : data;
    size_t n = size ? size - 1 : 0;
    while (n) {
        size_t k = n < chunk ? n : chunk;
        uint8_t *copy = fuzz_dup(p, k);
        (void)ockam__hci_input(&h, copy, k);
        free(copy);
        p += k;
        n -= k;
        ockam__hci_tick(&h, 10);
    }
    ockam__hci_fini(&h);
    return 0;
}
