/* The workers every node ships with: echo, uppercase and hop (docs/cli.md §5.1). */
#include "core/codec.h"
#include "ockam/services.h"

#include <ctype.h>

static void
echo_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_slice p = ockam_msg_payload(msg);
    ockam_err err = ockam_reply(w, msg, p.ptr, p.len);
    if (err)
        OCKAM_LOG_D("echo: reply not sent: %s", ockam_strerror(err));
}

static void
uppercase_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_slice text;
    ockam_slice p = ockam_msg_payload(msg);

    if (ockam__bare_string_decode(p.ptr, p.len, &text) != OCKAM_OK) {
        OCKAM_LOG_W("uppercase: payload is not a BARE string; no reply");
        ockam_msg_free(msg);
        return;
    }
    /* The string sits at the end of the payload: upper-case it in place and reply with the
     * same bytes (the length prefix is unchanged). A payload borrowed from a read buffer is
     * read-only, so it is made the message's own first. */
    size_t at = (size_t)(text.ptr - p.ptr);
    uint8_t *own = text.len ? ockam__msg_payload_mut(msg) : NULL;
    if (text.len && !own) {
        OCKAM_LOG_W("uppercase: out of memory; no reply");
        ockam_msg_free(msg);
        return;
    }
    for (size_t i = 0; i < text.len; i++)
        own[at + i] = (uint8_t)toupper(own[at + i]);
    p = ockam_msg_payload(msg);
    ockam_err err = ockam_reply(w, msg, p.ptr, p.len);
    if (err)
        OCKAM_LOG_D("uppercase: reply not sent: %s", ockam_strerror(err));
}

static void
hop_on_message(ockam_worker *w, ockam_msg *msg, void *user)
{
    ockam_route *onward = ockam_msg_onward(msg);
    ockam_err err = ockam_route_pop_front(onward);
    if (!err)
        err = ockam_route_push_front(ockam_msg_return(msg), ockam_worker_addr(w));
    if (err) {
        OCKAM_LOG_W("hop: cannot rewrite routes: %s", ockam_strerror(err));
        ockam_msg_free(msg);
        return;
    }
    err = ockam_forward(w, msg);
    if (err)
        OCKAM_LOG_D("hop: forward failed: %s", ockam_strerror(err));
}

static ockam_err
start(ockam_node *node, const char *address, ockam_worker_cb cb, ockam_worker **out)
{
    ockam_worker_opts opts = {.on_message = cb};
    return ockam_worker_start(node, address, &opts, out);
}

ockam_err
ockam_echo_start(ockam_node *node, const char *address, ockam_worker **out)
{
    return start(node, address ? address : "echo", echo_on_message, out);
}

ockam_err
ockam_uppercase_start(ockam_node *node, const char *address, ockam_worker **out)
{
    return start(node, address ? address : "uppercase", uppercase_on_message, out);
}

ockam_err
ockam_hop_start(ockam_node *node, const char *address, ockam_worker **out)
{
    return start(node, address ? address : "hop", hop_on_message, out);
}

ockam_err
ockam_bare_string_encode(const char *text, size_t len, uint8_t **out, size_t *out_len)
{
    size_t size = ockam__bare_string_size(len);
    uint8_t *buf = ockam__alloc(size);
    if (!buf)
        return OCKAM_ENOMEM;
    ockam_err err = ockam__bare_string_encode(text, len, buf, size, out_len);
    if (err) {
        ockam__free(buf);
        return err;
    }
    *out = buf;
    return OCKAM_OK;
}

ockam_err
ockam_bare_string_decode(const uint8_t *buf, size_t len, ockam_slice *text)
{
    return ockam__bare_string_decode(buf, len, text);
}
