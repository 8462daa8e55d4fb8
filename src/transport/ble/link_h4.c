/* H4 over a byte stream: a Unix stream socket (BlueZ's emulator, `btvirt -s`) or a UART
 * (an HCI-firmware radio such as an nRF52840). The UART backend compiles everywhere but is
 * untested on machines without such a device. */
#include "transport/ble/link.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static ockam_err
from_errno(int e)
{
    if (e == ECONNREFUSED || e == ENOENT)
        return OCKAM_ECONNREFUSED;
    return e == ENOMEM ? OCKAM_ENOMEM : OCKAM_ESYSERR;
}

ockam_err
ockam__ble_h4_open_unix(const char *path, int *out)
{
    struct sockaddr_un sun;
    if (!path[0] || strlen(path) >= sizeof sun.sun_path)
        return OCKAM_EADDRINVAL;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return from_errno(errno);
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path));
    /* A local stream connect completes at once (or fails): no need to make it asynchronous. */
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
        int e = errno;
        close(fd);
        return from_errno(e);
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        close(fd);
        return OCKAM_ESYSERR;
    }
    *out = fd;
    return OCKAM_OK;
}

static speed_t
baud_of(unsigned long b)
{
    switch (b) {
    case 9600:
        return B9600;
    case 19200:
        return B19200;
    case 38400:
        return B38400;
    case 57600:
        return B57600;
    case 115200:
        return B115200;
    case 230400:
        return B230400;
    case 460800:
        return B460800;
    case 921600:
        return B921600;
    case 1000000:
        return B1000000;
    case 2000000:
        return B2000000;
    default:
        return 0;
    }
}

/* "/dev/ttyACM0" or "/dev/ttyACM0:1000000". */
ockam_err
ockam__ble_h4_open_serial(const char *spec, int *out)
{
    char path[256];
    unsigned long baud = 115200;
    const char *colon = strrchr(spec, ':');
    size_t plen = colon ? (size_t)(colon - spec) : strlen(spec);
    if (plen == 0 || plen >= sizeof path)
        return OCKAM_EADDRINVAL;
    if (colon) {
        char *end;
        baud = strtoul(colon + 1, &end, 10);
        if (*end || !baud_of(baud))
            return OCKAM_EADDRINVAL;
    }
    memcpy(path, spec, plen);
    path[plen] = 0;
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return from_errno(errno);
    struct termios t;
    if (tcgetattr(fd, &t) != 0) {
        close(fd);
        return OCKAM_ESYSERR;
    }
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD | CRTSCTS; /* H4 UARTs use hardware flow control */
    cfsetispeed(&t, baud_of(baud));
    cfsetospeed(&t, baud_of(baud));
    if (tcsetattr(fd, TCSANOW, &t) != 0) {
        close(fd);
        return OCKAM_ESYSERR;
    }
    tcflush(fd, TCIOFLUSH);
    *out = fd;
    return OCKAM_OK;
}
