/* Secure-channel frame plaintext and frame opening. Properties: the plaintext decoder never
 * reads past its input and leaves a Payload that re-encodes to a plaintext decoding the same
 * (our encoding is a fixed point); decoding with a borrowed chunk gives the same message; a
 * frame of arbitrary bytes never opens under a fixed key and never moves the receiver's
 * window, so the genuine frame 0 still opens afterwards. */
#include "channel/frame.h"
#include "fuzz_util.h"

static void
check_plaintext(const uint8_t *data, size_t size)
{
    static ockam_msg *m, *again;
    ockam__sc_kind kind, kind2;
    size_t written;
    if (!m) {
        m = ockam_msg_new();
        again = ockam_msg_new();
        FUZZ_CHECK(m && again);
    }
    uint8_t *copy = fuzz_dup(data, size);
    ockam_err err = ockam__sc_plain_decode(copy, size, &kind, m, NULL);
    free(copy);
    FUZZ_CHECK(err != OCKAM_EAGAIN);
    if (err != OCKAM_OK || kind != OCKAM__SC_PAYLOAD)
        return;
    ockam__msg_parts parts = ockam__msg_parts_of(m);
    size_t n = ockam__sc_payload_size(&parts);
    uint8_t *out = malloc(n);
    FUZZ_CHECK(out);
    FUZZ_CHECK(ockam__sc_payload_encode(&parts, out, n, &written) == OCKAM_OK && written == n);
    FUZZ_CHECK(ockam__sc_plain_decode(out, n, &kind2, again, NULL) == OCKAM_OK);
    FUZZ_CHECK(kind2 == OCKAM__SC_PAYLOAD && fuzz_msg_eq(m, again, false));
    /* The same through a chunk the payload borrows from. */
    struct ockam__chunk *ch = ockam__chunk_new(n);
    FUZZ_CHECK(ch);
    memcpy(ch->data, out, n);
    ockam__borrow from = {.chunk = ch, .min = 0};
    FUZZ_CHECK(ockam__sc_plain_decode(ch->data, n, &kind2, again, &from) == OCKAM_OK);
    FUZZ_CHECK(fuzz_msg_eq(m, again, false));
    ockam_msg_free(again);
    again = ockam_msg_new();
    ockam__chunk_unref(ch);
    free(out);
}

static void
check_frame(const uint8_t *data, size_t size)
{
    static const uint8_t key[32] = {1, 2, 3};
    ockam__sc_tx tx;
    ockam__sc_rx rx;
    uint8_t genuine[OCKAM__SC_OVERHEAD + 5], out[OCKAM__SC_CLOSE_LEN];
    size_t len;
    uint64_t nonce;
    FUZZ_CHECK(ockam__sc_tx_init(&tx, key) == OCKAM_OK);
    FUZZ_CHECK(ockam__sc_rx_init(&rx, key) == OCKAM_OK);
    ockam__sc_close_encode(genuine + OCKAM__SC_NONCE_LEN);
    FUZZ_CHECK(ockam__sc_tx_seal(&tx, genuine, OCKAM__SC_CLOSE_LEN) == OCKAM_OK);
    if (size != sizeof genuine || memcmp(data, genuine, size) != 0) {
        uint8_t *copy = fuzz_dup(data, size);
        uint8_t *plain = malloc(size ? size : 1);
        FUZZ_CHECK(plain);
        FUZZ_CHECK(ockam__sc_rx_open(&rx, copy, size, plain, &len, &nonce) != OCKAM_OK);
        free(plain);
        free(copy);
    }
    FUZZ_CHECK(ockam__sc_rx_open(&rx, genuine, sizeof genuine, out, &len, &nonce) == OCKAM_OK);
    FUZZ_CHECK(len == OCKAM__SC_CLOSE_LEN && nonce == 0);
    ockam__sc_tx_fini(&tx);
    ockam__sc_rx_fini(&rx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_plaintext(data, size);
    check_frame(data, size);
    return 0;
}
