#pragma once
// Batch normalisation modules, after PyTorch's nn.BatchNorm1d and nn.BatchNorm2d (the op is
// eigrad/ops/normalization.hpp):
//   nn::BatchNorm2d bn(32);                                      // eps 1e-5, momentum 0.1
//   nn::BatchNorm1d bn(nn::BatchNormOptions(128).momentum(std::nullopt));
// Parameters (with affine): "weight" [C] = 1, "bias" [C] = 0. Buffers (with
// track_running_stats): "running_mean" [C] = 0, "running_var" [C] = 1 and "num_batches_tracked"
// [] = 0, saved as a 64-bit integer (SavedAs::Int64), as PyTorch stores it.
// In training, each forward normalises with the batch's statistics, updates the running ones and
// adds 1 to num_batches_tracked; in evaluation it normalises with the running statistics. Without
// track_running_stats it always uses the batch's statistics.
// Layer normalisation after PyTorch's nn.LayerNorm (module code in src/nn/layer_norm.cpp):
//   nn::LayerNorm ln(64);                       // over the last axis of size 64, eps 1e-5
//   nn::LayerNorm ln({8, 8}, 1e-6, false);      // over the last two axes, no weight or bias
// Parameters (with elementwise_affine): "weight" = 1 and "bias" = 0, of shape normalized_shape.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eigrad/nn/module.hpp"

namespace eigrad::nn {

class BatchNormOptions {
 public:
  BatchNormOptions(int64_t num_features) : num_features_(num_features) {}  // NOLINT: implicit
  BatchNormOptions& eps(double v) {
    eps_ = v;
    return *this;
  }
  /// std::nullopt: a cumulative average (momentum 1 / num_batches_tracked), as PyTorch's None.
  BatchNormOptions& momentum(std::optional<double> v) {
    momentum_ = v;
    return *this;
  }
  BatchNormOptions& affine(bool v) {
    affine_ = v;
    return *this;
  }
  BatchNormOptions& track_running_stats(bool v) {
    track_running_stats_ = v;
    return *this;
  }
  int64_t num_features() const { return num_features_; }
  double eps() const { return eps_; }
  std::optional<double> momentum() const { return momentum_; }
  bool affine() const { return affine_; }
  bool track_running_stats() const { return track_running_stats_; }

 private:
  int64_t num_features_;
  double eps_ = 1e-5;
  std::optional<double> momentum_ = 0.1;
  bool affine_ = true, track_running_stats_ = true;
};

/// D = 1: BatchNorm1d over [N, C] or [N, C, L]; D = 2: BatchNorm2d over [N, C, H, W].
template <class T, int D>
class BasicBatchNorm : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  explicit BasicBatchNorm(const BatchNormOptions& options);
  /// PyTorch's positional arguments.
  explicit BasicBatchNorm(int64_t num_features, double eps = 1e-5,
                          std::optional<double> momentum = 0.1, bool affine = true,
                          bool track_running_stats = true)
      : BasicBatchNorm(BatchNormOptions(num_features)
                           .eps(eps)
                           .momentum(momentum)
                           .affine(affine)
                           .track_running_stats(track_running_stats)) {}

  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return D == 1 ? "BatchNorm1d" : "BatchNorm2d"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  /// "32, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true"
  std::string extra_repr() const override;

  const BatchNormOptions& options() const { return options_; }
  /// Undefined when not affine / not tracking running statistics.
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }
  const Tensor& running_mean() const { return running_mean_; }
  const Tensor& running_var() const { return running_var_; }
  const Tensor& num_batches_tracked() const { return num_batches_tracked_; }

 private:
  BatchNormOptions options_;
  Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

template <class T>
using BasicBatchNorm1d = BasicBatchNorm<T, 1>;
template <class T>
using BasicBatchNorm2d = BasicBatchNorm<T, 2>;
using BatchNorm1d = BasicBatchNorm1d<float>;
using BatchNorm2d = BasicBatchNorm2d<float>;

/// y = layer_norm(x, normalized_shape, weight, bias, eps) (eigrad/ops/normalization.hpp).
template <class T>
class BasicLayerNorm : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  explicit BasicLayerNorm(std::vector<int64_t> normalized_shape, double eps = 1e-5,
                          bool elementwise_affine = true);
  /// Over the last axis, of size normalized_size.
  explicit BasicLayerNorm(int64_t normalized_size, double eps = 1e-5,
                          bool elementwise_affine = true)
      : BasicLayerNorm(std::vector<int64_t>{normalized_size}, eps, elementwise_affine) {}

  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "LayerNorm"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  /// "(64,), eps=1e-05, elementwise_affine=True", as PyTorch prints it.
  std::string extra_repr() const override;

  const std::vector<int64_t>& normalized_shape() const { return normalized_shape_; }
  double eps() const { return eps_; }
  bool elementwise_affine() const { return elementwise_affine_; }
  /// Undefined without elementwise_affine.
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }

 private:
  std::vector<int64_t> normalized_shape_;
  double eps_;
  bool elementwise_affine_;
  Tensor weight_, bias_;
};

using LayerNorm = BasicLayerNorm<float>;

extern template class BasicLayerNorm<float>;
extern template class BasicLayerNorm<double>;
extern template class BasicBatchNorm<float, 1>;
extern template class BasicBatchNorm<double, 1>;
extern template class BasicBatchNorm<float, 2>;
extern template class BasicBatchNorm<double, 2>;

}  // namespace eigrad::nn
