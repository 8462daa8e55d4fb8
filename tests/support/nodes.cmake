target_sources(ockam_test_support PRIVATE ${CMAKE_CURRENT_LIST_DIR}/nodes.c)
