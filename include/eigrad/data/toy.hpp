#pragma once
// Toy classification sets in the plane, generated from a seed with eigrad::Generator, so the same
// seed gives the same numbers on every machine. Points are computed in double and stored as
// float32 [n, 2], grouped by class (class 0 first); the minibatch loader shuffles them.
#include <array>
#include <cstdint>
#include <vector>

#include "eigrad/data/dataset.hpp"

namespace eigrad::data {

/// cs231n's spiral: for class k and point i of n, r = i / (n - 1) and
/// t = 4k + 4i / (n - 1) + noise * N(0, 1); the point is (r sin t, r cos t).
Dataset make_spiral(int64_t classes, int64_t points_per_class, uint64_t seed, double noise = 0.2);

/// Two interleaving half circles (scikit-learn's make_moons): class 0 is (cos a, sin a), class 1 is
/// (1 - cos a, 0.5 - sin a), a = pi * i / (n - 1); then noise * N(0, 1) on each coordinate.
Dataset make_moons(int64_t points_per_class, uint64_t seed, double noise = 0.1);

/// Two concentric circles (scikit-learn's make_circles): class 0 on the unit circle, class 1 on the
/// circle of radius `factor`, at angles 2 pi i / n; then noise * N(0, 1) on each coordinate.
Dataset make_circles(int64_t points_per_class, uint64_t seed, double noise = 0.05,
                     double factor = 0.5);

/// XOR of the signs: class 0 in quadrants (+, +) and (-, -), class 1 in (-, +) and (+, -),
/// alternating between a class's two quadrants; |x| and |y| are uniform in [0, 1), then
/// noise * N(0, 1) is added to each coordinate.
Dataset make_xor(int64_t points_per_class, uint64_t seed, double noise = 0.0);

/// Isotropic Gaussian blobs: class k is centers[k] + stddev * N(0, I).
Dataset make_blobs(const std::vector<std::array<double, 2>>& centers, int64_t points_per_class,
                   uint64_t seed, double stddev = 1.0);
/// As above with `classes` centers drawn first from the same generator, uniformly from
/// [-box, box]^2 (x then y per class), then the points.
Dataset make_blobs(int64_t classes, int64_t points_per_class, uint64_t seed, double stddev = 1.0,
                   double box = 10.0);

}  // namespace eigrad::data
