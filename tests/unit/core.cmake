ockam_add_test(test_route SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_route.c LABELS unit)
ockam_add_test(test_msg_chunk SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_msg_chunk.c LABELS unit)
ockam_add_test(test_core_util SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_core_util.c LABELS unit)
ockam_add_test(test_log SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_log.c LABELS unit)
