#pragma once
// The functional forms of the layers: fused ops, each with its backward beside its forward in
// src/ops/ (linear.cpp, dropout.cpp).
#include "eigrad/autograd.hpp"
#include "eigrad/random.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad::nn {

/// y = x W^T + b in one node. x: [..., in], W: [out, in], b: [out] or undefined (no bias);
/// y: [..., out]. Backward: dx = g W, dW = g^T x, db = column sums of g.
template <class T>
BasicTensor<T> linear(const BasicTensor<T>& x, const BasicTensor<T>& weight,
                      const BasicTensor<T>& bias = BasicTensor<T>());

/// Inverted dropout: in training, each element is zeroed with probability p and the others are
/// scaled by 1 / (1 - p); otherwise (or with p = 0) x itself is returned. 0 <= p <= 1. The mask
/// comes from a counter-based stream seeded by two draws from `gen` (whatever x's size), so
/// the same generator state gives the same mask.
template <class T>
BasicTensor<T> dropout(const BasicTensor<T>& x, double p, bool training, Generator& gen);

// Channel dropout (PyTorch's dropout2d): in training, each channel of x [N, C, H, W] (or of one
// sample [C, H, W]) is zeroed with probability p and the others are scaled by 1 / (1 - p), one
// draw of gen per channel; otherwise (or with p = 0) x itself is returned. 0 <= p <= 1.
template <class T>
BasicTensor<T> dropout2d(const BasicTensor<T>& x, double p, bool training, Generator& gen);

}  // namespace eigrad::nn
