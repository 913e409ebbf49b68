#include "eigrad/data/toy.hpp"

#include <cmath>
#include <string>

#include "eigrad/error.hpp"
#include "eigrad/random.hpp"

namespace eigrad::data {

namespace {

constexpr double kPi = 3.14159265358979323846;

void check_count(const char* op, const char* what, int64_t n) {
  if (n < 1)
    throw Error(std::string(op) + ": " + what + " must be at least 1, got " + std::to_string(n));
}

void check_spread(const char* op, const char* what, double v) {
  if (!(v >= 0.0) || !std::isfinite(v))
    throw Error(std::string(op) + ": " + what + " must be finite and >= 0, got " +
                std::to_string(v));
}

// numpy.linspace(lo, hi, n)[i]; a single point sits at lo.
double linspace_at(double lo, double hi, int64_t n, int64_t i) {
  return n == 1 ? lo : lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n - 1);
}

// Fills a [classes * per_class, 2] set; `point(k, i, x, y)` gives the i-th point of class k.
template <class PointFn>
Dataset build(int64_t classes, int64_t per_class, PointFn point) {
  Dataset d;
  d.num_classes = classes;
  d.X = Tensor::empty({classes * per_class, 2});
  d.y.resize(static_cast<size_t>(classes * per_class));
  float* out = d.X.mutable_data();
  for (int64_t k = 0; k < classes; ++k)
    for (int64_t i = 0; i < per_class; ++i) {
      const int64_t row = k * per_class + i;
      double x = 0, y = 0;
      point(k, i, x, y);
      out[2 * row] = static_cast<float>(x);
      out[2 * row + 1] = static_cast<float>(y);
      d.y[static_cast<size_t>(row)] = k;
    }
  return d;
}

}  // namespace

Dataset make_spiral(int64_t classes, int64_t points_per_class, uint64_t seed, double noise) {
  check_count("make_spiral", "classes", classes);
  check_count("make_spiral", "points_per_class", points_per_class);
  check_spread("make_spiral", "noise", noise);
  Generator gen(seed);
  const int64_t n = points_per_class;
  return build(classes, n, [&](int64_t k, int64_t i, double& x, double& y) {
    const double r = linspace_at(0.0, 1.0, n, i);
    const double t = linspace_at(4.0 * k, 4.0 * (k + 1), n, i) + noise * gen.normal();
    x = r * std::sin(t);
    y = r * std::cos(t);
  });
}

Dataset make_moons(int64_t points_per_class, uint64_t seed, double noise) {
  check_count("make_moons", "points_per_class", points_per_class);
  check_spread("make_moons", "noise", noise);
  Generator gen(seed);
  const int64_t n = points_per_class;
  return build(2, n, [&](int64_t k, int64_t i, double& x, double& y) {
    const double a = linspace_at(0.0, kPi, n, i);
    x = k == 0 ? std::cos(a) : 1.0 - std::cos(a);
    y = k == 0 ? std::sin(a) : 0.5 - std::sin(a);
    x += noise * gen.normal();
    y += noise * gen.normal();
  });
}

Dataset make_circles(int64_t points_per_class, uint64_t seed, double noise, double factor) {
  check_count("make_circles", "points_per_class", points_per_class);
  check_spread("make_circles", "noise", noise);
  if (!(factor > 0.0 && factor < 1.0))
    throw Error("make_circles: factor (inner radius / outer radius) must be in (0, 1), got " +
                std::to_string(factor));
  Generator gen(seed);
  const int64_t n = points_per_class;
  return build(2, n, [&](int64_t k, int64_t i, double& x, double& y) {
    const double a = 2.0 * kPi * static_cast<double>(i) / static_cast<double>(n);
    const double r = k == 0 ? 1.0 : factor;
    x = r * std::cos(a) + noise * gen.normal();
    y = r * std::sin(a) + noise * gen.normal();
  });
}

Dataset make_xor(int64_t points_per_class, uint64_t seed, double noise) {
  check_count("make_xor", "points_per_class", points_per_class);
  check_spread("make_xor", "noise", noise);
  Generator gen(seed);
  // Quadrant signs: class 0 in (+, +) and (-, -), class 1 in (-, +) and (+, -).
  static constexpr double kSign[2][2][2] = {{{1, 1}, {-1, -1}}, {{-1, 1}, {1, -1}}};
  return build(2, points_per_class, [&](int64_t k, int64_t i, double& x, double& y) {
    const double* s = kSign[k][i % 2];
    x = s[0] * gen.uniform();
    y = s[1] * gen.uniform();
    x += noise * gen.normal();
    y += noise * gen.normal();
  });
}

namespace {
Dataset blobs(const std::vector<std::array<double, 2>>& centers, int64_t points_per_class,
              Generator& gen, double stddev) {
  check_count("make_blobs", "points_per_class", points_per_class);
  check_spread("make_blobs", "stddev", stddev);
  return build(static_cast<int64_t>(centers.size()), points_per_class,
               [&](int64_t k, int64_t, double& x, double& y) {
                 x = centers[static_cast<size_t>(k)][0] + stddev * gen.normal();
                 y = centers[static_cast<size_t>(k)][1] + stddev * gen.normal();
               });
}
}  // namespace

Dataset make_blobs(const std::vector<std::array<double, 2>>& centers, int64_t points_per_class,
                   uint64_t seed, double stddev) {
  if (centers.empty()) throw Error("make_blobs: at least one center is needed, got none");
  for (const auto& c : centers)
    if (!std::isfinite(c[0]) || !std::isfinite(c[1]))
      throw Error("make_blobs: centers must be finite, got (" + std::to_string(c[0]) + ", " +
                  std::to_string(c[1]) + ")");
  Generator gen(seed);
  return blobs(centers, points_per_class, gen, stddev);
}

Dataset make_blobs(int64_t classes, int64_t points_per_class, uint64_t seed, double stddev,
                   double box) {
  check_count("make_blobs", "classes", classes);
  check_spread("make_blobs", "box", box);
  Generator gen(seed);
  std::vector<std::array<double, 2>> centers(static_cast<size_t>(classes));
  for (auto& c : centers) {
    c[0] = gen.uniform(-box, box);
    c[1] = gen.uniform(-box, box);
  }
  return blobs(centers, points_per_class, gen, stddev);
}

}  // namespace eigrad::data
