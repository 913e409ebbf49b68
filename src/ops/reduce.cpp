#include "eigrad/ops/reduce.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/tensor_shape.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "autograd/graph.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;

template <class T>
BasicTensor<T> sum(const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::scalar(parallel_sum(a.array()));
  if (needs_grad(a))
    record(
        "sum", out, {&a}, Saves(),
        [n = a.numel()](const Array<T>& g, GradSink<T>& s) {
          s.add(0, Array<T>::Constant(n, g[0]));
        },
        [in = a.shape()](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{broadcast_to(g, in)};
        });
  return out;
}

template <class T>
BasicTensor<T> sum_to_size(const BasicTensor<T>& a, const Shape& shape) {
  if (broadcast_shapes("sum_to_size", shape, a.shape()) != a.shape())
    throw Error("sum_to_size: cannot sum " + a.shape().str() + " to " + shape.str() + ": " +
                shape.str() + " does not broadcast to " + a.shape().str());
  if (a.shape() == shape) return reshape(a, shape.vec());
  auto out = BasicTensor<T>::empty(shape);
  out.mutable_array() = sum_to(a.array(), a.shape(), shape);
  if (needs_grad(a))
    record(
        "sum_to_size", out, {&a}, Saves(),
        [in = a.shape(), shape](const Array<T>& g, GradSink<T>& s) {
          s.add(0, expand(g, shape, in));
        },
        [in = a.shape()](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{broadcast_to(g, in)};
        });
  return out;
}

template <class T>
BasicTensor<T> mean(const BasicTensor<T>& a) {
  const T n = static_cast<T>(a.numel());
  auto out = BasicTensor<T>::scalar(parallel_sum(a.array()) / n);
  if (needs_grad(a))
    record(
        "mean", out, {&a}, Saves(),
        [n, count = a.numel()](const Array<T>& g, GradSink<T>& s) {
          s.add(0, Array<T>::Constant(count, g[0] / n));
        },
        [n, in = a.shape()](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{broadcast_to(affine(g, T(1) / n, T(0)), in)};
        });
  return out;
}

namespace {
// Sum along the middle axis of [outer, n, inner], times `scale`.
template <class T>
BasicTensor<T> reduce_sum(const char* op, const BasicTensor<T>& a, int axis, bool keepdim,
                          bool average) {
  const int ax = normalize_axis(op, axis, a.rank());  // a scalar takes axis 0 or -1 only
  if (a.rank() == 0) return average ? mean(a) : sum(a);
  const AxisView v = axis_view(a.shape(), ax);
  const T scale = average ? T(1) / static_cast<T>(v.n) : T(1);
  auto out = BasicTensor<T>::empty(reduced_shape(a.shape(), ax, keepdim));
  if (a.numel() == 0) {
    // Sums over an empty axis are 0, their means 0 / 0 = NaN, as in PyTorch. (Eigen's maps
    // of an empty tensor would offset a null pointer.)
    out.mutable_array().setConstant(average ? std::numeric_limits<T>::quiet_NaN() : T(0));
  } else {
    T* yd = out.mutable_data();
    parallel_for(
        v.outer,
        [&](int64_t begin, int64_t end) {
          if (v.inner == 1) {
            MatrixMap<T>(yd + begin, end - begin, 1) =
                ConstMatrixMap<T>(a.data() + begin * v.n, end - begin, v.n).rowwise().sum() * scale;
          } else {
            for (int64_t o = begin; o < end; ++o)
              MatrixMap<T>(yd + o * v.inner, 1, v.inner) =
                  ConstMatrixMap<T>(a.data() + o * v.n * v.inner, v.n, v.inner).colwise().sum() *
                  scale;
          }
        },
        a.numel());
  }
  if (needs_grad(a))
    record(
        op, out, {&a}, Saves(),
        [v, scale](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx(v.outer * v.n * v.inner);
          for (int64_t o = 0; o < v.outer; ++o)
            for (int64_t j = 0; j < v.n; ++j)
              gx.segment((o * v.n + j) * v.inner, v.inner) =
                  g.segment(o * v.inner, v.inner) * scale;
          s.add(0, std::move(gx));
        },
        [in = a.shape(), kept = reduced_shape(a.shape(), ax, true), average, scale](
            GraphContext<T>&, const BasicTensor<T>& g) {
          const BasicTensor<T> scaled = average ? affine(g, scale, T(0)) : g;
          return std::vector<BasicTensor<T>>{broadcast_to(reshape(scaled, kept.vec()), in)};
        });
  return out;
}
}  // namespace

template <class T>
BasicTensor<T> sum(const BasicTensor<T>& a, int axis, bool keepdim) {
  return reduce_sum("sum", a, axis, keepdim, false);
}

template <class T>
BasicTensor<T> mean(const BasicTensor<T>& a, int axis, bool keepdim) {
  return reduce_sum("mean", a, axis, keepdim, true);
}

namespace {
// The entries of x that reach the extreme `value` (the NaNs when it is NaN).
template <class T>
Eigen::Array<bool, Eigen::Dynamic, 1> ties(const Array<T>& x, T value) {
  return std::isnan(value) ? x.isNaN().eval() : (x == value).eval();
}

// max(a) and min(a): `extreme` gives the value, NaN if any element is NaN. The gradient is shared
// evenly among the elements equal to the result (the NaNs when it is NaN), as PyTorch 1.13's
// evenly_distribute_backward does.
template <class T, class Extreme>
BasicTensor<T> reduce_all(const char* op, const BasicTensor<T>& a, Extreme extreme) {
  if (a.numel() == 0)
    throw Error(std::string(op) + ": cannot reduce an empty tensor (shape " + a.shape().str() +
                ") over all elements; give an axis instead");
  auto out = BasicTensor<T>::scalar(extreme(a.array()));
  if (needs_grad(a))
    record(
        op, out, {&a}, Saves().input(0),
        [x = a.storage(), value = out.item()](const Array<T>& g, GradSink<T>& s) {
          const Eigen::Array<bool, Eigen::Dynamic, 1> mask = ties(*x, value);
          const T share = g[0] / static_cast<T>(mask.count());
          s.add(0, mask.template cast<T>() * share);
        },
        // The shares are constants outside the graph: a kink, whose second derivative is 0.
        [x = a.storage(), value = out.item(), in = a.shape()](GraphContext<T>&,
                                                              const BasicTensor<T>& g) {
          const Eigen::Array<bool, Eigen::Dynamic, 1> mask = ties(*x, value);
          const auto shares = BasicTensor<T>::from_storage(
              std::make_shared<Array<T>>(mask.template cast<T>() / static_cast<T>(mask.count())),
              in);
          return std::vector<BasicTensor<T>>{mul(g, shares)};
        });
  return out;
}

// Flat indices (into a) of the first extreme entry of each line along axis ax, where
// better(x, y) says that x beats y; NaN beats everything, as in PyTorch.
template <class T, class Better>
std::vector<int64_t> extreme_flat(const char* op, const BasicTensor<T>& a, int ax, Better better) {
  const AxisView v = axis_view(a.shape(), ax);
  if (v.n == 0)
    throw Error(std::string(op) + ": cannot reduce axis " + std::to_string(ax) + " of shape " +
                a.shape().str() + ": it is empty");
  std::vector<int64_t> best(static_cast<size_t>(v.outer * v.inner));
  const T* x = a.data();
  for (int64_t o = 0; o < v.outer; ++o) {
    int64_t* b = best.data() + o * v.inner;
    for (int64_t i = 0; i < v.inner; ++i) b[i] = o * v.n * v.inner + i;
    // Line by line along the axis, so that memory is read in order.
    for (int64_t j = 1; j < v.n; ++j)
      for (int64_t i = 0; i < v.inner; ++i) {
        const int64_t at = (o * v.n + j) * v.inner + i;
        if (!std::isnan(x[b[i]]) && (better(x[at], x[b[i]]) || std::isnan(x[at]))) b[i] = at;
      }
  }
  return best;
}

template <class T, class Better>
BasicTensor<T> reduce_axis(const char* op, const BasicTensor<T>& a, int axis, bool keepdim,
                           Better better) {
  const int ax = normalize_axis(op, axis, a.rank());
  std::vector<int64_t> where = extreme_flat(op, a, a.rank() == 0 ? 0 : ax, better);
  auto out = BasicTensor<T>::empty(a.rank() == 0 ? Shape{} : reduced_shape(a.shape(), ax, keepdim));
  T* yd = out.mutable_data();
  for (size_t i = 0; i < where.size(); ++i) yd[i] = a.data()[where[i]];
  if (needs_grad(a))
    record(
        op, out, {&a}, Saves(),
        [where, n = a.numel()](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx = Array<T>::Zero(n);
          for (size_t i = 0; i < where.size(); ++i) gx[where[i]] += g[static_cast<Eigen::Index>(i)];
          s.add(0, std::move(gx));
        },
        // g spread along the axis, times a constant mask of the picked entries: the mask is
        // outside the graph (a kink, second derivative 0) and g's adjoint gathers them back.
        [where, in = a.shape(), kept = reduced_shape(a.shape(), ax, true)](
            GraphContext<T>&, const BasicTensor<T>& g) {
          auto picked = std::make_shared<Array<T>>(Array<T>::Zero(in.numel()));
          for (int64_t w : where) (*picked)[w] = T(1);
          return std::vector<BasicTensor<T>>{
              mul(reshape(g, kept.vec()), BasicTensor<T>::from_storage(picked, in))};
        });
  return out;
}

template <class T, class Better>
LongTensor arg_extreme(const char* op, const BasicTensor<T>& a, int axis, bool keepdim,
                       Better better) {
  const int ax = normalize_axis(op, axis, a.rank());
  std::vector<int64_t> where = extreme_flat(op, a, ax, better);
  const AxisView v = axis_view(a.shape(), ax);
  Shape shape;
  for (int i = 0; i < a.rank(); ++i)
    if (i != ax)
      shape.push_back(a.shape()[i]);
    else if (keepdim)
      shape.push_back(1);
  LongTensor out = LongTensor::empty(shape);
  int64_t* o = out.mutable_data();
  for (size_t i = 0; i < where.size(); ++i) o[i] = (where[i] / v.inner) % v.n;
  return out;
}

template <class T, class Better>
LongTensor arg_extreme_all(const char* op, const BasicTensor<T>& a, Better better) {
  if (a.numel() == 0)
    throw Error(std::string(op) + ": expected a non-empty tensor, got shape " + a.shape().str());
  const T* x = a.data();
  int64_t best = 0;
  for (int64_t i = 1; i < a.numel() && !std::isnan(x[best]); ++i)
    if (std::isnan(x[i]) || better(x[i], x[best])) best = i;
  return LongTensor::scalar(best);
}
}  // namespace

template <class T>
BasicTensor<T> max(const BasicTensor<T>& a) {
  return reduce_all("max", a,
                    [](const Array<T>& x) { return x.template maxCoeff<Eigen::PropagateNaN>(); });
}

template <class T>
BasicTensor<T> min(const BasicTensor<T>& a) {
  return reduce_all("min", a,
                    [](const Array<T>& x) { return x.template minCoeff<Eigen::PropagateNaN>(); });
}

template <class T>
BasicTensor<T> max(const BasicTensor<T>& a, int axis, bool keepdim) {
  return reduce_axis("max", a, axis, keepdim, std::greater<T>());
}

template <class T>
BasicTensor<T> min(const BasicTensor<T>& a, int axis, bool keepdim) {
  return reduce_axis("min", a, axis, keepdim, std::less<T>());
}

template <class T>
LongTensor argmax(const BasicTensor<T>& a, int axis, bool keepdim) {
  return arg_extreme("argmax", a, axis, keepdim, std::greater<T>());
}

template <class T>
LongTensor argmin(const BasicTensor<T>& a, int axis, bool keepdim) {
  return arg_extreme("argmin", a, axis, keepdim, std::less<T>());
}

template <class T>
LongTensor argmax(const BasicTensor<T>& a) {
  return arg_extreme_all("argmax", a, std::greater<T>());
}

template <class T>
LongTensor argmin(const BasicTensor<T>& a) {
  return arg_extreme_all("argmin", a, std::less<T>());
}

#define EIGRAD_INSTANTIATE_REDUCE(T)                                        \
  template BasicTensor<T> sum(const BasicTensor<T>&);                       \
  template BasicTensor<T> sum_to_size(const BasicTensor<T>&, const Shape&); \
  template BasicTensor<T> sum(const BasicTensor<T>&, int, bool);            \
  template BasicTensor<T> mean(const BasicTensor<T>&);                      \
  template BasicTensor<T> mean(const BasicTensor<T>&, int, bool);           \
  template BasicTensor<T> max(const BasicTensor<T>&);                       \
  template BasicTensor<T> min(const BasicTensor<T>&);                       \
  template BasicTensor<T> max(const BasicTensor<T>&, int, bool);            \
  template BasicTensor<T> min(const BasicTensor<T>&, int, bool);            \
  template LongTensor argmax(const BasicTensor<T>&, int, bool);             \
  template LongTensor argmin(const BasicTensor<T>&, int, bool);             \
  template LongTensor argmax(const BasicTensor<T>&);                        \
  template LongTensor argmin(const BasicTensor<T>&);

EIGRAD_INSTANTIATE_REDUCE(float)
EIGRAD_INSTANTIATE_REDUCE(double)

}  // namespace eigrad
