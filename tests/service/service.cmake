# Relays and TCP portals (src/service/relay*.c, portal*.c): several nodes in one process.
set(_sv ${CMAKE_CURRENT_LIST_DIR})
ockam_add_test(test_relay SOURCES ${_sv}/test_relay.c LABELS net TIMEOUT 120)
ockam_add_test(test_portal SOURCES ${_sv}/test_portal.c ${_sv}/portal_util.c LABELS net TIMEOUT 300)
ockam_add_test(test_portal_close SOURCES ${_sv}/test_portal_close.c ${_sv}/portal_util.c LABELS net TIMEOUT 600)
# Relay names bound to the identifier of the secure channel they were registered through.
ockam_add_test(test_relay_owner SOURCES ${_sv}/test_relay_owner.c ${_sv}/../channel/sc_util.c
               LABELS net TIMEOUT 120)
# The node manager's listeners and channels with another identity than the node's
# (nodemanager_secure.c), through its API on a real node.
ockam_add_test(test_nm_identity SOURCES ${_sv}/test_nm_identity.c LABELS net TIMEOUT 120
               LIBS ockam_nodemanager PkgConfig::JANSSON)
# A portal whose outlet node dies behind a hop or a relay node: the client sees a reset.
ockam_add_test(test_portal_liveness SOURCES ${_sv}/test_portal_liveness.c ${_sv}/portal_util.c
               LABELS net TIMEOUT 120)
