// Anomaly-mode call stacks: captured raw when an op is recorded, named when an error is raised.
// With GCC's libbacktrace (linked in by cmake/libbacktrace.cmake under eigrad_-prefixed names)
// frames get function names from the debug info or, without it, from the symbol table, so
// functions of an executable built without -rdynamic are named too; inlined calls appear as
// frames of their own. Without it, backtrace_symbols names only exported functions.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/autograd.hpp"

#if __has_include(<execinfo.h>) && __has_include(<cxxabi.h>)
#include <cxxabi.h>
#include <execinfo.h>
#define EIGRAD_HAVE_EXECINFO 1
#endif

#if defined(EIGRAD_HAVE_LIBBACKTRACE) && defined(EIGRAD_HAVE_EXECINFO)
#include <backtrace.h>
extern "C" {
backtrace_state* eigrad_backtrace_create_state(const char* filename, int threaded,
                                               backtrace_error_callback error_callback, void* data);
int eigrad_backtrace_pcinfo(backtrace_state* state, uintptr_t pc, backtrace_full_callback callback,
                            backtrace_error_callback error_callback, void* data);
int eigrad_backtrace_syminfo(backtrace_state* state, uintptr_t addr,
                             backtrace_syminfo_callback callback,
                             backtrace_error_callback error_callback, void* data);
}
#endif

namespace eigrad::detail {

std::string demangle(const char* name) {
#ifdef EIGRAD_HAVE_EXECINFO
  int status = 0;
  char* readable = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && readable ? readable : name;
  std::free(readable);
  return out;
#else
  return name;
#endif
}

CallStack call_stack() {
  CallStack stack;
#ifdef EIGRAD_HAVE_EXECINFO
  stack.size = backtrace(stack.frames, CallStack::capacity);
#endif
  return stack;
}

#ifdef EIGRAD_HAVE_EXECINFO
namespace {

// eigrad's own recording frames above the op: call_stack and record/record_inputs (separate
// frames in a debug build, inlined frames reported by libbacktrace in an optimised one).
bool is_recording_frame(const std::string& function) {
  const std::string head = function.substr(0, function.find('('));
  return head.find("eigrad::detail::call_stack") != std::string::npos ||
         head.find("eigrad::detail::record_inputs<") != std::string::npos ||
         head.find("eigrad::detail::record<") != std::string::npos ||
         head.find("eigrad::detail::record_function<") != std::string::npos;
}

struct Frame {
  std::string function;  // demangled; empty when unknown
  std::string where;     // "file:line", or the binary and address when the function is unknown
};

// "binary(mangled+0x12) [0x...]" from backtrace_symbols, demangled.
Frame frame_from_symbols(void* address) {
  Frame frame;
  char** symbols = backtrace_symbols(&address, 1);
  if (!symbols) return frame;
  const std::string line = symbols[0];
  std::free(symbols);
  const size_t open = line.find('('), plus = line.find('+', open);
  if (open != std::string::npos && plus != std::string::npos && plus > open + 1)
    frame.function = demangle(line.substr(open + 1, plus - open - 1).c_str());
  else
    frame.where = line;
  return frame;
}

#ifdef EIGRAD_HAVE_LIBBACKTRACE
backtrace_state* symboliser() {
  // Created once, on the first anomaly error; libbacktrace never frees its state.
  static backtrace_state* state = eigrad_backtrace_create_state(
      nullptr, 1, [](void*, const char*, int) {}, nullptr);
  return state;
}

// Appends the frames at `pc`: the inlined calls first, the function that contains them last.
void frames_at(uintptr_t pc, std::vector<Frame>& out) {
  backtrace_state* state = symboliser();
  const size_t before = out.size();
  if (state) {
    eigrad_backtrace_pcinfo(
        state, pc,
        [](void* data, uintptr_t, const char* file, int line, const char* function) {
          if (!function) return 0;
          Frame frame{demangle(function), ""};
          if (file) frame.where = std::string(file) + ":" + std::to_string(line);
          static_cast<std::vector<Frame>*>(data)->push_back(std::move(frame));
          return 0;
        },
        [](void*, const char*, int) {}, &out);
    if (out.size() == before)  // no debug info: the symbol table
      eigrad_backtrace_syminfo(
          state, pc,
          [](void* data, uintptr_t, const char* symbol, uintptr_t, uintptr_t) {
            if (symbol) static_cast<std::vector<Frame>*>(data)->push_back({demangle(symbol), ""});
          },
          [](void*, const char*, int) {}, &out);
  }
  if (out.size() == before) out.push_back(frame_from_symbols(reinterpret_cast<void*>(pc + 1)));
}
#endif

}  // namespace

std::string describe(const CallStack& stack) {
  std::vector<Frame> frames;
  for (int i = 1; i < stack.size; ++i) {  // frame 0 is call_stack itself
#ifdef EIGRAD_HAVE_LIBBACKTRACE
    // A return address: the call is the instruction before it.
    frames_at(reinterpret_cast<uintptr_t>(stack.frames[i]) - 1, frames);
#else
    frames.push_back(frame_from_symbols(stack.frames[i]));
#endif
  }
  size_t first = 0;
  while (first < frames.size() && is_recording_frame(frames[first].function)) ++first;
  std::string out;
  for (size_t i = first; i < frames.size(); ++i) {
    const Frame& frame = frames[i];
    out += "  " + (frame.function.empty() ? std::string("??") : frame.function);
    if (!frame.where.empty()) out += (frame.function.empty() ? " in " : " at ") + frame.where;
    out += "\n";
  }
  return out.empty() ? "  (no call stack available)\n" : out;
}

#else

std::string describe(const CallStack&) {
  return "  (no call stack available on this platform)\n";
}

#endif

}  // namespace eigrad::detail
