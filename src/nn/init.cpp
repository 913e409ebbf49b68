#include "eigrad/nn/init.hpp"

#include <cmath>

namespace eigrad::nn::init {

double calculate_gain(const std::string& nonlinearity, double param) {
  if (nonlinearity == "linear" || nonlinearity == "conv1d" || nonlinearity == "conv2d" ||
      nonlinearity == "conv3d" || nonlinearity == "sigmoid")
    return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1.0 + param * param));
  if (nonlinearity == "selu") return 0.75;
  throw Error("init::calculate_gain: unknown nonlinearity '" + nonlinearity +
              "'; expected linear, conv1d, conv2d, conv3d, sigmoid, tanh, relu, leaky_relu or "
              "selu");
}

template <class T>
Fans calculate_fans(const BasicTensor<T>& tensor) {
  const Shape& s = tensor.shape();
  if (s.rank() < 2)
    throw Error("init: fan in and fan out need a tensor of rank 2 or more, got shape " + s.str());
  double receptive = 1;
  for (int i = 2; i < s.rank(); ++i) receptive *= static_cast<double>(s[i]);
  return {static_cast<double>(s[1]) * receptive, static_cast<double>(s[0]) * receptive};
}

template <class T>
BasicTensor<T> uniform_(BasicTensor<T> tensor, double lo, double hi, Generator& gen) {
  if (!(lo <= hi))
    throw Error("init::uniform_: expected lo <= hi, got lo " + std::to_string(lo) + ", hi " +
                std::to_string(hi));
  for (T& v : tensor.mutable_array()) v = static_cast<T>(gen.uniform(lo, hi));
  return tensor;
}

template <class T>
BasicTensor<T> normal_(BasicTensor<T> tensor, double mean, double stddev, Generator& gen) {
  if (!(stddev >= 0))
    throw Error("init::normal_: expected stddev >= 0, got " + std::to_string(stddev));
  for (T& v : tensor.mutable_array()) v = static_cast<T>(mean + stddev * gen.normal());
  return tensor;
}

template <class T>
BasicTensor<T> constant_(BasicTensor<T> tensor, double value) {
  tensor.mutable_array().setConstant(static_cast<T>(value));
  return tensor;
}

namespace {
template <class T>
double fan(const char* op, const BasicTensor<T>& tensor, FanMode mode) {
  const Fans f = calculate_fans(tensor);
  const double n = mode == FanMode::FanIn ? f.fan_in : f.fan_out;
  if (n == 0)
    throw Error(std::string("init::") + op + ": cannot initialise a tensor of shape " +
                tensor.shape().str() + ": its fan is 0");
  return n;
}
}  // namespace

template <class T>
BasicTensor<T> xavier_uniform_(BasicTensor<T> tensor, Generator& gen, double gain) {
  const Fans f = calculate_fans(tensor);
  const double bound = gain * std::sqrt(6.0 / (f.fan_in + f.fan_out));
  return uniform_(std::move(tensor), -bound, bound, gen);
}

template <class T>
BasicTensor<T> xavier_normal_(BasicTensor<T> tensor, Generator& gen, double gain) {
  const Fans f = calculate_fans(tensor);
  return normal_(std::move(tensor), 0.0, gain * std::sqrt(2.0 / (f.fan_in + f.fan_out)), gen);
}

template <class T>
BasicTensor<T> kaiming_uniform_(BasicTensor<T> tensor, Generator& gen, double a, FanMode mode,
                                const std::string& nonlinearity) {
  const double n = fan("kaiming_uniform_", tensor, mode);
  const double bound = calculate_gain(nonlinearity, a) * std::sqrt(3.0 / n);
  return uniform_(std::move(tensor), -bound, bound, gen);
}

template <class T>
BasicTensor<T> kaiming_normal_(BasicTensor<T> tensor, Generator& gen, double a, FanMode mode,
                               const std::string& nonlinearity) {
  const double n = fan("kaiming_normal_", tensor, mode);
  return normal_(std::move(tensor), 0.0, calculate_gain(nonlinearity, a) / std::sqrt(n), gen);
}

#define EIGRAD_INSTANTIATE_INIT(T)                                                      \
  template Fans calculate_fans(const BasicTensor<T>&);                                  \
  template BasicTensor<T> uniform_(BasicTensor<T>, double, double, Generator&);         \
  template BasicTensor<T> normal_(BasicTensor<T>, double, double, Generator&);          \
  template BasicTensor<T> constant_(BasicTensor<T>, double);                            \
  template BasicTensor<T> xavier_uniform_(BasicTensor<T>, Generator&, double);          \
  template BasicTensor<T> xavier_normal_(BasicTensor<T>, Generator&, double);           \
  template BasicTensor<T> kaiming_uniform_(BasicTensor<T>, Generator&, double, FanMode, \
                                           const std::string&);                         \
  template BasicTensor<T> kaiming_normal_(BasicTensor<T>, Generator&, double, FanMode,  \
                                          const std::string&);

EIGRAD_INSTANTIATE_INIT(float)
EIGRAD_INSTANTIATE_INIT(double)

}  // namespace eigrad::nn::init
