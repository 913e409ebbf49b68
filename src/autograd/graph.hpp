#pragma once
// The define-by-run graph, private to the library: a Node per recorded op, pointing only to the
// nodes of its inputs. The engine (src/autograd.cpp) orders the nodes by an iterative
// topological sort (Kahn) and never recurses; Node's destructor tears long chains down
// iteratively too. Users reach the graph through one public door, eigrad::Function.
//
// Every op records two backward passes beside its forward:
// - the fused first-order kernel, on flat arrays, run by backward() and grad() without
//   create_graph (the fast path);
// - its derivative written in eigrad ops ("graph backward"), run only under create_graph, so that
//   the gradient it returns is itself a tensor in a graph and can be differentiated again.
// An op recorded without a graph backward still runs under create_graph, but its gradients then
// lead to a node that throws when a later backward reaches it: never a silent zero.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eigrad/autograd.hpp"
#include "eigrad/tensor.hpp"
#include "parallel_for.hpp"

namespace eigrad::detail {

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

template <class T>
class GradSink;
template <class T>
class GraphContext;
template <class T>
struct Engine;

// The gradient hooks of one tensor (BasicTensor::register_hook), run in order of registration.
template <class T>
struct HookList {
  std::vector<std::pair<int, std::function<BasicTensor<T>(const BasicTensor<T>&)>>> hooks;
  int next_id = 0;
  bool empty() const { return hooks.empty(); }
  // g through every hook; each may replace it with a tensor of the same shape.
  BasicTensor<T> run(BasicTensor<T> g) const;
  // The same on the engine's arrays (first-order backward, grad mode off).
  Eigen::Array<T, Eigen::Dynamic, 1> run(const Eigen::Array<T, Eigen::Dynamic, 1>& g,
                                         const Shape& shape) const;
};

// Which of an op's values its backward reads: inputs by position, and the output. record() keeps
// them (storage, shape, version) in the node: backward() checks the versions before the op's
// backward runs, and the graph backward gets them back as tensors connected to the graph.
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

  Node(const char* name, const Shape& shape) : name_(name), shape_(shape) {}
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const char* name() const { return name_; }
  const Shape& shape() const { return shape_; }  // of the gradient this node receives
  int64_t numel() const { return shape_.numel(); }
  const std::vector<Ptr>& next() const { return next_; }

  // Receives the gradient of this node's output and adds the gradient of each input that needs
  // one to `sink` (the first-order path).
  virtual void apply(const Array& grad, GradSink<T>& sink) = 0;
  // The same in eigrad ops, recorded in the graph (create_graph): one gradient per input,
  // undefined where ctx.needs(i) is false. Nodes without one return nullopt, and the engine runs
  // apply() instead and marks the result as not differentiable.
  virtual std::optional<std::vector<BasicTensor<T>>> apply_graph(const BasicTensor<T>& grad,
                                                                 GraphContext<T>& ctx);
  // Frees what backward saved; a released node throws if applied again.
  virtual void release() { release_saved(); }
  // The leaf whose .grad this node accumulates into (AccumulateGrad, while the leaf lives), else
  // null.
  virtual std::shared_ptr<TensorImpl<T>> leaf() const { return nullptr; }
  // Graph construction: the next input's node (null where it needs no gradient).
  void add_next(Ptr node) { next_.push_back(std::move(node)); }
  void reserve_next(size_t count) { next_.reserve(count); }
  // Keeps a value backward reads: input `which`, or the output when `which` is -1, with its
  // version now.
  void save(const TensorImpl<T>& value, int which);
  // Throws when a saved value has been changed in place since it was saved.
  void check_versions() const {
    for (int i = 0; i < saved_count_; ++i)
      if (saved_[i].counter->load(std::memory_order_relaxed) != saved_[i].expected)
        throw_modified(saved_[i]);
  }
  // Where the node was created; recorded only in anomaly mode.
  const CallStack* origin() const { return origin_.get(); }
  void set_origin(const CallStack& origin) { origin_ = std::make_unique<const CallStack>(origin); }

 protected:
  void release_saved() {
    for (int i = 0; i < saved_count_; ++i) saved_[i] = SavedValue{};
    saved_count_ = 0;
  }

 private:
  friend class GradSink<T>;
  friend class GraphContext<T>;
  friend struct Engine<T>;
  friend class BasicTensor<T>;  // register_hook

  struct SavedValue {
    std::shared_ptr<Array> data;
    VersionCounter* counter = nullptr;
    uint64_t expected = 0;
    int which = 0;
    Shape shape;
  };
  [[noreturn]] void throw_modified(const SavedValue& saved) const;
  const SavedValue* saved(int which) const {
    for (int i = 0; i < saved_count_; ++i)
      if (saved_[i].which == which) return &saved_[i];
    return nullptr;
  }

  const char* name_;
  Shape shape_;
  std::vector<Ptr> next_;  // one per input; null where the input needs no gradient
  // Inline: an op saves at most three values (a node's allocation is on the hot path).
  SavedValue saved_[3];
  int saved_count_ = 0;
  // Engine scratch, valid during one backward pass.
  Array pending_;
  bool has_pending_ = false;
  bool needed_ = false;
  int dependencies_ = 0;
  int order_ = 0;
  uint64_t pass_ = 0;
  std::unique_ptr<const CallStack> origin_;
  std::shared_ptr<HookList<T>> hooks_;  // the output's gradient hooks (non-leaf tensors)
};

// What a graph backward sees: the values the op saved, as tensors connected to the graph (an
// input leads to its own node, the output to this op's node), and which inputs need a gradient.
template <class T>
class GraphContext {
 public:
  GraphContext(Node<T>& node, const std::shared_ptr<Node<T>>& self) : node_(node), self_(self) {}
  // Whether input `i` needs a gradient in this pass.
  bool needs(size_t i) const {
    const auto& next = node_.next_[i];
    return next && next->needed_;
  }
  // Saved input `i` (declared with Saves().input(i)).
  BasicTensor<T> input(int i) const;
  // The saved output (declared with Saves().output()).
  BasicTensor<T> output() const;
  // A tensor on `data` that stands for input `i`: the leaf itself, or a tensor whose gradient goes
  // to the input's node (none when the input needs no gradient).
  BasicTensor<T> connect(size_t i, const std::shared_ptr<typename Node<T>::Array>& data,
                         const Shape& shape, VersionCounter* version) const;
  // This node, owned (the grad_fn of a saved output).
  const std::shared_ptr<Node<T>>& self() const { return self_; }

 private:
  const typename Node<T>::SavedValue& saved(int which) const;
  Node<T>& node_;
  const std::shared_ptr<Node<T>>& self_;
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
      if (target->pending_.size() != grad.size()) target->pending_ = take_array<T>(grad.size());
      assign(target->pending_, grad);
      target->has_pending_ = true;
    }
    if (anomaly_on()) check_anomaly(input, *target);
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
        target->pending_ = take_array<T>(target->numel());
      target->pending_.setZero();
      target->has_pending_ = true;
    }
    target->pending_.segment(offset, grad.size()) += grad;
    if (anomaly_on()) check_anomaly(input, *target);
  }
  void add(size_t input, Array&& grad) {
    Node<T>* target = node_.next_[input].get();
    if (!target) return;
    check(input, *target, grad.size());
    if (target->has_pending_) {
      add_assign(target->pending_, grad);
      recycle(grad);
    } else {
      target->pending_ = std::move(grad);
      target->has_pending_ = true;
    }
    if (anomaly_on()) check_anomaly(input, *target);
  }

 private:
  void check_anomaly(size_t input, const Node<T>& target) const {
    check_finite(target.pending_,
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

// The type of "no graph backward": an op recorded with it is differentiable once.
struct NoGraphBackward {};

// A node whose backward is a lambda written beside the op's forward (flashlight's gradFunc), and
// optionally its graph backward beside it. The first-order lambda captures only what it reads:
// storages, never tensors (so no node is kept alive through a saved value and teardown stays
// iterative). The graph backward gets its tensors from the GraphContext.
template <class T, class F, class G = NoGraphBackward>
class FunctionNode final : public Node<T> {
 public:
  using Array = typename Node<T>::Array;
  FunctionNode(const char* name, const Shape& shape, F fn, G graph)
      : Node<T>(name, shape), fn_(std::move(fn)), graph_(std::move(graph)) {}
  void apply(const Array& grad, GradSink<T>& sink) override {
    if (!fn_) throw_released();
    (*fn_)(grad, sink);
  }
  std::optional<std::vector<BasicTensor<T>>> apply_graph(const BasicTensor<T>& grad,
                                                         GraphContext<T>& ctx) override {
    if constexpr (std::is_same<G, NoGraphBackward>::value) {
      return std::nullopt;
    } else {
      if (!fn_) throw_released();
      return (*graph_)(ctx, grad);
    }
  }
  void release() override {
    fn_.reset();
    graph_.reset();
    this->release_saved();
  }

 private:
  [[noreturn]] void throw_released() const {
    throw Error(std::string("backward: trying to backward through '") + this->name() +
                "' a second time: its saved values were freed by the first backward; pass "
                "retain_graph = true to the first backward() to keep them");
  }
  std::optional<F> fn_;
  std::optional<G> graph_;
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

// Makes `out` the output of a new node with `backward` (and `graph`, its graph backward), whose
// inputs are `inputs` in order, and which reads the values `saves` names (call it once out's
// values are final).
template <class T, class Inputs, class F, class G>
void record_inputs(const char* name, BasicTensor<T>& out, const Inputs& inputs, Saves saves,
                   F&& backward, G&& graph) {
  auto node = std::make_shared<FunctionNode<T, std::decay_t<F>, std::decay_t<G>>>(
      name, out.shape(), std::forward<F>(backward), std::forward<G>(graph));
  node->reserve_next(inputs.size());
  int index = 0;
  for (const BasicTensor<T>* t : inputs) {
    node->add_next(make_edge(*t));
    if (index < 32 && (saves.inputs() & (1u << index))) node->save(*t->impl(), index);
    ++index;
  }
  if (saves.has_output()) node->save(*out.impl(), -1);
  if (anomaly_on()) {
    node->set_origin(call_stack());
    check_finite(std::as_const(out).array(), std::string("forward of '") + name + "'",
                 node->origin());
  }
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
}
template <class T, class Inputs, class F>
void record_inputs(const char* name, BasicTensor<T>& out, const Inputs& inputs, Saves saves,
                   F&& backward) {
  record_inputs(name, out, inputs, saves, std::forward<F>(backward), NoGraphBackward{});
}
template <class T, class F>
void record(const char* name, BasicTensor<T>& out,
            std::initializer_list<const BasicTensor<T>*> inputs, Saves saves, F&& backward) {
  record_inputs(name, out, inputs, saves, std::forward<F>(backward), NoGraphBackward{});
}
// For an op whose backward reads none of its values (add, reshape, sum).
template <class T, class F>
void record(const char* name, BasicTensor<T>& out,
            std::initializer_list<const BasicTensor<T>*> inputs, F&& backward) {
  record_inputs(name, out, inputs, Saves(), std::forward<F>(backward), NoGraphBackward{});
}
// With its graph backward: `graph(GraphContext<T>& ctx, const BasicTensor<T>& grad)` returns
// one gradient per input (a std::vector<BasicTensor<T>>, undefined where !ctx.needs(i)).
template <class T, class F, class G>
void record(const char* name, BasicTensor<T>& out,
            std::initializer_list<const BasicTensor<T>*> inputs, Saves saves, F&& backward,
            G&& graph) {
  record_inputs(name, out, inputs, saves, std::forward<F>(backward), std::forward<G>(graph));
}

extern template class Node<float>;
extern template class Node<double>;

}  // namespace eigrad::detail
