#include "parallel_for.hpp"

#include <atomic>
#include <string>
#include <thread>

#include "eigrad/error.hpp"

namespace eigrad {

namespace {
int default_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}
std::atomic<int> thread_count{default_threads()};
}  // namespace

int num_threads() {
  return thread_count.load(std::memory_order_relaxed);
}

void set_num_threads(int threads) {
  if (threads < 1)
    throw Error("set_num_threads: expected at least 1 thread, got " + std::to_string(threads));
  thread_count.store(threads);
}

}  // namespace eigrad
