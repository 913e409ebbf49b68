#pragma once
// Interpolation of [N, C, H, W] images (src/ops/upsample.cpp), as PyTorch 1.13's F.interpolate
// for 4-D input in modes "nearest" and "bilinear". Each mode is a fixed linear map of the input;
// its gradient is the adjoint map, an op of its own whose gradient is the forward again, so
// interpolate is differentiable to any order.
//   interpolate(x, InterpolateOptions().scale_factor(2))                     // nearest, 2x
//   interpolate(x, InterpolateOptions().size({7, 9}).mode("bilinear").align_corners(true))
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "eigrad/autograd.hpp"
#include "eigrad/ops/expanding_array.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad {

// PyTorch's arguments, set by chained calls (libtorch's InterpolateFuncOptions); each setter has
// a getter of the same name. Exactly one of size and scale_factor must be given. align_corners
// may be given only with "bilinear" (where it defaults to false), as in PyTorch.
class InterpolateOptions {
 public:
  InterpolateOptions& size(ExpandingArray<2> v) {
    size_ = v;
    return *this;
  }
  InterpolateOptions& scale_factor(double v) { return scale_factor(std::array<double, 2>{v, v}); }
  InterpolateOptions& scale_factor(const std::array<double, 2>& v) {
    scale_factor_ = v;
    return *this;
  }
  InterpolateOptions& mode(std::string v) {
    mode_ = std::move(v);
    return *this;
  }
  InterpolateOptions& align_corners(bool v) {
    align_corners_ = v;
    return *this;
  }

  const ExpandingArray<2>& size() const { return size_; }  // not given() when unset
  const std::optional<std::array<double, 2>>& scale_factor() const { return scale_factor_; }
  const std::string& mode() const { return mode_; }
  const std::optional<bool>& align_corners() const { return align_corners_; }

 private:
  ExpandingArray<2> size_;
  std::optional<std::array<double, 2>> scale_factor_;
  std::string mode_ = "nearest";
  std::optional<bool> align_corners_;
};

// input [N, C, H, W] -> [N, C, H_out, W_out], with H_out = size[0], or floor(H * scale_factor[0])
// when scale_factor is given (and likewise W_out). As PyTorch (CPU):
// - nearest: output row i reads input row min(floor(i * s), H - 1), s = 1 / scale_factor when
//   given, else H / H_out (i * s rounded to float32 before the floor, as PyTorch's floorf);
// - bilinear, align_corners: source position i (H - 1) / (H_out - 1) (0 when H_out = 1);
// - bilinear, not align_corners: source position max(0, s (i + 0.5) - 0.5), s as for nearest;
//   when H_out = H, the rows are copied whatever the scale factor.
// The gradient is the exact adjoint of this map. (PyTorch's nearest backward takes shortcuts when
// H_out = H or 2 H that its forward does not take: with a scale_factor whose floor gives such a
// size, e.g. 3 rows by 2.3, its gradient is not its forward's adjoint; eigrad's is.)
// Throws on other ranks or modes, both or neither of size and scale_factor, empty sizes.
template <class T>
BasicTensor<T> interpolate(const BasicTensor<T>& input, const InterpolateOptions& options);

}  // namespace eigrad
