/* "host:port" (host_port.h). */
#include "core/host_port.h"

#include <string.h>

/* 1 to 5 decimal digits, at most 65535. */
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

ockam_err
ockam__host_port_split(const char *text, size_t len, ockam__host_port *out)
{
    const char *colon = NULL;
    for (size_t i = len; i > 0 && !colon; i--) {
        if (text[i - 1] == ':')
            colon = text + i - 1;
    }
    if (!colon || colon == text)
        return OCKAM_EADDRINVAL;
    const char *h = text;
    size_t hlen = (size_t)(colon - text);
    if (!parse_port(colon + 1, len - hlen - 1, &out->port))
        return OCKAM_EADDRINVAL;
    out->bracketed = h[0] == '[';
    if (out->bracketed) {
        if (hlen < 3 || h[hlen - 1] != ']')
            return OCKAM_EADDRINVAL;
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen)) {
        return OCKAM_EADDRINVAL;
    }
    out->host = h;
    out->host_len = hlen;
    return OCKAM_OK;
}

ockam_err
ockam__host_port_parse(const char *text, char *host, size_t host_cap, uint16_t *port)
{
    ockam__host_port hp;
    if (!text || ockam__host_port_split(text, strlen(text), &hp) != OCKAM_OK
        || hp.host_len >= host_cap)
        return OCKAM_EADDRINVAL;
    memcpy(host, hp.host, hp.host_len);
    host[hp.host_len] = '\0';
    *port = hp.port;
    return OCKAM_OK;
}
