/* Linux HCI_CHANNEL_USER: exclusive raw access to hciN (the kernel's host stack lets go of
 * the controller while the socket is open). Each read and write is one H4 packet, so the
 * same H4 parser serves. The constants are the kernel's ABI (include/net/bluetooth/hci_sock.h
 * in Linux); they are written here so that the build needs no Bluetooth headers. Untested on
 * machines whose kernel lacks Bluetooth (socket() then fails with EAFNOSUPPORT, reported as
 * OCKAM_ENOTSUP). */
#include "transport/ble/link.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define BT_AF 31          /* AF_BLUETOOTH */
#define BT_PROTO_HCI 1    /* BTPROTO_HCI */
#define BT_CHANNEL_USER 1 /* HCI_CHANNEL_USER */

struct hci_sockaddr {
    sa_family_t family;
    unsigned short dev;
    unsigned short channel;
};

ockam_err
ockam__ble_user_open(const char *index, int *out)
{
    char *end;
    unsigned long dev = strtoul(index, &end, 10);
    if (!index[0] || *end || dev > 0xFFFF)
        return OCKAM_EADDRINVAL;
    int fd = socket(BT_AF, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, BT_PROTO_HCI);
    if (fd < 0)
        return errno == EAFNOSUPPORT ? OCKAM_ENOTSUP : OCKAM_ESYSERR;
    struct hci_sockaddr a
        = {.family = BT_AF, .dev = (unsigned short)dev, .channel = BT_CHANNEL_USER};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        /* EBUSY: the device is up (bring it down first: `hciconfig hciN down`). */
        return e == EBUSY ? OCKAM_EADDRINUSE : e == ENODEV ? OCKAM_ECONNREFUSED : OCKAM_ESYSERR;
    }
    *out = fd;
    return OCKAM_OK;
}
