/* The HCI link: a byte path to one controller, watched by the node's loop. Backends only
 * differ in how the descriptor is opened:
 *   unix:PATH              H4 over a Unix stream socket (BlueZ's btvirt emulator)  link_h4.c
 *   serial:/dev/ttyX[:BAUD] H4 over a UART (raw termios, RTS/CTS), default 115200  link_h4.c
 *   hci-user:N             Linux HCI_CHANNEL_USER on hciN (H4 packets, one per read)  link_user.c
 * Writes are whole H4 packets; the host keeps at most one command and one ACL packet
 * outstanding, so the pending-output buffer is small and fixed (overflow is an error).
 *
 * Ownership: the struct is the caller's; ockam__ble_link_close() closes the descriptor
 * asynchronously and calls on_closed once. Threading: the node's loop thread. */
#ifndef OCKAM_TRANSPORT_BLE_LINK_H
#define OCKAM_TRANSPORT_BLE_LINK_H

#include "core/core.h"

#include <uv.h>

#define OCKAM__BLE_LINK_OUT 8192u

typedef struct ockam__ble_link {
    uv_poll_t poll;
    int fd;
    bool open, closing;
    int events; /* what the poll watches now */
    uint8_t out[OCKAM__BLE_LINK_OUT];
    size_t out_len;
    void *user;
    void (*on_data)(void *user, const uint8_t *buf, size_t len);
    void (*on_error)(void *user, const char *why, int err); /* read/write failure or EOF */
    void (*on_closed)(void *user);
} ockam__ble_link;

/* Open the controller named by spec ("unix:...", "serial:...", "hci-user:N"). Synchronous.
 * OCKAM_EADDRINVAL for a malformed spec, OCKAM_ENOTSUP for a backend this build or kernel
 * lacks, OCKAM_ECONNREFUSED / OCKAM_ESYSERR when it cannot be opened. */
ockam_err ockam__ble_link_open(ockam__ble_link *l, uv_loop_t *loop, const char *spec);
/* Queue bytes; OCKAM_EBUSY if the fixed buffer is full, OCKAM_ECLOSED after an error. */
ockam_err ockam__ble_link_write(ockam__ble_link *l, const uint8_t *buf, size_t len);
void ockam__ble_link_close(ockam__ble_link *l);

/* Backends: each returns an open, non-blocking descriptor or an error. */
ockam_err ockam__ble_h4_open_unix(const char *path, int *fd);
ockam_err ockam__ble_h4_open_serial(const char *spec, int *fd);
ockam_err ockam__ble_user_open(const char *index, int *fd);

#endif
