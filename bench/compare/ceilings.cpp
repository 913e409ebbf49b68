// The machine's ceilings, in plain Eigen, over the same bytes and shapes as the workloads:
//  - memory bandwidth: a streaming y = a x + b over the 2^20 floats an activation reads and
//    writes (forward: read x, write y = 8 B/elem; forward+backward adds read g, read y, write
//    the input gradient = 20 B/elem), forward+backward also from memory (caches evicted before
//    every iteration, as for the activations timed that way);
//  - GEMM: the training step's matrix products alone (3 forward, 5 backward: no input gradient
//    for the first layer), at the step's shapes, with nothing else around them;
//  - the cnn step's products alone: each convolution as one product over the whole batch
//    (im2col: weight [O, C kH kW] times columns [C kH kW, N H W]) forward, its weight gradient
//    (output gradient times the columns transposed) and, for the second, the columns' gradient
//    (weight transposed times the output gradient); the two linear layers as in the MLP step.
//    Not the im2col gathers, pooling, batch norm or activations: the same figure serves as the
//    ceiling of "cnn step" and "cnn+bn step";
//  - the LSTM and transformer steps' products alone (LstmProducts, TransformerProducts below).
// Threads: the streaming kernel splits its range over OpenMP threads; products use
// Eigen::setNbThreads (effective when this file is compiled with OpenMP).
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "compare.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace compare {
namespace {

using Vec = Eigen::Array<float, Eigen::Dynamic, 1>;
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Calls f(begin, end) on `threads` contiguous chunks of [0, n), 16-element aligned.
template <class F>
void split(int64_t n, int threads, F&& f) {
#ifdef _OPENMP
  if (threads > 1) {
    const int64_t chunk = ((n + threads - 1) / threads + 15) / 16 * 16;
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int part = 0; part < threads; ++part) {
      const int64_t begin = std::min<int64_t>(n, part * chunk);
      const int64_t end = std::min<int64_t>(n, begin + chunk);
      if (begin < end) f(begin, end);
    }
    return;
  }
#endif
  (void)threads;
  f(int64_t{0}, n);
}

void set_threads(int threads) {
  Eigen::setNbThreads(threads);
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
                         split(n, threads, [&](int64_t b, int64_t e) {
                           y.segment(b, e - b) = 1.5f * x.segment(b, e - b) + 0.5f;
                         });
                         if (backward)
                           split(n, threads, [&](int64_t b, int64_t e) {
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

// The products of one training step of an Mlp on a batch of `batch` rows, in eigrad's layout
// (row-major activations [batch, features], weights [out, in]).
struct MlpProducts {
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
        da2(batch, net.hidden) {}
  void run() {
    h1.noalias() = x * w1.transpose();
    h2.noalias() = h1 * w2.transpose();
    out.noalias() = h2 * w3.transpose();
    dw3.noalias() = g3.transpose() * h2;
    da2.noalias() = g3 * w3;
    dw2.noalias() = g2.transpose() * h1;
    da1.noalias() = g2 * w2;
    dw1.noalias() = g1.transpose() * x;
    benchmark::DoNotOptimize(dw1.data());
    benchmark::ClobberMemory();
  }
};

Case gemm_step(const char* workload, Mlp net, int64_t batch) {
  return {workload, [net, batch](benchmark::State& state, int threads) {
            set_threads(threads);
            MlpProducts p(net, batch);
            for (auto _ : state) p.run();
          }};
}

// A step's products alone: `Products` built once (its operands), run() timed.
template <class Products>
Case products_step(const char* workload) {
  return {workload, [](benchmark::State& state, int threads) {
            set_threads(threads);
            Products p;
            for (auto _ : state) p.run();
          }};
}

// The cnn step's products (compare.hpp's network), im2col-shaped, batch-wide.
struct CnnProducts {
  static constexpr int64_t kArea1 = kCnnSide * kCnnSide, kArea2 = kArea1 / 4;
  static constexpr int64_t kK1 = 1 * 9, kK2 = kCnnChannels1 * 9;
  Mat w1, cols1, y1, gy1, dw1;          // conv 1 -> 32 on 28x28
  Mat w2, cols2, y2, gy2, dw2, dcols2;  // conv 32 -> 64 on 14x14
  Mat x3, w3, h3, g3, dw3, dx3;         // linear 3136 -> 128
  Mat w4, out, g4, dw4, dx4;            // linear 128 -> 10
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
        dx4(kCnnBatch, kCnnHidden) {}
  void run() {
    y1.noalias() = w1 * cols1;
    y2.noalias() = w2 * cols2;
    h3.noalias() = x3 * w3.transpose();
    out.noalias() = h3 * w4.transpose();
    dw4.noalias() = g4.transpose() * h3;
    dx4.noalias() = g4 * w4;
    dw3.noalias() = g3.transpose() * x3;
    dx3.noalias() = g3 * w3;
    dw2.noalias() = gy2 * cols2.transpose();
    dcols2.noalias() = w2.transpose() * gy2;
    dw1.noalias() = gy1 * cols1.transpose();
    benchmark::DoNotOptimize(dw1.data());
    benchmark::ClobberMemory();
  }
};

// The LSTM step's products (compare.hpp): the input projection of all steps as one product,
// one recurrent product per step forward and one per step backward (the state gradient, which
// is sequential), the weight gradients of all steps as one product each, the head forward and
// its two backward products. No input gradient (the input does not require grad).
struct LstmProducts {
  static constexpr int64_t kGates = 4 * kLstmHidden, kRows = kLstmSequence * kLstmBatch;
  Mat x, w_ih, w_hh, xg, h, hg, dg, dh, dw_ih, dw_hh, w_head, out, g_out, dw_head, dh_last;
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
        dh_last(kLstmBatch, kLstmHidden) {}
  void run() {
    xg.noalias() = x * w_ih.transpose();
    for (int64_t t = 0; t < kLstmSequence; ++t)
      hg.noalias() = h.middleRows(t * kLstmBatch, kLstmBatch) * w_hh.transpose();
    out.noalias() = h.bottomRows(kLstmBatch) * w_head.transpose();
    dw_head.noalias() = g_out.transpose() * h.bottomRows(kLstmBatch);
    dh_last.noalias() = g_out * w_head;
    for (int64_t t = 0; t < kLstmSequence; ++t)
      dh.noalias() = dg.middleRows(t * kLstmBatch, kLstmBatch) * w_hh;
    dw_hh.noalias() = dg.transpose() * h;
    dw_ih.noalias() = dg.transpose() * x;
    benchmark::DoNotOptimize(dw_ih.data());
    benchmark::ClobberMemory();
  }
};

// The transformer step's products (compare.hpp): the four projections (in_proj [3E, E],
// out_proj, linear1, linear2) and the head batch-wide forward, their weight gradients and their
// input gradients (not in_proj's: the input does not require grad); per sequence and head the
// scores Q K^T, the weighted values A V and their four backward products.
struct TransformerProducts {
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
        d_a(kTfSequence, kTfSequence) {}
  void run() {
    qkv.noalias() = x * w_in.transpose();
    for (int64_t i = 0; i < kTfBatch * kTfHeads; ++i) {
      scores.noalias() = q * k.transpose();
      o.noalias() = scores * v;
    }
    y.noalias() = attn * w_out.transpose();
    f1.noalias() = y * w1.transpose();
    f2.noalias() = f1 * w2.transpose();
    out.noalias() = f2 * w_head.transpose();
    dw_head.noalias() = g_out.transpose() * f2;
    dx_head.noalias() = g_out * w_head;
    dw2.noalias() = g2.transpose() * f1;
    dx2.noalias() = g2 * w2;
    dw1.noalias() = g1.transpose() * y;
    dx1.noalias() = g1 * w1;
    dw_out.noalias() = g_o.transpose() * attn;
    dx_out.noalias() = g_o * w_out;
    for (int64_t i = 0; i < kTfBatch * kTfHeads; ++i) {
      dv.noalias() = scores.transpose() * o;
      d_a.noalias() = o * v.transpose();
      dq.noalias() = d_scores * k;
      dk.noalias() = d_scores.transpose() * q;
    }
    dw_in.noalias() = g_qkv.transpose() * x;
    benchmark::DoNotOptimize(dw_in.data());
    benchmark::DoNotOptimize(dk.data());
    benchmark::ClobberMemory();
  }
};

Case gemm_epoch(const Inputs& in) {
  Case c{kFashionEpoch, [&in](benchmark::State& state, int threads) {
           set_threads(threads);
           const int64_t full = in.fashion_samples / kFashionBatch;
           const int64_t rest = in.fashion_samples % kFashionBatch;
           MlpProducts step(kFashionNet, kFashionBatch), last(kFashionNet, rest > 0 ? rest : 1);
           for (auto _ : state) {
             for (int64_t i = 0; i < full; ++i) step.run();
             if (rest > 0) last.run();
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
  e.threads = "OpenMP num_threads for the streaming kernel, Eigen::setNbThreads for products";
#else
  e.threads = "none (built without OpenMP: single-threaded)";
#endif
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
