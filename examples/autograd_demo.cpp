// A small autograd example: builds y = sum((w * x + b)^2) / n and prints values and gradients.
#include <iostream>

#include "eigrad/eigrad.hpp"

int main() {
  using eigrad::Tensor;
  Tensor x = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor w = Tensor::from({0.5f, -1.0f, 2.0f}, {3}, /*requires_grad=*/true);
  Tensor b = Tensor::scalar(0.25f, /*requires_grad=*/true);

  Tensor z = x * w + b;
  Tensor loss = eigrad::mean(eigrad::pow(z, 2.0f));
  loss.backward();

  std::cout << "x    = " << x << "\n"
            << "w    = " << w << "\n"
            << "b    = " << b << "\n"
            << "z    = " << z << "\n"
            << "loss = " << loss << "\n"
            << "dloss/dw = " << w.grad() << "\n"
            << "dloss/db = " << b.grad() << "\n";
  return 0;
}
