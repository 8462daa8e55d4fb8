/* BlueZ L2CAP LE credit-based sockets (see kernel_l2cap.h). */
#include "transport/ble/kernel_l2cap.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#define BT_AF 31             /* AF_BLUETOOTH */
#define BT_PROTO_L2CAP 0     /* BTPROTO_L2CAP */
#define SOL_BT 274           /* SOL_BLUETOOTH */
#define BT_OPT_SNDMTU 12     /* BT_SNDMTU */
#define BT_OPT_RCVMTU 13     /* BT_RCVMTU */
#define BT_OPT_MODE 15       /* BT_MODE */
#define BT_MODE_LE_FLOW 0x03 /* BT_MODE_LE_FLOWCTL */
#define ADDR_LE_PUBLIC 0x01
#define ADDR_LE_RANDOM 0x02

struct l2_sockaddr {
    sa_family_t family;
    unsigned short psm; /* little endian */
    uint8_t bdaddr[6];  /* little endian */
    unsigned short cid;
    uint8_t bdaddr_type;
};

static ockam_err
from_errno(int e)
{
    if (e == EAFNOSUPPORT || e == EPROTONOSUPPORT)
        return OCKAM_ENOTSUP;
    if (e == ECONNREFUSED || e == EHOSTUNREACH || e == EHOSTDOWN)
        return OCKAM_ECONNREFUSED;
    if (e == EADDRINUSE)
        return OCKAM_EADDRINUSE;
    if (e == ETIMEDOUT)
        return OCKAM_ETIMEDOUT;
    return OCKAM_ESYSERR;
}

bool
ockam__bluez_parse_addr(const char *text, uint8_t addr[6], uint8_t *type)
{
    unsigned b[6];
    int n = 0;
    if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[5], &b[4], &b[3], &b[2], &b[1], &b[0], &n) != 6
        || n != 17)
        return false;
    if (text[17] == '\0')
        *type = ADDR_LE_PUBLIC;
    else if (strcmp(text + 17, "/random") == 0)
        *type = ADDR_LE_RANDOM;
    else
        return false;
    for (int i = 0; i < 6; i++)
        addr[i] = (uint8_t)b[i];
    return true;
}

static ockam_err
le_socket(int *out)
{
    int fd = socket(BT_AF, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, BT_PROTO_L2CAP);
    if (fd < 0)
        return from_errno(errno);
    uint8_t mode = BT_MODE_LE_FLOW;
    uint16_t mtu = 65535;
    if (setsockopt(fd, SOL_BT, BT_OPT_MODE, &mode, sizeof mode) != 0
        || setsockopt(fd, SOL_BT, BT_OPT_RCVMTU, &mtu, sizeof mtu) != 0) {
        int e = errno;
        close(fd);
        return from_errno(e);
    }
    *out = fd;
    return OCKAM_OK;
}

ockam_err
ockam__bluez_listen(uint16_t psm, int *out)
{
    int fd;
    ockam_err err = le_socket(&fd);
    if (err)
        return err;
    struct l2_sockaddr a = {.family = BT_AF, .psm = psm, .bdaddr_type = ADDR_LE_PUBLIC};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0) {
        int e = errno;
        close(fd);
        return from_errno(e);
    }
    *out = fd;
    return OCKAM_OK;
}

ockam_err
ockam__bluez_connect(const uint8_t addr[6], uint8_t type, uint16_t psm, int *out)
{
    int fd;
    ockam_err err = le_socket(&fd);
    if (err)
        return err;
    struct l2_sockaddr local = {.family = BT_AF, .bdaddr_type = ADDR_LE_PUBLIC};
    struct l2_sockaddr peer = {.family = BT_AF, .psm = psm, .bdaddr_type = type};
    memcpy(peer.bdaddr, addr, 6);
    if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0
        || (connect(fd, (struct sockaddr *)&peer, sizeof peer) != 0 && errno != EINPROGRESS)) {
        int e = errno;
        close(fd);
        return from_errno(e);
    }
    *out = fd;
    return OCKAM_OK;
}

ockam_err
ockam__bluez_connect_result(int fd)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
        return from_errno(errno);
    return e ? from_errno(e) : OCKAM_OK;
}

ockam_err
ockam__bluez_accept(int lfd, int *out, char peer[18])
{
    struct l2_sockaddr a;
    socklen_t len = sizeof a;
    int fd = accept4(lfd, (struct sockaddr *)&a, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? OCKAM_EAGAIN : from_errno(errno);
    snprintf(peer, 18, "%02X:%02X:%02X:%02X:%02X:%02X", a.bdaddr[5], a.bdaddr[4], a.bdaddr[3],
        a.bdaddr[2], a.bdaddr[1], a.bdaddr[0]);
    *out = fd;
    return OCKAM_OK;
}

size_t
ockam__bluez_tx_mtu(int fd)
{
    uint16_t mtu = 0;
    socklen_t len = sizeof mtu;
    if (getsockopt(fd, SOL_BT, BT_OPT_SNDMTU, &mtu, &len) != 0 || mtu < 23)
        return 23; /* the LE minimum: always safe */
    return mtu;
}
