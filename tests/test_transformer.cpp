// nn::TransformerEncoderLayer and nn::TransformerEncoder against hand compositions of their
// pieces, PyTorch 1.13's state-dict names written out by hand, gradients (first and second
// order), float32 against float64, and errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using Catch::Contains;
using eigrad::BoolTensor;
using eigrad::DoubleTensor;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_close;
using eigrad::test::random_values;
using Layer64 = eigrad::nn::BasicTransformerEncoderLayer<double>;
using eigrad::nn::TransformerEncoderLayerOptions;

namespace {

// Layer normalisation over the last axis, written with mean and var here (not the LayerNorm op).
DoubleTensor hand_layer_norm(const DoubleTensor& x, const DoubleTensor& w, const DoubleTensor& b,
                             double eps) {
  const DoubleTensor mu = eigrad::mean(x, -1, true);
  const DoubleTensor var = eigrad::var(x, -1, 0, true);
  return (x - mu) / eigrad::sqrt(var + eps) * w + b;
}

// A float64 layer with every parameter random (LayerNorm's weight 1 and bias 0 and the zero
// attention biases would hide mistakes).
std::shared_ptr<Layer64> make_layer(const TransformerEncoderLayerOptions& options, uint64_t seed) {
  Generator gen(seed);
  auto layer = std::make_shared<Layer64>(options, gen);
  uint64_t s = seed;
  for (const auto& [name, p] : layer->named_parameters())
    layer->set_parameter(name, random_values(p.shape(), ++s, -0.5, 0.5) +
                                   (name.find("norm") != std::string::npos &&
                                            name.find("weight") != std::string::npos
                                        ? 1.0
                                        : 0.0));
  return layer;
}

// The layer's computation from its pieces: self-attention by the (separately tested) child
// self_attn, the rest from the parameters.
DoubleTensor hand_layer(Layer64& layer, const DoubleTensor& x,
                        const eigrad::AttentionMask<double>& mask,
                        const eigrad::AttentionMask<double>& kpm) {
  const auto& o = layer.options();
  const auto p = [&](const std::string& name) { return layer.parameter(name); };
  const auto sa = [&](const DoubleTensor& t) {
    return std::get<0>(layer.self_attn()->forward(t, t, t, kpm, false, mask));
  };
  const auto ff = [&](const DoubleTensor& t) {
    const DoubleTensor h =
        eigrad::matmul(t, eigrad::transpose(p("linear1.weight"), 0, 1)) + p("linear1.bias");
    const DoubleTensor a = o.activation() == "gelu" ? eigrad::gelu(h) : eigrad::relu(h);
    return eigrad::matmul(a, eigrad::transpose(p("linear2.weight"), 0, 1)) + p("linear2.bias");
  };
  const auto n1 = [&](const DoubleTensor& t) {
    return hand_layer_norm(t, p("norm1.weight"), p("norm1.bias"), o.layer_norm_eps());
  };
  const auto n2 = [&](const DoubleTensor& t) {
    return hand_layer_norm(t, p("norm2.weight"), p("norm2.bias"), o.layer_norm_eps());
  };
  if (o.norm_first()) {
    const DoubleTensor y = x + sa(n1(x));
    return y + ff(n2(y));
  }
  const DoubleTensor y = n1(x + sa(x));
  return n2(y + ff(y));
}

}  // namespace

TEST_CASE("TransformerEncoderLayer (post-norm) equals norm2(y + ff(y)), y = norm1(x + sa(x))",
          "[transformer]") {
  for (bool batch_first : {true, false}) {
    INFO("batch_first " << batch_first);
    auto layer =
        make_layer(TransformerEncoderLayerOptions(4, 2).dim_feedforward(6).dropout(0.0).batch_first(
                       batch_first),
                   3);
    const DoubleTensor x = random_values({2, 3, 4}, 10);
    check_close(layer->forward(x).to_vector(), hand_layer(*layer, x, {}, {}).to_vector(), 1e-12);
  }
}

TEST_CASE("TransformerEncoderLayer norm_first equals y + ff(norm2(y)), y = x + sa(norm1(x))",
          "[transformer]") {
  auto layer = make_layer(TransformerEncoderLayerOptions(4, 2)
                              .dim_feedforward(6)
                              .dropout(0.0)
                              .activation("gelu")
                              .norm_first(true)
                              .layer_norm_eps(1e-3),
                          4);
  const DoubleTensor x = random_values({3, 2, 4}, 11);
  check_close(layer->forward(x).to_vector(), hand_layer(*layer, x, {}, {}).to_vector(), 1e-12);
}

TEST_CASE("TransformerEncoderLayer passes src_mask and src_key_padding_mask to self_attn",
          "[transformer]") {
  auto layer = make_layer(
      TransformerEncoderLayerOptions(4, 2).dim_feedforward(6).dropout(0.0).batch_first(true), 5);
  const DoubleTensor x = random_values({2, 3, 4}, 12);
  const BoolTensor kpm = BoolTensor::from({false, false, true, false, true, true}, Shape{2, 3});
  const DoubleTensor causal = eigrad::nn::generate_square_subsequent_mask<double>(3);
  check_close(layer->forward(x, causal, kpm).to_vector(),
              hand_layer(*layer, x, causal, kpm).to_vector(), 1e-12);
  // The causal mask does change the result.
  CHECK(layer->forward(x, causal).to_vector() != layer->forward(x).to_vector());
}

TEST_CASE("TransformerEncoderLayer: gradients and second derivatives in float64", "[transformer]") {
  auto layer = make_layer(TransformerEncoderLayerOptions(4, 2)
                              .dim_feedforward(6)
                              .dropout(0.0)
                              .activation("gelu")
                              .batch_first(true),
                          6);
  const DoubleTensor x = random_values({2, 3, 4}, 13, -1, 1);
  const auto first = eigrad::gradcheck_module(*layer, x);
  INFO(first.str());
  CHECK(first.passed);
  const auto second = eigrad::gradgradcheck_module(*layer, x);
  INFO(second.str());
  CHECK(second.passed);
}

TEST_CASE("TransformerEncoderLayer: float32 agrees with float64", "[transformer]") {
  Generator gen(7);
  eigrad::nn::TransformerEncoderLayer l32(
      TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).activation("gelu"), gen);
  l32.eval();  // no dropout
  const auto l64 = eigrad::nn::to_double(l32);
  const DoubleTensor x = random_values({5, 3, 8}, 14);
  check_close(l32.forward(x.to<float>()).to<double>().to_vector(), l64->forward(x).to_vector(),
              1e-4);
}

TEST_CASE("TransformerEncoder's state dict has PyTorch's names, shapes and dtypes",
          "[transformer]") {
  Generator gen(1);
  eigrad::nn::TransformerEncoderLayer layer(
      TransformerEncoderLayerOptions(8, 2).dim_feedforward(16), gen);
  eigrad::nn::TransformerEncoder encoder(layer, 2);
  // torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16), 2).state_dict()
  const std::vector<std::pair<std::string, Shape>> want_one = {
      {"self_attn.in_proj_weight", {24, 8}},
      {"self_attn.in_proj_bias", {24}},
      {"self_attn.out_proj.weight", {8, 8}},
      {"self_attn.out_proj.bias", {8}},
      {"linear1.weight", {16, 8}},
      {"linear1.bias", {16}},
      {"linear2.weight", {8, 16}},
      {"linear2.bias", {8}},
      {"norm1.weight", {8}},
      {"norm1.bias", {8}},
      {"norm2.weight", {8}},
      {"norm2.bias", {8}}};
  const auto state = encoder.state_dict();
  REQUIRE(state.size() == 24);
  for (size_t i = 0; i < state.size(); ++i) {
    const auto& [name, shape] = want_one[i % 12];
    CHECK(state[i].name == "layers." + std::to_string(i / 12) + "." + name);
    CHECK(state[i].tensor.shape() == shape);
    CHECK(state[i].tensor.dtype() == std::string("float32"));
    CHECK(state[i].saved_as == eigrad::nn::SavedAs::Native);
  }
  CHECK(layer.state_dict().size() == 12);
  // With a final norm: norm.weight and norm.bias last.
  eigrad::nn::TransformerEncoder with_norm(layer, 1, std::make_shared<eigrad::nn::LayerNorm>(8));
  const auto s2 = with_norm.state_dict();
  REQUIRE(s2.size() == 14);
  CHECK(s2[12].name == "norm.weight");
  CHECK(s2[13].name == "norm.bias");
}

TEST_CASE("TransformerEncoder: copies of the layer's weights, applied in turn, then the norm",
          "[transformer]") {
  auto layer = make_layer(TransformerEncoderLayerOptions(4, 2).dim_feedforward(6).dropout(0.0), 8);
  auto norm = std::make_shared<eigrad::nn::BasicLayerNorm<double>>(std::vector<int64_t>{4});
  eigrad::nn::BasicTransformerEncoder<double> encoder(*layer, 3, norm);
  REQUIRE(encoder.num_layers() == 3);
  for (int i = 0; i < 3; ++i)
    for (const auto& [name, p] : layer->named_parameters()) {
      const DoubleTensor q = encoder.parameter("layers." + std::to_string(i) + "." + name);
      CHECK(q.to_vector() == p.to_vector());
      CHECK(!q.same(p));  // a copy, not shared
    }
  const DoubleTensor x = random_values({3, 2, 4}, 15);
  const BoolTensor mask = eigrad::causal_mask(3);
  DoubleTensor want = x;
  for (int i = 0; i < 3; ++i) want = layer->forward(want, mask);
  want = hand_layer_norm(want, norm->parameter("weight"), norm->parameter("bias"), 1e-5);
  check_close(encoder.forward(x, mask).to_vector(), want.to_vector(), 1e-12);
  // Training one copy does not change the others.
  encoder.set_parameter("layers.0.linear1.bias", DoubleTensor::zeros({6}));
  CHECK(encoder.parameter("layers.1.linear1.bias").to_vector() ==
        layer->parameter("linear1.bias").to_vector());
}

TEST_CASE("TransformerEncoder: the copies draw different dropout masks", "[transformer]") {
  Generator gen(2);
  eigrad::nn::TransformerEncoderLayer layer(
      TransformerEncoderLayerOptions(4, 2).dim_feedforward(6).dropout(0.5), gen);
  eigrad::nn::TransformerEncoder a(layer, 2), b(layer, 2);
  for (const char* child : {"dropout", "dropout1", "dropout2"}) {
    std::string s0, s1, t0;
    for (const auto& [name, m] : a.layer(0)->named_children())
      if (name == child) s0 = m->generator()->state();
    for (const auto& [name, m] : a.layer(1)->named_children())
      if (name == child) s1 = m->generator()->state();
    for (const auto& [name, m] : b.layer(0)->named_children())
      if (name == child) t0 = m->generator()->state();
    CHECK(s0 != s1);  // layers differ
    CHECK(s0 == t0);  // encoders built alike agree
  }
  CHECK(a.layer(0)->self_attn()->generator()->state() !=
        a.layer(1)->self_attn()->generator()->state());
  // In training the two layers' outputs differ only through their masks; in eval mode the
  // encoder is deterministic.
  const Tensor x = Tensor::ones({3, 2, 4});
  a.eval();
  CHECK(a.forward(x).to_vector() == a.forward(x).to_vector());
  a.train();
  CHECK(a.forward(x).to_vector() != a.forward(x).to_vector());
}

TEST_CASE("TransformerEncoder converts to float64 with the same values", "[transformer]") {
  Generator gen(3);
  eigrad::nn::TransformerEncoderLayer layer(
      TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).batch_first(true), gen);
  eigrad::nn::TransformerEncoder encoder(layer, 2, std::make_shared<eigrad::nn::LayerNorm>(8));
  encoder.eval();
  const auto e64 = eigrad::nn::to_double(encoder);
  const DoubleTensor x = random_values({2, 5, 8}, 16);
  check_close(encoder.forward(x.to<float>()).to<double>().to_vector(), e64->forward(x).to_vector(),
              1e-4);
}

TEST_CASE("TransformerEncoder's float64 copy draws the same dropout masks", "[transformer]") {
  Generator gen(4);
  eigrad::nn::TransformerEncoderLayer layer(
      TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).dropout(0.3), gen);
  eigrad::nn::TransformerEncoder encoder(layer, 2);
  const auto e64 = eigrad::nn::to_double(encoder);  // in training mode, as encoder
  const DoubleTensor x = random_values({4, 2, 8}, 17);
  const std::vector<double> y32 = encoder.forward(x.to<float>()).to<double>().to_vector();
  const std::vector<double> y64 = e64->forward(x).to_vector();
  check_close(y32, y64, 1e-4);
  // and a second call draws new masks in both
  check_close(encoder.forward(x.to<float>()).to<double>().to_vector(), e64->forward(x).to_vector(),
              1e-4);
  CHECK(encoder.forward(x.to<float>()).to<double>().to_vector() != y32);
}

TEST_CASE("TransformerEncoderLayer: bad options and input are errors naming the layer",
          "[transformer]") {
  Generator gen(1);
  REQUIRE_THROWS_WITH(
      eigrad::nn::TransformerEncoderLayer(TransformerEncoderLayerOptions(6, 4), gen),
      Contains("embed_dim = 6 must be divisible by num_heads = 4"));
  REQUIRE_THROWS_WITH(eigrad::nn::TransformerEncoderLayer(
                          TransformerEncoderLayerOptions(4, 2).activation("prelu"), gen),
                      Contains("TransformerEncoderLayer: activation \"prelu\""));
  REQUIRE_THROWS_WITH(eigrad::nn::TransformerEncoderLayer(
                          TransformerEncoderLayerOptions(4, 2).activation("nope"), gen),
                      Contains("nope"));
  eigrad::nn::TransformerEncoderLayer layer(TransformerEncoderLayerOptions(4, 2), gen);
  REQUIRE_THROWS_WITH(layer.forward(Tensor::zeros({3, 2, 5})),
                      Contains("the query has 5 features, expected embed_dim = 4"));
  REQUIRE_THROWS_WITH(layer.forward(Tensor::zeros({3, 2, 4}), BoolTensor::zeros({2, 2})),
                      Contains("attn_mask bool [2, 2] has the wrong shape"));
  REQUIRE_THROWS_WITH(layer.forward(Tensor::zeros({0, 2, 4})), Contains("empty sequence"));
  REQUIRE_THROWS_WITH(eigrad::nn::TransformerEncoder(layer, -1), Contains("num_layers >= 0"));
}
