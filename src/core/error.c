/* Names and one-line messages for every ockam_err. */
#include "core/core.h"

struct err_text {
    const char *name;
    const char *msg;
};

static const struct err_text texts[OCKAM_ERR_COUNT] = {
    [OCKAM_OK] = {"OCKAM_OK", "success"},
    [OCKAM_ENOMEM] = {"OCKAM_ENOMEM", "out of memory"},
    [OCKAM_EINVAL] = {"OCKAM_EINVAL", "invalid argument"},
    [OCKAM_ENOENT] = {"OCKAM_ENOENT", "no worker at that address"},
    [OCKAM_EEXIST] = {"OCKAM_EEXIST", "address already in use by another worker"},
    [OCKAM_EACCES] = {"OCKAM_EACCES", "denied by access control or flow control"},
    [OCKAM_ENOTSUP] = {"OCKAM_ENOTSUP", "no transport registered for that address type"},
    [OCKAM_ECLOSED] = {"OCKAM_ECLOSED", "closed"},
    [OCKAM_ETIMEDOUT] = {"OCKAM_ETIMEDOUT", "timed out"},
    [OCKAM_EROUTE] = {"OCKAM_EROUTE", "empty or unusable onward route"},
    [OCKAM_EAGAIN] = {"OCKAM_EAGAIN", "need more bytes"},
    [OCKAM_ECONNREFUSED] = {"OCKAM_ECONNREFUSED", "connection refused"},
    [OCKAM_ECONNRESET] = {"OCKAM_ECONNRESET", "connection reset by peer"},
    [OCKAM_EADDRINUSE] = {"OCKAM_EADDRINUSE", "address already in use"},
    [OCKAM_EADDRINVAL] = {"OCKAM_EADDRINVAL", "malformed address (expected host:port)"},
    [OCKAM_EDNS] = {"OCKAM_EDNS", "name resolution failed"},
    [OCKAM_EMSGSIZE] = {"OCKAM_EMSGSIZE", "message too large"},
    [OCKAM_EPROTO] = {"OCKAM_EPROTO", "protocol violation"},
    [OCKAM_EBUSY] = {"OCKAM_EBUSY", "resource busy"},
    [OCKAM_EVERSION] = {"OCKAM_EVERSION", "unsupported protocol or message version"},
    [OCKAM_EVARINT] = {"OCKAM_EVARINT", "malformed varint (overlong or above 64 bits)"},
    [OCKAM_ETRUNCATED] = {"OCKAM_ETRUNCATED", "a length or count runs past the end of the input"},
    [OCKAM_EROUTELEN] = {"OCKAM_EROUTELEN", "route has more addresses than allowed"},
    [OCKAM_EADDRLEN] = {"OCKAM_EADDRLEN", "address longer than allowed"},
    [OCKAM_EADDRTYPE] = {"OCKAM_EADDRTYPE", "address transport type not allowed (>= 128)"},
    [OCKAM_EFRAMELEN] = {"OCKAM_EFRAMELEN", "frame length is zero or above the maximum"},
    [OCKAM_ECBORTYPE] = {"OCKAM_ECBORTYPE", "unexpected CBOR item type"},
    [OCKAM_ECBORINDEF] = {"OCKAM_ECBORINDEF", "indefinite-length CBOR item not allowed"},
    [OCKAM_EUTF8] = {"OCKAM_EUTF8", "text is not valid UTF-8"},
    [OCKAM_ETRAILING] = {"OCKAM_ETRAILING", "unexpected bytes after the end of the message"},
    [OCKAM_EMULTIADDR] = {"OCKAM_EMULTIADDR", "malformed multiaddr"},
    [OCKAM_ESYSERR] = {"OCKAM_ESYSERR", "operating system error"},
    [OCKAM_ECRYPTO] = {"OCKAM_ECRYPTO", "cryptography library failure or key refused"},
    [OCKAM_ENOKEY] = {"OCKAM_ENOKEY", "the vault holds no such key"},
    [OCKAM_EHEX] = {"OCKAM_EHEX", "malformed hex text"},
    [OCKAM_EDATATYPE] = {"OCKAM_EDATATYPE", "signed data of the wrong type"},
    [OCKAM_EKEYTYPE] = {"OCKAM_EKEYTYPE", "unknown or mismatched key or signature type"},
    [OCKAM_ESIGNATURE] = {"OCKAM_ESIGNATURE", "signature does not verify"},
    [OCKAM_ECHAIN] = {"OCKAM_ECHAIN", "identity changes do not chain (or there are none)"},
    [OCKAM_EIDENTIFIER] = {"OCKAM_EIDENTIFIER", "malformed or unexpected identifier"},
    [OCKAM_EATTESTATION] = {"OCKAM_EATTESTATION",
        "attestation does not match the identity's latest change or validity window"},
    [OCKAM_EEXPIRED] = {"OCKAM_EEXPIRED", "expired"},
    [OCKAM_EFUTURE] = {"OCKAM_EFUTURE", "created too far in the future"},
    [OCKAM_EKEYMISMATCH] = {"OCKAM_EKEYMISMATCH", "attested key differs from the key in use"},
    [OCKAM_EVAULTFILE] = {"OCKAM_EVAULTFILE", "vault file corrupt"},
    [OCKAM_EAUTH] = {"OCKAM_EAUTH", "authentication failed"},
    [OCKAM_EUNTRUSTED] = {"OCKAM_EUNTRUSTED", "peer identity not trusted"},
};

const char *
ockam_strerror(ockam_err err)
{
    if ((unsigned)err >= OCKAM_ERR_COUNT || !texts[err].msg)
        return "unknown error";
    return texts[err].msg;
}

const char *
ockam_err_name(ockam_err err)
{
    if ((unsigned)err >= OCKAM_ERR_COUNT || !texts[err].name)
        return "OCKAM_E?";
    return texts[err].name;
}
