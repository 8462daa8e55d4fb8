# Codec micro-benchmark (included from bench/CMakeLists.txt).
add_executable(bench_codec ${CMAKE_CURRENT_LIST_DIR}/bench_codec.c)
target_include_directories(bench_codec PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(bench_codec PRIVATE ockam)
ockam_target_warnings(bench_codec)
