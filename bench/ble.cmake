# BLE on BlueZ's emulator against a raw HCI ACL probe (scripts/bench.sh, scenario "ble").
include_guard(GLOBAL)
ockam_add_bench(bench_ble ${CMAKE_CURRENT_LIST_DIR}/bench_ble.c)
target_link_libraries(bench_ble PRIVATE ockam_bench_util)
include(${PROJECT_SOURCE_DIR}/tests/ble/shim.cmake)
add_dependencies(bench_ble ockam_btvirt_shim)
