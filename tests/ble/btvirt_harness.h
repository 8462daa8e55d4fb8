/* BlueZ's controller emulator for tests: one `btvirt -s` per test process, in a private
 * temporary directory (the LD_PRELOAD shim tests/ble/btvirt_shim.c redirects its sockets
 * there and supplies the AF_ALG sockets this kernel lacks), killed at exit or by
 * bv_stop(). The child dies with the test process (PR_SET_PDEATHSIG), so a crashed test
 * leaves no emulator behind.
 *
 * Threading: the test thread only. */
#ifndef OCKAM_TESTS_BLE_BTVIRT_HARNESS_H
#define OCKAM_TESTS_BLE_BTVIRT_HARNESS_H

#include <stdbool.h>

/* Start the emulator if needed and return the controller spec "unix:<dir>/bt-server-le"
 * (each client that connects there gets its own LE controller). NULL when btvirt is not
 * installed (the caller skips with a message); aborts the test on any other failure. */
const char *bv_controller(void);
/* Kill the emulator and remove its directory (also done at exit). */
void bv_stop(void);

#endif
