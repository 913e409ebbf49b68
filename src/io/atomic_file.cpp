#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "eigrad/error.hpp"

namespace eigrad::io::detail {

namespace {
std::atomic<uint64_t> temp_counter{0};
}

AtomicFile::AtomicFile(const char* op, std::string path, WriteHook before_write)
    : op_(op), path_(std::move(path)), before_write_(std::move(before_write)) {
  const std::filesystem::path target(path_);
  if (target.filename().empty())
    throw Error(std::string(op_) + ": '" + path_ + "' names a directory, not a file");
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw Error(std::string(op_) + ": cannot write '" + path_ + "': the directory '" +
                dir.string() + "' does not exist");
  // Same directory as the target, so the final rename stays within one file system.
  for (int attempt = 0; fd_ < 0; ++attempt) {
    temp_ = (dir / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                    std::to_string(temp_counter++)))
                .string();
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && (errno != EEXIST || attempt > 100))
      throw Error(std::string(op_) + ": cannot write '" + path_ + "': creating a file in '" +
                  dir.string() + "' failed: " + std::strerror(errno));
  }
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::discard() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
}

void AtomicFile::fail(const std::string& what, int err) {
  discard();
  throw Error(std::string(op_) + ": writing '" + path_ + "' failed: " + what +
              (err ? std::string(": ") + std::strerror(err) : std::string()) +
              " (the previous file, if any, is unchanged)");
}

void AtomicFile::write(const void* data, size_t size) {
  if (fd_ < 0) throw Error(std::string(op_) + ": '" + path_ + "' is already closed");
  if (before_write_) {
    try {
      before_write_(written_, size);
    } catch (...) {
      discard();
      throw;
    }
  }
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("write", n < 0 ? errno : EIO);
    p += n;
    size -= static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
}

void AtomicFile::commit() {
  if (fd_ < 0) throw Error(std::string(op_) + ": '" + path_ + "' is already closed");
  if (::fsync(fd_) != 0) fail("fsync", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("close", errno);
  if (::rename(temp_.c_str(), path_.c_str()) != 0) fail("rename to the final name", errno);
  committed_ = true;
  // Make the rename itself durable; some file systems refuse fsync on directories, which is fine.
  std::filesystem::path dir = std::filesystem::path(path_).parent_path();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace eigrad::io::detail
