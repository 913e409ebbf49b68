#include "eigrad/parallel.hpp"

#include <atomic>
#include <string>
#include <thread>

#include "eigrad/error.hpp"

namespace eigrad {

namespace {
int default_threads() {
  Eigen::setNbThreads(1);  // see set_num_threads
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
  // Eigen's own threading of matrix products stays off: measured with bench_compare on 2 cores,
  // it made the spiral step slower (0.68x) and the Fashion-MNIST step no faster (1.02x).
  Eigen::setNbThreads(1);
}

}  // namespace eigrad
