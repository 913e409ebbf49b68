#include "eigrad/data/batches.hpp"

#include <algorithm>
#include <numeric>
#include <string>
#include <utility>

#include "eigrad/error.hpp"
#include "eigrad/ops.hpp"

namespace eigrad::data {

namespace {
void check_batch_size(int64_t batch_size) {
  if (batch_size < 1)
    throw Error("BatchLoader: batch_size must be at least 1, got " + std::to_string(batch_size));
}
}  // namespace

BatchLoader::BatchLoader(Tensor X, std::vector<int64_t> y, int64_t batch_size, BatchOptions options)
    : X_(std::move(X)),
      y_(std::make_shared<const std::vector<int64_t>>(std::move(y))),
      has_data_(true),
      batch_size_(batch_size),
      options_(options),
      gen_(options.seed) {
  check_batch_size(batch_size);
  if (!X_.defined()) throw Error("BatchLoader: X is an undefined tensor");
  if (X_.rank() < 1)
    throw Error("BatchLoader: X must have a sample axis first, got shape " + X_.shape().str());
  if (X_.size(0) != static_cast<int64_t>(y_->size()))
    throw Error("BatchLoader: X of shape " + X_.shape().str() + " has " +
                std::to_string(X_.size(0)) + " samples but y has " + std::to_string(y_->size()) +
                " labels");
  num_samples_ = X_.size(0);
}

BatchLoader::BatchLoader(const Dataset& data, int64_t batch_size, BatchOptions options)
    : BatchLoader(data.X, data.y, batch_size, options) {}

BatchLoader::BatchLoader(int64_t num_samples, int64_t batch_size, BatchOptions options)
    : num_samples_(num_samples), batch_size_(batch_size), options_(options), gen_(options.seed) {
  check_batch_size(batch_size);
  if (num_samples < 0)
    throw Error("BatchLoader: num_samples must be >= 0, got " + std::to_string(num_samples));
}

int64_t BatchLoader::num_batches() const {
  return options_.drop_last ? num_samples_ / batch_size_
                            : (num_samples_ + batch_size_ - 1) / batch_size_;
}

std::vector<int64_t> BatchLoader::next_order() {
  std::vector<int64_t> order(static_cast<size_t>(num_samples_));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (options_.shuffle)  // Fisher-Yates with the portable Generator (std::shuffle is not portable)
    for (int64_t i = num_samples_ - 1; i > 0; --i)
      std::swap(order[static_cast<size_t>(i)], order[gen_.randint(static_cast<uint64_t>(i) + 1)]);
  return order;
}

BatchLoader::Epoch BatchLoader::epoch() {
  return Epoch(*this, next_order());
}

std::vector<std::vector<int64_t>> BatchLoader::epoch_indices() {
  const Epoch e = epoch();
  std::vector<std::vector<int64_t>> out;
  out.reserve(static_cast<size_t>(e.size()));
  for (int64_t i = 0; i < e.size(); ++i) out.push_back(e.indices(i));
  return out;
}

BatchLoader::Epoch::Epoch(const BatchLoader& loader, std::vector<int64_t> order)
    : X_(loader.X_),
      y_(loader.y_),
      has_data_(loader.has_data_),
      batch_size_(loader.batch_size_),
      num_batches_(loader.num_batches()),
      order_(std::move(order)) {}

std::vector<int64_t> BatchLoader::Epoch::indices(int64_t i) const {
  if (i < 0 || i >= num_batches_)
    throw Error("BatchLoader::Epoch: batch " + std::to_string(i) +
                " is out of range for an epoch of " + std::to_string(num_batches_) + " batches");
  const int64_t n = static_cast<int64_t>(order_.size());
  const auto first = order_.begin() + i * batch_size_;
  return {first, first + std::min(batch_size_, n - i * batch_size_)};
}

Batch BatchLoader::Epoch::batch(int64_t i) const {
  Batch b;
  b.indices = indices(i);
  if (has_data_) {
    b.X = index_select(X_, 0, b.indices);
    b.y.reserve(b.indices.size());
    for (int64_t r : b.indices) b.y.push_back((*y_)[static_cast<size_t>(r)]);
  }
  return b;
}

}  // namespace eigrad::data
