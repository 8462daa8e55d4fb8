# UDP transport tests. Included from tests/CMakeLists.txt:
#   include(transport/udp.cmake)
include_guard(GLOBAL)
set(_udp ${CMAKE_CURRENT_LIST_DIR})
add_library(ockam_udp_test_util STATIC ${_udp}/udp_util.c)
target_include_directories(ockam_udp_test_util PUBLIC ${_udp} ${PROJECT_SOURCE_DIR}/src
                                                      ${PROJECT_SOURCE_DIR}/tests/support)
target_link_libraries(ockam_udp_test_util PUBLIC ockam_test_support ockam PkgConfig::CMOCKA)
ockam_target_warnings(ockam_udp_test_util)

ockam_add_test(test_udp_reasm SOURCES ${_udp}/test_udp_reasm.c LABELS unit TIMEOUT 60)
ockam_add_test(test_udp_wire SOURCES ${_udp}/test_udp_wire.c LIBS ockam_udp_test_util
               LABELS net TIMEOUT 120)
ockam_add_test(test_udp_nodes SOURCES ${_udp}/test_udp_nodes.c LIBS ockam_udp_test_util
               LABELS net TIMEOUT 180)
ockam_add_test(test_udp_conformance
    SOURCES ${_udp}/test_udp_conformance.c ${PROJECT_SOURCE_DIR}/tests/conformance/transport_suite.c
    LIBS ockam_udp_test_util LABELS net TIMEOUT 180)
ockam_add_test(test_udp_mixed SOURCES ${_udp}/test_udp_mixed.c LIBS ockam_udp_test_util
               LABELS net TIMEOUT 120)
ockam_add_test(test_mixed_uds SOURCES ${_udp}/test_mixed_uds.c LIBS ockam_udp_test_util
               LABELS net TIMEOUT 120)
ockam_add_test(test_udp_names SOURCES ${_udp}/test_udp_names.c LIBS ockam_udp_test_util
               LABELS net TIMEOUT 120)
