// Second derivatives of matmul, linear, dropout and the losses: gradgradcheck in float64 against
// central differences, and Hessians in closed form derived by hand.
//
// The cases tagged [needs_activations] go through softmax, sigmoid or tanh, whose graph
// backwards come with the activations' second-order work: until it is merged they warn and stop
// (activations_twice_differentiable() below); run them alone with "[needs_activations]".
#include <catch2/catch.hpp>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "eigrad/nn/loss.hpp"
#include "ops/matmul_transposed.hpp"
#include "support.hpp"

using Catch::Contains;
using eigrad::DoubleTensor;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::nn::Reduction;
using eigrad::test::check_close;
using eigrad::test::random_leaf;
using eigrad::test::random_values;
using Ts = std::vector<DoubleTensor>;
using Labels = std::vector<int64_t>;
using V = std::vector<double>;
namespace nn = eigrad::nn;

namespace {
const Reduction kReductions[] = {Reduction::Mean, Reduction::Sum, Reduction::None};

// Works around gradgradcheck computing its central differences under gradcheck's NoGradGuard,
// where the gradient it differentiates cannot be taken (every numeric entry comes out 0, even
// for x^3): f turns grad mode back on, and the guard that turned it off restores it on exit.
template <class F>
F with_grad_mode(F f) {
  return [f](const auto& in) {
    eigrad::set_grad_enabled(true);
    return f(in);
  };
}

// The gradient of f at `inputs` along v from the graph backwards (create_graph) equals the one
// from the fused first-order kernels, which the first-order gradchecks cover: gradgradcheck
// alone would accept a graph backward that is consistently wrong.
void check_same_gradient(const eigrad::GradcheckFunction& f, const Ts& inputs, DoubleTensor v) {
  Ts leaves, wrt;
  for (const DoubleTensor& t : inputs) {
    leaves.push_back(t.detach().clone().set_requires_grad(t.requires_grad()));
    if (t.requires_grad()) wrt.push_back(leaves.back());
  }
  const DoubleTensor y = f(leaves);
  if (!v.defined()) v = random_values(y.shape(), 99);
  const Ts fused = eigrad::grad({y}, wrt, {v}, /*retain_graph=*/true, false, true);
  const Ts graph = eigrad::grad({y}, wrt, {v}, std::nullopt, /*create_graph=*/true, true);
  for (size_t i = 0; i < wrt.size(); ++i) {
    INFO("gradient " << i);
    REQUIRE(fused[i].defined() == graph[i].defined());
    if (!fused[i].defined()) continue;
    CHECK(graph[i].shape() == wrt[i].shape());
    check_close(graph[i].to_vector(), fused[i].to_vector(), 1e-12);
  }
}

// gradgradcheck of f at `inputs` (with grad_outputs v, when given) passes and compared some
// entries, and the gradient it differentiates is the fused kernels' gradient.
void check_second_order(const eigrad::GradcheckFunction& f, const Ts& inputs, const Ts& v = {}) {
  const eigrad::GradcheckReport r = eigrad::gradgradcheck(with_grad_mode(f), inputs, v);
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked > 0);
  check_same_gradient(f, inputs, v.empty() ? DoubleTensor() : v[0]);
}

// grad with create_graph, the gradients kept differentiable.
Ts grad_graph(const DoubleTensor& y, const Ts& inputs) {
  return eigrad::grad({y}, inputs, {}, std::nullopt, /*create_graph=*/true);
}

// Grad mode on for a scope: gradcheck evaluates its function under NoGradGuard, and a function
// that takes a gradient with create_graph inside needs it.
class GradEnabled {
 public:
  GradEnabled() : previous_(eigrad::is_grad_enabled()) { eigrad::set_grad_enabled(true); }
  ~GradEnabled() { eigrad::set_grad_enabled(previous_); }
  GradEnabled(const GradEnabled&) = delete;
  GradEnabled& operator=(const GradEnabled&) = delete;

 private:
  bool previous_;
};

// Whether softmax, sigmoid and tanh have graph backwards (the activations' branch).
bool activations_twice_differentiable() {
  const DoubleTensor x = DoubleTensor::from({0.5, -0.25, 1.0}, {1, 3}, true);
  const DoubleTensor w = DoubleTensor::from({1.0, 2.0, -1.0}, {1, 3});
  const DoubleTensor y = eigrad::sum(eigrad::softmax(x, 1) * w) +
                         eigrad::sum(eigrad::sigmoid(x) * w) + eigrad::sum(eigrad::tanh(x) * w);
  try {
    const DoubleTensor g = grad_graph(y, {x})[0];
    eigrad::grad({eigrad::sum(g * g)}, {x});
    return true;
  } catch (const eigrad::Error& e) {
    if (std::string(e.what()).find("cannot be differentiated") == std::string::npos) throw;
    return false;
  }
}

#define SKIP_WITHOUT_ACTIVATIONS()                                                    \
  if (!activations_twice_differentiable()) {                                          \
    WARN(                                                                             \
        "skipped: softmax, sigmoid or tanh has no graph backward yet (it comes with " \
        "the activations' second-order work)");                                       \
    return;                                                                           \
  }
}  // namespace

// ---------------------------------------------------------------- matmul

TEST_CASE("matmul is twice differentiable for 2-D operands of odd sizes",
          "[second_order][second_order_nn]") {
  auto mm = [](const Ts& in) { return eigrad::matmul(in[0], in[1]); };
  check_second_order(mm, {random_leaf({3, 5}, 1), random_leaf({5, 3}, 2)});
  check_second_order(mm, {random_leaf({1, 3}, 3), random_leaf({3, 1}, 4)});
  check_second_order(mm, {random_leaf({3, 1}, 5), random_leaf({1, 5}, 6)});
}

TEST_CASE("batched matmul is twice differentiable, a batch of one included",
          "[second_order][second_order_nn]") {
  auto mm = [](const Ts& in) { return eigrad::matmul(in[0], in[1]); };
  check_second_order(mm, {random_leaf({2, 3, 2}, 7), random_leaf({2, 2, 3}, 8)});
  check_second_order(mm, {random_leaf({1, 2, 3}, 9), random_leaf({1, 3, 1}, 10)});
}

TEST_CASE("matmul of a batch by one matrix is twice differentiable",
          "[second_order][second_order_nn]") {
  auto mm = [](const Ts& in) { return eigrad::matmul(in[0], in[1]); };
  check_second_order(mm, {random_leaf({2, 3, 2}, 11), random_leaf({2, 3}, 12)});
  check_second_order(mm, {random_leaf({1, 1, 3}, 13), random_leaf({3, 2}, 14)});
}

TEST_CASE("matmul's second derivatives hold when only one operand requires grad",
          "[second_order][second_order_nn]") {
  auto mm = [](const Ts& in) { return eigrad::matmul(in[0], in[1]); };
  const Shape shapes[][2] = {{{3, 2}, {2, 3}}, {{2, 3, 2}, {2, 2, 1}}, {{2, 1, 3}, {3, 2}}};
  uint64_t seed = 20;
  for (const auto& s : shapes) {
    check_second_order(mm, {random_leaf(s[0], seed), random_values(s[1], seed + 1)});
    check_second_order(mm, {random_values(s[0], seed + 2), random_leaf(s[1], seed + 3)});
    seed += 4;
  }
}

TEST_CASE("matmul's mixed second derivative is the bilinear form's constant, its pure one zero",
          "[second_order][second_order_nn]") {
  // f = sum(V (A B)): df/dA = V B^T, which depends on B only: d/dB sum(U (V B^T)) = U^T V.
  const DoubleTensor a = DoubleTensor::from({1, -2, 0.5, 3}, {2, 2}, true);
  const DoubleTensor b = DoubleTensor::from({2, 1, -1, 4}, {2, 2}, true);
  const DoubleTensor v = DoubleTensor::from({1, 2, 3, 4}, {2, 2});
  const DoubleTensor u = DoubleTensor::from({0, 1, 1, 0}, {2, 2});
  const DoubleTensor ga = grad_graph(eigrad::sum(eigrad::matmul(a, b) * v), {a})[0];
  // V B^T = [[1*2 + 2*1, 1*-1 + 2*4], [3*2 + 4*1, 3*-1 + 4*4]]
  CHECK(ga.to_vector() == V{4, 7, 10, 13});
  const Ts h = eigrad::grad({eigrad::sum(ga * u)}, {a, b}, {}, std::nullopt, false,
                            /*allow_unused=*/true);
  CHECK_FALSE(h[0].defined());  // V B^T does not depend on A
  // U^T V with U the swap of rows: V's rows swapped.
  CHECK(h[1].to_vector() == V{3, 4, 1, 2});
}

TEST_CASE("matmul is three times differentiable: its gradients are products again",
          "[second_order][second_order_nn]") {
  // The function is the gradient of sum((A B)^2) with respect to A, itself differentiated twice.
  auto first = [](const Ts& in) {
    const DoubleTensor p = eigrad::matmul(in[0], in[1]);
    return grad_graph(eigrad::sum(p * p), {in[0]})[0];
  };
  // v is given: without it gradgradcheck would run the function on inputs that do not require
  // grad to learn the output's shape, and the gradient inside could not be taken.
  check_second_order(first, {random_leaf({2, 3}, 30), random_leaf({3, 2}, 31)},
                     {random_values({2, 3}, 34)});
  check_second_order(first, {random_leaf({2, 2, 3}, 32), random_leaf({2, 3, 1}, 33)},
                     {random_values({2, 2, 3}, 35)});
}

TEST_CASE("matmul_transposed is twice differentiable for every pair of transpose flags",
          "[second_order][second_order_nn]") {
  for (const bool ta : {false, true})
    for (const bool tb : {false, true}) {
      INFO("transpose_a " << ta << ", transpose_b " << tb);
      auto mm = [ta, tb](const Ts& in) {
        return eigrad::detail::matmul_transposed(in[0], in[1], ta, tb);
      };
      // op(A) is [3, 2], op(B) [2, 4].
      const Shape a = ta ? Shape{2, 3} : Shape{3, 2}, b = tb ? Shape{4, 2} : Shape{2, 4};
      check_second_order(mm, {random_leaf(a, 40), random_leaf(b, 41)});
      const Shape ab = ta ? Shape{2, 2, 3} : Shape{2, 3, 2},
                  bb = tb ? Shape{2, 1, 2} : Shape{2, 2, 1};
      check_second_order(mm, {random_leaf(ab, 42), random_leaf(bb, 43)});
    }
}

TEST_CASE("matmul_transposed names the operands that do not fit",
          "[second_order][second_order_nn][errors]") {
  using eigrad::detail::matmul_transposed;
  CHECK_THROWS_WITH(
      matmul_transposed(DoubleTensor::zeros({2, 3}), DoubleTensor::zeros({2, 3}), false, false),
      Contains("cannot multiply [2, 3] by [2, 3]"));
  CHECK_THROWS_WITH(
      matmul_transposed(DoubleTensor::zeros({2, 3}), DoubleTensor::zeros({2, 2, 3}), true, false),
      Contains("transposed [2, 3] by [2, 2, 3]"));
  CHECK(matmul_transposed(DoubleTensor::ones({2, 3}), DoubleTensor::ones({4, 3}), false, true)
            .shape() == Shape{2, 4});
}

TEST_CASE("matmul's float32 second derivatives agree with float64",
          "[second_order][second_order_nn]") {
  const auto r = eigrad::gradgradcheck_float32(
      with_grad_mode<eigrad::GradcheckFunction32>(
          [](const std::vector<Tensor>& in) { return eigrad::matmul(in[0], in[1]); }),
      with_grad_mode<eigrad::GradcheckFunction>(
          [](const Ts& in) { return eigrad::matmul(in[0], in[1]); }),
      {random_leaf({3, 4}, 50, -1, 1), random_leaf({4, 2}, 51, -1, 1)});
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked > 0);
}

// ---------------------------------------------------------------- linear

TEST_CASE("linear is twice differentiable with and without bias",
          "[second_order][second_order_nn]") {
  const DoubleTensor x = random_leaf({3, 4}, 60), w = random_leaf({2, 4}, 61),
                     b = random_leaf({2}, 62);
  check_second_order([](const Ts& in) { return nn::linear(in[0], in[1], in[2]); }, {x, w, b});
  check_second_order([](const Ts& in) { return nn::linear(in[0], in[1]); }, {x, w});
}

TEST_CASE("linear is twice differentiable for a batch of one, one sample and sequences",
          "[second_order][second_order_nn]") {
  auto with_bias = [](const Ts& in) { return nn::linear(in[0], in[1], in[2]); };
  const DoubleTensor w = random_leaf({3, 2}, 63), b = random_leaf({3}, 64);
  check_second_order(with_bias, {random_leaf({1, 2}, 65), w, b});
  check_second_order(with_bias, {random_leaf({2}, 66), w, b});
  check_second_order(with_bias, {random_leaf({2, 2, 2}, 67), w, b});
}

TEST_CASE("linear's second derivatives hold when only some inputs require grad",
          "[second_order][second_order_nn]") {
  auto with_bias = [](const Ts& in) { return nn::linear(in[0], in[1], in[2]); };
  const DoubleTensor x = random_leaf({3, 2}, 68), w = random_leaf({2, 2}, 69),
                     b = random_leaf({2}, 70);
  check_second_order(with_bias, {x.detach(), w, b.detach()});
  check_second_order(with_bias, {x, w.detach(), b});
  check_second_order(with_bias, {x.detach(), w.detach(), b});
}

// ---------------------------------------------------------------- dropout

TEST_CASE("dropout's gradient is the forward's mask, linear in g and constant in x",
          "[second_order][second_order_nn]") {
  const double p = 0.4;
  auto drop = [p](const Ts& in) {
    Generator gen(5);  // the same mask at every call
    return nn::dropout(in[0], p, true, gen);
  };
  const DoubleTensor x = random_leaf({3, 4}, 71, 0.5, 2);  // no zero: the mask is y / x
  check_second_order(drop, {x});

  Generator gen(5);
  const DoubleTensor y = nn::dropout(x, p, true, gen);
  const DoubleTensor v = DoubleTensor::ones({3, 4}, /*requires_grad=*/true);
  const DoubleTensor g = eigrad::grad({y}, {x}, {v}, std::nullopt, true)[0];
  const DoubleTensor dv = eigrad::grad({eigrad::sum(g)}, {v}, {}, /*retain_graph=*/true)[0];
  const auto yv = y.to_vector(), xv = x.to_vector(), dvv = dv.to_vector();
  int kept = 0;
  for (size_t i = 0; i < yv.size(); ++i) {
    INFO("element " << i);
    CHECK((yv[i] == 0 || yv[i] == Approx(xv[i] / (1 - p))));
    CHECK(dvv[i] == Approx(yv[i] / xv[i]));  // 0 or 1 / (1 - p), where the forward kept x
    kept += yv[i] != 0;
  }
  CHECK(kept > 0);
  CHECK(kept < 12);
  // No path from the gradient back to x: its second derivative is zero.
  const Ts h = eigrad::grad({eigrad::sum(g * g)}, {x, v}, {}, std::nullopt, false, true);
  CHECK_FALSE(h[0].defined());
}

TEST_CASE("dropout in evaluation mode or with p = 0 returns x and stays twice differentiable",
          "[second_order][second_order_nn]") {
  Generator gen(6);
  const DoubleTensor x = random_leaf({2, 3}, 72);
  CHECK(nn::dropout(x, 0.5, false, gen).same(x));
  CHECK(nn::dropout(x, 0.0, true, gen).same(x));
  for (const bool training : {false, true})
    check_second_order(
        [training](const Ts& in) {
          Generator g(7);
          return nn::dropout(in[0] * in[0], training ? 0.0 : 0.5, training, g);
        },
        {x});
}

TEST_CASE("dropout with p = 1 zeroes the gradient and its derivatives",
          "[second_order][second_order_nn]") {
  check_second_order(
      [](const Ts& in) {
        Generator g(8);
        return nn::dropout(in[0] * in[0], 1.0, true, g);
      },
      {random_leaf({2, 2}, 73)});
}

// ---------------------------------------------------------------- cross_entropy

TEST_CASE("cross_entropy is twice differentiable for every reduction",
          "[second_order][second_order_nn][needs_activations]") {
  SKIP_WITHOUT_ACTIVATIONS();
  for (Reduction r : kReductions) {
    INFO("reduction " << static_cast<int>(r));
    auto ce = [r](const Labels& labels) {
      return [r, labels](const Ts& in) { return nn::cross_entropy(in[0], labels, r); };
    };
    check_second_order(ce({0, 3, 1}), {random_leaf({3, 4}, 80, -3, 3)});
    check_second_order(ce({2}), {random_leaf({1, 3}, 81, -3, 3)});
    check_second_order(ce({1, 1}), {random_leaf({2, 2}, 82, -3, 3)});
  }
}

TEST_CASE("cross_entropy's Hessian-vector product is (diag(p) - p p^T) v / N",
          "[second_order][second_order_nn][needs_activations]") {
  SKIP_WITHOUT_ACTIVATIONS();
  // Row 0: logits log(1, 2, 3), so p = (1, 2, 3) / 6; row 1: equal logits, p = 1/3 each.
  // With v = (1, 0, -1) and (2, -1, 0): p.v = -1/3 and 1/3, and p*v - p (p.v) gives
  // (2/9, 1/9, -1/3) and (5/9, -4/9, -1/9). The labels do not enter the Hessian.
  const DoubleTensor x =
      DoubleTensor::from({0, std::log(2.0), std::log(3.0), 0.7, 0.7, 0.7}, {2, 3}, true);
  const DoubleTensor v = DoubleTensor::from({1, 0, -1, 2, -1, 0}, {2, 3});
  const V hv{2.0 / 9, 1.0 / 9, -1.0 / 3, 5.0 / 9, -4.0 / 9, -1.0 / 9};
  for (Reduction r : kReductions) {
    INFO("reduction " << static_cast<int>(r));
    const DoubleTensor loss = nn::cross_entropy(x, {2, 0}, r);
    const DoubleTensor g =
        r == Reduction::None
            ? eigrad::grad({loss}, {x}, {DoubleTensor::ones({2})}, std::nullopt, true)[0]
            : grad_graph(loss, {x})[0];
    const DoubleTensor h = eigrad::grad({eigrad::sum(g * v)}, {x})[0];
    const double scale = r == Reduction::Mean ? 0.5 : 1.0;
    V want;
    for (double e : hv) want.push_back(e * scale);
    check_close(h.to_vector(), want, 1e-12);
  }
}

TEST_CASE("cross_entropy's gradient is linear in g: its derivative in g is softmax - onehot",
          "[second_order][second_order_nn]") {
  // Logits log(1, 3) and (0, 0): p = (1/4, 3/4) and (1/2, 1/2); labels 1 and 0.
  const DoubleTensor x = DoubleTensor::from({0, std::log(3.0), 0, 0}, {2, 2}, true);
  const DoubleTensor g = DoubleTensor::from({2, -1}, {2}, true);
  const DoubleTensor gx = eigrad::grad({nn::cross_entropy(x, {1, 0}, Reduction::None)}, {x}, {g},
                                       std::nullopt, true)[0];
  check_close(gx.to_vector(), {2 * 0.25, 2 * -0.25, -1 * -0.5, -1 * 0.5});
  const DoubleTensor u = DoubleTensor::from({1, 1, 1, -1}, {2, 2});
  // d/dg_i sum_j u_ij (p_ij - y_ij) = (0.25 - 0.25, -0.5 - 0.5)
  check_close(eigrad::grad({eigrad::sum(gx * u)}, {g})[0].to_vector(), {0, -1});
}

// ---------------------------------------------------------------- nll_loss

TEST_CASE("nll_loss is twice differentiable for every reduction",
          "[second_order][second_order_nn]") {
  for (Reduction r : kReductions) {
    INFO("reduction " << static_cast<int>(r));
    auto nll = [r](const Labels& labels) {
      return [r, labels](const Ts& in) { return nn::nll_loss(in[0], labels, r); };
    };
    check_second_order(nll({1, 1, 3}), {random_leaf({3, 4}, 90)});
    check_second_order(nll({0}), {random_leaf({1, 3}, 91)});
  }
}

TEST_CASE("nll_loss's gradient is -onehot g / N: zero Hessian, and linear in g",
          "[second_order][second_order_nn]") {
  const DoubleTensor lp = DoubleTensor::from({-0.5, -1, -2, -3, -0.1, -4}, {2, 3}, true);
  const DoubleTensor u = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  const DoubleTensor g = DoubleTensor::scalar(1.0, /*requires_grad=*/true);
  const DoubleTensor gx =
      eigrad::grad({nn::nll_loss(lp, {2, 0})}, {lp}, {g}, std::nullopt, true)[0];
  CHECK(gx.to_vector() == V{0, 0, -0.5, -0.5, 0, 0});
  const Ts h = eigrad::grad({eigrad::sum(gx * u)}, {lp, g}, {}, std::nullopt, false, true);
  CHECK_FALSE(h[0].defined());  // the gradient does not depend on log_probs
  CHECK(h[1].item() == Approx(-(3 + 4) / 2.0));
}

// ---------------------------------------------------------------- mse_loss

TEST_CASE("mse_loss is twice differentiable in both inputs for every reduction",
          "[second_order][second_order_nn]") {
  auto mse = [](Reduction r) {
    return [r](const Ts& in) { return nn::mse_loss(in[0], in[1], r); };
  };
  for (Reduction r : kReductions) {
    INFO("reduction " << static_cast<int>(r));
    const DoubleTensor x = random_leaf({2, 3}, 100), y = random_leaf({2, 3}, 101);
    check_second_order(mse(r), {x, y});
    check_second_order(mse(r), {x, y.detach()});
    check_second_order(mse(r), {x.detach(), y});
    check_second_order(mse(r), {random_leaf({1}, 102), random_leaf({1}, 103)});
  }
}

TEST_CASE("mse_loss's Hessian is 2/N I in the input, -2/N I across, 2 I for sum",
          "[second_order][second_order_nn]") {
  const DoubleTensor x = DoubleTensor::from({1, 2, 3}, {3}, true);
  const DoubleTensor y = DoubleTensor::from({0, 2, 5}, {3}, true);
  const DoubleTensor u = DoubleTensor::from({1, -2, 4}, {3});
  for (Reduction r : {Reduction::Mean, Reduction::Sum}) {
    INFO("reduction " << static_cast<int>(r));
    const double k = r == Reduction::Mean ? 2.0 / 3 : 2.0;
    const Ts g = grad_graph(nn::mse_loss(x, y, r), {x, y});
    const Ts hx = eigrad::grad({eigrad::sum(g[0] * u)}, {x, y}, {}, /*retain_graph=*/true);
    check_close(hx[0].to_vector(), {k * 1, k * -2, k * 4});
    check_close(hx[1].to_vector(), {-k * 1, -k * -2, -k * 4});
    const Ts hy = eigrad::grad({eigrad::sum(g[1] * u)}, {x, y});
    check_close(hy[0].to_vector(), {-k * 1, -k * -2, -k * 4});
    check_close(hy[1].to_vector(), {k * 1, k * -2, k * 4});
  }
  // None: the Hessian of sum(v * (x - y)^2) is 2 diag(v).
  const DoubleTensor v = DoubleTensor::from({0.5, 3, -1}, {3});
  const DoubleTensor g =
      eigrad::grad({nn::mse_loss(x, y, Reduction::None)}, {x}, {v}, std::nullopt, true)[0];
  check_close(eigrad::grad({eigrad::sum(g * u)}, {x})[0].to_vector(), {2 * 0.5, 2 * 3 * -2.0, -8});
}

TEST_CASE("the losses' float32 second derivatives agree with float64",
          "[second_order][second_order_nn]") {
  const auto r = eigrad::gradgradcheck_float32(
      with_grad_mode<eigrad::GradcheckFunction32>(
          [](const std::vector<Tensor>& in) { return nn::mse_loss(in[0], in[1]); }),
      with_grad_mode<eigrad::GradcheckFunction>(
          [](const Ts& in) { return nn::mse_loss(in[0], in[1]); }),
      {random_leaf({2, 3}, 110, -1, 1), random_leaf({2, 3}, 111, -1, 1)});
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked > 0);
}

// ---------------------------------------------------------------- binary_cross_entropy_with_logits

TEST_CASE("binary_cross_entropy_with_logits is twice differentiable for every reduction",
          "[second_order][second_order_nn][needs_activations]") {
  SKIP_WITHOUT_ACTIVATIONS();
  for (Reduction r : kReductions) {
    INFO("reduction " << static_cast<int>(r));
    auto bce = [r](const Ts& in) { return nn::binary_cross_entropy_with_logits(in[0], in[1], r); };
    const DoubleTensor x = random_leaf({2, 3}, 120, -4, 4), y = random_leaf({2, 3}, 121, 0, 1);
    check_second_order(bce, {x, y});
    check_second_order(bce, {x, y.detach()});
    check_second_order(bce, {random_leaf({1}, 122, -4, 4), random_leaf({1}, 123, 0, 1)});
  }
}

TEST_CASE("binary_cross_entropy_with_logits is twice differentiable in the target alone",
          "[second_order][second_order_nn]") {
  for (Reduction r : kReductions) {
    INFO("reduction " << static_cast<int>(r));
    check_second_order(
        [r](const Ts& in) { return nn::binary_cross_entropy_with_logits(in[0], in[1], r); },
        {random_values({2, 3}, 124, -4, 4), random_leaf({2, 3}, 125, 0, 1)});
  }
}

TEST_CASE("binary_cross_entropy_with_logits' Hessian in the logits is s(1 - s)/N",
          "[second_order][second_order_nn][needs_activations]") {
  SKIP_WITHOUT_ACTIVATIONS();
  // x = 0, log 3, -log 4: s = 1/2, 3/4, 1/5, so s (1 - s) = 1/4, 3/16, 4/25.
  const DoubleTensor x = DoubleTensor::from({0, std::log(3.0), -std::log(4.0)}, {3}, true);
  const DoubleTensor y = DoubleTensor::from({1, 0, 0.5}, {3});
  const DoubleTensor u = DoubleTensor::from({1, 2, -1}, {3});
  const V curvature{0.25, 3.0 / 16, 4.0 / 25};
  for (Reduction r : {Reduction::Mean, Reduction::Sum}) {
    INFO("reduction " << static_cast<int>(r));
    const double k = r == Reduction::Mean ? 1.0 / 3 : 1.0;
    const DoubleTensor g = grad_graph(nn::binary_cross_entropy_with_logits(x, y, r), {x})[0];
    const DoubleTensor h = eigrad::grad({eigrad::sum(g * u)}, {x})[0];
    check_close(h.to_vector(), {k * curvature[0], k * 2 * curvature[1], -k * curvature[2]});
  }
}

TEST_CASE("binary_cross_entropy_with_logits' mixed second derivative is -1/N",
          "[second_order][second_order_nn]") {
  // d/dy of (s(x) - y) / N is -1/N, and d/dx of -x / N is -1/N: no sigmoid' is involved.
  const DoubleTensor x = DoubleTensor::from({0.5, -1, 2}, {3}, true);
  const DoubleTensor y = DoubleTensor::from({1, 0, 0.25}, {3}, true);
  const DoubleTensor u = DoubleTensor::from({1, 2, -1}, {3});
  const Ts g = grad_graph(nn::binary_cross_entropy_with_logits(x, y), {x, y});
  check_close(eigrad::grad({eigrad::sum(g[0] * u)}, {y})[0].to_vector(),
              {-1.0 / 3, -2.0 / 3, 1.0 / 3});
  check_close(eigrad::grad({eigrad::sum(g[1] * u)}, {x})[0].to_vector(),
              {-1.0 / 3, -2.0 / 3, 1.0 / 3});
}

// ---------------------------------------------------------------- saved inputs

TEST_CASE("mse_loss and cross_entropy read their inputs again: changing one in place is an error",
          "[second_order][second_order_nn][errors]") {
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4}, {2, 2}, true);
  DoubleTensor target = DoubleTensor::zeros({2, 2});
  const DoubleTensor mse = nn::mse_loss(x, target);
  target.mutable_data()[0] = 1;
  CHECK_THROWS_WITH(mse.backward(), Contains("mse_loss") && Contains("input 1"));
  DoubleTensor logits = x * 1.0;
  const DoubleTensor ce = nn::cross_entropy(logits, {0, 1});
  logits.mutable_data()[0] = 5;
  CHECK_THROWS_WITH(ce.backward(), Contains("cross_entropy") && Contains("input 0"));
}

// ---------------------------------------------------------------- a gradient penalty

TEST_CASE("a gradient penalty through an MLP gives parameter gradients central differences confirm",
          "[second_order][second_order_nn][needs_activations]") {
  SKIP_WITHOUT_ACTIVATIONS();
  // loss = cross_entropy(mlp(x)) + lambda * sum((d cross_entropy / dx)^2), mlp = linear - tanh -
  // linear, as a function of the parameters (W1, b1, W2, b2).
  const DoubleTensor x0 = random_values({3, 2}, 130, -1, 1);
  const Labels labels{0, 2, 1};
  const double lambda = 0.7;
  auto penalised = [&](const Ts& p) {
    GradEnabled enabled;
    const DoubleTensor x = x0.clone().set_requires_grad(true);
    const DoubleTensor logits = nn::linear(eigrad::tanh(nn::linear(x, p[0], p[1])), p[2], p[3]);
    const DoubleTensor loss = nn::cross_entropy(logits, labels);
    const DoubleTensor gx = grad_graph(loss, {x})[0];
    return loss + eigrad::sum(gx * gx) * lambda;
  };
  const Ts params{random_leaf({4, 2}, 131, -1, 1), random_leaf({4}, 132, -1, 1),
                  random_leaf({3, 4}, 133, -1, 1), random_leaf({3}, 134, -1, 1)};
  penalised(params).backward();
  // Every parameter's gradient against central differences of the penalised loss.
  const double eps = 1e-6;
  for (size_t i = 0; i < params.size(); ++i) {
    DoubleTensor p = params[i];
    REQUIRE(p.grad().defined());
    const V analytic = p.grad().to_vector();
    for (int64_t k = 0; k < p.numel(); ++k) {
      const double saved = p.data()[k];
      p.mutable_data()[k] = saved + eps;
      const double plus = penalised(params).item();
      p.mutable_data()[k] = saved - eps;
      const double minus = penalised(params).item();
      p.mutable_data()[k] = saved;
      INFO("parameter " << i << " element " << k);
      CHECK(analytic[static_cast<size_t>(k)] ==
            Approx((plus - minus) / (2 * eps)).margin(1e-7).epsilon(1e-5));
    }
  }
  // And gradcheck of the penalised loss as a function of the first weight matrix alone.
  const eigrad::GradcheckReport r = eigrad::gradcheck(
      penalised, {params[0], params[1].detach(), params[2].detach(), params[3].detach()});
  INFO(r.str());
  CHECK(r.passed);
}
