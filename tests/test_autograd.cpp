// The autograd engine: recording, accumulation, grad mode, graph release, deep graphs.
#include <catch2/catch.hpp>
#include <thread>

#include "eigrad/eigrad.hpp"

using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::NoGradGuard;
using eigrad::Tensor;

TEST_CASE("an op records a node only when an input requires grad", "[autograd]") {
  Tensor a = Tensor::from({1, 2});
  Tensor b = Tensor::from({3, 4}, {2}, true);
  CHECK_FALSE((a * a).requires_grad());
  CHECK((a * b).requires_grad());
  CHECK_FALSE((a * b).is_leaf());
  CHECK(b.is_leaf());
  CHECK((a * b).grad_fn_name() == "mul");
}

TEST_CASE("leaf gradients accumulate across backward calls until zero_grad", "[autograd]") {
  DoubleTensor x = DoubleTensor::from({1, 2}, {2}, true);
  eigrad::sum(x * 3.0).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{3, 3});
  eigrad::sum(x * x).backward();  // adds 2x
  CHECK(x.grad().to_vector() == std::vector<double>{5, 7});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  eigrad::sum(x).backward();
  CHECK(x.grad().to_vector() == std::vector<double>{1, 1});
}

TEST_CASE("a tensor used twice gets the sum of both contributions", "[autograd]") {
  DoubleTensor x = DoubleTensor::scalar(3, true);
  DoubleTensor y = x * x * x + x;  // dy/dx = 3x^2 + 1 = 28
  y.backward();
  CHECK(x.grad().item() == 28);

  DoubleTensor z = DoubleTensor::scalar(2, true);
  DoubleTensor h = z * 2.0;
  DoubleTensor w = h * h + h;  // d/dz = (2h + 1) * 2 = 18 at h = 4
  w.backward();
  CHECK(z.grad().item() == 18);
}

TEST_CASE("no gradient is recorded under NoGradGuard and the mode is restored", "[autograd]") {
  Tensor x = Tensor::from({1}, {1}, true);
  {
    NoGradGuard guard;
    CHECK_FALSE(eigrad::is_grad_enabled());
    Tensor y = x * 2.0f;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
  }
  CHECK(eigrad::is_grad_enabled());
  CHECK((x * 2.0f).requires_grad());
}

TEST_CASE("grad mode is per thread", "[autograd]") {
  NoGradGuard guard;
  bool other_thread_enabled = false;
  std::thread t([&] { other_thread_enabled = eigrad::is_grad_enabled(); });
  t.join();
  CHECK(other_thread_enabled);
  CHECK_FALSE(eigrad::is_grad_enabled());
}

TEST_CASE("backward takes an explicit gradient of the output's shape", "[autograd]") {
  DoubleTensor x = DoubleTensor::from({1, 2, 3}, {3}, true);
  DoubleTensor y = x * x;
  y.backward(DoubleTensor::from({1, 10, 100}));
  CHECK(x.grad().to_vector() == std::vector<double>{2, 40, 600});
}

TEST_CASE("backward rejects a missing or misshapen gradient", "[autograd]") {
  DoubleTensor x = DoubleTensor::from({1, 2, 3}, {3}, true);
  DoubleTensor y = x * 2.0;
  CHECK_THROWS_WITH(y.backward(), Catch::Contains("one-element") && Catch::Contains("[3]"));
  CHECK_THROWS_WITH(y.backward(DoubleTensor::ones({2})),
                    Catch::Contains("gradient has shape [2]") && Catch::Contains("shape [3]"));
  CHECK_THROWS_WITH(DoubleTensor::scalar(1).backward(), Catch::Contains("does not require grad"));
}

TEST_CASE("a second backward through a released graph is a clear error", "[autograd]") {
  DoubleTensor x = DoubleTensor::scalar(2, true);
  DoubleTensor y = x * x;
  y.backward();
  CHECK_THROWS_AS(y.backward(), Error);
  CHECK_THROWS_WITH(y.backward(),
                    Catch::Contains("second time") && Catch::Contains("retain_graph"));
  CHECK(x.grad().item() == 4);  // the failed call added nothing
}

TEST_CASE("retain_graph keeps the graph for a second backward", "[autograd]") {
  DoubleTensor x = DoubleTensor::scalar(2, true);
  DoubleTensor y = x * x;
  y.backward({}, /*retain_graph=*/true);
  y.backward();
  CHECK(x.grad().item() == 8);
}

TEST_CASE("only leaves may change requires_grad", "[autograd]") {
  Tensor x = Tensor::from({1}, {1}, true);
  Tensor y = x * 2.0f;
  CHECK_THROWS_WITH(y.set_requires_grad(false), Catch::Contains("only leaf tensors"));
  Tensor z = Tensor::from({1});
  z.set_requires_grad();
  CHECK(z.requires_grad());
}

TEST_CASE("a chain of a million ops runs backward and is freed without overflowing the stack",
          "[autograd][deep]") {
  Tensor x = Tensor::from({1.0f}, {1}, true);
  Tensor y = x;
  for (int i = 0; i < 1000000; ++i) y = y * 1.0f;
  y.backward(Tensor::ones({1}));
  CHECK(x.grad().item() == 1.0f);
  y = Tensor();  // frees the released chain

  Tensor z = x;
  for (int i = 0; i < 1000000; ++i) z = z + 0.0f;
  z = Tensor();  // frees a chain that was never differentiated
  CHECK(x.grad().item() == 1.0f);
}

TEST_CASE("a tensor used a hundred thousand times gets every contribution", "[autograd][deep]") {
  DoubleTensor x = DoubleTensor::scalar(1, true);
  std::vector<DoubleTensor> uses;
  DoubleTensor total = DoubleTensor::scalar(0);
  for (int i = 0; i < 100000; ++i) total = total + x * 2.0;
  total.backward();
  CHECK(x.grad().item() == 200000);
}
