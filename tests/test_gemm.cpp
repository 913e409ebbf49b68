// The matrix-product door (src/ops/gemm.hpp): every transposition, blocks split over threads
// with a remainder, accumulation, thin, vector and tiny shapes, and calls from inside a parallel
// region, all against a naive triple loop in double precision.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "ops/gemm.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using eigrad::detail::GemmOperand;

struct Threads {
  explicit Threads(int n) : saved(eigrad::num_threads()) { eigrad::set_num_threads(n); }
  ~Threads() { eigrad::set_num_threads(saved); }
  int saved;
};

std::vector<float> random_values(int64_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = u(gen);
  return v;
}

// op(S)[i][j] for a row-major stored S read as given.
float at(const GemmOperand<float>& s, int64_t i, int64_t j) {
  return s.transposed ? s.data[j * s.stride + i] : s.data[i * s.stride + j];
}

// Checks gemm(a, b) against the loop, with C starting at `c0` (kept when accumulating).
void check(const GemmOperand<float>& a, const GemmOperand<float>& b, bool accumulate) {
  const int64_t m = a.op_rows(), k = a.op_cols(), n = b.op_cols();
  std::vector<float> c = random_values(m * n, 7), c0 = c;
  eigrad::detail::gemm(a, b, c.data(), accumulate);
  double worst = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double want = accumulate ? c0[static_cast<size_t>(i * n + j)] : 0.0;
      for (int64_t p = 0; p < k; ++p) want += double(at(a, i, p)) * double(at(b, p, j));
      worst = std::max(worst, std::abs(want - c[static_cast<size_t>(i * n + j)]));
    }
  INFO("m " << m << ", n " << n << ", k " << k << (a.transposed ? ", A^T" : "")
            << (b.transposed ? ", B^T" : "") << (accumulate ? ", +=" : ""));
  CHECK(worst <= 1e-5 * double(k));
}

// op(A) [m, k] and op(B) [k, n] stored as given, for every transposition.
void check_all(int64_t m, int64_t n, int64_t k) {
  const std::vector<float> a = random_values(m * k, 1), b = random_values(k * n, 2);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (bool acc : {false, true}) {
        const GemmOperand<float> A = ta ? eigrad::detail::transposed(a.data(), k, m)
                                        : eigrad::detail::operand(a.data(), m, k);
        const GemmOperand<float> B = tb ? eigrad::detail::transposed(b.data(), n, k)
                                        : eigrad::detail::operand(b.data(), k, n);
        check(A, B, acc);
      }
}

}  // namespace

TEST_CASE("gemm matches a naive product for every transposition, on one thread and split",
          "[gemm]") {
  for (int threads : {1, 2, 3}) {
    Threads t(threads);
    // Large enough to split (2 m n k well above kGemmFlopsPerThread), by rows and by columns,
    // with sizes that leave a remainder block.
    check_all(203, 77, 129);
    check_all(40, 301, 97);
    // The MLP's shapes.
    check_all(128, 256, 64);
    // Thin products (a side of at most 4), each layout: the spiral network's shapes, and one
    // that no thin loop suits in some layouts.
    check_all(300, 64, 2);
    check_all(300, 3, 64);
    check_all(3, 64, 300);
    check_all(64, 2, 300);
    check_all(5, 3, 40);
    // Vectors (Eigen's GEMV) and tiny products (coefficient-based).
    check_all(1, 50, 33);
    check_all(50, 1, 33);
    check_all(3, 4, 5);
  }
}

TEST_CASE("gemm with an empty inner size writes zeros, or keeps C when accumulating", "[gemm]") {
  std::vector<float> c = {1, 2, 3, 4, 5, 6};
  const float none = 0;
  eigrad::detail::gemm(eigrad::detail::operand(&none, 2, 0), eigrad::detail::operand(&none, 0, 3),
                       c.data(), true);
  CHECK(c == std::vector<float>{1, 2, 3, 4, 5, 6});
  eigrad::detail::gemm(eigrad::detail::operand(&none, 2, 0), eigrad::detail::operand(&none, 0, 3),
                       c.data(), false);
  CHECK(c == std::vector<float>(6, 0.0f));
}

TEST_CASE("gemm called from inside a parallel region computes each thread's product",
          "[gemm][threads]") {
  Threads t(2);
  const int64_t m = 150, n = 90, k = 120;
  const std::vector<float> a = random_values(m * k, 3), b = random_values(k * n, 4);
  std::vector<std::vector<float>> c(2, std::vector<float>(static_cast<size_t>(m * n)));
#ifdef _OPENMP
#pragma omp parallel for num_threads(2)
#endif
  for (int i = 0; i < 2; ++i)
    eigrad::detail::gemm(eigrad::detail::operand(a.data(), m, k),
                         eigrad::detail::operand(b.data(), k, n), c[static_cast<size_t>(i)].data(),
                         false);
  for (int64_t i = 0; i < m; i += 37)
    for (int64_t j = 0; j < n; j += 11) {
      double want = 0;
      for (int64_t p = 0; p < k; ++p)
        want +=
            double(a[static_cast<size_t>(i * k + p)]) * double(b[static_cast<size_t>(p * n + j)]);
      CHECK(c[0][static_cast<size_t>(i * n + j)] == Approx(want).margin(1e-4));
      CHECK(c[1][static_cast<size_t>(i * n + j)] == Approx(want).margin(1e-4));
    }
}

TEST_CASE("eigrad leaves Eigen's own thread count to the program", "[gemm]") {
  const int before = Eigen::nbThreads();
  Eigen::setNbThreads(3);                 // the program's choice, for its own Eigen products
  const int chosen = Eigen::nbThreads();  // 3, or 1 without OpenMP
  {
    Threads t(1);
    eigrad::Generator gen(1);
    const eigrad::Tensor a = eigrad::Tensor::uniform({200, 150}, -1, 1, gen);
    CHECK(eigrad::matmul(a, eigrad::transpose(a, 0, 1)).shape() == eigrad::Shape{200, 200});
    eigrad::set_num_threads(2);
    CHECK(eigrad::matmul(a, eigrad::transpose(a, 0, 1)).shape() == eigrad::Shape{200, 200});
  }
  CHECK(Eigen::nbThreads() == chosen);
  Eigen::setNbThreads(before);
}
