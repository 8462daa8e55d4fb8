/* Plain TCP applications for the portal tests: servers (echo, sink, source) and clients written
 * with libuv directly -- no libockam on their side -- running on the loop of a helper node, so
 * tn_wait() drives them together with the nodes under test and nothing sleeps.
 *
 * Data is a deterministic byte stream per seed; both ends keep a running FNV-1a 64 checksum
 * and a byte count of what they sent and received, so large transfers are compared without
 * keeping them. Rates: a "slow" reader reads at most `per_tick` bytes every `tick_ms`.
 *
 * Ownership: every object is freed by pu_cleanup(), which closes what is still open and runs
 * the loop until all handles are gone. Call it before tn_free_all() (pu_teardown() does both).
 * Loop thread only.
 *
 * At the end: what the portal tests share on the nodes' side (tests/support/nodes.h): the
 * helper node, the teardown, and conditions for tn_wait(). */
#ifndef OCKAM_TESTS_SERVICE_PORTAL_UTIL_H
#define OCKAM_TESTS_SERVICE_PORTAL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ockam/node.h"

#define PU_FNV_INIT 0xcbf29ce484222325ULL

uint64_t pu_fnv(uint64_t h, const uint8_t *p, size_t n);
/* Fill buf with bytes [offset, offset+n) of the stream for seed. */
void pu_fill(uint64_t seed, uint64_t offset, uint8_t *buf, size_t n);

enum pu_mode {
    PU_ECHO,   /* write back what is read; close after EOF */
    PU_SINK,   /* read and count; close after EOF */
    PU_SOURCE, /* write source_bytes of the stream (seed = connection number), then close */
    PU_REPLY,  /* answer at once with source_bytes, half-close, then read to EOF and close */
};

typedef struct pu_side {
    uint64_t bytes_in, sum_in;   /* received */
    uint64_t bytes_out, sum_out; /* sent */
    bool eof;                    /* the peer closed cleanly */
    int error;                   /* a read or write error (libuv code), 0 if none */
    /* The reading side ended in a reset: a read error, or an EOF that libuv reports after one
     * (after a partial read it takes the hang-up for EOF; the error is then still pending). */
    bool reset;
    bool closed; /* our handle is closed */
} pu_side;

typedef struct pu_server pu_server;

pu_server *pu_server_start(uv_loop_t *loop, enum pu_mode mode, uint64_t source_bytes);
/* The same on [::1]:0 when ipv6. */
pu_server *pu_server_start_at(uv_loop_t *loop, enum pu_mode mode, uint64_t source_bytes, bool ipv6);
uint16_t pu_server_port(const pu_server *s);
/* Read slowly (sink and echo). */
void pu_server_set_rate(pu_server *s, size_t per_tick, uint32_t tick_ms);
size_t pu_server_accepted(const pu_server *s);
size_t pu_server_open(const pu_server *s);
/* Totals over every connection (closed ones included); eof and error: of the last one that
 * saw either. */
pu_side pu_server_totals(const pu_server *s);
/* Stop listening (open connections stay). */
void pu_server_close(pu_server *s);

typedef struct pu_client pu_client;

/* Connect to 127.0.0.1:port; send `send_bytes` of the stream for `seed`, then (if
 * shutdown_after) half-close. Everything received is counted (and kept, if keep). */
pu_client *pu_client_start(
    uv_loop_t *loop, uint16_t port, uint64_t seed, uint64_t send_bytes, bool shutdown_after);
void pu_client_keep(pu_client *c, bool keep);
void pu_client_set_rate(pu_client *c, size_t per_tick, uint32_t tick_ms);
const pu_side *pu_client_side(const pu_client *c);
bool pu_client_connected(const pu_client *c);
bool pu_client_sent_all(const pu_client *c);
/* Received bytes (when kept). */
const uint8_t *pu_client_data(const pu_client *c, size_t *len);
/* Send more bytes now (a copy). */
void pu_client_write(pu_client *c, const void *data, size_t len);
/* Close at once (with a reset when hard). */
void pu_client_close(pu_client *c, bool hard);

/* Close everything still open and free it all. */
void pu_cleanup(uv_loop_t *loop);

/* ---- with the tests' nodes ---------------------------------------------------------- */

/* A new node (tn_node_new) to run the applications; returns its loop, which pu_teardown()
 * cleans up. */
uv_loop_t *pu_apps_start(ockam_node **apps);
/* A cmocka teardown (also called at the end of a test that passed): pu_cleanup() on the
 * applications' loop if one was started, then tn_free_all(). */
int pu_teardown(void **state);

/* Conditions for tn_wait(). */
typedef struct pu_want {
    pu_client *c;
    uint64_t n;
} pu_want;
/* arg is a pu_want: its client received n bytes, or its side ended (EOF or an error). */
bool pu_client_got(void *arg);
/* arg is a pu_client: EOF, an error, or closed. */
bool pu_client_ended(void *arg);
/* arg is an ockam_inlet: its probe says UP. */
bool pu_inlet_up(void *arg);
/* arg is an ockam_relay_client: registered (UP). */
bool pu_relay_up(void *arg);

#endif
