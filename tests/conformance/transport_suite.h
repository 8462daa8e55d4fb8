/* The transport conformance suite: the same tests run against every transport. It is the
 * gate for a new transport: a transport is not done until an adapter for it passes here
 * (docs/architecture.md §6). Adapters today:
 *   TCP, both profiles   tests/transport/test_tcp_conformance.c
 *   UDS                  tests/transport/test_uds_conformance.c
 *   UDP, fixed peer and  tests/transport/udp_conformance_test.c
 *   unbound binds
 *   Kafka (mock cluster) tests/kafka/test_kafka_conformance.c
 *   BLE (emulator)       tests/ble/test_ble_conformance.c
 * An adapter skips a test only where the transport cannot promise it, and says why in its
 * header comment and in the skip message (a datagram transport has nothing to refuse).
 *
 * A transport is described by a ts_transport: how to set it up on a node, listen, let a
 * listener's traffic reach a worker, open a way to a peer, and close it. The suite only
 * routes ordinary messages through the way a connect produced -- a local address (a
 * connection's or bind's sender), maybe followed by hops, or a transport address the
 * transport routes itself (Kafka's 16#<topic>) -- so a transport without "connections" (a
 * UDP bind with or without a fixed peer, a Kafka topic pair) fits too; what differs between
 * them, the length of the return route on arrival, is a per-transport setting.
 *
 * Tests: listen/connect, exchange through echo with exact routes, reply by return route,
 * many messages in order, the largest message and one byte more, refused connection, close
 * with messages in flight, and a malformed frame from a raw client (the node drops that peer
 * and keeps serving).
 *
 * Threading: everything runs on the test thread (nodes driven by tests/support/nodes.h). */
#ifndef OCKAM_TESTS_CONFORMANCE_TRANSPORT_SUITE_H
#define OCKAM_TESTS_CONFORMANCE_TRANSPORT_SUITE_H

#include "ockam/ockam.h"

#include <stddef.h>
#include <stdint.h>

/* Completion of connect: local_addr is the address through which the peer is reached (NULL
 * when status != OCKAM_OK) -- a local worker, or a typed transport address -- optionally
 * followed by " => " and the hops that must come right after it, in route text: a UDP bind
 * without a fixed peer is reached as "<bind> => 2#127.0.0.1:4000", a Kafka peer as
 * "16#<its inbox topic>". */
typedef void (*ts_connected_cb)(const char *local_addr, ockam_err status, void *arg);
/* Completion of close: how many messages sent before the close were dropped. */
typedef void (*ts_closed_cb)(uint64_t dropped, void *arg);

typedef struct ts_transport {
    const char *name;
    void *ctx; /* passed back to the ops that take it */
    /* Largest body one message may have on this transport, and the body size of a message
     * in its encoding. max_body 0: the largest-message test is skipped (the adapter says
     * why). */
    size_t max_body;
    size_t (*body_size)(const ockam_msg *msg);
    /* Length of the return route a message from A's worker has when it arrives at B:
     * 2 ([<B's local address for the peer>, worker]) for connections and fixed peers; 3 for
     * a UDP bind without a fixed peer, which names the source too ([<bind>, 2#<source>,
     * worker], docs/wire.md §5.2). 0 means 2. */
    size_t return_route_len;

    /* Register the transport on a node. NULL if listen/connect do it. */
    void (*setup)(ockam_node *node, void *ctx);
    /* Listen on a fresh local address; write the address peers connect to into addr. The
     * opaque *listener is handed back to allow(). */
    ockam_err (*listen)(ockam_node *node, void *ctx, char *addr, size_t cap, void **listener);
    /* Let messages that arrive through the listener reach the local address. */
    void (*allow)(ockam_node *node, void *listener, const char *address);
    /* Open a way to addr; done runs exactly once, never inside this call. */
    ockam_err (*connect)(
        ockam_node *node, void *ctx, const char *addr, ts_connected_cb done, void *arg);
    /* An address at which nothing listens (connecting to it must fail). NULL: the refused
     * test is skipped (a transport with nothing to refuse). */
    void (*dead_address)(void *ctx, char *addr, size_t cap);
    /* Close the way behind local_addr after what was sent through it; done runs once. NULL:
     * the close test is skipped. */
    void (*close)(ockam_node *node, const char *local_addr, ts_closed_cb done, void *arg);

    /* Optional raw client (no libockam; NULL skips the bad-frame test): a plain socket to
     * addr, or -1. Then the bytes a well-behaved client sends first (may be empty) and a
     * malformed frame. */
    int (*raw_connect)(void *ctx, const char *addr);
    const uint8_t *raw_preamble;
    size_t raw_preamble_len;
    const uint8_t *bad_frame;
    size_t bad_frame_len;
    /* Optional, for a transport with no socket a raw client could open to the node (BLE:
     * a raw HCI host on its own emulated controller instead): send a malformed frame to the
     * listener of `node` (listen's *listener, address addr) through that raw path, with no
     * libockam on it, running the nodes meanwhile; true once the node has dropped that peer.
     * Used when raw_connect is NULL. */
    bool (*raw_bad_frame)(ockam_node *node, void *ctx, void *listener, const char *addr);
    /* The raw peer can reach the node only while no other peer is connected (BLE on the
     * emulator: a peripheral serves one central at a time): raw_bad_frame closes the node's
     * ways first, and the suite then checks a new way only, not the closed one. */
    bool raw_bad_frame_alone;
} ts_transport;

/* Run every test against t; returns the number of failed tests. */
int ts_run(const ts_transport *t);

#endif
