/* Stream listeners (TCP and UDS): opening, accepting, closing, and the listener half of the
 * public API (ockam/stream.h). A kind binds the socket (tcp.c, uds.c), then hands it to
 * ockam__listener_start(); each accepted socket becomes a connection in stream.c. */
#include "transport/stream.h"

#define LISTEN_BACKLOG 4096

static void
reject_closed(uv_handle_t *h)
{
    ockam__free(h);
}

/* libuv stops watching a listener whose pending connection is not accepted, so a connection
 * we cannot serve is still accepted, then closed. */
static void
reject_connection(ockam_listener *l)
{
    union ockam__handle *h = ockam__zalloc(sizeof *h);
    if (!h || l->st->kind->handle_init(ockam__node_loop(l->st->node), h) != 0) {
        ockam__free(h);
        OCKAM_LOG_E("%s: out of memory; listener %s stalls", l->st->kind->name, l->address);
        return;
    }
    (void)uv_accept(&l->io.stream, &h->stream);
    uv_close(&h->handle, reject_closed);
}

static void
on_connection(uv_stream_t *server, int status)
{
    ockam_listener *l = server->data;
    if (status < 0) {
        OCKAM_LOG_W(
            "%s: accept on %s failed: %s", l->st->kind->name, l->address, uv_strerror(status));
        return;
    }
    if (!ockam__conn_accept(l))
        reject_connection(l);
}

static void
listener_closed(uv_handle_t *h)
{
    ockam_listener *l = h->data;
    if (l->address && l->st->kind->listener_closed)
        l->st->kind->listener_closed(l);
    ockam__free(l->address);
    ockam__free(l);
}

ockam_listener *
ockam__listener_new(struct ockam__stream *st, ockam_wire_profile profile)
{
    ockam_listener *l = ockam__zalloc(sizeof *l);
    if (!l)
        return NULL;
    if (st->kind->handle_init(ockam__node_loop(st->node), &l->io) != 0) {
        ockam__free(l);
        return NULL;
    }
    l->io.handle.data = l;
    l->st = st;
    l->profile = profile;
    ockam__link_init(&l->link);
    ockam_addr_random(l->id);
    l->flow_id = ockam_flow_id_new(st->node);
    return l;
}

void
ockam__listener_abort(ockam_listener *l)
{
    uv_close(&l->io.handle, listener_closed);
}

ockam_err
ockam__listener_start(ockam_listener *l, const char *address)
{
    if (address && !(l->address = ockam__strdup(address))) {
        ockam__listener_abort(l);
        return OCKAM_ENOMEM;
    }
    int rc = uv_listen(&l->io.stream, LISTEN_BACKLOG, on_connection);
    if (rc) {
        ockam__listener_abort(l);
        return ockam__err_from_uv(rc);
    }
    if (!l->address && !(l->address = l->st->kind->local_name(l))) {
        ockam__listener_abort(l);
        return OCKAM_ENOMEM;
    }
    ockam__link_push(&l->st->listeners, &l->link);
    return OCKAM_OK;
}

void
ockam_listener_close(ockam_listener *l)
{
    if (!l || l->closed)
        return;
    l->closed = true;
    ockam__link_del(&l->link);
    uv_close(&l->io.handle, listener_closed);
}

/* ---- public API (ockam/stream.h) ------------------------------------------------------ */

const char *
ockam_listener_address(const ockam_listener *l)
{
    return l->address;
}

const char *
ockam_listener_id(const ockam_listener *l)
{
    return l->id;
}

uint8_t
ockam_listener_transport(const ockam_listener *l)
{
    return l->st->kind->type;
}

ockam_wire_profile
ockam_listener_profile(const ockam_listener *l)
{
    return l->profile;
}

ockam_flow_id
ockam_listener_flow_id(const ockam_listener *l)
{
    return l->flow_id;
}

ockam_listener *
ockam_listener_find(ockam_node *node, const char *id_or_address)
{
    for (size_t i = 0; i < OCKAM__STREAM_KINDS; i++) {
        struct ockam__stream *st = ockam__stream_nth(node, i);
        if (!st)
            continue;
        for (struct ockam__link *p = st->listeners.next; p != &st->listeners; p = p->next) {
            ockam_listener *l = OCKAM__CONTAINER_OF(p, ockam_listener, link);
            if (strcmp(l->id, id_or_address) == 0 || strcmp(l->address, id_or_address) == 0)
                return l;
        }
    }
    return NULL;
}

void
ockam_listener_each(ockam_node *node, void (*fn)(ockam_listener *l, void *arg), void *arg)
{
    for (size_t i = 0; i < OCKAM__STREAM_KINDS; i++) {
        struct ockam__stream *st = ockam__stream_nth(node, i);
        if (!st)
            continue;
        for (struct ockam__link *p = st->listeners.next, *next; p != &st->listeners; p = next) {
            next = p->next; /* fn may close the listener it is given */
            fn(OCKAM__CONTAINER_OF(p, ockam_listener, link), arg);
        }
    }
}
