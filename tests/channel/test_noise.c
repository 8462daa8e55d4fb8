/* The Noise XX core (src/channel/noise.c) and the frame key schedules (frame.c) against
 * published vectors.
 *
 * Origin of the vectors: the four Noise_XX_25519_AESGCM_SHA256 handshakes of flynn/noise's
 * vectors.txt (Debian package golang-github-flynn-noise-dev, file
 * /usr/share/gocode/src/github.com/flynn/noise/vectors.txt): two without a prologue (empty and
 * "test_msg_N" payloads) and two with the prologue "notsecret". After the handshake, msg_3 is
 * encrypted with the first Split key and msg_4 with the second, each at nonce 0. The vectors
 * for Ockam's own protocol name were derived from the same keys by two independent models
 * (not by an Ockam binary): they check the name handling, the key swap and REKEY. */
#include "channel/frame.h"
#include "channel/noise.h"
#include "support/nodes.h"

#include <stdio.h>
#include <stdlib.h>

struct vec {
    const char *prologue;
    const char *payload[5];
    const char *cipher[5];
};

static const char *const init_static
    = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char *const resp_static
    = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
static const char *const init_eph
    = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
static const char *const resp_eph
    = "4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60";

static const struct vec flynn[] = {
    {"", {"", "", "", "79656c6c6f777375626d6172696e65", "7375626d6172696e6579656c6c6f77"},
        {"358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254",
            "64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d484665393019dbd6f43879"
            "5da206db0886610b26108e424142c2e9b5fd1f7ea70cde8767ce62d7e3c0e9bcefe4ab872c0505b9e"
            "824df091b74ffe10a2b32809cab21f",
            "e610eadc4b00c17708bf223f29a66f02342fbedf6c0044736544b9271821ae40e70144cecd9d265df"
            "fdc5bb8e051c3f83db32a425e04d8f510c58a43325fbc56",
            "9ea1da1ec3bfecfffab213e537ed1791bfa887dd9c631351b3f63d6315ab9a",
            "217c5111fad7afde33bd28abaff3def88a57ab50515115d23a10f28621f842"}},
    {"",
        {"746573745f6d73675f30", "746573745f6d73675f31", "746573745f6d73675f32",
            "79656c6c6f777375626d6172696e65", "7375626d6172696e6579656c6c6f77"},
        {"358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254746573745f6d73675f3"
         "0",
            "64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d484665393019dbd6f43879"
            "5da206db0886610b26108e424142c2e9b5fd1f7ea70cde8c9f29dcec8d3ab554f4a5330657867fe49"
            "17917195c8cf360e08d6dc5f71baf875ec6e3bfc7afda4c9c2",
            "e610eadc4b00c17708bf223f29a66f02342fbedf6c0044736544b9271821ae40232c55cd96d1350af"
            "861f6a04978f7d5e070c07602c6b84d25a331242a71c50ae31dd4c164267fd48bd2",
            "9ea1da1ec3bfecfffab213e537ed1791bfa887dd9c631351b3f63d6315ab9a",
            "217c5111fad7afde33bd28abaff3def88a57ab50515115d23a10f28621f842"}},
    {"6e6f74736563726574",
        {"", "", "", "79656c6c6f777375626d6172696e65", "7375626d6172696e6579656c6c6f77"},
        {"358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254",
            "64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d484665393019dbd6f43879"
            "5da206db0886610b26108e424142c2e9b5fd1f7ea70cde8545f22cc3b52e6cf83a9266ed4850a7a34"
            "60f29794110cc1e4c4b5241c939f90",
            "e610eadc4b00c17708bf223f29a66f02342fbedf6c0044736544b9271821ae406561124920ea64164"
            "6ea97786397ad23ab2f0dbf49fc3e46328b481b0924438c",
            "9ea1da1ec3bfecfffab213e537ed1791bfa887dd9c631351b3f63d6315ab9a",
            "217c5111fad7afde33bd28abaff3def88a57ab50515115d23a10f28621f842"}},
    {"6e6f74736563726574",
        {"746573745f6d73675f30", "746573745f6d73675f31", "746573745f6d73675f32",
            "79656c6c6f777375626d6172696e65", "7375626d6172696e6579656c6c6f77"},
        {"358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254746573745f6d73675f3"
         "0",
            "64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d484665393019dbd6f43879"
            "5da206db0886610b26108e424142c2e9b5fd1f7ea70cde847f6866f15c3cd3f864f7ed682f1711a49"
            "17917195c8cf360e080035dfa88af5c6e9b820278e6016f7d7",
            "e610eadc4b00c17708bf223f29a66f02342fbedf6c0044736544b9271821ae403bbe475185a4a265a"
            "50e1d43bdaeee7fe070c07602c6b84d25a3b4064af5be30115a052069038f5002a3",
            "9ea1da1ec3bfecfffab213e537ed1791bfa887dd9c631351b3f63d6315ab9a",
            "217c5111fad7afde33bd28abaff3def88a57ab50515115d23a10f28621f842"}},
};

static size_t
hex(const char *text, uint8_t *out, size_t cap)
{
    return *text ? tn_hex(text, out, cap) : 0;
}

/* Run the three messages between two states; out: both sides done. */
static void
run_handshake(const char *name, const struct vec *v, ockam__noise *i, ockam__noise *r)
{
    uint8_t is[32], rs[32], ie[32], re[32], pro[64], payload[128], want[256], msg[256], got[256];
    size_t pro_len = hex(v->prologue, pro, sizeof pro);
    hex(init_static, is, 32);
    hex(resp_static, rs, 32);
    hex(init_eph, ie, 32);
    hex(resp_eph, re, 32);
    assert_int_equal(ockam__noise_init(i, true, name, pro, pro_len, is, ie), OCKAM_OK);
    assert_int_equal(ockam__noise_init(r, false, name, pro, pro_len, rs, re), OCKAM_OK);
    for (int m = 0; m < 3; m++) {
        ockam__noise *w = m % 2 == 0 ? i : r, *rd = m % 2 == 0 ? r : i;
        size_t plen = hex(v->payload[m], payload, sizeof payload), n, got_len;
        assert_int_equal(ockam__noise_next_len(w, plen),
            m == 0       ? 32 + plen
                : m == 1 ? 96 + plen
                         : 64 + plen);
        assert_int_equal(ockam__noise_write(w, payload, plen, msg, sizeof msg, &n), OCKAM_OK);
        if (v->cipher[m]) {
            size_t wl = hex(v->cipher[m], want, sizeof want);
            assert_int_equal(n, wl);
            assert_memory_equal(msg, want, n);
        }
        assert_int_equal(ockam__noise_read(rd, msg, n, got, sizeof got, &got_len), OCKAM_OK);
        assert_int_equal(got_len, plen);
        if (plen)
            assert_memory_equal(got, payload, plen);
    }
    assert_true(ockam__noise_done(i) && ockam__noise_done(r));
    assert_memory_equal(i->rs, r->s_pub, 32);
    assert_memory_equal(r->rs, i->s_pub, 32);
}

static void
test_flynn_vectors(void **state)
{
    for (size_t k = 0; k < sizeof flynn / sizeof flynn[0]; k++) {
        ockam__noise i, r;
        uint8_t k1[32], k2[32], r1[32], r2[32], pt[64], want[64], out[80];
        run_handshake("Noise_XX_25519_AESGCM_SHA256", &flynn[k], &i, &r);
        assert_int_equal(ockam__noise_split(&i, k1, k2), OCKAM_OK);
        assert_int_equal(ockam__noise_split(&r, r1, r2), OCKAM_OK);
        assert_memory_equal(k1, r1, 32);
        assert_memory_equal(k2, r2, 32);
        /* msg_3 under the first key, msg_4 under the second, both at nonce 0, no AD. */
        for (int m = 3; m < 5; m++) {
            ockam__aead a = {0}, d = {0};
            size_t plen = hex(flynn[k].payload[m], pt, sizeof pt);
            size_t wl = hex(flynn[k].cipher[m], want, sizeof want);
            assert_int_equal(ockam__aead_init(&a, m == 3 ? k1 : k2, true), OCKAM_OK);
            assert_int_equal(ockam__aead_seal(&a, 0, NULL, 0, pt, plen, out), OCKAM_OK);
            assert_int_equal(plen + 16, wl);
            assert_memory_equal(out, want, wl);
            assert_int_equal(ockam__aead_init(&d, m == 3 ? k1 : k2, false), OCKAM_OK);
            assert_int_equal(ockam__aead_open(&d, 0, NULL, 0, out, wl, out), OCKAM_OK);
            assert_memory_equal(out, pt, plen);
            out[0] ^= 1; /* not the same bytes any more: must fail */
            assert_int_equal(ockam__aead_seal(&a, 0, NULL, 0, pt, plen, out), OCKAM_OK);
            out[wl - 1] ^= 0x80;
            assert_int_equal(ockam__aead_open(&d, 0, NULL, 0, out, wl, out), OCKAM_EAUTH);
            ockam__aead_fini(&a);
            ockam__aead_fini(&d);
        }
        ockam__noise_clear(&i);
        ockam__noise_clear(&r);
    }
}

/* Ockam's protocol name, empty prologue, empty payloads. */
static void
test_ockam_name(void **state)
{
    static const struct vec v = {"", {"", "", "", "", ""},
        {"358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254",
            "64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d484666496c3648a1e08850"
            "4a02025498d1045ae1e30f803f5bda8daac842e4291fe003ec09712baa61f30e8b9b83d55f6456069"
            "d3db88b1ce720567a55b9b64d5a214",
            "8f021075c218d4ca06d334b5af04de7ce3d19e12adb47dbf749f595010f6fd3751be433a8bbf114b3"
            "047c45111a7612115ef8ed8bb09bc750e3be514a6855430",
            NULL, NULL}};
    ockam__noise i, r;
    uint8_t k1[32], k2[32], want[64];
    run_handshake(OCKAM__NOISE_NAME, &v, &i, &r);
    tn_hex("5ac0747f8682be66af8e7072d69af81b8eb441bf6542a3c2b42cd91c051eb229", want, 32);
    assert_memory_equal(i.h, want, 32);
    assert_int_equal(ockam__noise_split(&i, k1, k2), OCKAM_OK);
    tn_hex("4349aa5f460aca550b37ce55d3f7ad8f2d4747084b6c62e15c523568ebafe860", want, 32);
    assert_memory_equal(k1, want, 32);
    tn_hex("831124fa3e1606b97f5cda4d81c3aa04c7c0151666f05f49a09cd0faf63a05d8", want, 32);
    assert_memory_equal(k2, want, 32);
    uint8_t nk[32];
    assert_int_equal(ockam__rekey(k2, nk), OCKAM_OK);
    tn_hex("4699ba00b29842a236c781ce67c044de2bc43eaaaf35f6bfa4353581ada3d044", want, 32);
    assert_memory_equal(nk, want, 32);

    /* Frames: the initiator seals with k2 (Ockam's swap). Nonce 0: a Payload; nonce 32 (the
     * first rekeyed interval): Close. The responder seals Close with k1 at nonce 0. */
    ockam__sc_tx tx;
    uint8_t frame[128], expect[128];
    size_t n;
    static const char *payload_plain = "8282008183818200466563686f6572818200436170704568656c6c6f40";
    size_t pl = tn_hex(payload_plain, frame + 8, sizeof frame - 8);
    assert_int_equal(ockam__sc_tx_init(&tx, k2), OCKAM_OK);
    assert_int_equal(ockam__sc_tx_seal(&tx, frame, pl), OCKAM_OK);
    n = tn_hex("0000000000000000730a7fb64a78d67042e6e239c46e13d84c96427982db86810add57a69e2d719d01"
               "041edbea45394ae6a020a752",
        expect, sizeof expect);
    assert_int_equal(n, pl + 24);
    assert_memory_equal(frame, expect, n);
    for (int k = 1; k < 32; k++)
        assert_int_equal(ockam__sc_tx_seal(&tx, frame, pl), OCKAM_OK);
    ockam__sc_close_encode(frame + 8);
    assert_int_equal(ockam__sc_tx_seal(&tx, frame, OCKAM__SC_CLOSE_LEN), OCKAM_OK);
    n = tn_hex("00000000000000202dcf70b199aa5df8145dadbf7287dc84ace9b38d33", expect, sizeof expect);
    assert_memory_equal(frame, expect, n);
    ockam__sc_tx_fini(&tx);

    assert_int_equal(ockam__sc_tx_init(&tx, k1), OCKAM_OK);
    ockam__sc_close_encode(frame + 8);
    assert_int_equal(ockam__sc_tx_seal(&tx, frame, OCKAM__SC_CLOSE_LEN), OCKAM_OK);
    n = tn_hex("00000000000000005defa70f48846dd0fa7ef76fb13613ebb55db9a496", expect, sizeof expect);
    assert_memory_equal(frame, expect, n);
    ockam__sc_tx_fini(&tx);
    ockam__noise_clear(&i);
    ockam__noise_clear(&r);
}

/* A tampered handshake message ends the handshake with OCKAM_EAUTH; short ones are refused. */
static void
test_handshake_tamper(void **state)
{
    static const struct vec v = {"", {"", "", "", "", ""}, {NULL, NULL, NULL, NULL, NULL}};
    uint8_t s1[32], p1[32], s2[32], p2[32], m1[64], m2[128], m3[128], out[256];
    size_t n1, n2, n3, ol;
    (void)v;
    for (int byte = 0; byte < 96; byte += 7) {
        ockam__noise i, r;
        ockam__x25519_keygen(s1, p1);
        ockam__x25519_keygen(s2, p2);
        assert_int_equal(ockam__noise_init(&i, true, OCKAM__NOISE_NAME, NULL, 0, s1, NULL), 0);
        assert_int_equal(ockam__noise_init(&r, false, OCKAM__NOISE_NAME, NULL, 0, s2, NULL), 0);
        assert_int_equal(ockam__noise_write(&i, NULL, 0, m1, sizeof m1, &n1), OCKAM_OK);
        assert_int_equal(ockam__noise_read(&r, m1, n1, out, sizeof out, &ol), OCKAM_OK);
        assert_int_equal(ockam__noise_write(&r, (const uint8_t *)"hi", 2, m2, sizeof m2, &n2), 0);
        m2[byte % n2] ^= 0x01;
        ockam_err err = ockam__noise_read(&i, m2, n2, out, sizeof out, &ol);
        /* Flipping the ephemeral key's bits changes every key: still a failed tag. */
        assert_int_equal(err, OCKAM_EAUTH);
        assert_int_equal(ockam__noise_write(&i, NULL, 0, m3, sizeof m3, &n3), OCKAM_EPROTO);
        assert_int_equal(ockam__noise_read(&r, m2, 10, out, sizeof out, &ol), OCKAM_ETRUNCATED);
        ockam__noise_clear(&i);
        ockam__noise_clear(&r);
    }
    ockam__noise i;
    ockam__x25519_keygen(s1, p1);
    assert_int_equal(ockam__noise_init(&i, false, OCKAM__NOISE_NAME, NULL, 0, s1, NULL), 0);
    assert_int_equal(ockam__noise_read(&i, m1, 31, out, sizeof out, &ol), OCKAM_ETRUNCATED);
    ockam__noise_clear(&i);
}

/* The receiving window and the key schedule: in-order, reordered within the window, replays,
 * far-future and far-past nonces, and a tampered frame that must not move anything. */
static void
test_rx_window(void **state)
{
    uint8_t key[32], frames[200][40], out[40];
    size_t ol;
    uint64_t n;
    ockam__sc_tx tx;
    ockam__sc_rx rx;
    memset(key, 7, sizeof key);
    assert_int_equal(ockam__sc_tx_init(&tx, key), OCKAM_OK);
    for (int k = 0; k < 200; k++) {
        memset(frames[k] + 8, k, 8);
        assert_int_equal(ockam__sc_tx_seal(&tx, frames[k], 8), OCKAM_OK);
    }
    assert_int_equal(ockam__sc_rx_init(&rx, key), OCKAM_OK);
    /* Tampered nonce 0 first: refused, and the genuine one still passes afterwards. */
    uint8_t bad[40];
    memcpy(bad, frames[0], 32);
    bad[12] ^= 0x20;
    assert_int_equal(ockam__sc_rx_open(&rx, bad, 32, out, &ol, &n), OCKAM_EAUTH);
    assert_int_equal(ockam__sc_rx_open(&rx, frames[0], 32, out, &ol, &n), OCKAM_OK);
    assert_int_equal(ol, 8);
    assert_int_equal(out[0], 0);
    assert_int_equal(ockam__sc_rx_open(&rx, frames[0], 32, out, &ol, &n), OCKAM_EPROTO);
    /* 2, 1 (reordered), then 34 (next interval, 32 ahead of 2), then 33 (next key again). */
    assert_int_equal(ockam__sc_rx_open(&rx, frames[2], 32, out, &ol, &n), OCKAM_OK);
    assert_int_equal(ockam__sc_rx_open(&rx, frames[1], 32, out, &ol, &n), OCKAM_OK);
    assert_int_equal(ockam__sc_rx_open(&rx, frames[35], 32, out, &ol, &n), OCKAM_EPROTO);
    assert_int_equal(ockam__sc_rx_open(&rx, frames[34], 32, out, &ol, &n), OCKAM_OK);
    assert_int_equal(out[0], 34);
    assert_int_equal(ockam__sc_rx_open(&rx, frames[33], 32, out, &ol, &n), OCKAM_OK);
    /* 5: previous key, inside the window. 1: replay. */
    assert_int_equal(ockam__sc_rx_open(&rx, frames[5], 32, out, &ol, &n), OCKAM_OK);
    assert_int_equal(ockam__sc_rx_open(&rx, frames[1], 32, out, &ol, &n), OCKAM_EPROTO);
    /* A tampered frame of the next interval changes nothing: 64 still opens with the key. */
    memcpy(bad, frames[64], 32);
    bad[31] ^= 1;
    assert_int_equal(ockam__sc_rx_open(&rx, bad, 32, out, &ol, &n), OCKAM_EAUTH);
    for (int k = 36; k < 200; k++) {
        if (k == 100)
            continue; /* a lost frame */
        assert_int_equal(ockam__sc_rx_open(&rx, frames[k], 32, out, &ol, &n), OCKAM_OK);
        assert_int_equal(n, (uint64_t)k);
        assert_int_equal(out[7], k);
    }
    /* 100 is now more than 32 behind: refused. */
    assert_int_equal(ockam__sc_rx_open(&rx, frames[100], 32, out, &ol, &n), OCKAM_EPROTO);
    assert_int_equal(ockam__sc_rx_open(&rx, frames[199], 10, out, &ol, &n), OCKAM_ETRUNCATED);
    ockam__sc_tx_fini(&tx);
    ockam__sc_rx_fini(&rx);
}

/* Plaintext: Payload (the worked example), Close, Refresh, and malformed shapes. */
static void
test_plaintext(void **state)
{
    uint8_t buf[128];
    size_t n
        = tn_hex("8282008183818200466563686f6572818200436170704568656c6c6f40", buf, sizeof buf);
    ockam__sc_kind kind;
    ockam_msg *m = ockam_msg_new();
    assert_int_equal(ockam__sc_plain_decode(buf, n, &kind, m, NULL), OCKAM_OK);
    assert_int_equal(kind, OCKAM__SC_PAYLOAD);
    tn_assert_route(ockam_msg_onward(m), "0#echoer");
    tn_assert_route(ockam_msg_return(m), "0#app");
    assert_int_equal(ockam_msg_payload(m).len, 5);
    assert_memory_equal(ockam_msg_payload(m).ptr, "hello", 5);
    /* Re-encoding gives the same bytes. */
    uint8_t again[128];
    size_t w;
    ockam__msg_parts parts = ockam__msg_parts_of(m);
    assert_int_equal(ockam__sc_payload_encode(&parts, again, sizeof again, &w), OCKAM_OK);
    assert_int_equal(w, n);
    assert_int_equal(ockam__sc_payload_size(&parts), n);
    assert_memory_equal(again, buf, n);
    assert_int_equal(ockam__sc_payload_encode(&parts, again, n - 1, &w), OCKAM_EMSGSIZE);
    /* Every strict prefix is an error, never a crash or OK. */
    for (size_t k = 0; k < n; k++)
        assert_int_not_equal(ockam__sc_plain_decode(buf, k, &kind, m, NULL), OCKAM_OK);
    /* Padding of any length. */
    buf[n - 1] = 0x43;
    memcpy(buf + n, "abc", 3);
    assert_int_equal(ockam__sc_plain_decode(buf, n + 3, &kind, m, NULL), OCKAM_OK);
    assert_int_equal(ockam__sc_plain_decode(buf, n + 2, &kind, m, NULL), OCKAM_ETRUNCATED);
    /* A padding that ends with the empty padding's byte is still a padding (the one-pass
     * decoding of the usual shape must not take it for the end of the message). */
    buf[n - 1] = 0x42;
    buf[n] = 'x';
    buf[n + 1] = 0x40;
    assert_int_equal(ockam__sc_plain_decode(buf, n + 2, &kind, m, NULL), OCKAM_OK);
    assert_int_equal(kind, OCKAM__SC_PAYLOAD);
    assert_memory_equal(ockam_msg_payload(m).ptr, "hello", 5);
    /* Bytes between the message and an empty padding; a message with tracing (4 fields). */
    buf[n - 1] = 0x00;
    buf[n] = 0x40;
    assert_int_equal(ockam__sc_plain_decode(buf, n + 1, &kind, m, NULL), OCKAM_ECBORTYPE);
    n = tn_hex("8282008184818200466563686f6572818200436170704568656c6c6f617440", buf, sizeof buf);
    assert_int_equal(ockam__sc_plain_decode(buf, n, &kind, m, NULL), OCKAM_ECBORTYPE);
    ockam__sc_close_encode(buf);
    assert_int_equal(ockam__sc_plain_decode(buf, 5, &kind, NULL, NULL), OCKAM_OK);
    assert_int_equal(kind, OCKAM__SC_CLOSE);
    buf[5] = 0;
    assert_int_equal(ockam__sc_plain_decode(buf, 6, &kind, NULL, NULL), OCKAM_ETRAILING);
    n = tn_hex("828201818280804140", buf, sizeof buf); /* Refresh [[], []] + padding */
    assert_int_equal(ockam__sc_plain_decode(buf, n, &kind, NULL, NULL), OCKAM_OK);
    assert_int_equal(kind, OCKAM__SC_REFRESH);
    n = tn_hex("8282038040", buf, sizeof buf); /* unknown variant */
    assert_int_not_equal(ockam__sc_plain_decode(buf, n, &kind, NULL, NULL), OCKAM_OK);
    n = tn_hex("8282028140", buf, sizeof buf); /* Close with a field */
    assert_int_not_equal(ockam__sc_plain_decode(buf, n, &kind, NULL, NULL), OCKAM_OK);
    ockam_msg_free(m);
}

/* A frame sealed from pieces (head, payload, padding) is the frame sealed from the whole
 * plaintext, and it opens. */
static void
test_gather(void **state)
{
    enum { PAYLOAD = 40000 };
    ockam_msg *m = ockam_msg_new();
    ockam_route_parse(ockam_msg_onward(m), "echo => 1#127.0.0.1:4000");
    ockam_route_parse(ockam_msg_return(m), "app");
    uint8_t *p = ockam_msg_payload_reserve(m, PAYLOAD);
    for (int i = 0; i < PAYLOAD; i++)
        p[i] = (uint8_t)(i * 13);
    ockam__msg_parts parts = ockam__msg_parts_of(m);
    size_t len = ockam__sc_payload_size(&parts), w, head;
    uint8_t *a = malloc(len + 24), *b = malloc(len + 24), *out = malloc(len);
    uint8_t key[32] = {5};
    ockam__sc_tx t1, t2;
    ockam__sc_rx rx;
    assert_int_equal(ockam__sc_payload_encode(&parts, a + 8, len, &w), OCKAM_OK);
    assert_int_equal(ockam__sc_payload_head(m, b + 8, len, &head), OCKAM_OK);
    assert_int_equal(head + PAYLOAD + 1, len);
    uint8_t pad = OCKAM__SC_EMPTY_PADDING;
    ockam_slice pieces[3] = {{b + 8, head}, {p, PAYLOAD}, {&pad, 1}};
    assert_int_equal(ockam__sc_tx_init(&t1, key), OCKAM_OK);
    assert_int_equal(ockam__sc_tx_init(&t2, key), OCKAM_OK);
    assert_int_equal(ockam__sc_tx_seal(&t1, a, len), OCKAM_OK);
    assert_int_equal(ockam__sc_tx_seal_gather(&t2, b, pieces, 3), OCKAM_OK);
    assert_memory_equal(a, b, len + 24);
    assert_int_equal(ockam__sc_rx_init(&rx, key), OCKAM_OK);
    uint64_t n;
    size_t ol;
    assert_int_equal(ockam__sc_rx_open(&rx, b, len + 24, out, &ol, &n), OCKAM_OK);
    ockam__sc_kind kind;
    ockam_msg *back = ockam_msg_new();
    assert_int_equal(ockam__sc_plain_decode(out, ol, &kind, back, NULL), OCKAM_OK);
    assert_int_equal(ockam_msg_payload(back).len, PAYLOAD);
    assert_memory_equal(ockam_msg_payload(back).ptr, p, PAYLOAD);
    ockam__sc_tx_fini(&t1);
    ockam__sc_tx_fini(&t2);
    ockam__sc_rx_fini(&rx);
    ockam_msg_free(back);
    ockam_msg_free(m);
    free(a);
    free(b);
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flynn_vectors),
        cmocka_unit_test(test_ockam_name),
        cmocka_unit_test(test_handshake_tamper),
        cmocka_unit_test(test_rx_window),
        cmocka_unit_test(test_plaintext),
        cmocka_unit_test(test_gather),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
