#pragma once
// Initialisers after torch.nn.init, each with an explicit Generator. They write into the tensor's
// storage in place (a tensor is a handle, so a module's parameter can be passed directly) and
// return the same tensor.
#include <string>

#include "eigrad/random.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad::nn::init {

enum class FanMode { FanIn, FanOut };

/// The recommended gain for a nonlinearity: "linear", "conv1d".."conv3d", "sigmoid": 1;
/// "tanh": 5/3; "relu": sqrt(2); "leaky_relu": sqrt(2 / (1 + param^2)), param being the negative
/// slope; "selu": 3/4. Other names throw.
double calculate_gain(const std::string& nonlinearity, double param = 0.01);

/// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (rank >= 2).
struct Fans {
  double fan_in, fan_out;
};
template <class T>
Fans calculate_fans(const BasicTensor<T>& tensor);

template <class T>
BasicTensor<T> uniform_(BasicTensor<T> tensor, double lo, double hi, Generator& gen);
template <class T>
BasicTensor<T> normal_(BasicTensor<T> tensor, double mean, double stddev, Generator& gen);
template <class T>
BasicTensor<T> constant_(BasicTensor<T> tensor, double value);
template <class T>
BasicTensor<T> zeros_(BasicTensor<T> tensor) {
  return constant_(std::move(tensor), 0.0);
}
template <class T>
BasicTensor<T> ones_(BasicTensor<T> tensor) {
  return constant_(std::move(tensor), 1.0);
}

/// U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).
template <class T>
BasicTensor<T> xavier_uniform_(BasicTensor<T> tensor, Generator& gen, double gain = 1.0);
/// N(0, s) with s = gain * sqrt(2 / (fan_in + fan_out)).
template <class T>
BasicTensor<T> xavier_normal_(BasicTensor<T> tensor, Generator& gen, double gain = 1.0);
/// U(-b, b) with b = calculate_gain(nonlinearity, a) * sqrt(3 / fan).
template <class T>
BasicTensor<T> kaiming_uniform_(BasicTensor<T> tensor, Generator& gen, double a = 0.0,
                                FanMode mode = FanMode::FanIn,
                                const std::string& nonlinearity = "leaky_relu");
/// N(0, s) with s = calculate_gain(nonlinearity, a) / sqrt(fan).
template <class T>
BasicTensor<T> kaiming_normal_(BasicTensor<T> tensor, Generator& gen, double a = 0.0,
                               FanMode mode = FanMode::FanIn,
                               const std::string& nonlinearity = "leaky_relu");

}  // namespace eigrad::nn::init
