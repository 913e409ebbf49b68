#include "eigrad/ops/compare.hpp"

#include <functional>
#include <memory>
#include <string>

#include "autograd/graph.hpp"
#include "eigrad/ops/reduce.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;

namespace {

// One implementation for every elementwise function of two broadcast tensors into a bool tensor.
template <class T, class F>
BoolTensor binary_to_bool(const char* op, const BasicTensor<T>& a, const BasicTensor<T>& b, F f) {
  const Shape shape = broadcast_shapes(op, a.shape(), b.shape());
  Array<T> sa, sb;
  const Array<T>& x = operand(a.array(), a.shape(), shape, sa);
  const Array<T>& y = operand(b.array(), b.shape(), shape, sb);
  auto out = BoolTensor::empty(shape);
  bool* o = out.mutable_data();
  for (int64_t i = 0; i < shape.numel(); ++i) o[i] = f(x[i], y[i]);
  return out;
}

template <class T, class F>
BoolTensor unary_to_bool(const BasicTensor<T>& a, F f) {
  auto out = BoolTensor::empty(a.shape());
  bool* o = out.mutable_data();
  const T* x = a.data();
  for (int64_t i = 0; i < a.numel(); ++i) o[i] = f(x[i]);
  return out;
}

template <class T>
using Grads = std::vector<BasicTensor<T>>;

template <class T>
BasicTensor<T> reduced(const BasicTensor<T>& g, const Shape& in) {
  return g.shape() == in ? g : sum_to_size(g, in);
}

}  // namespace

// ---------------------------------------------------------------- comparisons

#define EIGRAD_COMPARISON(name, functor)                              \
  template <class T>                                                  \
  BoolTensor name(const BasicTensor<T>& a, const BasicTensor<T>& b) { \
    return binary_to_bool(#name, a, b, functor<T>());                 \
  }                                                                   \
  template <class T>                                                  \
  BoolTensor name(const BasicTensor<T>& a, Scalar<T> b) {             \
    return unary_to_bool(a, [b](T x) { return functor<T>()(x, b); }); \
  }

EIGRAD_COMPARISON(eq, std::equal_to)
EIGRAD_COMPARISON(ne, std::not_equal_to)
EIGRAD_COMPARISON(lt, std::less)
EIGRAD_COMPARISON(le, std::less_equal)
EIGRAD_COMPARISON(gt, std::greater)
EIGRAD_COMPARISON(ge, std::greater_equal)
#undef EIGRAD_COMPARISON

template <class T>
bool equal(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  if (a.shape() != b.shape()) return false;
  const T* x = a.data();
  const T* y = b.data();
  for (int64_t i = 0; i < a.numel(); ++i)
    if (!(x[i] == y[i])) return false;
  return true;
}

// ---------------------------------------------------------------- boolean logic

BoolTensor logical_and(const BoolTensor& a, const BoolTensor& b) {
  return binary_to_bool("logical_and", a, b, [](bool x, bool y) { return x && y; });
}
BoolTensor logical_or(const BoolTensor& a, const BoolTensor& b) {
  return binary_to_bool("logical_or", a, b, [](bool x, bool y) { return x || y; });
}
BoolTensor logical_xor(const BoolTensor& a, const BoolTensor& b) {
  return binary_to_bool("logical_xor", a, b, [](bool x, bool y) { return x != y; });
}
BoolTensor logical_not(const BoolTensor& a) {
  return unary_to_bool(a, [](bool x) { return !x; });
}

BoolTensor any(const BoolTensor& a) {
  const bool* x = a.data();
  for (int64_t i = 0; i < a.numel(); ++i)
    if (x[i]) return BoolTensor::scalar(true);
  return BoolTensor::scalar(false);
}

BoolTensor all(const BoolTensor& a) {
  const bool* x = a.data();
  for (int64_t i = 0; i < a.numel(); ++i)
    if (!x[i]) return BoolTensor::scalar(false);
  return BoolTensor::scalar(true);
}

template <class T>
LongTensor count_nonzero(const BasicTensor<T>& a) {
  int64_t n = 0;
  const T* x = a.data();
  for (int64_t i = 0; i < a.numel(); ++i) n += x[i] != T(0);
  return LongTensor::scalar(n);
}

LongTensor sum(const BoolTensor& a) {
  return count_nonzero(a);
}

LongTensor sum(const LongTensor& a) {
  int64_t total = 0;
  const int64_t* x = a.data();
  for (int64_t i = 0; i < a.numel(); ++i)
    total = static_cast<int64_t>(static_cast<uint64_t>(total) + static_cast<uint64_t>(x[i]));
  return LongTensor::scalar(total);  // wraps around on overflow, as PyTorch's int64 sum
}

// ---------------------------------------------------------------- selection

template <class T>
BasicTensor<T> where(const BoolTensor& condition, const BasicTensor<T>& a,
                     const BasicTensor<T>& b) {
  Shape shape;
  try {
    shape = broadcast_shapes("where", broadcast_shapes("where", condition.shape(), a.shape()),
                             b.shape());
  } catch (const Error&) {
    throw Error("where: cannot broadcast condition " + condition.shape().str() + ", a " +
                a.shape().str() + " and b " + b.shape().str() +
                " together: at each axis, the sizes other than 1 must be equal");
  }
  Array<bool> sc;
  Array<T> sa, sb;
  auto out = BasicTensor<T>::empty(shape);
  const Array<bool>& c = operand(condition.array(), condition.shape(), shape, sc);
  const Array<T>& x = operand(a.array(), a.shape(), shape, sa);
  const Array<T>& y = operand(b.array(), b.shape(), shape, sb);
  T* o = out.mutable_data();
  for (int64_t i = 0; i < shape.numel(); ++i) o[i] = c[i] ? x[i] : y[i];
  // The condition is not an input of the graph: it gets no gradient.
  if constexpr (is_floating_dtype_v<T>) {
    if (needs_grad(a, b))
      record(
          "where", out, {&a, &b}, Saves(),
          [shape, csh = condition.shape(), ash = a.shape(), bsh = b.shape(),
           cd = condition.storage()](const Array<T>& g, GradSink<T>& s) {
            Array<bool> scratch;
            const Array<bool>& c = operand(*cd, csh, shape, scratch);
            if (s.needs(0)) {
              Array<T> ga = c.select(g, T(0));
              s.add(0, shape == ash ? std::move(ga) : sum_to(ga, shape, ash));
            }
            if (s.needs(1)) {
              Array<T> gb = c.select(Array<T>::Zero(g.size()), g);
              s.add(1, shape == bsh ? std::move(gb) : sum_to(gb, shape, bsh));
            }
          },
          [csh = condition.shape(), ash = a.shape(), bsh = b.shape(), cd = condition.storage()](
              GraphContext<T>& c, const BasicTensor<T>& g) {
            const auto condition = BoolTensor::from_storage(cd, csh);
            const auto zero = BasicTensor<T>::zeros({});
            return Grads<T>{
                c.needs(0) ? reduced(where(condition, g, zero), ash) : BasicTensor<T>(),
                c.needs(1) ? reduced(where(condition, zero, g), bsh) : BasicTensor<T>()};
          });
  }
  return out;
}

#define EIGRAD_INSTANTIATE_COMPARE(T)                                   \
  template BoolTensor eq(const BasicTensor<T>&, const BasicTensor<T>&); \
  template BoolTensor ne(const BasicTensor<T>&, const BasicTensor<T>&); \
  template BoolTensor lt(const BasicTensor<T>&, const BasicTensor<T>&); \
  template BoolTensor le(const BasicTensor<T>&, const BasicTensor<T>&); \
  template BoolTensor gt(const BasicTensor<T>&, const BasicTensor<T>&); \
  template BoolTensor ge(const BasicTensor<T>&, const BasicTensor<T>&); \
  template BoolTensor eq(const BasicTensor<T>&, T);                     \
  template BoolTensor ne(const BasicTensor<T>&, T);                     \
  template BoolTensor lt(const BasicTensor<T>&, T);                     \
  template BoolTensor le(const BasicTensor<T>&, T);                     \
  template BoolTensor gt(const BasicTensor<T>&, T);                     \
  template BoolTensor ge(const BasicTensor<T>&, T);                     \
  template bool equal(const BasicTensor<T>&, const BasicTensor<T>&);    \
  template LongTensor count_nonzero(const BasicTensor<T>&);             \
  template BasicTensor<T> where(const BoolTensor&, const BasicTensor<T>&, const BasicTensor<T>&);

EIGRAD_INSTANTIATE_COMPARE(float)
EIGRAD_INSTANTIATE_COMPARE(double)
EIGRAD_INSTANTIATE_COMPARE(int64_t)
EIGRAD_INSTANTIATE_COMPARE(bool)

}  // namespace eigrad
