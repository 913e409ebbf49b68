#pragma once
// Dataset: inputs and integer class labels, as the toy generators and the IDX loader return them.
#include <cstdint>
#include <vector>

#include "eigrad/tensor.hpp"

namespace eigrad::data {

struct Dataset {
  Tensor X;                ///< [n, ...] float32, one row per sample
  std::vector<int64_t> y;  ///< n labels in [0, num_classes)
  int64_t num_classes = 0;

  int64_t size() const { return static_cast<int64_t>(y.size()); }
};

}  // namespace eigrad::data
