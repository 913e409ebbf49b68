#pragma once
// BasicTensor<T>: an N-dimensional, contiguous, row-major tensor of float, double, int64_t or bool.
// A tensor is a cheap handle: copies share storage and graph node; clone() copies the data.
// float and double tensors take part in autograd; int64 and bool tensors (indices, labels, masks,
// comparison results) never do: asking one to require a gradient is an Error.
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "eigrad/eigen.hpp"
#include "eigrad/error.hpp"
#include "eigrad/random.hpp"
#include "eigrad/shape.hpp"

namespace eigrad {

namespace detail {
template <class T>
class Node;  ///< a node of the graph, private to the library (src/autograd/graph.hpp)
}  // namespace detail
template <class T>
class BasicTensor;
namespace indexing {
class TensorIndex;  ///< eigrad/ops/indexing.hpp
}  // namespace indexing

/// The element types a tensor can hold. Any other T is a compile error naming these.
template <class T>
inline constexpr bool is_dtype_v = std::is_same_v<T, float> || std::is_same_v<T, double> ||
                                   std::is_same_v<T, int64_t> || std::is_same_v<T, bool>;
/// The dtypes that carry gradients.
template <class T>
inline constexpr bool is_floating_dtype_v = std::is_same_v<T, float> || std::is_same_v<T, double>;

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
template <>
struct DtypeName<int64_t> {
  static constexpr const char* value = "int64";
};
template <>
struct DtypeName<bool> {
  static constexpr const char* value = "bool";
};

/// What register_hook (and nn::Module's hooks) return: remove() takes the hook away; removing
/// twice, or after the tensor is gone, does nothing.
class RemovableHandle {
 public:
  RemovableHandle() = default;
  explicit RemovableHandle(std::function<void()> remove) : remove_(std::move(remove)) {}
  void remove() {
    if (remove_) std::exchange(remove_, nullptr)();
  }

 private:
  std::function<void()> remove_;
};

namespace detail {
template <class T>
struct HookList;  ///< src/autograd/graph.hpp

/// A storage's version (PyTorch's tensor._version): every change made in place through the public
/// API advances it, and backward() compares it with the version an op saved. It lives in the
/// storage's own allocation, so that tensors sharing a storage (reshape, detach) share it too.
/// Relaxed loads and stores, not an atomic increment: a write is not synchronised with readers
/// anyway, and this keeps the count as cheap as a plain one.
using VersionCounter = std::atomic<uint64_t>;
inline void advance(VersionCounter& version) {
  version.store(version.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

template <class T>
struct TensorImpl {
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  Shape shape;
  std::shared_ptr<Array> data;
  VersionCounter* version = nullptr;  ///< in the allocation `data` keeps alive
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node<T>> grad_fn;         ///< the node that produced this tensor (non-leaf)
  std::weak_ptr<Node<T>> grad_accumulator;  ///< for leaves that require grad
  std::shared_ptr<HookList<T>> hooks;  ///< a leaf's gradient hooks (a non-leaf's are its node's)
  bool requires_grad = false;
};
}  // namespace detail

template <class T>
class BasicTensor {
  static_assert(is_dtype_v<T>,
                "eigrad::BasicTensor<T>: T must be float, double, int64_t or bool (Tensor, "
                "DoubleTensor, LongTensor, BoolTensor)");

 public:
  using Scalar = T;
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  using Storage = std::shared_ptr<Array>;

  /// An undefined tensor (like a default-constructed torch::Tensor): defined() is false.
  BasicTensor() = default;

  // ---- factories ----
  static BasicTensor empty(const Shape& shape);  ///< uninitialised values
  static BasicTensor zeros(const Shape& shape, bool requires_grad = false);
  static BasicTensor ones(const Shape& shape, bool requires_grad = false);
  static BasicTensor full(const Shape& shape, T value, bool requires_grad = false);
  static BasicTensor scalar(T value, bool requires_grad = false);
  static BasicTensor from(std::vector<T> values, const Shape& shape, bool requires_grad = false);
  static BasicTensor from(std::vector<T> values);  ///< rank 1
  static BasicTensor arange(T start, T end, T step = T(1));
  static BasicTensor linspace(T start, T end, int64_t steps);
  /// float and double only (an Error for int64 and bool: use randint).
  static BasicTensor uniform(const Shape& shape, T lo, T hi, Generator& gen);
  static BasicTensor normal(const Shape& shape, T mean, T stddev, Generator& gen);
  /// Integers uniform in [low, high) (int64 only; an Error for the other dtypes).
  static BasicTensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen);
  /// Wraps existing storage (shared, not copied) with a shape of the same number of elements. The
  /// new tensor has a version counter of its own, as torch::from_blob's has: writes through it are
  /// not seen by another tensor made on the same storage (use reshape() or detach() for that).
  static BasicTensor from_storage(Storage storage, const Shape& shape);

  // ---- properties ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked().shape; }
  int rank() const { return shape().rank(); }
  int64_t numel() const { return shape().numel(); }
  int64_t size(int axis) const;
  static constexpr const char* dtype() { return DtypeName<T>::value; }

  // ---- data ----
  /// Reads, on any handle: they never change version().
  const T* data() const { return checked().data->data(); }
  const Array& array() const { return *checked().data; }
  T at(std::initializer_list<int64_t> index) const;
  std::vector<T> to_vector() const;
  T item() const;
  /// Writes in place: each call advances version() (it counts as an in-place write, like a
  /// PyTorch in-place op), so a backward that saved the old values throws instead of computing a
  /// wrong gradient. Writes through storage() are not counted.
  T* mutable_data() { return written().data->data(); }
  Array& mutable_array() { return *written().data; }
  T& mutable_at(std::initializer_list<int64_t> index);
  const Storage& storage() const { return checked().data; }
  /// How many times the values were changed in place through the public API (PyTorch's _version).
  uint64_t version() const { return checked().version->load(std::memory_order_relaxed); }
  template <class U>
  BasicTensor<U> to() const;  ///< dtype conversion (a copy, outside the graph)

  // ---- autograd ----
  bool requires_grad() const { return checked().requires_grad; }
  BasicTensor& set_requires_grad(bool requires_grad = true);
  bool is_leaf() const { return checked().grad_fn == nullptr; }
  BasicTensor grad() const;  ///< undefined until a backward reaches this leaf
  void zero_grad();          ///< drops the accumulated gradient
  /// The node that produced this tensor (null for a leaf): an opaque handle, to compare or test.
  const std::shared_ptr<detail::Node<T>>& grad_fn() const { return checked().grad_fn; }
  /// The name of the op that produced this tensor ("mul"), or "" for a leaf.
  std::string grad_fn_name() const;
  /// Backpropagates from this tensor into the .grad() of the leaves it depends on. Without `grad`
  /// the tensor must hold one element. With create_graph the gradients accumulated are tensors in
  /// a graph of their own (differentiable again), and the graph is kept (retain_graph).
  void backward(const BasicTensor& grad = BasicTensor(), bool retain_graph = false,
                bool create_graph = false) const;
  /// Registers hook(grad), called with this tensor's gradient during every later backward, before
  /// the gradient flows on (or, for a leaf, is added to .grad()). A hook that returns a tensor
  /// (of the gradient's shape) replaces the gradient; one that returns void or an undefined tensor
  /// only looks. Hooks run in the order they were registered; eigrad::grad() captures gradients
  /// before they run (as torch.autograd.grad does). The tensor must require grad.
  template <class F>
  RemovableHandle register_hook(F&& hook) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, const BasicTensor&>>)
      return add_hook([f = std::forward<F>(hook)](const BasicTensor& g) mutable {
        f(g);
        return BasicTensor();
      });
    else
      return add_hook(std::function<BasicTensor(const BasicTensor&)>(std::forward<F>(hook)));
  }
  RemovableHandle add_hook(std::function<BasicTensor(const BasicTensor&)> hook);

  BasicTensor clone() const;   ///< copies the data; the copy is a new leaf
  BasicTensor detach() const;  ///< shares the data; drops the graph

  // ---- indexing (eigrad/ops/indexing.hpp, after libtorch's TensorIndexing) ----
  /// x.index({0, Slice(1, None, 2), Ellipsis, None, mask, indices}): integers, slices, Ellipsis,
  /// None (a new axis), bool masks and int64 index tensors, with PyTorch's semantics. The result
  /// is a copy (eigrad has no strided views), differentiable in x.
  BasicTensor index(const std::vector<indexing::TensorIndex>& indices) const;
  /// x[i]: the i-th entry along axis 0 (index({i})); a negative i counts from the end.
  BasicTensor operator[](int64_t i) const;
  /// Writes `values` (broadcast to the indexed shape) or `value` at the indexed positions, in
  /// place; with accumulate, adds instead (repeated positions add up). Recorded in the graph when
  /// values or this tensor require grad; a leaf that requires grad cannot be written in place.
  BasicTensor& index_put_(const std::vector<indexing::TensorIndex>& indices,
                          const BasicTensor& values, bool accumulate = false);
  BasicTensor& index_put_(const std::vector<indexing::TensorIndex>& indices, T value);

  std::string str() const;  ///< PyTorch-style repr
  bool same(const BasicTensor& other) const { return impl_ == other.impl_; }

  /// Internal: the node engine and ops work on the implementation.
  using Impl = detail::TensorImpl<T>;
  explicit BasicTensor(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  const std::shared_ptr<Impl>& impl() const { return impl_; }

 private:
  /// Kept to a test and a call, so that every accessor inlines; the throw is out of line.
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
using LongTensor = BasicTensor<int64_t>;
using BoolTensor = BasicTensor<bool>;

namespace detail {
/// The values of a rank-1 int64 tensor of indices or labels (the ops' vector forms take these).
std::vector<int64_t> index_vector(const char* op, const char* what, const LongTensor& t);
}  // namespace detail

/// The element type of BasicTensor<T> in an op's signature, where it keeps T deduced from the
/// tensor arguments alone (so `x * 2.0` works for a float tensor).
template <class T>
using Scalar = typename BasicTensor<T>::Scalar;

template <class T>
std::ostream& operator<<(std::ostream& os, const BasicTensor<T>& t);

// ---- the storage cache ----
/// A training step frees and allocates the same large buffers every step. Storage of 64 KiB and
/// more is therefore not freed when its last tensor goes: eigrad keeps it, by size, for the next
/// tensor of the same dtype and size (like PyTorch's caching allocator). The cache is bounded: when
/// it would hold more than its limit, the oldest buffers are freed. It is thread-safe.
struct StorageCacheInfo {
  size_t cached_bytes;    ///< held by the cache, not by any tensor
  size_t cached_buffers;  ///< how many buffers that is
  size_t limit_bytes;     ///< the bound on cached_bytes
};
constexpr size_t kDefaultStorageCacheLimit = size_t(1) << 30;  ///< 1 GiB
/// Frees every buffer the cache holds (like torch.cuda.empty_cache); storage in use is untouched.
void empty_cache();
/// Sets the bound on the cached bytes, freeing the oldest buffers to meet it; 0 turns caching off.
void set_storage_cache_limit(size_t bytes);
StorageCacheInfo storage_cache_info();

namespace detail {
/// Scratch arrays through the same cache, for the engine's gradient buffers and ops' backward
/// temporaries: take_array gives `numel` uninitialised elements (a cached buffer of that size if
/// there is one); recycle hands an array's buffer back (small ones are freed) and leaves it empty.
template <class T>
Eigen::Array<T, Eigen::Dynamic, 1> take_array(int64_t numel);
template <class T>
void recycle(Eigen::Array<T, Eigen::Dynamic, 1>& array);
/// A tensor of `shape` on `t`'s storage and version counter, outside the graph (reshape, detach).
template <class T>
BasicTensor<T> alias(const BasicTensor<T>& t, const Shape& shape);
}  // namespace detail

/// int64 and bool tensors never take part in the graph: these throw (requires_grad never holds).
template <>
void BasicTensor<int64_t>::backward(const BasicTensor&, bool, bool) const;
template <>
void BasicTensor<bool>::backward(const BasicTensor&, bool, bool) const;
template <>
std::string BasicTensor<int64_t>::grad_fn_name() const;
template <>
std::string BasicTensor<bool>::grad_fn_name() const;
template <>
RemovableHandle BasicTensor<int64_t>::add_hook(std::function<BasicTensor(const BasicTensor&)>);
template <>
RemovableHandle BasicTensor<bool>::add_hook(std::function<BasicTensor(const BasicTensor&)>);
/// For bool tensors, index_put_ with accumulate is a logical or.
template <>
BasicTensor<bool>& BasicTensor<bool>::index_put_(const std::vector<indexing::TensorIndex>&,
                                                 const BasicTensor&, bool);

extern template class BasicTensor<float>;
extern template class BasicTensor<double>;
extern template class BasicTensor<int64_t>;
extern template class BasicTensor<bool>;

}  // namespace eigrad
