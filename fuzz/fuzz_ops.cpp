// Fuzzes the op layer: the input is a small program of ops on small tensors of random shapes,
// then backward. Every op is checked against its contract, with the expected shape worked out
// here independently of eigrad's own shape code: the op returns a tensor of exactly that shape
// (recording a node iff grad mode is on and an input requires grad), or it throws eigrad::Error
// where the contract says the call is invalid. Anything else (another exception, a crash, a
// sanitizer report, a wrong shape, an error for a valid call) aborts with the program's trace.
//
// Input layout: byte 0 picks the dtype (even: float32, odd: float64), byte 1 holds flags (bit 0:
// anomaly detection on), then 12-byte records, one op each: byte 0 the op, the rest its
// arguments (missing bytes read as 0). The fixed record size keeps mutations local.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/autograd.hpp"
#include "eigrad/error.hpp"
#include "eigrad/nn/functional.hpp"
#include "eigrad/nn/loss.hpp"
#include "eigrad/nn/recurrent.hpp"
#include "eigrad/ops.hpp"
#include "eigrad/random.hpp"
#include "eigrad/tensor.hpp"

namespace {

using eigrad::BasicTensor;
using Dims = std::vector<int64_t>;

constexpr int kMaxRank = 8;          // eigrad's documented maximum rank
constexpr int64_t kMaxNumel = 4096;  // larger results are not computed (the fuzzer wants speed)
constexpr size_t kRecord = 12;
constexpr size_t kMaxValues = 48;

std::string str(const Dims& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

// ---------------------------------------------------------------- the contracts' shape rules

// The product of the sizes, or nothing when it overflows int64.
std::optional<int64_t> product(const Dims& d) {
  int64_t n = 1;
  for (int64_t v : d)
    if (__builtin_mul_overflow(n, v, &n)) return std::nullopt;
  return n;
}

// A possibly negative axis resolved against a rank; rank 0 takes -1 and 0 (as PyTorch does).
std::optional<int> resolve_axis(int axis, int rank) {
  const int r = std::max(rank, 1);
  if (axis < -r || axis >= r) return std::nullopt;
  return axis < 0 ? axis + r : axis;
}

std::optional<Dims> broadcast(const Dims& a, const Dims& b) {
  const size_t r = std::max(a.size(), b.size());
  Dims out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i + a.size() >= r ? a[i + a.size() - r] : 1;
    const int64_t db = i + b.size() >= r ? b[i + b.size() - r] : 1;
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Dims without_axis(const Dims& d, int axis, bool keepdim) {
  Dims out;
  for (int i = 0; i < static_cast<int>(d.size()); ++i) {
    if (i != axis)
      out.push_back(d[static_cast<size_t>(i)]);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

// What a call should give: a shape, an error (no shape), or, for degenerate arguments whose
// handling PyTorch leaves open (zero channels, an empty kernel), either (lenient).
struct Expected {
  std::optional<Dims> shape;
  bool lenient = false;
};

// conv1d and conv2d: input [N, C, *], weight [O, C / groups, *kernel], bias [O] (PyTorch's
// check_shape_forward); the output [N, O, *] with (size + 2 padding - dilation (k - 1) - 1) /
// stride + 1 >= 1 along each spatial axis.
Expected conv_shape(const Dims& x, const Dims& w, const Dims* bias, const Dims& stride,
                    const Dims& padding, const Dims& dilation, int64_t groups) {
  const size_t d = stride.size();
  if (x.size() != d + 2 || w.size() != d + 2 || groups < 1) return {};
  for (size_t i = 0; i < d; ++i)
    if (stride[i] < 1 || dilation[i] < 1 || padding[i] < 0) return {};
  const int64_t c = x[1], o = w[0];
  if (c % groups != 0 || o % groups != 0 || w[1] != c / groups) return {};
  if (bias && (bias->size() != 1 || (*bias)[0] != o)) return {};
  bool degenerate = c == 0 || o == 0;
  Dims out{x[0], o};
  for (size_t i = 0; i < d; ++i) {
    const int64_t k = w[2 + i], size = x[2 + i] + 2 * padding[i];
    degenerate |= k == 0;
    const int64_t span = dilation[i] * (k - 1) + 1;
    if (size < span && !degenerate) return {};
    out.push_back(size >= span ? (size - span) / stride[i] + 1 : 0);
  }
  if (degenerate) return {std::nullopt, true};
  return {out};
}

// conv_transpose2d: input [N, C_in, H, W], weight [C_in, C_out / groups, kH, kW], bias [C_out];
// output_padding below stride or dilation (PyTorch's rule); the output [N, C_out, *] with
// (size - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1 >= 1 along each axis.
Expected conv_transpose_shape(const Dims& x, const Dims& w, const Dims* bias, const Dims& stride,
                              const Dims& padding, const Dims& output_padding, const Dims& dilation,
                              int64_t groups) {
  if (x.size() != 4 || w.size() != 4 || groups < 1) return {};
  for (size_t i = 0; i < 2; ++i)
    if (stride[i] < 1 || dilation[i] < 1 || padding[i] < 0 || output_padding[i] < 0 ||
        (output_padding[i] >= stride[i] && output_padding[i] >= dilation[i]))
      return {};
  const int64_t c = x[1];
  if (c % groups != 0 || w[0] != c) return {};
  const int64_t o = w[1] * groups;
  if (bias && (bias->size() != 1 || (*bias)[0] != o)) return {};
  bool degenerate = c == 0 || o == 0;
  Dims out{x[0], o};
  for (size_t i = 0; i < 2; ++i) {
    degenerate |= w[2 + i] == 0 || x[2 + i] == 0;
    const int64_t size = (x[2 + i] - 1) * stride[i] - 2 * padding[i] +
                         dilation[i] * (w[2 + i] - 1) + output_padding[i] + 1;
    if (size < 1 && !degenerate) return {};
    out.push_back(size);
  }
  if (degenerate) return {std::nullopt, true};
  return {out};
}

// max_pool2d and avg_pool2d over [N, C, H, W] or [C, H, W] (PyTorch's pool2d_shape_check):
// kernel, stride and dilation >= 1, 0 <= padding <= kernel / 2, no empty axis but the batch,
// and a non-empty output.
Expected pool_shape(const Dims& x, const Dims& kernel, const Dims& stride, const Dims& padding,
                    const Dims& dilation) {
  if (x.size() != 3 && x.size() != 4) return {};
  for (size_t i = 0; i < 2; ++i)
    if (kernel[i] < 1 || stride[i] < 1 || dilation[i] < 1 || padding[i] < 0 ||
        padding[i] > kernel[i] / 2)
      return {};
  for (size_t i = x.size() == 4 ? 1 : 0; i < x.size(); ++i)
    if (x[i] == 0) return {};
  Dims out(x.begin(), x.end() - 2);
  for (size_t i = 0; i < 2; ++i) {
    const int64_t size = x[x.size() - 2 + i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1;
    if (size < 0) return {};
    out.push_back(size / stride[i] + 1);
  }
  return {out};
}

// adaptive_avg_pool2d: [N, C, H, W] or [C, H, W] with H, W >= 1 to [..., out_h, out_w].
Expected adaptive_pool_shape(const Dims& x, const Dims& size) {
  if ((x.size() != 3 && x.size() != 4) || size[0] < 0 || size[1] < 0) return {};
  const int64_t h = x[x.size() - 2], w = x[x.size() - 1];
  if (h == 0 || w == 0) return {};
  Dims out(x.begin(), x.end() - 2);
  out.push_back(size[0]);
  out.push_back(size[1]);
  if (size[0] == 0 || size[1] == 0 || (x.size() == 4 ? x[1] : x[0]) == 0)
    return {std::nullopt, true};
  return {out};
}

// batch_norm of [N, C], [N, C, L] or [N, C, H, W]: the channel tensors given are [C], the running
// statistics come together, evaluation needs them, training needs more than one value per channel.
Expected batch_norm_shape(const Dims& x, const std::vector<const Dims*>& channel_tensors,
                          bool running_mean, bool running_var, bool training) {
  if (x.size() < 2 || x.size() > 4) return {};
  for (const Dims* d : channel_tensors)
    if (d && *d != Dims{x[1]}) return {};
  if (running_mean != running_var || (!training && !running_mean)) return {};
  int64_t per_channel = x[0];
  for (size_t i = 2; i < x.size(); ++i) per_channel *= x[i];
  if (training && per_channel == 1) return {};
  return {x};
}

// ---------------------------------------------------------------- reading the input

// The argument bytes of one record; reads past its end give 0.
class Args {
 public:
  Args(const uint8_t* bytes, size_t size) : bytes_(bytes), size_(size) {}
  uint8_t byte() { return at_ < size_ ? bytes_[at_++] : 0; }
  int range(int lo, int hi) { return lo + byte() % (hi - lo + 1); }
  bool flag() { return byte() & 1; }
  int axis() { return range(-5, 5); }
  // A scalar argument: small values mostly, else the edge cases.
  double scalar() {
    static const double special[] = {0.0,
                                     -0.0,
                                     1.0,
                                     -1.0,
                                     0.5,
                                     2.0,
                                     1e4,
                                     -1e4,
                                     1e30,
                                     -1e30,
                                     1e300,
                                     std::numeric_limits<double>::denorm_min(),
                                     1e-40,
                                     std::numeric_limits<double>::quiet_NaN(),
                                     std::numeric_limits<double>::infinity(),
                                     -std::numeric_limits<double>::infinity()};
    const uint8_t b = byte();
    if (b < 160) return (b - 80) / 16.0;
    return special[b % (sizeof special / sizeof special[0])];
  }

 private:
  const uint8_t* bytes_;
  size_t size_;
  size_t at_ = 0;
};

[[noreturn]] void violation(const std::string& trace, const std::string& what) {
  std::fprintf(stderr, "eigrad contract violation: %s\nprogram:\n%s", what.c_str(), trace.c_str());
  std::abort();
}

enum Op {
  kLeaf,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kNeg,
  kAffine,
  kRdiv,
  kExp,
  kLog,
  kPow,
  kSqrt,
  kAbs,
  kClamp,
  kMatmul,
  kTranspose,
  kReshape,
  kFlatten,
  kCat,
  kIndexSelect,
  kSum,
  kMean,
  kMax,
  kArgmax,
  kActivation,
  kPrelu,
  kCrossEntropy,
  kNllLoss,
  kMseLoss,
  kBceWithLogits,
  kLinear,
  kDropout,
  kDetach,
  kClone,
  kConvert,
  kBackward,
  kGradMode,
  kZeroGrad,
  kStack,
  kPermute,
  kUnsqueeze,
  kSqueeze,
  kNarrow,
  kPad,
  kMin,
  kArgmin,
  kMaxAll,
  kCompare,
  kWhere,
  kConv2d,
  kConv1d,
  kMaxPool2d,
  kAvgPool2d,
  kAdaptiveAvgPool2d,
  kBatchNorm,
  kChunk,
  kSplit,
  kExpand,
  kRepeat,
  kFlip,
  kRoll,
  kTriangle,
  kOuter,
  kEinsum,
  kElementwiseMath,
  kExtremum,
  kVarStd,
  kLogsumexp,
  kNorm,
  kCumsum,
  kProd,
  kConvTranspose2d,
  kInterpolate,
  kDropout2d,
  kIndex,
  kGather,
  kTopk,
  kLayerNorm,
  kEmbedding,
  kLstmCell,
  kGruCell,
  kTimeStep,
  kRecurrentLayer,
  kAttention,
  kAttentionMasked,
  kOpCount
};

template <class T>
class Program {
 public:
  using Tensor = BasicTensor<T>;

  void run(const uint8_t* data, size_t size, bool anomaly) {
    anomaly_ = anomaly;
    for (size_t at = 0; at < size; at += kRecord) {
      Args args(data + at + 1, std::min(kRecord, size - at) - 1);
      step(data[at] % kOpCount, args);
    }
    // A final backward from the last value that requires grad.
    for (auto it = values_.rbegin(); it != values_.rend(); ++it)
      if (it->requires_grad()) {
        run_backward(*it, Tensor::ones(it->shape()), false);
        break;
      }
  }

 private:
  // ---- values ----
  Tensor leaf(Dims dims, Args& a) {
    static const double special[] = {0.0,
                                     -0.0,
                                     1e4,
                                     -1e4,
                                     1e30,
                                     -1e30,
                                     std::numeric_limits<double>::denorm_min(),
                                     std::numeric_limits<double>::quiet_NaN(),
                                     std::numeric_limits<double>::infinity(),
                                     -std::numeric_limits<double>::infinity()};
    const auto numel = product(dims);
    if (!numel || *numel > kMaxNumel) dims = {1};  // derived from a value of huge (empty) shape
    const bool requires_grad = a.flag();
    eigrad::Generator gen(a.byte());
    const uint8_t specials = a.byte();  // how often an element is an edge case
    Tensor t = Tensor::empty(eigrad::Shape(dims));
    for (T& v : t.mutable_array())
      v = gen.randint(256) < specials / 4
              ? static_cast<T>(special[gen.randint(sizeof special / sizeof special[0])])
              : static_cast<T>(gen.uniform(-3, 3));
    t.set_requires_grad(requires_grad);
    leaves_.push_back(t);
    remember(t);
    log("leaf " + str(dims) + (requires_grad ? " requires_grad" : ""));
    return t;
  }
  Dims random_dims(Args& a) {
    Dims d(static_cast<size_t>(a.range(0, 4)));
    for (int64_t& v : d) v = a.range(0, 4);
    return d;
  }
  Tensor fresh(Args& a) { return leaf(random_dims(a), a); }
  // A leaf from a single argument byte (bit 0: requires grad; the byte seeds the values, 0xf0 and
  // above add edge values), for the ops whose arguments leave no room for leaf()'s three bytes.
  Tensor leaf_byte(const Dims& dims, uint8_t b) {
    const uint8_t bytes[3] = {b, b, static_cast<uint8_t>(b >= 0xf0 ? 0xff : 0)};
    Args args(bytes, sizeof bytes);
    return leaf(dims, args);
  }
  Tensor pick_byte(uint8_t b) {
    return values_.empty() ? leaf_byte({2, 3}, b) : values_[b % values_.size()];
  }
  // An existing value, or a new leaf when there is none.
  Tensor pick(Args& a) {
    const uint8_t b = a.byte();
    if (values_.empty()) return fresh(a);
    return values_[b % values_.size()];
  }
  // A second operand for a broadcasting op: an existing value, a fresh leaf of a shape that
  // broadcasts with `x` (leading axes dropped, some sizes set to 1), or any fresh leaf.
  Tensor partner(const Tensor& x, Args& a) {
    const int mode = a.range(0, 3);
    if (mode == 0) return pick(a);
    if (mode == 3) return fresh(a);
    Dims d = x.shape().vec();
    const int drop = a.range(0, static_cast<int>(d.size()));
    d.erase(d.begin(), d.begin() + drop);
    const uint8_t ones = a.byte();
    for (size_t i = 0; i < d.size(); ++i)
      if (ones & (1u << i)) d[i] = 1;
    return leaf(d, a);
  }
  void remember(const Tensor& t) {
    // An empty tensor may have huge sizes (reshape([0], [2^62, 0]) is valid), and some ops loop
    // over the sizes of empty tensors (reported); such tensors are not reused, to keep the
    // fuzzer fast.
    for (int64_t d : t.shape())
      if (d > kMaxNumel) return;
    if (values_.size() < kMaxValues)
      values_.push_back(t);
    else
      values_[next_slot_++ % kMaxValues] = t;
  }
  void log(const std::string& line) {
    trace_ += "  " + line + "\n";
    if (std::getenv("EIGRAD_FUZZ_TRACE")) std::fprintf(stderr, "  %s\n", line.c_str());
  }

  // scaled_dot_product_attention(q [..., L, E], k [..., S, E], v [..., S, Ev]) -> [..., L, Ev],
  // with equal leading axes and L, S, E > 0; a mask (bool, or float and differentiable) must
  // broadcast to [..., L, S] (right-aligned, each size 1 or equal, no more axes). Without a mask,
  // is_causal may be set.
  void attention(Args& a, bool masked) {
    const Tensor q = pick(a);
    const Dims qs = q.shape().vec();
    const size_t r = qs.size();
    const int mode = a.range(0, 3);
    const int64_t S = a.range(0, 3), Ev = a.range(0, 3);
    Tensor k, v;
    if (mode == 0 || r < 2) {
      k = pick(a);
      v = pick(a);
    } else {
      Dims ks = qs, vs = qs;
      ks[r - 2] = vs[r - 2] = S;
      vs[r - 1] = Ev;
      if (mode == 1) ks[r - 1] += 1;  // inner sizes differ: an error
      k = leaf_byte(ks, a.byte());
      v = leaf_byte(vs, a.byte());
    }
    const Dims ks = k.shape().vec(), vs = v.shape().vec();
    std::optional<Dims> out;
    Dims scores;
    if (r >= 2 && ks.size() == r && vs.size() == r &&
        std::equal(qs.begin(), qs.end() - 2, ks.begin()) &&
        std::equal(qs.begin(), qs.end() - 2, vs.begin()) && ks[r - 1] == qs[r - 1] &&
        vs[r - 2] == ks[r - 2] && qs[r - 2] > 0 && ks[r - 2] > 0 && qs[r - 1] > 0) {
      out = Dims(qs.begin(), qs.end() - 2);
      scores = *out;
      out->push_back(qs[r - 2]);
      out->push_back(vs[r - 1]);
      scores.push_back(qs[r - 2]);
      scores.push_back(ks[r - 2]);
    }
    if (!masked) {
      const bool causal = a.flag();
      expect("scaled_dot_product_attention(" + str(qs) + ", " + str(ks) + ", " + str(vs) +
                 (causal ? ", is_causal" : "") + ")",
             out, {&q, &k, &v},
             [&] { return eigrad::scaled_dot_product_attention(q, k, v, {}, 0.0, causal); });
      return;
    }
    // The mask: [L, S] when there is a valid call, else (or by choice) random sizes.
    Dims ms;
    if (out && a.flag()) {
      ms = {scores[scores.size() - 2], scores.back()};
    } else {
      ms.resize(static_cast<size_t>(a.range(0, 3)));
      for (int64_t& d : ms) d = a.range(0, 3);
    }
    bool broadcasts = ms.size() <= scores.size();
    for (size_t i = 1; broadcasts && i <= ms.size(); ++i) {
      const int64_t m = ms[ms.size() - i], t = scores[scores.size() - i];
      broadcasts = m == 1 || m == t;
    }
    if (!broadcasts) out = std::nullopt;
    const auto n = product(ms);
    if (!n || *n > kMaxNumel) return;
    if (a.flag()) {
      eigrad::BoolTensor mask = eigrad::BoolTensor::empty(eigrad::Shape(ms));
      const uint8_t bits = a.byte();
      for (int64_t i = 0; i < *n; ++i) mask.mutable_data()[i] = (bits >> (i % 8)) & 1;
      expect("scaled_dot_product_attention(" + str(qs) + ", " + str(ks) + ", " + str(vs) +
                 ", bool mask " + str(ms) + ")",
             out, {&q, &k, &v},
             [&] { return eigrad::scaled_dot_product_attention(q, k, v, mask); });
    } else {
      const Tensor mask = leaf_byte(ms, a.byte());
      expect("scaled_dot_product_attention(" + str(qs) + ", " + str(ks) + ", " + str(vs) +
                 ", float mask " + str(ms) + ")",
             out, {&q, &k, &v, &mask},
             [&] { return eigrad::scaled_dot_product_attention(q, k, v, mask); });
    }
  }

  // ---- contract checks ----
  // Runs `op`, which should give shape `expected` (or throw eigrad::Error if there is none);
  // `inputs` decide whether it must record a node. `lenient`: an error is acceptable either way
  // (sizes that overflow, graphs that may have been released).
  template <class F>
  void expect(const std::string& what, const std::optional<Dims>& expected,
              const std::vector<const Tensor*>& inputs, F&& op, bool lenient = false) {
    if (expected) {
      const auto n = product(*expected);
      if (n && *n > kMaxNumel) return;
    }
    log(what + " -> " + (expected ? str(*expected) : std::string("error")));
    bool any_requires_grad = false;
    for (const Tensor* t : inputs) any_requires_grad |= t->requires_grad();
    Tensor out;
    try {
      out = op();
    } catch (const eigrad::Error& e) {
      const std::string msg = e.what();
      if (!expected || lenient || (anomaly_ && msg.rfind("anomaly:", 0) == 0)) return;
      violation(trace_, what + " threw \"" + msg + "\" but should give shape " + str(*expected));
    }
    if (!expected && !lenient)
      violation(trace_,
                what + " returned shape " + out.shape().str() + " but should throw eigrad::Error");
    if (expected && out.shape().vec() != *expected)
      violation(trace_,
                what + " returned shape " + out.shape().str() + ", expected " + str(*expected));
    if (out.array().size() != out.numel())
      violation(trace_, what + " holds " + std::to_string(out.array().size()) +
                            " values for shape " + out.shape().str());
    if (out.requires_grad() != (eigrad::is_grad_enabled() && any_requires_grad))
      violation(trace_, what + (out.requires_grad() ? " recorded a node but should not"
                                                    : " recorded no node but should"));
    remember(out);
  }

  void run_backward(const Tensor& root, const Tensor& grad, bool retain) {
    log("backward of " + root.shape().str() + " with " +
        (grad.defined() ? grad.shape().str() : std::string("no gradient")) +
        (retain ? ", retain_graph" : ""));
    const bool valid =
        root.requires_grad() && (grad.defined() ? grad.shape() == root.shape() : root.numel() == 1);
    try {
      root.backward(grad, retain);
    } catch (const eigrad::Error& e) {
      const std::string msg = e.what();
      // A second backward through a released graph is an error by contract.
      if (!valid || msg.find("a second time") != std::string::npos ||
          (anomaly_ && msg.rfind("anomaly:", 0) == 0))
        return;
      violation(trace_, "backward threw \"" + msg + "\" for a valid call");
    }
    if (!valid) violation(trace_, "backward succeeded but should throw eigrad::Error");
    for (const Tensor& l : leaves_) {
      const Tensor g = l.grad();
      if (!g.defined()) continue;
      if (!l.requires_grad())
        violation(trace_, "a leaf that does not require grad received a gradient");
      if (g.shape() != l.shape() || g.array().size() != l.numel())
        violation(trace_, "a leaf of shape " + l.shape().str() + " has a gradient of shape " +
                              g.shape().str());
    }
  }

  // ---- the ops ----
  void step(int op, Args& a) {
    switch (op) {
      case kLeaf:
        fresh(a);
        return;
      case kAdd:
      case kSub:
      case kMul:
      case kDiv: {
        const Tensor x = pick(a), y = partner(x, a);
        const char* names[] = {"", "add", "sub", "mul", "div"};
        expect(std::string(names[op]) + "(" + x.shape().str() + ", " + y.shape().str() + ")",
               broadcast(x.shape().vec(), y.shape().vec()), {&x, &y}, [&] {
                 switch (op) {
                   case kAdd:
                     return x + y;
                   case kSub:
                     return x - y;
                   case kMul:
                     return x * y;
                   default:
                     return x / y;
                 }
               });
        return;
      }
      case kNeg:
      case kExp:
      case kLog:
      case kSqrt:
      case kAbs: {
        const Tensor x = pick(a);
        const char* name = op == kNeg    ? "neg"
                           : op == kExp  ? "exp"
                           : op == kLog  ? "log"
                           : op == kSqrt ? "sqrt"
                                         : "abs";
        expect(std::string(name) + "(" + x.shape().str() + ")", x.shape().vec(), {&x}, [&] {
          switch (op) {
            case kNeg:
              return -x;
            case kExp:
              return eigrad::exp(x);
            case kLog:
              return eigrad::log(x);
            case kSqrt:
              return eigrad::sqrt(x);
            default:
              return eigrad::abs(x);
          }
        });
        return;
      }
      case kAffine: {
        const Tensor x = pick(a);
        const T scale = static_cast<T>(a.scalar()), shift = static_cast<T>(a.scalar());
        expect("affine(" + x.shape().str() + ")", x.shape().vec(), {&x},
               [&] { return eigrad::affine(x, scale, shift); });
        return;
      }
      case kRdiv: {
        const Tensor x = pick(a);
        const T s = static_cast<T>(a.scalar());
        expect("rdiv(" + x.shape().str() + ")", x.shape().vec(), {&x}, [&] { return s / x; });
        return;
      }
      case kPow: {
        const Tensor x = pick(a);
        const T p = static_cast<T>(a.scalar());
        expect("pow(" + x.shape().str() + ", " + std::to_string(p) + ")", x.shape().vec(), {&x},
               [&] { return eigrad::pow(x, p); });
        return;
      }
      case kClamp: {
        const Tensor x = pick(a);
        const T lo = static_cast<T>(a.scalar()), hi = static_cast<T>(a.scalar());
        const bool ok = !std::isnan(lo) && !std::isnan(hi) && lo <= hi;
        expect("clamp(" + x.shape().str() + ", " + std::to_string(lo) + ", " + std::to_string(hi) +
                   ")",
               ok ? std::optional<Dims>(x.shape().vec()) : std::nullopt, {&x},
               [&] { return eigrad::clamp(x, lo, hi); });
        return;
      }
      case kMatmul: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        Tensor y;
        const int mode = a.range(0, 3);
        const int64_t m = a.range(0, 4);
        if (mode == 0 || xs.size() < 2 || xs.size() > 3) {
          y = mode == 0 ? pick(a) : fresh(a);
        } else if (xs.size() == 2 || mode == 1) {
          y = leaf({xs[xs.size() - 1], m}, a);
        } else {
          y = leaf({xs[0], xs[2], m}, a);
        }
        const Dims ys = y.shape().vec();
        std::optional<Dims> out;
        const size_t ra = xs.size(), rb = ys.size();
        if ((ra == 2 && rb == 2) || (ra == 3 && (rb == 2 || rb == 3))) {
          const bool inner_ok = xs[ra - 1] == ys[rb - 2];
          const bool batch_ok = !(ra == 3 && rb == 3) || xs[0] == ys[0];
          if (inner_ok && batch_ok)
            out = ra == 3 ? Dims{xs[0], xs[1], ys[rb - 1]} : Dims{xs[0], ys[1]};
        }
        expect("matmul(" + str(xs) + ", " + str(ys) + ")", out, {&x, &y},
               [&] { return eigrad::matmul(x, y); });
        return;
      }
      case kTranspose: {
        const Tensor x = pick(a);
        const int a0 = a.axis(), a1 = a.axis();
        const Dims xs = x.shape().vec();
        const auto n0 = resolve_axis(a0, static_cast<int>(xs.size()));
        const auto n1 = resolve_axis(a1, static_cast<int>(xs.size()));
        std::optional<Dims> out;
        if (n0 && n1) {
          out = xs;
          if (!xs.empty())
            std::swap((*out)[static_cast<size_t>(*n0)], (*out)[static_cast<size_t>(*n1)]);
        }
        expect("transpose(" + str(xs) + ", " + std::to_string(a0) + ", " + std::to_string(a1) + ")",
               out, {&x}, [&] { return eigrad::transpose(x, a0, a1); });
        return;
      }
      case kReshape:
        reshape(a);
        return;
      case kFlatten: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int r = static_cast<int>(xs.size());
        const int s = a.axis(), e = a.axis();
        std::optional<Dims> out;
        if (r == 0) {
          out = Dims{1};
        } else {
          const auto ns = resolve_axis(s, r), ne = resolve_axis(e, r);
          if (ns && ne && *ns <= *ne) {
            Dims d(xs.begin(), xs.begin() + *ns);
            int64_t merged = 1;
            for (int i = *ns; i <= *ne; ++i) merged *= xs[static_cast<size_t>(i)];
            d.push_back(merged);
            d.insert(d.end(), xs.begin() + *ne + 1, xs.end());
            out = d;
          }
        }
        expect("flatten(" + str(xs) + ", " + std::to_string(s) + ", " + std::to_string(e) + ")",
               out, {&x}, [&] { return eigrad::flatten(x, s, e); });
        return;
      }
      case kCat:
        cat(a);
        return;
      case kIndexSelect: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int axis = a.axis();
        const auto ax = resolve_axis(axis, static_cast<int>(xs.size()));
        const int64_t n = ax && !xs.empty() ? xs[static_cast<size_t>(*ax)] : 1;
        std::vector<int64_t> index(static_cast<size_t>(a.range(0, 5)));
        bool ok = !xs.empty() && ax.has_value();
        for (int64_t& i : index) {
          i = static_cast<int64_t>(a.byte() % (n + 2)) - 1;  // -1 and n are out of range
          ok &= i >= 0 && i < n;
        }
        std::optional<Dims> out;
        if (ok) {
          out = xs;
          (*out)[static_cast<size_t>(*ax)] = static_cast<int64_t>(index.size());
        }
        expect("index_select(" + str(xs) + ", " + std::to_string(axis) + ", " + str(index) + ")",
               out, {&x}, [&] { return eigrad::index_select(x, axis, index); });
        return;
      }
      case kSum:
      case kMean: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const char* name = op == kSum ? "sum" : "mean";
        if (a.flag()) {
          expect(std::string(name) + "(" + str(xs) + ")", Dims{}, {&x},
                 [&] { return op == kSum ? eigrad::sum(x) : eigrad::mean(x); });
          return;
        }
        const int axis = a.axis();
        const bool keepdim = a.flag();
        const auto ax = resolve_axis(axis, static_cast<int>(xs.size()));
        std::optional<Dims> out;
        if (ax) out = xs.empty() ? Dims{} : without_axis(xs, *ax, keepdim);
        expect(std::string(name) + "(" + str(xs) + ", " + std::to_string(axis) +
                   (keepdim ? ", keepdim)" : ")"),
               out, {&x}, [&] {
                 return op == kSum ? eigrad::sum(x, axis, keepdim) : eigrad::mean(x, axis, keepdim);
               });
        return;
      }
      case kMax:
      case kMin: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int axis = a.axis();
        const bool keepdim = a.flag();
        const auto ax = resolve_axis(axis, static_cast<int>(xs.size()));
        std::optional<Dims> out;
        if (ax && (xs.empty() || xs[static_cast<size_t>(*ax)] > 0))
          out = xs.empty() ? Dims{} : without_axis(xs, *ax, keepdim);
        const char* name = op == kMax ? "max(" : "min(";
        expect(name + str(xs) + ", " + std::to_string(axis) + (keepdim ? ", keepdim)" : ")"), out,
               {&x}, [&] {
                 return op == kMax ? eigrad::max(x, axis, keepdim) : eigrad::min(x, axis, keepdim);
               });
        return;
      }
      case kArgmax:
      case kArgmin: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int axis = a.axis();
        const auto ax = resolve_axis(axis, static_cast<int>(xs.size()));
        const int64_t n = ax && !xs.empty() ? xs[static_cast<size_t>(*ax)] : 1;
        const bool ok = ax && n > 0;
        const std::string name = op == kArgmax ? "argmax" : "argmin";
        log(name + "(" + str(xs) + ", " + std::to_string(axis) + ")");
        try {
          const std::vector<int64_t> where =
              (op == kArgmax ? eigrad::argmax(x, axis) : eigrad::argmin(x, axis)).to_vector();
          if (!ok) violation(trace_, name + " succeeded but should throw eigrad::Error");
          if (static_cast<int64_t>(where.size()) != x.numel() / n)
            violation(trace_, name + " returned " + std::to_string(where.size()) + " indices");
          for (int64_t w : where)
            if (w < 0 || w >= n) violation(trace_, name + " returned index " + std::to_string(w));
        } catch (const eigrad::Error& e) {
          if (ok) violation(trace_, name + " threw \"" + e.what() + "\"");
        }
        return;
      }
      case kActivation:
        activation(a);
        return;
      case kPrelu: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int64_t channels = xs.size() >= 2 ? xs[1] : 1;
        const int mode = a.range(0, 4);
        const Dims sd = mode == 0   ? Dims{1}
                        : mode == 1 ? Dims{channels}
                        : mode == 2 ? Dims{channels + 1}
                        : mode == 3 ? Dims{}
                                    : Dims{1, channels};
        const Tensor slopes = leaf(sd, a);
        const int64_t count = *product(sd);
        const bool ok = !xs.empty() && sd.size() <= 1 && (count == 1 || count == channels);
        const auto& info = eigrad::find_activation("prelu");
        expect("prelu(" + str(xs) + ", slopes " + str(sd) + ")",
               ok ? std::optional<Dims>(xs) : std::nullopt, {&x, &slopes},
               [&] { return a.flag() ? eigrad::prelu(x, slopes) : info.apply(x, slopes); });
        return;
      }
      case kCrossEntropy:
      case kNllLoss: {
        const Tensor x = a.flag() ? pick(a) : leaf({a.range(0, 4), a.range(0, 4)}, a);
        const Dims xs = x.shape().vec();
        std::vector<int64_t> labels(
            static_cast<size_t>(xs.size() == 2 && a.range(0, 3) != 0 ? xs[0] : a.range(0, 4)));
        const int64_t classes = xs.size() == 2 ? xs[1] : 1;
        bool ok = xs.size() == 2 && static_cast<int64_t>(labels.size()) == xs[0];
        for (int64_t& l : labels) {
          l = static_cast<int64_t>(a.byte() % (classes + 2)) - 1;
          ok &= l >= 0 && l < classes;
        }
        const auto reduction = static_cast<eigrad::nn::Reduction>(a.range(0, 2));
        std::optional<Dims> out;
        if (ok)
          out = reduction == eigrad::nn::Reduction::None ? Dims{static_cast<int64_t>(labels.size())}
                                                         : Dims{};
        const bool ce = op == kCrossEntropy;
        expect(
            std::string(ce ? "cross_entropy(" : "nll_loss(") + str(xs) + ", " + str(labels) + ")",
            out, {&x}, [&] {
              return ce ? eigrad::nn::cross_entropy(x, labels, reduction)
                        : eigrad::nn::nll_loss(x, labels, reduction);
            });
        return;
      }
      case kMseLoss:
      case kBceWithLogits: {
        const Tensor x = pick(a);
        const Tensor y = a.flag() ? pick(a) : leaf(x.shape().vec(), a);
        const auto reduction = static_cast<eigrad::nn::Reduction>(a.range(0, 2));
        std::optional<Dims> out;
        if (x.shape() == y.shape())
          out = reduction == eigrad::nn::Reduction::None ? x.shape().vec() : Dims{};
        const bool mse = op == kMseLoss;
        expect(std::string(mse ? "mse_loss(" : "binary_cross_entropy_with_logits(") +
                   x.shape().str() + ", " + y.shape().str() + ")",
               out, {&x, &y}, [&] {
                 return mse ? eigrad::nn::mse_loss(x, y, reduction)
                            : eigrad::nn::binary_cross_entropy_with_logits(x, y, reduction);
               });
        return;
      }
      case kLinear: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int64_t out_f = a.range(0, 4);
        const int64_t in_f = !xs.empty() && a.range(0, 3) != 0 ? xs.back() : a.range(0, 4);
        const Tensor w = a.range(0, 7) == 0 ? fresh(a) : leaf({out_f, in_f}, a);
        const int bias_mode = a.range(0, 3);
        const Tensor b = bias_mode == 0   ? Tensor()
                         : bias_mode == 3 ? fresh(a)
                                          : leaf({w.rank() == 2 ? w.shape()[0] : 1}, a);
        const Dims ws = w.shape().vec();
        std::optional<Dims> out;
        if (ws.size() == 2 && !xs.empty() && xs.back() == ws[1] &&
            (!b.defined() || (b.rank() == 1 && b.shape()[0] == ws[0]))) {
          out = xs;
          out->back() = ws[0];
        }
        const std::string what = "linear(" + str(xs) + ", " + str(ws) + ", " +
                                 (b.defined() ? b.shape().str() : std::string("no bias")) + ")";
        if (b.defined())
          expect(what, out, {&x, &w, &b}, [&] { return eigrad::nn::linear(x, w, b); });
        else
          expect(what, out, {&x, &w}, [&] { return eigrad::nn::linear(x, w); });
        return;
      }
      case kDropout: {
        const Tensor x = pick(a);
        const double p = a.range(0, 3) == 0 ? a.scalar() : a.range(0, 8) / 8.0;
        const bool training = a.flag();
        eigrad::Generator gen(a.byte());
        const bool ok = p >= 0 && p <= 1;
        log("dropout(" + x.shape().str() + ", " + std::to_string(p) + ")");
        try {
          const Tensor y = eigrad::nn::dropout(x, p, training, gen);
          if (!ok) violation(trace_, "dropout succeeded but should throw eigrad::Error");
          if (y.shape() != x.shape()) violation(trace_, "dropout changed the shape");
          remember(y);
        } catch (const eigrad::Error& e) {
          if (ok && !(anomaly_ && std::string(e.what()).rfind("anomaly:", 0) == 0))
            violation(trace_, std::string("dropout threw \"") + e.what() + "\"");
        }
        return;
      }
      case kDetach: {
        const Tensor x = pick(a);
        expect("detach(" + x.shape().str() + ")", x.shape().vec(), {}, [&] { return x.detach(); });
        return;
      }
      case kClone: {
        const Tensor x = pick(a);
        expect("clone(" + x.shape().str() + ")", x.shape().vec(), {}, [&] { return x.clone(); });
        return;
      }
      case kConvert: {
        const Tensor x = pick(a);
        using Other = std::conditional_t<std::is_same_v<T, float>, double, float>;
        expect("convert(" + x.shape().str() + ")", x.shape().vec(), {},
               [&] { return x.template to<Other>().template to<T>(); });
        return;
      }
      case kBackward: {
        if (values_.empty()) return;
        const Tensor root = pick(a);
        const int mode = a.range(0, 3);
        const bool retain = a.flag();
        Tensor grad;
        if (mode == 1) grad = Tensor::ones(root.shape());
        if (mode == 2) grad = fresh(a);
        if (mode == 3) grad = Tensor::full(root.shape(), static_cast<T>(a.scalar()));
        run_backward(root, grad, retain);
        return;
      }
      case kGradMode:
        eigrad::set_grad_enabled(a.flag());
        log(std::string("grad mode ") + (eigrad::is_grad_enabled() ? "on" : "off"));
        return;
      case kZeroGrad:
        for (Tensor& l : leaves_) l.zero_grad();
        log("zero_grad");
        return;
      case kStack:
        stack(a);
        return;
      case kPermute:
        permute(a);
        return;
      case kUnsqueeze: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int r = static_cast<int>(xs.size()), axis = a.range(-6, 6);
        std::optional<Dims> out;
        if (axis >= -r - 1 && axis <= r && r < kMaxRank) {
          out = xs;
          out->insert(out->begin() + (axis < 0 ? axis + r + 1 : axis), 1);
        }
        expect("unsqueeze(" + str(xs) + ", " + std::to_string(axis) + ")", out, {&x},
               [&] { return eigrad::unsqueeze(x, axis); });
        return;
      }
      case kSqueeze: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        if (a.flag()) {
          Dims out;
          for (int64_t d : xs)
            if (d != 1) out.push_back(d);
          expect("squeeze(" + str(xs) + ")", out, {&x}, [&] { return eigrad::squeeze(x); });
          return;
        }
        const int axis = a.axis();
        const auto ax = resolve_axis(axis, static_cast<int>(xs.size()));
        std::optional<Dims> out;
        if (ax) {
          out = xs;
          if (!xs.empty() && xs[static_cast<size_t>(*ax)] == 1) out->erase(out->begin() + *ax);
        }
        expect("squeeze(" + str(xs) + ", " + std::to_string(axis) + ")", out, {&x},
               [&] { return eigrad::squeeze(x, axis); });
        return;
      }
      case kNarrow: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int axis = a.axis();
        const int64_t start = a.range(-6, 6), length = a.range(-1, 5);
        const auto ax = resolve_axis(axis, static_cast<int>(xs.size()));
        std::optional<Dims> out;
        if (!xs.empty() && ax) {
          const int64_t n = xs[static_cast<size_t>(*ax)];
          const int64_t from = start < 0 ? start + n : start;
          if (start >= -n && start <= n && length >= 0 && from + length <= n) {
            out = xs;
            (*out)[static_cast<size_t>(*ax)] = length;
          }
        }
        expect("narrow(" + str(xs) + ", " + std::to_string(axis) + ", " + std::to_string(start) +
                   ", " + std::to_string(length) + ")",
               out, {&x}, [&] { return eigrad::narrow(x, axis, start, length); });
        return;
      }
      case kPad:
        pad(a);
        return;
      case kMaxAll: {
        const Tensor x = pick(a);
        const bool max = a.flag();
        expect(std::string(max ? "max(" : "min(") + x.shape().str() + ")",
               x.numel() > 0 ? std::optional<Dims>(Dims{}) : std::nullopt, {&x},
               [&] { return max ? eigrad::max(x) : eigrad::min(x); });
        return;
      }
      case kCompare:
        compare(a);
        return;
      case kWhere: {
        const Tensor c = pick(a), x = partner(c, a), y = partner(c, a);
        std::optional<Dims> out;
        if (const auto cx = broadcast(c.shape().vec(), x.shape().vec()))
          out = broadcast(*cx, y.shape().vec());
        expect("where(" + c.shape().str() + ", " + x.shape().str() + ", " + y.shape().str() + ")",
               out, {&x, &y}, [&] { return eigrad::where(eigrad::gt(c, T(0)), x, y); });
        return;
      }
      case kConv2d:
      case kConv1d:
        convolution(a, op == kConv2d ? 2 : 1);
        return;
      case kMaxPool2d:
      case kAvgPool2d:
        pooling(a, op == kMaxPool2d);
        return;
      case kAdaptiveAvgPool2d:
        adaptive_pooling(a);
        return;
      case kBatchNorm:
        batch_norm(a);
        return;
      case kChunk:
      case kSplit:
        pieces(a, op == kChunk);
        return;
      case kExpand:
        expand(a);
        return;
      case kRepeat:
        repeat(a);
        return;
      case kFlip:
      case kRoll:
        flip_or_roll(a, op == kFlip);
        return;
      case kIndex: {
        // One index per entry: an integer (maybe out of range), a slice, None or Ellipsis; the
        // shape worked out here with Python's rules.
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int count = a.range(0, 4);
        std::vector<eigrad::indexing::TensorIndex> idx;
        struct Item {
          int kind;  // 0 integer, 1 slice, 2 None, 3 Ellipsis
          int64_t i, start, stop, step;
        };
        std::vector<Item> items;
        int consumed = 0, ellipses = 0;
        for (int k = 0; k < count; ++k) {
          Item it{a.range(0, 3), a.range(-4, 4), a.range(-4, 4), a.range(-4, 4), a.range(1, 3)};
          items.push_back(it);
          consumed += it.kind < 2;
          ellipses += it.kind == 3;
          if (it.kind == 0) idx.emplace_back(it.i);
          if (it.kind == 1) idx.emplace_back(eigrad::indexing::Slice(it.start, it.stop, it.step));
          if (it.kind == 2) idx.emplace_back(eigrad::indexing::None);
          if (it.kind == 3) idx.emplace_back(eigrad::indexing::Ellipsis);
        }
        std::optional<Dims> out;
        if (ellipses <= 1 && consumed <= static_cast<int>(xs.size())) {
          Dims d;
          size_t axis = 0;
          bool ok = true;
          for (const Item& it : items) {
            if (it.kind == 2) {
              d.push_back(1);
            } else if (it.kind == 3) {
              for (int e = 0; e < static_cast<int>(xs.size()) - consumed; ++e)
                d.push_back(xs[axis++]);
            } else if (it.kind == 0) {
              const int64_t n = xs[axis++];
              ok = ok && it.i >= -n && it.i < n;
            } else {
              const int64_t n = xs[axis++];
              const auto bound = [n](int64_t b) {
                return std::clamp<int64_t>(b < 0 ? b + n : b, 0, n);
              };
              const int64_t lo = bound(it.start), hi = bound(it.stop);
              d.push_back(hi > lo ? (hi - lo + it.step - 1) / it.step : 0);
            }
          }
          while (axis < xs.size()) d.push_back(xs[axis++]);
          if (ok) out = d;
        }
        expect("index(" + x.shape().str() + ", " + std::to_string(count) + " indices)", out, {&x},
               [&] { return x.index(idx); });
        return;
      }
      case kGather: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int axis = a.axis();
        const auto ax = resolve_axis(axis, static_cast<int>(xs.size()));
        // An index no larger than x (or one axis larger: an error), values maybe out of range.
        Dims is = xs;
        bool ok = ax && !xs.empty();
        if (!is.empty() && a.flag()) {
          const size_t grow = static_cast<size_t>(a.range(0, static_cast<int>(is.size()) - 1));
          is[grow] += 1;
          ok = ok && static_cast<int>(grow) == *ax;  // only the gathered axis may be larger
        }
        const auto n = product(is);
        if (!n || *n > kMaxNumel) return;
        std::vector<int64_t> values(static_cast<size_t>(*n));
        const int64_t size = ax && !xs.empty() ? xs[static_cast<size_t>(*ax)] : 1;
        for (int64_t& v : values) {
          v = a.range(-1, 4);
          ok = ok && v >= 0 && v < size;
        }
        const eigrad::LongTensor index = eigrad::LongTensor::from(values, eigrad::Shape(is));
        expect("gather(" + x.shape().str() + ", " + std::to_string(axis) + ", " + str(is) + ")",
               ok ? std::optional<Dims>(is) : std::nullopt, {&x},
               [&] { return eigrad::gather(x, axis, index); });
        return;
      }
      case kLayerNorm: {
        // normalized_shape: the input's last k sizes (k = 0: an error), sometimes one size off
        // or longer than the input; weight and bias of normalized_shape, sometimes one size off.
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const size_t k = static_cast<size_t>(a.range(0, 3));
        const uint8_t mode = a.byte(), w_byte = a.byte(), b_byte = a.byte();
        Dims ns(k, 1);
        for (size_t i = 0; i < k && i < xs.size(); ++i) ns[k - 1 - i] = xs[xs.size() - 1 - i];
        if (mode % 8 == 1 && !ns.empty()) ns.back() += 1;
        Dims wrong = ns;
        if (wrong.empty())
          wrong = {1};
        else
          wrong.back() += 1;
        const Tensor w = mode & 16 ? leaf_byte(mode & 64 ? wrong : ns, w_byte) : Tensor();
        const Tensor b = mode & 32 ? leaf_byte(mode & 128 ? wrong : ns, b_byte) : Tensor();
        const double eps = mode % 8 == 2 ? a.scalar() : 1e-5;
        bool ok = !ns.empty() && ns.size() <= xs.size() && eps > 0;
        for (size_t i = 0; ok && i < ns.size(); ++i) ok = ns[i] == xs[xs.size() - ns.size() + i];
        if (w.defined()) ok = ok && w.shape().vec() == ns;
        if (b.defined()) ok = ok && b.shape().vec() == ns;
        std::vector<const Tensor*> inputs{&x};
        if (w.defined()) inputs.push_back(&w);
        if (b.defined()) inputs.push_back(&b);
        const auto str_of = [](const Tensor& t) {
          return t.defined() ? t.shape().str() : std::string("none");
        };
        expect("layer_norm(" + x.shape().str() + ", " + str(ns) + ", weight " + str_of(w) +
                   ", bias " + str_of(b) + ", eps " + std::to_string(eps) + ")",
               ok ? std::optional<Dims>(xs) : std::nullopt, inputs,
               [&] { return eigrad::layer_norm(x, ns, w, b, eps); });
        return;
      }
      case kEmbedding: {
        // weight: mostly a fresh [V, D] table (V, D in 0..4), else any value; indices of rank
        // 0 to 3 with values maybe out of range; padding_idx maybe given, maybe out of range.
        const Tensor w = a.flag() ? pick(a) : leaf({a.range(0, 4), a.range(0, 4)}, a);
        const Dims ws = w.shape().vec();
        Dims is(static_cast<size_t>(a.range(0, 3)));
        for (int64_t& v : is) v = a.range(0, 3);
        const auto n = product(is);
        if (!n || *n > kMaxNumel) return;
        const int64_t rows = ws.size() == 2 ? ws[0] : 0;
        bool ok = ws.size() == 2;
        std::vector<int64_t> values(static_cast<size_t>(*n));
        for (int64_t& v : values) {
          v = a.range(-1, 4);
          ok = ok && v >= 0 && v < rows;
        }
        const uint8_t p = a.byte();
        const std::optional<int64_t> padding =
            p < 128 ? std::nullopt : std::optional<int64_t>(p % 11 - 5);
        if (padding) ok = ok && *padding >= -rows && *padding < rows;
        Dims out = is;
        out.push_back(ws.size() == 2 ? ws[1] : 0);
        const eigrad::LongTensor index = eigrad::LongTensor::from(values, eigrad::Shape(is));
        expect("embedding(" + str(is) + ", " + w.shape().str() + ", padding_idx " +
                   (padding ? std::to_string(*padding) : std::string("none")) + ")",
               ok ? std::optional<Dims>(out) : std::nullopt, {&w},
               [&] { return eigrad::embedding(index, w, padding); });
        return;
      }
      case kTopk: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int axis = a.axis();
        const int64_t k = a.range(-1, 4);
        const auto ax = resolve_axis(axis, static_cast<int>(xs.size()));
        std::optional<Dims> out;
        if (ax && !xs.empty() && k >= 0 && k <= xs[static_cast<size_t>(*ax)]) {
          Dims d = xs;
          d[static_cast<size_t>(*ax)] = k;
          out = d;
        }
        expect("topk(" + x.shape().str() + ", " + std::to_string(k) + ", " + std::to_string(axis) +
                   ")",
               out, {&x}, [&] { return eigrad::topk(x, k, axis, a.flag()).first; });
        return;
      }
      case kAttention:
      case kAttentionMasked:
        attention(a, op == kAttentionMasked);
        return;
      case kTriangle: {
        const Tensor x = pick(a);
        const bool lower = a.flag();
        const uint8_t b = a.byte();
        const int64_t k = b < 240 ? b % 9 - 4
                          : b % 2 ? std::numeric_limits<int64_t>::max()
                                  : std::numeric_limits<int64_t>::min();
        expect(std::string(lower ? "tril(" : "triu(") + x.shape().str() + ", " + std::to_string(k) +
                   ")",
               x.rank() >= 2 ? std::optional<Dims>(x.shape().vec()) : std::nullopt, {&x},
               [&] { return lower ? eigrad::tril(x, k) : eigrad::triu(x, k); });
        return;
      }
      case kOuter: {
        const Tensor x = pick(a);
        const Tensor y = a.flag() ? pick(a) : leaf({a.range(0, 4)}, a);
        const Dims xs = x.shape().vec(), ys = y.shape().vec();
        expect("outer(" + str(xs) + ", " + str(ys) + ")",
               xs.size() == 1 && ys.size() == 1 ? std::optional<Dims>(Dims{xs[0], ys[0]})
                                                : std::nullopt,
               {&x, &y}, [&] { return eigrad::outer(x, y); });
        return;
      }
      case kEinsum:
        einsum(a);
        return;
      case kElementwiseMath:
        elementwise_math(a);
        return;
      case kExtremum: {
        const bool max = a.flag();
        const Tensor x = pick(a), y = partner(x, a);
        expect(std::string(max ? "maximum(" : "minimum(") + x.shape().str() + ", " +
                   y.shape().str() + ")",
               broadcast(x.shape().vec(), y.shape().vec()), {&x, &y},
               [&] { return max ? eigrad::maximum(x, y) : eigrad::minimum(x, y); });
        return;
      }
      case kVarStd:
      case kLogsumexp:
      case kNorm:
        statistics(op, a);
        return;
      case kCumsum: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int axis = a.axis();
        const auto ax = resolve_axis(axis, static_cast<int>(xs.size()));
        expect("cumsum(" + str(xs) + ", " + std::to_string(axis) + ")",
               ax ? std::optional<Dims>(xs) : std::nullopt, {&x},
               [&] { return eigrad::cumsum(x, axis); });
        return;
      }
      case kProd: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        if (a.flag()) {
          expect("prod(" + str(xs) + ")", Dims{}, {&x}, [&] { return eigrad::prod(x); });
          return;
        }
        const int axis = a.axis();
        const bool keepdim = a.flag();
        const auto ax = resolve_axis(axis, static_cast<int>(xs.size()));
        std::optional<Dims> out;
        if (ax) out = xs.empty() ? Dims{} : without_axis(xs, *ax, keepdim);
        expect("prod(" + str(xs) + ", " + std::to_string(axis) + (keepdim ? ", keepdim)" : ")"),
               out, {&x}, [&] { return eigrad::prod(x, axis, keepdim); });
        return;
      }
      case kConvTranspose2d:
        conv_transpose(a);
        return;
      case kInterpolate:
        interpolate(a);
        return;
      case kDropout2d:
        dropout2d(a);
        return;
      case kLstmCell:
      case kGruCell:
        recurrent_cell(op == kLstmCell, a);
        return;
      case kTimeStep: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int64_t t = a.range(-1, 4);
        std::optional<Dims> out;
        if (!xs.empty() && t >= 0 && t < xs[0]) out = Dims(xs.begin() + 1, xs.end());
        expect("time_step(" + x.shape().str() + ", " + std::to_string(t) + ")", out, {&x},
               [&] { return eigrad::time_step(x, t); });
        return;
      }
      case kRecurrentLayer:
        recurrent_layer(a);
        return;
      default:
        return;
    }
  }

  // lstm_cell_state / gru_cell_gates: gates_x and gates_h [N, G*H] (H > 0), the state [N, H];
  // mostly valid shapes, sometimes an existing value in one place.
  void recurrent_cell(bool lstm, Args& a) {
    const int64_t g = lstm ? 4 : 3, n = a.range(0, 3), h = a.range(0, 3);
    const int wrong = a.range(0, 7);  // 0..2: that input is any existing value
    const Tensor gx = wrong == 0 ? pick(a) : leaf_byte({n, g * h}, a.byte());
    const Tensor gh = wrong == 1 ? pick(a) : leaf_byte({n, g * h}, a.byte());
    const Tensor s = wrong == 2 ? pick(a) : leaf_byte({n, h}, a.byte());
    const Dims xs = gx.shape().vec();
    std::optional<Dims> out;
    if (xs.size() == 2 && xs[1] > 0 && xs[1] % g == 0 && gh.shape().vec() == xs &&
        s.shape().vec() == Dims{xs[0], xs[1] / g})
      out = lstm ? Dims{2, xs[0], xs[1] / g} : Dims{xs[0], xs[1] / g};
    expect(std::string(lstm ? "lstm_cell_state(" : "gru_cell_gates(") + gx.shape().str() + ", " +
               gh.shape().str() + ", " + s.shape().str() + ")",
           out, {&gx, &gh, &s}, [&] {
             return lstm ? eigrad::lstm_cell_state(gx, gh, s) : eigrad::gru_cell_gates(gx, gh, s);
           });
  }

  // A small LSTM or GRU layer on [L, N, 2] (or unbatched [L, 2]); an empty sequence is an error.
  void recurrent_layer(Args& a) {
    const bool lstm = a.flag(), bidirectional = a.flag(), batched = a.flag();
    const int64_t len = a.range(0, 3), n = a.range(1, 3), h = a.range(1, 3), layers = a.range(1, 2);
    eigrad::Generator gen(a.byte());
    const auto options =
        eigrad::nn::RNNOptions(2, h).num_layers(layers).bidirectional(bidirectional);
    std::shared_ptr<eigrad::nn::BasicModule<T>> m;
    if (lstm)
      m = std::make_shared<eigrad::nn::BasicLSTM<T>>(options, gen);
    else
      m = std::make_shared<eigrad::nn::BasicGRU<T>>(options, gen);
    const Tensor x = batched ? leaf_byte({len, n, 2}, a.byte()) : leaf_byte({len, 2}, a.byte());
    const Tensor w = m->parameters()[0];  // requires grad: the output records a node
    const int64_t d = bidirectional ? 2 : 1;
    std::optional<Dims> out;
    if (len > 0) out = batched ? Dims{len, n, d * h} : Dims{len, d * h};
    expect(std::string(lstm ? "LSTM" : "GRU") + "(2, " + std::to_string(h) + ", layers " +
               std::to_string(layers) + (bidirectional ? ", bidirectional" : "") + ")(" +
               x.shape().str() + ")",
           out, {&x, &w}, [&] { return m->forward(x); });
  }

  void elementwise_math(Args& a) {
    static const char* names[] = {"sin",  "cos",   "tan",  "asin",       "acos",
                                  "atan", "sinh",  "cosh", "log1p",      "expm1",
                                  "sign", "floor", "ceil", "reciprocal", "round"};
    const int which = a.range(0, 14);
    const Tensor x = pick(a);
    // Any values, the domains' outsides included: NaN or infinity there, never an error.
    expect(std::string(names[which]) + "(" + x.shape().str() + ")", x.shape().vec(), {&x}, [&] {
      switch (which) {
        case 0:
          return eigrad::sin(x);
        case 1:
          return eigrad::cos(x);
        case 2:
          return eigrad::tan(x);
        case 3:
          return eigrad::asin(x);
        case 4:
          return eigrad::acos(x);
        case 5:
          return eigrad::atan(x);
        case 6:
          return eigrad::sinh(x);
        case 7:
          return eigrad::cosh(x);
        case 8:
          return eigrad::log1p(x);
        case 9:
          return eigrad::expm1(x);
        case 10:
          return eigrad::sign(x);
        case 11:
          return eigrad::floor(x);
        case 12:
          return eigrad::ceil(x);
        case 13:
          return eigrad::reciprocal(x);
        default:
          return eigrad::round(x);
      }
    });
  }

  // var, std, logsumexp and norm over a list of axes (or all elements): each axis resolved and
  // given at most once (a scalar takes 0 or -1), the empty list meaning every axis; any
  // correction is valid; norm needs p > 0, and p = infinity a non-empty reduction.
  void statistics(int op, Args& a) {
    static const double ps[] = {2,
                                1,
                                std::numeric_limits<double>::infinity(),
                                3,
                                0.5,
                                0,
                                -1,
                                std::numeric_limits<double>::quiet_NaN(),
                                -std::numeric_limits<double>::infinity()};
    const Tensor x = pick(a);
    const Dims xs = x.shape().vec();
    const int r = static_cast<int>(xs.size());
    std::vector<int> axes(static_cast<size_t>(a.range(0, 3)));
    for (int& v : axes) v = a.axis();
    const bool keepdim = a.flag();
    std::optional<Dims> out = Dims{};
    std::vector<bool> seen(static_cast<size_t>(std::max(r, 1)), false);
    for (int v : axes) {
      const auto ax = resolve_axis(v, r);
      if (!ax || seen[static_cast<size_t>(*ax)]) {
        out.reset();
        break;
      }
      seen[static_cast<size_t>(*ax)] = true;
    }
    int64_t reduced = 1;
    if (out)
      for (int i = 0; i < r; ++i) {
        if (axes.empty() || seen[static_cast<size_t>(i)]) {
          reduced *= xs[static_cast<size_t>(i)];
          if (keepdim) out->push_back(1);
        } else {
          out->push_back(xs[static_cast<size_t>(i)]);
        }
      }
    Dims shown(axes.begin(), axes.end());
    const std::string args = str(xs) + ", axes " + str(shown) + (keepdim ? ", keepdim" : "");
    if (op == kVarStd) {
      const bool take_sqrt = a.flag();
      const int64_t correction = a.range(-1, 3);
      expect(std::string(take_sqrt ? "std(" : "var(") + args + ", correction " +
                 std::to_string(correction) + ")",
             out, {&x}, [&] {
               return take_sqrt ? eigrad::std(x, axes, correction, keepdim)
                                : eigrad::var(x, axes, correction, keepdim);
             });
    } else if (op == kLogsumexp) {
      expect("logsumexp(" + args + ")", out, {&x},
             [&] { return eigrad::logsumexp(x, axes, keepdim); });
    } else {
      const T p = static_cast<T>(ps[a.byte() % (sizeof ps / sizeof ps[0])]);
      const bool all = a.flag();
      if (all) {
        out = Dims{};
        reduced = x.numel();
      }
      if (!(p > 0) || (std::isinf(p) && reduced == 0)) out.reset();
      expect("norm(" + (all ? str(xs) : args) + ", p " + std::to_string(p) + ")", out, {&x},
             [&] { return all ? eigrad::norm(x, p) : eigrad::norm(x, p, axes, keepdim); });
    }
  }

  void reshape(Args& a) {
    const Tensor x = pick(a);
    const Dims xs = x.shape().vec();
    const int64_t numel = *product(xs);
    std::vector<int64_t> dims;
    const int mode = a.range(0, 3);
    if (mode == 0) {  // any sizes, -1 and invalid negatives included
      dims.resize(static_cast<size_t>(a.range(0, 9)));
      for (int64_t& d : dims) d = a.range(-2, 6);
    } else if (mode == 3) {  // sizes whose product overflows int64
      static const int64_t huge[] = {int64_t{1} << 31,
                                     int64_t{1} << 32,
                                     int64_t{1} << 62,
                                     std::numeric_limits<int64_t>::max(),
                                     0,
                                     -1,
                                     3};
      dims.resize(static_cast<size_t>(a.range(1, 4)));
      for (int64_t& d : dims) d = huge[a.byte() % 7];
    } else {  // a factorisation of numel, one factor perhaps replaced by -1
      int64_t rest = numel;
      while (rest > 1 && dims.size() < 6) {
        int64_t f = std::min<int64_t>(2 + a.range(0, 3), rest);
        while (rest % f) ++f;  // ends at rest itself at the latest
        dims.push_back(f);
        rest /= f;
      }
      if (rest != 1 || dims.empty()) dims.push_back(rest);
      if (mode == 2) dims[a.byte() % dims.size()] = -1;
    }
    // The contract: at most one -1 (inferred when the other sizes divide numel and are not
    // zero), no other negative size, the product equal to numel, rank at most 8.
    std::optional<Dims> out;
    bool lenient = false;
    int infer = -1;
    bool ok = dims.size() <= static_cast<size_t>(kMaxRank);
    Dims known;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] == -1 && infer < 0)
        infer = static_cast<int>(i);
      else if (dims[i] < 0)
        ok = false;
      else
        known.push_back(dims[i]);
    }
    const auto known_product = product(known);
    if (!known_product) lenient = true;  // an error or the right shape are both fine
    if (ok && known_product) {
      Dims resolved = dims;
      if (infer >= 0) {
        if (*known_product == 0 || numel % *known_product != 0)
          ok = false;
        else
          resolved[static_cast<size_t>(infer)] = numel / *known_product;
      }
      if (ok && product(resolved) == numel) out = resolved;
    }
    expect(
        "reshape(" + str(xs) + ", " + str(dims) + ")", out, {&x},
        [&] { return eigrad::reshape(x, dims); }, lenient);
  }

  void cat(Args& a) {
    const Tensor first = pick(a);
    const Dims fs = first.shape().vec();
    const int axis = a.axis();
    const int count = a.range(1, 3);
    std::vector<Tensor> list{first};
    for (int i = 1; i < count; ++i) {
      if (a.range(0, 3) == 0 || fs.empty()) {
        list.push_back(pick(a));
      } else {
        Dims d = fs;
        const auto ax = resolve_axis(axis, static_cast<int>(d.size()));
        if (ax) d[static_cast<size_t>(*ax)] = a.range(0, 3);
        list.push_back(leaf(d, a));
      }
    }
    std::optional<Dims> out;
    const auto ax = resolve_axis(axis, static_cast<int>(fs.size()));
    if (!fs.empty() && ax) {
      Dims d = fs;
      d[static_cast<size_t>(*ax)] = 0;
      bool ok = true;
      for (const Tensor& t : list) {
        const Dims ts = t.shape().vec();
        ok &= ts.size() == fs.size();
        for (size_t k = 0; ok && k < ts.size(); ++k)
          ok &= k == static_cast<size_t>(*ax) || ts[k] == fs[k];
        if (ok) d[static_cast<size_t>(*ax)] += ts[static_cast<size_t>(*ax)];
      }
      if (ok) out = d;
    }
    std::string what = "cat(";
    for (const Tensor& t : list) what += t.shape().str() + " ";
    what += "axis " + std::to_string(axis) + ")";
    std::vector<const Tensor*> inputs;
    for (const Tensor& t : list) inputs.push_back(&t);
    expect(what, out, inputs, [&] { return eigrad::cat(list, axis); });
  }

  void stack(Args& a) {
    const Tensor first = pick(a);
    const Dims fs = first.shape().vec();
    const int r = static_cast<int>(fs.size()), axis = a.range(-6, 6), count = a.range(0, 3);
    std::vector<Tensor> list;
    if (count > 0) list.push_back(first);
    for (int i = 1; i < count; ++i) list.push_back(a.range(0, 3) == 0 ? pick(a) : leaf(fs, a));
    bool ok = !list.empty() && axis >= -r - 1 && axis <= r && r < kMaxRank;
    for (const Tensor& t : list) ok &= t.shape().vec() == fs;
    std::optional<Dims> out;
    if (ok) {
      out = fs;
      out->insert(out->begin() + (axis < 0 ? axis + r + 1 : axis), count);
    }
    std::string what = "stack(";
    for (const Tensor& t : list) what += t.shape().str() + " ";
    what += "axis " + std::to_string(axis) + ")";
    std::vector<const Tensor*> inputs;
    for (const Tensor& t : list) inputs.push_back(&t);
    expect(what, out, inputs, [&] { return eigrad::stack(list, axis); });
  }

  void permute(Args& a) {
    const Tensor x = pick(a);
    const Dims xs = x.shape().vec();
    const int r = static_cast<int>(xs.size());
    std::vector<int> dims;
    if (a.range(0, 3) == 0) {  // any list, mostly not a permutation
      dims.resize(static_cast<size_t>(a.range(0, r + 1)));
      for (int& d : dims) d = a.range(-r - 1, r);
    } else {  // a permutation, some axes negative
      for (int i = 0; i < r; ++i) dims.push_back(i);
      for (int i = r - 1; i > 0; --i)
        std::swap(dims[static_cast<size_t>(i)], dims[a.byte() % (i + 1)]);
      const uint8_t negative = a.byte();
      for (int i = 0; i < r; ++i)
        if (negative >> i & 1) dims[static_cast<size_t>(i)] -= r;
    }
    std::optional<Dims> out;
    if (static_cast<int>(dims.size()) == r) {
      Dims d;
      std::vector<bool> seen(static_cast<size_t>(r), false);
      bool ok = true;
      for (int v : dims) {
        const int axis = v < 0 ? v + r : v;
        ok &= axis >= 0 && axis < r && !seen[static_cast<size_t>(axis)];
        if (!ok) break;
        seen[static_cast<size_t>(axis)] = true;
        d.push_back(xs[static_cast<size_t>(axis)]);
      }
      if (ok) out = d;
    }
    Dims shown(dims.begin(), dims.end());
    expect("permute(" + str(xs) + ", " + str(shown) + ")", out, {&x},
           [&] { return eigrad::permute(x, dims); });
  }

  void pad(Args& a) {
    static const int64_t huge[] = {std::numeric_limits<int64_t>::max(),
                                   std::numeric_limits<int64_t>::min(), int64_t{1} << 40,
                                   -(int64_t{1} << 40)};
    const Tensor x = pick(a);
    const Dims xs = x.shape().vec();
    std::vector<int64_t> amounts(static_cast<size_t>(a.range(0, 8)));  // odd counts included
    for (int64_t& p : amounts) {
      const uint8_t b = a.byte();
      p = b < 240 ? b % 7 - 3 : huge[b % 4];
    }
    const T value = static_cast<T>(a.scalar());
    // The contract: pairs from the last axis, no size below 0 (or beyond int64).
    std::optional<Dims> out;
    if (amounts.size() % 2 == 0 && amounts.size() / 2 <= xs.size()) {
      Dims d = xs;
      bool ok = true;
      for (size_t p = 0; ok && p < amounts.size() / 2; ++p) {
        int64_t& size = d[xs.size() - 1 - p];
        ok = !__builtin_add_overflow(size, amounts[2 * p], &size) &&
             !__builtin_add_overflow(size, amounts[2 * p + 1], &size) && size >= 0;
      }
      // An empty result is valid whatever its other sizes (as reshape([0], [2^62, 0]) is).
      if (ok && (std::count(d.begin(), d.end(), 0) > 0 || product(d))) out = d;
    }
    expect("pad(" + str(xs) + ", " + str(amounts) + ")", out, {&x},
           [&] { return eigrad::pad(x, amounts, value); });
  }

  void compare(Args& a) {
    static const char* names[] = {"eq", "ne", "lt", "le", "gt", "ge"};
    const int which = a.range(0, 5);
    const Tensor x = pick(a);
    const auto call = [&](const auto& y) {
      switch (which) {
        case 0:
          return eigrad::eq(x, y);
        case 1:
          return eigrad::ne(x, y);
        case 2:
          return eigrad::lt(x, y);
        case 3:
          return eigrad::le(x, y);
        case 4:
          return eigrad::gt(x, y);
        default:
          return eigrad::ge(x, y);
      }
    };
    // Comparisons are never recorded: no inputs for the node check.
    if (a.flag()) {
      const T s = static_cast<T>(a.scalar());
      expect(std::string(names[which]) + "(" + x.shape().str() + ", " + std::to_string(s) + ")",
             x.shape().vec(), {}, [&] { return call(s).template to<T>(); });
    } else {
      const Tensor y = partner(x, a);
      expect(std::string(names[which]) + "(" + x.shape().str() + ", " + y.shape().str() + ")",
             broadcast(x.shape().vec(), y.shape().vec()), {},
             [&] { return call(y).template to<T>(); });
    }
  }

  // conv2d (d = 2) and conv1d (d = 1) on small shapes that are mostly valid; about one call in
  // four breaks an argument on purpose. Sizes are packed into bit fields: a record has 11 bytes.
  void convolution(Args& a, int d) {
    const uint8_t mode = a.byte(), sizes = a.byte(), spatial = a.byte(), kernel = a.byte(),
                  steps = a.byte();
    const uint8_t x_byte = a.byte(), w_byte = a.byte(), b_byte = a.byte(), pick_at = a.byte();
    int64_t groups = 1 + (mode & 3) % 3;
    // The top bit of `sizes` widens the channels to 16 or 17 per group, which (3 x 3, stride 1,
    // one group) takes conv2d's Winograd fast path.
    const int64_t wide = (sizes >> 7 & 1) * 15;
    const int64_t n = (sizes & 3) % 3, cg = 1 + (sizes >> 2 & 1) + wide,
                  og = 1 + (sizes >> 3 & 1) + wide;
    const int bias_mode = sizes >> 4 & 3;  // none, [O], [O], [O + 1]
    int64_t c = cg * groups, o = og * groups;
    Dims stride, padding, dilation, ks, in_sizes;
    for (int i = 0; i < d; ++i) {
      in_sizes.push_back(1 + (spatial >> (3 * i) & 7));
      ks.push_back(1 + (kernel >> (2 * i) & 3));
      dilation.push_back(1 + (kernel >> (4 + i) & 1));
      stride.push_back(1 + (steps >> (2 * i) & 3));
      padding.push_back(steps >> (4 + 2 * i) & 3);
    }
    Dims xd{n, c}, wd{o, cg};
    // The broken argument, if any.
    const int broken = mode >> 2;
    const size_t axis = static_cast<size_t>(sizes >> 6 & 1) % static_cast<size_t>(d);
    switch (broken) {
      case 40:
        groups = 0;
        break;
      case 41:
        groups = -1;
        break;
      case 42:
        stride[axis] = 0;
        break;
      case 43:
        stride[axis] = -1;
        break;
      case 44:
        padding[axis] = -1;
        break;
      case 45:
        dilation[axis] = 0;
        break;
      case 46:
        wd[1] += 1;
        break;
      case 47:
        wd[0] += 1;
        break;
      case 48:
        xd[1] += 1;
        break;
      case 49:
        ks[axis] = in_sizes[axis] + 2 * padding[axis] + 1;
        break;
      case 50:
        xd[1] = wd[1] = 0;
        break;
      case 51:
        wd[0] = 0;
        break;
      case 52:
        ks[axis] = 0;
        break;
      case 53:
        xd[0] = 0;
        break;
      default:
        break;
    }
    if (kernel >> 6 & 1) {  // one size for every axis (ExpandingArray's int form)
      stride.assign(static_cast<size_t>(d), stride[0]);
      padding.assign(static_cast<size_t>(d), padding[0]);
      dilation.assign(static_cast<size_t>(d), dilation[0]);
    }
    xd.insert(xd.end(), in_sizes.begin(), in_sizes.end());
    wd.insert(wd.end(), ks.begin(), ks.end());
    const Tensor x = broken == 54 ? pick_byte(pick_at) : leaf_byte(xd, x_byte);
    const Tensor w = broken == 55 ? pick_byte(pick_at) : leaf_byte(wd, w_byte);
    Tensor b;
    if (broken == 56)
      b = pick_byte(pick_at);
    else if (bias_mode > 0)
      b = leaf_byte({w.rank() > 0 ? w.shape()[0] + (bias_mode == 3) : 1}, b_byte);
    const Dims bs = b.defined() ? b.shape().vec() : Dims{};
    const Expected e = conv_shape(x.shape().vec(), w.shape().vec(), b.defined() ? &bs : nullptr,
                                  stride, padding, dilation, groups);
    std::string what = std::string(d == 2 ? "conv2d(" : "conv1d(") + x.shape().str() + ", " +
                       w.shape().str() + ", " + (b.defined() ? b.shape().str() : "no bias") +
                       ", stride " + str(stride) + ", padding " + str(padding) + ", dilation " +
                       str(dilation) + ", groups " + std::to_string(groups) + ")";
    const auto run = [&] {
      if (d == 1) return eigrad::conv1d(x, w, b, stride[0], padding[0], dilation[0], groups);
      if (kernel >> 6 & 1)
        return eigrad::conv2d(x, w, b, stride[0], padding[0], dilation[0], groups);
      return eigrad::conv2d(x, w, b, {stride[0], stride[1]}, {padding[0], padding[1]},
                            {dilation[0], dilation[1]}, groups);
    };
    if (b.defined())
      expect(what, e.shape, {&x, &w, &b}, run, e.lenient);
    else
      expect(what, e.shape, {&x, &w}, run, e.lenient);
  }

  // max_pool2d and avg_pool2d, mostly valid; one call in three breaks an argument.
  void pooling(Args& a, bool max) {
    const uint8_t mode = a.byte(), form = a.byte(), spatial = a.byte(), kernel = a.byte(),
                  steps = a.byte(), extra = a.byte(), x_byte = a.byte(), pick_at = a.byte();
    Dims xd;
    if (form & 1) xd.push_back((form >> 1 & 3) % 3);  // N, 0 included
    xd.push_back(1 + (form >> 3 & 3));                // C
    xd.push_back(1 + (spatial & 7));
    xd.push_back(1 + (spatial >> 3 & 7));
    Dims k{1 + (kernel & 3), 1 + (kernel >> 2 & 3)};
    Dims stride{1 + (steps & 3), 1 + (steps >> 2 & 3)};
    Dims padding{(steps >> 4 & 3) % (k[0] / 2 + 1), (steps >> 6 & 3) % (k[1] / 2 + 1)};
    Dims dilation{max ? 1 + (extra & 1) : 1, max ? 1 + (extra >> 1 & 1) : 1};
    const bool count_include_pad = extra >> 2 & 1;
    const int stride_form = kernel >> 4 & 3;  // not given (the kernel), one size, two sizes
    const size_t axis = mode >> 7;
    const size_t h = xd.size() - 2;
    switch (mode % 32) {
      case 0:
        k[axis] = 0;
        break;
      case 1:
        stride[axis] = 0;
        break;
      case 2:
        stride[axis] = -1;
        break;
      case 3:
        padding[axis] = -1;
        break;
      case 4:
        padding[axis] = k[axis] / 2 + 1;
        break;
      case 5:
        dilation[axis] = max ? 0 : 1;
        break;
      case 7:
        xd[h + axis] = 0;
        break;
      case 8:
        xd[xd.size() == 4 ? 1 : 0] = 0;
        break;
      case 9:
        k[axis] = xd[h + axis] + 2 * padding[axis] + 1;
        break;
      default:
        break;
    }
    if (stride_form == 0) stride = k;
    if (stride_form == 1) stride[1] = stride[0];
    const Tensor x = mode % 32 == 6 ? pick_byte(pick_at) : leaf_byte(xd, x_byte);
    const Expected e = pool_shape(x.shape().vec(), k, stride, padding, dilation);
    const eigrad::ExpandingArray<2> ks{k[0], k[1]}, ps{padding[0], padding[1]};
    const eigrad::ExpandingArray<2> ss = stride_form == 0 ? eigrad::ExpandingArray<2>()
                                         : stride_form == 1
                                             ? eigrad::ExpandingArray<2>(stride[0])
                                             : eigrad::ExpandingArray<2>{stride[0], stride[1]};
    const std::string what = std::string(max ? "max_pool2d(" : "avg_pool2d(") + x.shape().str() +
                             ", kernel " + ks.str() + ", stride " + ss.str() + ", padding " +
                             ps.str() +
                             (max ? ", dilation " + str(dilation)
                                  : std::string(count_include_pad ? "" : ", exclude pad")) +
                             ")";
    expect(
        what, e.shape, {&x},
        [&] {
          return max ? eigrad::max_pool2d(x, ks, ss, ps, {dilation[0], dilation[1]})
                     : eigrad::avg_pool2d(x, ks, ss, ps, count_include_pad);
        },
        e.lenient);
  }

  void adaptive_pooling(Args& a) {
    const uint8_t mode = a.byte(), form = a.byte(), spatial = a.byte(), size = a.byte(),
                  x_byte = a.byte(), pick_at = a.byte();
    Dims xd;
    if (form & 1) xd.push_back((form >> 1 & 3) % 3);
    xd.push_back(1 + (form >> 3 & 3));
    xd.push_back(1 + (spatial & 7));
    xd.push_back(1 + (spatial >> 3 & 7));
    Dims out{1 + (size & 7), 1 + (size >> 3 & 7)};
    const size_t axis = mode >> 7;
    switch (mode % 16) {
      case 0:
        out[axis] = 0;
        break;
      case 1:
        out[axis] = -1;
        break;
      case 2:
        xd[xd.size() - 2 + axis] = 0;
        break;
      case 3:
        xd[xd.size() == 4 ? 1 : 0] = 0;
        break;
      default:
        break;
    }
    const Tensor x = mode % 16 == 4 ? pick_byte(pick_at) : leaf_byte(xd, x_byte);
    const Expected e = adaptive_pool_shape(x.shape().vec(), out);
    const bool one = size >> 6 & 1 && out[0] == out[1];
    expect(
        "adaptive_avg_pool2d(" + x.shape().str() + ", " + str(out) + ")", e.shape, {&x},
        [&] {
          return one ? eigrad::adaptive_avg_pool2d(x, out[0])
                     : eigrad::adaptive_avg_pool2d(x, {out[0], out[1]});
        },
        e.lenient);
  }

  // batch_norm, mostly valid; about one call in four breaks an argument.
  // chunk and split: the pieces' shapes (PyTorch 1.13's rules), or an error.
  void pieces(Args& a, bool chunk) {
    const Tensor x = pick(a);
    const Dims xs = x.shape().vec();
    const int axis = a.axis();
    const auto ax = resolve_axis(axis, static_cast<int>(xs.size()));
    const int64_t n = xs.empty() || !ax ? 0 : xs[static_cast<size_t>(*ax)];
    const int mode = chunk ? 0 : a.range(0, 1);
    const int64_t count = a.range(-1, 5);  // chunks or split_size
    std::vector<int64_t> sizes(static_cast<size_t>(a.range(0, 4)));
    for (int64_t& v : sizes) v = a.byte() < 230 ? a.range(0, 3) : -1;
    std::vector<int64_t> lengths;  // of the pieces
    bool ok = !xs.empty() && ax.has_value();
    if (ok && chunk) {
      ok = count > 0;
      if (ok && n == 0) lengths.assign(static_cast<size_t>(count), 0);
      if (ok && n > 0) {
        const int64_t size = (n + count - 1) / count;
        for (int64_t start = 0; start < n; start += size)
          lengths.push_back(std::min(size, n - start));
      }
    } else if (ok && mode == 0) {
      ok = count > 0 || (count == 0 && n == 0);
      if (ok && n == 0) lengths.push_back(0);
      if (ok && n > 0)
        for (int64_t start = 0; start < n; start += count)
          lengths.push_back(std::min(count, n - start));
    } else if (ok) {
      int64_t total = 0;
      for (int64_t v : sizes) {
        ok &= v >= 0;
        total += v;
      }
      ok &= total == n;
      lengths = sizes;
    }
    const std::string what = std::string(chunk ? "chunk(" : "split(") + str(xs) + ", " +
                             (mode == 1 ? str(sizes) : std::to_string(count)) + ", axis " +
                             std::to_string(axis) + ")";
    log(what + " -> " + (ok ? std::to_string(lengths.size()) + " pieces" : std::string("error")));
    std::vector<Tensor> out;
    try {
      out = chunk       ? eigrad::chunk(x, count, axis)
            : mode == 0 ? eigrad::split(x, count, axis)
                        : eigrad::split(x, sizes, axis);
    } catch (const eigrad::Error& e) {
      const std::string msg = e.what();
      if (!ok || (anomaly_ && msg.rfind("anomaly:", 0) == 0)) return;
      violation(trace_, what + " threw \"" + msg + "\" for a valid call");
    }
    if (!ok) violation(trace_, what + " returned pieces but should throw eigrad::Error");
    if (out.size() != lengths.size())
      violation(trace_, what + " returned " + std::to_string(out.size()) + " pieces, expected " +
                            std::to_string(lengths.size()));
    for (size_t i = 0; i < out.size(); ++i) {
      Dims d = xs;
      d[static_cast<size_t>(*ax)] = lengths[i];
      if (out[i].shape().vec() != d || out[i].array().size() != out[i].numel())
        violation(trace_, what + " piece " + std::to_string(i) + " has shape " +
                              out[i].shape().str() + ", expected " + str(d));
      if (out[i].requires_grad() != (eigrad::is_grad_enabled() && x.requires_grad()))
        violation(trace_, what + " piece " + std::to_string(i) + " recorded the wrong graph");
      if (i < 2) remember(out[i]);
    }
  }

  void expand(Args& a) {
    const Tensor x = pick(a);
    const Dims xs = x.shape().vec();
    const size_t r = xs.size(), m = static_cast<size_t>(a.range(0, static_cast<int>(r) + 2));
    std::vector<int64_t> sizes(m);
    for (size_t i = 0; i < m; ++i) {
      const int kind = a.range(0, 3);
      const bool existing = i + r >= m;
      sizes[i] = kind == 0 ? -1 : kind == 1 && existing ? xs[i + r - m] : a.range(-2, 3);
    }
    // The contract: one size per axis at least, new leading axes >= 0, an existing axis keeps
    // its size (or -1) unless it has size 1 and the new size is >= 0.
    std::optional<Dims> out;
    if (m >= r && m <= static_cast<size_t>(kMaxRank)) {
      Dims d;
      bool ok = true;
      for (size_t i = 0; i < m; ++i) {
        const int64_t want = sizes[i];
        if (i + r < m) {
          ok &= want >= 0;
          d.push_back(want);
        } else {
          const int64_t have = xs[i + r - m];
          ok &= want == -1 || want == have || (have == 1 && want >= 0);
          d.push_back(want == -1 ? have : want);
        }
      }
      if (ok) out = d;
    }
    expect("expand(" + str(xs) + ", " + str(sizes) + ")", out, {&x},
           [&] { return eigrad::expand(x, sizes); });
  }

  void repeat(Args& a) {
    const Tensor x = pick(a);
    const Dims xs = x.shape().vec();
    const size_t r = xs.size(), m = static_cast<size_t>(a.range(0, static_cast<int>(r) + 2));
    std::vector<int64_t> repeats(m);
    for (int64_t& v : repeats) v = a.byte() < 240 ? a.range(0, 3) : -1;
    std::optional<Dims> out;
    if (m >= r && m <= static_cast<size_t>(kMaxRank)) {
      Dims d;
      bool ok = true;
      for (size_t i = 0; i < m; ++i) {
        ok &= repeats[i] >= 0;
        d.push_back((i + r < m ? 1 : xs[i + r - m]) * repeats[i]);
      }
      if (ok) out = d;
    }
    expect("repeat(" + str(xs) + ", " + str(repeats) + ")", out, {&x},
           [&] { return eigrad::repeat(x, repeats); });
  }

  void flip_or_roll(Args& a, bool flip) {
    const Tensor x = pick(a);
    const Dims xs = x.shape().vec();
    std::vector<int> axes(static_cast<size_t>(a.range(0, flip ? 3 : 2)));
    for (int& v : axes) v = a.axis();
    std::vector<int64_t> shifts(a.range(0, 3) == 0 ? static_cast<size_t>(a.range(0, 3))
                                                   : std::max<size_t>(axes.size(), 1));
    for (int64_t& v : shifts) {
      const uint8_t b = a.byte();
      v = b < 240 ? b % 13 - 6
          : b % 2 ? std::numeric_limits<int64_t>::max()
                  : std::numeric_limits<int64_t>::min();
    }
    // flip: each axis valid and at most once; roll: one shift per axis (one for none).
    bool ok = true;
    std::vector<int> seen;
    for (int v : axes) {
      const auto ax = resolve_axis(v, static_cast<int>(xs.size()));
      ok &= ax.has_value() && !(flip && std::count(seen.begin(), seen.end(), *ax));
      if (ax) seen.push_back(*ax);
    }
    if (!flip) ok &= shifts.size() == std::max<size_t>(axes.size(), 1);
    std::vector<int64_t> shown(axes.begin(), axes.end());
    expect(std::string(flip ? "flip(" : "roll(") + str(xs) + ", " +
               (flip ? "" : "shifts " + str(shifts) + ", ") + str(shown) + ")",
           ok ? std::optional<Dims>(xs) : std::nullopt, {&x},
           [&] { return flip ? eigrad::flip(x, axes) : eigrad::roll(x, shifts, axes); });
  }

  // einsum of one or two operands, on an equation made up for their shapes: subscripts from a
  // small alphabet (so that repeats and shared ones are common), an ellipsis now and then, an
  // explicit or implicit output, and now and then a broken term.
  void einsum(Args& a) {
    static const char alphabet[] = {'i', 'j', 'k', 'B'};
    const int count = a.range(1, 2);
    std::vector<Tensor> ops;
    for (int i = 0; i < count; ++i) ops.push_back(pick(a));
    const uint8_t mode = a.byte();
    const bool explicit_out = mode & 1, broken = (mode >> 1 & 7) == 0;
    uint8_t bits = a.byte();
    const auto next = [&] {
      const int v = bits & 3;
      bits = static_cast<uint8_t>(bits >> 2 | a.byte() << 6);
      return v;
    };
    // Per operand: its letters, and how many leading axes an ellipsis covers (-1: none).
    std::vector<std::string> letters(ops.size());
    std::vector<int> covered(ops.size(), -1);
    std::string equation;
    for (size_t i = 0; i < ops.size(); ++i) {
      const int r = ops[i].rank();
      if (r > 0 && next() == 0) covered[i] = a.range(0, r);
      for (int d = std::max(covered[i], 0); d < r; ++d) letters[i].push_back(alphabet[next()]);
      equation += (i ? "," : "") + std::string(covered[i] >= 0 ? "..." : "") + letters[i];
    }
    // The contract, worked out on the letters: -1 marks a size not known yet.
    std::map<char, int64_t> size;
    bool ok = true;
    std::vector<int64_t> ell;  // the ellipsis' sizes, right-aligned
    for (size_t i = 0; i < ops.size(); ++i) {
      const Dims s = ops[i].shape().vec();
      const int e = std::max(covered[i], 0);
      std::map<char, int64_t> own;  // a repeated letter within an operand needs equal sizes
      for (size_t d = 0; d < letters[i].size(); ++d) {
        const char c = letters[i][d];
        const int64_t n = s[static_cast<size_t>(e) + d];
        if (own.count(c) && own[c] != n) ok = false;
        own[c] = n;
      }
      for (const auto& [c, n] : own) {
        if (!size.count(c) || size[c] == 1)
          size[c] = n;
        else if (n != size[c] && n != 1)
          ok = false;
      }
      // Ellipsis sizes: right-aligned, equal or 1.
      Dims es(s.begin(), s.begin() + e);
      if (es.size() > ell.size()) ell.insert(ell.begin(), es.size() - ell.size(), 1);
      for (size_t k = 0; k < es.size(); ++k) {
        int64_t& have = ell[ell.size() - es.size() + k];
        if (have == 1)
          have = es[k];
        else if (es[k] != have && es[k] != 1)
          ok = false;
      }
    }
    std::string output;
    std::map<char, int> uses;
    for (const auto& l : letters)
      for (char c : l) ++uses[c];
    Dims out;
    const bool out_ellipsis = explicit_out ? next() != 0 : true;
    if (out_ellipsis) out.insert(out.end(), ell.begin(), ell.end());
    if (explicit_out) {
      const int n = next() + next();
      for (int i = 0; i < n; ++i) {
        const char c = alphabet[next()];
        ok &= uses.count(c) && output.find(c) == std::string::npos;
        output.push_back(c);
        if (size.count(c)) out.push_back(size[c]);
      }
      equation += "->" + std::string(out_ellipsis ? "..." : "") + output;
    } else {
      for (const auto& [c, n] : uses)  // std::map: ASCII order, as the implicit output
        if (n == 1) out.push_back(size[c]);
    }
    if (broken) {  // a character that is not a subscript, or a term too many
      if (mode >> 4 & 1)
        equation.insert(equation.size() / 2, 1, "1-.>"[mode >> 5 & 3]);
      else
        equation.insert(0, "i,");
      ok = false;
    }
    std::string what = "einsum(\"" + equation + "\"";
    std::vector<const Tensor*> inputs;
    for (const Tensor& t : ops) {
      what += ", " + t.shape().str();
      inputs.push_back(&t);
    }
    // A result of rank above 8 may be refused.
    const bool lenient = out.size() > static_cast<size_t>(kMaxRank);
    expect(
        what + ")", ok ? std::optional<Dims>(out) : std::nullopt, inputs,
        [&] { return eigrad::einsum(equation, ops); }, lenient);
  }

  void batch_norm(Args& a) {
    const uint8_t mode = a.byte(), form = a.byte(), spatial = a.byte(), flags = a.byte();
    const uint8_t x_byte = a.byte(), w_byte = a.byte(), b_byte = a.byte(), r_byte = a.byte(),
                  extra = a.byte(), pick_at = a.byte();
    const int rank = 2 + form % 3, broken = mode % 16;
    Dims xd{(form >> 2 & 3) % 3, 1 + (form >> 4 & 3)};
    for (int i = 2; i < rank; ++i) xd.push_back(1 + (spatial >> (3 * (i - 2)) & 3));
    const bool training = flags & 1, has_mean = flags >> 1 & 1;
    const bool has_var = broken == 4 ? !has_mean : has_mean;
    const Dims channel{xd[1]}, wrong{xd[1] + 1};
    const Tensor x = broken == 0 ? pick_byte(pick_at) : leaf_byte(xd, x_byte);
    const auto maybe = [&](bool given, bool bad, uint8_t b) {
      return given ? leaf_byte(bad ? wrong : channel, b) : Tensor();
    };
    const Tensor mean = maybe(has_mean, broken == 1, r_byte);
    const Tensor var = maybe(has_var, false, static_cast<uint8_t>(r_byte + 1));
    const Tensor w = maybe(flags >> 3 & 1, broken == 2, w_byte);
    const Tensor b = maybe(flags >> 4 & 1, broken == 3, b_byte);
    // Mostly PyTorch's defaults; sometimes edge values, which the op may reject or not.
    const bool odd = extra >= 224;
    const double momentum = odd ? a.scalar() : 0.1, eps = odd ? a.scalar() : 1e-5;
    const auto dims_of = [](const Tensor& t) {
      return t.defined() ? std::optional<Dims>(t.shape().vec()) : std::nullopt;
    };
    const std::optional<Dims> shapes[] = {dims_of(mean), dims_of(var), dims_of(w), dims_of(b)};
    std::vector<const Dims*> given;
    for (const auto& d : shapes) given.push_back(d ? &*d : nullptr);
    Expected e = batch_norm_shape(x.shape().vec(), given, mean.defined(), var.defined(), training);
    e.lenient |= odd;
    std::vector<const Tensor*> inputs{&x};
    if (w.defined()) inputs.push_back(&w);
    if (b.defined()) inputs.push_back(&b);
    const auto str_of = [](const Tensor& t) {
      return t.defined() ? t.shape().str() : std::string("none");
    };
    expect(
        "batch_norm(" + x.shape().str() + ", running " + str_of(mean) + " " + str_of(var) +
            ", weight " + str_of(w) + ", bias " + str_of(b) + (training ? ", training" : ", eval") +
            ", momentum " + std::to_string(momentum) + ", eps " + std::to_string(eps) + ")",
        e.shape, inputs,
        [&] { return eigrad::batch_norm(x, mean, var, w, b, training, momentum, eps); }, e.lenient);
  }

  // conv_transpose2d, mostly valid; some calls break one argument.
  void conv_transpose(Args& a) {
    const uint8_t mode = a.byte(), sizes = a.byte(), spatial = a.byte(), kernel = a.byte(),
                  steps = a.byte(), extra = a.byte();
    const uint8_t x_byte = a.byte(), w_byte = a.byte(), b_byte = a.byte(), pick_at = a.byte();
    int64_t groups = 1 + (mode & 3) % 3;
    // The top bit of `sizes` widens the channels to 16 or 17 per group, which (3 x 3, stride 1,
    // one group, padding at most 2) takes the convolution kernels' Winograd fast path.
    const int64_t wide = (sizes >> 7 & 1) * 15;
    const int64_t n = (sizes & 3) % 3, cg = 1 + (sizes >> 2 & 1) + wide,
                  og = 1 + (sizes >> 3 & 1) + wide;
    const int bias_mode = sizes >> 4 & 3;  // none, [O], [O], [O + 1]
    Dims stride, padding, output_padding, dilation, ks, in_sizes;
    for (int i = 0; i < 2; ++i) {
      in_sizes.push_back(1 + (spatial >> (3 * i) & 7));
      ks.push_back(1 + (kernel >> (2 * i) & 3));
      dilation.push_back(1 + (kernel >> (4 + i) & 1));
      stride.push_back(1 + (steps >> (2 * i) & 3));
      padding.push_back(steps >> (4 + 2 * i) & 3);
      // Mostly below stride or dilation; 3 is sometimes too large.
      output_padding.push_back(extra >> (2 * i) & 3);
    }
    Dims xd{n, cg * groups}, wd{cg * groups, og};
    const size_t axis = static_cast<size_t>(sizes >> 6 & 1);
    switch (mode >> 2) {
      case 40:
        groups = 0;
        break;
      case 41:
        stride[axis] = 0;
        break;
      case 42:
        padding[axis] = -1;
        break;
      case 43:
        dilation[axis] = 0;
        break;
      case 44:
        output_padding[axis] = -1;
        break;
      case 45:
        wd[0] += 1;
        break;
      case 46:
        xd[1] += 1;
        break;
      case 47:
        padding[axis] = in_sizes[axis] * stride[axis] + ks[axis];
        break;
      case 48:
        xd[1] = wd[0] = 0;
        break;
      case 49:
        wd[1] = 0;
        break;
      case 50:
        ks[axis] = 0;
        break;
      case 51:
        xd[0] = 0;
        break;
      default:
        break;
    }
    xd.insert(xd.end(), in_sizes.begin(), in_sizes.end());
    wd.insert(wd.end(), ks.begin(), ks.end());
    const Tensor x = mode >> 2 == 52 ? pick_byte(pick_at) : leaf_byte(xd, x_byte);
    const Tensor w = mode >> 2 == 53 ? pick_byte(pick_at) : leaf_byte(wd, w_byte);
    Tensor b;
    if (mode >> 2 == 54)
      b = pick_byte(pick_at);
    else if (bias_mode > 0)
      b = leaf_byte({w.rank() > 1 ? w.shape()[1] * groups + (bias_mode == 3) : 1}, b_byte);
    const Dims bs = b.defined() ? b.shape().vec() : Dims{};
    const Expected e =
        conv_transpose_shape(x.shape().vec(), w.shape().vec(), b.defined() ? &bs : nullptr, stride,
                             padding, output_padding, dilation, groups);
    const std::string what = "conv_transpose2d(" + x.shape().str() + ", " + w.shape().str() + ", " +
                             (b.defined() ? b.shape().str() : "no bias") + ", stride " +
                             str(stride) + ", padding " + str(padding) + ", output_padding " +
                             str(output_padding) + ", groups " + std::to_string(groups) +
                             ", dilation " + str(dilation) + ")";
    const auto run = [&] {
      return eigrad::conv_transpose2d(x, w, b, {stride[0], stride[1]}, {padding[0], padding[1]},
                                      {output_padding[0], output_padding[1]}, groups,
                                      {dilation[0], dilation[1]});
    };
    if (b.defined())
      expect(what, e.shape, {&x, &w, &b}, run, e.lenient);
    else
      expect(what, e.shape, {&x, &w}, run, e.lenient);
  }

  // interpolate: a picked value or a fresh [N, C, H, W] leaf; size or scale_factor (or both, or
  // neither), nearest or bilinear (or an unsupported mode), align_corners sometimes.
  void interpolate(Args& a) {
    const uint8_t form = a.byte(), shape = a.byte(), out_bytes = a.byte(), scale_bytes = a.byte();
    const Tensor x = form & 1 ? pick(a)
                              : leaf({(shape & 3) % 3, 1 + (shape >> 2 & 1), 1 + (shape >> 3 & 3),
                                      1 + (shape >> 5 & 7)},
                                     a);
    static const double scales[] = {0.5, 1.0, 1.5, 2.0, 2.9, 0.3, 0.0, -1.0};
    const bool by_size = form >> 1 & 1, by_scale = form >> 2 & 1;
    const std::string mode = (form >> 3 & 3) == 3 ? "bicubic"
                             : (form >> 3 & 1)    ? "bilinear"
                                                  : "nearest";
    const bool set_align = form >> 5 & 1, align = form >> 6 & 1;
    const Dims size{out_bytes & 7, out_bytes >> 3 & 7};
    const std::array<double, 2> scale{scales[scale_bytes & 7], scales[scale_bytes >> 3 & 7]};
    eigrad::InterpolateOptions o;
    o.mode(mode);
    if (by_size) o.size({size[0], size[1]});
    if (by_scale) o.scale_factor(scale);
    if (set_align) o.align_corners(align);
    // The contract: 4-D with C, H, W >= 1, a supported mode, align_corners only with bilinear,
    // exactly one of size and scale_factor, a non-empty output of floor(size * scale).
    const Dims xs = x.shape().vec();
    std::optional<Dims> out;
    bool ok = xs.size() == 4 && mode != "bicubic" && (mode == "bilinear" || !set_align) &&
              by_size != by_scale;
    if (ok) ok = xs[1] >= 1 && xs[2] >= 1 && xs[3] >= 1;
    if (ok) {
      Dims d{xs[0], xs[1]};
      for (size_t i = 0; i < 2; ++i) {
        const int64_t v =
            by_size
                ? size[i]
                : (scale[i] > 0
                       ? static_cast<int64_t>(std::floor(static_cast<double>(xs[2 + i]) * scale[i]))
                       : 0);
        ok &= v >= 1;
        d.push_back(v);
      }
      if (ok) out = d;
    }
    expect("interpolate(" + str(xs) + ", mode " + mode + (by_size ? ", size " + str(size) : "") +
               (by_scale ? ", scale_factor (" + std::to_string(scale[0]) + ", " +
                               std::to_string(scale[1]) + ")"
                         : "") +
               (set_align ? ", align_corners" : "") + ")",
           out, {&x}, [&] { return eigrad::interpolate(x, o); });
  }

  // dropout2d: a picked value (any rank) or a fresh 3-D or 4-D leaf; like dropout, x itself may
  // come back, so the node contract is not checked.
  void dropout2d(Args& a) {
    const uint8_t form = a.byte();
    Dims d;
    if (form & 2) d.push_back((form >> 2 & 3) % 3);
    d.push_back(form >> 4 & 3);
    d.push_back(1 + (form >> 6 & 1));
    d.push_back(2);
    const Tensor x = form & 1 ? pick(a) : leaf(d, a);
    const double p = a.range(0, 3) == 0 ? a.scalar() : a.range(0, 8) / 8.0;
    const bool training = a.flag();
    eigrad::Generator gen(a.byte());
    const bool ok = p >= 0 && p <= 1 && (x.rank() == 3 || x.rank() == 4);
    log("dropout2d(" + x.shape().str() + ", " + std::to_string(p) + ")");
    try {
      const Tensor y = eigrad::nn::dropout2d(x, p, training, gen);
      if (!ok) violation(trace_, "dropout2d succeeded but should throw eigrad::Error");
      if (y.shape() != x.shape()) violation(trace_, "dropout2d changed the shape");
      remember(y);
    } catch (const eigrad::Error& e) {
      if (ok && !(anomaly_ && std::string(e.what()).rfind("anomaly:", 0) == 0))
        violation(trace_, std::string("dropout2d threw \"") + e.what() + "\"");
    }
  }

  void activation(Args& a) {
    const auto& catalogue = eigrad::activation_catalogue();
    const eigrad::ActivationInfo& info = catalogue[a.byte() % catalogue.size()];
    const Tensor x = pick(a);
    const Dims xs = x.shape().vec();
    if (info.kind == eigrad::ActivationKind::PerChannel) return;  // kPrelu covers it
    // Parameter values: mostly as many as the entry takes, sometimes one too many.
    std::vector<double> values(static_cast<size_t>(a.range(0, 3)) % (info.parameters.size() + 2));
    for (double& v : values) v = a.byte() < 64 ? a.scalar() : a.range(-8, 8) / 4.0;
    bool ok = values.size() <= info.parameters.size();
    std::vector<double> all = values;
    for (size_t i = all.size(); ok && i < info.parameters.size(); ++i)
      all.push_back(info.parameters[i].default_value);
    if (ok && info.name == "celu") ok = all[0] > 0;
    if (ok && info.name == "softplus") ok = all[0] != 0;
    if (ok && info.kind == eigrad::ActivationKind::AlongAxis) {
      const double v = all[0];
      ok = v == std::floor(v) && std::fabs(v) <= kMaxRank &&
           resolve_axis(static_cast<int>(v), static_cast<int>(xs.size()));
    }
    std::string what = info.name + "(" + str(xs);
    for (double v : values) what += ", " + std::to_string(v);
    expect(what + ")", ok ? std::optional<Dims>(xs) : std::nullopt, {&x},
           [&] { return info.apply(x, values); });
  }

  std::vector<Tensor> values_, leaves_;
  size_t next_slot_ = 0;
  bool anomaly_ = false;
  std::string trace_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool anomaly = data[1] & 1;
  eigrad::set_anomaly_enabled(anomaly);
  eigrad::set_grad_enabled(true);
  if (data[0] & 1)
    Program<double>().run(data + 2, size - 2, anomaly);
  else
    Program<float>().run(data + 2, size - 2, anomaly);
  eigrad::set_anomaly_enabled(false);
  eigrad::set_grad_enabled(true);
  return 0;
}
