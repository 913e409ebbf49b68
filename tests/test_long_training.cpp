// Long training: 10,000 full-batch SGD steps of the README's spiral network keep resident memory
// flat, because every step's graph is freed when its loss goes away. A few seconds in Release;
// tagged [long] so that sanitizer runs, where it takes minutes, can leave it out ("~[long]").
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/eigrad.hpp"

using eigrad::Generator;
using eigrad::Tensor;
namespace nn = eigrad::nn;
namespace optim = eigrad::optim;

namespace {

// Resident set size in MB, from /proc/self/statm (its second field, in pages).
double resident_mb() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  const int read = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return read == 2 ? static_cast<double>(resident) * ::sysconf(_SC_PAGESIZE) / (1 << 20) : 0;
}

// Restores the kernels' thread count when the test ends.
struct ThreadsGuard {
  int previous = eigrad::num_threads();
  ~ThreadsGuard() { eigrad::set_num_threads(previous); }
};

}  // namespace

TEST_CASE("10,000 training steps of the spiral network keep resident memory flat", "[long]") {
  if (resident_mb() == 0) {
    WARN("no /proc/self/statm here: resident memory cannot be measured");
    return;
  }
  ThreadsGuard threads;
  eigrad::set_num_threads(1);  // 300 points: one thread is fastest
  const eigrad::data::Dataset spiral = eigrad::data::make_spiral(3, 100, 1);
  Generator gen(1);
  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(2, 64, gen), std::make_shared<nn::PReLU>(64),
      std::make_shared<nn::Linear>(64, 64, gen), std::make_shared<nn::PReLU>(64),
      std::make_shared<nn::Linear>(64, 3, gen));
  optim::SGD optimizer(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));

  std::weak_ptr<eigrad::detail::Node<float>> first_graph;
  double first_loss = 0, last_loss = 0, resident_at_1000 = 0;
  for (int step = 1; step <= 10000; ++step) {
    optimizer.zero_grad();
    const Tensor loss = nn::cross_entropy(model->forward(spiral.X), spiral.y);
    loss.backward();
    optimizer.step();
    if (step == 1) {
      first_loss = loss.item();
      first_graph = loss.grad_fn();
    }
    if (step == 1000) resident_at_1000 = resident_mb();
    last_loss = loss.item();
  }
  const double resident_at_10000 = resident_mb();
  INFO("resident memory: " << resident_at_1000 << " MB after 1,000 steps, " << resident_at_10000
                           << " MB after 10,000; loss " << first_loss << " -> " << last_loss);
  CHECK(first_graph.expired());  // the first step's graph died with its loss
  CHECK(resident_at_10000 - resident_at_1000 < 20);
  CHECK(last_loss < 0.1 * first_loss);  // and it did learn
}
