// The tensor ops of CNN code: stack, permute, unsqueeze/squeeze, narrow, pad, min/max, the
// comparisons and where. Forward values by hand or by naive reference loops written here,
// gradients against float64 finite differences on random shapes, every error path.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "support.hpp"

using Catch::Contains;
using eigrad::BoolTensor;
using eigrad::DoubleTensor;
using eigrad::Error;
using eigrad::Generator;
using eigrad::Shape;
using eigrad::Tensor;
using eigrad::test::check_gradients;
using eigrad::test::random_leaf;
using Ts = std::vector<DoubleTensor>;
using B = std::vector<bool>;
using V = std::vector<double>;

namespace {

const double kNan = std::numeric_limits<double>::quiet_NaN();

// A random shape of the given rank, sizes 1 to max_size.
Shape random_shape(Generator& g, int rank, int64_t max_size = 4) {
  Shape s;
  for (int i = 0; i < rank; ++i) s.push_back(1 + static_cast<int64_t>(g.randint(max_size)));
  return s;
}

// The row-major multi-index of flat index i in `shape`.
std::vector<int64_t> unravel(int64_t i, const Shape& shape) {
  std::vector<int64_t> index(static_cast<size_t>(shape.rank()));
  for (int d = shape.rank() - 1; d >= 0; --d) {
    index[static_cast<size_t>(d)] = i % shape[d];
    i /= shape[d];
  }
  return index;
}

int64_t ravel(const std::vector<int64_t>& index, const Shape& shape) {
  int64_t i = 0;
  for (int d = 0; d < shape.rank(); ++d) i = i * shape[d] + index[static_cast<size_t>(d)];
  return i;
}

// Naive permute: out[i_0, ..., i_r] = a[j] with j[dims[k]] = i_k.
V reference_permute(const DoubleTensor& a, const std::vector<int>& dims, Shape& shape) {
  shape = Shape();
  for (int d : dims) shape.push_back(a.shape()[d]);
  V out(static_cast<size_t>(shape.numel()));
  for (int64_t i = 0; i < shape.numel(); ++i) {
    const std::vector<int64_t> at = unravel(i, shape);
    std::vector<int64_t> src(at.size());
    for (size_t k = 0; k < dims.size(); ++k) src[static_cast<size_t>(dims[k])] = at[k];
    out[static_cast<size_t>(i)] = a.to_vector()[static_cast<size_t>(ravel(src, a.shape()))];
  }
  return out;
}

// Naive constant pad: every output index mapped back to the input by subtracting `before`.
V reference_pad(const DoubleTensor& a, const std::vector<int64_t>& pad, double value,
                Shape& shape) {
  const int r = a.rank();
  std::vector<int64_t> before(static_cast<size_t>(r), 0);
  shape = a.shape();
  for (size_t p = 0; p < pad.size() / 2; ++p) {
    const int d = r - 1 - static_cast<int>(p);
    before[static_cast<size_t>(d)] = pad[2 * p];
    shape[d] += pad[2 * p] + pad[2 * p + 1];
  }
  V out(static_cast<size_t>(shape.numel()), value);
  for (int64_t i = 0; i < shape.numel(); ++i) {
    std::vector<int64_t> at = unravel(i, shape);
    bool inside = true;
    for (int d = 0; d < r; ++d) {
      at[static_cast<size_t>(d)] -= before[static_cast<size_t>(d)];
      inside &= at[static_cast<size_t>(d)] >= 0 && at[static_cast<size_t>(d)] < a.shape()[d];
    }
    if (inside)
      out[static_cast<size_t>(i)] = a.to_vector()[static_cast<size_t>(ravel(at, a.shape()))];
  }
  return out;
}

bool same_values(const V& a, const V& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

}  // namespace

// ---------------------------------------------------------------- stack

TEST_CASE("stack joins tensors of one shape along a new axis", "[tensor_ops]") {
  const DoubleTensor a = DoubleTensor::from({1, 2, 3}), b = DoubleTensor::from({4, 5, 6});
  const DoubleTensor s0 = eigrad::stack<double>({a, b}, 0);
  CHECK(s0.shape() == Shape{2, 3});
  CHECK(s0.to_vector() == V{1, 2, 3, 4, 5, 6});
  const DoubleTensor s1 = eigrad::stack<double>({a, b}, 1);
  CHECK(s1.shape() == Shape{3, 2});
  CHECK(s1.to_vector() == V{1, 4, 2, 5, 3, 6});
  CHECK(eigrad::stack<double>({a, b}, -1).to_vector() == s1.to_vector());
  CHECK(eigrad::stack<double>({a, b}, -2).to_vector() == s0.to_vector());
  // [2, 2] matrices along the middle axis: out[i, k, j] = t_k[i, j].
  const DoubleTensor m = DoubleTensor::from({1, 2, 3, 4}, {2, 2});
  const DoubleTensor n = DoubleTensor::from({5, 6, 7, 8}, {2, 2});
  const DoubleTensor mid = eigrad::stack<double>({m, n, m}, 1);
  CHECK(mid.shape() == Shape{2, 3, 2});
  CHECK(mid.to_vector() == V{1, 2, 5, 6, 1, 2, 3, 4, 7, 8, 3, 4});
  // Scalars stack into a vector.
  const DoubleTensor sc = eigrad::stack<double>({DoubleTensor::scalar(7), DoubleTensor::scalar(9)});
  CHECK(sc.shape() == Shape{2});
  CHECK(sc.to_vector() == V{7, 9});
  CHECK(eigrad::stack<double>({DoubleTensor::zeros({0, 3})}, 1).shape() == Shape{0, 1, 3});
}

TEST_CASE("stack's gradient splits back to each input", "[tensor_ops]") {
  Generator g(1);
  for (int trial = 0; trial < 6; ++trial) {
    const int rank = static_cast<int>(g.randint(4));
    const Shape shape = random_shape(g, rank, 3);
    const int axis = static_cast<int>(g.randint(static_cast<uint64_t>(rank + 1))) -
                     (trial % 2 ? rank + 1 : 0);  // negative on odd trials
    INFO("shape " << shape.str() << " axis " << axis);
    check_gradients(
        [axis](const Ts& t) {
          return eigrad::stack<double>({t[0], t[1], t[0]}, axis);
        },
        {random_leaf(shape, 10 + trial), random_leaf(shape, 20 + trial)});
  }
  // Only the inputs that require grad receive one.
  DoubleTensor x = DoubleTensor::from({1, 2}, {2}, true), y = DoubleTensor::from({3, 4});
  eigrad::sum(eigrad::stack<double>({x, y}) * DoubleTensor::from({1, 2, 3, 4}, {2, 2})).backward();
  CHECK(x.grad().to_vector() == V{1, 2});
  CHECK(!y.grad().defined());
}

TEST_CASE("stack rejects an empty list, unequal shapes and a bad axis", "[tensor_ops]") {
  const DoubleTensor a = DoubleTensor::zeros({2, 3}), b = DoubleTensor::zeros({3, 2});
  CHECK_THROWS_AS(eigrad::stack<double>({}), Error);
  CHECK_THROWS_WITH(eigrad::stack<double>({}), Contains("stack") && Contains("at least one"));
  CHECK_THROWS_WITH(eigrad::stack<double>({a, a, b}), Contains("stack") &&
                                                          Contains("tensor 2 has shape [3, 2]") &&
                                                          Contains("tensor 0 has shape [2, 3]"));
  CHECK_THROWS_WITH(eigrad::stack<double>({a, a}, 3), Contains("stack") && Contains("axis 3") &&
                                                          Contains("[2, 3]") &&
                                                          Contains("-3 to 2"));
  CHECK_THROWS_WITH(eigrad::stack<double>({a, a}, -4), Contains("stack") && Contains("axis -4"));
  const DoubleTensor r8 = DoubleTensor::zeros({1, 1, 1, 1, 1, 1, 1, 1});
  CHECK_THROWS_WITH(eigrad::stack<double>({r8}), Contains("stack") && Contains("maximum"));
}

// ---------------------------------------------------------------- permute

TEST_CASE("permute reorders axes", "[tensor_ops]") {
  const DoubleTensor m = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  const DoubleTensor mt = eigrad::permute(m, {1, 0});
  CHECK(mt.shape() == Shape{3, 2});
  CHECK(mt.to_vector() == V{1, 4, 2, 5, 3, 6});
  CHECK(eigrad::permute(m, {-1, -2}).to_vector() == mt.to_vector());
  CHECK(eigrad::permute(m, {0, 1}).to_vector() == m.to_vector());
  // [2, 2, 2]: out[i, j, k] = a[j, k, i] for dims {2, 0, 1}.
  const DoubleTensor c = DoubleTensor::from({0, 1, 2, 3, 4, 5, 6, 7}, {2, 2, 2});
  CHECK(eigrad::permute(c, {2, 0, 1}).to_vector() == V{0, 2, 4, 6, 1, 3, 5, 7});
  CHECK(eigrad::permute(c, {1, 0, 2}).to_vector() == V{0, 1, 4, 5, 2, 3, 6, 7});
  CHECK(eigrad::permute(DoubleTensor::scalar(3), {}).item() == 3);
  CHECK(eigrad::permute(DoubleTensor::zeros({2, 0, 3}), {2, 0, 1}).shape() == Shape{3, 2, 0});
}

TEST_CASE("permute matches a naive reference on random shapes and permutations", "[tensor_ops]") {
  Generator g(2);
  for (int trial = 0; trial < 200; ++trial) {
    const int rank = 1 + static_cast<int>(g.randint(6));
    const Shape shape = random_shape(g, rank, 4);  // size-1 axes included
    std::vector<int> dims(static_cast<size_t>(rank));
    for (int i = 0; i < rank; ++i) dims[static_cast<size_t>(i)] = i;
    for (int i = rank - 1; i > 0; --i)
      std::swap(dims[static_cast<size_t>(i)], dims[g.randint(static_cast<uint64_t>(i + 1))]);
    const DoubleTensor a = random_leaf(shape, 100 + trial).detach();
    Shape expected_shape;
    const V expected = reference_permute(a, dims, expected_shape);
    const DoubleTensor out = eigrad::permute(a, dims);
    INFO("shape " << shape.str());
    REQUIRE(out.shape() == expected_shape);
    CHECK(out.to_vector() == expected);
  }
}

TEST_CASE("permute's gradient is the inverse permutation", "[tensor_ops]") {
  Generator g(3);
  for (int trial = 0; trial < 6; ++trial) {
    const int rank = 2 + static_cast<int>(g.randint(3));
    std::vector<int> dims(static_cast<size_t>(rank));
    for (int i = 0; i < rank; ++i) dims[static_cast<size_t>(i)] = i;
    for (int i = rank - 1; i > 0; --i)
      std::swap(dims[static_cast<size_t>(i)], dims[g.randint(static_cast<uint64_t>(i + 1))]);
    const Shape shape = random_shape(g, rank, 3);
    Shape permuted;
    for (int d : dims) permuted.push_back(shape[d]);
    dims[0] -= rank;  // one negative axis
    INFO("shape " << shape.str());
    // Times a random tensor, so that every output element has its own weight.
    check_gradients([dims](const Ts& t) { return eigrad::permute(t[0], dims) * t[1]; },
                    {random_leaf(shape, 30 + trial), random_leaf(permuted, 40 + trial)});
  }
}

TEST_CASE("permute rejects anything but a permutation of the axes", "[tensor_ops]") {
  const DoubleTensor a = DoubleTensor::zeros({2, 3, 4});
  CHECK_THROWS_AS(eigrad::permute(a, {0, 1}), Error);
  CHECK_THROWS_WITH(eigrad::permute(a, {0, 1}), Contains("permute") &&
                                                    Contains("3 axes of shape [2, 3, 4]") &&
                                                    Contains("got [0, 1]"));
  CHECK_THROWS_WITH(eigrad::permute(a, {0, 1, 1}),
                    Contains("permute") && Contains("[2, 3, 4]") && Contains("[0, 1, 1]"));
  CHECK_THROWS_WITH(eigrad::permute(a, {0, 2, -1}), Contains("permute") && Contains("[0, 2, -1]"));
  CHECK_THROWS_WITH(eigrad::permute(a, {0, 1, 3}), Contains("permute") && Contains("[0, 1, 3]"));
  CHECK_THROWS_WITH(eigrad::permute(a, {0, 1, 2, 3}), Contains("permute"));
  CHECK_THROWS_WITH(eigrad::permute(DoubleTensor::scalar(1), {0}),
                    Contains("permute") && Contains("0 axes of shape []"));
}

// ---------------------------------------------------------------- unsqueeze and squeeze

TEST_CASE("unsqueeze and squeeze add and remove size-1 axes without copying", "[tensor_ops]") {
  const DoubleTensor a = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(eigrad::unsqueeze(a, 0).shape() == Shape{1, 2, 3});
  CHECK(eigrad::unsqueeze(a, 1).shape() == Shape{2, 1, 3});
  CHECK(eigrad::unsqueeze(a, 2).shape() == Shape{2, 3, 1});
  CHECK(eigrad::unsqueeze(a, -1).shape() == Shape{2, 3, 1});
  CHECK(eigrad::unsqueeze(a, -3).shape() == Shape{1, 2, 3});
  CHECK(eigrad::unsqueeze(DoubleTensor::scalar(2), 0).shape() == Shape{1});
  CHECK(eigrad::unsqueeze(a, 1).data() == a.data());  // shares storage
  CHECK(eigrad::unsqueeze(a, 1).to_vector() == a.to_vector());

  const DoubleTensor b = DoubleTensor::zeros({1, 2, 1, 3, 1});
  CHECK(eigrad::squeeze(b).shape() == Shape{2, 3});
  CHECK(eigrad::squeeze(b, 0).shape() == Shape{2, 1, 3, 1});
  CHECK(eigrad::squeeze(b, 2).shape() == Shape{1, 2, 3, 1});
  CHECK(eigrad::squeeze(b, -1).shape() == Shape{1, 2, 1, 3});
  CHECK(eigrad::squeeze(b, 1).shape() == b.shape());  // not size 1: unchanged, as in PyTorch
  CHECK(eigrad::squeeze(b).data() == b.data());
  CHECK(eigrad::squeeze(DoubleTensor::ones({1, 1})).shape() == Shape{});
  CHECK(eigrad::squeeze(DoubleTensor::scalar(4), 0).item() == 4);
  CHECK(eigrad::squeeze(DoubleTensor::zeros({0, 1}), 1).shape() == Shape{0});
}

TEST_CASE("unsqueeze and squeeze pass the gradient through", "[tensor_ops]") {
  const DoubleTensor x = random_leaf({2, 1, 3}, 4), w = random_leaf({2, 1, 1, 3}, 5);
  check_gradients([](const Ts& t) { return eigrad::unsqueeze(t[0], -2) * t[1]; }, {x, w});
  check_gradients([](const Ts& t) { return eigrad::squeeze(t[0]) * 2.0; }, {x});
  check_gradients([](const Ts& t) { return eigrad::squeeze(t[0], 1) * 2.0; }, {x});
  check_gradients([](const Ts& t) { return eigrad::squeeze(t[0], 0) * 2.0; }, {x});
}

TEST_CASE("unsqueeze and squeeze reject an axis out of range", "[tensor_ops]") {
  const DoubleTensor a = DoubleTensor::zeros({2, 3});
  CHECK_THROWS_AS(eigrad::unsqueeze(a, 3), Error);
  CHECK_THROWS_WITH(eigrad::unsqueeze(a, 3), Contains("unsqueeze") && Contains("axis 3") &&
                                                 Contains("[2, 3]") && Contains("-3 to 2"));
  CHECK_THROWS_WITH(eigrad::unsqueeze(a, -4), Contains("unsqueeze") && Contains("axis -4"));
  CHECK_THROWS_WITH(
      eigrad::unsqueeze(DoubleTensor::zeros({1, 1, 1, 1, 1, 1, 1, 1}), 0),
      Contains("unsqueeze") && Contains("[1, 1, 1, 1, 1, 1, 1, 1]") && Contains("maximum"));
  CHECK_THROWS_AS(eigrad::squeeze(a, 2), Error);
  CHECK_THROWS_WITH(eigrad::squeeze(a, 2),
                    Contains("squeeze") && Contains("axis 2") && Contains("rank 2"));
  CHECK_THROWS_WITH(eigrad::squeeze(a, -3), Contains("squeeze") && Contains("axis -3"));
}

// ---------------------------------------------------------------- narrow

TEST_CASE("narrow takes a slice along one axis", "[tensor_ops]") {
  const DoubleTensor a = DoubleTensor::from({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4});
  CHECK(eigrad::narrow(a, 0, 1, 2).to_vector() == V{4, 5, 6, 7, 8, 9, 10, 11});
  const DoubleTensor cols = eigrad::narrow(a, 1, 1, 2);
  CHECK(cols.shape() == Shape{3, 2});
  CHECK(cols.to_vector() == V{1, 2, 5, 6, 9, 10});
  CHECK(eigrad::narrow(a, -1, -1, 1).to_vector() == V{3, 7, 11});  // start from the end
  CHECK(eigrad::narrow(a, 1, -4, 2).to_vector() == V{0, 1, 4, 5, 8, 9});
  CHECK(eigrad::narrow(a, 1, 4, 0).shape() == Shape{3, 0});  // start == size, length 0
  CHECK(eigrad::narrow(a, 0, 0, 3).to_vector() == a.to_vector());
  // Rank 3, middle axis.
  const DoubleTensor c = DoubleTensor::from({0, 1, 2, 3, 4, 5, 6, 7}, {2, 2, 2});
  CHECK(eigrad::narrow(c, 1, 1, 1).to_vector() == V{2, 3, 6, 7});
  CHECK(eigrad::narrow(DoubleTensor::zeros({0, 3}), 1, 1, 2).shape() == Shape{0, 2});
}

TEST_CASE("narrow's gradient goes to the slice and zero elsewhere", "[tensor_ops]") {
  DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  eigrad::sum(eigrad::narrow(x, 1, 1, 2) * 3.0).backward();
  CHECK(x.grad().to_vector() == V{0, 3, 3, 0, 3, 3});
  Generator g(6);
  for (int trial = 0; trial < 6; ++trial) {
    const int rank = 1 + static_cast<int>(g.randint(4));
    const Shape shape = random_shape(g, rank, 4);
    const int axis = static_cast<int>(g.randint(static_cast<uint64_t>(rank)));
    const int64_t n = shape[axis];
    const int64_t length = 1 + static_cast<int64_t>(g.randint(static_cast<uint64_t>(n)));
    const int64_t start = static_cast<int64_t>(g.randint(static_cast<uint64_t>(n - length + 1))) -
                          (trial % 2 ? n : 0);  // negative on odd trials
    INFO("shape " << shape.str() << " axis " << axis << " start " << start << " length " << length);
    check_gradients(
        [axis, start, length](const Ts& t) { return eigrad::narrow(t[0], axis, start, length); },
        {random_leaf(shape, 40 + trial)});
  }
}

TEST_CASE("narrow rejects slices out of range", "[tensor_ops]") {
  const DoubleTensor a = DoubleTensor::zeros({3, 4});
  CHECK_THROWS_AS(eigrad::narrow(a, 1, 3, 2), Error);
  CHECK_THROWS_WITH(eigrad::narrow(a, 1, 3, 2), Contains("narrow") && Contains("[3, 4]") &&
                                                    Contains("axis 1") &&
                                                    Contains("2 entries from 3"));
  CHECK_THROWS_WITH(eigrad::narrow(a, 1, 5, 0), Contains("narrow") && Contains("[-4, 4]"));
  CHECK_THROWS_WITH(eigrad::narrow(a, 1, -5, 1), Contains("narrow") && Contains("[3, 4]"));
  CHECK_THROWS_WITH(eigrad::narrow(a, 0, -1, 2), Contains("narrow") && Contains("[3, 4]"));
  CHECK_THROWS_WITH(eigrad::narrow(a, 0, 0, -1), Contains("narrow") && Contains("-1 entries"));
  CHECK_THROWS_WITH(eigrad::narrow(a, 2, 0, 1),
                    Contains("narrow") && Contains("axis 2") && Contains("rank 2"));
  CHECK_THROWS_WITH(eigrad::narrow(DoubleTensor::scalar(1), 0, 0, 1),
                    Contains("narrow") && Contains("rank-0"));
}

// ---------------------------------------------------------------- pad

TEST_CASE("pad adds constant borders from the last axis and crops with negative amounts",
          "[tensor_ops]") {
  const DoubleTensor a = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  const DoubleTensor p1 = eigrad::pad(a, {1, 2});
  CHECK(p1.shape() == Shape{2, 6});
  CHECK(p1.to_vector() == V{0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0, 0});
  const DoubleTensor p2 = eigrad::pad(a, {0, 0, 1, 0}, 9.0);
  CHECK(p2.shape() == Shape{3, 3});
  CHECK(p2.to_vector() == V{9, 9, 9, 1, 2, 3, 4, 5, 6});
  CHECK(eigrad::pad(a, {-1, 0}).to_vector() == V{2, 3, 5, 6});
  CHECK(eigrad::pad(a, {-1, 1, 0, -1}, 7.0).to_vector() == V{2, 3, 7});
  CHECK(eigrad::pad(a, {}).to_vector() == a.to_vector());
  CHECK(eigrad::pad(a, {-3, 0}).shape() == Shape{2, 0});  // size 0 is allowed
  CHECK(eigrad::pad(a, {-5, 3}).shape() == Shape{2, 1});
  CHECK(eigrad::pad(a, {-5, 3}).to_vector() == V{0, 0});
  CHECK(eigrad::pad(DoubleTensor::zeros({0}), {1, 1}, 2.0).to_vector() == V{2, 2});
  CHECK(eigrad::pad(DoubleTensor::scalar(5), {}).item() == 5);
}

TEST_CASE("pad matches a naive reference on random shapes and amounts", "[tensor_ops]") {
  Generator g(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int rank = static_cast<int>(g.randint(5));
    const Shape shape = random_shape(g, rank, 4);
    std::vector<int64_t> amounts(2 * g.randint(static_cast<uint64_t>(rank + 1)));
    for (size_t p = 0; p < amounts.size(); ++p) {
      const int64_t n = shape[rank - 1 - static_cast<int>(p / 2)];
      amounts[p] = static_cast<int64_t>(g.randint(4)) - static_cast<int64_t>(g.randint(3));
      if (p % 2 && n + amounts[p - 1] + amounts[p] < 0) amounts[p] = -n - amounts[p - 1];
    }
    const DoubleTensor a = random_leaf(shape, 200 + trial).detach();
    Shape expected_shape;
    const V expected = reference_pad(a, amounts, -0.5, expected_shape);
    const DoubleTensor out = eigrad::pad(a, amounts, -0.5);
    INFO("shape " << shape.str() << " pad " << amounts.size());
    REQUIRE(out.shape() == expected_shape);
    CHECK(out.to_vector() == expected);
  }
}

TEST_CASE("pad's gradient is the gradient of the kept part", "[tensor_ops]") {
  DoubleTensor x = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3}, true);
  eigrad::sum(eigrad::pad(x, {-1, 2, 1, 0}, 5.0) * 2.0).backward();
  CHECK(x.grad().to_vector() == V{0, 2, 2, 0, 2, 2});  // the cropped column gets none
  Generator g(8);
  for (int trial = 0; trial < 6; ++trial) {
    const int rank = 1 + static_cast<int>(g.randint(4));
    const Shape shape = random_shape(g, rank, 4);
    std::vector<int64_t> amounts;
    for (int d = rank - 1; d >= 0 && amounts.size() < 4; --d) {
      const int64_t before = static_cast<int64_t>(g.randint(3)) - 1;
      amounts.push_back(before);
      amounts.push_back(
          std::max<int64_t>(1 - shape[d] - before, static_cast<int64_t>(g.randint(3)) - 1));
    }
    INFO("shape " << shape.str());
    check_gradients([amounts](const Ts& t) { return eigrad::pad(t[0], amounts, 1.5); },
                    {random_leaf(shape, 50 + trial)});
  }
}

TEST_CASE("pad rejects an odd or too long list and negative sizes", "[tensor_ops]") {
  const DoubleTensor a = DoubleTensor::zeros({2, 3});
  CHECK_THROWS_AS(eigrad::pad(a, {1}), Error);
  CHECK_THROWS_WITH(eigrad::pad(a, {1, 2, 3}), Contains("pad") && Contains("even") &&
                                                   Contains("[2, 3]") &&
                                                   Contains("got 3: [1, 2, 3]"));
  CHECK_THROWS_WITH(eigrad::pad(a, {1, 1, 1, 1, 1, 1}),
                    Contains("pad") && Contains("[2, 3]") && Contains("at most 4"));
  CHECK_THROWS_WITH(eigrad::pad(DoubleTensor::scalar(1), {0, 0}),
                    Contains("pad") && Contains("at most 0"));
  CHECK_THROWS_WITH(eigrad::pad(a, {-2, -2}),
                    Contains("pad") && Contains("axis 1 of shape [2, 3]") &&
                        Contains("by -2 and -2") && Contains("negative size"));
  CHECK_THROWS_WITH(eigrad::pad(a, {0, 0, -3, 0}),
                    Contains("pad") && Contains("axis 0") && Contains("negative size"));
  const int64_t huge = std::numeric_limits<int64_t>::max();
  CHECK_THROWS_WITH(eigrad::pad(a, {huge, huge}), Contains("pad") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(eigrad::pad(a, {huge / 2, 0, huge / 2, 0}),
                    Contains("pad") && Contains("2^63 - 1"));
}

// ---------------------------------------------------------------- min and max

TEST_CASE("max and min over all elements", "[tensor_ops]") {
  const DoubleTensor a = DoubleTensor::from({3, -1, 7, 2, 7, -4}, {2, 3});
  CHECK(eigrad::max(a).shape() == Shape{});
  CHECK(eigrad::max(a).item() == 7);
  CHECK(eigrad::min(a).item() == -4);
  CHECK(eigrad::max(DoubleTensor::scalar(-2)).item() == -2);
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(eigrad::min(DoubleTensor::from({1, -inf, 3})).item() == -inf);
  // NaN propagates, wherever it is.
  CHECK(std::isnan(eigrad::max(DoubleTensor::from({1, kNan, 3})).item()));
  CHECK(std::isnan(eigrad::min(DoubleTensor::from({kNan, 1, 3})).item()));
  CHECK(std::isnan(eigrad::max(DoubleTensor::from({1, 3, kNan})).item()));
}

TEST_CASE("max and min over all elements share the gradient evenly among ties", "[tensor_ops]") {
  DoubleTensor x = DoubleTensor::from({3, -1, 7, 2, 7, 7}, {2, 3}, true);
  (eigrad::max(x) * 6.0).backward();
  CHECK(x.grad().to_vector() == V{0, 0, 2, 0, 2, 2});
  x.zero_grad();
  (eigrad::min(x) * 6.0).backward();
  CHECK(x.grad().to_vector() == V{0, 6, 0, 0, 0, 0});
  // NaN is the extreme: the NaN entries share the gradient (PyTorch 1.13).
  DoubleTensor y = DoubleTensor::from({kNan, 1, kNan, 5}, {4}, true);
  eigrad::max(y).backward();
  CHECK(y.grad().to_vector() == V{0.5, 0, 0.5, 0});
  y.zero_grad();
  eigrad::min(y).backward();
  CHECK(y.grad().to_vector() == V{0.5, 0, 0.5, 0});
  Generator g(9);
  for (int trial = 0; trial < 4; ++trial) {
    const Shape shape = random_shape(g, 1 + trial, 4);  // distinct values: no ties
    check_gradients([](const Ts& t) { return eigrad::max(t[0]); },
                    {random_leaf(shape, 60 + trial)});
    check_gradients([](const Ts& t) { return eigrad::min(t[0]); },
                    {random_leaf(shape, 70 + trial)});
  }
}

TEST_CASE("max and min of an empty tensor are errors", "[tensor_ops]") {
  CHECK_THROWS_AS(eigrad::max(DoubleTensor::zeros({2, 0})), Error);
  CHECK_THROWS_WITH(eigrad::max(DoubleTensor::zeros({2, 0})),
                    Contains("max") && Contains("empty") && Contains("[2, 0]"));
  CHECK_THROWS_WITH(eigrad::min(DoubleTensor::zeros({0})),
                    Contains("min") && Contains("empty") && Contains("[0]"));
}

TEST_CASE("min and argmin pick the first minimum along an axis", "[tensor_ops]") {
  const DoubleTensor a = DoubleTensor::from({4, 1, 1, 0, 2, 0}, {2, 3});
  CHECK(eigrad::min(a, 1).to_vector() == V{1, 0});
  CHECK(eigrad::min(a, 0).to_vector() == V{0, 1, 0});
  CHECK(eigrad::min(a, -1, true).shape() == Shape{2, 1});
  CHECK(eigrad::argmin(a, 1).to_vector() == std::vector<int64_t>{1, 0});
  CHECK(eigrad::argmin(a, 0).to_vector() == std::vector<int64_t>{1, 0, 1});
  CHECK(eigrad::argmin(a, -2).to_vector() == std::vector<int64_t>{1, 0, 1});
  // Rank 3 along the middle axis: a[i, :, k].
  const DoubleTensor c = DoubleTensor::from({5, 1, 2, 8, 3, 0, 9, 7, 6, 4, 1, 6}, {2, 3, 2});
  CHECK(eigrad::min(c, 1).to_vector() == V{2, 0, 1, 4});
  CHECK(eigrad::argmin(c, 1).to_vector() == std::vector<int64_t>{1, 2, 2, 1});
  CHECK(eigrad::max(c, 1).to_vector() == V{5, 8, 9, 7});
  CHECK(eigrad::argmax(c, 1).to_vector() == std::vector<int64_t>{0, 1, 0, 0});
  // NaN counts as the extreme for both.
  const DoubleTensor n = DoubleTensor::from({1, kNan, -5, kNan}, {4});
  CHECK(std::isnan(eigrad::min(n, 0).item()));
  CHECK(eigrad::argmin(n, 0).to_vector() == std::vector<int64_t>{1});
  CHECK(eigrad::argmax(n, 0).to_vector() == std::vector<int64_t>{1});
  CHECK(eigrad::min(DoubleTensor::scalar(3), 0).item() == 3);
  CHECK(eigrad::argmin(DoubleTensor::scalar(3), -1).to_vector() == std::vector<int64_t>{0});
  // The gradient goes to the first minimum.
  DoubleTensor x = DoubleTensor::from({4, 1, 1, 0, 2, 0}, {2, 3}, true);
  eigrad::sum(eigrad::min(x, 1)).backward();
  CHECK(x.grad().to_vector() == V{0, 1, 0, 1, 0, 0});
  check_gradients([](const Ts& t) { return eigrad::min(t[0], 1); }, {random_leaf({3, 4, 2}, 80)});
  check_gradients([](const Ts& t) { return eigrad::min(t[0], -3, true); },
                  {random_leaf({3, 4, 2}, 81)});
}

TEST_CASE("min and argmin along an empty axis or a bad axis are errors", "[tensor_ops]") {
  const DoubleTensor e = DoubleTensor::zeros({2, 0});
  CHECK_THROWS_AS(eigrad::min(e, 1), Error);
  CHECK_THROWS_WITH(eigrad::min(e, 1), Contains("min") && Contains("[2, 0]") && Contains("empty"));
  CHECK_THROWS_WITH(eigrad::argmin(e, 1),
                    Contains("argmin") && Contains("[2, 0]") && Contains("empty"));
  CHECK_THROWS_WITH(eigrad::min(DoubleTensor::zeros({2, 3}), 2),
                    Contains("min") && Contains("axis 2") && Contains("rank 2"));
  CHECK_THROWS_WITH(eigrad::argmin(DoubleTensor::zeros({2, 3}), -3),
                    Contains("argmin") && Contains("axis -3") && Contains("rank 2"));
}

// ---------------------------------------------------------------- comparisons and where

TEST_CASE("comparisons give bool tensors, true where they hold, with broadcasting",
          "[tensor_ops]") {
  const DoubleTensor a = DoubleTensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
  const DoubleTensor b = DoubleTensor::from({2, 2, 7}, {3});
  CHECK(eigrad::eq(a, b).to_vector() == B{false, true, false, false, false, false});
  CHECK(eigrad::ne(a, b).to_vector() == B{true, false, true, true, true, true});
  CHECK(eigrad::lt(a, b).to_vector() == B{true, false, true, false, false, true});
  CHECK(eigrad::le(a, b).to_vector() == B{true, true, true, false, false, true});
  CHECK(eigrad::gt(a, b).to_vector() == B{false, false, false, true, true, false});
  CHECK(eigrad::ge(a, b).to_vector() == B{false, true, false, true, true, false});
  const DoubleTensor col = DoubleTensor::from({2, 5}, {2, 1});
  CHECK(eigrad::ge(col, b).shape() == Shape{2, 3});
  CHECK(eigrad::ge(col, b).to_vector() == B{true, true, false, true, true, false});
  CHECK(eigrad::eq(a, 3.0).to_vector() == B{false, false, true, false, false, false});
  CHECK(eigrad::ne(a, 3.0).to_vector() == B{true, true, false, true, true, true});
  CHECK(eigrad::lt(a, 3.0).to_vector() == B{true, true, false, false, false, false});
  CHECK(eigrad::le(a, 3.0).to_vector() == B{true, true, true, false, false, false});
  CHECK(eigrad::gt(a, 3.0).to_vector() == B{false, false, false, true, true, true});
  CHECK(eigrad::ge(a, 3.0).to_vector() == B{false, false, true, true, true, true});
  // NaN compares unequal to everything, itself included.
  const DoubleTensor n = DoubleTensor::from({kNan, 1});
  CHECK(eigrad::eq(n, n).to_vector() == B{false, true});
  CHECK(eigrad::ne(n, n).to_vector() == B{true, false});
  CHECK(eigrad::le(n, 1.0).to_vector() == B{false, true});
  CHECK(eigrad::gt(n, kNan).to_vector() == B{false, false});
}

TEST_CASE("comparisons are never part of the graph", "[tensor_ops]") {
  const DoubleTensor x = random_leaf({2, 3}, 90), y = random_leaf({3}, 91);
  for (const BoolTensor& r : {eigrad::lt(x, y), eigrad::eq(x, 0.5), eigrad::ge(y, x)}) {
    CHECK(r.dtype() == std::string("bool"));
    CHECK(!r.requires_grad());
    CHECK(r.is_leaf());
  }
}

TEST_CASE("comparisons reject shapes that do not broadcast", "[tensor_ops]") {
  const DoubleTensor a = DoubleTensor::zeros({2, 3}), b = DoubleTensor::zeros({2});
  CHECK_THROWS_AS(eigrad::eq(a, b), Error);
  CHECK_THROWS_WITH(eigrad::eq(a, b), Contains("eq") && Contains("[2, 3]") && Contains("[2]"));
  CHECK_THROWS_WITH(eigrad::ne(a, b), Contains("ne: ") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(eigrad::lt(a, b), Contains("lt: ") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(eigrad::le(a, b), Contains("le: ") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(eigrad::gt(a, b), Contains("gt: ") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(eigrad::ge(a, b), Contains("ge: ") && Contains("[2, 3]"));
}

TEST_CASE("where picks from a or b by condition, broadcasting all three", "[tensor_ops]") {
  const BoolTensor cond = BoolTensor::from({true, false, true}, {3});
  const DoubleTensor a = DoubleTensor::from({1, 2}, {2, 1});
  const DoubleTensor b = DoubleTensor::from({10, 20, 30}, {3});
  const DoubleTensor w = eigrad::where(cond, a, b);
  CHECK(w.shape() == Shape{2, 3});
  CHECK(w.to_vector() == V{1, 20, 1, 2, 20, 2});
  // A NaN converts to true, as bool(nan) in PyTorch.
  CHECK(eigrad::where(DoubleTensor::from({kNan, 0}).to<bool>(), DoubleTensor::from({1, 1}),
                      DoubleTensor::from({2, 2}))
            .to_vector() == V{1, 2});
  // The usual idiom: where(x > 0, x, 0.1 x).
  const DoubleTensor x = DoubleTensor::from({-2, 3});
  CHECK(eigrad::where(eigrad::gt(x, 0.0), x, x * 0.1).to_vector() == V{-0.2, 3});
  CHECK(eigrad::where(BoolTensor::scalar(false), DoubleTensor::scalar(1), DoubleTensor::zeros({0}))
            .shape() == Shape{0});
}

TEST_CASE("where's gradients go to the chosen side, summed back to each shape", "[tensor_ops]") {
  DoubleTensor a = DoubleTensor::from({1, 2}, {2, 1}, true);
  DoubleTensor b = DoubleTensor::from({10, 20, 30}, {3}, true);
  BoolTensor cond = BoolTensor::from({true, false, true}, {3});
  eigrad::sum(eigrad::where(cond, a, b)).backward();
  CHECK(a.grad().to_vector() == V{2, 2});     // two true columns per row
  CHECK(b.grad().to_vector() == V{0, 2, 0});  // the false column, two rows
  Generator g(10);
  for (int trial = 0; trial < 5; ++trial) {
    const Shape shape = random_shape(g, 1 + trial % 3, 3);
    // Each operand: the full shape with some axes of size 1 and leading axes dropped.
    const auto part = [&](uint64_t seed) {
      Shape s;
      const int drop = static_cast<int>(g.randint(static_cast<uint64_t>(shape.rank()) + 1));
      for (int d = drop; d < shape.rank(); ++d) s.push_back(g.randint(2) ? shape[d] : 1);
      return random_leaf(s, seed);
    };
    const BoolTensor c = eigrad::gt(part(100 + trial), 0.0);
    INFO("shape " << shape.str() << " condition " << c.shape().str());
    check_gradients([c](const Ts& t) { return eigrad::where(c, t[0], t[1]); },
                    {part(110 + trial), part(120 + trial)});
  }
  // The condition is not part of the graph: with a and b constant nothing is recorded.
  const DoubleTensor r = eigrad::where(cond, DoubleTensor::ones({3}), DoubleTensor::zeros({3}));
  CHECK(!r.requires_grad());
}

TEST_CASE("where rejects shapes that do not broadcast together", "[tensor_ops]") {
  const BoolTensor c = BoolTensor::zeros({2, 1});
  const DoubleTensor a = DoubleTensor::zeros({3}), b = DoubleTensor::zeros({4});
  CHECK_THROWS_AS(eigrad::where(c, a, b), Error);
  CHECK_THROWS_WITH(eigrad::where(c, a, b), Contains("where") && Contains("condition [2, 1]") &&
                                                Contains("a [3]") && Contains("b [4]"));
  CHECK_THROWS_WITH(eigrad::where(BoolTensor::zeros({3}), DoubleTensor::zeros({2}), a),
                    Contains("where") && Contains("condition [3], a [2] and b [3]"));
}

// ---------------------------------------------------------------- float32

TEST_CASE("the tensor ops work in float32", "[tensor_ops]") {
  Generator g(11);
  const DoubleTensor d = DoubleTensor::uniform({2, 3, 4}, -2, 2, g);
  const Tensor f = d.to<float>().set_requires_grad();
  const auto same = [](const Tensor& a, const DoubleTensor& b) {
    return a.shape() == b.shape() && same_values(a.to<double>().to_vector(), b.to_vector());
  };
  // Copies and comparisons are exact, so float32 equals float64 rounded.
  const DoubleTensor dr = d.to<float>().to<double>();
  CHECK(same(eigrad::stack<float>({f, f}, 1), eigrad::stack<double>({dr, dr}, 1)));
  CHECK(same(eigrad::permute(f, {2, 0, 1}), eigrad::permute(dr, {2, 0, 1})));
  CHECK(same(eigrad::unsqueeze(f, 1), eigrad::unsqueeze(dr, 1)));
  CHECK(same(eigrad::squeeze(eigrad::unsqueeze(f, 0)), dr));
  CHECK(same(eigrad::narrow(f, 2, -3, 2), eigrad::narrow(dr, 2, -3, 2)));
  CHECK(same(eigrad::pad(f, {1, -1, 2, 0}, 0.5f), eigrad::pad(dr, {1, -1, 2, 0}, 0.5)));
  CHECK(same(eigrad::max(f), eigrad::max(dr)));
  CHECK(same(eigrad::min(f, 1, true), eigrad::min(dr, 1, true)));
  CHECK(eigrad::equal(eigrad::argmin(f, 2), eigrad::argmin(dr, 2)));
  CHECK(eigrad::equal(eigrad::lt(f, 0.5f), eigrad::lt(dr, 0.5)));
  CHECK(
      same(eigrad::where(eigrad::gt(f, 0.0f), f, -f), eigrad::where(eigrad::gt(dr, 0.0), dr, -dr)));
  // A backward through all of them.
  Tensor y = eigrad::sum(eigrad::where(eigrad::gt(f, 0.0f), f, f * 2.0f)) +
             eigrad::max(eigrad::permute(f, {1, 2, 0})) +
             eigrad::sum(eigrad::pad(eigrad::narrow(f, 0, 1, 1), {1, 1})) +
             eigrad::sum(eigrad::min(eigrad::stack<float>({f, f}, -1), 0));
  y.backward();
  REQUIRE(f.grad().defined());
  CHECK(f.grad().shape() == f.shape());
  CHECK(f.grad().array().allFinite());
}

TEST_CASE("cat and stack take a braced list of tensors and deduce its element type",
          "[tensor_ops]") {
  const Tensor a = Tensor::from({1.f, 2.f}), b = Tensor::from({3.f});
  CHECK(eigrad::cat({a, b}).to_vector() == std::vector<float>{1, 2, 3});
  const DoubleTensor c = DoubleTensor::from({1.0, 2.0}), d = DoubleTensor::from({3.0, 4.0});
  const DoubleTensor s = eigrad::stack({c, d}, 1);
  CHECK(s.shape() == Shape{2, 2});
  CHECK(s.to_vector() == std::vector<double>{1, 3, 2, 4});
}
