// Version counters: an in-place change to a value an op saved makes backward throw.
#include <catch2/catch.hpp>
#include <vector>

#include "eigrad/eigrad.hpp"

using namespace eigrad;
using Catch::Matchers::Contains;

TEST_CASE("writes through the mutable accessors advance the version, reads do not", "[version]") {
  auto t = Tensor::zeros({2, 2});
  CHECK(t.version() == 0);
  t.mutable_array() += 1;
  CHECK(t.version() == 1);
  t.mutable_data()[0] = 3;
  t.mutable_at({1, 1}) = 4;
  CHECK(t.version() == 3);
  CHECK(t.to_vector() == std::vector<float>{3, 1, 1, 4});
  // Reads, through a non-const handle as much as through a const one.
  CHECK(t.array().sum() == 9);
  CHECK(t.at({0, 0}) == 3);
  CHECK(t.data()[3] == 4);
  const Tensor& c = t;
  CHECK(c.array().sum() == 9);
  CHECK(c.at({1, 1}) == 4);
  CHECK(t.version() == 3);
  // An index out of range is an error, not a write.
  CHECK_THROWS_AS(t.mutable_at({2, 0}), Error);
  CHECK(t.version() == 3);
  // reshape and detach share the storage and its counter
  auto r = reshape(t, {4});
  auto d = t.detach();
  d.mutable_array() *= 2;
  CHECK(t.version() == 4);
  CHECK(r.version() == 4);
  // clone does not
  auto k = t.clone();
  k.mutable_array() *= 2;
  CHECK(t.version() == 4);
}

TEST_CASE("changing a leaf in place after an op saved it makes backward throw", "[version]") {
  // The case: d(x*x)/dx at x = 2 is 4; after x became 100 the old code gave 200.
  auto x = Tensor::from({2}, {1}, true);
  auto y = x * x;
  x.mutable_array() = 100;
  CHECK_THROWS_WITH(y.backward(), Contains("backward of 'mul'") && Contains("input 0") &&
                                      Contains("modified in place") && Contains("version 1") &&
                                      Contains("saved version 0"));
  CHECK(!x.grad().defined());
}

TEST_CASE("changing a value through a view or a detached tensor is caught as well", "[version]") {
  auto x = Tensor::from({1, 2, 3, 4}, {2, 2}, true);
  auto w = Tensor::from({1, 0, 0, 1}, {2, 2}, true);
  auto y = matmul(x, w);
  reshape(w.detach(), {4}).mutable_array()(0) = 5;
  CHECK_THROWS_WITH(sum(y).backward(), Contains("'matmul'") && Contains("input 1"));
}

TEST_CASE("a saved output changed in place makes backward throw, naming the output", "[version]") {
  auto x = Tensor::from({0, 1}, {2}, true);
  auto y = exp(x);
  auto z = y * 2.0f;
  y.mutable_array() += 1;
  CHECK_THROWS_WITH(sum(z).backward(), Contains("backward of 'exp'") && Contains("its output"));
  auto s = sigmoid(x);  // sigmoid saves its output, too
  auto loss = sum(s);
  s.mutable_data()[0] = 0;
  CHECK_THROWS_WITH(loss.backward(), Contains("'sigmoid'") && Contains("its output"));
}

TEST_CASE("an op that saves nothing allows in-place changes and its gradient stays right",
          "[version]") {
  auto a = Tensor::from({1, 2}, {2}, true);
  auto b = Tensor::from({3, 4}, {2}, true);
  auto y = (a + b) * 3.0f;  // add and the scaling read no input values
  a.mutable_array() = 50;
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
  u.mutable_array() += 1;
  CHECK(u.version() == 1);
  CHECK(t.version() == 0);  // as with torch::from_blob: documented, not shared
  CHECK(t.to_vector() == std::vector<float>{1, 1, 1});
}

TEST_CASE("reading a parameter through a non-const handle between forward and backward is no write",
          "[version]") {
  auto p = Tensor::from({3, -1}, {2}, true);
  auto loss = sum(p * p);
  const uint64_t before = p.version();
  // What a user prints while debugging; p is not const.
  CHECK(p.data()[0] == 3);
  CHECK(p.array().sum() == 2);
  CHECK(p.at({1}) == -1);
  CHECK(p.version() == before);
  loss.backward();
  CHECK(p.grad().to_vector() == std::vector<float>{6, -2});  // d(p^2)/dp = 2p
}

namespace {
// One write through each mutable accessor, to any element of a tensor of rank 1 or 2.
struct Write {
  const char* accessor;
  void (*write)(Tensor& t);
};
const Write kWrites[] = {
    {"mutable_data", [](Tensor& t) { t.mutable_data()[0] = 7; }},
    {"mutable_array", [](Tensor& t) { t.mutable_array() += 1; }},
    {"mutable_at",
     [](Tensor& t) {
       if (t.rank() == 1)
         t.mutable_at({1}) = 7;
       else
         t.mutable_at({0, 1}) = 7;
     }},
};
// The tensor itself and the two aliases that share its storage and version counter.
struct Alias {
  const char* name;
  Tensor (*of)(const Tensor& t);
};
const Alias kAliases[] = {
    {"the tensor", [](const Tensor& t) { return t; }},
    {"reshape",
     [](const Tensor& t) {
       return reshape(t, {1, 2});
     }},
    {"detach", [](const Tensor& t) { return t.detach(); }},
};
}  // namespace

TEST_CASE(
    "writing a saved input of mul through a mutable accessor or an alias makes backward throw",
    "[version]") {
  for (const Write& w : kWrites)
    for (const Alias& a : kAliases) {
      INFO(w.accessor << " through " << a.name);
      auto x = Tensor::from({1, 2}, {2}, true);
      auto b = Tensor::from({3, 4}, {2}, true);
      auto y = x * b;
      Tensor target = a.of(x);
      w.write(target);
      CHECK(x.version() == 1);
      CHECK_THROWS_WITH(sum(y).backward(), Contains("backward of 'mul'") && Contains("input 0") &&
                                               Contains("modified in place"));
    }
}

TEST_CASE("writing exp's saved output through a mutable accessor or an alias makes backward throw",
          "[version]") {
  for (const Write& w : kWrites)
    for (const Alias& a : kAliases) {
      INFO(w.accessor << " through " << a.name);
      auto x = Tensor::from({0, 1}, {2}, true);
      auto y = exp(x);
      auto loss = sum(y * 2.0f);  // the scaling saves nothing: only exp reads y
      Tensor target = a.of(y);
      w.write(target);
      CHECK_THROWS_WITH(loss.backward(), Contains("backward of 'exp'") && Contains("its output") &&
                                             Contains("modified in place"));
    }
}

namespace {
// f(u, x) = u * x, saving both; its backward reads the saved x through a non-const handle.
struct TimesSaved : Function<TimesSaved> {
  static constexpr const char* name = "times_saved";
  static Tensor forward(AutogradContext<float>& ctx, const Tensor& u, const Tensor& x) {
    ctx.save_for_backward({u, x});
    return u * x;
  }
  static std::vector<Tensor> backward(AutogradContext<float>& ctx,
                                      const std::vector<Tensor>& grads) {
    auto saved = ctx.get_saved_variables();
    Tensor u = saved[0], x = saved[1];
    Tensor du = Tensor::empty(x.shape()), dx = Tensor::empty(x.shape());
    du.mutable_array() = grads[0].array() * x.array();
    dx.mutable_array() = grads[0].array() * u.array();
    return {du, dx};
  }
};
}  // namespace

TEST_CASE("a Function's backward reading a saved leaf leaves the leaf usable by later backwards",
          "[version]") {
  // loss = sum(f(x * w, x)) = sum(w x^2). Backward runs f's node before mul's, and mul saved x:
  // had f's read of x counted as a write, mul's backward would throw.
  auto x = Tensor::from({2, -3}, {2}, true);
  auto w = Tensor::from({0.5f, 4}, {2}, true);
  auto loss = sum(TimesSaved::apply(x * w, x));
  loss.backward();
  CHECK(x.version() == 0);
  CHECK(x.grad().to_vector() == std::vector<float>{2, -24});  // 2 w x
  CHECK(w.grad().to_vector() == std::vector<float>{4, 9});    // x^2
}
