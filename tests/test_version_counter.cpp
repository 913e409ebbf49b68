// Version counters: an in-place change to a value an op saved makes backward throw.
#include <catch2/catch.hpp>
#include <utility>

#include "eigrad/eigrad.hpp"

using namespace eigrad;
using Catch::Matchers::Contains;

TEST_CASE("writes through the mutable accessors advance the version, reads do not", "[version]") {
  auto t = Tensor::zeros({2, 2});
  CHECK(t.version() == 0);
  t.array() += 1;
  CHECK(t.version() == 1);
  t.data()[0] = 3;
  t.at({1, 1}) = 4;
  CHECK(t.version() == 3);
  const Tensor& c = t;
  (void)c.array().sum();
  (void)c.at({0, 0});
  (void)std::as_const(t).data();
  CHECK(t.version() == 3);
  // reshape and detach share the storage and its counter
  auto r = reshape(t, {4});
  auto d = t.detach();
  d.array() *= 2;
  CHECK(t.version() == 4);
  CHECK(r.version() == 4);
  // clone does not
  auto k = t.clone();
  k.array() *= 2;
  CHECK(t.version() == 4);
}

TEST_CASE("changing a leaf in place after an op saved it makes backward throw", "[version]") {
  // The case: d(x*x)/dx at x = 2 is 4; after x became 100 the old code gave 200.
  auto x = Tensor::from({2}, {1}, true);
  auto y = x * x;
  x.array() = 100;
  CHECK_THROWS_WITH(y.backward(), Contains("backward of 'mul'") && Contains("input 0") &&
                                      Contains("modified in place") && Contains("version 1") &&
                                      Contains("saved version 0"));
  CHECK(!x.grad().defined());
}

TEST_CASE("changing a value through a view or a detached tensor is caught as well", "[version]") {
  auto x = Tensor::from({1, 2, 3, 4}, {2, 2}, true);
  auto w = Tensor::from({1, 0, 0, 1}, {2, 2}, true);
  auto y = matmul(x, w);
  reshape(w.detach(), {4}).array()(0) = 5;
  CHECK_THROWS_WITH(sum(y).backward(), Contains("'matmul'") && Contains("input 1"));
}

TEST_CASE("a saved output changed in place makes backward throw, naming the output", "[version]") {
  auto x = Tensor::from({0, 1}, {2}, true);
  auto y = exp(x);
  auto z = y * 2.0f;
  y.array() += 1;
  CHECK_THROWS_WITH(sum(z).backward(), Contains("backward of 'exp'") && Contains("its output"));
  auto s = sigmoid(x);  // sigmoid saves its output, too
  auto loss = sum(s);
  s.data()[0] = 0;
  CHECK_THROWS_WITH(loss.backward(), Contains("'sigmoid'") && Contains("its output"));
}

TEST_CASE("an op that saves nothing allows in-place changes and its gradient stays right",
          "[version]") {
  auto a = Tensor::from({1, 2}, {2}, true);
  auto b = Tensor::from({3, 4}, {2}, true);
  auto y = (a + b) * 3.0f;  // add and the scaling read no input values
  a.array() = 50;
  sum(y).backward();
  CHECK(a.grad().to_vector() == std::vector<float>{3, 3});
  CHECK(b.grad().to_vector() == std::vector<float>{3, 3});
}

TEST_CASE("optimizer steps and loading a checkpoint advance the parameters' versions",
          "[version]") {
  auto w = Tensor::from({1, 2}, {2}, true);
  optim::SGD sgd({w}, optim::SGDOptions(0.1));
  auto y = w * w;
  sum(y).backward(Tensor(), true);
  const uint64_t before = w.version();
  sgd.step();
  CHECK(w.version() > before);
  CHECK_THROWS_WITH(sum(y).backward(), Contains("'mul'") && Contains("modified in place"));

  // The gradient a backward accumulates into is changed in place as well.
  auto v = Tensor::from({1}, {1}, true);
  (v * 2.0f).backward();
  const auto g = v.grad();
  const uint64_t g_before = g.version();
  (v * 2.0f).backward();
  CHECK(g.version() == g_before + 1);
  CHECK(g.item() == 4);
}

TEST_CASE("a tensor made by from_storage has its own version counter", "[version]") {
  auto t = Tensor::zeros({3});
  auto u = Tensor::from_storage(t.storage(), {3});
  u.array() += 1;
  CHECK(u.version() == 1);
  CHECK(t.version() == 0);  // as with torch::from_blob: documented, not shared
  CHECK(t.to_vector() == std::vector<float>{1, 1, 1});
}
