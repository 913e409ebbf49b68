// Kernels split across threads give the single-threaded results.
#include <algorithm>
#include <catch2/catch.hpp>

#include "eigrad/eigrad.hpp"
#include "parallel_for.hpp"
#include "support.hpp"

using eigrad::DoubleTensor;
using eigrad::Generator;

namespace {
struct ThreadCount {
  int previous = eigrad::num_threads();
  explicit ThreadCount(int n) { eigrad::set_num_threads(n); }
  ~ThreadCount() { eigrad::set_num_threads(previous); }
};

std::vector<double> compute(int threads) {
  ThreadCount tc(threads);
  Generator g(3);
  const int64_t n = 2 * eigrad::kParallelThreshold;  // above the parallel threshold
  DoubleTensor x = DoubleTensor::uniform({n / 64, 64}, -1, 1, g).set_requires_grad();
  DoubleTensor y = eigrad::exp(x) * x + 1.0;
  DoubleTensor s = eigrad::sum(y, 1);
  eigrad::sum(s * s).backward();
  std::vector<double> out = x.grad().to_vector();
  out.push_back(eigrad::sum(y).item());
  return out;
}
}  // namespace

TEST_CASE("elementwise kernels, reductions and backward agree across thread counts", "[parallel]") {
  const std::vector<double> one = compute(1), two = compute(2), three = compute(3);
  REQUIRE(one.size() == two.size());
  // Elementwise work is split, never reassociated: the gradients agree bit for bit.
  CHECK(std::equal(one.begin(), one.end() - 1, two.begin()));
  CHECK(std::equal(one.begin(), one.end() - 1, three.begin()));
  CHECK(two.back() == Approx(one.back()).epsilon(1e-12));  // partial sums reassociate
  CHECK(three.back() == Approx(one.back()).epsilon(1e-12));
}

TEST_CASE("set_num_threads rejects fewer than one thread", "[parallel]") {
  CHECK_THROWS_WITH(eigrad::set_num_threads(0), Catch::Contains("at least 1 thread"));
}

TEST_CASE("every activation gives the same values and gradients on one thread and on several",
          "[parallel]") {
  const int previous = eigrad::num_threads();
  for (const eigrad::ActivationInfo& info : eigrad::test::builtin_activations()) {
    std::vector<double> results[2];
    for (int t = 0; t < 2; ++t) {
      eigrad::set_num_threads(t == 0 ? 1 : 3);
      Generator g(11);
      // [N, C, L] with C = 8 so that per-channel PReLU splits its channels; 2^18 elements,
      // the parallel threshold.
      static_assert(64 * 8 * 512 == eigrad::kParallelThreshold);
      DoubleTensor x = DoubleTensor::uniform({64, 8, 512}, -4, 4, g).set_requires_grad();
      DoubleTensor slopes = DoubleTensor::uniform({8}, 0, 0.5, g).set_requires_grad();
      DoubleTensor y =
          info.kind == eigrad::ActivationKind::PerChannel ? info.apply(x, slopes) : info.apply(x);
      y.backward(DoubleTensor::full(y.shape(), 0.5));
      results[t] = y.to_vector();
      const std::vector<double> gx = x.grad().to_vector();
      results[t].insert(results[t].end(), gx.begin(), gx.end());
      if (slopes.grad().defined()) results[t].push_back(slopes.grad().to_vector()[3]);
    }
    INFO(info.name);
    CHECK(results[0] == results[1]);
  }
  eigrad::set_num_threads(previous);
}
