# The LD_PRELOAD shim for btvirt (tests/ble/btvirt_shim.c): used by the BLE tests and by the
# BLE benchmark. It runs inside btvirt (not sanitized): no sanitizer flags, symbols visible.
include_guard(GLOBAL)
add_library(ockam_btvirt_shim SHARED ${CMAKE_CURRENT_LIST_DIR}/btvirt_shim.c)
set_property(TARGET ockam_btvirt_shim PROPERTY COMPILE_OPTIONS "-O1;-fvisibility=default")
set_property(TARGET ockam_btvirt_shim PROPERTY LINK_OPTIONS "")
target_link_libraries(ockam_btvirt_shim PRIVATE dl)
