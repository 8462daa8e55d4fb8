ockam_add_test(test_route SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_route.c LABELS unit)
