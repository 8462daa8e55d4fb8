# BLE transport (address type 4). Included from src/transport/CMakeLists.txt.
include_guard(GLOBAL)
target_sources(ockam PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/hci.c
    ${CMAKE_CURRENT_LIST_DIR}/l2cap.c
    ${CMAKE_CURRENT_LIST_DIR}/link.c
    ${CMAKE_CURRENT_LIST_DIR}/link_h4.c
    ${CMAKE_CURRENT_LIST_DIR}/link_user.c
    ${CMAKE_CURRENT_LIST_DIR}/kernel_l2cap.c
    ${CMAKE_CURRENT_LIST_DIR}/ble.c
    ${CMAKE_CURRENT_LIST_DIR}/ble_link.c
)
