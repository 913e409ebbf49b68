# Every ```cpp block of README.md and docs/*.md is a complete program: at configure time each one
# is written to ${CMAKE_BINARY_DIR}/doc_blocks/<file>_<n>.cpp (n counts from 1 in its file), built
# as doc_block_<file>_<n> and run by a test of the same name (label `docs`), which must exit 0.
#   cmake --build build --target doc_blocks && ctest --test-dir build -L docs
# A block that includes eigrad/io.hpp or eigrad/plot.hpp links eigrad::io or eigrad::plot; without
# that library its test is skipped. A block may be preceded by a line
#   <!-- doc-block requires: Name1 Name2 -->
# naming identifiers it needs from the public headers: until every one appears there, the block is
# not built and its test is skipped, saying what is missing (for a guide written before its API).
file(GLOB doc_markdown_files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/README.md
  ${PROJECT_SOURCE_DIR}/docs/*.md)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${doc_markdown_files})

function(doc_block_fails target message)
  add_test(NAME ${target} COMMAND sh -c "echo '${message}'; exit 1")
  set_tests_properties(${target} PROPERTIES LABELS docs)
endfunction()

set(doc_blocks_dir ${CMAKE_BINARY_DIR}/doc_blocks)
file(MAKE_DIRECTORY ${doc_blocks_dir})
add_custom_target(doc_blocks)

# The public headers' text, read only when some block names requirements.
set(doc_public_headers "")
set(doc_public_headers_read OFF)
set(doc_blocks_pending OFF)
set(doc_fence_open "```cpp\n")
set(doc_fence_close "\n```")

foreach(md ${doc_markdown_files})
  get_filename_component(stem ${md} NAME_WE)
  file(READ ${md} text)
  set(n 0)
  while(TRUE)
    string(FIND "${text}" "${doc_fence_open}" open)
    if(open EQUAL -1)
      break()
    endif()
    math(EXPR n "${n} + 1")
    string(SUBSTRING "${text}" 0 ${open} before)
    math(EXPR code_start "${open} + 7")
    string(SUBSTRING "${text}" ${code_start} -1 text)
    set(name ${stem}_${n})
    set(target doc_block_${name})
    # A block that is not a complete program fails its test (the build itself goes on).
    string(FIND "${text}" "${doc_fence_close}" close)
    if(close EQUAL -1)
      doc_block_fails(${target} "${stem}.md block ${n}: the block is not closed by a line ```")
      break()
    endif()
    string(SUBSTRING "${text}" 0 ${close} code)
    math(EXPR code_end "${close} + 4")
    string(SUBSTRING "${text}" ${code_end} -1 text)
    if(NOT code MATCHES "int main\\(")
      doc_block_fails(${target} "${stem}.md block ${n}: no int main(); every cpp block in the \
documentation is a complete program, with its includes")
      continue()
    endif()
    # Requirements: the marker must be the line just above the fence.
    set(missing "")
    if(before MATCHES "<!-- doc-block requires: ([^>]*) -->\n$")
      string(REPLACE " " ";" required "${CMAKE_MATCH_1}")
      if(NOT doc_public_headers_read)
        file(GLOB_RECURSE doc_headers ${PROJECT_SOURCE_DIR}/include/eigrad/*.hpp)
        foreach(header ${doc_headers})
          file(READ ${header} header_text)
          string(APPEND doc_public_headers "${header_text}")
        endforeach()
        set(doc_public_headers_read ON)
      endif()
      foreach(identifier ${required})
        if(identifier AND NOT doc_public_headers MATCHES "[^A-Za-z0-9_]${identifier}[^A-Za-z0-9_]")
          string(APPEND missing " ${identifier}")
        endif()
      endforeach()
    endif()
    set(libraries eigrad::eigrad)
    if(code MATCHES "#include [<\"]eigrad/(io|plot)[./]")
      list(APPEND libraries eigrad::io)
      if(NOT TARGET eigrad::io)
        string(APPEND missing " eigrad::io")
      endif()
    endif()
    if(code MATCHES "#include [<\"]eigrad/plot[./]")
      list(APPEND libraries eigrad::plot)
      if(NOT TARGET eigrad::plot)
        string(APPEND missing " eigrad::plot")
      endif()
    endif()

    if(missing)
      set(doc_blocks_pending ON)
      add_test(NAME ${target} COMMAND sh -c
        "echo '${stem}.md block ${n} not built: needs${missing}, not in this build'; exit 77")
      set_tests_properties(${target} PROPERTIES SKIP_RETURN_CODE 77 LABELS docs)
      continue()
    endif()
    # Written through configure_file so that an unchanged block is not rebuilt.
    file(WRITE ${doc_blocks_dir}/${name}.cpp.in "${code}\n")
    configure_file(${doc_blocks_dir}/${name}.cpp.in ${doc_blocks_dir}/${name}.cpp COPYONLY)
    add_executable(${target} ${doc_blocks_dir}/${name}.cpp)
    target_link_libraries(${target} PRIVATE ${libraries} eigrad_warnings eigrad_native)
    add_dependencies(doc_blocks ${target})
    add_test(NAME ${target} COMMAND ${target} WORKING_DIRECTORY ${doc_blocks_dir})
    set_tests_properties(${target} PROPERTIES LABELS docs TIMEOUT 60)
  endwhile()
endforeach()

# A pending block is built as soon as its API reaches the headers.
if(doc_blocks_pending)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${doc_headers})
endif()

# The API reference (scripts/docs.sh: Doxygen over include/eigrad) builds without a warning.
# Skipped where doxygen is not installed (scripts/install-deps.sh --docs installs it).
add_test(NAME api_reference_builds_without_warnings COMMAND sh -c
  "command -v doxygen >/dev/null || { echo 'doxygen is not installed: skipped'; exit 77; }; \
exec '${PROJECT_SOURCE_DIR}/scripts/docs.sh' '${CMAKE_BINARY_DIR}/docs/api'")
set_tests_properties(api_reference_builds_without_warnings PROPERTIES SKIP_RETURN_CODE 77
  LABELS docs TIMEOUT 600)
