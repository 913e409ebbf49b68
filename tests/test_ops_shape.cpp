// The rearranging ops (chunk, split, expand, repeat, flip, roll, tril, triu) and the contractions
// (outer, einsum), with PyTorch 1.13 semantics: values by hand or by naive loops written here
// (einsum against explicit sums over every assignment of its subscripts), first and second
// derivatives against float64 finite differences, a float32 case, and every error path.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using Catch::Contains;
using eigrad::DoubleTensor;
using eigrad::GradcheckFunction;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_close;
using eigrad::test::check_gradients;
using eigrad::test::random_leaf;
using Ts = std::vector<DoubleTensor>;
using V = std::vector<double>;

namespace {

// First and second derivatives of f at `inputs` against finite differences, and the gradient
// recorded under create_graph equal to the fused first-order one.
void check_both_orders(const GradcheckFunction& f, const Ts& inputs) {
  check_gradients(f, inputs);
  Ts leaves, wrt;
  for (const DoubleTensor& t : inputs) {
    leaves.push_back(t.detach().clone().set_requires_grad(t.requires_grad()));
    if (t.requires_grad()) wrt.push_back(leaves.back());
  }
  const DoubleTensor y = f(leaves);
  const DoubleTensor v = eigrad::test::random_values(y.shape(), 99, -1, 1);
  const Ts fused = eigrad::grad({y}, wrt, {v}, true, false, /*allow_unused=*/true);
  const Ts graph = eigrad::grad({y}, wrt, {v}, true, /*create_graph=*/true, true);
  for (size_t i = 0; i < wrt.size(); ++i) {
    INFO("gradient of input " << i);
    REQUIRE(graph[i].defined() == fused[i].defined());
    if (fused[i].defined()) check_close(graph[i].to_vector(), fused[i].to_vector(), 1e-10);
  }
  const eigrad::GradcheckReport r = eigrad::gradgradcheck(f, inputs);
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked > 0);
}

// A linear op L checked through L(x) * L(x), whose gradient 2 L^T(v L(x)) depends on x: the
// graph backward of L is then differentiated too.
GradcheckFunction squared(std::function<DoubleTensor(const DoubleTensor&)> op) {
  return [op](const Ts& t) {
    const DoubleTensor y = op(t[0]);
    return y * y;
  };
}

// 0, 1, 2, ... in `shape`.
DoubleTensor iota(const Shape& shape) {
  V v(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  return DoubleTensor::from(v, shape);
}

int64_t flat(const std::vector<int64_t>& index, const Shape& shape) {
  int64_t f = 0;
  for (int d = 0; d < shape.rank(); ++d) f = f * shape[d] + index[static_cast<size_t>(d)];
  return f;
}

std::vector<int64_t> unravel(int64_t i, const Shape& shape) {
  std::vector<int64_t> index(static_cast<size_t>(shape.rank()));
  for (int d = shape.rank() - 1; d >= 0; --d) {
    index[static_cast<size_t>(d)] = i % shape[d];
    i /= shape[d];
  }
  return index;
}

// einsum by definition, for letters-only equations with "->": the sum, over every assignment of
// values to the subscripts, of the product of the operands' entries, into the output's entry.
V naive_einsum(const std::string& equation, const Ts& ops, Shape& out_shape) {
  const size_t arrow = equation.find("->");
  const std::string lhs = equation.substr(0, arrow), rhs = equation.substr(arrow + 2);
  std::vector<std::string> terms(1);
  for (char c : lhs) {
    if (c == ',')
      terms.emplace_back();
    else
      terms.back().push_back(c);
  }
  std::map<char, int64_t> size;
  for (size_t i = 0; i < terms.size(); ++i)
    for (size_t d = 0; d < terms[i].size(); ++d)
      size[terms[i][d]] = std::max(size[terms[i][d]], ops[i].shape()[static_cast<int>(d)]);
  out_shape = Shape();
  for (char c : rhs) out_shape.push_back(size[c]);
  V out(static_cast<size_t>(out_shape.numel()), 0.0);
  std::string letters;
  for (const auto& [c, n] : size) letters.push_back(c);
  std::map<char, int64_t> at;
  for (char c : letters) at[c] = 0;
  for (;;) {
    bool empty = false;
    for (char c : letters) empty = empty || size[c] == 0;
    if (empty) break;
    double p = 1;
    for (size_t i = 0; i < terms.size(); ++i) {
      std::vector<int64_t> index;
      for (size_t d = 0; d < terms[i].size(); ++d)  // a size-1 axis broadcasts
        index.push_back(ops[i].shape()[static_cast<int>(d)] == 1 ? 0 : at[terms[i][d]]);
      p *= ops[i].to_vector()[static_cast<size_t>(flat(index, ops[i].shape()))];
    }
    std::vector<int64_t> o;
    for (char c : rhs) o.push_back(at[c]);
    out[static_cast<size_t>(flat(o, out_shape))] += p;
    int k = static_cast<int>(letters.size()) - 1;
    for (; k >= 0; --k) {
      const char c = letters[static_cast<size_t>(k)];
      if (++at[c] < size[c]) break;
      at[c] = 0;
    }
    if (k < 0) break;
  }
  return out;
}

void check_einsum(const std::string& equation, const Ts& ops, const std::string& naive = "") {
  INFO(equation);
  Shape shape;
  const V want = naive_einsum(naive.empty() ? equation : naive, ops, shape);
  const DoubleTensor got = eigrad::einsum(equation, ops);
  CHECK(got.shape() == shape);
  check_close(got.to_vector(), want, 1e-12);
}

}  // namespace

// ---------------------------------------------------------------- chunk and split

TEST_CASE("chunk gives pieces of ceil(n / chunks) entries, the last one smaller", "[ops-shape]") {
  const auto p = eigrad::chunk(iota({10}), 3);
  REQUIRE(p.size() == 3);
  check_close(p[0].to_vector(), V{0, 1, 2, 3});
  check_close(p[1].to_vector(), V{4, 5, 6, 7});
  check_close(p[2].to_vector(), V{8, 9});
  // 6 in 4 chunks: pieces of 2, so only 3 of them (as torch.chunk).
  CHECK(eigrad::chunk(iota({6}), 4).size() == 3);
  // Along the last axis of [2, 5]: [2, 3] and [2, 2].
  const auto q = eigrad::chunk(iota({2, 5}), 2, -1);
  REQUIRE(q.size() == 2);
  CHECK(q[0].shape() == Shape{2, 3});
  check_close(q[0].to_vector(), V{0, 1, 2, 5, 6, 7});
  check_close(q[1].to_vector(), V{3, 4, 8, 9});
  // An empty axis gives `chunks` empty pieces.
  const auto e = eigrad::chunk(DoubleTensor::zeros({0, 2}), 3);
  REQUIRE(e.size() == 3);
  for (const auto& t : e) CHECK(t.shape() == Shape{0, 2});
}

TEST_CASE("split takes pieces of one size or of given sizes", "[ops-shape]") {
  const auto p = eigrad::split(iota({5}), 2);
  REQUIRE(p.size() == 3);
  check_close(p[2].to_vector(), V{4});
  const auto whole = eigrad::split(iota({5}), 7);  // more than n: one piece
  REQUIRE(whole.size() == 1);
  CHECK(whole[0].shape() == Shape{5});
  const auto s = eigrad::split(iota({3, 2}), std::vector<int64_t>{1, 0, 2});
  REQUIRE(s.size() == 3);
  check_close(s[0].to_vector(), V{0, 1});
  CHECK(s[1].shape() == Shape{0, 2});
  check_close(s[2].to_vector(), V{2, 3, 4, 5});
  CHECK(eigrad::split(DoubleTensor::zeros({0}), 0).size() == 1);
}

TEST_CASE("chunk's and split's pieces differentiate twice", "[ops-shape]") {
  check_both_orders(
      [](const Ts& t) {
        const auto p = eigrad::chunk(t[0], 3, 1);
        return eigrad::cat({p[0] * p[0], p[1] * 3.0, p[2] * p[0]}, 1);
      },
      {random_leaf({2, 6}, 1)});
  check_both_orders(
      [](const Ts& t) {
        const auto p = eigrad::split(t[0], std::vector<int64_t>{1, 3}, 0);
        return eigrad::sum(p[0]) * p[1] * p[1];
      },
      {random_leaf({4, 2}, 2)});
  // By hand: d/dx sum(piece 1 ^ 2) = 2 x on piece 1's entries, 0 elsewhere.
  DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 5}, {5}, true);
  const auto p = eigrad::split(x, 2);
  eigrad::sum(p[1] * p[1]).backward();
  check_close(x.grad().to_vector(), V{0, 0, 6, 8, 0});
}

TEST_CASE("chunk and split reject bad counts, sizes and axes by name", "[ops-shape]") {
  const DoubleTensor x = iota({2, 5});
  REQUIRE_THROWS_WITH(eigrad::chunk(x, 0), Contains("chunk: expected chunks > 0, got 0"));
  REQUIRE_THROWS_WITH(eigrad::chunk(x, -2), Contains("chunks > 0, got -2 (shape [2, 5])"));
  REQUIRE_THROWS_WITH(eigrad::chunk(x, 2, 2), Contains("chunk: axis 2 is out of range"));
  REQUIRE_THROWS_WITH(eigrad::chunk(DoubleTensor::scalar(1), 1), Contains("rank-0"));
  REQUIRE_THROWS_WITH(eigrad::split(x, std::vector<int64_t>{2, 2}, 1),
                      Contains("split: sizes [2, 2] do not split axis 1 of shape [2, 5]: "
                               "expected sizes >= 0 that sum to 5"));
  REQUIRE_THROWS_WITH(eigrad::split(x, std::vector<int64_t>{6, -1}, 1),
                      Contains("sizes [6, -1] do not split"));
  REQUIRE_THROWS_WITH(eigrad::split(x, 0, 1), Contains("split_size > 0"));
  REQUIRE_THROWS_WITH(eigrad::split(x, -1), Contains("into pieces of -1"));
  REQUIRE_THROWS_WITH(eigrad::split(x, 1, -3), Contains("split: axis -3 is out of range"));
}

// ---------------------------------------------------------------- expand and repeat

TEST_CASE("expand repeats size-1 axes, keeps -1 and adds leading axes", "[ops-shape]") {
  const DoubleTensor x = DoubleTensor::from({1, 2, 3}, {3, 1});
  const DoubleTensor y = eigrad::expand(x, {2, -1, 4});
  REQUIRE(y.shape() == Shape{2, 3, 4});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 4; ++j) CHECK(y.at({b, i, j}) == static_cast<double>(i + 1));
  CHECK(eigrad::expand(x, {3, 0}).shape() == Shape{3, 0});
  CHECK(eigrad::expand(DoubleTensor::scalar(2), {2}).to_vector() == V{2, 2});
  // A copy: writing to it leaves x alone.
  DoubleTensor z = eigrad::expand(x, {3, 1});
  z.mutable_at({0, 0}) = 9;
  CHECK(x.at({0, 0}) == 1);
}

TEST_CASE("expand's gradient sums over the expanded axes, to second order", "[ops-shape]") {
  DoubleTensor x = DoubleTensor::from({1, 2}, {2, 1}, true);
  eigrad::sum(eigrad::expand(x, {3, 2, 4})).backward();
  check_close(x.grad().to_vector(), V{12, 12});
  check_both_orders(squared([](const DoubleTensor& t) {
                      return eigrad::expand(t, {2, -1, 3});
                    }),
                    {random_leaf({4, 1}, 3)});
  check_both_orders(
      [](const Ts& t) {
        return eigrad::expand(t[0], {3, -1}) * t[1];
      },
      {random_leaf({1, 2}, 4), random_leaf({3, 2}, 5)});
}

TEST_CASE("expand rejects non-1 axes, too few sizes and -1 for a new axis", "[ops-shape]") {
  const DoubleTensor x = DoubleTensor::zeros({3, 1});
  REQUIRE_THROWS_WITH(eigrad::expand(x, {4, 1}),
                      Contains("expand: cannot expand axis 0 of size 3 to 4 (shape [3, 1] to "
                               "[4, 1]): only size-1 axes expand"));
  REQUIRE_THROWS_WITH(eigrad::expand(x, {5}), Contains("expected at least 2 sizes"));
  REQUIRE_THROWS_WITH(eigrad::expand(x, {-1, 3, 1}), Contains("size -1 for new leading axis 0"));
  REQUIRE_THROWS_WITH(eigrad::expand(x, {3, -2}), Contains("cannot expand axis 1 of size 1 to -2"));
}

TEST_CASE("repeat tiles each axis, with more repeats than axes adding leading ones",
          "[ops-shape]") {
  const DoubleTensor x = iota({2, 3});
  const DoubleTensor y = eigrad::repeat(x, {2, 3, 2});
  REQUIRE(y.shape() == Shape{2, 6, 6});
  const V yv = y.to_vector(), xv = x.to_vector();
  for (int64_t i = 0; i < y.numel(); ++i) {
    const auto ix = unravel(i, y.shape());
    CHECK(yv[static_cast<size_t>(i)] == xv[static_cast<size_t>(3 * (ix[1] % 2) + ix[2] % 3)]);
  }
  check_close(eigrad::repeat(DoubleTensor::from({1, 2}), {2}).to_vector(), V{1, 2, 1, 2});
  check_close(eigrad::repeat(DoubleTensor::from({1, 2}), {2, 1}).to_vector(), V{1, 2, 1, 2});
  CHECK(eigrad::repeat(x, {0, 1}).shape() == Shape{0, 3});
  CHECK(eigrad::repeat(DoubleTensor::scalar(3), {}).item() == 3);
}

TEST_CASE("repeat's gradient sums the copies, to second order", "[ops-shape]") {
  DoubleTensor x = DoubleTensor::from({1, 2, 3}, {3}, true);
  eigrad::sum(eigrad::repeat(x, {2, 2}) * eigrad::repeat(x, {2, 2})).backward();
  check_close(x.grad().to_vector(), V{8, 16, 24});  // 4 copies of x^2
  check_both_orders(squared([](const DoubleTensor& t) {
                      return eigrad::repeat(t, {2, 1, 3});
                    }),
                    {random_leaf({2, 2}, 6)});
  check_both_orders(squared([](const DoubleTensor& t) {
                      return eigrad::repeat(t, {2, 2, 1, 1});
                    }),
                    {random_leaf({2, 2}, 7)});
  // No copies: a zero gradient.
  DoubleTensor z = DoubleTensor::ones({2, 2}, true);
  eigrad::sum(eigrad::repeat(z, {1, 2, 0})).backward();
  check_close(z.grad().to_vector(), V{0, 0, 0, 0});
}

TEST_CASE("repeat rejects fewer repeats than axes and negative counts", "[ops-shape]") {
  const DoubleTensor x = DoubleTensor::zeros({2, 3});
  REQUIRE_THROWS_WITH(eigrad::repeat(x, {2}),
                      Contains("repeat: expected at least 2 repeats, one per axis (more add "
                               "leading axes), got 1 (shape [2, 3], repeats [2])"));
  REQUIRE_THROWS_WITH(eigrad::repeat(x, {1, -1}), Contains("repeat counts must be >= 0"));
}

// ---------------------------------------------------------------- flip and roll

TEST_CASE("flip reverses the given axes", "[ops-shape]") {
  const DoubleTensor x = iota({2, 3});
  check_close(eigrad::flip(x, {1}).to_vector(), V{2, 1, 0, 5, 4, 3});
  check_close(eigrad::flip(x, {0}).to_vector(), V{3, 4, 5, 0, 1, 2});
  check_close(eigrad::flip(x, {-1, 0}).to_vector(), V{5, 4, 3, 2, 1, 0});
  check_close(eigrad::flip(x, {}).to_vector(), x.to_vector());
  const DoubleTensor y = iota({2, 3, 4}), f = eigrad::flip(y, {0, 2});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k) CHECK(f.at({i, j, k}) == y.at({1 - i, j, 3 - k}));
}

TEST_CASE("roll moves entry i to i + shift, on axes or the flattened tensor", "[ops-shape]") {
  check_close(eigrad::roll(iota({5}), {2}).to_vector(), V{3, 4, 0, 1, 2});
  check_close(eigrad::roll(iota({5}), {-1}).to_vector(), V{1, 2, 3, 4, 0});
  check_close(eigrad::roll(iota({5}), {12}).to_vector(), V{3, 4, 0, 1, 2});
  const DoubleTensor x = iota({2, 3});
  check_close(eigrad::roll(x, {1}, {1}).to_vector(), V{2, 0, 1, 5, 3, 4});
  check_close(eigrad::roll(x, {1}).to_vector(), V{5, 0, 1, 2, 3, 4});
  CHECK(eigrad::roll(x, {1}).shape() == Shape{2, 3});
  check_close(eigrad::roll(x, {1, -1}, {0, 1}).to_vector(), V{4, 5, 3, 1, 2, 0});
  check_close(eigrad::roll(x, {1, 1}, {1, 1}).to_vector(), V{1, 2, 0, 4, 5, 3});
  CHECK(eigrad::roll(DoubleTensor::zeros({0, 2}), {3}, {0}).shape() == Shape{0, 2});
}

TEST_CASE("flip's and roll's gradients are flip and roll back, to second order", "[ops-shape]") {
  DoubleTensor x = DoubleTensor::from({1, 2, 3}, {3}, true);
  eigrad::roll(x, {1}).backward(DoubleTensor::from({10, 20, 30}));
  check_close(x.grad().to_vector(), V{20, 30, 10});
  x.zero_grad();
  eigrad::flip(x, {0}).backward(DoubleTensor::from({10, 20, 30}));
  check_close(x.grad().to_vector(), V{30, 20, 10});
  check_both_orders(squared([](const DoubleTensor& t) {
                      return eigrad::flip(t, {0, 2});
                    }),
                    {random_leaf({2, 3, 2}, 8)});
  check_both_orders(squared([](const DoubleTensor& t) {
                      return eigrad::roll(t, {2, -1}, {1, 0});
                    }),
                    {random_leaf({3, 4}, 9)});
  check_both_orders(squared([](const DoubleTensor& t) { return eigrad::roll(t, {5}); }),
                    {random_leaf({2, 3}, 10)});
  check_both_orders([](const Ts& t) { return eigrad::roll(t[0], {1}, {0}) * t[0]; },
                    {random_leaf({4}, 11)});
}

TEST_CASE("flip and roll reject bad axes and mismatched shifts", "[ops-shape]") {
  const DoubleTensor x = DoubleTensor::zeros({2, 3});
  REQUIRE_THROWS_WITH(eigrad::flip(x, {1, -1}),
                      Contains("flip: axis 1 appears more than once in [1, -1] for shape [2, 3]"));
  REQUIRE_THROWS_WITH(eigrad::flip(x, {2}), Contains("flip: axis 2 is out of range"));
  REQUIRE_THROWS_WITH(eigrad::roll(x, {1, 2}, {0}),
                      Contains("roll: expected one shift per axis, got shifts [1, 2] for axes [0] "
                               "of shape [2, 3]"));
  REQUIRE_THROWS_WITH(eigrad::roll(x, {1, 2}), Contains("without axes, expected one shift"));
  REQUIRE_THROWS_WITH(eigrad::roll(x, {1}, {-3}), Contains("roll: axis -3 is out of range"));
}

// ---------------------------------------------------------------- tril and triu

TEST_CASE("tril and triu keep a triangle of the last two axes, batched", "[ops-shape]") {
  const DoubleTensor x = iota({2, 3, 4}) + 1.0;
  for (int64_t k : {-4, -1, 0, 1, 2, 5}) {
    INFO("diagonal " << k);
    const DoubleTensor lo = eigrad::tril(x, k), up = eigrad::triu(x, k);
    REQUIRE(lo.shape() == x.shape());
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 4; ++j) {
          CHECK(lo.at({b, i, j}) == (j - i <= k ? x.at({b, i, j}) : 0.0));
          CHECK(up.at({b, i, j}) == (j - i >= k ? x.at({b, i, j}) : 0.0));
        }
  }
  check_close(eigrad::tril(iota({2, 2}) + 1.0).to_vector(), V{1, 0, 3, 4});
  check_close(eigrad::triu(iota({2, 2}) + 1.0, 1).to_vector(), V{0, 2, 0, 0});
  CHECK(eigrad::tril(x, INT64_MIN).to_vector() == V(24, 0.0));
  CHECK(eigrad::triu(x, INT64_MIN).to_vector() == x.to_vector());
}

TEST_CASE("tril's and triu's gradients are the same triangle, to second order", "[ops-shape]") {
  DoubleTensor x = DoubleTensor::ones({2, 2}, true);
  eigrad::sum(eigrad::triu(x) * 3.0).backward();
  check_close(x.grad().to_vector(), V{3, 3, 0, 3});
  check_both_orders(squared([](const DoubleTensor& t) { return eigrad::tril(t, -1); }),
                    {random_leaf({2, 3, 3}, 12)});
  check_both_orders(squared([](const DoubleTensor& t) { return eigrad::triu(t, 1); }),
                    {random_leaf({3, 4}, 13)});
}

TEST_CASE("tril and triu need at least two axes", "[ops-shape]") {
  REQUIRE_THROWS_WITH(eigrad::tril(DoubleTensor::zeros({3})),
                      Contains("tril: expected a matrix or a batch of them (at least 2 axes), got "
                               "shape [3]"));
  REQUIRE_THROWS_WITH(eigrad::triu(DoubleTensor::scalar(1)), Contains("triu: expected a matrix"));
}

// ---------------------------------------------------------------- outer and einsum

TEST_CASE("outer multiplies every pair of entries", "[ops-shape]") {
  const DoubleTensor y = eigrad::outer(DoubleTensor::from({1, 2}), DoubleTensor::from({3, 4, 5}));
  REQUIRE(y.shape() == Shape{2, 3});
  check_close(y.to_vector(), V{3, 4, 5, 6, 8, 10});
  check_both_orders([](const Ts& t) { return eigrad::outer(t[0], t[1]); },
                    {random_leaf({3}, 14), random_leaf({2}, 15)});
  REQUIRE_THROWS_WITH(eigrad::outer(DoubleTensor::zeros({2, 2}), DoubleTensor::zeros({2})),
                      Contains("outer: expected two rank-1 tensors, got [2, 2] and [2]"));
}

TEST_CASE("einsum equals the explicit sums of its equation", "[ops-shape]") {
  check_einsum("ij,jk->ik", {random_leaf({2, 3}, 20), random_leaf({3, 4}, 21)});
  check_einsum("bij,bjk->bik", {random_leaf({2, 2, 3}, 22), random_leaf({2, 3, 2}, 23)});
  check_einsum("i,i->", {random_leaf({4}, 24), random_leaf({4}, 25)});
  check_einsum("i,j->ij", {random_leaf({3}, 26), random_leaf({2}, 27)});
  check_einsum("ij->ji", {random_leaf({2, 3}, 28)});
  check_einsum("ij->", {random_leaf({2, 3}, 29)});
  check_einsum("ij->j", {random_leaf({2, 3}, 30)});
  check_einsum("ii->i", {random_leaf({3, 3}, 31)});
  check_einsum("ii->", {random_leaf({3, 3}, 32)});
  check_einsum("iji->j", {random_leaf({2, 3, 2}, 33)});
  check_einsum("bhqd,bhkd->bhqk", {random_leaf({2, 2, 3, 4}, 34), random_leaf({2, 2, 2, 4}, 35)});
  check_einsum("ijk,kj->ik", {random_leaf({2, 3, 4}, 36), random_leaf({4, 3}, 37)});
  check_einsum("ij,kl->likj", {random_leaf({2, 1}, 38), random_leaf({3, 2}, 39)});
  check_einsum("ij,jk->", {random_leaf({2, 3}, 40), random_leaf({3, 2}, 41)});
  check_einsum("ij,j->i", {random_leaf({2, 3}, 42), random_leaf({3}, 43)});
  check_einsum("iij,jk->ik", {random_leaf({2, 2, 3}, 44), random_leaf({3, 2}, 45)});
  check_einsum("ijk,i->", {random_leaf({2, 3, 2}, 46), random_leaf({2}, 47)});
  check_einsum("ab,ab->ab", {random_leaf({2, 3}, 48), random_leaf({2, 3}, 49)});
  check_einsum(",i->i", {DoubleTensor::scalar(3), random_leaf({3}, 50)});
  check_einsum("ij,jk->ik", {DoubleTensor::zeros({2, 0}), DoubleTensor::zeros({0, 3})});
  check_einsum("aB,Ba->Ba", {random_leaf({2, 3}, 51), random_leaf({3, 2}, 52)});
}

TEST_CASE("einsum's implicit output holds the subscripts that appear once, in ASCII order",
          "[ops-shape]") {
  const Ts ab{random_leaf({2, 3}, 60), random_leaf({3, 4}, 61)};
  check_einsum("ij,jk", ab, "ij,jk->ik");
  check_einsum("ba,ak", ab, "ba,ak->bk");
  check_einsum("kj,ji", ab, "kj,ji->ik");
  check_einsum("ii", {random_leaf({3, 3}, 62)}, "ii->");
  check_einsum("ij", {random_leaf({2, 3}, 63)}, "ij->ij");
  check_einsum("ji", {random_leaf({2, 3}, 64)}, "ji->ij");
  check_einsum("Ba", {random_leaf({2, 3}, 65)}, "Ba->Ba");  // 'B' < 'a'
  // Hand values: the trace and the diagonal of [[1, 2], [3, 4]].
  const DoubleTensor m = DoubleTensor::from({1, 2, 3, 4}, {2, 2});
  CHECK(eigrad::einsum("ii", {m}).item() == 5);
  check_close(eigrad::einsum("ii->i", {m}).to_vector(), V{1, 4});
  check_close(eigrad::einsum("ij,jk->ik", {m, m}).to_vector(), V{7, 10, 15, 22});
}

TEST_CASE("einsum's ellipsis covers and broadcasts the leading axes", "[ops-shape]") {
  const DoubleTensor a = random_leaf({2, 3, 4}, 70), b = random_leaf({4, 2}, 71),
                     c = random_leaf({2, 4, 2}, 72);
  check_einsum("...ij,...jk->...ik", {a, c}, "bij,bjk->bik");
  check_einsum("...ij,...jk->...ik", {a, b}, "bij,jk->bik");
  check_einsum("...ij,...jk", {a, b}, "bij,jk->bik");
  check_einsum("...ij->...ji", {a}, "bij->bji");
  check_einsum("i...->...", {a}, "bij->ij");
  check_einsum("...ij->ij", {a}, "bij->ij");  // ellipsis axes missing from the output are summed
  check_einsum("...,...->...", {random_leaf({3}, 73), random_leaf({3}, 74)}, "i,i->i");
  // Sizes of 1 broadcast: the ellipses [2, 1] and [4] give [2, 4].
  const DoubleTensor d = random_leaf({2, 1, 1, 3}, 75), e = random_leaf({4, 3, 2}, 76);
  const DoubleTensor y = eigrad::einsum("...ij,...jk->...ik", {d, e});
  REQUIRE(y.shape() == Shape{2, 4, 1, 2});
  Shape s;
  const V want = naive_einsum("bcij,cjk->bcik", {d, e}, s);
  check_close(y.to_vector(), want, 1e-12);
}

TEST_CASE("einsum differentiates twice", "[ops-shape]") {
  const auto f = [](const std::string& eq) {
    return [eq](const Ts& t) { return eigrad::einsum(eq, t); };
  };
  check_both_orders(f("ij,jk->ik"), {random_leaf({2, 3}, 80), random_leaf({3, 2}, 81)});
  check_both_orders(f("bhqd,bhkd->bhqk"),
                    {random_leaf({1, 2, 2, 3}, 82), random_leaf({1, 2, 3, 3}, 83)});
  check_both_orders(f("i,i->"), {random_leaf({3}, 84), random_leaf({3}, 85)});
  check_both_orders(f("iij,jk->ik"), {random_leaf({2, 2, 3}, 86), random_leaf({3, 2}, 87)});
  check_both_orders(f("...ij,...jk->...ik"),
                    {random_leaf({2, 1, 3}, 88), random_leaf({2, 3, 2}, 89)});
  check_both_orders(
      [](const Ts& t) {
        return eigrad::einsum("ij,jk", {t[0], t[0]});
      },
      {random_leaf({3, 3}, 90)});
  check_both_orders(squared([](const DoubleTensor& t) { return eigrad::einsum("iij->ji", {t}); }),
                    {random_leaf({2, 2, 3}, 91)});
  check_both_orders(squared([](const DoubleTensor& t) { return eigrad::einsum("ii", {t}); }),
                    {random_leaf({3, 3}, 92)});
}

TEST_CASE("einsum names the equation and the shapes in its errors", "[ops-shape]") {
  const DoubleTensor a = DoubleTensor::zeros({2, 3}), b = DoubleTensor::zeros({4, 5});
  REQUIRE_THROWS_WITH(eigrad::einsum("ij,jk->ik", {a, b}),
                      Contains("einsum: subscript j has size 3 in operand 0 and 4 in operand 1 "
                               "(equation \"ij,jk->ik\", operand shapes [2, 3], [4, 5])"));
  REQUIRE_THROWS_WITH(eigrad::einsum("ijk,jk->i", {a, b}),
                      Contains("operand 0 has 2 axes but its term \"ijk\" has 3 subscripts"));
  REQUIRE_THROWS_WITH(eigrad::einsum("ii->i", {a}),
                      Contains("subscript i is repeated in operand 0 but its axes 0 and 1 have "
                               "sizes 2 and 3"));
  REQUIRE_THROWS_WITH(eigrad::einsum("i,i,i->", {a, a, a}),
                      Contains("einsum: supports one or two operands, got 3"));
  REQUIRE_THROWS_WITH(eigrad::einsum("i1->i", {DoubleTensor::zeros({2})}),
                      Contains("invalid character '1' at position 1"));
  REQUIRE_THROWS_WITH(eigrad::einsum("ij->k", {a}),
                      Contains("output subscript k does not appear in the inputs"));
  REQUIRE_THROWS_WITH(eigrad::einsum("ij->ii", {a}), Contains("appears more than once"));
  REQUIRE_THROWS_WITH(eigrad::einsum("ij,jk->ik", {a}),
                      Contains("the equation has 2 input terms for 1 operands"));
  REQUIRE_THROWS_WITH(eigrad::einsum("...i...->i", {a}), Contains("more than one ellipsis"));
  REQUIRE_THROWS_WITH(eigrad::einsum("ijk...->i", {a}),
                      Contains("has 3 subscripts besides the ellipsis"));
  REQUIRE_THROWS_WITH(eigrad::einsum("ij", std::vector<DoubleTensor>{}),
                      Contains("expected one or two operands, got none"));
}

// ---------------------------------------------------------------- float32

TEST_CASE("the rearranging ops and einsum work in float32", "[ops-shape]") {
  const Tensor x = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(eigrad::flip(x, {1}).to_vector() == std::vector<float>{3, 2, 1, 6, 5, 4});
  CHECK(eigrad::roll(x, {1}, {0}).to_vector() == std::vector<float>{4, 5, 6, 1, 2, 3});
  CHECK(eigrad::tril(x).to_vector() == std::vector<float>{1, 0, 0, 4, 5, 0});
  CHECK(eigrad::triu(x).to_vector() == std::vector<float>{1, 2, 3, 0, 5, 6});
  CHECK(eigrad::repeat(x, {1, 2}).shape() == Shape{2, 6});
  CHECK(eigrad::expand(Tensor::from({7}), {2, 3}).to_vector() == std::vector<float>(6, 7.0f));
  CHECK(eigrad::chunk(x, 2, 1)[1].to_vector() == std::vector<float>{3, 6});
  CHECK(eigrad::split(x, 1)[1].to_vector() == std::vector<float>{4, 5, 6});
  CHECK(eigrad::outer(Tensor::from({1, 2}), Tensor::from({3})).to_vector() ==
        std::vector<float>{3, 6});
  // [[1, 2, 3], [4, 5, 6]] [[1, 4], [2, 5], [3, 6]] = [[14, 32], [32, 77]]
  const Tensor g = eigrad::einsum("ij,kj->ik", {x, x});
  CHECK(g.to_vector() == std::vector<float>{14, 32, 32, 77});
  const auto f32 = [](const std::vector<Tensor>& t) {
    return eigrad::einsum("bij,bjk->bik",
                          {eigrad::repeat(t[0], {1, 1, 2}), eigrad::flip(t[1], {1})});
  };
  const auto f64 = [](const Ts& t) {
    return eigrad::einsum("bij,bjk->bik",
                          {eigrad::repeat(t[0], {1, 1, 2}), eigrad::flip(t[1], {1})});
  };
  eigrad::GradcheckOptions loose;
  loose.atol = 1e-3;
  loose.rtol = 1e-2;
  loose.eps = 1e-3;
  const Ts in{random_leaf({2, 2, 2}, 100), random_leaf({2, 4, 3}, 101)};
  const eigrad::GradcheckReport r = eigrad::gradcheck_float32(f32, f64, in, loose);
  INFO(r.str());
  CHECK(r.passed);
  const eigrad::GradcheckReport r2 = eigrad::gradgradcheck_float32(f32, f64, in, {}, loose);
  INFO(r2.str());
  CHECK(r2.passed);
}
