# Symbolised anomaly traces (src/backtrace.cpp) through GCC's libbacktrace, when the compiler
# ships it. Its objects are merged into one (a relocatable link) whose only global symbols are
# the three entry points eigrad calls, renamed eigrad_backtrace_*, and that object becomes part of
# eigrad itself. So the exported interface gains nothing: a static eigrad needs no extra library
# at the consumer's link, and no libbacktrace symbol can clash with a copy in the consumer's
# process. Without it, traces name only exported functions (backtrace_symbols).
option(EIGRAD_LIBBACKTRACE "Name functions in anomaly traces with GCC's libbacktrace if found" ON)
set(EIGRAD_HAVE_LIBBACKTRACE OFF)
if(EIGRAD_LIBBACKTRACE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_OBJCOPY)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libbacktrace.a
    OUTPUT_VARIABLE libbacktrace_archive OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=include
    OUTPUT_VARIABLE libbacktrace_include OUTPUT_STRIP_TRAILING_WHITESPACE)
  # -print-file-name answers the bare name when the file is not found.
  if(IS_ABSOLUTE "${libbacktrace_archive}" AND EXISTS "${libbacktrace_include}/backtrace.h")
    set(EIGRAD_HAVE_LIBBACKTRACE ON)
  endif()
endif()
if(EIGRAD_HAVE_LIBBACKTRACE)
  set(merged ${CMAKE_CURRENT_BINARY_DIR}/libbacktrace_merged.o)
  set(object ${CMAKE_CURRENT_BINARY_DIR}/eigrad_libbacktrace.o)
  set(rename)
  foreach(entry create_state pcinfo syminfo)
    list(APPEND rename --redefine-sym backtrace_${entry}=eigrad_backtrace_${entry}
      --keep-global-symbol eigrad_backtrace_${entry})
  endforeach()
  add_custom_command(OUTPUT ${object}
    COMMAND ${CMAKE_CXX_COMPILER} -r -nostdlib -o ${merged} -Wl,--whole-archive
      ${libbacktrace_archive} -Wl,--no-whole-archive
    COMMAND ${CMAKE_OBJCOPY} ${rename} ${merged} ${object}
    DEPENDS ${libbacktrace_archive}
    COMMENT "Merging GCC's libbacktrace into eigrad under eigrad_backtrace_* names" VERBATIM)
  set_source_files_properties(${object} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  target_sources(eigrad PRIVATE ${object})
  # backtrace.h sits in GCC's own include directory, already on its search path.
  set_source_files_properties(src/backtrace.cpp PROPERTIES
    COMPILE_DEFINITIONS EIGRAD_HAVE_LIBBACKTRACE=1)
  message(STATUS "eigrad: anomaly traces symbolised with ${libbacktrace_archive}")
else()
  message(STATUS "eigrad: libbacktrace not found; anomaly traces name exported functions only")
endif()
