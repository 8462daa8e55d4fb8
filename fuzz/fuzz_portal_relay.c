/* The other side of portals and relays: what an inlet and a relay client get back from the
 * peer node. A whole node (fuzz_node.h), made once and kept, gets for each input an inlet
 * whose outlet route
 * and a relay client whose relay node are both behind fake connection 0 (the "uplink"); a
 * client socket in the same loop has connected to the inlet, so the inlet's Ping and the
 * client's registration have gone out on the uplink. The input (fuzz_node_ops.h) then plays
 * the peer: Pongs, Payloads, Disconnects and confirmations with arbitrary payloads, to the
 * inlet's connection worker and the relay client's address (the fuzzer names them among the
 * node's addresses), or anything else, on the uplink or on other connections, with the clock
 * moved to fire pings and timeouts.
 *
 * Invariants: those of fuzz_node.h (probe and node manager unreachable), and once the inlet
 * and the relay client are stopped and every connection closed, the node's live allocations
 * are back to what they were before the input (fn_check_baseline). */
#include "fuzz_node_ops.h"

static uv_tcp_t inlet_client;
static uv_connect_t inlet_connect;
static char inlet_rbuf[4096];
static bool client_open; /* inlet_client is initialised and its close has not completed */

static void
client_closed(uv_handle_t *h)
{
    (void)h;
    client_open = false;
}

static void
client_close(void)
{
    if (client_open && !uv_is_closing((uv_handle_t *)&inlet_client))
        uv_close((uv_handle_t *)&inlet_client, client_closed);
}

static void
client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h, (void)suggested;
    *buf = uv_buf_init(inlet_rbuf, sizeof inlet_rbuf);
}

static void
client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf, (void)s;
    if (n < 0)
        client_close();
}

static void
client_connected(uv_connect_t *req, int status)
{
    uv_stream_t *s = req->handle;
    if (status == 0 && uv_read_start(s, client_alloc, client_read) == 0) {
        uv_buf_t b = uv_buf_init((char *)"GET / HTTP/1.0\r\n\r\n", 18);
        (void)uv_try_write(s, &b, 1);
        return;
    }
    client_close();
}

/* Start the inlet and the relay client on the node, play the input, stop them. */
static void
cycle(const uint8_t *data, size_t size)
{
    fn_reset_slots();
    FUZZ_CHECK(fn_conn_open(0, OCKAM_WIRE_CURRENT));
    fn_feed(0, (const uint8_t[]) {OCKAM_WIRE_VERSION}, 1); /* the peer's preamble */
    ockam_route *up = ockam_route_new();
    FUZZ_CHECK(
        up && !ockam_route_push_back(up, ockam_addr_local(ockam_conn_address(fn_conns[0].c))));

    ockam_relay_client_config rc = OCKAM_RELAY_CLIENT_CONFIG_INIT;
    rc.to = up;
    rc.name = "fz";
    ockam_relay_client *client = NULL;
    FUZZ_CHECK(ockam_relay_client_start(fn.node, &rc, &client) == OCKAM_OK);

    ockam_route *outlet = ockam_route_new();
    FUZZ_CHECK(outlet && !ockam_route_copy(outlet, up)
        && !ockam_route_push_back(outlet, ockam_addr_local("outlet")));
    ockam_inlet_config ic = OCKAM_INLET_CONFIG_INIT;
    ic.bind = "127.0.0.1:0";
    ic.outlet_route = outlet;
    ic.ping_route = up;
    ic.pong_timeout_ms = 2000;
    ockam_inlet *inlet = NULL;
    FUZZ_CHECK(ockam_inlet_start(fn.node, &ic, &inlet) == OCKAM_OK);
    ockam_route_free(outlet);
    ockam_route_free(up);

    struct sockaddr_storage sa;
    const char *bound = ockam_inlet_bind_address(inlet);
    const char *colon = strrchr(bound, ':');
    FUZZ_CHECK(colon && uv_ip4_addr("127.0.0.1", atoi(colon + 1), (struct sockaddr_in *)&sa) == 0);
    uv_loop_t *loop = ockam__node_loop(fn.node);
    FUZZ_CHECK(uv_tcp_init(loop, &inlet_client) == 0);
    client_open = true;
    FUZZ_CHECK(
        uv_tcp_connect(&inlet_connect, &inlet_client, (struct sockaddr *)&sa, client_connected)
        == 0);
    for (int n = 0; n < 16; n++)
        fn_turn(); /* accepted; Ping and registration are out */

    run_input(data, size);

    client_close();
    ockam_relay_client_stop(client);
    ockam_inlet_stop(inlet);
    for (int n = 0; n < 1000 && client_open; n++)
        fn_turn();
    FUZZ_CHECK(!client_open); /* inlet_client is initialised again by the next input */
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fn_setup();
    /* Structures that grow once and stay (connection maps, the registry's buckets) are made
     * before any baseline is taken. */
    cycle(fn_warm_up, sizeof fn_warm_up);
    for (int n = 0; n < 256; n++)
        fn_turn();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    long base = fn_live_now();
    fn_tracking = getenv("FUZZ_NODE_LOG") != NULL;
    cycle(data, size);
    fn_check_baseline(base);
    return 0;
}
