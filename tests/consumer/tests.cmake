# Programs built apart from eigrad against its installed package (run.cmake), as users build them.
# Each consumer is compiled with the other -march choice than the library it links, under
# AddressSanitizer (with LeakSanitizer) and with -Wall -Wextra -Werror:
#   consumer_find_package        this build's static libraries (eigrad, io, plot)
#   consumer_of_shared_library   a core-only shared library built with the other EIGRAD_NATIVE
# So both pairs run whichever EIGRAD_NATIVE this build has: a native library with a plain
# consumer, and a plain library with a native consumer. The sanitized suite leaves them out: its
# libraries carry UBSan, which the consumer would have to link, and the consumers run under ASan
# here already.
if(EIGRAD_SANITIZE)
  return()
endif()
set(consumer_flags "-g -fno-omit-frame-pointer -fsanitize=address -Wall -Wextra -Werror")
if(EIGRAD_NATIVE)
  set(other_library_native OFF)
  set(flags_for_this_library "${consumer_flags}")
  set(flags_for_other_library "${consumer_flags} -march=native")
else()
  set(other_library_native ON)
  set(flags_for_this_library "${consumer_flags} -march=native")
  set(flags_for_other_library "${consumer_flags}")
endif()
set(common_args -DSOURCE_DIR=${CMAKE_CURRENT_LIST_DIR} -DGENERATOR=${CMAKE_GENERATOR}
  -DCXX_COMPILER=${CMAKE_CXX_COMPILER} -DCONSUMER_LINK_FLAGS=-fsanitize=address)

add_test(NAME consumer_find_package
  COMMAND ${CMAKE_COMMAND} ${common_args} -DBUILD_DIR=${PROJECT_BINARY_DIR}
    -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer "-DCONSUMER_FLAGS=${flags_for_this_library}"
    -P ${CMAKE_CURRENT_LIST_DIR}/run.cmake)

include(ProcessorCount)
ProcessorCount(jobs)
set(library_args -DBUILD_SHARED_LIBS=ON -DEIGRAD_NATIVE=${other_library_native}
  -DEIGRAD_OPENMP=${EIGRAD_OPENMP})
if(CMAKE_CXX_COMPILER_LAUNCHER)
  list(APPEND library_args -DCMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER})
endif()
string(REPLACE ";" "|" library_args "${library_args}")
add_test(NAME consumer_of_shared_library
  COMMAND ${CMAKE_COMMAND} ${common_args} -DLIBRARY_SOURCE_DIR=${PROJECT_SOURCE_DIR}
    "-DLIBRARY_ARGS=${library_args}" -DPARALLEL=${jobs}
    -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer_shared
    "-DCONSUMER_FLAGS=${flags_for_other_library}" -P ${CMAKE_CURRENT_LIST_DIR}/run.cmake)
# Building the library takes minutes when the compiler cache (if any) is cold.
set_tests_properties(consumer_of_shared_library PROPERTIES TIMEOUT 2400)

# The same consumer without CMake: g++ with the installed eigrad.pc (pkg-config).
find_program(PKG_CONFIG_EXECUTABLE pkg-config)
if(PKG_CONFIG_EXECUTABLE)
  add_test(NAME consumer_pkg_config
    COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${PROJECT_BINARY_DIR} -DSOURCE_DIR=${CMAKE_CURRENT_LIST_DIR}
      -DCXX_COMPILER=${CMAKE_CXX_COMPILER} -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer_pkg_config
      -P ${CMAKE_CURRENT_LIST_DIR}/pkg_config.cmake)
endif()
