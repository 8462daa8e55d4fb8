# Kafka hop benchmark (see bench_kafka.c). Included from bench/CMakeLists.txt:
#   include(kafka.cmake OPTIONAL)
include_guard(GLOBAL)
if(NOT TARGET PkgConfig::RDKAFKA)
    pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET GLOBAL rdkafka>=1.9)
endif()
ockam_add_bench(bench_kafka ${CMAKE_CURRENT_LIST_DIR}/bench_kafka.c)
target_link_libraries(bench_kafka PRIVATE PkgConfig::RDKAFKA Threads::Threads)
