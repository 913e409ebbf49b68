# Fails if a public header (include/eigrad/) defines or declares the graph's internals, which
# live in src/autograd/graph.hpp: Node (a forward declaration is allowed: tensors hold an opaque
# pointer to their grad_fn), GradSink, FunctionNode, GraphContext, Saves, the engine, record,
# make_edge and needs_grad; or if it needs OpenMP (a private dependency). eigrad::Function is the
# one public door for a user's op. Run as: cmake -DEIGRAD_SOURCE_DIR=<repository> -P <this file>.
if(NOT EIGRAD_SOURCE_DIR)
  message(FATAL_ERROR "public_headers_are_sealed: set -DEIGRAD_SOURCE_DIR=<repository>")
endif()
file(GLOB_RECURSE headers "${EIGRAD_SOURCE_DIR}/include/eigrad/*.hpp")
if(NOT headers)
  message(FATAL_ERROR "public_headers_are_sealed: no headers under ${EIGRAD_SOURCE_DIR}/include")
endif()
set(patterns
  "class[ \t]+Node[ \t]*[:{]"
  "(class|struct)[ \t]+(GradSink|FunctionNode|GraphContext|Saves|Engine|AccumulateGrad)[ \t;:{<]"
  "(class|struct)[ \t]+(GradSink|FunctionNode|GraphContext|Saves|Engine|AccumulateGrad)$"
  "[ \t](record|record_inputs|make_edge|needs_grad)[ \t]*\\("
  "#[ \t]*include[ \t]*[<\"]omp\\.h"
  "#[ \t]*pragma[ \t]+omp"
  "#[ \t]*include[ \t]*\"(autograd/|storage|layout|parallel_for)")
set(bad "")
foreach(file IN LISTS headers)
  file(STRINGS "${file}" lines)
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    if(line MATCHES "^[ \t]*//")
      continue()
    endif()
    foreach(pattern IN LISTS patterns)
      if(line MATCHES "${pattern}")
        file(RELATIVE_PATH where "${EIGRAD_SOURCE_DIR}" "${file}")
        string(STRIP "${line}" line)
        string(APPEND bad "\n  ${where}:${number}: ${line}")
        break()
      endif()
    endforeach()
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "the graph's internals and OpenMP belong in src/ (src/autograd/graph.hpp, "
                      "src/parallel_for.hpp), not in the public headers:${bad}")
endif()
