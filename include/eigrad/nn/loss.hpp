#pragma once
// Losses, each one fused node with its backward beside its forward (src/ops/loss.cpp).
// Reduction::Mean and Sum give a rank-0 tensor; None gives one loss per sample (cross_entropy,
// nll_loss: [N]) or per element (mse_loss, binary_cross_entropy_with_logits: the input's shape).
#include <cstdint>
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
