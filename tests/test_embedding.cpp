// embedding, nn::Embedding and pad_sequence: values against rows picked and padded by hand,
// gradients (repeated indices add up, the padding row gets exactly zero) and second derivatives
// against float64 finite differences, float32 against float64, and every error message.
#include <catch2/catch.hpp>
#include <cmath>
#include <optional>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using eigrad::DoubleTensor;
using eigrad::LongTensor;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_close;
using eigrad::test::random_leaf;
using eigrad::test::random_values;
using Ts = std::vector<DoubleTensor>;
using V = std::vector<double>;

namespace {

// Row i of a row-major [n, d] table, written out.
V row(const V& table, int64_t d, int64_t i) {
  return V(table.begin() + i * d, table.begin() + (i + 1) * d);
}

// The padding row's gradient is zero by definition (PyTorch's), not the derivative finite
// differences see, so first-order gradchecks use a padding_idx that the indices do not name. The
// gradient's own derivatives (gradgradcheck) are consistent with it either way.
void check_second_order(const eigrad::GradcheckFunction& f, const Ts& inputs) {
  const eigrad::GradcheckReport second = eigrad::gradgradcheck(f, inputs);
  INFO(second.str());
  CHECK(second.passed);
  CHECK(second.checked > 0);
}

void check_first_and_second_order(const eigrad::GradcheckFunction& f, const Ts& inputs) {
  const eigrad::GradcheckReport first = eigrad::gradcheck(f, inputs);
  INFO(first.str());
  CHECK(first.passed);
  CHECK(first.checked > 0);
  check_second_order(f, inputs);
}

}  // namespace

TEST_CASE("embedding picks the rows the indices name", "[embedding]") {
  const DoubleTensor w = random_values(Shape{5, 3}, 1);
  const V table = w.to_vector();
  const LongTensor idx = LongTensor::from({4, 0, 2, 2, 1, 4}, Shape{2, 3});
  const DoubleTensor y = eigrad::embedding(idx, w);
  CHECK(y.shape() == Shape{2, 3, 3});
  V want;
  for (int64_t i : {4, 0, 2, 2, 1, 4})
    for (double v : row(table, 3, i)) want.push_back(v);
  check_close(y.to_vector(), want, 0);

  // A 0-d index gives one row [embedding_dim]; an empty index list gives [0, embedding_dim].
  const DoubleTensor one = eigrad::embedding(LongTensor::scalar(3), w);
  CHECK(one.shape() == Shape{3});
  check_close(one.to_vector(), row(table, 3, 3), 0);
  CHECK(eigrad::embedding(LongTensor::from(std::vector<int64_t>{}, Shape{0}), w).shape() ==
        Shape{0, 3});
  // padding_idx changes no value in the forward pass.
  check_close(eigrad::embedding(idx, w, 2).to_vector(), want, 0);
}

TEST_CASE("embedding's gradient adds repeated rows and leaves the padding row at zero",
          "[embedding]") {
  const DoubleTensor w = random_leaf(Shape{4, 2}, 2);
  const LongTensor idx = LongTensor::from({1, 3, 1, 0, 1}, Shape{5});
  // d sum(y * v) / dW: row 1 gets v0 + v2 + v4, row 3 gets v1, row 0 (padding) none, row 2 none.
  const DoubleTensor v =
      DoubleTensor::from({1, 2, 10, 20, 100, 200, 1000, 2000, 3, 4}, Shape{5, 2});
  const DoubleTensor g = eigrad::grad({eigrad::embedding(idx, w, 0)}, {w}, {v})[0];
  check_close(g.to_vector(), {0, 0, 104, 206, 0, 0, 10, 20}, 0);
  // Without padding, row 0 gets v3; backward() accumulates the same into .grad.
  eigrad::sum(eigrad::embedding(idx, w) * v).backward();
  check_close(w.grad().to_vector(), {1000, 2000, 104, 206, 0, 0, 10, 20}, 0);
  // The graph backward (create_graph) gives the same, with the padding row exactly zero.
  const DoubleTensor gg =
      eigrad::grad({eigrad::embedding(idx, w, -4)}, {w}, {v}, std::nullopt, true)[0];
  check_close(gg.to_vector(), {0, 0, 104, 206, 0, 0, 10, 20}, 0);
}

TEST_CASE("embedding's gradients match finite differences to second order", "[embedding]") {
  const LongTensor idx = LongTensor::from({2, 0, 2, 3, 2, 0}, Shape{3, 2});
  const DoubleTensor w = random_leaf(Shape{4, 3}, 3);
  SECTION("plain and with padding_idx") {
    check_first_and_second_order([idx](const Ts& in) { return eigrad::embedding(idx, in[0]); },
                                 {w});
    check_first_and_second_order([idx](const Ts& in) { return eigrad::embedding(idx, in[0], 1); },
                                 {w});
    check_second_order([idx](const Ts& in) { return eigrad::embedding(idx, in[0], 2); }, {w});
  }
  SECTION("composed with a non-linear op, so that the second derivative is not zero") {
    check_first_and_second_order(
        [idx](const Ts& in) {
          const DoubleTensor e = eigrad::embedding(idx, in[0], -3);  // row 1, unused
          return e * e * e;
        },
        {w});
    check_second_order(
        [idx](const Ts& in) {
          const DoubleTensor e = eigrad::embedding(idx, in[0], -1);  // row 3
          return e * e * e;
        },
        {w});
    // The Hessian of sum(embedding(idx, W)^3) is diagonal: 6 W[r][c] times the uses of row r
    // (padding row 3 excluded), here row 2 used three times, row 0 twice.
    const DoubleTensor wl = w.detach().clone().set_requires_grad();
    const DoubleTensor e = eigrad::embedding(idx, wl, 3);
    const DoubleTensor g = eigrad::grad({eigrad::sum(e * e * e)}, {wl}, {}, std::nullopt, true)[0];
    const DoubleTensor h = eigrad::grad({eigrad::sum(g)}, {wl})[0];
    const V wv = w.to_vector();
    const V uses{2, 0, 3, 0};
    V want(12);
    for (size_t k = 0; k < 12; ++k) want[k] = 6 * wv[k] * uses[k / 3];
    check_close(h.to_vector(), want, 1e-12);
  }
}

TEST_CASE("embedding in float32 agrees with float64", "[embedding]") {
  const LongTensor idx = LongTensor::from({1, 1, 0, 2}, Shape{2, 2});
  const DoubleTensor w = random_values(Shape{3, 4}, 4);
  const Tensor y = eigrad::embedding(idx, w.to<float>(), 0);
  check_close(y.to<double>().to_vector(), eigrad::embedding(idx, w, 0).to_vector(), 1e-6);
  const eigrad::GradcheckReport r = eigrad::gradcheck_float32(
      [idx](const std::vector<Tensor>& in) { return eigrad::embedding(idx, in[0] * in[0]); },
      [idx](const Ts& in) { return eigrad::embedding(idx, in[0] * in[0]); },
      {w.detach().set_requires_grad()});
  INFO(r.str());
  CHECK(r.passed);
}

TEST_CASE("embedding names a bad index, padding_idx or weight", "[embedding]") {
  const DoubleTensor w = DoubleTensor::zeros(Shape{10, 3});
  REQUIRE_THROWS_WITH(eigrad::embedding(LongTensor::from({1, 2, 3, 12}, Shape{2, 2}), w),
                      Catch::Contains("embedding: index 12 at position [1, 1] is out of range for "
                                      "num_embeddings 10 (weight [10, 3])"));
  REQUIRE_THROWS_WITH(eigrad::embedding(LongTensor::from({-1}, Shape{1}), w),
                      Catch::Contains("embedding: index -1 at position [0] is out of range for "
                                      "num_embeddings 10"));
  REQUIRE_THROWS_WITH(eigrad::embedding(LongTensor::scalar(10), w),
                      Catch::Contains("embedding: index 10 at position [] is out of range"));
  REQUIRE_THROWS_WITH(eigrad::embedding(LongTensor::scalar(0), w, 10),
                      Catch::Contains("embedding: padding_idx 10 is out of range for "
                                      "num_embeddings 10 (expected -10 to 9)"));
  REQUIRE_THROWS_WITH(eigrad::embedding(LongTensor::scalar(0), w, -11),
                      Catch::Contains("embedding: padding_idx -11 is out of range"));
  REQUIRE_THROWS_WITH(eigrad::embedding(LongTensor::scalar(0), DoubleTensor::zeros(Shape{10})),
                      Catch::Contains("embedding: expected a 2-d weight [num_embeddings, "
                                      "embedding_dim], got [10]"));
}

TEST_CASE("nn::Embedding holds weight [num_embeddings, embedding_dim] from N(0, 1)",
          "[embedding]") {
  eigrad::Generator gen(5);
  eigrad::nn::Embedding emb(10, 3, gen, 0);
  const auto state = emb.state_dict();
  REQUIRE(state.size() == 1);
  CHECK(state[0].name == "weight");
  CHECK(state[0].tensor.shape() == Shape{10, 3});
  CHECK(emb.str() == "Embedding(10, 3, padding_idx=0)");
  CHECK(emb.type_name() == "Embedding");
  const std::vector<float> wv = emb.weight().to_vector();
  for (size_t j = 0; j < 3; ++j) CHECK(wv[j] == 0.0f);  // the padding row
  CHECK(wv[3] != 0.0f);

  // N(0, 1): the mean and standard deviation of a large table.
  eigrad::nn::BasicEmbedding<double> big(2000, 50, gen);
  CHECK(big.extra_repr() == "2000, 50");
  double mean = 0, sq = 0;
  const V bv = big.weight().to_vector();
  for (double v : bv) mean += v;
  mean /= static_cast<double>(bv.size());
  for (double v : bv) sq += (v - mean) * (v - mean);
  const double sd = std::sqrt(sq / static_cast<double>(bv.size()));
  CHECK(std::abs(mean) < 0.02);
  CHECK(std::abs(sd - 1) < 0.02);

  // A negative padding_idx counts from the end.
  eigrad::nn::Embedding last(4, 2, gen, -1);
  CHECK(last.padding_idx() == std::optional<int64_t>(3));
  CHECK(last.str() == "Embedding(4, 2, padding_idx=3)");
  CHECK(eigrad::nn::to_double(last)->str() == last.str());
}

TEST_CASE("nn::Embedding's forward is embedding with its weight", "[embedding]") {
  eigrad::Generator gen(6);
  eigrad::nn::BasicEmbedding<double> emb(6, 2, gen, 5);
  const LongTensor idx = LongTensor::from({5, 1, 1}, Shape{3});
  const DoubleTensor y = emb(idx);
  const V wv = emb.weight().to_vector();
  check_close(y.to_vector(), {wv[10], wv[11], wv[2], wv[3], wv[2], wv[3]}, 0);
  eigrad::sum(emb(idx)).backward();
  check_close(emb.weight().grad().to_vector(), {0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0}, 0);
  REQUIRE_THROWS_WITH(emb.forward(DoubleTensor::zeros(Shape{2, 3})),
                      Catch::Contains("Embedding: expected int64 indices (a LongTensor), got a "
                                      "float64 tensor of shape [2, 3]"));
  eigrad::nn::BasicModule<double>& base = emb;
  REQUIRE_THROWS_WITH(base(DoubleTensor::zeros(Shape{4})),
                      Catch::Contains("Embedding: expected int64 indices (a LongTensor)"));
}

TEST_CASE("nn::Embedding::from_pretrained copies the table and freezes it", "[embedding]") {
  const Tensor table = Tensor::from({1, 2, 3, 4, 5, 6}, Shape{3, 2});
  const auto frozen = eigrad::nn::Embedding::from_pretrained(table);
  check_close(frozen->weight().to<double>().to_vector(), {1, 2, 3, 4, 5, 6}, 0);
  CHECK(!frozen->weight().requires_grad());
  CHECK(!(*frozen)(LongTensor::scalar(1)).requires_grad());
  const auto trained = eigrad::nn::Embedding::from_pretrained(table, false, 0);
  CHECK(trained->weight().requires_grad());
  check_close(trained->weight().to<double>().to_vector(), {1, 2, 3, 4, 5, 6}, 0);
  REQUIRE_THROWS_WITH(eigrad::nn::Embedding::from_pretrained(Tensor::zeros(Shape{6})),
                      Catch::Contains("Embedding::from_pretrained: expected embeddings of rank 2"));
}

TEST_CASE("nn::Embedding rejects sizes and padding_idx out of range", "[embedding]") {
  eigrad::Generator gen(7);
  REQUIRE_THROWS_WITH(eigrad::nn::Embedding(0, 3, gen),
                      Catch::Contains("Embedding: expected positive num_embeddings and "
                                      "embedding_dim, got 0 and 3"));
  REQUIRE_THROWS_WITH(eigrad::nn::Embedding(10, 3, gen, 10),
                      Catch::Contains("Embedding: padding_idx 10 is out of range for "
                                      "num_embeddings 10 (expected -10 to 9)"));
}

TEST_CASE("pad_sequence pads to the longest and stacks", "[embedding]") {
  const DoubleTensor a = DoubleTensor::from({1, 2, 3}), b = DoubleTensor::from({4}),
                     c = DoubleTensor::from({5, 6});
  const DoubleTensor t = eigrad::pad_sequence<double>({a, b, c});
  CHECK(t.shape() == Shape{3, 3});
  check_close(t.to_vector(), {1, 4, 5, 2, 0, 6, 3, 0, 0}, 0);
  const DoubleTensor bf = eigrad::pad_sequence<double>({a, b, c}, true, -1);
  CHECK(bf.shape() == Shape{3, 3});
  check_close(bf.to_vector(), {1, 2, 3, 4, -1, -1, 5, 6, -1}, 0);

  // Trailing axes: [L_i, 2].
  const DoubleTensor p = DoubleTensor::from({1, 2, 3, 4}, Shape{2, 2}),
                     q = DoubleTensor::from({5, 6}, Shape{1, 2});
  const DoubleTensor tm = eigrad::pad_sequence<double>({p, q}, false, 9);
  CHECK(tm.shape() == Shape{2, 2, 2});
  check_close(tm.to_vector(), {1, 2, 5, 6, 3, 4, 9, 9}, 0);
  const DoubleTensor bm = eigrad::pad_sequence<double>({p, q}, true);
  CHECK(bm.shape() == Shape{2, 2, 2});
  check_close(bm.to_vector(), {1, 2, 3, 4, 5, 6, 0, 0}, 0);

  // Token ids.
  const LongTensor ids = eigrad::pad_sequence<int64_t>(
      {LongTensor::from({7, 8}, Shape{2}), LongTensor::from({9}, Shape{1})}, true, 0);
  CHECK(ids.shape() == Shape{2, 2});
  CHECK(ids.to_vector() == std::vector<int64_t>{7, 8, 9, 0});
  const LongTensor ids_t = eigrad::pad_sequence<int64_t>(
      {LongTensor::from({7, 8}, Shape{2}), LongTensor::from({9}, Shape{1})}, false, -1);
  CHECK(ids_t.to_vector() == std::vector<int64_t>{7, 9, 8, -1});
}

TEST_CASE("pad_sequence's gradients match finite differences to second order", "[embedding]") {
  const Ts inputs{random_leaf(Shape{3, 2}, 8), random_leaf(Shape{1, 2}, 9),
                  random_leaf(Shape{2, 2}, 10)};
  for (bool batch_first : {false, true}) {
    INFO("batch_first " << batch_first);
    check_first_and_second_order(
        [batch_first](const Ts& in) {
          const DoubleTensor t = eigrad::pad_sequence(in, batch_first, 0.5);
          return t * t;
        },
        inputs);
  }
  // The gradient of each sequence is its slice of the padded gradient.
  const DoubleTensor v = DoubleTensor::from(
      {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}, Shape{3, 3, 2});
  const Ts g = eigrad::grad({eigrad::pad_sequence(inputs, true)}, inputs, {v});
  check_close(g[0].to_vector(), {1, 2, 3, 4, 5, 6}, 0);
  check_close(g[1].to_vector(), {7, 8}, 0);
  check_close(g[2].to_vector(), {13, 14, 15, 16}, 0);
}

TEST_CASE("pad_sequence names what is wrong with the sequences", "[embedding]") {
  REQUIRE_THROWS_WITH(eigrad::pad_sequence(std::vector<DoubleTensor>{}),
                      Catch::Contains("pad_sequence: expected at least one sequence [L, *], got an "
                                      "empty list"));
  REQUIRE_THROWS_WITH(eigrad::pad_sequence<double>(
                          {DoubleTensor::zeros(Shape{2, 3}), DoubleTensor::zeros(Shape{2, 4})}),
                      Catch::Contains("pad_sequence: sequence 1 of shape [2, 4] and sequence 0 of "
                                      "shape [2, 3] differ after the first axis"));
  REQUIRE_THROWS_WITH(eigrad::pad_sequence<double>(
                          {DoubleTensor::zeros(Shape{2, 3}), DoubleTensor::zeros(Shape{2})}),
                      Catch::Contains("pad_sequence: sequence 1 of shape [2] and sequence 0"));
  REQUIRE_THROWS_WITH(
      eigrad::pad_sequence<double>({DoubleTensor::zeros(Shape{2}), DoubleTensor::scalar(1)}),
      Catch::Contains("pad_sequence: sequence 1 is 0-d; expected a tensor [L, *]"));
}
