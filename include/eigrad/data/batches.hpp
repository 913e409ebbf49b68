#pragma once
// BatchLoader: minibatches over (X, y) with seeded shuffling.
//
//   data::BatchLoader loader(train, 128, {/*shuffle=*/true, /*drop_last=*/false, /*seed=*/1});
//   for (const data::Batch& b : loader.epoch()) { ... b.X ... b.y ... }
//
// Every epoch() starts from the identity order and, when shuffling, permutes it with a
// Fisher-Yates shuffle driven by the loader's own Generator, so the sequence of epochs is fixed
// by the seed. Each index appears exactly once per epoch (the last partial batch is kept unless
// drop_last is set, in which case its indices are skipped for that epoch).
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "eigrad/data/dataset.hpp"
#include "eigrad/random.hpp"
#include "eigrad/tensor.hpp"

namespace eigrad::data {

struct BatchOptions {
  bool shuffle = true;
  bool drop_last = false;  ///< skip a final batch smaller than batch_size
  uint64_t seed = 0;
};

struct Batch {
  std::vector<int64_t> indices;  ///< rows of the full set, in batch order
  Tensor X;                ///< index_select(X, 0, indices); undefined for an index-only loader
  std::vector<int64_t> y;  ///< the matching labels; empty for an index-only loader

  int64_t size() const { return static_cast<int64_t>(indices.size()); }
};

class BatchLoader {
 public:
  BatchLoader(Tensor X, std::vector<int64_t> y, int64_t batch_size, BatchOptions options = {});
  BatchLoader(const Dataset& data, int64_t batch_size, BatchOptions options = {});
  /// Index batches only: Batch::X stays undefined and Batch::y empty.
  BatchLoader(int64_t num_samples, int64_t batch_size, BatchOptions options = {});

  int64_t num_samples() const { return num_samples_; }
  int64_t batch_size() const { return batch_size_; }
  int64_t num_batches() const;  ///< per epoch

  class Epoch;
  /// The next epoch's batches (reshuffled when shuffling), as a range for a range-for loop.
  Epoch epoch();
  /// The next epoch's batches as index lists only.
  std::vector<std::vector<int64_t>> epoch_indices();

 private:
  std::vector<int64_t> next_order();

  Tensor X_;
  std::shared_ptr<const std::vector<int64_t>> y_;  ///< shared with the epochs handed out
  bool has_data_ = false;
  int64_t num_samples_ = 0;
  int64_t batch_size_ = 1;
  BatchOptions options_;
  Generator gen_;
};

class BatchLoader::Epoch {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const Batch*;
    using reference = Batch;

    iterator(const Epoch* epoch, int64_t batch) : epoch_(epoch), batch_(batch) {}
    Batch operator*() const { return epoch_->batch(batch_); }
    iterator& operator++() {
      ++batch_;
      return *this;
    }
    bool operator==(const iterator& o) const { return batch_ == o.batch_; }
    bool operator!=(const iterator& o) const { return batch_ != o.batch_; }

   private:
    const Epoch* epoch_;
    int64_t batch_;
  };

  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, num_batches_}; }
  int64_t size() const { return num_batches_; }
  /// The i-th batch of this epoch (gathers its rows), or only its indices.
  Batch batch(int64_t i) const;
  std::vector<int64_t> indices(int64_t i) const;
  const std::vector<int64_t>& order() const { return order_; }

 private:
  friend class BatchLoader;
  Epoch(const BatchLoader& loader, std::vector<int64_t> order);

  Tensor X_;
  std::shared_ptr<const std::vector<int64_t>> y_;
  bool has_data_;
  int64_t batch_size_;
  int64_t num_batches_;
  std::vector<int64_t> order_;
};

}  // namespace eigrad::data
