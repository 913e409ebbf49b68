#pragma once
// Pooling modules over the last two axes of [N, C, H, W], after libtorch's torch::nn::MaxPool2d,
// AvgPool2d and AdaptiveAvgPool2d (the ops are in eigrad/ops/pooling.hpp):
//   nn::MaxPool2d pool(2);                                           // kernel 2, stride 2
//   nn::AvgPool2d avg(nn::AvgPool2dOptions(3).stride(1).padding(1));
//   nn::AdaptiveAvgPool2d global(1);                                 // [N, C, H, W] -> [N, C, 1,
//   1]
// They have no parameters and behave the same in training and evaluation.
#include <string>

#include "eigrad/nn/module.hpp"
#include "eigrad/ops/expanding_array.hpp"

namespace eigrad::nn {

/// As in libtorch, the stride starts equal to the kernel size.
class MaxPool2dOptions {
 public:
  MaxPool2dOptions(ExpandingArray<2> kernel_size)  // NOLINT: implicit, as in libtorch
      : kernel_size_(kernel_size), stride_(kernel_size) {}
  MaxPool2dOptions& stride(ExpandingArray<2> v) {
    stride_ = v;
    return *this;
  }
  MaxPool2dOptions& padding(ExpandingArray<2> v) {
    padding_ = v;
    return *this;
  }
  MaxPool2dOptions& dilation(ExpandingArray<2> v) {
    dilation_ = v;
    return *this;
  }
  const ExpandingArray<2>& kernel_size() const { return kernel_size_; }
  const ExpandingArray<2>& stride() const { return stride_; }
  const ExpandingArray<2>& padding() const { return padding_; }
  const ExpandingArray<2>& dilation() const { return dilation_; }

 private:
  ExpandingArray<2> kernel_size_, stride_, padding_ = 0, dilation_ = 1;
};

class AvgPool2dOptions {
 public:
  AvgPool2dOptions(ExpandingArray<2> kernel_size)  // NOLINT: implicit, as in libtorch
      : kernel_size_(kernel_size), stride_(kernel_size) {}
  AvgPool2dOptions& stride(ExpandingArray<2> v) {
    stride_ = v;
    return *this;
  }
  AvgPool2dOptions& padding(ExpandingArray<2> v) {
    padding_ = v;
    return *this;
  }
  AvgPool2dOptions& count_include_pad(bool v) {
    count_include_pad_ = v;
    return *this;
  }
  const ExpandingArray<2>& kernel_size() const { return kernel_size_; }
  const ExpandingArray<2>& stride() const { return stride_; }
  const ExpandingArray<2>& padding() const { return padding_; }
  bool count_include_pad() const { return count_include_pad_; }

 private:
  ExpandingArray<2> kernel_size_, stride_, padding_ = 0;
  bool count_include_pad_ = true;
};

template <class T>
class BasicMaxPool2d : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  explicit BasicMaxPool2d(const MaxPool2dOptions& options);
  explicit BasicMaxPool2d(ExpandingArray<2> kernel_size)
      : BasicMaxPool2d(MaxPool2dOptions(kernel_size)) {}
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "MaxPool2d"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  /// "kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1)"
  std::string extra_repr() const override;
  const MaxPool2dOptions& options() const { return options_; }

 private:
  MaxPool2dOptions options_;
};

template <class T>
class BasicAvgPool2d : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  explicit BasicAvgPool2d(const AvgPool2dOptions& options);
  explicit BasicAvgPool2d(ExpandingArray<2> kernel_size)
      : BasicAvgPool2d(AvgPool2dOptions(kernel_size)) {}
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "AvgPool2d"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  /// "kernel_size=(2, 2), stride=(2, 2), padding=(0, 0)", and ", count_include_pad=false".
  std::string extra_repr() const override;
  const AvgPool2dOptions& options() const { return options_; }

 private:
  AvgPool2dOptions options_;
};

template <class T>
class BasicAdaptiveAvgPool2d : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  explicit BasicAdaptiveAvgPool2d(ExpandingArray<2> output_size);
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
  std::shared_ptr<BasicModule<double>> make_double() const override;
  std::string extra_repr() const override;  ///< "output_size=(1, 1)"
  const ExpandingArray<2>& output_size() const { return output_size_; }

 private:
  ExpandingArray<2> output_size_;
};

using MaxPool2d = BasicMaxPool2d<float>;
using AvgPool2d = BasicAvgPool2d<float>;
using AdaptiveAvgPool2d = BasicAdaptiveAvgPool2d<float>;

extern template class BasicMaxPool2d<float>;
extern template class BasicMaxPool2d<double>;
extern template class BasicAvgPool2d<float>;
extern template class BasicAvgPool2d<double>;
extern template class BasicAdaptiveAvgPool2d<float>;
extern template class BasicAdaptiveAvgPool2d<double>;

}  // namespace eigrad::nn
