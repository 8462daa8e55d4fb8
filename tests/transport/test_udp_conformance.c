/* The transport conformance suite (tests/conformance/transport_suite.h) run for UDP, twice:
 *
 * "udp-fixed": a point-to-point UDP link, i.e. a bind with a fixed peer on each side.
 * "listen" binds node B with its peer fixed to a port that "connect" then binds on node A,
 * fixed to B. With fixed peers the return route on arrival is [0#<bind>, 0#app] (length 2).
 *
 * "udp-unbound": binds without a fixed peer on both sides (B's is what `udp-listener create`
 * makes). A reaches B through [0#<A's bind>, 2#<B's address>], so "connect" reports that
 * route, and a bind without a fixed peer puts the source in the return route --
 * [0#<bind>, 2#<source>, 0#app], docs/wire.md §5.2 -- so the suite expects length 3.
 *
 * "The largest message": UDP's limit is the receiver's reassembly cap (max_peer_bytes), so
 * both nodes use 1 MiB and the suite sends 1 MiB and 1 MiB + 1 byte; the latter is dropped
 * cleanly by the receiver. (16 MiB in one burst cannot fit a loopback receive buffer while
 * both nodes share one thread; test_udp_nodes.c sends 1 MiB that way too.)
 *
 * Skipped, because a datagram transport cannot promise them:
 *  - refused connection: there is no connection; nothing answers a datagram to a dead port;
 *  - close with messages in flight, "delivered or counted": datagrams handed to the network
 *    may be lost without anyone counting them (and ockam_udp_bind_close drops its queue);
 *  - bad frame from a raw client, "the node drops that peer": there is nothing to drop; a
 *    malformed datagram is dropped and counted (test_udp_wire.c checks that). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "conformance/transport_suite.h"
#include "udp_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BODY (1024u * 1024u)

struct udp_ctx {
    ockam_udp_config cfg;
    bool fixed;      /* binds with fixed peers, or without */
    char a_addr[32]; /* where "connect" binds node A (B's fixed peer) */
};

struct pending {
    ts_connected_cb done;
    void *arg;
    char way[OCKAM_RANDOM_ADDR_LEN + 64]; /* "<bind>" or "<bind> => 2#host:port" */
};

static void
udp_setup(ockam_node *node, void *ctx)
{
    assert_int_equal(ockam_udp_init(node, &((struct udp_ctx *)ctx)->cfg), OCKAM_OK);
}

static ockam_err
udp_listen(ockam_node *node, void *ctx, char *addr, size_t cap, void **listener)
{
    struct udp_ctx *c = ctx;
    if (c->fixed) {
        /* Reserve a port for node A: bound and released, like tn_dead_port. */
        int fd = tu_raw(c->a_addr);
        close(fd);
    }
    ockam_udp_bind *b = tu_bind(node, "127.0.0.1:0", c->fixed ? c->a_addr : NULL);
    snprintf(addr, cap, "%s", ockam_udp_bind_local(b));
    *listener = b;
    return OCKAM_OK;
}

static void
udp_allow(ockam_node *node, void *listener, const char *address)
{
    tu_allow(node, listener, address);
}

static void
report_connected(void *arg)
{
    struct pending *p = arg;
    p->done(p->way, OCKAM_OK, p->arg);
    free(p);
}

static ockam_err
udp_connect(ockam_node *node, void *ctx, const char *addr, ts_connected_cb done, void *arg)
{
    struct udp_ctx *c = ctx;
    ockam_udp_bind *b = NULL;
    ockam_udp_bind_opts o = {.peer = c->fixed ? addr : NULL};
    ockam_err err = ockam_udp_bind_open(node, c->fixed ? c->a_addr : "127.0.0.1:0", &o, &b);
    if (err)
        return err;
    struct pending *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->done = done;
    p->arg = arg;
    if (c->fixed)
        snprintf(p->way, sizeof p->way, "%s", ockam_udp_bind_address(b));
    else
        snprintf(p->way, sizeof p->way, "%s => 2#%s", ockam_udp_bind_address(b), addr);
    /* The suite wants the completion later, never inside this call. */
    return ockam_node_post(node, report_connected, p);
}

static void
udp_dead_address(void *ctx, char *addr, size_t cap)
{
    print_message("udp: skipped: a datagram transport has no connection to refuse\n");
    skip();
}

static void
udp_close(ockam_node *node, const char *local_addr, ts_closed_cb done, void *arg)
{
    print_message("udp: skipped: datagrams handed to the network can be lost uncounted\n");
    skip();
}

static size_t
udp_body_size(const ockam_msg *msg)
{
    return ockam__cbor_msg_size(msg);
}

int
main(void)
{
    struct udp_ctx c;
    memset(&c, 0, sizeof c);
    c.cfg = (ockam_udp_config)OCKAM_UDP_CONFIG_INIT;
    c.cfg.max_peer_bytes = MAX_BODY;
    c.fixed = true;
    ts_transport t = {
        .name = "udp-fixed",
        .ctx = &c,
        .max_body = MAX_BODY,
        .body_size = udp_body_size,
        .setup = udp_setup,
        .listen = udp_listen,
        .allow = udp_allow,
        .connect = udp_connect,
        .dead_address = udp_dead_address,
        .close = udp_close,
        .raw_connect = NULL, /* bad frame: skipped by the suite (see above) */
    };
    int failed = ts_run(&t);

    c.fixed = false;
    t.name = "udp-unbound";
    t.return_route_len = 3;
    failed += ts_run(&t);
    return failed;
}
