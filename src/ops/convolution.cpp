#include "eigrad/ops/convolution.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "gemm.hpp"
#include "im2col.hpp"
#include "layout.hpp"
#include "storage.hpp"
#include "autograd/graph.hpp"

namespace eigrad {

using namespace detail;

namespace {

template <size_t D>
std::string str(const std::array<int64_t, D>& v) {
  return ExpandingArray<D>(v).str();
}

// Checks a convolution's arguments against PyTorch's rules and returns its sizes. D spatial
// axes (1 or 2); a 1-d convolution becomes a 2-d one with H = kH = 1.
template <size_t D>
ConvGeometry conv_geometry(const char* op, const Shape& in, const Shape& w, const Shape* bias,
                           const std::array<int64_t, D>& stride,
                           const std::array<int64_t, D>& padding,
                           const std::array<int64_t, D>& dilation, int64_t groups) {
  const std::string name(op);
  const int rank = static_cast<int>(D) + 2;
  const std::string axes = D == 2 ? "H, W" : "L";
  const std::string kernel = D == 2 ? "kH, kW" : "K";
  if (in.rank() != rank)
    throw Error(name + ": expected input [N, C, " + axes + "] (rank " + std::to_string(rank) +
                "), got " + in.str());
  if (w.rank() != rank)
    throw Error(name + ": expected weight [O, C / groups, " + kernel + "] (rank " +
                std::to_string(rank) + "), got " + w.str() + " for input " + in.str());
  if (groups < 1) throw Error(name + ": expected groups >= 1, got " + std::to_string(groups));
  for (size_t i = 0; i < D; ++i) {
    if (stride[i] < 1)
      throw Error(name + ": expected stride >= 1, got " + str(stride) + " for input " + in.str());
    if (dilation[i] < 1)
      throw Error(name + ": expected dilation >= 1, got " + str(dilation) + " for input " +
                  in.str());
    if (padding[i] < 0)
      throw Error(name + ": expected padding >= 0, got " + str(padding) + " for input " + in.str());
  }
  const int64_t c = in[1], o = w[0];
  if (c % groups != 0)
    throw Error(name + ": expected input channels divisible by groups " + std::to_string(groups) +
                ", got input " + in.str() + " with " + std::to_string(c) + " channels");
  if (o % groups != 0)
    throw Error(name + ": expected weight's output channels divisible by groups " +
                std::to_string(groups) + ", got weight " + w.str());
  if (w[1] != c / groups)
    throw Error(name + ": expected weight [O, C / groups, " + kernel +
                "] with C / groups = " + std::to_string(c / groups) + " for input " + in.str() +
                " and groups " + std::to_string(groups) + ", got " + w.str());
  if (bias && !(bias->rank() == 1 && (*bias)[0] == o))
    throw Error(name + ": expected bias [O] = [" + std::to_string(o) + "] for weight " + w.str() +
                ", got " + bias->str());
  std::array<int64_t, D> size{}, span{}, out{};
  for (size_t i = 0; i < D; ++i) {
    const int a = static_cast<int>(i) + 2;
    size[i] = in[a] + 2 * padding[i];
    span[i] = dilation[i] * (w[a] - 1) + 1;
    out[i] = size[i] >= span[i] && w[a] > 0 ? (size[i] - span[i]) / stride[i] + 1 : 0;
  }
  for (size_t i = 0; i < D; ++i)
    if (out[i] < 1)
      throw Error(name + ": kernel " + w.str() + " with dilation " + str(dilation) + " spans " +
                  str(span) + ", more than the padded input " + str(size) + " of input " +
                  in.str() + " with padding " + str(padding) + "; expected a non-empty output");
  // The 1-d case is the 2-d one with H = kH = 1: its only axis is the last.
  const size_t last = D - 1;
  const bool two = D == 2;
  ConvGeometry g{};
  g.n = in[0];
  g.c = c;
  g.h = two ? in[2] : 1;
  g.w = in[rank - 1];
  g.o = o;
  g.kh = two ? w[2] : 1;
  g.kw = w[rank - 1];
  g.sh = two ? stride[0] : 1;
  g.sw = stride[last];
  g.ph = two ? padding[0] : 0;
  g.pw = padding[last];
  g.dh = two ? dilation[0] : 1;
  g.dw = dilation[last];
  g.groups = groups;
  g.ho = two ? out[0] : 1;
  g.wo = out[last];
  return g;
}

// Each thread's partial sum of a weight or bias gradient, summed in sample order at the end so
// the result does not depend on which thread finished first.
template <class T>
class PartialSums {
 public:
  void add(int64_t first_sample, Array<T>&& part) {
    std::lock_guard<std::mutex> lock(mutex_);
    parts_.emplace_back(first_sample, std::move(part));
  }
  Array<T> total() {
    std::sort(parts_.begin(), parts_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    Array<T> sum = std::move(parts_.front().second);
    for (size_t i = 1; i < parts_.size(); ++i) sum += parts_[i].second;
    return sum;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<int64_t, Array<T>>> parts_;
};

// A 1 x 1 kernel with stride 1 and no padding reads the input as it is: cols is the input.
bool cols_is_input(const ConvGeometry& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
}

// The convolution of x [N, C, H, W] by w [O, C / groups, kH, kW] (plus bias) as products:
// for each sample and group, Y [O / groups, HW] = W_g [O / groups, K] x im2col(x_n,g) [K, HW].
// The backward recomputes im2col rather than keeping cols from the forward: one sample's cols
// stays in the cache, and the forward needs no [N, K, HW] buffer (BENCHMARKS.md, "Figures behind
// the code").
template <class T>
BasicTensor<T> convolution(const char* op, const BasicTensor<T>& x, const BasicTensor<T>& w,
                           const BasicTensor<T>& b, const ConvGeometry& g, const Shape& out_shape) {
  auto out = BasicTensor<T>::empty(out_shape);
  const int64_t K = g.k(), HW = g.hw(), og = g.og(), in_sample = g.c * g.h * g.w;
  const int64_t in_group = g.cg() * g.h * g.w, out_sample = g.o * HW;
  const int64_t flops = 2 * g.n * g.o * K * HW;
  const bool direct = cols_is_input(g);
  const T* xd = x.data();
  const T* wd = w.data();
  const T* bd = b.defined() ? b.data() : nullptr;
  T* yd = out.mutable_data();
  parallel_for(
      g.n,
      [&](int64_t begin, int64_t end) {
        const auto cols = detail::allocate_storage<T>(direct ? 0 : K * HW).data;
        for (int64_t n = begin; n < end; ++n)
          for (int64_t gi = 0; gi < g.groups; ++gi) {
            const T* xg = xd + n * in_sample + gi * in_group;
            if (!direct) im2col(xg, g, cols->data());
            T* y = yd + n * out_sample + gi * og * HW;
            if (bd)
              MatrixMap<T>(y, og, HW).colwise() =
                  Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(bd + gi * og, og);
            gemm(operand(wd + gi * og * K, og, K), operand(direct ? xg : cols->data(), K, HW), y,
                 bd != nullptr);
          }
      },
      flops);
  const bool has_bias = b.defined();
  if (!(has_bias ? needs_grad({&x, &w, &b}) : needs_grad(x, w))) return out;
  auto backward = [g, has_bias, xs = x.storage(), ws = w.storage()](const Array<T>& grad,
                                                                    GradSink<T>& s) {
    const int64_t K = g.k(), HW = g.hw(), og = g.og(), in_sample = g.c * g.h * g.w;
    const int64_t in_group = g.cg() * g.h * g.w, out_sample = g.o * HW;
    const bool want_x = s.needs(0), want_w = s.needs(1), want_b = has_bias && s.needs(2);
    const bool direct = cols_is_input(g);
    int64_t flops = 0;
    if (want_x) flops += 2 * g.n * g.o * K * HW;
    if (want_w) flops += 2 * g.n * g.o * K * HW;
    Array<T> gx = want_x ? Array<T>::Zero(g.n * in_sample) : Array<T>();
    PartialSums<T> gw_parts, gb_parts;
    const T* xd = xs->data();
    const T* wd = ws->data();
    const T* gd = grad.data();
    parallel_for(
        g.n,
        [&](int64_t begin, int64_t end) {
          const auto cols = detail::allocate_storage<T>(direct ? 0 : K * HW).data;
          Array<T> gw = want_w ? Array<T>::Zero(g.o * K) : Array<T>();
          Array<T> gb = want_b ? Array<T>::Zero(g.o) : Array<T>();
          for (int64_t n = begin; n < end; ++n) {
            for (int64_t gi = 0; gi < g.groups; ++gi) {
              const T* gy_data = gd + n * out_sample + gi * og * HW;
              if (want_w) {
                const T* xg = xd + n * in_sample + gi * in_group;
                if (!direct) im2col(xg, g, cols->data());
                gemm(operand(gy_data, og, HW), transposed(direct ? xg : cols->data(), K, HW),
                     gw.data() + gi * og * K, true);
              }
              if (want_x) {
                T* gxg = gx.data() + n * in_sample + gi * in_group;
                gemm(transposed(wd + gi * og * K, og, K), operand(gy_data, og, HW),
                     direct ? gxg : cols->data(), false);
                if (!direct) col2im_add(cols->data(), g, gxg);
              }
            }
            if (want_b)
              gb += ConstMatrixMap<T>(gd + n * out_sample, g.o, HW).rowwise().sum().array();
          }
          if (want_w) gw_parts.add(begin, std::move(gw));
          if (want_b) gb_parts.add(begin, std::move(gb));
        },
        flops);
    if (want_b) s.add(2, gb_parts.total());
    if (want_w) s.add(1, gw_parts.total());
    if (want_x) s.add(0, std::move(gx));
  };
  if (has_bias)
    record(op, out, {&x, &w, &b}, Saves().input(0).input(1), std::move(backward));
  else
    record(op, out, {&x, &w}, Saves().input(0).input(1), std::move(backward));
  return out;
}

}  // namespace

template <class T>
BasicTensor<T> conv2d(const BasicTensor<T>& input, const BasicTensor<T>& weight,
                      const BasicTensor<T>& bias, ExpandingArray<2> stride,
                      ExpandingArray<2> padding, ExpandingArray<2> dilation, int64_t groups) {
  const Shape bias_shape = bias.defined() ? bias.shape() : Shape();
  const ConvGeometry g = conv_geometry<2>("conv2d", input.shape(), weight.shape(),
                                          bias.defined() ? &bias_shape : nullptr, stride.values(),
                                          padding.values(), dilation.values(), groups);
  return convolution("conv2d", input, weight, bias, g, Shape{g.n, g.o, g.ho, g.wo});
}

// A 1-d convolution is the 2-d one of [N, C, 1, L] by [O, C / groups, 1, K]: the same storage,
// seen with H = kH = 1.
template <class T>
BasicTensor<T> conv1d(const BasicTensor<T>& input, const BasicTensor<T>& weight,
                      const BasicTensor<T>& bias, int64_t stride, int64_t padding, int64_t dilation,
                      int64_t groups) {
  const Shape bias_shape = bias.defined() ? bias.shape() : Shape();
  const ConvGeometry g = conv_geometry<1>("conv1d", input.shape(), weight.shape(),
                                          bias.defined() ? &bias_shape : nullptr, {stride},
                                          {padding}, {dilation}, groups);
  return convolution("conv1d", input, weight, bias, g, Shape{g.n, g.o, g.wo});
}

#define EIGRAD_INSTANTIATE_CONVOLUTION(T)                                                     \
  template BasicTensor<T> conv2d(const BasicTensor<T>&, const BasicTensor<T>&,                \
                                 const BasicTensor<T>&, ExpandingArray<2>, ExpandingArray<2>, \
                                 ExpandingArray<2>, int64_t);                                 \
  template BasicTensor<T> conv1d(const BasicTensor<T>&, const BasicTensor<T>&,                \
                                 const BasicTensor<T>&, int64_t, int64_t, int64_t, int64_t);

EIGRAD_INSTANTIATE_CONVOLUTION(float)
EIGRAD_INSTANTIATE_CONVOLUTION(double)

}  // namespace eigrad
