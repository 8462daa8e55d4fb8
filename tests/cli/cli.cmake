# CLI tests: bats files that drive the built `ockam` binary with real node processes.
find_program(BATS_EXECUTABLE bats REQUIRED)
foreach(suite nodes message services tcp seed security output udp compat)
    add_test(NAME cli_${suite}
             COMMAND ${BATS_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/${suite}.bats)
    set_tests_properties(cli_${suite} PROPERTIES
        ENVIRONMENT "OCKAM_BIN=$<TARGET_FILE:ockam_cli>"
        LABELS cli
        TIMEOUT 300)
endforeach()

# The Kafka transport in the CLI: the test starts its own mock cluster (tests/kafka/kafka.cmake
# builds kafka_mock), so it needs no broker on the machine. Without the transport, the CLI's
# Kafka options and commands must say so (kafka_none.bats).
if(OCKAM_WITH_KAFKA)
    add_test(NAME cli_kafka COMMAND ${BATS_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/kafka.bats)
    set_tests_properties(cli_kafka PROPERTIES
        ENVIRONMENT "OCKAM_BIN=$<TARGET_FILE:ockam_cli>;KAFKA_MOCK=$<TARGET_FILE:kafka_mock>"
        LABELS "cli;kafka"
        TIMEOUT 300)
else()
    add_test(NAME cli_kafka_none COMMAND ${BATS_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/kafka_none.bats)
    set_tests_properties(cli_kafka_none PROPERTIES
        ENVIRONMENT "OCKAM_BIN=$<TARGET_FILE:ockam_cli>"
        LABELS cli
        TIMEOUT 120)
endif()
# Relays and TCP portals (100 MiB transfers, a relay node killed and restarted, namespaces).
foreach(suite relay portal secure secure_identity)
    add_test(NAME cli_${suite}
             COMMAND ${BATS_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/${suite}.bats)
    set_tests_properties(cli_${suite} PROPERTIES
        ENVIRONMENT "OCKAM_BIN=$<TARGET_FILE:ockam_cli>"
        LABELS cli
        TIMEOUT 900)
endforeach()

# BLE on BlueZ's controller emulator (btvirt, Debian bluez-test-tools; skipped without it).
add_test(NAME cli_ble COMMAND ${BATS_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/ble.bats)
set_tests_properties(cli_ble PROPERTIES
    ENVIRONMENT "OCKAM_BIN=$<TARGET_FILE:ockam_cli>;BTVIRT_SHIM=$<TARGET_FILE:ockam_btvirt_shim>"
    LABELS cli
    TIMEOUT 300)
