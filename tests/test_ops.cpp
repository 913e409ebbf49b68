// Core ops: forward values by hand, backward against float64 finite differences, errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_gradients;
using eigrad::test::random_leaf;
using V = std::vector<double>;

namespace {}  // namespace

TEST_CASE("elementwise arithmetic matches hand-computed values", "[ops]") {
  DoubleTensor a = DoubleTensor::from({1, 2, 3, 4}, {2, 2});
  DoubleTensor b = DoubleTensor::from({2, 4, 8, 16}, {2, 2});
  CHECK((a + b).to_vector() == V{3, 6, 11, 20});
  CHECK((a - b).to_vector() == V{-1, -2, -5, -12});
  CHECK((a * b).to_vector() == V{2, 8, 24, 64});
  CHECK((b / a).to_vector() == V{2, 2, 8.0 / 3.0, 4});
  CHECK((-a).to_vector() == V{-1, -2, -3, -4});
  CHECK((a + 1.0).to_vector() == V{2, 3, 4, 5});
  CHECK((10.0 - a).to_vector() == V{9, 8, 7, 6});
  CHECK((a * 0.5).to_vector() == V{0.5, 1, 1.5, 2});
  CHECK((a / 2.0).to_vector() == V{0.5, 1, 1.5, 2});
  CHECK((12.0 / a).to_vector() == V{12, 6, 4, 3});
}

TEST_CASE("binary ops broadcast like NumPy", "[ops]") {
  DoubleTensor m = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  DoubleTensor row = DoubleTensor::from({10, 20, 30}, {3});
  DoubleTensor col = DoubleTensor::from({100, 200}, {2, 1});
  CHECK((m + row).to_vector() == V{11, 22, 33, 14, 25, 36});
  CHECK((m + col).to_vector() == V{101, 102, 103, 204, 205, 206});
  CHECK((col + row).shape() == Shape{2, 3});
  CHECK((col * row).to_vector() == V{1000, 2000, 3000, 2000, 4000, 6000});
  CHECK((m * DoubleTensor::scalar(2)).to_vector() == V{2, 4, 6, 8, 10, 12});
}

TEST_CASE("broadcast gradients are summed back to each input's shape", "[ops]") {
  DoubleTensor m = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  DoubleTensor row = DoubleTensor::from({10, 20, 30}, {3}, true);
  DoubleTensor col = DoubleTensor::from({1, 2}, {2, 1}, true);
  eigrad::sum(m * row + col).backward();
  CHECK(row.grad().to_vector() == V{5, 7, 9});  // column sums of m
  CHECK(row.grad().shape() == Shape{3});
  CHECK(col.grad().to_vector() == V{3, 3});
  CHECK(col.grad().shape() == Shape{2, 1});
  CHECK(m.grad().to_vector() == V{10, 20, 30, 10, 20, 30});
}

TEST_CASE("binary ops reject shapes that do not broadcast", "[ops]") {
  DoubleTensor a = DoubleTensor::zeros({2, 3}), b = DoubleTensor::zeros({4});
  CHECK_THROWS_AS(a + b, Error);
  CHECK_THROWS_WITH(a * b, Catch::Contains("mul: cannot broadcast [2, 3] with [4]"));
}

TEST_CASE("arithmetic gradients match finite differences", "[ops]") {
  DoubleTensor a = random_leaf({2, 3}, 1), b = random_leaf({3}, 2, 0.5, 2),
               c = random_leaf({2, 1}, 3);
  using Ts = std::vector<DoubleTensor>;
  check_gradients([](const Ts& t) { return t[0] + t[1]; }, {a, b});
  check_gradients([](const Ts& t) { return t[0] - t[1] * t[2]; }, {a, b, c});
  check_gradients([](const Ts& t) { return t[0] / t[1]; }, {a, b});
  check_gradients([](const Ts& t) { return t[0] / t[1]; }, {c, b});
  check_gradients([](const Ts& t) { return -t[0] * 3.0 + 1.0; }, {a});
  check_gradients([](const Ts& t) { return 2.0 / t[0]; }, {b});
  check_gradients([](const Ts& t) { return 2.0 - t[0]; }, {a});
}

TEST_CASE("elementwise functions match closed forms", "[ops]") {
  DoubleTensor x = DoubleTensor::from({0.25, 1, 4});
  CHECK(eigrad::exp(x).to_vector() == V{std::exp(0.25), std::exp(1.0), std::exp(4.0)});
  CHECK(eigrad::log(x).to_vector() == V{std::log(0.25), 0, std::log(4.0)});
  CHECK(eigrad::sqrt(x).to_vector() == V{0.5, 1, 2});
  CHECK(eigrad::pow(x, 2.0).to_vector() == V{0.0625, 1, 16});
  CHECK(eigrad::abs(DoubleTensor::from({-2, 0, 3})).to_vector() == V{2, 0, 3});
  CHECK(eigrad::clamp(DoubleTensor::from({-2, 0.5, 3}), 0.0, 1.0).to_vector() == V{0, 0.5, 1});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(std::isnan(eigrad::clamp(DoubleTensor::from({nan}), 0.0, 1.0).item()));
}

TEST_CASE("elementwise function gradients match finite differences", "[ops]") {
  DoubleTensor x = random_leaf({5}, 4, 0.2, 3);
  DoubleTensor s = DoubleTensor::from({-1.5, -0.3, 0.4, 2.5}, {4}, true);  // away from kinks
  using Ts = std::vector<DoubleTensor>;
  check_gradients([](const Ts& t) { return eigrad::exp(t[0]); }, {x});
  check_gradients([](const Ts& t) { return eigrad::log(t[0]); }, {x});
  check_gradients([](const Ts& t) { return eigrad::sqrt(t[0]); }, {x});
  check_gradients([](const Ts& t) { return eigrad::pow(t[0], 2.5); }, {x});
  check_gradients([](const Ts& t) { return eigrad::pow(t[0], -1.0); }, {x});
  check_gradients([](const Ts& t) { return eigrad::abs(t[0]); }, {s});
  check_gradients([](const Ts& t) { return eigrad::clamp(t[0], -1.0, 1.0); }, {s});
}

TEST_CASE("kinks take PyTorch's one-sided conventions", "[ops]") {
  DoubleTensor x = DoubleTensor::from({0, 1, -1}, {3}, true);
  eigrad::sum(eigrad::abs(x)).backward();
  CHECK(x.grad().to_vector() == V{0, 1, -1});  // abs'(0) = 0
  x.zero_grad();
  eigrad::sum(eigrad::clamp(x, -1.0, 1.0)).backward();
  CHECK(x.grad().to_vector() == V{1, 1, 1});  // the bounds themselves pass the gradient
  x.zero_grad();
  eigrad::sum(eigrad::pow(x, 0.0)).backward();
  CHECK(x.grad().to_vector() == V{0, 0, 0});
}

TEST_CASE("matmul multiplies 2-D and batched 3-D operands", "[ops]") {
  DoubleTensor a = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  DoubleTensor b = DoubleTensor::from({1, 0, 0, 1, 1, 1}, {3, 2});
  CHECK(eigrad::matmul(a, b).to_vector() == V{4, 5, 10, 11});
  CHECK(eigrad::matmul(a, b).shape() == Shape{2, 2});
  DoubleTensor ab = eigrad::reshape(eigrad::cat<double>({a, a * 2.0}, 0), {2, 2, 3});
  DoubleTensor bb = eigrad::reshape(eigrad::cat<double>({b, b}, 0), {2, 3, 2});
  CHECK(eigrad::matmul(ab, bb).to_vector() == V{4, 5, 10, 11, 8, 10, 20, 22});
  CHECK(eigrad::matmul(ab, b).to_vector() == V{4, 5, 10, 11, 8, 10, 20, 22});
}

TEST_CASE("matmul gradients match finite differences", "[ops]") {
  using Ts = std::vector<DoubleTensor>;
  auto mm = [](const Ts& t) { return eigrad::matmul(t[0], t[1]); };
  check_gradients(mm, {random_leaf({2, 3}, 5), random_leaf({3, 4}, 6)});
  check_gradients(mm, {random_leaf({2, 2, 3}, 7), random_leaf({2, 3, 2}, 8)});
  check_gradients(mm, {random_leaf({2, 2, 3}, 9), random_leaf({3, 2}, 10)});
}

TEST_CASE("matmul names both shapes when they do not fit", "[ops]") {
  CHECK_THROWS_WITH(eigrad::matmul(Tensor::zeros({3, 4}), Tensor::zeros({5, 2})),
                    "matmul: cannot multiply [3, 4] by [5, 2]: inner sizes 4 and 5 differ");
  CHECK_THROWS_WITH(eigrad::matmul(Tensor::zeros({3}), Tensor::zeros({3, 2})),
                    Catch::Contains("matmul: expected") && Catch::Contains("[3] x [3, 2]"));
  CHECK_THROWS_WITH(eigrad::matmul(Tensor::zeros({2, 3, 4}), Tensor::zeros({3, 4, 5})),
                    Catch::Contains("batch sizes 2 and 3 differ"));
}

TEST_CASE("transpose swaps two axes", "[ops]") {
  DoubleTensor a = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(eigrad::transpose(a, 0, 1).to_vector() == V{1, 4, 2, 5, 3, 6});
  CHECK(eigrad::transpose(a, 0, 1).shape() == Shape{3, 2});
  DoubleTensor c = DoubleTensor::arange(0, 24);
  DoubleTensor t = eigrad::transpose(eigrad::reshape(c, {2, 3, 4}), 0, 2);  // [4, 3, 2]
  CHECK(t.shape() == Shape{4, 3, 2});
  CHECK(t.at({3, 1, 0}) == 0 * 12 + 1 * 4 + 3);  // element [0, 1, 3] of the original
  CHECK(t.at({2, 2, 1}) == 1 * 12 + 2 * 4 + 2);
  using Ts = std::vector<DoubleTensor>;
  check_gradients([](const Ts& x) { return eigrad::transpose(x[0], 0, 2); },
                  {random_leaf({2, 3, 2}, 11)});
  check_gradients([](const Ts& x) { return eigrad::transpose(x[0], -1, 0); },
                  {random_leaf({2, 3}, 12)});
}

TEST_CASE("reshape and flatten keep the data and infer one size", "[ops]") {
  DoubleTensor a = DoubleTensor::arange(0, 24);
  CHECK(eigrad::reshape(a, {2, -1, 4}).shape() == Shape{2, 3, 4});
  CHECK(eigrad::flatten(eigrad::reshape(a, {2, 3, 4}), 1).shape() == Shape{2, 12});
  CHECK(eigrad::flatten(eigrad::reshape(a, {2, 3, 4})).shape() == Shape{24});
  CHECK(eigrad::flatten(eigrad::reshape(a, {2, 3, 4}), 0, 1).shape() == Shape{6, 4});
  CHECK_THROWS_WITH(eigrad::reshape(a, {5, -1}), Catch::Contains("reshape: cannot reshape [24]"));
  CHECK_THROWS_WITH(eigrad::reshape(a, {5, 5}), Catch::Contains("into [5, 5] (25 elements)"));
  using Ts = std::vector<DoubleTensor>;
  check_gradients(
      [](const Ts& x) {
        return eigrad::reshape(x[0], {3, 2}) * 2.0;
      },
      {random_leaf({6}, 13)});
}

TEST_CASE("sum and mean reduce everything or one axis", "[ops]") {
  DoubleTensor a = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(eigrad::sum(a).item() == 21);
  CHECK(eigrad::mean(a).item() == 3.5);
  CHECK(eigrad::sum(a, 0).to_vector() == V{5, 7, 9});
  CHECK(eigrad::sum(a, 1).to_vector() == V{6, 15});
  CHECK(eigrad::sum(a, -1, true).shape() == Shape{2, 1});
  CHECK(eigrad::mean(a, 0).to_vector() == V{2.5, 3.5, 4.5});
  CHECK(eigrad::mean(a, 1, true).to_vector() == V{2, 5});
  DoubleTensor b = eigrad::reshape(DoubleTensor::arange(0, 24), {2, 3, 4});
  CHECK(eigrad::sum(b, 1).to_vector()[0] == 0 + 4 + 8);
  CHECK(eigrad::sum(b, 1).shape() == Shape{2, 4});
  CHECK_THROWS_WITH(eigrad::sum(a, 2),
                    Catch::Contains("sum: axis 2 is out of range for a tensor of rank 2"));
  using Ts = std::vector<DoubleTensor>;
  DoubleTensor x = random_leaf({2, 3, 4}, 14);
  check_gradients([](const Ts& t) { return eigrad::sum(t[0]); }, {x});
  check_gradients([](const Ts& t) { return eigrad::mean(t[0]); }, {x});
  check_gradients([](const Ts& t) { return eigrad::sum(t[0], 1); }, {x});
  check_gradients([](const Ts& t) { return eigrad::mean(t[0], 0, true); }, {x});
  check_gradients([](const Ts& t) { return eigrad::mean(t[0], 2); }, {x});
}

TEST_CASE("max and argmax pick the first maximum along an axis", "[ops]") {
  DoubleTensor a = DoubleTensor::from({1, 5, 5, 7, 2, 0}, {2, 3});
  CHECK(eigrad::max(a, 1).to_vector() == V{5, 7});
  CHECK(eigrad::max(a, 0).to_vector() == V{7, 5, 5});
  CHECK(eigrad::argmax(a, 1).to_vector() == std::vector<int64_t>{1, 0});
  CHECK(eigrad::argmax(a, 0).to_vector() == std::vector<int64_t>{1, 0, 0});
  DoubleTensor x = DoubleTensor::from({1, 5, 5, 7, 2, 0}, {2, 3}, true);
  eigrad::sum(eigrad::max(x, 1)).backward();
  CHECK(x.grad().to_vector() == V{0, 1, 0, 1, 0, 0});
  using Ts = std::vector<DoubleTensor>;
  check_gradients([](const Ts& t) { return eigrad::max(t[0], 1); }, {random_leaf({3, 4}, 15)});
  CHECK_THROWS_WITH(eigrad::max(DoubleTensor::zeros({2, 0}), 1), Catch::Contains("empty"));
}

TEST_CASE("cat joins tensors along an axis and splits the gradient", "[ops]") {
  DoubleTensor a = DoubleTensor::from({1, 2, 3, 4}, {2, 2});
  DoubleTensor b = DoubleTensor::from({5, 6}, {2, 1});
  CHECK(eigrad::cat<double>({a, b}, 1).to_vector() == V{1, 2, 5, 3, 4, 6});
  CHECK(eigrad::cat<double>({a, a}, 0).shape() == Shape{4, 2});
  CHECK_THROWS_WITH(eigrad::cat<double>({a, b}, 0),
                    Catch::Contains("tensor 1 has shape [2, 1] but tensor 0 has shape [2, 2]"));
  CHECK_THROWS_WITH(eigrad::cat<double>({}, 0), Catch::Contains("at least one tensor"));
  using Ts = std::vector<DoubleTensor>;
  check_gradients(
      [](const Ts& t) {
        return eigrad::cat<double>({t[0], t[1]}, 1);
      },
      {random_leaf({2, 2}, 16), random_leaf({2, 3}, 17)});
}

TEST_CASE("index_select takes rows by index and scatters their gradient back", "[ops]") {
  DoubleTensor a = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {3, 2});
  CHECK(eigrad::index_select(a, 0, {2, 0, 2}).to_vector() == V{5, 6, 1, 2, 5, 6});
  CHECK(eigrad::index_select(a, 1, {1}).to_vector() == V{2, 4, 6});
  DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {3, 2}, true);
  eigrad::sum(eigrad::index_select(x, 0, {2, 0, 2})).backward();
  CHECK(x.grad().to_vector() == V{1, 1, 0, 0, 2, 2});
  CHECK_THROWS_WITH(eigrad::index_select(a, 0, {3}),
                    Catch::Contains("index 3 is out of range for axis 0 of size 3"));
}

TEST_CASE("elementwise ops give the same values in float32 and float64", "[ops]") {
  Tensor f = Tensor::from({0.5f, 1.5f, 2.5f});
  DoubleTensor d = f.to<double>();
  Tensor rf = eigrad::exp(f) * f + 1.0f;
  DoubleTensor rd = eigrad::exp(d) * d + 1.0;
  for (int i = 0; i < 3; ++i) CHECK(rf.at({i}) == Approx(rd.at({i})).epsilon(1e-6));
}

// Found by fuzz/fuzz_ops: a scalar summed along axis 1 returned the scalar.
TEST_CASE("a scalar reduces along axis 0 or -1 only, like a tensor of rank 1", "[ops]") {
  const Tensor s = Tensor::scalar(2.5f);
  CHECK(eigrad::sum(s, 0).item() == 2.5f);
  CHECK(eigrad::mean(s, -1).item() == 2.5f);
  using Catch::Contains;
  CHECK_THROWS_WITH(eigrad::sum(s, 1), Contains("sum") && Contains("axis 1") &&
                                           Contains("rank 0") && Contains("-1 to 0"));
  CHECK_THROWS_AS(eigrad::mean(s, -2), eigrad::Error);
}

// Found by fuzz/fuzz_safetensors: a file's shape could make the element count overflow.
TEST_CASE("a shape whose element count exceeds 2^63 - 1 is an error, not a wrapped count",
          "[ops]") {
  using Catch::Contains;
  const int64_t big = int64_t{1} << 32;
  CHECK_THROWS_WITH(eigrad::Shape({big, big}).numel(),
                    Contains("[4294967296, 4294967296]") && Contains("exceeds 2^63 - 1"));
  CHECK_THROWS_AS(Tensor::empty({big, big, 2}), eigrad::Error);
  CHECK(eigrad::Shape({big, big, 0}).numel() == 0);  // a zero dimension makes it empty
  CHECK(eigrad::Shape({int64_t{1} << 31, int64_t{1} << 31}).numel() == int64_t{1} << 62);
}

// Found by fuzz/fuzz_ops: sizes whose product overflows int64 passed reshape's count check.
TEST_CASE("reshape into sizes that multiply beyond 2^63 - 1 is an error", "[ops]") {
  const Tensor a = Tensor::zeros({4});
  const int64_t max = std::numeric_limits<int64_t>::max();
  CHECK_THROWS_WITH(eigrad::reshape(a, {max, int64_t{1} << 62, -1}),
                    Catch::Contains("reshape") && Catch::Contains("more than 2^63 - 1"));
  CHECK_THROWS_AS(eigrad::reshape(a, {int64_t{1} << 32, int64_t{1} << 32}), Error);
  CHECK(eigrad::reshape(Tensor::zeros({0}), {max, 0}).shape() == Shape{max, 0});
}

// Found by fuzz/fuzz_ops: reducing a tensor with an empty axis read through a null pointer.
TEST_CASE("sum and mean over an empty axis give 0 and NaN, and an empty gradient", "[ops]") {
  Tensor a = Tensor::zeros({3, 0, 2}, /*requires_grad=*/true);
  const Tensor s = eigrad::sum(a, 1), m = eigrad::mean(a, 1);
  CHECK(s.shape() == Shape{3, 2});
  CHECK(s.to_vector() == std::vector<float>(6, 0.0f));
  for (float v : m.to_vector()) CHECK(std::isnan(v));
  eigrad::sum(s).backward();
  CHECK(a.grad().shape() == Shape{3, 0, 2});
  CHECK(eigrad::sum(Tensor::zeros({0, 4}), 1).shape() == Shape{0});
}
