#include "storage.hpp"

#include <cstdio>
#include <iterator>
#include <limits>
#include <list>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "eigrad/tensor.hpp"

namespace eigrad {

namespace {

// A freed array kept for reuse. `key` is its size and type: arrays are reused only at the exact
// size they were allocated with, which is how a training step asks for them again.
struct Entry {
  size_t key;
  size_t bytes;
  void* array;
  void (*destroy)(void*);
};

// Buffers of one size the cache keeps at most: more than a training step frees and asks for
// again at once.
constexpr size_t kMaxPerSize = 16;

// Freed arrays by key, and in the order they were freed: when the total passes the limit, the
// oldest go first. One mutex guards it all; it is taken once per large allocation and free.
class StorageCache {
 public:
  void* take(size_t key) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = by_key_.find(key);
    if (found == by_key_.end()) return nullptr;
    const auto entry = found->second.back();  // the most recently freed: warmest in the caches
    found->second.pop_back();
    if (found->second.empty()) by_key_.erase(found);
    bytes_ -= entry->bytes;
    void* array = entry->array;
    freed_.erase(entry);
    return array;
  }

  // Keeps `entry` if it fits under the limit (evicting the oldest ones) and its size has fewer
  // than kMaxPerSize buffers waiting, else destroys it. The second bound keeps the cache from
  // filling up with a size that a step frees more often than it asks for.
  void give(const Entry& entry) {
    std::vector<Entry> evicted;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto same = by_key_.find(entry.key);
      if (entry.bytes > limit_ || (same != by_key_.end() && same->second.size() >= kMaxPerSize)) {
        evicted.push_back(entry);
      } else {
        freed_.push_back(entry);
        by_key_[entry.key].push_back(std::prev(freed_.end()));
        bytes_ += entry.bytes;
        while (bytes_ > limit_) evicted.push_back(pop_oldest());
      }
    }
    for (const Entry& e : evicted) e.destroy(e.array);  // outside the lock
  }

  void set_limit(size_t bytes) { shrink_to(bytes, true); }
  void clear() { shrink_to(0, false); }

  StorageCacheInfo info() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {bytes_, freed_.size(), limit_};
  }

 private:
  // Frees the oldest entries until the cache holds at most `bytes` (then the new limit).
  void shrink_to(size_t bytes, bool is_new_limit) {
    std::vector<Entry> evicted;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (is_new_limit) limit_ = bytes;
      while (bytes_ > bytes) evicted.push_back(pop_oldest());
    }
    for (const Entry& e : evicted) e.destroy(e.array);
  }

  // The oldest entry overall is also the oldest of its key: each key's list is in free order.
  Entry pop_oldest() {
    const Entry entry = freed_.front();
    auto& same_key = by_key_[entry.key];
    same_key.erase(same_key.begin());
    if (same_key.empty()) by_key_.erase(entry.key);
    freed_.pop_front();
    bytes_ -= entry.bytes;
    return entry;
  }

  std::mutex mutex_;
  std::list<Entry> freed_;
  std::unordered_map<size_t, std::vector<std::list<Entry>::iterator>> by_key_;
  size_t bytes_ = 0;
  size_t limit_ = kDefaultStorageCacheLimit;
};

// Never destroyed: tensors held by static objects may be freed after static destruction.
StorageCache& cache() {
  static StorageCache* const instance = new StorageCache;
  return *instance;
}

template <class T>
using Array = Eigen::Array<T, Eigen::Dynamic, 1>;

template <class T>
size_t key_of(Eigen::Index numel) {
  const size_t code = std::is_same<T, float>::value     ? 0
                      : std::is_same<T, double>::value  ? 1
                      : std::is_same<T, int64_t>::value ? 2
                                                        : 3;
  return static_cast<size_t>(numel) * 4 + code;
}

template <class T>
void destroy(void* array) {
  delete static_cast<Array<T>*>(array);
}

template <class T>
struct ReturnToCache {
  void operator()(Array<T>* array) const {
    // The size is read again: the owner may have resized the array.
    const size_t bytes = static_cast<size_t>(array->size()) * sizeof(T);
    if (bytes < detail::kMinCachedBytes) {
      delete array;
      return;
    }
    cache().give({key_of<T>(array->size()), bytes, array, &destroy<T>});
  }
};

}  // namespace

namespace {
// The allocations behind a StorageHandle: the array (or a pointer to it) with its version counter.
// The array is the block's base, so that the handle's shared_ptr<Array> is the block's own
// pointer converted, not an aliasing copy: two atomic reference-count updates fewer per tensor.
template <class T>
struct SmallBlock : Array<T> {
  explicit SmallBlock(int64_t numel) : Array<T>(numel) {}
  detail::VersionCounter version{0};
};
template <class T>
struct CachedBlock {
  explicit CachedBlock(Array<T>* a) : array(a) {}
  ~CachedBlock() { ReturnToCache<T>{}(array); }
  CachedBlock(const CachedBlock&) = delete;
  CachedBlock& operator=(const CachedBlock&) = delete;
  Array<T>* array;
  detail::VersionCounter version{0};
};
template <class T>
struct ForeignBlock {
  explicit ForeignBlock(std::shared_ptr<Array<T>> a) : array(std::move(a)) {}
  std::shared_ptr<Array<T>> array;
  detail::VersionCounter version{0};
};

template <class T>
detail::StorageHandle<T> cached_handle(std::unique_ptr<Array<T>> array) {
  auto block = std::make_shared<CachedBlock<T>>(array.get());  // `array` frees it if this throws
  array.release();
  return {std::shared_ptr<Array<T>>(block, block->array), &block->version};
}
}  // namespace

// An allocation that failed: an eigrad::Error naming the size, not a bare std::bad_alloc.
template <class T>
[[noreturn]] void throw_out_of_memory(int64_t numel) {
  const double bytes = static_cast<double>(numel) * static_cast<double>(sizeof(T));
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  double v = bytes;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  char size[64];
  std::snprintf(size, sizeof size, "%.2f %s", v, units[u]);
  throw Error(std::string("Tensor: out of memory: cannot allocate ") + std::to_string(numel) + " " +
              DtypeName<T>::value + " elements (" + size + ")");
}

template <class T>
detail::StorageHandle<T> detail::allocate_storage(int64_t numel) {
  try {
    if (static_cast<size_t>(numel) * sizeof(T) < kMinCachedBytes) {
      auto block = std::make_shared<SmallBlock<T>>(numel);
      detail::VersionCounter* version = &block->version;
      return {std::move(block), version};
    }
    std::unique_ptr<Array<T>> array(static_cast<Array<T>*>(cache().take(key_of<T>(numel))));
    if (!array) {
      if (static_cast<uint64_t>(numel) > std::numeric_limits<uint64_t>::max() / 2 / sizeof(T))
        throw std::bad_alloc();
      array = std::make_unique<Array<T>>(numel);
    }
    return cached_handle(std::move(array));
  } catch (const std::bad_alloc&) {
    throw_out_of_memory<T>(numel);
  }
}

template <class T>
detail::StorageHandle<T> detail::adopt_storage(Array<T>&& array) {
  return cached_handle(std::make_unique<Array<T>>(std::move(array)));
}

template <class T>
detail::StorageHandle<T> detail::wrap_storage(std::shared_ptr<Array<T>> array) {
  Array<T>* raw = array.get();
  auto block = std::make_shared<ForeignBlock<T>>(std::move(array));
  return {std::shared_ptr<Array<T>>(block, raw), &block->version};
}

template <class T>
Array<T> detail::take_array(int64_t numel) {
  if (static_cast<size_t>(numel) * sizeof(T) >= kMinCachedBytes)
    if (Array<T>* cached = static_cast<Array<T>*>(cache().take(key_of<T>(numel)))) {
      Array<T> array = std::move(*cached);
      delete cached;  // now empty
      return array;
    }
  try {
    return Array<T>(numel);
  } catch (const std::bad_alloc&) {
    throw_out_of_memory<T>(numel);
  }
}

template <class T>
void detail::recycle(Array<T>& array) {
  if (static_cast<size_t>(array.size()) * sizeof(T) < kMinCachedBytes) {
    array = Array<T>();
    return;
  }
  ReturnToCache<T>{}(new Array<T>(std::move(array)));
  array = Array<T>();  // (a moved-from Eigen array is already empty)
}

void empty_cache() {
  cache().clear();
}

void set_storage_cache_limit(size_t bytes) {
  cache().set_limit(bytes);
}

StorageCacheInfo storage_cache_info() {
  return cache().info();
}

template detail::StorageHandle<float> detail::allocate_storage<float>(int64_t);
template detail::StorageHandle<float> detail::wrap_storage<float>(std::shared_ptr<Array<float>>);
template detail::StorageHandle<float> detail::adopt_storage<float>(Array<float>&&);
template detail::StorageHandle<double> detail::adopt_storage<double>(Array<double>&&);
template Array<float> detail::take_array<float>(int64_t);
template Array<double> detail::take_array<double>(int64_t);
template void detail::recycle<float>(Array<float>&);
template void detail::recycle<double>(Array<double>&);
template detail::StorageHandle<double> detail::allocate_storage<double>(int64_t);
template detail::StorageHandle<double> detail::wrap_storage<double>(std::shared_ptr<Array<double>>);
template detail::StorageHandle<int64_t> detail::allocate_storage<int64_t>(int64_t);
template detail::StorageHandle<int64_t> detail::wrap_storage<int64_t>(
    std::shared_ptr<Array<int64_t>>);
template detail::StorageHandle<int64_t> detail::adopt_storage<int64_t>(Array<int64_t>&&);
template detail::StorageHandle<bool> detail::allocate_storage<bool>(int64_t);
template detail::StorageHandle<bool> detail::wrap_storage<bool>(std::shared_ptr<Array<bool>>);
template detail::StorageHandle<bool> detail::adopt_storage<bool>(Array<bool>&&);

}  // namespace eigrad
