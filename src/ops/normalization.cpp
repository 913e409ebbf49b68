#include "eigrad/ops/normalization.hpp"

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/reduce.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;

namespace {

// The input [N, C, *] is seen as N * C planes: a row-major [N * C, S] matrix (S = the spatial
// size) whose rows are contiguous, so that every kernel is a vectorised row operation. A
// per-channel value v[C] is used per plane, repeated N times.
template <class T>
Array<T> per_plane(const Array<T>& channel_values, int64_t n) {
  const int64_t c = channel_values.size();
  Array<T> out(n * c);
  for (int64_t i = 0; i < n; ++i) out.segment(i * c, c) = channel_values;  // (replicate() is slow)
  return out;
}

// Per-channel sums of per-plane values [N, C].
template <class T>
Array<T> channel_sums(const Array<T>& plane_values, int64_t n, int64_t c) {
  return Eigen::Map<const RowMajorArray<T>>(plane_values.data(), n, c).colwise().sum().transpose();
}

// A tensor's data as a 1-d array of n values from d (const when d is).
template <class T, class P>
auto values(P* d, int64_t n) {
  using Target = std::conditional_t<std::is_const_v<P>, const Array<T>, Array<T>>;
  return Eigen::Map<Target>(d, n);
}

// Runs the kernel f(rows, of, total) over the [N * C, S] planes, split across threads when large.
// With S > 1 it is called once per plane q: rows(d) maps plane q of d (S contiguous values),
// of(a) is the per-plane value a[q], and total(e) sums e over the plane. With S = 1 it is called
// once per block of planes, where each plane is one value: rows(d) maps the block's values,
// of(a) the block's segment of a, and total(e) is e itself. Either way every expression is a
// vectorised operation on one contiguous run.
template <class T, class F>
void for_planes(int64_t planes, int64_t spatial, F&& f) {
  parallel_for(
      planes,
      [&](int64_t p, int64_t end) {
        if (spatial == 1) {
          const int64_t k = end - p;
          f([p, k](auto* d) { return values<T>(d + p, k); },
            [p, k](auto& a) { return a.segment(p, k); }, [](const auto& e) { return e; });
        } else {
          for (int64_t q = p; q < end; ++q)
            f([q, spatial](auto* d) { return values<T>(d + q * spatial, spatial); },
              [q](auto& a) -> decltype(auto) { return a[q]; },
              [](const auto& e) { return e.sum(); });
        }
      },
      planes * spatial);
}

template <class T>
using Grads = std::vector<BasicTensor<T>>;

// 1 / sqrt(v), recorded with its graph backward (d/dv = -y^3 / 2, from the output y) so that
// batch norm's graph backward can be differentiated again.
template <class T>
BasicTensor<T> rsqrt(const BasicTensor<T>& v) {
  auto out = BasicTensor<T>::empty(v.shape());
  out.mutable_array() = v.array().rsqrt();
  if (needs_grad(v))
    record(
        "rsqrt", out, {&v}, Saves().output(),
        [y = out.storage()](const Array<T>& g, GradSink<T>& s) {
          s.add(0, g * T(-0.5) * y->cube());
        },
        [](GraphContext<T>& c, const BasicTensor<T>& g) {
          const BasicTensor<T> y = c.output();
          return Grads<T>{g * (y * y * y) * T(-0.5)};
        });
  return out;
}

// Per-channel values [C] as a constant of shape [1, C, 1, ...], which broadcasts along axis 1.
template <class T>
BasicTensor<T> channel_constant(const Array<T>& values, const Shape& channel_shape) {
  auto t = BasicTensor<T>::empty(channel_shape);
  t.mutable_array() = values;
  return t;
}

}  // namespace

template <class T>
BasicTensor<T> batch_norm(const BasicTensor<T>& input, const BasicTensor<T>& running_mean,
                          const BasicTensor<T>& running_var, const BasicTensor<T>& weight,
                          const BasicTensor<T>& bias, bool training, double momentum, double eps) {
  const Shape& xs = input.shape();
  if (xs.rank() < 2 || xs.rank() > 4)
    throw Error("batch_norm: expected an input [N, C], [N, C, L] or [N, C, H, W], got " + xs.str());
  const int64_t n = xs[0], c = xs[1];
  int64_t spatial = 1;
  for (int i = 2; i < xs.rank(); ++i) spatial *= xs[i];
  const int64_t per_channel = n * spatial;  // values per channel
  const std::string expected = "[" + std::to_string(c) + "]";
  const auto check_channel_tensor = [&](const BasicTensor<T>& t, const char* name) {
    if (t.defined() && t.shape() != Shape{c})
      throw Error(std::string("batch_norm: expected ") + name + " of shape " + expected +
                  " for an input of shape " + xs.str() + " (C = " + std::to_string(c) + "), got " +
                  t.shape().str());
  };
  check_channel_tensor(running_mean, "running_mean");
  check_channel_tensor(running_var, "running_var");
  check_channel_tensor(weight, "weight");
  check_channel_tensor(bias, "bias");
  if (running_mean.defined() != running_var.defined())
    throw Error("batch_norm: running_mean and running_var must be both given or both undefined, " +
                std::string("got ") + (running_mean.defined() ? "running_mean" : "running_var") +
                " alone for an input of shape " + xs.str());
  if (!training && !running_mean.defined())
    throw Error("batch_norm: evaluation (training = false) needs running_mean and running_var " +
                std::string("of shape ") + expected + " for an input of shape " + xs.str() +
                "; pass training = true to normalise with the batch's statistics");
  if (training && per_channel == 1)
    throw Error(
        "batch_norm: expected more than 1 value per channel when training, got input of shape " +
        xs.str());
  if (!(eps > 0)) throw Error("batch_norm: eps must be positive, got " + std::to_string(eps));
  if (training && !(momentum >= 0 && momentum <= 1))
    throw Error("batch_norm: momentum must be in [0, 1], got " + std::to_string(momentum));

  auto out = BasicTensor<T>::empty(xs);
  const bool empty = xs.numel() == 0;  // nothing to normalise, no statistics to update
  const int64_t planes = n * c;
  const T* x = input.data();

  // Per channel: mean and 1 / sqrt(var + eps), from the batch or the running statistics.
  Array<T> mean = Array<T>::Zero(c), invstd = Array<T>::Ones(c);
  if (empty) {
    // (an empty input still records its node below, so that it stays in the graph)
  } else if (training) {
    Array<T> sums(planes), squares(planes);
    for_planes<T>(planes, spatial,
                  [&](auto rows, auto of, auto total) { of(sums) = total(rows(x)); });
    mean = channel_sums(sums, n, c) / static_cast<T>(per_channel);
    const Array<T> mean_p = per_plane(mean, n);
    for_planes<T>(planes, spatial, [&](auto rows, auto of, auto total) {
      of(squares) = total((rows(x) - of(mean_p)).square());
    });
    const Array<T> sq = channel_sums(squares, n, c);
    invstd = (sq / static_cast<T>(per_channel) + static_cast<T>(eps)).rsqrt();
    if (running_mean.defined()) {
      // The running variance takes the unbiased estimate (PyTorch 1.13).
      const T m = static_cast<T>(momentum);
      BasicTensor<T> rm = running_mean, rv = running_var;
      rm.mutable_array() = (1 - m) * rm.array() + m * mean;
      rv.mutable_array() = (1 - m) * rv.array() + m * sq / static_cast<T>(per_channel - 1);
    }
  } else {
    mean = running_mean.array();
    invstd = (running_var.array() + static_cast<T>(eps)).rsqrt();
  }

  // y = x * scale + shift with scale = weight * invstd and shift = bias - mean * scale.
  const Array<T> scale = weight.defined() ? Array<T>(weight.array() * invstd) : invstd;
  const Array<T> shift =
      (bias.defined() ? Array<T>(bias.array()) : Array<T>::Zero(c)) - mean * scale;
  const Array<T> scale_p = per_plane(scale, n), shift_p = per_plane(shift, n);
  T* y = out.mutable_data();
  if (!empty)
    for_planes<T>(planes, spatial,
                  [&](auto rows, auto of, auto) { rows(y) = rows(x) * of(scale_p) + of(shift_p); });

  const bool has_weight = weight.defined(), has_bias = bias.defined();
  std::vector<const BasicTensor<T>*> inputs{&input};
  if (has_weight) inputs.push_back(&weight);
  if (has_bias) inputs.push_back(&bias);
  bool wanted = false;
  for (const BasicTensor<T>* t : inputs) wanted = wanted || t->requires_grad();
  if (!wanted || !is_grad_enabled()) return out;

  // The graph backward, in eigrad ops: the same formulas, with the batch statistics recomputed
  // from x in ops when training (they depend on x), constants from the running ones otherwise.
  Shape channel_shape(std::vector<int64_t>(static_cast<size_t>(xs.rank()), 1));
  channel_shape[1] = c;
  auto graph = [channel_shape, c, per_channel, training, has_weight, has_bias,
                count = inputs.size(), eps = static_cast<T>(eps),
                running_mean = training ? Array<T>() : mean,
                running_invstd = training ? Array<T>() : invstd](GraphContext<T>& ctx,
                                                                 const BasicTensor<T>& g) {
    const size_t weight_input = 1, bias_input = has_weight ? 2 : 1;
    Grads<T> r(count);
    const bool want_x = ctx.needs(0), want_w = has_weight && ctx.needs(weight_input),
               want_b = has_bias && ctx.needs(bias_input);
    if (g.numel() == 0) {  // an empty batch: zero gradients that stay in the graph
      if (want_x) r[0] = g;
      if (want_w) r[weight_input] = reshape(sum_to_size(g, channel_shape), {c});
      if (want_b) r[bias_input] = reshape(sum_to_size(g, channel_shape), {c});
      return r;
    }
    const T inv_m = T(1) / static_cast<T>(per_channel);
    const BasicTensor<T> x = ctx.input(0);
    BasicTensor<T> xhat, invstd;
    if (training) {
      const BasicTensor<T> centred = x - sum_to_size(x, channel_shape) * inv_m;
      invstd = rsqrt(sum_to_size(centred * centred, channel_shape) * inv_m + eps);
      xhat = centred * invstd;
    } else {
      invstd = channel_constant(running_invstd, channel_shape);
      xhat = (x - channel_constant(running_mean, channel_shape)) * invstd;
    }
    const BasicTensor<T> sum_g = sum_to_size(g, channel_shape);
    const BasicTensor<T> sum_g_xhat =
        want_x || want_w ? sum_to_size(g * xhat, channel_shape) : BasicTensor<T>();
    if (want_x) {
      const BasicTensor<T> a =
          has_weight ? reshape(ctx.input(1), channel_shape.vec()) * invstd : invstd;
      r[0] = training ? a * (g - sum_g * inv_m - xhat * (sum_g_xhat * inv_m)) : g * a;
    }
    if (want_w) r[weight_input] = reshape(sum_g_xhat, {c});
    if (want_b) r[bias_input] = reshape(sum_g, {c});
    return r;
  };

  record_inputs(
      "batch_norm", out, inputs, has_weight ? Saves().input(0).input(1) : Saves().input(0),
      [n, c, spatial, per_channel, training, has_weight, has_bias, xd = input.storage(),
       wd = has_weight ? weight.storage() : typename BasicTensor<T>::Storage(),
       mean = std::move(mean), invstd = std::move(invstd)](const Array<T>& g, GradSink<T>& s) {
        const int64_t planes = n * c;
        const size_t weight_input = 1, bias_input = has_weight ? 2 : 1;  // (the inputs given)
        if (planes * spatial == 0) {  // an empty batch: zero gradients (and no empty maps)
          if (s.needs(0)) s.add(0, Array<T>(0));
          if (has_weight && s.needs(weight_input)) s.add(weight_input, Array<T>::Zero(c));
          if (has_bias && s.needs(bias_input)) s.add(bias_input, Array<T>::Zero(c));
          return;
        }
        const T *x = xd->data(), *gy = g.data();
        const Array<T> mean_p = per_plane(mean, n);
        // Per channel: sum(g) and sum(g xhat), with xhat = (x - mean) invstd.
        Array<T> g_p(planes), gx_p(planes);
        for_planes<T>(planes, spatial, [&](auto rows, auto of, auto total) {
          of(g_p) = total(rows(gy));
          of(gx_p) = total((rows(x) - of(mean_p)) * rows(gy));
        });
        const Array<T> sum_g = channel_sums(g_p, n, c);
        const Array<T> sum_g_xhat = channel_sums(gx_p, n, c) * invstd;
        if (s.needs(0)) {
          const Array<T> w = has_weight ? Array<T>(*wd) : Array<T>::Ones(c);
          // Training (the standard closed form):
          //   dx = w invstd (g - sum(g) / M - xhat sum(g xhat) / M), M = per_channel;
          // evaluation: dx = g w invstd. Both as dx = g a + x b + d per channel.
          const Array<T> a = w * invstd;
          Array<T> b = Array<T>::Zero(c), d = Array<T>::Zero(c);
          if (training) {
            const T m = static_cast<T>(per_channel);
            b = -a * invstd * sum_g_xhat / m;
            d = -a * sum_g / m - b * mean;
          }
          const Array<T> a_p = per_plane(a, n), b_p = per_plane(b, n), d_p = per_plane(d, n);
          Array<T> gx(planes * spatial);
          T* dx = gx.data();
          for_planes<T>(planes, spatial, [&](auto rows, auto of, auto) {
            rows(dx) = rows(gy) * of(a_p) + rows(x) * of(b_p) + of(d_p);
          });
          s.add(0, std::move(gx));
        }
        if (has_weight && s.needs(weight_input)) s.add(weight_input, sum_g_xhat);
        if (has_bias && s.needs(bias_input)) s.add(bias_input, sum_g);
      },
      std::move(graph));
  return out;
}

#define EIGRAD_INSTANTIATE_NORMALIZATION(T)                                        \
  template BasicTensor<T> batch_norm(const BasicTensor<T>&, const BasicTensor<T>&, \
                                     const BasicTensor<T>&, const BasicTensor<T>&, \
                                     const BasicTensor<T>&, bool, double, double);

EIGRAD_INSTANTIATE_NORMALIZATION(float)
EIGRAD_INSTANTIATE_NORMALIZATION(double)

}  // namespace eigrad
