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
// position t of the 4x4 transform: M_t [tiles, O] = V_t [tiles, C] x U_t [C, O]. Samples go in
// small chunks (their buffers stay in the L2; chunk_samples), channels last, so that every
// transform is a vector operation along the channels; the samples are split over the threads.
//
// The input gradient of such a convolution with padding p <= 2 is a convolution of the same kind:
// the output gradient convolved with the weights flipped in space and transposed in channels,
// with padding 2 - p (input_grad_geometry). The weight's gradient is summed in the transform
// domain and transformed back once (winograd_weight_grad_part, winograd_weight_grad_finish).
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

// The 2x2 output tiles of one sample (the last row and column of tiles may stick out).
inline int64_t winograd_tiles(const ConvGeometry& g) {
  return ((g.ho + 1) / 2) * ((g.wo + 1) / 2);
}

namespace winograd {

// Eigen's packet of T and its width. (A packet type carries vector attributes that a template
// argument drops, which GCC reports; Eigen silences the same report in its own headers.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
template <class T>
using Packet = typename Eigen::internal::packet_traits<T>::type;
template <class T>
constexpr int kPacket = Eigen::internal::unpacket_traits<Packet<T>>::size;

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

// Scratch for a chunk of `samples` samples (see chunk_samples): padded (Hp Wp C) and staging
// (H W C) for one sample at a time; v (16, samples tiles, C) and m (16, samples tiles, O), the
// rows of sample s at s tiles; yt (Ho Wo O).
template <class T>
struct Buffers {
  int64_t tiles_h, tiles_w, hp, wp, samples;
  StorageHandle<T> padded, v, m, yt, staging;
  Buffers(const ConvGeometry& g, int64_t chunk)
      : tiles_h((g.ho + 1) / 2),  // tiles() == winograd_tiles(g)
        tiles_w((g.wo + 1) / 2),
        hp(2 * tiles_h + 2),
        wp(2 * tiles_w + 2),
        samples(chunk),
        padded(allocate_storage<T>(hp * wp * g.c)),
        v(allocate_storage<T>(16 * chunk * tiles_h * tiles_w * g.c)),
        m(allocate_storage<T>(16 * chunk * tiles_h * tiles_w * g.o)),
        yt(allocate_storage<T>(g.ho * g.wo * g.o)),
        staging(allocate_storage<T>(g.h * g.w * g.c)) {}
  int64_t tiles() const { return tiles_h * tiles_w; }
  int64_t rows() const { return samples * tiles(); }  // of each of v's and m's 16 blocks
};

// How many samples share one set of 16 products: enough rows (tiles) that packing the weights
// once serves many, few enough that v and m stay in the L2. One sample of a 14 x 14 image has 49
// tiles, whose products [49, C] x [C, O] repacked the weights for every sample (6 % of the CNN
// step); 4 samples make 196 rows.
inline int64_t chunk_samples(const ConvGeometry& g) {
  const int64_t tiles = winograd_tiles(g);
  const int64_t rows = std::min<int64_t>(256, (int64_t{1} << 17) / (g.c + g.o));
  return std::max<int64_t>(1, std::min<int64_t>(16, rows / tiles));
}

// dst [cols, rows] (rows ld_dst apart) = src [rows, cols] (rows ld_src apart) transposed, in
// square blocks of one packet's width transposed in registers (Eigen's ptranspose); the edges
// element by element. An element-by-element transpose took a third of the convolution's time.
template <class T>
void transpose(const T* src, int64_t rows, int64_t cols, int64_t ld_src, T* dst, int64_t ld_dst) {
  namespace internal = Eigen::internal;
  constexpr int kN = kPacket<T>;
  int64_t i = 0;
  if constexpr (kN > 1) {
    for (; i + kN <= rows; i += kN) {
      int64_t j = 0;
      for (; j + kN <= cols; j += kN) {
        internal::PacketBlock<Packet<T>, kN> block;
        for (int k = 0; k < kN; ++k)
          block.packet[k] = internal::ploadu<Packet<T>>(src + (i + k) * ld_src + j);
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

// The transforms work on one packet of channels at a time (P = Eigen's packet of T, then T
// itself for the channels left over), with every value of a tile in registers: written as
// Eigen expressions on whole channel vectors, their per-expression cost was ten times the
// arithmetic (a third of the convolution's time). Eigen's padd, psub, ploadu and pstoreu also
// take plain scalars.
// Calls f(P(), c) for each packet of channels c in [0, n), then f(T(), c) for the rest.
template <class T, class F>
EIGEN_ALWAYS_INLINE void for_each_packet(int64_t n, F&& f) {
  int64_t c = 0;
  for (; c + kPacket<T> <= n; c += kPacket<T>) f(Packet<T>(), c);
  for (; c < n; ++c) f(T(), c);
}

// v[t, sample tiles + tile, :] = (B^T d B)[t] for each tile's 4x4 block d of channel vectors.
template <class T>
void transform_input(const ConvGeometry& g, Buffers<T>& b, int64_t sample) {
  namespace internal = Eigen::internal;
  const int64_t C = g.c, block = b.rows() * C, row = b.wp * C;
  const T* p = b.padded.data->data();
  T* v = b.v.data->data() + sample * b.tiles() * C;
  for (int64_t ti = 0; ti < b.tiles_h; ++ti)
    for (int64_t tj = 0; tj < b.tiles_w; ++tj) {
      const T* base = p + (2 * ti * b.wp + 2 * tj) * C;
      T* out = v + (ti * b.tiles_w + tj) * C;
      for_each_packet<T>(C, [&](auto kind, int64_t c) {
        using P = decltype(kind);
        P e[4][4];  // B^T d: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3
        for (int s = 0; s < 4; ++s) {
          const P d0 = internal::ploadu<P>(base + s * C + c);
          const P d1 = internal::ploadu<P>(base + row + s * C + c);
          const P d2 = internal::ploadu<P>(base + 2 * row + s * C + c);
          const P d3 = internal::ploadu<P>(base + 3 * row + s * C + c);
          e[0][s] = internal::psub(d0, d2);
          e[1][s] = internal::padd(d1, d2);
          e[2][s] = internal::psub(d2, d1);
          e[3][s] = internal::psub(d1, d3);
        }
        for (int r = 0; r < 4; ++r) {  // (B^T d) B: the same on the columns
          T* o = out + r * 4 * block + c;
          internal::pstoreu(o, internal::psub(e[r][0], e[r][2]));
          internal::pstoreu(o + block, internal::padd(e[r][1], e[r][2]));
          internal::pstoreu(o + 2 * block, internal::psub(e[r][2], e[r][1]));
          internal::pstoreu(o + 3 * block, internal::psub(e[r][1], e[r][3]));
        }
      });
    }
}

// yt[(oh, ow), :] = (A^T m A) + bias for each tile of the sample, inside the output.
template <class T>
void transform_output(const ConvGeometry& g, const T* bias, Buffers<T>& b, int64_t sample) {
  namespace internal = Eigen::internal;
  const int64_t O = g.o, block = b.rows() * O;
  const T* m = b.m.data->data() + sample * b.tiles() * O;
  T* yt = b.yt.data->data();
  for (int64_t ti = 0; ti < b.tiles_h; ++ti)
    for (int64_t tj = 0; tj < b.tiles_w; ++tj) {
      const T* in = m + (ti * b.tiles_w + tj) * O;
      const bool has_row = 2 * ti + 1 < g.ho, has_col = 2 * tj + 1 < g.wo;
      T* y = yt + (2 * ti * g.wo + 2 * tj) * O;
      for_each_packet<T>(O, [&](auto kind, int64_t c) {
        using P = decltype(kind);
        P a[2][4];  // A^T m: rows m0 + m1 + m2, m1 - m2 - m3
        for (int s = 0; s < 4; ++s) {
          const P m0 = internal::ploadu<P>(in + s * block + c);
          const P m1 = internal::ploadu<P>(in + (4 + s) * block + c);
          const P m2 = internal::ploadu<P>(in + (8 + s) * block + c);
          const P m3 = internal::ploadu<P>(in + (12 + s) * block + c);
          a[0][s] = internal::padd(internal::padd(m0, m1), m2);
          a[1][s] = internal::psub(internal::psub(m1, m2), m3);
        }
        const P b0 = bias ? internal::ploadu<P>(bias + c) : internal::pset1<P>(T(0));
        for (int r = 0; r < 2; ++r) {  // (A^T m) A, inside the output
          if (r == 1 && !has_row) break;
          T* yr = y + r * g.wo * O + c;
          internal::pstoreu(
              yr, internal::padd(internal::padd(internal::padd(a[r][0], a[r][1]), a[r][2]), b0));
          if (has_col)
            internal::pstoreu(
                yr + O,
                internal::padd(internal::psub(internal::psub(a[r][1], a[r][2]), a[r][3]), b0));
        }
      });
    }
}

// The output gradient's tiles: m[t, sample tiles + tile, :] = (A dY A^T)[t] for each 2x2 block
// dY of the sample's output gradient (channels last in yt, [Ho Wo, O]; zero outside the output,
// where the forward computed values it dropped).
template <class T>
void transform_output_grad(const ConvGeometry& g, Buffers<T>& b, int64_t sample) {
  namespace internal = Eigen::internal;
  const int64_t O = g.o, block = b.rows() * O;
  const T* gy = b.yt.data->data();
  T* m = b.m.data->data() + sample * b.tiles() * O;
  for (int64_t ti = 0; ti < b.tiles_h; ++ti)
    for (int64_t tj = 0; tj < b.tiles_w; ++tj) {
      const bool has_row = 2 * ti + 1 < g.ho, has_col = 2 * tj + 1 < g.wo;
      const T* in = gy + (2 * ti * g.wo + 2 * tj) * O;
      T* out = m + (ti * b.tiles_w + tj) * O;
      for_each_packet<T>(O, [&](auto kind, int64_t c) {
        using P = decltype(kind);
        const P zero = internal::pset1<P>(T(0));
        const P y00 = internal::ploadu<P>(in + c);
        const P y01 = has_col ? internal::ploadu<P>(in + O + c) : zero;
        const P y10 = has_row ? internal::ploadu<P>(in + g.wo * O + c) : zero;
        const P y11 = has_row && has_col ? internal::ploadu<P>(in + (g.wo + 1) * O + c) : zero;
        // A dY: rows y0, y0 + y1, y0 - y1, -y1; then (A dY) A^T the same on the columns.
        const P a[4][2] = {{y00, y01},
                           {internal::padd(y00, y10), internal::padd(y01, y11)},
                           {internal::psub(y00, y10), internal::psub(y01, y11)},
                           {internal::pnegate(y10), internal::pnegate(y11)}};
        for (int r = 0; r < 4; ++r) {
          T* o = out + r * 4 * block + c;
          internal::pstoreu(o, a[r][0]);
          internal::pstoreu(o + block, internal::padd(a[r][0], a[r][1]));
          internal::pstoreu(o + 2 * block, internal::psub(a[r][0], a[r][1]));
          internal::pstoreu(o + 3 * block, internal::pnegate(a[r][1]));
        }
      });
    }
}

#pragma GCC diagnostic pop

// Calls f(b, first, count) for the chunks of chunk_samples(g) samples in [begin, end), on one
// thread's buffers b: the samples [first, first + count), their tiles at rows [0, count tiles)
// of b's v and m.
template <class T, class F>
void for_each_chunk(const ConvGeometry& g, int64_t begin, int64_t end, F&& f) {
  const int64_t chunk = chunk_samples(g);
  Buffers<T> b(g, chunk);
  for (int64_t first = begin; first < end; first += chunk)
    f(b, first, std::min(chunk, end - first));
}

}  // namespace winograd

// The weight's gradient in the transform domain for samples [begin, end) of x [N, C, H, W] and
// the output gradient gy [N, O, Ho, Wo], added to du [16, O, C]: dU_t += dM_t^T V_t, with
// dM = A dY A^T per output tile and V the forward's input tiles. winograd_weight_grad_finish
// turns the sum into the weight's gradient. Requires winograd_applies(g).
template <class T>
void winograd_weight_grad_part(const ConvGeometry& g, const T* x, const T* gy, int64_t begin,
                               int64_t end, T* du) {
  using namespace winograd;
  const int64_t in_sample = g.c * g.h * g.w, out_sample = g.o * g.ho * g.wo;
  for_each_chunk<T>(g, begin, end, [&](Buffers<T>& b, int64_t first, int64_t count) {
    for (int64_t s = 0; s < count; ++s) {
      pad_channels_last(g, x + (first + s) * in_sample, b);
      transform_input(g, b, s);
      transpose(gy + (first + s) * out_sample, g.o, g.ho * g.wo, g.ho * g.wo, b.yt.data->data(),
                g.o);
      transform_output_grad(g, b, s);
    }
    const T* v = b.v.data->data();
    const T* m = b.m.data->data();
    for (int t = 0; t < 16; ++t)
      gemm(transposed(m + t * b.rows() * g.o, count * b.tiles(), g.o),
           operand(v + t * b.rows() * g.c, count * b.tiles(), g.c), du + t * g.o * g.c, true);
  });
}

// dw [O, C, 3, 3] = G^T dU G for each (o, c), from winograd_weight_grad_part's sums du.
template <class T>
void winograd_weight_grad_finish(const ConvGeometry& g, const T* du, T* dw) {
  for (int64_t o = 0; o < g.o; ++o)
    for (int64_t c = 0; c < g.c; ++c) {
      T d[4][4];
      for (int t = 0; t < 16; ++t) d[t / 4][t % 4] = du[(t * g.o + o) * g.c + c];
      T a[3][4];  // G^T dU
      for (int j = 0; j < 4; ++j) {
        a[0][j] = d[0][j] + (d[1][j] + d[2][j]) / 2;
        a[1][j] = (d[1][j] - d[2][j]) / 2;
        a[2][j] = (d[1][j] + d[2][j]) / 2 + d[3][j];
      }
      T* out = dw + (o * g.c + c) * 9;
      for (int i = 0; i < 3; ++i) {  // (G^T dU) G
        out[i * 3 + 0] = a[i][0] + (a[i][1] + a[i][2]) / 2;
        out[i * 3 + 1] = (a[i][1] - a[i][2]) / 2;
        out[i * 3 + 2] = (a[i][1] + a[i][2]) / 2 + a[i][3];
      }
    }
}

// y [N, O, Ho, Wo] = the convolution of x [N, C, H, W] by the weights (w [O, C, 3, 3], or with
// `flip` the input gradient's: w [C', O', 3, 3] of the convolution whose input gradient this
// is), plus the bias when given. Requires winograd_applies(g).
template <class T>
void winograd_conv(const ConvGeometry& g, const T* x, const T* w, bool flip, const T* bias, T* y) {
  using namespace winograd;
  const auto u = allocate_storage<T>(16 * g.c * g.o).data;
  transform_weights(w, g.o, g.c, flip, u->data());
  const int64_t in_sample = g.c * g.h * g.w, out_sample = g.o * g.ho * g.wo;
  const int64_t tiles = winograd_tiles(g);
  parallel_for(
      g.n,
      [&](int64_t begin, int64_t end) {
        for_each_chunk<T>(g, begin, end, [&](Buffers<T>& b, int64_t first, int64_t count) {
          for (int64_t s = 0; s < count; ++s) {
            pad_channels_last(g, x + (first + s) * in_sample, b);
            transform_input(g, b, s);
          }
          T* v = b.v.data->data();
          T* m = b.m.data->data();
          for (int t = 0; t < 16; ++t)
            gemm(operand(v + t * b.rows() * g.c, count * tiles, g.c),
                 operand(u->data() + t * g.c * g.o, g.c, g.o), m + t * b.rows() * g.o, false);
          for (int64_t s = 0; s < count; ++s) {
            transform_output(g, bias, b, s);
            transpose(b.yt.data->data(), g.ho * g.wo, g.o, g.o, y + (first + s) * out_sample,
                      g.ho * g.wo);
          }
        });
      },
      2 * g.n * 16 * tiles * g.c * g.o);
}

}  // namespace eigrad::detail
