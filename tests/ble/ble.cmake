# BLE transport tests over BlueZ's emulator. Included from tests/CMakeLists.txt.
include_guard(GLOBAL)
set(_ble ${CMAKE_CURRENT_LIST_DIR})

include(${_ble}/shim.cmake)

add_library(ockam_ble_test_util STATIC ${_ble}/btvirt_harness.c ${_ble}/ble_util.c
                                ${_ble}/raw_hci.c)
target_include_directories(ockam_ble_test_util PUBLIC ${_ble} ${PROJECT_SOURCE_DIR}/src
                                                      ${PROJECT_SOURCE_DIR}/tests/support)
target_compile_definitions(ockam_ble_test_util PRIVATE
    BTVIRT_SHIM="$<TARGET_FILE:ockam_btvirt_shim>")
target_link_libraries(ockam_ble_test_util PUBLIC ockam_test_support ockam PkgConfig::CMOCKA)
add_dependencies(ockam_ble_test_util ockam_btvirt_shim)
ockam_target_warnings(ockam_ble_test_util)

ockam_add_test(test_ble_units SOURCES ${_ble}/test_ble_units.c LABELS unit TIMEOUT 60)
ockam_add_test(test_ble_nodes SOURCES ${_ble}/test_ble_nodes.c LIBS ockam_ble_test_util
               LABELS net TIMEOUT 240)
ockam_add_test(test_ble_conformance
    SOURCES ${_ble}/test_ble_conformance.c ${PROJECT_SOURCE_DIR}/tests/conformance/transport_suite.c
    LIBS ockam_ble_test_util LABELS net TIMEOUT 240)
ockam_add_test(test_ble_mixed SOURCES ${_ble}/test_ble_mixed.c LIBS ockam_ble_test_util
               LABELS net TIMEOUT 240)
ockam_add_test(test_ble_bad_input SOURCES ${_ble}/test_ble_bad_input.c LIBS ockam_ble_test_util
               LABELS net TIMEOUT 240)
ockam_add_test(test_ble_backpressure SOURCES ${_ble}/test_ble_backpressure.c
               LIBS ockam_ble_test_util LABELS net TIMEOUT 240)
ockam_add_test(test_ble_channel
    SOURCES ${_ble}/test_ble_channel.c ${PROJECT_SOURCE_DIR}/tests/channel/sc_util.c
    LIBS ockam_ble_test_util LABELS net TIMEOUT 240)
set_tests_properties(test_ble_nodes test_ble_conformance test_ble_mixed test_ble_bad_input
                     test_ble_backpressure test_ble_channel PROPERTIES SKIP_RETURN_CODE 77)
