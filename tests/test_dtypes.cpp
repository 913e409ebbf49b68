// int64 and bool tensors: factories, printing, conversions, comparisons, argmax, no gradients.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using Catch::Matchers::Contains;
using eigrad::BoolTensor;
using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::LongTensor;
using eigrad::Shape;
using eigrad::Tensor;
using B = std::vector<bool>;
using L = std::vector<int64_t>;

TEST_CASE("int64 and bool tensors have factories and report their dtype", "[dtypes]") {
  CHECK(LongTensor::zeros({2, 3}).to_vector() == L(6, 0));
  CHECK(LongTensor::ones({2}).to_vector() == L{1, 1});
  CHECK(LongTensor::full({3}, -7).to_vector() == L{-7, -7, -7});
  CHECK(LongTensor::arange(0, 10, 3).to_vector() == L{0, 3, 6, 9});
  CHECK(LongTensor::arange(5, 0, -2).to_vector() == L{5, 3, 1});
  CHECK(LongTensor::from({4, 5, 6}, {3}).at({1}) == 5);
  CHECK(LongTensor::scalar(int64_t(1) << 60).item() == (int64_t(1) << 60));  // past float64's 2^53
  CHECK(BoolTensor::zeros({2}).to_vector() == B{false, false});
  CHECK(BoolTensor::from({true, false, true}, {3}).to_vector() == B{true, false, true});
  CHECK(std::string(LongTensor::dtype()) == "int64");
  CHECK(std::string(BoolTensor::dtype()) == "bool");
  eigrad::Generator g(3);
  const LongTensor r = LongTensor::randint(-2, 3, {1000}, g);
  for (int64_t v : r.to_vector()) CHECK((v >= -2 && v < 3));
  CHECK(eigrad::any(r == LongTensor::full({1000}, -2)).item());  // every value appears
  CHECK(eigrad::any(r == LongTensor::full({1000}, 2)).item());
}

TEST_CASE("int64 and bool tensors print as PyTorch prints them", "[dtypes]") {
  CHECK(LongTensor::from({1, -20, 300}, {3}).str() == "tensor([  1, -20, 300])");
  CHECK(LongTensor::from({1, 2, 3, 4}, {2, 2}).str() == "tensor([[1, 2],\n        [3, 4]])");
  CHECK(BoolTensor::from({true, false}, {2}).str() == "tensor([ True, False])");
  CHECK(LongTensor::scalar(7).str() == "tensor(7)");
  CHECK(LongTensor::zeros({0}).str() == "tensor([], dtype=int64)");
}

TEST_CASE("to<T>() converts between every pair of dtypes as PyTorch does", "[dtypes]") {
  const DoubleTensor d = DoubleTensor::from({-2.7, -0.5, 0, 0.5, 2.7, 1e30});
  // Truncation toward zero; past int64's range the conversion saturates (C++ would be undefined).
  CHECK(d.to<int64_t>().to_vector() == L{-2, 0, 0, 0, 2, std::numeric_limits<int64_t>::max()});
  CHECK(d.to<bool>().to_vector() == B{true, true, false, true, true, true});
  CHECK(DoubleTensor::from({NAN}).to<int64_t>().item() == 0);
  CHECK(DoubleTensor::from({NAN}).to<bool>().item());  // bool(nan) is true
  CHECK(LongTensor::from({-3, 0, 5}).to<float>().to_vector() == std::vector<float>{-3, 0, 5});
  CHECK(LongTensor::from({-3, 0, 5}).to<bool>().to_vector() == B{true, false, true});
  CHECK(BoolTensor::from({true, false}).to<int64_t>().to_vector() == L{1, 0});
  CHECK(BoolTensor::from({true, false}).to<double>().to_vector() == std::vector<double>{1, 0});
}

TEST_CASE("int64 and bool tensors never require grad", "[dtypes]") {
  LongTensor l = LongTensor::zeros({2});
  CHECK_THROWS_WITH(l.set_requires_grad(),
                    Contains("set_requires_grad") && Contains("int64") && Contains("float"));
  CHECK_THROWS_WITH(BoolTensor::zeros({2}, true), Contains("bool") && Contains("require"));
  CHECK_THROWS_WITH(LongTensor::from({1}, {1}, true), Contains("int64"));
  CHECK_NOTHROW(l.set_requires_grad(false));
  CHECK(!l.requires_grad());
  CHECK_THROWS_WITH(LongTensor::scalar(1).backward(), Contains("backward") && Contains("int64"));
  CHECK_THROWS_WITH(l.register_hook([](const LongTensor&) {}), Contains("int64"));
  eigrad::Generator g(1);
  CHECK_THROWS_WITH(LongTensor::uniform({2}, 0, 1, g), Contains("uniform") && Contains("randint"));
  CHECK_THROWS_WITH(Tensor::randint(0, 2, {2}, g), Contains("randint") && Contains("float32"));
  CHECK_THROWS_WITH(LongTensor::randint(2, 2, {2}, g), Contains("low < high"));
}

TEST_CASE("comparisons return bool tensors for every dtype; logic combines them", "[dtypes]") {
  const LongTensor a = LongTensor::from({1, 5, 3});
  const LongTensor b = LongTensor::from({2, 5, 1});
  CHECK((a == b).to_vector() == B{false, true, false});
  CHECK((a < b).to_vector() == B{true, false, false});
  CHECK((a >= 3).to_vector() == B{false, true, true});
  const BoolTensor m = a > 1, n = b > 1;
  CHECK((m & n).to_vector() == B{false, true, false});
  CHECK((m | n).to_vector() == B{true, true, true});
  CHECK((m ^ n).to_vector() == B{true, false, true});
  CHECK((~m).to_vector() == B{true, false, false});
  CHECK(eigrad::sum(m).item() == 2);
  CHECK(std::string(eigrad::sum(m).dtype()) == "int64");
  CHECK(eigrad::sum(a).item() == 9);
  CHECK(eigrad::count_nonzero(DoubleTensor::from({0, 1.5, 0, -2})).item() == 2);
  CHECK(eigrad::all(BoolTensor::zeros({0})).item());
  CHECK(!eigrad::any(BoolTensor::zeros({3})).item());
  CHECK(eigrad::equal(a, LongTensor::from({1, 5, 3})));
  CHECK(!eigrad::equal(a, LongTensor::from({1, 5})));
  CHECK_THROWS_WITH(eigrad::logical_and(m, BoolTensor::zeros({2})),
                    Contains("logical_and") && Contains("[3]") && Contains("[2]"));
}

TEST_CASE("argmax and argmin return int64 tensors; accuracy reads like PyTorch", "[dtypes]") {
  const Tensor logits = Tensor::from({0.1f, 2.0f, -1.0f, 3.0f, 0.0f, 0.5f}, {2, 3});
  const LongTensor pred = eigrad::argmax(logits, 1);
  CHECK(pred.shape() == Shape{2});
  CHECK(pred.to_vector() == L{1, 0});
  CHECK(eigrad::argmax(logits, 1, /*keepdim=*/true).shape() == Shape{2, 1});
  CHECK(eigrad::argmin(logits, 0).to_vector() == L{0, 1, 0});
  CHECK(eigrad::argmax(logits).item() == 3);  // flattened
  CHECK(eigrad::argmin(logits).item() == 2);
  const LongTensor labels = LongTensor::from({1, 2});
  CHECK(eigrad::sum(pred == labels).item() == 1);
  CHECK_THROWS_WITH(eigrad::argmax(Tensor::zeros({0})), Contains("argmax") && Contains("[0]"));
}

TEST_CASE("losses and index_select take int64 tensors", "[dtypes]") {
  const DoubleTensor logits = DoubleTensor::from({1, 2, 3, 1, 1, 1}, {2, 3});
  const LongTensor labels = LongTensor::from({2, 0});
  // By hand: -log softmax(1, 2, 3)[2] and -log(1/3), averaged.
  const double e = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  CHECK(eigrad::nn::cross_entropy(logits, labels).item() ==
        Approx((e + std::log(3.0)) / 2).epsilon(1e-14));
  CHECK(eigrad::nn::nll_loss(logits, labels, eigrad::nn::Reduction::Sum).item() == Approx(-4.0));
  CHECK_THROWS_WITH(eigrad::nn::cross_entropy(logits, LongTensor::zeros({2, 1})),
                    Contains("cross_entropy") && Contains("labels") && Contains("[2, 1]"));
  const DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {3, 2});
  CHECK(eigrad::index_select(x, 0, LongTensor::from({2, 0})).to_vector() ==
        std::vector<double>{5, 6, 1, 2});
}

TEST_CASE("allocation failures and size overflows are eigrad::Errors naming the size", "[dtypes]") {
  // 4 TiB: more than the machine can give.
  CHECK_THROWS_AS(Tensor::zeros({int64_t(1) << 40}), Error);
  CHECK_THROWS_WITH(Tensor::zeros({int64_t(1) << 40}),
                    Contains("out of memory") && Contains("4.00 TiB") && Contains("float32"));
  CHECK_THROWS_WITH(Tensor::zeros({int64_t(1) << 62, 16}),
                    Contains("[4611686018427387904, 16]") && Contains("exceeds"));
}
