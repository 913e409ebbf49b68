#include <sstream>
#include <utility>

#include "eigrad/nn/normalization.hpp"
#include "eigrad/ops/normalization.hpp"

namespace eigrad::nn {

template <class T>
BasicLayerNorm<T>::BasicLayerNorm(std::vector<int64_t> normalized_shape, double eps,
                                  bool elementwise_affine)
    : normalized_shape_(std::move(normalized_shape)),
      eps_(eps),
      elementwise_affine_(elementwise_affine) {
  if (normalized_shape_.empty())
    throw Error("LayerNorm: expected a non-empty normalized_shape, got []");
  for (int64_t d : normalized_shape_)
    if (d < 1)
      throw Error("LayerNorm: expected positive sizes in normalized_shape, got " +
                  Shape(normalized_shape_).str());
  if (!(eps > 0)) {
    std::ostringstream os;
    os << "LayerNorm: expected a positive eps, got " << eps;
    throw Error(os.str());
  }
  if (elementwise_affine) {
    const Shape shape(normalized_shape_);
    weight_ = this->register_parameter("weight", Tensor::ones(shape));
    bias_ = this->register_parameter("bias", Tensor::zeros(shape));
  }
}

template <class T>
BasicTensor<T> BasicLayerNorm<T>::forward(const Tensor& input) {
  return layer_norm(input, normalized_shape_, weight_, bias_, eps_);
}

template <class T>
std::string BasicLayerNorm<T>::extra_repr() const {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < normalized_shape_.size(); ++i)
    os << (i ? ", " : "") << normalized_shape_[i];
  if (normalized_shape_.size() == 1) os << ",";  // a Python 1-tuple
  os << "), eps=" << eps_ << ", elementwise_affine=" << (elementwise_affine_ ? "True" : "False");
  return os.str();
}

template <class T>
std::shared_ptr<BasicModule<double>> BasicLayerNorm<T>::make_double() const {
  return std::make_shared<BasicLayerNorm<double>>(normalized_shape_, eps_, elementwise_affine_);
}

template class BasicLayerNorm<float>;
template class BasicLayerNorm<double>;

}  // namespace eigrad::nn
