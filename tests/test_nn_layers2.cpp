// The layers of small CNNs beyond convolution and pooling: conv_transpose2d / ConvTranspose2d,
// interpolate / Upsample and dropout2d / Dropout2d, with PyTorch 1.13's semantics. Values
// against naive loops and hand-derived numbers, shapes against PyTorch's formulas, gradients
// against float64 finite differences (first and second order), errors by message.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using eigrad::DoubleTensor;
using eigrad::ExpandingArray;
using eigrad::Generator;
using eigrad::GradcheckFunction;
using eigrad::InterpolateOptions;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_close;
using eigrad::test::random_leaf;
using eigrad::test::random_values;
namespace nn = eigrad::nn;
using Ts = std::vector<DoubleTensor>;
using V = std::vector<double>;

namespace {

std::vector<double> as_double(const std::vector<float>& v) {
  return {v.begin(), v.end()};
}

// The gradient recorded under create_graph equals the fused kernels' one, and gradgradcheck
// passes: second order checked against finite differences of the gradient.
void check_second_order(const GradcheckFunction& f, const Ts& inputs) {
  Ts leaves, wrt;
  for (const DoubleTensor& t : inputs) {
    leaves.push_back(t.detach().clone().set_requires_grad(t.requires_grad()));
    if (t.requires_grad()) wrt.push_back(leaves.back());
  }
  const DoubleTensor y = f(leaves);
  const DoubleTensor v = random_values(y.shape(), 99, -1, 1);
  const Ts fused = eigrad::grad({y}, wrt, {v}, true, false, true);
  const Ts graph = eigrad::grad({y}, wrt, {v}, true, /*create_graph=*/true, true);
  for (size_t i = 0; i < wrt.size(); ++i) {
    INFO("gradient of input " << i);
    REQUIRE(graph[i].defined() == fused[i].defined());
    if (fused[i].defined()) check_close(graph[i].to_vector(), fused[i].to_vector(), 1e-10);
  }
  const eigrad::GradcheckReport r = eigrad::gradgradcheck(f, inputs);
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked > 0);
}

// ------------------------------------------------------------------ transposed convolution

struct TCase {
  int64_t n, cin, cout, h, w, kh, kw;
  std::array<int64_t, 2> stride, padding, output_padding, dilation;
  int64_t groups;
  bool bias;
};

std::string describe(const TCase& c) {
  auto two = [](const std::array<int64_t, 2>& a) {
    return "(" + std::to_string(a[0]) + ", " + std::to_string(a[1]) + ")";
  };
  return "x [" + std::to_string(c.n) + ", " + std::to_string(c.cin) + ", " + std::to_string(c.h) +
         ", " + std::to_string(c.w) + "], " + std::to_string(c.cout) + " out, kernel (" +
         std::to_string(c.kh) + ", " + std::to_string(c.kw) + "), stride " + two(c.stride) +
         ", padding " + two(c.padding) + ", output_padding " + two(c.output_padding) +
         ", dilation " + two(c.dilation) + ", groups " + std::to_string(c.groups) +
         (c.bias ? ", bias" : "");
}

const std::vector<TCase>& tcases() {
  static const std::vector<TCase> cases = {
      {1, 1, 1, 3, 3, 2, 2, {1, 1}, {0, 0}, {0, 0}, {1, 1}, 1, false},
      {2, 2, 3, 3, 4, 3, 3, {2, 2}, {1, 1}, {1, 1}, {1, 1}, 1, true},
      {1, 3, 2, 3, 2, 2, 3, {3, 2}, {0, 1}, {2, 0}, {1, 1}, 1, true},
      // output_padding 1 >= stride 1 but < dilation 2 (PyTorch allows it).
      {2, 2, 2, 3, 3, 3, 2, {1, 1}, {1, 0}, {1, 1}, {2, 2}, 1, false},
      {1, 4, 6, 2, 3, 2, 2, {2, 1}, {0, 0}, {1, 0}, {1, 2}, 2, true},
      {2, 3, 3, 3, 3, 3, 3, {2, 2}, {2, 1}, {0, 1}, {1, 1}, 3, true},
      // padding larger than the kernel's reach: the border outputs are cut.
      {1, 2, 1, 4, 4, 2, 2, {2, 2}, {2, 1}, {0, 0}, {1, 1}, 1, true},
  };
  return cases;
}

int64_t tout(int64_t in, int64_t k, int64_t s, int64_t p, int64_t op, int64_t d) {
  return (in - 1) * s - 2 * p + d * (k - 1) + op + 1;
}

// The transposed convolution as a scatter: every input element adds its products with the
// kernel to the outputs it reaches.
std::vector<double> naive_conv_transpose2d(const TCase& c, const std::vector<double>& x,
                                           const std::vector<double>& w,
                                           const std::vector<double>& b) {
  const int64_t ho = tout(c.h, c.kh, c.stride[0], c.padding[0], c.output_padding[0], c.dilation[0]);
  const int64_t wo = tout(c.w, c.kw, c.stride[1], c.padding[1], c.output_padding[1], c.dilation[1]);
  const int64_t ipg = c.cin / c.groups, opg = c.cout / c.groups;
  std::vector<double> y(static_cast<size_t>(c.n * c.cout * ho * wo), 0.0);
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t ci = 0; ci < c.cin; ++ci)
      for (int64_t i = 0; i < c.h; ++i)
        for (int64_t j = 0; j < c.w; ++j)
          for (int64_t oc = 0; oc < opg; ++oc)
            for (int64_t a = 0; a < c.kh; ++a)
              for (int64_t bb = 0; bb < c.kw; ++bb) {
                const int64_t oi = i * c.stride[0] - c.padding[0] + a * c.dilation[0];
                const int64_t oj = j * c.stride[1] - c.padding[1] + bb * c.dilation[1];
                if (oi < 0 || oi >= ho || oj < 0 || oj >= wo) continue;
                const int64_t co = (ci / ipg) * opg + oc;
                y[static_cast<size_t>(((n * c.cout + co) * ho + oi) * wo + oj)] +=
                    x[static_cast<size_t>(((n * c.cin + ci) * c.h + i) * c.w + j)] *
                    w[static_cast<size_t>(((ci * opg + oc) * c.kh + a) * c.kw + bb)];
              }
  if (!b.empty())
    for (size_t k = 0; k < y.size(); ++k)
      y[k] += b[static_cast<size_t>((static_cast<int64_t>(k) / (ho * wo)) % c.cout)];
  return y;
}

DoubleTensor tc_apply(const TCase& c, const DoubleTensor& x, const DoubleTensor& w,
                      const DoubleTensor& b) {
  return eigrad::conv_transpose2d(x, w, b, c.stride, c.padding, c.output_padding, c.groups,
                                  c.dilation);
}

}  // namespace

TEST_CASE("conv_transpose2d scatters each input element times the kernel, by hand", "[layers2]") {
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4}, Shape{1, 1, 2, 2});
  const DoubleTensor w = DoubleTensor::ones(Shape{1, 1, 2, 2});
  check_close(eigrad::conv_transpose2d(x, w).to_vector(), V{1, 3, 2, 4, 10, 6, 3, 7, 4});
  // Stride 2: the 2 x 2 blocks do not overlap.
  check_close(eigrad::conv_transpose2d(x, w, DoubleTensor(), 2).to_vector(),
              V{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  // Padding 1 cuts the border; output_padding 1 adds a row and column nothing reaches but the
  // bias.
  const DoubleTensor b = DoubleTensor::from({0.5}, Shape{1});
  const DoubleTensor y = eigrad::conv_transpose2d(x, w, b, 2, 1, 1);
  CHECK(y.shape() == Shape{1, 1, 3, 3});
  check_close(y.to_vector(), V{1.5, 2.5, 2.5, 3.5, 4.5, 4.5, 3.5, 4.5, 4.5});
}

TEST_CASE("conv_transpose2d matches a naive scatter loop and PyTorch's output size", "[layers2]") {
  uint64_t seed = 1;
  for (const TCase& c : tcases()) {
    INFO(describe(c));
    const DoubleTensor x = random_values(Shape{c.n, c.cin, c.h, c.w}, seed++);
    const DoubleTensor w = random_values(Shape{c.cin, c.cout / c.groups, c.kh, c.kw}, seed++);
    const DoubleTensor b = c.bias ? random_values(Shape{c.cout}, seed++) : DoubleTensor();
    const DoubleTensor y = tc_apply(c, x, w, b);
    const int64_t ho =
        tout(c.h, c.kh, c.stride[0], c.padding[0], c.output_padding[0], c.dilation[0]);
    const int64_t wo =
        tout(c.w, c.kw, c.stride[1], c.padding[1], c.output_padding[1], c.dilation[1]);
    CHECK(y.shape() == Shape{c.n, c.cout, ho, wo});
    const V want =
        naive_conv_transpose2d(c, x.to_vector(), w.to_vector(), c.bias ? b.to_vector() : V{});
    check_close(y.to_vector(), want, 1e-12);
    // float32, on the same values.
    const Tensor y32 =
        eigrad::conv_transpose2d(x.to<float>(), w.to<float>(), c.bias ? b.to<float>() : Tensor(),
                                 c.stride, c.padding, c.output_padding, c.groups, c.dilation);
    check_close(as_double(y32.to_vector()), want, 1e-5);
  }
}

TEST_CASE(
    "conv_transpose2d is the adjoint of conv2d: <conv2d(z, w), x> = <z, conv_transpose2d(x, w)>",
    "[layers2]") {
  const DoubleTensor w = random_values(Shape{4, 3, 3, 2}, 7);  // conv2d: 3 -> 4 channels
  const DoubleTensor z = random_values(Shape{2, 3, 8, 6}, 8);
  const DoubleTensor cz = eigrad::conv2d(z, w, DoubleTensor(), {2, 1}, {1, 0}, 1);
  const DoubleTensor x = random_values(cz.shape(), 9);
  // z's 8 rows are reached with output_padding 1: 8 = (4 - 1) 2 - 2 + 2 + 1 + 1.
  const DoubleTensor tx = eigrad::conv_transpose2d(x, w, DoubleTensor(), {2, 1}, {1, 0}, {1, 0});
  REQUIRE(tx.shape() == z.shape());
  CHECK(eigrad::sum(cz * x).item() == Approx(eigrad::sum(z * tx).item()).epsilon(1e-12));
}

TEST_CASE("conv_transpose1d is conv_transpose2d on one row", "[layers2]") {
  const DoubleTensor x = random_values(Shape{2, 4, 5}, 11);
  const DoubleTensor w = random_values(Shape{4, 3, 3}, 12);
  const DoubleTensor b = random_values(Shape{6}, 13);
  const DoubleTensor y = eigrad::conv_transpose1d(x, w, b, 2, 1, 1, 2, 1);
  CHECK(y.shape() == Shape{2, 6, (5 - 1) * 2 - 2 + 2 + 1 + 1});
  const DoubleTensor y2 =
      eigrad::conv_transpose2d(eigrad::reshape(x, {2, 4, 1, 5}), eigrad::reshape(w, {4, 3, 1, 3}),
                               b, {1, 2}, {0, 1}, {0, 1}, 2, 1);
  check_close(y.to_vector(), y2.to_vector(), 1e-12);
  check_second_order(
      [](const Ts& t) { return eigrad::conv_transpose1d(t[0], t[1], t[2], 2, 1, 1, 2, 1); },
      {random_leaf(Shape{1, 4, 3}, 14), random_leaf(Shape{4, 3, 3}, 15),
       random_leaf(Shape{6}, 16)});
}

TEST_CASE("conv_transpose2d's gradients pass gradcheck and gradgradcheck in float64", "[layers2]") {
  uint64_t seed = 100;
  for (const TCase& c : tcases()) {
    INFO(describe(c));
    Ts in = {random_leaf(Shape{c.n, c.cin, c.h, c.w}, seed++, -1, 1),
             random_leaf(Shape{c.cin, c.cout / c.groups, c.kh, c.kw}, seed++, -1, 1)};
    if (c.bias) in.push_back(random_leaf(Shape{c.cout}, seed++, -1, 1));
    const GradcheckFunction f = [c](const Ts& t) {
      return tc_apply(c, t[0], t[1], t.size() > 2 ? t[2] : DoubleTensor());
    };
    eigrad::test::check_gradients(f, in);
    check_second_order(f, in);
  }
}

TEST_CASE("conv_transpose2d names the op and the shapes on invalid arguments", "[layers2]") {
  const DoubleTensor x = DoubleTensor::zeros(Shape{1, 4, 3, 3});
  const DoubleTensor w = DoubleTensor::zeros(Shape{4, 2, 3, 3});
  using Catch::Contains;
  REQUIRE_THROWS_WITH(eigrad::conv_transpose2d(x, w, DoubleTensor(), 1, 0, 1),
                      Contains("conv_transpose2d: output_padding must be non-negative and smaller "
                               "than either stride or dilation") &&
                          Contains("output_padding (1, 1), stride (1, 1)"));
  REQUIRE_THROWS_WITH(eigrad::conv_transpose2d(x, w, DoubleTensor(), 2, 0, {0, 2}),
                      Contains("output_padding (0, 2)"));
  REQUIRE_THROWS_WITH(eigrad::conv_transpose2d(x, DoubleTensor::zeros(Shape{3, 2, 3, 3})),
                      Contains("conv_transpose2d: expected weight [C_in, C_out / groups, kH, kW] "
                               "with C_in = 4 for input [1, 4, 3, 3], got [3, 2, 3, 3]"));
  REQUIRE_THROWS_WITH(eigrad::conv_transpose2d(x, w, DoubleTensor(), 1, 0, 0, 3),
                      Contains("conv_transpose2d: expected input channels divisible by groups 3"));
  // groups 2: C_out = 2 * 2.
  REQUIRE_THROWS_WITH(eigrad::conv_transpose2d(x, w, DoubleTensor::zeros(Shape{2}), 1, 0, 0, 2),
                      Contains("conv_transpose2d: expected bias [C_out] = [4] for weight "
                               "[4, 2, 3, 3] and groups 2, got [2]"));
  REQUIRE_THROWS_WITH(eigrad::conv_transpose2d(x, w, DoubleTensor::zeros(Shape{3})),
                      Contains("conv_transpose2d: expected bias [C_out] = [2] for weight "
                               "[4, 2, 3, 3] and groups 1, got [3]"));
  REQUIRE_THROWS_WITH(eigrad::conv_transpose2d(DoubleTensor::zeros(Shape{4, 3, 3}), w),
                      Contains("conv_transpose2d: expected input [N, C_in, H, W] (rank 4), got "
                               "[4, 3, 3]"));
  REQUIRE_THROWS_WITH(eigrad::conv_transpose2d(x, w, DoubleTensor(), 1, 3),
                      Contains("conv_transpose2d: input [1, 4, 3, 3] with weight [4, 2, 3, 3]") &&
                          Contains("gives output size (-1, -1); expected a non-empty output"));
  REQUIRE_THROWS_WITH(eigrad::conv_transpose2d(x, w, DoubleTensor(), 0),
                      Contains("conv_transpose2d: expected stride >= 1"));
  REQUIRE_THROWS_WITH(
      eigrad::conv_transpose1d(DoubleTensor::zeros(Shape{1, 4, 3}),
                               DoubleTensor::zeros(Shape{4, 2, 3}), DoubleTensor(), 2, 0, 2),
      Contains("conv_transpose1d: output_padding must be"));
}

TEST_CASE("ConvTranspose2d has PyTorch's weight [in, out / groups, kH, kW], names and init",
          "[layers2]") {
  Generator gen(3);
  nn::ConvTranspose2d m(nn::ConvTranspose2dOptions(16, 8, 2).stride(2).output_padding(1), gen);
  CHECK(m.weight().shape() == Shape{16, 8, 2, 2});
  CHECK(m.bias().shape() == Shape{8});
  const auto named = m.named_parameters();
  REQUIRE(named.size() == 2);
  CHECK(named[0].first == "weight");
  CHECK(named[1].first == "bias");
  // fan_in = weight.size(1) * kH * kW = 32 (not in_channels * 4 = 64, as for Conv2d).
  const double bound = 1 / std::sqrt(32.0);
  auto max_abs = [](const std::vector<float>& v) {
    float m = 0;
    for (float e : v) m = std::max(m, std::abs(e));
    return static_cast<double>(m);
  };
  CHECK(max_abs(m.weight().to_vector()) <= bound);
  CHECK(max_abs(m.weight().to_vector()) > 0.9 * bound);  // 512 draws: beyond 1/sqrt(64)
  CHECK(max_abs(m.bias().to_vector()) <= bound);
  CHECK(m.extra_repr() == "16, 8, kernel_size=(2, 2), stride=(2, 2), output_padding=(1, 1)");
  const Tensor x = Tensor::uniform(Shape{1, 16, 3, 3}, -1.f, 1.f, gen);
  const Tensor y = m(x);
  CHECK(y.shape() == Shape{1, 8, 7, 7});
  check_close(as_double(y.to_vector()),
              as_double(eigrad::conv_transpose2d(x, m.weight(), m.bias(), 2, 0, 1).to_vector()),
              1e-6);

  nn::ConvTranspose2d g(
      nn::ConvTranspose2dOptions(4, 6, {3, 2}).groups(2).bias(false).dilation({1, 2}).padding(1),
      gen);
  CHECK(g.weight().shape() == Shape{4, 3, 3, 2});
  CHECK_FALSE(g.bias().defined());
  CHECK(g.named_parameters().size() == 1);
  CHECK(g.extra_repr() ==
        "4, 6, kernel_size=(3, 2), stride=(1, 1), padding=(1, 1), dilation=(1, 2), groups=2, "
        "bias=false");
  nn::BasicConvTranspose1d<double> one(nn::ConvTranspose1dOptions(2, 3, 3).stride(2), gen);
  CHECK(one.weight().shape() == Shape{2, 3, 3});
  CHECK(one(DoubleTensor::zeros(Shape{1, 2, 4})).shape() == Shape{1, 3, 9});
}

TEST_CASE("ConvTranspose2d passes gradcheck_module and its state dict loads by name", "[layers2]") {
  Generator gen(4);
  nn::ConvTranspose2d m(nn::ConvTranspose2dOptions(2, 4, 3).stride(2).padding(1).groups(2), gen);
  const Tensor x = Tensor::uniform(Shape{2, 2, 3, 3}, -1.f, 1.f, gen);
  const eigrad::ModuleGradcheckReport r = eigrad::gradcheck_module(m, x);
  INFO(r.str());
  CHECK(r.passed);
  REQUIRE(r.tensors.size() == 3);
  CHECK(r.tensors[1].first == "weight");
  CHECK(r.tensors[2].first == "bias");
  const eigrad::ModuleGradcheckReport r2 = eigrad::gradgradcheck_module(m, x);
  INFO(r2.str());
  CHECK(r2.passed);

  nn::ConvTranspose2d other(nn::ConvTranspose2dOptions(2, 4, 3).stride(2).padding(1).groups(2),
                            gen);
  other.load_state_dict(m.state_dict());
  CHECK(other.weight().to_vector() == m.weight().to_vector());
  CHECK(other(x).to_vector() == m(x).to_vector());
}

TEST_CASE("ConvTranspose2d's forward with output_size picks output_padding as PyTorch's",
          "[layers2]") {
  Generator gen(6);
  nn::ConvTranspose2d m(nn::ConvTranspose2dOptions(2, 3, 3).stride({3, 2}).padding(1), gen);
  const Tensor x = Tensor::uniform(Shape{1, 2, 4, 5}, -1.f, 1.f, gen);
  // Smallest sizes: (4 - 1) 3 - 2 + 2 + 1 = 10 and (5 - 1) 2 - 2 + 2 + 1 = 9; stride - 1 more.
  CHECK(m(x).shape() == Shape{1, 3, 10, 9});
  const Tensor y = m.forward(x, {12, 10});
  CHECK(y.shape() == Shape{1, 3, 12, 10});
  CHECK(y.to_vector() ==
        eigrad::conv_transpose2d(x, m.weight(), m.bias(), {3, 2}, 1, {2, 1}).to_vector());
  REQUIRE_THROWS_WITH(m.forward(x, {13, 9}),
                      Catch::Contains("ConvTranspose2d: requested an output size of (13, 9), but "
                                      "valid sizes range from (10, 9) to (12, 10) (for an input "
                                      "of [1, 2, 4, 5])"));
  nn::ConvTranspose1d one(nn::ConvTranspose1dOptions(2, 2, 2).stride(3), gen);
  CHECK(one.forward(Tensor::zeros(Shape{1, 2, 3}), 9).shape() == Shape{1, 2, 9});
}

TEST_CASE("ConvTranspose2d rejects options no transposed convolution can have", "[layers2]") {
  Generator gen;
  using Catch::Contains;
  REQUIRE_THROWS_WITH(
      nn::ConvTranspose2d(nn::ConvTranspose2dOptions(2, 2, 3).output_padding(1), gen),
      Contains("ConvTranspose2d: output_padding must be non-negative and smaller "
               "than either stride or dilation, got output_padding=(1, 1), "
               "stride=(1, 1), dilation=(1, 1)"));
  REQUIRE_THROWS_WITH(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(3, 2, 3).groups(2), gen),
                      Contains("ConvTranspose2d: in_channels 3 and out_channels 2 must both be "
                               "divisible by groups 2"));
  REQUIRE_THROWS_WITH(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(2, 2, 0), gen),
                      Contains("ConvTranspose2d: expected kernel_size"));
  // output_padding below dilation is allowed, as in PyTorch.
  CHECK_NOTHROW(
      nn::ConvTranspose2d(nn::ConvTranspose2dOptions(2, 2, 3).output_padding(1).dilation(2), gen));
}

// ------------------------------------------------------------------ interpolate and Upsample

namespace {

// PyTorch's source index rules, written out per output position (see ATen's UpSample.h):
// nearest: min(floor(float(s * i)), in - 1); bilinear: the position p, then rows floor(p) and
// floor(p) + 1 (clamped) with weights 1 - frac and frac.
struct Src {
  int64_t i0, i1;
  double l0, l1;
};

Src nearest_src(int64_t i, int64_t in, int64_t out, double scale_factor) {
  const double s = scale_factor > 0 ? 1.0 / scale_factor : double(in) / double(out);
  const auto idx = static_cast<int64_t>(std::floor(static_cast<float>(s * double(i))));
  const int64_t k = std::min(idx, in - 1);
  return {k, k, 1, 0};
}

Src linear_src(int64_t i, int64_t in, int64_t out, bool align, double scale_factor) {
  if (in == out) return {i, i, 1, 0};
  double p;
  if (align) {
    p = out > 1 ? double(in - 1) / double(out - 1) * double(i) : 0.0;
  } else {
    const double s = scale_factor > 0 ? 1.0 / scale_factor : double(in) / double(out);
    p = std::max(0.0, s * (double(i) + 0.5) - 0.5);
  }
  const int64_t k = std::min(static_cast<int64_t>(std::floor(p)), in - 1);
  const double frac = std::min(std::max(p - double(k), 0.0), 1.0);
  return {k, std::min(k + 1, in - 1), 1 - frac, frac};
}

// y = sum of the four weighted neighbours, per plane.
V naive_interpolate(const DoubleTensor& x, int64_t ho, int64_t wo, bool linear, bool align,
                    double sh, double sw) {
  const Shape s = x.shape();
  const V xv = x.to_vector();
  V y;
  for (int64_t p = 0; p < s[0] * s[1]; ++p)
    for (int64_t i = 0; i < ho; ++i)
      for (int64_t j = 0; j < wo; ++j) {
        const Src r = linear ? linear_src(i, s[2], ho, align, sh) : nearest_src(i, s[2], ho, sh);
        const Src c = linear ? linear_src(j, s[3], wo, align, sw) : nearest_src(j, s[3], wo, sw);
        auto at = [&](int64_t a, int64_t b) {
          return xv[static_cast<size_t>((p * s[2] + a) * s[3] + b)];
        };
        y.push_back(r.l0 * (c.l0 * at(r.i0, c.i0) + c.l1 * at(r.i0, c.i1)) +
                    r.l1 * (c.l0 * at(r.i1, c.i0) + c.l1 * at(r.i1, c.i1)));
      }
  return y;
}

}  // namespace

TEST_CASE("interpolate nearest repeats pixels, by hand", "[layers2]") {
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4}, Shape{1, 1, 2, 2});
  check_close(eigrad::interpolate(x, InterpolateOptions().scale_factor(2)).to_vector(),
              V{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  // 2 x 3 -> 3 x 5: rows floor(i * 2/3) = 0, 0, 1; columns floor(j * 3/5) = 0, 0, 1, 1, 2.
  const DoubleTensor x23 = DoubleTensor::from({1, 2, 3, 4, 5, 6}, Shape{1, 1, 2, 3});
  check_close(eigrad::interpolate(x23, InterpolateOptions().size({3, 5})).to_vector(),
              V{1, 1, 2, 2, 3, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6});
  // Downsampling 1 x 5 -> 1 x 2: columns 0 and floor(2.5) = 2.
  const DoubleTensor x15 = DoubleTensor::from({1, 2, 3, 4, 5}, Shape{1, 1, 1, 5});
  check_close(eigrad::interpolate(x15, InterpolateOptions().size({1, 2})).to_vector(), V{1, 3});
  // With scale_factor 1.15, 10 columns become 11, read at floor(j / 1.15): the last is column 8,
  // not floor(10 * 10 / 11) = 9 as with size 11.
  const DoubleTensor x10 = eigrad::reshape(DoubleTensor::arange(0, 10), {1, 1, 1, 10});
  const DoubleTensor by_scale =
      eigrad::interpolate(x10, InterpolateOptions().scale_factor(std::array<double, 2>{1, 1.15}));
  CHECK(by_scale.shape() == Shape{1, 1, 1, 11});
  check_close(by_scale.to_vector(), V{0, 0, 1, 2, 3, 4, 5, 6, 6, 7, 8});
  check_close(eigrad::interpolate(x10, InterpolateOptions().size({1, 11})).to_vector(),
              V{0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("interpolate bilinear follows PyTorch with and without align_corners, by hand",
          "[layers2]") {
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4}, Shape{1, 1, 2, 2});
  // align_corners=false (the default), 2x: source positions -0.25 (clamped to 0), 0.25, 0.75,
  // 1.25 (the last row, weight 1).
  check_close(
      eigrad::interpolate(x, InterpolateOptions().scale_factor(2).mode("bilinear")).to_vector(),
      V{1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
  // align_corners=true, size 3: positions 0, 0.5, 1.
  check_close(
      eigrad::interpolate(x, InterpolateOptions().size(3).mode("bilinear").align_corners(true))
          .to_vector(),
      V{1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
  // align_corners=true with one output row: row 0.
  check_close(
      eigrad::interpolate(x, InterpolateOptions().size({1, 2}).mode("bilinear").align_corners(true))
          .to_vector(),
      V{1, 2});
  // scale_factor 1.2 on 3 rows gives 3 rows: copied, whatever the scale.
  const DoubleTensor x3 = random_values(Shape{1, 2, 3, 3}, 4);
  check_close(
      eigrad::interpolate(x3, InterpolateOptions().scale_factor(1.2).mode("bilinear")).to_vector(),
      x3.to_vector());
}

TEST_CASE("interpolate matches PyTorch's index and weight formulas for sizes and scale factors",
          "[layers2]") {
  const DoubleTensor x = random_values(Shape{2, 3, 4, 5}, 21);
  struct Case {
    std::string mode;
    bool align;
    int64_t ho, wo;         // by size when the scale factors are 0
    double sh = 0, sw = 0;  // scale factors
  };
  const std::vector<Case> cases = {
      {"nearest", false, 7, 3},
      {"nearest", false, 8, 10},
      {"nearest", false, 0, 0, 1.5, 0.6},
      {"nearest", false, 0, 0, 2.9, 1.3},
      {"bilinear", false, 7, 3},
      {"bilinear", true, 7, 3},
      {"bilinear", false, 9, 12},
      {"bilinear", true, 1, 8},
      {"bilinear", false, 0, 0, 1.9, 0.7},
      {"bilinear", true, 0, 0, 1.9, 0.7},
      {"bilinear", false, 0, 0, 3, 2.5},
  };
  for (const Case& c : cases) {
    InterpolateOptions o;
    o.mode(c.mode);
    if (c.mode == "bilinear") o.align_corners(c.align);
    int64_t ho = c.ho, wo = c.wo;
    if (c.sh > 0) {
      o.scale_factor(std::array<double, 2>{c.sh, c.sw});
      ho = static_cast<int64_t>(std::floor(4 * c.sh));
      wo = static_cast<int64_t>(std::floor(5 * c.sw));
    } else {
      o.size({ho, wo});
    }
    INFO(c.mode << " align_corners " << c.align << " to " << ho << " x " << wo << " scale " << c.sh
                << ", " << c.sw);
    const DoubleTensor y = eigrad::interpolate(x, o);
    CHECK(y.shape() == Shape{2, 3, ho, wo});
    const V want = naive_interpolate(x, ho, wo, c.mode == "bilinear", c.align, c.sh, c.sw);
    check_close(y.to_vector(), want, 1e-12);
    check_close(as_double(eigrad::interpolate(x.to<float>(), o).to_vector()), want, 1e-5);
  }
}

TEST_CASE("interpolate's gradients pass gradcheck and gradgradcheck in float64", "[layers2]") {
  const std::vector<InterpolateOptions> options = {
      InterpolateOptions().scale_factor(2),
      InterpolateOptions().size({2, 5}),
      InterpolateOptions().size({5, 3}).mode("bilinear"),
      InterpolateOptions().size({5, 2}).mode("bilinear").align_corners(true),
      InterpolateOptions().scale_factor(std::array<double, 2>{1.7, 0.8}).mode("bilinear"),
  };
  uint64_t seed = 30;
  for (const InterpolateOptions& o : options) {
    INFO(o.mode() << " size " << o.size().str());
    const GradcheckFunction f = [o](const Ts& t) { return eigrad::interpolate(t[0], o); };
    const Ts in = {random_leaf(Shape{2, 2, 3, 4}, seed++)};
    eigrad::test::check_gradients(f, in);
    check_second_order(f, in);
  }
}

TEST_CASE("interpolate names the op and the problem on invalid arguments", "[layers2]") {
  const DoubleTensor x = DoubleTensor::zeros(Shape{1, 1, 2, 2});
  using Catch::Contains;
  REQUIRE_THROWS_WITH(eigrad::interpolate(x, InterpolateOptions().size(4).mode("bicubic")),
                      Contains("interpolate: mode 'bicubic' is not supported; expected 'nearest' "
                               "or 'bilinear'"));
  REQUIRE_THROWS_WITH(
      eigrad::interpolate(DoubleTensor::zeros(Shape{1, 2, 3}), InterpolateOptions().size(4)),
      Contains("interpolate: expected a 4-D input [N, C, H, W] for mode 'nearest', got [1, 2, 3]"));
  REQUIRE_THROWS_WITH(eigrad::interpolate(x, InterpolateOptions().size(4).scale_factor(2)),
                      Contains("interpolate: only one of size or scale_factor should be defined"));
  REQUIRE_THROWS_WITH(eigrad::interpolate(x, InterpolateOptions()),
                      Contains("interpolate: either size or scale_factor should be defined"));
  REQUIRE_THROWS_WITH(eigrad::interpolate(x, InterpolateOptions().size(4).align_corners(true)),
                      Contains("interpolate: align_corners can only be set with the "
                               "interpolating mode 'bilinear', got mode 'nearest'"));
  REQUIRE_THROWS_WITH(eigrad::interpolate(x, InterpolateOptions().size({0, 3})),
                      Contains("interpolate: input and output sizes should be greater than 0") &&
                          Contains("got input [1, 1, 2, 2] and output size (0, 3)"));
  REQUIRE_THROWS_WITH(eigrad::interpolate(x, InterpolateOptions().scale_factor(0.4)),
                      Contains("output size (0, 0)"));
  REQUIRE_THROWS_WITH(eigrad::interpolate(x, InterpolateOptions().scale_factor(-2)),
                      Contains("interpolate: expected positive, finite scale factors"));
}

TEST_CASE("Upsample applies interpolate with fixed options", "[layers2]") {
  Generator gen(2);
  const Tensor x = Tensor::uniform(Shape{1, 2, 3, 3}, -1.f, 1.f, gen);
  nn::Upsample up(nn::UpsampleOptions().scale_factor(2).mode("bilinear"));
  CHECK(up.extra_repr() == "scale_factor=2.0, mode='bilinear'");
  CHECK(up.type_name() == "Upsample");
  CHECK(up(x).to_vector() ==
        eigrad::interpolate(x, InterpolateOptions().scale_factor(2).mode("bilinear")).to_vector());
  CHECK(up.named_parameters().empty());
  const eigrad::ModuleGradcheckReport r = eigrad::gradcheck_module(up, x);
  INFO(r.str());
  CHECK(r.passed);
  nn::Upsample sized(nn::UpsampleOptions().size({4, 6}));
  CHECK(sized.extra_repr() == "size=(4, 6), mode='nearest'");
  CHECK(sized(x).shape() == Shape{1, 2, 4, 6});
  nn::Upsample scaled(nn::UpsampleOptions().scale_factor(std::array<double, 2>{1.5, 2}));
  CHECK(scaled.extra_repr() == "scale_factor=(1.5, 2.0), mode='nearest'");
}

// ------------------------------------------------------------------ dropout2d and Dropout2d

TEST_CASE("dropout2d zeroes whole channels, one draw per channel, and scales the rest",
          "[layers2]") {
  const DoubleTensor x = DoubleTensor::ones(Shape{3, 4, 2, 3});
  Generator gen(17);
  const DoubleTensor y = eigrad::nn::dropout2d(x, 0.25, true, gen);
  CHECK(y.shape() == x.shape());
  // The same draws, in channel order: kept when uniform() >= p.
  Generator replay(17);
  const V v = y.to_vector();
  int kept = 0;
  for (int64_t ch = 0; ch < 12; ++ch) {
    const double want = replay.uniform() >= 0.25 ? 1 / 0.75 : 0.0;
    kept += want > 0;
    for (int64_t k = 0; k < 6; ++k) CHECK(v[static_cast<size_t>(ch * 6 + k)] == Approx(want));
  }
  CHECK(kept > 0);
  CHECK(kept < 12);
  // The generator moved on by one draw per channel.
  CHECK(gen.uniform() == replay.uniform());

  // One sample [C, H, W]: one draw per channel C.
  Generator g3(5), r3(5);
  const V v3 = eigrad::nn::dropout2d(DoubleTensor::ones(Shape{4, 2, 2}), 0.5, true, g3).to_vector();
  for (int64_t ch = 0; ch < 4; ++ch) {
    const double want = r3.uniform() >= 0.5 ? 2.0 : 0.0;
    for (int64_t k = 0; k < 4; ++k) CHECK(v3[static_cast<size_t>(ch * 4 + k)] == want);
  }
  // Eval mode and p = 0 return x itself; p = 1 zeroes everything.
  CHECK(eigrad::nn::dropout2d(x, 0.5, false, gen).to_vector() == x.to_vector());
  CHECK(eigrad::nn::dropout2d(x, 0.0, true, gen).to_vector() == x.to_vector());
  CHECK(eigrad::nn::dropout2d(x, 1.0, true, gen).to_vector() == V(72, 0.0));
  // float32
  Generator gf(17), rf(17);
  const std::vector<float> yf =
      eigrad::nn::dropout2d(Tensor::full(Shape{3, 4, 2, 3}, 2.f), 0.25, true, gf).to_vector();
  for (int64_t ch = 0; ch < 12; ++ch)
    CHECK(yf[static_cast<size_t>(ch * 6)] == Approx(rf.uniform() >= 0.25 ? 2 / 0.75 : 0.0));
}

TEST_CASE("dropout2d's gradient is the channel mask, first and second order", "[layers2]") {
  const DoubleTensor x = random_leaf(Shape{2, 3, 2, 2}, 40);
  Generator gen(8);
  const DoubleTensor y = eigrad::nn::dropout2d(x, 0.5, true, gen);
  eigrad::sum(y).backward();
  // d sum(y) / dx is the mask: y / x elementwise.
  const V yv = y.to_vector(), xv = x.to_vector(), gv = x.grad().to_vector();
  for (size_t i = 0; i < xv.size(); ++i) CHECK(gv[i] == Approx(yv[i] / xv[i]));
  // The same mask at every call: the generator is reseeded inside f.
  const GradcheckFunction f = [](const Ts& t) {
    Generator g(8);
    return eigrad::nn::dropout2d(t[0], 0.5, true, g) * t[0];
  };
  const Ts in = {random_leaf(Shape{2, 3, 2, 2}, 41)};
  eigrad::test::check_gradients(f, in);
  check_second_order(f, in);
}

TEST_CASE("Dropout2d drops channels in training and is the identity in eval", "[layers2]") {
  nn::Dropout2d d(0.5, /*seed=*/3);
  CHECK(d.extra_repr() == "p=0.5");
  CHECK(d.type_name() == "Dropout2d");
  const Tensor x = Tensor::ones(Shape{2, 8, 2, 2});
  Generator replay(3);
  const std::vector<float> y = d(x).to_vector();
  for (int64_t ch = 0; ch < 16; ++ch)
    CHECK(y[static_cast<size_t>(ch * 4 + 3)] == (replay.uniform() >= 0.5 ? 2.f : 0.f));
  d.eval();
  CHECK(d(x).to_vector() == x.to_vector());
  const eigrad::ModuleGradcheckReport r = eigrad::gradcheck_module(d, x);
  INFO(r.str());
  CHECK(r.passed);
  using Catch::Contains;
  REQUIRE_THROWS_WITH(nn::Dropout2d(1.5),
                      Contains("Dropout2d: the probability p must be in [0, 1], got 1.5"));
  Generator gen;
  REQUIRE_THROWS_WITH(eigrad::nn::dropout2d(Tensor::ones(Shape{2, 3}), 0.5, true, gen),
                      Contains("dropout2d: expected a 3-D input [C, H, W] or a 4-D input "
                               "[N, C, H, W], got [2, 3]"));
  REQUIRE_THROWS_WITH(eigrad::nn::dropout2d(Tensor::ones(Shape{2, 3, 1}), -0.1, true, gen),
                      Contains("dropout2d: the probability p must be in [0, 1]"));
}

TEST_CASE("the new ops take an empty batch", "[layers2]") {
  const DoubleTensor x = DoubleTensor::zeros(Shape{0, 2, 3, 3}).set_requires_grad();
  const DoubleTensor w = random_leaf(Shape{2, 3, 2, 2}, 50);
  const DoubleTensor b = random_leaf(Shape{3}, 51);
  const DoubleTensor y = eigrad::conv_transpose2d(x, w, b, 2);
  CHECK(y.shape() == Shape{0, 3, 6, 6});
  const Ts g = eigrad::grad({eigrad::sum(y)}, {x, w, b});
  CHECK(g[0].shape() == x.shape());
  check_close(g[1].to_vector(), V(24, 0.0));
  check_close(g[2].to_vector(), V(3, 0.0));
  CHECK(eigrad::interpolate(x, InterpolateOptions().size({4, 5}).mode("bilinear")).shape() ==
        Shape{0, 2, 4, 5});
  Generator gen;
  CHECK(eigrad::nn::dropout2d(x, 0.5, true, gen).shape() == x.shape());
}
