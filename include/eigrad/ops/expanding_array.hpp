#pragma once
// ExpandingArray<D>: D sizes given as one number for every axis or one number per axis, like
// libtorch's ExpandingArray: conv2d(x, w, b, /*stride=*/2) and conv2d(x, w, b, {2, 1}) both work.
// A default-constructed one is "not given" (pooling's stride then defaults to the kernel size).
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "eigrad/error.hpp"

namespace eigrad {

template <size_t D>
class ExpandingArray {
 public:
  ExpandingArray() = default;
  ExpandingArray(int64_t all) : given_(true) { values_.fill(all); }  // NOLINT: implicit on purpose
  ExpandingArray(std::initializer_list<int64_t> values) : given_(true) {
    if (values.size() == 1) {
      values_.fill(*values.begin());
    } else if (values.size() == D) {
      size_t i = 0;
      for (int64_t v : values) values_[i++] = v;
    } else {
      throw Error("ExpandingArray: expected 1 or " + std::to_string(D) + " sizes, got " +
                  std::to_string(values.size()));
    }
  }
  ExpandingArray(const std::array<int64_t, D>& values) : values_(values), given_(true) {}

  bool given() const { return given_; }
  int64_t operator[](size_t i) const { return values_[i]; }
  const std::array<int64_t, D>& values() const { return values_; }
  /// "(2, 1)", or "None" when not given, as PyTorch prints it.
  std::string str() const {
    if (!given_) return "None";
    std::string s = "(";
    for (size_t i = 0; i < D; ++i) s += (i ? ", " : "") + std::to_string(values_[i]);
    return s + (D == 1 ? ",)" : ")");
  }

 private:
  std::array<int64_t, D> values_{};
  bool given_ = false;
};

}  // namespace eigrad
