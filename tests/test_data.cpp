#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <numeric>
#include <set>

#include "eigrad/data/batches.hpp"
#include "eigrad/data/toy.hpp"
#include "eigrad/error.hpp"
#include "eigrad/random.hpp"

using eigrad::Generator;
using eigrad::Tensor;
using namespace eigrad::data;
using Catch::Matchers::Contains;

namespace {
constexpr double kPi = 3.14159265358979323846;

std::vector<int64_t> class_counts(const Dataset& d) {
  std::vector<int64_t> counts(static_cast<size_t>(d.num_classes), 0);
  for (int64_t c : d.y) ++counts.at(static_cast<size_t>(c));
  return counts;
}
}  // namespace

TEST_CASE("the spiral follows cs231n's construction point by point", "[data]") {
  const int64_t K = 3, N = 100;
  const double noise = 0.2;
  const Dataset d = make_spiral(K, N, 42, noise);
  REQUIRE(d.X.shape() == eigrad::Shape{K * N, 2});
  REQUIRE(d.num_classes == K);
  CHECK(class_counts(d) == std::vector<int64_t>{N, N, N});
  // Recomputed here: r = linspace(0, 1, N), t = linspace(4k, 4(k+1), N) + 0.2 * randn.
  Generator g(42);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t i = 0; i < N; ++i) {
      const double r = static_cast<double>(i) / (N - 1);
      const double t = 4.0 * k + 4.0 * static_cast<double>(i) / (N - 1) + noise * g.normal();
      const int64_t row = k * N + i;
      CHECK(d.X.at({row, 0}) == Approx(r * std::sin(t)).margin(1e-6));
      CHECK(d.X.at({row, 1}) == Approx(r * std::cos(t)).margin(1e-6));
      CHECK(d.y[static_cast<size_t>(row)] == k);
    }
}

TEST_CASE("each spiral arm starts at the origin and ends on the unit circle", "[data]") {
  const Dataset d = make_spiral(4, 50, 7);
  for (int64_t k = 0; k < 4; ++k) {
    CHECK(d.X.at({k * 50, 0}) == 0.0f);
    CHECK(d.X.at({k * 50, 1}) == 0.0f);
    const double x = d.X.at({k * 50 + 49, 0}), y = d.X.at({k * 50 + 49, 1});
    CHECK(std::hypot(x, y) == Approx(1.0).epsilon(1e-6));
  }
}

TEST_CASE("the same seed gives the same toy set and another seed a different one", "[data]") {
  const auto same = [](const Dataset& a, const Dataset& b) {
    return a.X.to_vector() == b.X.to_vector() && a.y == b.y;
  };
  CHECK(same(make_spiral(3, 20, 1), make_spiral(3, 20, 1)));
  CHECK(same(make_moons(20, 1), make_moons(20, 1)));
  CHECK(same(make_circles(20, 1), make_circles(20, 1)));
  CHECK(same(make_xor(20, 1), make_xor(20, 1)));
  CHECK(same(make_blobs(3, 20, 1), make_blobs(3, 20, 1)));
  CHECK_FALSE(same(make_spiral(3, 20, 1), make_spiral(3, 20, 2)));
  CHECK_FALSE(same(make_moons(20, 1), make_moons(20, 2)));
  CHECK_FALSE(same(make_blobs(3, 20, 1), make_blobs(3, 20, 2)));
}

TEST_CASE("noiseless moons lie on their two half circles", "[data]") {
  const int64_t n = 25;
  const Dataset d = make_moons(n, 3, 0.0);
  REQUIRE(d.X.shape() == eigrad::Shape{2 * n, 2});
  CHECK(class_counts(d) == std::vector<int64_t>{n, n});
  for (int64_t i = 0; i < n; ++i) {
    const double a = kPi * static_cast<double>(i) / (n - 1);
    CHECK(d.X.at({i, 0}) == Approx(std::cos(a)).margin(1e-6));
    CHECK(d.X.at({i, 1}) == Approx(std::sin(a)).margin(1e-6));
    CHECK(d.X.at({n + i, 0}) == Approx(1.0 - std::cos(a)).margin(1e-6));
    CHECK(d.X.at({n + i, 1}) == Approx(0.5 - std::sin(a)).margin(1e-6));
  }
  // End points by hand: (1, 0) and (-1, 0); (0, 0.5) and (2, 0.5).
  CHECK(d.X.at({0, 0}) == Approx(1.0));
  CHECK(d.X.at({n - 1, 0}) == Approx(-1.0));
  CHECK(d.X.at({n, 1}) == Approx(0.5));
  CHECK(d.X.at({2 * n - 1, 0}) == Approx(2.0));
}

TEST_CASE("noisy moons add independent normal noise to each coordinate", "[data]") {
  const int64_t n = 10;
  const double noise = 0.3;
  const Dataset d = make_moons(n, 5, noise);
  Generator g(5);
  for (int64_t k = 0; k < 2; ++k)
    for (int64_t i = 0; i < n; ++i) {
      const double a = kPi * static_cast<double>(i) / (n - 1);
      const double x = (k == 0 ? std::cos(a) : 1.0 - std::cos(a)) + noise * g.normal();
      const double y = (k == 0 ? std::sin(a) : 0.5 - std::sin(a)) + noise * g.normal();
      CHECK(d.X.at({k * n + i, 0}) == Approx(x).margin(1e-6));
      CHECK(d.X.at({k * n + i, 1}) == Approx(y).margin(1e-6));
    }
}

TEST_CASE("noiseless circles have radius 1 and factor at evenly spaced angles", "[data]") {
  const int64_t n = 16;
  const Dataset d = make_circles(n, 9, 0.0, 0.4);
  CHECK(class_counts(d) == std::vector<int64_t>{n, n});
  for (int64_t i = 0; i < n; ++i) {
    const double a = 2 * kPi * static_cast<double>(i) / n;
    CHECK(d.X.at({i, 0}) == Approx(std::cos(a)).margin(1e-6));
    CHECK(d.X.at({i, 1}) == Approx(std::sin(a)).margin(1e-6));
    CHECK(d.X.at({n + i, 0}) == Approx(0.4 * std::cos(a)).margin(1e-6));
    CHECK(d.X.at({n + i, 1}) == Approx(0.4 * std::sin(a)).margin(1e-6));
  }
}

TEST_CASE("noiseless XOR labels are the sign products, each class in both its quadrants",
          "[data]") {
  const int64_t n = 40;
  const Dataset d = make_xor(n, 11);
  CHECK(class_counts(d) == std::vector<int64_t>{n, n});
  int quadrant_counts[2][2] = {{0, 0}, {0, 0}};  // [class][x > 0]
  for (int64_t i = 0; i < 2 * n; ++i) {
    const float x = d.X.at({i, 0}), y = d.X.at({i, 1});
    CHECK(std::abs(x) < 1.0f);
    CHECK(std::abs(y) < 1.0f);
    CHECK(d.y[static_cast<size_t>(i)] == ((x > 0) != (y > 0) ? 1 : 0));
    ++quadrant_counts[d.y[static_cast<size_t>(i)]][x > 0 ? 1 : 0];
  }
  CHECK(quadrant_counts[0][0] == n / 2);
  CHECK(quadrant_counts[0][1] == n / 2);
  CHECK(quadrant_counts[1][0] == n / 2);
  CHECK(quadrant_counts[1][1] == n / 2);
}

TEST_CASE("blobs scatter around their centers with the given spread", "[data]") {
  const std::vector<std::array<double, 2>> centers = {{-3.0, 1.0}, {4.0, 2.0}};
  const Dataset exact = make_blobs(centers, 5, 1, 0.0);
  for (int64_t i = 0; i < 10; ++i) {
    CHECK(exact.X.at({i, 0}) == static_cast<float>(centers[static_cast<size_t>(i / 5)][0]));
    CHECK(exact.X.at({i, 1}) == static_cast<float>(centers[static_cast<size_t>(i / 5)][1]));
  }
  // The sample mean of 2000 points lies within 5 standard errors (5 * 0.5 / sqrt(2000)).
  const Dataset d = make_blobs(centers, 2000, 2, 0.5);
  for (int k = 0; k < 2; ++k) {
    double mx = 0, my = 0;
    for (int64_t i = 0; i < 2000; ++i) {
      mx += d.X.at({k * 2000 + i, 0}) / 2000.0;
      my += d.X.at({k * 2000 + i, 1}) / 2000.0;
    }
    CHECK(std::abs(mx - centers[static_cast<size_t>(k)][0]) < 5 * 0.5 / std::sqrt(2000.0));
    CHECK(std::abs(my - centers[static_cast<size_t>(k)][1]) < 5 * 0.5 / std::sqrt(2000.0));
  }
}

TEST_CASE("random blob centers are drawn from the box before the points", "[data]") {
  const Dataset d = make_blobs(4, 3, 8, 0.0, 2.0);
  CHECK(class_counts(d) == std::vector<int64_t>{3, 3, 3, 3});
  Generator g(8);
  for (int64_t k = 0; k < 4; ++k) {
    const double cx = g.uniform(-2.0, 2.0), cy = g.uniform(-2.0, 2.0);
    CHECK(d.X.at({3 * k, 0}) == Approx(cx).margin(1e-6));
    CHECK(d.X.at({3 * k + 2, 1}) == Approx(cy).margin(1e-6));
  }
}

TEST_CASE("toy set parameters are validated with messages naming the generator", "[data]") {
  CHECK_THROWS_WITH(make_spiral(0, 10, 1), Contains("make_spiral") && Contains("classes"));
  CHECK_THROWS_WITH(make_spiral(3, 0, 1), Contains("points_per_class"));
  CHECK_THROWS_WITH(make_spiral(3, 10, 1, -0.1), Contains("make_spiral") && Contains("noise"));
  CHECK_THROWS_WITH(make_moons(10, 1, std::nan("")), Contains("make_moons") && Contains("noise"));
  CHECK_THROWS_WITH(make_circles(10, 1, 0.1, 1.0), Contains("make_circles") && Contains("factor"));
  CHECK_THROWS_WITH(make_xor(-1, 1), Contains("make_xor"));
  CHECK_THROWS_WITH(make_blobs(std::vector<std::array<double, 2>>{}, 10, 1),
                    Contains("make_blobs") && Contains("center"));
  CHECK_THROWS_WITH(make_blobs(2, 10, 1, -1.0), Contains("make_blobs") && Contains("stddev"));
  CHECK_THROWS_AS(make_spiral(0, 10, 1), eigrad::Error);
}

TEST_CASE("a shuffled epoch covers every index exactly once, the last batch partial", "[data]") {
  BatchLoader loader(23, 5, {true, false, 3});
  REQUIRE(loader.num_batches() == 5);
  for (int epoch = 0; epoch < 3; ++epoch) {
    const auto batches = loader.epoch_indices();
    REQUIRE(batches.size() == 5);
    std::vector<int64_t> seen;
    for (size_t b = 0; b < batches.size(); ++b) {
      CHECK(batches[b].size() == (b < 4 ? 5u : 3u));
      seen.insert(seen.end(), batches[b].begin(), batches[b].end());
    }
    std::sort(seen.begin(), seen.end());
    std::vector<int64_t> all(23);
    std::iota(all.begin(), all.end(), int64_t{0});
    CHECK(seen == all);
  }
}

TEST_CASE("drop_last skips the partial batch and keeps the rest distinct", "[data]") {
  BatchLoader loader(23, 5, {true, true, 3});
  REQUIRE(loader.num_batches() == 4);
  const auto batches = loader.epoch_indices();
  REQUIRE(batches.size() == 4);
  std::set<int64_t> seen;
  for (const auto& b : batches) {
    CHECK(b.size() == 5u);
    seen.insert(b.begin(), b.end());
  }
  CHECK(seen.size() == 20u);
}

TEST_CASE("shuffling is fixed by the seed, differs between epochs and can be off", "[data]") {
  BatchLoader a(50, 8, {true, false, 9}), b(50, 8, {true, false, 9});
  const auto a1 = a.epoch_indices(), a2 = a.epoch_indices();
  CHECK(a1 == b.epoch_indices());
  CHECK(a2 == b.epoch_indices());
  CHECK(a1 != a2);
  BatchLoader ordered(10, 4, {false, false, 0});
  CHECK(ordered.epoch_indices() ==
        std::vector<std::vector<int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}});
}

TEST_CASE("batches carry the selected rows of X and their labels", "[data]") {
  // Row i of X is (i, 10 i) and its label i % 3, so every batch can be checked by hand.
  const int64_t n = 11;
  std::vector<float> values;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    values.push_back(static_cast<float>(i));
    values.push_back(static_cast<float>(10 * i));
    labels.push_back(i % 3);
  }
  Dataset d{Tensor::from(values, {n, 2}), labels, 3};
  BatchLoader loader(d, 4, {true, false, 5});
  int64_t batches = 0, rows = 0;
  for (const Batch& b : loader.epoch()) {
    ++batches;
    REQUIRE(b.X.shape() == eigrad::Shape{b.size(), 2});
    REQUIRE(b.y.size() == b.indices.size());
    for (int64_t j = 0; j < b.size(); ++j) {
      const int64_t i = b.indices[static_cast<size_t>(j)];
      CHECK(b.X.at({j, 0}) == static_cast<float>(i));
      CHECK(b.X.at({j, 1}) == static_cast<float>(10 * i));
      CHECK(b.y[static_cast<size_t>(j)] == i % 3);
    }
    rows += b.size();
  }
  CHECK(batches == 3);
  CHECK(rows == n);
}

TEST_CASE("an epoch outlives its loader", "[data]") {
  auto loader = std::make_unique<BatchLoader>(Tensor::ones({6, 2}), std::vector<int64_t>(6, 1), 4);
  BatchLoader::Epoch epoch = loader->epoch();
  loader.reset();
  const Batch last = epoch.batch(1);
  CHECK(last.size() == 2);
  CHECK(last.y == std::vector<int64_t>{1, 1});
  CHECK_THROWS_WITH(epoch.batch(2), Contains("out of range"));
}

TEST_CASE("the batch loader rejects bad arguments clearly", "[data]") {
  CHECK_THROWS_WITH(BatchLoader(10, 0), Contains("batch_size"));
  CHECK_THROWS_WITH(BatchLoader(Tensor::zeros({4, 2}), {0, 1, 2}, 2),
                    Contains("BatchLoader") && Contains("[4, 2]") && Contains("3 labels"));
  CHECK_THROWS_WITH(BatchLoader(Tensor(), {}, 2), Contains("undefined"));
}
