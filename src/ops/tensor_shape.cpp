#include "eigrad/ops/tensor_shape.hpp"

#include <algorithm>
#include <string>

#include "layout.hpp"

namespace eigrad {

using namespace detail;

namespace {

// "[2, -1]": requested sizes, which may not form a valid Shape.
std::string str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace

template <class T>
BasicTensor<T> transpose(const BasicTensor<T>& a, int axis0, int axis1) {
  const int r = a.rank();
  int a0 = normalize_axis("transpose", axis0, r), a1 = normalize_axis("transpose", axis1, r);
  if (a0 > a1) std::swap(a0, a1);
  Shape shape = a.shape();
  std::swap(shape[a0], shape[a1]);
  auto out = BasicTensor<T>::empty(shape);
  swap_axes(a.data(), a.shape(), a0, a1, out.data());
  if (needs_grad(a))
    record("transpose", out, {&a}, [shape, a0, a1](const Array<T>& g, GradSink<T>& s) {
      Array<T> gx(g.size());
      swap_axes(g.data(), shape, a0, a1, gx.data());
      s.add(0, std::move(gx));
    });
  return out;
}

namespace {
template <class T>
BasicTensor<T> reshape_to(const char* op, const BasicTensor<T>& a, const Shape& shape) {
  // The result shares a's storage: a contiguous tensor reshapes for free.
  auto out = BasicTensor<T>::from_storage(a.storage(), shape);
  if (needs_grad(a)) record(op, out, {&a}, [](const Array<T>& g, GradSink<T>& s) { s.pass(0, g); });
  return out;
}
}  // namespace

template <class T>
BasicTensor<T> reshape(const BasicTensor<T>& a, const std::vector<int64_t>& dims) {
  int infer = -1;
  int64_t known = 1;
  bool overflow = false, zero = false;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1 && infer < 0) {
      infer = static_cast<int>(i);
    } else if (dims[i] < 0) {
      throw Error("reshape: cannot reshape " + a.shape().str() + " into " + str(dims) +
                  ": sizes must be non-negative, with at most one -1");
    } else {
      zero |= dims[i] == 0;
      overflow |= __builtin_mul_overflow(known, dims[i], &known);
    }
  }
  if (zero) known = 0;
  if (overflow && !zero)
    throw Error("reshape: cannot reshape " + a.shape().str() + " into " + str(dims) +
                ": the sizes multiply to more than 2^63 - 1 elements");
  std::vector<int64_t> resolved = dims;
  if (infer >= 0) {
    if (known == 0 || a.numel() % known != 0)
      throw Error("reshape: cannot reshape " + a.shape().str() + " (" + std::to_string(a.numel()) +
                  " elements) into " + str(dims) + ": the -1 cannot be inferred");
    resolved[static_cast<size_t>(infer)] = a.numel() / known;
  }
  const Shape shape(resolved);
  if (shape.numel() != a.numel())
    throw Error("reshape: cannot reshape " + a.shape().str() + " (" + std::to_string(a.numel()) +
                " elements) into " + shape.str() + " (" + std::to_string(shape.numel()) +
                " elements)");
  return reshape_to("reshape", a, shape);
}

template <class T>
BasicTensor<T> flatten(const BasicTensor<T>& a, int start_axis, int end_axis) {
  const int r = a.rank();
  if (r == 0) return reshape_to("flatten", a, Shape{1});
  const int s = normalize_axis("flatten", start_axis, r),
            e = normalize_axis("flatten", end_axis, r);
  if (s > e)
    throw Error("flatten: start axis " + std::to_string(start_axis) + " comes after end axis " +
                std::to_string(end_axis) + " for shape " + a.shape().str());
  Shape shape;
  int64_t merged = 1;
  for (int i = 0; i < r; ++i) {
    if (i < s || i > e) shape.push_back(a.shape()[i]);
    if (i >= s && i <= e) merged *= a.shape()[i];
    if (i == e) shape.push_back(merged);
  }
  return reshape_to("flatten", a, shape);
}

template <class T>
BasicTensor<T> cat(const std::vector<BasicTensor<T>>& tensors, int axis) {
  if (tensors.empty()) throw Error("cat: expected at least one tensor, got none");
  const Shape& first = tensors[0].shape();
  if (first.rank() == 0) throw Error("cat: cannot concatenate rank-0 tensors; reshape them to [1]");
  const int ax = normalize_axis("cat", axis, first.rank());
  Shape shape = first;
  shape[ax] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Shape& si = tensors[i].shape();
    bool ok = si.rank() == first.rank();
    for (int d = 0; ok && d < si.rank(); ++d) ok = d == ax || si[d] == first[d];
    if (!ok)
      throw Error("cat: tensor " + std::to_string(i) + " has shape " + si.str() +
                  " but tensor 0 has shape " + first.str() +
                  "; all sizes must match except along axis " + std::to_string(ax));
    shape[ax] += si[ax];
  }
  const AxisView v = axis_view(shape, ax);
  auto out = BasicTensor<T>::empty(shape);
  std::vector<int64_t> sizes;
  int64_t offset = 0;
  for (const auto& t : tensors) {
    const int64_t len = t.shape()[ax] * v.inner;
    for (int64_t o = 0; o < v.outer; ++o)
      std::copy(t.data() + o * len, t.data() + (o + 1) * len,
                out.data() + o * v.n * v.inner + offset);
    offset += len;
    sizes.push_back(t.shape()[ax]);
  }
  std::vector<const BasicTensor<T>*> inputs;
  for (const auto& t : tensors) inputs.push_back(&t);
  if (is_grad_enabled() && std::any_of(tensors.begin(), tensors.end(),
                                       [](const BasicTensor<T>& t) { return t.requires_grad(); }))
    record_inputs("cat", out, inputs, [v, sizes](const Array<T>& g, GradSink<T>& s) {
      int64_t off = 0;
      for (size_t i = 0; i < sizes.size(); ++i) {
        const int64_t len = sizes[i] * v.inner;
        if (s.needs(i)) {
          Array<T> gi(v.outer * len);
          for (int64_t o = 0; o < v.outer; ++o)
            gi.segment(o * len, len) = g.segment(o * v.n * v.inner + off, len);
          s.add(i, std::move(gi));
        }
        off += len;
      }
    });
  return out;
}

template <class T>
BasicTensor<T> index_select(const BasicTensor<T>& a, int axis, const std::vector<int64_t>& index) {
  if (a.rank() == 0) throw Error("index_select: cannot index a rank-0 tensor");
  const int ax = normalize_axis("index_select", axis, a.rank());
  const AxisView v = axis_view(a.shape(), ax);
  for (int64_t i : index)
    if (i < 0 || i >= v.n)
      throw Error("index_select: index " + std::to_string(i) + " is out of range for axis " +
                  std::to_string(ax) + " of size " + std::to_string(v.n) + " (shape " +
                  a.shape().str() + ")");
  Shape shape = a.shape();
  const int64_t count = static_cast<int64_t>(index.size());
  shape[ax] = count;
  auto out = BasicTensor<T>::empty(shape);
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t j = 0; j < count; ++j)
      std::copy(a.data() + (o * v.n + index[static_cast<size_t>(j)]) * v.inner,
                a.data() + (o * v.n + index[static_cast<size_t>(j)] + 1) * v.inner,
                out.data() + (o * count + j) * v.inner);
  if (needs_grad(a))
    record("index_select", out, {&a}, [v, index, count](const Array<T>& g, GradSink<T>& s) {
      Array<T> gx = Array<T>::Zero(v.outer * v.n * v.inner);
      for (int64_t o = 0; o < v.outer; ++o)
        for (int64_t j = 0; j < count; ++j)
          gx.segment((o * v.n + index[static_cast<size_t>(j)]) * v.inner, v.inner) +=
              g.segment((o * count + j) * v.inner, v.inner);
      s.add(0, std::move(gx));
    });
  return out;
}

#define EIGRAD_INSTANTIATE_TENSOR_SHAPE(T)                                             \
  template BasicTensor<T> transpose(const BasicTensor<T>&, int, int);                  \
  template BasicTensor<T> reshape(const BasicTensor<T>&, const std::vector<int64_t>&); \
  template BasicTensor<T> flatten(const BasicTensor<T>&, int, int);                    \
  template BasicTensor<T> cat(const std::vector<BasicTensor<T>>&, int);                \
  template BasicTensor<T> index_select(const BasicTensor<T>&, int, const std::vector<int64_t>&);

EIGRAD_INSTANTIATE_TENSOR_SHAPE(float)
EIGRAD_INSTANTIATE_TENSOR_SHAPE(double)

}  // namespace eigrad
