#pragma once
// Which kernels eigrad's ops may use.

namespace eigrad {

/// eigrad's ops have fast paths of their own for common cases (for example max_pool2d with 2 x 2
/// windows and stride 2) beside their general paths, which handle every case. The fast paths are
/// on by default and give the same values and gradients; set_fast_paths(false) sends every op
/// down its general path (as torch.backends.mkldnn.enabled = False does for oneDNN), to check
/// one path against the other or to time them. Process-wide; set it between steps, not while
/// another thread runs an op.
bool fast_paths();
void set_fast_paths(bool enabled);

}  // namespace eigrad
