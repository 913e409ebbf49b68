#include "eigrad/autograd.hpp"

#include <algorithm>
#include <atomic>
#include <string>

#include "autograd/graph.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "storage.hpp"

namespace eigrad {

using namespace detail;

namespace {
thread_local bool grad_enabled = true;
std::atomic<uint64_t> next_pass{1};
}  // namespace

bool is_grad_enabled() {
  return grad_enabled;
}
void set_grad_enabled(bool enabled) {
  grad_enabled = enabled;
}

namespace detail {
std::atomic<bool> anomaly_flag{false};
}  // namespace detail

bool is_anomaly_enabled() {
  return detail::anomaly_flag.load();
}
void set_anomaly_enabled(bool enabled) {
  detail::anomaly_flag.store(enabled);
}

// Tears down the chain of nodes only this node keeps alive, iteratively: each node about to die
// hands its edges to the loop first, so no destructor ever runs another node's destructor.
// (PyTorch learned this the hard way, issue 5534.)
namespace detail {
template <class T>
Node<T>::~Node() {
  std::vector<Ptr> doomed = std::move(next_);
  while (!doomed.empty()) {
    Ptr node = std::move(doomed.back());
    doomed.pop_back();
    if (node && node.use_count() == 1) {
      for (Ptr& child : node->next_) doomed.push_back(std::move(child));
      node->next_.clear();
    }
  }
}

template <class T>
void Node<T>::save(const TensorImpl<T>& value, int which) {
  if (saved_count_ == 3)
    throw Error(std::string("record: '") + name_ + "' saves more than three values");
  saved_[saved_count_++] = {value.data, value.version,
                            value.version->load(std::memory_order_relaxed), which, value.shape};
}

template <class T>
std::optional<std::vector<BasicTensor<T>>> Node<T>::apply_graph(const BasicTensor<T>&,
                                                                GraphContext<T>&) {
  return std::nullopt;
}

template <class T>
void Node<T>::throw_modified(const SavedValue& saved) const {
  const std::string what =
      saved.which < 0 ? std::string("its output") : "its input " + std::to_string(saved.which);
  throw Error("backward of '" + std::string(name_) + "': " + what +
              " was modified in place after the op saved it for backward (it is at version " +
              std::to_string(saved.counter->load(std::memory_order_relaxed)) +
              ", the op saved version " + std::to_string(saved.expected) +
              "); the gradient would be wrong. Change a clone() instead, or change the tensor "
              "before the op or after backward()");
}

namespace {
// The sink of a leaf that requires grad: sums incoming gradients into the leaf's .grad.
template <class T>
class AccumulateGrad final : public Node<T> {
 public:
  using Array = typename Node<T>::Array;
  // The leaf is held weakly: under create_graph its .grad holds a graph that leads back here, and
  // a strong pointer would make a cycle (leaf -> grad -> nodes -> this -> leaf). A gradient for a
  // leaf that nothing else holds any more has nowhere to go and is dropped.
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl<T>>& leaf)
      : Node<T>("AccumulateGrad", leaf->shape), leaf_(leaf) {}
  void apply(const Array& grad, GradSink<T>& sink) override {
    const std::shared_ptr<TensorImpl<T>> leaf = leaf_.lock();
    if (!leaf) return;
    if (leaf->hooks && !leaf->hooks->empty()) {
      Array hooked = leaf->hooks->run(grad, leaf->shape);
      add(*leaf, hooked, [&] { return std::move(hooked); });
    } else {
      add(*leaf, grad, [&] { return sink.take(grad); });
    }
  }
  // create_graph: .grad becomes (or gains) a tensor with a graph.
  void accumulate(const BasicTensor<T>& given) {
    const std::shared_ptr<TensorImpl<T>> leaf = leaf_.lock();
    if (!leaf) return;
    const BasicTensor<T> grad =
        leaf->hooks && !leaf->hooks->empty() ? leaf->hooks->run(given) : given;
    auto& slot = leaf->grad;
    if (slot) {
      slot = (BasicTensor<T>(slot) + reshape(grad, leaf->shape.vec())).impl();
    } else {  // a handle of its own on the gradient, graph included
      slot = std::make_shared<TensorImpl<T>>(*grad.impl());
      slot->shape = leaf->shape;
    }
  }
  std::shared_ptr<TensorImpl<T>> leaf() const override { return leaf_.lock(); }

 private:
  // Adds grad to the leaf's .grad (first-order path): in place, or by taking grad's buffer
  // (take()) where the slot is empty or holds a gradient with a graph.
  template <class Take>
  static void add(TensorImpl<T>& leaf, const Array& grad, Take take) {
    auto& slot = leaf.grad;
    if (slot && !slot->grad_fn) {
      *slot->data += grad;
      advance(*slot->version);
    } else if (slot) {  // a gradient with a graph (create_graph) stays out of place
      slot = (BasicTensor<T>(slot).detach() + from_array(take(), leaf.shape)).impl();
    } else {
      slot = from_array(take(), leaf.shape).impl();
    }
  }
  static BasicTensor<T> from_array(Array&& values, const Shape& shape) {
    auto storage = adopt_storage(std::move(values));
    auto impl = std::make_shared<TensorImpl<T>>();
    impl->shape = shape;
    impl->data = std::move(storage.data);
    impl->version = storage.version;
    return BasicTensor<T>(std::move(impl));
  }
  std::weak_ptr<TensorImpl<T>> leaf_;
};

// The gradients of an op without a graph backward, computed under create_graph: they lead here,
// and a backward that reaches them throws instead of treating them as constants. The node keeps
// the op's inputs and the incoming gradient as its own inputs, so that every pass that could
// depend on them reaches it.
template <class T>
class NotDifferentiable final : public Node<T> {
 public:
  using Array = typename Node<T>::Array;
  NotDifferentiable(const char* op, const Shape& shape) : Node<T>(op, shape) {}
  void apply(const Array&, GradSink<T>&) override { fail(); }
  std::optional<std::vector<BasicTensor<T>>> apply_graph(const BasicTensor<T>&,
                                                         GraphContext<T>&) override {
    fail();
  }

 private:
  [[noreturn]] void fail() const {
    throw Error(std::string("backward: the gradient computed by '") + this->name() +
                "' cannot be differentiated: '" + this->name() +
                "' has no backward written in eigrad ops (a registered activation or a "
                "Function whose backward does not use eigrad ops is differentiable once)");
  }
};
}  // namespace

template <class T>
typename Node<T>::Ptr make_edge(const BasicTensor<T>& input) {
  const auto& impl = input.impl();
  if (impl->grad_fn) return impl->grad_fn;
  if (!impl->requires_grad) return nullptr;
  typename Node<T>::Ptr acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad<T>>(impl);
    impl->grad_accumulator = acc;
  }
  return acc;
}

template <class T>
const typename Node<T>::SavedValue& GraphContext<T>::saved(int which) const {
  const typename Node<T>::SavedValue* s = node_.saved(which);
  if (!s)
    throw Error(std::string("graph backward of '") + node_.name() + "' reads " +
                (which < 0 ? std::string("its output") : "input " + std::to_string(which)) +
                ", which the op did not save (declare it with Saves())");
  return *s;
}

template <class T>
BasicTensor<T> GraphContext<T>::input(int i) const {
  const auto& s = saved(i);
  return connect(static_cast<size_t>(i), s.data, s.shape, s.counter);
}

template <class T>
BasicTensor<T> GraphContext<T>::connect(size_t i,
                                        const std::shared_ptr<typename Node<T>::Array>& data,
                                        const Shape& shape, VersionCounter* version) const {
  const auto& edge = node_.next_[i];
  if (edge)
    if (auto leaf = edge->leaf()) return BasicTensor<T>(std::move(leaf));
  auto impl = std::make_shared<TensorImpl<T>>();
  impl->shape = shape;
  impl->data = data;
  impl->version = version;
  if (edge) {
    impl->grad_fn = edge;
    impl->requires_grad = true;
  }
  return BasicTensor<T>(std::move(impl));
}

template <class T>
BasicTensor<T> GraphContext<T>::output() const {
  const auto& s = saved(-1);
  auto impl = std::make_shared<TensorImpl<T>>();
  impl->shape = s.shape;
  impl->data = s.data;
  impl->version = s.counter;
  impl->grad_fn = self_;
  impl->requires_grad = true;
  return BasicTensor<T>(std::move(impl));
}

template <class T>
struct Engine {
  // backward() without create_graph: the fast path. `seed` is the gradient of the root; it is
  // read, never copied or changed.
  static void run(const BasicTensor<T>& root, const typename Node<T>::Array& seed,
                  bool retain_graph);
  // Everything else: several roots, gradients captured at `inputs` instead of accumulated into
  // leaves (grad()), and create_graph.
  struct Options {
    bool retain_graph = false;
    bool create_graph = false;
    const std::vector<BasicTensor<T>>* inputs = nullptr;  // capture here (grad()); else accumulate
    bool allow_unused = false;
  };
  static std::vector<BasicTensor<T>> run_general(const std::vector<BasicTensor<T>>& roots,
                                                 const std::vector<BasicTensor<T>>& seeds,
                                                 const Options& options);
};

template <class T>
void Engine<T>::run(const BasicTensor<T>& root, const typename Node<T>::Array& seed,
                    bool retain_graph) {
  typename Node<T>::Ptr root_node = make_edge(root);
  if (!root_node)
    throw Error("backward: the tensor of shape " + root.shape().str() +
                " does not require grad and has no grad_fn; call set_requires_grad() on a leaf "
                "that it depends on (outside NoGradGuard)");

  // Count, for every node reachable from the root, the edges that lead into it.
  const uint64_t pass = next_pass.fetch_add(1);
  std::vector<Node<T>*> nodes{root_node.get()};
  root_node->pass_ = pass;
  root_node->dependencies_ = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& child : nodes[i]->next_) {
      if (!child) continue;
      if (child->pass_ != pass) {
        child->pass_ = pass;
        child->dependencies_ = 0;
        child->has_pending_ = false;
        nodes.push_back(child.get());
      }
      ++child->dependencies_;
    }
  }

  // If a backward throws, no stale gradient may stay behind in a node for the next pass.
  struct ClearPending {
    std::vector<Node<T>*>& nodes;
    ~ClearPending() {
      for (Node<T>* n : nodes) {
        n->has_pending_ = false;
        recycle(n->pending_);
      }
    }
  } clear{nodes};

  std::vector<Node<T>*> ready{root_node.get()};
  while (!ready.empty()) {
    Node<T>* node = ready.back();
    ready.pop_back();
    const bool is_root = node == root_node.get();
    if (node->has_pending_ || is_root) {
      node->check_versions();
      const bool hooked = node->hooks_ && !node->hooks_->empty();
      if (hooked)
        node->pending_ = node->hooks_->run(is_root ? seed : node->pending_, node->shape());
      const bool own = !is_root || hooked;
      GradSink<T> sink(*node, own ? &node->pending_ : nullptr);
      node->apply(own ? node->pending_ : seed, sink);
      recycle(node->pending_);
      node->has_pending_ = false;
      if (!retain_graph) node->release();
    }
    for (const auto& child : node->next_)
      if (child && --child->dependencies_ == 0) ready.push_back(child.get());
  }
}

template <class T>
std::vector<BasicTensor<T>> Engine<T>::run_general(const std::vector<BasicTensor<T>>& roots,
                                                   const std::vector<BasicTensor<T>>& seeds,
                                                   const Options& options) {
  using Ptr = typename Node<T>::Ptr;
  const char* op = options.inputs ? "grad" : "backward";
  const bool tensors = options.create_graph;
  const uint64_t pass = next_pass.fetch_add(1);

  // The nodes reachable from the roots (owned here: a root's node may have no other owner in
  // the pass), each with the count of edges that lead into it.
  std::vector<Ptr> nodes;
  std::vector<Node<T>*> root_nodes;
  for (size_t k = 0; k < roots.size(); ++k) {
    Ptr node = make_edge(roots[k]);
    if (!node)
      throw Error(std::string(op) + ": output " + std::to_string(k) + " (shape " +
                  roots[k].shape().str() +
                  ") does not require grad and has no grad_fn; it depends on no tensor that "
                  "requires grad (or was computed under NoGradGuard)");
    root_nodes.push_back(node.get());
    if (node->pass_ != pass) {
      node->pass_ = pass;
      node->dependencies_ = 0;
      nodes.push_back(std::move(node));
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& child : nodes[i]->next_) {
      if (!child) continue;
      if (child->pass_ != pass) {
        child->pass_ = pass;
        child->dependencies_ = 0;
        nodes.push_back(child);
      }
      ++child->dependencies_;
    }
  }
  // Kahn's order over them.
  std::vector<Node<T>*> order;
  order.reserve(nodes.size());
  {
    std::vector<Node<T>*> ready;
    for (const Ptr& n : nodes)
      if (n->dependencies_ == 0) ready.push_back(n.get());
    while (!ready.empty()) {
      Node<T>* node = ready.back();
      ready.pop_back();
      node->order_ = static_cast<int>(order.size());
      order.push_back(node);
      for (const auto& child : node->next_)
        if (child && --child->dependencies_ == 0) ready.push_back(child.get());
    }
  }
  std::vector<Ptr> owner(order.size());  // order position -> owning pointer
  for (const Ptr& n : nodes) owner[static_cast<size_t>(n->order_)] = n;

  // Where grad() captures its results, and which nodes lead to one (the others are not run).
  std::vector<Node<T>*> capture;
  if (options.inputs) {
    for (size_t i = 0; i < options.inputs->size(); ++i) {
      const BasicTensor<T>& input = (*options.inputs)[i];
      Ptr node = make_edge(input);
      capture.push_back(node && node->pass_ == pass ? node.get() : nullptr);
      if (!capture.back() && !options.allow_unused)
        throw Error("grad: input " + std::to_string(i) + " (shape " + input.shape().str() +
                    ") is not reached from the outputs: they do not depend on it; pass "
                    "allow_unused = true to get an undefined gradient for it instead");
    }
    for (Node<T>* n : order) n->needed_ = false;
    for (Node<T>* n : capture)
      if (n) n->needed_ = true;
    for (size_t k = order.size(); k-- > 0;)
      for (const auto& child : order[k]->next_)
        if (child && child->needed_) order[k]->needed_ = true;
  } else {
    for (Node<T>* n : order) n->needed_ = true;
  }

  // The pending gradients: arrays in the nodes, or tensors here under create_graph.
  std::vector<BasicTensor<T>> pending(tensors ? order.size() : 0);
  struct ClearPending {
    std::vector<Node<T>*>& nodes;
    ~ClearPending() {
      for (Node<T>* n : nodes) {
        n->has_pending_ = false;
        n->needed_ = false;
        recycle(n->pending_);
      }
    }
  } clear{order};
  for (size_t k = 0; k < roots.size(); ++k) {
    Node<T>* n = root_nodes[k];
    if (tensors) {
      BasicTensor<T>& p = pending[static_cast<size_t>(n->order_)];
      p = p.defined() ? p + seeds[k] : seeds[k];
    } else if (n->has_pending_) {
      n->pending_ += seeds[k].array();
    } else {
      n->pending_ = seeds[k].array();
      n->has_pending_ = true;
    }
  }

  std::vector<BasicTensor<T>> results(options.inputs ? options.inputs->size() : 0);
  for (Node<T>* node : order) {
    const size_t at = static_cast<size_t>(node->order_);
    const bool has = tensors ? pending[at].defined() : node->has_pending_;
    if (!has || !node->needed_) continue;
    for (size_t i = 0; i < capture.size(); ++i)
      if (capture[i] == node) {
        if (tensors) {
          const Shape& shape = (*options.inputs)[i].shape();
          results[i] =
              pending[at].shape() == shape ? pending[at] : reshape(pending[at], shape.vec());
        } else {
          BasicTensor<T> g = BasicTensor<T>::empty((*options.inputs)[i].shape());
          g.mutable_array() = node->pending_;
          results[i] = g;
        }
      }
    bool runs = !options.inputs;  // backward() runs every node; grad() those that lead on
    for (const auto& child : node->next_) runs = runs || (child && child->needed_);
    if (runs) {
      node->check_versions();
      if (node->hooks_ && !node->hooks_->empty()) {
        if (tensors)
          pending[at] = node->hooks_->run(pending[at]);
        else
          node->pending_ = node->hooks_->run(node->pending_, node->shape());
      }
      if (!tensors) {
        GradSink<T> sink(*node, &node->pending_);
        node->apply(node->pending_, sink);
      } else if (auto* acc = dynamic_cast<AccumulateGrad<T>*>(node)) {
        acc->accumulate(pending[at]);
      } else {
        const BasicTensor<T> g = std::move(pending[at]);
        GraphContext<T> ctx(*node, owner[at]);
        // Grad mode is on here (checked on the way in): the graph backward records its ops.
        std::optional<std::vector<BasicTensor<T>>> grads = node->apply_graph(g, ctx);
        if (grads) {
          if (grads->size() != node->next_.size())
            throw Error(std::string("graph backward of '") + node->name() + "' returned " +
                        std::to_string(grads->size()) + " gradients for " +
                        std::to_string(node->next_.size()) + " inputs");
          for (size_t i = 0; i < grads->size(); ++i) {
            Node<T>* child = node->next_[i].get();
            const BasicTensor<T>& gi = (*grads)[i];
            if (!child || !child->needed_ || !gi.defined()) continue;
            if (gi.numel() != child->numel())
              throw Error(std::string("graph backward of '") + node->name() +
                          "': gradient for input " + std::to_string(i) + " has shape " +
                          gi.shape().str() + " but the input has shape " + child->shape().str());
            if (anomaly_on())
              check_finite(gi.array(),
                           std::string("graph backward of '") + node->name() +
                               "' (gradient of input " + std::to_string(i) + ")",
                           node->origin());
            BasicTensor<T>& p = pending[static_cast<size_t>(child->order_)];
            const BasicTensor<T> shaped =
                gi.shape() == child->shape() ? gi : reshape(gi, child->shape().vec());
            p = p.defined() ? p + shaped : shaped;
          }
        } else {
          // No graph backward: the first-order kernel, into the children's arrays, then taken
          // out as tensors that lead to a NotDifferentiable node.
          node->pending_ = g.array();
          GradSink<T> sink(*node, &node->pending_);
          node->apply(node->pending_, sink);
          const Ptr incoming = make_edge(g);
          for (const auto& child : node->next_) {
            if (!child || !child->has_pending_) continue;
            child->has_pending_ = false;
            // One per input, of its shape (the gradient it stands behind).
            auto wall = std::make_shared<NotDifferentiable<T>>(node->name(), child->shape());
            for (const auto& input : node->next_) wall->add_next(input);
            wall->add_next(incoming);
            auto impl = std::make_shared<TensorImpl<T>>();
            auto storage = adopt_storage(std::move(child->pending_));
            impl->shape = child->shape();
            impl->data = std::move(storage.data);
            impl->version = storage.version;
            impl->grad_fn = wall;
            impl->requires_grad = true;
            BasicTensor<T>& p = pending[static_cast<size_t>(child->order_)];
            const BasicTensor<T> gi(std::move(impl));
            p = p.defined() ? p + gi : gi;
          }
        }
      }
    }
    if (!tensors) {
      recycle(node->pending_);
      node->has_pending_ = false;
    } else {
      pending[at] = BasicTensor<T>();
    }
    if (runs && !options.retain_graph) node->release();
  }
  return results;
}

namespace {
template <class T>
std::vector<BasicTensor<T>> seeds_for(const char* op, const std::vector<BasicTensor<T>>& outputs,
                                      const std::vector<BasicTensor<T>>& grad_outputs) {
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    throw Error(std::string(op) + ": got " + std::to_string(outputs.size()) + " output(s) but " +
                std::to_string(grad_outputs.size()) +
                " grad_outputs; pass one per output (or none when every output holds one "
                "element)");
  std::vector<BasicTensor<T>> seeds;
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (!outputs[k].defined())
      throw Error(std::string(op) + ": output " + std::to_string(k) + " is undefined");
    const BasicTensor<T>* g = grad_outputs.empty() ? nullptr : &grad_outputs[k];
    if (g && g->defined()) {
      if (g->shape() != outputs[k].shape())
        throw Error(std::string(op) + ": grad_outputs[" + std::to_string(k) + "] has shape " +
                    g->shape().str() + " but output " + std::to_string(k) + " has shape " +
                    outputs[k].shape().str() + "; they must match");
      seeds.push_back(*g);
    } else {
      if (outputs[k].numel() != 1)
        throw Error(std::string(op) + ": output " + std::to_string(k) + " has shape " +
                    outputs[k].shape().str() +
                    ", so its gradient cannot be implied (only for one element); pass "
                    "grad_outputs of that shape");
      seeds.push_back(BasicTensor<T>::ones(outputs[k].shape()));
    }
  }
  return seeds;
}

template <class T>
std::vector<BasicTensor<T>> grad_impl(const std::vector<BasicTensor<T>>& outputs,
                                      const std::vector<BasicTensor<T>>& inputs,
                                      const std::vector<BasicTensor<T>>& grad_outputs,
                                      std::optional<bool> retain_graph, bool create_graph,
                                      bool allow_unused) {
  if (outputs.empty()) throw Error("grad: no outputs given; pass the tensors to differentiate");
  if (inputs.empty())
    throw Error("grad: no inputs given; pass the tensors to differentiate with respect to");
  if (create_graph && !is_grad_enabled())
    throw Error(
        "grad: create_graph = true under NoGradGuard (grad mode is off): the gradients could "
        "not be recorded; leave the guard's scope first");
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) throw Error("grad: input " + std::to_string(i) + " is undefined");
    if (!inputs[i].requires_grad())
      throw Error("grad: input " + std::to_string(i) + " (shape " + inputs[i].shape().str() +
                  ") does not require grad; call set_requires_grad() on it before computing the "
                  "outputs");
  }
  const std::vector<BasicTensor<T>> seeds = seeds_for("grad", outputs, grad_outputs);
  typename Engine<T>::Options options;
  options.retain_graph = retain_graph.value_or(create_graph);
  options.create_graph = create_graph;
  options.inputs = &inputs;
  options.allow_unused = allow_unused;
  return Engine<T>::run_general(outputs, seeds, options);
}
}  // namespace

}  // namespace detail

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, std::optional<bool> retain_graph,
                         bool create_graph, bool allow_unused) {
  return detail::grad_impl(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused);
}
std::vector<DoubleTensor> grad(const std::vector<DoubleTensor>& outputs,
                               const std::vector<DoubleTensor>& inputs,
                               const std::vector<DoubleTensor>& grad_outputs,
                               std::optional<bool> retain_graph, bool create_graph,
                               bool allow_unused) {
  return detail::grad_impl(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused);
}

template <class T>
void BasicTensor<T>::backward(const BasicTensor& grad, bool retain_graph, bool create_graph) const {
  if (create_graph) {
    if (!is_grad_enabled())
      throw Error(
          "backward: create_graph = true under NoGradGuard (grad mode is off): the gradients "
          "could not be recorded; leave the guard's scope first");
    const std::vector<BasicTensor> seeds =
        detail::seeds_for<T>("backward", {*this}, {grad.defined() ? grad : BasicTensor()});
    typename detail::Engine<T>::Options options;
    options.retain_graph = true;
    options.create_graph = true;
    detail::Engine<T>::run_general({*this}, seeds, options);
    return;
  }
  if (grad.defined()) {
    if (grad.shape() != shape())
      throw Error("backward: the gradient has shape " + grad.shape().str() +
                  " but the tensor has shape " + shape().str() + "; they must match");
    detail::Engine<T>::run(*this, grad.array(), retain_graph);
  } else {
    if (numel() != 1)
      throw Error(
          "backward: a gradient can be implied only for a one-element tensor, but this "
          "tensor has shape " +
          shape().str() + "; pass a gradient of that shape");
    detail::Engine<T>::run(*this, Array::Ones(1), retain_graph);
  }
}

template <class T>
std::string BasicTensor<T>::grad_fn_name() const {
  const auto& node = grad_fn();
  return node ? node->name() : "";
}

template <class T>
BasicTensor<T> detail::HookList<T>::run(BasicTensor<T> g) const {
  for (const auto& [id, hook] : hooks) {
    (void)id;
    BasicTensor<T> r = hook(g);
    if (!r.defined()) continue;
    if (r.shape() != g.shape())
      throw Error("register_hook: a hook returned a gradient of shape " + r.shape().str() +
                  " for a tensor of shape " + g.shape().str() + "; it must keep the shape");
    g = r;
  }
  return g;
}

template <class T>
Eigen::Array<T, Eigen::Dynamic, 1> detail::HookList<T>::run(
    const Eigen::Array<T, Eigen::Dynamic, 1>& g, const Shape& shape) const {
  BasicTensor<T> t = BasicTensor<T>::empty(shape);
  t.mutable_array() = g;
  NoGradGuard no_grad;
  return run(t).array();
}

template <class T>
RemovableHandle BasicTensor<T>::add_hook(std::function<BasicTensor(const BasicTensor&)> hook) {
  if (!requires_grad())
    throw Error(
        "register_hook: cannot register a hook on a tensor that does not require grad "
        "(shape " +
        shape().str() + ")");
  std::shared_ptr<detail::HookList<T>>& list = is_leaf() ? checked().hooks : grad_fn()->hooks_;
  if (!list) list = std::make_shared<detail::HookList<T>>();
  const int id = list->next_id++;
  list->hooks.emplace_back(id, std::move(hook));
  return RemovableHandle([weak = std::weak_ptr<detail::HookList<T>>(list), id] {
    if (const auto l = weak.lock())
      l->hooks.erase(std::remove_if(l->hooks.begin(), l->hooks.end(),
                                    [id](const auto& h) { return h.first == id; }),
                     l->hooks.end());
  });
}

template <>
RemovableHandle BasicTensor<int64_t>::add_hook(std::function<BasicTensor(const BasicTensor&)>) {
  throw Error("register_hook: an int64 tensor never requires grad; hooks need a float tensor");
}
template <>
RemovableHandle BasicTensor<bool>::add_hook(std::function<BasicTensor(const BasicTensor&)>) {
  throw Error("register_hook: a bool tensor never requires grad; hooks need a float tensor");
}

namespace detail {
template struct HookList<float>;
template struct HookList<double>;
template class Node<float>;
template class Node<double>;
template class GraphContext<float>;
template class GraphContext<double>;
template Node<float>::Ptr make_edge(const BasicTensor<float>&);
template Node<double>::Ptr make_edge(const BasicTensor<double>&);
}  // namespace detail
template void BasicTensor<float>::backward(const BasicTensor&, bool, bool) const;
template void BasicTensor<double>::backward(const BasicTensor&, bool, bool) const;
template std::string BasicTensor<float>::grad_fn_name() const;
template std::string BasicTensor<double>::grad_fn_name() const;
template RemovableHandle BasicTensor<float>::add_hook(
    std::function<BasicTensor(const BasicTensor&)>);
template RemovableHandle BasicTensor<double>::add_hook(
    std::function<BasicTensor(const BasicTensor&)>);

// int64 and bool tensors are never part of the graph.
template <>
void BasicTensor<int64_t>::backward(const BasicTensor&, bool, bool) const {
  throw Error(
      "backward: called on an int64 tensor, which never requires grad (only float32 and "
      "float64 tensors take part in autograd)");
}
template <>
void BasicTensor<bool>::backward(const BasicTensor&, bool, bool) const {
  throw Error(
      "backward: called on a bool tensor, which never requires grad (only float32 and "
      "float64 tensors take part in autograd)");
}
template <>
std::string BasicTensor<int64_t>::grad_fn_name() const {
  return "";
}
template <>
std::string BasicTensor<bool>::grad_fn_name() const {
  return "";
}

}  // namespace eigrad
