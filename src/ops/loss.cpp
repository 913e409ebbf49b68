#include "eigrad/nn/loss.hpp"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/activations.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "layout.hpp"
#include "storage.hpp"

namespace eigrad::nn {

using namespace eigrad::detail;

namespace {

// The loss tensor from per-element (or per-sample) losses of shape `shape`.
template <class T>
BasicTensor<T> reduce(Array<T>&& values, const Shape& shape, Reduction reduction) {
  if (reduction == Reduction::None)
    return BasicTensor<T>::from_storage(std::make_shared<Array<T>>(std::move(values)), shape);
  const T total = values.sum();
  return BasicTensor<T>::scalar(reduction == Reduction::Mean ? total / static_cast<T>(values.size())
                                                             : total);
}

// d(reduced loss)/d(each element's loss), when it is the same for all: g[0], or g[0] / n.
template <class T>
T common_scale(const Array<T>& g, Reduction reduction, int64_t n) {
  return reduction == Reduction::Mean ? g[0] / static_cast<T>(n) : g[0];
}

// Checks [N, C] against N labels in [0, C).
template <class T>
void check_labels(const char* op, const char* what, const BasicTensor<T>& x,
                  const std::vector<int64_t>& labels) {
  const Shape& s = x.shape();
  if (s.rank() != 2 || s[0] != static_cast<int64_t>(labels.size()))
    throw Error(std::string(op) + ": expected " + what + " of shape [N, C] and N labels, got " +
                what + " of shape " + s.str() + " and " + std::to_string(labels.size()) +
                " labels");
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= s[1])
      throw Error(std::string(op) + ": label " + std::to_string(labels[i]) + " of sample " +
                  std::to_string(i) + " is out of range for " + std::to_string(s[1]) +
                  " classes (" + what + " of shape " + s.str() + "); labels must be in [0, " +
                  std::to_string(s[1]) + ")");
}

// The graph backwards' side of the same: g / n (Mean) or g (Sum), or g (None) shaped as
// `per_element` to broadcast against the elements' gradients, times `factor`.
template <class T>
BasicTensor<T> chain(const BasicTensor<T>& g, Reduction reduction, int64_t n, T factor,
                     const Shape& per_element) {
  if (reduction == Reduction::None) {
    const BasicTensor<T> shaped = g.shape() == per_element ? g : reshape(g, per_element.vec());
    return factor == T(1) ? shaped : shaped * factor;
  }
  const T k = reduction == Reduction::Mean ? factor / static_cast<T>(n) : factor;
  return k == T(1) ? g : g * k;
}

// [N, C] with a 1 at each sample's label: a constant of the graph backwards (labels get no
// gradient).
template <class T>
BasicTensor<T> one_hot(const std::vector<int64_t>& labels, int64_t c) {
  const int64_t n = static_cast<int64_t>(labels.size());
  auto out = BasicTensor<T>::zeros(Shape{n, c});
  T* p = out.mutable_data();
  for (int64_t i = 0; i < n; ++i) p[i * c + labels[static_cast<size_t>(i)]] = T(1);
  return out;
}

template <class T>
using Grads = std::vector<BasicTensor<T>>;

template <class T>
void check_same_shape(const char* op, const BasicTensor<T>& input, const BasicTensor<T>& target) {
  if (input.shape() != target.shape())
    throw Error(std::string(op) + ": the input has shape " + input.shape().str() +
                " but the target has shape " + target.shape().str() + "; they must match");
}
}  // namespace

template <class T>
BasicTensor<T> cross_entropy(const BasicTensor<T>& logits, const std::vector<int64_t>& labels,
                             Reduction reduction) {
  check_labels("cross_entropy", "logits", logits, labels);
  const int64_t n = logits.shape()[0], c = logits.shape()[1];
  const Eigen::Map<const RowMajorArray<T>> x(logits.data(), n, c);
  // log_softmax(x)_j = x_j - m - log(sum_k exp(x_k - m)), m the row maximum: exp never overflows.
  auto probs = detail::allocate_storage<T>(n * c).data;
  Eigen::Map<RowMajorArray<T>> p(probs->data(), n, c);
  // (With no classes there are no valid labels, so no rows either: m is empty.)
  const Array<T> m = c > 0 ? Array<T>(x.rowwise().maxCoeff()) : Array<T>(n);
  // The exp and the log over flat arrays: a row-major block broadcast along its columns would
  // not vectorize, and with a few classes per row every element would call the scalar exp.
  p = x.colwise() - m;
  *probs = probs->exp();
  const Array<T> z = p.rowwise().sum();
  p.colwise() /= z;
  Array<T> loss = m + z.log();
  for (int64_t i = 0; i < n; ++i) loss[i] -= x(i, labels[static_cast<size_t>(i)]);
  auto out = reduce(std::move(loss), Shape{n}, reduction);
  if (needs_grad(logits))
    record(
        "cross_entropy", out, {&logits}, Saves().input(0),
        [probs, labels, n, c, reduction](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx = *probs;
          Eigen::Map<RowMajorArray<T>> d(gx.data(), n, c);
          for (int64_t i = 0; i < n; ++i) d(i, labels[static_cast<size_t>(i)]) -= T(1);
          if (reduction == Reduction::None)
            d.colwise() *= g;
          else
            gx *= common_scale(g, reduction, n);
          s.add(0, std::move(gx));
        },
        [labels, n, c, reduction](GraphContext<T>& ctx, const BasicTensor<T>& g) {
          if (n == 0) return Grads<T>{BasicTensor<T>::zeros(Shape{n, c})};
          return Grads<T>{(eigrad::softmax(ctx.input(0), 1) - one_hot<T>(labels, c)) *
                          chain(g, reduction, n, T(1), Shape{n, 1})};
        });
  return out;
}

template <class T>
BasicTensor<T> nll_loss(const BasicTensor<T>& log_probs, const std::vector<int64_t>& labels,
                        Reduction reduction) {
  check_labels("nll_loss", "log_probs", log_probs, labels);
  const int64_t n = log_probs.shape()[0], c = log_probs.shape()[1];
  Array<T> loss(n);
  for (int64_t i = 0; i < n; ++i)
    loss[i] = -log_probs.data()[i * c + labels[static_cast<size_t>(i)]];
  auto out = reduce(std::move(loss), Shape{n}, reduction);
  if (needs_grad(log_probs))
    record(
        "nll_loss", out, {&log_probs}, Saves(),
        [labels, n, c, reduction](const Array<T>& g, GradSink<T>& s) {
          Array<T> gx = Array<T>::Zero(n * c);
          for (int64_t i = 0; i < n; ++i)
            gx[i * c + labels[static_cast<size_t>(i)]] =
                reduction == Reduction::None ? -g[i] : -common_scale(g, reduction, n);
          s.add(0, std::move(gx));
        },
        // Linear in g and constant in log_probs: -onehot times the chain.
        [labels, n, c, reduction](GraphContext<T>&, const BasicTensor<T>& g) {
          return Grads<T>{one_hot<T>(labels, c) * chain(g, reduction, n, T(-1), Shape{n, 1})};
        });
  return out;
}

template <class T>
BasicTensor<T> mse_loss(const BasicTensor<T>& input, const BasicTensor<T>& target,
                        Reduction reduction) {
  check_same_shape("mse_loss", input, target);
  auto diff = detail::allocate_storage<T>(input.numel()).data;
  *diff = input.array() - target.array();
  auto out = reduce(Array<T>(diff->square()), input.shape(), reduction);
  if (needs_grad(input, target))
    record(
        "mse_loss", out, {&input, &target}, Saves().input(0).input(1),
        [diff, reduction](const Array<T>& g, GradSink<T>& s) {
          // d/d input = 2 (input - target) g; d/d target is its negative.
          Array<T> gi = reduction == Reduction::None
                            ? Array<T>(T(2) * *diff * g)
                            : Array<T>(*diff * (T(2) * common_scale(g, reduction, diff->size())));
          if (s.needs(1)) s.add(1, -gi);
          s.add(0, std::move(gi));
        },
        [reduction, n = input.numel(), shape = input.shape()](GraphContext<T>& c,
                                                              const BasicTensor<T>& g) {
          const BasicTensor<T> gi = (c.input(0) - c.input(1)) * chain(g, reduction, n, T(2), shape);
          return Grads<T>{c.needs(0) ? gi : BasicTensor<T>(), c.needs(1) ? -gi : BasicTensor<T>()};
        });
  return out;
}

template <class T>
BasicTensor<T> binary_cross_entropy_with_logits(const BasicTensor<T>& logits,
                                                const BasicTensor<T>& target, Reduction reduction) {
  check_same_shape("binary_cross_entropy_with_logits", logits, target);
  const Array<T>& x = logits.array();
  const Array<T>& y = target.array();
  // -y log s(x) - (1 - y) log(1 - s(x)), written so that exp never overflows.
  auto out =
      reduce(Array<T>(x.max(T(0)) - x * y + (-x.abs()).exp().log1p()), logits.shape(), reduction);
  if (needs_grad(logits, target))
    record(
        "binary_cross_entropy_with_logits", out, {&logits, &target}, Saves().input(0).input(1),
        [xd = logits.storage(), yd = target.storage(), reduction](const Array<T>& g,
                                                                  GradSink<T>& s) {
          const Array<T>& x = *xd;
          // sigmoid(x) = 1 / (1 + exp(-x)): exp(1000) = inf gives 0, never NaN.
          if (reduction == Reduction::None) {
            if (s.needs(0)) s.add(0, (T(1) / (T(1) + (-x).exp()) - *yd) * g);
            if (s.needs(1)) s.add(1, -x * g);
          } else {
            const T k = common_scale(g, reduction, x.size());
            if (s.needs(0)) s.add(0, (T(1) / (T(1) + (-x).exp()) - *yd) * k);
            if (s.needs(1)) s.add(1, -x * k);
          }
        },
        [reduction, n = logits.numel(), shape = logits.shape()](GraphContext<T>& c,
                                                                const BasicTensor<T>& g) {
          const BasicTensor<T> k = chain(g, reduction, n, T(1), shape);
          Grads<T> grads(2);
          if (c.needs(0)) grads[0] = (eigrad::sigmoid(c.input(0)) - c.input(1)) * k;
          if (c.needs(1)) grads[1] = -(c.input(0) * k);
          return grads;
        });
  return out;
}

#define EIGRAD_INSTANTIATE_LOSSES(T)                                                               \
  template BasicTensor<T> cross_entropy(const BasicTensor<T>&, const std::vector<int64_t>&,        \
                                        Reduction);                                                \
  template BasicTensor<T> nll_loss(const BasicTensor<T>&, const std::vector<int64_t>&, Reduction); \
  template BasicTensor<T> mse_loss(const BasicTensor<T>&, const BasicTensor<T>&, Reduction);       \
  template BasicTensor<T> binary_cross_entropy_with_logits(const BasicTensor<T>&,                  \
                                                           const BasicTensor<T>&, Reduction);

EIGRAD_INSTANTIATE_LOSSES(float)
EIGRAD_INSTANTIATE_LOSSES(double)

}  // namespace eigrad::nn
