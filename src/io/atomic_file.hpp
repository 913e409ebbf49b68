#pragma once
// AtomicFile: writes a file through a temporary file in the same directory, fsyncs it and renames
// it over the target, so readers see either the old file whole or the new one whole. A file
// dropped without commit() is removed.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace eigrad::io::detail {

// Runs before a write with the bytes written so far and the size of the next chunk.
using WriteHook = std::function<void(uint64_t offset, size_t size)>;

class AtomicFile {
 public:
  // `op` names the caller in error messages. `before_write` (may be empty) runs before every
  // write with the bytes written so far and the size of the next chunk; throwing from it
  // simulates a failing disk.
  AtomicFile(const char* op, std::string path, WriteHook before_write = {});
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void commit();  // fsync, close, rename over the target, fsync the directory

 private:
  [[noreturn]] void fail(const std::string& what, int err);
  void discard() noexcept;

  const char* op_;
  std::string path_;
  std::string temp_;
  WriteHook before_write_;
  int fd_ = -1;
  uint64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace eigrad::io::detail
