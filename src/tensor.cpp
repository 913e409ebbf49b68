#include "eigrad/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>

#include "autograd/graph.hpp"
#include "eigrad/autograd.hpp"
#include "storage.hpp"

namespace eigrad {

namespace {

// A new tensor's values, written without advancing its version: a factory's result is at version 0.
template <class T>
Eigen::Array<T, Eigen::Dynamic, 1>& fresh(BasicTensor<T>& t) {
  return *t.impl()->data;
}

template <class T>
std::shared_ptr<detail::TensorImpl<T>> make_impl(const Shape& shape) {
  auto impl = std::make_shared<detail::TensorImpl<T>>();
  impl->shape = shape;
  auto storage = detail::allocate_storage<T>(shape.numel());
  impl->data = std::move(storage.data);
  impl->version = storage.version;
  return impl;
}
}  // namespace

template <class T>
void BasicTensor<T>::throw_undefined() {
  throw Error("Tensor: operation on an undefined tensor");
}

template <class T>
BasicTensor<T> BasicTensor<T>::empty(const Shape& shape) {
  return BasicTensor(make_impl<T>(shape));
}

template <class T>
BasicTensor<T> BasicTensor<T>::full(const Shape& shape, T value, bool requires_grad) {
  BasicTensor t = empty(shape);
  fresh(t).setConstant(value);
  t.impl_->requires_grad = requires_grad;
  return t;
}

template <class T>
BasicTensor<T> BasicTensor<T>::zeros(const Shape& shape, bool requires_grad) {
  return full(shape, T(0), requires_grad);
}

template <class T>
BasicTensor<T> BasicTensor<T>::ones(const Shape& shape, bool requires_grad) {
  return full(shape, T(1), requires_grad);
}

template <class T>
BasicTensor<T> BasicTensor<T>::scalar(T value, bool requires_grad) {
  return full(Shape{}, value, requires_grad);
}

template <class T>
BasicTensor<T> BasicTensor<T>::from(std::vector<T> values, const Shape& shape, bool requires_grad) {
  if (static_cast<int64_t>(values.size()) != shape.numel())
    throw Error("Tensor::from: " + std::to_string(values.size()) + " values cannot fill shape " +
                shape.str() + ", which holds " + std::to_string(shape.numel()));
  BasicTensor t = empty(shape);
  std::copy(values.begin(), values.end(), fresh(t).data());
  t.impl_->requires_grad = requires_grad;
  return t;
}

template <class T>
BasicTensor<T> BasicTensor<T>::from(std::vector<T> values) {
  const Shape shape{static_cast<int64_t>(values.size())};
  return from(std::move(values), shape);
}

template <class T>
BasicTensor<T> BasicTensor<T>::arange(T start, T end, T step) {
  if (!(step != T(0)) || !std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
    throw Error("Tensor::arange: expected finite start, end and a non-zero step, got start " +
                std::to_string(start) + ", end " + std::to_string(end) + ", step " +
                std::to_string(step));
  const double count = std::ceil((static_cast<double>(end) - start) / step);
  const int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
  BasicTensor t = empty(Shape{n});
  for (int64_t i = 0; i < n; ++i)
    fresh(t).data()[i] = static_cast<T>(start + static_cast<double>(i) * step);
  return t;
}

template <class T>
BasicTensor<T> BasicTensor<T>::linspace(T start, T end, int64_t steps) {
  if (steps < 0)
    throw Error("Tensor::linspace: steps must be non-negative, got " + std::to_string(steps));
  BasicTensor t = empty(Shape{steps});
  const double delta = steps > 1 ? (static_cast<double>(end) - start) / (steps - 1) : 0.0;
  for (int64_t i = 0; i < steps; ++i)
    fresh(t).data()[i] =
        static_cast<T>(static_cast<double>(start) + delta * static_cast<double>(i));
  if (steps > 1) fresh(t).data()[steps - 1] = end;
  return t;
}

template <class T>
BasicTensor<T> BasicTensor<T>::uniform(const Shape& shape, T lo, T hi, Generator& gen) {
  if (!(lo <= hi))
    throw Error("Tensor::uniform: expected lo <= hi, got lo " + std::to_string(lo) + ", hi " +
                std::to_string(hi));
  BasicTensor t = empty(shape);
  for (T& v : fresh(t)) v = static_cast<T>(gen.uniform(lo, hi));
  return t;
}

template <class T>
BasicTensor<T> BasicTensor<T>::normal(const Shape& shape, T mean, T stddev, Generator& gen) {
  if (!(stddev >= T(0)))
    throw Error("Tensor::normal: expected stddev >= 0, got " + std::to_string(stddev));
  BasicTensor t = empty(shape);
  for (T& v : fresh(t)) v = static_cast<T>(mean + stddev * gen.normal());
  return t;
}

template <class T>
BasicTensor<T> BasicTensor<T>::from_storage(Storage storage, const Shape& shape) {
  if (!storage || storage->size() != shape.numel())
    throw Error("Tensor::from_storage: storage of " +
                std::to_string(storage ? storage->size() : 0) + " elements cannot have shape " +
                shape.str());
  auto handle = detail::wrap_storage<T>(std::move(storage));
  auto impl = std::make_shared<Impl>();
  impl->shape = shape;
  impl->data = std::move(handle.data);
  impl->version = handle.version;
  return BasicTensor(std::move(impl));
}

template <class T>
int64_t BasicTensor<T>::size(int axis) const {
  return shape()[normalize_axis("Tensor::size", axis, rank())];
}

template <class T>
std::vector<T> BasicTensor<T>::to_vector() const {
  return std::vector<T>(data(), data() + numel());
}

template <class T>
int64_t BasicTensor<T>::flat_index(std::initializer_list<int64_t> index) const {
  const Shape& s = shape();
  if (static_cast<int>(index.size()) != s.rank())
    throw Error("Tensor::at: " + std::to_string(index.size()) +
                " indices given for a tensor of shape " + s.str());
  int64_t flat = 0;
  int axis = 0;
  for (int64_t i : index) {
    if (i < 0 || i >= s[axis])
      throw Error("Tensor::at: index " + std::to_string(i) + " is out of range for axis " +
                  std::to_string(axis) + " of shape " + s.str());
    flat = flat * s[axis] + i;
    ++axis;
  }
  return flat;
}

template <class T>
T BasicTensor<T>::at(std::initializer_list<int64_t> index) const {
  return data()[flat_index(index)];
}

template <class T>
T& BasicTensor<T>::mutable_at(std::initializer_list<int64_t> index) {
  const int64_t flat = flat_index(index);  // a bad index is not a write
  return mutable_data()[flat];
}

template <class T>
T BasicTensor<T>::item() const {
  if (numel() != 1)
    throw Error("Tensor::item: expected a tensor with one element, got shape " + shape().str());
  return data()[0];
}

template <class T>
template <class U>
BasicTensor<U> BasicTensor<T>::to() const {
  BasicTensor<U> out = BasicTensor<U>::empty(shape());
  fresh(out) = array().template cast<U>();
  return out;
}

template <class T>
BasicTensor<T>& BasicTensor<T>::set_requires_grad(bool requires_grad) {
  if (!is_leaf())
    throw Error(
        "Tensor::set_requires_grad: only leaf tensors can change requires_grad; this tensor was "
        "produced by '" +
        std::string(grad_fn()->name()) + "' (use detach() to get a leaf)");
  checked().requires_grad = requires_grad;
  return *this;
}

template <class T>
BasicTensor<T> BasicTensor<T>::grad() const {
  return BasicTensor(checked().grad);
}

template <class T>
void BasicTensor<T>::zero_grad() {
  checked().grad.reset();
}

template <class T>
BasicTensor<T> BasicTensor<T>::clone() const {
  BasicTensor out = empty(shape());
  fresh(out) = array();
  return out;
}

template <class T>
BasicTensor<T> BasicTensor<T>::detach() const {
  return detail::alias(*this, shape());
}

template <class T>
BasicTensor<T> detail::alias(const BasicTensor<T>& t, const Shape& shape) {
  if (shape.numel() != t.numel())
    throw Error("reshape: a tensor of shape " + t.shape().str() + " (" + std::to_string(t.numel()) +
                " elements) cannot be viewed as shape " + shape.str());
  auto impl = std::make_shared<TensorImpl<T>>();
  impl->shape = shape;
  impl->data = t.impl()->data;
  impl->version = t.impl()->version;
  return BasicTensor<T>(std::move(impl));
}

// ---- printing, after PyTorch's _tensor_str ----
namespace {

template <class T>
struct Formatter {
  bool int_mode = true, sci_mode = false;
  int width = 1;

  explicit Formatter(const std::vector<T>& values) {
    double lo = INFINITY, hi = 0;
    bool any = false;
    for (T v : values) {
      if (!std::isfinite(v)) continue;
      if (v != std::round(v)) int_mode = false;
      const double a = std::fabs(static_cast<double>(v));
      if (a != 0) {
        lo = std::min(lo, a);
        hi = std::max(hi, a);
        any = true;
      }
    }
    if (any) {
      if (int_mode)
        sci_mode = hi > 1e8;
      else
        sci_mode = hi / lo > 1000.0 || hi > 1e8 || lo < 1e-4;
    }
    for (T v : values) width = std::max(width, static_cast<int>(format(v).size()));
  }

  std::string format(T v) const {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    if (sci_mode)
      std::snprintf(buf, sizeof buf, "%.4e", static_cast<double>(v));
    else if (int_mode)
      std::snprintf(buf, sizeof buf, "%.0f.", static_cast<double>(v));
    else
      std::snprintf(buf, sizeof buf, "%.4f", static_cast<double>(v));
    return buf;
  }
  std::string padded(T v) const {
    std::string s = format(v);
    return std::string(static_cast<size_t>(std::max(0, width - static_cast<int>(s.size()))), ' ') +
           s;
  }
};

constexpr int64_t kSummarizeThreshold = 1000;
constexpr int64_t kEdgeItems = 3;

// Indices shown along an axis of size n: all, or the first and last kEdgeItems (-1 is "...").
std::vector<int64_t> shown(int64_t n, bool summarize) {
  std::vector<int64_t> idx;
  if (!summarize || n <= 2 * kEdgeItems) {
    for (int64_t i = 0; i < n; ++i) idx.push_back(i);
  } else {
    for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
    idx.push_back(-1);
    for (int64_t i = n - kEdgeItems; i < n; ++i) idx.push_back(i);
  }
  return idx;
}

template <class T>
void gather_shown(const T* data, const Shape& shape, int axis, int64_t offset, bool summarize,
                  std::vector<T>& out) {
  if (axis == shape.rank()) {
    out.push_back(data[offset]);
    return;
  }
  for (int64_t i : shown(shape[axis], summarize))
    if (i >= 0) gather_shown(data, shape, axis + 1, offset * shape[axis] + i, summarize, out);
}

// Recursion here is over the tensor's axes (at most Shape::kMaxRank deep), not over the graph.
template <class T>
void print_axis(std::ostringstream& os, const T* data, const Shape& shape, int axis, int64_t offset,
                bool summarize, const Formatter<T>& fmt, int indent) {
  if (axis == shape.rank()) {
    os << fmt.padded(data[offset]);
    return;
  }
  os << '[';
  const std::vector<int64_t> idx = shown(shape[axis], summarize);
  const bool last_axis = axis == shape.rank() - 1;
  for (size_t k = 0; k < idx.size(); ++k) {
    if (k > 0) {
      if (last_axis) {
        os << ", ";
      } else {
        os << ',' << std::string(static_cast<size_t>(shape.rank() - axis - 1), '\n')
           << std::string(static_cast<size_t>(indent + axis + 1), ' ');
      }
    }
    if (idx[k] < 0)
      os << (last_axis ? " ..." : "...");
    else
      print_axis(os, data, shape, axis + 1, offset * shape[axis] + idx[k], summarize, fmt, indent);
  }
  os << ']';
}

}  // namespace

template <class T>
std::string BasicTensor<T>::str() const {
  if (!defined()) return "tensor(undefined)";
  const bool summarize = numel() > kSummarizeThreshold;
  std::vector<T> values;
  gather_shown(data(), shape(), 0, 0, summarize, values);
  Formatter<T> fmt(values);
  std::ostringstream os;
  os << "tensor(";
  if (numel() == 0 && rank() == 1)
    os << "[]";
  else
    print_axis(os, data(), shape(), 0, 0, summarize, fmt, 7);
  if (numel() == 0 && rank() != 1) os << ", size=" << shape().str();
  if (std::is_same<T, double>::value) os << ", dtype=float64";
  if (grad_fn())
    os << ", grad_fn=<" << grad_fn()->name() << "Backward>";
  else if (requires_grad())
    os << ", requires_grad=True";
  os << ')';
  return os.str();
}

template <class T>
std::ostream& operator<<(std::ostream& os, const BasicTensor<T>& t) {
  return os << t.str();
}

template class BasicTensor<float>;
template class BasicTensor<double>;
template BasicTensor<float> detail::alias(const BasicTensor<float>&, const Shape&);
template BasicTensor<double> detail::alias(const BasicTensor<double>&, const Shape&);
template BasicTensor<double> BasicTensor<float>::to<double>() const;
template BasicTensor<float> BasicTensor<double>::to<float>() const;
template BasicTensor<float> BasicTensor<float>::to<float>() const;
template BasicTensor<double> BasicTensor<double>::to<double>() const;
template std::ostream& operator<<(std::ostream&, const BasicTensor<float>&);
template std::ostream& operator<<(std::ostream&, const BasicTensor<double>&);

}  // namespace eigrad
