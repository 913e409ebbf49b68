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
#include <optional>
#include <string>
#include <vector>

#include "eigrad/activations.hpp"
#include "eigrad/autograd.hpp"
#include "eigrad/error.hpp"
#include "eigrad/nn/functional.hpp"
#include "eigrad/nn/loss.hpp"
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
    for (T& v : t.array())
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
      case kMax: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int axis = a.axis();
        const bool keepdim = a.flag();
        const auto ax = resolve_axis(axis, static_cast<int>(xs.size()));
        std::optional<Dims> out;
        if (ax && (xs.empty() || xs[static_cast<size_t>(*ax)] > 0))
          out = xs.empty() ? Dims{} : without_axis(xs, *ax, keepdim);
        expect("max(" + str(xs) + ", " + std::to_string(axis) + (keepdim ? ", keepdim)" : ")"), out,
               {&x}, [&] { return eigrad::max(x, axis, keepdim); });
        return;
      }
      case kArgmax: {
        const Tensor x = pick(a);
        const Dims xs = x.shape().vec();
        const int axis = a.axis();
        const auto ax = resolve_axis(axis, static_cast<int>(xs.size()));
        const int64_t n = ax && !xs.empty() ? xs[static_cast<size_t>(*ax)] : 1;
        const bool ok = ax && n > 0;
        log("argmax(" + str(xs) + ", " + std::to_string(axis) + ")");
        try {
          const std::vector<int64_t> where = eigrad::argmax(x, axis);
          if (!ok) violation(trace_, "argmax succeeded but should throw eigrad::Error");
          if (static_cast<int64_t>(where.size()) != x.numel() / n)
            violation(trace_, "argmax returned " + std::to_string(where.size()) + " indices");
          for (int64_t w : where)
            if (w < 0 || w >= n) violation(trace_, "argmax returned index " + std::to_string(w));
        } catch (const eigrad::Error& e) {
          if (ok) violation(trace_, std::string("argmax threw \"") + e.what() + "\"");
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
      default:
        return;
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
