/* The one error enum of libockam. Every function that can fail returns an ockam_err;
 * OCKAM_OK is zero. Decoder errors are distinct codes so that a log line says exactly what
 * was wrong with the bytes. */
#ifndef OCKAM_ERROR_H
#define OCKAM_ERROR_H

#include "ockam/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ockam_err {
    OCKAM_OK = 0,
    /* general */
    OCKAM_ENOMEM,    /* out of memory */
    OCKAM_EINVAL,    /* invalid argument */
    OCKAM_ENOENT,    /* no worker at that address */
    OCKAM_EEXIST,    /* address already taken */
    OCKAM_EACCES,    /* denied by access or flow control */
    OCKAM_ENOTSUP,   /* no transport registered for that address type */
    OCKAM_ECLOSED,   /* object closed or node stopping */
    OCKAM_ETIMEDOUT, /* timed out */
    OCKAM_EROUTE,    /* empty or unusable onward route */
    OCKAM_EAGAIN,    /* decoders: need more bytes */
    /* transport / system */
    OCKAM_ECONNREFUSED, /* connection refused */
    OCKAM_ECONNRESET,   /* connection reset by peer */
    OCKAM_EADDRINUSE,   /* address already in use */
    OCKAM_EADDRINVAL,   /* malformed host:port or unresolvable name */
    OCKAM_EDNS,         /* name resolution failed */
    OCKAM_EMSGSIZE,     /* message larger than the transport or buffer allows */
    OCKAM_EPROTO,       /* protocol violation (generic) */
    OCKAM_EBUSY,        /* resource busy (write queue above its mark) */
    /* wire decoding: each one names a specific defect */
    OCKAM_EVERSION,   /* unsupported protocol or message version */
    OCKAM_EVARINT,    /* varint overlong or overflowing u64 */
    OCKAM_ETRUNCATED, /* a length or count runs past the end of the input */
    OCKAM_EROUTELEN,  /* more addresses in a route than OCKAM_MAX_ROUTE_LEN */
    OCKAM_EADDRLEN,   /* address longer than OCKAM_MAX_ADDR_LEN */
    OCKAM_EADDRTYPE,  /* address transport type >= 128 or not allowed here */
    OCKAM_EFRAMELEN,  /* frame length zero or above the profile's maximum */
    OCKAM_ECBORTYPE,  /* unexpected CBOR major type or shape */
    OCKAM_ECBORINDEF, /* indefinite-length CBOR item (not allowed) */
    OCKAM_EUTF8,      /* text is not valid UTF-8 */
    OCKAM_ETRAILING,  /* unexpected bytes after the end of an item */
    OCKAM_EMULTIADDR, /* malformed multiaddr */
    OCKAM_ESYSERR,    /* other operating-system error */
    /* identities, vaults and cryptography */
    OCKAM_ECRYPTO,      /* the cryptography library failed or refused a key */
    OCKAM_ENOKEY,       /* the vault holds no such key */
    OCKAM_EHEX,         /* text is not hex, or not the expected number of digits */
    OCKAM_EDATATYPE,    /* signed data of another type (change, attestation, credential) */
    OCKAM_EKEYTYPE,     /* unknown key or signature type, or the two types differ */
    OCKAM_ESIGNATURE,   /* a signature does not verify */
    OCKAM_ECHAIN,       /* the changes of a history do not chain, or there are none */
    OCKAM_EIDENTIFIER,  /* malformed identifier, or not the one expected */
    OCKAM_EATTESTATION, /* attestation not for the identity's latest change or its window */
    OCKAM_EEXPIRED,     /* attestation or credential expired */
    OCKAM_EFUTURE,      /* created too far in the future */
    OCKAM_EKEYMISMATCH, /* the attested key is not the key the peer used */
    OCKAM_EVAULTFILE,   /* vault file corrupt (magic, version, layout or checksum) */
    /* secure channels */
    OCKAM_EAUTH,      /* authentication failed: a MAC, signature or key binding did not verify */
    OCKAM_EUNTRUSTED, /* the peer authenticated, but the trust policy refuses its identity */
    OCKAM_ERR_COUNT
} ockam_err;

/* One-line human message, e.g. "route count runs past the end of the input". Never NULL. */
OCKAM_API const char *ockam_strerror(ockam_err err);
/* The constant's name, e.g. "OCKAM_ETRUNCATED". Never NULL. */
OCKAM_API const char *ockam_err_name(ockam_err err);

#ifdef __cplusplus
}
#endif
#endif
