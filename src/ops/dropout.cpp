#include "eigrad/nn/functional.hpp"

#include <memory>
#include <string>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "layout.hpp"
#include "storage.hpp"

namespace eigrad::nn {

using namespace eigrad::detail;

template <class T>
BasicTensor<T> dropout(const BasicTensor<T>& x, double p, bool training, Generator& gen) {
  if (!(p >= 0 && p <= 1))
    throw Error("dropout: the probability p must be in [0, 1], got " + std::to_string(p));
  if (!training || p == 0) return x;
  const T scale = p < 1 ? static_cast<T>(1 / (1 - p)) : T(0);
  auto mask = detail::allocate_storage<T>(x.numel()).data;
  for (T& m : *mask) m = gen.uniform() >= p ? scale : T(0);
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
