// The storage cache: large buffers freed by tensors are reused at the same dtype and size,
// the cache stays under its limit, empty_cache frees it, and threads share it safely.
#include <catch2/catch.hpp>
#include <cstdint>
#include <thread>
#include <vector>

#include "eigrad/eigrad.hpp"
#include "storage.hpp"

using eigrad::DoubleTensor;
using eigrad::Tensor;

namespace {
// Starts from an empty cache with `limit` and restores the default limit afterwards.
struct FreshCache {
  explicit FreshCache(size_t limit = eigrad::kDefaultStorageCacheLimit) {
    eigrad::empty_cache();
    eigrad::set_storage_cache_limit(limit);
  }
  ~FreshCache() {
    eigrad::empty_cache();
    eigrad::set_storage_cache_limit(eigrad::kDefaultStorageCacheLimit);
  }
};

constexpr int64_t kLarge = 1 << 16;  // float elements: 256 KiB, well above the cached minimum

size_t cached_bytes() {
  return eigrad::storage_cache_info().cached_bytes;
}
}  // namespace

TEST_CASE("a freed large buffer comes back for the next tensor of the same dtype and size",
          "[tensor][cache]") {
  FreshCache fresh;
  const float* first = nullptr;
  {
    Tensor a = Tensor::ones({kLarge});
    first = a.data();
  }
  CHECK(cached_bytes() == kLarge * sizeof(float));
  CHECK(eigrad::storage_cache_info().cached_buffers == 1);
  Tensor b = Tensor::zeros({kLarge / 2, 2});  // another shape, the same element count
  CHECK(b.data() == first);
  CHECK(cached_bytes() == 0);
  CHECK(b.array().abs().maxCoeff() == 0.0f);  // zeros() still fills the reused buffer
}

TEST_CASE("a cached buffer is reused only at its own dtype and size", "[tensor][cache]") {
  FreshCache fresh;
  { Tensor a = Tensor::empty({2 * kLarge}); }
  const size_t held = cached_bytes();
  CHECK(held == 2 * kLarge * sizeof(float));
  DoubleTensor same_bytes = DoubleTensor::empty({kLarge});  // as many bytes, another dtype
  Tensor other_size = Tensor::empty({2 * kLarge + 1});
  CHECK(cached_bytes() == held);
}

TEST_CASE("buffers under 64 KiB bypass the cache", "[tensor][cache]") {
  FreshCache fresh;
  const int64_t below = int64_t(eigrad::detail::kMinCachedBytes / sizeof(float)) - 1;
  { Tensor small = Tensor::empty({below}); }
  { Tensor tiny = Tensor::ones({2, 2}); }
  CHECK(eigrad::storage_cache_info().cached_buffers == 0);
  { Tensor at_minimum = Tensor::empty({below + 1}); }
  CHECK(eigrad::storage_cache_info().cached_buffers == 1);
}

TEST_CASE("the cache holds at most its limit and frees the oldest buffers first",
          "[tensor][cache]") {
  const size_t buffer = kLarge * sizeof(float);
  FreshCache fresh(3 * buffer + buffer / 2);  // room for three buffers
  {
    std::vector<Tensor> live;
    for (int64_t i = 0; i < 5; ++i) live.push_back(Tensor::empty({kLarge + i}));
    for (Tensor& t : live) t = Tensor();  // freed in order: kLarge, kLarge + 1, ... kLarge + 4
  }
  CHECK(eigrad::storage_cache_info().cached_buffers == 3);
  CHECK(cached_bytes() <= eigrad::storage_cache_info().limit_bytes);
  const size_t before = cached_bytes();
  Tensor oldest = Tensor::empty({kLarge});  // evicted: a fresh allocation
  CHECK(cached_bytes() == before);
  Tensor newest = Tensor::empty({kLarge + 4});  // still cached
  CHECK(cached_bytes() == before - (kLarge + 4) * sizeof(float));
}

TEST_CASE("a buffer larger than the limit is freed, not cached", "[tensor][cache]") {
  FreshCache fresh(kLarge * sizeof(float));
  { Tensor big = Tensor::empty({2 * kLarge}); }
  CHECK(cached_bytes() == 0);
}

TEST_CASE("lowering the limit frees cached buffers down to it; zero turns caching off",
          "[tensor][cache]") {
  FreshCache fresh;
  {
    std::vector<Tensor> live;
    for (int64_t i = 0; i < 4; ++i) live.push_back(Tensor::empty({kLarge + i}));
    for (Tensor& t : live) t = Tensor();
  }
  CHECK(eigrad::storage_cache_info().cached_buffers == 4);
  eigrad::set_storage_cache_limit(2 * kLarge * sizeof(float) + 8);
  CHECK(eigrad::storage_cache_info().cached_buffers == 1);
  eigrad::set_storage_cache_limit(0);
  CHECK(cached_bytes() == 0);
  { Tensor t = Tensor::empty({kLarge}); }
  CHECK(cached_bytes() == 0);
}

TEST_CASE("empty_cache frees every cached buffer and leaves tensors in use intact",
          "[tensor][cache]") {
  FreshCache fresh;
  Tensor kept = Tensor::full({kLarge}, 3.0f);
  {
    Tensor a = Tensor::empty({kLarge});
    DoubleTensor b = DoubleTensor::empty({kLarge});
  }
  CHECK(eigrad::storage_cache_info().cached_buffers == 2);
  eigrad::empty_cache();
  CHECK(eigrad::storage_cache_info().cached_buffers == 0);
  CHECK(cached_bytes() == 0);
  CHECK(kept.array().minCoeff() == 3.0f);
  CHECK(kept.array().maxCoeff() == 3.0f);
}

TEST_CASE("threads allocating, filling and freeing large tensors share the cache safely",
          "[tensor][cache][threads]") {
  FreshCache fresh(8 * kLarge * sizeof(double));
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &wrong] {
      for (int step = 0; step < 50; ++step) {
        const int64_t n = kLarge + (step + t) % 3;
        Tensor a = Tensor::full({n}, float(t));
        DoubleTensor b = DoubleTensor::full({n}, double(step));
        if (step % 7 == 0) eigrad::empty_cache();
        if (a.array().maxCoeff() != float(t) || b.array().minCoeff() != double(step)) ++wrong[t];
      }
    });
  for (auto& thread : threads) thread.join();
  CHECK(wrong == std::vector<int>(4, 0));
  CHECK(cached_bytes() <= eigrad::storage_cache_info().limit_bytes);
}

TEST_CASE("the cache keeps at most 16 buffers of one size and frees the others",
          "[tensor][cache]") {
  FreshCache fresh;
  {
    std::vector<Tensor> many;
    for (int i = 0; i < 20; ++i) many.push_back(Tensor::empty({kLarge}));
  }
  CHECK(eigrad::storage_cache_info().cached_buffers == 16);
  CHECK(cached_bytes() == 16 * kLarge * sizeof(float));
}

TEST_CASE("scratch arrays come from the cache and go back to it", "[tensor][cache]") {
  FreshCache fresh;
  Eigen::ArrayXf scratch = eigrad::detail::take_array<float>(kLarge);
  REQUIRE(scratch.size() == kLarge);
  const float* buffer = scratch.data();
  eigrad::detail::recycle(scratch);
  CHECK(scratch.size() == 0);
  CHECK(cached_bytes() == kLarge * sizeof(float));
  const Tensor t = Tensor::empty({kLarge});  // a tensor of that size takes the same buffer
  CHECK(t.data() == buffer);
  Eigen::ArrayXf small = eigrad::detail::take_array<float>(16);
  eigrad::detail::recycle(small);  // too small to keep
  CHECK(cached_bytes() == 0);
}

TEST_CASE("a backward pass returns its gradient buffers to the cache", "[tensor][cache]") {
  FreshCache fresh;
  eigrad::Generator gen(1);
  Tensor x = Tensor::uniform({kLarge}, -1, 1, gen).set_requires_grad();
  {
    const Tensor y = eigrad::sigmoid(eigrad::tanh(x));
    eigrad::sum(y).backward();
  }
  // tanh's and sigmoid's outputs and the intermediate gradient are back in the cache; x's
  // gradient is held by x.
  CHECK(eigrad::storage_cache_info().cached_buffers >= 2);
  const size_t before = cached_bytes();
  x.zero_grad();
  {
    const Tensor y = eigrad::sigmoid(eigrad::tanh(x));
    eigrad::sum(y).backward();
  }
  CHECK(cached_bytes() <= before + kLarge * sizeof(float));  // reused, not grown per pass
}
