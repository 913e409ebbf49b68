// max_pool2d, avg_pool2d and adaptive_avg_pool2d: forward and backward against direct loops
// written here and by hand, gradients against float64 finite differences, and bad arguments.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_close;
using eigrad::test::check_gradients;
using eigrad::test::window_out_size;
using V = std::vector<double>;
using Ts = std::vector<DoubleTensor>;

using eigrad::test::describe;
using eigrad::test::PoolCase;

namespace {

const std::vector<PoolCase> kCases{
    {{1, 1, 4, 4}, {2, 2}, {2, 2}, {0, 0}, {1, 1}},   // the common 2 x 2
    {{2, 3, 7, 6}, {3, 2}, {2, 1}, {1, 1}, {1, 1}},   // non-square, overlapping, padded
    {{1, 2, 9, 8}, {3, 3}, {1, 3}, {1, 0}, {2, 2}},   // dilation, stride 3
    {{3, 5, 5}, {2, 3}, {3, 2}, {1, 1}, {1, 2}},      // [C, H, W]
    {{2, 1, 6, 11}, {4, 5}, {4, 5}, {2, 2}, {1, 1}},  // large padding, stride 4 and 5
    {{1, 1, 1, 7}, {1, 3}, {1, 2}, {0, 1}, {1, 1}},   // one row
};

struct Pooled {
  V y;
  std::vector<int64_t> argmax;  // flat input index of each output's first maximum
  Shape shape;
};

// The definition: the maximum of each window, the first one in row-major order, NaN winning.
Pooled reference_max(const PoolCase& c, const V& x) {
  const int r = c.x.rank();
  const int64_t H = c.x[r - 2], W = c.x[r - 1], planes = c.x.numel() / (H * W);
  const int64_t Ho = window_out_size(H, c.kernel[0], c.stride[0], c.padding[0], c.dilation[0]);
  const int64_t Wo = window_out_size(W, c.kernel[1], c.stride[1], c.padding[1], c.dilation[1]);
  Pooled p;
  p.shape = r == 4 ? Shape{c.x[0], c.x[1], Ho, Wo} : Shape{c.x[0], Ho, Wo};
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t oh = 0; oh < Ho; ++oh)
      for (int64_t ow = 0; ow < Wo; ++ow) {
        double best = -std::numeric_limits<double>::infinity();
        int64_t at = -1;
        for (int64_t i = 0; i < c.kernel[0]; ++i)
          for (int64_t j = 0; j < c.kernel[1]; ++j) {
            const int64_t ih = oh * c.stride[0] - c.padding[0] + i * c.dilation[0];
            const int64_t iw = ow * c.stride[1] - c.padding[1] + j * c.dilation[1];
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const int64_t k = (pl * H + ih) * W + iw;
            const double v = x[static_cast<size_t>(k)];
            if (at < 0 || v > best || std::isnan(v)) {
              best = v;
              at = k;
            }
          }
        p.y.push_back(best);
        p.argmax.push_back(at);
      }
  return p;
}

// The mean of each window: divided by kh * kw, or by the input elements it covers.
V reference_avg(const PoolCase& c, const V& x, bool count_include_pad, const V* g = nullptr,
                V* gx = nullptr) {
  const int r = c.x.rank();
  const int64_t H = c.x[r - 2], W = c.x[r - 1], planes = c.x.numel() / (H * W);
  const int64_t Ho = window_out_size(H, c.kernel[0], c.stride[0], c.padding[0], 1);
  const int64_t Wo = window_out_size(W, c.kernel[1], c.stride[1], c.padding[1], 1);
  V y;
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t oh = 0; oh < Ho; ++oh)
      for (int64_t ow = 0; ow < Wo; ++ow) {
        double sum = 0;
        int64_t count = 0;
        std::vector<int64_t> covered;
        for (int64_t i = 0; i < c.kernel[0]; ++i)
          for (int64_t j = 0; j < c.kernel[1]; ++j) {
            const int64_t ih = oh * c.stride[0] - c.padding[0] + i;
            const int64_t iw = ow * c.stride[1] - c.padding[1] + j;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            covered.push_back((pl * H + ih) * W + iw);
            sum += x[static_cast<size_t>(covered.back())];
            ++count;
          }
        const double divisor =
            count_include_pad ? static_cast<double>(c.kernel[0] * c.kernel[1]) : count;
        if (g)
          for (int64_t k : covered) (*gx)[static_cast<size_t>(k)] += (*g)[y.size()] / divisor;
        y.push_back(sum / divisor);
      }
  return y;
}

// PyTorch's adaptive windows, from their definition with floor and ceil.
V reference_adaptive(const Shape& shape, const V& x, int64_t Ho, int64_t Wo, const V* g = nullptr,
                     V* gx = nullptr) {
  const int r = shape.rank();
  const int64_t H = shape[r - 2], W = shape[r - 1], planes = shape.numel() / (H * W);
  V y;
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t i = 0; i < Ho; ++i)
      for (int64_t j = 0; j < Wo; ++j) {
        const auto h0 = static_cast<int64_t>(std::floor(double(i) * H / Ho));
        const auto h1 = static_cast<int64_t>(std::ceil(double(i + 1) * H / Ho));
        const auto w0 = static_cast<int64_t>(std::floor(double(j) * W / Wo));
        const auto w1 = static_cast<int64_t>(std::ceil(double(j + 1) * W / Wo));
        const double count = static_cast<double>((h1 - h0) * (w1 - w0));
        double sum = 0;
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) {
            const auto k = static_cast<size_t>((pl * H + ih) * W + iw);
            sum += x[k];
            if (g) (*gx)[k] += (*g)[y.size()] / count;
          }
        y.push_back(sum / count);
      }
  return y;
}

// Distinct values (a shuffled ramp with gaps of 0.01) so that no finite difference moves the
// maximum of a window to another element.
DoubleTensor distinct_values(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  V v(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.01 * static_cast<double>(i);
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[gen.randint(i)]);
  return DoubleTensor::from(v, shape, true);
}

}  // namespace

TEST_CASE("max_pool2d takes each window's maximum and routes the gradient to it", "[pool]") {
  const DoubleTensor x = DoubleTensor::from({1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 7, 7, 9, 0, 7, 6},
                                            {1, 1, 4, 4}, /*requires_grad=*/true);
  const DoubleTensor y = eigrad::max_pool2d(x, 2);
  CHECK(y.shape() == Shape{1, 1, 2, 2});
  CHECK(y.to_vector() == V{5, 8, 9, 7});
  y.backward(DoubleTensor::from({1, 2, 3, 4}, {1, 1, 2, 2}));
  // The window of 7, 7 / 7, 6 has three maxima: the first, in row-major order, gets it all.
  CHECK(x.grad().to_vector() == V{0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 4, 0, 3, 0, 0, 0});
  // Padding counts as -infinity: with padding 1 the corner windows see only their corner.
  const DoubleTensor neg = DoubleTensor::from({-1, -2, -3, -4}, {1, 2, 2});
  CHECK(eigrad::max_pool2d(neg, 2, 2, 1).to_vector() == V{-1, -2, -3, -4});
}

TEST_CASE("max_pool2d lets NaN win a window, as PyTorch does", "[pool]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const DoubleTensor x = DoubleTensor::from({1, nan, 3, 2}, {1, 1, 2, 2}, true);
  const DoubleTensor y = eigrad::max_pool2d(x, 2);
  CHECK(std::isnan(y.item()));
  y.backward(DoubleTensor::ones({1, 1, 1, 1}));
  CHECK(x.grad().to_vector() == V{0, 1, 0, 0});
  // -infinity everywhere: the first element of the window still gets the gradient.
  const double inf = std::numeric_limits<double>::infinity();
  const DoubleTensor m = DoubleTensor::from({-inf, -inf, -inf, -inf}, {1, 2, 2}, true);
  eigrad::max_pool2d(m, 2).backward(DoubleTensor::ones({1, 1, 1}));
  CHECK(m.grad().to_vector() == V{1, 0, 0, 0});
}

TEST_CASE("max_pool2d matches a direct loop on strided, padded, dilated windows", "[pool]") {
  uint64_t seed = 40;
  for (const PoolCase& c : kCases) {
    INFO(describe(c));
    Generator gen(seed++);
    // Values rounded to 0.5 make ties, which must go to the first maximum.
    DoubleTensor x = DoubleTensor::uniform(c.x, -3, 3, gen);
    for (double& v : x.mutable_array()) v = std::round(2 * v) / 2;
    x.set_requires_grad();
    const Pooled want = reference_max(c, x.to_vector());
    const DoubleTensor y = eigrad::max_pool2d(x, c.kernel, c.stride, c.padding, c.dilation);
    CHECK(y.shape() == want.shape);
    CHECK(y.to_vector() == want.y);
    const DoubleTensor g = DoubleTensor::uniform(y.shape(), -1, 1, gen);
    y.backward(g);
    V gx(static_cast<size_t>(x.numel()), 0.0);
    for (size_t k = 0; k < want.argmax.size(); ++k)
      gx[static_cast<size_t>(want.argmax[k])] += g.array()[static_cast<Eigen::Index>(k)];
    check_close(x.grad().to_vector(), gx, 1e-15);
    // float32 agrees.
    const Tensor y32 =
        eigrad::max_pool2d(x.detach().to<float>(), c.kernel, c.stride, c.padding, c.dilation);
    CHECK(y32.to<double>().to_vector() == want.y);
  }
}

TEST_CASE("max_pool2d's gradients match finite differences", "[pool]") {
  uint64_t seed = 60;
  for (const PoolCase& c : kCases) {
    INFO(describe(c));
    check_gradients(
        [&c](const Ts& t) {
          return eigrad::max_pool2d(t[0], c.kernel, c.stride, c.padding, c.dilation);
        },
        {distinct_values(c.x, seed++)});
  }
}

TEST_CASE("avg_pool2d matches hand-computed means with and without the padding", "[pool]") {
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3}, true);
  CHECK(eigrad::avg_pool2d(x, 2, 1).to_vector() == V{3, 4, 6, 7});
  // Padding 1, stride 2: the corner windows hold one element of four (or of one).
  CHECK(eigrad::avg_pool2d(x, 2, 2, 1).to_vector() == V{0.25, 5.0 / 4, 11.0 / 4, 7});
  CHECK(eigrad::avg_pool2d(x, 2, 2, 1, false).to_vector() == V{1, 2.5, 5.5, 7});
  eigrad::avg_pool2d(x, 2, 1).backward(DoubleTensor::ones({1, 2, 2}));
  CHECK(x.grad().to_vector() == V{0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25});
}

TEST_CASE("avg_pool2d matches a direct loop and finite differences", "[pool]") {
  uint64_t seed = 80;
  for (const PoolCase& c : kCases)
    for (bool include : {true, false}) {
      INFO(describe(c) << " count_include_pad " << include);
      Generator gen(seed++);
      const DoubleTensor x = DoubleTensor::uniform(c.x, -1, 1, gen).set_requires_grad();
      const DoubleTensor y = eigrad::avg_pool2d(x, c.kernel, c.stride, c.padding, include);
      const DoubleTensor g = DoubleTensor::uniform(y.shape(), -1, 1, gen);
      V gx(static_cast<size_t>(x.numel()), 0.0);
      const V gv = g.to_vector();
      check_close(y.to_vector(), reference_avg(c, x.to_vector(), include, &gv, &gx), 1e-14);
      y.backward(g);
      check_close(x.grad().to_vector(), gx, 1e-14);
      const Tensor y32 =
          eigrad::avg_pool2d(x.detach().to<float>(), c.kernel, c.stride, c.padding, include);
      check_close(y32.to<double>().to_vector(), y.to_vector(), 1e-6);
      check_gradients(
          [&c, include](const Ts& t) {
            return eigrad::avg_pool2d(t[0], c.kernel, c.stride, c.padding, include);
          },
          {x.detach().clone().set_requires_grad()});
    }
}

TEST_CASE("adaptive_avg_pool2d averages PyTorch's adaptive windows", "[pool]") {
  // (1, 1) is the global mean of each plane.
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2}, true);
  const DoubleTensor y = eigrad::adaptive_avg_pool2d(x, 1);
  CHECK(y.shape() == Shape{1, 2, 1, 1});
  CHECK(y.to_vector() == V{2.5, 25});
  y.backward(DoubleTensor::ones({1, 2, 1, 1}));
  CHECK(x.grad().to_vector() == V{0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25});
  // 5 columns into 3: windows [0, 2), [1, 4), [3, 5), overlapping.
  const DoubleTensor row = DoubleTensor::from({1, 2, 3, 4, 5}, {1, 1, 5});
  CHECK(eigrad::adaptive_avg_pool2d(row, {1, 3}).to_vector() == V{1.5, 3, 4.5});
  uint64_t seed = 90;
  for (const auto& [shape, ho, wo] : std::vector<std::tuple<Shape, int64_t, int64_t>>{
           {{2, 3, 7, 5}, 3, 2}, {{1, 2, 4, 6}, 4, 6}, {{3, 5, 3}, 2, 4}, {{1, 1, 6, 9}, 1, 1}}) {
    INFO(shape.str() << " -> " << ho << " x " << wo);
    Generator gen(seed++);
    const DoubleTensor xs = DoubleTensor::uniform(shape, -1, 1, gen).set_requires_grad();
    const DoubleTensor ys = eigrad::adaptive_avg_pool2d(xs, {ho, wo});
    const DoubleTensor g = DoubleTensor::uniform(ys.shape(), -1, 1, gen);
    V gx(static_cast<size_t>(xs.numel()), 0.0);
    const V gv = g.to_vector();
    check_close(ys.to_vector(), reference_adaptive(shape, xs.to_vector(), ho, wo, &gv, &gx), 1e-14);
    ys.backward(g);
    check_close(xs.grad().to_vector(), gx, 1e-14);
    check_gradients(
        [ho = ho, wo = wo](const Ts& t) {
          return eigrad::adaptive_avg_pool2d(t[0], {ho, wo});
        },
        {xs.detach().clone().set_requires_grad()});
  }
}

TEST_CASE("pooling rejects bad arguments with the op and the shapes", "[pool]") {
  using Catch::Contains;
  const DoubleTensor x = DoubleTensor::zeros({2, 3, 5, 5});
  CHECK_THROWS_AS(eigrad::max_pool2d(DoubleTensor::zeros({5, 5}), 2), Error);
  CHECK_THROWS_WITH(eigrad::max_pool2d(DoubleTensor::zeros({5, 5}), 2),
                    Contains("max_pool2d") && Contains("[5, 5]") && Contains("[N, C, H, W]"));
  CHECK_THROWS_WITH(eigrad::avg_pool2d(DoubleTensor::zeros({1, 1, 1, 5, 5}), 2),
                    Contains("avg_pool2d") && Contains("[1, 1, 1, 5, 5]"));
  CHECK_THROWS_WITH(eigrad::max_pool2d(x, {0, 2}),
                    Contains("max_pool2d") && Contains("kernel_size >= 1") && Contains("(0, 2)") &&
                        Contains("[2, 3, 5, 5]"));
  CHECK_THROWS_WITH(eigrad::max_pool2d(x, 2, {1, 0}),
                    Contains("max_pool2d") && Contains("stride >= 1") && Contains("(1, 0)"));
  CHECK_THROWS_WITH(eigrad::max_pool2d(x, 2, 2, -1),
                    Contains("max_pool2d") && Contains("padding >= 0") && Contains("(-1, -1)"));
  CHECK_THROWS_WITH(eigrad::max_pool2d(x, 3, 1, {1, 2}),
                    Contains("max_pool2d") && Contains("at most half the kernel size") &&
                        Contains("(1, 2)") && Contains("(3, 3)"));
  CHECK_THROWS_WITH(eigrad::avg_pool2d(x, 2, 1, 2),
                    Contains("avg_pool2d") && Contains("at most half the kernel size"));
  CHECK_THROWS_WITH(eigrad::max_pool2d(x, 2, 1, 0, 0),
                    Contains("max_pool2d") && Contains("dilation >= 1"));
  CHECK_THROWS_WITH(eigrad::max_pool2d(x, 6), Contains("max_pool2d") &&
                                                  Contains("non-empty output") &&
                                                  Contains("[2, 3, 5, 5]") && Contains("(6, 6)"));
  CHECK_THROWS_WITH(eigrad::max_pool2d(x, 3, 1, 0, 3),
                    Contains("max_pool2d") && Contains("non-empty output"));
  CHECK_THROWS_WITH(eigrad::adaptive_avg_pool2d(x, {0, 1}), Contains("adaptive_avg_pool2d") &&
                                                                Contains("(0, 1)") &&
                                                                Contains("[2, 3, 5, 5]"));
  CHECK_THROWS_WITH(eigrad::adaptive_avg_pool2d(DoubleTensor::zeros({2, 0, 5}), 1),
                    Contains("adaptive_avg_pool2d") && Contains("[2, 0, 5]"));
  CHECK_THROWS_WITH(eigrad::adaptive_avg_pool2d(DoubleTensor::zeros({5}), 1),
                    Contains("adaptive_avg_pool2d") && Contains("[5]"));
}

TEST_CASE("pooling refuses an empty channel or spatial axis, as PyTorch does", "[pool]") {
  using Catch::Contains;
  // (fuzz finding: such inputs gave outputs of uninitialised values)
  CHECK_THROWS_WITH(eigrad::avg_pool2d(DoubleTensor::zeros({1, 4, 0, 2}), {2, 4}, {3, 2}, {1, 2}),
                    Contains("avg_pool2d") && Contains("[1, 4, 0, 2]") && Contains("non-empty"));
  CHECK_THROWS_WITH(eigrad::max_pool2d(DoubleTensor::zeros({2, 0, 4, 4}), 2),
                    Contains("max_pool2d") && Contains("[2, 0, 4, 4]"));
  CHECK_THROWS_WITH(eigrad::max_pool2d(DoubleTensor::zeros({0, 4, 4}), 2),
                    Contains("max_pool2d") && Contains("[0, 4, 4]"));
  // Only the batch axis may be empty.
  CHECK(eigrad::max_pool2d(DoubleTensor::zeros({0, 2, 4, 4}), 2).shape() == Shape{0, 2, 2, 2});
}

TEST_CASE("max_pool2d gives -inf and no gradient for a window that lies in the padding alone",
          "[pool]") {
  // H = 1 with padding 1 and dilation 2 over a kernel of height 2: the window reads rows -1 and
  // 1, both padding. (fuzz finding: the backward wrote before the gradient's buffer)
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 5}, {1, 1, 1, 5}, true);
  const DoubleTensor y = eigrad::max_pool2d(x, 2, 3, 1, {2, 1});
  REQUIRE(y.shape() == Shape{1, 1, 1, 2});
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(y.to_vector() == V{-inf, -inf});
  y.backward(DoubleTensor::ones({1, 1, 1, 2}));
  CHECK(x.grad().to_vector() == V{0, 0, 0, 0, 0});
}

TEST_CASE("max_pool2d's 2 x 2 stride-2 fast path agrees with the general path and a direct loop",
          "[pool][fast_path][threads]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  // Odd and even sizes (an odd height or width leaves a row or column no window covers), one
  // window, [C, H, W], and a size whose work is split across threads.
  const std::vector<Shape> shapes{{1, 1, 2, 2}, {2, 3, 7, 9},  {1, 2, 28, 28},
                                  {4, 3, 5},    {3, 1, 2, 11}, {16, 32, 29, 34}};
  const int threads_before = eigrad::num_threads();
  uint64_t seed = 90;
  for (const Shape& shape : shapes)
    for (int threads : {1, 2, 3}) {
      INFO("x " << shape.str() << " at " << threads << " threads");
      eigrad::set_num_threads(threads);
      Generator gen(seed++);
      // Ties (values rounded to 0.5), NaNs and -infinity, which decide the argmax.
      DoubleTensor x = DoubleTensor::uniform(shape, -3, 3, gen);
      for (double& v : x.mutable_array()) {
        v = std::round(2 * v) / 2;
        const uint64_t r = gen.randint(50);
        if (r == 0) v = nan;
        if (r == 1) v = -inf;
      }
      const PoolCase c{shape, {2, 2}, {2, 2}, {0, 0}, {1, 1}};
      const Pooled want = reference_max(c, x.to_vector());
      const DoubleTensor g = DoubleTensor::uniform(want.shape, -1, 1, gen);
      V want_gx(static_cast<size_t>(x.numel()), 0.0);
      for (size_t k = 0; k < want.argmax.size(); ++k)
        want_gx[static_cast<size_t>(want.argmax[k])] += g.array()[static_cast<Eigen::Index>(k)];
      // The values, the gradient, and the gradient's own derivative in g (the gather by the
      // argmax) on either path.
      auto run = [&](bool fast) {
        eigrad::set_fast_paths(fast);
        const DoubleTensor xi = x.detach().set_requires_grad();
        const DoubleTensor gi = g.detach().set_requires_grad();
        const DoubleTensor y = eigrad::max_pool2d(xi, 2);
        const DoubleTensor gx = eigrad::grad({y}, {xi}, {gi}, std::nullopt, true)[0];
        Generator ug(7);
        const DoubleTensor u = DoubleTensor::uniform(shape, -1, 1, ug);
        const DoubleTensor gg = eigrad::grad({eigrad::sum(gx * u)}, {gi})[0];
        const Tensor y32 = eigrad::max_pool2d(x.detach().to<float>(), 2);
        eigrad::set_fast_paths(true);
        return std::array<V, 4>{y.to_vector(), gx.to_vector(), gg.to_vector(),
                                y32.to<double>().to_vector()};
      };
      const std::array<V, 4> fast = run(true), general = run(false);
      auto same = [](const V& a, const V& b) {  // equal, NaN where NaN
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i)
          if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
        return true;
      };
      CHECK(same(fast[0], want.y));
      CHECK(same(fast[3], want.y));
      CHECK(fast[1] == want_gx);
      for (size_t i = 0; i < 4; ++i) CHECK(same(fast[i], general[i]));
      // The gather: gg[k] = u at output k's argmax.
      Generator ug(7);
      const DoubleTensor u = DoubleTensor::uniform(shape, -1, 1, ug);
      V want_gg;
      for (int64_t at : want.argmax) want_gg.push_back(u.array()[static_cast<Eigen::Index>(at)]);
      CHECK(fast[2] == want_gg);
    }
  eigrad::set_num_threads(threads_before);
}
