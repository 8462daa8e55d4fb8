/* "host:port" text <-> socket addresses for the UDP transport. */
#include "transport/udp/udp_internal.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>

ockam_err
ockam__udp_err_from_uv(int uv_err)
{
    switch (uv_err) {
    case 0:
        return OCKAM_OK;
    case UV_ENOMEM:
    case UV_ENOBUFS:
        return OCKAM_ENOMEM;
    case UV_EADDRINUSE:
        return OCKAM_EADDRINUSE;
    case UV_EADDRNOTAVAIL:
    case UV_EAFNOSUPPORT:
    case UV_EINVAL:
        return OCKAM_EADDRINVAL;
    case UV_EACCES:
    case UV_EPERM:
        return OCKAM_EACCES;
    case UV_EMSGSIZE:
        return OCKAM_EMSGSIZE;
    case UV_ECONNREFUSED:
        return OCKAM_ECONNREFUSED;
    case UV_EAI_NONAME:
    case UV_EAI_AGAIN:
    case UV_EAI_FAIL:
    case UV_EAI_NODATA:
        return OCKAM_EDNS;
    case UV_ECANCELED:
    case UV_EAI_CANCELED:
        return OCKAM_ECLOSED;
    default:
        return OCKAM_ESYSERR;
    }
}

static bool
parse_port(const char *p, size_t n, uint16_t *port)
{
    uint32_t v = 0;
    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(p[i] - '0');
    }
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* Split into host (brackets removed) and port text; false when malformed. */
static bool
split(const char *text, size_t len, const char **host, size_t *hlen, const char **port,
    size_t *plen, bool *bracketed)
{
    const char *colon;
    *bracketed = text[0] == '[';
    if (*bracketed) {
        const char *close = memchr(text, ']', len);
        if (!close || (size_t)(close - text) + 1 >= len || close[1] != ':')
            return false;
        *host = text + 1;
        *hlen = (size_t)(close - text) - 1;
        colon = close + 1;
    } else {
        colon = NULL;
        for (size_t i = len; i > 0; i--) {
            if (text[i - 1] == ':') {
                colon = text + i - 1;
                break;
            }
        }
        if (!colon)
            return false;
        *host = text;
        *hlen = (size_t)(colon - text);
        /* An IPv6 literal must be bracketed, or "::1:80" would be ambiguous. */
        if (memchr(*host, ':', *hlen))
            return false;
    }
    *port = colon + 1;
    *plen = len - (size_t)(*port - text);
    return *hlen > 0;
}

ockam_err
ockam__udp_parse(const char *text, size_t len, bool port_required, struct ockam__udp_dest *out)
{
    const char *host, *port;
    size_t hlen, plen;
    bool bracketed;

    if (len == 0 || len > OCKAM_MAX_ADDR_LEN || memchr(text, '\0', len))
        return OCKAM_EADDRINVAL;
    if (!split(text, len, &host, &hlen, &port, &plen, &bracketed))
        return OCKAM_EADDRINVAL;
    if (!parse_port(port, plen, &out->port) || (port_required && out->port == 0))
        return OCKAM_EADDRINVAL;
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    memset(&out->sa, 0, sizeof out->sa);
    out->numeric = false;
    if (bracketed) {
        if (uv_ip6_addr(out->host, out->port, &out->sa.in6) != 0)
            return OCKAM_EADDRINVAL;
        out->numeric = true;
    } else if (uv_inet_pton(AF_INET, out->host, &out->sa.in.sin_addr) == 0) {
        uv_ip4_addr(out->host, out->port, &out->sa.in);
        out->numeric = true;
    }
    return OCKAM_OK;
}

void
ockam__udp_format(const struct sockaddr *sa, char *out)
{
    char ip[INET6_ADDRSTRLEN + 16] = "?";
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        uv_ip6_name(s6, ip, sizeof ip);
        snprintf(out, OCKAM__UDP_PEER_TEXT, "[%s]:%u", ip, (unsigned)ntohs(s6->sin6_port));
        return;
    }
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
    uv_ip4_name(s4, ip, sizeof ip);
    snprintf(out, OCKAM__UDP_PEER_TEXT, "%s:%u", ip, (unsigned)ntohs(s4->sin_port));
}

bool
ockam__udp_key(const struct sockaddr *sa, struct ockam__udp_pkey *key)
{
    memset(key, 0, sizeof *key);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        key->family = 4;
        key->port = ntohs(s4->sin_port);
        memcpy(key->addr, &s4->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        key->family = 6;
        key->port = ntohs(s6->sin6_port);
        memcpy(key->addr, &s6->sin6_addr, 16);
        return true;
    }
    return false;
}

ockam_err
ockam__udp_resolve_now(uv_loop_t *loop, struct ockam__udp_dest *d, int family)
{
    uv_getaddrinfo_t req;
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_DGRAM};

    /* No callback: libuv resolves synchronously. */
    int rc = uv_getaddrinfo(loop, &req, NULL, d->host, NULL, &hints);
    if (rc != 0)
        return OCKAM_EADDRINVAL;
    ockam_err err = OCKAM_EADDRINVAL;
    for (struct addrinfo *ai = req.addrinfo; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        memcpy(&d->sa, ai->ai_addr, ai->ai_addrlen);
        if (ai->ai_family == AF_INET)
            d->sa.in.sin_port = htons(d->port);
        else
            d->sa.in6.sin6_port = htons(d->port);
        d->numeric = true;
        err = OCKAM_OK;
        break;
    }
    uv_freeaddrinfo(req.addrinfo);
    return err;
}
