ockam_add_test(test_node SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_node.c LABELS unit TIMEOUT 120)
ockam_add_test(test_policy SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_policy.c LABELS unit)
