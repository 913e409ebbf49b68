#include "eigrad/shape.hpp"

#include <sstream>

#include "eigrad/error.hpp"

namespace eigrad {

Shape::Shape(std::initializer_list<int64_t> dims) {
  for (int64_t d : dims) push_back(d);
}

Shape::Shape(const std::vector<int64_t>& dims) {
  for (int64_t d : dims) push_back(d);
}

int64_t Shape::numel() const {
  int64_t n = 1;
  bool overflow = false;
  for (int64_t d : *this) {
    if (d == 0) return 0;  // whatever the other dimensions are
    overflow |= __builtin_mul_overflow(n, d, &n);
  }
  if (overflow) throw Error("Shape " + str() + ": the number of elements exceeds 2^63 - 1");
  return n;
}

void Shape::push_back(int64_t dim) {
  if (rank_ == kMaxRank)
    throw Error("Shape: rank " + std::to_string(rank_ + 1) + " exceeds the maximum rank " +
                std::to_string(kMaxRank));
  if (dim < 0)
    throw Error("Shape: dimension " + std::to_string(rank_) + " is " + std::to_string(dim) +
                "; dimensions must be non-negative");
  dims_[static_cast<size_t>(rank_++)] = dim;
}

std::string Shape::str() const {
  std::ostringstream s;
  s << '[';
  for (int i = 0; i < rank_; ++i) s << (i ? ", " : "") << dims_[static_cast<size_t>(i)];
  s << ']';
  return s.str();
}

bool operator==(const Shape& a, const Shape& b) {
  if (a.rank_ != b.rank_) return false;
  for (int i = 0; i < a.rank_; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

int normalize_axis(const char* op, int axis, int rank) {
  const int lo = rank == 0 ? -1 : -rank, hi = rank == 0 ? 0 : rank - 1;
  if (axis < lo || axis > hi)
    throw Error(std::string(op) + ": axis " + std::to_string(axis) +
                " is out of range for a tensor of rank " + std::to_string(rank) + " (expected " +
                std::to_string(lo) + " to " + std::to_string(hi) + ")");
  return axis < 0 ? axis + (rank == 0 ? 1 : rank) : axis;
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const int rank = a.rank() > b.rank() ? a.rank() : b.rank();
  Shape out;
  for (int i = 0; i < rank; ++i) {
    const int ia = i - (rank - a.rank()), ib = i - (rank - b.rank());
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      throw Error(std::string(op) + ": cannot broadcast " + a.str() + " with " + b.str() +
                  ": sizes " + std::to_string(da) + " and " + std::to_string(db) + " at axis " +
                  std::to_string(i) + " differ and neither is 1");
    out.push_back(da == 1 ? db : da);
  }
  return out;
}

}  // namespace eigrad
