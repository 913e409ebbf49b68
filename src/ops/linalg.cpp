#include "eigrad/ops/linalg.hpp"

#include <string>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "gemm.hpp"
#include "layout.hpp"
#include "matmul_transposed.hpp"

namespace eigrad {

using namespace detail;

namespace {
template <class T>
using Grads = std::vector<BasicTensor<T>>;

template <class T>
GemmOperand<T> side(const T* data, int64_t rows, int64_t cols, bool transpose) {
  return transpose ? transposed(data, rows, cols) : operand(data, rows, cols);
}

// The stored sizes of a product's operands: `batches` of [ar, ac] and [br, bc].
struct Operands {
  int64_t batches, ar, ac, br, bc;
};

// c = op(a) op(b) for each of the batches, c contiguous.
template <class T>
void batched_product(const T* a, bool ta, const T* b, bool tb, T* c, const Operands& s) {
  const int64_t m = ta ? s.ac : s.ar, n = tb ? s.br : s.bc;
  for (int64_t i = 0; i < s.batches; ++i)
    gemm(side(a + i * s.ar * s.ac, s.ar, s.ac, ta), side(b + i * s.br * s.bc, s.br, s.bc, tb),
         c + i * m * n, false);
}
}  // namespace

template <class T>
BasicTensor<T> matmul(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  const Shape &as = a.shape(), &bs = b.shape();
  const int ra = as.rank(), rb = bs.rank();
  if (!((ra == 2 && rb == 2) || (ra == 3 && (rb == 2 || rb == 3))))
    throw Error(
        "matmul: expected [n, k] x [k, m], [B, n, k] x [B, k, m] or [B, n, k] x [k, m], "
        "got " +
        as.str() + " x " + bs.str());
  const int64_t k = as[ra - 1], kb = bs[rb - 2], n = as[ra - 2], m = bs[rb - 1];
  if (k != kb)
    throw Error("matmul: cannot multiply " + as.str() + " by " + bs.str() + ": inner sizes " +
                std::to_string(k) + " and " + std::to_string(kb) + " differ");
  if (ra == 3 && rb == 3 && as[0] != bs[0])
    throw Error("matmul: cannot multiply " + as.str() + " by " + bs.str() + ": batch sizes " +
                std::to_string(as[0]) + " and " + std::to_string(bs[0]) + " differ");
  // [B, n, k] x [k, m] is one product of [B*n, k] by [k, m].
  const bool batched = ra == 3 && rb == 3;
  const int64_t batches = batched ? as[0] : 1;
  const int64_t arows = ra == 3 && !batched ? as[0] * n : n;
  auto out = BasicTensor<T>::empty(ra == 3 ? Shape{as[0], n, m} : Shape{n, m});
  T* yd = out.mutable_data();
  for (int64_t i = 0; i < batches; ++i)
    gemm(operand(a.data() + i * arows * k, arows, k), operand(b.data() + i * k * m, k, m),
         yd + i * arows * m, false);
  if (needs_grad(a, b))
    record(
        "matmul", out, {&a, &b}, Saves().input(0).input(1),
        [batches, arows, k, m, ad = a.storage(), bd = b.storage()](const Array<T>& g,
                                                                   GradSink<T>& s) {
          if (s.needs(0)) {
            Array<T> ga(batches * arows * k);
            for (int64_t i = 0; i < batches; ++i)
              gemm(operand(g.data() + i * arows * m, arows, m),
                   transposed(bd->data() + i * k * m, k, m), ga.data() + i * arows * k, false);
            s.add(0, std::move(ga));
          }
          if (s.needs(1)) {
            Array<T> gb(batches * k * m);
            for (int64_t i = 0; i < batches; ++i)
              gemm(transposed(ad->data() + i * arows * k, arows, k),
                   operand(g.data() + i * arows * m, arows, m), gb.data() + i * k * m, false);
            s.add(1, std::move(gb));
          }
        },
        // dA = g B^T, dB = A^T g; [B, n, k] x [k, m] as [B*n, k] x [k, m].
        [fold = ra == 3 && rb == 2, arows, k, m, ash = as](GraphContext<T>& c,
                                                           const BasicTensor<T>& g) {
          const auto flat = [&](const BasicTensor<T>& t, int64_t cols) {
            return fold ? reshape(t, {arows, cols}) : t;
          };
          const BasicTensor<T> g2 = flat(g, m);
          Grads<T> grads(2);
          if (c.needs(0)) {
            const BasicTensor<T> ga = matmul_transposed(g2, c.input(1), false, true);
            grads[0] = fold ? reshape(ga, ash.vec()) : ga;
          }
          if (c.needs(1)) grads[1] = matmul_transposed(flat(c.input(0), k), g2, true, false);
          return grads;
        });
  return out;
}

namespace detail {

template <class T>
BasicTensor<T> matmul_transposed(const BasicTensor<T>& a, const BasicTensor<T>& b, bool ta,
                                 bool tb) {
  const Shape &as = a.shape(), &bs = b.shape();
  const int r = as.rank();
  const auto describe = [&] {
    return std::string(ta ? "transposed " : "") + as.str() + " by " + (tb ? "transposed " : "") +
           bs.str();
  };
  if (!((r == 2 || r == 3) && bs.rank() == r && (r == 2 || as[0] == bs[0])))
    throw Error("matmul_transposed: expected two [r, c] or two [B, r, c] operands, got " +
                describe());
  const Operands s{r == 3 ? as[0] : 1, as[r - 2], as[r - 1], bs[r - 2], bs[r - 1]};
  const int64_t m = ta ? s.ac : s.ar, k = ta ? s.ar : s.ac, n = tb ? s.br : s.bc;
  if (k != (tb ? s.bc : s.br))
    throw Error("matmul_transposed: cannot multiply " + describe() + ": inner sizes differ");
  auto out = BasicTensor<T>::empty(r == 3 ? Shape{s.batches, m, n} : Shape{m, n});
  batched_product(a.data(), ta, b.data(), tb, out.mutable_data(), s);
  if (needs_grad(a, b))
    record(
        "matmul_transposed", out, {&a, &b}, Saves().input(0).input(1),
        [s, ta, tb, m, n, ad = a.storage(), bd = b.storage()](const Array<T>& g,
                                                              GradSink<T>& sink) {
          // The gradients in the same family: dA = op(B) g^T when A is transposed, else
          // g op(B)^T; dB = g^T op(A) when B is transposed, else op(A)^T g.
          const Operands gb{s.batches, m, n, s.br, s.bc}, bg{s.batches, s.br, s.bc, m, n};
          const Operands ga{s.batches, m, n, s.ar, s.ac}, ag{s.batches, s.ar, s.ac, m, n};
          if (sink.needs(0)) {
            Array<T> da(s.batches * s.ar * s.ac);
            if (ta)
              batched_product(bd->data(), tb, g.data(), true, da.data(), bg);
            else
              batched_product(g.data(), false, bd->data(), !tb, da.data(), gb);
            sink.add(0, std::move(da));
          }
          if (sink.needs(1)) {
            Array<T> db(s.batches * s.br * s.bc);
            if (tb)
              batched_product(g.data(), true, ad->data(), ta, db.data(), ga);
            else
              batched_product(ad->data(), !ta, g.data(), false, db.data(), ag);
            sink.add(1, std::move(db));
          }
        },
        [ta, tb](GraphContext<T>& c, const BasicTensor<T>& g) {
          Grads<T> grads(2);
          if (c.needs(0))
            grads[0] = ta ? matmul_transposed(c.input(1), g, tb, true)
                          : matmul_transposed(g, c.input(1), false, !tb);
          if (c.needs(1))
            grads[1] = tb ? matmul_transposed(g, c.input(0), true, ta)
                          : matmul_transposed(c.input(0), g, !ta, false);
          return grads;
        });
  return out;
}

}  // namespace detail

#define EIGRAD_INSTANTIATE_LINALG(T)                                                              \
  template BasicTensor<T> matmul(const BasicTensor<T>&, const BasicTensor<T>&);                   \
  template BasicTensor<T> detail::matmul_transposed(const BasicTensor<T>&, const BasicTensor<T>&, \
                                                    bool, bool);

EIGRAD_INSTANTIATE_LINALG(float)
EIGRAD_INSTANTIATE_LINALG(double)

}  // namespace eigrad
