#pragma once
// Intra-op parallelism: large elementwise kernels and reductions are split across threads
// (OpenMP when the library is built with it, a private dependency). Small tensors stay on the
// calling thread, so threading never slows them down.

namespace eigrad {

/// Threads used by eigrad's kernels, reductions and matrix products. Defaults to the number of
/// hardware threads; set_num_threads(1) makes every kernel single-threaded. eigrad splits its
/// matrix products itself and never calls Eigen::setNbThreads, which stays the program's.
int num_threads();
void set_num_threads(int threads);

}  // namespace eigrad
