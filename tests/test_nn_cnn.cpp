// The CNN modules (Conv1d, Conv2d, the pools, BatchNorm1d/2d), module buffers and the state dict:
// PyTorch's initialisation, names and reprs, training and evaluation behaviour.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using eigrad::test::check_close;
using namespace eigrad;
using Catch::Matchers::Contains;
using V = std::vector<float>;

namespace {

// conv2d by its definition, one multiply-add at a time.
std::vector<double> naive_conv2d(const DoubleTensor& x, const DoubleTensor& w,
                                 const DoubleTensor& b, std::array<int64_t, 2> stride,
                                 std::array<int64_t, 2> pad, std::array<int64_t, 2> dil,
                                 int64_t groups) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
  const int64_t o = w.size(0), cg = w.size(1), kh = w.size(2), kw = w.size(3);
  const int64_t ho = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) / stride[0] + 1;
  const int64_t wo = (wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) / stride[1] + 1;
  std::vector<double> out;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t y = 0; y < ho; ++y)
        for (int64_t z = 0; z < wo; ++z) {
          double s = b.defined() ? b.at({oc}) : 0.0;
          const int64_t g = oc / (o / groups);
          for (int64_t ic = 0; ic < cg; ++ic)
            for (int64_t p = 0; p < kh; ++p)
              for (int64_t q = 0; q < kw; ++q) {
                const int64_t yy = y * stride[0] - pad[0] + p * dil[0];
                const int64_t zz = z * stride[1] - pad[1] + q * dil[1];
                if (yy < 0 || yy >= h || zz < 0 || zz >= wd) continue;
                s += x.at({i, g * cg + ic, yy, zz}) * w.at({oc, ic, p, q});
              }
          (void)c;
          out.push_back(s);
        }
  return out;
}

}  // namespace

TEST_CASE("Conv2d and Conv1d draw the weight, then the bias, from PyTorch's uniform bounds",
          "[nn_cnn]") {
  Generator gen(3), ref(3);
  // fan_in = in / groups * kH * kW = 3 * 3 * 2 = 18.
  nn::Conv2d conv(nn::Conv2dOptions(6, 4, {3, 2}).groups(2), gen);
  CHECK(conv.weight().shape() == Shape{4, 3, 3, 2});
  CHECK(conv.bias().shape() == Shape{4});
  const double bound = 1 / std::sqrt(18.0);
  for (float v : conv.weight().to_vector())
    CHECK(v == Approx(ref.uniform(-bound, bound)).margin(1e-6));
  for (float v : conv.bias().to_vector())
    CHECK(v == Approx(ref.uniform(-bound, bound)).margin(1e-6));

  Generator gen1(4), ref1(4);
  nn::Conv1d conv1(nn::Conv1dOptions(2, 3, 5).bias(false), gen1);  // fan_in 10
  CHECK(conv1.weight().shape() == Shape{3, 2, 5});
  CHECK_FALSE(conv1.bias().defined());
  CHECK(conv1.named_parameters().size() == 1);
  for (float v : conv1.weight().to_vector())
    CHECK(v == Approx(ref1.uniform(-1 / std::sqrt(10.0), 1 / std::sqrt(10.0))).margin(1e-6));

  // Over many draws the values fill the interval.
  nn::Conv2d big(nn::Conv2dOptions(16, 32, 3), gen);
  const float b = static_cast<float>(1 / std::sqrt(144.0));
  CHECK(big.weight().array().maxCoeff() <= b);
  CHECK(big.weight().array().minCoeff() >= -b);
  CHECK(big.weight().array().maxCoeff() > 0.98f * b);
  CHECK(big.weight().array().minCoeff() < -0.98f * b);
}

TEST_CASE("the CNN modules print like PyTorch's", "[nn_cnn]") {
  Generator gen(1);
  CHECK(nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1), gen).str() ==
        "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))");
  CHECK(nn::Conv2d(nn::Conv2dOptions(4, 8, {3, 5}).stride(2).dilation({1, 2}).groups(2).bias(false),
                   gen)
            .str() ==
        "Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), dilation=(1, 2), groups=2, bias=false)");
  CHECK(nn::Conv1d(nn::Conv1dOptions(2, 3, 5), gen).str() ==
        "Conv1d(2, 3, kernel_size=(5,), stride=(1,))");
  CHECK(nn::MaxPool2d(2).str() ==
        "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1))");
  CHECK(
      nn::AvgPool2d(nn::AvgPool2dOptions(3).stride(1).padding(1).count_include_pad(false)).str() ==
      "AvgPool2d(kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), count_include_pad=false)");
  CHECK(nn::AdaptiveAvgPool2d(1).str() == "AdaptiveAvgPool2d(output_size=(1, 1))");
  CHECK(nn::BatchNorm2d(32).str() ==
        "BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)");
  CHECK(nn::BatchNorm1d(nn::BatchNormOptions(8).momentum(std::nullopt).affine(false).eps(1e-3))
            .str() ==
        "BatchNorm1d(8, eps=0.001, momentum=None, affine=false, track_running_stats=true)");
  const auto cnn = test::make_cnn(gen);
  CHECK_THAT(cnn->str(), Contains("  (1): BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=true, "
                                  "track_running_stats=true)\n") &&
                             Contains("  (4): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1), "
                                      "padding=(1, 1))\n"));
}

TEST_CASE("Conv2d and Conv1d compute the convolution their options describe", "[nn_cnn]") {
  Generator gen(5);
  nn::BasicConv2d<double> conv(
      nn::Conv2dOptions(4, 6, {3, 2}).stride({2, 1}).padding({1, 0}).dilation({1, 2}).groups(2),
      gen);
  const DoubleTensor x = DoubleTensor::uniform({2, 4, 7, 6}, -1, 1, gen);
  const DoubleTensor y = conv(x);
  CHECK(y.shape() == Shape{2, 6, 4, 4});
  check_close(y.to_vector(), naive_conv2d(x, conv.weight(), conv.bias(), {2, 1}, {1, 0}, {1, 2}, 2),
              1e-12);

  // Conv1d is the 2-d convolution of a height-1 image.
  nn::BasicConv1d<double> conv1(
      nn::Conv1dOptions(2, 4, 3).stride(2).padding(1).dilation(2).groups(2), gen);
  const DoubleTensor x1 = DoubleTensor::uniform({3, 2, 9}, -1, 1, gen);
  const DoubleTensor w1 = DoubleTensor::from(conv1.weight().to_vector(), {4, 1, 1, 3});
  const DoubleTensor y1 = conv1(x1);
  CHECK(y1.shape() == Shape{3, 4, 4});
  check_close(y1.to_vector(),
              naive_conv2d(DoubleTensor::from(x1.to_vector(), {3, 2, 1, 9}), w1, conv1.bias(),
                           {1, 2}, {0, 1}, {1, 2}, 2),
              1e-12);
}

TEST_CASE("the pooling modules pool as their options say", "[nn_cnn]") {
  const Tensor x = Tensor::arange(0, 16).clone();
  const Tensor img = Tensor::from(x.to_vector(), {1, 1, 4, 4});
  CHECK(nn::MaxPool2d(2)(img).to_vector() == V{5, 7, 13, 15});
  CHECK(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(1).padding(1))(img).shape() ==
        Shape{1, 1, 4, 4});
  CHECK(nn::AvgPool2d(2)(img).to_vector() == V{2.5f, 4.5f, 10.5f, 12.5f});
  CHECK(nn::AdaptiveAvgPool2d(1)(img).to_vector() == V{7.5f});
  CHECK(nn::AdaptiveAvgPool2d({2, 1})(img).to_vector() == V{3.5f, 11.5f});
  CHECK(nn::MaxPool2d(2).named_parameters().empty());
  CHECK_THROWS_WITH(nn::MaxPool2d(0), Contains("MaxPool2d") && Contains("kernel_size=(0, 0)"));
  CHECK_THROWS_WITH(nn::MaxPool2d(nn::MaxPool2dOptions(2).dilation(0)),
                    Contains("MaxPool2d") && Contains("dilation=(0, 0)"));
  CHECK_THROWS_WITH(nn::AvgPool2d(nn::AvgPool2dOptions(2).padding(-1)),
                    Contains("AvgPool2d") && Contains("padding=(-1, -1)"));
  CHECK_THROWS_WITH(nn::AdaptiveAvgPool2d({0, 2}),
                    Contains("AdaptiveAvgPool2d") && Contains("(0, 2)"));
}

TEST_CASE("convolution options no convolution can have are refused", "[nn_cnn]") {
  Generator gen(1);
  CHECK_THROWS_WITH(nn::Conv2d(nn::Conv2dOptions(0, 4, 3), gen),
                    Contains("Conv2d") && Contains("in_channels"));
  CHECK_THROWS_WITH(
      nn::Conv2d(nn::Conv2dOptions(6, 4, 3).groups(4), gen),
      Contains("Conv2d: in_channels 6 and out_channels 4") && Contains("divisible by groups 4"));
  CHECK_THROWS_WITH(nn::Conv2d(nn::Conv2dOptions(2, 4, 3).stride({1, 0}), gen),
                    Contains("Conv2d") && Contains("stride=(1, 0)"));
  CHECK_THROWS_WITH(nn::Conv1d(nn::Conv1dOptions(2, 4, 3).padding(-1), gen),
                    Contains("Conv1d") && Contains("padding=(-1,)"));
}

TEST_CASE("BatchNorm starts at PyTorch's defaults under PyTorch's names", "[nn_cnn]") {
  nn::BatchNorm2d bn(3);
  const auto params = bn.named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[0].second.to_vector() == V{1, 1, 1});
  CHECK(params[1].first == "bias");
  CHECK(params[1].second.to_vector() == V{0, 0, 0});
  const auto buffers = bn.named_buffers();
  REQUIRE(buffers.size() == 3);
  CHECK(buffers[0].first == "running_mean");
  CHECK(buffers[0].second.to_vector() == V{0, 0, 0});
  CHECK(buffers[1].first == "running_var");
  CHECK(buffers[1].second.to_vector() == V{1, 1, 1});
  CHECK(buffers[2].first == "num_batches_tracked");
  CHECK(buffers[2].second.shape() == Shape{});
  CHECK(buffers[2].second.item() == 0);
  for (const auto& b : buffers) CHECK_FALSE(b.second.requires_grad());
  const auto state = bn.state_dict();
  REQUIRE(state.size() == 5);
  CHECK(state[4].saved_as == nn::SavedAs::Int64);
  CHECK(state[2].saved_as == nn::SavedAs::Native);

  nn::BatchNorm1d plain(nn::BatchNormOptions(4).affine(false).track_running_stats(false));
  CHECK(plain.named_parameters().empty());
  CHECK(plain.named_buffers().empty());
  CHECK_FALSE(plain.running_mean().defined());
}

TEST_CASE("BatchNorm normalises with the batch in training and the running statistics in eval",
          "[nn_cnn]") {
  Generator gen(7);
  const DoubleTensor x = DoubleTensor::uniform({4, 2, 3, 3}, -1, 3, gen);
  nn::BasicBatchNorm2d<double> bn(2);
  const DoubleTensor y = bn(x);
  // Per channel the output has mean 0 and (biased) variance 1 / (1 + eps / var).
  const std::vector<double> xv = x.to_vector(), yv = y.to_vector();
  for (int64_t c = 0; c < 2; ++c) {
    double mean = 0, ymean = 0, xsq = 0, ysq = 0;
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t k = 0; k < 9; ++k) {
        mean += xv[static_cast<size_t>((i * 2 + c) * 9 + k)] / 36;
        ymean += yv[static_cast<size_t>((i * 2 + c) * 9 + k)] / 36;
      }
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t k = 0; k < 9; ++k) {
        xsq += std::pow(xv[static_cast<size_t>((i * 2 + c) * 9 + k)] - mean, 2);
        ysq += std::pow(yv[static_cast<size_t>((i * 2 + c) * 9 + k)], 2) / 36;
      }
    CHECK(ymean == Approx(0).margin(1e-12));
    CHECK(ysq == Approx(1 / (1 + 1e-5 / (xsq / 36))));
    CHECK(bn.running_mean().to_vector()[static_cast<size_t>(c)] == Approx(0.1 * mean));
    CHECK(bn.running_var().to_vector()[static_cast<size_t>(c)] == Approx(0.9 + 0.1 * xsq / 35));
  }
  CHECK(bn.num_batches_tracked().item() == 1);
  bn(x);
  CHECK(bn.num_batches_tracked().item() == 2);

  // Evaluation: the running statistics, which stay as they are.
  bn.eval();
  const std::vector<double> rm = bn.running_mean().to_vector(), rv = bn.running_var().to_vector();
  const std::vector<double> ye = bn(x).to_vector();
  for (size_t i = 0; i < xv.size(); ++i) {
    const size_t c = (i / 9) % 2;
    CHECK(ye[i] == Approx((xv[i] - rm[c]) / std::sqrt(rv[c] + 1e-5)));
  }
  CHECK(bn.running_mean().to_vector() == rm);
  CHECK(bn.num_batches_tracked().item() == 2);
  // A batch of one is fine in evaluation, an error in training (and then nothing is counted).
  CHECK(bn(DoubleTensor::ones({1, 2, 1, 1})).shape() == Shape{1, 2, 1, 1});
  bn.train();
  CHECK_THROWS_WITH(bn(DoubleTensor::ones({1, 2, 1, 1})),
                    Contains("expected more than 1 value per channel when training"));
  CHECK(bn.num_batches_tracked().item() == 2);
  CHECK(bn.running_mean().to_vector() == rm);
}

TEST_CASE("train() and eval() reach a BatchNorm inside a Sequential", "[nn_cnn]") {
  Generator gen(2);
  const auto cnn = test::make_cnn(gen);
  const auto bn = cnn->at<nn::BatchNorm2d>(5);
  REQUIRE(bn);
  cnn->eval();
  CHECK_FALSE(bn->is_training());
  const Tensor x = Tensor::uniform({2, 1, 28, 28}, 0, 1, gen);
  CHECK((*cnn)(x).shape() == Shape{2, 10});
  CHECK(bn->num_batches_tracked().item() == 0);
  CHECK(bn->running_var().to_vector() == V(64, 1.0f));
  cnn->train();
  CHECK(bn->is_training());
  (*cnn)(x);
  CHECK(bn->num_batches_tracked().item() == 1);
  CHECK(bn->running_var().to_vector() != V(64, 1.0f));
}

TEST_CASE("BatchNorm with momentum None keeps the cumulative average", "[nn_cnn]") {
  nn::BasicBatchNorm1d<double> bn(1, 1e-5, std::nullopt);
  bn(DoubleTensor::from({1, 3}, {2, 1}));  // mean 2, unbiased variance 2
  bn(DoubleTensor::from({5, 9}, {2, 1}));  // mean 7, unbiased variance 8
  CHECK(bn.running_mean().item() == Approx(4.5));
  CHECK(bn.running_var().item() == Approx(5));
  CHECK(bn.num_batches_tracked().item() == 2);
}

TEST_CASE("BatchNorm without running statistics uses the batch in evaluation too", "[nn_cnn]") {
  nn::BasicBatchNorm1d<double> bn(nn::BatchNormOptions(1).track_running_stats(false));
  bn.eval();
  const std::vector<double> y = bn(DoubleTensor::from({1, 3}, {2, 1})).to_vector();
  CHECK(y[0] == Approx(-1 / std::sqrt(1 + 1e-5)));
  CHECK(y[1] == Approx(1 / std::sqrt(1 + 1e-5)));
}

TEST_CASE("BatchNorm1d and BatchNorm2d check the input's rank and channels", "[nn_cnn]") {
  nn::BatchNorm1d bn1(4);
  CHECK(bn1(Tensor::ones({3, 4})).shape() == Shape{3, 4});
  CHECK(bn1(Tensor::ones({3, 4, 5})).shape() == Shape{3, 4, 5});
  CHECK_THROWS_WITH(
      bn1(Tensor::ones({3, 4, 5, 5})),
      Contains("BatchNorm1d: expected an input [N, C] or [N, C, L], got [3, 4, 5, 5]"));
  CHECK_THROWS_WITH(bn1(Tensor::ones({3, 5})),
                    Contains("BatchNorm1d: expected 4 channels") && Contains("[3, 5]"));
  CHECK_THROWS_WITH(bn1(Tensor::ones({1, 4})),
                    "batch_norm: expected more than 1 value per channel when training, got input "
                    "of shape [1, 4]");
  nn::BatchNorm2d bn2(4);
  CHECK_THROWS_WITH(bn2(Tensor::ones({3, 4, 5})),
                    Contains("BatchNorm2d: expected an input [N, C, H, W], got [3, 4, 5]"));
  CHECK_THROWS_WITH(nn::BatchNorm2d(0), Contains("BatchNorm2d") && Contains("num_features"));
  CHECK_THROWS_WITH(nn::BatchNorm2d(2, 0.0), Contains("BatchNorm2d") && Contains("eps"));
  CHECK_THROWS_WITH(nn::BatchNorm2d(2, 1e-5, 2.0), Contains("BatchNorm2d") && Contains("momentum"));
}

TEST_CASE("buffers are listed with dotted names and never reach parameters() or an optimizer",
          "[nn_cnn]") {
  Generator gen(3);
  nn::Sequential seq(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 2, 3), gen),
                     std::make_shared<nn::BatchNorm2d>(2), std::make_shared<nn::PReLU>(2));
  const auto named = seq.named_buffers();
  REQUIRE(named.size() == 3);
  CHECK(named[0].first == "1.running_mean");
  CHECK(named[1].first == "1.running_var");
  CHECK(named[2].first == "1.num_batches_tracked");
  CHECK(seq.buffers().size() == 3);
  CHECK(seq.named_buffers(false).empty());
  CHECK(seq.buffer("1.running_var").same(named[1].second));
  CHECK_THROWS_WITH(seq.buffer("1.nope"), Contains("1.nope") && Contains("1.running_mean"));
  CHECK_THROWS_WITH(seq.buffer("7.running_var"),
                    Contains("no buffer named '7.running_var'") && Contains("1.running_var"));
  const auto params = seq.parameters();
  CHECK(params.size() == 5);  // conv weight, bias; bn weight, bias; prelu weight
  for (const Tensor& p : params)
    for (const Tensor& b : seq.buffers()) CHECK_FALSE(p.same(b));

  optim::SGD opt(seq.parameters(), optim::SGDOptions(0.1).momentum(0.9).weight_decay(0.1));
  sum(seq(Tensor::uniform({2, 1, 5, 5}, -1, 1, gen))).backward();
  std::vector<V> before;
  for (const Tensor& b : seq.buffers()) before.push_back(b.to_vector());
  for (const Tensor& b : seq.buffers()) CHECK_FALSE(b.grad().defined());
  opt.step();
  const auto after = seq.buffers();
  for (size_t i = 0; i < after.size(); ++i) CHECK(after[i].to_vector() == before[i]);
}

TEST_CASE("register_buffer checks names and values", "[nn_cnn]") {
  nn::Module m;
  m.register_parameter("w", Tensor::ones({2}));
  const Tensor b = m.register_buffer("b", Tensor::ones({2}, /*requires_grad=*/true));
  CHECK_FALSE(b.requires_grad());
  CHECK_THROWS_WITH(m.register_buffer("w", Tensor::ones({1})),
                    Contains("register_buffer") && Contains("'w'") && Contains("parameter"));
  CHECK_THROWS_WITH(m.register_buffer("b", Tensor::ones({1})),
                    Contains("'b' is already taken by a buffer of shape [2]"));
  CHECK_THROWS_WITH(m.register_parameter("b", Tensor::ones({1})),
                    Contains("register_parameter") && Contains("taken by a buffer"));
  CHECK_THROWS_WITH(m.register_buffer("a.b", Tensor::ones({1})), Contains("'.'"));
  CHECK_THROWS_WITH(m.register_buffer("u", Tensor()), Contains("'u'") && Contains("undefined"));
  const Tensor leaf = Tensor::ones({2}, true);
  CHECK_THROWS_WITH(m.register_buffer("v", leaf * 2.0f), Contains("'v'") && Contains("leaf"));
  CHECK_THROWS_WITH(m.register_buffer("n", Tensor::scalar(0.5f), nn::SavedAs::Int64),
                    Contains("'n'") && Contains("not integers"));
  CHECK(m.named_buffers().size() == 1);
}

TEST_CASE("the state dict of the issue's CNN has PyTorch's names, shapes and order", "[nn_cnn]") {
  Generator gen(1);
  const auto cnn = test::make_cnn(gen);
  // What torch.nn.Sequential of the same layers lists in its state_dict(), in its order.
  struct Expected {
    const char* name;
    Shape shape;
    bool int64;
  };
  const std::vector<Expected> expected = {{"0.weight", {32, 1, 3, 3}, false},
                                          {"0.bias", {32}, false},
                                          {"1.weight", {32}, false},
                                          {"1.bias", {32}, false},
                                          {"1.running_mean", {32}, false},
                                          {"1.running_var", {32}, false},
                                          {"1.num_batches_tracked", {}, true},
                                          {"2.weight", {32}, false},
                                          {"4.weight", {64, 32, 3, 3}, false},
                                          {"4.bias", {64}, false},
                                          {"5.weight", {64}, false},
                                          {"5.bias", {64}, false},
                                          {"5.running_mean", {64}, false},
                                          {"5.running_var", {64}, false},
                                          {"5.num_batches_tracked", {}, true},
                                          {"6.weight", {64}, false},
                                          {"9.weight", {128, 3136}, false},
                                          {"9.bias", {128}, false},
                                          {"10.weight", {128}, false},
                                          {"11.weight", {10, 128}, false},
                                          {"11.bias", {10}, false}};
  const nn::StateDict<float> state = cnn->state_dict();
  REQUIRE(state.size() == expected.size());
  for (size_t i = 0; i < state.size(); ++i) {
    INFO(expected[i].name);
    CHECK(state[i].name == expected[i].name);
    CHECK(state[i].tensor.shape() == expected[i].shape);
    CHECK((state[i].saved_as == nn::SavedAs::Int64) == expected[i].int64);
  }
  // The state dict holds the module's own tensors.
  CHECK(state[0].tensor.same(cnn->parameter("0.weight")));
  CHECK(state[4].tensor.same(cnn->buffer("1.running_mean")));
}

TEST_CASE("a module shared twice appears under each name in the state dict", "[nn_cnn]") {
  Generator gen(1);
  const auto shared = std::make_shared<nn::Linear>(2, 2, gen);
  nn::Sequential seq(shared, shared);
  CHECK(seq.named_parameters().size() == 2);
  const auto state = seq.state_dict();
  REQUIRE(state.size() == 4);
  CHECK(state[2].name == "1.weight");
  CHECK(state[2].tensor.same(state[0].tensor));
}

TEST_CASE("load_state_dict copies parameters and buffers after checking everything", "[nn_cnn]") {
  Generator g1(1), g2(2);
  nn::Sequential a(std::make_shared<nn::Linear>(3, 4, g1), std::make_shared<nn::BatchNorm1d>(4));
  nn::Sequential b(std::make_shared<nn::Linear>(3, 4, g2), std::make_shared<nn::BatchNorm1d>(4));
  a(Tensor::uniform({5, 3}, -1, 1, g1));
  a(Tensor::uniform({5, 3}, -1, 1, g1));
  const auto snapshot = [](const nn::Module& m) {
    std::vector<V> out;
    for (const auto& e : m.state_dict()) out.push_back(e.tensor.to_vector());
    return out;
  };
  const std::vector<V> before = snapshot(b);

  // Every problem is listed, and nothing is loaded.
  nn::NamedTensors<float> bad;
  for (const auto& e : a.state_dict())
    if (e.name != "1.running_var") bad.emplace_back(e.name, e.tensor);
  bad[0].second = Tensor::zeros({4, 2});             // 0.weight: wrong shape
  bad.emplace_back("2.weight", Tensor::zeros({1}));  // unexpected
  bad[5].second = Tensor::scalar(1.5f);              // num_batches_tracked: 1.5
  CHECK(bad[5].first == "1.num_batches_tracked");
  CHECK_THROWS_WITH(b.load_state_dict(bad),
                    Contains("Sequential::load_state_dict") && Contains("nothing was loaded") &&
                        Contains("'0.weight' has shape [4, 3] in the module but [4, 2]") &&
                        Contains("'1.num_batches_tracked' is an integer buffer") &&
                        Contains("missing: 1.running_var") && Contains("unexpected: 2.weight"));
  CHECK(snapshot(b) == before);

  // Not strict: the missing and unexpected names are skipped and reported; the rest loads.
  nn::NamedTensors<float> partial;
  for (const auto& e : a.state_dict())
    if (e.name != "1.running_var") partial.emplace_back(e.name, e.tensor);
  partial.emplace_back("2.weight", Tensor::zeros({1}));
  const nn::LoadResult r = b.load_state_dict(partial, false);
  CHECK(r.missing_keys == std::vector<std::string>{"1.running_var"});
  CHECK(r.unexpected_keys == std::vector<std::string>{"2.weight"});
  CHECK(b.buffer("1.running_mean").to_vector() == a.buffer("1.running_mean").to_vector());
  CHECK(b.buffer("1.running_var").to_vector() == before[5]);

  // Strict, from another module's state dict: everything.
  b.load_state_dict(a.state_dict());
  CHECK(snapshot(b) == snapshot(a));
  CHECK(b.buffer("1.num_batches_tracked").item() == 2);
  CHECK_FALSE(b.parameter("0.weight").same(a.parameter("0.weight")));
}
