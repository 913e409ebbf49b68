#include "eigrad/ops/linalg.hpp"

#include <string>

#include "gemm.hpp"
#include "layout.hpp"
#include "autograd/graph.hpp"

namespace eigrad {

using namespace detail;

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
    record("matmul", out, {&a, &b}, Saves().input(0).input(1),
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
           });
  return out;
}

#define EIGRAD_INSTANTIATE_LINALG(T) \
  template BasicTensor<T> matmul(const BasicTensor<T>&, const BasicTensor<T>&);

EIGRAD_INSTANTIATE_LINALG(float)
EIGRAD_INSTANTIATE_LINALG(double)

}  // namespace eigrad
