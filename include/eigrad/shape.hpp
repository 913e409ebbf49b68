#pragma once
// Shape: the dimensions of a tensor, stored inline (no heap allocation on the per-op hot path).
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace eigrad {

class Shape {
 public:
  static constexpr int kMaxRank = 8;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int rank() const { return rank_; }
  int64_t operator[](int axis) const { return dims_[static_cast<size_t>(axis)]; }
  int64_t& operator[](int axis) { return dims_[static_cast<size_t>(axis)]; }
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }
  int64_t numel() const;
  void push_back(int64_t dim);
  std::vector<int64_t> vec() const { return {begin(), end()}; }
  std::string str() const;  ///< "[3, 4]"

  friend bool operator==(const Shape& a, const Shape& b);
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

/// Resolves a possibly negative axis against a rank, or throws naming the op.
int normalize_axis(const char* op, int axis, int rank);

/// NumPy broadcasting of two shapes, or throws naming the op and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

}  // namespace eigrad
