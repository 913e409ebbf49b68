// The activation nodes: one generic node per kind of entry (elementwise, along an axis) that runs
// the entry's forward and records its backward beside it, PReLU's node, and the runtime
// catalogue through which the functional API calls them. The kernels themselves are the table in
// eigrad/activation_catalogue.hpp.
#include "eigrad/activations.hpp"
#include "parallel_for.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "autograd/graph.hpp"
#include "layout.hpp"

namespace eigrad {

namespace {

using namespace catalogue;
using namespace eigrad::detail;  // the kernels' Eigen types (src/layout.hpp)
using Eigen::Index;
template <class T>
using RowsMap = Eigen::Map<RowMajorArray<T>>;
template <class T>
using Line = Eigen::Map<Eigen::Array<T, 1, Eigen::Dynamic>>;
template <class T>
using ConstLine = Eigen::Map<const Eigen::Array<T, 1, Eigen::Dynamic>>;
template <class T>
using ConstRowsMap = Eigen::Map<const RowMajorArray<T>>;

// Elements per block: small enough that a kernel's operands stay in L1 between its two
// statements, and that its second statement follows its first closely enough for the hardware
// prefetcher to keep up when the operands come from DRAM; large enough that the loop costs
// little (BENCHMARKS.md, "Block size of the activation kernels").
constexpr Index kBlock = 512;

// Asks the memory system for p[0..n) (to be read soon) without waiting for it.
template <class T>
void prefetch(const T* p, Index n) {
  for (Index i = 0; i < n; i += 64 / Index(sizeof(T))) __builtin_prefetch(p + i, 0);
}

// Calls f(begin, size) on every block of [0, n); blocks are spread over threads when the array
// is large (eigrad/parallel.hpp). Unlike for_each_slice, it leaves prefetching to the hardware:
// asking for the next block made the kernels slower (BENCHMARKS.md).
template <class F>
void for_blocks(Index n, F&& f) {
  const Index blocks = (n + kBlock - 1) / kBlock;
  parallel_for(
      blocks,
      [&](Index first, Index last) {
        for (Index b = first; b < last; ++b) f(b * kBlock, std::min(kBlock, n - b * kBlock));
      },
      n);
}

template <class E>
using Params = std::array<double, std::tuple_size<decltype(E::parameters)>::value>;

template <class T, size_t N>
std::array<T, N> cast_params(const std::array<double, N>& p) {
  std::array<T, N> r{};
  for (size_t i = 0; i < N; ++i) r[i] = static_cast<T>(p[i]);
  return r;
}

template <class T>
using Grads = std::vector<BasicTensor<T>>;

// `values`, a piecewise-constant function of x (a derivative built from steps), as a node whose
// input is x and whose derivative is 0: a gradient through it is then defined and zero, as
// PyTorch's zeros_like in threshold_backward's and hardtanh_backward's derivatives.
template <class T>
BasicTensor<T> piecewise_constant(const BasicTensor<T>& x, const BasicTensor<T>& values) {
  if (values.requires_grad() || !needs_grad(x)) return values;
  BasicTensor<T> out = values.detach();
  record(
      "piecewise_constant", out, {&x}, Saves(),
      [](const Array<T>& g, GradSink<T>& s) { s.add(0, Array<T>::Zero(g.size())); },
      [shape = x.shape()](GraphContext<T>&, const BasicTensor<T>&) {
        return Grads<T>{BasicTensor<T>::zeros(shape)};
      });
  return out;
}

// ---------------------------------------------------------------- elementwise entries

// `values` were checked by apply_entry, the one way in.
template <class E, class T>
BasicTensor<T> elementwise(const BasicTensor<T>& x, const Params<E>& values) {
  const auto p = cast_params<T>(values);
  auto y = BasicTensor<T>::empty(x.shape());
  const T* xd = x.data();
  T* yd = y.mutable_data();
  for_blocks(x.numel(), [&](Index i, Index n) {
    E::template forward<T>(In<T>(xd + i, n), Out<T>(yd + i, n), p.data());
  });
  if (needs_grad(x))
    record(
        E::name, y, {&x}, E::saves_output ? Saves().output() : Saves().input(0),
        [p, saved = E::saves_output ? y.storage() : x.storage()](const Array<T>& g,
                                                                 GradSink<T>& s) {
          Array<T> dx = take_array<T>(g.size());
          for_blocks(g.size(), [&](Index i, Index n) {
            E::template backward<T>(In<T>(g.data() + i, n), In<T>(saved->data() + i, n),
                                    Out<T>(dx.data() + i, n), p.data());
          });
          s.add(0, std::move(dx));
        },
        [p](GraphContext<T>& c, const BasicTensor<T>& g) {
          const BasicTensor<T> saved = E::saves_output ? c.output() : c.input(0);
          return Grads<T>{g * piecewise_constant(saved, E::derivative(saved, p.data()))};
        });
  return y;
}

// ---------------------------------------------------------------- along-axis entries

// Calls f(inputs, output) on every slice along the axis of a tensor seen as [outer, n, inner],
// each slice contiguous: in place when inner == 1, else through transposed copies.
template <class T, size_t K, class F>
void for_each_slice(const AxisView& v, std::array<const T*, K> in, T* out, F&& f) {
  const Index n = v.n, inner = v.inner, block = n * inner;
  if (inner == 1) {
    // An entry reads a whole slice (its maximum, a sum) before it computes from cache, so memory
    // would idle while it computes; asking for the next slice's inputs first overlaps the two
    // (BENCHMARKS.md). Slices beyond 16 KiB are left to the hardware prefetcher.
    const bool prefetch_next = n * Index(sizeof(T)) <= 16384;
    parallel_for(
        v.outer,
        [&](Index first, Index last) {
          for (Index o = first; o < last; ++o) {
            if (prefetch_next && o + 1 < last)
              for (const T* x : in) prefetch(x + (o + 1) * n, n);
            std::array<const T*, K> slice;
            for (size_t k = 0; k < K; ++k) slice[k] = in[k] + o * n;
            f(slice, out + o * n);
          }
        },
        v.outer * n);
    return;
  }
  std::array<Array<T>, K> columns;
  for (Array<T>& c : columns) c.resize(block);
  Array<T> result(block);
  for (Index o = 0; o < v.outer; ++o) {
    for (size_t k = 0; k < K; ++k)
      swap_axes(in[k] + o * block, Shape{n, inner}, 0, 1, columns[k].data());
    for (Index i = 0; i < inner; ++i) {
      std::array<const T*, K> slice;
      for (size_t k = 0; k < K; ++k) slice[k] = columns[k].data() + i * n;
      f(slice, result.data() + i * n);
    }
    swap_axes(result.data(), Shape{inner, n}, 0, 1, out + o * block);
  }
}

// `shape` with axis `axis` of size 1 (a scalar stays a scalar).
inline Shape kept_shape(const Shape& shape, int axis) {
  Shape kept = shape;
  if (shape.rank() > 0) kept[axis] = 1;
  return kept;
}

template <class E, class T>
BasicTensor<T> along_axis(const BasicTensor<T>& x, int axis) {
  const int a = normalize_axis(E::name, axis, x.rank());
  const AxisView v = axis_view(x.shape(), a);
  auto y = BasicTensor<T>::empty(x.shape());
  const Index n = v.n;
  if (x.numel() > 0)  // an empty tensor has no slices, but still records its node
    for_each_slice<T, 1>(v, {x.data()}, y.mutable_data(),
                         [n](const std::array<const T*, 1>& in, T* out) {
                           E::template forward<T>(In<T>(in[0], n), Out<T>(out, n));
                         });
  if (needs_grad(x))
    record(
        E::name, y, {&x}, E::saves_output ? Saves().output() : Saves().input(0),
        [v, saved = E::saves_output ? y.storage() : x.storage()](const Array<T>& g,
                                                                 GradSink<T>& s) {
          Array<T> dx = take_array<T>(g.size());
          const Index n = v.n;
          if (g.size() > 0)
            for_each_slice<T, 2>(v, {g.data(), saved->data()}, dx.data(),
                                 [n](const std::array<const T*, 2>& in, T* out) {
                                   E::template backward<T>(In<T>(in[0], n), In<T>(in[1], n),
                                                           Out<T>(out, n));
                                 });
          s.add(0, std::move(dx));
        },
        [kept = kept_shape(x.shape(), a)](GraphContext<T>& c, const BasicTensor<T>& g) {
          return Grads<T>{E::graph_backward(g, c.output(), kept)};
        });
  return y;
}

// ---------------------------------------------------------------- prelu

// [C, 1, ..., 1]: one value per channel of an input of `shape` (channels on axis 1), broadcast.
inline Shape channel_shape(const Shape& shape, int64_t channels) {
  Shape kept{channels};
  for (int i = 2; i < shape.rank(); ++i) kept.push_back(1);
  return kept;
}

template <class T>
BasicTensor<T> prelu_node(const BasicTensor<T>& x, const BasicTensor<T>& slopes) {
  if (!slopes.defined()) throw Error("prelu: slopes is an undefined tensor");
  if (x.rank() == 0)
    throw Error("prelu: the input must have at least one dimension, got a scalar (shape [])");
  const Shape& shape = x.shape();
  // [outer, channels, inner] with the channels on axis 1; rank 1 is one channel.
  const Index channels = shape.rank() >= 2 ? shape[1] : 1;
  const Index outer = shape.rank() >= 2 ? shape[0] : 1;
  const Index inner = channels && outer ? x.numel() / (channels * outer) : 0;
  const Index count = slopes.numel();
  if (slopes.rank() > 1 || (count != 1 && count != channels))
    throw Error("prelu: slopes of shape " + slopes.shape().str() + " for an input of shape " +
                shape.str() + " with " + std::to_string(channels) + " channel" +
                (channels == 1 ? "" : "s") + (shape.rank() >= 2 ? " (axis 1)" : " (rank 1)") +
                "; expected a vector of 1 (shared) or " + std::to_string(channels) + " values");

  // The slopes as they are now: a training step that changes them in place after this forward
  // must not change what this backward computes.
  Array<T> a = count == 1 ? Array<T>::Constant(channels, slopes.data()[0]) : slopes.array();
  auto y = BasicTensor<T>::empty(shape);
  const T* xd = x.data();
  T* yd = y.mutable_data();
  if (inner == 1) {  // [N, C]: a channel per column; rows spread over threads, one at a time
    parallel_for(
        outer,
        [&](Index first, Index last) {
          for (Index r = first; r < last; ++r) {
            const ConstLine<T> xr(xd + r * channels, channels);
            Line<T>(yd + r * channels, channels) = xr.max(T(0)) + xr.min(T(0)) * a.transpose();
          }
        },
        x.numel());
  } else {  // rows of channels spread over threads, each read front to back
    parallel_for(
        outer,
        [&](Index first, Index last) {
          for (Index o = first; o < last; ++o)
            for (Index c = 0; c < channels; ++c) {
              const Index at = (o * channels + c) * inner;
              const In<T> xs(xd + at, inner);
              Out<T>(yd + at, inner) = xs.max(T(0)) + a[c] * xs.min(T(0));
            }
        },
        x.numel());
  }
  if (needs_grad(x, slopes))
    record(
        "prelu", y, {&x, &slopes}, Saves().input(0),
        [outer, channels, inner, count, a = std::move(a), xs = x.storage()](const Array<T>& g,
                                                                            GradSink<T>& s) {
          // dx = g where x > 0, else a g (x = 0 takes the slope, as in leaky_relu);
          // da_c = the sum of g x where x <= 0 over every axis but the channels.
          Array<T> dx = take_array<T>(s.needs(0) ? g.size() : 0);
          Array<T> da = Array<T>::Zero(s.needs(1) ? channels : 0);
          if (inner == 1) {
            // Row by row: each row is a vector of the channels' values (column sums over
            // a row-major block do not vectorize).
            if (s.needs(0))
              parallel_for(
                  outer,
                  [&](Index first, Index last) {
                    for (Index r = first; r < last; ++r) {
                      const ConstLine<T> gr(g.data() + r * channels, channels),
                          xr(xs->data() + r * channels, channels);
                      Line<T>(dx.data() + r * channels, channels) =
                          gr * (positive(xr) + (T(1) - positive(xr)) * a.transpose());
                    }
                  },
                  g.size());
            if (s.needs(1)) {
              Line<T> sums(da.data(), channels);
              for (Index r = 0; r < outer; ++r)
                sums += ConstLine<T>(g.data() + r * channels, channels) *
                        ConstLine<T>(xs->data() + r * channels, channels).min(T(0));
            }
          } else {
            // Per-(row, channel) partial sums of da: threads never share one, and the
            // result does not depend on the thread count.
            Array<T> partial = Array<T>::Zero(s.needs(1) ? outer * channels : 0);
            parallel_for(
                outer,
                [&](Index first, Index last) {
                  for (Index o = first; o < last; ++o)
                    for (Index c = 0; c < channels; ++c) {
                      const Index at = (o * channels + c) * inner;
                      const In<T> gs(g.data() + at, inner), x(xs->data() + at, inner);
                      if (s.needs(0))
                        Out<T>(dx.data() + at, inner) =
                            gs * (positive(x) + a[c] * (T(1) - positive(x)));
                      if (s.needs(1)) partial[o * channels + c] = (gs * x.min(T(0))).sum();
                    }
                },
                g.size());
            if (s.needs(1) && outer > 0)
              da = ConstRowsMap<T>(partial.data(), outer, channels).colwise().sum().transpose();
          }
          if (s.needs(1)) {
            if (count == 1)
              s.add(1, Array<T>::Constant(1, da.sum()));
            else
              s.add(1, std::move(da));
          }
          if (s.needs(0)) s.add(0, std::move(dx));
        },
        [shared = count == 1, kept = channel_shape(shape, channels), now = slopes.clone()](
            GraphContext<T>& c, const BasicTensor<T>& g) {
          // The same in eigrad ops, with the slopes of the forward (`now`); the slopes input,
          // whose values may have changed since, enters as s - s.detach() (0, derivative 1).
          const BasicTensor<T> x = c.input(0);
          const BasicTensor<T> s = c.connect(1, now.storage(), now.shape(), now.impl()->version);
          const BasicTensor<T> slopes = s.requires_grad() ? now + (s - s.detach()) : now;
          const BasicTensor<T> a = shared ? slopes : reshape(slopes, kept.vec());
          const BasicTensor<T> h = piecewise_constant(x, step(x));
          Grads<T> grads(2);
          if (c.needs(0)) grads[0] = g * (h + a * (T(1) - h));
          if (c.needs(1)) {
            const BasicTensor<T> t = g * x * (T(1) - h);
            grads[1] = reshape(shared ? sum(t) : sum_to_size(t, kept), now.shape().vec());
          }
          return grads;
        });
  return y;
}

// ---------------------------------------------------------------- the runtime catalogue

template <class E>
void check_entry(const double* values) {
  if constexpr (E::kind == ActivationKind::AlongAxis) {
    if (values[0] != std::floor(values[0]) || std::fabs(values[0]) > Shape::kMaxRank)
      throw Error(std::string(E::name) + ": axis must be an integer, got " +
                  std::to_string(values[0]));
  }
  E::check(values);
}

// Entry E applied through the type-erased call; `values` holds all of E's parameter values.
template <class E, class T>
BasicTensor<T> apply_entry(const BasicTensor<T>& x, const double* values,
                           const BasicTensor<T>& slopes) {
  if constexpr (E::kind != ActivationKind::PerChannel) check_entry<E>(values);
  if constexpr (E::kind == ActivationKind::Elementwise) {
    Params<E> p{};
    std::copy(values, values + p.size(), p.begin());
    return elementwise<E>(x, p);
  } else if constexpr (E::kind == ActivationKind::AlongAxis) {
    return along_axis<E>(x, static_cast<int>(values[0]));
  } else {
    return prelu_node(x, slopes);
  }
}

template <class... E>
constexpr std::array<ActivationInfo::Calls, sizeof...(E)> calls_of(std::tuple<E...>*) {
  return {{{&check_entry<E>, &E::kinks, &apply_entry<E, float>, &apply_entry<E, double>}...}};
}
constexpr auto kCalls = calls_of(static_cast<catalogue::Catalogue*>(nullptr));

template <class E>
ActivationInfo describe() {
  ActivationInfo info;
  info.name = E::name;
  for (const char* alias : E::aliases) info.aliases.push_back(alias);
  info.kind = E::kind;
  info.formula = E::formula;
  for (const Parameter& p : E::parameters) info.parameters.push_back({p.name, p.default_value});
  info.saves_output = E::saves_output;
  info.calls = kCalls[catalogue::IndexOf<E, catalogue::Catalogue>::value];
  return info;
}

template <class... E>
std::vector<ActivationInfo> describe_all(std::tuple<E...>*) {
  return {describe<E>()...};
}

}  // namespace

// ---------------------------------------------------------------- building blocks of derivatives

template <class T>
BasicTensor<T> catalogue::normal_cdf(const BasicTensor<T>& x) {
  auto y = BasicTensor<T>::empty(x.shape());
  const T* xd = x.data();
  T* yd = y.mutable_data();
  for_blocks(x.numel(), [&](Index i, Index n) {
    const In<T> xs(xd + i, n);
    Out<T> ys(yd + i, n);
    ys = exp_of<NegHalfSquare>(xs);
    ys = map(xs, ys, NormalCdfFromExpOp<T>());
  });
  if (needs_grad(x))
    record(
        "normal_cdf", y, {&x}, Saves().input(0),
        [xs = x.storage()](const Array<T>& g, GradSink<T>& s) {
          s.add(0, g * (T(0.39894228040143267794) * exp_of<NegHalfSquare>(*xs)));
        },
        [](GraphContext<T>& c, const BasicTensor<T>& g) {
          return Grads<T>{g * normal_pdf(c.input(0))};
        });
  return y;
}

template Tensor catalogue::normal_cdf(const Tensor&);
template DoubleTensor catalogue::normal_cdf(const DoubleTensor&);

namespace detail {
Tensor run_activation(std::size_t index, const Tensor& x, const double* values,
                      const Tensor& slopes) {
  return kCalls[index].apply_f32(x, values, slopes);
}
DoubleTensor run_activation(std::size_t index, const DoubleTensor& x, const double* values,
                            const DoubleTensor& slopes) {
  return kCalls[index].apply_f64(x, values, slopes);
}
}  // namespace detail

namespace {

// The published catalogue. A registration publishes a copy with its entry appended and keeps
// every earlier copy, so that references handed out stay valid; readers only load a pointer.
struct Registry {
  std::mutex mutex;  // serialises registrations
  std::vector<std::unique_ptr<const std::vector<ActivationInfo>>> published;
  std::atomic<const std::vector<ActivationInfo>*> current{nullptr};
  Registry() {
    published.push_back(std::make_unique<const std::vector<ActivationInfo>>(
        describe_all(static_cast<catalogue::Catalogue*>(nullptr))));
    current.store(published.back().get(), std::memory_order_release);
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

const std::vector<ActivationInfo>& activation_catalogue() {
  return *registry().current.load(std::memory_order_acquire);
}

const ActivationInfo& find_activation(const std::string& name) {
  const std::vector<ActivationInfo>& all = activation_catalogue();
  for (const ActivationInfo& info : all) {
    if (info.name == name) return info;
    for (const std::string& alias : info.aliases)
      if (alias == name) return info;
  }
  std::string known;
  for (const ActivationInfo& info : all) {
    known += (known.empty() ? "" : ", ") + info.name;
    for (const std::string& alias : info.aliases) known += " (alias " + alias + ")";
  }
  throw Error("find_activation: unknown activation '" + name + "'; known: " + known);
}

std::vector<double> ActivationInfo::resolve(const std::vector<double>& values) const {
  if (values.size() > parameters.size()) {
    std::string names;
    for (const ActivationParameter& p : parameters) names += (names.empty() ? "" : ", ") + p.name;
    throw Error(name + ": got " + std::to_string(values.size()) +
                " parameter values but it takes " + std::to_string(parameters.size()) +
                (names.empty() ? "" : " (" + names + ")"));
  }
  std::vector<double> all = values;
  for (size_t i = values.size(); i < parameters.size(); ++i)
    all.push_back(parameters[i].default_value);
  if (!definition)
    calls.check(all.data());
  else if (definition->check)
    definition->check(all.data());
  return all;
}

std::vector<double> ActivationInfo::kinks(const std::vector<double>& values) const {
  const std::vector<double> all = resolve(values);
  std::vector<double> k = !definition         ? calls.kinks(all.data())
                          : definition->kinks ? definition->kinks(all.data())
                                              : std::vector<double>{};
  std::sort(k.begin(), k.end());
  return k;
}

// ---------------------------------------------------------------- registered activations

namespace {

// f (or f' when `derivative`) of one block through the definition's array callable for T, else
// its scalar callable.
template <class T>
void run_definition(const ActivationDefinition& d, bool derivative, In<T> x, Out<T> y,
                    const std::vector<double>& values, const std::vector<T>& p) {
  const ActivationDefinition::ArrayCallable<T>* array;
  if constexpr (std::is_same<T, float>::value)
    array = derivative ? &d.array_derivative_f32 : &d.array_function_f32;
  else
    array = derivative ? &d.array_derivative_f64 : &d.array_function_f64;
  if (*array) return (*array)(x, y, p.data());
  const ActivationDefinition::ScalarCallable& f = derivative ? d.derivative : d.function;
  for (Index i = 0; i < x.size(); ++i) y[i] = static_cast<T>(f(double(x[i]), values.data()));
}

// for_blocks, but an exception thrown by a block (a user's callable) reaches the caller instead
// of leaving a parallel region.
template <class F>
void for_blocks_rethrowing(Index n, F&& f) {
  std::exception_ptr error;
  std::mutex mutex;
  for_blocks(n, [&](Index i, Index len) {
    try {
      f(i, len);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
    }
  });
  if (error) std::rethrow_exception(error);
}

template <class T>
BasicTensor<T> registered_elementwise(const std::shared_ptr<const ActivationDefinition>& def,
                                      const BasicTensor<T>& x, std::vector<double> values) {
  std::vector<T> p(values.begin(), values.end());
  auto y = BasicTensor<T>::empty(x.shape());
  const T* xd = x.data();
  T* yd = y.mutable_data();
  for_blocks_rethrowing(x.numel(), [&](Index i, Index n) {
    run_definition<T>(*def, false, In<T>(xd + i, n), Out<T>(yd + i, n), values, p);
  });
  if (needs_grad(x))
    // The name lives as long as the definition, which the registry keeps for good.
    record(def->name.c_str(), y, {&x}, Saves().input(0),
           [def, values = std::move(values), p = std::move(p), saved = x.storage()](
               const Array<T>& g, GradSink<T>& s) {
             Array<T> dx = take_array<T>(g.size());
             for_blocks_rethrowing(g.size(), [&](Index i, Index n) {
               Out<T> block(dx.data() + i, n);
               run_definition<T>(*def, true, In<T>(saved->data() + i, n), block, values, p);
               block *= In<T>(g.data() + i, n);
             });
             s.add(0, std::move(dx));
           });
  return y;
}

std::string quoted(const std::string& s) {
  return "'" + s + "'";
}

// Throws unless `definition` can be registered next to the activations of `all`.
void check_definition(const ActivationDefinition& d, const std::vector<ActivationInfo>& all) {
  const std::string what = "register_activation: " + (d.name.empty() ? "" : quoted(d.name) + ": ");
  if (d.name.empty())
    throw Error(
        "register_activation: the name is empty; expected a non-empty name unique among "
        "the activations");
  std::vector<std::string> names = {d.name};
  names.insert(names.end(), d.aliases.begin(), d.aliases.end());
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) throw Error(what + "an alias is empty; expected non-empty aliases");
    for (size_t j = 0; j < i; ++j)
      if (names[j] == names[i])
        throw Error(what + "the name " + quoted(names[i]) + " is given twice");
    for (const ActivationInfo& info : all) {
      bool taken = info.name == names[i];
      for (const std::string& alias : info.aliases) taken = taken || alias == names[i];
      if (taken)
        throw Error(what + "the name " + quoted(names[i]) + " is already taken by the " +
                    (info.registered() ? "registered" : "built-in") + " activation " +
                    quoted(info.name) + "; expected a name no activation uses");
    }
  }
  for (const ActivationParameter& p : d.parameters)
    if (p.name.empty()) throw Error(what + "a parameter has an empty name; expected its name");
  const char* precisions[] = {"float32", "float64"};
  for (int k = 0; k < 2; ++k) {
    const bool f = k ? bool(d.array_function_f64) : bool(d.array_function_f32);
    const bool df = k ? bool(d.array_derivative_f64) : bool(d.array_derivative_f32);
    const std::string suffix = k ? "_f64" : "_f32";
    if (!f && !d.function)
      throw Error(what + "no function for " + precisions[k] +
                  "; expected `function` (a scalar callable) or `array_function" + suffix + "`");
    if (!df && !d.derivative)
      throw Error(what + "no derivative for " + precisions[k] +
                  "; expected `derivative` (a scalar callable) or `array_derivative" + suffix +
                  "`");
  }
  if (d.check) {
    std::vector<double> defaults;
    for (const ActivationParameter& p : d.parameters) defaults.push_back(p.default_value);
    try {
      d.check(defaults.data());
    } catch (const std::exception& e) {
      throw Error(what + "its check rejects the parameters' defaults: " + e.what() +
                  "; expected defaults inside the domain");
    }
  }
}

}  // namespace

const ActivationInfo& register_activation(ActivationDefinition definition) {
  Registry& r = registry();
  const std::lock_guard<std::mutex> lock(r.mutex);
  const std::vector<ActivationInfo>& current = *r.current.load(std::memory_order_relaxed);
  check_definition(definition, current);
  auto d = std::make_shared<const ActivationDefinition>(std::move(definition));
  ActivationInfo info;
  info.name = d->name;
  info.aliases = d->aliases;
  info.kind = ActivationKind::Elementwise;
  info.formula = d->formula;
  info.parameters = d->parameters;
  info.saves_output = false;
  info.definition = d;
  auto next = std::make_unique<std::vector<ActivationInfo>>(current);
  next->push_back(std::move(info));
  r.published.push_back(std::move(next));
  r.current.store(r.published.back().get(), std::memory_order_release);
  return r.published.back()->back();
}

namespace {
template <class T>
BasicTensor<T> apply_erased(const ActivationInfo::Calls& calls, const BasicTensor<T>& x,
                            const double* values, const BasicTensor<T>& slopes) {
  if constexpr (std::is_same<T, float>::value)
    return calls.apply_f32(x, values, slopes);
  else
    return calls.apply_f64(x, values, slopes);
}
}  // namespace

template <class T>
BasicTensor<T> ActivationInfo::apply(const BasicTensor<T>& x,
                                     const std::vector<double>& values) const {
  if (kind == ActivationKind::PerChannel)
    throw Error(name + ": takes learnable slopes; call apply(x, slopes)");
  if (definition) return registered_elementwise(definition, x, resolve(values));
  return apply_erased(calls, x, resolve(values).data(), BasicTensor<T>());
}

template <class T>
BasicTensor<T> ActivationInfo::apply(const BasicTensor<T>& x, const BasicTensor<T>& slopes) const {
  if (kind != ActivationKind::PerChannel)
    throw Error(name + ": takes no slopes; call apply(x, values)");
  return apply_erased(calls, x, resolve().data(), slopes);
}

#define EIGRAD_INSTANTIATE_ACTIVATIONS(T)                                                          \
  template BasicTensor<T> ActivationInfo::apply(const BasicTensor<T>&, const std::vector<double>&) \
      const;                                                                                       \
  template BasicTensor<T> ActivationInfo::apply(const BasicTensor<T>&, const BasicTensor<T>&) const;

EIGRAD_INSTANTIATE_ACTIVATIONS(float)
EIGRAD_INSTANTIATE_ACTIVATIONS(double)

}  // namespace eigrad
