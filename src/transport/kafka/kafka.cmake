include_guard(GLOBAL)
# Kafka transport (address type 16) on librdkafka. Included from src/transport/CMakeLists.txt
# when OCKAM_WITH_KAFKA is ON (the top-level CMakeLists.txt found PkgConfig::RDKAFKA).
target_sources(ockam PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/kafka.c
    ${CMAKE_CURRENT_LIST_DIR}/kafka_addr.c
    ${CMAKE_CURRENT_LIST_DIR}/kafka_recv.c
    ${CMAKE_CURRENT_LIST_DIR}/kafka_send.c
)
# PUBLIC: ockam is a static library, so whatever links it needs librdkafka too.
target_link_libraries(ockam PUBLIC PkgConfig::RDKAFKA)
