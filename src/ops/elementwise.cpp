#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/reduce.hpp"

#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "autograd/graph.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;

namespace {

// Adds g, the gradient of a broadcast result of shape `out`, to input i of shape `in`.
template <class T>
void add_reduced(GradSink<T>& s, size_t i, Array<T> g, const Shape& out, const Shape& in) {
  if (in.numel() == out.numel())
    s.add(i, std::move(g));
  else
    s.add(i, sum_to(g, out, in));
}

// The graph form of add_reduced: g summed back to an input's shape, recorded.
template <class T>
BasicTensor<T> reduced(const BasicTensor<T>& g, const Shape& in) {
  return g.shape() == in ? g : sum_to_size(g, in);
}

template <class T>
using Grads = std::vector<BasicTensor<T>>;

}  // namespace

// ---------------------------------------------------------------- elementwise arithmetic

template <class T>
BasicTensor<T> add(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const Shape shape = broadcast_shapes("add", a.shape(), b.shape());
  Array<T> sa, sb;
  auto out = BasicTensor<T>::empty(shape);
  assign(out.mutable_array(),
         operand(a.array(), a.shape(), shape, sa) + operand(b.array(), b.shape(), shape, sb));
  if (needs_grad(a, b))
    record(
        "add", out, {&a, &b}, Saves(),
        [shape, ash = a.shape(), bsh = b.shape()](const Array<T>& g, GradSink<T>& s) {
          if (s.needs(0)) add_reduced(s, 0, Array<T>(g), shape, ash);
          if (s.needs(1)) add_reduced(s, 1, s.take(g), shape, bsh);
        },
        [ash = a.shape(), bsh = b.shape()](GraphContext<T>& c, const BasicTensor<T>& g) {
          return Grads<T>{c.needs(0) ? reduced(g, ash) : BasicTensor<T>(),
                          c.needs(1) ? reduced(g, bsh) : BasicTensor<T>()};
        });
  return out;
}

template <class T>
BasicTensor<T> sub(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const Shape shape = broadcast_shapes("sub", a.shape(), b.shape());
  Array<T> sa, sb;
  auto out = BasicTensor<T>::empty(shape);
  assign(out.mutable_array(),
         operand(a.array(), a.shape(), shape, sa) - operand(b.array(), b.shape(), shape, sb));
  if (needs_grad(a, b))
    record(
        "sub", out, {&a, &b}, Saves(),
        [shape, ash = a.shape(), bsh = b.shape()](const Array<T>& g, GradSink<T>& s) {
          if (s.needs(1)) add_reduced(s, 1, Array<T>(-g), shape, bsh);
          if (s.needs(0)) add_reduced(s, 0, s.take(g), shape, ash);
        },
        [ash = a.shape(), bsh = b.shape()](GraphContext<T>& c, const BasicTensor<T>& g) {
          return Grads<T>{c.needs(0) ? reduced(g, ash) : BasicTensor<T>(),
                          c.needs(1) ? reduced(neg(g), bsh) : BasicTensor<T>()};
        });
  return out;
}

template <class T>
BasicTensor<T> mul(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const Shape shape = broadcast_shapes("mul", a.shape(), b.shape());
  Array<T> sa, sb;
  auto out = BasicTensor<T>::empty(shape);
  assign(out.mutable_array(),
         operand(a.array(), a.shape(), shape, sa) * operand(b.array(), b.shape(), shape, sb));
  if (needs_grad(a, b))
    record(
        "mul", out, {&a, &b}, Saves().input(0).input(1),
        [shape, ash = a.shape(), bsh = b.shape(), ad = a.storage(), bd = b.storage()](
            const Array<T>& g, GradSink<T>& s) {
          Array<T> scratch;
          if (s.needs(0))
            add_reduced(s, 0, Array<T>(g * operand(*bd, bsh, shape, scratch)), shape, ash);
          if (s.needs(1))
            add_reduced(s, 1, Array<T>(g * operand(*ad, ash, shape, scratch)), shape, bsh);
        },
        [ash = a.shape(), bsh = b.shape()](GraphContext<T>& c, const BasicTensor<T>& g) {
          return Grads<T>{c.needs(0) ? reduced(mul(g, c.input(1)), ash) : BasicTensor<T>(),
                          c.needs(1) ? reduced(mul(g, c.input(0)), bsh) : BasicTensor<T>()};
        });
  return out;
}

template <class T>
BasicTensor<T> div(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const Shape shape = broadcast_shapes("div", a.shape(), b.shape());
  Array<T> sa, sb;
  auto out = BasicTensor<T>::empty(shape);
  assign(out.mutable_array(),
         operand(a.array(), a.shape(), shape, sa) / operand(b.array(), b.shape(), shape, sb));
  if (needs_grad(a, b))
    record(
        "div", out, {&a, &b}, Saves().input(1).output(),
        [shape, ash = a.shape(), bsh = b.shape(), bd = b.storage(), y = out.storage()](
            const Array<T>& g, GradSink<T>& s) {
          Array<T> scratch;
          const Array<T>& bx = operand(*bd, bsh, shape, scratch);
          // d(a/b)/db = -(a/b)/b = -y/b
          if (s.needs(1)) add_reduced(s, 1, Array<T>(-g * *y / bx), shape, bsh);
          if (s.needs(0)) add_reduced(s, 0, Array<T>(g / bx), shape, ash);
        },
        [ash = a.shape(), bsh = b.shape()](GraphContext<T>& c, const BasicTensor<T>& g) {
          const BasicTensor<T> b = c.input(1);
          return Grads<T>{
              c.needs(0) ? reduced(div(g, b), ash) : BasicTensor<T>(),
              c.needs(1) ? reduced(neg(div(mul(g, c.output()), b)), bsh) : BasicTensor<T>()};
        });
  return out;
}

template <class T>
BasicTensor<T> neg(const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.mutable_array(), -a.array());
  if (needs_grad(a))
    record(
        "neg", out, {&a}, Saves(), [](const Array<T>& g, GradSink<T>& s) { s.add(0, -g); },
        [](GraphContext<T>&, const BasicTensor<T>& g) { return Grads<T>{neg(g)}; });
  return out;
}

template <class T>
BasicTensor<T> affine(const BasicTensor<T>& a, Scalar<T> scale, Scalar<T> shift) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.mutable_array(), a.array() * scale + shift);
  if (needs_grad(a))
    record(
        "affine", out, {&a}, Saves(),
        [scale](const Array<T>& g, GradSink<T>& s) { s.add(0, g * scale); },
        [scale](GraphContext<T>&, const BasicTensor<T>& g) {
          return Grads<T>{affine(g, scale, T(0))};
        });
  return out;
}

template <class T>
BasicTensor<T> rdiv(Scalar<T> c, const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.mutable_array(), c / a.array());
  if (needs_grad(a))
    record(
        "rdiv", out, {&a}, Saves().input(0),
        [c, x = a.storage()](const Array<T>& g, GradSink<T>& s) {
          s.add(0, -(g * c) / x->square());
        },
        [c](GraphContext<T>& ctx, const BasicTensor<T>& g) {
          const BasicTensor<T> x = ctx.input(0);
          return Grads<T>{div(affine(g, -c, T(0)), mul(x, x))};
        });
  return out;
}

// ---------------------------------------------------------------- elementwise functions

template <class T>
BasicTensor<T> exp(const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.mutable_array(), a.array().exp());
  if (needs_grad(a))
    record(
        "exp", out, {&a}, Saves().output(),
        [y = out.storage()](const Array<T>& g, GradSink<T>& s) { s.add(0, g * *y); },
        [](GraphContext<T>& c, const BasicTensor<T>& g) { return Grads<T>{mul(g, c.output())}; });
  return out;
}

template <class T>
BasicTensor<T> log(const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.mutable_array(), a.array().log());
  if (needs_grad(a))
    record(
        "log", out, {&a}, Saves().input(0),
        [x = a.storage()](const Array<T>& g, GradSink<T>& s) { s.add(0, g / *x); },
        [](GraphContext<T>& c, const BasicTensor<T>& g) { return Grads<T>{div(g, c.input(0))}; });
  return out;
}

template <class T>
BasicTensor<T> pow(const BasicTensor<T>& a, Scalar<T> p) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.mutable_array(), a.array().pow(p));
  if (needs_grad(a))
    record(
        "pow", out, {&a}, Saves().input(0),
        [p, x = a.storage()](const Array<T>& g, GradSink<T>& s) {
          if (p == T(0))  // d(x^0)/dx = 0 everywhere, 0^-1 included (PyTorch's convention)
            s.add(0, Array<T>::Zero(g.size()));
          else
            s.add(0, g * p * x->pow(p - T(1)));
        },
        // p x^(p-1) through pow itself, so every order follows (x^1's derivative is x^0's, 0).
        [p, in = a.shape()](GraphContext<T>& c, const BasicTensor<T>& g) {
          if (p == T(0)) return Grads<T>{BasicTensor<T>::zeros(in)};
          return Grads<T>{mul(g, affine(pow(c.input(0), p - T(1)), p, T(0)))};
        });
  return out;
}

template <class T>
BasicTensor<T> sqrt(const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.mutable_array(), a.array().sqrt());
  if (needs_grad(a))
    record(
        "sqrt", out, {&a}, Saves().output(),
        [y = out.storage()](const Array<T>& g, GradSink<T>& s) { s.add(0, g / (T(2) * *y)); },
        [](GraphContext<T>& c, const BasicTensor<T>& g) {
          return Grads<T>{div(g, affine(c.output(), T(2), T(0)))};
        });
  return out;
}

template <class T>
BasicTensor<T> abs(const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.mutable_array(), a.array().abs());
  if (needs_grad(a))
    record(
        "abs", out, {&a}, Saves().input(0),
        [x = a.storage()](const Array<T>& g, GradSink<T>& s) {
          s.add(0, g * x->sign());  // abs'(0) = 0, as in PyTorch
        },
        // The sign is a constant outside the graph: abs'' = 0, at the kink too (PyTorch).
        [x = a.storage(), in = a.shape()](GraphContext<T>&, const BasicTensor<T>& g) {
          const auto sign = BasicTensor<T>::from_storage(std::make_shared<Array<T>>(x->sign()), in);
          return Grads<T>{mul(g, sign)};
        });
  return out;
}

template <class T>
BasicTensor<T> clamp(const BasicTensor<T>& a, Scalar<T> lo, Scalar<T> hi) {
  if (std::isnan(lo) || std::isnan(hi) || lo > hi)
    throw Error("clamp: expected lo <= hi, got lo " + std::to_string(lo) + " and hi " +
                std::to_string(hi));
  auto out = BasicTensor<T>::empty(a.shape());
  // NaN fails both comparisons and passes through, as in PyTorch.
  assign(out.mutable_array(),
         a.array().unaryExpr([lo, hi](T v) { return v < lo ? lo : (v > hi ? hi : v); }));
  if (needs_grad(a))
    record(
        "clamp", out, {&a}, Saves().input(0),
        [lo, hi, x = a.storage()](const Array<T>& g, GradSink<T>& s) {
          s.add(0, g * (*x >= lo && *x <= hi).template cast<T>());
        },
        // The mask is a constant outside the graph: clamp'' = 0.
        [lo, hi, x = a.storage(), in = a.shape()](GraphContext<T>&, const BasicTensor<T>& g) {
          const auto mask = BasicTensor<T>::from_storage(
              std::make_shared<Array<T>>((*x >= lo && *x <= hi).template cast<T>()), in);
          return Grads<T>{mul(g, mask)};
        });
  return out;
}

#define EIGRAD_INSTANTIATE_ELEMENTWISE(T)                                    \
  template BasicTensor<T> add(const BasicTensor<T>&, const BasicTensor<T>&); \
  template BasicTensor<T> sub(const BasicTensor<T>&, const BasicTensor<T>&); \
  template BasicTensor<T> mul(const BasicTensor<T>&, const BasicTensor<T>&); \
  template BasicTensor<T> div(const BasicTensor<T>&, const BasicTensor<T>&); \
  template BasicTensor<T> neg(const BasicTensor<T>&);                        \
  template BasicTensor<T> affine(const BasicTensor<T>&, T, T);               \
  template BasicTensor<T> rdiv(T, const BasicTensor<T>&);                    \
  template BasicTensor<T> exp(const BasicTensor<T>&);                        \
  template BasicTensor<T> log(const BasicTensor<T>&);                        \
  template BasicTensor<T> pow(const BasicTensor<T>&, T);                     \
  template BasicTensor<T> sqrt(const BasicTensor<T>&);                       \
  template BasicTensor<T> abs(const BasicTensor<T>&);                        \
  template BasicTensor<T> clamp(const BasicTensor<T>&, T, T);

EIGRAD_INSTANTIATE_ELEMENTWISE(float)
EIGRAD_INSTANTIATE_ELEMENTWISE(double)

}  // namespace eigrad
