/* libockam TCP portal roles for the bulk-transfer scenario (bench/bench_plain bulk-source ->
 * inlet node -> TCP -> outlet node -> bench_plain bulk-sink). Built only when the portal exists
 * (include/ockam/portal.h; see bench/suite.cmake).
 *
 * Roles (key=value arguments; see bench_util.h):
 *   outlet to=      listen for the inlet node; the outlet connects to 127.0.0.1:to
 *   inlet via=      connect to the outlet node's listener, then listen for TCP clients; the
 *                   "port N" line is the inlet's own port */
#include "bench_node.h"
#include "bench_util.h"
#include "ockam/ockam.h"
#include "ockam/portal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ockam_node *node;

static int
role_outlet(int argc, char **argv)
{
    char target[32];
    ockam_outlet *outlet;
    ockam_listener *l;
    snprintf(target, sizeof target, "127.0.0.1:%ld", bench_arg_long(argc, argv, "to", 0));
    ockam_outlet_config cfg = OCKAM_OUTLET_CONFIG_INIT;
    cfg.target = target;
    bench_must(ockam_outlet_start(node, &cfg, &outlet), "ockam_outlet_start");
    bench_must(ockam_tcp_listen(node, "127.0.0.1:0", NULL, &l), "ockam_tcp_listen");
    bench_must(
        ockam_flow_add_consumer(node, ockam_outlet_address(outlet), ockam_listener_flow_id(l)),
        "flow");
    bench_ready(bench_port_of(ockam_listener_address(l)));
    ockam_node_run(node);
    return 0;
}

static int
role_inlet(int argc, char **argv)
{
    ockam_inlet *inlet;
    long via = bench_arg_long(argc, argv, "via", 0);
    bench_connect(node, via);
    ockam_route *route = bench_route("1#127.0.0.1:%ld => %s", via, OCKAM_OUTLET_ADDR);
    ockam_inlet_config cfg = OCKAM_INLET_CONFIG_INIT;
    cfg.bind = "127.0.0.1:0";
    cfg.outlet_route = route;
    bench_must(ockam_inlet_start(node, &cfg, &inlet), "ockam_inlet_start");
    bench_ready(bench_port_of(ockam_inlet_bind_address(inlet)));
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
