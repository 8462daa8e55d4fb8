/* Addresses: a transport type byte plus opaque bytes (docs/wire.md §1.1).
 *
 * ockam_addr is a borrowed view: it never owns its bytes. Views returned by route or message
 * accessors are valid until that route is next modified or its message is freed. Copy into an
 * ockam_addr_buf (or push into a route, which copies) to keep one. */
#ifndef OCKAM_ADDR_H
#define OCKAM_ADDR_H

#include "ockam/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Transport type bytes. Values >= 128 are never valid (Elixir encodes the type as a varint). */
#define OCKAM_TRANSPORT_LOCAL 0
#define OCKAM_TRANSPORT_TCP 1
#define OCKAM_TRANSPORT_UDP 2
#define OCKAM_TRANSPORT_WS 3
#define OCKAM_TRANSPORT_BLE 4
#define OCKAM_TRANSPORT_UDS 5
#define OCKAM_TRANSPORT_KAFKA 16 /* ours: Ockam has no Kafka transport (see ockam/kafka.h) */
#define OCKAM_TRANSPORT_MAX 127

/* Longest address accepted anywhere (decoders refuse longer ones with OCKAM_EADDRLEN). */
#define OCKAM_MAX_ADDR_LEN 1024
/* Length of a random local address: 16 random bytes as lowercase hex. */
#define OCKAM_RANDOM_ADDR_LEN 32

typedef struct ockam_addr {
    uint8_t type;
    uint16_t len;
    const uint8_t *bytes;
} ockam_addr;

/* An owning, fixed-size address (about 1 KiB; fine on the stack). */
typedef struct ockam_addr_buf {
    uint8_t type;
    uint16_t len;
    uint8_t bytes[OCKAM_MAX_ADDR_LEN];
} ockam_addr_buf;

/* A local (type 0) view of a NUL-terminated name. The string must outlive the view. */
OCKAM_API ockam_addr ockam_addr_local(const char *name);
/* A view of arbitrary bytes; len is clamped to OCKAM_MAX_ADDR_LEN. */
OCKAM_API ockam_addr ockam_addr_of(uint8_t type, const void *bytes, size_t len);
OCKAM_API bool ockam_addr_eq(ockam_addr a, ockam_addr b);
/* True when the view is a local address whose bytes equal the NUL-terminated name. */
OCKAM_API bool ockam_addr_is_local(ockam_addr a, const char *name);

/* Copy a view into an owning buffer. OCKAM_EADDRLEN if it does not fit. */
OCKAM_API ockam_err ockam_addr_buf_set(ockam_addr_buf *dst, ockam_addr src);
OCKAM_API ockam_addr ockam_addr_buf_view(const ockam_addr_buf *buf);

/* Parse the text form: "echo" (type 0), "0#echo", "1#127.0.0.1:4000". More than one '#', an
 * empty or non-decimal type, a type > 127 or an over-long value give OCKAM_EINVAL /
 * OCKAM_EADDRTYPE / OCKAM_EADDRLEN. len is the number of bytes of text (no NUL needed). */
OCKAM_API ockam_err ockam_addr_parse(const char *text, size_t len, ockam_addr_buf *out);

/* Print "<type>#<bytes>" into buf (always NUL-terminated when cap > 0); returns the length
 * the full text needs, like snprintf. Bytes that are not UTF-8 print as "Invalid UTF-8". */
OCKAM_API size_t ockam_addr_format(ockam_addr a, char *buf, size_t cap);

/* Fill out[0..32) with 32 random lowercase hex characters and out[32] = NUL. */
OCKAM_API void ockam_addr_random(char out[OCKAM_RANDOM_ADDR_LEN + 1]);

#ifdef __cplusplus
}
#endif
#endif
