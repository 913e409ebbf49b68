#pragma once
// The define-by-run graph: a Node per recorded op, pointing only to the nodes of its inputs.
// backward() orders the nodes by an iterative topological sort (Kahn) and never recurses;
// Node's destructor tears long chains down iteratively too.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eigrad/parallel.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

// ---- grad mode (thread-local, like PyTorch's) ----
bool is_grad_enabled();
void set_grad_enabled(bool enabled);

// Disables graph recording in this thread for the guard's lifetime.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// ---- anomaly detection (off by default), like torch.autograd.detect_anomaly ----
// When on, every recorded op's output and every gradient computed by backward is checked for
// NaN and infinity; the first one found throws an Error naming the op and where it was created
// (the call stack at creation). When off it costs one relaxed atomic load per op.
bool is_anomaly_enabled();
void set_anomaly_enabled(bool enabled);

class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard() : previous_(is_anomaly_enabled()) { set_anomaly_enabled(true); }
  ~DetectAnomalyGuard() { set_anomaly_enabled(previous_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

namespace detail {
extern std::atomic<bool> anomaly_flag;
inline bool anomaly_on() {
  return anomaly_flag.load(std::memory_order_relaxed);
}
// The return addresses where an op was recorded (anomaly mode), kept raw because recording must
// be cheap; they are named only when an anomaly error is raised (src/backtrace.cpp).
struct CallStack {
  static constexpr int capacity = 48;
  void* frames[capacity];
  int size = 0;
};
CallStack call_stack();
// One frame a line, from the op down: the function's name, and file:line where debug info exists.
std::string describe(const CallStack& stack);
std::string demangle(const char* mangled);  // a C++ type or function name as written
// Throws the anomaly error when `values` holds NaN or infinity.
template <class Derived>
void check_finite(const Eigen::ArrayBase<Derived>& values, const std::string& what,
                  const CallStack* origin) {
  if (values.allFinite()) return;
  Eigen::Index at = 0;
  while (std::isfinite(values.derived().coeff(at))) ++at;
  const bool nan = std::isnan(values.derived().coeff(at));
  throw Error("anomaly: " + what + " produced " + (nan ? "nan" : "inf") + " at element " +
              std::to_string(at) +
              (origin ? "; the op was created at:\n" + describe(*origin) : ""));
}
}  // namespace detail

template <class T>
class GradSink;
template <class T>
struct Engine;

// Which of an op's values its backward reads: inputs by position, and the output. record() notes
// their versions, and backward() checks them before the op's backward runs. An op that declares a
// value must also keep its storage (capture it), which keeps the version counter alive.
class Saves {
 public:
  constexpr Saves() = default;
  // Inputs 0 to 31 (an op with more, like cat, saves none of them).
  constexpr Saves input(int index) const {
    return index >= 0 && index < 32
               ? Saves(inputs_ | (1u << index), output_)
               : throw Error("Saves::input: input " + std::to_string(index) +
                             " is out of range; an op can declare inputs 0 to 31");
  }
  constexpr Saves output() const { return Saves(inputs_, true); }
  constexpr uint32_t inputs() const { return inputs_; }
  constexpr bool has_output() const { return output_; }

 private:
  constexpr Saves(uint32_t inputs, bool output) : inputs_(inputs), output_(output) {}
  uint32_t inputs_ = 0;
  bool output_ = false;
};

template <class T>
class Node {
 public:
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  using Ptr = std::shared_ptr<Node>;

  Node(const char* name, int64_t numel) : name_(name), numel_(numel) {}
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const char* name() const { return name_; }
  int64_t numel() const { return numel_; }  // elements of the gradient this node receives
  const std::vector<Ptr>& next() const { return next_; }

  // Receives the gradient of this node's output and adds the gradient of each input that needs
  // one to `sink`.
  virtual void apply(const Array& grad, GradSink<T>& sink) = 0;
  // Frees what backward saved; a released node throws if applied again.
  virtual void release() {}
  // Graph construction: the next input's node (null where it needs no gradient).
  void add_next(Ptr node) { next_.push_back(std::move(node)); }
  void reserve_next(size_t count) { next_.reserve(count); }
  // Notes that backward reads a value now at `counter`'s version: input `which`, or the output when
  // `which` is -1. The caller keeps the storage, and with it the counter, alive.
  void save_version(const detail::VersionCounter* counter, int which);
  // Throws when a saved value has been changed in place since it was saved.
  void check_versions() const {
    for (int i = 0; i < saved_count_; ++i)
      if (saved_[i].counter->load(std::memory_order_relaxed) != saved_[i].expected)
        throw_modified(saved_[i]);
  }
  // Where the node was created; recorded only in anomaly mode.
  const detail::CallStack* origin() const { return origin_.get(); }
  void set_origin(const detail::CallStack& origin) {
    origin_ = std::make_unique<const detail::CallStack>(origin);
  }

 private:
  friend class GradSink<T>;
  friend struct Engine<T>;

  struct SavedVersion {
    const detail::VersionCounter* counter;
    uint64_t expected;
    int which;
  };
  [[noreturn]] void throw_modified(const SavedVersion& saved) const;

  const char* name_;
  int64_t numel_;
  std::vector<Ptr> next_;  // one per input; null where the input needs no gradient
  // Inline: an op saves at most three values (a nodes' allocation is on the hot path).
  SavedVersion saved_[3];
  int saved_count_ = 0;
  // Engine scratch, valid during one backward pass.
  Array pending_;
  bool has_pending_ = false;
  int dependencies_ = 0;
  uint64_t pass_ = 0;
  std::unique_ptr<const detail::CallStack> origin_;
};

// Where an op's backward puts its inputs' gradients: sums them into the inputs' nodes.
template <class T>
class GradSink {
 public:
  using Array = typename Node<T>::Array;
  // `owned` is the node's own gradient buffer when pass() may move from it (null otherwise).
  GradSink(Node<T>& node, Array* owned) : node_(node), owned_(owned) {}

  bool needs(size_t input) const { return node_.next_[input] != nullptr; }

  // The node's incoming gradient `grad` as an array of one's own: moved out of the node's buffer
  // when the engine owns it, else copied. Call it last: `grad` may be empty afterwards.
  Array take(const Array& grad) {
    if (owned_ && &grad == owned_) {
      owned_ = nullptr;
      return std::move(*const_cast<Array*>(&grad));
    }
    return grad;
  }
  // Passes the incoming gradient unchanged to `input` (reshape, add), moving it when it can.
  void pass(size_t input, const Array& grad) {
    if (needs(input)) add(input, take(grad));
  }

  template <class Expr>
  void add(size_t input, const Expr& grad) {
    Node<T>* target = node_.next_[input].get();
    if (!target) return;
    check(input, *target, grad.size());
    if (target->has_pending_) {
      add_assign(target->pending_, grad);
    } else {
      if (target->pending_.size() != grad.size())
        target->pending_ = detail::take_array<T>(grad.size());
      assign(target->pending_, grad);
      target->has_pending_ = true;
    }
    if (detail::anomaly_on()) check_anomaly(input, *target);
  }
  // Adds `grad` to the elements [offset, offset + grad.size()) of `input`'s gradient, the rest of
  // which stays zero unless another edge adds to it (an output of a Function with several).
  void add_slice(size_t input, Eigen::Index offset, const Array& grad) {
    Node<T>* target = node_.next_[input].get();
    if (!target) return;
    if (offset < 0 || offset + grad.size() > target->numel())
      throw Error(std::string("backward of ") + node_.name() + ": a gradient slice of " +
                  std::to_string(grad.size()) + " elements at offset " + std::to_string(offset) +
                  " does not fit input " + std::to_string(input) + "'s " +
                  std::to_string(target->numel()) + " elements");
    if (!target->has_pending_) {
      if (target->pending_.size() != target->numel())
        target->pending_ = detail::take_array<T>(target->numel());
      target->pending_.setZero();
      target->has_pending_ = true;
    }
    target->pending_.segment(offset, grad.size()) += grad;
    if (detail::anomaly_on()) check_anomaly(input, *target);
  }
  void add(size_t input, Array&& grad) {
    Node<T>* target = node_.next_[input].get();
    if (!target) return;
    check(input, *target, grad.size());
    if (target->has_pending_) {
      add_assign(target->pending_, grad);
      detail::recycle(grad);
    } else {
      target->pending_ = std::move(grad);
      target->has_pending_ = true;
    }
    if (detail::anomaly_on()) check_anomaly(input, *target);
  }

 private:
  void check_anomaly(size_t input, const Node<T>& target) const {
    detail::check_finite(target.pending_,
                         std::string("backward of '") + node_.name() + "' (gradient of input " +
                             std::to_string(input) + ")",
                         node_.origin());
  }
  void check(size_t input, const Node<T>& target, Eigen::Index size) const {
    if (size != target.numel())
      throw Error(std::string("backward of ") + node_.name() + ": gradient for input " +
                  std::to_string(input) + " has " + std::to_string(size) +
                  " elements but the input has " + std::to_string(target.numel()));
  }
  Node<T>& node_;
  Array* owned_;
};

// A node whose backward is a lambda written beside the op's forward (flashlight's gradFunc).
// The lambda captures only what backward reads: storages, never tensors (so no node is kept
// alive through a saved value and teardown stays iterative).
template <class T, class F>
class FunctionNode final : public Node<T> {
 public:
  using Array = typename Node<T>::Array;
  FunctionNode(const char* name, int64_t numel, F fn) : Node<T>(name, numel), fn_(std::move(fn)) {}
  void apply(const Array& grad, GradSink<T>& sink) override {
    if (!fn_)
      throw Error(std::string("backward: trying to backward through '") + this->name() +
                  "' a second time: its saved values were freed by the first backward; pass "
                  "retain_graph = true to the first backward() to keep them");
    (*fn_)(grad, sink);
  }
  void release() override { fn_.reset(); }

 private:
  std::optional<F> fn_;
};

// True when grad mode is on and some input requires grad: the op must record a node.
template <class T>
bool needs_grad(std::initializer_list<const BasicTensor<T>*> inputs) {
  if (!is_grad_enabled()) return false;
  for (const BasicTensor<T>* t : inputs)
    if (t->requires_grad()) return true;
  return false;
}
template <class T>
bool needs_grad(const BasicTensor<T>& a) {
  return is_grad_enabled() && a.requires_grad();
}
template <class T>
bool needs_grad(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  return is_grad_enabled() && (a.requires_grad() || b.requires_grad());
}

// The node a gradient for `input` must go to: its grad_fn, its accumulator, or none.
template <class T>
typename Node<T>::Ptr make_edge(const BasicTensor<T>& input);

// Makes `out` the output of a new node with `backward`, whose inputs are `inputs` in order, and
// which reads the values `saves` names (call it once out's values are final).
template <class T, class Inputs, class F>
void record_inputs(const char* name, BasicTensor<T>& out, const Inputs& inputs, Saves saves,
                   F&& backward) {
  auto node = std::make_shared<FunctionNode<T, std::decay_t<F>>>(name, out.numel(),
                                                                 std::forward<F>(backward));
  node->reserve_next(inputs.size());
  int index = 0;
  for (const BasicTensor<T>* t : inputs) {
    node->add_next(make_edge(*t));
    if (index < 32 && (saves.inputs() & (1u << index)))
      node->save_version(t->impl()->version, index);
    ++index;
  }
  if (saves.has_output()) node->save_version(out.impl()->version, -1);
  if (detail::anomaly_on()) {
    node->set_origin(detail::call_stack());
    detail::check_finite(std::as_const(out).array(), std::string("forward of '") + name + "'",
                         node->origin());
  }
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
}
template <class T, class F>
void record(const char* name, BasicTensor<T>& out,
            std::initializer_list<const BasicTensor<T>*> inputs, Saves saves, F&& backward) {
  record_inputs(name, out, inputs, saves, std::forward<F>(backward));
}
// For an op whose backward reads none of its values (add, reshape, sum).
template <class T, class F>
void record(const char* name, BasicTensor<T>& out,
            std::initializer_list<const BasicTensor<T>*> inputs, F&& backward) {
  record_inputs(name, out, inputs, Saves(), std::forward<F>(backward));
}

extern template class Node<float>;
extern template class Node<double>;

}  // namespace eigrad
