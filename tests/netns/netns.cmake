# The UDP loss test in network namespaces (needs root; skipped where namespaces are not
# permitted). Included from tests/CMakeLists.txt:
#   include(netns/netns.cmake)
include_guard(GLOBAL)
add_executable(udp_loss_tool ${CMAKE_CURRENT_LIST_DIR}/udp_loss_tool.c)
target_link_libraries(udp_loss_tool PRIVATE ockam)
ockam_target_warnings(udp_loss_tool)
add_test(NAME test_udp_netns_loss
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/udp_loss.sh $<TARGET_FILE:udp_loss_tool>)
set_tests_properties(test_udp_netns_loss PROPERTIES TIMEOUT 180 SKIP_RETURN_CODE 77
                                                    LABELS "net;netns" RUN_SERIAL TRUE)
add_test(NAME test_udp_netns_order
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/udp_order.sh $<TARGET_FILE:udp_loss_tool>)
set_tests_properties(test_udp_netns_order PROPERTIES TIMEOUT 180 SKIP_RETURN_CODE 77
                                                     LABELS "net;netns" RUN_SERIAL TRUE)
