// Differentiates y = sum(x * x) through an installed eigrad; exits 0 when dy/dx = 2x.
#include <eigrad/eigrad.hpp>
#include <iostream>

int main() {
  eigrad::DoubleTensor x = eigrad::DoubleTensor::from({1.5, -2.0}, {2}, true);
  eigrad::sum(x * x).backward();
  const bool ok = x.grad().at({0}) == 3.0 && x.grad().at({1}) == -4.0;
  std::cout << "consumer: dy/dx = " << x.grad() << (ok ? " (ok)" : " (WRONG)") << "\n";
  return ok ? 0 : 1;
}
