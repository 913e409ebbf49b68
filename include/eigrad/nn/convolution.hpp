#pragma once
// Convolution modules, after libtorch's torch::nn::Conv1d, Conv2d, ConvTranspose1d and
// ConvTranspose2d:
//   nn::Conv2d conv(nn::Conv2dOptions(1, 32, 3).padding(1), gen);   // [N, 1, H, W] -> [N, 32, H,
//   W]
// PyTorch's initialisation: the weight [out, in / groups, k...] by kaiming_uniform_ with
// a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in / groups * prod(k), then
// the bias [out] by the same U(-1/sqrt(fan_in), 1/sqrt(fan_in)); weights are drawn first.
#include <cstddef>
#include <cstdint>
#include <string>

#include "eigrad/nn/module.hpp"
#include "eigrad/ops/expanding_array.hpp"
#include "eigrad/random.hpp"

namespace eigrad::nn {

/// The options of a D-dimensional convolution, set by chained calls as in libtorch; each setter
/// has a getter of the same name.
template <size_t D>
class ConvOptions {
 public:
  ConvOptions(int64_t in_channels, int64_t out_channels, ExpandingArray<D> kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}

  ConvOptions& stride(ExpandingArray<D> v) { return set(stride_, v); }
  ConvOptions& padding(ExpandingArray<D> v) { return set(padding_, v); }
  ConvOptions& dilation(ExpandingArray<D> v) { return set(dilation_, v); }
  ConvOptions& groups(int64_t v) { return set(groups_, v); }
  ConvOptions& bias(bool v) { return set(bias_, v); }

  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }
  const ExpandingArray<D>& kernel_size() const { return kernel_size_; }
  const ExpandingArray<D>& stride() const { return stride_; }
  const ExpandingArray<D>& padding() const { return padding_; }
  const ExpandingArray<D>& dilation() const { return dilation_; }
  int64_t groups() const { return groups_; }
  bool bias() const { return bias_; }

 private:
  template <class V>
  ConvOptions& set(V& field, const V& value) {
    field = value;
    return *this;
  }
  int64_t in_channels_, out_channels_;
  ExpandingArray<D> kernel_size_, stride_ = 1, padding_ = 0, dilation_ = 1;
  int64_t groups_ = 1;
  bool bias_ = true;
};

using Conv1dOptions = ConvOptions<1>;
using Conv2dOptions = ConvOptions<2>;

/// conv1d (D = 1, input [N, C, L]) or conv2d (D = 2, input [N, C, H, W]) with its own weight and
/// bias, registered as "weight" and "bias" (PyTorch's names).
template <class T, size_t D>
class BasicConv : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  /// Throws on options no convolution can have (sizes below 1, negative padding, channels not
  /// divisible by groups).
  BasicConv(const ConvOptions<D>& options, Generator& gen);

  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return D == 1 ? "Conv1d" : "Conv2d"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  /// As PyTorch's: "1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)"; padding,
  /// dilation, groups and bias appear when they differ from the defaults.
  std::string extra_repr() const override;

  const ConvOptions<D>& options() const { return options_; }
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias

 private:
  ConvOptions<D> options_;
  Tensor weight_, bias_;
};

template <class T>
using BasicConv1d = BasicConv<T, 1>;
template <class T>
using BasicConv2d = BasicConv<T, 2>;
using Conv1d = BasicConv1d<float>;
using Conv2d = BasicConv2d<float>;

extern template class BasicConv<float, 1>;
extern template class BasicConv<double, 1>;
extern template class BasicConv<float, 2>;
extern template class BasicConv<double, 2>;

// The options of a D-dimensional transposed convolution, as libtorch's ConvTransposeOptions.
template <size_t D>
class ConvTransposeOptions {
 public:
  ConvTransposeOptions(int64_t in_channels, int64_t out_channels, ExpandingArray<D> kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}

  ConvTransposeOptions& stride(ExpandingArray<D> v) { return set(stride_, v); }
  ConvTransposeOptions& padding(ExpandingArray<D> v) { return set(padding_, v); }
  ConvTransposeOptions& output_padding(ExpandingArray<D> v) { return set(output_padding_, v); }
  ConvTransposeOptions& groups(int64_t v) { return set(groups_, v); }
  ConvTransposeOptions& bias(bool v) { return set(bias_, v); }
  ConvTransposeOptions& dilation(ExpandingArray<D> v) { return set(dilation_, v); }

  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }
  const ExpandingArray<D>& kernel_size() const { return kernel_size_; }
  const ExpandingArray<D>& stride() const { return stride_; }
  const ExpandingArray<D>& padding() const { return padding_; }
  const ExpandingArray<D>& output_padding() const { return output_padding_; }
  int64_t groups() const { return groups_; }
  bool bias() const { return bias_; }
  const ExpandingArray<D>& dilation() const { return dilation_; }

 private:
  template <class V>
  ConvTransposeOptions& set(V& field, const V& value) {
    field = value;
    return *this;
  }
  int64_t in_channels_, out_channels_;
  ExpandingArray<D> kernel_size_, stride_ = 1, padding_ = 0, output_padding_ = 0, dilation_ = 1;
  int64_t groups_ = 1;
  bool bias_ = true;
};

using ConvTranspose1dOptions = ConvTransposeOptions<1>;
using ConvTranspose2dOptions = ConvTransposeOptions<2>;

// conv_transpose1d (D = 1) or conv_transpose2d (D = 2) with its own weight
// [in_channels, out_channels / groups, k...] and bias [out_channels], registered as "weight" and
// "bias". PyTorch's initialisation: kaiming_uniform_ with a = sqrt(5) on that weight, whose fan_in
// is out_channels / groups * prod(k), then the bias by U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
template <class T, size_t D>
class BasicConvTranspose : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  // Throws on options no transposed convolution can have (sizes below 1, negative padding,
  // channels not divisible by groups, output_padding not below stride or dilation).
  BasicConvTranspose(const ConvTransposeOptions<D>& options, Generator& gen);

  Tensor forward(const Tensor& input) override;
  // As PyTorch's forward(input, output_size): the output's spatial sizes chosen among those the
  // stride allows, from the smallest (output_padding 0) to stride - 1 more; output_padding is
  // then taken from output_size instead of the options.
  Tensor forward(const Tensor& input, ExpandingArray<D> output_size);
  std::string type_name() const override { return D == 1 ? "ConvTranspose1d" : "ConvTranspose2d"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  // As PyTorch's: "16, 8, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1)".
  std::string extra_repr() const override;

  const ConvTransposeOptions<D>& options() const { return options_; }
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias

 private:
  ConvTransposeOptions<D> options_;
  Tensor weight_, bias_;
};

template <class T>
using BasicConvTranspose1d = BasicConvTranspose<T, 1>;
template <class T>
using BasicConvTranspose2d = BasicConvTranspose<T, 2>;
using ConvTranspose1d = BasicConvTranspose1d<float>;
using ConvTranspose2d = BasicConvTranspose2d<float>;

extern template class BasicConvTranspose<float, 1>;
extern template class BasicConvTranspose<double, 1>;
extern template class BasicConvTranspose<float, 2>;
extern template class BasicConvTranspose<double, 2>;

}  // namespace eigrad::nn
