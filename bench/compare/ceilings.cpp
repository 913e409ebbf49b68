// The machine's ceilings, in plain Eigen (and the BLAS, for products), over the same bytes and
// shapes as the workloads:
//  - memory bandwidth: a streaming y = a x + b over the 2^20 floats an activation reads and
//    writes (forward: read x, write y = 8 B/elem; forward+backward adds read g, read y, write
//    the input gradient = 20 B/elem), forward+backward also from memory (caches evicted before
//    every iteration, as for the activations timed that way);
//  - GEMM: the training step's matrix products alone (3 forward, 5 backward: no input gradient
//    for the first layer), at the step's shapes, with nothing else around them;
//  - the cnn step's products alone: each convolution as one product over the whole batch
//    (im2col: weight [O, C kH kW] times columns [C kH kW, N H W]) or one per sample, whichever
//    is faster, forward, its weight gradient (output gradient times the columns transposed)
//    and, for the second, the columns' gradient (weight transposed times the output gradient);
//    the two linear layers as in the MLP step.
//    Not the im2col gathers, pooling, batch norm or activations: the same figure serves as the
//    ceiling of "cnn step" and "cnn+bn step";
//  - the LSTM and transformer steps' products alone (LstmProducts, TransformerProducts below).
// Threads: the streaming kernel splits its range over OpenMP threads; products as Products
// below says.
#include <dlfcn.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "compare.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace compare {
namespace {

using Vec = Eigen::Array<float, Eigen::Dynamic, 1>;
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Calls f(part, begin, end) on `threads` contiguous chunks of [0, n), 16-element aligned, one
// per OpenMP thread (parts past the end are skipped).
template <class F>
void split(int64_t n, int threads, F&& f) {
#ifdef _OPENMP
  if (threads > 1) {
    const int64_t chunk = ((n + threads - 1) / threads + 15) / 16 * 16;
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int part = 0; part < threads; ++part) {
      const int64_t begin = std::min<int64_t>(n, part * chunk);
      const int64_t end = std::min<int64_t>(n, begin + chunk);
      if (begin < end) f(part, begin, end);
    }
    return;
  }
#endif
  (void)threads;
  f(0, int64_t{0}, n);
}

// Eigen's own threading stays off: products are split by hand (Gemm below).
void set_threads(int) {
  Eigen::setNbThreads(1);
}

Case bandwidth(const Inputs& in, bool backward, bool from_memory = false) {
  return with_caches(backward ? kBandwidthBackward : kBandwidthForward, from_memory,
                     [&in, backward, from_memory](benchmark::State& state, int threads) {
                       set_threads(threads);
                       const int64_t n = static_cast<int64_t>(in.x.size());
                       const Eigen::Map<const Vec> x(in.x.data(), n), g(in.g.data(), n);
                       Vec y(n), gx(n);
                       for (auto _ : state) {
                         eigrad::bench::start_iteration(state, from_memory);
                         split(n, threads, [&](int, int64_t b, int64_t e) {
                           y.segment(b, e - b) = 1.5f * x.segment(b, e - b) + 0.5f;
                         });
                         if (backward)
                           split(n, threads, [&](int, int64_t b, int64_t e) {
                             gx.segment(b, e - b) =
                                 1.5f * g.segment(b, e - b) + 0.25f * y.segment(b, e - b);
                           });
                         benchmark::DoNotOptimize(y.data());
                         benchmark::DoNotOptimize(gx.data());
                         benchmark::ClobberMemory();
                       }
                       state.SetBytesProcessed(state.iterations() * n * (backward ? 20 : 8));
                     });
}

// ---- Products: each C = op(A) op(B) of row-major float matrices, computed the fastest way this
// process has at the case's thread count, chosen by timing each way on the product's own operands
// when the case starts (best of 3 after a warm-up):
//  - Eigen on one thread (its own OpenMP threading is off: Eigen::setNbThreads(1); on these
//    shapes, where one dimension is small, it split the work badly and spun its threads, which
//    made the ceiling slower at 2 threads than at 1);
//  - Eigen split by hand over the threads (OpenMP), along the largest of C's rows, C's columns and
//    the inner dimension (partial sums, then added), each part on one thread;
//  - for a per-sample layout (CnnProducts), the samples split over the threads, each product on
//    one thread, as eigrad splits a convolution's batch;
//  - the process's BLAS (cblas_sgemm, looked up at run time: with the peers built in, the
//    OpenBLAS libtorch and dlib use, with the core type scripts/bench-compare.sh chose), its
//    threads pinned to the case's count.
// So the ceiling is the fastest product available here, whichever library gives it.

// An operand: `rows` x `cols` row-major at `data` (leading dimension `cols`), used as is or
// transposed; `step` elements further on for each repetition of a repeated product.
struct Operand {
  const float* data;
  int64_t rows, cols;
  bool transposed;
  int64_t step;
  int64_t op_rows() const { return transposed ? cols : rows; }
  int64_t op_cols() const { return transposed ? rows : cols; }
};
Operand op(const Mat& m, bool transposed = false) {
  return {m.data(), m.rows(), m.cols(), transposed, 0};
}
Operand t(const Mat& m) {
  return op(m, true);
}
// Rows [r * rows, (r + 1) * rows) of m in repetition r (a per-step product over a sequence).
Operand rows_per_step(const Mat& m, int64_t rows, bool transposed = false) {
  return {m.data(), rows, m.cols(), transposed, rows * m.cols()};
}

using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*,
                            int, float, float*, int);
CblasSgemm cblas_sgemm_in_process() {
  return reinterpret_cast<CblasSgemm>(dlsym(RTLD_DEFAULT, "cblas_sgemm"));
}

enum class Way { kEigen, kEigenSplit, kEigenBatch, kBlas };
const char* way_name(Way w) {
  switch (w) {
    case Way::kEigen:
      return "Eigen";
    case Way::kEigenSplit:
      return "Eigen split";
    case Way::kEigenBatch:
      return "Eigen per thread";
    case Way::kBlas:
      return "BLAS";
  }
  return "?";
}

struct Gemm {
  Operand a, b;
  float* c;
  int64_t c_step = 0;
  int repeat = 1;
  Way way = Way::kEigen;
  std::vector<Mat> partial;  // Eigen split along the inner dimension: one sum per thread
  bool alternative = false;  // another layout of the step's product (Products::add_alternative)

  int64_t m() const { return a.op_rows(); }
  int64_t k() const { return a.op_cols(); }
  int64_t n() const { return b.op_cols(); }
  double flops() const { return 2.0 * double(m()) * double(k()) * double(n()) * repeat; }

  // C = the sum of the threads' partial results.
  void add_partials(Eigen::Map<Mat>& cm) const {
    cm = partial[0];
    for (size_t p = 1; p < partial.size(); ++p) cm += partial[p];
  }
  template <bool TA, bool TB>
  void eigen(int64_t r, int threads, float* dst, bool accumulate = false) {
    const Eigen::Map<const Mat> am(a.data + r * a.step, a.rows, a.cols);
    const Eigen::Map<const Mat> bm(b.data + r * b.step, b.rows, b.cols);
    Eigen::Map<Mat> cm(dst, m(), n());
    const auto& A = transpose_if<TA>(am);
    const auto& B = transpose_if<TB>(bm);
    if (threads <= 1) {
      if (accumulate)
        cm.noalias() += A * B;
      else
        cm.noalias() = A * B;
      return;
    }
    const int64_t M = m(), N = n(), K = k();
    if (K > M && K > N) {
      // Zero once: a part that the split leaves empty keeps adding nothing.
      if (partial.size() != static_cast<size_t>(threads))
        partial.assign(static_cast<size_t>(threads), Mat::Zero(M, N));
      split(K, threads, [&](int part, int64_t lo, int64_t hi) {
        partial[static_cast<size_t>(part)].noalias() =
            A.middleCols(lo, hi - lo) * B.middleRows(lo, hi - lo);
      });
      add_partials(cm);
    } else if (N >= M) {
      split(N, threads, [&](int, int64_t lo, int64_t hi) {
        cm.middleCols(lo, hi - lo).noalias() = A * B.middleCols(lo, hi - lo);
      });
    } else {
      split(M, threads, [&](int, int64_t lo, int64_t hi) {
        cm.middleRows(lo, hi - lo).noalias() = A.middleRows(lo, hi - lo) * B;
      });
    }
  }
  template <bool T, class M>
  static auto transpose_if(const M& m) {
    if constexpr (T)
      return m.transpose();
    else
      return m;
  }
  void run(int threads) { run(way, threads); }
  // One repetition on one thread, into (or added to) dst.
  void eigen_one(int64_t r, float* dst, bool accumulate) {
    if (a.transposed)
      b.transposed ? eigen<true, true>(r, 1, dst, accumulate)
                   : eigen<true, false>(r, 1, dst, accumulate);
    else
      b.transposed ? eigen<false, true>(r, 1, dst, accumulate)
                   : eigen<false, false>(r, 1, dst, accumulate);
  }
  void run(Way w, int threads) {
    if (w == Way::kEigenBatch) {
      // The repetitions split over the threads, each on one thread (as eigrad splits a
      // convolution's batch). A product whose every repetition writes the same C (a weight
      // gradient over the samples) is summed into one C per thread, then those are added.
      if (c_step != 0) {
        split(repeat, threads, [&](int, int64_t lo, int64_t hi) {
          for (int64_t r = lo; r < hi; ++r) eigen_one(r, c + r * c_step, false);
        });
        return;
      }
      if (partial.size() != static_cast<size_t>(threads))
        partial.assign(static_cast<size_t>(threads), Mat::Zero(m(), n()));
      split(repeat, threads, [&](int part, int64_t lo, int64_t hi) {
        Mat& sum = partial[static_cast<size_t>(part)];
        sum.setZero();
        for (int64_t r = lo; r < hi; ++r) eigen_one(r, sum.data(), true);
      });
      Eigen::Map<Mat> cm(c, m(), n());
      add_partials(cm);
      return;
    }
    for (int64_t r = 0; r < repeat; ++r) {
      if (w == Way::kBlas) {
        static const CblasSgemm sgemm = cblas_sgemm_in_process();
        constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
        sgemm(kRowMajor, a.transposed ? kTrans : kNoTrans, b.transposed ? kTrans : kNoTrans,
              int(m()), int(n()), int(k()), 1.0f, a.data + r * a.step, int(a.cols),
              b.data + r * b.step, int(b.cols), 0.0f, c + r * c_step, int(n()));
        continue;
      }
      const int split = w == Way::kEigenSplit ? threads : 1;
      float* dst = c + r * c_step;
      if (a.transposed)
        b.transposed ? eigen<true, true>(r, split, dst) : eigen<true, false>(r, split, dst);
      else
        b.transposed ? eigen<false, true>(r, split, dst) : eigen<false, false>(r, split, dst);
    }
  }
};

// A step's products, each on its fastest way at `threads` (chosen() says which).
struct Products {
  std::vector<Gemm> gemms;
  // Other layouts of the same products (the index of the product in gemms, the layout), timed
  // beside it: the faster takes its place.
  std::vector<std::pair<size_t, Gemm>> alternatives;
  void add(Operand a, Operand b, Mat& c, int repeat = 1, int64_t c_step = 0) {
    gemms.push_back(make(a, b, c, repeat, c_step));
  }
  // The product added last, in another layout with the same flops.
  void add_alternative(Operand a, Operand b, Mat& c, int repeat = 1, int64_t c_step = 0) {
    Gemm g = make(a, b, c, repeat, c_step);
    if (gemms.empty() || g.flops() != gemms.back().flops())
      throw std::logic_error("ceiling: an alternative layout must do the same product");
    g.alternative = true;
    alternatives.emplace_back(gemms.size() - 1, std::move(g));
  }
  static Gemm make(Operand a, Operand b, Mat& c, int repeat, int64_t c_step) {
    if (a.op_cols() != b.op_rows() ||
        c.rows() * c.cols() < a.op_rows() * b.op_cols() + (c_step ? (repeat - 1) * c_step : 0))
      throw std::logic_error("ceiling: product shapes do not agree");
    return Gemm{a, b, c.data(), c_step, repeat, Way::kEigen, {}};
  }
  // Picks each product's layout and way at `threads`. At one thread, per product among Eigen and
  // the BLAS. At more, one pool per step: OpenBLAS's idle workers spin for up to 2^28 cycles
  // (about 0.1 s) after each call, and an OpenMP thread that wants their core then waits for the
  // scheduler (8 ms per split product, measured here), so the BLAS either takes every product or
  // none: the faster of the two plans, each timed whole.
  void choose(int threads) {
    const bool blas = cblas_sgemm_in_process() && set_blas_threads(threads) == threads;
    for (size_t i = 0; i < gemms.size(); ++i) {
      double best = fastest_way(gemms[i], threads, blas);
      for (auto& alternative : alternatives) {
        if (alternative.first != i) continue;
        const double s = fastest_way(alternative.second, threads, blas);
        if (s < best) {
          best = s;
          gemms[i] = alternative.second;
        }
      }
    }
    if (!blas || threads == 1) return;
    std::vector<Way> eigen_ways;
    for (Gemm& g : gemms) eigen_ways.push_back(g.way);
    const double eigen_plan = best_of(3, [&] { run(threads); });
    for (Gemm& g : gemms) g.way = Way::kBlas;
    const double blas_plan = best_of(3, [&] { run(threads); });
    if (verbose())
      std::fprintf(stderr, "ceiling: %d threads: Eigen plan %.3f ms, BLAS plan %.3f ms\n", threads,
                   eigen_plan * 1e3, blas_plan * 1e3);
    if (blas_plan < eigen_plan) return;
    for (size_t i = 0; i < gemms.size(); ++i) gemms[i].way = eigen_ways[i];
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the BLAS's workers sleep
  }
  // Sets g.way to its fastest way at `threads` (the BLAS only at one thread: see choose) and
  // returns its time.
  static double fastest_way(Gemm& g, int threads, bool blas) {
    std::vector<Way> ways{Way::kEigen};
#ifdef _OPENMP
    if (threads > 1) ways.push_back(Way::kEigenSplit);
    // Only a per-sample layout's repetitions are independent (an LSTM's steps are not).
    if (threads > 1 && g.alternative && g.repeat >= threads) ways.push_back(Way::kEigenBatch);
#endif
    if (blas && threads == 1) ways.push_back(Way::kBlas);
    double best = 1e300;
    for (Way w : ways) {
      const double s = best_of(3, [&] { g.run(w, threads); });
      if (s < best) {
        best = s;
        g.way = w;
      }
      if (verbose())
        std::fprintf(stderr, "ceiling: [%lld x %lld] x [%lld x %lld] x%d, %d threads: %s %.3f ms\n",
                     static_cast<long long>(g.m()), static_cast<long long>(g.k()),
                     static_cast<long long>(g.k()), static_cast<long long>(g.n()), g.repeat,
                     threads, way_name(w), s * 1e3);
    }
    return best;
  }
  static bool verbose() {
    return std::getenv("EIGRAD_CEILING_VERBOSE") != nullptr;
  }
  // The shortest of `n` timed calls of f, after one untimed call, in seconds.
  template <class F>
  static double best_of(int n, F&& f) {
    f();
    double best = 1e300;
    for (int rep = 0; rep < n; ++rep) {
      const auto start = std::chrono::steady_clock::now();
      f();
      best = std::min(
          best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
  }
  void run(int threads) {
    for (Gemm& g : gemms) g.run(threads);
    benchmark::DoNotOptimize(gemms.back().c);
    benchmark::ClobberMemory();
  }
  double flops() const {
    double f = 0;
    for (const Gemm& g : gemms) f += g.flops();
    return f;
  }
  // e.g. "Eigen 4, BLAS 4": how many products took each way.
  std::string chosen() const {
    std::string s;
    for (Way w : {Way::kEigen, Way::kEigenSplit, Way::kEigenBatch, Way::kBlas}) {
      const auto n =
          std::count_if(gemms.begin(), gemms.end(), [w](const Gemm& g) { return g.way == w; });
      if (n > 0) s += (s.empty() ? "" : ", ") + std::string(way_name(w)) + " " + std::to_string(n);
    }
    const auto other =
        std::count_if(gemms.begin(), gemms.end(), [](const Gemm& g) { return g.alternative; });
    if (other > 0) s += "; " + std::to_string(other) + " in their other layout";
    return s;
  }
};

// The products of one training step of an Mlp on a batch of `batch` rows, in eigrad's layout
// (row-major activations [batch, features], weights [out, in]): 3 forward, 5 backward (no input
// gradient for the first layer).
struct MlpProducts : Products {
  Mat x, w1, w2, w3, h1, h2, out, g3, g2, g1, dw1, dw2, dw3, da1, da2;
  MlpProducts(const Mlp& net, int64_t batch)
      : x(Mat::Random(batch, net.in)),
        w1(Mat::Random(net.hidden, net.in)),
        w2(Mat::Random(net.hidden, net.hidden)),
        w3(Mat::Random(net.out, net.hidden)),
        h1(batch, net.hidden),
        h2(batch, net.hidden),
        out(batch, net.out),
        g3(Mat::Random(batch, net.out)),
        g2(Mat::Random(batch, net.hidden)),
        g1(Mat::Random(batch, net.hidden)),
        dw1(net.hidden, net.in),
        dw2(net.hidden, net.hidden),
        dw3(net.out, net.hidden),
        da1(batch, net.hidden),
        da2(batch, net.hidden) {
    add(op(x), t(w1), h1);
    add(op(h1), t(w2), h2);
    add(op(h2), t(w3), out);
    add(t(g3), op(h2), dw3);
    add(op(g3), op(w3), da2);
    add(t(g2), op(h1), dw2);
    add(op(g2), op(w2), da1);
    add(t(g1), op(x), dw1);
  }
};

// Times `products` (built once, its ways chosen at the case's thread count); reports which ways.
template <class P>
void time_products(benchmark::State& state, P& products, int threads) {
  products.choose(threads);
  state.SetLabel(products.chosen());
  for (auto _ : state) products.run(threads);
}

Case gemm_step(const char* workload, Mlp net, int64_t batch) {
  return {workload, [net, batch](benchmark::State& state, int threads) {
            set_threads(threads);
            MlpProducts p(net, batch);
            time_products(state, p, threads);
          }};
}

// A step's products alone: `P` built once (its operands), its run() timed.
template <class P>
Case products_step(const char* workload) {
  return {workload, [](benchmark::State& state, int threads) {
            set_threads(threads);
            P p;
            time_products(state, p, threads);
          }};
}

// The cnn step's products (compare.hpp's network), im2col-shaped. Each convolution's product
// in two layouts, the faster kept: batch-wide (one product over the columns of every sample)
// and per sample (kCnnBatch products on one sample's columns, in a buffer the size of one
// sample's, which stays in cache, as eigrad computes them; the outputs and output gradients
// [N, C, H, W] in memory).
struct CnnProducts : Products {
  static constexpr int64_t kArea1 = kCnnSide * kCnnSide, kArea2 = kArea1 / 4;
  static constexpr int64_t kK1 = 1 * 9, kK2 = kCnnChannels1 * 9;
  static constexpr int kSamples = static_cast<int>(kCnnBatch);
  Mat w1, cols1, y1, gy1, dw1;                               // conv 1 -> 32 on 28x28
  Mat w2, cols2, y2, gy2, dw2, dcols2;                       // conv 32 -> 64 on 14x14
  Mat x3, w3, h3, g3, dw3, dx3;                              // linear 3136 -> 128
  Mat w4, out, g4, dw4, dx4;                                 // linear 128 -> 10
  Mat cols1_s, y1_s, gy1_s, cols2_s, y2_s, gy2_s, dcols2_s;  // per sample
  CnnProducts()
      : w1(Mat::Random(kCnnChannels1, kK1)),
        cols1(Mat::Random(kK1, kCnnBatch * kArea1)),
        y1(kCnnChannels1, kCnnBatch * kArea1),
        gy1(Mat::Random(kCnnChannels1, kCnnBatch * kArea1)),
        dw1(kCnnChannels1, kK1),
        w2(Mat::Random(kCnnChannels2, kK2)),
        cols2(Mat::Random(kK2, kCnnBatch * kArea2)),
        y2(kCnnChannels2, kCnnBatch * kArea2),
        gy2(Mat::Random(kCnnChannels2, kCnnBatch * kArea2)),
        dw2(kCnnChannels2, kK2),
        dcols2(kK2, kCnnBatch * kArea2),
        x3(Mat::Random(kCnnBatch, kCnnFlat)),
        w3(Mat::Random(kCnnHidden, kCnnFlat)),
        h3(kCnnBatch, kCnnHidden),
        g3(Mat::Random(kCnnBatch, kCnnHidden)),
        dw3(kCnnHidden, kCnnFlat),
        dx3(kCnnBatch, kCnnFlat),
        w4(Mat::Random(kCnnClasses, kCnnHidden)),
        out(kCnnBatch, kCnnClasses),
        g4(Mat::Random(kCnnBatch, kCnnClasses)),
        dw4(kCnnClasses, kCnnHidden),
        dx4(kCnnBatch, kCnnHidden),
        cols1_s(Mat::Random(kK1, kArea1)),
        y1_s(kCnnBatch * kCnnChannels1, kArea1),
        gy1_s(Mat::Random(kCnnBatch * kCnnChannels1, kArea1)),
        cols2_s(Mat::Random(kK2, kArea2)),
        y2_s(kCnnBatch * kCnnChannels2, kArea2),
        gy2_s(Mat::Random(kCnnBatch * kCnnChannels2, kArea2)),
        dcols2_s(kK2, kArea2) {
    add(op(w1), op(cols1), y1);
    add_alternative(op(w1), op(cols1_s), y1_s, kSamples, kCnnChannels1 * kArea1);
    add(op(w2), op(cols2), y2);
    add_alternative(op(w2), op(cols2_s), y2_s, kSamples, kCnnChannels2 * kArea2);
    add(op(x3), t(w3), h3);
    add(op(h3), t(w4), out);
    add(t(g4), op(h3), dw4);
    add(op(g4), op(w4), dx4);
    add(t(g3), op(x3), dw3);
    add(op(g3), op(w3), dx3);
    add(op(gy2), t(cols2), dw2);
    add_alternative(rows_per_step(gy2_s, kCnnChannels2), t(cols2_s), dw2, kSamples);
    add(t(w2), op(gy2), dcols2);
    add_alternative(t(w2), rows_per_step(gy2_s, kCnnChannels2), dcols2_s, kSamples);
    add(op(gy1), t(cols1), dw1);
    add_alternative(rows_per_step(gy1_s, kCnnChannels1), t(cols1_s), dw1, kSamples);
  }
};

// The LSTM step's products (compare.hpp): the input projection of all steps as one product,
// one recurrent product per step forward and one per step backward (the state gradient, which
// is sequential), the weight gradients of all steps as one product each, the head forward and
// its two backward products. No input gradient (the input does not require grad).
struct LstmProducts : Products {
  static constexpr int64_t kGates = 4 * kLstmHidden, kRows = kLstmSequence * kLstmBatch;
  Mat x, w_ih, w_hh, xg, h, hg, dg, dh, dw_ih, dw_hh, w_head, out, g_out, dw_head, dh_last, h_last;
  LstmProducts()
      : x(Mat::Random(kRows, kLstmInput)),
        w_ih(Mat::Random(kGates, kLstmInput)),
        w_hh(Mat::Random(kGates, kLstmHidden)),
        xg(kRows, kGates),
        h(Mat::Random(kRows, kLstmHidden)),
        hg(kLstmBatch, kGates),
        dg(Mat::Random(kRows, kGates)),
        dh(kLstmBatch, kLstmHidden),
        dw_ih(kGates, kLstmInput),
        dw_hh(kGates, kLstmHidden),
        w_head(Mat::Random(kLstmClasses, kLstmHidden)),
        out(kLstmBatch, kLstmClasses),
        g_out(Mat::Random(kLstmBatch, kLstmClasses)),
        dw_head(kLstmClasses, kLstmHidden),
        dh_last(kLstmBatch, kLstmHidden),
        h_last(h.bottomRows(kLstmBatch)) {
    constexpr int kSteps = static_cast<int>(kLstmSequence);
    add(op(x), t(w_ih), xg);
    add(rows_per_step(h, kLstmBatch), t(w_hh), hg, kSteps);
    add(op(h_last), t(w_head), out);
    add(t(g_out), op(h_last), dw_head);
    add(op(g_out), op(w_head), dh_last);
    add(rows_per_step(dg, kLstmBatch), op(w_hh), dh, kSteps);
    add(t(dg), op(h), dw_hh);
    add(t(dg), op(x), dw_ih);
  }
};

// The transformer step's products (compare.hpp): the four projections (in_proj [3E, E],
// out_proj, linear1, linear2) and the head batch-wide forward, their weight gradients and their
// input gradients (not in_proj's: the input does not require grad); per sequence and head the
// scores Q K^T, the weighted values A V and their four backward products.
struct TransformerProducts : Products {
  static constexpr int64_t kRows = kTfBatch * kTfSequence, kHeadDim = kTfModel / kTfHeads;
  Mat x, w_in, qkv, attn, w_out, y, w1, f1, w2, f2, w_head, out;
  Mat g_out, dw_head, dx_head, g2, dw2, dx2, g1, dw1, dx1, g_o, dw_out, dx_out, g_qkv, dw_in;
  Mat scores, d_scores, q, k, v, o, dq, dk, dv, d_a;
  TransformerProducts()
      : x(Mat::Random(kRows, kTfModel)),
        w_in(Mat::Random(3 * kTfModel, kTfModel)),
        qkv(kRows, 3 * kTfModel),
        attn(Mat::Random(kRows, kTfModel)),
        w_out(Mat::Random(kTfModel, kTfModel)),
        y(kRows, kTfModel),
        w1(Mat::Random(kTfFeedForward, kTfModel)),
        f1(kRows, kTfFeedForward),
        w2(Mat::Random(kTfModel, kTfFeedForward)),
        f2(kRows, kTfModel),
        w_head(Mat::Random(kTfClasses, kTfModel)),
        out(kRows, kTfClasses),
        g_out(Mat::Random(kRows, kTfClasses)),
        dw_head(kTfClasses, kTfModel),
        dx_head(kRows, kTfModel),
        g2(Mat::Random(kRows, kTfModel)),
        dw2(kTfModel, kTfFeedForward),
        dx2(kRows, kTfFeedForward),
        g1(Mat::Random(kRows, kTfFeedForward)),
        dw1(kTfFeedForward, kTfModel),
        dx1(kRows, kTfModel),
        g_o(Mat::Random(kRows, kTfModel)),
        dw_out(kTfModel, kTfModel),
        dx_out(kRows, kTfModel),
        g_qkv(Mat::Random(kRows, 3 * kTfModel)),
        dw_in(3 * kTfModel, kTfModel),
        scores(kTfSequence, kTfSequence),
        d_scores(Mat::Random(kTfSequence, kTfSequence)),
        q(Mat::Random(kTfSequence, kHeadDim)),
        k(Mat::Random(kTfSequence, kHeadDim)),
        v(Mat::Random(kTfSequence, kHeadDim)),
        o(kTfSequence, kHeadDim),
        dq(kTfSequence, kHeadDim),
        dk(kTfSequence, kHeadDim),
        dv(kTfSequence, kHeadDim),
        d_a(kTfSequence, kTfSequence) {
    constexpr int kPerHead = static_cast<int>(kTfBatch * kTfHeads);
    add(op(x), t(w_in), qkv);
    add(op(q), t(k), scores, kPerHead);
    add(op(scores), op(v), o, kPerHead);
    add(op(attn), t(w_out), y);
    add(op(y), t(w1), f1);
    add(op(f1), t(w2), f2);
    add(op(f2), t(w_head), out);
    add(t(g_out), op(f2), dw_head);
    add(op(g_out), op(w_head), dx_head);
    add(t(g2), op(f1), dw2);
    add(op(g2), op(w2), dx2);
    add(t(g1), op(y), dw1);
    add(op(g1), op(w1), dx1);
    add(t(g_o), op(attn), dw_out);
    add(op(g_o), op(w_out), dx_out);
    add(t(scores), op(o), dv, kPerHead);
    add(op(o), t(v), d_a, kPerHead);
    add(op(d_scores), op(k), dq, kPerHead);
    add(t(d_scores), op(q), dk, kPerHead);
    add(t(g_qkv), op(x), dw_in);
  }
};

Case gemm_epoch(const Inputs& in) {
  Case c{kFashionEpoch, [&in](benchmark::State& state, int threads) {
           set_threads(threads);
           const int64_t full = in.fashion_samples / kFashionBatch;
           const int64_t rest = in.fashion_samples % kFashionBatch;
           MlpProducts step(kFashionNet, kFashionBatch), last(kFashionNet, rest > 0 ? rest : 1);
           step.choose(threads);
           last.choose(threads);
           state.SetLabel(step.chosen());
           for (auto _ : state) {
             for (int64_t i = 0; i < full; ++i) step.run(threads);
             if (rest > 0) last.run(threads);
           }
         }};
  c.repetitions = 3;
  c.single_iteration = true;
  c.epoch = true;
  return c;
}

}  // namespace

Engine ceiling_engine(const Inputs& in) {
  Engine e;
  e.name = "ceiling";
  e.version = "(Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
              std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION) + ")";
#ifdef _OPENMP
  e.threads =
      "OpenMP num_threads for the streaming kernel and for products split by hand; the BLAS's "
      "own pool pinned to the count";
#else
  e.threads =
      "streaming kernel single-threaded (built without OpenMP); the BLAS's own pool "
      "pinned to the count";
#endif
  e.version += cblas_sgemm_in_process()
                   ? "; products: the fastest of Eigen and this process's BLAS, " + blas_library()
                   : "; products: Eigen (no BLAS in this process)";
  e.cases.push_back(bandwidth(in, false));
  e.cases.push_back(bandwidth(in, true));
  e.cases.push_back(bandwidth(in, true, /*from_memory=*/true));
  e.cases.push_back(gemm_step(kSpiralStep, kSpiralNet, kSpiralPoints));
  e.cases.push_back(gemm_step(kFashionStep, kFashionNet, kFashionBatch));
  e.cases.push_back(gemm_epoch(in));
  e.cases.push_back(products_step<CnnProducts>(kCnnStep));
  e.cases.push_back(products_step<LstmProducts>(kLstmStep));
  e.cases.push_back(products_step<TransformerProducts>(kTransformerStep));
  return e;
}

}  // namespace compare
