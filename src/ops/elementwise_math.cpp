// Elementwise math beyond exp and log: trigonometric and hyperbolic functions, log1p, expm1,
// reciprocal, the piecewise-constant sign, floor, ceil and round, and the binary minimum and
// maximum. Derivatives as PyTorch 1.13's derivatives.yaml states them.
#include <cmath>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/reduce.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;

namespace {

template <class T>
using Grads = std::vector<BasicTensor<T>>;

// An elementwise y = f(x) whose derivative reads either x or y (`reads_output`): `d` gives f' as
// an Eigen expression of that array, `graph_d` the same in eigrad ops of that tensor, so the
// gradient g f' can be differentiated again.
template <class T, class F, class D, class G>
BasicTensor<T> unary(const char* name, const BasicTensor<T>& a, bool reads_output, F f, D d,
                     G graph_d) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.mutable_array(), f(a.array()));
  if (needs_grad(a))
    record(
        name, out, {&a}, reads_output ? Saves().output() : Saves().input(0),
        [d, v = reads_output ? out.storage() : a.storage()](const Array<T>& g, GradSink<T>& s) {
          s.add(0, g * d(*v));
        },
        [graph_d, reads_output](GraphContext<T>& c, const BasicTensor<T>& g) {
          return Grads<T>{mul(g, graph_d(reads_output ? c.output() : c.input(0)))};
        });
  return out;
}

// A piecewise-constant function: its gradient is 0 everywhere (at the jumps too), as in PyTorch.
template <class T, class F>
BasicTensor<T> piecewise_constant(const char* name, const BasicTensor<T>& a, F f) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.mutable_array(), a.array().unaryExpr(f));
  if (needs_grad(a))
    record(
        name, out, {&a}, Saves(),
        [](const Array<T>& g, GradSink<T>& s) { s.add(0, Array<T>::Zero(g.size())); },
        [in = a.shape()](GraphContext<T>&, const BasicTensor<T>&) {
          return Grads<T>{BasicTensor<T>::zeros(in)};
        });
  return out;
}

// 1 - x^2, the radicand of asin' and acos'.
template <class T>
BasicTensor<T> one_minus_square(const BasicTensor<T>& x) {
  return affine(mul(x, x), T(-1), T(1));
}

}  // namespace

// ---------------------------------------------------------------- unary functions

template <class T>
BasicTensor<T> sin(const BasicTensor<T>& a) {
  return unary(
      "sin", a, false, [](const Array<T>& x) { return x.sin(); },
      [](const Array<T>& x) { return x.cos(); }, [](const BasicTensor<T>& x) { return cos(x); });
}

template <class T>
BasicTensor<T> cos(const BasicTensor<T>& a) {
  return unary(
      "cos", a, false, [](const Array<T>& x) { return x.cos(); },
      [](const Array<T>& x) { return -x.sin(); },
      [](const BasicTensor<T>& x) { return neg(sin(x)); });
}

// tan' = 1 + tan^2, read from the output.
template <class T>
BasicTensor<T> tan(const BasicTensor<T>& a) {
  return unary(
      "tan", a, true, [](const Array<T>& x) { return x.tan(); },
      [](const Array<T>& y) { return T(1) + y.square(); },
      [](const BasicTensor<T>& y) { return affine(mul(y, y), T(1), T(1)); });
}

// Outside [-1, 1] the value and the gradient are NaN, as in PyTorch (no error).
template <class T>
BasicTensor<T> asin(const BasicTensor<T>& a) {
  return unary(
      "asin", a, false, [](const Array<T>& x) { return x.asin(); },
      [](const Array<T>& x) { return (T(1) - x.square()).rsqrt(); },
      [](const BasicTensor<T>& x) { return pow(one_minus_square(x), T(-0.5)); });
}

template <class T>
BasicTensor<T> acos(const BasicTensor<T>& a) {
  return unary(
      "acos", a, false, [](const Array<T>& x) { return x.acos(); },
      [](const Array<T>& x) { return -(T(1) - x.square()).rsqrt(); },
      [](const BasicTensor<T>& x) {
        return affine(pow(one_minus_square(x), T(-0.5)), T(-1), T(0));
      });
}

template <class T>
BasicTensor<T> atan(const BasicTensor<T>& a) {
  return unary(
      "atan", a, false, [](const Array<T>& x) { return x.atan(); },
      [](const Array<T>& x) { return (T(1) + x.square()).inverse(); },
      [](const BasicTensor<T>& x) { return rdiv(T(1), affine(mul(x, x), T(1), T(1))); });
}

template <class T>
BasicTensor<T> sinh(const BasicTensor<T>& a) {
  return unary(
      "sinh", a, false, [](const Array<T>& x) { return x.sinh(); },
      [](const Array<T>& x) { return x.cosh(); }, [](const BasicTensor<T>& x) { return cosh(x); });
}

template <class T>
BasicTensor<T> cosh(const BasicTensor<T>& a) {
  return unary(
      "cosh", a, false, [](const Array<T>& x) { return x.cosh(); },
      [](const Array<T>& x) { return x.sinh(); }, [](const BasicTensor<T>& x) { return sinh(x); });
}

template <class T>
BasicTensor<T> log1p(const BasicTensor<T>& a) {
  return unary(
      "log1p", a, false, [](const Array<T>& x) { return x.log1p(); },
      [](const Array<T>& x) { return (x + T(1)).inverse(); },
      [](const BasicTensor<T>& x) { return rdiv(T(1), affine(x, T(1), T(1))); });
}

// expm1' = exp = expm1 + 1, read from the output.
template <class T>
BasicTensor<T> expm1(const BasicTensor<T>& a) {
  return unary(
      "expm1", a, true, [](const Array<T>& x) { return x.expm1(); },
      [](const Array<T>& y) { return y + T(1); },
      [](const BasicTensor<T>& y) { return affine(y, T(1), T(1)); });
}

// (1/x)' = -1/x^2 = -y^2, read from the output.
template <class T>
BasicTensor<T> reciprocal(const BasicTensor<T>& a) {
  return unary(
      "reciprocal", a, true, [](const Array<T>& x) { return x.inverse(); },
      [](const Array<T>& y) { return -y.square(); },
      [](const BasicTensor<T>& y) { return neg(mul(y, y)); });
}

// sign(NaN) is 0, as PyTorch 1.13's kernel ((0 < x) - (x < 0)) gives.
template <class T>
BasicTensor<T> sign(const BasicTensor<T>& a) {
  return piecewise_constant("sign", a, [](T v) { return T((T(0) < v) - (v < T(0))); });
}

template <class T>
BasicTensor<T> floor(const BasicTensor<T>& a) {
  return piecewise_constant("floor", a, [](T v) { return std::floor(v); });
}

template <class T>
BasicTensor<T> ceil(const BasicTensor<T>& a) {
  return piecewise_constant("ceil", a, [](T v) { return std::ceil(v); });
}

// Halves to even (torch.round): nearbyint in the default rounding mode.
template <class T>
BasicTensor<T> round(const BasicTensor<T>& a) {
  return piecewise_constant("round", a, [](T v) { return std::nearbyint(v); });
}

// ---------------------------------------------------------------- minimum and maximum

namespace {

template <class T>
BasicTensor<T> reduced(const BasicTensor<T>& g, const Shape& in) {
  return g.shape() == in ? g : sum_to_size(g, in);
}

// The share of the gradient that goes to `a` in maximum(a, b) (`max`) or minimum(a, b), as
// PyTorch 1.13's derivatives.yaml: 1 where a wins, 0 where b wins, 1/2 each on a tie. A NaN wins
// both sides' comparisons, so both get the whole gradient there, as in PyTorch.
template <class T>
Array<T> share_of_a(const Array<T>& a, const Array<T>& b, bool max) {
  return a.binaryExpr(b, [max](T x, T y) {
    if (x == y) return T(0.5);
    return (max ? x < y : x > y) ? T(0) : T(1);
  });
}

template <class T>
BasicTensor<T> extremum(const char* op, const BasicTensor<T>& a, const BasicTensor<T>& b,
                        bool max) {
  const Shape shape = broadcast_shapes(op, a.shape(), b.shape());
  Array<T> sa, sb;
  auto out = BasicTensor<T>::empty(shape);
  // NaN propagates from either side.
  assign(out.mutable_array(),
         operand(a.array(), a.shape(), shape, sa)
             .binaryExpr(operand(b.array(), b.shape(), shape, sb), [max](T x, T y) {
               return std::isnan(x) || (max ? x > y : x < y) ? x : y;
             }));
  if (needs_grad(a, b)) {
    // Both shares as constants of the output's shape: a kink, whose second derivative is 0.
    const auto shares = [shape, max, ash = a.shape(), bsh = b.shape()](const Array<T>& ad,
                                                                       const Array<T>& bd) {
      Array<T> s0, s1;
      const Array<T>& x = operand(ad, ash, shape, s0);
      const Array<T>& y = operand(bd, bsh, shape, s1);
      return std::make_pair(share_of_a(x, y, max), share_of_a(y, x, max));
    };
    record(
        op, out, {&a, &b}, Saves().input(0).input(1),
        [shares, shape, ash = a.shape(), bsh = b.shape(), ad = a.storage(), bd = b.storage()](
            const Array<T>& g, GradSink<T>& s) {
          const auto w = shares(*ad, *bd);
          if (s.needs(0)) s.add(0, sum_to(Array<T>(g * w.first), shape, ash));
          if (s.needs(1)) s.add(1, sum_to(Array<T>(g * w.second), shape, bsh));
        },
        [shares, shape, ash = a.shape(), bsh = b.shape(), ad = a.storage(), bd = b.storage()](
            GraphContext<T>& c, const BasicTensor<T>& g) {
          const auto w = shares(*ad, *bd);
          const auto constant = [&shape](const Array<T>& v) {
            return BasicTensor<T>::from_storage(std::make_shared<Array<T>>(v), shape);
          };
          return Grads<T>{c.needs(0) ? reduced(mul(g, constant(w.first)), ash) : BasicTensor<T>(),
                          c.needs(1) ? reduced(mul(g, constant(w.second)), bsh) : BasicTensor<T>()};
        });
  }
  return out;
}

}  // namespace

template <class T>
BasicTensor<T> maximum(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return extremum("maximum", a, b, true);
}

template <class T>
BasicTensor<T> minimum(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return extremum("minimum", a, b, false);
}

#define EIGRAD_INSTANTIATE_ELEMENTWISE_MATH(T)                                   \
  template BasicTensor<T> sin(const BasicTensor<T>&);                            \
  template BasicTensor<T> cos(const BasicTensor<T>&);                            \
  template BasicTensor<T> tan(const BasicTensor<T>&);                            \
  template BasicTensor<T> asin(const BasicTensor<T>&);                           \
  template BasicTensor<T> acos(const BasicTensor<T>&);                           \
  template BasicTensor<T> atan(const BasicTensor<T>&);                           \
  template BasicTensor<T> sinh(const BasicTensor<T>&);                           \
  template BasicTensor<T> cosh(const BasicTensor<T>&);                           \
  template BasicTensor<T> log1p(const BasicTensor<T>&);                          \
  template BasicTensor<T> expm1(const BasicTensor<T>&);                          \
  template BasicTensor<T> reciprocal(const BasicTensor<T>&);                     \
  template BasicTensor<T> sign(const BasicTensor<T>&);                           \
  template BasicTensor<T> floor(const BasicTensor<T>&);                          \
  template BasicTensor<T> ceil(const BasicTensor<T>&);                           \
  template BasicTensor<T> round(const BasicTensor<T>&);                          \
  template BasicTensor<T> maximum(const BasicTensor<T>&, const BasicTensor<T>&); \
  template BasicTensor<T> minimum(const BasicTensor<T>&, const BasicTensor<T>&);

EIGRAD_INSTANTIATE_ELEMENTWISE_MATH(float)
EIGRAD_INSTANTIATE_ELEMENTWISE_MATH(double)

}  // namespace eigrad
