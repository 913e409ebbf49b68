#pragma once
// Eigen as eigrad includes it. Eigen's alignment decides which allocator an Array's buffer comes
// from and how fixed-size objects are laid out, so eigrad and every file of a program that shares
// Eigen objects with it must agree on it. Linking the CMake target eigrad::eigrad defines these
// values (see CMakeLists.txt); compiling with others, on either side, is an error here rather
// than a crash at run time.
#include <cstddef>
#include <type_traits>

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
// GCC 12 reports false "__Y may be used uninitialized" warnings inside its own AVX-512 intrinsics
// whenever Eigen's packet code is inlined (GCC bug 105593), in any program compiled with
// -march=native. The warnings are placed in the headers included here, so they are silenced for
// those headers alone; the including program keeps its warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>
#pragma GCC diagnostic pop
#else
#include <Eigen/Core>
#endif

#if EIGEN_MAX_ALIGN_BYTES != 64 || EIGEN_MAX_STATIC_ALIGN_BYTES != 64 || \
    EIGEN_MALLOC_ALREADY_ALIGNED != 0
// Link eigrad::eigrad, or define EIGEN_MAX_ALIGN_BYTES=64, EIGEN_MAX_STATIC_ALIGN_BYTES=64 and
// EIGEN_MALLOC_ALREADY_ALIGNED=0 for every file that includes Eigen.
#error "eigrad: Eigen's alignment settings differ from the library's (see eigrad/eigen.hpp)"
#endif
static_assert(std::is_same<Eigen::Index, std::ptrdiff_t>::value,
              "eigrad is built with Eigen's default index type: do not define "
              "EIGEN_DEFAULT_DENSE_INDEX_TYPE");
