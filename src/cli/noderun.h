/* A node running in this process (`node create --foreground`, and every background node):
 * takes the node's lock, boots from its config.json (main TCP listener, api.sock, node
 * manager, default services echo/uppercase/hop, then what was saved: services, extra
 * listeners, then the UDP listeners: --udp-listener-address and the saved ones), saves the
 * real listener addresses, reports ready, and runs until SIGINT, SIGTERM
 * or SIGHUP. A startup error (e.g. "127.0.0.1:7000 is already in use") is reported instead. */
#ifndef OCKAM_CLI_NODERUN_H
#define OCKAM_CLI_NODERUN_H

#include <jansson.h>

/* Called once the node is ready, with the report (see spawn.h). */
typedef void (*noderun_ready_fn)(const char *name, json_t *report, void *user);

/* report_fd >= 0: write the startup report there and close it (background node). Otherwise
 * on_ready (may be NULL) runs when ready and errors are printed. Returns the exit code. */
int noderun(const char *name, int verbosity, int report_fd, noderun_ready_fn on_ready, void *user);

#endif
