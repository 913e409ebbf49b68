#pragma once
// Tensor storage: allocation through eigrad's storage cache (see eigrad::empty_cache).
#include <Eigen/Core>
#include <cstdint>
#include <memory>

namespace eigrad::detail {

// Arrays of at least this many bytes come from and return to the cache; smaller ones are plain
// allocations (a cache look-up would cost more than the allocation it saves).
constexpr size_t kMinCachedBytes = size_t(64) << 10;

// `numel` uninitialised elements. When the last owner lets go, a large array goes back to the
// cache, where the next request for the same type and size takes it.
template <class T>
std::shared_ptr<Eigen::Array<T, Eigen::Dynamic, 1>> allocate_storage(int64_t numel);

// Storage that takes over `array`'s buffer, which returns to the cache like allocate_storage's.
template <class T>
std::shared_ptr<Eigen::Array<T, Eigen::Dynamic, 1>> adopt_storage(
    Eigen::Array<T, Eigen::Dynamic, 1>&& array);

}  // namespace eigrad::detail
