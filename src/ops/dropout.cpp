#include "eigrad/nn/functional.hpp"

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "layout.hpp"
#include "storage.hpp"

namespace eigrad::nn {

using namespace eigrad::detail;

namespace {

// SplitMix64's output function: a bijective mix of 64 bits.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// dropout's mask: m[i] = scale where element i is kept, 0 where dropped. One 64-bit draw from
// `gen` seeds a counter-based stream (SplitMix64: word k = mix64(seed + (k + 1) * golden ratio),
// whose high and low 32 bits decide elements 2k and 2k + 1: kept when the 32-bit value u has
// u / 2^32 >= p). A draw per call instead of per element: the loop has no serial dependence, so
// it vectorises (AVX-512 has 64-bit multiplies), about 20x faster than a mt19937_64 draw and a
// double conversion per element, and the generator advances by the same amount whatever the
// size.
template <class T>
void draw_mask(T* mask, int64_t n, double p, T scale, Generator& gen) {
  const uint64_t seed = (gen.randint(uint64_t{1} << 32) << 32) | gen.randint(uint64_t{1} << 32);
  // Kept when u >= threshold = ceil(p * 2^32), so P(kept) = 1 - threshold / 2^32 (p up to 2^-32).
  const uint64_t threshold = static_cast<uint64_t>(std::ceil(p * 4294967296.0));
  constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
  const int64_t pairs = n / 2;
  for (int64_t k = 0; k < pairs; ++k) {
    const uint64_t z = mix64(seed + static_cast<uint64_t>(k + 1) * kGolden);
    mask[2 * k] = (z >> 32) >= threshold ? scale : T(0);
    mask[2 * k + 1] = (z & 0xFFFFFFFFull) >= threshold ? scale : T(0);
  }
  if (n % 2) {
    const uint64_t z = mix64(seed + static_cast<uint64_t>(pairs + 1) * kGolden);
    mask[n - 1] = (z >> 32) >= threshold ? scale : T(0);
  }
}

}  // namespace

template <class T>
BasicTensor<T> dropout(const BasicTensor<T>& x, double p, bool training, Generator& gen) {
  if (!(p >= 0 && p <= 1))
    throw Error("dropout: the probability p must be in [0, 1], got " + std::to_string(p));
  if (!training || p == 0) return x;
  const T scale = p < 1 ? static_cast<T>(1 / (1 - p)) : T(0);
  auto mask = detail::allocate_storage<T>(x.numel()).data;
  draw_mask(mask->data(), x.numel(), p, scale, gen);
  auto out = BasicTensor<T>::empty(x.shape());
  out.mutable_array() = x.array() * *mask;
  if (needs_grad(x))
    record(
        "dropout", out, {&x}, Saves(),
        [mask](const Array<T>& g, GradSink<T>& s) { s.add(0, g * *mask); },
        // The same mask, as a constant: linear in g, and no second derivative in x.
        [mask, shape = x.shape()](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{g * BasicTensor<T>::from_storage(mask, shape)};
        });
  return out;
}

// One draw per channel, in the order of the [N, C] (or [C]) channels, with dropout's rule: a
// channel is kept when gen.uniform() >= p.
template <class T>
BasicTensor<T> dropout2d(const BasicTensor<T>& x, double p, bool training, Generator& gen) {
  if (!(p >= 0 && p <= 1))
    throw Error("dropout2d: the probability p must be in [0, 1], got " + std::to_string(p));
  const Shape& in = x.shape();
  if (in.rank() != 3 && in.rank() != 4)
    throw Error("dropout2d: expected a 3-D input [C, H, W] or a 4-D input [N, C, H, W], got " +
                in.str());
  if (!training || p == 0) return x;
  const bool batched = in.rank() == 4;
  const int64_t channels = batched ? in[0] * in[1] : in[0];
  const int64_t plane = channels > 0 ? x.numel() / channels : 0;
  const T scale = p < 1 ? static_cast<T>(1 / (1 - p)) : T(0);
  auto mask = detail::allocate_storage<T>(channels).data;
  for (T& m : *mask) m = gen.uniform() >= p ? scale : T(0);
  auto out = BasicTensor<T>::empty(in);
  Eigen::Map<RowMajorArray<T>>(out.mutable_data(), channels, plane) =
      Eigen::Map<const RowMajorArray<T>>(x.data(), channels, plane).colwise() * *mask;
  if (needs_grad(x))
    record(
        "dropout2d", out, {&x}, Saves(),
        [mask, channels, plane](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx(channels * plane);
          Eigen::Map<RowMajorArray<T>>(gx.data(), channels, plane) =
              Eigen::Map<const RowMajorArray<T>>(g.data(), channels, plane).colwise() * *mask;
          s.add(0, std::move(gx));
        },
        // The same mask, as a constant broadcast over each plane: linear in g.
        [mask, in](GraphContext<T>&, const BasicTensor<T>& g) {
          const Shape shape = in.rank() == 4 ? Shape{in[0], in[1], 1, 1} : Shape{in[0], 1, 1};
          return std::vector<BasicTensor<T>>{g * BasicTensor<T>::from_storage(mask, shape)};
        });
  return out;
}

#define EIGRAD_INSTANTIATE_DROPOUT(T)                                               \
  template BasicTensor<T> dropout(const BasicTensor<T>&, double, bool, Generator&); \
  template BasicTensor<T> dropout2d(const BasicTensor<T>&, double, bool, Generator&);

EIGRAD_INSTANTIATE_DROPOUT(float)
EIGRAD_INSTANTIATE_DROPOUT(double)

}  // namespace eigrad::nn
