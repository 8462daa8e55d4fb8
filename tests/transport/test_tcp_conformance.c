/* The transport conformance suite, run for TCP in both wire profiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "nodes.h"
#include "stream_ts.h"

#include <stdio.h>
#include <stdlib.h>

struct tcp_ctx {
    ockam_wire_profile profile;
};

static void
tcp_setup(ockam_node *node, void *ctx)
{
    struct tcp_ctx *c = ctx;
    ockam_tcp_config cfg = OCKAM_TCP_CONFIG_INIT;
    cfg.default_profile = c->profile;
    assert_int_equal(ockam_tcp_init(node, &cfg), OCKAM_OK);
}

static ockam_err
tcp_listen(ockam_node *node, void *ctx, char *addr, size_t cap, void **listener)
{
    struct tcp_ctx *c = ctx;
    ockam_listener *l = NULL;
    ockam_tcp_listen_opts o = {.profile = c->profile};
    ockam_err err = ockam_tcp_listen(node, "127.0.0.1:0", &o, &l);
    if (!err) {
        snprintf(addr, cap, "%s", ockam_listener_address(l));
        *listener = l;
    }
    return err;
}

static ockam_err
tcp_connect(ockam_node *node, void *ctx, const char *addr, ts_connected_cb done, void *arg)
{
    struct tcp_ctx *c = ctx;
    ockam_tcp_connect_opts o = {.profile = c->profile};
    void *box = stream_ts_box(done, arg);
    ockam_err err = ockam_tcp_connect(node, addr, &o, stream_ts_connected, box);
    if (err)
        free(box);
    return err;
}

static void
tcp_dead_address(void *ctx, char *addr, size_t cap)
{
    snprintf(addr, cap, "127.0.0.1:%u", tn_dead_port());
}

static int
tcp_raw_connect(void *ctx, const char *addr)
{
    return tn_raw_connect(addr);
}

static const uint8_t current_preamble[] = {0x01};
/* A CBOR body that is not an array of routes. */
static const uint8_t current_bad[] = {0x00, 0x00, 0x00, 0x03, 0xff, 0xff, 0xff};
/* A BARE body with an unknown version byte. */
static const uint8_t legacy_bad[] = {0x00, 0x03, 0x07, 0x07, 0x07};

int
main(void)
{
    struct tcp_ctx current = {OCKAM_WIRE_CURRENT}, legacy = {OCKAM_WIRE_LEGACY};
    ts_transport t = {
        .name = "tcp-current",
        .ctx = &current,
        .max_body = OCKAM_MAX_FRAME_CURRENT,
        .body_size = stream_ts_body_current,
        .setup = tcp_setup,
        .listen = tcp_listen,
        .allow = stream_ts_allow,
        .connect = tcp_connect,
        .dead_address = tcp_dead_address,
        .close = stream_ts_close,
        .raw_connect = tcp_raw_connect,
        .raw_preamble = current_preamble,
        .raw_preamble_len = sizeof current_preamble,
        .bad_frame = current_bad,
        .bad_frame_len = sizeof current_bad,
    };
    int failed = ts_run(&t);

    t.name = "tcp-legacy";
    t.ctx = &legacy;
    t.max_body = OCKAM_MAX_FRAME_LEGACY;
    t.body_size = stream_ts_body_legacy;
    t.raw_preamble_len = 0;
    t.bad_frame = legacy_bad;
    t.bad_frame_len = sizeof legacy_bad;
    failed += ts_run(&t);
    return failed;
}
