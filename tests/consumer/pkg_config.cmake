# Installs this eigrad build into a scratch prefix and builds tests/consumer/main.cpp the way the
# README shows for builds without CMake: one g++ line with `pkg-config --cflags --libs eigrad`.
#   -DBUILD_DIR=<an eigrad build> -DWORK_DIR=... -DSOURCE_DIR=<this folder> -DCXX_COMPILER=...
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "pkg-config consumer step failed (${result}): ${ARGN}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

run_step(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
file(GLOB pc_dirs ${prefix}/lib*/pkgconfig ${prefix}/lib/*/pkgconfig)
list(JOIN pc_dirs ":" pc_path)
set(env ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${pc_path})
run_step(${env} pkg-config --cflags --libs eigrad)
string(STRIP "${step_output}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
message("pkg-config --cflags --libs eigrad: ${flags}")
run_step(${CXX_COMPILER} -std=c++17 -O1 -Wall -Wextra -Werror ${SOURCE_DIR}/main.cpp ${flags}
  -o ${WORK_DIR}/consumer)
run_step(${WORK_DIR}/consumer)
