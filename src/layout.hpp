#pragma once
// Internal layout helpers shared by the ops: the Eigen types their kernels use, broadcasting,
// reduction views, axis swaps.
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "eigrad/shape.hpp"

namespace eigrad {

// The Eigen types of the kernels: a tensor's storage, and row-major matrix views of it. A source
// file takes them with `using namespace eigrad::detail;`.
namespace detail {
template <class T>
using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
template <class T>
using RowMajorArray = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatrixMap = Eigen::Map<Matrix<T>>;
template <class T>
using ConstMatrixMap = Eigen::Map<const Matrix<T>>;
template <class T>
using ConstRowMap = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>;
}  // namespace detail

// A tensor seen as [outer, n, inner] around one axis of size n.
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
};

inline AxisView axis_view(const Shape& shape, int axis) {
  AxisView v;
  for (int i = 0; i < shape.rank(); ++i) {
    if (i < axis) v.outer *= shape[i];
    if (i == axis) v.n = shape[i];
    if (i > axis) v.inner *= shape[i];
  }
  return v;
}

inline Shape reduced_shape(const Shape& shape, int axis, bool keepdim) {
  Shape out;
  for (int i = 0; i < shape.rank(); ++i) {
    if (i != axis)
      out.push_back(shape[i]);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

// Calls f(out_index, in_index) for every element of `out`, where `in` broadcasts to `out`.
template <class F>
void broadcast_loop(const Shape& out, const Shape& in, F&& f) {
  const int r = out.rank();
  const int64_t n = out.numel();
  if (n == 0) return;
  std::array<int64_t, Shape::kMaxRank> stride{}, count{};
  int64_t s = 1;
  for (int i = r - 1; i >= 0; --i) {
    const int j = i - (r - in.rank());
    const int64_t d = j >= 0 ? in[j] : 1;
    stride[static_cast<size_t>(i)] = d == 1 ? 0 : s;
    s *= d;
  }
  const int64_t inner = r ? out[r - 1] : 1;
  const int64_t inner_stride = r ? stride[static_cast<size_t>(r - 1)] : 0;
  int64_t in_offset = 0;
  for (int64_t o = 0; o < n; o += inner) {
    for (int64_t k = 0; k < inner; ++k) f(o + k, in_offset + k * inner_stride);
    for (int ax = r - 2; ax >= 0; --ax) {
      const size_t a = static_cast<size_t>(ax);
      in_offset += stride[a];
      if (++count[a] < out[ax]) break;
      in_offset -= stride[a] * out[ax];
      count[a] = 0;
    }
  }
}

// x (of shape `in`) broadcast to shape `out`.
template <class T>
detail::Array<T> expand(const detail::Array<T>& x, const Shape& in, const Shape& out) {
  detail::Array<T> r(out.numel());
  broadcast_loop(out, in, [&](int64_t o, int64_t i) { r[o] = x[i]; });
  return r;
}

// The operand of a broadcast op, laid out like the output: x itself when its elements already
// line up (broadcasting only prepended or matched size-1 axes), else a copy in `scratch`.
template <class T>
const detail::Array<T>& operand(const detail::Array<T>& x, const Shape& shape, const Shape& out,
                                detail::Array<T>& scratch) {
  if (shape.numel() == out.numel()) return x;
  scratch = expand(x, shape, out);
  return scratch;
}

// "[2, -1]": requested sizes or axes, which may not form a valid Shape.
inline std::string str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}
inline std::string str(const std::vector<int>& v) {
  return str(std::vector<int64_t>(v.begin(), v.end()));
}

// The gradient g of a broadcast result (shape `out`) summed back to the operand's shape `in`.
template <class T>
detail::Array<T> sum_to(const detail::Array<T>& g, const Shape& out, const Shape& in) {
  if (in.numel() == out.numel()) return g;
  if (in.numel() == 1) return detail::Array<T>::Constant(1, g.sum());
  detail::Array<T> r = detail::Array<T>::Zero(in.numel());
  broadcast_loop(out, in, [&](int64_t o, int64_t i) { r[i] += g[o]; });
  return r;
}

// dst = src with axes a0 < a1 swapped; src has shape `shape`.
template <class T>
void swap_axes(const T* src, const Shape& shape, int a0, int a1, T* dst) {
  if (a0 == a1) {
    std::copy(src, src + shape.numel(), dst);
    return;
  }
  int64_t outer = 1, mid = 1, inner = 1;
  for (int i = 0; i < shape.rank(); ++i) {
    if (i < a0) outer *= shape[i];
    if (i > a0 && i < a1) mid *= shape[i];
    if (i > a1) inner *= shape[i];
  }
  const int64_t d0 = shape[a0], d1 = shape[a1];
  if (mid == 1 && inner == 1) {
    using M = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    for (int64_t o = 0; o < outer; ++o)
      Eigen::Map<M>(dst + o * d0 * d1, d1, d0) =
          Eigen::Map<const M>(src + o * d0 * d1, d0, d1).transpose();
    return;
  }
  // src[o, i, m, j, k] -> dst[o, j, m, i, k]
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < d0; ++i)
      for (int64_t m = 0; m < mid; ++m)
        for (int64_t j = 0; j < d1; ++j) {
          const T* s = src + (((o * d0 + i) * mid + m) * d1 + j) * inner;
          T* d = dst + (((o * d1 + j) * mid + m) * d0 + i) * inner;
          std::copy(s, s + inner, d);
        }
}

}  // namespace eigrad
