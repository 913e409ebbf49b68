// Tensor gradient hooks: order, replacement, removal, leaves and non-leaves, both backward paths.
#include <catch2/catch.hpp>
#include <vector>

#include "eigrad/eigrad.hpp"

using Catch::Matchers::Contains;
using eigrad::DoubleTensor;
using V = std::vector<double>;

TEST_CASE("a hook sees and can replace a non-leaf's gradient", "[hooks]") {
  DoubleTensor x = DoubleTensor::from({1, 2, 3}, {3}, true);
  DoubleTensor y = x * x;  // dy/dx = 2x
  std::vector<double> seen;
  auto h1 = y.register_hook([&](const DoubleTensor& g) { seen = g.to_vector(); });
  auto h2 = y.register_hook([](const DoubleTensor& g) { return g * 10.0; });
  eigrad::sum(y * DoubleTensor::from({1, 2, 3})).backward();
  CHECK(seen == V{1, 2, 3});                      // the gradient reaching y, before h2
  CHECK(x.grad().to_vector() == V{20, 80, 180});  // 10 * (1, 2, 3) * 2x
  // Removed, the hook no longer runs; removing twice is harmless.
  h2.remove();
  h2.remove();
  x.zero_grad();
  DoubleTensor y2 = x * x;
  auto h3 = y2.register_hook([](const DoubleTensor& g) { return g + 1.0; });
  h3.remove();
  eigrad::sum(y2).backward();
  CHECK(x.grad().to_vector() == V{2, 4, 6});
  h1.remove();
}

TEST_CASE("hooks on a leaf run before .grad accumulates, in registration order", "[hooks]") {
  DoubleTensor w = DoubleTensor::from({1, -1}, {2}, true);
  std::vector<int> order;
  w.register_hook([&](const DoubleTensor& g) {
    order.push_back(1);
    return g * 2.0;
  });
  w.register_hook([&](const DoubleTensor& g) {
    order.push_back(2);
    return g + 1.0;
  });
  eigrad::sum(w * 3.0).backward();
  CHECK(order == std::vector<int>{1, 2});
  CHECK(w.grad().to_vector() == V{7, 7});  // (3 * 2) + 1
  eigrad::sum(w * 3.0).backward();         // accumulates the hooked gradient again
  CHECK(w.grad().to_vector() == V{14, 14});
}

TEST_CASE("hooks run under create_graph and the replaced gradient is differentiable", "[hooks]") {
  DoubleTensor x = DoubleTensor::from({0.5, 2}, {2}, true);
  DoubleTensor y = x * x * x;
  y.register_hook([](const DoubleTensor& g) { return g * 2.0; });
  eigrad::sum(y).backward({}, false, /*create_graph=*/true);
  CHECK(x.grad().to_vector() == V{2 * 3 * 0.25, 2 * 3 * 4});  // 2 * 3x^2
  const auto h = eigrad::grad({eigrad::sum(x.grad())}, {x});
  CHECK(h[0].to_vector() == V{2 * 6 * 0.5, 2 * 6 * 2});  // 2 * 6x
}

TEST_CASE("hooks are errors where there is no gradient or the shape changes", "[hooks]") {
  DoubleTensor c = DoubleTensor::zeros({2});
  CHECK_THROWS_WITH(c.register_hook([](const DoubleTensor&) {}), Contains("does not require grad"));
  DoubleTensor x = DoubleTensor::ones({2}, true);
  DoubleTensor y = x * 2.0;
  y.register_hook([](const DoubleTensor&) { return DoubleTensor::zeros({3}); });
  CHECK_THROWS_WITH(eigrad::sum(y).backward(),
                    Contains("register_hook") && Contains("[3]") && Contains("[2]"));
}
