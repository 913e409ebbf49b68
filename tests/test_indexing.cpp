// Indexing (integers, slices, Ellipsis, None, bool masks, int64 indices), index_put_, masks,
// gather, scatter_add, sort and topk, against values worked out by hand or by naive loops here.
#include <catch2/catch.hpp>
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
using eigrad::test::check_gradients;
using eigrad::test::random_leaf;
using namespace eigrad::indexing;
using V = std::vector<double>;
using L = std::vector<int64_t>;
using Ts = std::vector<DoubleTensor>;

namespace {
// 0, 1, 2, ... in a tensor of `shape`: every value names its own flat position.
DoubleTensor positions(const Shape& shape) {
  return eigrad::reshape(DoubleTensor::arange(0, static_cast<double>(shape.numel())), shape.vec());
}

void check_second(const eigrad::GradcheckFunction& f, const Ts& inputs) {
  const auto r = eigrad::gradgradcheck(f, inputs);
  INFO(r.str());
  CHECK(r.passed);
  CHECK(r.checked > 0);
}
}  // namespace

TEST_CASE("integers, slices, Ellipsis and None select as in PyTorch", "[indexing]") {
  const DoubleTensor x = positions({3, 4, 5});  // x[i, j, k] = 20 i + 5 j + k
  CHECK(x[1].shape() == Shape{4, 5});
  CHECK(x[1].at({2, 3}) == 33);
  CHECK(x[-1].at({0, 0}) == 40);
  const DoubleTensor a = x.index({0, Slice(1, None, 2), Ellipsis, None});
  // x[0, 1::2, ..., None]: rows j = 1, 3, all k, a new axis at the end.
  CHECK(a.shape() == Shape{2, 5, 1});
  V want;
  for (int j = 1; j < 4; j += 2)
    for (int k = 0; k < 5; ++k) want.push_back(5 * j + k);
  CHECK(a.to_vector() == want);
  CHECK(x.index({Ellipsis, 2}).shape() == Shape{3, 4});
  CHECK(x.index({Ellipsis, 2}).at({2, 1}) == 47);
  CHECK(x.index({None, Slice(), None, 1}).shape() == Shape{1, 3, 1, 5});
  // Negative and out-of-range bounds clamp as Python's do.
  CHECK(x.index({Slice(-2), 0, 0}).to_vector() == V{20, 40});
  CHECK(x.index({Slice(None, 100), 0, 0}).to_vector() == V{0, 20, 40});
  CHECK(x.index({Slice(2, 1), 0, 0}).shape() == Shape{0});
  CHECK(x.index({0, 0, Slice(None, None, 3)}).to_vector() == V{0, 3});
  CHECK(x.index({1, 2, 3}).shape() == Shape{});
  CHECK(x.index({1, 2, 3}).item() == 33);
  CHECK(x.index({}).to_vector() == x.to_vector());
}

TEST_CASE("bool masks and int64 index tensors select as in PyTorch", "[indexing]") {
  const DoubleTensor x = positions({3, 4});  // x[i, j] = 4 i + j
  const BoolTensor rows = BoolTensor::from({true, false, true});
  CHECK(x.index({rows}).shape() == Shape{2, 4});
  CHECK(x.index({rows, 1}).to_vector() == V{1, 9});
  const BoolTensor m = x > 6.0;
  CHECK(x.index({m}).to_vector() == V{7, 8, 9, 10, 11});
  CHECK(x.index({LongTensor::from({2, 0, 2})}).shape() == Shape{3, 4});
  CHECK(x.index({Slice(), LongTensor::from({3, -1})}).to_vector() == V{3, 3, 7, 7, 11, 11});
  // Two index tensors broadcast together and pick pairs: x[[0, 2], [1, 3]] = x[0,1], x[2,3].
  CHECK(x.index({LongTensor::from({0, 2}), LongTensor::from({1, 3})}).to_vector() == V{1, 11});
  CHECK(x.index({LongTensor::from({0, 2}, {2, 1}), LongTensor::from({1, 3})}).to_vector() ==
        V{1, 3, 9, 11});
  // Separated advanced indices put their axes first (x3[[0,1], :, [1,2]] is [2, 4]).
  const DoubleTensor y = positions({2, 4, 3});  // y[i, j, k] = 12 i + 3 j + k
  const DoubleTensor s = y.index({LongTensor::from({0, 1}), Slice(), LongTensor::from({1, 2})});
  CHECK(s.shape() == Shape{2, 4});
  CHECK(s.to_vector() == V{1, 4, 7, 10, 14, 17, 20, 23});
  // Adjacent ones stay in place: y[:, [0, 3], [2, 0]] is [2, 2].
  const DoubleTensor t = y.index({Slice(), LongTensor::from({0, 3}), LongTensor::from({2, 0})});
  CHECK(t.shape() == Shape{2, 2});
  CHECK(t.to_vector() == V{2, 9, 14, 21});
  CHECK(x.index({BoolTensor::scalar(true)}).shape() == Shape{1, 3, 4});
}

TEST_CASE("bad indices are errors naming the index and the shape", "[indexing]") {
  const DoubleTensor x = DoubleTensor::zeros({3, 4});
  CHECK_THROWS_WITH(x.index({3}),
                    Contains("index 3 is out of range for axis 0 of size 3") && Contains("[3, 4]"));
  CHECK_THROWS_WITH(x.index({0, 0, 0}), Contains("too many indices"));
  CHECK_THROWS_WITH(x.index({Ellipsis, 0, Ellipsis}), Contains("one Ellipsis"));
  CHECK_THROWS_WITH(x.index({BoolTensor::zeros({2})}), Contains("bool mask of shape [2]"));
  CHECK_THROWS_WITH(x.index({Slice(), LongTensor::from({4})}), Contains("index 4 is out of range"));
  CHECK_THROWS_WITH(x.index({LongTensor::zeros({2}), LongTensor::zeros({3})}),
                    Contains("do not broadcast"));
  CHECK_THROWS_WITH(Slice(0, 2, 0), Contains("step must be positive"));
  CHECK_THROWS_WITH(DoubleTensor::scalar(1)[0], Contains("rank-0"));
}

TEST_CASE("indexing is differentiable to second order", "[indexing]") {
  check_gradients(
      [](const Ts& t) {
        return t[0].index({1, Slice(None, None, 2)});
      },
      {random_leaf({3, 5}, 1)});
  check_gradients(
      [](const Ts& t) {
        return t[0].index({LongTensor::from({0, 2, 0})});
      },
      {random_leaf({3, 2}, 2)});  // a repeated row gets both gradients
  check_gradients([](const Ts& t) { return t[0].index({t[0] > 0.0}); }, {random_leaf({4, 3}, 3)});
  check_second(
      [](const Ts& t) {
        const DoubleTensor y = t[0].index({Slice(), LongTensor::from({2, 0, 2})});
        return y * y;
      },
      {random_leaf({2, 3}, 4)});
  // By hand: d/dx sum(x[[0, 0, 1]]) = [2, 1, 0].
  DoubleTensor x = DoubleTensor::zeros({3}, true);
  eigrad::sum(x.index({LongTensor::from({0, 0, 1})})).backward();
  CHECK(x.grad().to_vector() == V{2, 1, 0});
}

TEST_CASE("index_put_ writes in place, bumps the version and is differentiable", "[indexing]") {
  DoubleTensor x = DoubleTensor::zeros({2, 3});
  const uint64_t v0 = x.version();
  x.index_put_({Slice(), 1}, 5.0);
  CHECK(x.to_vector() == V{0, 5, 0, 0, 5, 0});
  CHECK(x.version() > v0);
  x.index_put_({x > 1.0}, DoubleTensor::from({7, 8}));
  CHECK(x.to_vector() == V{0, 7, 0, 0, 8, 0});
  x.index_put_({0, LongTensor::from({0, 0, 2})}, DoubleTensor::from({1, 2, 3}),
               /*accumulate=*/true);
  CHECK(x.to_vector() == V{3, 7, 3, 0, 8, 0});
  CHECK_THROWS_WITH(x.index_put_({0}, DoubleTensor::zeros({2})),
                    Contains("index_put_") && Contains("[2]") && Contains("[3]"));
  // Into a tensor computed from a leaf: the gradient skips the overwritten entries and reaches
  // the values.
  DoubleTensor a = DoubleTensor::from({1, 2, 3, 4}, {4}, true);
  DoubleTensor v = DoubleTensor::from({10, 20}, {2}, true);
  DoubleTensor y = a * 2.0;
  y.index_put_({LongTensor::from({1, 3})}, v * v);
  CHECK(y.to_vector() == V{2, 100, 6, 400});
  eigrad::sum(y * DoubleTensor::from({1, 2, 3, 4})).backward();
  CHECK(a.grad().to_vector() == V{2, 0, 6, 0});
  CHECK(v.grad().to_vector() == V{2 * 10 * 2, 2 * 20 * 4});
  DoubleTensor leaf = DoubleTensor::zeros({2}, true);
  CHECK_THROWS_WITH(leaf.index_put_({0}, 1.0), Contains("leaf") && Contains("in place"));
  check_gradients(
      [](const Ts& t) {
        DoubleTensor y = t[0] * 1.0;
        y.index_put_({Slice(), LongTensor::from({0, 2})}, t[1]);
        return y;
      },
      {random_leaf({2, 3}, 5), random_leaf({2, 2}, 6)});
  LongTensor l = LongTensor::zeros({3});
  l.index_put_({1}, 9);
  CHECK(l.to_vector() == L{0, 9, 0});
}

TEST_CASE("masked_select, masked_fill and nonzero", "[indexing]") {
  const DoubleTensor x = DoubleTensor::from({1, -2, 3, -4}, {2, 2});
  CHECK(eigrad::masked_select(x, x < 0.0).to_vector() == V{-2, -4});
  // The mask broadcasts: a row mask picks columns in every row.
  CHECK(eigrad::masked_select(x, BoolTensor::from({false, true})).to_vector() == V{-2, -4});
  CHECK(eigrad::masked_fill(x, x < 0.0, 0.0).to_vector() == V{1, 0, 3, 0});
  CHECK(eigrad::nonzero(x > 0.0).to_vector() == L{0, 0, 1, 0});
  CHECK(eigrad::nonzero(x > 0.0).shape() == Shape{2, 2});
  CHECK_THROWS_WITH(eigrad::masked_fill(x, BoolTensor::zeros({3}), 1.0),
                    Contains("masked_fill") && Contains("[3]"));
  const BoolTensor m = BoolTensor::from({true, false, false, true, true, false}, {2, 3});
  check_gradients([m](const Ts& t) { return eigrad::masked_select(t[0], m); },
                  {random_leaf({2, 3}, 7)});
  check_gradients([m](const Ts& t) { return eigrad::masked_fill(t[0], m, -1.0); },
                  {random_leaf({2, 3}, 8)});
  check_second([m](const Ts& t) { return eigrad::masked_select(t[0] * t[0], m); },
               {random_leaf({2, 3}, 9)});
}

TEST_CASE("gather and scatter_add follow their definitions, loop by loop", "[indexing]") {
  const DoubleTensor x = eigrad::test::random_values({3, 4}, 10);
  const LongTensor idx = LongTensor::from({2, 0, 1, 1, 0, 0}, {2, 3});
  // axis 0: out[i][j] = x[idx[i][j]][j]; axis 1: out[i][j] = x[i][idx[i][j]].
  const DoubleTensor g0 = eigrad::gather(x, 0, idx), g1 = eigrad::gather(x, 1, idx);
  REQUIRE(g0.shape() == Shape{2, 3});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      CHECK(g0.at({i, j}) == x.at({idx.at({i, j}), j}));
      CHECK(g1.at({i, j}) == x.at({i, idx.at({i, j})}));
    }
  const DoubleTensor src = eigrad::test::random_values({2, 4}, 11);
  const DoubleTensor s = eigrad::scatter_add(x, 1, idx, src);
  DoubleTensor want = x.clone();
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) want.mutable_at({i, idx.at({i, j})}) += src.at({i, j});
  CHECK(s.to_vector() == want.to_vector());
  check_gradients([idx](const Ts& t) { return eigrad::gather(t[0], 1, idx); },
                  {random_leaf({3, 4}, 12)});
  check_gradients([idx](const Ts& t) { return eigrad::scatter_add(t[0], 0, idx, t[1]); },
                  {random_leaf({3, 4}, 13), random_leaf({2, 3}, 14)});
  check_second(
      [idx](const Ts& t) {
        const DoubleTensor y = eigrad::scatter_add(t[0], 1, idx, t[1]);
        return y * y;
      },
      {random_leaf({3, 4}, 15), random_leaf({2, 4}, 16)});
  CHECK_THROWS_WITH(eigrad::gather(x, 1, LongTensor::from({4}, {1, 1})),
                    Contains("gather") && Contains("index 4 is out of range"));
  CHECK_THROWS_WITH(eigrad::gather(x, 0, LongTensor::zeros({3})),
                    Contains("gather") && Contains("same rank"));
  // Along the gathered axis the index may be longer than the tensor (entries repeat).
  CHECK(eigrad::gather(x, 0, LongTensor::from({2, 2, 0, 1, 2}, {5, 1})).to_vector() ==
        V{x.at({2, 0}), x.at({2, 0}), x.at({0, 0}), x.at({1, 0}), x.at({2, 0})});
  CHECK_THROWS_WITH(eigrad::gather(x, 0, LongTensor::zeros({2, 5})),
                    Contains("gather") && Contains("larger"));
}

TEST_CASE("sort, argsort and topk", "[indexing]") {
  const DoubleTensor x = DoubleTensor::from({3, 1, 2, 1, NAN, 0}, {2, 3});
  const auto [v, i] = eigrad::sort(x, 1);
  CHECK(i.to_vector() == L{1, 2, 0, 2, 0, 1});  // NaN sorts last
  CHECK(v.at({0, 0}) == 1);
  CHECK(v.at({0, 2}) == 3);
  CHECK(std::isnan(v.at({1, 2})));
  CHECK(eigrad::argsort(x, 1, /*descending=*/true).to_vector() == L{0, 2, 1, 1, 0, 2});
  // Stable: equal keys keep their order.
  CHECK(eigrad::argsort(DoubleTensor::from({2, 1, 2, 1})).to_vector() == L{1, 3, 0, 2});
  CHECK(eigrad::argsort(x, 0).to_vector() == L{1, 0, 1, 0, 1, 0});
  const DoubleTensor y = DoubleTensor::from({5, 1, 4, 2, 3});
  const auto [tv, ti] = eigrad::topk(y, 3);
  CHECK(tv.to_vector() == V{5, 4, 3});
  CHECK(ti.to_vector() == L{0, 2, 4});
  CHECK(eigrad::topk(y, 2, -1, /*largest=*/false).first.to_vector() == V{1, 2});
  CHECK(eigrad::topk(y, 3, -1, true, /*sorted=*/false).second.to_vector() == L{0, 2, 4});
  CHECK(eigrad::topk(LongTensor::from({3, 9, 1}), 1).first.item() == 9);
  // Empty tensors, also when an axis after the sorted one is empty.
  CHECK(eigrad::topk(DoubleTensor::zeros({3, 0}), 2, 0).first.shape() == Shape{2, 0});
  CHECK(eigrad::sort(DoubleTensor::zeros({0, 2})).second.shape() == Shape{0, 2});
  CHECK_THROWS_WITH(eigrad::topk(y, 6), Contains("topk") && Contains("k = 6"));
  check_gradients([](const Ts& t) { return eigrad::topk(t[0], 2, 0).first; },
                  {random_leaf({4, 3}, 17)});
  check_gradients([](const Ts& t) { return eigrad::sort(t[0], -1, true).first; },
                  {random_leaf({2, 5}, 18)});
}
