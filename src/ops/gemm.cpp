#include "gemm.hpp"

#include <algorithm>

#include "eigrad/eigen.hpp"
#include "parallel_for.hpp"

namespace eigrad::detail {

namespace {

using Eigen::ColMajor;
using Eigen::Dynamic;
using Eigen::Index;
using Eigen::RowMajor;

// C += op(A) op(B) on the calling thread, in Eigen's blocked kernel (Goto's algorithm; what
// `noalias() +=` runs for these shapes, without its threading). ld*: the stride between rows of
// the stored, row-major matrices.
template <class T, int LhsOrder, int RhsOrder>
void kernel(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T* c,
            int64_t ldc) {
  namespace internal = Eigen::internal;
  internal::gemm_blocking_space<RowMajor, T, T, Dynamic, Dynamic, Dynamic> blocking(m, n, k, 1,
                                                                                    true);
  internal::general_matrix_matrix_product<Index, T, LhsOrder, false, T, RhsOrder, false, RowMajor,
                                          1>::run(m, n, k, a, lda, b, ldb, c, 1, ldc, T(1),
                                                  blocking, nullptr);
}

// A stored row-major [rows, cols] read as itself is a row-major operand; read transposed, the
// same memory is a column-major one.
template <class T>
void kernel(const GemmOperand<T>& a, const GemmOperand<T>& b, int64_t m, int64_t n, int64_t k, T* c,
            int64_t ldc) {
  if (!a.transposed && !b.transposed)
    kernel<T, RowMajor, RowMajor>(m, n, k, a.data, a.stride, b.data, b.stride, c, ldc);
  else if (!a.transposed)
    kernel<T, RowMajor, ColMajor>(m, n, k, a.data, a.stride, b.data, b.stride, c, ldc);
  else if (!b.transposed)
    kernel<T, ColMajor, RowMajor>(m, n, k, a.data, a.stride, b.data, b.stride, c, ldc);
  else
    kernel<T, ColMajor, ColMajor>(m, n, k, a.data, a.stride, b.data, b.stride, c, ldc);
}

// Products Eigen does not send to its blocked kernel (a vector operand: GEMV; tiny sizes:
// coefficient by coefficient), through the expression API. Neither path is threaded by Eigen.
template <class T>
void small_product(const GemmOperand<T>& a, const GemmOperand<T>& b, T* c, int64_t m, int64_t n,
                   bool accumulate) {
  using Stored =
      Eigen::Map<const Eigen::Matrix<T, Dynamic, Dynamic, RowMajor>, 0, Eigen::OuterStride<>>;
  Eigen::Map<Eigen::Matrix<T, Dynamic, Dynamic, RowMajor>> C(c, m, n);
  const Stored A(a.data, a.rows, a.cols, Eigen::OuterStride<>(a.stride));
  const Stored B(b.data, b.rows, b.cols, Eigen::OuterStride<>(b.stride));
  const auto run = [&](const auto& lhs, const auto& rhs) {
    if (accumulate)
      C.noalias() += lhs * rhs;
    else
      C.noalias() = lhs * rhs;
  };
  if (!a.transposed && !b.transposed)
    run(A, B);
  else if (!a.transposed)
    run(A, B.transpose());
  else if (!b.transposed)
    run(A.transpose(), B);
  else
    run(A.transpose(), B.transpose());
}

// Thin products (a side of at most kThin: a [300, 2] x [2, 64] first layer, a [300, 64] x
// [64, 3] classifier and their gradients), where the blocked kernel spends more time packing its
// operands than multiplying. Each is written as the loop that runs along a long contiguous
// axis: rows of C as sums of rows of op(B) (axpy), C's transpose the same way, or dot products
// of contiguous rows. Returns false for a layout none of them suits.
constexpr int64_t kThin = 4;

template <class T>
using Row = Eigen::Map<Eigen::Array<T, 1, Dynamic>>;
template <class T>
using ConstRow = Eigen::Map<const Eigen::Array<T, 1, Dynamic>>;

// C [m, n] += op(A) B for B stored row-major [k, n] with row stride ldb.
// Columns go in strips of kStrip, whose sum stays in registers over the k rows of B.
template <class T>
void rows_as_sums(const GemmOperand<T>& a, const T* b, int64_t ldb, T* c, int64_t m, int64_t n,
                  int64_t k) {
  constexpr int64_t kStrip = 64 / sizeof(T) * 4;  // four AVX-512 registers
  using Strip = Eigen::Array<T, 1, kStrip>;
  for (int64_t i = 0; i < m; ++i) {
    const auto a_at = [&](int64_t p) {
      return a.transposed ? a.data[p * a.stride + i] : a.data[i * a.stride + p];
    };
    int64_t j = 0;
    for (; j + kStrip <= n; j += kStrip) {
      Strip sum = Eigen::Map<const Strip>(c + i * n + j);
      for (int64_t p = 0; p < k; ++p) sum += a_at(p) * Eigen::Map<const Strip>(b + p * ldb + j);
      Eigen::Map<Strip>(c + i * n + j) = sum;
    }
    if (j < n) {
      Row<T> ci(c + i * n + j, n - j);
      for (int64_t p = 0; p < k; ++p) ci += a_at(p) * ConstRow<T>(b + p * ldb + j, n - j);
    }
  }
}

template <class T>
bool thin_product(const GemmOperand<T>& a, const GemmOperand<T>& b, T* c, int64_t m, int64_t n,
                  int64_t k, bool accumulate) {
  if (!accumulate) std::fill(c, c + m * n, T(0));
  if (!b.transposed && n >= 16) {  // rows of C from rows of B
    rows_as_sums(a, b.data, b.stride, c, m, n, k);
    return true;
  }
  if (a.transposed && m >= 16) {  // C^T = op(B)^T A^T, rows of C^T from rows of A
    Eigen::Array<T, Dynamic, 1> ct = Eigen::Array<T, Dynamic, 1>::Zero(n * m);
    const GemmOperand<T> bt{b.data, b.rows, b.cols, !b.transposed, b.stride};
    rows_as_sums(bt, a.data, a.stride, ct.data(), n, m, k);
    Eigen::Map<Eigen::Matrix<T, Dynamic, Dynamic, RowMajor>>(c, m, n) +=
        Eigen::Map<Eigen::Matrix<T, Dynamic, Dynamic, RowMajor>>(ct.data(), n, m).transpose();
    return true;
  }
  if (!a.transposed && b.transposed && k >= 16) {  // dot products of contiguous rows
    for (int64_t i = 0; i < m; ++i) {
      const ConstRow<T> ai(a.data + i * a.stride, k);
      for (int64_t j = 0; j < n; ++j)
        c[i * n + j] += (ai * ConstRow<T>(b.data + j * b.stride, k)).sum();
    }
    return true;
  }
  if (b.transposed && n >= 16) {  // a small op(B): copied row-major, then rows of C
    Eigen::Matrix<T, Dynamic, Dynamic, RowMajor> bb =
        Eigen::Map<const Eigen::Matrix<T, Dynamic, Dynamic, RowMajor>, 0, Eigen::OuterStride<>>(
            b.data, n, k, Eigen::OuterStride<>(b.stride))
            .transpose();
    rows_as_sums(a, bb.data(), n, c, m, n, k);
    return true;
  }
  return false;
}

int threads_for(int64_t m, int64_t n, int64_t k) {
#ifdef _OPENMP
  if (omp_in_parallel()) return 1;  // an op already split its work (convolution's batch)
  const int64_t by_work = 2 * m * n * k / kGemmFlopsPerThread;
  const int64_t by_size = std::max(m, n) / 16;  // a block of at least 16 rows or columns
  return static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>({num_threads(), by_work, by_size})));
#else
  (void)m, (void)n, (void)k;
  return 1;
#endif
}

}  // namespace

template <class T>
void gemm(const GemmOperand<T>& a, const GemmOperand<T>& b, T* c, bool accumulate) {
  const int64_t m = a.op_rows(), k = a.op_cols(), n = b.op_cols();
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate) std::fill(c, c + m * n, T(0));
    return;
  }
  if (m == 1 || n == 1 || m + n + k < 20) return small_product(a, b, c, m, n, accumulate);
  if (std::min({m, n, k}) <= kThin && thin_product(a, b, c, m, n, k, accumulate)) return;
  if (!accumulate) std::fill(c, c + m * n, T(0));
  const int threads = threads_for(m, n, k);
  if (threads == 1) return kernel(a, b, m, n, k, c, n);
#ifdef _OPENMP
  // Split C along its longer side into one block per thread, 16-aligned. A block of rows reads
  // rows of op(A) (columns of A when it is transposed); a block of columns, columns of op(B).
  const bool by_rows = m >= n;
  const int64_t size = by_rows ? m : n;
  const int64_t chunk = ((size + threads - 1) / threads + 15) / 16 * 16;
#pragma omp parallel num_threads(threads)
  {
    const int64_t begin = std::min<int64_t>(size, omp_get_thread_num() * chunk);
    const int64_t end = std::min<int64_t>(size, begin + chunk);
    if (begin < end) {
      GemmOperand<T> ab = a, bb = b;
      if (by_rows) {
        ab.data += a.transposed ? begin : begin * a.stride;
        kernel(ab, b, end - begin, n, k, c + begin * n, n);
      } else {
        bb.data += b.transposed ? begin * b.stride : begin;
        kernel(a, bb, m, end - begin, k, c + begin, n);
      }
    }
  }
#endif
}

template void gemm(const GemmOperand<float>&, const GemmOperand<float>&, float*, bool);
template void gemm(const GemmOperand<double>&, const GemmOperand<double>&, double*, bool);

}  // namespace eigrad::detail
