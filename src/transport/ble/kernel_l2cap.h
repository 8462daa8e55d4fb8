/* The `bluez` controller: BlueZ's own L2CAP LE credit-based sockets (SOCK_SEQPACKET,
 * BT_MODE_LE_FLOWCTL), for machines where the kernel's host stack owns the radio. The kernel
 * does HCI, L2CAP signalling, credits and segmentation; one send() is one SDU. It bypasses
 * hci.c and l2cap.c. Names are device addresses ("XX:XX:XX:XX:XX:XX", LE public; add
 * "/random" for a random address): discovery and advertising are BlueZ's (bluetoothctl).
 * The constants and sockaddr layout are the kernel's ABI (include/net/bluetooth/ in Linux),
 * written here so that the build needs no Bluetooth headers. Untested on this machine: its
 * kernel has no Bluetooth (socket() fails with EAFNOSUPPORT -> OCKAM_ENOTSUP). */
#ifndef OCKAM_TRANSPORT_BLE_KERNEL_L2CAP_H
#define OCKAM_TRANSPORT_BLE_KERNEL_L2CAP_H

#include "core/core.h"

/* Parse "XX:XX:XX:XX:XX:XX[/random]"; false if malformed. */
bool ockam__bluez_parse_addr(const char *text, uint8_t addr[6], uint8_t *type);
/* A listening socket for LE connection-oriented channels on psm (non-blocking). */
ockam_err ockam__bluez_listen(uint16_t psm, int *fd);
/* Start connecting to addr on psm (non-blocking: completion when the socket is writable). */
ockam_err ockam__bluez_connect(const uint8_t addr[6], uint8_t type, uint16_t psm, int *fd);
/* The result of a non-blocking connect (OCKAM_OK once connected). */
ockam_err ockam__bluez_connect_result(int fd);
/* Accept one channel (non-blocking); peer gets "XX:XX:XX:XX:XX:XX". OCKAM_EAGAIN if none. */
ockam_err ockam__bluez_accept(int lfd, int *fd, char peer[18]);
/* The peer's SDU size limit of a connected channel. */
size_t ockam__bluez_tx_mtu(int fd);

#endif
