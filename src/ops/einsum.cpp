// Contractions: outer and einsum (declared in eigrad/ops/linalg.hpp beside matmul). Both are
// compositions of differentiable ops (reshape, permute, index_select, broadcast_to, sum, mul,
// matmul), so they record no node of their own and differentiate to any order.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/linalg.hpp"
#include "eigrad/ops/reduce.hpp"
#include "eigrad/ops/tensor_shape.hpp"

namespace eigrad {

template <class T>
BasicTensor<T> outer(const BasicTensor<T>& a, const BasicTensor<T>& b) {
  if (a.rank() != 1 || b.rank() != 1)
    throw Error("outer: expected two rank-1 tensors, got " + a.shape().str() + " and " +
                b.shape().str());
  return mul(reshape(a, {a.numel(), 1}), reshape(b, {1, b.numel()}));
}

namespace {

// A subscript as a number: 'A'-'Z' are 0-25 and 'a'-'z' 26-51 (ASCII order, which the implicit
// output follows, as in PyTorch); the axes of an ellipsis are kEllipsis + k, right-aligned
// across the operands (the ellipsis covering E axes holds kEllipsis + 0 to kEllipsis + E - 1).
constexpr int kEllipsis = 52;

std::string name(int label) {
  if (label >= kEllipsis) return "... (axis " + std::to_string(label - kEllipsis) + ")";
  return std::string(1, static_cast<char>(label < 26 ? 'A' + label : 'a' + label - 26));
}

// One term of the equation: its letters, and where its ellipsis is among them (-1: none).
struct Term {
  std::string text;
  std::vector<int> letters;
  int ellipsis = -1;
};

// The equation and the operands' shapes, for the errors.
struct Equation {
  std::string text;
  std::vector<Shape> shapes;

  [[noreturn]] void fail(const std::string& what) const {
    std::string s;
    for (size_t i = 0; i < shapes.size(); ++i) s += (i ? ", " : "") + shapes[i].str();
    throw Error("einsum: " + what + " (equation \"" + text + "\", operand shapes " +
                (shapes.empty() ? std::string("none") : s) + ")");
  }

  Term term(const std::string& text_of_term, size_t offset) const {
    Term t;
    t.text = text_of_term;
    for (size_t i = 0; i < text_of_term.size(); ++i) {
      const char c = text_of_term[i];
      if (c == ' ') continue;
      if (c >= 'A' && c <= 'Z') {
        t.letters.push_back(c - 'A');
      } else if (c >= 'a' && c <= 'z') {
        t.letters.push_back(c - 'a' + 26);
      } else if (c == '.' && text_of_term.compare(i, 3, "...") == 0) {
        if (t.ellipsis >= 0) fail("term \"" + text_of_term + "\" has more than one ellipsis");
        t.ellipsis = static_cast<int>(t.letters.size());
        i += 2;
      } else {
        fail("invalid character '" + std::string(1, c) + "' at position " +
             std::to_string(offset + i) + ": expected letters a-z and A-Z, ',', '->' and '...'");
      }
    }
    return t;
  }
};

bool contains(const std::vector<int>& v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

int position(const std::vector<int>& v, int x) {
  return static_cast<int>(std::find(v.begin(), v.end(), x) - v.begin());
}

// x (labelled `labels`) with its axes reordered to `order` (a permutation of the labels).
template <class T>
BasicTensor<T> arrange(const BasicTensor<T>& x, const std::vector<int>& labels,
                       const std::vector<int>& order) {
  std::vector<int> dims;
  bool identity = true;
  for (size_t i = 0; i < order.size(); ++i) {
    dims.push_back(position(labels, order[i]));
    identity = identity && dims.back() == static_cast<int>(i);
  }
  return identity ? x : permute(x, dims);
}

// x with the axes whose labels `drop` accepts summed out (labels updated).
template <class T, class F>
BasicTensor<T> sum_out(BasicTensor<T> x, std::vector<int>& labels, F&& drop) {
  for (int d = static_cast<int>(labels.size()) - 1; d >= 0; --d)
    if (drop(labels[static_cast<size_t>(d)])) {
      x = sum(x, d);
      labels.erase(labels.begin() + d);
    }
  return x;
}

}  // namespace

template <class T>
BasicTensor<T> einsum(const std::string& equation, const std::vector<BasicTensor<T>>& operands) {
  Equation eq{equation, {}};
  for (const BasicTensor<T>& t : operands) eq.shapes.push_back(t.shape());
  if (operands.empty()) eq.fail("expected one or two operands, got none");
  if (operands.size() > 2)
    eq.fail("supports one or two operands, got " + std::to_string(operands.size()) +
            "; contract them in pairs");

  // ---- parse: terms, then the ellipsis axes and every label of each operand
  const size_t arrow = equation.find("->");
  const std::string lhs = equation.substr(0, arrow);
  std::vector<Term> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(eq.term(lhs.substr(start, comma - start), start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != operands.size())
    eq.fail("the equation has " + std::to_string(terms.size()) + " input terms for " +
            std::to_string(operands.size()) + " operands");
  int ellipsis_axes = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    const int rank = operands[i].rank(), count = static_cast<int>(terms[i].letters.size());
    if (terms[i].ellipsis < 0 ? count != rank : count > rank)
      eq.fail("operand " + std::to_string(i) + " has " + std::to_string(rank) +
              " axes but its term \"" + terms[i].text + "\" has " + std::to_string(count) +
              " subscripts" + (terms[i].ellipsis < 0 ? "" : " besides the ellipsis"));
    if (terms[i].ellipsis >= 0) ellipsis_axes = std::max(ellipsis_axes, rank - count);
  }
  std::vector<std::vector<int>> labels(operands.size());
  for (size_t i = 0; i < terms.size(); ++i) {
    const Term& t = terms[i];
    const int covered = operands[i].rank() - static_cast<int>(t.letters.size());
    for (size_t j = 0; j <= t.letters.size(); ++j) {
      if (static_cast<int>(j) == t.ellipsis)
        for (int k = 0; k < covered; ++k)
          labels[i].push_back(kEllipsis + ellipsis_axes - covered + k);
      if (j < t.letters.size()) labels[i].push_back(t.letters[j]);
    }
  }
  std::vector<int> all;  // every label, with repeats
  for (const auto& l : labels) all.insert(all.end(), l.begin(), l.end());
  std::vector<int> out;
  if (arrow == std::string::npos) {
    // Implicit: the ellipsis axes, then the letters that appear once, in order.
    for (int k = 0; k < ellipsis_axes; ++k) out.push_back(kEllipsis + k);
    for (int label = 0; label < kEllipsis; ++label)
      if (std::count(all.begin(), all.end(), label) == 1) out.push_back(label);
  } else {
    const Term t = eq.term(equation.substr(arrow + 2), arrow + 2);
    for (size_t j = 0; j <= t.letters.size(); ++j) {
      if (static_cast<int>(j) == t.ellipsis)
        for (int k = 0; k < ellipsis_axes; ++k) out.push_back(kEllipsis + k);
      if (j == t.letters.size()) break;
      const int label = t.letters[j];
      if (!contains(all, label))
        eq.fail("output subscript " + name(label) + " does not appear in the inputs");
      if (contains(out, label))
        eq.fail("output subscript " + name(label) + " appears more than once");
      out.push_back(label);
    }
  }

  // ---- each operand: diagonals of repeated subscripts
  std::vector<BasicTensor<T>> xs = operands;
  for (size_t i = 0; i < xs.size(); ++i) {
    std::vector<int>& l = labels[i];
    for (size_t p = 0; p < l.size(); ++p) {
      for (size_t q = p + 1; q < l.size(); ++q) {
        if (l[q] != l[p]) continue;
        const int64_t n = xs[i].shape()[static_cast<int>(p)];
        if (xs[i].shape()[static_cast<int>(q)] != n)
          eq.fail("subscript " + name(l[p]) + " is repeated in operand " + std::to_string(i) +
                  " but its axes " + std::to_string(p) + " and " + std::to_string(q) +
                  " have sizes " + std::to_string(n) + " and " +
                  std::to_string(xs[i].shape()[static_cast<int>(q)]));
        // Axis q moved next to p, the pair merged, and the entries (k, k) taken.
        std::vector<int> dims;
        for (size_t d = 0; d < l.size(); ++d) {
          if (d == q) continue;
          dims.push_back(static_cast<int>(d));
          if (d == p) dims.push_back(static_cast<int>(q));
        }
        BasicTensor<T> x = q == p + 1 ? xs[i] : permute(xs[i], dims);
        std::vector<int64_t> merged;
        for (int d = 0; d < x.rank(); ++d) {
          if (d == static_cast<int>(p) + 1) continue;
          merged.push_back(x.shape()[d] * (d == static_cast<int>(p) ? n : 1));
        }
        std::vector<int64_t> diagonal(static_cast<size_t>(n));
        for (int64_t k = 0; k < n; ++k) diagonal[static_cast<size_t>(k)] = k * (n + 1);
        xs[i] = index_select(reshape(x, merged), static_cast<int>(p), diagonal);
        l.erase(l.begin() + static_cast<std::ptrdiff_t>(q));
        --q;
      }
    }
  }

  // ---- sizes: equal, or 1 (broadcast to the other operand's)
  std::vector<int64_t> size(static_cast<size_t>(kEllipsis + ellipsis_axes), -1);
  std::vector<int> owner(size.size(), -1);
  for (size_t i = 0; i < xs.size(); ++i)
    for (size_t d = 0; d < labels[i].size(); ++d) {
      const size_t label = static_cast<size_t>(labels[i][d]);
      const int64_t n = xs[i].shape()[static_cast<int>(d)];
      if (size[label] < 0 || size[label] == 1) {
        size[label] = n;
        owner[label] = static_cast<int>(i);
      } else if (n != size[label] && n != 1) {
        eq.fail("subscript " + name(labels[i][d]) + " has size " + std::to_string(size[label]) +
                " in operand " + std::to_string(owner[label]) + " and " + std::to_string(n) +
                " in operand " + std::to_string(i));
      }
    }
  for (size_t i = 0; i < xs.size(); ++i) {
    Shape target;
    for (int label : labels[i]) target.push_back(size[static_cast<size_t>(label)]);
    if (target != xs[i].shape()) xs[i] = broadcast_to(xs[i], target);
  }

  if (xs.size() == 1) {
    BasicTensor<T> x = sum_out(xs[0], labels[0], [&](int label) { return !contains(out, label); });
    x = arrange(x, labels[0], out);
    return x.same(operands[0]) ? reshape(x, x.shape().vec()) : x;
  }

  // ---- two operands: [batch, m, k] x [batch, k, n] by matmul
  std::vector<int>&la = labels[0], &lb = labels[1];
  BasicTensor<T> a =
      sum_out(xs[0], la, [&](int l) { return !contains(out, l) && !contains(lb, l); });
  BasicTensor<T> b =
      sum_out(xs[1], lb, [&](int l) { return !contains(out, l) && !contains(la, l); });
  std::vector<int> batch, kept_a, contracted, kept_b;
  for (int l : la)
    (contains(lb, l) ? (contains(out, l) ? batch : contracted) : kept_a).push_back(l);
  for (int l : lb)
    if (!contains(la, l)) kept_b.push_back(l);
  const auto product = [&](const std::vector<int>& ls) {
    int64_t p = 1;
    for (int l : ls) p *= size[static_cast<size_t>(l)];
    return p;
  };
  const auto join = [](std::vector<int> x, const std::vector<int>& y, const std::vector<int>& z) {
    x.insert(x.end(), y.begin(), y.end());
    x.insert(x.end(), z.begin(), z.end());
    return x;
  };
  const int64_t nb = product(batch), m = product(kept_a), k = product(contracted),
                n = product(kept_b);
  a = reshape(arrange(a, la, join(batch, kept_a, contracted)), {nb, m, k});
  b = reshape(arrange(b, lb, join(batch, contracted, kept_b)), {nb, k, n});
  const std::vector<int> result = join(batch, kept_a, kept_b);
  std::vector<int64_t> shape;
  for (int l : result) shape.push_back(size[static_cast<size_t>(l)]);
  return arrange(reshape(matmul(a, b), shape), result, out);
}

#define EIGRAD_INSTANTIATE_EINSUM(T)                                           \
  template BasicTensor<T> outer(const BasicTensor<T>&, const BasicTensor<T>&); \
  template BasicTensor<T> einsum(const std::string&, const std::vector<BasicTensor<T>>&);

EIGRAD_INSTANTIATE_EINSUM(float)
EIGRAD_INSTANTIATE_EINSUM(double)

}  // namespace eigrad
