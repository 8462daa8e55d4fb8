# Installing libockam as a user would, into a temporary prefix (tests/install/install.sh):
# files, SONAME, exported symbols, out-of-tree examples through find_package and pkg-config,
# a static link, man pages, completion. It configures and builds its own release tree.
# Both build the default configuration of their own, so a build with other options (a test run
# without the Kafka transport) does not run them again.
if(DEFINED OCKAM_WITH_KAFKA AND NOT OCKAM_WITH_KAFKA)
    return()
endif()
add_test(NAME install COMMAND ${CMAKE_CURRENT_LIST_DIR}/install.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(install PROPERTIES LABELS install TIMEOUT 900)

# The Debian packages (tests/install/deb.sh: dpkg-buildpackage -b -us -uc, then dpkg -x into a
# scratch root and use them there).
add_test(NAME deb COMMAND ${CMAKE_CURRENT_LIST_DIR}/deb.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(deb PROPERTIES LABELS "install;deb" TIMEOUT 900)
