// Second and third derivatives of the convolutions, the poolings and batch norm: gradgradcheck in
// float64 on small shapes with the first-order tests' coverage (tests/test_convolution.cpp,
// test_pooling.cpp, test_normalization.cpp), and closed forms derived by hand.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using eigrad::DoubleTensor;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_close;
using eigrad::test::random_leaf;
using eigrad::test::random_values;
using V = std::vector<double>;
using Ts = std::vector<DoubleTensor>;

using eigrad::test::ConvCase;
using eigrad::test::describe;
using eigrad::test::PoolCase;

namespace {

void check_report(const eigrad::GradcheckReport& r) {
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked > 0);
}

// Tighter than gradcheck's defaults: the functions here are polynomials or smooth on the points
// used, where float64 central differences are good to about 1e-9.
const eigrad::GradcheckOptions kTight{1e-6, 1e-7, 1e-5, false};

// The two halves of a second-order check of f at `inputs`: the gradients recorded with
// create_graph (the graph backwards) equal plain backward's (the fused kernels, which the
// first-order tests check against finite differences), and their Jacobian (gradgradcheck)
// matches central differences of them.
void check_second_order(const eigrad::GradcheckFunction& f, const Ts& inputs) {
  Ts leaves, wrt;
  for (const DoubleTensor& t : inputs) {
    leaves.push_back(t.defined() ? t.detach().clone().set_requires_grad(t.requires_grad()) : t);
    if (t.defined() && t.requires_grad()) wrt.push_back(leaves.back());
  }
  const DoubleTensor y = f(leaves);
  const DoubleTensor v = random_values(y.shape(), 77, -1, 1);
  const Ts fused = eigrad::grad({y}, wrt, {v}, /*retain_graph=*/true);
  const Ts recorded = eigrad::grad({y}, wrt, {v}, std::nullopt, /*create_graph=*/true);
  for (size_t i = 0; i < wrt.size(); ++i) {
    INFO("the gradient of input " << i);
    check_close(recorded[i].to_vector(), fused[i].to_vector(), 1e-12);
  }
  check_report(eigrad::gradgradcheck(f, inputs, {}, kTight));
}

// The first derivative of sum(f(x)^3) with respect to x, recorded (create_graph): gradgradcheck
// of it checks f's third derivatives (f^3, so that f's second derivative does not vanish).
template <class F>
DoubleTensor cubed_gradient(F f, const DoubleTensor& x) {
  const DoubleTensor y = f(x);
  return eigrad::grad({eigrad::sum(y * y * y)}, {x}, {}, std::nullopt, true)[0];
}

// ---------------------------------------------------------------- convolutions

DoubleTensor conv(const ConvCase& c, const Ts& t) {
  const DoubleTensor b = c.bias ? t[2] : DoubleTensor();
  if (c.x.rank() == 3)
    return eigrad::conv1d(t[0], t[1], b, c.stride[1], c.padding[1], c.dilation[1], c.groups);
  return eigrad::conv2d(t[0], t[1], b, c.stride, c.padding, c.dilation, c.groups);
}

// Each feature alone and combined, a few dozen elements each.
const std::vector<ConvCase> kConv2dCases{
    {{1, 1, 4, 4}, {1, 1, 3, 3}, false, {1, 1}, {0, 0}, {1, 1}, 1},  // batch 1, one channel
    {{2, 2, 4, 3}, {2, 2, 2, 2}, true, {2, 1}, {1, 0}, {1, 1}, 1},   // stride, non-square
    {{1, 4, 3, 4}, {2, 2, 2, 2}, true, {1, 1}, {1, 1}, {2, 1}, 2},   // groups, dilation
    {{1, 3, 4, 4}, {3, 1, 3, 3}, false, {1, 1}, {1, 1}, {1, 1}, 3},  // depthwise
    {{2, 3, 2, 3}, {2, 3, 1, 1}, true, {1, 1}, {0, 0}, {1, 1}, 1},   // 1 x 1 (no im2col)
    {{1, 2, 3, 5}, {2, 2, 2, 2}, true, {3, 2}, {2, 1}, {1, 2}, 1},   // stride 3, wide padding
};

const std::vector<ConvCase> kConv1dCases{
    {{2, 2, 7}, {4, 1, 1, 3}, true, {1, 2}, {0, 1}, {1, 1}, 2},   // stride, padding, groups
    {{1, 1, 6}, {2, 1, 1, 4}, false, {1, 1}, {0, 3}, {1, 1}, 1},  // batch 1, wide padding
    {{2, 3, 5}, {3, 1, 1, 2}, true, {1, 1}, {0, 0}, {1, 2}, 3},   // depthwise, dilation
};

Ts conv_inputs(const ConvCase& c, uint64_t seed) {
  Shape w = c.w;
  if (c.x.rank() == 3) w = {c.w[0], c.w[1], c.w[3]};
  return {random_leaf(c.x, seed, -1, 1), random_leaf(w, seed + 1, -1, 1),
          random_leaf({c.w[0]}, seed + 2, -1, 1)};
}

}  // namespace

TEST_CASE("conv2d's second derivatives match finite differences of its gradients",
          "[second_order][second_order_cnn]") {
  uint64_t seed = 1000;
  for (const ConvCase& c : kConv2dCases) {
    INFO(describe(c));
    const Ts in = conv_inputs(c, seed += 3);
    check_second_order([&c](const Ts& t) { return conv(c, t); }, c.bias ? in : Ts{in[0], in[1]});
  }
}

TEST_CASE("conv1d's second derivatives match finite differences of its gradients",
          "[second_order][second_order_cnn]") {
  uint64_t seed = 1100;
  for (const ConvCase& c : kConv1dCases) {
    INFO(describe(c));
    const Ts in = conv_inputs(c, seed += 3);
    check_second_order([&c](const Ts& t) { return conv(c, t); }, c.bias ? in : Ts{in[0], in[1]});
  }
}

TEST_CASE("conv2d's second derivatives with respect to one operand alone are checked too",
          "[second_order][second_order_cnn]") {
  // Only x (then only w) requires grad: the other is a constant in the graph backward.
  const ConvCase& c = kConv2dCases[2];
  const Ts in = conv_inputs(c, 1200);
  check_second_order([&c](const Ts& t) { return conv(c, t); },
                     {in[0], in[1].detach(), in[2].detach()});
  check_second_order([&c](const Ts& t) { return conv(c, t); },
                     {in[0].detach(), in[1], in[2].detach()});
}

TEST_CASE("conv2d and conv1d are differentiable three times", "[second_order][second_order_cnn]") {
  for (const ConvCase& c : {kConv2dCases[1], kConv2dCases[2], kConv1dCases[0]}) {
    INFO(describe(c));
    const Ts in = conv_inputs(c, 1300);
    // x -> d/dx sum(conv(x, w)^3): its Jacobian holds conv's third derivatives in x, w, x.
    check_second_order(
        [&c](const Ts& t) {
          return cubed_gradient(
              [&](const DoubleTensor& x) {
                return conv(c, {x, t[1], t[2]});
              },
              t[0]);
        },
        {in[0], in[1], in[2].detach()});
    // The same with respect to w.
    check_second_order(
        [&c](const Ts& t) {
          return cubed_gradient(
              [&](const DoubleTensor& w) {
                return conv(c, {t[0], w, t[2]});
              },
              t[1]);
        },
        {in[0], in[1], in[2].detach()});
  }
}

TEST_CASE("conv2d's mixed second derivatives match hand-computed values",
          "[second_order][second_order_cnn]") {
  // L = <v, conv(x, w)> on a 3 x 3 input and a 2 x 2 kernel, v = 1. Its input gradient
  // gx[p] = sum_y v[y] w[p - y] does not depend on x: the Hessian in x alone is zero. With
  // M = <u, gx> (u = 1..9): dM/dw[i][j] = sum_y v[y] u[y + (i, j)], the sums of u's 2 x 2
  // windows; dM/dv[y] = sum_ij w[i][j] u[y + (i, j)], conv(u, w).
  const DoubleTensor x = DoubleTensor::from({1, -2, 0.5, 3, 0, -1, 2, 1, -0.5}, {1, 1, 3, 3}, true);
  const DoubleTensor w = DoubleTensor::from({1, 2, 3, 4}, {1, 1, 2, 2}, true);
  const DoubleTensor v = DoubleTensor::ones({1, 1, 2, 2}).set_requires_grad();
  const DoubleTensor u = DoubleTensor::from({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  const DoubleTensor gx =
      eigrad::grad({eigrad::conv2d(x, w)}, {x}, {v}, std::nullopt, /*create_graph=*/true)[0];
  const auto h = eigrad::grad({eigrad::sum(gx * u)}, {x, w, v}, {}, std::nullopt, false,
                              /*allow_unused=*/true);
  CHECK_FALSE(h[0].defined());  // x is not reached: gx does not depend on it
  CHECK(h[1].to_vector() == V{12, 16, 24, 28});
  // conv(u, w): 1*1 + 2*2 + 3*4 + 4*5, 1*2 + 2*3 + 3*5 + 4*6, ...
  CHECK(h[2].to_vector() == V{37, 47, 67, 77});
}

TEST_CASE("a penalty on conv2d's input gradient gives the weight its gradient by backward()",
          "[second_order][second_order_cnn]") {
  // backward() of a function of a gradient recorded with create_graph runs the first-order
  // kernels of the gradient's own ops. Here L = sum(conv(x, w)) on a 3 x 3 input and a 2 x 2
  // kernel: gx[p] = sum_y w[p - y] over the 2 x 2 outputs y, which is
  // [[w00, w00 + w01, w01], [w00 + w10, w00 + w01 + w10 + w11, w01 + w11], [w10, w10 + w11, w11]].
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}, true);
  const DoubleTensor w = DoubleTensor::from({1, 2, 3, 4}, {1, 1, 2, 2}, true);
  const DoubleTensor gx = eigrad::grad({eigrad::sum(eigrad::conv2d(x, w))}, {x}, {}, std::nullopt,
                                       /*create_graph=*/true)[0];
  CHECK(gx.to_vector() == V{1, 3, 2, 4, 10, 6, 3, 7, 4});
  eigrad::sum(gx * gx).backward();
  // d/dw[i][j] sum(gx^2) = 2 sum_y gx[y + (i, j)]: twice the sums of gx's 2 x 2 windows,
  // 2 (1 + 3 + 4 + 10), 2 (3 + 2 + 10 + 6), 2 (4 + 10 + 3 + 7), 2 (10 + 6 + 7 + 4).
  CHECK(w.grad().to_vector() == V{36, 42, 48, 54});
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("conv2d's float32 second derivatives agree with float64",
          "[second_order][second_order_cnn]") {
  const ConvCase& c = kConv2dCases[1];
  const Ts in = conv_inputs(c, 1400);
  const eigrad::GradcheckReport r = eigrad::gradgradcheck_float32(
      [&c](const std::vector<Tensor>& t) {
        return eigrad::conv2d(t[0], t[1], t[2], c.stride, c.padding, c.dilation, c.groups);
      },
      [&c](const Ts& t) { return conv(c, t); }, in, {}, {1e-6, 1e-3, 1e-2, false});
  check_report(r);
}

// ---------------------------------------------------------------- pooling

namespace {

const std::vector<PoolCase> kPoolCases{
    {{1, 1, 4, 4}, {2, 2}, {2, 2}, {0, 0}, {1, 1}},  // the common 2 x 2, batch 1
    {{2, 1, 5, 4}, {3, 2}, {2, 1}, {1, 1}, {1, 1}},  // non-square, overlapping, padded
    {{1, 1, 7, 6}, {3, 3}, {1, 3}, {1, 0}, {2, 2}},  // dilation, stride 3
    {{2, 4, 5}, {2, 3}, {3, 2}, {1, 1}, {1, 2}},     // [C, H, W]
    {{1, 2, 3, 7}, {2, 5}, {2, 5}, {1, 2}, {1, 1}},  // large padding, stride 5
};

// Distinct values (a shuffled ramp with gaps of 0.01), so that no finite difference moves the
// maximum of a window to another element.
DoubleTensor distinct_values(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  V v(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.01 * static_cast<double>(i);
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[gen.randint(i)]);
  return DoubleTensor::from(v, shape, true);
}

}  // namespace

TEST_CASE("max_pool2d's second derivatives match finite differences of its gradients",
          "[second_order][second_order_cnn]") {
  uint64_t seed = 2000;
  for (const PoolCase& c : kPoolCases) {
    INFO(describe(c));
    check_second_order(
        [&c](const Ts& t) {
          return eigrad::max_pool2d(t[0], c.kernel, c.stride, c.padding, c.dilation);
        },
        {distinct_values(c.x, seed++)});
  }
}

TEST_CASE("max_pool2d's gradient is a scatter whose derivative in v is the gather by the argmax",
          "[second_order][second_order_cnn]") {
  // 2 x 2 windows over a 4 x 4 plane of distinct values.
  const DoubleTensor x = DoubleTensor::from({0, 1, 4, 5,    //
                                             7, 2, 3, 6,    //
                                             8, 9, 12, 13,  //
                                             15, 10, 11, 14},
                                            {1, 1, 4, 4}, true);
  // Maxima: window (0, 0) -> 7 at 4, (0, 1) -> 6 at 7, (1, 0) -> 15 at 12, (1, 1) -> 14 at 15.
  const DoubleTensor v = DoubleTensor::from({1, 2, 3, 4}, {1, 1, 2, 2}, true);
  const DoubleTensor gx =
      eigrad::grad({eigrad::max_pool2d(x, 2)}, {x}, {v}, std::nullopt, /*create_graph=*/true)[0];
  CHECK(gx.to_vector() == V{0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 4});
  const DoubleTensor u = eigrad::reshape(DoubleTensor::arange(1, 17), {1, 1, 4, 4});
  const auto h =
      eigrad::grad({eigrad::sum(gx * u)}, {x, v}, {}, std::nullopt, false, /*allow_unused=*/true);
  CHECK_FALSE(h[0].defined());                 // piecewise linear: no second derivative in x
  CHECK(h[1].to_vector() == V{5, 8, 13, 16});  // u at the argmax positions 4, 7, 12, 15
}

TEST_CASE("max_pool2d's window in the padding alone has zero second-order gradients",
          "[second_order][second_order_cnn]") {
  // H = 1 with padding 1 and dilation 2 over a kernel of height 2: both windows read padding
  // only (outputs -inf); the gradient of v goes nowhere and the gather gives 0.
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 5}, {1, 1, 1, 5}, true);
  const DoubleTensor v = DoubleTensor::from({1, 2}, {1, 1, 1, 2}, true);
  const DoubleTensor gx = eigrad::grad({eigrad::max_pool2d(x, 2, 3, 1, {2, 1})}, {x}, {v},
                                       std::nullopt, /*create_graph=*/true)[0];
  CHECK(gx.to_vector() == V{0, 0, 0, 0, 0});
  const auto h = eigrad::grad({eigrad::sum(gx * DoubleTensor::from({1, 2, 3, 4, 5}, {1, 1, 1, 5}))},
                              {v}, {}, std::nullopt, false, /*allow_unused=*/true);
  CHECK(h[0].to_vector() == V{0, 0});
}

TEST_CASE("avg_pool2d's second derivatives match finite differences of its gradients",
          "[second_order][second_order_cnn]") {
  uint64_t seed = 2100;
  for (const PoolCase& c : kPoolCases)
    for (bool include : {true, false}) {
      INFO(describe(c) << " count_include_pad " << include);
      check_second_order(
          [&c, include](const Ts& t) {
            return eigrad::avg_pool2d(t[0], c.kernel, c.stride, c.padding, include);
          },
          {random_leaf(c.x, seed++, -1, 1)});
    }
}

TEST_CASE("avg_pool2d's gradient is linear in v with avg_pool2d as its derivative",
          "[second_order][second_order_cnn]") {
  // 2 x 2 windows with stride 1 over a 3 x 3 plane: d/dv <u, gx(v)> = avg_pool2d(u), the means
  // of u's windows: (1 + 2 + 4 + 5) / 4 = 3, 4, 6, 7.
  const DoubleTensor x = random_leaf({1, 3, 3}, 2200);
  const DoubleTensor v = DoubleTensor::from({1, -1, 2, 0.5}, {1, 2, 2}, true);
  const DoubleTensor gx =
      eigrad::grad({eigrad::avg_pool2d(x, 2, 1)}, {x}, {v}, std::nullopt, /*create_graph=*/true)[0];
  // Each input gets the mean share of the windows that cover it: the centre 1/4 of every v.
  check_close(gx.to_vector(), {0.25, 0, -0.25, 0.75, 0.625, -0.125, 0.5, 0.625, 0.125}, 1e-15);
  const DoubleTensor u = DoubleTensor::from({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3});
  const auto h = eigrad::grad({eigrad::sum(gx * u)}, {x, v}, {}, std::nullopt, false, true);
  CHECK_FALSE(h[0].defined());
  CHECK(h[1].to_vector() == V{3, 4, 6, 7});
  // Without count_include_pad and with padding 1, stride 2: the corner windows cover one, two or
  // four elements, so d/dv <u, gx(v)> is the mean over the covered ones: 1, 2.5, 5.5, 7.
  const DoubleTensor gx2 = eigrad::grad({eigrad::avg_pool2d(x, 2, 2, 1, false)}, {x}, {v},
                                        std::nullopt, /*create_graph=*/true)[0];
  const auto h2 = eigrad::grad({eigrad::sum(gx2 * u)}, {v});
  CHECK(h2[0].to_vector() == V{1, 2.5, 5.5, 7});
}

TEST_CASE("adaptive_avg_pool2d's second derivatives match finite differences of its gradients",
          "[second_order][second_order_cnn]") {
  uint64_t seed = 2300;
  for (const auto& [shape, ho, wo] : std::vector<std::tuple<Shape, int64_t, int64_t>>{
           {{1, 2, 5, 3}, 3, 2}, {{2, 1, 3, 4}, 3, 4}, {{2, 3, 5}, 2, 4}, {{1, 1, 4, 5}, 1, 1}}) {
    INFO(shape.str() << " -> " << ho << " x " << wo);
    check_second_order(
        [ho = ho, wo = wo](const Ts& t) {
          return eigrad::adaptive_avg_pool2d(t[0], {ho, wo});
        },
        {random_leaf(shape, seed++, -1, 1)});
  }
}

TEST_CASE("adaptive_avg_pool2d's gradient has adaptive_avg_pool2d as its derivative in v",
          "[second_order][second_order_cnn]") {
  // 5 columns into 3: windows [0, 2), [1, 4), [3, 5); with u = 1..5: 1.5, 3, 4.5.
  const DoubleTensor x = random_leaf({1, 1, 5}, 2400);
  const DoubleTensor v = DoubleTensor::from({1, 2, 3}, {1, 1, 3}, true);
  const DoubleTensor gx = eigrad::grad({eigrad::adaptive_avg_pool2d(x, {1, 3})}, {x}, {v},
                                       std::nullopt, /*create_graph=*/true)[0];
  // 1/2, 1/2 + 2/3, 2/3, 2/3 + 3/2, 3/2.
  check_close(gx.to_vector(), {0.5, 0.5 + 2.0 / 3, 2.0 / 3, 2.0 / 3 + 1.5, 1.5}, 1e-15);
  const auto h =
      eigrad::grad({eigrad::sum(gx * DoubleTensor::from({1, 2, 3, 4, 5}, {1, 1, 5}))}, {v});
  check_close(h[0].to_vector(), {1.5, 3, 4.5}, 1e-15);
}

TEST_CASE("the poolings are differentiable three times", "[second_order][second_order_cnn]") {
  const PoolCase& c = kPoolCases[1];
  check_second_order(
      [&c](const Ts& t) {
        return cubed_gradient(
            [&](const DoubleTensor& x) {
              return eigrad::max_pool2d(x, c.kernel, c.stride, c.padding, c.dilation);
            },
            t[0]);
      },
      {distinct_values(c.x, 2500)});
  for (bool include : {true, false})
    check_second_order(
        [&c, include](const Ts& t) {
          return cubed_gradient(
              [&](const DoubleTensor& x) {
                return eigrad::avg_pool2d(x, c.kernel, c.stride, c.padding, include);
              },
              t[0]);
        },
        {random_leaf(c.x, 2501, -1, 1)});
  check_second_order(
      [](const Ts& t) {
        return cubed_gradient(
            [](const DoubleTensor& x) {
              return eigrad::adaptive_avg_pool2d(x, {2, 3});
            },
            t[0]);
      },
      {random_leaf({1, 2, 3, 5}, 2502, -1, 1)});
}

// ---------------------------------------------------------------- batch norm

namespace {
const DoubleTensor kNone;
}

TEST_CASE("batch_norm's second derivatives in training match finite differences",
          "[second_order][second_order_cnn]") {
  uint64_t seed = 3000;
  for (const Shape& shape : {Shape{4, 3}, Shape{2, 2, 3}, Shape{2, 2, 2, 2}, Shape{1, 2, 2, 3}}) {
    INFO(shape.str());
    const int64_t c = shape[1];
    const DoubleTensor x = random_leaf(shape, seed++);
    const DoubleTensor w = random_leaf({c}, seed++), b = random_leaf({c}, seed++);
    // weight and bias
    check_second_order(
        [](const Ts& t) { return eigrad::batch_norm(t[0], kNone, kNone, t[1], t[2], true); },
        {x, w, b});
    // no affine, a large eps
    check_second_order(
        [](const Ts& t) {
          return eigrad::batch_norm(t[0], kNone, kNone, kNone, kNone, true, 0.1, 0.01);
        },
        {x});
    // weight only, with running statistics (updated by every evaluation, not differentiated)
    DoubleTensor rm = DoubleTensor::zeros({c}), rv = DoubleTensor::ones({c});
    check_second_order(
        [&](const Ts& t) { return eigrad::batch_norm(t[0], rm, rv, t[1], kNone, true); }, {x, w});
    // bias only
    check_second_order(
        [](const Ts& t) { return eigrad::batch_norm(t[0], kNone, kNone, kNone, t[1], true); },
        {x, b});
  }
}

TEST_CASE("batch_norm's second derivatives in evaluation match finite differences",
          "[second_order][second_order_cnn]") {
  uint64_t seed = 3100;
  for (const Shape& shape : {Shape{3, 2, 3}, Shape{1, 2}, Shape{2, 2, 2, 2}}) {
    INFO(shape.str());
    const DoubleTensor x = random_leaf(shape, seed++);
    const DoubleTensor w = random_leaf({2}, seed++), b = random_leaf({2}, seed++);
    const DoubleTensor rm = DoubleTensor::from({0.3, -0.2}), rv = DoubleTensor::from({1.5, 0.7});
    check_second_order([&](const Ts& t) { return eigrad::batch_norm(t[0], rm, rv, t[1], t[2]); },
                       {x, w, b});
    check_second_order([&](const Ts& t) { return eigrad::batch_norm(t[0], rm, rv); }, {x});
    check_second_order([&](const Ts& t) { return eigrad::batch_norm(t[0], rm, rv, t[1]); }, {x, w});
  }
}

TEST_CASE("batch_norm in training has a zero Hessian-vector product along a constant shift",
          "[second_order][second_order_cnn]") {
  // y(x + s) = y(x) for a per-channel constant s, so the gradient gx(x) = J(x)^T g is invariant
  // too and its derivative along s, H s, is zero (while H itself is not).
  const DoubleTensor x = random_leaf({3, 2, 2, 2}, 3200);
  const DoubleTensor w = random_leaf({2}, 3201), b = random_leaf({2}, 3202);
  const DoubleTensor g = random_values({3, 2, 2, 2}, 3203);
  const DoubleTensor gx = eigrad::grad({eigrad::batch_norm(x, kNone, kNone, w, b, true)}, {x}, {g},
                                       std::nullopt, /*create_graph=*/true)[0];
  // Shift channel 0 by 1 and channel 1 by -2.5.
  const DoubleTensor shift =
      eigrad::broadcast_to(DoubleTensor::from({1, -2.5}, {1, 2, 1, 1}), Shape{3, 2, 2, 2});
  const DoubleTensor hs = eigrad::grad({gx}, {x}, {shift}, true)[0];
  for (double h : hs.to_vector()) CHECK(h == Approx(0).margin(1e-10));
  // Along a random direction the product is not zero.
  const DoubleTensor hr = eigrad::grad({gx}, {x}, {random_values({3, 2, 2, 2}, 3204)})[0];
  double largest = 0;
  for (double h : hr.to_vector()) largest = std::max(largest, std::abs(h));
  CHECK(largest > 1e-3);
}

TEST_CASE("batch_norm in evaluation is affine in x: its mixed second derivatives by hand",
          "[second_order][second_order_cnn]") {
  // y = (x - m) / sqrt(var + eps) w + b per channel, so gx = g w / sqrt(var + eps) does not
  // depend on x, and d/dw_c <u, gx> = sum over channel c of g u / sqrt(var_c + eps).
  const DoubleTensor x = random_leaf({2, 2, 2}, 3300);
  const DoubleTensor w = DoubleTensor::from({2, -1}, {2}, true);
  const DoubleTensor rm = DoubleTensor::from({0.5, -1}), rv = DoubleTensor::from({4, 0.25});
  const DoubleTensor g = DoubleTensor::from({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2}, true);
  const DoubleTensor u = DoubleTensor::from({1, -1, 2, 0.5, 1, 1, -2, 3}, {2, 2, 2});
  const double eps = 1e-5, s0 = 1 / std::sqrt(4 + eps), s1 = 1 / std::sqrt(0.25 + eps);
  const DoubleTensor gx = eigrad::grad({eigrad::batch_norm(x, rm, rv, w, kNone, false, 0.1, eps)},
                                       {x}, {g}, std::nullopt, /*create_graph=*/true)[0];
  check_close(gx.to_vector(),
              {2 * s0, 4 * s0, -3 * s1, -4 * s1, 10 * s0, 12 * s0, -7 * s1, -8 * s1}, 1e-14);
  const auto h = eigrad::grad({eigrad::sum(gx * u)}, {x, w, g}, {}, std::nullopt, false,
                              /*allow_unused=*/true);
  CHECK_FALSE(h[0].defined());
  // channel 0: g u = 1 - 2 + 5 + 6 = 10; channel 1: 6 + 2 - 14 + 24 = 18.
  check_close(h[1].to_vector(), {10 * s0, 18 * s1}, 1e-14);
  // d/dg <u, gx> = u w / sqrt(var + eps).
  check_close(h[2].to_vector(),
              {2 * s0, -2 * s0, -2 * s1, -0.5 * s1, 2 * s0, 2 * s0, 2 * s1, -3 * s1}, 1e-14);
}

TEST_CASE("batch_norm in training is differentiable three times",
          "[second_order][second_order_cnn]") {
  const DoubleTensor x = random_leaf({2, 2, 3}, 3400);
  const DoubleTensor w = random_leaf({2}, 3401), b = random_leaf({2}, 3402);
  check_second_order(
      [](const Ts& t) {
        return cubed_gradient(
            [&](const DoubleTensor& x) {
              return eigrad::batch_norm(x, kNone, kNone, t[1], t[2], true, 0.1, 0.01);
            },
            t[0]);
      },
      {x, w, b});
}

TEST_CASE("batch_norm of an empty batch has zero second-order gradients in the graph",
          "[second_order][second_order_cnn]") {
  const DoubleTensor x = DoubleTensor::zeros({0, 3, 2}, true);
  const DoubleTensor w = DoubleTensor::from({1, 2, 3}, {3}, true);
  const DoubleTensor b = DoubleTensor::from({0, 0, 0}, {3}, true);
  for (bool training : {true, false}) {
    INFO("training " << training);
    const DoubleTensor y =
        eigrad::batch_norm(x, DoubleTensor::zeros({3}), DoubleTensor::ones({3}), w, b, training);
    const DoubleTensor v = DoubleTensor::zeros({0, 3, 2}, true);
    const auto g = eigrad::grad({y}, {x, w, b}, {v}, std::nullopt, /*create_graph=*/true);
    CHECK(g[0].numel() == 0);
    CHECK(g[1].to_vector() == V{0, 0, 0});
    CHECK(g[2].to_vector() == V{0, 0, 0});
    // The gradients stay in the graph: they lead back to v.
    const auto h = eigrad::grad({eigrad::sum(g[1]) + eigrad::sum(g[2])}, {v});
    CHECK(h[0].shape() == Shape{0, 3, 2});
  }
}
