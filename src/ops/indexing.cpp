#include "eigrad/ops/indexing.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <unordered_map>

#include "autograd/graph.hpp"
#include "eigrad/ops/compare.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/reduce.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "layout.hpp"

namespace eigrad {

using namespace detail;
using indexing::Slice;
using indexing::TensorIndex;

indexing::Slice::Slice(std::optional<int64_t> start, std::optional<int64_t> stop,
                       std::optional<int64_t> step)
    : start_(start), stop_(stop), step_(step.value_or(1)) {
  if (step_ <= 0)
    throw Error("Slice: the step must be positive, got " + std::to_string(step_) +
                " (PyTorch has no negative steps; use flip)");
}

namespace {

using Offsets = std::shared_ptr<const std::vector<int64_t>>;

template <class T>
using Grads = std::vector<BasicTensor<T>>;

std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(static_cast<size_t>(s.rank()));
  int64_t acc = 1;
  for (int i = s.rank() - 1; i >= 0; --i) {
    st[static_cast<size_t>(i)] = acc;
    acc *= s[i];
  }
  return st;
}

template <class T>
BasicTensor<T> scatter_flat(const char* name, const BasicTensor<T>& g, const Offsets& off,
                            const Shape& shape);

// out.flat[i] = a.flat[off[i]]: every indexing op's forward. Its adjoint is scatter_flat.
template <class T>
BasicTensor<T> take(const char* name, const BasicTensor<T>& a, const Offsets& off,
                    const Shape& shape) {
  auto out = BasicTensor<T>::empty(shape);
  T* o = out.mutable_data();
  const T* x = a.data();
  const std::vector<int64_t>& f = *off;
  for (size_t i = 0; i < f.size(); ++i) o[i] = x[f[i]];
  if constexpr (is_floating_dtype_v<T>) {
    if (needs_grad(a))
      record(
          name, out, {&a}, Saves(),
          [off, n = a.numel()](const Array<T>& g, GradSink<T>& s) {
            Array<T> gx = Array<T>::Zero(n);
            const std::vector<int64_t>& f = *off;
            for (size_t i = 0; i < f.size(); ++i) gx[f[i]] += g[static_cast<Eigen::Index>(i)];
            s.add(0, std::move(gx));
          },
          [off, in = a.shape()](GraphContext<T>&, const BasicTensor<T>& g) {
            return Grads<T>{scatter_flat("index_backward", g, off, in)};
          });
  }
  return out;
}

// zeros(shape) with g.flat[i] added at off[i] (repeated offsets add up). Its adjoint is take.
template <class T>
BasicTensor<T> scatter_flat(const char* name, const BasicTensor<T>& g, const Offsets& off,
                            const Shape& shape) {
  auto out = BasicTensor<T>::zeros(shape);
  T* o = out.mutable_data();
  const T* x = g.data();
  const std::vector<int64_t>& f = *off;
  for (size_t i = 0; i < f.size(); ++i) o[f[i]] += x[i];
  if constexpr (is_floating_dtype_v<T>) {
    if (needs_grad(g))
      record(
          name, out, {&g}, Saves(),
          [off](const Array<T>& gg, GradSink<T>& s) {
            const std::vector<int64_t>& f = *off;
            Array<T> r(static_cast<Eigen::Index>(f.size()));
            for (size_t i = 0; i < f.size(); ++i) r[static_cast<Eigen::Index>(i)] = gg[f[i]];
            s.add(0, std::move(r));
          },
          [off, in = g.shape()](GraphContext<T>&, const BasicTensor<T>& gg) {
            return Grads<T>{take("scatter_backward", gg, off, in)};
          });
  }
  return out;
}

Offsets share(std::vector<int64_t> v) {
  return std::make_shared<const std::vector<int64_t>>(std::move(v));
}

std::string describe(const std::vector<TensorIndex>& idx) {
  std::string s = "[";
  for (size_t i = 0; i < idx.size(); ++i) {
    if (i) s += ", ";
    const TensorIndex& t = idx[i];
    switch (t.kind()) {
      case TensorIndex::Kind::Integer:
        s += std::to_string(t.integer());
        break;
      case TensorIndex::Kind::Slice: {
        const Slice& sl = t.slice();
        s += (sl.start() ? std::to_string(*sl.start()) : "") + ":" +
             (sl.stop() ? std::to_string(*sl.stop()) : "") +
             (sl.step() != 1 ? ":" + std::to_string(sl.step()) : "");
        break;
      }
      case TensorIndex::Kind::Ellipsis:
        s += "...";
        break;
      case TensorIndex::Kind::None:
        s += "None";
        break;
      case TensorIndex::Kind::Bool:
        s += "bool mask " + t.mask().shape().str();
        break;
      case TensorIndex::Kind::Long:
        s += "int64 indices " + t.indices().shape().str();
        break;
    }
  }
  return s + "]";
}

// What an index list selects: the flat offsets into the source, in the result's row-major order,
// and the result's shape.
struct Plan {
  std::vector<int64_t> offsets;
  Shape shape;
};

Plan plan_index(const char* op, const Shape& xs, const std::vector<TensorIndex>& idx) {
  const std::string where =
      std::string(op) + ": index " + describe(idx) + " into shape " + xs.str();
  const int rank = xs.rank();
  int consumed = 0, ellipses = 0;
  for (const TensorIndex& t : idx) {
    switch (t.kind()) {
      case TensorIndex::Kind::Integer:
      case TensorIndex::Kind::Slice:
      case TensorIndex::Kind::Long:
        ++consumed;
        break;
      case TensorIndex::Kind::Bool:
        consumed += t.mask().rank();
        break;
      case TensorIndex::Kind::Ellipsis:
        ++ellipses;
        break;
      case TensorIndex::Kind::None:
        break;
    }
  }
  if (ellipses > 1) throw Error(where + ": at most one Ellipsis is allowed");
  if (consumed > rank)
    throw Error(where + ": too many indices: they index " + std::to_string(consumed) +
                " axes, the tensor has " + std::to_string(rank));
  const std::vector<int64_t> stride = strides_of(xs);

  // The result before advanced indexing: axes taken from the source (start, step) or new ones.
  struct Axis {
    int src;  // -1: a new axis
    int64_t start, step, size;
    int advanced;  // index into `adv`, or -1
  };
  struct Advanced {
    std::vector<int64_t> values;
    Shape shape;
    int src;
  };
  std::vector<Axis> axes;
  std::vector<Advanced> adv;
  int64_t base = 0;
  int d = 0;
  const auto full = [&](int src) { axes.push_back({src, 0, 1, xs[src], -1}); };
  for (const TensorIndex& t : idx) {
    switch (t.kind()) {
      case TensorIndex::Kind::Integer: {
        const int64_t n = xs[d], i = t.integer();
        if (i < -n || i >= n)
          throw Error(where + ": index " + std::to_string(i) + " is out of range for axis " +
                      std::to_string(d) + " of size " + std::to_string(n));
        base += (i < 0 ? i + n : i) * stride[static_cast<size_t>(d)];
        ++d;
        break;
      }
      case TensorIndex::Kind::Slice: {
        const int64_t n = xs[d], step = t.slice().step();
        const auto clampb = [n](std::optional<int64_t> b, int64_t dflt) {
          if (!b) return dflt;
          int64_t v = *b < 0 ? *b + n : *b;
          return std::clamp<int64_t>(v, 0, n);
        };
        const int64_t start = clampb(t.slice().start(), 0), stop = clampb(t.slice().stop(), n);
        const int64_t size = stop > start ? (stop - start + step - 1) / step : 0;
        axes.push_back({d, start, step, size, -1});
        ++d;
        break;
      }
      case TensorIndex::Kind::None:
        axes.push_back({-1, 0, 1, 1, -1});
        break;
      case TensorIndex::Kind::Ellipsis:
        for (int e = 0; e < rank - consumed; ++e) full(d++);
        break;
      case TensorIndex::Kind::Long: {
        const LongTensor& ix = t.indices();
        const int64_t n = xs[d];
        Advanced a{ix.to_vector(), ix.shape(), d};
        for (int64_t& v : a.values) {
          if (v < -n || v >= n)
            throw Error(where + ": index " + std::to_string(v) + " is out of range for axis " +
                        std::to_string(d) + " of size " + std::to_string(n));
          if (v < 0) v += n;
        }
        axes.push_back({d, 0, 1, n, static_cast<int>(adv.size())});
        adv.push_back(std::move(a));
        ++d;
        break;
      }
      case TensorIndex::Kind::Bool: {
        const BoolTensor& m = t.mask();
        if (m.rank() == 0) {  // x[True] adds an axis of size 1, x[False] one of size 0
          axes.push_back({-1, 0, 1, m.item() ? 1 : 0, -1});
          break;
        }
        for (int j = 0; j < m.rank(); ++j)
          if (m.shape()[j] != xs[d + j])
            throw Error(where + ": the bool mask of shape " + m.shape().str() +
                        " does not match the indexed axes " + std::to_string(d) + ".." +
                        std::to_string(d + m.rank() - 1) + " of the tensor (size " +
                        std::to_string(xs[d + j]) + " at axis " + std::to_string(d + j) +
                        ", mask size " + std::to_string(m.shape()[j]) + ")");
        // The mask is the nonzero coordinates: one int64 index per masked axis, all adjacent.
        std::vector<std::vector<int64_t>> coords(static_cast<size_t>(m.rank()));
        const bool* mv = m.data();
        const std::vector<int64_t> ms = strides_of(m.shape());
        for (int64_t f = 0; f < m.numel(); ++f)
          if (mv[f])
            for (int j = 0; j < m.rank(); ++j)
              coords[static_cast<size_t>(j)].push_back((f / ms[static_cast<size_t>(j)]) %
                                                       m.shape()[j]);
        for (int j = 0; j < m.rank(); ++j) {
          const int64_t count = static_cast<int64_t>(coords[static_cast<size_t>(j)].size());
          axes.push_back({d, 0, 1, xs[d], static_cast<int>(adv.size())});
          adv.push_back({std::move(coords[static_cast<size_t>(j)]), Shape{count}, d});
          ++d;
        }
        break;
      }
    }
  }
  while (d < rank) full(d++);

  // Each result axis: a view axis (offset multiplier) or an axis of the broadcast index shape B.
  struct Out {
    int64_t size, mult, bstride;  // bstride >= 0 for an axis of B
  };
  std::vector<Out> out;
  Shape bshape;
  std::vector<std::vector<int64_t>> advflat;  // each advanced index broadcast to B, times stride
  for (const Axis& a : axes)
    if (a.src >= 0) base += a.start * stride[static_cast<size_t>(a.src)];
  if (adv.empty()) {
    for (const Axis& a : axes)
      out.push_back({a.size, a.src >= 0 ? a.step * stride[static_cast<size_t>(a.src)] : 0, -1});
  } else {
    for (const Advanced& a : adv) {
      try {
        bshape = broadcast_shapes(op, bshape, a.shape);
      } catch (const Error&) {
        std::string shapes;
        for (const Advanced& b : adv) shapes += (shapes.empty() ? "" : ", ") + b.shape.str();
        throw Error(where + ": the index tensors' shapes " + shapes + " do not broadcast together");
      }
    }
    for (const Advanced& a : adv) {
      Array<int64_t> v = Eigen::Map<const Array<int64_t>>(
          a.values.data(), static_cast<Eigen::Index>(a.values.size()));
      Array<int64_t> e = a.shape == bshape ? v : expand(v, a.shape, bshape);
      std::vector<int64_t> flat(static_cast<size_t>(e.size()));
      for (Eigen::Index i = 0; i < e.size(); ++i)
        flat[static_cast<size_t>(i)] = e[i] * stride[static_cast<size_t>(a.src)];
      advflat.push_back(std::move(flat));
    }
    std::vector<size_t> pos;
    for (size_t i = 0; i < axes.size(); ++i)
      if (axes[i].advanced >= 0) pos.push_back(i);
    const bool adjacent = pos.back() - pos.front() + 1 == pos.size();
    const std::vector<int64_t> bst = strides_of(bshape);
    std::vector<Out> bout;
    for (int j = 0; j < bshape.rank(); ++j)
      bout.push_back({bshape[j], 0, bst[static_cast<size_t>(j)]});
    if (!adjacent) out = bout;
    for (size_t i = 0; i < axes.size(); ++i) {
      const Axis& a = axes[i];
      if (a.advanced >= 0) {
        if (adjacent && i == pos.front()) out.insert(out.end(), bout.begin(), bout.end());
        continue;
      }
      out.push_back({a.size, a.src >= 0 ? a.step * stride[static_cast<size_t>(a.src)] : 0, -1});
    }
  }
  Plan p;
  for (const Out& o : out) p.shape.push_back(o.size);
  const int64_t n = p.shape.numel();
  p.offsets.resize(static_cast<size_t>(n));
  std::vector<int64_t> coord(out.size(), 0);
  for (int64_t r = 0; r < n; ++r) {
    int64_t off = base, b = 0;
    for (size_t k = 0; k < out.size(); ++k) {
      if (out[k].bstride >= 0)
        b += coord[k] * out[k].bstride;
      else
        off += coord[k] * out[k].mult;
    }
    for (const auto& f : advflat) off += f[static_cast<size_t>(b)];
    p.offsets[static_cast<size_t>(r)] = off;
    for (size_t k = out.size(); k-- > 0;) {
      if (++coord[k] < out[k].size) break;
      coord[k] = 0;
    }
  }
  return p;
}

// `a` with `v` (of the plan's shape) written (or added) at the plan's offsets: out of place.
template <class T>
BasicTensor<T> put(const BasicTensor<T>& a, const Plan& p, const BasicTensor<T>& v,
                   bool accumulate) {
  if (accumulate) return add(a, scatter_flat("index_put", v, share(p.offsets), a.shape()));
  // Assignment: where a position is named twice, the last value wins (as PyTorch on the CPU).
  std::vector<int64_t> src, dst;
  std::unordered_map<int64_t, size_t> last;
  for (size_t i = 0; i < p.offsets.size(); ++i) last[p.offsets[i]] = i;
  for (size_t i = 0; i < p.offsets.size(); ++i)
    if (last[p.offsets[i]] == i) {
      src.push_back(static_cast<int64_t>(i));
      dst.push_back(p.offsets[i]);
    }
  auto keep = BoolTensor::full(a.shape(), true);
  bool* k = keep.mutable_data();
  for (int64_t o : dst) k[o] = false;
  const Shape taken{static_cast<int64_t>(src.size())};
  const BasicTensor<T> picked = src.size() == p.offsets.size()
                                    ? reshape(v, taken.vec())
                                    : take("index_put", v, share(src), taken);
  return add(where(keep, a, BasicTensor<T>::zeros({})),
             scatter_flat("index_put", picked, share(std::move(dst)), a.shape()));
}

template <class T>
BasicTensor<T> broadcast_values(const char* op, const BasicTensor<T>& v, const Shape& shape) {
  if (v.shape() == shape) return v;
  bool fits = true;
  try {
    fits = broadcast_shapes(op, v.shape(), shape) == shape;
  } catch (const Error&) {
    fits = false;
  }
  if (!fits)
    throw Error(std::string(op) + ": values of shape " + v.shape().str() +
                " cannot be broadcast to the indexed shape " + shape.str());
  if constexpr (is_floating_dtype_v<T>) {
    return broadcast_to(v, shape);
  } else {
    auto out = BasicTensor<T>::empty(shape);
    out.mutable_array() = expand(v.array(), v.shape(), shape);
    return out;
  }
}

}  // namespace

// ---------------------------------------------------------------- index, index_put_

template <>
BasicTensor<bool>& BasicTensor<bool>::index_put_(const std::vector<indexing::TensorIndex>& indices,
                                                 const BasicTensor& values, bool accumulate) {
  const Plan p = plan_index("index_put_", shape(), indices);
  const BasicTensor v = broadcast_values("index_put_", values, p.shape);
  bool* x = mutable_data();
  const bool* vv = v.data();
  for (size_t i = 0; i < p.offsets.size(); ++i)
    x[p.offsets[i]] = accumulate ? (x[p.offsets[i]] || vv[i]) : vv[i];
  return *this;
}

template <class T>
BasicTensor<T> BasicTensor<T>::index(const std::vector<indexing::TensorIndex>& indices) const {
  Plan p = plan_index("index", shape(), indices);
  const Shape s = p.shape;
  return take("index", *this, share(std::move(p.offsets)), s);
}

template <class T>
BasicTensor<T> BasicTensor<T>::operator[](int64_t i) const {
  if (rank() == 0) throw Error("Tensor[]: cannot index a rank-0 tensor (use item())");
  return index({TensorIndex(i)});
}

template <class T>
BasicTensor<T>& BasicTensor<T>::index_put_(const std::vector<indexing::TensorIndex>& indices,
                                           const BasicTensor& values, bool accumulate) {
  const Plan p = plan_index("index_put_", shape(), indices);
  const BasicTensor v = broadcast_values("index_put_", values, p.shape);
  if constexpr (is_floating_dtype_v<T>) {
    const bool graph = is_grad_enabled() && (requires_grad() || values.requires_grad());
    if (graph && is_leaf() && requires_grad())
      throw Error(
          "index_put_: a leaf tensor that requires grad cannot be written in place (write to "
          "a clone(), or under NoGradGuard)");
    if (graph) {
      // Out of place, then the result's values and node become this tensor's: as PyTorch's
      // in-place ops rebase the tensor's history onto the new node.
      const BasicTensor r = put(*this, p, v, accumulate);
      mutable_array() = r.array();
      impl()->grad_fn = r.grad_fn();
      impl()->requires_grad = true;
      return *this;
    }
  }
  T* x = mutable_data();
  const T* vv = v.data();
  for (size_t i = 0; i < p.offsets.size(); ++i) {
    if (accumulate)
      x[p.offsets[i]] += vv[i];
    else
      x[p.offsets[i]] = vv[i];
  }
  return *this;
}

template <class T>
BasicTensor<T>& BasicTensor<T>::index_put_(const std::vector<indexing::TensorIndex>& indices,
                                           T value) {
  return index_put_(indices, BasicTensor::scalar(value));
}

// ---------------------------------------------------------------- masks

template <class T>
BasicTensor<T> masked_select(const BasicTensor<T>& a, const BoolTensor& mask) {
  const Shape shape = broadcast_shapes("masked_select", a.shape(), mask.shape());
  const BoolTensor m = broadcast_values("masked_select", mask, shape);
  const BasicTensor<T> x = broadcast_values("masked_select", a, shape);
  std::vector<int64_t> off;
  const bool* mv = m.data();
  for (int64_t i = 0; i < shape.numel(); ++i)
    if (mv[i]) off.push_back(i);
  const Shape out{static_cast<int64_t>(off.size())};
  return take("masked_select", x, share(std::move(off)), out);
}

template <class T>
BasicTensor<T> masked_fill(const BasicTensor<T>& a, const BoolTensor& mask, Scalar<T> value) {
  return masked_fill(a, mask, BasicTensor<T>::scalar(value));
}

template <class T>
BasicTensor<T> masked_fill(const BasicTensor<T>& a, const BoolTensor& mask,
                           const BasicTensor<T>& value) {
  if (value.rank() != 0)
    throw Error("masked_fill: the value must be a 0-d tensor, got shape " + value.shape().str());
  const Shape shape = broadcast_shapes("masked_fill", a.shape(), mask.shape());
  if (shape != a.shape())
    throw Error("masked_fill: the mask of shape " + mask.shape().str() +
                " does not broadcast to the tensor's shape " + a.shape().str());
  return where(mask, value, a);
}

template <class T>
LongTensor nonzero(const BasicTensor<T>& a) {
  const std::vector<int64_t> st = strides_of(a.shape());
  std::vector<int64_t> flat;
  const T* x = a.data();
  for (int64_t i = 0; i < a.numel(); ++i)
    if (x[i] != T(0)) flat.push_back(i);
  const int r = a.rank();
  LongTensor out = LongTensor::empty(Shape{static_cast<int64_t>(flat.size()), r});
  int64_t* o = out.mutable_data();
  for (size_t k = 0; k < flat.size(); ++k)
    for (int j = 0; j < r; ++j)
      o[static_cast<int64_t>(k) * r + j] = (flat[k] / st[static_cast<size_t>(j)]) % a.shape()[j];
  return out;
}

// ---------------------------------------------------------------- gather, scatter_add

namespace {
// The flat offsets into a tensor of shape `target` that index (along ax, elsewhere its own
// coordinates) names, checking ranks, sizes and range. index may be no larger than target on
// the other axes, and (when given) than `limit` on every axis (scatter_add's src).
std::vector<int64_t> axis_offsets(const char* op, const Shape& target, int ax,
                                  const LongTensor& index, const char* limit_name,
                                  const Shape* limit) {
  const std::string what = std::string(op) + ": index of shape " + index.shape().str();
  if (index.rank() != target.rank())
    throw Error(what + " must have the same rank as the tensor of shape " + target.str());
  for (int d = 0; d < target.rank(); ++d) {
    if (d != ax && index.shape()[d] > target[d])
      throw Error(what + " is larger than the tensor of shape " + target.str() + " at axis " +
                  std::to_string(d) + " (only the indexed axis " + std::to_string(ax) +
                  " may differ)");
    if (limit && index.shape()[d] > (*limit)[d])
      throw Error(what + " is larger than " + limit_name + " of shape " + limit->str() +
                  " at axis " + std::to_string(d));
  }
  const std::vector<int64_t> st = strides_of(target);
  const std::vector<int64_t> ist = strides_of(index.shape());
  std::vector<int64_t> off(static_cast<size_t>(index.numel()));
  const int64_t* iv = index.data();
  const int64_t n = target[ax];
  for (int64_t f = 0; f < index.numel(); ++f) {
    int64_t o = 0;
    for (int d = 0; d < index.rank(); ++d) {
      int64_t c = (f / ist[static_cast<size_t>(d)]) % index.shape()[d];
      if (d == ax) {
        c = iv[f];
        if (c < 0 || c >= n)
          throw Error(std::string(op) + ": index " + std::to_string(c) +
                      " is out of range for axis " + std::to_string(ax) + " of size " +
                      std::to_string(n) + " (shape " + target.str() + ")");
      }
      o += c * st[static_cast<size_t>(d)];
    }
    off[static_cast<size_t>(f)] = o;
  }
  return off;
}

// The offsets of index's own positions inside a tensor of shape `s` (no larger than s).
std::vector<int64_t> positions_in(const Shape& index_shape, const Shape& s) {
  const std::vector<int64_t> st = strides_of(s), ist = strides_of(index_shape);
  std::vector<int64_t> off(static_cast<size_t>(index_shape.numel()));
  for (int64_t f = 0; f < index_shape.numel(); ++f) {
    int64_t o = 0;
    for (int d = 0; d < index_shape.rank(); ++d)
      o += ((f / ist[static_cast<size_t>(d)]) % index_shape[d]) * st[static_cast<size_t>(d)];
    off[static_cast<size_t>(f)] = o;
  }
  return off;
}
}  // namespace

template <class T>
BasicTensor<T> gather(const BasicTensor<T>& a, int axis, const LongTensor& index) {
  if (a.rank() == 0) throw Error("gather: cannot gather from a rank-0 tensor");
  const int ax = normalize_axis("gather", axis, a.rank());
  return take("gather", a, share(axis_offsets("gather", a.shape(), ax, index, "", nullptr)),
              index.shape());
}

template <class T>
BasicTensor<T> scatter_add(const BasicTensor<T>& a, int axis, const LongTensor& index,
                           const BasicTensor<T>& src) {
  const int ax = normalize_axis("scatter_add", axis, a.rank());
  if (src.rank() != a.rank())
    throw Error("scatter_add: src of shape " + src.shape().str() +
                " must have the same rank as the tensor of shape " + a.shape().str());
  const Shape& src_shape = src.shape();
  Offsets dst = share(axis_offsets("scatter_add", a.shape(), ax, index, "src", &src_shape));
  if constexpr (!is_floating_dtype_v<T>) {
    BasicTensor<T> out = a.clone();
    T* o = out.mutable_data();
    const std::vector<int64_t> at = positions_in(index.shape(), src.shape());
    for (size_t i = 0; i < at.size(); ++i) o[(*dst)[i]] += src.data()[at[i]];
    return out;
  } else {
    const BasicTensor<T> picked =
        index.shape() == src.shape()
            ? src
            : take("scatter_add", src, share(positions_in(index.shape(), src.shape())),
                   index.shape());
    return add(a, scatter_flat("scatter_add", picked, dst, a.shape()));
  }
}

// ---------------------------------------------------------------- sorting

namespace {
// The permutation that sorts each line of `a` along `ax` (stable), as int64 indices of a's shape.
template <class T>
LongTensor sort_indices(const char* op, const BasicTensor<T>& a, int ax, bool descending) {
  const Shape& s = a.shape();
  const int64_t n = a.rank() == 0 ? 1 : s[ax];
  int64_t inner = 1;
  for (int d = ax + 1; d < a.rank(); ++d) inner *= s[d];
  const int64_t outer = a.numel() == 0 ? 0 : a.numel() / (n * inner);
  LongTensor out = LongTensor::empty(s);
  int64_t* o = out.mutable_data();
  const T* x = a.data();
  std::vector<int64_t> perm(static_cast<size_t>(n));
  (void)op;
  for (int64_t b = 0; b < outer; ++b)
    for (int64_t i = 0; i < inner; ++i) {
      const T* line = x + b * n * inner + i;
      std::iota(perm.begin(), perm.end(), 0);
      const auto key = [&](int64_t k) { return line[k * inner]; };
      const auto less = [&](int64_t p, int64_t q) {
        const T u = key(p), v = key(q);
        if constexpr (is_floating_dtype_v<T>) {
          // NaN is the largest value.
          if (std::isnan(u) || std::isnan(v))
            return descending ? (std::isnan(u) && !std::isnan(v))
                              : (!std::isnan(u) && std::isnan(v));
        }
        return descending ? v < u : u < v;
      };
      std::stable_sort(perm.begin(), perm.end(), less);
      for (int64_t k = 0; k < n; ++k)
        o[b * n * inner + k * inner + i] = perm[static_cast<size_t>(k)];
    }
  return out;
}
}  // namespace

template <class T>
std::pair<BasicTensor<T>, LongTensor> sort(const BasicTensor<T>& a, int axis, bool descending) {
  const int ax = a.rank() == 0 ? 0 : normalize_axis("sort", axis, a.rank());
  LongTensor idx = sort_indices("sort", a, ax, descending);
  if (a.rank() == 0) return {a.clone(), idx};
  return {gather(a, ax, idx), idx};
}

template <class T>
LongTensor argsort(const BasicTensor<T>& a, int axis, bool descending) {
  const int ax = a.rank() == 0 ? 0 : normalize_axis("argsort", axis, a.rank());
  return sort_indices("argsort", a, ax, descending);
}

template <class T>
std::pair<BasicTensor<T>, LongTensor> topk(const BasicTensor<T>& a, int64_t k, int axis,
                                           bool largest, bool sorted) {
  if (a.rank() == 0) throw Error("topk: cannot take the top k of a rank-0 tensor");
  const int ax = normalize_axis("topk", axis, a.rank());
  const int64_t n = a.shape()[ax];
  if (k < 0 || k > n)
    throw Error("topk: k = " + std::to_string(k) + " is out of range for axis " +
                std::to_string(ax) + " of size " + std::to_string(n) + " (shape " +
                a.shape().str() + ")");
  LongTensor all = sort_indices("topk", a, ax, largest);
  std::vector<indexing::TensorIndex> first_k(static_cast<size_t>(a.rank()), indexing::Slice());
  first_k[static_cast<size_t>(ax)] = indexing::Slice(0, k);
  LongTensor idx = all.index(first_k);
  if (!sorted) {
    // In index order along the axis.
    const auto order = sort_indices("topk", idx, ax, false);
    idx = gather(idx, ax, order);
  }
  return {gather(a, ax, idx), idx};
}

#define EIGRAD_INSTANTIATE_INDEXING(T)                                                            \
  template BasicTensor<T> BasicTensor<T>::index(const std::vector<indexing::TensorIndex>&) const; \
  template BasicTensor<T> BasicTensor<T>::operator[](int64_t) const;                              \
  template BasicTensor<T>& BasicTensor<T>::index_put_(const std::vector<indexing::TensorIndex>&,  \
                                                      T);                                         \
  template BasicTensor<T> masked_select(const BasicTensor<T>&, const BoolTensor&);                \
  template LongTensor nonzero(const BasicTensor<T>&);                                             \
  template BasicTensor<T> gather(const BasicTensor<T>&, int, const LongTensor&);                  \
  template std::pair<BasicTensor<T>, LongTensor> sort(const BasicTensor<T>&, int, bool);          \
  template LongTensor argsort(const BasicTensor<T>&, int, bool);                                  \
  template std::pair<BasicTensor<T>, LongTensor> topk(const BasicTensor<T>&, int64_t, int, bool,  \
                                                      bool);
#define EIGRAD_INSTANTIATE_INDEXING_VALUES(T)                                                    \
  template BasicTensor<T>& BasicTensor<T>::index_put_(const std::vector<indexing::TensorIndex>&, \
                                                      const BasicTensor<T>&, bool);              \
  template BasicTensor<T> masked_fill(const BasicTensor<T>&, const BoolTensor&, T);              \
  template BasicTensor<T> masked_fill(const BasicTensor<T>&, const BoolTensor&,                  \
                                      const BasicTensor<T>&);                                    \
  template BasicTensor<T> scatter_add(const BasicTensor<T>&, int, const LongTensor&,             \
                                      const BasicTensor<T>&);

EIGRAD_INSTANTIATE_INDEXING(float)
EIGRAD_INSTANTIATE_INDEXING(double)
EIGRAD_INSTANTIATE_INDEXING(int64_t)
EIGRAD_INSTANTIATE_INDEXING(bool)
EIGRAD_INSTANTIATE_INDEXING_VALUES(float)
EIGRAD_INSTANTIATE_INDEXING_VALUES(double)
EIGRAD_INSTANTIATE_INDEXING_VALUES(int64_t)
template BasicTensor<bool> masked_fill(const BasicTensor<bool>&, const BoolTensor&, bool);
template BasicTensor<bool> masked_fill(const BasicTensor<bool>&, const BoolTensor&,
                                       const BasicTensor<bool>&);

}  // namespace eigrad
