# Kafka hop benchmark (see bench_kafka.c). Included from bench/CMakeLists.txt when
# OCKAM_WITH_KAFKA is ON.
include_guard(GLOBAL)
ockam_add_bench(bench_kafka ${CMAKE_CURRENT_LIST_DIR}/bench_kafka.c)
target_link_libraries(bench_kafka PRIVATE PkgConfig::RDKAFKA Threads::Threads)
