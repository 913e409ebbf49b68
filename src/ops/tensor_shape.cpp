#include "eigrad/ops/tensor_shape.hpp"
#include "eigrad/ops/reduce.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "autograd/graph.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;

namespace {

using Index = std::array<int64_t, Shape::kMaxRank>;

Index strides_of(const Shape& shape) {
  Index s{};
  int64_t step = 1;
  for (int d = shape.rank() - 1; d >= 0; --d) {
    s[d] = step;
    step *= shape[d];
  }
  return s;
}

// Calls f(offset_a, offset_b) for every index of the first `rank` axes of sizes `sizes`, in
// row-major order; the offsets start at 0 and move by strides_a and strides_b along each axis.
template <class F>
void for_each_index(int rank, const Index& sizes, const Index& strides_a, const Index& strides_b,
                    F&& f) {
  for (int d = 0; d < rank; ++d)
    if (sizes[d] == 0) return;
  Index count{};
  int64_t a = 0, b = 0;
  for (;;) {
    f(a, b);
    int d = rank - 1;
    for (; d >= 0; --d) {
      a += strides_a[d];
      b += strides_b[d];
      if (++count[d] < sizes[d]) break;
      a -= strides_a[d] * sizes[d];
      b -= strides_b[d] * sizes[d];
      count[d] = 0;
    }
    if (d < 0) return;
  }
}

// Copies the box of sizes `box` at `src_start` in src (of shape src_shape) to `dst_start` in dst
// (of shape dst_shape): one contiguous run per index of the axes that the box does not cover
// whole.
template <class T>
void copy_box(const T* src, const Shape& src_shape, const Index& src_start, T* dst,
              const Shape& dst_shape, const Index& dst_start, const Index& box) {
  const int r = src_shape.rank();
  for (int d = 0; d < r; ++d)
    if (box[d] == 0) return;
  const Index ss = strides_of(src_shape), ds = strides_of(dst_shape);
  for (int d = 0; d < r; ++d) {
    src += src_start[d] * ss[d];
    dst += dst_start[d] * ds[d];
  }
  // The runs span axis k and the axes after it, which the box covers whole in both tensors.
  int k = r - 1;
  while (k > 0 && box[k] == src_shape[k] && box[k] == dst_shape[k]) --k;
  const int64_t run = k < 0 ? 1 : box[k] * ss[k];
  for_each_index(std::max(k, 0), box, ss, ds,
                 [&](int64_t a, int64_t b) { std::copy(src + a, src + a + run, dst + b); });
}

// dst = src (of shape `shape`) with its axes permuted: output axis i is input axis dims[i].
template <class T>
void permute_copy(const T* src, const Shape& shape, const std::vector<int>& dims, T* dst) {
  const int64_t total = shape.numel();
  if (total == 0) return;
  // Size-1 axes are dropped and input axes that stay adjacent and in order are merged: [N, C, H,
  // W] to [N, H, W, C] is [N, C, HW] to [N, HW, C], a batch of matrix transposes.
  Index kept{};  // input axis -> its position among the axes of size > 1, or -1
  int count = 0;
  for (int d = 0; d < shape.rank(); ++d) kept[d] = shape[d] == 1 ? -1 : count++;
  std::vector<int64_t> first, sizes;  // per merged axis, in output order
  int64_t previous = -2;
  for (int d : dims) {
    if (kept[d] < 0) continue;
    if (kept[d] == previous + 1) {
      sizes.back() *= shape[d];
    } else {
      first.push_back(kept[d]);
      sizes.push_back(shape[d]);
    }
    previous = kept[d];
  }
  const int m = static_cast<int>(first.size());
  if (m <= 1) {
    std::copy(src, src + total, dst);
    return;
  }
  // Output axis j is merged input axis p[j]; src_step and dst_step are its strides.
  Index p{}, in_sizes{}, in_stride{}, out_sizes{}, src_step{}, dst_step{};
  for (int j = 0; j < m; ++j) {
    for (int i = 0; i < m; ++i) p[j] += first[i] < first[j];
    in_sizes[p[j]] = out_sizes[j] = sizes[j];
  }
  int64_t step = 1;
  for (int i = m - 1; i >= 0; --i) {
    in_stride[i] = step;
    step *= in_sizes[i];
  }
  step = 1;
  for (int j = m - 1; j >= 0; --j) {
    src_step[j] = in_stride[p[j]];
    dst_step[j] = step;
    step *= out_sizes[j];
  }
  const int64_t cols = out_sizes[m - 1], col_stride = src_step[m - 1];
  if (p[m - 1] == m - 1) {  // the innermost axis stays innermost: contiguous runs
    for_each_index(m - 1, out_sizes, src_step, dst_step,
                   [&](int64_t a, int64_t b) { std::copy(src + a, src + a + cols, dst + b); });
  } else if (p[m - 2] == m - 1) {  // the input's innermost axis comes second: transposes
    const int64_t rows = out_sizes[m - 2];
    using Strided = Eigen::Map<const Matrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
    for_each_index(m - 2, out_sizes, src_step, dst_step, [&](int64_t a, int64_t b) {
      MatrixMap<T>(dst + b, rows, cols) =
          Strided(src + a, cols, rows, Eigen::OuterStride<>(col_stride)).transpose();
    });
  } else {  // strided gathers along the output's innermost axis
    using Strided = Eigen::Map<const Array<T>, Eigen::Unaligned, Eigen::InnerStride<>>;
    for_each_index(m - 1, out_sizes, src_step, dst_step, [&](int64_t a, int64_t b) {
      Eigen::Map<Array<T>>(dst + b, cols) =
          Strided(src + a, cols, Eigen::InnerStride<>(col_stride));
    });
  }
}

// The position of a new axis among the rank + 1 axes of a result (unsqueeze's and stack's axis),
// or throws naming the op.
int new_axis(const char* op, int axis, const Shape& shape) {
  const int r = shape.rank();
  if (axis < -r - 1 || axis > r)
    throw Error(std::string(op) + ": axis " + std::to_string(axis) +
                " is out of range for inserting an axis into shape " + shape.str() + " (expected " +
                std::to_string(-r - 1) + " to " + std::to_string(r) + ")");
  if (r == Shape::kMaxRank)
    throw Error(std::string(op) + ": cannot insert an axis into shape " + shape.str() + ": rank " +
                std::to_string(Shape::kMaxRank) + " is the maximum");
  return axis < 0 ? axis + r + 1 : axis;
}

Shape with_axis(const Shape& shape, int axis, int64_t size) {
  Shape out;
  for (int d = 0; d <= shape.rank(); ++d) {
    if (d == axis) out.push_back(size);
    if (d < shape.rank()) out.push_back(shape[d]);
  }
  return out;
}

// pad's amounts (pairs from the last axis) that add `before` and `after` to axis `axis` of a
// tensor of rank `rank` and leave the other axes alone.
std::vector<int64_t> axis_borders(int rank, int axis, int64_t before, int64_t after) {
  std::vector<int64_t> amounts(2 * static_cast<size_t>(rank - axis), 0);
  amounts[amounts.size() - 2] = before;
  amounts.back() = after;
  return amounts;
}

// The amounts of pad's adjoint, which takes a gradient of shape `out` back to the input's shape
// `in`: pad moved input index i to i + before, so index j goes back to j - before. A shift past
// every index is clamped to one just past them, which moves nothing more and cannot overflow.
std::vector<int64_t> unpad_amounts(const Shape& in, const Shape& out,
                                   const std::vector<int64_t>& amounts) {
  std::vector<int64_t> back(amounts.size());
  for (size_t pair = 0; pair < amounts.size() / 2; ++pair) {
    const int d = in.rank() - 1 - static_cast<int>(pair);
    const int64_t n = in[d], m = out[d], before = amounts[2 * pair];
    back[2 * pair] = before < -n ? n : before > m ? -m : -before;
    back[2 * pair + 1] = n - m - back[2 * pair];
  }
  return back;
}

}  // namespace

template <class T>
BasicTensor<T> transpose(const BasicTensor<T>& a, int axis0, int axis1) {
  const int r = a.rank();
  int a0 = normalize_axis("transpose", axis0, r), a1 = normalize_axis("transpose", axis1, r);
  if (a0 > a1) std::swap(a0, a1);
  Shape shape = a.shape();
  std::swap(shape[a0], shape[a1]);
  auto out = BasicTensor<T>::empty(shape);
  swap_axes(a.data(), a.shape(), a0, a1, out.mutable_data());
  if (needs_grad(a))
    record(
        "transpose", out, {&a}, Saves(),
        [shape, a0, a1](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx(g.size());
          swap_axes(g.data(), shape, a0, a1, gx.data());
          s.add(0, std::move(gx));
        },
        [a0, a1](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{transpose(g, a0, a1)};
        });
  return out;
}

namespace {
template <class T>
BasicTensor<T> reshape_to(const char* op, const BasicTensor<T>& a, const Shape& shape) {
  // The result shares a's storage: a contiguous tensor reshapes for free.
  auto out = detail::alias(a, shape);
  if (needs_grad(a))
    record(
        op, out, {&a}, Saves(), [](const Array<T>& g, GradSink<T>& s) { s.pass(0, g); },
        [in = a.shape()](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{reshape(g, in.vec())};
        });
  return out;
}
}  // namespace

template <class T>
BasicTensor<T> broadcast_to(const BasicTensor<T>& a, const Shape& shape) {
  if (broadcast_shapes("broadcast_to", a.shape(), shape) != shape)
    throw Error("broadcast_to: cannot broadcast " + a.shape().str() + " to " + shape.str() +
                ": the result would be " +
                broadcast_shapes("broadcast_to", a.shape(), shape).str());
  if (a.shape() == shape) return reshape_to("broadcast_to", a, shape);
  auto out = BasicTensor<T>::empty(shape);
  out.mutable_array() = expand(a.array(), a.shape(), shape);
  if (needs_grad(a))
    record(
        "broadcast_to", out, {&a}, Saves(),
        [in = a.shape(), shape](const Array<T>& g, GradSink<T>& s) {
          s.add(0, sum_to(g, shape, in));
        },
        [in = a.shape()](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{sum_to_size(g, in)};
        });
  return out;
}

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
  T* yd = out.mutable_data();
  std::vector<int64_t> sizes;
  int64_t offset = 0;
  for (const auto& t : tensors) {
    const int64_t len = t.shape()[ax] * v.inner;
    for (int64_t o = 0; o < v.outer; ++o)
      std::copy(t.data() + o * len, t.data() + (o + 1) * len, yd + o * v.n * v.inner + offset);
    offset += len;
    sizes.push_back(t.shape()[ax]);
  }
  std::vector<const BasicTensor<T>*> inputs;
  for (const auto& t : tensors) inputs.push_back(&t);
  if (is_grad_enabled() && std::any_of(tensors.begin(), tensors.end(),
                                       [](const BasicTensor<T>& t) { return t.requires_grad(); }))
    record_inputs(
        "cat", out, inputs, Saves(),
        [v, sizes](const Array<T>& g, GradSink<T>& s) {
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
        },
        [ax, sizes](GraphContext<T>& c, const BasicTensor<T>& g) {
          std::vector<BasicTensor<T>> grads(sizes.size());
          int64_t start = 0;
          for (size_t i = 0; i < sizes.size(); ++i) {
            if (c.needs(i)) grads[i] = narrow(g, ax, start, sizes[i]);
            start += sizes[i];
          }
          return grads;
        });
  return out;
}

namespace {
// With x of [outer, n, inner] (v) and y of [outer, index.size(), inner]: y[o, j] = x[o, index[j]]
// (gather), and its adjoint x[o, index[j]] += y[o, j] (scatter_add).
template <class T>
void gather_rows(const T* x, const AxisView& v, const std::vector<int64_t>& index, T* y) {
  const int64_t count = static_cast<int64_t>(index.size());
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t j = 0; j < count; ++j)
      std::copy(x + (o * v.n + index[static_cast<size_t>(j)]) * v.inner,
                x + (o * v.n + index[static_cast<size_t>(j)] + 1) * v.inner,
                y + (o * count + j) * v.inner);
}

template <class T>
void scatter_add_rows(const T* y, const AxisView& v, const std::vector<int64_t>& index, T* x) {
  const int64_t count = static_cast<int64_t>(index.size());
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t j = 0; j < count; ++j)
      Eigen::Map<Array<T>>(x + (o * v.n + index[static_cast<size_t>(j)]) * v.inner, v.inner) +=
          Eigen::Map<const Array<T>>(y + (o * count + j) * v.inner, v.inner);
}

// index_select's gradient as an op of its own (PyTorch's index_select_backward, an index_add into
// zeros): g's entries along axis `ax` summed into the entries `index` of an axis of size n. Its
// adjoint is index_select, so the pair differentiates to any order. The indices were checked by
// index_select.
template <class T>
BasicTensor<T> index_select_backward(const BasicTensor<T>& g, int ax,
                                     const std::vector<int64_t>& index, int64_t n) {
  Shape shape = g.shape();
  shape[ax] = n;
  const AxisView v = axis_view(shape, ax);
  auto out = BasicTensor<T>::zeros(shape);
  scatter_add_rows(g.data(), v, index, out.mutable_data());
  if (needs_grad(g))
    record(
        "index_select_backward", out, {&g}, Saves(),
        [v, index](const Array<T>& gg, GradSink<T>& s) {
          Array<T> gx(v.outer * static_cast<int64_t>(index.size()) * v.inner);
          gather_rows(gg.data(), v, index, gx.data());
          s.add(0, std::move(gx));
        },
        [ax, index](GraphContext<T>&, const BasicTensor<T>& gg) {
          return std::vector<BasicTensor<T>>{index_select(gg, ax, index)};
        });
  return out;
}
}  // namespace

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
  gather_rows(a.data(), v, index, out.mutable_data());
  if (needs_grad(a))
    record(
        "index_select", out, {&a}, Saves(),
        [v, index](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx = Array<T>::Zero(v.outer * v.n * v.inner);
          scatter_add_rows(g.data(), v, index, gx.data());
          s.add(0, std::move(gx));
        },
        [ax, index, n = v.n](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{index_select_backward(g, ax, index, n)};
        });
  return out;
}

template <class T>
BasicTensor<T> stack(const std::vector<BasicTensor<T>>& tensors, int axis) {
  if (tensors.empty()) throw Error("stack: expected at least one tensor, got none");
  const Shape& first = tensors[0].shape();
  const int ax = new_axis("stack", axis, first);
  for (size_t i = 1; i < tensors.size(); ++i)
    if (tensors[i].shape() != first)
      throw Error("stack: tensor " + std::to_string(i) + " has shape " + tensors[i].shape().str() +
                  " but tensor 0 has shape " + first.str() + "; all shapes must be equal");
  const int64_t count = static_cast<int64_t>(tensors.size());
  auto out = BasicTensor<T>::empty(with_axis(first, ax, count));
  // [outer, count, len]: tensor i goes to the rows [o, i].
  const AxisView v = axis_view(out.shape(), ax);
  const int64_t len = v.inner;
  T* yd = out.mutable_data();
  for (int64_t i = 0; i < count; ++i) {
    const T* src = tensors[static_cast<size_t>(i)].data();
    for (int64_t o = 0; o < v.outer; ++o)
      std::copy(src + o * len, src + (o + 1) * len, yd + (o * count + i) * len);
  }
  std::vector<const BasicTensor<T>*> inputs;
  for (const auto& t : tensors) inputs.push_back(&t);
  if (is_grad_enabled() && std::any_of(tensors.begin(), tensors.end(),
                                       [](const BasicTensor<T>& t) { return t.requires_grad(); }))
    record_inputs(
        "stack", out, inputs, Saves(),
        [v](const Array<T>& g, GradSink<T>& s) {
          for (int64_t i = 0; i < v.n; ++i) {
            if (!s.needs(static_cast<size_t>(i))) continue;
            Array<T> gi(v.outer * v.inner);
            for (int64_t o = 0; o < v.outer; ++o)
              gi.segment(o * v.inner, v.inner) = g.segment((o * v.n + i) * v.inner, v.inner);
            s.add(static_cast<size_t>(i), std::move(gi));
          }
        },
        [ax, count, first](GraphContext<T>& c, const BasicTensor<T>& g) {
          std::vector<BasicTensor<T>> grads(static_cast<size_t>(count));
          for (int64_t i = 0; i < count; ++i)
            if (c.needs(static_cast<size_t>(i)))
              grads[static_cast<size_t>(i)] = reshape(narrow(g, ax, i, 1), first.vec());
          return grads;
        });
  return out;
}

template <class T>
BasicTensor<T> permute(const BasicTensor<T>& a, const std::vector<int>& dims) {
  const int r = a.rank();
  std::vector<int> axes(dims.size()), inverse(dims.size(), -1);
  bool ok = static_cast<int>(dims.size()) == r;
  for (size_t i = 0; ok && i < dims.size(); ++i) {
    ok = dims[i] >= -r && dims[i] < r;
    axes[i] = dims[i] < 0 ? dims[i] + r : dims[i];
    ok = ok && inverse[static_cast<size_t>(axes[i])] < 0;
    if (ok) inverse[static_cast<size_t>(axes[i])] = static_cast<int>(i);
  }
  if (!ok)
    throw Error("permute: expected a permutation of the " + std::to_string(r) + " axes of shape " +
                a.shape().str() + " (each of 0 to " + std::to_string(r - 1) + ", or -" +
                std::to_string(r) + " to -1, once), got " + str(dims));
  Shape shape;
  for (int d : axes) shape.push_back(a.shape()[d]);
  auto out = BasicTensor<T>::empty(shape);
  permute_copy(a.data(), a.shape(), axes, out.mutable_data());
  if (needs_grad(a))
    record(
        "permute", out, {&a}, Saves(),
        [shape, inverse](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx(g.size());
          permute_copy(g.data(), shape, inverse, gx.data());
          s.add(0, std::move(gx));
        },
        [inverse](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{permute(g, inverse)};
        });
  return out;
}

template <class T>
BasicTensor<T> unsqueeze(const BasicTensor<T>& a, int axis) {
  return reshape_to("unsqueeze", a,
                    with_axis(a.shape(), new_axis("unsqueeze", axis, a.shape()), 1));
}

template <class T>
BasicTensor<T> squeeze(const BasicTensor<T>& a) {
  Shape shape;
  for (int64_t d : a.shape())
    if (d != 1) shape.push_back(d);
  return reshape_to("squeeze", a, shape);
}

template <class T>
BasicTensor<T> squeeze(const BasicTensor<T>& a, int axis) {
  const int ax = normalize_axis("squeeze", axis, a.rank());
  Shape shape;
  for (int d = 0; d < a.rank(); ++d)
    if (d != ax || a.shape()[d] != 1) shape.push_back(a.shape()[d]);
  return reshape_to("squeeze", a, shape);
}

template <class T>
BasicTensor<T> narrow(const BasicTensor<T>& a, int axis, int64_t start, int64_t length) {
  if (a.rank() == 0) throw Error("narrow: cannot narrow a rank-0 tensor");
  const int ax = normalize_axis("narrow", axis, a.rank());
  const int64_t n = a.shape()[ax];
  // PyTorch's rule: start in [-n, n] (negative counts from the end), then start + length <= n.
  if (start < -n || start > n || length < 0 || length > n - (start < 0 ? start + n : start))
    throw Error("narrow: cannot take " + std::to_string(length) + " entries from " +
                std::to_string(start) + " along axis " + std::to_string(ax) + " of shape " +
                a.shape().str() + ": expected start in [" + std::to_string(-n) + ", " +
                std::to_string(n) + "] and 0 <= length <= " + std::to_string(n) +
                " - start (negative starts count from the end)");
  if (start < 0) start += n;
  Shape shape = a.shape();
  shape[ax] = length;
  Index box{}, origin{}, at{};
  for (int d = 0; d < a.rank(); ++d) box[d] = shape[d];
  at[ax] = start;
  auto out = BasicTensor<T>::empty(shape);
  copy_box(a.data(), a.shape(), at, out.mutable_data(), shape, origin, box);
  if (needs_grad(a))
    record(
        "narrow", out, {&a}, Saves(),
        [in = a.shape(), shape, at, origin, box](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx = Array<T>::Zero(in.numel());
          copy_box(g.data(), shape, origin, gx.data(), in, at, box);
          s.add(0, std::move(gx));
        },
        // The slice padded back with zeros; pad's own adjoint crops it again.
        [borders = axis_borders(a.rank(), ax, start, n - start - length)](GraphContext<T>&,
                                                                          const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{pad(g, borders, T(0))};
        });
  return out;
}

template <class T>
BasicTensor<T> pad(const BasicTensor<T>& a, const std::vector<int64_t>& pad, Scalar<T> value) {
  const int r = a.rank();
  if (pad.size() % 2 != 0 || pad.size() / 2 > static_cast<size_t>(r))
    throw Error("pad: expected an even number of pad sizes, at most 2 per axis of shape " +
                a.shape().str() + " (at most " + std::to_string(2 * r) + "), got " +
                std::to_string(pad.size()) + ": " + str(pad));
  // Input index i goes to i + before; the box is what stays of the input.
  Shape shape = a.shape();
  Index box{}, src_start{}, dst_start{};
  for (int d = 0; d < r; ++d) {
    const size_t pair = 2 * static_cast<size_t>(r - 1 - d);
    const int64_t before = pair < pad.size() ? pad[pair] : 0;
    const int64_t after = pair < pad.size() ? pad[pair + 1] : 0;
    const int64_t n = a.shape()[d];
    int64_t size = 0;
    if (__builtin_add_overflow(n, before, &size) || __builtin_add_overflow(size, after, &size) ||
        size < 0)
      throw Error("pad: padding axis " + std::to_string(d) + " of shape " + a.shape().str() +
                  " (size " + std::to_string(n) + ") by " + std::to_string(before) + " and " +
                  std::to_string(after) + " would give a negative size");
    shape[d] = size;
    // Written so that no step overflows, whatever the amounts.
    src_start[d] = before >= 0 ? 0 : before < -n ? n : -before;
    dst_start[d] = std::max<int64_t>(0, before);
    const int64_t end = after >= 0 ? n : after < -n ? 0 : n + after;
    box[d] = std::max<int64_t>(0, end - src_start[d]);
  }
  try {
    shape.numel();
  } catch (const Error&) {
    throw Error("pad: padding shape " + a.shape().str() + " by " + str(pad) + " gives " +
                shape.str() + ", more than 2^63 - 1 elements");
  }
  auto out = BasicTensor<T>::full(shape, value);
  copy_box(a.data(), a.shape(), src_start, out.mutable_data(), shape, dst_start, box);
  if (needs_grad(a))
    record(
        "pad", out, {&a}, Saves(),
        [in = a.shape(), shape, src_start, dst_start, box](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx = Array<T>::Zero(in.numel());
          copy_box(g.data(), shape, dst_start, gx.data(), in, src_start, box);
          s.add(0, std::move(gx));
        },
        // pad by the opposite amounts: it crops what was added and zero-fills what was cropped.
        [back = unpad_amounts(a.shape(), shape, pad)](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{eigrad::pad(g, back, T(0))};
        });
  return out;
}

#define EIGRAD_INSTANTIATE_TENSOR_SHAPE(T)                                                       \
  template BasicTensor<T> transpose(const BasicTensor<T>&, int, int);                            \
  template BasicTensor<T> reshape(const BasicTensor<T>&, const std::vector<int64_t>&);           \
  template BasicTensor<T> flatten(const BasicTensor<T>&, int, int);                              \
  template BasicTensor<T> cat(const std::vector<BasicTensor<T>>&, int);                          \
  template BasicTensor<T> index_select(const BasicTensor<T>&, int, const std::vector<int64_t>&); \
  template BasicTensor<T> stack(const std::vector<BasicTensor<T>>&, int);                        \
  template BasicTensor<T> permute(const BasicTensor<T>&, const std::vector<int>&);               \
  template BasicTensor<T> unsqueeze(const BasicTensor<T>&, int);                                 \
  template BasicTensor<T> squeeze(const BasicTensor<T>&);                                        \
  template BasicTensor<T> squeeze(const BasicTensor<T>&, int);                                   \
  template BasicTensor<T> narrow(const BasicTensor<T>&, int, int64_t, int64_t);                  \
  template BasicTensor<T> pad(const BasicTensor<T>&, const std::vector<int64_t>&, T);            \
  template BasicTensor<T> broadcast_to(const BasicTensor<T>&, const Shape&);

EIGRAD_INSTANTIATE_TENSOR_SHAPE(float)
EIGRAD_INSTANTIATE_TENSOR_SHAPE(double)

}  // namespace eigrad
