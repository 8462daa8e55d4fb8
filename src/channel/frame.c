/* Secure-channel frames: plaintext codec, sending and receiving key schedules. */
#include "channel/frame.h"

#include "core/cbor_internal.h"

#include <openssl/crypto.h>

/* ---- plaintext ------------------------------------------------------------------------ */

/* [ [0, [ <payload> ]], padding ] : 82 82 00 81 <payload> 40 */
static const uint8_t payload_head[4] = {0x82, 0x82, 0x00, 0x81};

size_t
ockam__sc_payload_size(const ockam__msg_parts *m)
{
    ockam__msg_parts p = *m;
    p.tracing = NULL;
    return sizeof payload_head + ockam__cbor_parts_size(&p) + 1;
}

ockam_err
ockam__sc_payload_head(const ockam_msg *msg, uint8_t *out, size_t cap, size_t *written)
{
    size_t head = 0;
    if (cap < sizeof payload_head)
        return OCKAM_EMSGSIZE;
    memcpy(out, payload_head, sizeof payload_head);
    ockam_err err = ockam__cbor_encode_msg_head(
        msg, out + sizeof payload_head, cap - sizeof payload_head, &head);
    *written = sizeof payload_head + head;
    return err;
}

ockam_err
ockam__sc_payload_encode(const ockam__msg_parts *m, uint8_t *out, size_t cap, size_t *written)
{
    ockam__msg_parts p = *m;
    size_t body = 0;
    p.tracing = NULL;
    *written = 0;
    /* The encoder checks the room itself (the caller sized out already). */
    if (cap < sizeof payload_head + 1)
        return OCKAM_EMSGSIZE;
    memcpy(out, payload_head, sizeof payload_head);
    ockam_err err = ockam__cbor_encode_parts(
        &p, out + sizeof payload_head, cap - sizeof payload_head - 1, &body);
    if (err)
        return err;
    out[sizeof payload_head + body] = 0x40; /* empty padding */
    *written = sizeof payload_head + body + 1;
    return OCKAM_OK;
}

void
ockam__sc_close_encode(uint8_t out[OCKAM__SC_CLOSE_LEN])
{
    static const uint8_t close_msg[OCKAM__SC_CLOSE_LEN] = {0x82, 0x82, 0x02, 0x80, 0x40};
    memcpy(out, close_msg, sizeof close_msg);
}

/* The fields array of variant `kind`: Payload holds one item (decoded into out), Refresh
 * one item (skipped: see channel.c), Close none. */
static ockam_err
decode_fields(ockam__cbor_rd *r, ockam__sc_kind kind, ockam_msg *out, const ockam__borrow *from)
{
    uint64_t count;
    ockam_err err = ockam__cbor_array(r, 1, &count);
    if (err)
        return err;
    if (kind == OCKAM__SC_CLOSE)
        return count == 0 ? OCKAM_OK : OCKAM_ECBORTYPE;
    if (count != 1)
        return OCKAM_ECBORTYPE;
    size_t start = r->pos;
    if ((err = ockam__cbor_skip(r)) != OCKAM_OK)
        return err;
    if (kind == OCKAM__SC_REFRESH || !out)
        return OCKAM_OK;
    /* A Payload has the shape of a routing message body: [onward, return, payload]. */
    if (r->p[start] != 0x83)
        return OCKAM_ECBORTYPE;
    return ockam__cbor_decode_msg_borrow(r->p + start, r->pos - start, out, from);
}

ockam_err
ockam__sc_plain_decode(
    const uint8_t *buf, size_t len, ockam__sc_kind *kind, ockam_msg *out, const ockam__borrow *from)
{
    ockam__cbor_rd r = {.p = buf, .len = len, .pos = 0};
    uint64_t count, variant;
    ockam_slice padding;

    /* The usual Payload, [[0, [[onward, return, payload]]], h''], decoded in one pass. A CBOR
     * item ends where its own bytes say, so the message fills buf[4 .. len - 1) exactly when
     * the rest is the one-byte empty padding: a success here is the general path's success.
     * Anything else (another padding, another kind, bad input) takes the general path. */
    if (out && len > sizeof payload_head + 1 && memcmp(buf, payload_head, sizeof payload_head) == 0
        && buf[sizeof payload_head] == 0x83 && buf[len - 1] == OCKAM__SC_EMPTY_PADDING) {
        if (ockam__cbor_decode_msg_borrow(
                buf + sizeof payload_head, len - sizeof payload_head - 1, out, from)
            == OCKAM_OK) {
            *kind = OCKAM__SC_PAYLOAD;
            return OCKAM_OK;
        }
        ockam__msg_reset(out);
    }

    ockam_err err = ockam__cbor_array(&r, 1, &count);
    if (!err && count != 2)
        err = OCKAM_ECBORTYPE;
    if (!err)
        err = ockam__cbor_array(&r, 1, &count);
    if (!err && count != 2)
        err = OCKAM_ECBORTYPE;
    if (!err)
        err = ockam__cbor_uint(&r, OCKAM__SC_CLOSE, &variant);
    if (err)
        return err;
    *kind = (ockam__sc_kind)variant;
    if ((err = decode_fields(&r, *kind, out, from)) != OCKAM_OK)
        return err;
    if ((err = ockam__cbor_string(&r, OCKAM__CBOR_BYTES, &padding)) != OCKAM_OK)
        return err;
    return r.pos == len ? OCKAM_OK : OCKAM_ETRAILING;
}

/* ---- sending -------------------------------------------------------------------------- */

static void
put_nonce(uint8_t *p, uint64_t n)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(n >> (56 - 8 * i));
}

static uint64_t
get_nonce(const uint8_t *p)
{
    uint64_t n = 0;
    for (int i = 0; i < 8; i++)
        n = (n << 8) | p[i];
    return n;
}

ockam_err
ockam__sc_tx_init(ockam__sc_tx *tx, const uint8_t key[OCKAM__KEY_LEN])
{
    tx->nonce = 0;
    return ockam__aead_init(&tx->aead, key, true);
}

void
ockam__sc_tx_fini(ockam__sc_tx *tx)
{
    ockam__aead_fini(&tx->aead);
}

/* Replace the key by REKEY(key), once per interval: the context stays, only its key changes. */
static ockam_err
rekey_aead(ockam__aead *a)
{
    uint8_t key[OCKAM__KEY_LEN];
    ockam_err err = ockam__aead_next_key(a, key);
    if (!err)
        err = ockam__aead_set_key(a, key);
    OPENSSL_cleanse(key, sizeof key);
    return err;
}

ockam_err
ockam__sc_tx_seal(ockam__sc_tx *tx, uint8_t *frame, size_t len)
{
    ockam_slice one = {frame + OCKAM__SC_NONCE_LEN, len};
    return ockam__sc_tx_seal_gather(tx, frame, &one, 1);
}

ockam_err
ockam__sc_tx_seal_gather(ockam__sc_tx *tx, uint8_t *frame, const ockam_slice *parts, size_t count)
{
    uint64_t n = tx->nonce;
    ockam_err err;
    /* 2^64 - 1 is REKEY's nonce: never a frame's. */
    if (n == UINT64_MAX)
        return OCKAM_ECLOSED;
    if (n > 0 && n % OCKAM__SC_REKEY_EVERY == 0 && (err = rekey_aead(&tx->aead)) != OCKAM_OK)
        return err;
    put_nonce(frame, n);
    uint8_t *ct = frame + OCKAM__SC_NONCE_LEN;
    if ((err = ockam__aead_seal_gather(&tx->aead, n, NULL, 0, parts, count, ct)) != OCKAM_OK)
        return err;
    tx->nonce = n + 1;
    return OCKAM_OK;
}

/* ---- receiving -------------------------------------------------------------------------- */

ockam_err
ockam__sc_rx_init(ockam__sc_rx *rx, const uint8_t key[OCKAM__KEY_LEN])
{
    memset(rx, 0, sizeof *rx);
    return ockam__aead_init(&rx->cur, key, false);
}

void
ockam__sc_rx_fini(ockam__sc_rx *rx)
{
    ockam__aead_fini(&rx->cur);
    ockam__aead_fini(&rx->prev);
    ockam__aead_fini(&rx->next);
    ockam__aead_fini(&rx->spare);
}

/* The window: nonces more than 32 away from the highest accepted one, or accepted before,
 * are refused. The state starts as "highest 0, nothing seen". */
static bool
window_allows(const ockam__sc_rx *rx, uint64_t n)
{
    if (n > rx->highest)
        return n - rx->highest <= OCKAM__SC_WINDOW;
    uint64_t back = rx->highest - n;
    return back <= OCKAM__SC_WINDOW && !(rx->seen & ((uint64_t)1 << back));
}

static void
window_mark(ockam__sc_rx *rx, uint64_t n)
{
    if (n > rx->highest) {
        uint64_t shift = n - rx->highest;
        rx->seen = (shift >= 64 ? 0 : rx->seen << shift) | 1;
        rx->highest = n;
    } else {
        rx->seen |= (uint64_t)1 << (rx->highest - n);
    }
}

/* The next interval's key, REKEY(cur), in the spare context when there is one. */
static ockam_err
make_next(ockam__sc_rx *rx)
{
    uint8_t key[OCKAM__KEY_LEN];
    ockam_err err = ockam__aead_next_key(&rx->cur, key);
    if (!err && rx->spare.ctx) {
        rx->next = rx->spare;
        rx->spare = (ockam__aead) {0};
        err = ockam__aead_set_key(&rx->next, key);
    } else if (!err) {
        err = ockam__aead_init(&rx->next, key, false);
    }
    OPENSSL_cleanse(key, sizeof key);
    if (err)
        ockam__aead_fini(&rx->next);
    return err;
}

/* The key for nonce n: current interval, the next one (REKEY(cur), derived once and kept until
 * a frame authenticates with it, so forged frames cost no key setup each), or the previous one.
 * NULL when none may be used. */
static ockam__aead *
key_for(ockam__sc_rx *rx, uint64_t n, bool *is_next)
{
    uint64_t start = rx->rekeys * OCKAM__SC_REKEY_EVERY;
    *is_next = false;
    if (n >= start) {
        uint64_t age = n - start;
        if (age < OCKAM__SC_REKEY_EVERY)
            return &rx->cur;
        if (age >= 2 * OCKAM__SC_REKEY_EVERY)
            return NULL;
        if (!rx->next.ctx && make_next(rx) != OCKAM_OK)
            return NULL;
        *is_next = true;
        return &rx->next;
    }
    if (start - n <= OCKAM__SC_REKEY_EVERY && rx->prev.ctx)
        return &rx->prev;
    return NULL;
}

ockam_err
ockam__sc_rx_open(ockam__sc_rx *rx, const uint8_t *frame, size_t len, uint8_t *out, size_t *out_len,
    uint64_t *nonce)
{
    bool is_next;
    if (len < OCKAM__SC_OVERHEAD)
        return OCKAM_ETRUNCATED;
    uint64_t n = get_nonce(frame);
    *nonce = n;
    if (n == UINT64_MAX || !window_allows(rx, n))
        return OCKAM_EPROTO;
    ockam__aead *key = key_for(rx, n, &is_next);
    if (!key)
        return OCKAM_EPROTO;
    ockam_err err = ockam__aead_open(
        key, n, NULL, 0, frame + OCKAM__SC_NONCE_LEN, len - OCKAM__SC_NONCE_LEN, out);
    if (err)
        return err;
    /* Authenticated: now the window and the keys may move. */
    window_mark(rx, n);
    if (is_next) {
        /* The oldest context serves again for the key after next. */
        ockam__aead_fini(&rx->spare);
        rx->spare = rx->prev;
        rx->prev = rx->cur;
        rx->cur = rx->next;
        memset(&rx->next, 0, sizeof rx->next);
        rx->rekeys++;
    }
    *out_len = len - OCKAM__SC_OVERHEAD;
    return OCKAM_OK;
}
