// Scaled dot-product attention and nn::MultiheadAttention against naive loops written here,
// gradients against finite differences (first and second order), float32 against float64, and
// the error messages for bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <tuple>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using Catch::Contains;
using eigrad::AttentionMask;
using eigrad::BoolTensor;
using eigrad::DoubleTensor;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_close;
using eigrad::test::random_leaf;
using eigrad::test::random_values;
using Ts = std::vector<DoubleTensor>;
using V = std::vector<double>;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// softmax(q k^T / sqrt(E) + mask(b, i, j)) v over `batches` flattened leading entries, by loops.
V naive_attention(const V& q, const V& k, const V& v, int64_t batches, int64_t L, int64_t S,
                  int64_t E, int64_t Ev,
                  const std::function<double(int64_t, int64_t, int64_t)>& mask,
                  V* weights = nullptr) {
  V out(static_cast<size_t>(batches * L * Ev), 0.0);
  if (weights) weights->assign(static_cast<size_t>(batches * L * S), 0.0);
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t i = 0; i < L; ++i) {
      V s(static_cast<size_t>(S));
      double top = -kInf;
      for (int64_t j = 0; j < S; ++j) {
        double dot = 0;
        for (int64_t e = 0; e < E; ++e) dot += q[(b * L + i) * E + e] * k[(b * S + j) * E + e];
        s[j] = dot / std::sqrt(static_cast<double>(E)) + mask(b, i, j);
        top = std::max(top, s[j]);
      }
      double total = 0;
      for (double& x : s) total += (x = std::exp(x - top));
      for (int64_t j = 0; j < S; ++j) {
        const double w = s[j] / total;
        if (weights) (*weights)[(b * L + i) * S + j] = w;
        for (int64_t e = 0; e < Ev; ++e) out[(b * L + i) * Ev + e] += w * v[(b * S + j) * Ev + e];
      }
    }
  return out;
}

const auto no_mask = [](int64_t, int64_t, int64_t) { return 0.0; };

}  // namespace

TEST_CASE("sdpa equals softmax(q k^T / sqrt(E)) v computed by loops", "[attention]") {
  const DoubleTensor q = random_values({2, 3, 4}, 1), k = random_values({2, 5, 4}, 2),
                     v = random_values({2, 5, 3}, 3);
  const DoubleTensor y = eigrad::scaled_dot_product_attention(q, k, v);
  CHECK(y.shape() == Shape{2, 3, 3});
  check_close(y.to_vector(),
              naive_attention(q.to_vector(), k.to_vector(), v.to_vector(), 2, 3, 5, 4, 3, no_mask),
              1e-12);
  // Two leading axes, and no leading axis at all.
  const DoubleTensor q4 = random_values({2, 2, 3, 4}, 4), k4 = random_values({2, 2, 5, 4}, 5),
                     v4 = random_values({2, 2, 5, 2}, 6);
  check_close(
      eigrad::scaled_dot_product_attention(q4, k4, v4).to_vector(),
      naive_attention(q4.to_vector(), k4.to_vector(), v4.to_vector(), 4, 3, 5, 4, 2, no_mask),
      1e-12);
  const DoubleTensor q2 = random_values({3, 4}, 7), k2 = random_values({5, 4}, 8),
                     v2 = random_values({5, 2}, 9);
  check_close(
      eigrad::scaled_dot_product_attention(q2, k2, v2).to_vector(),
      naive_attention(q2.to_vector(), k2.to_vector(), v2.to_vector(), 1, 3, 5, 4, 2, no_mask),
      1e-12);
}

TEST_CASE("sdpa: a bool mask is true where masked and broadcasts to [..., L, S]", "[attention]") {
  const DoubleTensor q = random_values({2, 3, 4}, 11), k = random_values({2, 5, 4}, 12),
                     v = random_values({2, 5, 3}, 13);
  // [L, S] mask, the same for both batches: key j is hidden from query i when (i + j) % 3 == 0.
  std::vector<bool> bits;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 5; ++j) bits.push_back((i + j) % 3 == 0);
  const BoolTensor mask = BoolTensor::from(bits, Shape{3, 5});
  const auto hidden = [](int64_t, int64_t i, int64_t j) { return (i + j) % 3 == 0 ? -kInf : 0.0; };
  V weights;
  const V want =
      naive_attention(q.to_vector(), k.to_vector(), v.to_vector(), 2, 3, 5, 4, 3, hidden, &weights);
  check_close(eigrad::scaled_dot_product_attention(q, k, v, mask).to_vector(), want, 1e-12);
  const auto [out, w] = eigrad::scaled_dot_product_attention_with_weights(q, k, v, mask);
  check_close(out.to_vector(), want, 1e-12);
  check_close(w.to_vector(), weights, 1e-12);
  CHECK(w.at({0, 0, 0}) == 0.0);  // (0 + 0) % 3 == 0: masked
  // A [2, 1, 5] mask (one row per batch, broadcast over the queries): batch b hides key b.
  const BoolTensor per_batch = BoolTensor::from(
      {true, false, false, false, false, false, true, false, false, false}, Shape{2, 1, 5});
  check_close(eigrad::scaled_dot_product_attention(q, k, v, per_batch).to_vector(),
              naive_attention(q.to_vector(), k.to_vector(), v.to_vector(), 2, 3, 5, 4, 3,
                              [](int64_t b, int64_t, int64_t j) { return j == b ? -kInf : 0.0; }),
              1e-12);
}

TEST_CASE("sdpa: a float mask is added to the scores", "[attention]") {
  const DoubleTensor q = random_values({2, 3, 4}, 21), k = random_values({2, 5, 4}, 22),
                     v = random_values({2, 5, 3}, 23), m = random_values({2, 3, 5}, 24);
  const V mv = m.to_vector();
  check_close(
      eigrad::scaled_dot_product_attention(q, k, v, m).to_vector(),
      naive_attention(q.to_vector(), k.to_vector(), v.to_vector(), 2, 3, 5, 4, 3,
                      [&](int64_t b, int64_t i, int64_t j) { return mv[(b * 3 + i) * 5 + j]; }),
      1e-12);
}

TEST_CASE("sdpa: is_causal hides key j from query i when j > i", "[attention]") {
  const DoubleTensor q = random_values({2, 4, 3}, 31), k = random_values({2, 4, 3}, 32),
                     v = random_values({2, 4, 2}, 33);
  const auto causal = [](int64_t, int64_t i, int64_t j) { return j > i ? -kInf : 0.0; };
  const V want =
      naive_attention(q.to_vector(), k.to_vector(), v.to_vector(), 2, 4, 4, 3, 2, causal);
  check_close(eigrad::scaled_dot_product_attention(q, k, v, {}, 0.0, true).to_vector(), want,
              1e-12);
  // The same through the two mask helpers.
  check_close(eigrad::scaled_dot_product_attention(q, k, v, eigrad::causal_mask(4)).to_vector(),
              want, 1e-12);
  check_close(eigrad::scaled_dot_product_attention(
                  q, k, v, eigrad::nn::generate_square_subsequent_mask<double>(4))
                  .to_vector(),
              want, 1e-12);
  CHECK(eigrad::causal_mask(3).to_vector() ==
        std::vector<bool>{false, true, true, false, false, true, false, false, false});
  const DoubleTensor f = eigrad::nn::generate_square_subsequent_mask<double>(2);
  CHECK(f.to_vector() == V{0, -kInf, 0, 0});
  CHECK(eigrad::nn::generate_square_subsequent_mask(2).dtype() == std::string("float32"));
}

TEST_CASE("sdpa: a row whose keys are all masked is NaN, as in PyTorch 1.13", "[attention]") {
  const DoubleTensor q = random_values({1, 2, 2}, 41), k = random_values({1, 3, 2}, 42),
                     v = random_values({1, 3, 2}, 43);
  const BoolTensor mask = BoolTensor::from({true, true, true, false, true, false}, Shape{2, 3});
  const DoubleTensor y = eigrad::scaled_dot_product_attention(q, k, v, mask);
  CHECK(std::isnan(y.at({0, 0, 0})));
  CHECK(std::isnan(y.at({0, 0, 1})));
  CHECK(std::isfinite(y.at({0, 1, 0})));
}

TEST_CASE("sdpa: dropout_p = 1 drops every weight, and dropout needs a generator", "[attention]") {
  const DoubleTensor q = random_values({1, 2, 2}, 51), k = random_values({1, 3, 2}, 52),
                     v = random_values({1, 3, 2}, 53);
  Generator gen(5);
  CHECK(eigrad::scaled_dot_product_attention(q, k, v, {}, 1.0, false, &gen).to_vector() ==
        V{0, 0, 0, 0});
  REQUIRE_THROWS_WITH(eigrad::scaled_dot_product_attention(q, k, v, {}, 0.5),
                      Contains("needs a generator"));
}

TEST_CASE("sdpa: with dropout the returned weights are the dropped ones that multiply v",
          "[attention]") {
  const DoubleTensor q = random_values({2, 4, 3}, 54), k = random_values({2, 5, 3}, 55),
                     v = random_values({2, 5, 2}, 56);
  Generator gen(6);
  const auto [out, w] =
      eigrad::scaled_dot_product_attention_with_weights(q, k, v, {}, 0.5, false, &gen);
  const DoubleTensor plain = eigrad::scaled_dot_product_attention_with_weights(q, k, v).second;
  int zeros = 0;
  for (int64_t i = 0; i < w.numel(); ++i) {
    const double got = w.to_vector()[i], p = plain.to_vector()[i];
    zeros += got == 0.0;
    CHECK((got == 0.0 || got == Approx(2 * p).epsilon(1e-12)));
  }
  CHECK(zeros > 0);
  CHECK(zeros < w.numel());
  check_close(out.to_vector(), eigrad::matmul(w, v).to_vector(), 1e-12);
}

TEST_CASE("sdpa: gradients and second derivatives, with and without masks", "[attention]") {
  const DoubleTensor q = random_leaf({2, 3, 4}, 61, -1, 1), k = random_leaf({2, 2, 4}, 62, -1, 1),
                     v = random_leaf({2, 2, 3}, 63, -1, 1), m = random_leaf({3, 2}, 64, -1, 1);
  const BoolTensor hide = BoolTensor::from({false, true, false, false, true, false}, Shape{3, 2});
  const std::vector<std::pair<const char*, eigrad::GradcheckFunction>> cases = {
      {"no mask",
       [](const Ts& t) { return eigrad::scaled_dot_product_attention(t[0], t[1], t[2]); }},
      {"bool mask",
       [hide](const Ts& t) {
         return eigrad::scaled_dot_product_attention(t[0], t[1], t[2], hide);
       }},
      {"float mask",
       [](const Ts& t) { return eigrad::scaled_dot_product_attention(t[0], t[1], t[2], t[3]); }},
  };
  for (const auto& [name, f] : cases) {
    INFO(name);
    eigrad::test::check_gradients(f, {q, k, v, m});
    const eigrad::GradcheckReport r = eigrad::gradgradcheck(f, {q, k, v, m});
    INFO(r.str());
    CHECK(r.passed);
    CHECK(r.checked > 0);
  }
  const eigrad::GradcheckFunction causal = [](const Ts& t) {
    return eigrad::scaled_dot_product_attention(t[0], t[1], t[2], {}, 0.0, true);
  };
  const DoubleTensor k3 = random_leaf({2, 3, 4}, 65, -1, 1), v3 = random_leaf({2, 3, 3}, 66, -1, 1);
  eigrad::test::check_gradients(causal, {q, k3, v3});
  CHECK(eigrad::gradgradcheck(causal, {q, k3, v3}).passed);
}

TEST_CASE("sdpa: float32 agrees with float64", "[attention]") {
  const DoubleTensor q = random_values({2, 4, 8}, 71), k = random_values({2, 6, 8}, 72),
                     v = random_values({2, 6, 5}, 73);
  const BoolTensor mask = eigrad::causal_mask(6).index({eigrad::indexing::Slice(0, 4)});
  const Tensor y32 =
      eigrad::scaled_dot_product_attention(q.to<float>(), k.to<float>(), v.to<float>(), mask);
  const DoubleTensor y64 = eigrad::scaled_dot_product_attention(q, k, v, mask);
  check_close(y32.to<double>().to_vector(), y64.to_vector(), 1e-5);
}

TEST_CASE("sdpa: bad shapes are errors naming the shapes", "[attention]") {
  const DoubleTensor q = random_values({2, 3, 4}, 81), k = random_values({2, 5, 4}, 82),
                     v = random_values({2, 5, 3}, 83);
  REQUIRE_THROWS_WITH(eigrad::scaled_dot_product_attention(q, random_values({2, 5, 3}, 1), v),
                      Contains("same embedding size E") && Contains("key [2, 5, 3]"));
  REQUIRE_THROWS_WITH(eigrad::scaled_dot_product_attention(q, random_values({3, 5, 4}, 1), v),
                      Contains("leading (batch) axes") && Contains("query [2, 3, 4]"));
  REQUIRE_THROWS_WITH(eigrad::scaled_dot_product_attention(q, k, random_values({2, 4, 3}, 1)),
                      Contains("same sequence length S"));
  REQUIRE_THROWS_WITH(
      eigrad::scaled_dot_product_attention(q, k, v, BoolTensor::zeros({3, 4})),
      Contains("attn_mask bool [3, 4] does not broadcast") && Contains("[2, 3, 5]"));
  REQUIRE_THROWS_WITH(eigrad::scaled_dot_product_attention(q, k, v, DoubleTensor::zeros({2, 2, 5})),
                      Contains("attn_mask float64 [2, 2, 5] does not broadcast"));
  REQUIRE_THROWS_WITH(eigrad::scaled_dot_product_attention(random_values({2, 0, 4}, 1), k, v),
                      Contains("empty sequence"));
  REQUIRE_THROWS_WITH(
      eigrad::scaled_dot_product_attention(q, k, v, eigrad::causal_mask(3), 0.0, true),
      Contains("either attn_mask or is_causal"));
  REQUIRE_THROWS_WITH(eigrad::scaled_dot_product_attention(random_values({4}, 1), k, v),
                      Contains("rank >= 2"));
}

// ---------------------------------------------------------------- MultiheadAttention

namespace {

// PyTorch 1.13's multi-head attention by loops, for batch_first inputs [N, L, E] and [N, S, E]:
// per head h, q_h = query W_q[h rows] + b_q, ..., then the output projection. `weights`, when
// given, gets the head-averaged weights [N, L, S].
V naive_mha(const eigrad::nn::BasicMultiheadAttention<double>& mha, const V& query, const V& key,
            const V& value, int64_t N, int64_t L, int64_t S,
            const std::function<double(int64_t, int64_t, int64_t, int64_t)>& mask, V* weights) {
  const int64_t E = mha.options().embed_dim(), H = mha.options().num_heads(), D = E / H;
  const V W = mha.in_proj_weight().to_vector(), B = mha.in_proj_bias().to_vector();
  const V Wo = mha.out_proj()->weight().to_vector(), Bo = mha.out_proj()->bias().to_vector();
  // x [rows, E] times rows [first, first + E) of W, plus the bias.
  const auto project = [&](const V& x, int64_t rows, int64_t first) {
    V y(static_cast<size_t>(rows * E));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < E; ++o) {
        double s = B[first + o];
        for (int64_t i = 0; i < E; ++i) s += x[r * E + i] * W[(first + o) * E + i];
        y[r * E + o] = s;
      }
    return y;
  };
  const V q = project(query, N * L, 0), k = project(key, N * S, E),
          v = project(value, N * S, 2 * E);
  V concat(static_cast<size_t>(N * L * E));
  if (weights) weights->assign(static_cast<size_t>(N * L * S), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h) {
      V qh, kh, vh;
      for (int64_t i = 0; i < L; ++i)
        for (int64_t d = 0; d < D; ++d) qh.push_back(q[(n * L + i) * E + h * D + d]);
      for (int64_t j = 0; j < S; ++j)
        for (int64_t d = 0; d < D; ++d) {
          kh.push_back(k[(n * S + j) * E + h * D + d]);
          vh.push_back(v[(n * S + j) * E + h * D + d]);
        }
      V w;
      const V o = naive_attention(
          qh, kh, vh, 1, L, S, D, D,
          [&](int64_t, int64_t i, int64_t j) { return mask(n, h, i, j); }, &w);
      for (int64_t i = 0; i < L; ++i) {
        for (int64_t d = 0; d < D; ++d) concat[(n * L + i) * E + h * D + d] = o[i * D + d];
        if (weights)
          for (int64_t j = 0; j < S; ++j)
            (*weights)[(n * L + i) * S + j] += w[i * S + j] / static_cast<double>(H);
      }
    }
  V out(static_cast<size_t>(N * L * E));
  for (int64_t r = 0; r < N * L; ++r)
    for (int64_t o = 0; o < E; ++o) {
      double s = Bo[o];
      for (int64_t i = 0; i < E; ++i) s += concat[r * E + i] * Wo[o * E + i];
      out[r * E + o] = s;
    }
  return out;
}

// A float64 MultiheadAttention with random (non-zero) biases.
std::shared_ptr<eigrad::nn::BasicMultiheadAttention<double>> make_mha(
    const eigrad::nn::MultiheadAttentionOptions& options, uint64_t seed) {
  Generator gen(seed);
  auto mha = std::make_shared<eigrad::nn::BasicMultiheadAttention<double>>(options, gen);
  mha->set_parameter("in_proj_bias", random_values(mha->in_proj_bias().shape(), seed + 1));
  mha->set_parameter("out_proj.bias", random_values({options.embed_dim()}, seed + 2));
  return mha;
}

const auto no_head_mask = [](int64_t, int64_t, int64_t, int64_t) { return 0.0; };

}  // namespace

TEST_CASE("MultiheadAttention has PyTorch's parameters and initialisation", "[attention]") {
  Generator gen(1);
  eigrad::nn::MultiheadAttention mha(8, 2, gen);
  const auto state = mha.state_dict();
  REQUIRE(state.size() == 4);
  CHECK(state[0].name == "in_proj_weight");
  CHECK(state[0].tensor.shape() == Shape{24, 8});
  CHECK(state[1].name == "in_proj_bias");
  CHECK(state[1].tensor.shape() == Shape{24});
  CHECK(state[2].name == "out_proj.weight");
  CHECK(state[2].tensor.shape() == Shape{8, 8});
  CHECK(state[3].name == "out_proj.bias");
  CHECK(state[3].tensor.shape() == Shape{8});
  for (float b : mha.in_proj_bias().to_vector()) CHECK(b == 0.0f);
  for (float b : mha.out_proj()->bias().to_vector()) CHECK(b == 0.0f);
  // xavier_uniform_: U(-a, a), a = sqrt(6 / (8 + 24)); out_proj: U(-1/sqrt(8), 1/sqrt(8)).
  const double a = std::sqrt(6.0 / 32.0);
  double largest = 0;
  for (float w : mha.in_proj_weight().to_vector()) largest = std::max(largest, double(std::abs(w)));
  CHECK(largest <= a);
  CHECK(largest > 0.8 * a);
  for (float w : mha.out_proj()->weight().to_vector()) CHECK(std::abs(w) <= 1 / std::sqrt(8.0));
  Generator g2(1);
  eigrad::nn::MultiheadAttention no_bias(eigrad::nn::MultiheadAttentionOptions(8, 2).bias(false),
                                         g2);
  CHECK(no_bias.state_dict().size() == 2);  // in_proj_weight, out_proj.weight
}

TEST_CASE("MultiheadAttention equals a per-head computation by loops", "[attention]") {
  const int64_t N = 2, L = 3, S = 4, E = 6;
  for (bool batch_first : {true, false}) {
    INFO("batch_first " << batch_first);
    auto mha = make_mha(eigrad::nn::MultiheadAttentionOptions(E, 3).batch_first(batch_first), 5);
    const DoubleTensor q = random_values({N, L, E}, 91), k = random_values({N, S, E}, 92),
                       v = random_values({N, S, E}, 93);
    V weights;
    const V want = naive_mha(*mha, q.to_vector(), k.to_vector(), v.to_vector(), N, L, S,
                             no_head_mask, &weights);
    // [L, N, E] inputs when not batch_first.
    const auto layout = [&](const DoubleTensor& x) {
      return batch_first ? x : eigrad::transpose(x, 0, 1);
    };
    auto [out, w] = mha->forward(layout(q), layout(k), layout(v));
    CHECK(w.shape() == Shape{N, L, S});
    check_close(layout(out).to_vector(), want, 1e-12);
    check_close(w.to_vector(), weights, 1e-12);
    // Self-attention (one packed projection) against the same loops.
    const V self = naive_mha(*mha, q.to_vector(), q.to_vector(), q.to_vector(), N, L, L,
                             no_head_mask, nullptr);
    check_close(layout(mha->forward(layout(q))).to_vector(), self, 1e-12);
    // Per-head weights: [N, H, L, S], averaging to the above.
    auto [out2, per_head] = mha->forward(layout(q), layout(k), layout(v), {}, true, {}, false);
    CHECK(per_head.shape() == Shape{N, 3, L, S});
    check_close(eigrad::mean(per_head, 1).to_vector(), weights, 1e-12);
    CHECK(!std::get<1>(mha->forward(layout(q), layout(k), layout(v), {}, false)).defined());
  }
}

TEST_CASE("MultiheadAttention: key_padding_mask and attn_mask, bool and float", "[attention]") {
  const int64_t N = 2, L = 3, S = 4, E = 4, H = 2;
  auto mha = make_mha(eigrad::nn::MultiheadAttentionOptions(E, H).batch_first(true), 7);
  const DoubleTensor q = random_values({N, L, E}, 101), k = random_values({N, S, E}, 102),
                     v = random_values({N, S, E}, 103);
  // Batch n ignores key 3 - n; query i may not see key i + 1.
  const BoolTensor kpm =
      BoolTensor::from({false, false, false, true, false, false, true, false}, Shape{N, S});
  std::vector<bool> bits;
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < S; ++j) bits.push_back(j == i + 1);
  const BoolTensor am = BoolTensor::from(bits, Shape{L, S});
  const auto both = [](int64_t n, int64_t, int64_t i, int64_t j) {
    return j == 3 - n || j == i + 1 ? -kInf : 0.0;
  };
  V weights;
  const V want =
      naive_mha(*mha, q.to_vector(), k.to_vector(), v.to_vector(), N, L, S, both, &weights);
  auto [out, w] = mha->forward(q, k, v, kpm, true, am);
  check_close(out.to_vector(), want, 1e-12);
  check_close(w.to_vector(), weights, 1e-12);
  // A float attn_mask [N * H, L, S] (one per batch and head) with the bool key_padding_mask.
  const DoubleTensor fm = random_values({N * H, L, S}, 104);
  const V fv = fm.to_vector();
  const auto mixed = [&](int64_t n, int64_t h, int64_t i, int64_t j) {
    return j == 3 - n ? -kInf : fv[((n * H + h) * L + i) * S + j];
  };
  check_close(std::get<0>(mha->forward(q, k, v, kpm, false, fm)).to_vector(),
              naive_mha(*mha, q.to_vector(), k.to_vector(), v.to_vector(), N, L, S, mixed, nullptr),
              1e-12);
  // A float key_padding_mask is added.
  const DoubleTensor fk = random_values({N, S}, 105);
  const V fkv = fk.to_vector();
  check_close(std::get<0>(mha->forward(q, k, v, fk, false)).to_vector(),
              naive_mha(
                  *mha, q.to_vector(), k.to_vector(), v.to_vector(), N, L, S,
                  [&](int64_t n, int64_t, int64_t, int64_t j) { return fkv[n * S + j]; }, nullptr),
              1e-12);
}

TEST_CASE("MultiheadAttention: unbatched [L, E] inputs as PyTorch 1.13", "[attention]") {
  auto mha = make_mha(eigrad::nn::MultiheadAttentionOptions(4, 2), 9);
  const DoubleTensor q = random_values({3, 4}, 111), k = random_values({5, 4}, 112),
                     v = random_values({5, 4}, 113);
  const BoolTensor kpm = BoolTensor::from({false, true, false, false, false}, Shape{5});
  V weights;
  const V want = naive_mha(
      *mha, q.to_vector(), k.to_vector(), v.to_vector(), 1, 3, 5,
      [](int64_t, int64_t, int64_t, int64_t j) { return j == 1 ? -kInf : 0.0; }, &weights);
  auto [out, w] = mha->forward(q, k, v, kpm);
  CHECK(out.shape() == Shape{3, 4});
  CHECK(w.shape() == Shape{3, 5});
  check_close(out.to_vector(), want, 1e-12);
  check_close(w.to_vector(), weights, 1e-12);
}

TEST_CASE("MultiheadAttention: gradients and second derivatives in float64", "[attention]") {
  auto mha = make_mha(eigrad::nn::MultiheadAttentionOptions(4, 2).batch_first(true), 11);
  const DoubleTensor x = random_values({2, 3, 4}, 121, -1, 1);
  const auto first = eigrad::gradcheck_module(*mha, x);
  INFO(first.str());
  CHECK(first.passed);
  const auto second = eigrad::gradgradcheck_module(*mha, x);
  INFO(second.str());
  CHECK(second.passed);
  // Separate query, key and value with a bool mask, through the three projections.
  const BoolTensor kpm = BoolTensor::from({false, true, false, false}, Shape{2, 2});
  const eigrad::GradcheckFunction f = [mha, kpm](const Ts& t) {
    return std::get<0>(mha->forward(t[0], t[1], t[2], kpm, false));
  };
  const Ts in = {random_leaf({2, 3, 4}, 122, -1, 1), random_leaf({2, 2, 4}, 123, -1, 1),
                 random_leaf({2, 2, 4}, 124, -1, 1)};
  eigrad::test::check_gradients(f, in);
  CHECK(eigrad::gradgradcheck(f, in).passed);
}

TEST_CASE("MultiheadAttention: float32 agrees with float64", "[attention]") {
  Generator gen(3);
  eigrad::nn::MultiheadAttention m32(eigrad::nn::MultiheadAttentionOptions(8, 4), gen);
  const auto m64 = eigrad::nn::to_double(m32);
  const DoubleTensor x = random_values({5, 2, 8}, 131);
  check_close(m32.forward(x.to<float>()).to<double>().to_vector(), m64->forward(x).to_vector(),
              1e-5);
}

TEST_CASE("MultiheadAttention: bad input is an error naming the layer and the shapes",
          "[attention]") {
  Generator gen(1);
  REQUIRE_THROWS_WITH(eigrad::nn::MultiheadAttention(10, 3, gen),
                      Contains("MultiheadAttention") &&
                          Contains("embed_dim = 10 must be divisible by num_heads = 3"));
  eigrad::nn::MultiheadAttention mha(4, 2, gen);  // [L, N, E]
  const Tensor q = Tensor::zeros({3, 2, 4}), k = Tensor::zeros({5, 2, 4});
  REQUIRE_THROWS_WITH(mha.forward(Tensor::zeros({3, 2, 6})),
                      Contains("MultiheadAttention: the query has 6 features, expected "
                               "embed_dim = 4") &&
                          Contains("[3, 2, 6]"));
  // batch_first confusion: [N, L, E] inputs read as [L, N, E] show as different batch sizes.
  REQUIRE_THROWS_WITH(
      mha.forward(Tensor::zeros({2, 3, 4}), Tensor::zeros({2, 5, 4}), Tensor::zeros({2, 5, 4})),
      Contains("the query's batch size 3 and the key's 5 differ") &&
          Contains("batch_first = true"));
  REQUIRE_THROWS_WITH(mha.forward(q, Tensor::zeros({5, 4}), Tensor::zeros({5, 4})),
                      Contains("all be batched (rank 3) or all unbatched"));
  REQUIRE_THROWS_WITH(mha.forward(q, k, Tensor::zeros({4, 2, 4})),
                      Contains("key and value must have the same sequence length"));
  REQUIRE_THROWS_WITH(mha.forward(q, k, k, BoolTensor::zeros({2, 4})),
                      Contains("key_padding_mask bool [2, 4] has the wrong shape: expected "
                               "[N, S] = [2, 5]"));
  REQUIRE_THROWS_WITH(mha.forward(q, k, k, {}, true, Tensor::zeros({5, 3})),
                      Contains("attn_mask float32 [5, 3] has the wrong shape") &&
                          Contains("[L, S] = [3, 5]") && Contains("[4, 3, 5]"));
  REQUIRE_THROWS_WITH(mha.forward(Tensor::zeros({0, 2, 4})), Contains("empty sequence"));
}
