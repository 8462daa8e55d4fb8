/* Multiaddr: the CLI's way to write routes (docs/wire.md §10), in text ("/ip4/127.0.0.1/tcp/4000/
 * service/echo") and binary form (uvarint protocol code, then the value).
 *
 * Component values are kept in binary form: ip4 = 4 bytes, ip6 = 16 bytes, tcp/udp = 2 bytes
 * big-endian port, every other protocol = UTF-8 bytes.
 * Ownership: a multiaddr owns its components; views returned by ockam_multiaddr_at() are
 * valid until it is modified or freed. Not thread-safe. */
#ifndef OCKAM_MULTIADDR_H
#define OCKAM_MULTIADDR_H

#include "ockam/route.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OCKAM_MA_IP4 4u
#define OCKAM_MA_TCP 6u
#define OCKAM_MA_IP6 41u
#define OCKAM_MA_DNSADDR 56u
#define OCKAM_MA_UDP 273u /* multiformats' code for udp */
#define OCKAM_MA_SERVICE 62526u
#define OCKAM_MA_NODE 72526u
#define OCKAM_MA_PROJECT 82526u
#define OCKAM_MA_SPACE 92526u
#define OCKAM_MA_SECURE 99526u
#define OCKAM_MA_WORKER 102526u
/* Ours (Ockam has no Kafka hop): value "topic" or "topic:partition" (':' because '/' separates
 * components). Becomes the Kafka address 16#topic or 16#topic/partition (ockam/kafka.h). */
#define OCKAM_MA_KAFKA 112526u
/* Ours (Ockam has no BLE multiaddr): value = a BLE device name. Becomes the BLE address
 * 4#NAME (ockam/ble.h; the name is checked when the hop is used). */
#define OCKAM_MA_BLE 122526u

/* Limits checked by the parser and decoder. Every route a node can carry fits in a multiaddr:
 * a transport hop takes two components (host, port), every other address one. */
#define OCKAM_MA_MAX_COMPONENTS (2 * OCKAM_MAX_ROUTE_LEN)
#define OCKAM_MA_MAX_VALUE_LEN 255

typedef struct ockam_multiaddr ockam_multiaddr;

typedef struct ockam_ma_component {
    uint32_t code;
    ockam_slice value; /* binary form, see above */
} ockam_ma_component;

OCKAM_API ockam_multiaddr *ockam_multiaddr_new(void);
OCKAM_API void ockam_multiaddr_free(ockam_multiaddr *ma);

/* Text form. "self" means "/secure/api". OCKAM_EMULTIADDR on any defect. */
OCKAM_API ockam_err ockam_multiaddr_parse(const char *text, ockam_multiaddr **out);
/* Binary form; (ptr, len)-bounded. OCKAM_EMULTIADDR / OCKAM_ETRUNCATED / OCKAM_EVARINT. */
OCKAM_API ockam_err ockam_multiaddr_decode(const uint8_t *buf, size_t len, ockam_multiaddr **out);
/* Binary form into out[0..cap). *written is the full size needed; OCKAM_EMSGSIZE if cap is
 * too small. */
OCKAM_API ockam_err ockam_multiaddr_encode(
    const ockam_multiaddr *ma, uint8_t *out, size_t cap, size_t *written);
/* Text form like snprintf (returns the full length needed). */
OCKAM_API size_t ockam_multiaddr_format(const ockam_multiaddr *ma, char *buf, size_t cap);

OCKAM_API size_t ockam_multiaddr_count(const ockam_multiaddr *ma);
OCKAM_API ockam_ma_component ockam_multiaddr_at(const ockam_multiaddr *ma, size_t i);
/* "ip4", "tcp", ... or NULL for an unknown code; and the reverse (0 if unknown). */
OCKAM_API const char *ockam_multiaddr_proto_name(uint32_t code);
OCKAM_API uint32_t ockam_multiaddr_proto_code(const char *name);

/* Append one component; value in binary form (validated: ip4 4 bytes, port 2 bytes...). */
OCKAM_API ockam_err ockam_multiaddr_push(
    ockam_multiaddr *ma, uint32_t code, const void *value, size_t len);
/* Replace components [index, index+remove) with all of insert's components. */
OCKAM_API ockam_err ockam_multiaddr_splice(
    ockam_multiaddr *ma, size_t index, size_t remove, const ockam_multiaddr *insert);

/* Convert to a route, appended to out:
 *   /ip4/A/tcp/P -> 1#A:P, /ip6/A/tcp/P -> 1#[A]:P, /dnsaddr/H/tcp/P -> 1#H:P,
 *   /ip4/A/udp/P (and ip6/dnsaddr) -> 2#A:P, /service|/worker/X -> 0#X,
 *   /kafka/T -> 16#T, /kafka/T:P -> 16#T/P (the topic is checked when the hop is used),
 *   /ble/NAME -> 4#NAME.
 * Unlike Ockam, several transport hops are allowed (the nodes in between decide whether they
 * forward). /node, /project and /space must be resolved by the caller first (OCKAM_ENOTSUP);
 * so must /secure/NAME (OCKAM_ENOTSUP): it asks for a secure channel to the listener NAME,
 * which only the caller can create, and routing it as the plain hop 0#NAME would carry the
 * application's bytes in clear;
 * a host without a port, or a port without a host, gives OCKAM_EMULTIADDR. */
OCKAM_API ockam_err ockam_multiaddr_to_route(const ockam_multiaddr *ma, ockam_route *out);

#ifdef __cplusplus
}
#endif
#endif
