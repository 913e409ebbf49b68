#pragma once
// Learning-rate schedules after torch.optim.lr_scheduler, in closed form of the epoch count.
// Each remembers the groups' learning rates when it is built (the base rates); step(), called
// once per epoch after the optimizer's steps, advances the epoch and sets every group's rate.
#include <cstdint>
#include <vector>

#include "eigrad/optim/optimizer.hpp"

namespace eigrad::optim {

class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer);
  virtual ~LRScheduler() = default;
  void step();
  int64_t epoch() const { return epoch_; }  // steps taken so far
  /// Jumps to an epoch (e.g. when resuming from a checkpoint) and sets the rates for it.
  void set_epoch(int64_t epoch);
  std::vector<double> last_lr() const;  ///< the current rate of every group
  const std::vector<double>& base_lrs() const { return base_lrs_; }

 protected:
  virtual double lr_at(double base_lr, int64_t epoch) const = 0;

 private:
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  int64_t epoch_ = 0;
};

/// lr = base_lr * gamma^floor(epoch / step_size).
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 protected:
  double lr_at(double base_lr, int64_t epoch) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

/// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2.
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min = 0.0);

 protected:
  double lr_at(double base_lr, int64_t epoch) const override;

 private:
  int64_t t_max_;
  double eta_min_;
};

}  // namespace eigrad::optim
