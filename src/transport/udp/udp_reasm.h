/* UDP reassembly, sans-IO (docs/wire.md §5.2): the per-peer state of one bind, Ockam's
 * routing-number rules, and the memory caps. No libuv and no sockets: the caller gives peer
 * keys, decoded fragments and the current time in milliseconds.
 *
 * Rules per peer (a peer is a source socket address):
 *  - the first fragment seen from a peer sets its expected routing number;
 *  - an older number (u16 serial comparison, half range) is dropped as late;
 *  - a newer number abandons the partial message and becomes the expected number;
 *  - a fragment whose offset differs from the bytes collected so far discards the message and
 *    increments the expected number (no reordering, no retransmission);
 *  - is_last completes the message and increments the expected number.
 * Caps: bytes per peer, bytes for everything sharing one ockam__udp_budget, peers tracked
 * (least recently heard evicted first), and a timeout after which a partial message that got
 * no fragment is dropped (ockam__udp_reasm_expire).
 *
 * Ownership: the reasm owns its peers and their buffers. A slice returned with
 * OCKAM__REASM_DONE is valid until the next call on the same reasm.
 * Threading: one thread at a time (the node's loop thread). */
#ifndef OCKAM_TRANSPORT_UDP_REASM_H
#define OCKAM_TRANSPORT_UDP_REASM_H

#include "core/codec.h"

/* Longest peer text: "[" + 45 (INET6_ADDRSTRLEN - 1) + "]:" + 5 digits + NUL = 54. */
#define OCKAM__UDP_PEER_TEXT 56

/* A source socket address in a form that hashes and compares as bytes. */
struct ockam__udp_pkey {
    uint8_t family; /* 4 or 6 */
    uint8_t pad;
    uint16_t port;    /* host order */
    uint8_t addr[16]; /* IPv4 in the first 4 bytes, the rest zero */
};

struct ockam__udp_peer {
    struct ockam__udp_peer *hnext;         /* hash chain */
    struct ockam__udp_peer *prev, *next;   /* recency list, most recent first */
    struct ockam__udp_peer *pprev, *pnext; /* partial list, most recent first */
    struct ockam__udp_pkey key;
    uint32_t hash;
    uint16_t expected; /* routing number expected next (once started) */
    uint8_t logged;    /* kinds of drop already logged for this peer */
    bool started;      /* a fragment was seen: expected is meaningful */
    bool active;       /* a message is being assembled */
    uint64_t last_ms;  /* when the partial message last grew */
    uint8_t *buf;
    size_t len, cap;
    char text[OCKAM__UDP_PEER_TEXT]; /* "ip:port", filled by the caller on creation */
};

/* Bytes shared by every reasm of a node. */
struct ockam__udp_budget {
    size_t used, max, peak;
};

struct ockam__udp_reasm_cfg {
    size_t peer_bytes;  /* cap of one partial message (buffer capacity) */
    size_t max_message; /* largest routing message (OCKAM_UDP_MAX_MESSAGE) */
    uint32_t max_peers; /* >= 1 */
    uint32_t stale_ms;  /* partial timeout */
    const char *name;   /* for log lines (the bind's local address); borrowed */
};

struct ockam__udp_reasm_stats {
    uint64_t late, gaps, abandoned, over_cap, stale, evicted, bad_offset;
    size_t bytes, peak; /* held by this reasm's partial messages */
    uint32_t peers;
    uint64_t logs_suppressed;
};

struct ockam__udp_reasm {
    struct ockam__udp_reasm_cfg cfg;
    struct ockam__udp_budget *budget;
    struct ockam__udp_peer **buckets;
    uint32_t mask;
    uint64_t seed;
    struct ockam__udp_peer *head, *tail;   /* recency */
    struct ockam__udp_peer *phead, *ptail; /* partials */
    uint32_t npartials;
    uint8_t *done; /* buffer of the last completed message, freed on the next call */
    struct ockam__udp_reasm_stats stats;
    uint32_t log_tokens; /* rate limit: lines left in the current second */
    uint64_t log_second;
};

enum ockam__reasm_result {
    OCKAM__REASM_NONE = 0, /* nothing to deliver (fragment kept or dropped) */
    OCKAM__REASM_DONE = 1, /* *out holds one whole routing message */
};

ockam_err ockam__udp_reasm_init(struct ockam__udp_reasm *r, const struct ockam__udp_reasm_cfg *cfg,
    struct ockam__udp_budget *budget);
void ockam__udp_reasm_fini(struct ockam__udp_reasm *r);

/* The peer for key, or NULL. Does not change recency. */
struct ockam__udp_peer *ockam__udp_reasm_find(
    struct ockam__udp_reasm *r, const struct ockam__udp_pkey *key);
/* Find or create the peer for key and mark it most recently heard. A new peer may evict the
 * least recently heard one; *created tells the caller to fill peer->text. NULL on ENOMEM. */
struct ockam__udp_peer *ockam__udp_reasm_peer(
    struct ockam__udp_reasm *r, const struct ockam__udp_pkey *key, uint64_t now, bool *created);
/* Apply one fragment from peer p (p from ockam__udp_reasm_peer). */
enum ockam__reasm_result ockam__udp_reasm_feed(struct ockam__udp_reasm *r,
    struct ockam__udp_peer *p, const ockam__udp_frag *frag, uint64_t now, ockam_slice *out);
/* Drop partial messages that received nothing for cfg.stale_ms. */
void ockam__udp_reasm_expire(struct ockam__udp_reasm *r, uint64_t now);
/* When the oldest partial message goes stale; false if there is none. */
bool ockam__udp_reasm_deadline(const struct ockam__udp_reasm *r, uint64_t *when);

/* True when b is newer than a in u16 serial arithmetic (Ockam: b - a in [1, 32768]). */
static inline bool
ockam__udp_rn_newer(uint16_t a, uint16_t b)
{
    uint16_t d = (uint16_t)(b - a);
    return d != 0 && d <= 0x8000;
}

/* Rate-limited log line for drops (at most a few per second per reasm); returns whether it
 * was printed. kind is a bit: the same kind is logged once per peer (p may be NULL). */
bool ockam__udp_reasm_log(struct ockam__udp_reasm *r, struct ockam__udp_peer *p, uint8_t kind,
    uint64_t now, const char *what);

enum {
    OCKAM__UDP_LOG_LATE = 1,
    OCKAM__UDP_LOG_GAP = 2,
    OCKAM__UDP_LOG_NEWER = 4,
    OCKAM__UDP_LOG_CAP = 8,
    OCKAM__UDP_LOG_STALE = 16,
    OCKAM__UDP_LOG_MALFORMED = 32,
    OCKAM__UDP_LOG_OTHER = 64,
    OCKAM__UDP_LOG_OVERSIZED = 128,
};

#endif
