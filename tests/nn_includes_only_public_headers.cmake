# Fails if a file under src/nn includes anything but a public header (eigrad/...) or a standard or
# system header. The modules hold parameters and call ops through their public declarations;
# whatever needs the private headers of src/ (layout.hpp, storage.hpp, ops/gemm.hpp) is an op and
# lives in src/ops. Run as: cmake -DEIGRAD_SOURCE_DIR=<repository> -P <this file>.
if(NOT EIGRAD_SOURCE_DIR)
  message(FATAL_ERROR "nn_includes_only_public_headers: set -DEIGRAD_SOURCE_DIR=<repository>")
endif()
set(src "${EIGRAD_SOURCE_DIR}/src")
file(GLOB_RECURSE files "${src}/nn/*.cpp" "${src}/nn/*.hpp" "${src}/nn/*.h")
if(NOT files)
  message(FATAL_ERROR "nn_includes_only_public_headers: no sources found under ${src}/nn")
endif()
set(bad "")
foreach(file IN LISTS files)
  file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS includes)
    set(ok OFF)
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*([\"<])([^\">]*)[\">]")
      set(bracket "${CMAKE_MATCH_1}")
      set(header "${CMAKE_MATCH_2}")
      if(header MATCHES "\\.\\.")
        set(ok OFF)  # a relative path may climb out of eigrad/
      elseif(header MATCHES "^eigrad/" AND EXISTS "${EIGRAD_SOURCE_DIR}/include/${header}")
        set(ok ON)
      elseif(bracket STREQUAL "<" AND NOT header MATCHES "^eigrad/"
             AND NOT EXISTS "${src}/${header}")
        set(ok ON)  # <vector>, <Eigen/Core>: a system header, not a private one of src/
      endif()
    endif()
    if(NOT ok)
      file(RELATIVE_PATH where "${EIGRAD_SOURCE_DIR}" "${file}")
      string(STRIP "${line}" line)
      string(APPEND bad "\n  ${where}: ${line}")
    endif()
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "src/nn may include only public headers (eigrad/...) and standard or "
                      "system headers; move what needs a private header into an op in src/ops "
                      "and call it through its public declaration:${bad}")
endif()
