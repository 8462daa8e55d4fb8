# UDP transport tests. Included from tests/CMakeLists.txt:
#   include(transport/udp.cmake)
include_guard(GLOBAL)
set(_udp ${CMAKE_CURRENT_LIST_DIR})
add_library(ockam_udp_test_util STATIC ${_udp}/udp_util.c)
target_include_directories(ockam_udp_test_util PUBLIC ${_udp} ${PROJECT_SOURCE_DIR}/src
                                                      ${PROJECT_SOURCE_DIR}/tests/support)
target_link_libraries(ockam_udp_test_util PUBLIC ockam_test_support ockam PkgConfig::CMOCKA)
ockam_target_warnings(ockam_udp_test_util)

ockam_add_test(test_udp_reasm SOURCES ${_udp}/udp_reasm_test.c LABELS unit TIMEOUT 60)
ockam_add_test(test_udp_wire SOURCES ${_udp}/udp_wire_test.c LIBS ockam_udp_test_util
               LABELS net TIMEOUT 120)
ockam_add_test(test_udp_nodes SOURCES ${_udp}/udp_nodes_test.c LIBS ockam_udp_test_util
               LABELS net TIMEOUT 180)
ockam_add_test(test_udp_conformance
    SOURCES ${_udp}/udp_conformance_test.c ${PROJECT_SOURCE_DIR}/tests/conformance/transport_suite.c
    LIBS ockam_udp_test_util LABELS net TIMEOUT 180)
ockam_add_test(test_udp_mixed SOURCES ${_udp}/udp_mixed_test.c LIBS ockam_udp_test_util
               LABELS net TIMEOUT 120)
ockam_add_test(test_mixed_uds SOURCES ${_udp}/mixed_uds_test.c LIBS ockam_udp_test_util
               LABELS net TIMEOUT 120)
