# Warnings, sanitizers and the helpers every folder uses to add tests and fuzzers.

set(OCKAM_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wvla -Wimplicit-fallthrough -Wcast-align -Wundef -Wno-unused-parameter)

function(ockam_target_warnings target)
    target_compile_options(${target} PRIVATE ${OCKAM_WARNINGS})
    if(OCKAM_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
    target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
endfunction()

if(OCKAM_SANITIZE)
    string(REPLACE ";" "," _san "${OCKAM_SANITIZE}")
    add_compile_options(-fsanitize=${_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${_san})
endif()

# ockam_add_test(NAME SOURCES a.c b.c [LABELS unit] [TIMEOUT 60] [LIBS x])
# One cmocka executable per test file, registered with CTest.
function(ockam_add_test name)
    cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LABELS;LIBS" ${ARGN})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 60)
    endif()
    add_executable(${name} ${T_SOURCES})
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
    target_link_libraries(${name} PRIVATE ockam_test_support ockam PkgConfig::CMOCKA ${T_LIBS})
    ockam_target_warnings(${name})
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}")
endfunction()

# ockam_add_fuzzer(NAME SOURCE file.c): a libFuzzer target with its seed corpus in fuzz/corpus/NAME.
function(ockam_add_fuzzer name)
    cmake_parse_arguments(F "" "SOURCE" "" ${ARGN})
    add_executable(${name} ${F_SOURCE})
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
    # As for the library: internal headers include libuv's, which needs it.
    target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} PRIVATE ockam)
endfunction()
