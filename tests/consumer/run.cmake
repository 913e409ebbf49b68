# Installs an eigrad into a scratch prefix, then configures, builds and runs the consumer project
# against it, with the consumer's own compiler flags.
#   -DWORK_DIR=... -DSOURCE_DIR=<this folder> -DGENERATOR=... -DCXX_COMPILER=...
#   -DBUILD_DIR=<an eigrad build>                  installs that build, or
#   -DLIBRARY_SOURCE_DIR=<eigrad's sources> -DLIBRARY_ARGS=<-Dx=y|-Dz=w> -DPARALLEL=<jobs>
#                                                  builds and installs a core-only library first
#   -DCONSUMER_FLAGS=<CMAKE_CXX_FLAGS of the consumer> -DCONSUMER_LINK_FLAGS=<linker flags>
file(REMOVE_RECURSE ${WORK_DIR}/build ${WORK_DIR}/prefix)
set(prefix ${WORK_DIR}/prefix)

function(run_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "consumer step failed (${result}): ${ARGN}")
  endif()
endfunction()

if(LIBRARY_SOURCE_DIR)
  string(REPLACE "|" ";" library_args "${LIBRARY_ARGS}")
  # The library's build tree is kept between runs, so that a rerun only rebuilds what changed.
  run_step(${CMAKE_COMMAND} -S ${LIBRARY_SOURCE_DIR} -B ${WORK_DIR}/library -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release -DEIGRAD_BUILD_TESTS=OFF
    -DEIGRAD_BUILD_EXAMPLES=OFF -DEIGRAD_BUILD_BENCH=OFF ${library_args})
  run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/library --parallel ${PARALLEL})
  run_step(${CMAKE_COMMAND} --install ${WORK_DIR}/library --prefix ${prefix})
else()
  run_step(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
endif()

run_step(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release
  "-DCMAKE_CXX_FLAGS=${CONSUMER_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${CONSUMER_LINK_FLAGS}")
run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
# LeakSanitizer too: every buffer made on either side must be freed by one of them.
set(env ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1)
run_step(${env} ${WORK_DIR}/build/consumer)
if(EXISTS ${WORK_DIR}/build/consumer_plot)
  run_step(${env} ${WORK_DIR}/build/consumer_plot ${WORK_DIR}/build/consumer_plot.png)
endif()
