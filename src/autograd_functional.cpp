// hessian_vector_product and jacobian_vector_product (eigrad/autograd.hpp), after
// torch.autograd.functional.hvp and jvp: double backward through eigrad::grad.
#include <string>
#include <vector>

#include "eigrad/autograd.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/reduce.hpp"

namespace eigrad {

namespace {

// Checks the arguments and returns f's leaves: `inputs` detached, requiring grad.
template <class T>
std::vector<BasicTensor<T>> leaves_for(const char* op, const std::vector<BasicTensor<T>>& inputs,
                                       const std::vector<BasicTensor<T>>& v) {
  if (inputs.empty()) throw Error(std::string(op) + ": no inputs given; pass the point to use");
  if (!v.empty() && v.size() != inputs.size())
    throw Error(std::string(op) + ": v has " + std::to_string(v.size()) + " tensor(s) for " +
                std::to_string(inputs.size()) + " input(s); pass one per input, of its shape");
  std::vector<BasicTensor<T>> leaves;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string at = "[" + std::to_string(i) + "]";
    if (!inputs[i].defined()) throw Error(std::string(op) + ": inputs" + at + " is undefined");
    if (v.empty()) {
      if (inputs[i].numel() != 1)
        throw Error(std::string(op) + ": v is empty but inputs" + at + " has shape " +
                    inputs[i].shape().str() +
                    "; v can be implied only when every input holds one element");
    } else if (!v[i].defined()) {
      throw Error(std::string(op) + ": v" + at + " is undefined");
    } else if (v[i].shape() != inputs[i].shape()) {
      throw Error(std::string(op) + ": v" + at + " has shape " + v[i].shape().str() +
                  " but inputs" + at + " has shape " + inputs[i].shape().str() +
                  "; they must match");
    }
    leaves.push_back(inputs[i].detach().set_requires_grad(true));
  }
  return leaves;
}

// v detached (the products are not differentiated along it), or ones when v is empty.
template <class T>
BasicTensor<T> direction(const std::vector<BasicTensor<T>>& v,
                         const std::vector<BasicTensor<T>>& inputs, size_t i) {
  return v.empty() ? BasicTensor<T>::ones(inputs[i].shape()) : v[i].detach();
}

template <class T>
BasicTensor<T> call(const char* op, const TensorFunction<T>& f,
                    const std::vector<BasicTensor<T>>& leaves) {
  if (!f) throw Error(std::string(op) + ": f is empty");
  BasicTensor<T> y = f(leaves);
  if (!y.defined()) throw Error(std::string(op) + ": f returned an undefined tensor");
  return y;
}

template <class T>
std::vector<BasicTensor<T>> zeros_like(const std::vector<BasicTensor<T>>& tensors) {
  std::vector<BasicTensor<T>> zeros;
  for (const BasicTensor<T>& t : tensors) zeros.push_back(BasicTensor<T>::zeros(t.shape()));
  return zeros;
}

template <class T>
HessianVectorProduct<T> hvp(const TensorFunction<T>& f, const std::vector<BasicTensor<T>>& inputs,
                            const std::vector<BasicTensor<T>>& v) {
  const char* op = "hessian_vector_product";
  const std::vector<BasicTensor<T>> leaves = leaves_for(op, inputs, v);
  AutoGradMode grad_mode(true);
  const BasicTensor<T> y = call(op, f, leaves);
  if (y.numel() != 1)
    throw Error(std::string(op) + ": f's output has shape " + y.shape().str() +
                "; a Hessian needs a function with one element (sum it, or use "
                "jacobian_vector_product)");
  HessianVectorProduct<T> result{y.detach(), zeros_like(inputs)};
  if (!y.requires_grad()) return result;
  const std::vector<BasicTensor<T>> g =
      grad({y}, leaves, {}, /*retain_graph=*/true, /*create_graph=*/true, /*allow_unused=*/true);
  // d/dx (g . v) = H v; a gradient that does not depend on the inputs adds nothing.
  std::vector<BasicTensor<T>> outputs, directions;
  for (size_t i = 0; i < g.size(); ++i)
    if (g[i].defined() && g[i].requires_grad()) {
      outputs.push_back(g[i]);
      directions.push_back(direction(v, inputs, i));
    }
  if (outputs.empty()) return result;
  const std::vector<BasicTensor<T>> hv =
      grad(outputs, leaves, directions, /*retain_graph=*/false, /*create_graph=*/false,
           /*allow_unused=*/true);
  for (size_t i = 0; i < hv.size(); ++i)
    if (hv[i].defined()) result.product[i] = hv[i];
  return result;
}

template <class T>
JacobianVectorProduct<T> jvp(const TensorFunction<T>& f, const std::vector<BasicTensor<T>>& inputs,
                             const std::vector<BasicTensor<T>>& v) {
  const char* op = "jacobian_vector_product";
  const std::vector<BasicTensor<T>> leaves = leaves_for(op, inputs, v);
  AutoGradMode grad_mode(true);
  const BasicTensor<T> y = call(op, f, leaves);
  JacobianVectorProduct<T> result{y.detach(), BasicTensor<T>::zeros(y.shape())};
  if (!y.requires_grad()) return result;
  // g(u) = J^T u is linear in u, so its vector-Jacobian product along v is J v.
  const BasicTensor<T> u = BasicTensor<T>::zeros(y.shape(), /*requires_grad=*/true);
  const std::vector<BasicTensor<T>> g =
      grad({y}, leaves, {u}, /*retain_graph=*/true, /*create_graph=*/true, /*allow_unused=*/true);
  std::vector<BasicTensor<T>> outputs, directions;
  for (size_t i = 0; i < g.size(); ++i)
    if (g[i].defined() && g[i].requires_grad()) {
      outputs.push_back(g[i]);
      directions.push_back(direction(v, inputs, i));
    }
  if (outputs.empty()) return result;
  const BasicTensor<T> jv = grad(outputs, {u}, directions, /*retain_graph=*/false,
                                 /*create_graph=*/false, /*allow_unused=*/true)[0];
  if (jv.defined()) result.product = jv;
  return result;
}

}  // namespace

HessianVectorProduct<float> hessian_vector_product(const TensorFunction<float>& f,
                                                   const std::vector<Tensor>& inputs,
                                                   const std::vector<Tensor>& v) {
  return hvp(f, inputs, v);
}
HessianVectorProduct<double> hessian_vector_product(const TensorFunction<double>& f,
                                                    const std::vector<DoubleTensor>& inputs,
                                                    const std::vector<DoubleTensor>& v) {
  return hvp(f, inputs, v);
}
JacobianVectorProduct<float> jacobian_vector_product(const TensorFunction<float>& f,
                                                     const std::vector<Tensor>& inputs,
                                                     const std::vector<Tensor>& v) {
  return jvp(f, inputs, v);
}
JacobianVectorProduct<double> jacobian_vector_product(const TensorFunction<double>& f,
                                                      const std::vector<DoubleTensor>& inputs,
                                                      const std::vector<DoubleTensor>& v) {
  return jvp(f, inputs, v);
}

}  // namespace eigrad
