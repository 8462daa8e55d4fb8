/* The transport conformance suite, run for Unix domain sockets (LEGACY framing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "nodes.h"
#include "stream_ts.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct uds_ctx {
    char dir[64];
    unsigned next;
};

static ockam_err
uds_listen(ockam_node *node, void *ctx, char *addr, size_t cap, void **listener)
{
    struct uds_ctx *c = ctx;
    ockam_listener *l = NULL;
    snprintf(addr, cap, "%s/l%u.sock", c->dir, c->next++);
    ockam_err err = ockam_uds_listen(node, addr, &l);
    if (!err)
        *listener = l;
    return err;
}

static ockam_err
uds_connect(ockam_node *node, void *ctx, const char *addr, ts_connected_cb done, void *arg)
{
    void *box = stream_ts_box(done, arg);
    ockam_err err = ockam_uds_connect(node, addr, stream_ts_connected, box);
    if (err)
        free(box);
    return err;
}

static void
uds_dead_address(void *ctx, char *addr, size_t cap)
{
    snprintf(addr, cap, "%s/nobody.sock", ((struct uds_ctx *)ctx)->dir);
}

static int
uds_raw_connect(void *ctx, const char *addr)
{
    return tn_raw_connect_unix(addr);
}

static const uint8_t legacy_bad[] = {0x00, 0x03, 0x07, 0x07, 0x07};

int
main(void)
{
    struct uds_ctx c = {.dir = "/tmp/ockam-uds-XXXXXX"};
    if (!mkdtemp(c.dir))
        return 1;
    ts_transport t = {
        .name = "uds",
        .ctx = &c,
        .max_body = OCKAM_MAX_FRAME_LEGACY,
        .body_size = stream_ts_body_legacy,
        .listen = uds_listen,
        .allow = stream_ts_allow,
        .connect = uds_connect,
        .dead_address = uds_dead_address,
        .close = stream_ts_close,
        .raw_connect = uds_raw_connect,
        .bad_frame = legacy_bad,
        .bad_frame_len = sizeof legacy_bad,
    };
    int failed = ts_run(&t);
    rmdir(c.dir); /* every listener removed its socket file */
    return failed;
}
