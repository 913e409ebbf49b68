#include "eigrad/nn/layers.hpp"

#include <cmath>
#include <sstream>

#include "eigrad/nn/functional.hpp"
#include "eigrad/nn/init.hpp"
#include "eigrad/ops.hpp"

namespace eigrad::nn {

template <class T>
BasicLinear<T>::BasicLinear(int64_t in_features, int64_t out_features, Generator& gen, bool bias)
    : in_features_(in_features), out_features_(out_features) {
  if (in_features < 1 || out_features < 1)
    throw Error("Linear: expected positive in_features and out_features, got " +
                std::to_string(in_features) + " and " + std::to_string(out_features));
  weight_ = this->register_parameter("weight", Tensor::empty(Shape{out_features, in_features}));
  init::kaiming_uniform_(weight_, gen, std::sqrt(5.0));
  if (bias) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    bias_ = this->register_parameter("bias", Tensor::empty(Shape{out_features}));
    init::uniform_(bias_, -bound, bound, gen);
  }
}

template <class T>
BasicTensor<T> BasicLinear<T>::forward(const Tensor& input) {
  return linear(input, weight_, bias_);
}

template <class T>
std::string BasicLinear<T>::extra_repr() const {
  return "in_features=" + std::to_string(in_features_) +
         ", out_features=" + std::to_string(out_features_) +
         ", bias=" + (bias_.defined() ? "true" : "false");
}

template <class T>
BasicTensor<T> BasicFlatten<T>::forward(const Tensor& input) {
  return flatten(input, start_axis_, end_axis_);
}

template <class T>
std::string BasicFlatten<T>::extra_repr() const {
  return "start_axis=" + std::to_string(start_axis_) + ", end_axis=" + std::to_string(end_axis_);
}

template <class T>
BasicDropout<T>::BasicDropout(double p, uint64_t seed) : p_(p), gen_(seed) {
  if (!(p >= 0 && p <= 1))
    throw Error("Dropout: the probability p must be in [0, 1], got " + std::to_string(p));
}

template <class T>
BasicTensor<T> BasicDropout<T>::forward(const Tensor& input) {
  return dropout(input, p_, this->is_training(), gen_);
}

template <class T>
std::string BasicDropout<T>::extra_repr() const {
  std::ostringstream os;
  os << "p=" << p_;
  return os.str();
}

// The copies' initial values are overwritten by to_double(); the generator only fills them.
template <class T>
std::shared_ptr<BasicModule<double>> BasicLinear<T>::make_double() const {
  Generator gen;
  return std::make_shared<BasicLinear<double>>(in_features_, out_features_, gen, bias_.defined());
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicFlatten<T>::make_double() const {
  return std::make_shared<BasicFlatten<double>>(start_axis_, end_axis_);
}

// The copy draws the same masks as the original would next.
template <class T>
std::shared_ptr<BasicModule<double>> BasicDropout<T>::make_double() const {
  auto copy = std::make_shared<BasicDropout<double>>(p_);
  copy->gen_ = gen_;
  return copy;
}

template <class T>
BasicDropout2d<T>::BasicDropout2d(double p, uint64_t seed) : p_(p), gen_(seed) {
  if (!(p >= 0 && p <= 1))
    throw Error("Dropout2d: the probability p must be in [0, 1], got " + std::to_string(p));
}

template <class T>
BasicTensor<T> BasicDropout2d<T>::forward(const Tensor& input) {
  return dropout2d(input, p_, this->is_training(), gen_);
}

template <class T>
std::string BasicDropout2d<T>::extra_repr() const {
  std::ostringstream os;
  os << "p=" << p_;
  return os.str();
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicDropout2d<T>::make_double() const {
  auto copy = std::make_shared<BasicDropout2d<double>>(p_);
  copy->gen_ = gen_;
  return copy;
}

template <class T>
BasicTensor<T> BasicUpsample<T>::forward(const Tensor& input) {
  return interpolate(input, options_);
}

namespace {
// A float as Python's repr prints it: "2.0", "1.5".
std::string python_float(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  std::string s = os.str();
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}
}  // namespace

template <class T>
std::string BasicUpsample<T>::extra_repr() const {
  const UpsampleOptions& o = options_;
  std::string s;
  if (o.scale_factor()) {
    const auto& f = *o.scale_factor();
    s = "scale_factor=" + (f[0] == f[1]
                               ? python_float(f[0])
                               : "(" + python_float(f[0]) + ", " + python_float(f[1]) + ")");
  } else {
    s = "size=" + (o.size()[0] == o.size()[1] ? std::to_string(o.size()[0]) : o.size().str());
  }
  return s + ", mode='" + o.mode() + "'";
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicUpsample<T>::make_double() const {
  return std::make_shared<BasicUpsample<double>>(options_);
}

template class BasicLinear<float>;
template class BasicLinear<double>;
template class BasicFlatten<float>;
template class BasicFlatten<double>;
template class BasicDropout<float>;
template class BasicDropout<double>;
template class BasicDropout2d<float>;
template class BasicDropout2d<double>;
template class BasicUpsample<float>;
template class BasicUpsample<double>;

}  // namespace eigrad::nn
