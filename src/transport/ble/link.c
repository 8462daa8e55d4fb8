/* The HCI link's I/O on the node's loop (see link.h). */
#include "transport/ble/link.h"

#include <errno.h>
#include <unistd.h>

static void on_poll(uv_poll_t *p, int status, int events);

/* Only when the interest changes: one epoll_ctl per change, not per packet written. */
static void
set_events(ockam__ble_link *l)
{
    if (!l->open || l->closing)
        return;
    int ev = UV_READABLE | (l->out_len ? UV_WRITABLE : 0);
    if (ev == l->events)
        return;
    l->events = ev;
    uv_poll_start(&l->poll, ev, on_poll);
}

static void
link_error(ockam__ble_link *l, const char *why, int err)
{
    if (l->closing || !l->open)
        return;
    uv_poll_stop(&l->poll);
    l->events = 0;
    l->open = false;
    l->on_error(l->user, why, err);
}

static void
flush(ockam__ble_link *l)
{
    while (l->out_len) {
        ssize_t n = write(l->fd, l->out, l->out_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            link_error(l, "write to the controller failed", errno);
            return;
        }
        memmove(l->out, l->out + n, l->out_len - (size_t)n);
        l->out_len -= (size_t)n;
    }
    set_events(l);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
    ockam__ble_link *l = p->data;
    if (status < 0) {
        link_error(l, "controller descriptor error", -status);
        return;
    }
    if (events & UV_WRITABLE)
        flush(l);
    if (!(events & UV_READABLE))
        return;
    uint8_t buf[4096];
    for (int turn = 0; turn < 16 && l->open && !l->closing; turn++) {
        ssize_t n = read(l->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            link_error(l, n == 0 ? "controller closed the link" : "read from the controller failed",
                n == 0 ? 0 : errno);
            return;
        }
        l->on_data(l->user, buf, (size_t)n);
    }
}

ockam_err
ockam__ble_link_write(ockam__ble_link *l, const uint8_t *buf, size_t len)
{
    if (!l->open || l->closing)
        return OCKAM_ECLOSED;
    if (len > sizeof l->out - l->out_len)
        return OCKAM_EBUSY;
    memcpy(l->out + l->out_len, buf, len);
    l->out_len += len;
    flush(l);
    return OCKAM_OK;
}

ockam_err
ockam__ble_link_open(ockam__ble_link *l, uv_loop_t *loop, const char *spec)
{
    ockam_err err;
    int fd = -1;
    l->fd = -1;
    if (strncmp(spec, "unix:", 5) == 0)
        err = ockam__ble_h4_open_unix(spec + 5, &fd);
    else if (strncmp(spec, "serial:", 7) == 0)
        err = ockam__ble_h4_open_serial(spec + 7, &fd);
    else if (strncmp(spec, "hci-user:", 9) == 0)
        err = ockam__ble_user_open(spec + 9, &fd);
    else
        err = OCKAM_EADDRINVAL;
    if (err)
        return err;
    if (uv_poll_init(loop, &l->poll, fd) != 0) {
        close(fd);
        return OCKAM_ESYSERR;
    }
    l->poll.data = l;
    l->fd = fd;
    l->open = true;
    l->out_len = 0;
    l->events = 0;
    set_events(l);
    return OCKAM_OK;
}

static void
on_poll_closed(uv_handle_t *h)
{
    ockam__ble_link *l = h->data;
    close(l->fd);
    l->fd = -1;
    if (l->on_closed)
        l->on_closed(l->user);
}

void
ockam__ble_link_close(ockam__ble_link *l)
{
    if (l->closing)
        return;
    l->closing = true;
    l->open = false;
    if (l->fd < 0) {
        if (l->on_closed)
            l->on_closed(l->user);
        return;
    }
    uv_close((uv_handle_t *)&l->poll, on_poll_closed);
}
