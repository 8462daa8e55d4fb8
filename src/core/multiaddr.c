/* Multiaddr (docs/wire.md §10): text "/ip4/127.0.0.1/tcp/4000/service/echo", binary
 * "uvarint code ‖ value", and conversion to a route.
 *
 * Every component is validated when it enters (push, parse, decode), so a multiaddr always
 * formats to text that parses back and encodes to bytes that decode back. */
#include "ockam/multiaddr.h"
#include "core/codec.h"

#include <arpa/inet.h>
#include <stdio.h>

enum kind { KIND_IP4, KIND_IP6, KIND_PORT, KIND_NAME };

struct proto {
    uint32_t code;
    const char *name;
    enum kind kind;
};

static const struct proto protos[] = {
    {OCKAM_MA_IP4, "ip4", KIND_IP4},
    {OCKAM_MA_TCP, "tcp", KIND_PORT},
    {OCKAM_MA_IP6, "ip6", KIND_IP6},
    {OCKAM_MA_DNSADDR, "dnsaddr", KIND_NAME},
    {OCKAM_MA_UDP, "udp", KIND_PORT},
    {OCKAM_MA_SERVICE, "service", KIND_NAME},
    {OCKAM_MA_NODE, "node", KIND_NAME},
    {OCKAM_MA_PROJECT, "project", KIND_NAME},
    {OCKAM_MA_SPACE, "space", KIND_NAME},
    {OCKAM_MA_SECURE, "secure", KIND_NAME},
    {OCKAM_MA_WORKER, "worker", KIND_NAME},
    {OCKAM_MA_KAFKA, "kafka", KIND_NAME},
    {OCKAM_MA_BLE, "ble", KIND_NAME},
};

#define NPROTOS (sizeof protos / sizeof protos[0])

/* Values are at most 255 bytes, so they live inline: one allocation per multiaddr. */
struct comp {
    const struct proto *proto; /* never NULL: set from the table on entry */
    uint8_t len;
    uint8_t bytes[OCKAM_MA_MAX_VALUE_LEN];
};

struct ockam_multiaddr {
    struct comp *comps;
    size_t count;
    size_t cap;
};

/* ---- protocols and values ------------------------------------------------------------ */

static const struct proto *
proto_by_code(uint32_t code)
{
    for (size_t i = 0; i < NPROTOS; i++) {
        if (protos[i].code == code)
            return &protos[i];
    }
    return NULL;
}

static const struct proto *
proto_by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < NPROTOS; i++) {
        if (strlen(protos[i].name) == len && memcmp(protos[i].name, name, len) == 0)
            return &protos[i];
    }
    return NULL;
}

const char *
ockam_multiaddr_proto_name(uint32_t code)
{
    const struct proto *p = proto_by_code(code);
    return p ? p->name : NULL;
}

uint32_t
ockam_multiaddr_proto_code(const char *name)
{
    const struct proto *p = proto_by_name(name, strlen(name));
    return p ? p->code : 0;
}

static size_t
fixed_len(enum kind kind)
{
    switch (kind) {
    case KIND_IP4:
        return 4;
    case KIND_IP6:
        return 16;
    case KIND_PORT:
        return 2;
    default:
        return 0;
    }
}

/* Names must survive the text form: non-empty, UTF-8, no '/' (the separator) and no NUL. */
static bool
value_valid(enum kind kind, const uint8_t *v, size_t len)
{
    if (kind != KIND_NAME)
        return len == fixed_len(kind);
    if (len == 0 || len > OCKAM_MA_MAX_VALUE_LEN)
        return false;
    if (memchr(v, '/', len) || memchr(v, '\0', len))
        return false;
    return ockam__utf8_valid(v, len);
}

/* ---- lifecycle and accessors ----------------------------------------------------------- */

ockam_multiaddr *
ockam_multiaddr_new(void)
{
    return ockam__zalloc(sizeof(ockam_multiaddr));
}

void
ockam_multiaddr_free(ockam_multiaddr *ma)
{
    if (!ma)
        return;
    ockam__free(ma->comps);
    ockam__free(ma);
}

size_t
ockam_multiaddr_count(const ockam_multiaddr *ma)
{
    return ma->count;
}

ockam_ma_component
ockam_multiaddr_at(const ockam_multiaddr *ma, size_t i)
{
    OCKAM_ASSERT(i < ma->count);
    const struct comp *c = &ma->comps[i];
    ockam_ma_component out = {.code = c->proto->code, .value = {.ptr = c->bytes, .len = c->len}};
    return out;
}

static ockam_err
reserve(ockam_multiaddr *ma, size_t n)
{
    if (n > OCKAM_MA_MAX_COMPONENTS)
        return OCKAM_EMULTIADDR;
    return ockam__array_reserve(ma->comps, ma->cap, n, 4);
}

ockam_err
ockam_multiaddr_push(ockam_multiaddr *ma, uint32_t code, const void *value, size_t len)
{
    const struct proto *p = proto_by_code(code);
    if (!p || !value_valid(p->kind, value, len))
        return OCKAM_EMULTIADDR;
    ockam_err err = reserve(ma, ma->count + 1);
    if (err)
        return err;
    struct comp *c = &ma->comps[ma->count++];
    c->proto = p;
    c->len = (uint8_t)len;
    memcpy(c->bytes, value, len);
    return OCKAM_OK;
}

ockam_err
ockam_multiaddr_splice(
    ockam_multiaddr *ma, size_t index, size_t remove, const ockam_multiaddr *insert)
{
    if (index > ma->count || remove > ma->count - index)
        return OCKAM_EINVAL;
    size_t n_ins = insert ? insert->count : 0;
    if (remove == 0 && n_ins == 0)
        return OCKAM_OK;
    const struct comp *src = n_ins ? insert->comps : NULL;
    struct comp *copy = NULL;

    /* Splicing a multiaddr into itself: the source moves below, so copy it first. */
    if (insert == ma && n_ins) {
        copy = ockam__alloc(n_ins * sizeof *copy);
        if (!copy)
            return OCKAM_ENOMEM;
        memcpy(copy, src, n_ins * sizeof *copy);
        src = copy;
    }
    ockam_err err = reserve(ma, ma->count - remove + n_ins);
    if (!err) {
        struct comp *at = ma->comps + index;
        memmove(at + n_ins, at + remove, (ma->count - index - remove) * sizeof *at);
        if (n_ins)
            memcpy(at, src, n_ins * sizeof *at);
        ma->count = ma->count - remove + n_ins;
    }
    ockam__free(copy);
    return err;
}

/* ---- text form ----------------------------------------------------------------------- */

/* Strict dotted quad: four decimal parts 0-255, no leading zeros, nothing else. */
static bool
parse_ip4(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i == n || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && i - start < 3 && s[i] >= '0' && s[i] <= '9')
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
            return false;
        out[part] = (uint8_t)v;
    }
    return i == n;
}

static bool
parse_ip6(const char *s, size_t n, uint8_t out[16])
{
    char tmp[INET6_ADDRSTRLEN];
    if (n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, out) == 1;
}

static bool
parse_port(const char *s, size_t n, uint8_t out[2])
{
    unsigned v = 0;
    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > UINT16_MAX)
        return false;
    ockam__put16be(out, (uint16_t)v);
    return true;
}

static ockam_err
push_text(ockam_multiaddr *ma, const struct proto *p, const char *s, size_t n)
{
    uint8_t bin[16];

    switch (p->kind) {
    case KIND_IP4:
        if (!parse_ip4(s, n, bin))
            return OCKAM_EMULTIADDR;
        break;
    case KIND_IP6:
        if (!parse_ip6(s, n, bin))
            return OCKAM_EMULTIADDR;
        break;
    case KIND_PORT:
        if (!parse_port(s, n, bin))
            return OCKAM_EMULTIADDR;
        break;
    default:
        return ockam_multiaddr_push(ma, p->code, s, n);
    }
    return ockam_multiaddr_push(ma, p->code, bin, fixed_len(p->kind));
}

/* "/<proto>/<value>" pairs; a value runs to the next '/'. */
static ockam_err
parse_into(ockam_multiaddr *ma, const char *s)
{
    if (*s == '\0')
        return OCKAM_EMULTIADDR;
    while (*s) {
        if (*s != '/')
            return OCKAM_EMULTIADDR;
        const char *name = s + 1;
        size_t name_len = strcspn(name, "/");
        const struct proto *p = proto_by_name(name, name_len);
        if (!p || name[name_len] != '/')
            return OCKAM_EMULTIADDR;
        const char *value = name + name_len + 1;
        size_t value_len = strcspn(value, "/");
        ockam_err err = push_text(ma, p, value, value_len);
        if (err)
            return err;
        s = value + value_len;
    }
    return OCKAM_OK;
}

ockam_err
ockam_multiaddr_parse(const char *text, ockam_multiaddr **out)
{
    ockam_multiaddr *ma = ockam_multiaddr_new();
    if (!ma)
        return OCKAM_ENOMEM;
    ockam_err err = parse_into(ma, strcmp(text, "self") == 0 ? "/secure/api" : text);
    if (err) {
        ockam_multiaddr_free(ma);
        return err;
    }
    *out = ma;
    return OCKAM_OK;
}

/* snprintf-style output: count everything, store what fits, always NUL-terminate. */
struct sink {
    char *buf;
    size_t cap;
    size_t len;
};

static void
sink_put(struct sink *k, const void *data, size_t n)
{
    if (k->len < k->cap) {
        size_t room = k->cap - k->len;
        memcpy(k->buf + k->len, data, n < room ? n : room);
    }
    k->len += n;
}

static void
sink_str(struct sink *k, const char *s)
{
    sink_put(k, s, strlen(s));
}

static void
format_value(struct sink *k, enum kind kind, const struct comp *c)
{
    char tmp[INET6_ADDRSTRLEN];

    switch (kind) {
    case KIND_IP4:
        snprintf(
            tmp, sizeof tmp, "%u.%u.%u.%u", c->bytes[0], c->bytes[1], c->bytes[2], c->bytes[3]);
        break;
    case KIND_IP6:
        if (!inet_ntop(AF_INET6, c->bytes, tmp, sizeof tmp))
            tmp[0] = '\0';
        break;
    case KIND_PORT:
        snprintf(tmp, sizeof tmp, "%u", (unsigned)ockam__get16be(c->bytes));
        break;
    default:
        sink_put(k, c->bytes, c->len);
        return;
    }
    sink_str(k, tmp);
}

size_t
ockam_multiaddr_format(const ockam_multiaddr *ma, char *buf, size_t cap)
{
    struct sink k = {.buf = buf, .cap = cap, .len = 0};

    for (size_t i = 0; i < ma->count; i++) {
        const struct comp *c = &ma->comps[i];
        sink_str(&k, "/");
        sink_str(&k, c->proto->name);
        sink_str(&k, "/");
        format_value(&k, c->proto->kind, c);
    }
    if (cap > 0)
        buf[k.len < cap ? k.len : cap - 1] = '\0';
    return k.len;
}

/* ---- binary form --------------------------------------------------------------------- */

static ockam_err
get_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v)
{
    size_t used;
    ockam_err err = ockam__varint_get(buf + *pos, len - *pos, v, &used);
    if (err)
        return err == OCKAM_EAGAIN ? OCKAM_ETRUNCATED : err;
    *pos += used;
    return OCKAM_OK;
}

static ockam_err
decode_one(ockam_multiaddr *ma, const uint8_t *buf, size_t len, size_t *pos)
{
    uint64_t code, n;
    ockam_err err = get_varint(buf, len, pos, &code);
    if (err)
        return err;
    const struct proto *p = code <= UINT32_MAX ? proto_by_code((uint32_t)code) : NULL;
    if (!p)
        return OCKAM_EMULTIADDR;
    n = fixed_len(p->kind);
    if (p->kind == KIND_NAME && (err = get_varint(buf, len, pos, &n)))
        return err;
    if (n > len - *pos)
        return OCKAM_ETRUNCATED;
    err = ockam_multiaddr_push(ma, p->code, buf + *pos, (size_t)n);
    *pos += (size_t)n;
    return err;
}

ockam_err
ockam_multiaddr_decode(const uint8_t *buf, size_t len, ockam_multiaddr **out)
{
    ockam_multiaddr *ma = ockam_multiaddr_new();
    size_t pos = 0;
    ockam_err err = OCKAM_OK;

    if (!ma)
        return OCKAM_ENOMEM;
    while (!err && pos < len)
        err = decode_one(ma, buf, len, &pos);
    if (err) {
        ockam_multiaddr_free(ma);
        return err;
    }
    *out = ma;
    return OCKAM_OK;
}

static size_t
comp_size(const struct comp *c)
{
    size_t n = ockam__varint_len(c->proto->code) + c->len;
    if (c->proto->kind == KIND_NAME)
        n += ockam__varint_len(c->len);
    return n;
}

ockam_err
ockam_multiaddr_encode(const ockam_multiaddr *ma, uint8_t *out, size_t cap, size_t *written)
{
    size_t size = 0;
    for (size_t i = 0; i < ma->count; i++)
        size += comp_size(&ma->comps[i]);
    *written = size;
    if (size > cap)
        return OCKAM_EMSGSIZE;

    uint8_t *p = out;
    for (size_t i = 0; i < ma->count; i++) {
        const struct comp *c = &ma->comps[i];
        p += ockam__varint_put(p, c->proto->code);
        if (c->proto->kind == KIND_NAME)
            p += ockam__varint_put(p, c->len);
        memcpy(p, c->bytes, c->len);
        p += c->len;
    }
    return OCKAM_OK;
}

/* ---- conversion to a route ----------------------------------------------------------- */

/* "A:P", "[A]:P" or "H:P" for a host component followed by a tcp/udp port component. */
static size_t
host_port_text(const struct comp *host, const struct comp *port, char *buf, size_t cap)
{
    struct sink k = {.buf = buf, .cap = cap, .len = 0};
    enum kind kind = host->proto->kind;

    if (kind == KIND_IP6)
        sink_str(&k, "[");
    format_value(&k, kind, host);
    if (kind == KIND_IP6)
        sink_str(&k, "]");
    sink_str(&k, ":");
    format_value(&k, KIND_PORT, port);
    return k.len;
}

static bool
is_host(uint32_t code)
{
    return code == OCKAM_MA_IP4 || code == OCKAM_MA_IP6 || code == OCKAM_MA_DNSADDR;
}

static bool
is_port(uint32_t code)
{
    return code == OCKAM_MA_TCP || code == OCKAM_MA_UDP;
}

/* /kafka/topic[:partition] -> 16#topic[/partition]: the address keeps Kafka's own separator. */
static ockam_err
push_kafka(const struct comp *c, ockam_route *out)
{
    uint8_t text[OCKAM_MA_MAX_VALUE_LEN];
    memcpy(text, c->bytes, c->len);
    uint8_t *colon = memchr(text, ':', c->len);
    if (colon)
        *colon = '/';
    return ockam_route_push_back(out, ockam_addr_of(OCKAM_TRANSPORT_KAFKA, text, c->len));
}

/* Appends the hop(s) for component i; *i is advanced past a host's port. */
static ockam_err
push_hop(const ockam_multiaddr *ma, size_t *i, ockam_route *out)
{
    const struct comp *c = &ma->comps[*i];
    char text[OCKAM_MA_MAX_VALUE_LEN + 16];

    switch (c->proto->code) {
    case OCKAM_MA_SERVICE:
    case OCKAM_MA_WORKER:
        return ockam_route_push_back(out, ockam_addr_of(OCKAM_TRANSPORT_LOCAL, c->bytes, c->len));
    case OCKAM_MA_KAFKA:
        return push_kafka(c, out);
    case OCKAM_MA_BLE:
        return ockam_route_push_back(out, ockam_addr_of(OCKAM_TRANSPORT_BLE, c->bytes, c->len));
    case OCKAM_MA_SECURE: /* a channel to create, never a plain hop (a silent downgrade) */
    case OCKAM_MA_NODE:
    case OCKAM_MA_PROJECT:
    case OCKAM_MA_SPACE:
        return OCKAM_ENOTSUP;
    default:
        break;
    }
    if (!is_host(c->proto->code) || *i + 1 >= ma->count || !is_port(ma->comps[*i + 1].proto->code))
        return OCKAM_EMULTIADDR;
    const struct comp *port = &ma->comps[++*i];
    size_t n = host_port_text(c, port, text, sizeof text);
    uint8_t type = port->proto->code == OCKAM_MA_TCP ? OCKAM_TRANSPORT_TCP : OCKAM_TRANSPORT_UDP;
    return ockam_route_push_back(out, ockam_addr_of(type, text, n));
}

ockam_err
ockam_multiaddr_to_route(const ockam_multiaddr *ma, ockam_route *out)
{
    size_t base = ockam_route_len(out);
    ockam_err err = OCKAM_OK;

    for (size_t i = 0; !err && i < ma->count; i++)
        err = push_hop(ma, &i, out);
    /* Leave the caller's route as it was. */
    while (err && ockam_route_len(out) > base)
        ockam_route_pop_back(out);
    return err;
}
