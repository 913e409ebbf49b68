// Stress: graphs of unusual shape (deep diamonds, wide concatenations, retained graphs
// differentiated many times), errors in the middle of backward, graph lifetime, and threads
// sharing models, data and checkpoint files. The [threads] cases also run under
// ThreadSanitizer (scripts/tsan.sh).
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "eigrad/eigrad.hpp"
#ifdef EIGRAD_HAVE_IO
#include "eigrad/io/safetensors.hpp"
#endif

using Catch::Contains;
using eigrad::DoubleTensor;
using eigrad::Generator;
using eigrad::Tensor;
namespace nn = eigrad::nn;
namespace optim = eigrad::optim;

namespace {

std::shared_ptr<nn::Sequential> small_classifier(uint64_t seed, int64_t hidden = 16) {
  Generator gen(seed);
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(2, hidden, gen),
                                          std::make_shared<nn::PReLU>(hidden),
                                          std::make_shared<nn::Linear>(hidden, 3, gen));
}

std::vector<std::vector<float>> snapshot(const nn::Module& model) {
  std::vector<std::vector<float>> out;
  for (const Tensor& p : model.parameters()) out.push_back(p.to_vector());
  return out;
}

// `steps` full-batch SGD steps of a fresh classifier from `seed` on shared data; its parameters.
std::vector<std::vector<float>> train(uint64_t seed, const eigrad::data::Dataset& data, int steps) {
  auto model = small_classifier(seed);
  optim::SGD optimizer(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  for (int i = 0; i < steps; ++i) {
    optimizer.zero_grad();
    nn::cross_entropy(model->forward(data.X), data.y).backward();
    optimizer.step();
  }
  return snapshot(*model);
}

// Runs f(0), ..., f(count - 1) in threads that start together, so their work overlaps.
template <class F>
void in_threads(int count, F&& f) {
  std::atomic<int> waiting{count};
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i)
    threads.emplace_back([&f, &waiting, i] {
      waiting.fetch_sub(1);
      while (waiting.load(std::memory_order_relaxed) > 0) std::this_thread::yield();
      f(i);
    });
  for (std::thread& t : threads) t.join();
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
  std::weak_ptr<eigrad::Node<float>> middle;
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
  auto model = small_classifier(5);
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
  std::vector<std::vector<std::vector<float>>> sequential, parallel(4);
  for (int t = 0; t < 4; ++t) sequential.push_back(train(10 + t, data, 30));
  in_threads(4, [&](int t) { parallel[t] = train(10 + t, data, 30); });
  for (int t = 0; t < 4; ++t) CHECK(parallel[t] == sequential[t]);
}

#ifdef EIGRAD_HAVE_IO
TEST_CASE("checkpoints saved from several threads at once, even to one file, load whole",
          "[stress][threads][files]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("eigrad_stress_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<std::shared_ptr<nn::Sequential>> models;
  for (int t = 0; t < 4; ++t) models.push_back(small_classifier(20 + t));
  const std::string shared = (dir / "shared.safetensors").string();
  in_threads(4, [&](int t) {
    const std::string own = (dir / ("own" + std::to_string(t))).string();
    for (int i = 0; i < 10; ++i) {
      eigrad::io::save_safetensors(own, models[t]->named_parameters());
      eigrad::io::save_safetensors(shared, models[t]->named_parameters());
    }
  });
  for (int t = 0; t < 4; ++t) {
    auto copy = small_classifier(99);
    eigrad::io::load_into((dir / ("own" + std::to_string(t))).string(), copy->named_parameters());
    CHECK(snapshot(*copy) == snapshot(*models[t]));
  }
  // The last rename wins: the shared file is one whole checkpoint, not a mixture.
  auto copy = small_classifier(99);
  eigrad::io::load_into(shared, copy->named_parameters());
  int same = 0;
  for (int t = 0; t < 4; ++t) same += snapshot(*copy) == snapshot(*models[t]);
  CHECK(same == 1);
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 5);
  fs::remove_all(dir);
}
#endif
