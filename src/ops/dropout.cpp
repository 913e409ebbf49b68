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

#define EIGRAD_INSTANTIATE_DROPOUT(T) \
  template BasicTensor<T> dropout(const BasicTensor<T>&, double, bool, Generator&);

EIGRAD_INSTANTIATE_DROPOUT(float)
EIGRAD_INSTANTIATE_DROPOUT(double)

}  // namespace eigrad::nn
