/* "host:port" text <-> socket addresses for the UDP transport. */
#include "transport/udp/udp_internal.h"

#include "core/host_port.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <strings.h>

ockam_err
ockam__udp_parse(const char *text, size_t len, bool port_required, struct ockam__udp_dest *out)
{
    ockam__host_port hp;

    if (len == 0 || len > OCKAM_MAX_ADDR_LEN || memchr(text, '\0', len))
        return OCKAM_EADDRINVAL;
    if (ockam__host_port_split(text, len, &hp) != OCKAM_OK || (port_required && hp.port == 0))
        return OCKAM_EADDRINVAL;
    out->port = hp.port;
    memcpy(out->host, hp.host, hp.host_len);
    out->host[hp.host_len] = '\0';
    memset(&out->sa, 0, sizeof out->sa);
    out->numeric = false;
    if (hp.bracketed) {
        if (uv_ip6_addr(out->host, out->port, &out->sa.in6) != 0)
            return OCKAM_EADDRINVAL;
        ockam__udp_unmap(&out->sa);
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

void
ockam__udp_unmap(union ockam__udp_sa *sa)
{
    if (sa->sa.sa_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&sa->in6.sin6_addr))
        return;
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = sa->in6.sin6_port};
    memcpy(&v4.sin_addr, &sa->in6.sin6_addr.s6_addr[12], 4);
    memset(sa, 0, sizeof *sa);
    sa->in = v4;
}

bool
ockam__udp_to_wire(
    const ockam_udp_bind *b, const union ockam__udp_sa *dst, union ockam__udp_sa *wire)
{
    if (dst->sa.sa_family == b->family) {
        *wire = *dst;
        return true;
    }
    if (dst->sa.sa_family != AF_INET || !b->dual)
        return false;
    memset(wire, 0, sizeof *wire);
    wire->in6.sin6_family = AF_INET6;
    wire->in6.sin6_port = dst->in.sin_port;
    wire->in6.sin6_addr.s6_addr[10] = 0xff;
    wire->in6.sin6_addr.s6_addr[11] = 0xff;
    memcpy(&wire->in6.sin6_addr.s6_addr[12], &dst->in.sin_addr, 4);
    return true;
}

bool
ockam__udp_is_localhost(const char *host)
{
    return strcasecmp(host, "localhost") == 0;
}
