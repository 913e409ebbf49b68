// The node behind eigrad::Function (eigrad/function.hpp): the user's backward, called on the
// first-order path with grad mode off and under create_graph with it on, the saved tensors then
// connected to the graph.
#include "eigrad/function.hpp"

#include <string>
#include <utility>

#include "autograd/graph.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/tensor_shape.hpp"

namespace eigrad::detail {

// Receives the gradients of all outputs, concatenated, and calls the user's backward. An output
// of a function with several is a FunctionOutputNode that places its gradient into this node's.
template <class T>
class CustomFunctionNode final : public Node<T> {
 public:
  using Array = typename Node<T>::Array;
  CustomFunctionNode(const char* name, int64_t numel, AutogradContext<T> ctx, BackwardFn<T> fn,
                     std::vector<Shape> input_shapes, std::vector<Shape> output_shapes,
                     std::vector<bool> is_tensor_argument)
      : Node<T>(name, Shape{numel}),
        ctx_(std::move(ctx)),
        fn_(fn),
        input_shapes_(std::move(input_shapes)),
        output_shapes_(std::move(output_shapes)),
        is_tensor_argument_(std::move(is_tensor_argument)) {}

  void apply(const Array& grad, GradSink<T>& sink) override {
    check_released();
    std::vector<BasicTensor<T>> grads;
    grads.reserve(output_shapes_.size());
    Eigen::Index offset = 0;
    for (const Shape& shape : output_shapes_) {
      BasicTensor<T> g = BasicTensor<T>::empty(shape);
      g.mutable_array() = grad.segment(offset, shape.numel());
      offset += shape.numel();
      grads.push_back(std::move(g));
    }
    std::vector<BasicTensor<T>> result;
    {
      NoGradGuard no_grad;
      result = checked(fn_(ctx_, grads));
    }
    for (size_t i = 0; i < result.size(); ++i)
      if (result[i].defined() && sink.needs(i)) sink.add(i, result[i].array());
  }

  std::optional<std::vector<BasicTensor<T>>> apply_graph(const BasicTensor<T>& grad,
                                                         GraphContext<T>& ctx) override {
    check_released();
    std::vector<BasicTensor<T>> grads;
    const BasicTensor<T> flat = reshape(grad, {this->numel()});
    int64_t offset = 0;
    for (const Shape& shape : output_shapes_) {
      grads.push_back(reshape(narrow(flat, 0, offset, shape.numel()), shape.vec()));
      offset += shape.numel();
    }
    // The saved tensors, connected: an input to its own node, an output to the node that
    // produced it.
    std::vector<BasicTensor<T>> connected;
    bool depends = grad.requires_grad();
    for (const auto& s : ctx_.saved_) {
      BasicTensor<T> t;
      if (s.input >= 0) {
        t = ctx.connect(static_cast<size_t>(s.input), s.data, s.shape, s.version);
      } else if (s.output >= 0) {
        auto node = output_nodes_.empty() ? ctx.self()
                                          : output_nodes_[static_cast<size_t>(s.output)].lock();
        t = connected_tensor(s.data, s.shape, s.version, std::move(node));
      } else {
        t = connected_tensor(s.data, s.shape, s.version, nullptr);
      }
      depends = depends || t.requires_grad();
      connected.push_back(std::move(t));
    }
    std::vector<BasicTensor<T>> result;
    ctx_.connected_ = &connected;
    struct Disconnect {
      AutogradContext<T>& ctx;
      ~Disconnect() { ctx.connected_ = nullptr; }
    } disconnect{ctx_};
    result = checked(fn_(ctx_, grads));
    // A gradient that depends on nothing in the graph although its ingredients do was computed
    // outside eigrad's ops: the engine runs apply() instead and marks it as not differentiable.
    if (depends)
      for (const BasicTensor<T>& r : result)
        if (r.defined() && !r.requires_grad()) return std::nullopt;
    for (size_t i = 0; i < result.size(); ++i)
      if (!ctx.needs(i)) result[i] = BasicTensor<T>();
    return result;
  }

  void release() override {
    ctx_.saved_.clear();
    ctx_.saved_data.clear();
    ctx_.released_ = true;
  }
  void set_output_nodes(std::vector<std::weak_ptr<Node<T>>> nodes) {
    output_nodes_ = std::move(nodes);
  }

 private:
  static BasicTensor<T> connected_tensor(const std::shared_ptr<Array>& data, const Shape& shape,
                                         VersionCounter* version, std::shared_ptr<Node<T>> node) {
    auto impl = std::make_shared<TensorImpl<T>>();
    impl->shape = shape;
    impl->data = data;
    impl->version = version;
    if (node) {
      impl->grad_fn = std::move(node);
      impl->requires_grad = true;
    }
    return BasicTensor<T>(std::move(impl));
  }
  void check_released() const {
    if (ctx_.released_)
      throw Error(std::string("backward: trying to backward through Function '") + this->name() +
                  "' a second time: its saved values were freed by the first backward; pass "
                  "retain_graph = true to the first backward() to keep them");
  }
  // The user's result, one gradient per tensor input, each of its input's shape.
  std::vector<BasicTensor<T>> checked(std::vector<BasicTensor<T>> result) const {
    const size_t tensors = input_shapes_.size(), arguments = is_tensor_argument_.size();
    if (result.size() == arguments && arguments != tensors) {  // one per argument, as in PyTorch
      std::vector<BasicTensor<T>> kept;
      for (size_t i = 0; i < arguments; ++i)
        if (is_tensor_argument_[i]) {
          kept.push_back(std::move(result[i]));
        } else if (result[i].defined()) {
          throw Error(std::string("backward of Function '") + this->name() +
                      "' returned a gradient for argument " + std::to_string(i) +
                      ", which is not a tensor; return an undefined Tensor() there");
        }
      result = std::move(kept);
    }
    if (result.size() != tensors)
      throw Error(std::string("backward of Function '") + this->name() + "' returned " +
                  std::to_string(result.size()) + " gradient(s), but forward took " +
                  std::to_string(tensors) + " tensor input(s)" +
                  (arguments != tensors ? " (" + std::to_string(arguments) + " arguments)" : "") +
                  "; return one per input, an undefined Tensor() for an input without one");
    for (size_t i = 0; i < tensors; ++i) {
      const BasicTensor<T>& g = result[i];
      if (g.defined() && g.shape() != input_shapes_[i])
        throw Error(std::string("backward of Function '") + this->name() +
                    "' returned a gradient of shape " + g.shape().str() + " for input " +
                    std::to_string(i) + ", which has shape " + input_shapes_[i].str() +
                    "; the shapes must match");
    }
    return result;
  }

  AutogradContext<T> ctx_;
  BackwardFn<T> fn_;
  std::vector<Shape> input_shapes_, output_shapes_;
  std::vector<bool> is_tensor_argument_;
  std::vector<std::weak_ptr<Node<T>>> output_nodes_;  // with several outputs
};

// Places an output's gradient into the core's, at the output's offset.
template <class T>
class FunctionOutputNode final : public Node<T> {
 public:
  using Array = typename Node<T>::Array;
  FunctionOutputNode(const char* name, const Shape& shape, Eigen::Index offset, int64_t total)
      : Node<T>(name, shape), offset_(offset), total_(total) {}
  void apply(const Array& grad, GradSink<T>& sink) override { sink.add_slice(0, offset_, grad); }
  std::optional<std::vector<BasicTensor<T>>> apply_graph(const BasicTensor<T>& grad,
                                                         GraphContext<T>&) override {
    const int64_t n = this->numel();
    return std::vector<BasicTensor<T>>{pad(reshape(grad, {n}), {offset_, total_ - offset_ - n})};
  }

 private:
  int64_t offset_, total_;
};

template <class T>
std::shared_ptr<Node<T>> function_edge(const BasicTensor<T>& input) {
  return make_edge(input);
}

template <class T>
void record_function(const char* name, AutogradContext<T>&& ctx, BackwardFn<T> fn,
                     std::vector<std::shared_ptr<Node<T>>> edges, std::vector<Shape> input_shapes,
                     std::vector<bool> is_tensor_argument, std::vector<BasicTensor<T>>& outputs) {
  int64_t total = 0;
  std::vector<Shape> output_shapes;
  for (const BasicTensor<T>& out : outputs) {
    total += out.numel();
    output_shapes.push_back(out.shape());
  }
  auto core = std::make_shared<CustomFunctionNode<T>>(
      name, total, std::move(ctx), fn, std::move(input_shapes), std::move(output_shapes),
      std::move(is_tensor_argument));
  core->reserve_next(edges.size());
  for (auto& edge : edges) core->add_next(std::move(edge));
  const bool anomaly = anomaly_on();
  if (anomaly) core->set_origin(call_stack());
  Eigen::Index offset = 0;
  std::vector<std::weak_ptr<Node<T>>> output_nodes;
  for (BasicTensor<T>& out : outputs) {
    typename Node<T>::Ptr node = core;
    if (outputs.size() > 1) {
      node = std::make_shared<FunctionOutputNode<T>>(name, out.shape(), offset, total);
      node->add_next(core);
      if (anomaly) node->set_origin(*core->origin());
      offset += out.numel();
      output_nodes.push_back(node);
    }
    if (anomaly)
      check_finite(out.array(), std::string("forward of Function '") + name + "'", core->origin());
    out.impl()->grad_fn = std::move(node);
    out.impl()->requires_grad = true;
  }
  if (outputs.size() > 1) core->set_output_nodes(std::move(output_nodes));
}

#define EIGRAD_INSTANTIATE(T)                                                              \
  template std::shared_ptr<Node<T>> function_edge(const BasicTensor<T>&);                  \
  template void record_function(const char*, AutogradContext<T>&&, BackwardFn<T>,          \
                                std::vector<std::shared_ptr<Node<T>>>, std::vector<Shape>, \
                                std::vector<bool>, std::vector<BasicTensor<T>>&);
EIGRAD_INSTANTIATE(float)
EIGRAD_INSTANTIATE(double)
#undef EIGRAD_INSTANTIATE

}  // namespace eigrad::detail
