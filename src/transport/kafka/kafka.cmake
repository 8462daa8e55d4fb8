include_guard(GLOBAL)
# Kafka transport (address type 16) on librdkafka. Included from src/transport/CMakeLists.txt:
#   include(${CMAKE_CURRENT_LIST_DIR}/kafka/kafka.cmake)
# GLOBAL so that tests/kafka and bench/kafka.cmake can link PkgConfig::RDKAFKA as well.
if(NOT TARGET PkgConfig::RDKAFKA)
    pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET GLOBAL rdkafka>=1.9)
endif()
target_sources(ockam PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/kafka.c
    ${CMAKE_CURRENT_LIST_DIR}/kafka_addr.c
    ${CMAKE_CURRENT_LIST_DIR}/kafka_recv.c
    ${CMAKE_CURRENT_LIST_DIR}/kafka_send.c
)
# PUBLIC: ockam is a static library, so whatever links it needs librdkafka too.
target_link_libraries(ockam PUBLIC PkgConfig::RDKAFKA)
