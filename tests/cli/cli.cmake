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

# The Kafka transport in the CLI: the test starts its own mock cluster (tests/kafka/kafka.cmake
# builds kafka_mock), so it needs no broker on the machine.
add_test(NAME cli_kafka COMMAND ${BATS_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/kafka.bats)
set_tests_properties(cli_kafka PROPERTIES
    ENVIRONMENT "OCKAM_BIN=$<TARGET_FILE:ockam_cli>;KAFKA_MOCK=$<TARGET_FILE:kafka_mock>"
    LABELS "cli;kafka"
    TIMEOUT 300)
# Relays and TCP portals (100 MiB transfers, a relay node killed and restarted, namespaces).
foreach(suite relay portal secure)
    add_test(NAME cli_${suite}
             COMMAND ${BATS_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/${suite}.bats)
    set_tests_properties(cli_${suite} PROPERTIES
        ENVIRONMENT "OCKAM_BIN=$<TARGET_FILE:ockam_cli>"
        LABELS cli
        TIMEOUT 900)
endforeach()
