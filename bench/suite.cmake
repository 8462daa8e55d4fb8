# The benchmark suite's roles, run by scripts/bench.sh (`make bench`). Included from
# bench/CMakeLists.txt. The ZeroMQ and nng baselines are built only when their packages are
# installed (scripts/install-deps.sh bench); the library itself never links them.
include_guard(GLOBAL)

add_library(ockam_bench_util STATIC ${CMAKE_CURRENT_LIST_DIR}/bench_util.c)
ockam_target_warnings(ockam_bench_util)
# What the libockam roles share (the baselines without libockam link only the above).
add_library(ockam_bench_node STATIC ${CMAKE_CURRENT_LIST_DIR}/bench_node.c)
target_link_libraries(ockam_bench_node PUBLIC ockam_bench_util ockam)
ockam_target_warnings(ockam_bench_node)

ockam_add_bench(bench_ockam ${CMAKE_CURRENT_LIST_DIR}/bench_ockam.c)
target_link_libraries(bench_ockam PRIVATE ockam_bench_node Threads::Threads)

# Secure channels over one TCP connection, against the same route without a channel.
ockam_add_bench(bench_channel ${CMAKE_CURRENT_LIST_DIR}/bench_channel.c)
target_link_libraries(bench_channel PRIVATE ockam_bench_node)

add_executable(bench_plain ${CMAKE_CURRENT_LIST_DIR}/bench_plain.c)
target_link_libraries(bench_plain PRIVATE ockam_bench_util)
ockam_target_warnings(bench_plain)

pkg_check_modules(ZMQ QUIET IMPORTED_TARGET libzmq>=4.3)
if(ZMQ_FOUND)
    add_executable(bench_zmq ${CMAKE_CURRENT_LIST_DIR}/bench_zmq.c)
    target_link_libraries(bench_zmq PRIVATE ockam_bench_util PkgConfig::ZMQ)
    ockam_target_warnings(bench_zmq)
else()
    message(STATUS "bench: libzmq not found; bench_zmq not built (scripts/install-deps.sh bench)")
endif()

find_package(nng 1.5 CONFIG QUIET)
if(nng_FOUND)
    add_executable(bench_nng ${CMAKE_CURRENT_LIST_DIR}/bench_nng.c)
    target_link_libraries(bench_nng PRIVATE ockam_bench_util nng::nng)
    ockam_target_warnings(bench_nng)
else()
    message(STATUS "bench: nng not found; bench_nng not built (scripts/install-deps.sh bench)")
endif()

# The TCP portal bulk-transfer roles.
ockam_add_bench(bench_portal ${CMAKE_CURRENT_LIST_DIR}/bench_portal.c)
target_link_libraries(bench_portal PRIVATE ockam_bench_node)
