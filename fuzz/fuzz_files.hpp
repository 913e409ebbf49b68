#pragma once
// The loaders read paths, not memory: each input is written to one scratch file per process
// (in /dev/shm when it exists, so the fuzzer does not wear a disk), rewritten for every input.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace fuzz {

inline std::string scratch_path(const char* suffix) {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/eigrad-fuzz-" + std::to_string(getpid()) + suffix;
}

inline void write_file(const std::string& path, const void* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

// Removes the scratch file when the process ends normally.
struct Scratch {
  std::string path;
  explicit Scratch(const char* suffix) : path(scratch_path(suffix)) {}
  ~Scratch() { std::remove(path.c_str()); }
};

[[noreturn]] inline void violation(const std::string& what) {
  std::fprintf(stderr, "eigrad contract violation: %s\n", what.c_str());
  std::abort();
}

}  // namespace fuzz
