# UDP transport (address type 2). Included from src/transport/CMakeLists.txt:
#   include(${CMAKE_CURRENT_LIST_DIR}/udp/udp.cmake)
include_guard(GLOBAL)
target_sources(ockam PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/udp.c
    ${CMAKE_CURRENT_LIST_DIR}/udp_addr.c
    ${CMAKE_CURRENT_LIST_DIR}/udp_name.c
    ${CMAKE_CURRENT_LIST_DIR}/udp_reasm.c
    ${CMAKE_CURRENT_LIST_DIR}/udp_send.c
)
