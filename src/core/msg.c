/* Messages: two routes, a payload buffer that is reused when it is big enough, an optional
 * tracing string and a local-info list. */
#include "core/core.h"

ockam_msg *
ockam_msg_new(void)
{
    ockam_msg *m = ockam__zalloc(sizeof *m);
    if (!m)
        return NULL;
    ockam__route_init(&m->onward);
    ockam__route_init(&m->ret);
    return m;
}

static void
free_info(ockam_msg *m)
{
    struct ockam__local_info *i = m->info;
    while (i) {
        struct ockam__local_info *next = i->next;
        ockam__free(i->type);
        ockam__free(i);
        i = next;
    }
    m->info = NULL;
}

void
ockam__msg_reset(ockam_msg *m)
{
    ockam_route_clear(&m->onward);
    ockam_route_clear(&m->ret);
    m->payload_len = 0;
    ockam_msg_clear_tracing(m);
    free_info(m);
    m->origin = (ockam_origin) {0, 0};
}

void
ockam_msg_free(ockam_msg *msg)
{
    if (!msg)
        return;
    OCKAM_ASSERT(msg->next == NULL);
    ockam__route_fini(&msg->onward);
    ockam__route_fini(&msg->ret);
    ockam__free(msg->payload);
    ockam__free(msg->tracing);
    free_info(msg);
    ockam__free(msg);
}

ockam_msg *
ockam_msg_clone(const ockam_msg *msg)
{
    ockam_msg *c = ockam_msg_new();
    if (!c)
        return NULL;
    if (ockam_route_copy(&c->onward, &msg->onward) || ockam_route_copy(&c->ret, &msg->ret)
        || ockam_msg_set_payload(c, msg->payload, msg->payload_len)
        || (msg->tracing && ockam_msg_set_tracing(c, msg->tracing, msg->tracing_len)))
        goto fail;
    for (const struct ockam__local_info *i = msg->info; i; i = i->next) {
        if (ockam_msg_local_info_set(c, i->type, i->data, i->len))
            goto fail;
    }
    c->origin = msg->origin;
    return c;
fail:
    ockam_msg_free(c);
    return NULL;
}

ockam_route *
ockam_msg_onward(ockam_msg *msg)
{
    return &msg->onward;
}

ockam_route *
ockam_msg_return(ockam_msg *msg)
{
    return &msg->ret;
}

const ockam_route *
ockam_msg_onward_const(const ockam_msg *msg)
{
    return &msg->onward;
}

const ockam_route *
ockam_msg_return_const(const ockam_msg *msg)
{
    return &msg->ret;
}

uint8_t *
ockam_msg_payload_reserve(ockam_msg *msg, size_t len)
{
    if (len > msg->payload_cap || !msg->payload) {
        uint8_t *p = ockam__realloc(msg->payload, len);
        if (!p)
            return NULL;
        msg->payload = p;
        msg->payload_cap = len;
    }
    msg->payload_len = len;
    return msg->payload;
}

ockam_err
ockam_msg_set_payload(ockam_msg *msg, const void *data, size_t len)
{
    uint8_t *p = ockam_msg_payload_reserve(msg, len);
    if (!p)
        return OCKAM_ENOMEM;
    if (len)
        memmove(p, data, len);
    return OCKAM_OK;
}

ockam_slice
ockam_msg_payload(const ockam_msg *msg)
{
    ockam_slice s = {.ptr = msg->payload, .len = msg->payload_len};
    return s;
}

ockam_err
ockam_msg_set_tracing(ockam_msg *msg, const char *text, size_t len)
{
    char *t = ockam__strndup(text, len);
    if (!t)
        return OCKAM_ENOMEM;
    ockam__free(msg->tracing);
    msg->tracing = t;
    msg->tracing_len = len;
    return OCKAM_OK;
}

void
ockam_msg_clear_tracing(ockam_msg *msg)
{
    ockam__free(msg->tracing);
    msg->tracing = NULL;
    msg->tracing_len = 0;
}

bool
ockam_msg_tracing(const ockam_msg *msg, ockam_slice *out)
{
    if (!msg->tracing)
        return false;
    out->ptr = (const uint8_t *)msg->tracing;
    out->len = msg->tracing_len;
    return true;
}

ockam_err
ockam_msg_local_info_set(ockam_msg *msg, const char *type, const void *data, size_t len)
{
    struct ockam__local_info *i = ockam__alloc(sizeof *i + len);
    if (!i)
        return OCKAM_ENOMEM;
    i->type = ockam__strdup(type);
    if (!i->type) {
        ockam__free(i);
        return OCKAM_ENOMEM;
    }
    i->len = len;
    if (len)
        memcpy(i->data, data, len);

    /* Replace an entry of the same type, keeping the list order otherwise. */
    struct ockam__local_info **pp = &msg->info;
    while (*pp && strcmp((*pp)->type, type) != 0)
        pp = &(*pp)->next;
    i->next = *pp ? (*pp)->next : NULL;
    if (*pp) {
        ockam__free((*pp)->type);
        ockam__free(*pp);
    }
    *pp = i;
    return OCKAM_OK;
}

bool
ockam_msg_local_info_get(const ockam_msg *msg, const char *type, ockam_slice *out)
{
    for (const struct ockam__local_info *i = msg->info; i; i = i->next) {
        if (strcmp(i->type, type) == 0) {
            out->ptr = i->data;
            out->len = i->len;
            return true;
        }
    }
    return false;
}

size_t
ockam_msg_local_info_count(const ockam_msg *msg)
{
    size_t n = 0;
    for (const struct ockam__local_info *i = msg->info; i; i = i->next)
        n++;
    return n;
}

ockam_origin
ockam_msg_origin(const ockam_msg *msg)
{
    return msg->origin;
}

void
ockam_msg_set_origin(ockam_msg *msg, ockam_origin origin)
{
    msg->origin = origin;
}
