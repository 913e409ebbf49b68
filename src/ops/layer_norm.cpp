#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/normalization.hpp"
#include "eigrad/ops/reduce.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;

namespace {

template <class T>
using Grads = std::vector<BasicTensor<T>>;

template <class T>
using Row = Eigen::Map<const Array<T>>;

// "[*, 3, 4]" for normalized_shape [3, 4]: the input shapes it accepts.
std::string accepted_shapes(const Shape& normalized) {
  return "[*, " + normalized.str().substr(1);
}

}  // namespace

// The input is seen as a row-major [M, N] matrix, N = prod(normalized_shape): every row is
// contiguous and normalised on its own, so the kernels are vectorised row operations, split over
// rows across threads for large inputs.
template <class T>
BasicTensor<T> layer_norm(const BasicTensor<T>& input, const std::vector<int64_t>& normalized_shape,
                          const BasicTensor<T>& weight, const BasicTensor<T>& bias, double eps) {
  const Shape& xs = input.shape();
  if (normalized_shape.empty())
    throw Error("layer_norm: expected a non-empty normalized_shape, got [] for an input of shape " +
                xs.str());
  for (int64_t d : normalized_shape)
    if (d < 0)
      throw Error("layer_norm: expected non-negative sizes in normalized_shape, got " +
                  std::to_string(d) + " for an input of shape " + xs.str());
  if (normalized_shape.size() > static_cast<size_t>(xs.rank()))
    throw Error("layer_norm: expected an input of shape " +
                accepted_shapes(Shape(normalized_shape)) + " for normalized_shape " +
                Shape(normalized_shape).str() + ", got " + xs.str());
  const Shape ns(normalized_shape);
  const int lead = xs.rank() - ns.rank();
  int64_t m = 1, n = 1;
  for (int i = 0; i < xs.rank(); ++i) {
    if (i < lead) {
      m *= xs[i];
    } else {
      if (xs[i] != ns[i - lead])
        throw Error("layer_norm: expected an input of shape " + accepted_shapes(ns) +
                    " for normalized_shape " + ns.str() + ", got " + xs.str());
      n *= xs[i];
    }
  }
  const auto check_affine = [&](const BasicTensor<T>& t, const char* name) {
    if (t.defined() && t.shape() != ns)
      throw Error(std::string("layer_norm: expected ") + name + " of shape " + ns.str() +
                  " (normalized_shape) for an input of shape " + xs.str() + ", got " +
                  t.shape().str());
  };
  check_affine(weight, "weight");
  check_affine(bias, "bias");
  if (!(eps > 0)) {
    std::ostringstream os;
    os << "layer_norm: eps must be positive, got " << eps;
    throw Error(os.str());
  }

  auto out = BasicTensor<T>::empty(xs);
  const bool has_weight = weight.defined(), has_bias = bias.defined();
  // Per row: the mean and 1 / sqrt(var + eps), kept for the fused backward.
  Array<T> mean = Array<T>::Zero(m), invstd = Array<T>::Ones(m);
  if (m * n > 0) {
    const T *x = input.data(), *w = has_weight ? weight.data() : nullptr,
            *b = has_bias ? bias.data() : nullptr;
    T* y = out.mutable_data();
    const T inv_n = T(1) / static_cast<T>(n), e = static_cast<T>(eps);
    parallel_for(
        m,
        [&](int64_t begin, int64_t end) {
          for (int64_t r = begin; r < end; ++r) {
            const Row<T> xr(x + r * n, n);
            const T mu = xr.sum() * inv_n;
            const T is = T(1) / std::sqrt((xr - mu).square().sum() * inv_n + e);
            mean[r] = mu;
            invstd[r] = is;
            Eigen::Map<Array<T>> yr(y + r * n, n);
            yr = (xr - mu) * is;
            if (w) yr *= Row<T>(w, n);
            if (b) yr += Row<T>(b, n);
          }
        },
        m * n);
  }

  std::vector<const BasicTensor<T>*> inputs{&input};
  if (has_weight) inputs.push_back(&weight);
  if (has_bias) inputs.push_back(&bias);
  bool wanted = false;
  for (const BasicTensor<T>* t : inputs) wanted = wanted || t->requires_grad();
  if (!wanted || !is_grad_enabled()) return out;

  // The graph backward, in eigrad ops: the same formulas with the statistics recomputed from x.
  auto graph = [xs, ns, m, n, has_weight, has_bias, count = inputs.size(),
                eps = static_cast<T>(eps)](GraphContext<T>& ctx, const BasicTensor<T>& g) {
    const size_t weight_input = 1, bias_input = has_weight ? 2 : 1;
    Grads<T> r(count);
    const bool want_x = ctx.needs(0), want_w = has_weight && ctx.needs(weight_input),
               want_b = has_bias && ctx.needs(bias_input);
    const BasicTensor<T> g2 = reshape(g, {m, n});
    if (m * n == 0) {  // nothing normalised: zero gradients that stay in the graph
      if (want_x) r[0] = g;
      if (want_w) r[weight_input] = reshape(sum(g2, 0), ns.vec());
      if (want_b) r[bias_input] = reshape(sum(g2, 0), ns.vec());
      return r;
    }
    const T inv_n = T(1) / static_cast<T>(n);
    if (want_x || want_w) {
      const BasicTensor<T> x2 = reshape(ctx.input(0), {m, n});
      const BasicTensor<T> centred = x2 - sum(x2, 1, true) * inv_n;
      const BasicTensor<T> invstd = pow(sum(centred * centred, 1, true) * inv_n + eps, T(-0.5));
      const BasicTensor<T> xhat = centred * invstd;
      if (want_x) {
        const BasicTensor<T> gw = has_weight ? g2 * reshape(ctx.input(1), {n}) : g2;
        const BasicTensor<T> dx =
            invstd * (gw - sum(gw, 1, true) * inv_n - xhat * (sum(gw * xhat, 1, true) * inv_n));
        r[0] = reshape(dx, xs.vec());
      }
      if (want_w) r[weight_input] = reshape(sum(g2 * xhat, 0), ns.vec());
    }
    if (want_b) r[bias_input] = reshape(sum(g2, 0), ns.vec());
    return r;
  };

  record_inputs(
      "layer_norm", out, inputs, has_weight ? Saves().input(0).input(1) : Saves().input(0),
      [m, n, has_weight, has_bias, xd = input.storage(),
       wd = has_weight ? weight.storage() : typename BasicTensor<T>::Storage(),
       mean = std::move(mean), invstd = std::move(invstd)](const Array<T>& g, GradSink<T>& s) {
        const size_t weight_input = 1, bias_input = has_weight ? 2 : 1;
        const bool want_w = has_weight && s.needs(weight_input),
                   want_b = has_bias && s.needs(bias_input);
        if (m * n == 0) {  // an empty input: zero gradients (and no empty maps)
          if (s.needs(0)) s.add(0, Array<T>(0));
          if (want_w) s.add(weight_input, Array<T>::Zero(n));
          if (want_b) s.add(bias_input, Array<T>::Zero(n));
          return;
        }
        const T *x = xd->data(), *gy = g.data();
        if (s.needs(0)) {
          // dx = invstd (g w - mean(g w) - xhat mean(g w xhat)), per row.
          const T* w = has_weight ? wd->data() : nullptr;
          Array<T> gx(m * n);
          T* dx = gx.data();
          parallel_for(
              m,
              [&](int64_t begin, int64_t end) {
                Array<T> gw(n), xhat(n);
                for (int64_t r = begin; r < end; ++r) {
                  xhat = (Row<T>(x + r * n, n) - mean[r]) * invstd[r];
                  gw = Row<T>(gy + r * n, n);
                  if (w) gw *= Row<T>(w, n);
                  const T a = gw.mean(), c = (gw * xhat).mean();
                  Eigen::Map<Array<T>>(dx + r * n, n) = invstd[r] * (gw - a - xhat * c);
                }
              },
              m * n);
          s.add(0, std::move(gx));
        }
        const Eigen::Map<const RowMajorArray<T>> G(gy, m, n);
        if (want_w) {
          const Eigen::Map<const RowMajorArray<T>> X(x, m, n);
          const RowMajorArray<T> xhat = (X.colwise() - mean).colwise() * invstd;
          s.add(weight_input, Array<T>((G * xhat).colwise().sum().transpose()));
        }
        if (want_b) s.add(bias_input, Array<T>(G.colwise().sum().transpose()));
      },
      std::move(graph));
  return out;
}

#define EIGRAD_INSTANTIATE_LAYER_NORM(T)                                                 \
  template BasicTensor<T> layer_norm(const BasicTensor<T>&, const std::vector<int64_t>&, \
                                     const BasicTensor<T>&, const BasicTensor<T>&, double);

EIGRAD_INSTANTIATE_LAYER_NORM(float)
EIGRAD_INSTANTIATE_LAYER_NORM(double)

}  // namespace eigrad
