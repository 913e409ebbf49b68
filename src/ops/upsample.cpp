#include "eigrad/ops/upsample.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/graph.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;

namespace {

// One axis of the map: output position i reads input positions i0[i] and i1[i] with weights
// l0[i] and l1[i] (nearest: l1 = 0).
template <class T>
struct AxisWeights {
  std::vector<int64_t> i0, i1;
  std::vector<T> l0, l1;
};

// PyTorch's compute_scales_value: 1 / scale_factor when one is given, else in / out.
template <class T>
T scale_value(const std::optional<double>& scale_factor, int64_t in, int64_t out) {
  return scale_factor ? static_cast<T>(1.0 / *scale_factor)
                      : static_cast<T>(in) / static_cast<T>(out);
}

// PyTorch's HelperInterpNearest: floor(i * s) in float32 arithmetic, clamped to the last row.
template <class T>
AxisWeights<T> nearest_axis(int64_t in, int64_t out, const std::optional<double>& scale_factor) {
  const T scale = scale_value<T>(scale_factor, in, out);
  AxisWeights<T> a{std::vector<int64_t>(out), std::vector<int64_t>(out), std::vector<T>(out, T(1)),
                   std::vector<T>(out, T(0))};
  for (int64_t i = 0; i < out; ++i) {
    const T real = scale * static_cast<T>(i);
    const auto src = static_cast<int64_t>(std::floor(static_cast<float>(real)));
    a.i0[i] = a.i1[i] = std::min(src, in - 1);
  }
  return a;
}

// PyTorch's area_pixel_compute_scale, area_pixel_compute_source_index and
// compute_source_index_and_lambda (CPU, linear).
template <class T>
AxisWeights<T> linear_axis(int64_t in, int64_t out, bool align_corners,
                           const std::optional<double>& scale_factor) {
  AxisWeights<T> a{std::vector<int64_t>(out), std::vector<int64_t>(out), std::vector<T>(out),
                   std::vector<T>(out)};
  const T scale = align_corners
                      ? (out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0))
                      : scale_value<T>(scale_factor, in, out);
  for (int64_t i = 0; i < out; ++i) {
    if (out == in) {  // copied, whatever the scale factor
      a.i0[i] = a.i1[i] = i;
      a.l0[i] = T(1);
      a.l1[i] = T(0);
      continue;
    }
    T real;
    if (align_corners) {
      real = scale * static_cast<T>(i);
    } else {
      real = static_cast<T>(scale * (static_cast<double>(i) + 0.5) - 0.5);
      if (real < 0) real = T(0);
    }
    a.i0[i] = std::min(static_cast<int64_t>(real), in - 1);
    a.i1[i] = a.i0[i] + (a.i0[i] < in - 1 ? 1 : 0);
    a.l1[i] = std::min(std::max(real - static_cast<T>(a.i0[i]), T(0)), T(1));
    a.l0[i] = T(1) - a.l1[i];
  }
  return a;
}

// The map of every [H, W] plane of [N, C, H, W] to its [H_out, W_out] plane, separable:
// y[i, j] = sum over a, b of rows.l_a[i] cols.l_b[j] x[rows.i_a[i], cols.i_b[j]].
template <class T>
struct Plan {
  bool linear;  // bilinear, else nearest
  Shape in, out;
  AxisWeights<T> rows, cols;
  int64_t planes() const { return in[0] * in[1]; }
  const char* name() const { return linear ? "upsample_bilinear2d" : "upsample_nearest2d"; }
  const char* adjoint_name() const {
    return linear ? "upsample_bilinear2d_backward" : "upsample_nearest2d_backward";
  }
};

template <class T>
using PlanPtr = std::shared_ptr<const Plan<T>>;

template <class T>
void map_forward(const Plan<T>& p, const T* x, T* y) {
  const int64_t h = p.in[2], w = p.in[3], ho = p.out[2], wo = p.out[3];
  const AxisWeights<T>&r = p.rows, &c = p.cols;
  parallel_for(
      p.planes(),
      [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n) {
          const T* xp = x + n * h * w;
          T* yp = y + n * ho * wo;
          for (int64_t i = 0; i < ho; ++i) {
            const T* x0 = xp + r.i0[i] * w;
            const T* x1 = xp + r.i1[i] * w;
            T* yr = yp + i * wo;
            if (!p.linear) {
              for (int64_t j = 0; j < wo; ++j) yr[j] = x0[c.i0[j]];
              continue;
            }
            for (int64_t j = 0; j < wo; ++j)
              yr[j] = r.l0[i] * (c.l0[j] * x0[c.i0[j]] + c.l1[j] * x0[c.i1[j]]) +
                      r.l1[i] * (c.l0[j] * x1[c.i0[j]] + c.l1[j] * x1[c.i1[j]]);
          }
        }
      },
      4 * p.out.numel());
}

// The adjoint: each output's gradient added back to the input positions it was read from.
template <class T>
void map_adjoint(const Plan<T>& p, const T* g, T* gx) {
  const int64_t h = p.in[2], w = p.in[3], ho = p.out[2], wo = p.out[3];
  const AxisWeights<T>&r = p.rows, &c = p.cols;
  parallel_for(
      p.planes(),
      [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n) {
          T* xp = gx + n * h * w;
          const T* gp = g + n * ho * wo;
          std::fill(xp, xp + h * w, T(0));
          for (int64_t i = 0; i < ho; ++i) {
            T* x0 = xp + r.i0[i] * w;
            T* x1 = xp + r.i1[i] * w;
            const T* gr = gp + i * wo;
            if (!p.linear) {
              for (int64_t j = 0; j < wo; ++j) x0[c.i0[j]] += gr[j];
              continue;
            }
            for (int64_t j = 0; j < wo; ++j) {
              const T a = r.l0[i] * gr[j], b = r.l1[i] * gr[j];
              x0[c.i0[j]] += c.l0[j] * a;
              x0[c.i1[j]] += c.l1[j] * a;
              x1[c.i0[j]] += c.l0[j] * b;
              x1[c.i1[j]] += c.l1[j] * b;
            }
          }
        }
      },
      4 * p.out.numel());
}

template <class T>
BasicTensor<T> apply_adjoint(const PlanPtr<T>& p, const BasicTensor<T>& g);

// The map and its adjoint are each other's gradients, and neither saves a value.
template <class T>
BasicTensor<T> apply_map(const PlanPtr<T>& p, const BasicTensor<T>& x) {
  auto out = BasicTensor<T>::empty(p->out);
  map_forward(*p, x.data(), out.mutable_data());
  if (needs_grad(x))
    record(
        p->name(), out, {&x}, Saves(),
        [p](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx(p->in.numel());
          map_adjoint(*p, g.data(), gx.data());
          s.add(0, std::move(gx));
        },
        [p](GraphContext<T>&, const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{apply_adjoint(p, g)};
        });
  return out;
}

template <class T>
BasicTensor<T> apply_adjoint(const PlanPtr<T>& p, const BasicTensor<T>& g) {
  auto out = BasicTensor<T>::empty(p->in);
  map_adjoint(*p, g.data(), out.mutable_data());
  if (needs_grad(g))
    record(
        p->adjoint_name(), out, {&g}, Saves(),
        [p](const Array<T>& h, GradSink<T>& s) {
          Array<T> gg(p->out.numel());
          map_forward(*p, h.data(), gg.data());
          s.add(0, std::move(gg));
        },
        [p](GraphContext<T>&, const BasicTensor<T>& h) {
          return std::vector<BasicTensor<T>>{apply_map(p, h)};
        });
  return out;
}

std::string str(const std::array<double, 2>& v) {
  return "(" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ")";
}

}  // namespace

template <class T>
BasicTensor<T> interpolate(const BasicTensor<T>& input, const InterpolateOptions& options) {
  const std::string& mode = options.mode();
  const Shape& in = input.shape();
  if (mode != "nearest" && mode != "bilinear")
    throw Error("interpolate: mode '" + mode +
                "' is not supported; expected 'nearest' or 'bilinear'");
  if (in.rank() != 4)
    throw Error("interpolate: expected a 4-D input [N, C, H, W] for mode '" + mode + "', got " +
                in.str());
  const bool linear = mode == "bilinear";
  if (!linear && options.align_corners())
    throw Error(
        "interpolate: align_corners can only be set with the interpolating mode 'bilinear', got "
        "mode '" +
        mode + "'");
  const bool has_size = options.size().given(), has_scale = options.scale_factor().has_value();
  if (has_size && has_scale)
    throw Error("interpolate: only one of size or scale_factor should be defined, got size " +
                options.size().str() + " and scale_factor " + str(*options.scale_factor()));
  if (!has_size && !has_scale)
    throw Error("interpolate: either size or scale_factor should be defined");
  if (in[1] < 1 || in[2] < 1 || in[3] < 1)
    throw Error("interpolate: expected an input [N, C, H, W] with C, H and W at least 1, got " +
                in.str());
  std::array<int64_t, 2> out{};
  std::array<std::optional<double>, 2> scales{};
  for (size_t i = 0; i < 2; ++i) {
    if (has_size) {
      out[i] = options.size()[i];
    } else {
      const double s = (*options.scale_factor())[i];
      const double o = std::floor(static_cast<double>(in[static_cast<int>(i) + 2]) * s);
      if (!(s > 0) || !std::isfinite(s) || !(o < 1e15))
        throw Error("interpolate: expected positive, finite scale factors giving at most 1e15 " +
                    std::string("rows or columns, got scale_factor ") +
                    str(*options.scale_factor()) + " for input " + in.str());
      out[i] = static_cast<int64_t>(o);
      scales[i] = s;
    }
  }
  int64_t numel = in[0] * in[1];
  const bool overflow = __builtin_mul_overflow(numel, out[0], &numel) ||
                        __builtin_mul_overflow(numel, out[1], &numel);
  if (out[0] < 1 || out[1] < 1 || overflow)
    throw Error(
        "interpolate: input and output sizes should be greater than 0 (and the output "
        "below 2^63 elements), got input " +
        in.str() + " and output size (" + std::to_string(out[0]) + ", " + std::to_string(out[1]) +
        ")");
  const bool align = options.align_corners().value_or(false);
  auto plan = std::make_shared<Plan<T>>();
  plan->linear = linear;
  plan->in = in;
  plan->out = Shape{in[0], in[1], out[0], out[1]};
  plan->rows = linear ? linear_axis<T>(in[2], out[0], align, scales[0])
                      : nearest_axis<T>(in[2], out[0], scales[0]);
  plan->cols = linear ? linear_axis<T>(in[3], out[1], align, scales[1])
                      : nearest_axis<T>(in[3], out[1], scales[1]);
  return apply_map<T>(plan, input);
}

template BasicTensor<float> interpolate(const BasicTensor<float>&, const InterpolateOptions&);
template BasicTensor<double> interpolate(const BasicTensor<double>&, const InterpolateOptions&);

}  // namespace eigrad
