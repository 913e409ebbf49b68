#include "eigrad/ops/recurrent.hpp"

#include <string>
#include <utility>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/activations.hpp"
#include "eigrad/kernels/sigmoid.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;
using kernels::fast_sigmoid;
using kernels::fast_tanh;

namespace {

template <class T>
using Segment = Eigen::Map<const Array<T>>;
template <class T>
using MutableSegment = Eigen::Map<Array<T>>;

// Checks gates_x, gates_h [N, G*H] and state [N, H]; returns (N, H).
template <class T>
std::pair<int64_t, int64_t> check_cell(const char* op, int64_t gates, const BasicTensor<T>& gx,
                                       const BasicTensor<T>& gh, const BasicTensor<T>& state,
                                       const char* state_name) {
  const std::string g = std::to_string(gates);
  if (gx.rank() != 2 || gx.shape()[1] % gates != 0 || gx.shape()[1] == 0)
    throw Error(std::string(op) + ": expected gates_x of shape [N, " + g +
                " * H] with H > 0, got " + gx.shape().str());
  const int64_t n = gx.shape()[0], h = gx.shape()[1] / gates;
  if (gh.shape() != gx.shape())
    throw Error(std::string(op) + ": gates_h has shape " + gh.shape().str() + " but gates_x has " +
                gx.shape().str() + "; expected the same shape [N, " + g + " * H]");
  if (state.shape() != Shape{n, h})
    throw Error(std::string(op) + ": " + state_name + " has shape " + state.shape().str() +
                "; expected [N, H] = [" + std::to_string(n) + ", " + std::to_string(h) +
                "] for gates of shape " + gx.shape().str());
  return {n, h};
}

}  // namespace

template <class T>
BasicTensor<T> lstm_cell_state(const BasicTensor<T>& gates_x, const BasicTensor<T>& gates_h,
                               const BasicTensor<T>& c) {
  // Plain copies, not structured bindings: a lambda may not capture a binding before C++20.
  const auto dims = check_cell("lstm_cell_gates", 4, gates_x, gates_h, c, "c");
  const int64_t n = dims.first, h = dims.second;
  const int64_t g4 = 4 * h;
  // act: the activated gates i, f, g, o per row; tc: tanh(c'). Backward reads both.
  Array<T> act = Segment<T>(gates_x.data(), n * g4) + Segment<T>(gates_h.data(), n * g4);
  Array<T> tc(n * h);
  auto out = BasicTensor<T>::empty(Shape{2, n, h});
  T* y = out.mutable_data();
  const T* cp = c.data();
  for (int64_t r = 0; r < n; ++r) {
    MutableSegment<T> a(act.data() + r * g4, g4);
    a.head(2 * h) = fast_sigmoid(a.head(2 * h));
    a.segment(2 * h, h) = fast_tanh(a.segment(2 * h, h));
    a.tail(h) = fast_sigmoid(a.tail(h));
    MutableSegment<T> c2(y + (n + r) * h, h), t(tc.data() + r * h, h);
    c2 = a.segment(h, h) * Segment<T>(cp + r * h, h) + a.head(h) * a.segment(2 * h, h);
    t = fast_tanh(c2);
    MutableSegment<T>(y + r * h, h) = a.tail(h) * t;
  }
  if (!needs_grad({&gates_x, &gates_h, &c})) return out;
  auto backward = [n, h, act = std::move(act), tc = std::move(tc), cd = c.storage()](
                      const Array<T>& g, GradSink<T>& s) {
    const int64_t g4 = 4 * h;
    Array<T> dgates(n * g4), dc(h);
    Array<T> dcprev(s.needs(2) ? n * h : 0);
    for (int64_t r = 0; r < n; ++r) {
      const Segment<T> gh(g.data() + r * h, h), gc(g.data() + (n + r) * h, h);
      const Segment<T> i(act.data() + r * g4, h), f(act.data() + r * g4 + h, h),
          gg(act.data() + r * g4 + 2 * h, h), o(act.data() + r * g4 + 3 * h, h),
          t(tc.data() + r * h, h), cp(cd->data() + r * h, h);
      dc = gc + gh * o * (T(1) - t.square());
      MutableSegment<T> d(dgates.data() + r * g4, g4);
      d.head(h) = dc * gg * i * (T(1) - i);
      d.segment(h, h) = dc * cp * f * (T(1) - f);
      d.segment(2 * h, h) = dc * i * (T(1) - gg.square());
      d.tail(h) = gh * t * o * (T(1) - o);
      if (s.needs(2)) dcprev.segment(r * h, h) = dc * f;
    }
    if (s.needs(2)) s.add(2, std::move(dcprev));
    if (s.needs(0)) {
      if (s.needs(1))
        s.add(0, dgates);
      else
        s.add(0, std::move(dgates));
    }
    if (s.needs(1)) s.add(1, std::move(dgates));
  };
  // The same formulas in ops on the saved inputs.
  auto graph = [n, h](GraphContext<T>& ctx, const BasicTensor<T>& g) {
    const BasicTensor<T> a = ctx.input(0) + ctx.input(1), c0 = ctx.input(2);
    const BasicTensor<T> i = sigmoid(narrow(a, 1, 0, h)), f = sigmoid(narrow(a, 1, h, h)),
                         gg = tanh(narrow(a, 1, 2 * h, h)), o = sigmoid(narrow(a, 1, 3 * h, h));
    const BasicTensor<T> t = tanh(f * c0 + i * gg);
    const BasicTensor<T> gh = reshape(narrow(g, 0, 0, 1), {n, h}),
                         gc = reshape(narrow(g, 0, 1, 1), {n, h});
    const BasicTensor<T> dc = gc + gh * o * (T(1) - t * t);
    std::vector<BasicTensor<T>> grads(3);
    if (ctx.needs(0) || ctx.needs(1)) {
      const BasicTensor<T> d =
          cat(std::vector<BasicTensor<T>>{dc * gg * i * (T(1) - i), dc * c0 * f * (T(1) - f),
                                          dc * i * (T(1) - gg * gg), gh * t * o * (T(1) - o)},
              1);
      if (ctx.needs(0)) grads[0] = d;
      if (ctx.needs(1)) grads[1] = d;
    }
    if (ctx.needs(2)) grads[2] = dc * f;
    return grads;
  };
  record("lstm_cell_gates", out, {&gates_x, &gates_h, &c}, Saves().input(0).input(1).input(2),
         std::move(backward), std::move(graph));
  return out;
}

template <class T>
std::pair<BasicTensor<T>, BasicTensor<T>> lstm_cell_gates(const BasicTensor<T>& gates_x,
                                                          const BasicTensor<T>& gates_h,
                                                          const BasicTensor<T>& c) {
  const BasicTensor<T> hc = lstm_cell_state(gates_x, gates_h, c);
  return {time_step(hc, 0), time_step(hc, 1)};
}

template <class T>
BasicTensor<T> gru_cell_gates(const BasicTensor<T>& gates_x, const BasicTensor<T>& gates_h,
                              const BasicTensor<T>& h) {
  const auto dims = check_cell("gru_cell_gates", 3, gates_x, gates_h, h, "h");
  const int64_t n = dims.first, hs = dims.second;
  const int64_t g3 = 3 * hs;
  // act: r, z, n per row, which backward reads with gates_h's n part and h.
  Array<T> act(n * g3);
  auto out = BasicTensor<T>::empty(Shape{n, hs});
  T* y = out.mutable_data();
  const T *px = gates_x.data(), *ph = gates_h.data(), *hp = h.data();
  for (int64_t r = 0; r < n; ++r) {
    const Segment<T> x(px + r * g3, g3), gh(ph + r * g3, g3), h0(hp + r * hs, hs);
    MutableSegment<T> a(act.data() + r * g3, g3);
    a.head(2 * hs) = fast_sigmoid(x.head(2 * hs) + gh.head(2 * hs));
    a.tail(hs) = fast_tanh(x.tail(hs) + a.head(hs) * gh.tail(hs));
    MutableSegment<T>(y + r * hs, hs) = a.tail(hs) + a.segment(hs, hs) * (h0 - a.tail(hs));
  }
  if (!needs_grad({&gates_x, &gates_h, &h})) return out;
  auto backward = [n, hs, act = std::move(act), ghd = gates_h.storage(), hd = h.storage()](
                      const Array<T>& g, GradSink<T>& s) {
    const int64_t g3 = 3 * hs;
    Array<T> dx(n * g3), dh(s.needs(1) ? n * g3 : 0), dprev(s.needs(2) ? n * hs : 0), dn(hs);
    for (int64_t r = 0; r < n; ++r) {
      const Segment<T> gr(g.data() + r * hs, hs), rr(act.data() + r * g3, hs),
          z(act.data() + r * g3 + hs, hs), nn(act.data() + r * g3 + 2 * hs, hs),
          ghn(ghd->data() + r * g3 + 2 * hs, hs), h0(hd->data() + r * hs, hs);
      MutableSegment<T> d(dx.data() + r * g3, g3);
      dn = gr * (T(1) - z) * (T(1) - nn.square());
      d.head(hs) = dn * ghn * rr * (T(1) - rr);
      d.segment(hs, hs) = gr * (h0 - nn) * z * (T(1) - z);
      d.tail(hs) = dn;
      if (s.needs(1)) {
        MutableSegment<T> e(dh.data() + r * g3, g3);
        e.head(2 * hs) = d.head(2 * hs);
        e.tail(hs) = dn * rr;
      }
      if (s.needs(2)) dprev.segment(r * hs, hs) = gr * z;
    }
    if (s.needs(0)) s.add(0, std::move(dx));
    if (s.needs(1)) s.add(1, std::move(dh));
    if (s.needs(2)) s.add(2, std::move(dprev));
  };
  auto graph = [hs](GraphContext<T>& ctx, const BasicTensor<T>& g) {
    const BasicTensor<T> x = ctx.input(0), gh = ctx.input(1), h0 = ctx.input(2);
    const BasicTensor<T> rr = sigmoid(narrow(x, 1, 0, hs) + narrow(gh, 1, 0, hs)),
                         z = sigmoid(narrow(x, 1, hs, hs) + narrow(gh, 1, hs, hs)),
                         ghn = narrow(gh, 1, 2 * hs, hs),
                         nn = tanh(narrow(x, 1, 2 * hs, hs) + rr * ghn);
    const BasicTensor<T> dn = g * (T(1) - z) * (T(1) - nn * nn);
    const BasicTensor<T> dr = dn * ghn * rr * (T(1) - rr), dz = g * (h0 - nn) * z * (T(1) - z);
    std::vector<BasicTensor<T>> grads(3);
    if (ctx.needs(0)) grads[0] = cat(std::vector<BasicTensor<T>>{dr, dz, dn}, 1);
    if (ctx.needs(1)) grads[1] = cat(std::vector<BasicTensor<T>>{dr, dz, dn * rr}, 1);
    if (ctx.needs(2)) grads[2] = g * z;
    return grads;
  };
  record("gru_cell_gates", out, {&gates_x, &gates_h, &h}, Saves().input(0).input(1).input(2),
         std::move(backward), std::move(graph));
  return out;
}

template <class T>
BasicTensor<T> time_step(const BasicTensor<T>& x, int64_t t) {
  if (x.rank() == 0) throw Error("time_step: cannot take a step of a rank-0 tensor");
  const int64_t len = x.shape()[0];
  if (t < 0 || t >= len)
    throw Error("time_step: step " + std::to_string(t) + " is out of range for shape " +
                x.shape().str() + ": expected 0 <= t < " + std::to_string(len));
  std::vector<int64_t> dims = x.shape().vec();
  dims.erase(dims.begin());
  const Shape shape(dims);
  const int64_t size = shape.numel(), offset = t * size;
  auto out = BasicTensor<T>::empty(shape);
  if (size > 0) std::copy(x.data() + offset, x.data() + offset + size, out.mutable_data());
  if (needs_grad(x)) {
    std::vector<int64_t> borders(2 * static_cast<size_t>(x.rank()), 0);
    borders[borders.size() - 2] = t;
    borders[borders.size() - 1] = len - t - 1;
    std::vector<int64_t> one = x.shape().vec();
    one[0] = 1;
    record(
        "time_step", out, {&x}, Saves(),
        [offset](const Array<T>& g, GradSink<T>& s) {
          s.add_slice(0, static_cast<Eigen::Index>(offset), g);
        },
        [borders = std::move(borders), one = std::move(one)](GraphContext<T>&,
                                                             const BasicTensor<T>& g) {
          return std::vector<BasicTensor<T>>{pad(reshape(g, one), borders, T(0))};
        });
  }
  return out;
}

#define EIGRAD_INSTANTIATE_RECURRENT(T)                                                 \
  template std::pair<BasicTensor<T>, BasicTensor<T>> lstm_cell_gates(                   \
      const BasicTensor<T>&, const BasicTensor<T>&, const BasicTensor<T>&);             \
  template BasicTensor<T> lstm_cell_state(const BasicTensor<T>&, const BasicTensor<T>&, \
                                          const BasicTensor<T>&);                       \
  template BasicTensor<T> gru_cell_gates(const BasicTensor<T>&, const BasicTensor<T>&,  \
                                         const BasicTensor<T>&);                        \
  template BasicTensor<T> time_step(const BasicTensor<T>&, int64_t);

EIGRAD_INSTANTIATE_RECURRENT(float)
EIGRAD_INSTANTIATE_RECURRENT(double)

}  // namespace eigrad
