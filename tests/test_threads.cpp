// Independent graphs in separate threads give the same results as one after the other.
#include <catch2/catch.hpp>
#include <thread>

#include "eigrad/eigrad.hpp"

using eigrad::DoubleTensor;
using eigrad::Generator;

namespace {
// A small two-layer computation; returns the input's gradient.
std::vector<double> run_graph(uint64_t seed) {
  Generator g(seed);
  DoubleTensor x = DoubleTensor::uniform({8, 4}, -1, 1, g).set_requires_grad();
  DoubleTensor w = DoubleTensor::uniform({4, 3}, -1, 1, g).set_requires_grad();
  DoubleTensor h = eigrad::exp(eigrad::matmul(x, w) * 0.5) - 1.0;
  DoubleTensor loss = eigrad::mean(h * h);
  for (int i = 0; i < 50; ++i) loss = loss + eigrad::mean(eigrad::abs(h)) * 0.01;
  loss.backward();
  std::vector<double> out = x.grad().to_vector();
  const std::vector<double> gw = w.grad().to_vector();
  out.insert(out.end(), gw.begin(), gw.end());
  return out;
}
}  // namespace

TEST_CASE("graphs built and differentiated in parallel threads match the sequential results",
          "[threads]") {
  constexpr int kThreads = 4;
  std::vector<std::vector<double>> sequential, parallel(kThreads);
  for (int i = 0; i < kThreads; ++i) sequential.push_back(run_graph(100 + i));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&parallel, i] {
      for (int rep = 0; rep < 20; ++rep) parallel[i] = run_graph(100 + i);
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) CHECK(parallel[i] == sequential[i]);
}

TEST_CASE("a NoGradGuard in one thread does not disable recording in another", "[threads]") {
  eigrad::NoGradGuard guard;
  bool recorded = false;
  std::thread t([&] {
    DoubleTensor x = DoubleTensor::scalar(1, true);
    recorded = (x * 2.0).requires_grad();
  });
  t.join();
  CHECK(recorded);
}
