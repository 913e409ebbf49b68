#include "parallel_for.hpp"

#include <atomic>
#include <string>
#include <thread>

#include "eigrad/backends.hpp"
#include "eigrad/error.hpp"

namespace eigrad {

namespace {
int default_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}
std::atomic<int> thread_count{default_threads()};
std::atomic<bool> fast_paths_enabled{true};
}  // namespace

bool fast_paths() {
  return fast_paths_enabled.load(std::memory_order_relaxed);
}

void set_fast_paths(bool enabled) {
  fast_paths_enabled.store(enabled);
}

int num_threads() {
  return thread_count.load(std::memory_order_relaxed);
}

void set_num_threads(int threads) {
  if (threads < 1)
    throw Error("set_num_threads: expected at least 1 thread, got " + std::to_string(threads));
  thread_count.store(threads);
}

}  // namespace eigrad
