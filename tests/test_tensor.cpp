// Tensor: storage, factories, access, conversion and printing.
#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>

#include "eigrad/eigrad.hpp"

using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;

TEST_CASE("a tensor reports its shape, rank and element count", "[tensor]") {
  Tensor t = Tensor::zeros({2, 3, 4});
  CHECK(t.shape() == Shape{2, 3, 4});
  CHECK(t.rank() == 3);
  CHECK(t.numel() == 24);
  CHECK(t.size(-1) == 4);
  CHECK(Tensor::scalar(2.5f).rank() == 0);
  CHECK(Tensor::scalar(2.5f).numel() == 1);
  CHECK(Tensor::zeros({1, 1, 1, 1, 1, 2}).rank() == 6);
}

TEST_CASE("copying a tensor shares storage while clone copies it", "[tensor]") {
  Tensor a = Tensor::from({1, 2, 3});
  Tensor shared = a;
  Tensor copy = a.clone();
  a.mutable_at({1}) = 20;
  CHECK(shared.at({1}) == 20);
  CHECK(copy.at({1}) == 2);
}

TEST_CASE("detach shares data but drops the graph", "[tensor]") {
  Tensor x = Tensor::from({1, 2}, {2}, true);
  Tensor y = x * 3.0f;
  Tensor d = y.detach();
  CHECK(d.is_leaf());
  CHECK_FALSE(d.requires_grad());
  CHECK(d.data() == y.data());
}

TEST_CASE("factories fill tensors with the requested values", "[tensor]") {
  CHECK(Tensor::ones({2, 2}).to_vector() == std::vector<float>{1, 1, 1, 1});
  CHECK(Tensor::full({3}, 7.5f).to_vector() == std::vector<float>{7.5f, 7.5f, 7.5f});
  CHECK(Tensor::arange(0, 5).to_vector() == std::vector<float>{0, 1, 2, 3, 4});
  CHECK(Tensor::arange(1, 2, 0.25f).to_vector() == std::vector<float>{1, 1.25f, 1.5f, 1.75f});
  CHECK(DoubleTensor::linspace(0, 1, 5).to_vector() == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
  CHECK(Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3}).at({1, 2}) == 6);
}

TEST_CASE("random factories are reproducible from a seed and have the requested moments",
          "[tensor]") {
  Generator g1(42), g2(42), g3(43);
  DoubleTensor a = DoubleTensor::uniform({1000}, -1, 3, g1);
  DoubleTensor b = DoubleTensor::uniform({1000}, -1, 3, g2);
  DoubleTensor c = DoubleTensor::uniform({1000}, -1, 3, g3);
  CHECK(a.to_vector() == b.to_vector());
  CHECK(a.to_vector() != c.to_vector());
  CHECK(a.array().minCoeff() >= -1);
  CHECK(a.array().maxCoeff() < 3);
  CHECK(a.array().mean() == Approx(1.0).margin(0.1));  // mean of U(-1, 3)

  Generator g4(7);
  DoubleTensor n = DoubleTensor::normal({20000}, 2.0, 0.5, g4);
  const double mean = n.array().mean();
  const double var = (n.array() - mean).square().mean();
  CHECK(mean == Approx(2.0).margin(0.02));
  CHECK(std::sqrt(var) == Approx(0.5).margin(0.02));
}

TEST_CASE("the generator's first numbers are those of the standard mt19937_64", "[tensor]") {
  // std::mt19937_64 with the default seed 5489 yields 14514284786278117030 first (C++ standard);
  // uniform() keeps its top 53 bits.
  Generator g(5489);
  CHECK(g.uniform() == static_cast<double>(14514284786278117030ull >> 11) * 0x1.0p-53);
}

TEST_CASE("item and element access check their arguments", "[tensor]") {
  Tensor t = Tensor::from({1, 2, 3, 4}, {2, 2});
  CHECK(Tensor::scalar(3).item() == 3);
  CHECK_THROWS_WITH(t.item(), Catch::Contains("one element") && Catch::Contains("[2, 2]"));
  CHECK_THROWS_WITH(t.at({2, 0}), Catch::Contains("index 2 is out of range for axis 0"));
  CHECK_THROWS_WITH(t.at({0}), Catch::Contains("1 indices given for a tensor of shape [2, 2]"));
  CHECK_THROWS_AS(Tensor::from({1, 2, 3}, {2, 2}), Error);
  CHECK_THROWS_WITH(Tensor::from({1, 2, 3}, {2, 2}),
                    Catch::Contains("3 values cannot fill shape [2, 2]"));
  CHECK_THROWS_WITH(Tensor::zeros({2, -1}), Catch::Contains("non-negative"));
  CHECK_THROWS_WITH(Tensor::zeros({1, 1, 1, 1, 1, 1, 1, 1, 1}), Catch::Contains("maximum rank"));
  CHECK_THROWS_WITH(Tensor().shape(), Catch::Contains("undefined tensor"));
}

TEST_CASE("float32 and float64 convert into each other", "[tensor]") {
  Tensor f = Tensor::from({0.5f, -1.25f});
  DoubleTensor d = f.to<double>();
  CHECK(d.to_vector() == std::vector<double>{0.5, -1.25});
  CHECK(d.to<float>().to_vector() == f.to_vector());
  CHECK(std::string(DoubleTensor::dtype()) == "float64");
}

TEST_CASE("tensors print like PyTorch's repr", "[tensor]") {
  CHECK(Tensor::from({1, 2, 3}).str() == "tensor([1., 2., 3.])");
  CHECK(Tensor::from({1.5f, -2}, {2}).str() == "tensor([ 1.5000, -2.0000])");
  CHECK(Tensor::from({1, 2, 3, 4}, {2, 2}).str() == "tensor([[1., 2.],\n        [3., 4.]])");
  CHECK(Tensor::scalar(0.25f).str() == "tensor(0.2500)");
  CHECK(DoubleTensor::from({1, 2}).str() == "tensor([1., 2.], dtype=float64)");
  CHECK(Tensor::from({1e-5f, 1}).str() == "tensor([1.0000e-05, 1.0000e+00])");
  CHECK(Tensor::from({1, 2}, {2}, true).str() == "tensor([1., 2.], requires_grad=True)");
  std::ostringstream os;
  os << Tensor::arange(0, 2000);
  CHECK(os.str() == "tensor([   0.,    1.,    2.,  ..., 1997., 1998., 1999.])");
}
