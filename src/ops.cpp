#include "eigrad/ops.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "layout.hpp"

namespace eigrad {

using namespace detail;

namespace {

// The operand of a broadcast op, laid out like the output: the tensor's own data when its
// elements already line up (broadcasting only prepended or matched size-1 axes), else a copy.
template <class T>
const Array<T>& operand(const Array<T>& x, const Shape& shape, const Shape& out,
                        Array<T>& scratch) {
  if (shape.numel() == out.numel()) return x;
  scratch = expand(x, shape, out);
  return scratch;
}

// "[2, -1]": requested sizes, which may not form a valid Shape.
std::string str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// Adds g, the gradient of a broadcast result of shape `out`, to input i of shape `in`.
template <class T>
void add_reduced(GradSink<T>& s, size_t i, Array<T> g, const Shape& out, const Shape& in) {
  if (in.numel() == out.numel())
    s.add(i, std::move(g));
  else
    s.add(i, sum_to(g, out, in));
}

}  // namespace

// ---------------------------------------------------------------- elementwise arithmetic

template <class T>
BasicTensor<T> add(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const Shape shape = broadcast_shapes("add", a.shape(), b.shape());
  Array<T> sa, sb;
  auto out = BasicTensor<T>::empty(shape);
  assign(out.array(),
         operand(a.array(), a.shape(), shape, sa) + operand(b.array(), b.shape(), shape, sb));
  if (needs_grad(a, b))
    record("add", out, {&a, &b},
           [shape, ash = a.shape(), bsh = b.shape()](const Array<T>& g, GradSink<T>& s) {
             if (s.needs(0)) add_reduced(s, 0, Array<T>(g), shape, ash);
             if (s.needs(1)) add_reduced(s, 1, s.take(g), shape, bsh);
           });
  return out;
}

template <class T>
BasicTensor<T> sub(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const Shape shape = broadcast_shapes("sub", a.shape(), b.shape());
  Array<T> sa, sb;
  auto out = BasicTensor<T>::empty(shape);
  assign(out.array(),
         operand(a.array(), a.shape(), shape, sa) - operand(b.array(), b.shape(), shape, sb));
  if (needs_grad(a, b))
    record("sub", out, {&a, &b},
           [shape, ash = a.shape(), bsh = b.shape()](const Array<T>& g, GradSink<T>& s) {
             if (s.needs(1)) add_reduced(s, 1, Array<T>(-g), shape, bsh);
             if (s.needs(0)) add_reduced(s, 0, s.take(g), shape, ash);
           });
  return out;
}

template <class T>
BasicTensor<T> mul(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const Shape shape = broadcast_shapes("mul", a.shape(), b.shape());
  Array<T> sa, sb;
  auto out = BasicTensor<T>::empty(shape);
  assign(out.array(),
         operand(a.array(), a.shape(), shape, sa) * operand(b.array(), b.shape(), shape, sb));
  if (needs_grad(a, b))
    record("mul", out, {&a, &b},
           [shape, ash = a.shape(), bsh = b.shape(), ad = a.storage(), bd = b.storage()](
               const Array<T>& g, GradSink<T>& s) {
             Array<T> scratch;
             if (s.needs(0))
               add_reduced(s, 0, Array<T>(g * operand(*bd, bsh, shape, scratch)), shape, ash);
             if (s.needs(1))
               add_reduced(s, 1, Array<T>(g * operand(*ad, ash, shape, scratch)), shape, bsh);
           });
  return out;
}

template <class T>
BasicTensor<T> div(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const Shape shape = broadcast_shapes("div", a.shape(), b.shape());
  Array<T> sa, sb;
  auto out = BasicTensor<T>::empty(shape);
  assign(out.array(),
         operand(a.array(), a.shape(), shape, sa) / operand(b.array(), b.shape(), shape, sb));
  if (needs_grad(a, b))
    record("div", out, {&a, &b},
           [shape, ash = a.shape(), bsh = b.shape(), bd = b.storage(), y = out.storage()](
               const Array<T>& g, GradSink<T>& s) {
             Array<T> scratch;
             const Array<T>& bx = operand(*bd, bsh, shape, scratch);
             // d(a/b)/db = -(a/b)/b = -y/b
             if (s.needs(1)) add_reduced(s, 1, Array<T>(-g * *y / bx), shape, bsh);
             if (s.needs(0)) add_reduced(s, 0, Array<T>(g / bx), shape, ash);
           });
  return out;
}

template <class T>
BasicTensor<T> neg(const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.array(), -a.array());
  if (needs_grad(a))
    record("neg", out, {&a}, [](const Array<T>& g, GradSink<T>& s) { s.add(0, -g); });
  return out;
}

template <class T>
BasicTensor<T> affine(const BasicTensor<T>& a, Scalar<T> scale, Scalar<T> shift) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.array(), a.array() * scale + shift);
  if (needs_grad(a))
    record("affine", out, {&a},
           [scale](const Array<T>& g, GradSink<T>& s) { s.add(0, g * scale); });
  return out;
}

template <class T>
BasicTensor<T> rdiv(Scalar<T> c, const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.array(), c / a.array());
  if (needs_grad(a))
    record("rdiv", out, {&a}, [c, x = a.storage()](const Array<T>& g, GradSink<T>& s) {
      s.add(0, -(g * c) / x->square());
    });
  return out;
}

// ---------------------------------------------------------------- elementwise functions

template <class T>
BasicTensor<T> exp(const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.array(), a.array().exp());
  if (needs_grad(a))
    record("exp", out, {&a},
           [y = out.storage()](const Array<T>& g, GradSink<T>& s) { s.add(0, g * *y); });
  return out;
}

template <class T>
BasicTensor<T> log(const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.array(), a.array().log());
  if (needs_grad(a))
    record("log", out, {&a},
           [x = a.storage()](const Array<T>& g, GradSink<T>& s) { s.add(0, g / *x); });
  return out;
}

template <class T>
BasicTensor<T> pow(const BasicTensor<T>& a, Scalar<T> p) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.array(), a.array().pow(p));
  if (needs_grad(a))
    record("pow", out, {&a}, [p, x = a.storage()](const Array<T>& g, GradSink<T>& s) {
      if (p == T(0))  // d(x^0)/dx = 0 everywhere, 0^-1 included (PyTorch's convention)
        s.add(0, Array<T>::Zero(g.size()));
      else
        s.add(0, g * p * x->pow(p - T(1)));
    });
  return out;
}

template <class T>
BasicTensor<T> sqrt(const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.array(), a.array().sqrt());
  if (needs_grad(a))
    record("sqrt", out, {&a},
           [y = out.storage()](const Array<T>& g, GradSink<T>& s) { s.add(0, g / (T(2) * *y)); });
  return out;
}

template <class T>
BasicTensor<T> abs(const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::empty(a.shape());
  assign(out.array(), a.array().abs());
  if (needs_grad(a))
    record("abs", out, {&a}, [x = a.storage()](const Array<T>& g, GradSink<T>& s) {
      s.add(0, g * x->sign());  // abs'(0) = 0, as in PyTorch
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
  assign(out.array(),
         a.array().unaryExpr([lo, hi](T v) { return v < lo ? lo : (v > hi ? hi : v); }));
  if (needs_grad(a))
    record("clamp", out, {&a}, [lo, hi, x = a.storage()](const Array<T>& g, GradSink<T>& s) {
      s.add(0, g * (*x >= lo && *x <= hi).template cast<T>());
    });
  return out;
}

// ---------------------------------------------------------------- linear algebra and layout

template <class T>
BasicTensor<T> matmul(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const Shape &as = a.shape(), &bs = b.shape();
  const int ra = as.rank(), rb = bs.rank();
  if (!((ra == 2 && rb == 2) || (ra == 3 && (rb == 2 || rb == 3))))
    throw Error(
        "matmul: expected [n, k] x [k, m], [B, n, k] x [B, k, m] or [B, n, k] x [k, m], "
        "got " +
        as.str() + " x " + bs.str());
  const int64_t k = as[ra - 1], kb = bs[rb - 2], n = as[ra - 2], m = bs[rb - 1];
  if (k != kb)
    throw Error("matmul: cannot multiply " + as.str() + " by " + bs.str() + ": inner sizes " +
                std::to_string(k) + " and " + std::to_string(kb) + " differ");
  if (ra == 3 && rb == 3 && as[0] != bs[0])
    throw Error("matmul: cannot multiply " + as.str() + " by " + bs.str() + ": batch sizes " +
                std::to_string(as[0]) + " and " + std::to_string(bs[0]) + " differ");
  // [B, n, k] x [k, m] is one product of [B*n, k] by [k, m].
  const bool batched = ra == 3 && rb == 3;
  const int64_t batches = batched ? as[0] : 1;
  const int64_t arows = ra == 3 && !batched ? as[0] * n : n;
  auto out = BasicTensor<T>::empty(ra == 3 ? Shape{as[0], n, m} : Shape{n, m});
  for (int64_t i = 0; i < batches; ++i)
    MatrixMap<T>(out.data() + i * arows * m, arows, m).noalias() =
        ConstMatrixMap<T>(a.data() + i * arows * k, arows, k) *
        ConstMatrixMap<T>(b.data() + i * k * m, k, m);
  if (needs_grad(a, b))
    record("matmul", out, {&a, &b},
           [batches, arows, k, m, ad = a.storage(), bd = b.storage()](const Array<T>& g,
                                                                      GradSink<T>& s) {
             if (s.needs(0)) {
               Array<T> ga(batches * arows * k);
               for (int64_t i = 0; i < batches; ++i)
                 MatrixMap<T>(ga.data() + i * arows * k, arows, k).noalias() =
                     ConstMatrixMap<T>(g.data() + i * arows * m, arows, m) *
                     ConstMatrixMap<T>(bd->data() + i * k * m, k, m).transpose();
               s.add(0, std::move(ga));
             }
             if (s.needs(1)) {
               Array<T> gb(batches * k * m);
               for (int64_t i = 0; i < batches; ++i)
                 MatrixMap<T>(gb.data() + i * k * m, k, m).noalias() =
                     ConstMatrixMap<T>(ad->data() + i * arows * k, arows, k).transpose() *
                     ConstMatrixMap<T>(g.data() + i * arows * m, arows, m);
               s.add(1, std::move(gb));
             }
           });
  return out;
}

template <class T>
BasicTensor<T> transpose(const BasicTensor<T>& a, int axis0, int axis1) {
  const int r = a.rank();
  int a0 = normalize_axis("transpose", axis0, r), a1 = normalize_axis("transpose", axis1, r);
  if (a0 > a1) std::swap(a0, a1);
  Shape shape = a.shape();
  std::swap(shape[a0], shape[a1]);
  auto out = BasicTensor<T>::empty(shape);
  swap_axes(a.data(), a.shape(), a0, a1, out.data());
  if (needs_grad(a))
    record("transpose", out, {&a}, [shape, a0, a1](const Array<T>& g, GradSink<T>& s) {
      Array<T> gx(g.size());
      swap_axes(g.data(), shape, a0, a1, gx.data());
      s.add(0, std::move(gx));
    });
  return out;
}

namespace {
template <class T>
BasicTensor<T> reshape_to(const char* op, const BasicTensor<T>& a, const Shape& shape) {
  // The result shares a's storage: a contiguous tensor reshapes for free.
  auto out = BasicTensor<T>::from_storage(a.storage(), shape);
  if (needs_grad(a)) record(op, out, {&a}, [](const Array<T>& g, GradSink<T>& s) { s.pass(0, g); });
  return out;
}
}  // namespace

template <class T>
BasicTensor<T> reshape(const BasicTensor<T>& a, const std::vector<int64_t>& dims) {
  int infer = -1;
  int64_t known = 1;
  bool overflow = false, zero = false;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1 && infer < 0) {
      infer = static_cast<int>(i);
    } else if (dims[i] < 0) {
      throw Error("reshape: cannot reshape " + a.shape().str() + " into " + str(dims) +
                  ": sizes must be non-negative, with at most one -1");
    } else {
      zero |= dims[i] == 0;
      overflow |= __builtin_mul_overflow(known, dims[i], &known);
    }
  }
  if (zero) known = 0;
  if (overflow && !zero)
    throw Error("reshape: cannot reshape " + a.shape().str() + " into " + str(dims) +
                ": the sizes multiply to more than 2^63 - 1 elements");
  std::vector<int64_t> resolved = dims;
  if (infer >= 0) {
    if (known == 0 || a.numel() % known != 0)
      throw Error("reshape: cannot reshape " + a.shape().str() + " (" + std::to_string(a.numel()) +
                  " elements) into " + str(dims) + ": the -1 cannot be inferred");
    resolved[static_cast<size_t>(infer)] = a.numel() / known;
  }
  const Shape shape(resolved);
  if (shape.numel() != a.numel())
    throw Error("reshape: cannot reshape " + a.shape().str() + " (" + std::to_string(a.numel()) +
                " elements) into " + shape.str() + " (" + std::to_string(shape.numel()) +
                " elements)");
  return reshape_to("reshape", a, shape);
}

template <class T>
BasicTensor<T> flatten(const BasicTensor<T>& a, int start_axis, int end_axis) {
  const int r = a.rank();
  if (r == 0) return reshape_to("flatten", a, Shape{1});
  const int s = normalize_axis("flatten", start_axis, r),
            e = normalize_axis("flatten", end_axis, r);
  if (s > e)
    throw Error("flatten: start axis " + std::to_string(start_axis) + " comes after end axis " +
                std::to_string(end_axis) + " for shape " + a.shape().str());
  Shape shape;
  int64_t merged = 1;
  for (int i = 0; i < r; ++i) {
    if (i < s || i > e) shape.push_back(a.shape()[i]);
    if (i >= s && i <= e) merged *= a.shape()[i];
    if (i == e) shape.push_back(merged);
  }
  return reshape_to("flatten", a, shape);
}

template <class T>
BasicTensor<T> cat(const std::vector<BasicTensor<T>>& tensors, int axis) {
  if (tensors.empty()) throw Error("cat: expected at least one tensor, got none");
  const Shape& first = tensors[0].shape();
  if (first.rank() == 0) throw Error("cat: cannot concatenate rank-0 tensors; reshape them to [1]");
  const int ax = normalize_axis("cat", axis, first.rank());
  Shape shape = first;
  shape[ax] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Shape& si = tensors[i].shape();
    bool ok = si.rank() == first.rank();
    for (int d = 0; ok && d < si.rank(); ++d) ok = d == ax || si[d] == first[d];
    if (!ok)
      throw Error("cat: tensor " + std::to_string(i) + " has shape " + si.str() +
                  " but tensor 0 has shape " + first.str() +
                  "; all sizes must match except along axis " + std::to_string(ax));
    shape[ax] += si[ax];
  }
  const AxisView v = axis_view(shape, ax);
  auto out = BasicTensor<T>::empty(shape);
  std::vector<int64_t> sizes;
  int64_t offset = 0;
  for (const auto& t : tensors) {
    const int64_t len = t.shape()[ax] * v.inner;
    for (int64_t o = 0; o < v.outer; ++o)
      std::copy(t.data() + o * len, t.data() + (o + 1) * len,
                out.data() + o * v.n * v.inner + offset);
    offset += len;
    sizes.push_back(t.shape()[ax]);
  }
  std::vector<const BasicTensor<T>*> inputs;
  for (const auto& t : tensors) inputs.push_back(&t);
  if (is_grad_enabled() && std::any_of(tensors.begin(), tensors.end(),
                                       [](const BasicTensor<T>& t) { return t.requires_grad(); }))
    record_inputs("cat", out, inputs, [v, sizes](const Array<T>& g, GradSink<T>& s) {
      int64_t off = 0;
      for (size_t i = 0; i < sizes.size(); ++i) {
        const int64_t len = sizes[i] * v.inner;
        if (s.needs(i)) {
          Array<T> gi(v.outer * len);
          for (int64_t o = 0; o < v.outer; ++o)
            gi.segment(o * len, len) = g.segment(o * v.n * v.inner + off, len);
          s.add(i, std::move(gi));
        }
        off += len;
      }
    });
  return out;
}

template <class T>
BasicTensor<T> index_select(const BasicTensor<T>& a, int axis, const std::vector<int64_t>& index) {
  if (a.rank() == 0) throw Error("index_select: cannot index a rank-0 tensor");
  const int ax = normalize_axis("index_select", axis, a.rank());
  const AxisView v = axis_view(a.shape(), ax);
  for (int64_t i : index)
    if (i < 0 || i >= v.n)
      throw Error("index_select: index " + std::to_string(i) + " is out of range for axis " +
                  std::to_string(ax) + " of size " + std::to_string(v.n) + " (shape " +
                  a.shape().str() + ")");
  Shape shape = a.shape();
  const int64_t count = static_cast<int64_t>(index.size());
  shape[ax] = count;
  auto out = BasicTensor<T>::empty(shape);
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t j = 0; j < count; ++j)
      std::copy(a.data() + (o * v.n + index[static_cast<size_t>(j)]) * v.inner,
                a.data() + (o * v.n + index[static_cast<size_t>(j)] + 1) * v.inner,
                out.data() + (o * count + j) * v.inner);
  if (needs_grad(a))
    record("index_select", out, {&a}, [v, index, count](const Array<T>& g, GradSink<T>& s) {
      Array<T> gx = Array<T>::Zero(v.outer * v.n * v.inner);
      for (int64_t o = 0; o < v.outer; ++o)
        for (int64_t j = 0; j < count; ++j)
          gx.segment((o * v.n + index[static_cast<size_t>(j)]) * v.inner, v.inner) +=
              g.segment((o * count + j) * v.inner, v.inner);
      s.add(0, std::move(gx));
    });
  return out;
}

// ---------------------------------------------------------------- reductions

template <class T>
BasicTensor<T> sum(const BasicTensor<T>& a) {
  auto out = BasicTensor<T>::scalar(parallel_sum(a.array()));
  if (needs_grad(a))
    record("sum", out, {&a}, [n = a.numel()](const Array<T>& g, GradSink<T>& s) {
      s.add(0, Array<T>::Constant(n, g[0]));
    });
  return out;
}

template <class T>
BasicTensor<T> mean(const BasicTensor<T>& a) {
  const T n = static_cast<T>(a.numel());
  auto out = BasicTensor<T>::scalar(parallel_sum(a.array()) / n);
  if (needs_grad(a))
    record("mean", out, {&a}, [n, count = a.numel()](const Array<T>& g, GradSink<T>& s) {
      s.add(0, Array<T>::Constant(count, g[0] / n));
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
    out.array().setConstant(average ? std::numeric_limits<T>::quiet_NaN() : T(0));
  } else {
    parallel_for(
        v.outer,
        [&](int64_t begin, int64_t end) {
          if (v.inner == 1) {
            MatrixMap<T>(out.data() + begin, end - begin, 1) =
                ConstMatrixMap<T>(a.data() + begin * v.n, end - begin, v.n).rowwise().sum() * scale;
          } else {
            for (int64_t o = begin; o < end; ++o)
              MatrixMap<T>(out.data() + o * v.inner, 1, v.inner) =
                  ConstMatrixMap<T>(a.data() + o * v.n * v.inner, v.n, v.inner).colwise().sum() *
                  scale;
          }
        },
        a.numel());
  }
  if (needs_grad(a))
    record(op, out, {&a}, [v, scale](const Array<T>& g, GradSink<T>& s) {
      Array<T> gx(v.outer * v.n * v.inner);
      for (int64_t o = 0; o < v.outer; ++o)
        for (int64_t j = 0; j < v.n; ++j)
          gx.segment((o * v.n + j) * v.inner, v.inner) = g.segment(o * v.inner, v.inner) * scale;
      s.add(0, std::move(gx));
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
// Flat indices (into a) of the first maximum of each line along the axis; NaN counts as largest.
template <class T>
std::vector<int64_t> argmax_flat(const char* op, const BasicTensor<T>& a, int ax) {
  const AxisView v = axis_view(a.shape(), ax);
  if (v.n == 0)
    throw Error(std::string(op) + ": cannot reduce axis " + std::to_string(ax) + " of shape " +
                a.shape().str() + ": it is empty");
  std::vector<int64_t> best(static_cast<size_t>(v.outer * v.inner));
  const T* x = a.data();
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t i = 0; i < v.inner; ++i) {
      int64_t bj = o * v.n * v.inner + i;
      for (int64_t j = 1; j < v.n && !std::isnan(x[bj]); ++j) {
        const int64_t at = (o * v.n + j) * v.inner + i;
        if (x[at] > x[bj] || std::isnan(x[at])) bj = at;
      }
      best[static_cast<size_t>(o * v.inner + i)] = bj;
    }
  return best;
}
}  // namespace

template <class T>
BasicTensor<T> max(const BasicTensor<T>& a, int axis, bool keepdim) {
  const int ax = normalize_axis("max", axis, a.rank());
  std::vector<int64_t> where = argmax_flat("max", a, a.rank() == 0 ? 0 : ax);
  auto out = BasicTensor<T>::empty(a.rank() == 0 ? Shape{} : reduced_shape(a.shape(), ax, keepdim));
  for (size_t i = 0; i < where.size(); ++i) out.data()[i] = a.data()[where[i]];
  if (needs_grad(a))
    record("max", out, {&a}, [where, n = a.numel()](const Array<T>& g, GradSink<T>& s) {
      Array<T> gx = Array<T>::Zero(n);
      for (size_t i = 0; i < where.size(); ++i) gx[where[i]] += g[static_cast<Eigen::Index>(i)];
      s.add(0, std::move(gx));
    });
  return out;
}

template <class T>
std::vector<int64_t> argmax(const BasicTensor<T>& a, int axis) {
  const int ax = normalize_axis("argmax", axis, a.rank());
  std::vector<int64_t> where = argmax_flat("argmax", a, ax);
  const AxisView v = axis_view(a.shape(), ax);
  for (int64_t& w : where) w = (w / v.inner) % v.n;
  return where;
}

#define EIGRAD_INSTANTIATE_OPS(T)                                                                \
  template BasicTensor<T> add(const BasicTensor<T>&, const BasicTensor<T>&);                     \
  template BasicTensor<T> sub(const BasicTensor<T>&, const BasicTensor<T>&);                     \
  template BasicTensor<T> mul(const BasicTensor<T>&, const BasicTensor<T>&);                     \
  template BasicTensor<T> div(const BasicTensor<T>&, const BasicTensor<T>&);                     \
  template BasicTensor<T> neg(const BasicTensor<T>&);                                            \
  template BasicTensor<T> affine(const BasicTensor<T>&, T, T);                                   \
  template BasicTensor<T> rdiv(T, const BasicTensor<T>&);                                        \
  template BasicTensor<T> exp(const BasicTensor<T>&);                                            \
  template BasicTensor<T> log(const BasicTensor<T>&);                                            \
  template BasicTensor<T> pow(const BasicTensor<T>&, T);                                         \
  template BasicTensor<T> sqrt(const BasicTensor<T>&);                                           \
  template BasicTensor<T> abs(const BasicTensor<T>&);                                            \
  template BasicTensor<T> clamp(const BasicTensor<T>&, T, T);                                    \
  template BasicTensor<T> matmul(const BasicTensor<T>&, const BasicTensor<T>&);                  \
  template BasicTensor<T> transpose(const BasicTensor<T>&, int, int);                            \
  template BasicTensor<T> reshape(const BasicTensor<T>&, const std::vector<int64_t>&);           \
  template BasicTensor<T> flatten(const BasicTensor<T>&, int, int);                              \
  template BasicTensor<T> cat(const std::vector<BasicTensor<T>>&, int);                          \
  template BasicTensor<T> index_select(const BasicTensor<T>&, int, const std::vector<int64_t>&); \
  template BasicTensor<T> sum(const BasicTensor<T>&);                                            \
  template BasicTensor<T> sum(const BasicTensor<T>&, int, bool);                                 \
  template BasicTensor<T> mean(const BasicTensor<T>&);                                           \
  template BasicTensor<T> mean(const BasicTensor<T>&, int, bool);                                \
  template BasicTensor<T> max(const BasicTensor<T>&, int, bool);                                 \
  template std::vector<int64_t> argmax(const BasicTensor<T>&, int);

EIGRAD_INSTANTIATE_OPS(float)
EIGRAD_INSTANTIATE_OPS(double)

}  // namespace eigrad
