# The install_consumer test: installs the current build into a scratch
# prefix, then configures, builds and runs tests/consumer against it with
# nothing but CMAKE_PREFIX_PATH. Run as
#   cmake -DANNEAL_BUILD_DIR=... -DCONSUMER_SOURCE_DIR=... -DWORK_DIR=...
#         -DGENERATOR=... -DCXX_COMPILER=... -DBUILD_TYPE=... -P run.cmake
foreach(var ANNEAL_BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

# step([QUIET] command...): runs a command and fails the test if it fails;
# QUIET keeps its output unless it fails.
function(step)
  cmake_parse_arguments(S "QUIET" "" "" ${ARGN})
  string(JOIN " " shown ${S_UNPARSED_ARGUMENTS})
  message(STATUS "install_consumer: ${shown}")
  if(S_QUIET)
    execute_process(COMMAND ${S_UNPARSED_ARGUMENTS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  else()
    execute_process(COMMAND ${S_UNPARSED_ARGUMENTS} RESULT_VARIABLE rc)
  endif()
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install_consumer: failed (${rc}): ${shown}\n${out}")
  endif()
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})

step(QUIET ${CMAKE_COMMAND} --install ${ANNEAL_BUILD_DIR} --config ${BUILD_TYPE} --prefix ${prefix})
step(QUIET ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${build} -G ${GENERATOR}
     -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
     -DCMAKE_PREFIX_PATH=${prefix})
# It must have found the installed package, not a build tree.
file(STRINGS ${build}/CMakeCache.txt found REGEX "^anneal_DIR:")
string(REGEX REPLACE "^[^=]*=" "" found "${found}")
file(REAL_PATH ${prefix} real_prefix)
string(FIND "${found}" "${prefix}/" at)
string(FIND "${found}" "${real_prefix}/" real_at)
if(NOT at EQUAL 0 AND NOT real_at EQUAL 0)
  message(FATAL_ERROR "install_consumer: found anneal in '${found}', not under ${prefix}")
endif()
step(${CMAKE_COMMAND} --build ${build} --config ${BUILD_TYPE})

# Single- and multi-config generators put the executable in different places.
find_program(consumer NAMES consumer PATHS ${build} ${build}/${BUILD_TYPE} NO_DEFAULT_PATH REQUIRED)
step(${consumer})
