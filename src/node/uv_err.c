/* The libuv -> ockam_err table (uv_err.h). One case per libuv code that a caller can tell
 * apart; the rest is OCKAM_ESYSERR (the log line of the caller then names the libuv error). */
#include "node/uv_err.h"

#include <uv.h>

ockam_err
ockam__err_from_uv(int uv_err)
{
    switch (uv_err) {
    case 0:
        return OCKAM_OK;
    case UV_ENOMEM:
    case UV_ENOBUFS:
        return OCKAM_ENOMEM;
    case UV_ECONNREFUSED:
        return OCKAM_ECONNREFUSED;
    case UV_ECONNRESET:
    case UV_EPIPE:
    case UV_ECONNABORTED:
        return OCKAM_ECONNRESET;
    case UV_EOF:
    case UV_ECANCELED:
    case UV_EAI_CANCELED:
        return OCKAM_ECLOSED;
    case UV_ETIMEDOUT:
        return OCKAM_ETIMEDOUT;
    case UV_EADDRINUSE:
        return OCKAM_EADDRINUSE;
    case UV_EADDRNOTAVAIL:
    case UV_EAFNOSUPPORT:
    case UV_EINVAL:
    case UV_ENAMETOOLONG:
    case UV_ENETUNREACH:
    case UV_EHOSTUNREACH:
        return OCKAM_EADDRINVAL;
    case UV_EACCES:
    case UV_EPERM:
        return OCKAM_EACCES;
    case UV_EMSGSIZE:
        return OCKAM_EMSGSIZE;
    case UV_EAI_ADDRFAMILY:
    case UV_EAI_AGAIN:
    case UV_EAI_FAIL:
    case UV_EAI_FAMILY:
    case UV_EAI_NODATA:
    case UV_EAI_NONAME:
    case UV_EAI_SERVICE:
        return OCKAM_EDNS;
    default:
        return OCKAM_ESYSERR;
    }
}
