#pragma once
// The op that matmul's and linear's graph backwards are written in (src/ops/linalg.cpp).
#include "eigrad/tensor.hpp"

namespace eigrad::detail {

// op(a) op(b), where op transposes the last two axes when asked: [r, c] by [r', c'], or a batch
// [B, r, c] by [B, r', c']. A product's gradients are products of this family (g op(b)^T is
// matmul_transposed(g, b, false, !transpose_b), ...), so its own graph backward is written in it
// and every order is differentiable without materialising a transpose.
template <class T>
BasicTensor<T> matmul_transposed(const BasicTensor<T>& a, const BasicTensor<T>& b, bool transpose_a,
                                 bool transpose_b);

}  // namespace eigrad::detail
