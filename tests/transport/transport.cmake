# Transport tests (TCP, UDS) and the shared conformance suite instantiated for each.
set(_tr ${CMAKE_CURRENT_LIST_DIR})
set(_suite ${PROJECT_SOURCE_DIR}/tests/conformance/transport_suite.c)

ockam_add_test(test_tcp_wire SOURCES ${_tr}/test_tcp_wire.c LABELS net TIMEOUT 60)
ockam_add_test(test_tcp_nodes SOURCES ${_tr}/test_tcp_nodes.c LABELS net TIMEOUT 120)
ockam_add_test(test_tcp_large SOURCES ${_tr}/test_tcp_large.c LABELS net TIMEOUT 180)
ockam_add_test(test_tcp_bigframes SOURCES ${_tr}/test_tcp_bigframes.c LABELS net TIMEOUT 180)
ockam_add_test(test_tcp_bad_input SOURCES ${_tr}/test_tcp_bad_input.c LABELS net TIMEOUT 180)
ockam_add_test(test_tcp_lifecycle SOURCES ${_tr}/test_tcp_lifecycle.c LABELS net TIMEOUT 120)
ockam_add_test(test_tcp_backpressure SOURCES ${_tr}/test_tcp_backpressure.c LABELS net TIMEOUT 180)
ockam_add_test(test_tcp_conformance
    SOURCES ${_tr}/test_tcp_conformance.c ${_tr}/stream_ts.c ${_suite} LABELS net TIMEOUT 180)
ockam_add_test(test_uds_conformance
    SOURCES ${_tr}/test_uds_conformance.c ${_tr}/stream_ts.c ${_suite} LABELS net TIMEOUT 120)
ockam_add_test(test_uds SOURCES ${_tr}/test_uds.c LABELS net TIMEOUT 60)
