#pragma once
// Training utilities after torch.nn.utils: gradient clipping and parameter counts; and
// nn::summary, a table of a model's layers, output shapes and parameter counts.
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>
#include <vector>

#include "eigrad/nn/module.hpp"
#include "eigrad/shape.hpp"

namespace eigrad::nn {

namespace utils {

/// PyTorch's clip_grad_norm_: the norm of order `norm_type` of all the gradients together (as if
/// concatenated into one vector; norm_type = infinity takes the largest magnitude), then every
/// gradient is scaled in place by max_norm / (total + 1e-6) when that is below 1. Parameters
/// without a gradient are skipped. Returns the total norm (0 when no parameter has a gradient).
/// With error_if_nonfinite a NaN or infinite total norm throws before anything is scaled.
template <class T>
double clip_grad_norm_(const std::vector<BasicTensor<T>>& parameters, double max_norm,
                       double norm_type = 2.0, bool error_if_nonfinite = false);

/// PyTorch's clip_grad_value_: clamps every gradient into [-clip_value, clip_value] in place,
/// skipping parameters without a gradient. clip_value must be >= 0.
template <class T>
void clip_grad_value_(const std::vector<BasicTensor<T>>& parameters, double clip_value);

/// The number of elements of all the tensors together.
template <class T>
int64_t numel(const std::vector<BasicTensor<T>>& tensors);

/// The number of learnable values of a module (sum of its parameters' numel, a parameter shared
/// by two layers counted once); with trainable_only, only those that require grad.
template <class T>
int64_t parameters_count(const BasicModule<T>& module, bool trainable_only = false);

}  // namespace utils

/// One row of a summary: a leaf module (or one that has parameters of its own) by qualified name.
struct SummaryRow {
  std::string name;          ///< "0", "encoder.fc"
  std::string type;          ///< "Linear", "Activation(relu)"
  std::string output_shape;  ///< "[2, 8]", or "-" when forward never called the module
  int64_t params = 0;        ///< its own parameters' elements
  int64_t trainable_params = 0;
};

struct Summary {
  Shape input_shape;
  std::vector<SummaryRow> rows;  ///< in registration order, depth first
  int64_t total_params = 0;      ///< each parameter once
  int64_t trainable_params = 0;
  int64_t non_trainable_params() const { return total_params - trainable_params; }
  /// The table: one line per row (name (type), output shape, parameter count, trainable), then
  /// the totals.
  std::string str() const;
};
std::ostream& operator<<(std::ostream& os, const Summary& summary);

/// Runs the module once on zeros of `input_shape` under NoGradGuard and in eval mode (so that
/// Dropout draws nothing and BatchNorm's statistics stay; every module's mode is restored after),
/// recording each listed module's output shape with a forward hook.
template <class T>
Summary summary(BasicModule<T>& module, const Shape& input_shape);

}  // namespace eigrad::nn
