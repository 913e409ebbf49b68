// Statistics and other reductions beyond sum, mean, max and min: var, std, logsumexp and norm over
// any set of axes, cumsum and prod. var, std, logsumexp and norm are one node each with a fused
// first-order kernel; every graph backward is written in eigrad ops (PyTorch 1.13's formulas).
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/reduce.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;

namespace {

template <class T>
using Grads = std::vector<BasicTensor<T>>;
template <class T>
using Column = Eigen::Array<T, Eigen::Dynamic, 1>;

// A reduction over a set of axes seen as a row-major [rows, cols] matrix: the kept axes index the
// rows, the reduced axes the columns. When the reduced axes are not the trailing ones, the data is
// permuted into that layout (and gradients permuted back).
struct AxesPlan {
  Shape in, out, kept;     // the input, the result, the result with keepdim
  std::vector<int> axes;   // the reduced axes, resolved and ascending
  std::vector<int> order;  // kept axes then reduced axes; empty when that is the identity
  std::vector<int> inverse;
  Shape permuted;
  int64_t rows = 1, cols = 1;
};

// An empty list of axes reduces over all of them (PyTorch's dim=None); each axis may be given once.
AxesPlan plan_axes(const char* op, const Shape& in, const std::vector<int>& axes, bool keepdim) {
  AxesPlan p;
  p.in = in;
  const int r = in.rank();
  std::vector<bool> reduce(static_cast<size_t>(std::max(r, 1)), axes.empty());
  for (int a : axes) {
    const int ax = normalize_axis(op, a, r);  // a scalar takes axis 0 or -1
    if (!axes.empty() && reduce[static_cast<size_t>(ax)])
      throw Error(std::string(op) + ": axis " + std::to_string(ax) + " appears more than once in " +
                  str(axes) + " for shape " + in.str() + "; give each axis once");
    reduce[static_cast<size_t>(ax)] = true;
  }
  std::vector<int> kept_axes;
  for (int i = 0; i < r; ++i) {
    if (reduce[static_cast<size_t>(i)]) {
      p.cols *= in[i];
      p.axes.push_back(i);
      p.kept.push_back(1);
      if (keepdim) p.out.push_back(1);
    } else {
      p.rows *= in[i];
      kept_axes.push_back(i);
      p.kept.push_back(in[i]);
      p.out.push_back(in[i]);
    }
  }
  p.order = kept_axes;
  p.order.insert(p.order.end(), p.axes.begin(), p.axes.end());
  bool identity = true;
  for (int i = 0; i < r; ++i) identity &= p.order[static_cast<size_t>(i)] == i;
  if (identity) {
    p.order.clear();
    p.permuted = in;
  } else {
    p.inverse.resize(static_cast<size_t>(r));
    for (int i = 0; i < r; ++i) {
      p.inverse[static_cast<size_t>(p.order[static_cast<size_t>(i)])] = i;
      p.permuted.push_back(in[p.order[static_cast<size_t>(i)]]);
    }
  }
  return p;
}

// The values of x (of shape p.in) in the plan's [rows, cols] layout, as a tensor outside the graph.
template <class T>
BasicTensor<T> in_rows(const AxesPlan& p, const std::shared_ptr<Array<T>>& x) {
  const auto t = BasicTensor<T>::from_storage(x, p.in);
  if (p.order.empty()) return t;
  NoGradGuard guard;
  return permute(t, p.order);
}

// A gradient in the [rows, cols] layout, back in the input's layout.
template <class T>
Array<T> from_rows(const AxesPlan& p, Array<T>&& g) {
  if (p.order.empty()) return std::move(g);
  NoGradGuard guard;
  auto t =
      permute(BasicTensor<T>::from_storage(std::make_shared<Array<T>>(std::move(g)), p.permuted),
              p.inverse);
  return std::move(*t.storage());
}

// The mean of x over the plan's axes, kept as size-1 axes, recorded.
template <class T>
BasicTensor<T> mean_kept(BasicTensor<T> x, const AxesPlan& p) {
  for (int ax : p.axes) x = mean(x, ax, true);
  return x;
}

// A constant of the given shape (outside the graph).
template <class T>
BasicTensor<T> constant(Array<T> values, const Shape& shape) {
  return BasicTensor<T>::from_storage(std::make_shared<Array<T>>(std::move(values)), shape);
}

// ---------------------------------------------------------------- var and std

// var = sum((x - mean)^2) / max(N - correction, 0), two passes; std = sqrt(var).
template <class T>
BasicTensor<T> variance(const char* op, const BasicTensor<T>& a, const std::vector<int>& axes,
                        int64_t correction, bool keepdim, bool take_sqrt) {
  const AxesPlan p = plan_axes(op, a.shape(), axes, keepdim);
  const T divisor = static_cast<T>(std::max<int64_t>(p.cols - correction, 0));
  auto out = BasicTensor<T>::empty(p.out);
  if (a.numel() == 0) {
    out.mutable_array().setConstant(std::numeric_limits<T>::quiet_NaN());  // 0 / 0, as PyTorch
  } else {
    const BasicTensor<T> rows = in_rows(p, a.storage());
    const ConstMatrixMap<T> x(rows.data(), p.rows, p.cols);
    const Eigen::Matrix<T, Eigen::Dynamic, 1> m = x.rowwise().mean();
    const Column<T> v = (x.colwise() - m).rowwise().squaredNorm().array() / divisor;
    out.mutable_array() = take_sqrt ? Column<T>(v.sqrt()) : v;
  }
  if (needs_grad(a)) {
    // d var / dx = 2 (x - mean) / divisor; std's gradient is var's at g / (2 std), 0 where std is
    // 0 (PyTorch's std_backward).
    const auto kernel = [p, divisor](const std::shared_ptr<Array<T>>& x_data, const Array<T>& gv) {
      Array<T> gx(p.in.numel());
      if (gx.size() == 0) return gx;
      const BasicTensor<T> rows = in_rows(p, x_data);
      const ConstMatrixMap<T> x(rows.data(), p.rows, p.cols);
      const Eigen::Matrix<T, Eigen::Dynamic, 1> m = x.rowwise().mean();
      MatrixMap<T> d(gx.data(), p.rows, p.cols);
      d = x.colwise() - m;
      d.array().colwise() *= gv * (T(2) / divisor);
      return from_rows(p, std::move(gx));
    };
    record(
        op, out, {&a}, take_sqrt ? Saves().input(0).output() : Saves().input(0),
        [kernel, take_sqrt, x = a.storage(), y = take_sqrt ? out.storage() : nullptr](
            const Array<T>& g, GradSink<T>& s) {
          if (take_sqrt)
            s.add(0, kernel(x, Array<T>((*y == T(0)).select(T(0), g / (T(2) * *y)))));
          else
            s.add(0, kernel(x, g));
        },
        [p, divisor, take_sqrt](GraphContext<T>& c, const BasicTensor<T>& g) {
          const BasicTensor<T> x = c.input(0);
          BasicTensor<T> gv = reshape(g, p.kept.vec());
          if (take_sqrt) {
            // g / (2 std) where std > 0, else 0; the denominator is std + 1 where std is 0, so that
            // no derivative divides by 0.
            const BasicTensor<T> y = reshape(c.output(), p.kept.vec());
            const Array<T> zero = (y.array() == T(0)).template cast<T>();
            gv = div(mul(gv, constant<T>(T(1) - zero, p.kept)),
                     affine(add(y, constant<T>(zero, p.kept)), T(2), T(0)));
          }
          return Grads<T>{mul(affine(gv, T(2) / divisor, T(0)), sub(x, mean_kept(x, p)))};
        });
  }
  return out;
}

// ---------------------------------------------------------------- logsumexp

template <class T>
BasicTensor<T> log_sum_exp(const BasicTensor<T>& a, const std::vector<int>& axes, bool keepdim) {
  const AxesPlan p = plan_axes("logsumexp", a.shape(), axes, keepdim);
  auto out = BasicTensor<T>::empty(p.out);
  if (a.numel() == 0) {
    out.mutable_array().setConstant(-std::numeric_limits<T>::infinity());  // log(0)
  } else {
    const BasicTensor<T> rows = in_rows(p, a.storage());
    const ConstMatrixMap<T> x(rows.data(), p.rows, p.cols);
    // log sum exp(x - m) + m with m the row's maximum, or 0 where that is infinite (as PyTorch:
    // all -inf gives -inf, an inf gives inf), so that exp never overflows.
    Eigen::Matrix<T, Eigen::Dynamic, 1> m = x.rowwise().maxCoeff();
    m = m.unaryExpr([](T v) { return std::isinf(v) ? T(0) : v; });
    out.mutable_array() = (x.colwise() - m).array().exp().rowwise().sum().log() + m.array();
  }
  if (needs_grad(a))
    // d/dx = exp(x - logsumexp): the softmax along the axes.
    record(
        "logsumexp", out, {&a}, Saves().input(0).output(),
        [p, x = a.storage(), y = out.storage()](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx(p.in.numel());
          if (gx.size() > 0) {
            const BasicTensor<T> rows = in_rows(p, x);
            MatrixMap<T> d(gx.data(), p.rows, p.cols);
            d = ConstMatrixMap<T>(rows.data(), p.rows, p.cols).colwise() - y->matrix();
            d = d.array().exp().matrix();
            d.array().colwise() *= g;
            gx = from_rows(p, std::move(gx));
          }
          s.add(0, std::move(gx));
        },
        [p](GraphContext<T>& c, const BasicTensor<T>& g) {
          const BasicTensor<T> y = reshape(c.output(), p.kept.vec());
          return Grads<T>{mul(reshape(g, p.kept.vec()), exp(sub(c.input(0), y)))};
        });
  return out;
}

// ---------------------------------------------------------------- norm

enum class NormKind { One, Two, Infinity, General };

template <class T>
NormKind norm_kind(T p) {
  if (!(p > T(0)))
    throw Error("norm: expected p > 0 (1, 2, infinity or any positive real), got p = " +
                std::to_string(p));
  if (std::isinf(p)) return NormKind::Infinity;
  return p == T(1) ? NormKind::One : p == T(2) ? NormKind::Two : NormKind::General;
}

template <class T>
T sign_of(T v) {
  return T((T(0) < v) - (v < T(0)));
}

// The norm of each row of x ([rows, cols]); the infinity norm propagates NaN.
template <class T>
Column<T> row_norms(const ConstMatrixMap<T>& x, NormKind kind, T p) {
  switch (kind) {
    case NormKind::One:
      return x.array().abs().rowwise().sum();
    case NormKind::Two:
      return x.rowwise().norm().array();
    case NormKind::Infinity: {
      Column<T> n(x.rows());
      for (Eigen::Index r = 0; r < x.rows(); ++r) {
        T m = T(0);
        for (Eigen::Index c = 0; c < x.cols(); ++c) {
          const T v = std::abs(x(r, c));
          if (std::isnan(v) || v > m) m = v;
          if (std::isnan(m)) break;
        }
        n[r] = m;
      }
      return n;
    }
    default:
      return x.array().abs().pow(p).rowwise().sum().pow(T(1) / p);
  }
}

// d norm / dx per unit gradient for the kinks' constant parts, in the [rows, cols] layout:
// sign(x) for p = 1; for p = infinity sign(x) shared evenly among the entries of the row whose |x|
// reaches the norm (the NaNs when it is NaN), as PyTorch 1.13's norm_backward.
template <class T>
Array<T> norm_kink_weights(const ConstMatrixMap<T>& x, NormKind kind, const Column<T>& n) {
  Array<T> w(x.size());
  MatrixMap<T> wm(w.data(), x.rows(), x.cols());
  if (kind == NormKind::One) {
    wm = x.unaryExpr([](T v) { return sign_of(v); });
    return w;
  }
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    int64_t count = 0;
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      const T v = x(r, c);
      const bool hit = std::abs(v) == n[r] || (std::isnan(v) && std::isnan(n[r]));
      wm(r, c) = hit ? sign_of(v) : T(0);
      count += hit;
    }
    if (count > 1) wm.row(r) /= static_cast<T>(count);
  }
  return w;
}

template <class T>
BasicTensor<T> vector_norm(const BasicTensor<T>& a, T p, const std::vector<int>& axes,
                           bool keepdim) {
  const NormKind kind = norm_kind(p);
  const AxesPlan plan = plan_axes("norm", a.shape(), axes, keepdim);
  if (kind == NormKind::Infinity && plan.cols == 0)
    throw Error("norm: cannot take the infinity norm of shape " + a.shape().str() + " over axes " +
                str(axes) + ": the reduction is empty and the maximum has no identity");
  auto out = BasicTensor<T>::empty(plan.out);
  if (a.numel() == 0) {
    out.mutable_array().setZero();
  } else {
    const BasicTensor<T> rows = in_rows(plan, a.storage());
    out.mutable_array() = row_norms(ConstMatrixMap<T>(rows.data(), plan.rows, plan.cols), kind, p);
  }
  if (needs_grad(a))
    record(
        "norm", out, {&a}, Saves().input(0).output(),
        // PyTorch 1.13's norm_backward: p = 1: g sign(x); p = 2: g x / n; p = infinity: see
        // norm_kink_weights; else g sign(x) |x|^(p-1) / n^(p-1) (0 where x = 0). 0 where n = 0.
        [plan, kind, p, x = a.storage(), y = out.storage()](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx(plan.in.numel());
          if (gx.size() > 0) {
            const BasicTensor<T> rows = in_rows(plan, x);
            const ConstMatrixMap<T> xm(rows.data(), plan.rows, plan.cols);
            const Column<T>& n = *y;
            if (kind == NormKind::One || kind == NormKind::Infinity) {
              gx = norm_kink_weights(xm, kind, n);
              MatrixMap<T>(gx.data(), plan.rows, plan.cols).array().colwise() *= g;
            } else {
              MatrixMap<T> d(gx.data(), plan.rows, plan.cols);
              if (kind == NormKind::Two) {
                d = xm;
                d.array().colwise() *= (n == T(0)).select(T(0), g / n);
              } else {
                d = xm.unaryExpr([p](T v) {
                  return v == T(0) ? T(0) : sign_of(v) * std::pow(std::abs(v), p - 1);
                });
                d.array().colwise() *= (n == T(0)).select(T(0), g / n.pow(p - 1));
              }
            }
            gx = from_rows(plan, std::move(gx));
          }
          s.add(0, std::move(gx));
        },
        [plan, kind, p](GraphContext<T>& c, const BasicTensor<T>& g) {
          const BasicTensor<T> x = c.input(0), gk = reshape(g, plan.kept.vec());
          const BasicTensor<T> n = reshape(c.output(), plan.kept.vec());
          if (kind == NormKind::One || kind == NormKind::Infinity) {
            // Constant weights outside the graph: a kink, whose second derivative is 0.
            Array<T> w(plan.in.numel());
            if (w.size() > 0) {
              const BasicTensor<T> rows = in_rows(plan, x.storage());
              w = from_rows(plan,
                            norm_kink_weights(ConstMatrixMap<T>(rows.data(), plan.rows, plan.cols),
                                              kind, Column<T>(n.array())));
            }
            return Grads<T>{mul(gk, constant(std::move(w), plan.in))};
          }
          // Where n = 0 the gradient is 0: g is masked there and the denominator is n + 1, so
          // that no derivative divides by 0.
          const Array<T> n_zero = (n.array() == T(0)).template cast<T>();
          const BasicTensor<T> masked_g = mul(gk, constant<T>(T(1) - n_zero, plan.kept));
          const BasicTensor<T> safe_n = add(n, constant<T>(n_zero, plan.kept));
          if (kind == NormKind::Two) return Grads<T>{mul(x, div(masked_g, safe_n))};
          // sign(x) |x|^(p-1), through |x| + 1 where x = 0 (the sign makes it 0 there).
          const Array<T> x_zero = (x.array() == T(0)).template cast<T>();
          const Array<T> x_sign = x.array().unaryExpr([](T v) { return sign_of(v); });
          const BasicTensor<T> w = mul(constant<T>(x_sign, plan.in),
                                       pow(add(abs(x), constant<T>(x_zero, plan.in)), p - T(1)));
          return Grads<T>{mul(w, div(masked_g, pow(safe_n, p - T(1))))};
        });
  return out;
}

// ---------------------------------------------------------------- prod

// prod of each line along the middle axis of [outer, n, inner]; for the gradient, the product of
// the other entries of each line, from prefix and suffix products (no division: exact with zeros,
// one or several).
template <class T>
void line_products(const Array<T>& x, const AxisView& v, T* out) {
  for (int64_t o = 0; o < v.outer; ++o) {
    Eigen::Map<Array<T>> run(out + o * v.inner, v.inner);
    run.setOnes();
    for (int64_t j = 0; j < v.n; ++j) run *= x.segment((o * v.n + j) * v.inner, v.inner);
  }
}

template <class T>
Array<T> products_of_others(const Array<T>& x, const AxisView& v, const Array<T>& g) {
  Array<T> gx(x.size());
  Array<T> run(v.inner);
  for (int64_t o = 0; o < v.outer; ++o) {
    run.setOnes();
    for (int64_t j = 0; j < v.n; ++j) {
      const int64_t at = (o * v.n + j) * v.inner;
      gx.segment(at, v.inner) = run;
      run *= x.segment(at, v.inner);
    }
    run = g.segment(o * v.inner, v.inner);
    for (int64_t j = v.n - 1; j >= 0; --j) {
      const int64_t at = (o * v.n + j) * v.inner;
      gx.segment(at, v.inner) *= run;
      run *= x.segment(at, v.inner);
    }
  }
  return gx;
}

// The same in eigrad ops, so that it can be differentiated again: g (of x's shape with a 1 at
// ax) times the products of the other slices along ax, built from narrow slices.
template <class T>
BasicTensor<T> products_of_others(const BasicTensor<T>& x, int ax, const BasicTensor<T>& g) {
  const int64_t n = x.shape()[ax];
  if (n == 0) return BasicTensor<T>::zeros(x.shape());
  std::vector<BasicTensor<T>> slice, before(static_cast<size_t>(n)), after(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) slice.push_back(narrow(x, ax, k, 1));
  const auto at = [](std::vector<BasicTensor<T>>& v, int64_t k) -> BasicTensor<T>& {
    return v[static_cast<size_t>(k)];
  };
  // before[k] = slice[0] ... slice[k - 1], after[k] = slice[k + 1] ... slice[n - 1]; undefined
  // for an empty product.
  for (int64_t k = 1; k < n; ++k)
    at(before, k) = k == 1 ? at(slice, 0) : mul(at(before, k - 1), at(slice, k - 1));
  for (int64_t k = n - 2; k >= 0; --k)
    at(after, k) = k == n - 2 ? at(slice, n - 1) : mul(at(after, k + 1), at(slice, k + 1));
  std::vector<BasicTensor<T>> others;
  for (int64_t k = 0; k < n; ++k) {
    const BasicTensor<T>& b = at(before, k);
    const BasicTensor<T>& a = at(after, k);
    others.push_back(b.defined() && a.defined() ? mul(b, a)
                     : b.defined()              ? b
                     : a.defined()              ? a
                                                : BasicTensor<T>::ones(at(slice, k).shape()));
  }
  return mul(cat(others, ax), g);
}

// prod along axis ax of a (rank >= 1), with the result's shape `shape`.
template <class T>
BasicTensor<T> prod_along(const char* op, const BasicTensor<T>& a, int ax, const Shape& shape) {
  const AxisView v = axis_view(a.shape(), ax);
  auto out = BasicTensor<T>::empty(shape);
  if (out.numel() > 0) line_products(a.array(), v, out.mutable_data());
  if (needs_grad(a)) {
    Shape kept = a.shape();
    kept[ax] = 1;
    record(
        op, out, {&a}, Saves().input(0),
        [v, x = a.storage()](const Array<T>& g, GradSink<T>& s) {
          s.add(0, products_of_others(*x, v, g));
        },
        [ax, kept](GraphContext<T>& c, const BasicTensor<T>& g) {
          return Grads<T>{products_of_others(c.input(0), ax, reshape(g, kept.vec()))};
        });
  }
  return out;
}

// ---------------------------------------------------------------- cumsum

// Running sums along the middle axis of [outer, n, inner], from the end when `reverse`.
template <class T>
Array<T> running_sums(const Array<T>& x, const AxisView& v, bool reverse) {
  Array<T> y(x.size());
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t step = 0; step < v.n; ++step) {
      const int64_t j = reverse ? v.n - 1 - step : step;
      const int64_t at = (o * v.n + j) * v.inner;
      if (step == 0)
        y.segment(at, v.inner) = x.segment(at, v.inner);
      else
        y.segment(at, v.inner) =
            x.segment(at, v.inner) + y.segment(at + (reverse ? v.inner : -v.inner), v.inner);
    }
  return y;
}

// cumsum and its adjoint, the cumsum from the end: each is the other's backward.
template <class T>
BasicTensor<T> cumulative_sum(const BasicTensor<T>& a, int ax, bool reverse) {
  const AxisView v = axis_view(a.shape(), ax);
  auto out = BasicTensor<T>::empty(a.shape());
  out.mutable_array() = running_sums(a.array(), v, reverse);
  if (needs_grad(a))
    record(
        reverse ? "reverse_cumsum" : "cumsum", out, {&a}, Saves(),
        [v, reverse](const Array<T>& g, GradSink<T>& s) { s.add(0, running_sums(g, v, !reverse)); },
        [ax, reverse](GraphContext<T>&, const BasicTensor<T>& g) {
          return Grads<T>{cumulative_sum(g, ax, !reverse)};
        });
  return out;
}

}  // namespace

template <class T>
BasicTensor<T> var(const BasicTensor<T>& a, const std::vector<int>& axes, int64_t correction,
                   bool keepdim) {
  return variance("var", a, axes, correction, keepdim, false);
}

template <class T>
BasicTensor<T> var(const BasicTensor<T>& a, int axis, int64_t correction, bool keepdim) {
  return variance("var", a, {axis}, correction, keepdim, false);
}

template <class T>
BasicTensor<T> std(const BasicTensor<T>& a, const std::vector<int>& axes, int64_t correction,
                   bool keepdim) {
  return variance("std", a, axes, correction, keepdim, true);
}

template <class T>
BasicTensor<T> std(const BasicTensor<T>& a, int axis, int64_t correction, bool keepdim) {
  return variance("std", a, {axis}, correction, keepdim, true);
}

template <class T>
BasicTensor<T> logsumexp(const BasicTensor<T>& a, const std::vector<int>& axes, bool keepdim) {
  return log_sum_exp(a, axes, keepdim);
}

template <class T>
BasicTensor<T> logsumexp(const BasicTensor<T>& a, int axis, bool keepdim) {
  return log_sum_exp(a, {axis}, keepdim);
}

template <class T>
BasicTensor<T> norm(const BasicTensor<T>& a, Scalar<T> p) {
  return vector_norm(a, p, {}, false);
}

template <class T>
BasicTensor<T> norm(const BasicTensor<T>& a, Scalar<T> p, const std::vector<int>& axes,
                    bool keepdim) {
  return vector_norm(a, p, axes, keepdim);
}

template <class T>
BasicTensor<T> norm(const BasicTensor<T>& a, Scalar<T> p, int axis, bool keepdim) {
  return vector_norm(a, p, {axis}, keepdim);
}

template <class T>
BasicTensor<T> cumsum(const BasicTensor<T>& a, int axis) {
  const int ax = normalize_axis("cumsum", axis, a.rank());
  return cumulative_sum(a, a.rank() == 0 ? 0 : ax, false);
}

template <class T>
BasicTensor<T> prod(const BasicTensor<T>& a) {
  if (a.rank() == 1) return prod_along("prod", a, 0, Shape{});
  // Over all elements: along the one axis of a flattened view.
  return prod_along("prod", reshape(a, {a.numel()}), 0, Shape{});
}

template <class T>
BasicTensor<T> prod(const BasicTensor<T>& a, int axis, bool keepdim) {
  const int ax = normalize_axis("prod", axis, a.rank());
  if (a.rank() == 0) return prod(a);
  return prod_along("prod", a, ax, reduced_shape(a.shape(), ax, keepdim));
}

#define EIGRAD_INSTANTIATE_REDUCE_STATS(T)                                                    \
  template BasicTensor<T> var(const BasicTensor<T>&, const std::vector<int>&, int64_t, bool); \
  template BasicTensor<T> var(const BasicTensor<T>&, int, int64_t, bool);                     \
  template BasicTensor<T> std(const BasicTensor<T>&, const std::vector<int>&, int64_t, bool); \
  template BasicTensor<T> std(const BasicTensor<T>&, int, int64_t, bool);                     \
  template BasicTensor<T> logsumexp(const BasicTensor<T>&, const std::vector<int>&, bool);    \
  template BasicTensor<T> logsumexp(const BasicTensor<T>&, int, bool);                        \
  template BasicTensor<T> norm(const BasicTensor<T>&, T);                                     \
  template BasicTensor<T> norm(const BasicTensor<T>&, T, const std::vector<int>&, bool);      \
  template BasicTensor<T> norm(const BasicTensor<T>&, T, int, bool);                          \
  template BasicTensor<T> cumsum(const BasicTensor<T>&, int);                                 \
  template BasicTensor<T> prod(const BasicTensor<T>&);                                        \
  template BasicTensor<T> prod(const BasicTensor<T>&, int, bool);

EIGRAD_INSTANTIATE_REDUCE_STATS(float)
EIGRAD_INSTANTIATE_REDUCE_STATS(double)

}  // namespace eigrad
