#pragma once
// Tensor storage: allocation through eigrad's storage cache (see eigrad::empty_cache).
#include <cstdint>
#include <memory>

#include "eigrad/tensor.hpp"

namespace eigrad::detail {

// A tensor's storage and the version counter that lives in the same allocation (the counter
// stays valid for as long as anything holds `data`).
template <class T>
struct StorageHandle {
  std::shared_ptr<Eigen::Array<T, Eigen::Dynamic, 1>> data;
  VersionCounter* version;
};

// Arrays of at least this many bytes come from and return to the cache; smaller ones are plain
// allocations (a cache look-up would cost more than the allocation it saves).
constexpr size_t kMinCachedBytes = size_t(64) << 10;

// `numel` uninitialised elements. When the last owner lets go, a large array goes back to the
// cache, where the next request for the same type and size takes it.
template <class T>
StorageHandle<T> allocate_storage(int64_t numel);

// Storage that takes over `array`'s buffer, which returns to the cache like allocate_storage's.
template <class T>
StorageHandle<T> adopt_storage(Eigen::Array<T, Eigen::Dynamic, 1>&& array);

// Storage made elsewhere (Tensor::from_storage), given a version counter of its own.
template <class T>
StorageHandle<T> wrap_storage(std::shared_ptr<Eigen::Array<T, Eigen::Dynamic, 1>> array);

}  // namespace eigrad::detail
