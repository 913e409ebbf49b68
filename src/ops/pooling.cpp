#include "eigrad/ops/pooling.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/backends.hpp"
#include "im2col.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;

namespace {

// The sizes of a pooling over `planes` planes of h x w.
struct PoolGeometry {
  int64_t planes, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo;
};

// The common pooling of CNNs: 2 x 2 windows, stride 2, no padding, no dilation, which has a
// fast path of its own (tested against the general one in tests/test_pooling.cpp).
bool is_2x2_stride_2(const PoolGeometry& g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && g.dh == 1 &&
         g.dw == 1;
}

Shape pooled_shape(const Shape& in, int64_t ho, int64_t wo) {
  return in.rank() == 4 ? Shape{in[0], in[1], ho, wo} : Shape{in[0], ho, wo};
}

// As PyTorch 1.13's pool2d_shape_check: only the batch axis of [N, C, H, W] may be empty.
void check_pool_input(const std::string& op, const Shape& in) {
  if (in.rank() != 3 && in.rank() != 4)
    throw Error(op + ": expected input [N, C, H, W] or [C, H, W], got " + in.str());
  for (int a = in.rank() == 4 ? 1 : 0; a < in.rank(); ++a)
    if (in[a] < 1)
      throw Error(op + ": expected an input whose axes other than the batch axis are non-empty, " +
                  "got " + in.str());
}

// Checks max_pool2d's and avg_pool2d's arguments as PyTorch does and returns the sizes.
PoolGeometry pool_geometry(const std::string& op, const Shape& in, const ExpandingArray<2>& kernel,
                           const ExpandingArray<2>& stride_arg, const ExpandingArray<2>& padding,
                           const ExpandingArray<2>& dilation) {
  check_pool_input(op, in);
  const ExpandingArray<2> stride = stride_arg.given() ? stride_arg : kernel;
  const std::string args = " for input " + in.str() + " with kernel_size " + kernel.str() +
                           ", stride " + stride.str() + ", padding " + padding.str() +
                           ", dilation " + dilation.str();
  for (size_t i = 0; i < 2; ++i) {
    if (kernel[i] < 1) throw Error(op + ": expected kernel_size >= 1" + args);
    if (stride[i] < 1) throw Error(op + ": expected stride >= 1" + args);
    if (dilation[i] < 1) throw Error(op + ": expected dilation >= 1" + args);
    if (padding[i] < 0) throw Error(op + ": expected padding >= 0" + args);
    if (padding[i] > kernel[i] / 2)
      throw Error(op + ": expected padding at most half the kernel size" + args);
  }
  const int r = in.rank();
  PoolGeometry g{};
  g.planes = in.numel() / (in[r - 2] * in[r - 1]);
  g.h = in[r - 2];
  g.w = in[r - 1];
  g.kh = kernel[0];
  g.kw = kernel[1];
  g.sh = stride[0];
  g.sw = stride[1];
  g.ph = padding[0];
  g.pw = padding[1];
  g.dh = dilation[0];
  g.dw = dilation[1];
  const int64_t span_h = g.dh * (g.kh - 1) + 1, span_w = g.dw * (g.kw - 1) + 1;
  g.ho = g.h + 2 * g.ph >= span_h ? (g.h + 2 * g.ph - span_h) / g.sh + 1 : 0;
  g.wo = g.w + 2 * g.pw >= span_w ? (g.w + 2 * g.pw - span_w) / g.sw + 1 : 0;
  if (g.ho < 1 || g.wo < 1)
    throw Error(op +
                ": expected a non-empty output, but the kernel spans more than the padded "
                "input" +
                args);
  if (g.h * g.w > std::numeric_limits<int32_t>::max())
    throw Error(op + ": planes of more than 2^31 elements are not supported" + args);
  return g;
}

// One kernel offset (i, j) over a run of outputs: outputs k in [begin, end) of a plane (k =
// oh * wo + ow) read input origin[k] + offset. Where the offset stays inside the plane for whole
// output rows, a run spans all those rows; at the padding it is one row's valid part.
struct Tap {
  int32_t offset;
  int64_t begin, end;
};

// A plane's taps in row-major kernel order (so each output meets its window in PyTorch's order),
// and origin[k], the input position of output k's offset (0, 0), which may lie in the padding.
struct Taps {
  std::vector<Tap> runs;
  std::vector<int32_t> origin;
};

Taps plane_taps(const PoolGeometry& g) {
  Taps t;
  t.origin.resize(static_cast<size_t>(g.ho * g.wo));
  for (int64_t oh = 0; oh < g.ho; ++oh)
    for (int64_t ow = 0; ow < g.wo; ++ow)
      t.origin[static_cast<size_t>(oh * g.wo + ow)] =
          static_cast<int32_t>((oh * g.sh - g.ph) * g.w + ow * g.sw - g.pw);
  for (int64_t i = 0; i < g.kh; ++i) {
    const ValidRange rows = valid_range(g.ho, g.sh, i * g.dh - g.ph, g.h);
    for (int64_t j = 0; j < g.kw; ++j) {
      const ValidRange cols = valid_range(g.wo, g.sw, j * g.dw - g.pw, g.w);
      const auto offset = static_cast<int32_t>(i * g.dh * g.w + j * g.dw);
      if (cols.hi <= cols.lo) continue;
      if (cols.lo == 0 && cols.hi == g.wo) {
        if (rows.hi > rows.lo) t.runs.push_back({offset, rows.lo * g.wo, rows.hi * g.wo});
      } else {
        for (int64_t oh = rows.lo; oh < rows.hi; ++oh)
          t.runs.push_back({offset, oh * g.wo + cols.lo, oh * g.wo + cols.hi});
      }
    }
  }
  return t;
}

// The inverse divisor of each output of avg_pool2d: 1 / (kh kw) with the padding counted, else
// 1 / (the rows the window covers x the columns it covers).
template <class T>
Array<T> inverse_divisors(const PoolGeometry& g, bool count_include_pad) {
  if (count_include_pad) return Array<T>::Constant(g.ho * g.wo, T(1) / T(g.kh * g.kw));
  auto covered = [](int64_t out, int64_t stride, int64_t pad, int64_t k, int64_t size) {
    Array<T> c(out);
    for (int64_t o = 0; o < out; ++o) {
      const int64_t start = o * stride - pad;
      c[o] = T(std::min(start + k, size) - std::max(start, int64_t{0}));
    }
    return c;
  };
  const Array<T> rows = covered(g.ho, g.sh, g.ph, g.kh, g.h);
  const Array<T> cols = covered(g.wo, g.sw, g.pw, g.kw, g.w);
  RowMajorArray<T> inv = (rows.matrix() * cols.matrix().transpose()).array().inverse();
  return Eigen::Map<const Array<T>>(inv.data(), g.ho * g.wo);
}

// dst[t] = src[t * stride] for t < n; S is the stride when known at compile time (0: at run
// time), so that the common stride 2 becomes vector loads and shuffles.
template <class T, int S>
void strided_copy(const T* __restrict src, int64_t n, int64_t stride, T* __restrict dst) {
  const int64_t s = S ? S : stride;
  for (int64_t t = 0; t < n; ++t) dst[t] = src[t * s];
}

// A pooling's backward is linear in the gradient, and so is its adjoint: each pair is a plan
// (the windows or the argmax indices, fixed) with a kernel each way. forward(x, y) writes all of
// y [out]; adjoint(g, gx) adds into gx [in], which starts at zero.

// Max pooling's backward scatters the gradient to each window's argmax; its adjoint gathers.
// A window in the padding alone (possible with dilation) has no argmax (-1): its output is -inf,
// its gradient goes nowhere, and the gather gives it 0.
template <class T>
struct ArgmaxPlan {
  static constexpr const char* name = "max_pool2d_gather";
  static constexpr const char* adjoint_name = "max_pool2d_backward";
  PoolGeometry g;
  Shape in, out;
  std::vector<int32_t> argmax;  // per plane, each output's input position in its plane, or -1

  void forward(const T* x, T* y) const {
    const int64_t in_plane = g.h * g.w, out_plane = g.ho * g.wo;
    parallel_for(
        g.planes,
        [&](int64_t begin, int64_t end) {
          for (int64_t p = begin; p < end; ++p) {
            const T* src = x + p * in_plane;
            T* dst = y + p * out_plane;
            const int32_t* at = argmax.data() + p * out_plane;
            for (int64_t k = 0; k < out_plane; ++k) dst[k] = at[k] >= 0 ? src[at[k]] : T(0);
          }
        },
        g.planes * out_plane);
  }
  void adjoint(const T* grad, T* gx) const {
    const int64_t in_plane = g.h * g.w, out_plane = g.ho * g.wo;
    const int32_t* ad = argmax.data();
    parallel_for(
        g.planes,
        [&](int64_t begin, int64_t end) {
          for (int64_t p = begin; p < end; ++p) {
            T* dst = gx + p * in_plane;
            const T* src = grad + p * out_plane;
            const int32_t* at = ad + p * out_plane;
            for (int64_t k = 0; k < out_plane; ++k)
              if (at[k] >= 0) dst[at[k]] += src[k];
          }
        },
        g.planes * (in_plane + out_plane));
  }
};

// Average pooling sums one kernel offset at a time over runs of whole output rows, then scales
// by the inverse divisors; its adjoint spreads each scaled gradient over its window.
template <class T>
struct AvgPlan {
  static constexpr const char* name = "avg_pool2d";
  static constexpr const char* adjoint_name = "avg_pool2d_backward";
  PoolGeometry g;
  Shape in, out;
  Taps taps;
  Array<T> inv;  // per output of a plane

  void forward(const T* xd, T* yd) const {
    const int64_t in_plane = g.h * g.w, out_plane = g.ho * g.wo;
    parallel_for(
        g.planes,
        [&](int64_t begin, int64_t end) {
          const int32_t* origin = taps.origin.data();
          for (int64_t p = begin; p < end; ++p) {
            T* __restrict y = yd + p * out_plane;
            std::fill(y, y + out_plane, T(0));
            for (const Tap& tap : taps.runs) {
              const T* __restrict src = xd + p * in_plane + tap.offset;
              for (int64_t k = tap.begin; k < tap.end; ++k) y[k] += src[origin[k]];
            }
            Eigen::Map<Array<T>>(y, out_plane) *= inv;
          }
        },
        g.planes * out_plane * g.kh * g.kw);
  }
  void adjoint(const T* grad, T* gx) const {
    const int64_t in_plane = g.h * g.w, out_plane = g.ho * g.wo;
    parallel_for(
        g.planes,
        [&](int64_t begin, int64_t end) {
          const int32_t* origin = taps.origin.data();
          Array<T> scaled(out_plane);
          for (int64_t p = begin; p < end; ++p) {
            scaled = Eigen::Map<const Array<T>>(grad + p * out_plane, out_plane) * inv;
            for (const Tap& tap : taps.runs) {
              T* dst = gx + p * in_plane + tap.offset;
              for (int64_t k = tap.begin; k < tap.end; ++k) dst[origin[k]] += scaled[k];
            }
          }
        },
        g.planes * out_plane * g.kh * g.kw);
  }
};

// PyTorch's adaptive windows: output cell i of `out` along an axis of size L covers
// [floor(i L / out), ceil((i + 1) L / out)). Each output row sums its input rows once, then each
// cell sums its segment of that row; the adjoint adds each cell's share to its window.
template <class T>
struct AdaptivePlan {
  static constexpr const char* name = "adaptive_avg_pool2d";
  static constexpr const char* adjoint_name = "adaptive_avg_pool2d_backward";
  Shape in, out;
  int64_t planes, h, w, ho, wo;
  std::vector<int64_t> h0, h1, w0, w1;

  void forward(const T* xd, T* yd) const {
    parallel_for(
        planes,
        [&](int64_t begin, int64_t end) {
          Eigen::Matrix<T, 1, Eigen::Dynamic> row(w);
          for (int64_t p = begin; p < end; ++p) {
            const ConstMatrixMap<T> x(xd + p * h * w, h, w);
            for (int64_t i = 0; i < ho; ++i) {
              const size_t a = static_cast<size_t>(i);
              row = x.middleRows(h0[a], h1[a] - h0[a]).colwise().sum();
              for (int64_t j = 0; j < wo; ++j) {
                const size_t b = static_cast<size_t>(j);
                yd[(p * ho + i) * wo + j] =
                    row.segment(w0[b], w1[b] - w0[b]).sum() / T((h1[a] - h0[a]) * (w1[b] - w0[b]));
              }
            }
          }
        },
        planes * h * w);
  }
  void adjoint(const T* grad, T* gx) const {
    parallel_for(
        planes,
        [&](int64_t begin, int64_t end) {
          for (int64_t p = begin; p < end; ++p) {
            MatrixMap<T> dx(gx + p * h * w, h, w);
            for (int64_t i = 0; i < ho; ++i)
              for (int64_t j = 0; j < wo; ++j) {
                const size_t a = static_cast<size_t>(i), b = static_cast<size_t>(j);
                const int64_t rows = h1[a] - h0[a], cols = w1[b] - w0[b];
                dx.block(h0[a], w0[b], rows, cols).array() +=
                    grad[(p * ho + i) * wo + j] / T(rows * cols);
              }
          }
        },
        planes * h * w);
  }
};

// Makes `out` the node of the plan's map (or of its adjoint) applied to x: its backward is the
// other one, first-order (the kernel) and in the graph (the other op), so that any order works.
template <class T, class Plan>
void record_plan(const char* name, BasicTensor<T>& out, const BasicTensor<T>& x,
                 const std::shared_ptr<const Plan>& plan, bool adjoint);

template <class T, class Plan>
BasicTensor<T> apply_plan(const BasicTensor<T>& x, const std::shared_ptr<const Plan>& plan,
                          bool adjoint) {
  auto out = adjoint ? BasicTensor<T>::zeros(plan->in) : BasicTensor<T>::empty(plan->out);
  if (out.numel() > 0) {
    if (adjoint)
      plan->adjoint(x.data(), out.mutable_data());
    else
      plan->forward(x.data(), out.mutable_data());
  }
  if (needs_grad(x)) record_plan(adjoint ? Plan::adjoint_name : Plan::name, out, x, plan, adjoint);
  return out;
}

template <class T, class Plan>
void record_plan(const char* name, BasicTensor<T>& out, const BasicTensor<T>& x,
                 const std::shared_ptr<const Plan>& plan, bool adjoint) {
  record(
      name, out, {&x}, Saves(),
      [plan, adjoint](const Array<T>& g, GradSink<T>& s) {
        if (adjoint) {
          Array<T> gy(plan->out.numel());
          if (gy.size() > 0) plan->forward(g.data(), gy.data());
          s.add(0, std::move(gy));
        } else {
          Array<T> gx = Array<T>::Zero(plan->in.numel());
          if (gx.size() > 0) plan->adjoint(g.data(), gx.data());
          s.add(0, std::move(gx));
        }
      },
      [plan, adjoint](GraphContext<T>&, const BasicTensor<T>& g) {
        return std::vector<BasicTensor<T>>{apply_plan(g, plan, !adjoint)};
      });
}

}  // namespace

// max_pool2d's 2 x 2, stride-2 case: the window's four inputs in the order of the general path
// below, so the same maximum, position and NaN rule (`v > m` keeps the first maximum, `v != v`
// lets a NaN win).
template <class T>
void max_pool_2x2_stride_2(const PoolGeometry& g, const T* xd, T* yd, int32_t* ad) {
  const int64_t in_plane = g.h * g.w, out_plane = g.ho * g.wo;
  // Each output's window origin in its plane, the same for every plane.
  std::vector<int32_t> origin(static_cast<size_t>(out_plane));
  for (int64_t oh = 0; oh < g.ho; ++oh)
    for (int64_t ow = 0; ow < g.wo; ++ow)
      origin[static_cast<size_t>(oh * g.wo + ow)] = static_cast<int32_t>(2 * oh * g.w + 2 * ow);
  parallel_for(
      g.planes,
      [&](int64_t begin, int64_t end) {
        // The plane's windows' four inputs, one contiguous array each, split out of the rows by
        // stride-2 copies (vector shuffles), so that the comparisons run over whole planes of
        // contiguous arrays, which the compiler vectorises with masks (on the strided inputs
        // themselves it kept them scalar and branchy, 3x slower than the general path).
        const int64_t n = out_plane, wo = g.wo, w = g.w;
        std::vector<T> buffer(static_cast<size_t>(4 * n));
        T* const v[4] = {buffer.data(), buffer.data() + n, buffer.data() + 2 * n,
                         buffer.data() + 3 * n};
        const int32_t offsets[4] = {0, 1, static_cast<int32_t>(w), static_cast<int32_t>(w + 1)};
        const int32_t* __restrict base = origin.data();
        for (int64_t p = begin; p < end; ++p) {
          const T* x = xd + p * in_plane;
          for (int64_t oh = 0; oh < g.ho; ++oh)
            for (int tap = 0; tap < 4; ++tap)
              strided_copy<T, 2>(x + 2 * oh * w + offsets[tap], wo, 2, v[tap] + oh * wo);
          T* __restrict y = yd + p * out_plane;
          int32_t* __restrict at = ad + p * out_plane;
          std::copy(v[0], v[0] + n, y);
          std::copy(base, base + n, at);
          // Each next input of the windows: the first maximum stays, a NaN wins.
          for (int tap = 1; tap < 4; ++tap) {
            const T* __restrict vt = v[tap];
            const int32_t offset = offsets[tap];
            for (int64_t k = 0; k < n; ++k) {
              const bool take = (vt[k] > y[k]) | (vt[k] != vt[k]);
              y[k] = take ? vt[k] : y[k];
              at[k] = take ? base[k] + offset : at[k];
            }
          }
        }
      },
      g.planes * out_plane * 4);
}

// The general case: the maximum and its first position, one kernel offset at a time over runs of
// whole output rows (a vectorised gather): `v > m` keeps the first maximum, `v != v` lets NaN win
// (as PyTorch does), and `at < 0` takes the first element the window covers.
template <class T>
void max_pool_general(const PoolGeometry& g, const T* xd, T* yd, int32_t* ad) {
  const int64_t in_plane = g.h * g.w, out_plane = g.ho * g.wo;
  const Taps taps = plane_taps(g);
  parallel_for(
      g.planes,
      [&](int64_t begin, int64_t end) {
        const int32_t* origin = taps.origin.data();
        std::vector<T> gathered(static_cast<size_t>(out_plane));
        std::vector<int32_t> position(static_cast<size_t>(out_plane));
        for (int64_t p = begin; p < end; ++p) {
          T* __restrict m = yd + p * out_plane;
          int32_t* __restrict at = ad + p * out_plane;
          std::fill(m, m + out_plane, -std::numeric_limits<T>::infinity());
          std::fill(at, at + out_plane, int32_t{-1});
          const T* x = xd + p * in_plane;
          for (const Tap& tap : taps.runs) {
            // Gathered first, so that the comparison below runs on contiguous arrays (the
            // compiler vectorises it with masks; a gather inside it kept it scalar and branchy).
            // Within an output row the inputs are `stride` apart: one strided copy per row.
            T* __restrict v = gathered.data() - tap.begin;
            int32_t* __restrict i = position.data() - tap.begin;
            for (int64_t k = tap.begin; k < tap.end;) {
              const int64_t row_end = std::min(tap.end, (k / g.wo + 1) * g.wo);
              const int32_t first = origin[k] + tap.offset;
              if (g.sw == 2)
                strided_copy<T, 2>(x + first, row_end - k, 2, v + k);
              else
                strided_copy<T, 0>(x + first, row_end - k, g.sw, v + k);
              for (int64_t t = k; t < row_end; ++t)
                i[t] = first + static_cast<int32_t>((t - k) * g.sw);
              k = row_end;
            }
            for (int64_t k = tap.begin; k < tap.end; ++k) {
              const bool take = (v[k] > m[k]) | (v[k] != v[k]) | (at[k] < 0);
              m[k] = take ? v[k] : m[k];
              at[k] = take ? i[k] : at[k];
            }
          }
        }
      },
      g.planes * out_plane * g.kh * g.kw);
}

// The maximum of each window and its position (the argmax the backward scatters to).
template <class T>
BasicTensor<T> max_pool2d(const BasicTensor<T>& input, ExpandingArray<2> kernel_size,
                          ExpandingArray<2> stride, ExpandingArray<2> padding,
                          ExpandingArray<2> dilation) {
  const PoolGeometry g =
      pool_geometry("max_pool2d", input.shape(), kernel_size, stride, padding, dilation);
  auto out = BasicTensor<T>::empty(pooled_shape(input.shape(), g.ho, g.wo));
  const int64_t out_plane = g.ho * g.wo;
  auto plan = std::make_shared<ArgmaxPlan<T>>();
  plan->g = g;
  plan->in = input.shape();
  plan->out = out.shape();
  plan->argmax.resize(static_cast<size_t>(g.planes * out_plane));
  const T* xd = input.data();
  T* yd = out.mutable_data();
  int32_t* ad = plan->argmax.data();
  if (fast_paths() && is_2x2_stride_2(g))
    max_pool_2x2_stride_2(g, xd, yd, ad);
  else
    max_pool_general(g, xd, yd, ad);
  // The gradient goes to each window's argmax: a scatter, linear in the gradient.
  if (needs_grad(input))
    record_plan("max_pool2d", out, input, std::shared_ptr<const ArgmaxPlan<T>>(std::move(plan)),
                false);
  return out;
}

// A linear map of the input (AvgPlan), recorded with its adjoint as its backward.
template <class T>
BasicTensor<T> avg_pool2d(const BasicTensor<T>& input, ExpandingArray<2> kernel_size,
                          ExpandingArray<2> stride, ExpandingArray<2> padding,
                          bool count_include_pad) {
  const PoolGeometry g = pool_geometry("avg_pool2d", input.shape(), kernel_size, stride, padding,
                                       ExpandingArray<2>(1));
  auto plan = std::make_shared<const AvgPlan<T>>(
      AvgPlan<T>{g, input.shape(), pooled_shape(input.shape(), g.ho, g.wo), plane_taps(g),
                 inverse_divisors<T>(g, count_include_pad)});
  return apply_plan(input, plan, false);
}

// A linear map of the input (AdaptivePlan), recorded with its adjoint as its backward.
template <class T>
BasicTensor<T> adaptive_avg_pool2d(const BasicTensor<T>& input, ExpandingArray<2> output_size) {
  const Shape& in = input.shape();
  check_pool_input("adaptive_avg_pool2d", in);
  const int r = in.rank();
  const int64_t h = in[r - 2], w = in[r - 1], ho = output_size[0], wo = output_size[1];
  if (ho < 1 || wo < 1)
    throw Error("adaptive_avg_pool2d: expected output_size >= 1, got " + output_size.str() +
                " for input " + in.str());
  std::vector<int64_t> h0(static_cast<size_t>(ho)), h1(h0), w0(static_cast<size_t>(wo)), w1(w0);
  for (int64_t i = 0; i < ho; ++i) {
    h0[static_cast<size_t>(i)] = i * h / ho;
    h1[static_cast<size_t>(i)] = ((i + 1) * h + ho - 1) / ho;
  }
  for (int64_t j = 0; j < wo; ++j) {
    w0[static_cast<size_t>(j)] = j * w / wo;
    w1[static_cast<size_t>(j)] = ((j + 1) * w + wo - 1) / wo;
  }
  auto plan = std::make_shared<const AdaptivePlan<T>>(
      AdaptivePlan<T>{in, pooled_shape(in, ho, wo), in.numel() / (h * w), h, w, ho, wo,
                      std::move(h0), std::move(h1), std::move(w0), std::move(w1)});
  return apply_plan(input, plan, false);
}

#define EIGRAD_INSTANTIATE_POOLING(T)                                                             \
  template BasicTensor<T> max_pool2d(const BasicTensor<T>&, ExpandingArray<2>, ExpandingArray<2>, \
                                     ExpandingArray<2>, ExpandingArray<2>);                       \
  template BasicTensor<T> avg_pool2d(const BasicTensor<T>&, ExpandingArray<2>, ExpandingArray<2>, \
                                     ExpandingArray<2>, bool);                                    \
  template BasicTensor<T> adaptive_avg_pool2d(const BasicTensor<T>&, ExpandingArray<2>);

EIGRAD_INSTANTIATE_POOLING(float)
EIGRAD_INSTANTIATE_POOLING(double)

}  // namespace eigrad
