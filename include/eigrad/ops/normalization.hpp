#pragma once
// Batch normalisation over axis 1 of [N, C], [N, C, L] or [N, C, H, W]
// (src/ops/normalization.cpp), as PyTorch 1.13's torch.nn.functional.batch_norm.
// Differentiable to any order with respect to the input, weight and bias (the running statistics
// are buffers, not differentiated). Layer normalisation over trailing axes
// (src/ops/layer_norm.cpp), as torch.nn.functional.layer_norm.
#include <cstdint>
#include <vector>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

/// In training: normalises with the batch's mean and biased variance per channel and, when the
/// running statistics are defined, updates them in place (running = (1 - momentum) running +
/// momentum batch, with the unbiased variance for running_var); one value per channel in training
/// is an error. In evaluation: normalises with running_mean and running_var (both required).
/// y = (x - mean) / sqrt(var + eps) * weight + bias; weight and bias [C] are optional.
template <class T>
BasicTensor<T> batch_norm(const BasicTensor<T>& input, const BasicTensor<T>& running_mean,
                          const BasicTensor<T>& running_var,
                          const BasicTensor<T>& weight = BasicTensor<T>(),
                          const BasicTensor<T>& bias = BasicTensor<T>(), bool training = false,
                          double momentum = 0.1, double eps = 1e-5);

/// Normalises over the trailing axes given by normalized_shape: each row of the input seen as
/// [M, N], N = prod(normalized_shape), becomes (x - mean) / sqrt(var + eps) with its own mean and
/// biased variance, then * weight + bias (both of shape normalized_shape, optional). The input's
/// trailing sizes must equal normalized_shape (non-empty); eps must be positive.
template <class T>
BasicTensor<T> layer_norm(const BasicTensor<T>& input, const std::vector<int64_t>& normalized_shape,
                          const BasicTensor<T>& weight = BasicTensor<T>(),
                          const BasicTensor<T>& bias = BasicTensor<T>(), double eps = 1e-5);

}  // namespace eigrad
