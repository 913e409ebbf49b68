#pragma once
// Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016) for 3x3 convolutions at stride 1: each 2x2 block of the output
// ("tile") comes from a 4x4 block of the input with 16 multiplications per input and output
// channel instead of im2col's 36, so the products shrink 2.25x (BENCHMARKS.md, "The step against
// its own products"):
//   Y = A^T [ (G g G^T) . (B^T d B) ] A
// with the 3x3 filter g, the 4x4 input block d, the elementwise product ".", and
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1].
// Summed over the input channels, the elementwise products become 16 matrix products, one per
// position t of the 4x4 transform: M_t [tiles, O] = V_t [tiles, C] x U_t [C, O]. Each sample is
// done on its own (its buffers stay in the L2), channels last, so that every transform is a
// vector operation along the channels; the samples are split over the threads.
//
// The input gradient of such a convolution with padding p <= 2 is a convolution of the same kind:
// the output gradient convolved with the weights flipped in space and transposed in channels,
// with padding 2 - p (winograd_input_grad).
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>

#include "gemm.hpp"
#include "im2col.hpp"
#include "parallel_for.hpp"
#include "storage.hpp"

namespace eigrad::detail {

// Below this many input or output channels the transforms cost more than the products save
// (a 1-channel first layer stays with im2col, whose product is already small).
constexpr int64_t kWinogradMinChannels = 16;

inline bool winograd_applies(const ConvGeometry& g) {
  return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
         g.groups == 1 && g.cg() >= kWinogradMinChannels && g.og() >= kWinogradMinChannels &&
         g.ho > 0 && g.wo > 0;
}

// The geometry of the input gradient as a forward convolution (see the header's comment); only
// for geometries where winograd_applies and the padding is at most 2.
inline bool winograd_input_grad_applies(const ConvGeometry& g) {
  return winograd_applies(g) && g.ph <= 2 && g.pw <= 2 && g.h > 0 && g.w > 0;
}
inline ConvGeometry input_grad_geometry(const ConvGeometry& g) {
  ConvGeometry r = g;
  r.c = g.o;
  r.h = g.ho;
  r.w = g.wo;
  r.o = g.c;
  r.ph = 2 - g.ph;
  r.pw = 2 - g.pw;
  r.ho = g.h;
  r.wo = g.w;
  return r;
}

namespace winograd {

template <class T>
using Vec = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstVec = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// U [16, C, O] = G g G^T for each filter g = w[o, c] (w [O, C, 3, 3]); with `flip`, the filter
// of the input gradient: g'[c', o'] = w[o', c'] rotated by 180 degrees, with C and O swapped
// (w is then [C', O', 3, 3] read as the gradient's [O, C]).
template <class T>
void transform_weights(const T* w, int64_t out, int64_t in, bool flip, T* u) {
  for (int64_t o = 0; o < out; ++o)
    for (int64_t c = 0; c < in; ++c) {
      T g[3][3];
      const T* src = flip ? w + (c * out + o) * 9 : w + (o * in + c) * 9;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) g[i][j] = flip ? src[(2 - i) * 3 + (2 - j)] : src[i * 3 + j];
      T a[4][3];  // G g
      for (int j = 0; j < 3; ++j) {
        a[0][j] = g[0][j];
        a[1][j] = (g[0][j] + g[1][j] + g[2][j]) / 2;
        a[2][j] = (g[0][j] - g[1][j] + g[2][j]) / 2;
        a[3][j] = g[2][j];
      }
      for (int i = 0; i < 4; ++i) {  // (G g) G^T
        const T r[4] = {a[i][0], (a[i][0] + a[i][1] + a[i][2]) / 2,
                        (a[i][0] - a[i][1] + a[i][2]) / 2, a[i][2]};
        for (int j = 0; j < 4; ++j) u[((i * 4 + j) * in + c) * out + o] = r[j];
      }
    }
}

// One sample: x [C, H, W] -> y [O, Ho, Wo] (+ bias), g's geometry, U from transform_weights.
// Scratch: padded (Hp Wp C), v (16 tiles C), m (16 tiles O), e (16 max(C, O)), yt (Ho Wo O),
// staging (H W C).
template <class T>
struct Buffers {
  int64_t tiles_h, tiles_w, hp, wp;
  StorageHandle<T> padded, v, m, e, yt, staging;
  explicit Buffers(const ConvGeometry& g)
      : tiles_h((g.ho + 1) / 2),
        tiles_w((g.wo + 1) / 2),
        hp(2 * tiles_h + 2),
        wp(2 * tiles_w + 2),
        padded(allocate_storage<T>(hp * wp * g.c)),
        v(allocate_storage<T>(16 * tiles_h * tiles_w * g.c)),
        m(allocate_storage<T>(16 * tiles_h * tiles_w * g.o)),
        e(allocate_storage<T>(16 * std::max(g.c, g.o))),
        yt(allocate_storage<T>(g.ho * g.wo * g.o)),
        staging(allocate_storage<T>(g.h * g.w * g.c)) {}
  int64_t tiles() const { return tiles_h * tiles_w; }
};

// dst [cols, rows] (rows ld_dst apart) = src [rows, cols] (rows ld_src apart) transposed, in
// square blocks of one packet's width transposed in registers (Eigen's ptranspose); the edges
// element by element. An element-by-element transpose took a third of the convolution's time.
// (A packet type carries vector attributes that a template argument drops, which GCC reports;
// Eigen silences the same report in its own headers.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
template <class T>
void transpose(const T* src, int64_t rows, int64_t cols, int64_t ld_src, T* dst, int64_t ld_dst) {
  namespace internal = Eigen::internal;
  using Packet = typename internal::packet_traits<T>::type;
  constexpr int kN = internal::unpacket_traits<Packet>::size;
  int64_t i = 0;
  if constexpr (kN > 1) {
    for (; i + kN <= rows; i += kN) {
      int64_t j = 0;
      for (; j + kN <= cols; j += kN) {
        internal::PacketBlock<Packet, kN> block;
        for (int k = 0; k < kN; ++k)
          block.packet[k] = internal::ploadu<Packet>(src + (i + k) * ld_src + j);
        internal::ptranspose(block);
        for (int k = 0; k < kN; ++k) internal::pstoreu(dst + (j + k) * ld_dst + i, block.packet[k]);
      }
      for (; j < cols; ++j)
        for (int k = 0; k < kN; ++k) dst[j * ld_dst + i + k] = src[(i + k) * ld_src + j];
    }
  }
  for (; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) dst[j * ld_dst + i] = src[i * ld_src + j];
}
#pragma GCC diagnostic pop

// The input, channels last, in a zero border: padded[(r, s), c] = x[c, r - ph, s - pw]. The
// sample is transposed whole into the staging buffer, then its rows are copied in.
template <class T>
void pad_channels_last(const ConvGeometry& g, const T* x, Buffers<T>& b) {
  T* p = b.padded.data->data();
  T* hwc = b.staging.data->data();
  transpose(x, g.c, g.h * g.w, g.h * g.w, hwc, g.c);
  std::fill(p, p + b.hp * b.wp * g.c, T(0));
  const int64_t rows = std::min(g.h, b.hp - g.ph), cols = std::min(g.w, b.wp - g.pw);
  for (int64_t r = 0; r < rows; ++r)
    std::copy(hwc + r * g.w * g.c, hwc + (r * g.w + cols) * g.c,
              p + ((r + g.ph) * b.wp + g.pw) * g.c);
}

// v[t, tile, :] = (B^T d B)[t] for each tile's 4x4 block d of channel vectors.
template <class T>
void transform_input(const ConvGeometry& g, Buffers<T>& b) {
  const int64_t C = g.c, tiles = b.tiles();
  const T* p = b.padded.data->data();
  T* v = b.v.data->data();
  T* e = b.e.data->data();
  const auto at = [&](const T* base, int r, int s) {
    return ConstVec<T>(base + (r * b.wp + s) * C, C);
  };
  const auto ev = [&](int r, int s) { return Vec<T>(e + (r * 4 + s) * C, C); };
  for (int64_t ti = 0; ti < b.tiles_h; ++ti)
    for (int64_t tj = 0; tj < b.tiles_w; ++tj) {
      const int64_t tile = ti * b.tiles_w + tj;
      const T* base = p + (2 * ti * b.wp + 2 * tj) * C;
      for (int s = 0; s < 4; ++s) {  // B^T d, a column at a time
        ev(0, s) = at(base, 0, s) - at(base, 2, s);
        ev(1, s) = at(base, 1, s) + at(base, 2, s);
        ev(2, s) = at(base, 2, s) - at(base, 1, s);
        ev(3, s) = at(base, 1, s) - at(base, 3, s);
      }
      for (int r = 0; r < 4; ++r) {  // (B^T d) B
        const auto out = [&](int s) { return Vec<T>(v + ((r * 4 + s) * tiles + tile) * C, C); };
        out(0) = ev(r, 0) - ev(r, 2);
        out(1) = ev(r, 1) + ev(r, 2);
        out(2) = ev(r, 2) - ev(r, 1);
        out(3) = ev(r, 1) - ev(r, 3);
      }
    }
}

// yt[(oh, ow), :] = (A^T m A) + bias for each tile, inside the output.
template <class T>
void transform_output(const ConvGeometry& g, const T* bias, Buffers<T>& b) {
  const int64_t O = g.o, tiles = b.tiles();
  const T* m = b.m.data->data();
  T* e = b.e.data->data();
  T* yt = b.yt.data->data();
  const auto mv = [&](int r, int s, int64_t tile) {
    return ConstVec<T>(m + ((r * 4 + s) * tiles + tile) * O, O);
  };
  const auto ev = [&](int r, int s) { return Vec<T>(e + (r * 4 + s) * O, O); };
  for (int64_t ti = 0; ti < b.tiles_h; ++ti)
    for (int64_t tj = 0; tj < b.tiles_w; ++tj) {
      const int64_t tile = ti * b.tiles_w + tj;
      for (int s = 0; s < 4; ++s) {  // A^T m
        ev(0, s) = mv(0, s, tile) + mv(1, s, tile) + mv(2, s, tile);
        ev(1, s) = mv(1, s, tile) - mv(2, s, tile) - mv(3, s, tile);
      }
      for (int r = 0; r < 2; ++r) {  // (A^T m) A
        const int64_t oh = 2 * ti + r;
        if (oh >= g.ho) break;
        for (int s = 0; s < 2; ++s) {
          const int64_t ow = 2 * tj + s;
          if (ow >= g.wo) break;
          Vec<T> y(yt + (oh * g.wo + ow) * O, O);
          if (s == 0)
            y = ev(r, 0) + ev(r, 1) + ev(r, 2);
          else
            y = ev(r, 1) - ev(r, 2) - ev(r, 3);
          if (bias) y += ConstVec<T>(bias, O);
        }
      }
    }
}

}  // namespace winograd

// y [N, O, Ho, Wo] = the convolution of x [N, C, H, W] by the weights (w [O, C, 3, 3], or with
// `flip` the input gradient's: w [C', O', 3, 3] of the convolution whose input gradient this
// is), plus the bias when given. Requires winograd_applies(g).
template <class T>
void winograd_conv(const ConvGeometry& g, const T* x, const T* w, bool flip, const T* bias, T* y) {
  using namespace winograd;
  const auto u = allocate_storage<T>(16 * g.c * g.o).data;
  transform_weights(w, g.o, g.c, flip, u->data());
  const int64_t in_sample = g.c * g.h * g.w, out_sample = g.o * g.ho * g.wo;
  const int64_t tiles = ((g.ho + 1) / 2) * ((g.wo + 1) / 2);
  parallel_for(
      g.n,
      [&](int64_t begin, int64_t end) {
        Buffers<T> b(g);
        for (int64_t n = begin; n < end; ++n) {
          pad_channels_last(g, x + n * in_sample, b);
          transform_input(g, b);
          for (int t = 0; t < 16; ++t)
            gemm(operand(b.v.data->data() + t * tiles * g.c, tiles, g.c),
                 operand(u->data() + t * g.c * g.o, g.c, g.o), b.m.data->data() + t * tiles * g.o,
                 false);
          transform_output(g, bias, b);
          transpose(b.yt.data->data(), g.ho * g.wo, g.o, g.o, y + n * out_sample, g.ho * g.wo);
        }
      },
      2 * g.n * 16 * tiles * g.c * g.o);
}

}  // namespace eigrad::detail
