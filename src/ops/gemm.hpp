#pragma once
// The one door to matrix products for every op (matmul, linear, convolution). It calls Eigen's
// GEMM kernel directly rather than through `dst.noalias() = a * b`, for two reasons:
//  - threads: a product large enough is split into row or column blocks over eigrad's threads
//    (eigrad::num_threads), each block one single-threaded kernel call. Through the expression
//    API, Eigen would decide alone from its process-wide Eigen::setNbThreads, which belongs to the
//    program eigrad is a guest in, not to eigrad.
//  - accumulation: C += op(A) op(B) writes into C directly, without a temporary.
#include <cstdint>

namespace eigrad::detail {

// A row-major matrix operand: `data` holds `rows` x `cols` values with `stride` between rows;
// `transposed` means the product reads its transpose ([cols, rows]).
template <class T>
struct GemmOperand {
  const T* data;
  int64_t rows, cols;
  bool transposed = false;
  int64_t stride = -1;  // -1: contiguous (cols)

  int64_t op_rows() const { return transposed ? cols : rows; }
  int64_t op_cols() const { return transposed ? rows : cols; }
};

template <class T>
GemmOperand<T> operand(const T* data, int64_t rows, int64_t cols) {
  return {data, rows, cols, false, cols};
}
template <class T>
GemmOperand<T> transposed(const T* data, int64_t rows, int64_t cols) {
  return {data, rows, cols, true, cols};
}

// C [m, n] (row-major, contiguous) = op(A) op(B), or += with `accumulate`. op(A) is [m, k] and
// op(B) [k, n]; the caller has checked the shapes. Runs on up to eigrad::num_threads() threads
// when the product is large enough (kGemmFlopsPerThread each), on the calling thread inside an
// OpenMP parallel region.
template <class T>
void gemm(const GemmOperand<T>& a, const GemmOperand<T>& b, T* c, bool accumulate);

// A thread is worth starting for at least this many flops (2 m n k) of product: below it, the
// fork and join and the second packing of the shared operand cost more than they save
// (bench/bench_threads, "matmul [128,k]x[k,128]"; BENCHMARKS.md, "Figures behind the code").
constexpr int64_t kGemmFlopsPerThread = int64_t{1} << 21;

}  // namespace eigrad::detail
