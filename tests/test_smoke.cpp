#include <catch2/catch.hpp>

#include "eigrad/eigrad.hpp"

TEST_CASE("a scalar expression differentiates by hand") {
  eigrad::DoubleTensor x = eigrad::DoubleTensor::scalar(3.0, true);
  eigrad::DoubleTensor y = x * x + x * 2.0;
  y.backward();
  CHECK(x.grad().item() == 8.0);
}
