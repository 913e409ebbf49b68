#pragma once
// Layers: Linear, Flatten, Dropout, Dropout2d, Upsample. Each is a BasicModule<T>; the short names
// are float32.
#include <cstdint>
#include <string>

#include "eigrad/nn/module.hpp"
#include "eigrad/ops/upsample.hpp"
#include "eigrad/random.hpp"

namespace eigrad::nn {

/// y = x W^T + b, one fused node (nn::linear). W: [out, in], b: [out]. PyTorch's initialisation:
/// W by kaiming_uniform_ with a = sqrt(5), i.e. U(-1/sqrt(in), 1/sqrt(in)); b by the same
/// U(-1/sqrt(in), 1/sqrt(in)). Weights are drawn first, then the bias.
template <class T>
class BasicLinear : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  BasicLinear(int64_t in_features, int64_t out_features, Generator& gen, bool bias = true);
  BasicLinear(int64_t in_features, int64_t out_features, bool bias, Generator& gen)
      : BasicLinear(in_features, out_features, gen, bias) {}

  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Linear"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  std::string extra_repr() const override;

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  /// The registered parameters (read-only handles: change values in place or via set_parameter).
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias

 private:
  int64_t in_features_, out_features_;
  Tensor weight_, bias_;
};

/// Merges axes start..end (default: all but the batch axis) into one.
template <class T>
class BasicFlatten : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  explicit BasicFlatten(int start_axis = 1, int end_axis = -1)
      : start_axis_(start_axis), end_axis_(end_axis) {}
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Flatten"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  std::string extra_repr() const override;

 private:
  int start_axis_, end_axis_;
};

/// Inverted dropout with its own seeded generator: zeroes each element with probability p and
/// scales the rest by 1/(1-p) in training mode; the identity in eval mode.
template <class T>
class BasicDropout : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  explicit BasicDropout(double p = 0.5, uint64_t seed = 0);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Dropout"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  std::string extra_repr() const override;
  double p() const { return p_; }
  Generator* generator() override { return &gen_; }  // the masks' source, saved by checkpoints

 private:
  double p_;
  Generator gen_;
  template <class>
  friend class BasicDropout;
};

// Channel dropout (nn::dropout2d) with its own seeded generator, as BasicDropout: zeroes each
// channel of [N, C, H, W] or [C, H, W] with probability p and scales the rest by 1/(1-p) in
// training mode; the identity in eval mode.
template <class T>
class BasicDropout2d : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  explicit BasicDropout2d(double p = 0.5, uint64_t seed = 0);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Dropout2d"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  std::string extra_repr() const override;
  double p() const { return p_; }

 private:
  double p_;
  Generator gen_;
  template <class>
  friend class BasicDropout2d;
};

// interpolate with fixed options (size or scale_factor, mode, align_corners), as PyTorch's
// nn.Upsample: nn::Upsample up(UpsampleOptions().scale_factor(2).mode("bilinear")).
using UpsampleOptions = InterpolateOptions;
template <class T>
class BasicUpsample : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  explicit BasicUpsample(const UpsampleOptions& options) : options_(options) {}
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "Upsample"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  // As PyTorch's: "scale_factor=2.0, mode='nearest'" or "size=(4, 6), mode='bilinear'".
  std::string extra_repr() const override;
  const UpsampleOptions& options() const { return options_; }

 private:
  UpsampleOptions options_;
};

using Linear = BasicLinear<float>;
using Flatten = BasicFlatten<float>;
using Dropout = BasicDropout<float>;
using Dropout2d = BasicDropout2d<float>;
using Upsample = BasicUpsample<float>;

extern template class BasicLinear<float>;
extern template class BasicLinear<double>;
extern template class BasicFlatten<float>;
extern template class BasicFlatten<double>;
extern template class BasicDropout<float>;
extern template class BasicDropout<double>;
extern template class BasicDropout2d<float>;
extern template class BasicDropout2d<double>;
extern template class BasicUpsample<float>;
extern template class BasicUpsample<double>;

}  // namespace eigrad::nn
