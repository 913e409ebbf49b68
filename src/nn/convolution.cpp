#include "eigrad/nn/convolution.hpp"

#include <array>
#include <cmath>

#include "eigrad/nn/init.hpp"
#include "eigrad/ops/convolution.hpp"

namespace eigrad::nn {

template <class T, size_t D>
BasicConv<T, D>::BasicConv(const ConvOptions<D>& options, Generator& gen) : options_(options) {
  const ConvOptions<D>& o = options;
  const std::string name = type_name();
  if (o.in_channels() < 1 || o.out_channels() < 1)
    throw Error(name + ": expected positive in_channels and out_channels, got " +
                std::to_string(o.in_channels()) + " and " + std::to_string(o.out_channels()));
  if (o.groups() < 1 || o.in_channels() % o.groups() != 0 || o.out_channels() % o.groups() != 0)
    throw Error(name + ": in_channels " + std::to_string(o.in_channels()) + " and out_channels " +
                std::to_string(o.out_channels()) + " must both be divisible by groups " +
                std::to_string(o.groups()) + " (a positive number)");
  for (size_t i = 0; i < D; ++i)
    if (o.kernel_size()[i] < 1 || o.stride()[i] < 1 || o.dilation()[i] < 1 || o.padding()[i] < 0)
      throw Error(name + ": expected kernel_size, stride and dilation of at least 1 and padding " +
                  "of at least 0, got kernel_size=" + o.kernel_size().str() +
                  ", stride=" + o.stride().str() + ", padding=" + o.padding().str() +
                  ", dilation=" + o.dilation().str());
  Shape shape{o.out_channels(), o.in_channels() / o.groups()};
  for (size_t i = 0; i < D; ++i) shape.push_back(o.kernel_size()[i]);
  weight_ = this->register_parameter("weight", Tensor::empty(shape));
  init::kaiming_uniform_(weight_, gen, std::sqrt(5.0));
  if (o.bias()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(weight_.numel() / o.out_channels()));
    bias_ = this->register_parameter("bias", Tensor::empty(Shape{o.out_channels()}));
    init::uniform_(bias_, -bound, bound, gen);
  }
}

template <class T, size_t D>
BasicTensor<T> BasicConv<T, D>::forward(const Tensor& input) {
  const ConvOptions<D>& o = options_;
  if constexpr (D == 1)
    return conv1d(input, weight_, bias_, o.stride()[0], o.padding()[0], o.dilation()[0],
                  o.groups());
  else
    return conv2d(input, weight_, bias_, o.stride(), o.padding(), o.dilation(), o.groups());
}

template <class T, size_t D>
std::string BasicConv<T, D>::extra_repr() const {
  const ConvOptions<D>& o = options_;
  std::string s = std::to_string(o.in_channels()) + ", " + std::to_string(o.out_channels()) +
                  ", kernel_size=" + o.kernel_size().str() + ", stride=" + o.stride().str();
  bool zero_padding = true, unit_dilation = true;
  for (size_t i = 0; i < D; ++i) {
    zero_padding = zero_padding && o.padding()[i] == 0;
    unit_dilation = unit_dilation && o.dilation()[i] == 1;
  }
  if (!zero_padding) s += ", padding=" + o.padding().str();
  if (!unit_dilation) s += ", dilation=" + o.dilation().str();
  if (o.groups() != 1) s += ", groups=" + std::to_string(o.groups());
  if (!o.bias()) s += ", bias=false";
  return s;
}

// The copy's initial values are overwritten by to_double(); the generator only fills them.
template <class T, size_t D>
std::shared_ptr<BasicModule<double>> BasicConv<T, D>::make_double() const {
  Generator gen;
  return std::make_shared<BasicConv<double, D>>(options_, gen);
}

template class BasicConv<float, 1>;
template class BasicConv<double, 1>;
template class BasicConv<float, 2>;
template class BasicConv<double, 2>;

template <class T, size_t D>
BasicConvTranspose<T, D>::BasicConvTranspose(const ConvTransposeOptions<D>& options, Generator& gen)
    : options_(options) {
  const ConvTransposeOptions<D>& o = options;
  const std::string name = type_name();
  if (o.in_channels() < 1 || o.out_channels() < 1)
    throw Error(name + ": expected positive in_channels and out_channels, got " +
                std::to_string(o.in_channels()) + " and " + std::to_string(o.out_channels()));
  if (o.groups() < 1 || o.in_channels() % o.groups() != 0 || o.out_channels() % o.groups() != 0)
    throw Error(name + ": in_channels " + std::to_string(o.in_channels()) + " and out_channels " +
                std::to_string(o.out_channels()) + " must both be divisible by groups " +
                std::to_string(o.groups()) + " (a positive number)");
  for (size_t i = 0; i < D; ++i) {
    if (o.kernel_size()[i] < 1 || o.stride()[i] < 1 || o.dilation()[i] < 1 || o.padding()[i] < 0)
      throw Error(name + ": expected kernel_size, stride and dilation of at least 1 and padding " +
                  "of at least 0, got kernel_size=" + o.kernel_size().str() +
                  ", stride=" + o.stride().str() + ", padding=" + o.padding().str() +
                  ", dilation=" + o.dilation().str());
    const int64_t op = o.output_padding()[i];
    if (op < 0 || (op >= o.stride()[i] && op >= o.dilation()[i]))
      throw Error(name + ": output_padding must be non-negative and smaller than either stride " +
                  "or dilation, got output_padding=" + o.output_padding().str() +
                  ", stride=" + o.stride().str() + ", dilation=" + o.dilation().str());
  }
  Shape shape{o.in_channels(), o.out_channels() / o.groups()};
  for (size_t i = 0; i < D; ++i) shape.push_back(o.kernel_size()[i]);
  weight_ = this->register_parameter("weight", Tensor::empty(shape));
  init::kaiming_uniform_(weight_, gen, std::sqrt(5.0));
  if (o.bias()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(weight_.numel() / o.in_channels()));
    bias_ = this->register_parameter("bias", Tensor::empty(Shape{o.out_channels()}));
    init::uniform_(bias_, -bound, bound, gen);
  }
}

template <class T, size_t D>
BasicTensor<T> BasicConvTranspose<T, D>::forward(const Tensor& input) {
  const ConvTransposeOptions<D>& o = options_;
  if constexpr (D == 1)
    return conv_transpose1d(input, weight_, bias_, o.stride()[0], o.padding()[0],
                            o.output_padding()[0], o.groups(), o.dilation()[0]);
  else
    return conv_transpose2d(input, weight_, bias_, o.stride(), o.padding(), o.output_padding(),
                            o.groups(), o.dilation());
}

// PyTorch's _ConvTransposeNd._output_padding.
template <class T, size_t D>
BasicTensor<T> BasicConvTranspose<T, D>::forward(const Tensor& input,
                                                 ExpandingArray<D> output_size) {
  const ConvTransposeOptions<D>& o = options_;
  const int rank = input.rank();
  if (rank != static_cast<int>(D) + 2)
    throw Error(type_name() + ": expected input [N, C_in, " + (D == 2 ? "H, W" : "L") + "], got " +
                input.shape().str());
  std::array<int64_t, D> padding{}, lo{}, hi{};
  bool ok = true;
  for (size_t i = 0; i < D; ++i) {
    const int64_t in = input.shape()[static_cast<int>(i) + 2];
    lo[i] = (in - 1) * o.stride()[i] - 2 * o.padding()[i] +
            o.dilation()[i] * (o.kernel_size()[i] - 1) + 1;
    hi[i] = lo[i] + o.stride()[i] - 1;
    ok = ok && output_size[i] >= lo[i] && output_size[i] <= hi[i];
    padding[i] = output_size[i] - lo[i];
  }
  if (!ok)
    throw Error(type_name() + ": requested an output size of " + output_size.str() +
                ", but valid sizes range from " + ExpandingArray<D>(lo).str() + " to " +
                ExpandingArray<D>(hi).str() + " (for an input of " + input.shape().str() + ")");
  if constexpr (D == 1)
    return conv_transpose1d(input, weight_, bias_, o.stride()[0], o.padding()[0], padding[0],
                            o.groups(), o.dilation()[0]);
  else
    return conv_transpose2d(input, weight_, bias_, o.stride(), o.padding(), padding, o.groups(),
                            o.dilation());
}

template <class T, size_t D>
std::string BasicConvTranspose<T, D>::extra_repr() const {
  const ConvTransposeOptions<D>& o = options_;
  std::string s = std::to_string(o.in_channels()) + ", " + std::to_string(o.out_channels()) +
                  ", kernel_size=" + o.kernel_size().str() + ", stride=" + o.stride().str();
  bool zero_padding = true, zero_output_padding = true, unit_dilation = true;
  for (size_t i = 0; i < D; ++i) {
    zero_padding = zero_padding && o.padding()[i] == 0;
    zero_output_padding = zero_output_padding && o.output_padding()[i] == 0;
    unit_dilation = unit_dilation && o.dilation()[i] == 1;
  }
  if (!zero_padding) s += ", padding=" + o.padding().str();
  if (!unit_dilation) s += ", dilation=" + o.dilation().str();
  if (!zero_output_padding) s += ", output_padding=" + o.output_padding().str();
  if (o.groups() != 1) s += ", groups=" + std::to_string(o.groups());
  if (!o.bias()) s += ", bias=false";
  return s;
}

template <class T, size_t D>
std::shared_ptr<BasicModule<double>> BasicConvTranspose<T, D>::make_double() const {
  Generator gen;
  return std::make_shared<BasicConvTranspose<double, D>>(options_, gen);
}

template class BasicConvTranspose<float, 1>;
template class BasicConvTranspose<double, 1>;
template class BasicConvTranspose<float, 2>;
template class BasicConvTranspose<double, 2>;

}  // namespace eigrad::nn
