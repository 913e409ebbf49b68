#include "eigrad/autograd.hpp"

#include <atomic>
#include <string>

#include "storage.hpp"

namespace eigrad {

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
void Node<T>::save_version(const detail::VersionCounter* counter, int which) {
  if (saved_count_ == 3)
    throw Error(std::string("record: '") + name_ + "' saves more than three values");
  saved_[saved_count_++] = {counter, counter->load(std::memory_order_relaxed), which};
}

template <class T>
void Node<T>::throw_modified(const SavedVersion& saved) const {
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
  explicit AccumulateGrad(std::shared_ptr<detail::TensorImpl<T>> leaf)
      : Node<T>("AccumulateGrad", leaf->shape.numel()), leaf_(std::move(leaf)) {}
  void apply(const Array& grad, GradSink<T>& sink) override {
    auto& slot = leaf_->grad;
    if (slot) {
      *slot->data += grad;
      detail::advance(*slot->version);
    } else {
      auto storage = detail::adopt_storage(sink.take(grad));
      slot = std::make_shared<detail::TensorImpl<T>>();
      slot->shape = leaf_->shape;
      slot->data = std::move(storage.data);
      slot->version = storage.version;
    }
  }

 private:
  std::shared_ptr<detail::TensorImpl<T>> leaf_;
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
struct Engine {
  // `seed` is the gradient of the root; it is read, never copied or changed.
  static void run(const BasicTensor<T>& root, const typename Node<T>::Array& seed,
                  bool retain_graph);
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
        detail::recycle(n->pending_);
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
      GradSink<T> sink(*node, is_root ? nullptr : &node->pending_);
      node->apply(is_root ? seed : node->pending_, sink);
      detail::recycle(node->pending_);
      node->has_pending_ = false;
      if (!retain_graph) node->release();
    }
    for (const auto& child : node->next_)
      if (child && --child->dependencies_ == 0) ready.push_back(child.get());
  }
}

template <class T>
void BasicTensor<T>::backward(const BasicTensor& grad, bool retain_graph) const {
  if (grad.defined()) {
    if (grad.shape() != shape())
      throw Error("backward: the gradient has shape " + grad.shape().str() +
                  " but the tensor has shape " + shape().str() + "; they must match");
    Engine<T>::run(*this, grad.array(), retain_graph);
  } else {
    if (numel() != 1)
      throw Error(
          "backward: a gradient can be implied only for a one-element tensor, but this "
          "tensor has shape " +
          shape().str() + "; pass a gradient of that shape");
    Engine<T>::run(*this, Array::Ones(1), retain_graph);
  }
}

template class Node<float>;
template class Node<double>;
template Node<float>::Ptr make_edge(const BasicTensor<float>&);
template Node<double>::Ptr make_edge(const BasicTensor<double>&);
template void BasicTensor<float>::backward(const BasicTensor&, bool) const;
template void BasicTensor<double>::backward(const BasicTensor&, bool) const;

}  // namespace eigrad
