#include "eigrad/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>
#include <sstream>
#include <type_traits>

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

// int64 and bool tensors never carry gradients.
template <class T>
void check_can_require_grad(const char* op, bool requires_grad) {
  if constexpr (!is_floating_dtype_v<T>) {
    if (requires_grad)
      throw Error(std::string(op) +
                  ": only float32 and float64 tensors can require gradients, got " + "a " +
                  DtypeName<T>::value + " tensor (convert it with to<float>() first)");
  }
}

template <class T>
std::string number(T v) {
  if constexpr (std::is_same_v<T, bool>)
    return v ? "true" : "false";
  else
    return std::to_string(v);
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
  check_can_require_grad<T>("Tensor::full", requires_grad);
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
  check_can_require_grad<T>("Tensor::from", requires_grad);
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
  if constexpr (std::is_same_v<T, bool>) {
    throw Error("Tensor::arange: not defined for bool tensors");
  } else {
    if (!(step != T(0)) || !std::isfinite(double(start)) || !std::isfinite(double(end)) ||
        !std::isfinite(double(step)))
      throw Error("Tensor::arange: expected finite start, end and a non-zero step, got start " +
                  std::to_string(start) + ", end " + std::to_string(end) + ", step " +
                  std::to_string(step));
    const double count = std::ceil((static_cast<double>(end) - start) / step);
    const int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
    BasicTensor t = empty(Shape{n});
    for (int64_t i = 0; i < n; ++i)
      fresh(t).data()[i] = static_cast<T>(static_cast<double>(start) +
                                          static_cast<double>(i) * static_cast<double>(step));
    return t;
  }
}

template <class T>
BasicTensor<T> BasicTensor<T>::linspace(T start, T end, int64_t steps) {
  if constexpr (std::is_same_v<T, bool>)
    throw Error("Tensor::linspace: not defined for bool tensors");
  if (steps < 0)
    throw Error("Tensor::linspace: steps must be non-negative, got " + std::to_string(steps));
  BasicTensor t = empty(Shape{steps});
  const double delta = steps > 1 ? (static_cast<double>(end) - start) / (steps - 1) : 0.0;
  for (int64_t i = 0; i < steps; ++i)
    fresh(t).data()[i] =
        static_cast<T>(static_cast<double>(start) +
                       delta * static_cast<double>(i));  // int64: truncates, as PyTorch
  if (steps > 1) fresh(t).data()[steps - 1] = end;
  return t;
}

template <class T>
BasicTensor<T> BasicTensor<T>::uniform(const Shape& shape, T lo, T hi, Generator& gen) {
  if constexpr (!is_floating_dtype_v<T>)
    throw Error(std::string("Tensor::uniform: needs a float32 or float64 tensor, not ") +
                DtypeName<T>::value + " (use LongTensor::randint for integers)");
  if (!(lo <= hi))
    throw Error("Tensor::uniform: expected lo <= hi, got lo " + std::to_string(lo) + ", hi " +
                std::to_string(hi));
  BasicTensor t = empty(shape);
  for (T& v : fresh(t)) v = static_cast<T>(gen.uniform(lo, hi));
  return t;
}

template <class T>
BasicTensor<T> BasicTensor<T>::normal(const Shape& shape, T mean, T stddev, Generator& gen) {
  if constexpr (!is_floating_dtype_v<T>)
    throw Error(std::string("Tensor::normal: needs a float32 or float64 tensor, not ") +
                DtypeName<T>::value);
  if (!(stddev >= T(0)))
    throw Error("Tensor::normal: expected stddev >= 0, got " + std::to_string(stddev));
  BasicTensor t = empty(shape);
  for (T& v : fresh(t)) v = static_cast<T>(mean + stddev * gen.normal());
  return t;
}

template <class T>
BasicTensor<T> BasicTensor<T>::randint(int64_t low, int64_t high, const Shape& shape,
                                       Generator& gen) {
  if constexpr (!std::is_same_v<T, int64_t>)
    throw Error(std::string("Tensor::randint: makes int64 tensors (LongTensor::randint), not ") +
                DtypeName<T>::value);
  if (!(low < high))
    throw Error("Tensor::randint: expected low < high, got low " + std::to_string(low) + ", high " +
                std::to_string(high));
  BasicTensor t = empty(shape);
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  for (T& v : fresh(t))
    v = static_cast<T>(static_cast<int64_t>(static_cast<uint64_t>(low) + gen.randint(range)));
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
  if constexpr (std::is_same_v<U, int64_t> && is_floating_dtype_v<T>) {
    // Truncates toward zero as PyTorch does; where C++ leaves the cast undefined (NaN, out of
    // range) it saturates, and NaN becomes 0.
    const T* in = data();
    int64_t* o = fresh(out).data();
    for (int64_t i = 0; i < numel(); ++i) {
      const T v = in[i];
      o[i] = std::isnan(v)                    ? 0
             : v >= T(9.2233720368547758e18)  ? std::numeric_limits<int64_t>::max()
             : v <= T(-9.2233720368547758e18) ? std::numeric_limits<int64_t>::min()
                                              : static_cast<int64_t>(v);
    }
  } else {
    fresh(out) = array().template cast<U>();
  }
  return out;
}

template <class T>
BasicTensor<T>& BasicTensor<T>::set_requires_grad(bool requires_grad) {
  check_can_require_grad<T>("Tensor::set_requires_grad", requires_grad);
  if constexpr (!is_floating_dtype_v<T>) return *this;  // false, and no graph
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

// int64 and bool: PyTorch prints integers as they are and booleans as True/False, right-aligned.
template <class T>
struct IntegerFormatter {
  int width = 1;
  explicit IntegerFormatter(const std::vector<T>& values) {
    for (T v : values) width = std::max(width, static_cast<int>(format(v).size()));
  }
  static std::string format(T v) {
    if constexpr (std::is_same_v<T, bool>)
      return v ? "True" : "False";
    else
      return std::to_string(v);
  }
  std::string padded(T v) const {
    std::string s = format(v);
    return std::string(static_cast<size_t>(std::max(0, width - static_cast<int>(s.size()))), ' ') +
           s;
  }
};

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
template <class T, class Fmt>
void print_axis(std::ostringstream& os, const T* data, const Shape& shape, int axis, int64_t offset,
                bool summarize, const Fmt& fmt, int indent) {
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
  std::conditional_t<is_floating_dtype_v<T>, Formatter<T>, IntegerFormatter<T>> fmt(values);
  std::ostringstream os;
  os << "tensor(";
  if (numel() == 0 && rank() == 1)
    os << "[]";
  else
    print_axis(os, data(), shape(), 0, 0, summarize, fmt, 7);
  if (numel() == 0 && rank() != 1) os << ", size=" << shape().str();
  if constexpr (std::is_same_v<T, double>) os << ", dtype=float64";
  if constexpr (!is_floating_dtype_v<T>) {
    if (numel() == 0) os << ", dtype=" << DtypeName<T>::value;  // as PyTorch: empty ones only
  } else {
    if (grad_fn())
      os << ", grad_fn=<" << grad_fn()->name() << "Backward>";
    else if (requires_grad())
      os << ", requires_grad=True";
  }
  os << ')';
  return os.str();
}

template <class T>
std::ostream& operator<<(std::ostream& os, const BasicTensor<T>& t) {
  return os << t.str();
}

std::vector<int64_t> detail::index_vector(const char* op, const char* what, const LongTensor& t) {
  if (t.rank() != 1)
    throw Error(std::string(op) + ": " + what + " must be a rank-1 int64 tensor, got shape " +
                t.shape().str());
  return t.to_vector();
}

template class BasicTensor<float>;
template class BasicTensor<double>;
template class BasicTensor<int64_t>;
template class BasicTensor<bool>;
#define EIGRAD_INSTANTIATE_TENSOR_EXTRAS(T)                                   \
  template BasicTensor<T> detail::alias(const BasicTensor<T>&, const Shape&); \
  template BasicTensor<float> BasicTensor<T>::to<float>() const;              \
  template BasicTensor<double> BasicTensor<T>::to<double>() const;            \
  template BasicTensor<int64_t> BasicTensor<T>::to<int64_t>() const;          \
  template BasicTensor<bool> BasicTensor<T>::to<bool>() const;                \
  template std::ostream& operator<<(std::ostream&, const BasicTensor<T>&);
EIGRAD_INSTANTIATE_TENSOR_EXTRAS(float)
EIGRAD_INSTANTIATE_TENSOR_EXTRAS(double)
EIGRAD_INSTANTIATE_TENSOR_EXTRAS(int64_t)
EIGRAD_INSTANTIATE_TENSOR_EXTRAS(bool)

}  // namespace eigrad
