# SPDX-License-Identifier: GPL-2.0-or-later
#
# sitelink_add_plugin(NAME SOURCES src... [LIBS lib...] [STATIC_PIE])
#   Builds the plugin executable (with info() and plugin_options() generated
#   from the cli.json beside it), installs it into the plugin directory and
#   registers its --help/--version smoke tests (both must exit 3).
#   STATIC_PIE links the C library in too (a static position-independent
#   executable, still randomised by ASLR): for a plugin that loads no backend
#   modules and whose start-up time is part of its run (check_cross_site_ping:
#   1.9 ms instead of 2.6 ms to start on the lab machine). Host names still
#   resolve through /etc/hosts and DNS, which the static C library carries;
#   other NSS modules of nsswitch.conf are loaded only when the installed C
#   library is the one the plugin was built against. Off with
#   -DSITELINK_STATIC_PIE=OFF, as the package builds and the ci preset do:
#   Debian and Fedora want a glibc security update to reach every binary
#   without a rebuild.
#
# sitelink_add_module(NAME SOURCES src... [LIBS lib...])
#   Builds a backend module (a shared object opened with dlopen only when its
#   backend is selected) into the build's module directory and installs it
#   into the private module directory.
include(CheckLinkerFlag)
include(SitelinkCli)
# Packed relative relocations (DT_RELR, binutils 2.38 and glibc 2.36): the
# statically linked C++ runtime brings thousands of relative relocations, and
# the packed table is read in fewer pages at every start.
check_linker_flag(CXX "-Wl,-z,pack-relative-relocs" SITELINK_HAVE_RELR)
check_linker_flag(CXX "-static-pie" SITELINK_HAVE_STATIC_PIE)

function(sitelink_add_plugin name)
  cmake_parse_arguments(P "STATIC_PIE" "" "SOURCES;LIBS" ${ARGN})
  # Every plugin describes its command line in cli.json (cmake/SitelinkCli.cmake).
  sitelink_cli_source(${CMAKE_CURRENT_SOURCE_DIR}/cli.json ${CMAKE_CURRENT_BINARY_DIR}/cli.cpp)
  add_executable(${name} ${P_SOURCES} ${CMAKE_CURRENT_BINARY_DIR}/cli.cpp)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
  target_link_libraries(${name} PRIVATE sitelink::common ${P_LIBS} sitelink_warnings)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
  if(SITELINK_STATIC_RUNTIME AND NOT SITELINK_SANITIZE)
    if(P_STATIC_PIE AND SITELINK_STATIC_PIE AND SITELINK_HAVE_STATIC_PIE)
      # Alone: with -static-libstdc++ beside it the driver links dynamically.
      target_link_options(${name} PRIVATE -static-pie)
    else()
      target_link_options(${name} PRIVATE -static-libstdc++ -static-libgcc)
    endif()
    if(SITELINK_HAVE_RELR)
      target_link_options(${name} PRIVATE -Wl,-z,pack-relative-relocs)
    endif()
  endif()
  install(TARGETS ${name} RUNTIME DESTINATION ${SITELINK_PLUGIN_DIR})
  set_property(GLOBAL APPEND PROPERTY SITELINK_PLUGINS ${name})
  if(SITELINK_BUILD_TESTS)
    add_test(NAME smoke.${name}.help
             COMMAND ${CMAKE_COMMAND} -DPLUGIN=$<TARGET_FILE:${name}> -DARG=--help
                     -DEXPECT=${name}\ ${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/SmokeTest.cmake)
    add_test(NAME smoke.${name}.version
             COMMAND ${CMAKE_COMMAND} -DPLUGIN=$<TARGET_FILE:${name}> -DARG=--version
                     -DEXPECT=${name}\ ${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/SmokeTest.cmake)
    set_tests_properties(smoke.${name}.help smoke.${name}.version PROPERTIES LABELS "smoke")
  endif()
endfunction()

function(sitelink_add_module name)
  cmake_parse_arguments(M "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} MODULE ${M_SOURCES})
  target_link_libraries(${name} PRIVATE sitelink::common ${M_LIBS} sitelink_warnings)
  set_target_properties(${name} PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY ${SITELINK_BUILD_MODULE_DIR})
  install(TARGETS ${name} LIBRARY DESTINATION ${SITELINK_MODULE_DIR})
endfunction()
