/* Helpers for the UDP tests: nodes with the UDP transport, binds on 127.0.0.1:0, raw UDP
 * sockets (plain POSIX, no libockam on that path) and the wire vectors of docs/wire.md §4.2/§5.2.
 * Everything runs on the test thread through tests/support/nodes.h (tn_wait never sleeps). */
#ifndef OCKAM_TESTS_TRANSPORT_UDP_UTIL_H
#define OCKAM_TESTS_TRANSPORT_UDP_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "core/codec.h"
#include "nodes.h"
#include "ockam/udp.h"

#include <sys/types.h>

#define TU_WAIT_MS 5000

/* U1 (docs/wire.md §5.2): routing number 0x1234, body = C1 (String "hello" to [0#echo], return
 * [0#app]). */
extern const char *const TU_U1_HEX;
/* C1 / C3 bodies (docs/wire.md §4.2, without the 4-byte length). */
extern const char *const TU_C1_BODY_HEX;
extern const char *const TU_C3_BODY_HEX;

/* A node with the UDP transport (cfg NULL = defaults). */
ockam_node *tu_node(const ockam_udp_config *cfg);
/* Bind at host_port with an optional fixed peer; asserts success. */
ockam_udp_bind *tu_bind(ockam_node *node, const char *host_port, const char *peer);
/* Let messages arriving on the bind reach a local address. */
void tu_allow(ockam_node *node, ockam_udp_bind *b, const char *address);
/* Start echo, uppercase and hop and allow each on the bind. */
void tu_services(ockam_node *node, ockam_udp_bind *b);

/* A node with one bind and its addresses as text (NUL-terminated). */
typedef struct tu_side {
    ockam_node *node;
    ockam_udp_bind *bind;
    char local[64];  /* where it is bound (ockam_udp_bind_local) */
    char sender[64]; /* its worker address (ockam_udp_bind_address) */
    char port[8];    /* the port of local */
} tu_side;

/* A node with the UDP transport (cfg NULL = defaults) bound at host_port, with an optional
 * fixed peer; asserts success. */
void tu_side_start(
    tu_side *s, const ockam_udp_config *cfg, const char *host_port, const char *peer);

/* The payload of m is exactly data. */
void tu_assert_payload(const ockam_msg *m, const void *data, size_t len);
/* app sends data along route (text) and a message comes back (not checked; caller frees). */
ockam_msg *tu_request(tn_probe *app, const char *route, const void *data, size_t len);

/* A raw UDP socket on 127.0.0.1:0 (non-blocking); *name (if not NULL, 32 bytes) gets
 * "127.0.0.1:port". */
int tu_raw(char *name);
/* Send one datagram to "127.0.0.1:port"; asserts the kernel took it. */
void tu_raw_sendto(int fd, const char *host_port, const void *buf, size_t len);
/* Receive one datagram while the nodes run; its length, or -1 on timeout. */
ssize_t tu_raw_recv(int fd, void *buf, size_t cap, uint64_t timeout_ms);

/* Encode one fragment datagram; returns its length. */
size_t tu_frag(
    uint8_t *out, uint16_t number, uint32_t offset, bool last, const void *data, size_t len);
/* Encode a routing message [onward, return, payload] from route texts; caller frees. */
uint8_t *tu_body(
    const char *onward, const char *ret, const void *payload, size_t len, size_t *out_len);
/* Send a whole routing message from a raw socket, fragmented as docs/wire.md §5.2 says. */
void tu_raw_send_msg(int fd, const char *to, uint16_t number, const uint8_t *body, size_t len);

/* Wait until pred(stats) holds for the bind. */
bool tu_wait_stats(ockam_udp_bind *b, bool (*pred)(const struct ockam_udp_stats *s), uint64_t ms);

/* Deterministic payload bytes and their check. */
void tu_fill(uint8_t *p, size_t len, uint32_t seed);
bool tu_check(const uint8_t *p, size_t len, uint32_t seed);

#endif
