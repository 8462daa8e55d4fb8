/* See raw_hci.h. */
#include "raw_hci.h"
#include "nodes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define STEP_MS 5000

static uint16_t
le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

bool
rh_read(int fd, rh_packet *p, uint64_t timeout_ms)
{
    if (!tn_raw_recv(fd, &p->type, 1, timeout_ms))
        return false;
    size_t hdr = p->type == 0x04 ? 2 : p->type == 0x02 ? 4 : 3;
    if (!tn_raw_recv(fd, p->data, hdr, timeout_ms))
        return false;
    size_t plen = p->type == 0x04 ? p->data[1] : p->type == 0x02 ? le16(p->data + 2) : p->data[2];
    if (plen && !tn_raw_recv(fd, p->data + hdr, plen, timeout_ms))
        return false;
    p->len = hdr + plen;
    return true;
}

void
rh_write(int fd, uint8_t type, const void *bytes, size_t len)
{
    uint8_t buf[1 + 4 + 65535];
    buf[0] = type;
    memcpy(buf + 1, bytes, len);
    assert_true(tn_raw_send(fd, buf, len + 1, STEP_MS));
}

/* ---- raw host ------------------------------------------------------------------------ */

void
rh_host_cmd(int fd, uint16_t opcode, const void *params, uint8_t len)
{
    uint8_t c[3 + 255];
    put16(c, opcode);
    c[2] = len;
    if (len)
        memcpy(c + 3, params, len);
    rh_write(fd, 0x01, c, 3u + len);
    static rh_packet p;
    for (;;) {
        assert_true(rh_read(fd, &p, STEP_MS));
        if (p.type != 0x04)
            continue;
        if (p.data[0] == 0x0E && le16(p.data + 3) == opcode)
            return;
        if (p.data[0] == 0x0F && le16(p.data + 4) == opcode)
            return;
    }
}

int
rh_host_open(const char *spec)
{
    assert_true(strncmp(spec, "unix:", 5) == 0);
    int fd = tn_raw_connect_unix(spec + 5);
    assert_true(fd >= 0);
    static const uint8_t mask[8] = {0xFF, 0xFF, 0xFB, 0xFF, 0x07, 0xF8, 0xBF, 0x3D};
    static const uint8_t le_mask[8] = {0x1F};
    rh_host_cmd(fd, 0x0C03, NULL, 0);
    rh_host_cmd(fd, 0x0C01, mask, 8);
    rh_host_cmd(fd, 0x2001, le_mask, 8);
    return fd;
}

uint16_t
rh_host_connect(int fd, const char *text)
{
    unsigned b[6];
    assert_int_equal(
        sscanf(text, "%x:%x:%x:%x:%x:%x", &b[5], &b[4], &b[3], &b[2], &b[1], &b[0]), 6);
    uint8_t c[25] = {0x10, 0x00, 0x10, 0x00, 0x00, 0x00};
    for (int i = 0; i < 6; i++)
        c[6 + i] = (uint8_t)b[i];
    put16(c + 13, 6);
    put16(c + 15, 12);
    put16(c + 19, 200);
    static rh_packet p;
    uint64_t until = tn_now_ms() + STEP_MS;
    while (tn_now_ms() < until) {
        rh_host_cmd(fd, 0x200D, c, sizeof c);
        for (;;) {
            assert_true(rh_read(fd, &p, STEP_MS));
            if (p.type == 0x04 && p.data[0] == 0x3E && p.data[2] == 0x01)
                break;
        }
        if (p.data[3] == 0)
            return le16(p.data + 4) & 0x0FFF;
    }
    fail_msg("could not connect to %s", text);
    return 0;
}

void
rh_host_l2cap(int fd, uint16_t handle, uint16_t cid, const void *payload, size_t len)
{
    uint8_t a[8 + 1024];
    assert_true(len <= 1024);
    put16(a, handle);
    put16(a + 2, (uint16_t)(len + 4));
    put16(a + 4, (uint16_t)len);
    put16(a + 6, cid);
    memcpy(a + 8, payload, len);
    rh_write(fd, 0x02, a, len + 8);
}

bool
rh_host_wait_disconnected(int fd, uint16_t handle, uint64_t timeout_ms)
{
    static rh_packet p;
    uint64_t until = tn_now_ms() + timeout_ms;
    while (tn_now_ms() < until) {
        if (!rh_read(fd, &p, until - tn_now_ms()))
            return false;
        if (p.type == 0x04 && p.data[0] == 0x05 && (le16(p.data + 3) & 0x0FFF) == handle)
            return true;
    }
    return false;
}

long
rh_host_wait_l2cap(int fd, uint16_t cid, uint8_t *out, size_t cap, uint64_t timeout_ms)
{
    static rh_packet p;
    uint64_t until = tn_now_ms() + timeout_ms;
    while (tn_now_ms() < until) {
        if (!rh_read(fd, &p, until - tn_now_ms()))
            return -1;
        if (p.type != 0x02 || p.len < 8 || le16(p.data + 6) != cid)
            continue;
        size_t n = le16(p.data + 4);
        assert_true(n <= cap && n + 8 <= p.len);
        memcpy(out, p.data + 8, n);
        return (long)n;
    }
    return -1;
}

/* ---- fake controller ----------------------------------------------------------------- */

static char ctrl_path[108];
static char ctrl_spec[128];

int
rh_ctrl_listen(const char **spec)
{
    snprintf(ctrl_path, sizeof ctrl_path, "/tmp/ockam-fakehci-%d-%llu", (int)getpid(),
        (unsigned long long)tn_now_ms());
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", ctrl_path);
    unlink(ctrl_path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    assert_int_equal(listen(fd, 4), 0);
    snprintf(ctrl_spec, sizeof ctrl_spec, "unix:%s", ctrl_path);
    *spec = ctrl_spec;
    return fd;
}

struct acc {
    int lfd, fd;
};

static bool
try_accept(void *arg)
{
    struct acc *a = arg;
    a->fd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK);
    return a->fd >= 0;
}

int
rh_ctrl_accept(int lfd)
{
    struct acc a = {lfd, -1};
    assert_true(tn_wait(try_accept, &a, STEP_MS));
    return a.fd;
}

static void
complete(int fd, uint16_t opcode, const uint8_t *ret, size_t len)
{
    uint8_t e[2 + 3 + 16] = {0x0E, (uint8_t)(3 + len), 0x01};
    put16(e + 3, opcode);
    memcpy(e + 5, ret, len);
    rh_write(fd, 0x04, e, 5 + len);
}

void
rh_ctrl_serve_init(int fd)
{
    static rh_packet p;
    for (int done = 0; done < 5;) {
        assert_true(rh_read(fd, &p, STEP_MS));
        assert_int_equal(p.type, 0x01);
        uint16_t op = le16(p.data);
        static const uint8_t ok[1] = {0};
        static const uint8_t buf[4] = {0, 27, 0, 1};
        static const uint8_t addr[7] = {0, 0x42, 0, 0x99, 0x01, 0xAA, 0x00};
        if (op == 0x2002)
            complete(fd, op, buf, sizeof buf);
        else if (op == 0x1009)
            complete(fd, op, addr, sizeof addr);
        else
            complete(fd, op, ok, sizeof ok);
        done++;
    }
}

void
rh_ctrl_close(int lfd)
{
    close(lfd);
    unlink(ctrl_path);
}
