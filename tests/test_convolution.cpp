// conv2d and conv1d: forward and backward against direct loops written here and by hand,
// gradients against float64 finite differences, float32 against float64, and bad arguments.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "eigrad/backends.hpp"
#include "eigrad/eigrad.hpp"
#include "support.hpp"

using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_close;
using eigrad::test::window_out_size;
using V = std::vector<double>;
using Ts = std::vector<DoubleTensor>;

using eigrad::test::ConvCase;
using eigrad::test::describe;

namespace {

// Calls f(n, o, oh, ow, ci, ih, iw, i, j) for every product of the convolution that reads an
// input element (the padding contributes nothing): the 7-deep loop of the definition.
template <class F>
void for_each_product(const ConvCase& c, F&& f) {
  const int64_t N = c.x[0], C = c.x[1], H = c.x[2], W = c.x[3];
  const int64_t O = c.w[0], Cg = c.w[1], kH = c.w[2], kW = c.w[3];
  const int64_t Ho = window_out_size(H, kH, c.stride[0], c.padding[0], c.dilation[0]);
  const int64_t Wo = window_out_size(W, kW, c.stride[1], c.padding[1], c.dilation[1]);
  (void)C;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow)
          for (int64_t ci = 0; ci < Cg; ++ci)
            for (int64_t i = 0; i < kH; ++i)
              for (int64_t j = 0; j < kW; ++j) {
                const int64_t ih = oh * c.stride[0] - c.padding[0] + i * c.dilation[0];
                const int64_t iw = ow * c.stride[1] - c.padding[1] + j * c.dilation[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const int64_t channel = o / (O / c.groups) * Cg + ci;
                f(((n * O + o) * Ho + oh) * Wo + ow, ((n * c.x[1] + channel) * H + ih) * W + iw,
                  ((o * Cg + ci) * kH + i) * kW + j, o);
              }
}

Shape out_shape(const ConvCase& c) {
  return {c.x[0], c.w[0], window_out_size(c.x[2], c.w[2], c.stride[0], c.padding[0], c.dilation[0]),
          window_out_size(c.x[3], c.w[3], c.stride[1], c.padding[1], c.dilation[1])};
}

V reference_forward(const ConvCase& c, const V& x, const V& w, const V& b) {
  V y(static_cast<size_t>(out_shape(c).numel()), 0.0);
  if (c.bias) {
    const int64_t per_channel = y.size() / (c.x[0] * c.w[0]);
    for (size_t k = 0; k < y.size(); ++k)
      y[k] = b[static_cast<size_t>(static_cast<int64_t>(k) / per_channel % c.w[0])];
  }
  for_each_product(c, [&](int64_t yi, int64_t xi, int64_t wi, int64_t) {
    y[static_cast<size_t>(yi)] += x[static_cast<size_t>(xi)] * w[static_cast<size_t>(wi)];
  });
  return y;
}

struct Grads {
  V x, w, b;
};
Grads reference_backward(const ConvCase& c, const V& x, const V& w, const V& g) {
  Grads r{V(x.size(), 0.0), V(w.size(), 0.0), V(static_cast<size_t>(c.w[0]), 0.0)};
  for_each_product(c, [&](int64_t yi, int64_t xi, int64_t wi, int64_t) {
    const double gy = g[static_cast<size_t>(yi)];
    r.x[static_cast<size_t>(xi)] += gy * w[static_cast<size_t>(wi)];
    r.w[static_cast<size_t>(wi)] += gy * x[static_cast<size_t>(xi)];
  });
  const int64_t per_channel = static_cast<int64_t>(g.size()) / (c.x[0] * c.w[0]);
  for (size_t k = 0; k < g.size(); ++k)
    r.b[static_cast<size_t>(static_cast<int64_t>(k) / per_channel % c.w[0])] += g[k];
  return r;
}

DoubleTensor conv(const ConvCase& c, const DoubleTensor& x, const DoubleTensor& w,
                  const DoubleTensor& b) {
  return eigrad::conv2d(x, w, c.bias ? b : DoubleTensor(), c.stride, c.padding, c.dilation,
                        c.groups);
}

// Hand-picked cases covering each feature alone, then random ones combining them.
std::vector<ConvCase> cases(int random_count, int64_t max_batch) {
  std::vector<ConvCase> r{
      {{1, 1, 5, 5}, {1, 1, 3, 3}, false, {1, 1}, {0, 0}, {1, 1}, 1},  // batch 1, one channel
      {{2, 3, 7, 6}, {4, 3, 3, 2}, true, {2, 1}, {1, 0}, {1, 1}, 1},   // stride, non-square
      {{2, 4, 6, 7}, {6, 2, 2, 3}, true, {1, 2}, {1, 1}, {2, 1}, 2},   // groups, dilation
      {{1, 6, 5, 5}, {6, 1, 3, 3}, false, {1, 1}, {1, 1}, {1, 1}, 6},  // depthwise
      {{3, 2, 4, 4}, {5, 2, 1, 1}, true, {1, 1}, {0, 0}, {1, 1}, 1},   // 1 x 1
      {{2, 2, 3, 8}, {3, 2, 3, 3}, true, {3, 3}, {2, 1}, {1, 3}, 1},   // stride 3, wide padding
  };
  Generator gen(12);
  auto pick = [&](int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(gen.randint(static_cast<uint64_t>(hi - lo + 1)));
  };
  while (static_cast<int>(r.size()) < 6 + random_count) {
    const int64_t groups = pick(1, 3), cg = pick(1, 2), og = pick(1, 2);
    ConvCase c{{pick(1, max_batch), groups * cg, pick(1, 9), pick(1, 9)},
               {groups * og, cg, pick(1, 3), pick(1, 4)},
               pick(0, 1) == 1,
               {pick(1, 3), pick(1, 3)},
               {pick(0, 2), pick(0, 2)},
               {pick(1, 2), pick(1, 2)},
               groups};
    bool ok = true;
    for (int a = 0; a < 2; ++a)
      ok = ok && c.x[a + 2] + 2 * c.padding[a] >= c.dilation[a] * (c.w[a + 2] - 1) + 1;
    if (ok) r.push_back(c);
  }
  return r;
}

}  // namespace

TEST_CASE("conv2d matches hand-computed sums of windows", "[conv]") {
  // 1..9 in a 3 x 3 plane; a 2 x 2 kernel of ones sums each 2 x 2 window.
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  const DoubleTensor ones = DoubleTensor::ones({1, 1, 2, 2});
  CHECK(eigrad::conv2d(x, ones).to_vector() == V{12, 16, 24, 28});
  // Padding 1, stride 2, bias 10: windows at rows/columns -1 and 1 see 1 | 2+3 | 4+7 | 5+6+8+9.
  const DoubleTensor b = DoubleTensor::from({10});
  CHECK(eigrad::conv2d(x, ones, b, 2, 1).to_vector() == V{11, 15, 21, 38});
  // Dilation 2 with a 2 x 2 kernel reads the corners; weights 1, 10, 100, 1000.
  const DoubleTensor corners = DoubleTensor::from({1, 10, 100, 1000}, {1, 1, 2, 2});
  CHECK(eigrad::conv2d(x, corners, DoubleTensor(), 1, 0, 2).to_vector() == V{9731});
  // Two groups: each output channel sees only its own input channel.
  const DoubleTensor x2 = DoubleTensor::from({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2});
  const DoubleTensor w2 = DoubleTensor::from({1, 0, 0, 0, 0, 0, 0, 1}, {2, 1, 2, 2});
  CHECK(eigrad::conv2d(x2, w2, DoubleTensor(), 1, 0, 1, 2).to_vector() == V{1, 40});
  CHECK(eigrad::conv2d(x2, w2, DoubleTensor(), 1, 0, 1, 2).shape() == Shape{1, 2, 1, 1});
}

TEST_CASE("conv2d's gradients match hand-computed values", "[conv]") {
  // y = sum of the 2 x 2 windows of a 3 x 3 plane: each input counts once per window it is in.
  const DoubleTensor x =
      DoubleTensor::from({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}, /*requires_grad=*/true);
  const DoubleTensor w = DoubleTensor::ones({1, 1, 2, 2}, true);
  const DoubleTensor b = DoubleTensor::zeros({1}, true);
  eigrad::sum(eigrad::conv2d(x, w, b)).backward();
  CHECK(x.grad().to_vector() == V{1, 2, 1, 2, 4, 2, 1, 2, 1});
  // dL/dw[i][j] = the sum of the inputs each tap reads: 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9.
  CHECK(w.grad().to_vector() == V{12, 16, 24, 28});
  CHECK(b.grad().to_vector() == V{4});
}

TEST_CASE("conv2d matches a direct loop on shapes with stride, padding, dilation and groups",
          "[conv]") {
  uint64_t seed = 100;
  for (const ConvCase& c : cases(24, 3)) {
    INFO(describe(c));
    Generator gen(seed++);
    const DoubleTensor x = DoubleTensor::uniform(c.x, -1, 1, gen);
    const DoubleTensor w = DoubleTensor::uniform(c.w, -1, 1, gen);
    const DoubleTensor b = DoubleTensor::uniform({c.w[0]}, -1, 1, gen);
    const DoubleTensor y = conv(c, x, w, b);
    CHECK(y.shape() == out_shape(c));
    check_close(y.to_vector(), reference_forward(c, x.to_vector(), w.to_vector(), b.to_vector()),
                1e-12);
  }
}

TEST_CASE("conv2d's backward matches a direct loop, across threads", "[conv]") {
  // Batches of 16 make enough work for parallel_for to split the samples.
  for (const ConvCase& c :
       {ConvCase{{16, 8, 12, 12}, {16, 4, 3, 3}, true, {1, 1}, {1, 1}, {1, 1}, 2},
        ConvCase{{16, 6, 13, 11}, {8, 6, 3, 2}, true, {2, 1}, {1, 0}, {1, 2}, 1},
        ConvCase{{16, 8, 10, 10}, {8, 8, 1, 1}, true, {1, 1}, {0, 0}, {1, 1}, 1}}) {
    INFO(describe(c));
    Generator gen(7);
    const DoubleTensor x = DoubleTensor::uniform(c.x, -1, 1, gen).set_requires_grad();
    const DoubleTensor w = DoubleTensor::uniform(c.w, -1, 1, gen).set_requires_grad();
    const DoubleTensor b = DoubleTensor::uniform({c.w[0]}, -1, 1, gen).set_requires_grad();
    const DoubleTensor g = DoubleTensor::uniform(out_shape(c), -1, 1, gen);
    const DoubleTensor y = conv(c, x, w, b);
    check_close(y.to_vector(), reference_forward(c, x.to_vector(), w.to_vector(), b.to_vector()),
                1e-12);
    y.backward(g);
    const Grads want = reference_backward(c, x.to_vector(), w.to_vector(), g.to_vector());
    check_close(x.grad().to_vector(), want.x, 1e-12);
    check_close(w.grad().to_vector(), want.w, 1e-12);
    check_close(b.grad().to_vector(), want.b, 1e-12);
  }
}

TEST_CASE("conv2d in float32 agrees with the float64 direct loop", "[conv]") {
  uint64_t seed = 300;
  for (const ConvCase& c : cases(8, 4)) {
    INFO(describe(c));
    Generator gen(seed++);
    const DoubleTensor x = DoubleTensor::uniform(c.x, -1, 1, gen);
    const DoubleTensor w = DoubleTensor::uniform(c.w, -1, 1, gen);
    const DoubleTensor b = DoubleTensor::uniform({c.w[0]}, -1, 1, gen);
    const Tensor y = eigrad::conv2d(x.to<float>(), w.to<float>(), c.bias ? b.to<float>() : Tensor(),
                                    c.stride, c.padding, c.dilation, c.groups);
    check_close(y.to<double>().to_vector(),
                reference_forward(c, x.to_vector(), w.to_vector(), b.to_vector()), 1e-5);
  }
}

TEST_CASE("conv2d's gradients match finite differences", "[conv]") {
  uint64_t seed = 500;
  for (const ConvCase& c : cases(6, 2)) {
    INFO(describe(c));
    Generator gen(seed++);
    const DoubleTensor x = DoubleTensor::uniform(c.x, -1, 1, gen).set_requires_grad();
    const DoubleTensor w = DoubleTensor::uniform(c.w, -1, 1, gen).set_requires_grad();
    const DoubleTensor b = DoubleTensor::uniform({c.w[0]}, -1, 1, gen).set_requires_grad();
    const eigrad::GradcheckReport r =
        eigrad::gradcheck([&c](const Ts& t) { return conv(c, t[0], t[1], t[2]); }, {x, w, b});
    INFO(r.str());
    CHECK(r.passed);
    CHECK(r.checked > 0);
  }
}

TEST_CASE("conv2d's Winograd fast path agrees with the general path and a direct loop",
          "[conv][fast_path][threads]") {
  // 3 x 3 at stride 1 with at least 16 channels in and out goes through Winograd's F(2x2, 3x3)
  // (forward, and the input gradient when the padding is at most 2). Odd and even outputs (a
  // last tile that sticks out), paddings 0 to 3 (3: the input gradient declines), images
  // smaller than a tile, and shapes the path declines (stride, dilation, groups, a 3 x 2
  // kernel, 15 channels), at 1, 2 and 3 threads, float64 against the direct loop and float32
  // against it too.
  std::vector<ConvCase> shapes{
      {{3, 16, 14, 14}, {16, 16, 3, 3}, true, {1, 1}, {1, 1}, {1, 1}, 1},
      {{2, 17, 7, 9}, {20, 17, 3, 3}, false, {1, 1}, {0, 0}, {1, 1}, 1},
      {{2, 16, 5, 6}, {16, 16, 3, 3}, true, {1, 1}, {2, 2}, {1, 1}, 1},
      {{1, 18, 4, 3}, {16, 18, 3, 3}, true, {1, 1}, {1, 2}, {1, 1}, 1},
      {{2, 16, 1, 1}, {16, 16, 3, 3}, true, {1, 1}, {1, 1}, {1, 1}, 1},
      {{2, 16, 6, 5}, {17, 16, 3, 3}, true, {1, 1}, {3, 3}, {1, 1}, 1},
      {{2, 16, 9, 9}, {16, 16, 3, 3}, true, {2, 2}, {1, 1}, {1, 1}, 1},
      {{2, 16, 9, 9}, {16, 16, 3, 3}, true, {1, 1}, {2, 2}, {2, 2}, 1},
      {{2, 32, 6, 6}, {32, 16, 3, 3}, true, {1, 1}, {1, 1}, {1, 1}, 2},
      {{2, 16, 6, 6}, {16, 16, 3, 2}, true, {1, 1}, {1, 1}, {1, 1}, 1},
      {{2, 15, 6, 6}, {16, 15, 3, 3}, true, {1, 1}, {1, 1}, {1, 1}, 1},
  };
  Generator pick_gen(77);
  auto pick = [&](int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(pick_gen.randint(static_cast<uint64_t>(hi - lo + 1)));
  };
  for (int i = 0; i < 6; ++i)
    shapes.push_back({{pick(1, 3), pick(16, 19), pick(1, 11), pick(1, 11)},
                      {pick(16, 19), 0, 3, 3},
                      pick(0, 1) == 1,
                      {1, 1},
                      {pick(0, 2), pick(0, 2)},
                      {1, 1},
                      1});
  const int threads_before = eigrad::num_threads();
  uint64_t seed = 700;
  for (ConvCase c : shapes) {
    if (c.w[1] == 0) c.w[1] = c.x[1];
    for (int threads : {1, 2, 3}) {
      INFO(describe(c) << " at " << threads << " threads");
      eigrad::set_num_threads(threads);
      Generator gen(seed++);
      const DoubleTensor x = DoubleTensor::uniform(c.x, -1, 1, gen);
      const DoubleTensor w = DoubleTensor::uniform(c.w, -1, 1, gen);
      const DoubleTensor b = DoubleTensor::uniform({c.w[0]}, -1, 1, gen);
      const DoubleTensor g = DoubleTensor::uniform(out_shape(c), -1, 1, gen);
      const V want_y = reference_forward(c, x.to_vector(), w.to_vector(), b.to_vector());
      const Grads want = reference_backward(c, x.to_vector(), w.to_vector(), g.to_vector());
      for (bool fast : {true, false}) {
        INFO((fast ? "fast paths on" : "fast paths off"));
        eigrad::set_fast_paths(fast);
        const DoubleTensor xi = x.detach().set_requires_grad();
        const DoubleTensor wi = w.detach().set_requires_grad();
        const DoubleTensor bi = b.detach().set_requires_grad();
        const DoubleTensor y = conv(c, xi, wi, bi);
        y.backward(g);
        const Tensor y32 =
            eigrad::conv2d(x.to<float>(), w.to<float>(), c.bias ? b.to<float>() : Tensor(),
                           c.stride, c.padding, c.dilation, c.groups);
        eigrad::set_fast_paths(true);
        check_close(y.to_vector(), want_y, 1e-12);
        check_close(xi.grad().to_vector(), want.x, 1e-12);
        check_close(wi.grad().to_vector(), want.w, 1e-12);
        if (c.bias) check_close(bi.grad().to_vector(), want.b, 1e-12);
        // Float32 against float64: the largest error measured on shapes like these (values up
        // to 16-23) is 2.6e-6 (Winograd) and 6.4e-6 (im2col) for the output, 2.6e-6 and 2.1e-6
        // for the input gradient.
        check_close(y32.to<double>().to_vector(), want_y, 1e-5);
      }
    }
  }
  eigrad::set_num_threads(threads_before);
}

TEST_CASE("conv2d's Winograd path: first and second derivatives against finite differences",
          "[conv][fast_path]") {
  // The graph backward (for second order) runs the forward kernel on the gradients: both
  // derivatives of an eligible shape through Winograd, with padding 1 and 2.
  for (int64_t padding : {1, 2}) {
    INFO("padding " << padding);
    Generator gen(88 + static_cast<uint64_t>(padding));
    const DoubleTensor x = DoubleTensor::uniform({1, 16, 3, 4}, -1, 1, gen).set_requires_grad();
    const DoubleTensor w = DoubleTensor::uniform({16, 16, 3, 3}, -1, 1, gen).set_requires_grad();
    const DoubleTensor b = DoubleTensor::uniform({16}, -1, 1, gen).set_requires_grad();
    const auto f = [padding](const Ts& t) { return eigrad::conv2d(t[0], t[1], t[2], 1, padding); };
    const eigrad::GradcheckReport first = eigrad::gradcheck(f, {x, w, b});
    INFO(first.str());
    CHECK(first.passed);
    const eigrad::GradcheckReport second = eigrad::gradgradcheck(f, {x, w, b});
    INFO(second.str());
    CHECK(second.passed);
  }
}

TEST_CASE("conv2d computes only the gradients its inputs need", "[conv]") {
  Generator gen(9);
  const DoubleTensor x = DoubleTensor::uniform({2, 2, 5, 5}, -1, 1, gen);
  const DoubleTensor w = DoubleTensor::uniform({3, 2, 3, 3}, -1, 1, gen).set_requires_grad();
  const DoubleTensor b = DoubleTensor::uniform({3}, -1, 1, gen);
  eigrad::sum(eigrad::conv2d(x, w, b, 1, 1)).backward();
  CHECK(w.grad().defined());
  CHECK_FALSE(x.grad().defined());
  // Without any input needing a gradient, no node is recorded.
  CHECK(eigrad::conv2d(x, w.detach(), b).is_leaf());
}

TEST_CASE("conv1d matches a direct loop and its gradients match finite differences", "[conv]") {
  // Hand-computed: [1, 2, 3, 4, 5] by [1, -1] with padding 1, stride 2: 0-1, 2-3, 4-5.
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 5}, {1, 1, 5});
  const DoubleTensor diff = DoubleTensor::from({1, -1}, {1, 1, 2});
  CHECK(eigrad::conv1d(x, diff, DoubleTensor(), 2, 1).to_vector() == V{-1, -1, -1});
  CHECK(eigrad::conv1d(x, diff, DoubleTensor(), 2, 1).shape() == Shape{1, 1, 3});
  // Random ones against the 2-d direct loop on [N, C, 1, L].
  Generator gen(21);
  for (const ConvCase& c :
       {ConvCase{{2, 4, 1, 11}, {6, 2, 1, 3}, true, {1, 2}, {0, 1}, {1, 2}, 2},
        ConvCase{{1, 1, 1, 6}, {2, 1, 1, 4}, false, {1, 1}, {0, 3}, {1, 1}, 1},
        ConvCase{{3, 3, 1, 9}, {3, 1, 1, 2}, true, {1, 3}, {0, 0}, {1, 3}, 3}}) {
    INFO(describe(c));
    const DoubleTensor x1 = DoubleTensor::uniform({c.x[0], c.x[1], c.x[3]}, -1, 1, gen);
    const DoubleTensor w1 = DoubleTensor::uniform({c.w[0], c.w[1], c.w[3]}, -1, 1, gen);
    const DoubleTensor b1 = DoubleTensor::uniform({c.w[0]}, -1, 1, gen);
    auto f = [&c](const Ts& t) {
      return eigrad::conv1d(t[0], t[1], c.bias ? t[2] : DoubleTensor(), c.stride[1], c.padding[1],
                            c.dilation[1], c.groups);
    };
    const DoubleTensor y = f({x1, w1, b1});
    CHECK(y.shape() == Shape{c.x[0], c.w[0], out_shape(c)[3]});
    check_close(y.to_vector(), reference_forward(c, x1.to_vector(), w1.to_vector(), b1.to_vector()),
                1e-12);
    const eigrad::GradcheckReport r =
        eigrad::gradcheck(f, {x1.clone().set_requires_grad(), w1.clone().set_requires_grad(),
                              b1.clone().set_requires_grad()});
    INFO(r.str());
    CHECK(r.passed);
  }
}

TEST_CASE("conv2d and conv1d reject bad arguments with the op and the shapes", "[conv]") {
  const DoubleTensor x = DoubleTensor::zeros({2, 6, 5, 5});
  const DoubleTensor w = DoubleTensor::zeros({4, 3, 3, 3});
  using Catch::Contains;
  CHECK_THROWS_AS(eigrad::conv2d(DoubleTensor::zeros({6, 5, 5}), w), Error);
  CHECK_THROWS_WITH(eigrad::conv2d(DoubleTensor::zeros({6, 5, 5}), w),
                    Contains("conv2d") && Contains("[6, 5, 5]") && Contains("[N, C, H, W]"));
  CHECK_THROWS_WITH(eigrad::conv2d(x, DoubleTensor::zeros({4, 3, 3})),
                    Contains("conv2d") && Contains("[4, 3, 3]") && Contains("weight"));
  CHECK_THROWS_WITH(
      eigrad::conv2d(x, DoubleTensor::zeros({4, 2, 3, 3}), DoubleTensor(), 1, 0, 1, 2),
      Contains("conv2d") && Contains("C / groups = 3") && Contains("[2, 6, 5, 5]") &&
          Contains("[4, 2, 3, 3]") && Contains("groups 2"));
  CHECK_THROWS_WITH(eigrad::conv2d(x, DoubleTensor::zeros({4, 3, 3, 3})),
                    Contains("C / groups = 6") && Contains("[4, 3, 3, 3]"));
  CHECK_THROWS_WITH(
      eigrad::conv2d(x, DoubleTensor::zeros({4, 1, 3, 3}), DoubleTensor(), 1, 0, 1, 4),
      Contains("conv2d") && Contains("divisible by groups 4") && Contains("[2, 6, 5, 5]"));
  CHECK_THROWS_WITH(
      eigrad::conv2d(x, DoubleTensor::zeros({4, 2, 3, 3}), DoubleTensor(), 1, 0, 1, 3),
      Contains("conv2d") && Contains("output channels divisible by groups 3") &&
          Contains("[4, 2, 3, 3]"));
  CHECK_THROWS_WITH(eigrad::conv2d(x, w, DoubleTensor(), 1, 0, 1, 0),
                    Contains("conv2d") && Contains("groups >= 1"));
  CHECK_THROWS_WITH(eigrad::conv2d(x, DoubleTensor::zeros({4, 6, 3, 3}), DoubleTensor::zeros({3})),
                    Contains("conv2d") && Contains("bias [O] = [4]") && Contains("[3]"));
  CHECK_THROWS_WITH(
      eigrad::conv2d(x, DoubleTensor::zeros({4, 6, 3, 3}), DoubleTensor::zeros({4, 1})),
      Contains("bias") && Contains("[4, 1]"));
  const DoubleTensor w6 = DoubleTensor::zeros({4, 6, 3, 3});
  CHECK_THROWS_WITH(eigrad::conv2d(x, w6, DoubleTensor(), {0, 1}),
                    Contains("conv2d") && Contains("stride >= 1") && Contains("(0, 1)") &&
                        Contains("[2, 6, 5, 5]"));
  CHECK_THROWS_WITH(eigrad::conv2d(x, w6, DoubleTensor(), 1, 0, {1, -1}),
                    Contains("conv2d") && Contains("dilation >= 1") && Contains("(1, -1)"));
  CHECK_THROWS_WITH(eigrad::conv2d(x, w6, DoubleTensor(), 1, -1),
                    Contains("conv2d") && Contains("padding >= 0") && Contains("(-1, -1)"));
  // A 3 x 3 kernel dilated by 3 spans 7 > 5 + 2 * 0.
  CHECK_THROWS_WITH(eigrad::conv2d(x, w6, DoubleTensor(), 1, 0, 3),
                    Contains("conv2d") && Contains("[4, 6, 3, 3]") && Contains("[2, 6, 5, 5]") &&
                        Contains("non-empty output") && Contains("(7, 7)"));
  CHECK_NOTHROW(eigrad::conv2d(x, w6, DoubleTensor(), 1, 1, 3));  // 5 + 2 = 7 fits
  // conv1d speaks of its own shapes.
  const DoubleTensor x1 = DoubleTensor::zeros({2, 4, 6});
  CHECK_THROWS_WITH(eigrad::conv1d(x, DoubleTensor::zeros({2, 4, 3})),
                    Contains("conv1d") && Contains("[N, C, L]") && Contains("[2, 6, 5, 5]"));
  CHECK_THROWS_WITH(eigrad::conv1d(x1, DoubleTensor::zeros({2, 3, 3})),
                    Contains("conv1d") && Contains("C / groups = 4") && Contains("[2, 3, 3]"));
  CHECK_THROWS_WITH(eigrad::conv1d(x1, DoubleTensor::zeros({2, 4, 7})),
                    Contains("conv1d") && Contains("non-empty output") && Contains("[2, 4, 6]"));
  CHECK_THROWS_WITH(eigrad::conv1d(x1, DoubleTensor::zeros({2, 4, 3}), DoubleTensor(), 0),
                    Contains("conv1d") && Contains("stride >= 1"));
}
