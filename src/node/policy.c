/* The node's security policy: flow-control registrations (the public ockam_flow_* calls), the
 * outgoing allow-list and sender adoption. The rules and why they are so: node/policy.h. */
#include "node/policy.h"

#include "core/host_port.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <strings.h>

#define POLICY_MAX_TRACKED 4096u /* registrations a flow removes when it ends */

/* ---- state ---------------------------------------------------------------------------- */

void
ockam__policy_init(struct ockam__policy *p)
{
    memset(p, 0, sizeof *p);
    p->next_flow_id = 1;
}

static void
free_entries(struct ockam__allow_entry *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ockam__free(list[i].text);
    ockam__free(list);
}

void
ockam__policy_fini(struct ockam__policy *p)
{
    free_entries(p->allow, p->nallow);
    p->allow = NULL;
    p->nallow = 0;
}

/* ---- flow control (ockam/node.h) ------------------------------------------------------ */

ockam_flow_id
ockam__policy_new_flow_id(ockam_node *n)
{
    return ockam__node_policy(n)->next_flow_id++;
}

ockam_flow_id
ockam_flow_id_new(ockam_node *n)
{
    return ockam__policy_new_flow_id(n);
}

static struct ockam__entry *
entry_for(ockam_node *n, const char *address, bool create)
{
    size_t len = strlen(address);
    if (len == 0 || len > OCKAM_MAX_ADDR_LEN)
        return NULL;
    struct ockam__registry *r = ockam__node_registry(n);
    if (create)
        return ockam__registry_get(r, (const uint8_t *)address, len);
    return ockam__registry_find(r, (const uint8_t *)address, len);
}

ockam_err
ockam_flow_add_consumer(ockam_node *n, const char *address, ockam_flow_id id)
{
    if (id == 0)
        return OCKAM_EINVAL;
    struct ockam__entry *e = entry_for(n, address, true);
    if (!e)
        return OCKAM_ENOMEM;
    return ockam__entry_add_consumer(e, id);
}

void
ockam_flow_remove_consumer(ockam_node *n, const char *address, ockam_flow_id id)
{
    struct ockam__entry *e = entry_for(n, address, false);
    if (e) {
        ockam__entry_remove_consumer(e, id);
        ockam__node_registry(n)->removals++;
    }
}

bool
ockam_flow_is_consumer(ockam_node *n, const char *address, ockam_flow_id id)
{
    struct ockam__entry *e = entry_for(n, address, false);
    return e && ockam__entry_consumes(e, id);
}

ockam_err
ockam_flow_allow_any_origin(ockam_node *n, const char *address, bool allow)
{
    struct ockam__entry *e = entry_for(n, address, true);
    if (!e)
        return OCKAM_ENOMEM;
    e->any_origin = allow;
    return OCKAM_OK;
}

ockam_err
ockam__policy_open_sender(ockam_node *n, const char *address)
{
    return ockam_flow_allow_any_origin(n, address, true);
}

/* ---- outgoing allow-list -------------------------------------------------------------- */

/* The entries of every other type, then copies of list[0..count) for `type`. */
static ockam_err
build_list(const struct ockam__policy *p, uint8_t type, const char *const *list, size_t count,
    struct ockam__allow_entry **out, size_t *nout)
{
    size_t keep = 0;
    for (size_t i = 0; i < p->nallow; i++)
        keep += p->allow[i].type != type;
    struct ockam__allow_entry *v = keep + count ? ockam__zalloc((keep + count) * sizeof *v) : NULL;
    if (keep + count && !v)
        return OCKAM_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < p->nallow; i++) {
        if (p->allow[i].type != type)
            v[n++] = p->allow[i]; /* moved on success only: the texts are shared until then */
    }
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(list[i]);
        char *text = len <= UINT16_MAX ? ockam__strdup(list[i]) : NULL;
        if (!text) {
            for (size_t j = keep; j < n; j++)
                ockam__free(v[j].text);
            ockam__free(v);
            return len <= UINT16_MAX ? OCKAM_ENOMEM : OCKAM_EINVAL;
        }
        v[n++] = (struct ockam__allow_entry) {.type = type, .len = (uint16_t)len, .text = text};
    }
    *out = v;
    *nout = n;
    return OCKAM_OK;
}

ockam_err
ockam__policy_set_outgoing(ockam_node *n, uint8_t type, const char *const *list, size_t count)
{
    struct ockam__policy *p = ockam__node_policy(n);
    if (type == OCKAM_TRANSPORT_LOCAL || type > OCKAM_TRANSPORT_MAX || (count && !list))
        return OCKAM_EINVAL;
    for (size_t i = 0; i < count; i++) {
        if (!list[i])
            return OCKAM_EINVAL;
    }
    struct ockam__allow_entry *v = NULL;
    size_t nv = 0;
    ockam_err err = build_list(p, type, list, count, &v, &nv);
    if (err)
        return err;
    for (size_t i = 0; i < p->nallow; i++) {
        if (p->allow[i].type == type)
            ockam__free(p->allow[i].text);
    }
    ockam__free(p->allow);
    p->allow = v;
    p->nallow = nv;
    return OCKAM_OK;
}

bool
ockam__policy_outgoing_listed(ockam_node *n, uint8_t type, const void *dest, size_t len)
{
    const struct ockam__policy *p = ockam__node_policy(n);
    /* Linear: lists are short, and only messages from other nodes opening something new are
     * checked. */
    bool endpoints = type == OCKAM_TRANSPORT_TCP || type == OCKAM_TRANSPORT_UDP;
    for (size_t i = 0; i < p->nallow; i++) {
        const struct ockam__allow_entry *e = &p->allow[i];
        if (e->type != type)
            continue;
        if ((e->len == 1 && e->text[0] == '*')
            || (e->len == len && memcmp(e->text, dest, len) == 0))
            return true;
        if (endpoints && ockam__endpoint_same(e->text, e->len, dest, len))
            return true;
    }
    return false;
}

/* ---- endpoints ------------------------------------------------------------------------ */

size_t
ockam__endpoint_canon(const void *text, size_t len, char out[2][OCKAM__ENDPOINT_MAX])
{
    ockam__host_port hp;
    char host[OCKAM__ENDPOINT_MAX];
    if (ockam__host_port_split(text, len, &hp) != OCKAM_OK || hp.host_len >= sizeof host
        || memchr(hp.host, '\0', hp.host_len))
        return 0;
    memcpy(host, hp.host, hp.host_len);
    host[hp.host_len] = '\0';
    if (!hp.bracketed && strcasecmp(host, "localhost") == 0) {
        snprintf(out[0], OCKAM__ENDPOINT_MAX, "127.0.0.1:%u", (unsigned)hp.port);
        snprintf(out[1], OCKAM__ENDPOINT_MAX, "[::1]:%u", (unsigned)hp.port);
        return 2;
    }
    unsigned char bin[16];
    char norm[INET6_ADDRSTRLEN];
    if (!hp.bracketed && inet_pton(AF_INET, host, bin) == 1) {
        inet_ntop(AF_INET, bin, norm, sizeof norm);
        snprintf(out[0], OCKAM__ENDPOINT_MAX, "%s:%u", norm, (unsigned)hp.port);
        return 1;
    }
    if (hp.bracketed && inet_pton(AF_INET6, host, bin) == 1) {
        inet_ntop(AF_INET6, bin, norm, sizeof norm);
        snprintf(out[0], OCKAM__ENDPOINT_MAX, "[%s]:%u", norm, (unsigned)hp.port);
        return 1;
    }
    return 0;
}

bool
ockam__endpoint_same(const void *a, size_t alen, const void *b, size_t blen)
{
    char ca[2][OCKAM__ENDPOINT_MAX], cb[2][OCKAM__ENDPOINT_MAX];
    if (alen == blen && memcmp(a, b, alen) == 0)
        return true;
    size_t na = ockam__endpoint_canon(a, alen, ca), nb = ockam__endpoint_canon(b, blen, cb);
    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < nb; j++) {
            if (strcmp(ca[i], cb[j]) == 0)
                return true;
        }
    }
    return false;
}

void
ockam__policy_outgoing_each(
    ockam_node *n, uint8_t type, void (*fn)(const char *entry, void *arg), void *arg)
{
    const struct ockam__policy *p = ockam__node_policy(n);
    for (size_t i = 0; i < p->nallow; i++) {
        if (p->allow[i].type == type)
            fn(p->allow[i].text, arg);
    }
}

/* ---- sender adoption ------------------------------------------------------------------ */

void
ockam__policy_flow_init(struct ockam__policy_flow *f, ockam_node *node, unsigned flags)
{
    memset(f, 0, sizeof *f);
    f->node = node;
    f->flags = flags;
    f->id = ockam__policy_new_flow_id(node);
}

void
ockam__policy_flow_fini(struct ockam__policy_flow *f)
{
    for (size_t i = 0; i < f->ntracked; i++) {
        ockam_flow_remove_consumer(f->node, f->tracked[i], f->id);
        ockam__free(f->tracked[i]);
    }
    ockam__free(f->tracked);
    f->tracked = NULL;
    f->ntracked = f->captracked = 0;
    f->noted_len = 0;
}

static bool
is_tracked(const struct ockam__policy_flow *f, ockam_addr a)
{
    for (size_t i = 0; i < f->ntracked; i++) {
        if (ockam__bytes_eq(f->tracked[i], strlen(f->tracked[i]), a))
            return true;
    }
    return false;
}

/* Remember a registration so that it goes with the flow (otherwise a long-lived worker would
 * collect the flow ids of every connection it ever used). */
static void
track(struct ockam__policy_flow *f, ockam_addr a)
{
    if (is_tracked(f, a))
        return;
    /* Beyond the limit, or without memory, the name stays untracked: it remains a consumer of
     * a dead flow id, which is harmless. */
    if (f->ntracked >= POLICY_MAX_TRACKED
        || ockam__array_reserve(f->tracked, f->captracked, f->ntracked + 1, 2) != OCKAM_OK)
        return;
    char *name = ockam__strndup((const char *)a.bytes, a.len);
    if (name)
        f->tracked[f->ntracked++] = name;
}

void
ockam__policy_adopt_slow(struct ockam__policy_flow *f, ockam_addr a)
{
    if (memchr(a.bytes, 0, a.len))
        return; /* no worker has such a name */
    struct ockam__registry *r = ockam__node_registry(f->node);
    struct ockam__entry *e = ockam__registry_find(r, a.bytes, a.len);
    if (!e || !e->worker)
        return;
    if (!ockam__entry_consumes(e, f->id)) {
        if (ockam__entry_add_consumer(e, f->id) != OCKAM_OK) {
            OCKAM_LOG_W(
                "cannot register a sender for the replies of flow %llu", (unsigned long long)f->id);
            return;
        }
        track(f, a);
    }
    if (a.len <= sizeof f->noted) {
        memcpy(f->noted, a.bytes, a.len);
        f->noted_len = (uint8_t)a.len;
        f->noted_epoch = r->removals;
    }
}
