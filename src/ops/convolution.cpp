#include "eigrad/ops/convolution.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "autograd/graph.hpp"
#include "eigrad/backends.hpp"
#include "eigrad/ops/reduce.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "gemm.hpp"
#include "im2col.hpp"
#include "layout.hpp"
#include "storage.hpp"
#include "winograd.hpp"

namespace eigrad {

using namespace detail;

namespace {

template <size_t D>
std::string str(const std::array<int64_t, D>& v) {
  return ExpandingArray<D>(v).str();
}

// a * b + c, or an Error naming the op and the argument when the size overflows int64.
int64_t size_term(const std::string& op, const char* argument, const std::string& value, int64_t a,
                  int64_t b, int64_t c) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || __builtin_add_overflow(r, c, &r))
    throw Error(op + ": " + argument + " " + value +
                " makes a size overflow int64; expected a size that fits");
  return r;
}

// The rules a convolution and a transposed one share: groups, strides and dilations at least 1,
// paddings at least 0.
template <size_t D>
void check_conv_arguments(const std::string& name, const Shape& in,
                          const std::array<int64_t, D>& stride,
                          const std::array<int64_t, D>& padding,
                          const std::array<int64_t, D>& dilation, int64_t groups) {
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
  check_conv_arguments(name, in, stride, padding, dilation, groups);
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
    size[i] = size_term(name, "padding", str(padding), 2, padding[i], in[a]);
    span[i] = size_term(name, "dilation", str(dilation), dilation[i], w[a] - 1, 1);
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

// The convolution of x [N, C, H, W] by w [O, C / groups, kH, kW] (plus bias) into y, as
// products: for each sample and group, Y [O / groups, HW] = W_g [O / groups, K] x
// im2col(x_n,g) [K, HW].
template <class T>
void conv_forward(const ConvGeometry& g, const T* xd, const T* wd, const T* bd, T* yd) {
  if (fast_paths() && winograd_applies(g)) return winograd_conv(g, xd, wd, false, bd, yd);
  const int64_t K = g.k(), HW = g.hw(), og = g.og(), in_sample = g.c * g.h * g.w;
  const int64_t in_group = g.cg() * g.h * g.w, out_sample = g.o * HW;
  const int64_t flops = 2 * g.n * g.o * K * HW;
  const bool direct = cols_is_input(g);
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
}

// The gradients wanted, from gd, the gradient of y: the input's (the transposed products, then
// col2im), the weight's (summed over the samples) and the bias's, in one pass over the samples.
// xd is read only for the weight's gradient and wd only for the input's.
template <class T>
struct ConvGrads {
  Array<T> x, w, b;
};
template <class T>
ConvGrads<T> conv_backward(const ConvGeometry& g, const T* gd, const T* xd, const T* wd,
                           bool want_x, bool want_w, bool want_b) {
  const int64_t K = g.k(), HW = g.hw(), og = g.og(), in_sample = g.c * g.h * g.w;
  const int64_t in_group = g.cg() * g.h * g.w, out_sample = g.o * HW;
  const bool direct = cols_is_input(g);
  // The input's gradient by Winograd (a convolution of gy, written whole) or by the transposed
  // products and col2im below (summed into zeros).
  const bool winograd_x = want_x && fast_paths() && winograd_input_grad_applies(g);
  // The weight's gradient by Winograd: per thread, sums in the transform domain, turned into
  // the gradient once at the end.
  const bool winograd_w = want_w && fast_paths() && winograd_applies(g);
  int64_t flops = 0;
  if (want_x && !winograd_x) flops += 2 * g.n * g.o * K * HW;
  if (want_w) flops += 2 * g.n * g.o * K * HW;
  Array<T> gx = !want_x      ? Array<T>()
                : winograd_x ? Array<T>(g.n * in_sample)
                             : Array<T>::Zero(g.n * in_sample);
  if (winograd_x)
    winograd_conv(input_grad_geometry(g), gd, wd, /*flip=*/true, static_cast<const T*>(nullptr),
                  gx.data());
  PartialSums<T> gw_parts, gb_parts;
  parallel_for(
      g.n,
      [&](int64_t begin, int64_t end) {
        const auto cols = detail::allocate_storage<T>(direct ? 0 : K * HW).data;
        Array<T> gw = want_w ? Array<T>::Zero(winograd_w ? 16 * g.o * g.c : g.o * K) : Array<T>();
        Array<T> gb = want_b ? Array<T>::Zero(g.o) : Array<T>();
        if (winograd_w) winograd_weight_grad_part(g, xd, gd, begin, end, gw.data());
        for (int64_t n = begin; n < end; ++n) {
          for (int64_t gi = 0; gi < g.groups; ++gi) {
            const T* gy_data = gd + n * out_sample + gi * og * HW;
            if (want_w && !winograd_w) {
              const T* xg = xd + n * in_sample + gi * in_group;
              if (!direct) im2col(xg, g, cols->data());
              gemm(operand(gy_data, og, HW), transposed(direct ? xg : cols->data(), K, HW),
                   gw.data() + gi * og * K, true);
            }
            if (want_x && !winograd_x) {
              T* gxg = gx.data() + n * in_sample + gi * in_group;
              gemm(transposed(wd + gi * og * K, og, K), operand(gy_data, og, HW),
                   direct ? gxg : cols->data(), false);
              if (!direct) col2im_add(cols->data(), g, gxg);
            }
          }
          if (want_b) gb += ConstMatrixMap<T>(gd + n * out_sample, g.o, HW).rowwise().sum().array();
        }
        if (want_w) gw_parts.add(begin, std::move(gw));
        if (want_b) gb_parts.add(begin, std::move(gb));
      },
      flops);
  Array<T> gw = want_w ? gw_parts.total() : Array<T>();
  if (winograd_w) {
    Array<T> du = std::move(gw);
    gw = Array<T>(g.o * K);
    winograd_weight_grad_finish(g, du.data(), gw.data());
  }
  return {std::move(gx), std::move(gw), want_b ? gb_parts.total() : Array<T>()};
}

// The shapes of a convolution's input, weight and output.
struct ConvShapes {
  Shape x, w, y;
};

template <class T>
using Grads = std::vector<BasicTensor<T>>;

template <class T>
BasicTensor<T> tensor_of(Array<T>&& values, const Shape& shape) {
  return BasicTensor<T>::from_storage(std::make_shared<Array<T>>(std::move(values)), shape);
}

// A convolution is bilinear in (x, w), and so are its two gradients, each an op of its own whose
// derivatives are the other two: with <., .> the sum of products,
//   <gy, conv(x, w)> = <conv_input_grad(gy, w), x> = <conv_weight_grad(x, gy), w>,
// so each op's gradient with respect to one operand is one of the three ops applied to the
// incoming gradient and the other operand. The three record their graph backwards in terms of
// each other: a convolution is differentiable to any order.
template <class T>
BasicTensor<T> convolution(const char* op, const BasicTensor<T>& x, const BasicTensor<T>& w,
                           const BasicTensor<T>& b, const ConvGeometry& g, const ConvShapes& sh);
template <class T>
BasicTensor<T> conv_input_grad(const char* op, const BasicTensor<T>& gy, const BasicTensor<T>& w,
                               const ConvGeometry& g, const ConvShapes& sh);
template <class T>
BasicTensor<T> conv_weight_grad(const char* op, const BasicTensor<T>& x, const BasicTensor<T>& gy,
                                const ConvGeometry& g, const ConvShapes& sh);

// The bias's gradient in eigrad ops: gy summed over the samples and positions.
template <class T>
BasicTensor<T> conv_bias_grad(const BasicTensor<T>& gy, const ConvGeometry& g) {
  return reshape(sum_to_size(reshape(gy, {g.n, g.o, g.hw()}), Shape{1, g.o, 1}), {g.o});
}

// The backward recomputes im2col rather than keeping cols from the forward: one sample's cols
// stays in the cache, and the forward needs no [N, K, HW] buffer (BENCHMARKS.md, "Figures behind
// the code").
template <class T>
BasicTensor<T> convolution(const char* op, const BasicTensor<T>& x, const BasicTensor<T>& w,
                           const BasicTensor<T>& b, const ConvGeometry& g, const ConvShapes& sh) {
  auto out = BasicTensor<T>::empty(sh.y);
  conv_forward<T>(g, x.data(), w.data(), b.defined() ? b.data() : nullptr, out.mutable_data());
  const bool has_bias = b.defined();
  if (!(has_bias ? needs_grad({&x, &w, &b}) : needs_grad(x, w))) return out;
  auto backward = [g, has_bias, xs = x.storage(), ws = w.storage()](const Array<T>& grad,
                                                                    GradSink<T>& s) {
    const bool want_x = s.needs(0), want_w = s.needs(1), want_b = has_bias && s.needs(2);
    ConvGrads<T> r =
        conv_backward<T>(g, grad.data(), xs->data(), ws->data(), want_x, want_w, want_b);
    if (want_b) s.add(2, std::move(r.b));
    if (want_w) s.add(1, std::move(r.w));
    if (want_x) s.add(0, std::move(r.x));
  };
  auto graph = [op, g, sh, has_bias](GraphContext<T>& c, const BasicTensor<T>& gy) {
    Grads<T> r(has_bias ? 3 : 2);
    if (c.needs(0)) r[0] = conv_input_grad(op, gy, c.input(1), g, sh);
    if (c.needs(1)) r[1] = conv_weight_grad(op, c.input(0), gy, g, sh);
    if (has_bias && c.needs(2)) r[2] = conv_bias_grad(gy, g);
    return r;
  };
  if (has_bias)
    record(op, out, {&x, &w, &b}, Saves().input(0).input(1), std::move(backward), std::move(graph));
  else
    record(op, out, {&x, &w}, Saves().input(0).input(1), std::move(backward), std::move(graph));
  return out;
}

// The input's gradient gy -> dx for the weight w: linear in each of gy and w.
template <class T>
BasicTensor<T> conv_input_grad(const char* op, const BasicTensor<T>& gy, const BasicTensor<T>& w,
                               const ConvGeometry& g, const ConvShapes& sh) {
  auto out =
      tensor_of(conv_backward<T>(g, gy.data(), nullptr, w.data(), true, false, false).x, sh.x);
  if (needs_grad(gy, w))
    record(
        "conv_input_grad", out, {&gy, &w}, Saves().input(0).input(1),
        [g, ny = sh.y.numel(), gs = gy.storage(), ws = w.storage()](const Array<T>& h,
                                                                    GradSink<T>& s) {
          if (s.needs(0)) {  // conv(h, w)
            Array<T> gg(ny);
            conv_forward<T>(g, h.data(), ws->data(), nullptr, gg.data());
            s.add(0, std::move(gg));
          }
          if (s.needs(1))  // conv_weight_grad(h, gy)
            s.add(1, conv_backward<T>(g, gs->data(), h.data(), nullptr, false, true, false).w);
        },
        [op, g, sh](GraphContext<T>& c, const BasicTensor<T>& h) {
          return Grads<T>{
              c.needs(0) ? convolution(op, h, c.input(1), BasicTensor<T>(), g, sh)
                         : BasicTensor<T>(),
              c.needs(1) ? conv_weight_grad(op, h, c.input(0), g, sh) : BasicTensor<T>()};
        });
  return out;
}

// The weight's gradient (x, gy) -> dw: linear in each of x and gy.
template <class T>
BasicTensor<T> conv_weight_grad(const char* op, const BasicTensor<T>& x, const BasicTensor<T>& gy,
                                const ConvGeometry& g, const ConvShapes& sh) {
  auto out =
      tensor_of(conv_backward<T>(g, gy.data(), x.data(), nullptr, false, true, false).w, sh.w);
  if (needs_grad(x, gy))
    record(
        "conv_weight_grad", out, {&x, &gy}, Saves().input(0).input(1),
        [g, ny = sh.y.numel(), xs = x.storage(), gs = gy.storage()](const Array<T>& h,
                                                                    GradSink<T>& s) {
          if (s.needs(0))  // conv_input_grad(gy, h)
            s.add(0, conv_backward<T>(g, gs->data(), nullptr, h.data(), true, false, false).x);
          if (s.needs(1)) {  // conv(x, h)
            Array<T> gg(ny);
            conv_forward<T>(g, xs->data(), h.data(), nullptr, gg.data());
            s.add(1, std::move(gg));
          }
        },
        [op, g, sh](GraphContext<T>& c, const BasicTensor<T>& h) {
          return Grads<T>{c.needs(0) ? conv_input_grad(op, c.input(1), h, g, sh) : BasicTensor<T>(),
                          c.needs(1) ? convolution(op, c.input(0), h, BasicTensor<T>(), g, sh)
                                     : BasicTensor<T>()};
        });
  return out;
}

// Checks a transposed convolution's arguments against PyTorch's rules and returns the geometry
// of the convolution it is the transpose of: that convolution maps the transposed output
// [N, C_out, H_out, W_out] to the transposed input [N, C_in, H, W] with the same weight
// [C_in, C_out / groups, kH, kW]. Its own output size is set to H (with output_padding >= stride,
// which PyTorch allows when output_padding < dilation, it would be larger).
template <size_t D>
ConvGeometry conv_transpose_geometry(const char* op, const Shape& in, const Shape& w,
                                     const Shape* bias, const std::array<int64_t, D>& stride,
                                     const std::array<int64_t, D>& padding,
                                     const std::array<int64_t, D>& output_padding,
                                     const std::array<int64_t, D>& dilation, int64_t groups) {
  const std::string name(op);
  const int rank = static_cast<int>(D) + 2;
  const std::string axes = D == 2 ? "H, W" : "L";
  const std::string kernel = D == 2 ? "kH, kW" : "K";
  if (in.rank() != rank)
    throw Error(name + ": expected input [N, C_in, " + axes + "] (rank " + std::to_string(rank) +
                "), got " + in.str());
  if (w.rank() != rank)
    throw Error(name + ": expected weight [C_in, C_out / groups, " + kernel + "] (rank " +
                std::to_string(rank) + "), got " + w.str() + " for input " + in.str());
  check_conv_arguments(name, in, stride, padding, dilation, groups);
  for (size_t i = 0; i < D; ++i) {
    if (output_padding[i] < 0 ||
        (output_padding[i] >= stride[i] && output_padding[i] >= dilation[i]))
      throw Error(name + ": output_padding must be non-negative and smaller than either stride " +
                  "or dilation, got output_padding " + str(output_padding) + ", stride " +
                  str(stride) + " and dilation " + str(dilation));
  }
  const int64_t c = in[1];
  if (c % groups != 0)
    throw Error(name + ": expected input channels divisible by groups " + std::to_string(groups) +
                ", got input " + in.str() + " with " + std::to_string(c) + " channels");
  if (w[0] != c)
    throw Error(name + ": expected weight [C_in, C_out / groups, " + kernel + "] with C_in = " +
                std::to_string(c) + " for input " + in.str() + ", got " + w.str());
  const int64_t o = w[1] * groups;
  if (bias && !(bias->rank() == 1 && (*bias)[0] == o))
    throw Error(name + ": expected bias [C_out] = [" + std::to_string(o) + "] for weight " +
                w.str() + " and groups " + std::to_string(groups) + ", got " + bias->str());
  std::array<int64_t, D> out{};
  for (size_t i = 0; i < D; ++i) {
    const int a = static_cast<int>(i) + 2;
    const int64_t strided = size_term(name, "stride", str(stride), in[a] - 1, stride[i], 0);
    const int64_t spanned =
        size_term(name, "dilation", str(dilation), dilation[i], w[a] - 1, output_padding[i] + 1);
    out[i] = size_term(name, "padding", str(padding), -2, padding[i],
                       size_term(name, "dilation", str(dilation), 1, strided, spanned));
  }
  for (size_t i = 0; i < D; ++i)
    if (out[i] < 1 || w[i + 2] < 1 || in[i + 2] < 1)
      throw Error(name + ": input " + in.str() + " with weight " + w.str() + ", stride " +
                  str(stride) + ", padding " + str(padding) + ", output_padding " +
                  str(output_padding) + " and dilation " + str(dilation) + " gives output size " +
                  str(out) + "; expected a non-empty output");
  const size_t last = D - 1;
  const bool two = D == 2;
  ConvGeometry g{};
  g.n = in[0];
  g.c = o;
  g.h = two ? out[0] : 1;
  g.w = out[last];
  g.o = c;
  g.kh = two ? w[2] : 1;
  g.kw = w[rank - 1];
  g.sh = two ? stride[0] : 1;
  g.sw = stride[last];
  g.ph = two ? padding[0] : 0;
  g.pw = padding[last];
  g.dh = two ? dilation[0] : 1;
  g.dw = dilation[last];
  g.groups = groups;
  g.ho = two ? in[2] : 1;
  g.wo = in[rank - 1];
  return g;
}

// The transposed convolution of x by w (plus bias): conv_input_grad(x, w) of the convolution g,
// with the bias added per output channel. sh holds that convolution's shapes: sh.x is this op's
// output, sh.y its input. Its gradients are the convolution (for x), conv_weight_grad (for w) and
// the sum over samples and positions (for the bias), all differentiable again.
template <class T>
BasicTensor<T> transposed_convolution(const char* op, const BasicTensor<T>& x,
                                      const BasicTensor<T>& w, const BasicTensor<T>& b,
                                      const ConvGeometry& g, const ConvShapes& sh) {
  const bool has_bias = b.defined();
  auto out =
      tensor_of(conv_backward<T>(g, x.data(), nullptr, w.data(), true, false, false).x, sh.x);
  const int64_t plane = g.h * g.w;
  if (has_bias) {
    const Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>> bias(b.data(), g.c);
    T* yd = out.mutable_data();
    for (int64_t n = 0; n < g.n; ++n)
      MatrixMap<T>(yd + n * g.c * plane, g.c, plane).colwise() += bias;
  }
  if (!(has_bias ? needs_grad({&x, &w, &b}) : needs_grad(x, w))) return out;
  auto backward = [g, has_bias, plane, ny = sh.y.numel(), xs = x.storage(), ws = w.storage()](
                      const Array<T>& h, GradSink<T>& s) {
    if (has_bias && s.needs(2)) {
      Array<T> gb = Array<T>::Zero(g.c);
      for (int64_t n = 0; n < g.n; ++n)
        gb += ConstMatrixMap<T>(h.data() + n * g.c * plane, g.c, plane).rowwise().sum().array();
      s.add(2, std::move(gb));
    }
    if (s.needs(1))  // conv_weight_grad(h, x)
      s.add(1, conv_backward<T>(g, xs->data(), h.data(), nullptr, false, true, false).w);
    if (s.needs(0)) {  // conv(h, w)
      Array<T> gx(ny);
      conv_forward<T>(g, h.data(), ws->data(), nullptr, gx.data());
      s.add(0, std::move(gx));
    }
  };
  auto graph = [op, g, sh, has_bias, plane](GraphContext<T>& c, const BasicTensor<T>& h) {
    Grads<T> r(has_bias ? 3 : 2);
    if (c.needs(0)) r[0] = convolution(op, h, c.input(1), BasicTensor<T>(), g, sh);
    if (c.needs(1)) r[1] = conv_weight_grad(op, h, c.input(0), g, sh);
    if (has_bias && c.needs(2))
      r[2] = reshape(sum_to_size(reshape(h, {g.n, g.c, plane}), Shape{1, g.c, 1}), {g.c});
    return r;
  };
  if (has_bias)
    record(op, out, {&x, &w, &b}, Saves().input(0).input(1), std::move(backward), std::move(graph));
  else
    record(op, out, {&x, &w}, Saves().input(0).input(1), std::move(backward), std::move(graph));
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
  return convolution<T>("conv2d", input, weight, bias, g,
                        {input.shape(), weight.shape(), Shape{g.n, g.o, g.ho, g.wo}});
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
  return convolution<T>("conv1d", input, weight, bias, g,
                        {input.shape(), weight.shape(), Shape{g.n, g.o, g.wo}});
}

template <class T>
BasicTensor<T> conv_transpose2d(const BasicTensor<T>& input, const BasicTensor<T>& weight,
                                const BasicTensor<T>& bias, ExpandingArray<2> stride,
                                ExpandingArray<2> padding, ExpandingArray<2> output_padding,
                                int64_t groups, ExpandingArray<2> dilation) {
  const Shape bias_shape = bias.defined() ? bias.shape() : Shape();
  const ConvGeometry g = conv_transpose_geometry<2>(
      "conv_transpose2d", input.shape(), weight.shape(), bias.defined() ? &bias_shape : nullptr,
      stride.values(), padding.values(), output_padding.values(), dilation.values(), groups);
  return transposed_convolution<T>("conv_transpose2d", input, weight, bias, g,
                                   {Shape{g.n, g.c, g.h, g.w}, weight.shape(), input.shape()});
}

// The 2-d one with H = kH = 1, as for conv1d.
template <class T>
BasicTensor<T> conv_transpose1d(const BasicTensor<T>& input, const BasicTensor<T>& weight,
                                const BasicTensor<T>& bias, int64_t stride, int64_t padding,
                                int64_t output_padding, int64_t groups, int64_t dilation) {
  const Shape bias_shape = bias.defined() ? bias.shape() : Shape();
  const ConvGeometry g = conv_transpose_geometry<1>(
      "conv_transpose1d", input.shape(), weight.shape(), bias.defined() ? &bias_shape : nullptr,
      {stride}, {padding}, {output_padding}, {dilation}, groups);
  return transposed_convolution<T>("conv_transpose1d", input, weight, bias, g,
                                   {Shape{g.n, g.c, g.w}, weight.shape(), input.shape()});
}

#define EIGRAD_INSTANTIATE_CONVOLUTION(T)                                                     \
  template BasicTensor<T> conv2d(const BasicTensor<T>&, const BasicTensor<T>&,                \
                                 const BasicTensor<T>&, ExpandingArray<2>, ExpandingArray<2>, \
                                 ExpandingArray<2>, int64_t);                                 \
  template BasicTensor<T> conv1d(const BasicTensor<T>&, const BasicTensor<T>&,                \
                                 const BasicTensor<T>&, int64_t, int64_t, int64_t, int64_t);  \
  template BasicTensor<T> conv_transpose2d(                                                   \
      const BasicTensor<T>&, const BasicTensor<T>&, const BasicTensor<T>&, ExpandingArray<2>, \
      ExpandingArray<2>, ExpandingArray<2>, int64_t, ExpandingArray<2>);                      \
  template BasicTensor<T> conv_transpose1d(const BasicTensor<T>&, const BasicTensor<T>&,      \
                                           const BasicTensor<T>&, int64_t, int64_t, int64_t,  \
                                           int64_t, int64_t);

EIGRAD_INSTANTIATE_CONVOLUTION(float)
EIGRAD_INSTANTIATE_CONVOLUTION(double)

}  // namespace eigrad
