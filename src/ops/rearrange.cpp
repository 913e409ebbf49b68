// Ops that rearrange entries without arithmetic (torch.chunk, split, expand, repeat, flip, roll,
// tril, triu). Declared in eigrad/ops/tensor_shape.hpp beside narrow and cat.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/ops/reduce.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;

namespace {

// One step of repeat: a tensor seen as [outer, block] becomes [outer, count, block].
struct Tile {
  int64_t outer, count, block;
};

template <class T>
void tile(const T* src, const Tile& t, T* dst) {
  for (int64_t o = 0; o < t.outer; ++o)
    for (int64_t k = 0; k < t.count; ++k)
      std::copy(src + o * t.block, src + (o + 1) * t.block, dst + (o * t.count + k) * t.block);
}

// tile's adjoint: the sum of the copies.
template <class T>
Array<T> untile(const Array<T>& g, const Tile& t) {
  Array<T> r = Array<T>::Zero(t.outer * t.block);
  for (int64_t o = 0; o < t.outer; ++o)
    for (int64_t k = 0; k < t.count; ++k)
      r.segment(o * t.block, t.block) += g.segment((o * t.count + k) * t.block, t.block);
  return r;
}

// Resolves `axes` against shape's rank; with `distinct`, each axis at most once.
std::vector<int> resolve_axes(const char* op, const std::vector<int>& axes, const Shape& shape,
                              bool distinct) {
  std::vector<int> out;
  for (int axis : axes) {
    const int ax = normalize_axis(op, axis, shape.rank());
    if (distinct && std::find(out.begin(), out.end(), ax) != out.end())
      throw Error(std::string(op) + ": axis " + std::to_string(ax) + " appears more than once in " +
                  str(axes) + " for shape " + shape.str());
    out.push_back(ax);
  }
  return out;
}

// src (of `shape`) with the entries along each of `axes` in reverse order.
template <class T>
Array<T> flipped(const T* src, const Shape& shape, const std::vector<int>& axes) {
  if (shape.numel() == 0) return Array<T>();
  Array<T> out = Eigen::Map<const Array<T>>(src, shape.numel());
  Array<T> buffer(out.size());
  for (int ax : axes) {
    const AxisView v = axis_view(shape, ax);
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t j = 0; j < v.n; ++j) {
        const T* s = out.data() + (o * v.n + j) * v.inner;
        std::copy(s, s + v.inner, buffer.data() + (o * v.n + v.n - 1 - j) * v.inner);
      }
    out.swap(buffer);
  }
  return out;
}

// src (of `shape`) with entry j along axes[k] moved to j + shifts[k] (shifts in [0, size)).
template <class T>
Array<T> rolled(const T* src, const Shape& shape, const std::vector<int>& axes,
                const std::vector<int64_t>& shifts) {
  if (shape.numel() == 0) return Array<T>();
  Array<T> out = Eigen::Map<const Array<T>>(src, shape.numel());
  Array<T> buffer(out.size());
  for (size_t k = 0; k < axes.size(); ++k) {
    const AxisView v = axis_view(shape, axes[k]);
    const int64_t s = shifts[k];
    if (s == 0) continue;
    // Rows [0, n - s) go to [s, n), rows [n - s, n) to [0, s).
    for (int64_t o = 0; o < v.outer; ++o) {
      const T* from = out.data() + o * v.n * v.inner;
      T* to = buffer.data() + o * v.n * v.inner;
      std::copy(from, from + (v.n - s) * v.inner, to + s * v.inner);
      std::copy(from + (v.n - s) * v.inner, from + v.n * v.inner, to);
    }
    out.swap(buffer);
  }
  return out;
}

// Zeroes the entries of each [rows, cols] matrix in x outside the triangle j - i <= k (lower) or
// j - i >= k (upper).
template <class T>
void keep_triangle(T* x, int64_t numel, int64_t rows, int64_t cols, int64_t k, bool lower) {
  if (rows == 0 || cols == 0) return;
  k = std::clamp<int64_t>(k, -rows - 1, cols + 1);  // the same mask, and no overflow below
  for (int64_t m = 0; m < numel; m += rows * cols)
    for (int64_t i = 0; i < rows; ++i) {
      T* row = x + m + i * cols;
      if (lower)
        std::fill(row + std::clamp<int64_t>(i + k + 1, 0, cols), row + cols, T(0));
      else
        std::fill(row, row + std::clamp<int64_t>(i + k, 0, cols), T(0));
    }
}

template <class T>
BasicTensor<T> triangle(const char* op, const BasicTensor<T>& a, int64_t diagonal, bool lower) {
  const Shape& shape = a.shape();
  const int r = a.rank();
  if (r < 2)
    throw Error(std::string(op) + ": expected a matrix or a batch of them (at least 2 axes), got " +
                "shape " + shape.str());
  const int64_t rows = shape[r - 2], cols = shape[r - 1];
  auto out = BasicTensor<T>::empty(shape);
  out.mutable_array() = a.array();
  keep_triangle(out.mutable_data(), a.numel(), rows, cols, diagonal, lower);
  if (needs_grad(a))
    record(
        op, out, {&a}, Saves(),
        [rows, cols, diagonal, lower](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx = s.take(g);
          keep_triangle(gx.data(), gx.size(), rows, cols, diagonal, lower);
          s.add(0, std::move(gx));
        },
        // A projection: its own adjoint.
        [diagonal, lower](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{lower ? tril(g, diagonal) : triu(g, diagonal)};
        });
  return out;
}

}  // namespace

template <class T>
std::vector<BasicTensor<T>> split(const BasicTensor<T>& a, int64_t split_size, int axis) {
  if (a.rank() == 0) throw Error("split: cannot split a rank-0 tensor");
  const int ax = normalize_axis("split", axis, a.rank());
  const int64_t n = a.shape()[ax];
  if (split_size < 0 || (split_size == 0 && n > 0))
    throw Error("split: cannot split axis " + std::to_string(ax) + " of shape " + a.shape().str() +
                " into pieces of " + std::to_string(split_size) +
                ": expected a split_size > 0 (0 only for an axis of size 0)");
  // As PyTorch: at least one piece, even when split_size exceeds n.
  const int64_t count =
      split_size == 0 ? 1 : std::max<int64_t>(1, n / split_size + (n % split_size != 0));
  std::vector<BasicTensor<T>> pieces;
  pieces.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const int64_t start = i * split_size;
    pieces.push_back(narrow(a, ax, start, std::min(split_size, n - start)));
  }
  return pieces;
}

template <class T>
std::vector<BasicTensor<T>> split(const BasicTensor<T>& a, const std::vector<int64_t>& sizes,
                                  int axis) {
  if (a.rank() == 0) throw Error("split: cannot split a rank-0 tensor");
  const int ax = normalize_axis("split", axis, a.rank());
  const int64_t n = a.shape()[ax];
  int64_t total = 0;
  bool ok = true;
  for (int64_t s : sizes) ok = ok && s >= 0 && !__builtin_add_overflow(total, s, &total);
  if (!ok || total != n)
    throw Error("split: sizes " + str(sizes) + " do not split axis " + std::to_string(ax) +
                " of shape " + a.shape().str() + ": expected sizes >= 0 that sum to " +
                std::to_string(n));
  std::vector<BasicTensor<T>> pieces;
  pieces.reserve(sizes.size());
  int64_t start = 0;
  for (int64_t s : sizes) {
    pieces.push_back(narrow(a, ax, start, s));
    start += s;
  }
  return pieces;
}

template <class T>
std::vector<BasicTensor<T>> chunk(const BasicTensor<T>& a, int64_t chunks, int axis) {
  if (a.rank() == 0) throw Error("chunk: cannot chunk a rank-0 tensor");
  if (chunks <= 0)
    throw Error("chunk: expected chunks > 0, got " + std::to_string(chunks) + " (shape " +
                a.shape().str() + ")");
  const int ax = normalize_axis("chunk", axis, a.rank());
  const int64_t n = a.shape()[ax];
  // PyTorch 1.13: an empty axis gives `chunks` empty pieces, not one.
  if (n == 0) return split(a, std::vector<int64_t>(static_cast<size_t>(chunks), 0), ax);
  return split(a, n / chunks + (n % chunks != 0), ax);
}

template <class T>
BasicTensor<T> expand(const BasicTensor<T>& a, const std::vector<int64_t>& sizes) {
  const int r = a.rank(), m = static_cast<int>(sizes.size());
  const auto target = [&] { return " (shape " + a.shape().str() + " to " + str(sizes) + ")"; };
  if (m < r)
    throw Error("expand: expected at least " + std::to_string(r) + " sizes, one per axis, got " +
                std::to_string(m) + target());
  if (m > Shape::kMaxRank)
    throw Error("expand: " + std::to_string(m) + " sizes is more than the maximum rank " +
                std::to_string(Shape::kMaxRank) + target());
  Shape shape;
  for (int i = 0; i < m; ++i) {
    const int d = i - (m - r);  // a's axis, or < 0 for a new leading one
    const int64_t want = sizes[static_cast<size_t>(i)];
    if (d < 0) {
      if (want < 0)
        throw Error("expand: size " + std::to_string(want) + " for new leading axis " +
                    std::to_string(i) + target() + ": a new axis needs a size >= 0");
      shape.push_back(want);
    } else {
      const int64_t have = a.shape()[d];
      if (want != -1 && want != have && (have != 1 || want < 0))
        throw Error("expand: cannot expand axis " + std::to_string(d) + " of size " +
                    std::to_string(have) + " to " + std::to_string(want) + target() +
                    ": only size-1 axes expand (-1 keeps a size)");
      shape.push_back(want == -1 ? have : want);
    }
  }
  try {
    shape.numel();
  } catch (const Error&) {
    throw Error("expand: the result " + shape.str() + " has more than 2^63 - 1 elements" +
                target());
  }
  // broadcast_to's kernel and gradient, but always a copy (broadcast_to of the same shape
  // aliases).
  auto out = BasicTensor<T>::empty(shape);
  out.mutable_array() = eigrad::expand(a.array(), a.shape(), shape);
  if (needs_grad(a))
    record(
        "expand", out, {&a}, Saves(),
        [in = a.shape(), shape](const Array<T>& g, GradSink<T>& s) {
          s.add(0, sum_to(g, shape, in));
        },
        [in = a.shape()](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{sum_to_size(g, in)};
        });
  return out;
}

template <class T>
BasicTensor<T> repeat(const BasicTensor<T>& a, const std::vector<int64_t>& repeats) {
  const int r = a.rank(), m = static_cast<int>(repeats.size());
  const auto what = [&] {
    return " (shape " + a.shape().str() + ", repeats " + str(repeats) + ")";
  };
  if (m < r)
    throw Error("repeat: expected at least " + std::to_string(r) +
                " repeats, one per axis (more add leading axes), got " + std::to_string(m) +
                what());
  if (m > Shape::kMaxRank)
    throw Error("repeat: " + std::to_string(m) + " repeats is more than the maximum rank " +
                std::to_string(Shape::kMaxRank) + what());
  Shape in, shape;  // a's shape with leading 1s, and the result's
  for (int i = 0; i < m; ++i) {
    const int64_t n = i < m - r ? 1 : a.shape()[i - (m - r)], k = repeats[static_cast<size_t>(i)];
    int64_t size = 0;
    if (k < 0) throw Error("repeat: repeat counts must be >= 0" + what());
    if (__builtin_mul_overflow(n, k, &size))
      throw Error("repeat: the result has more than 2^63 - 1 elements" + what());
    in.push_back(n);
    shape.push_back(size);
  }
  try {
    shape.numel();
  } catch (const Error&) {
    throw Error("repeat: the result " + shape.str() + " has more than 2^63 - 1 elements" + what());
  }
  // One tiling per axis that repeats, from the first: axes before it are tiled already.
  std::vector<Tile> steps;
  Array<T> values = a.array();
  Shape current = in;
  for (int d = 0; d < m; ++d) {
    const int64_t k = repeats[static_cast<size_t>(d)];
    if (k == 1) continue;
    Tile t{1, k, 1};
    for (int i = 0; i < m; ++i) (i < d ? t.outer : t.block) *= current[i];
    Array<T> next(t.outer * k * t.block);
    tile(values.data(), t, next.data());
    values.swap(next);
    current[d] *= k;
    steps.push_back(t);
  }
  auto out = BasicTensor<T>::empty(shape);
  out.mutable_array() = values;
  if (needs_grad(a))
    record(
        "repeat", out, {&a}, Saves(),
        [steps](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx = s.take(g);
          for (auto t = steps.rbegin(); t != steps.rend(); ++t) gx = untile(gx, *t);
          s.add(0, std::move(gx));
        },
        // Each tiling's adjoint: [outer, count, block] summed over the copies.
        [steps, in = a.shape()](GraphContext<T>&, const BasicTensor<T>& g) {
          BasicTensor<T> gx = g;
          for (auto t = steps.rbegin(); t != steps.rend(); ++t)
            gx = sum(reshape(gx, {t->outer, t->count, t->block}), 1);
          return std::vector<BasicTensor<T>>{reshape(gx, in.vec())};
        });
  return out;
}

template <class T>
BasicTensor<T> flip(const BasicTensor<T>& a, const std::vector<int>& axes) {
  const std::vector<int> ax = resolve_axes("flip", axes, a.shape(), true);
  auto out = BasicTensor<T>::empty(a.shape());
  out.mutable_array() = flipped(a.data(), a.shape(), ax);
  if (needs_grad(a))
    record(
        "flip", out, {&a}, Saves(),
        [shape = a.shape(), ax](const Array<T>& g, GradSink<T>& s) {
          s.add(0, flipped(g.data(), shape, ax));
        },
        [ax](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{flip(g, ax)};
        });
  return out;
}

template <class T>
BasicTensor<T> roll(const BasicTensor<T>& a, const std::vector<int64_t>& shifts,
                    const std::vector<int>& axes) {
  if (axes.empty()) {
    if (shifts.size() != 1)
      throw Error("roll: without axes, expected one shift (for the flattened tensor), got " +
                  str(shifts) + " for shape " + a.shape().str());
    return reshape(roll(reshape(a, {a.numel()}), shifts, {0}), a.shape().vec());
  }
  if (shifts.size() != axes.size())
    throw Error("roll: expected one shift per axis, got shifts " + str(shifts) + " for axes " +
                str(axes) + " of shape " + a.shape().str());
  const std::vector<int> ax = resolve_axes("roll", axes, a.shape(), false);
  // Shifts in [0, n), and the ones that undo them.
  std::vector<int64_t> forward(ax.size()), back(ax.size());
  for (size_t k = 0; k < ax.size(); ++k) {
    const int64_t n = a.rank() == 0 ? 1 : a.shape()[ax[k]];
    forward[k] = n == 0 ? 0 : (shifts[k] % n + n) % n;
    back[k] = forward[k] == 0 ? 0 : n - forward[k];
  }
  auto out = BasicTensor<T>::empty(a.shape());
  out.mutable_array() = rolled(a.data(), a.shape(), ax, forward);
  if (needs_grad(a))
    record(
        "roll", out, {&a}, Saves(),
        [shape = a.shape(), ax, back](const Array<T>& g, GradSink<T>& s) {
          s.add(0, rolled(g.data(), shape, ax, back));
        },
        [ax, back](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{roll(g, back, ax)};
        });
  return out;
}

template <class T>
BasicTensor<T> tril(const BasicTensor<T>& a, int64_t diagonal) {
  return triangle("tril", a, diagonal, true);
}

template <class T>
BasicTensor<T> triu(const BasicTensor<T>& a, int64_t diagonal) {
  return triangle("triu", a, diagonal, false);
}

#define EIGRAD_INSTANTIATE_REARRANGE(T)                                                          \
  template std::vector<BasicTensor<T>> chunk(const BasicTensor<T>&, int64_t, int);               \
  template std::vector<BasicTensor<T>> split(const BasicTensor<T>&, int64_t, int);               \
  template std::vector<BasicTensor<T>> split(const BasicTensor<T>&, const std::vector<int64_t>&, \
                                             int);                                               \
  template BasicTensor<T> expand(const BasicTensor<T>&, const std::vector<int64_t>&);            \
  template BasicTensor<T> repeat(const BasicTensor<T>&, const std::vector<int64_t>&);            \
  template BasicTensor<T> flip(const BasicTensor<T>&, const std::vector<int>&);                  \
  template BasicTensor<T> roll(const BasicTensor<T>&, const std::vector<int64_t>&,               \
                               const std::vector<int>&);                                         \
  template BasicTensor<T> tril(const BasicTensor<T>&, int64_t);                                  \
  template BasicTensor<T> triu(const BasicTensor<T>&, int64_t);

EIGRAD_INSTANTIATE_REARRANGE(float)
EIGRAD_INSTANTIATE_REARRANGE(double)

}  // namespace eigrad
