# Kafka transport tests. Included from tests/CMakeLists.txt when OCKAM_WITH_KAFKA is ON
# (the top-level CMakeLists.txt found PkgConfig::RDKAFKA).
# Every test except the unit one starts its own mock cluster (kafka_mock, below) in a child
# process, so they may run in parallel (ctest -j) and need no broker on the machine.
include_guard(GLOBAL)

# The mock cluster program: test-only, never installed.
add_executable(kafka_mock ${CMAKE_CURRENT_LIST_DIR}/kafka_mock.c)
target_link_libraries(kafka_mock PRIVATE PkgConfig::RDKAFKA)
ockam_target_warnings(kafka_mock)

add_library(ockam_kafka_harness STATIC ${CMAKE_CURRENT_LIST_DIR}/kafka_harness.c)
target_include_directories(ockam_kafka_harness PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(ockam_kafka_harness PUBLIC ockam PkgConfig::CMOCKA PkgConfig::RDKAFKA
                                                 Threads::Threads)
target_compile_definitions(ockam_kafka_harness PRIVATE KAFKA_MOCK_PATH="$<TARGET_FILE:kafka_mock>")
add_dependencies(ockam_kafka_harness kafka_mock)
ockam_target_warnings(ockam_kafka_harness)

# test_kafka_unit needs no cluster; the others each join consumer groups (a few seconds).
foreach(t unit hop chain outage bad backpressure)
    ockam_add_test(test_kafka_${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_kafka_${t}.c
                   LABELS kafka TIMEOUT 180 LIBS ockam_kafka_harness)
endforeach()

# The transport conformance suite, run for Kafka against the mock cluster.
ockam_add_test(test_kafka_conformance
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_kafka_conformance.c
            ${PROJECT_SOURCE_DIR}/tests/conformance/transport_suite.c
    LABELS kafka TIMEOUT 300 LIBS ockam_kafka_harness)
