#pragma once
// BasicTensor<T>: an N-dimensional, contiguous, row-major tensor of float or double.
// A tensor is a cheap handle: copies share storage and graph node; clone() copies the data.
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "eigrad/eigen.hpp"
#include "eigrad/error.hpp"
#include "eigrad/random.hpp"
#include "eigrad/shape.hpp"

namespace eigrad {

namespace detail {
template <class T>
class Node;  // a node of the graph, private to the library (src/autograd/graph.hpp)
}  // namespace detail
template <class T>
class BasicTensor;

template <class T>
struct DtypeName;
template <>
struct DtypeName<float> {
  static constexpr const char* value = "float32";
};
template <>
struct DtypeName<double> {
  static constexpr const char* value = "float64";
};

namespace detail {
// A storage's version (PyTorch's tensor._version): every change made in place through the public
// API advances it, and backward() compares it with the version an op saved. It lives in the
// storage's own allocation, so that tensors sharing a storage (reshape, detach) share it too.
// Relaxed loads and stores, not an atomic increment: a write is not synchronised with readers
// anyway, and this keeps the count as cheap as a plain one.
using VersionCounter = std::atomic<uint64_t>;
inline void advance(VersionCounter& version) {
  version.store(version.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

template <class T>
struct TensorImpl {
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  Shape shape;
  std::shared_ptr<Array> data;
  VersionCounter* version = nullptr;  // in the allocation `data` keeps alive
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node<T>> grad_fn;         // the node that produced this tensor (non-leaf)
  std::weak_ptr<Node<T>> grad_accumulator;  // for leaves that require grad
  bool requires_grad = false;
};
}  // namespace detail

template <class T>
class BasicTensor {
 public:
  using Scalar = T;
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  using Storage = std::shared_ptr<Array>;

  // An undefined tensor (like a default-constructed torch::Tensor): defined() is false.
  BasicTensor() = default;

  // ---- factories ----
  static BasicTensor empty(const Shape& shape);  // uninitialised values
  static BasicTensor zeros(const Shape& shape, bool requires_grad = false);
  static BasicTensor ones(const Shape& shape, bool requires_grad = false);
  static BasicTensor full(const Shape& shape, T value, bool requires_grad = false);
  static BasicTensor scalar(T value, bool requires_grad = false);
  static BasicTensor from(std::vector<T> values, const Shape& shape, bool requires_grad = false);
  static BasicTensor from(std::vector<T> values);  // rank 1
  static BasicTensor arange(T start, T end, T step = T(1));
  static BasicTensor linspace(T start, T end, int64_t steps);
  static BasicTensor uniform(const Shape& shape, T lo, T hi, Generator& gen);
  static BasicTensor normal(const Shape& shape, T mean, T stddev, Generator& gen);
  // Wraps existing storage (shared, not copied) with a shape of the same number of elements. The
  // new tensor has a version counter of its own, as torch::from_blob's has: writes through it are
  // not seen by another tensor made on the same storage (use reshape() or detach() for that).
  static BasicTensor from_storage(Storage storage, const Shape& shape);

  // ---- properties ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked().shape; }
  int rank() const { return shape().rank(); }
  int64_t numel() const { return shape().numel(); }
  int64_t size(int axis) const;
  static constexpr const char* dtype() { return DtypeName<T>::value; }

  // ---- data ----
  // Reads, on any handle: they never change version().
  const T* data() const { return checked().data->data(); }
  const Array& array() const { return *checked().data; }
  T at(std::initializer_list<int64_t> index) const;
  std::vector<T> to_vector() const;
  T item() const;
  // Writes in place: each call advances version() (it counts as an in-place write, like a
  // PyTorch in-place op), so a backward that saved the old values throws instead of computing a
  // wrong gradient. Writes through storage() are not counted.
  T* mutable_data() { return written().data->data(); }
  Array& mutable_array() { return *written().data; }
  T& mutable_at(std::initializer_list<int64_t> index);
  const Storage& storage() const { return checked().data; }
  // How many times the values were changed in place through the public API (PyTorch's _version).
  uint64_t version() const { return checked().version->load(std::memory_order_relaxed); }
  template <class U>
  BasicTensor<U> to() const;  // dtype conversion (a copy, outside the graph)

  // ---- autograd ----
  bool requires_grad() const { return checked().requires_grad; }
  BasicTensor& set_requires_grad(bool requires_grad = true);
  bool is_leaf() const { return checked().grad_fn == nullptr; }
  BasicTensor grad() const;  // undefined until a backward reaches this leaf
  void zero_grad();          // drops the accumulated gradient
  // The node that produced this tensor (null for a leaf): an opaque handle, to compare or test.
  const std::shared_ptr<detail::Node<T>>& grad_fn() const { return checked().grad_fn; }
  // The name of the op that produced this tensor ("mul"), or "" for a leaf.
  std::string grad_fn_name() const;
  // Backpropagates from this tensor into the .grad() of the leaves it depends on. Without `grad`
  // the tensor must hold one element. With create_graph the gradients accumulated are tensors in
  // a graph of their own (differentiable again), and the graph is kept (retain_graph).
  void backward(const BasicTensor& grad = BasicTensor(), bool retain_graph = false,
                bool create_graph = false) const;
  BasicTensor clone() const;   // copies the data; the copy is a new leaf
  BasicTensor detach() const;  // shares the data; drops the graph

  std::string str() const;  // PyTorch-style repr
  bool same(const BasicTensor& other) const { return impl_ == other.impl_; }

  // Internal: the node engine and ops work on the implementation.
  using Impl = detail::TensorImpl<T>;
  explicit BasicTensor(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  const std::shared_ptr<Impl>& impl() const { return impl_; }

 private:
  // Kept to a test and a call, so that every accessor inlines; the throw is out of line.
  Impl& checked() const {
    if (!impl_) throw_undefined();
    return *impl_;
  }
  [[noreturn]] static void throw_undefined();
  Impl& written() const {
    Impl& impl = checked();
    detail::advance(*impl.version);
    return impl;
  }
  int64_t flat_index(std::initializer_list<int64_t> index) const;

  std::shared_ptr<Impl> impl_;
};

using Tensor = BasicTensor<float>;
using DoubleTensor = BasicTensor<double>;

// The element type of BasicTensor<T> in an op's signature, where it keeps T deduced from the
// tensor arguments alone (so `x * 2.0` works for a float tensor).
template <class T>
using Scalar = typename BasicTensor<T>::Scalar;

template <class T>
std::ostream& operator<<(std::ostream& os, const BasicTensor<T>& t);

// ---- the storage cache ----
// A training step frees and allocates the same large buffers every step. Storage of 64 KiB and
// more is therefore not freed when its last tensor goes: eigrad keeps it, by size, for the next
// tensor of the same dtype and size (like PyTorch's caching allocator). The cache is bounded: when
// it would hold more than its limit, the oldest buffers are freed. It is thread-safe.
struct StorageCacheInfo {
  size_t cached_bytes;    // held by the cache, not by any tensor
  size_t cached_buffers;  // how many buffers that is
  size_t limit_bytes;     // the bound on cached_bytes
};
constexpr size_t kDefaultStorageCacheLimit = size_t(1) << 30;  // 1 GiB
// Frees every buffer the cache holds (like torch.cuda.empty_cache); storage in use is untouched.
void empty_cache();
// Sets the bound on the cached bytes, freeing the oldest buffers to meet it; 0 turns caching off.
void set_storage_cache_limit(size_t bytes);
StorageCacheInfo storage_cache_info();

namespace detail {
// Scratch arrays through the same cache, for the engine's gradient buffers and ops' backward
// temporaries: take_array gives `numel` uninitialised elements (a cached buffer of that size if
// there is one); recycle hands an array's buffer back (small ones are freed) and leaves it empty.
template <class T>
Eigen::Array<T, Eigen::Dynamic, 1> take_array(int64_t numel);
template <class T>
void recycle(Eigen::Array<T, Eigen::Dynamic, 1>& array);
// A tensor of `shape` on `t`'s storage and version counter, outside the graph (reshape, detach).
template <class T>
BasicTensor<T> alias(const BasicTensor<T>& t, const Shape& shape);
}  // namespace detail

extern template class BasicTensor<float>;
extern template class BasicTensor<double>;

}  // namespace eigrad
