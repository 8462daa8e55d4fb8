/* libuv's error codes as ockam_err: the one table for every part of libockam that makes
 * libuv calls (the stream and UDP transports, portals, the node).
 *
 * Why here and not in src/core: core is sans-IO and never includes libuv. The node is the
 * lowest layer that owns a uv_loop_t, and everything that calls libuv (transports, services)
 * already sits on it. Pure function: any thread. */
#ifndef OCKAM_NODE_UV_ERR_H
#define OCKAM_NODE_UV_ERR_H

#include "ockam/error.h"

/* 0 -> OCKAM_OK; UV_E* -> the nearest OCKAM_E* (OCKAM_ESYSERR when there is none). */
ockam_err ockam__err_from_uv(int uv_err);

#endif
