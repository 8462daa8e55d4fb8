/* L2CAP LE signalling and credit-based channels: the input is a sequence of frames, each
 * preceded by a one-byte length (a frame's basic header is the fuzzer's to get right or
 * wrong). Between frames the output side is pulled, as the transport does. Properties: no
 * read outside the input, SDUs delivered never exceed our MTU, every pulled PDU fits the
 * buffer and its basic header matches its size, and after an error the input is refused
 * from then on only by the caller (we stop, as the transport closes the link). */
#include "fuzz_util.h"
#include "transport/ble/hci.h"
#include "transport/ble/l2cap.h"

#define RX_MTU 300

static ockam__l2cap l;
static uint8_t sdu_out[600];

static void
on_opened(void *user, int ch)
{
    (void)ockam__l2cap_send_sdu(&l, ch, sdu_out, sizeof sdu_out);
}

static void
on_sdu(void *user, int ch, const uint8_t *sdu, size_t len)
{
    FUZZ_CHECK(len <= RX_MTU);
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < len; i++)
        sink ^= sdu[i];
    (void)sink;
}

static void
on_sent(void *user, int ch)
{
    (void)ockam__l2cap_send_sdu(&l, ch, sdu_out, 7);
}

static void
pull(void)
{
    uint8_t out[256];
    for (int i = 0; i < 64; i++) {
        size_t n = ockam__l2cap_next_pdu(&l, out, sizeof out);
        if (!n)
            return;
        FUZZ_CHECK(n >= 4 && n <= sizeof out && ockam__get16le(out) == n - 4);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ockam__l2cap_params p = {.rx_mtu = RX_MTU, .rx_mps = 40, .rx_credits = 4, .listen_spsm = 0x81};
    ockam__l2cap_cbs cbs = {.opened = on_opened, .sdu = on_sdu, .sdu_sent = on_sent};
    ockam__l2cap_init(&l, &p, &cbs);
    int ch;
    (void)ockam__l2cap_connect(&l, 0x81, &ch);
    while (size) {
        size_t k = data[0];
        data++;
        size--;
        if (k > size)
            k = size;
        uint8_t *copy = fuzz_dup(data, k);
        ockam_err err = ockam__l2cap_input(&l, copy, k);
        free(copy);
        data += k;
        size -= k;
        if (err) {
            FUZZ_CHECK(l.error != NULL);
            break;
        }
        pull();
    }
    ockam__l2cap_fini(&l);
    return 0;
}
