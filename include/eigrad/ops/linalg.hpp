#pragma once
// Matrix products (src/ops/linalg.cpp).
#include <cstdint>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

/// [n, k] x [k, m]; [B, n, k] x [B, k, m]; [B, n, k] x [k, m].
template <class T>
BasicTensor<T> matmul(const BasicTensor<T>& a, const BasicTensor<T>& b);

}  // namespace eigrad
