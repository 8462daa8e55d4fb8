# UDP throughput against plain UDP. Included from bench/CMakeLists.txt:
#   include(udp.cmake)
include_guard(GLOBAL)
ockam_add_bench(bench_udp ${CMAKE_CURRENT_LIST_DIR}/bench_udp.c)
