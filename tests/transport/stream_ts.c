/* Shared pieces of the stream transports' conformance instantiations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "stream_ts.h"

#include "core/codec.h"
#include "nodes.h"

#include <stdlib.h>

static struct ockam_conn_stats
conn_stats_of(const ockam_conn *c)
{
    struct ockam_conn_stats s;
    ockam_conn_stats(c, &s);
    return s;
}

struct box {
    ts_connected_cb connected;
    ts_closed_cb closed;
    void *arg;
};

void
stream_ts_allow(ockam_node *node, void *listener, const char *address)
{
    ockam_flow_id id = ockam_listener_flow_id(listener);
    assert_int_equal(ockam_flow_add_consumer(node, address, id), OCKAM_OK);
}

static void
on_close(ockam_conn *conn, ockam_err reason, void *user)
{
    struct box *b = user;
    b->closed(conn_stats_of(conn).dropped, b->arg);
    free(b);
}

void
stream_ts_close(ockam_node *node, const char *local_addr, ts_closed_cb done, void *arg)
{
    ockam_conn *c = ockam_conn_find(node, local_addr);
    assert_non_null(c);
    struct box *b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->closed = done;
    b->arg = arg;
    assert_int_equal(ockam_conn_on_close(c, on_close, b), OCKAM_OK);
    ockam_conn_close(c);
}

void *
stream_ts_box(ts_connected_cb done, void *arg)
{
    struct box *b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->connected = done;
    b->arg = arg;
    return b;
}

void
stream_ts_connected(ockam_conn *conn, ockam_err status, void *user)
{
    struct box *b = user;
    b->connected(conn ? ockam_conn_address(conn) : NULL, status, b->arg);
    free(b);
}

size_t
stream_ts_body_current(const ockam_msg *msg)
{
    return ockam__frame_msg_size(OCKAM_WIRE_CURRENT, msg) - 4;
}

size_t
stream_ts_body_legacy(const ockam_msg *msg)
{
    return ockam__frame_msg_size(OCKAM_WIRE_LEGACY, msg) - 2;
}
