#pragma once
// Losses, each one fused node with its backward beside its forward (src/ops/loss.cpp).
// Reduction::Mean and Sum give a rank-0 tensor; None gives one loss per sample (cross_entropy,
// nll_loss: [N]) or per element (mse_loss, binary_cross_entropy_with_logits: the input's shape).
#include <cstdint>
#include <type_traits>
#include <vector>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad::nn {

enum class Reduction { Mean, Sum, None };

/// Cross entropy of logits [N, C] against class indices (N labels in [0, C)), through a stable
/// log-softmax (the row maximum is subtracted before exp). Gradient: (softmax - onehot) * g,
/// divided by N for Mean.
template <class T>
BasicTensor<T> cross_entropy(const BasicTensor<T>& logits, const std::vector<int64_t>& labels,
                             Reduction reduction = Reduction::Mean);

/// Negative log likelihood of log-probabilities [N, C]: -log_probs[i, labels[i]].
template <class T>
BasicTensor<T> nll_loss(const BasicTensor<T>& log_probs, const std::vector<int64_t>& labels,
                        Reduction reduction = Reduction::Mean);

/// The same with the labels as a rank-1 int64 tensor. (A template on the labels' type, so that a
/// braced list such as {0, 2} still means the vector form.)
template <class T, class Labels, class = std::enable_if_t<std::is_same_v<Labels, LongTensor>>>
BasicTensor<T> cross_entropy(const BasicTensor<T>& logits, const Labels& labels,
                             Reduction reduction = Reduction::Mean) {
  return cross_entropy(logits, detail::index_vector("cross_entropy", "labels", labels), reduction);
}
template <class T, class Labels, class = std::enable_if_t<std::is_same_v<Labels, LongTensor>>>
BasicTensor<T> nll_loss(const BasicTensor<T>& log_probs, const Labels& labels,
                        Reduction reduction = Reduction::Mean) {
  return nll_loss(log_probs, detail::index_vector("nll_loss", "labels", labels), reduction);
}

/// (input - target)^2; both of the same shape; both differentiable. Mean divides by numel.
template <class T>
BasicTensor<T> mse_loss(const BasicTensor<T>& input, const BasicTensor<T>& target,
                        Reduction reduction = Reduction::Mean);

/// Binary cross entropy of logits x against targets y in [0, 1], both of the same shape, in the
/// stable form max(x, 0) - x y + log1p(exp(-|x|)). Gradients: sigmoid(x) - y for x, -x for y.
template <class T>
BasicTensor<T> binary_cross_entropy_with_logits(const BasicTensor<T>& logits,
                                                const BasicTensor<T>& target,
                                                Reduction reduction = Reduction::Mean);

}  // namespace eigrad::nn
