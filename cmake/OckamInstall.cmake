# Installing libockam like any C library (docs/abi.md says what is stable):
#   lib/libockam.so.<major>  shared library, SONAME libockam.so.<major>, only OCKAM_API symbols
#   lib/libockam.a           the same code, static
#   include/ockam/*.h        the public headers
#   lib/pkgconfig/ockam.pc   pkg-config (also as libockam.pc); private deps for static linking
#   lib/cmake/ockam/         find_package(ockam) -> ockam::ockam (shared), ockam::ockam_static
#   bin/ockam, share/man/man1/*.1, share/bash-completion/completions/ockam
#
# The shared library is the static one linked whole into a shared object: one list of
# sources (whatever the folders add to `ockam`), compiled position-independent. Hidden
# visibility (CMAKE_C_VISIBILITY_PRESET) keeps everything but OCKAM_API out of its symbol
# table; the version script also keeps out anything a static dependency might bring.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

option(OCKAM_BUILD_SHARED "Build libockam.so next to libockam.a" ON)

# The version in ockam.h (what programs see) and the project's version (the SONAME) are one.
file(STRINGS ${PROJECT_SOURCE_DIR}/include/ockam/ockam.h _ockam_version_line
     REGEX "^#define OCKAM_VERSION_STRING ")
string(REGEX REPLACE ".*\"(.*)\".*" "\\1" _ockam_header_version "${_ockam_version_line}")
if(NOT _ockam_header_version STREQUAL PROJECT_VERSION)
    message(FATAL_ERROR "OCKAM_VERSION_STRING in include/ockam/ockam.h is "
                        "'${_ockam_header_version}' but project() says '${PROJECT_VERSION}'")
endif()

set_target_properties(ockam PROPERTIES POSITION_INDEPENDENT_CODE ON)
# Calls between OCKAM_API functions inside the library bind locally (and may be inlined),
# as in the static build: nobody interposes them.
target_compile_options(ockam PRIVATE -fno-semantic-interposition)
target_include_directories(ockam INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

# What libockam links, for pkg-config (Requires.private) and the CMake package: every
# pkg-config module the `ockam` target links (libuv; libcrypto; librdkafka with the Kafka
# transport; ...), found from its link list so that a new dependency cannot be forgotten.
get_target_property(_ockam_links ockam LINK_LIBRARIES)
set(OCKAM_PC_MODULES "")
foreach(_l IN LISTS _ockam_links)
    if(_l MATCHES "^PkgConfig::(.+)$")
        if(NOT DEFINED ${CMAKE_MATCH_1}_MODULE_NAME)
            message(FATAL_ERROR "libockam links ${_l}: its pkg-config module name is unknown")
        endif()
        list(APPEND OCKAM_PC_MODULES ${${CMAKE_MATCH_1}_MODULE_NAME})
    endif()
endforeach()
list(REMOVE_DUPLICATES OCKAM_PC_MODULES)
string(JOIN ", " OCKAM_PC_REQUIRES ${OCKAM_PC_MODULES})

if(OCKAM_BUILD_SHARED)
    # A target needs one source of its own; all the code comes from libockam.a.
    file(WRITE ${PROJECT_BINARY_DIR}/ockam_shared.c
        "/* libockam.so is libockam.a linked whole (cmake/OckamInstall.cmake). */\n"
        "typedef int ockam__shared_unit;\n")
    add_library(ockam_shared SHARED ${PROJECT_BINARY_DIR}/ockam_shared.c)
    # WHOLE_ARCHIVE: every object of libockam.a, not only those something references.
    target_link_libraries(ockam_shared PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,ockam>")
    target_link_options(ockam_shared PRIVATE
        -Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/libockam.map -Wl,-z,defs)
    set_target_properties(ockam_shared PROPERTIES
        OUTPUT_NAME ockam
        VERSION ${PROJECT_VERSION}
        SOVERSION ${PROJECT_VERSION_MAJOR}
        LINK_DEPENDS ${PROJECT_SOURCE_DIR}/cmake/libockam.map)
    # A sanitizer build's shared library needs the sanitizer runtime: -z defs would reject
    # its symbols, which the program provides.
    if(OCKAM_SANITIZE)
        target_link_options(ockam_shared PRIVATE -Wl,-z,undefs)
    endif()
    install(TARGETS ockam_shared
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
            NAMELINK_COMPONENT dev)
endif()

install(TARGETS ockam ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ockam
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev FILES_MATCHING PATTERN "*.h")

# pkg-config: ockam.pc, so `pkg-config --cflags --libs ockam` works; libockam.pc the same.
configure_file(${PROJECT_SOURCE_DIR}/cmake/ockam.pc.in ${PROJECT_BINARY_DIR}/ockam.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ockam.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
install(FILES ${PROJECT_BINARY_DIR}/ockam.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig RENAME libockam.pc COMPONENT dev)

# CMake package.
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ockamConfig.cmake.in
    ${PROJECT_BINARY_DIR}/ockamConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ockam
    PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ockamConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ockamConfig.cmake ${PROJECT_BINARY_DIR}/ockamConfigVersion.cmake
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ockam COMPONENT dev)

# The command, its man pages and its bash completion, generated from its own --help.
if(TARGET ockam_cli)
    install(TARGETS ockam_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
    set(OCKAM_DOC_DIR ${PROJECT_BINARY_DIR}/doc)
    add_custom_command(
        OUTPUT ${OCKAM_DOC_DIR}/stamp
        COMMAND ${CMAKE_COMMAND} -E rm -rf ${OCKAM_DOC_DIR}/man1
        COMMAND ${PROJECT_SOURCE_DIR}/scripts/gen-man.sh $<TARGET_FILE:ockam_cli>
                ${OCKAM_DOC_DIR}/man1 ${PROJECT_VERSION}
        COMMAND ${PROJECT_SOURCE_DIR}/scripts/gen-completion.sh $<TARGET_FILE:ockam_cli>
                ${OCKAM_DOC_DIR}/ockam.bash
        COMMAND ${CMAKE_COMMAND} -E touch ${OCKAM_DOC_DIR}/stamp
        DEPENDS ockam_cli ${PROJECT_SOURCE_DIR}/scripts/gen-man.sh
                ${PROJECT_SOURCE_DIR}/scripts/gen-completion.sh
        COMMENT "Generating man pages and bash completion from ockam --help")
    add_custom_target(ockam_docs ALL DEPENDS ${OCKAM_DOC_DIR}/stamp)
    install(DIRECTORY ${OCKAM_DOC_DIR}/man1
        DESTINATION ${CMAKE_INSTALL_MANDIR} COMPONENT cli)
    install(FILES ${OCKAM_DOC_DIR}/ockam.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ockam
        COMPONENT cli)
endif()
