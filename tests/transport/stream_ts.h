/* The pieces of a ts_transport (tests/conformance/transport_suite.h) that every stream
 * transport (TCP, UDS) shares: listeners, connections and close watchers of ockam/stream.h. */
#ifndef OCKAM_TESTS_TRANSPORT_STREAM_TS_H
#define OCKAM_TESTS_TRANSPORT_STREAM_TS_H

#include "conformance/transport_suite.h"

void stream_ts_allow(ockam_node *node, void *listener, const char *address);
void stream_ts_close(ockam_node *node, const char *local_addr, ts_closed_cb done, void *arg);
/* An ockam_connect_cb that reports to the ts_connected_cb in the heap box given as user. */
void stream_ts_connected(ockam_conn *conn, ockam_err status, void *user);
/* Box (done, arg) for stream_ts_connected; freed by it. */
void *stream_ts_box(ts_connected_cb done, void *arg);
size_t stream_ts_body_current(const ockam_msg *msg);
size_t stream_ts_body_legacy(const ockam_msg *msg);

#endif
