#include "eigrad/nn/pooling.hpp"

#include "eigrad/ops/pooling.hpp"

namespace eigrad::nn {

namespace {
// Sizes no window can have; the ops check the rest (padding against the kernel, the input).
void check_window(const std::string& module, const ExpandingArray<2>& kernel_size,
                  const ExpandingArray<2>& stride, const ExpandingArray<2>& padding) {
  for (size_t i = 0; i < 2; ++i)
    if (kernel_size[i] < 1 || stride[i] < 1 || padding[i] < 0)
      throw Error(module + ": expected kernel_size and stride of at least 1 and padding of at " +
                  "least 0, got kernel_size=" + kernel_size.str() + ", stride=" + stride.str() +
                  ", padding=" + padding.str());
}
}  // namespace

template <class T>
BasicMaxPool2d<T>::BasicMaxPool2d(const MaxPool2dOptions& options) : options_(options) {
  check_window("MaxPool2d", options.kernel_size(), options.stride(), options.padding());
  if (options.dilation()[0] < 1 || options.dilation()[1] < 1)
    throw Error("MaxPool2d: expected dilation of at least 1, got dilation=" +
                options.dilation().str());
}

template <class T>
BasicTensor<T> BasicMaxPool2d<T>::forward(const Tensor& input) {
  const MaxPool2dOptions& o = options_;
  return max_pool2d(input, o.kernel_size(), o.stride(), o.padding(), o.dilation());
}

template <class T>
std::string BasicMaxPool2d<T>::extra_repr() const {
  const MaxPool2dOptions& o = options_;
  return "kernel_size=" + o.kernel_size().str() + ", stride=" + o.stride().str() +
         ", padding=" + o.padding().str() + ", dilation=" + o.dilation().str();
}

template <class T>
BasicAvgPool2d<T>::BasicAvgPool2d(const AvgPool2dOptions& options) : options_(options) {
  check_window("AvgPool2d", options.kernel_size(), options.stride(), options.padding());
}

template <class T>
BasicTensor<T> BasicAvgPool2d<T>::forward(const Tensor& input) {
  const AvgPool2dOptions& o = options_;
  return avg_pool2d(input, o.kernel_size(), o.stride(), o.padding(), o.count_include_pad());
}

template <class T>
std::string BasicAvgPool2d<T>::extra_repr() const {
  const AvgPool2dOptions& o = options_;
  return "kernel_size=" + o.kernel_size().str() + ", stride=" + o.stride().str() +
         ", padding=" + o.padding().str() +
         (o.count_include_pad() ? "" : ", count_include_pad=false");
}

template <class T>
BasicAdaptiveAvgPool2d<T>::BasicAdaptiveAvgPool2d(ExpandingArray<2> output_size)
    : output_size_(output_size) {
  if (!output_size.given() || output_size[0] < 1 || output_size[1] < 1)
    throw Error("AdaptiveAvgPool2d: expected an output_size of at least 1, got output_size=" +
                output_size.str());
}

template <class T>
BasicTensor<T> BasicAdaptiveAvgPool2d<T>::forward(const Tensor& input) {
  return adaptive_avg_pool2d(input, output_size_);
}

template <class T>
std::string BasicAdaptiveAvgPool2d<T>::extra_repr() const {
  return "output_size=" + output_size_.str();
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicMaxPool2d<T>::make_double() const {
  return std::make_shared<BasicMaxPool2d<double>>(options_);
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicAvgPool2d<T>::make_double() const {
  return std::make_shared<BasicAvgPool2d<double>>(options_);
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicAdaptiveAvgPool2d<T>::make_double() const {
  return std::make_shared<BasicAdaptiveAvgPool2d<double>>(output_size_);
}

template class BasicMaxPool2d<float>;
template class BasicMaxPool2d<double>;
template class BasicAvgPool2d<float>;
template class BasicAvgPool2d<double>;
template class BasicAdaptiveAvgPool2d<float>;
template class BasicAdaptiveAvgPool2d<double>;

}  // namespace eigrad::nn
