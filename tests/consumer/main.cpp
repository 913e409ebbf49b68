// A program built apart from eigrad against its installed package, as a user builds it, and in
// the tests with other flags than the library (-march=native on one side only, AddressSanitizer,
// -Wall -Wextra -Werror). Eigen arrays cross the library boundary both ways: made on one side,
// written, resized, swapped and freed on the other. Exits 0 when every check holds.
#include <eigrad/eigrad.hpp>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

namespace {

using eigrad::Tensor;
using Array = Tensor::Array;

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    std::cout << "FAILED: " << what << "\n";
    ++failures;
  }
}

bool aligned(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % EIGEN_MAX_ALIGN_BYTES == 0;
}

bool close(double a, double b) {
  return std::abs(a - b) <= 1e-5 * (1 + std::abs(b));
}

// Sizes around the vector widths, and one past OpenMP's threshold, so that aligned packet loads,
// tails and the threaded kernels all meet buffers from both sides.
void exchange_buffers(int64_t n) {
  const std::string at = " (n = " + std::to_string(n) + ")";
  // The library allocates; the consumer resizes, which frees the library's buffer and allocates
  // one of its own, and writes it.
  Tensor w = Tensor::zeros({n}, /*requires_grad=*/true);
  check(aligned(w.data()), "the library's buffer is aligned" + at);
  w.mutable_array().resize(n + 7);
  w.mutable_array().resize(n);
  check(aligned(w.data()), "the consumer's buffer is aligned" + at);
  for (int64_t i = 0; i < n; ++i) w.mutable_array()[i] = 0.01f * static_cast<float>(i % 97) - 0.4f;

  // The library's kernels read the consumer's buffer; backward allocates the gradient.
  eigrad::sum(w * w * 3.0f).backward();
  Tensor g = w.grad();
  bool grad_ok = g.numel() == n;
  for (int64_t i = 0; grad_ok && i < n; ++i) grad_ok = close(g.array()[i], 6.0 * w.array()[i]);
  check(grad_ok, "d/dw sum(3 w^2) = 6 w" + at);

  // Swapped buffers: the consumer holds the library's gradient and the library's tensor holds
  // the consumer's array; each side later frees what the other allocated.
  Array mine = Array::Constant(n, 0.5f);
  g.mutable_array().swap(mine);
  check(close(mine[n - 1], 6.0 * w.array()[n - 1]), "the swapped-out gradient" + at);
  Tensor y = eigrad::exp(g);  // reads the consumer's array, allocates the result
  check(close(y.array()[0], std::exp(0.5)) && close(y.array()[n - 1], std::exp(0.5)),
        "exp of the consumer's buffer" + at);
  w.zero_grad();
  g = Tensor();

  // Storage made by the consumer, wrapped and used by the library.
  auto storage = std::make_shared<Array>(Array::LinSpaced(n, -2.0f, 2.0f));
  Tensor x = Tensor::from_storage(storage, {n});
  Tensor s = eigrad::sigmoid(x);
  bool sigmoid_ok = true;
  for (int64_t i = 0; sigmoid_ok && i < n; ++i)
    sigmoid_ok = close(s.array()[i], 1.0 / (1.0 + std::exp(-(*storage)[i])));
  check(sigmoid_ok, "sigmoid of the consumer's storage" + at);
}

// One SGD step of a linear layer whose weights the consumer wrote: W' = W - lr * dL/dW with
// L = sum(x W^T + b), so dL/dW[o][i] = sum over the batch of x[b][i] and dL/db[o] = batch.
void train_linear() {
  eigrad::Generator gen(7);
  auto layer = std::make_shared<eigrad::nn::Linear>(3, 2, gen);
  Tensor W = layer->weight();
  for (int64_t k = 0; k < W.numel(); ++k) W.mutable_array()[k] = 0.1f * static_cast<float>(k + 1);
  const Array W0 = W.array();  // a consumer copy of a library tensor
  const Tensor x = Tensor::from({1, 2, 3, -1, 0.5f, 4}, {2, 3});
  eigrad::optim::SGD sgd(layer->parameters(), eigrad::optim::SGDOptions(0.1));
  eigrad::sum(layer->forward(x)).backward();
  sgd.step();
  const float column_sums[3] = {0.0f, 2.5f, 7.0f};
  bool ok = true;
  for (int o = 0; o < 2; ++o)
    for (int i = 0; i < 3; ++i)
      ok = ok && close(W.array()[o * 3 + i], W0[o * 3 + i] - 0.1 * column_sums[i]);
  check(ok, "an SGD step on weights written by the consumer");
}

}  // namespace

int main() {
  eigrad::DoubleTensor x = eigrad::DoubleTensor::from({1.5, -2.0}, {2}, true);
  eigrad::sum(x * x).backward();
  check(x.grad().at({0}) == 3.0 && x.grad().at({1}) == -4.0, "d/dx sum(x^2) = 2 x in float64");

  for (const int64_t n : {1, 3, 16, 17, 1000, 100003}) exchange_buffers(n);
  train_linear();
  // Fixed-size objects have one layout whatever -march this program is compiled with.
  check(alignof(Eigen::Matrix<float, 16, 1>) == 64, "fixed-size Eigen objects aligned to 64");

  std::cout << "consumer: " << (failures == 0 ? "all checks passed" : "checks FAILED") << "\n";
  return failures == 0 ? 0 : 1;
}
