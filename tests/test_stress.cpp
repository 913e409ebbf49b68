// Stress: graphs of unusual shape (deep diamonds, wide concatenations, retained graphs
// differentiated many times), errors in the middle of backward, graph lifetime, and threads
// sharing models and data. The [threads] cases also run under ThreadSanitizer (scripts/tsan.sh).
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/eigrad.hpp"
#include "support.hpp"

using Catch::Contains;
using eigrad::DoubleTensor;
using eigrad::Generator;
using eigrad::Tensor;
namespace nn = eigrad::nn;
namespace optim = eigrad::optim;
using eigrad::test::classifier;
using eigrad::test::in_threads;
using eigrad::test::snapshot;

namespace {

// `steps` full-batch SGD steps of a fresh classifier from `seed` on shared data; its parameters.
std::vector<std::vector<double>> train(uint64_t seed, const eigrad::data::Dataset& data,
                                       int steps) {
  auto model = classifier(seed, 16);
  optim::SGD optimizer(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  for (int i = 0; i < steps; ++i) {
    optimizer.zero_grad();
    nn::cross_entropy(model->forward(data.X), data.y).backward();
    optimizer.step();
  }
  return snapshot(*model);
}

}  // namespace

// ---------------------------------------------------------------- graphs

TEST_CASE("a hundred thousand diamonds in a row give exactly the right gradient", "[stress]") {
  // Every node is used twice: counting paths instead of edges would take 2^100000 steps.
  DoubleTensor x = DoubleTensor::scalar(3, true);
  DoubleTensor y = x;
  for (int i = 0; i < 100000; ++i) y = (y + y) * 0.5;
  CHECK(y.item() == 3);
  y.backward();
  CHECK(x.grad().item() == 1);
}

TEST_CASE("a retained graph differentiated ten times accumulates ten gradients", "[stress]") {
  DoubleTensor x = DoubleTensor::from({1, 2, 3}, {3}, true);
  DoubleTensor y = x * 3.0;
  for (int i = 0; i < 10000; ++i) y = y + 1.0;
  const DoubleTensor loss = eigrad::sum(y);
  for (int i = 0; i < 10; ++i) loss.backward({}, true);
  CHECK(x.grad().to_vector() == std::vector<double>{30, 30, 30});
  loss.backward();  // the last one releases the graph
  CHECK(x.grad().to_vector() == std::vector<double>{33, 33, 33});
  CHECK_THROWS_WITH(loss.backward(), Contains("a second time"));
}

TEST_CASE("ten thousand tensors concatenated get back exactly their own rows", "[stress]") {
  std::vector<DoubleTensor> parts;
  for (int i = 0; i < 10000; ++i) parts.push_back(DoubleTensor::full({1, 3}, i, true));
  const DoubleTensor all = eigrad::cat(parts, 0);
  REQUIRE(all.shape() == eigrad::Shape{10000, 3});
  // d sum(all * w) / d part_i = row i of w, with w[i, j] = i + j / 4.
  std::vector<double> w;
  for (int i = 0; i < 10000; ++i)
    for (int j = 0; j < 3; ++j) w.push_back(i + j / 4.0);
  eigrad::sum(all * DoubleTensor::from(w, {10000, 3})).backward();
  bool exact = true;
  for (int i = 0; i < 10000; ++i)
    exact &= parts[i].grad().to_vector() == std::vector<double>{i + 0.0, i + 0.25, i + 0.5};
  CHECK(exact);
}

TEST_CASE("an error in the middle of backward leaves no stale gradient behind", "[stress]") {
  DoubleTensor x = DoubleTensor::from({0, 4}, {2}, true);
  const DoubleTensor w = DoubleTensor::from({2, 3}, {2});
  const DoubleTensor a = x * w;  // [0, 12]
  {
    eigrad::DetectAnomalyGuard anomaly;
    // sqrt's backward at 0 is g / (2 sqrt(0)) = inf: detected while passing it on to a's node.
    const DoubleTensor r = eigrad::sum(eigrad::sqrt(a));
    CHECK_THROWS_WITH(r.backward(), Contains("sqrt"));
  }
  CHECK_FALSE(x.grad().defined());  // the failed pass never reached the leaf
  // A new pass through the same node of a: exactly w, with nothing left over from the failed one.
  eigrad::sum(a).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{2, 3});
}

TEST_CASE("a graph is freed as soon as the last tensor that holds it goes away", "[stress]") {
  Tensor x = Tensor::from({1.0f}, {1}, true);
  Tensor y = x;
  std::weak_ptr<eigrad::detail::Node<float>> middle;
  for (int i = 0; i < 100000; ++i) {
    y = y * 1.0f;
    if (i == 50000) middle = y.grad_fn();
  }
  y.backward(Tensor::ones({1}));
  CHECK_FALSE(middle.expired());  // released, but still reachable from y
  y = Tensor();
  CHECK(middle.expired());
  CHECK(x.grad().item() == 1.0f);
}

// ---------------------------------------------------------------- threads

TEST_CASE("a shared model evaluated from several threads at once matches one thread",
          "[stress][threads]") {
  const eigrad::data::Dataset data = eigrad::data::make_spiral(3, 50, 5);
  auto model = classifier(5, 16);
  std::vector<float> expected;
  {
    eigrad::NoGradGuard no_grad;
    expected = model->forward(data.X).to_vector();
  }
  std::vector<int> matches(4, 0);
  in_threads(4, [&](int t) {
    eigrad::NoGradGuard no_grad;  // inference: nothing is recorded on the shared parameters
    for (int i = 0; i < 20; ++i) matches[t] += model->forward(data.X).to_vector() == expected;
  });
  CHECK(matches == std::vector<int>(4, 20));
}

TEST_CASE("models trained in parallel threads on shared data end where sequential training ends",
          "[stress][threads]") {
  const eigrad::data::Dataset data = eigrad::data::make_spiral(3, 50, 6);
  std::vector<std::vector<std::vector<double>>> sequential, parallel(4);
  for (int t = 0; t < 4; ++t) sequential.push_back(train(10 + t, data, 30));
  in_threads(4, [&](int t) { parallel[t] = train(10 + t, data, 30); });
  for (int t = 0; t < 4; ++t) CHECK(parallel[t] == sequential[t]);
}
