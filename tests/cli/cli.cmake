# CLI tests: bats files that drive the built `ockam` binary with real node processes.
find_program(BATS_EXECUTABLE bats REQUIRED)
foreach(suite nodes message services tcp seed security output udp)
    add_test(NAME cli_${suite}
             COMMAND ${BATS_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/${suite}.bats)
    set_tests_properties(cli_${suite} PROPERTIES
        ENVIRONMENT "OCKAM_BIN=$<TARGET_FILE:ockam_cli>"
        LABELS cli
        TIMEOUT 300)
endforeach()
