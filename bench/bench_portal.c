/* libockam TCP portal roles for the bulk-transfer scenario (bench/bench_plain bulk-source ->
 * inlet node -> TCP -> outlet node -> bench_plain bulk-sink). Built only when the portal exists
 * (include/ockam/portal.h; see bench/suite.cmake).
 *
 * Roles (key=value arguments; see bench_util.h):
 *   outlet to=      listen for the inlet node; the outlet connects to 127.0.0.1:to
 *   inlet via=      connect to the outlet node's listener, then listen for TCP clients; the
 *                   "port N" line is the inlet's own port */
#include "bench_util.h"
#include "ockam/ockam.h"
#include "ockam/portal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ockam_node *node;

static void
must(ockam_err err, const char *what)
{
    if (err != OCKAM_OK)
        bench_die("%s: %s", what, ockam_strerror(err));
}

static int
port_of(const char *addr)
{
    const char *colon = strrchr(addr, ':');
    return colon ? atoi(colon + 1) : 0;
}

static int
role_outlet(int argc, char **argv)
{
    char target[32];
    ockam_outlet *outlet;
    ockam_listener *l;
    snprintf(target, sizeof target, "127.0.0.1:%ld", bench_arg_long(argc, argv, "to", 0));
    ockam_outlet_config cfg = OCKAM_OUTLET_CONFIG_INIT;
    cfg.target = target;
    must(ockam_outlet_start(node, &cfg, &outlet), "ockam_outlet_start");
    must(ockam_tcp_listen(node, "127.0.0.1:0", NULL, &l), "ockam_tcp_listen");
    must(ockam_flow_add_consumer(node, ockam_outlet_address(outlet), ockam_listener_flow_id(l)),
        "flow");
    bench_ready(port_of(ockam_listener_address(l)));
    ockam_node_run(node);
    return 0;
}

struct connecting {
    ockam_err status;
    bool done;
};

static void
on_connected(ockam_conn *conn, ockam_err status, void *user)
{
    struct connecting *c = user;
    c->status = status;
    c->done = true;
}

static int
role_inlet(int argc, char **argv)
{
    char peer[32], text[96];
    struct connecting c = {0};
    ockam_inlet *inlet;
    long via = bench_arg_long(argc, argv, "via", 0);
    snprintf(peer, sizeof peer, "127.0.0.1:%ld", via);
    must(ockam_tcp_connect(node, peer, NULL, on_connected, &c), "ockam_tcp_connect");
    while (!c.done)
        ockam_node_run_once(node);
    must(c.status, "connect");
    ockam_route *route = ockam_route_new();
    snprintf(text, sizeof text, "1#%s => %s", peer, OCKAM_OUTLET_ADDR);
    if (!route || ockam_route_parse(route, text) != OCKAM_OK)
        bench_die("bad route %s", text);
    ockam_inlet_config cfg = OCKAM_INLET_CONFIG_INIT;
    cfg.bind = "127.0.0.1:0";
    cfg.outlet_route = route;
    must(ockam_inlet_start(node, &cfg, &inlet), "ockam_inlet_start");
    bench_ready(port_of(ockam_inlet_bind_address(inlet)));
    ockam_node_run(node);
    return 0;
}

int
main(int argc, char **argv)
{
    node = ockam_node_new();
    if (!node || ockam_tcp_init(node, NULL) != OCKAM_OK)
        bench_die("cannot create a node");
    if (argc > 1 && strcmp(argv[1], "outlet") == 0)
        return role_outlet(argc, argv);
    if (argc > 1 && strcmp(argv[1], "inlet") == 0)
        return role_inlet(argc, argv);
    fprintf(stderr, "usage: %s outlet to=PORT | inlet via=PORT\n", argv[0]);
    return 64;
}
