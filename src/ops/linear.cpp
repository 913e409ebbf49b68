#include "eigrad/nn/functional.hpp"

#include <memory>
#include <string>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/ops/reduce.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "gemm.hpp"
#include "layout.hpp"
#include "matmul_transposed.hpp"

namespace eigrad::nn {

using namespace eigrad::detail;

template <class T>
BasicTensor<T> linear(const BasicTensor<T>& x, const BasicTensor<T>& weight,
                      const BasicTensor<T>& bias) {
  const bool has_bias = bias.defined();
  if (weight.rank() != 2)
    throw Error("linear: expected a weight of shape [out_features, in_features], got " +
                weight.shape().str());
  const int64_t out_f = weight.shape()[0], in_f = weight.shape()[1];
  const Shape& xs = x.shape();
  if (xs.rank() < 1 || xs[xs.rank() - 1] != in_f)
    throw Error("linear: cannot apply a weight of shape " + weight.shape().str() +
                " to an input of shape " + xs.str() + ": the input's last size must be " +
                std::to_string(in_f) + " (in_features)");
  if (has_bias && (bias.rank() != 1 || bias.shape()[0] != out_f))
    throw Error("linear: expected a bias of shape [" + std::to_string(out_f) +
                "] for a weight of shape " + weight.shape().str() + ", got " + bias.shape().str());
  int64_t rows = 1;
  for (int i = 0; i + 1 < xs.rank(); ++i) rows *= xs[i];
  Shape shape = xs;
  shape[xs.rank() - 1] = out_f;

  auto out = BasicTensor<T>::empty(shape);
  T* yd = out.mutable_data();
  if (has_bias) MatrixMap<T>(yd, rows, out_f).rowwise() = ConstRowMap<T>(bias.data(), out_f);
  gemm(operand(x.data(), rows, in_f), transposed(weight.data(), out_f, in_f), yd, has_bias);

  auto backward = [rows, in_f, out_f, has_bias, xd = x.storage(), wd = weight.storage()](
                      const Array<T>& g, GradSink<T>& s) {
    if (s.needs(0)) {
      Array<T> gx(rows * in_f);
      gemm(operand(g.data(), rows, out_f), operand(wd->data(), out_f, in_f), gx.data(), false);
      s.add(0, std::move(gx));
    }
    if (s.needs(1)) {
      Array<T> gw(out_f * in_f);
      gemm(transposed(g.data(), rows, out_f), operand(xd->data(), rows, in_f), gw.data(), false);
      s.add(1, std::move(gw));
    }
    if (has_bias && s.needs(2)) {  // row by row: column sums of a row-major block do not vectorize
      Array<T> gb = Array<T>::Zero(out_f);
      for (int64_t r = 0; r < rows; ++r)
        gb += Eigen::Map<const Array<T>>(g.data() + r * out_f, out_f);
      s.add(2, std::move(gb));
    }
  };
  // The same in ops, on x and g as [rows, in] and [rows, out].
  auto graph = [rows, in_f, out_f, has_bias, xs](GraphContext<T>& c, const BasicTensor<T>& g) {
    const auto matrix = [rows](const BasicTensor<T>& t, int64_t cols) {
      return t.rank() == 2 ? t : reshape(t, {rows, cols});
    };
    const BasicTensor<T> g2 = matrix(g, out_f);
    std::vector<BasicTensor<T>> grads(has_bias ? 3 : 2);
    if (c.needs(0)) {
      const BasicTensor<T> gx = matmul_transposed(g2, c.input(1), false, false);
      grads[0] = xs.rank() == 2 ? gx : reshape(gx, xs.vec());
    }
    if (c.needs(1)) grads[1] = matmul_transposed(g2, matrix(c.input(0), in_f), true, false);
    if (has_bias && c.needs(2)) grads[2] = sum_to_size(g2, Shape{out_f});
    return grads;
  };
  if (has_bias) {
    if (needs_grad({&x, &weight, &bias}))
      record("linear", out, {&x, &weight, &bias}, Saves().input(0).input(1), backward, graph);
  } else if (needs_grad(x, weight)) {
    record("linear", out, {&x, &weight}, Saves().input(0).input(1), backward, graph);
  }
  return out;
}

#define EIGRAD_INSTANTIATE_LINEAR(T)                                           \
  template BasicTensor<T> linear(const BasicTensor<T>&, const BasicTensor<T>&, \
                                 const BasicTensor<T>&);

EIGRAD_INSTANTIATE_LINEAR(float)
EIGRAD_INSTANTIATE_LINEAR(double)

}  // namespace eigrad::nn
