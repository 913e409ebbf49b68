#pragma once
// im2col and col2im for the convolutions (src/ops/convolution.cpp): one sample's channels of one
// group unrolled to a matrix cols [C/groups * kH * kW, H_out * W_out], so that a convolution is
// the product weight [O/groups, C/groups * kH * kW] x cols.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "layout.hpp"

namespace eigrad::detail {

// The sizes of a 2-d convolution (a 1-d one is H = kH = 1).
struct ConvGeometry {
  int64_t n, c, h, w;  // input
  int64_t o, kh, kw;   // weight [o, c / groups, kh, kw]
  int64_t sh, sw, ph, pw, dh, dw, groups;
  int64_t ho, wo;  // output
  int64_t cg() const { return c / groups; }
  int64_t og() const { return o / groups; }
  int64_t k() const { return cg() * kh * kw; }  // rows of cols
  int64_t hw() const { return ho * wo; }        // columns of cols
};

// The outputs o in [0, out) whose input position o * stride + offset lies in [0, size).
struct ValidRange {
  int64_t lo, hi;
};
inline ValidRange valid_range(int64_t out, int64_t stride, int64_t offset, int64_t size) {
  const int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t hi = offset >= size ? 0 : std::min(out, (size - 1 - offset) / stride + 1);
  return {std::min(lo, hi), hi};
}

// Row (ci, i, j) of cols, as a [ho, wo] block, is the input plane ci read at rows
// oh * sh - ph + i * dh and columns ow * sw - pw + j * dw. Calls f(row, at, input, nr, nc) for
// each row of cols: `row` is the row's offset in cols, `at` the offset in it of the block
// [nr, nc] that lies inside the plane, and `input` that block's first input position (its rows
// sh * w apart, its columns sw apart). Rows whose block is empty (all padding) get nr or nc 0.
template <class F>
void for_each_cols_row(const ConvGeometry& g, F&& f) {
  for (int64_t ci = 0; ci < g.cg(); ++ci)
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t ih0 = i * g.dh - g.ph;
      const ValidRange rows = valid_range(g.ho, g.sh, ih0, g.h);
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t iw0 = j * g.dw - g.pw;
        const ValidRange cs = valid_range(g.wo, g.sw, iw0, g.w);
        f(((ci * g.kh + i) * g.kw + j) * g.hw(), rows.lo * g.wo + cs.lo,
          (ci * g.h + rows.lo * g.sh + ih0) * g.w + cs.lo * g.sw + iw0, rows.hi - rows.lo,
          cs.hi - cs.lo);
      }
    }
}

// Calls f(src, dst) for each of the nr rows of an input block (rows sh * w apart, starting at
// `input`) and its place in a row of cols (rows wo apart, starting at `block`).
template <class S, class D, class F>
void for_each_block_row(S* input, D* block, const ConvGeometry& g, int64_t nr, F&& f) {
  const int64_t step = g.sh * g.w;
  for (int64_t r = 0; r < nr; ++r) f(input + r * step, block + r * g.wo);
}

// One strided block copy per row of cols, zeros where the block leaves the plane (the padding).
// The copies are plain loops over each row of the block (the compiler vectorises the unit-stride
// ones): Eigen's block assignment, with rows of 14 floats under a 16-float packet, copied them one
// element at a time (im2col took a fifth of a convolution's forward and backward).
template <class T>
void im2col(const T* x, const ConvGeometry& g, T* cols) {
  const int64_t sw = g.sw;
  for_each_cols_row(g, [&](int64_t row, int64_t at, int64_t input, int64_t nr, int64_t nc) {
    T* dst = cols + row;
    if (nr < g.ho || nc < g.wo) std::fill(dst, dst + g.hw(), T(0));
    if (nr == 0 || nc == 0) return;
    for_each_block_row(x + input, dst + at, g, nr, [&](const T* __restrict s, T* __restrict d) {
      if (sw == 1)
        for (int64_t c = 0; c < nc; ++c) d[c] = s[c];
      else
        for (int64_t c = 0; c < nc; ++c) d[c] = s[c * sw];
    });
  });
}

// The adjoint of im2col: adds each row of cols back to the input positions it was read from.
template <class T>
void col2im_add(const T* cols, const ConvGeometry& g, T* dx) {
  const int64_t sw = g.sw;
  for_each_cols_row(g, [&](int64_t row, int64_t at, int64_t input, int64_t nr, int64_t nc) {
    if (nr == 0 || nc == 0) return;
    for_each_block_row(dx + input, cols + row + at, g, nr,
                       [&](T* __restrict d, const T* __restrict s) {
                         if (sw == 1)
                           for (int64_t c = 0; c < nc; ++c) d[c] += s[c];
                         else
                           for (int64_t c = 0; c < nc; ++c) d[c * sw] += s[c];
                       });
  });
}

}  // namespace eigrad::detail
