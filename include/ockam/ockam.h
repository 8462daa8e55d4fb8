/* libockam umbrella header. */
#ifndef OCKAM_OCKAM_H
#define OCKAM_OCKAM_H

#include "ockam/addr.h"
#include "ockam/ble.h"
#include "ockam/common.h"
#include "ockam/error.h"
#include "ockam/identity.h"
#include "ockam/kafka.h"
#include "ockam/msg.h"
#include "ockam/multiaddr.h"
#include "ockam/node.h"
#include "ockam/portal.h"
#include "ockam/relay.h"
#include "ockam/route.h"
#include "ockam/secure_channel.h"
#include "ockam/services.h"
#include "ockam/stream.h"
#include "ockam/tcp.h"
#include "ockam/udp.h"
#include "ockam/uds.h"
#include "ockam/vault.h"
#include "ockam/wire.h"

#define OCKAM_VERSION_STRING "0.1.0"

#endif
