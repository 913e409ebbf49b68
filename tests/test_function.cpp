// eigrad::Function: user-defined differentiable functions with a context.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <utility>

#include "autograd/graph.hpp"
#include "eigrad/eigrad.hpp"
#include "support.hpp"

using namespace eigrad;
using Catch::Matchers::Contains;

namespace {

// y = x^3, saving the input.
struct Cube : Function<Cube> {
  static constexpr const char* name = "cube";
  template <class T>
  static BasicTensor<T> forward(AutogradContext<T>& ctx, const BasicTensor<T>& x) {
    ctx.save_for_backward({x});
    return x * x * x;
  }
  template <class T>
  static std::vector<BasicTensor<T>> backward(AutogradContext<T>& ctx,
                                              const std::vector<BasicTensor<T>>& grads) {
    const BasicTensor<T> x = ctx.get_saved_variables()[0];
    return {grads[0] * 3.0 * x * x};
  }
};

// y = exp(x), saving the output (the pattern that leaked through record() before).
struct MyExp : Function<MyExp> {
  static constexpr const char* name = "my_exp";
  static DoubleTensor forward(AutogradContext<double>& ctx, const DoubleTensor& x) {
    DoubleTensor y = exp(x);
    ctx.save_for_backward({y});
    return y;
  }
  static std::vector<DoubleTensor> backward(AutogradContext<double>& ctx,
                                            const std::vector<DoubleTensor>& grads) {
    return {grads[0] * ctx.get_saved_variables()[0]};
  }
};

// Two outputs, sin x and cos x.
struct SinCos : Function<SinCos> {
  static constexpr const char* name = "sin_cos";
  static std::vector<DoubleTensor> forward(AutogradContext<double>& ctx, const DoubleTensor& x) {
    ctx.save_for_backward({x});
    DoubleTensor s = DoubleTensor::empty(x.shape()), c = DoubleTensor::empty(x.shape());
    s.mutable_array() = x.array().sin();
    c.mutable_array() = x.array().cos();
    return {s, c};
  }
  static std::vector<DoubleTensor> backward(AutogradContext<double>& ctx,
                                            const std::vector<DoubleTensor>& grads) {
    const DoubleTensor x = ctx.get_saved_variables()[0];
    DoubleTensor g = DoubleTensor::empty(x.shape());
    g.mutable_array() = grads[0].array() * x.array().cos() - grads[1].array() * x.array().sin();
    return {g};
  }
};

// scale * a * b with a non-tensor argument in the middle; the gradient list is one per argument.
struct ScaledProduct : Function<ScaledProduct> {
  static DoubleTensor forward(AutogradContext<double>& ctx, const DoubleTensor& a, double scale,
                              const DoubleTensor& b) {
    ctx.save_for_backward({a, b});
    ctx.saved_data["scale"] = scale;
    return a * b * scale;
  }
  static std::vector<DoubleTensor> backward(AutogradContext<double>& ctx,
                                            const std::vector<DoubleTensor>& grads) {
    const auto saved = ctx.get_saved_variables();
    const double scale = std::get<double>(ctx.saved_data.at("scale"));
    return {ctx.needs_input_grad(0) ? grads[0] * saved[1] * scale : DoubleTensor(), DoubleTensor(),
            ctx.needs_input_grad(1) ? grads[0] * saved[0] * scale : DoubleTensor()};
  }
};

// Misbehaving backwards, chosen by a flag in saved_data.
struct Broken : Function<Broken> {
  static constexpr const char* name = "broken";
  static DoubleTensor forward(AutogradContext<double>& ctx, const DoubleTensor& x,
                              const DoubleTensor& y, int64_t mode) {
    ctx.saved_data["mode"] = mode;
    return x + y;
  }
  static std::vector<DoubleTensor> backward(AutogradContext<double>& ctx,
                                            const std::vector<DoubleTensor>& grads) {
    switch (std::get<int64_t>(ctx.saved_data.at("mode"))) {
      case 0:
        return {grads[0]};  // one of two
      case 1:
        return {grads[0], DoubleTensor::ones({7})};  // wrong shape
      case 2:
        return {grads[0], grads[0], grads[0], grads[0]};  // too many
      default:
        return {grads[0], grads[0], DoubleTensor::ones({1})};  // a non-tensor's
    }
  }
};

struct SavesUndefined : Function<SavesUndefined> {
  static constexpr const char* name = "saves_undefined";
  static DoubleTensor forward(AutogradContext<double>& ctx, const DoubleTensor& x) {
    ctx.save_for_backward({x, DoubleTensor()});
    return x;
  }
  static std::vector<DoubleTensor> backward(AutogradContext<double>&,
                                            const std::vector<DoubleTensor>& g) {
    return g;
  }
};

struct SqrtFn : Function<SqrtFn> {
  static constexpr const char* name = "my_sqrt";
  static DoubleTensor forward(AutogradContext<double>&, const DoubleTensor& x) { return sqrt(x); }
  static std::vector<DoubleTensor> backward(AutogradContext<double>&,
                                            const std::vector<DoubleTensor>& g) {
    return g;
  }
};

struct BadGrad : Function<BadGrad> {
  static constexpr const char* name = "bad_grad";
  static DoubleTensor forward(AutogradContext<double>&, const DoubleTensor& x) { return x * 2.0; }
  static std::vector<DoubleTensor> backward(AutogradContext<double>&,
                                            const std::vector<DoubleTensor>& g) {
    return {g[0] / 0.0};
  }
};

}  // namespace

TEST_CASE("a Function computes its forward and the gradient its backward returns", "[function]") {
  auto x = DoubleTensor::from({-2, 0.5, 3}, {3}, true);
  auto y = Cube::apply(x);
  CHECK(y.to_vector() == std::vector<double>{-8, 0.125, 27});
  REQUIRE(y.grad_fn());
  CHECK(y.grad_fn_name() == "cube");
  y.backward(DoubleTensor::from({1, 2, 3}, {3}));
  CHECK(x.grad().to_vector() == std::vector<double>{12, 1.5, 81});  // g * 3 x^2
}

TEST_CASE("a Function passes gradcheck in float64 and works in float32", "[function]") {
  Generator gen(5);
  const auto x = DoubleTensor::uniform({2, 3}, -2, 2, gen).set_requires_grad();
  const auto report =
      gradcheck([](const std::vector<DoubleTensor>& in) { return Cube::apply(in[0]); }, {x});
  CHECK(report.passed);
  CHECK(report.checked == 36);

  auto xf = Tensor::from({1.5f, -1}, {2}, true);
  sum(Cube::apply(xf)).backward();
  CHECK(xf.grad().to_vector() == std::vector<float>{6.75f, 3});
}

TEST_CASE("a Function with a non-tensor argument takes one gradient per argument", "[function]") {
  auto a = DoubleTensor::from({1, 2}, {2}, true);
  auto b = DoubleTensor::from({3, -4}, {2}, true);
  auto y = ScaledProduct::apply(a, 0.5, b);
  CHECK(y.to_vector() == std::vector<double>{1.5, -4});
  sum(y).backward();
  CHECK(a.grad().to_vector() == std::vector<double>{1.5, -2});  // 0.5 b
  CHECK(b.grad().to_vector() == std::vector<double>{0.5, 1});   // 0.5 a
  const auto report = gradcheck(
      [](const std::vector<DoubleTensor>& in) { return ScaledProduct::apply(in[0], 2.0, in[1]); },
      {a.detach().set_requires_grad(), b.detach()});
  CHECK(report.passed);
}

TEST_CASE("a Function with two outputs gets both gradients, zeros for an unused one",
          "[function]") {
  auto x = DoubleTensor::from({0.3, -1.2}, {2}, true);
  auto outs = SinCos::apply(x);
  REQUIRE(outs.size() == 2);
  CHECK(outs[0].at({1}) == Approx(std::sin(-1.2)));
  CHECK(outs[1].at({0}) == Approx(std::cos(0.3)));
  sum(outs[0] * 2.0 + outs[1] * 3.0).backward();
  for (int i = 0; i < 2; ++i) {
    const double v = x.to_vector()[i];
    CHECK(x.grad().to_vector()[i] == Approx(2 * std::cos(v) - 3 * std::sin(v)));
  }
  x.zero_grad();
  sum(SinCos::apply(x)[1]).backward();  // sin x is not used: its gradient is zero
  CHECK(x.grad().to_vector()[0] == Approx(-std::sin(0.3)));
  const auto report = gradcheck(
      [](const std::vector<DoubleTensor>& in) {
        auto o = SinCos::apply(in[0]);
        return o[0] * o[1] + o[1];
      },
      {DoubleTensor::from({0.3, -1.2, 2.5}, {3}, true)});
  CHECK(report.passed);
}

TEST_CASE("a Function that saves its output keeps no graph alive", "[function]") {
  auto x = DoubleTensor::from({1, 2}, {2}, true);
  std::weak_ptr<eigrad::detail::Node<double>> node;
  {
    auto y = MyExp::apply(x);
    node = y.grad_fn();
    REQUIRE(!node.expired());
  }
  CHECK(node.expired());  // no cycle between the output, its node and the saved tensor
  // The same with a backward in between, and with an input saved.
  {
    auto y = Cube::apply(x);
    node = y.grad_fn();
    sum(y).backward(DoubleTensor(), true);
  }
  CHECK(node.expired());
  x.zero_grad();
  auto y = MyExp::apply(x);
  sum(y).backward();
  CHECK(x.grad().to_vector()[1] == Approx(std::exp(2.0)));
}

TEST_CASE("a Function records nothing under NoGradGuard or without inputs that need grad",
          "[function]") {
  auto x = DoubleTensor::from({1, 2}, {2}, true);
  {
    NoGradGuard no_grad;
    auto y = Cube::apply(x);
    CHECK(!y.requires_grad());
    CHECK(!y.grad_fn());
    CHECK(y.to_vector() == std::vector<double>{1, 8});
  }
  auto z = Cube::apply(DoubleTensor::from({2}, {1}));
  CHECK(!z.requires_grad());
}

TEST_CASE("a Function that returns an input unchanged leaves the input a leaf", "[function]") {
  struct Identity : Function<Identity> {
    static DoubleTensor forward(AutogradContext<double>&, const DoubleTensor& x) { return x; }
    static std::vector<DoubleTensor> backward(AutogradContext<double>&,
                                              const std::vector<DoubleTensor>& g) {
      return {g[0] * 2.0};
    }
  };
  auto x = DoubleTensor::from({1, 2}, {2}, true);
  auto y = Identity::apply(x);
  CHECK(x.is_leaf());
  CHECK(!y.is_leaf());
  sum(y).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{2, 2});
}

TEST_CASE("a Function's backward runs twice with retain_graph and refuses without it",
          "[function]") {
  auto x = DoubleTensor::from({2}, {1}, true);
  auto y = Cube::apply(x);
  y.backward(DoubleTensor(), true);
  y.backward();
  CHECK(x.grad().item() == 24);  // 12, twice
  CHECK_THROWS_WITH(y.backward(), Contains("cube") && Contains("a second time"));
}

TEST_CASE("a Function's saved tensor changed in place makes backward throw", "[function]") {
  auto x = DoubleTensor::from({2}, {1}, true);
  auto y = Cube::apply(x);
  x.mutable_array() += 1;
  CHECK_THROWS_WITH(y.backward(),
                    Contains("cube") && Contains("input 0") && Contains("modified in place"));
  auto e = MyExp::apply(x);
  e.mutable_array() *= 2;
  CHECK_THROWS_WITH(sum(e).backward(), Contains("my_exp") && Contains("output 0"));
}

TEST_CASE("a Function's misuse is an Error naming the function", "[function][errors]") {
  auto x = DoubleTensor::from({1, 2}, {2}, true);
  auto y = DoubleTensor::from({3, 4}, {2}, true);
  CHECK_THROWS_WITH(
      sum(Broken::apply(x, y, int64_t(0))).backward(),
      Contains("broken") && Contains("returned 1 gradient") && Contains("2 tensor input"));
  CHECK_THROWS_WITH(
      sum(Broken::apply(x, y, int64_t(1))).backward(),
      Contains("broken") && Contains("shape [7]") && Contains("input 1") && Contains("[2]"));
  CHECK_THROWS_WITH(sum(Broken::apply(x, y, int64_t(2))).backward(),
                    Contains("returned 4 gradient"));
  CHECK_THROWS_WITH(sum(Broken::apply(x, y, int64_t(3))).backward(),
                    Contains("argument 2") && Contains("not a tensor"));
  CHECK(!x.grad().defined());  // nothing half-accumulated

  CHECK_THROWS_WITH(SavesUndefined::apply(x),
                    Contains("saves_undefined") && Contains("tensor 1") && Contains("undefined"));

  struct ReturnsUndefined : Function<ReturnsUndefined> {
    static DoubleTensor forward(AutogradContext<double>& ctx, const DoubleTensor&) {
      CHECK_THROWS_WITH(ctx.needs_input_grad(3),
                        Contains("needs_input_grad(3)") && Contains("1 tensor input"));
      return DoubleTensor();
    }
    static std::vector<DoubleTensor> backward(AutogradContext<double>&,
                                              const std::vector<DoubleTensor>& g) {
      return g;
    }
  };
  // Without a name, messages use the type's name.
  CHECK_THROWS_WITH(ReturnsUndefined::apply(x),
                    Contains("ReturnsUndefined") && Contains("undefined tensor as output 0"));
}

TEST_CASE("anomaly mode names the Function whose forward or backward made a NaN",
          "[function][anomaly]") {
  DetectAnomalyGuard anomaly;
  auto x = DoubleTensor::from({-1}, {1}, true);
  CHECK_THROWS_WITH(SqrtFn::apply(x), Contains("forward of Function 'my_sqrt'") && Contains("nan"));
  CHECK_THROWS_WITH(sum(BadGrad::apply(x)).backward(),
                    Contains("backward of 'bad_grad'") && Contains("inf"));
}

// Saves its output before filling it: legal, since versions are taken when forward returns.
struct FillAfterSave : Function<FillAfterSave> {
  static constexpr const char* name = "fill_after_save";
  static DoubleTensor forward(AutogradContext<double>& ctx, const DoubleTensor& x) {
    DoubleTensor y = DoubleTensor::empty(x.shape());
    ctx.save_for_backward({y});
    y.mutable_array() = 2.0 * x.array();  // y = 2 x
    return y;
  }
  static std::vector<DoubleTensor> backward(AutogradContext<double>& ctx,
                                            const std::vector<DoubleTensor>& g) {
    const DoubleTensor y = ctx.get_saved_variables()[0];
    return {g[0] * y};  // not y's true derivative: the test checks that y arrives filled
  }
};

TEST_CASE("a Function may save its output before filling it in forward", "[function]") {
  auto x = DoubleTensor::from({1.5, -2}, {2}, true);
  DoubleTensor y = FillAfterSave::apply(x);
  CHECK(y.at({0}) == 3.0);
  sum(y).backward();
  CHECK(x.grad().at({0}) == 3.0);  // g * y with g = 1
  CHECK(x.grad().at({1}) == -4.0);
  // A change after forward returned is still caught.
  DoubleTensor z = FillAfterSave::apply(x);
  z.mutable_array() += 1.0;
  CHECK_THROWS_WITH(sum(z).backward(),
                    Contains("fill_after_save") && Contains("modified in place"));
}
