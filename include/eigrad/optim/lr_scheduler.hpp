#pragma once
// Learning-rate schedules after torch.optim.lr_scheduler, in closed form of the epoch count.
// Each remembers the groups' learning rates when it is built (the base rates); step(), called
// once per epoch after the optimizer's steps, advances the epoch and sets every group's rate.
#include <cstdint>
#include <string>
#include <vector>

#include "eigrad/optim/optimizer.hpp"

namespace eigrad::optim {

/// What a schedule needs to continue exactly (PyTorch's scheduler.state_dict()).
struct LRSchedulerStateDict {
  std::string type;              ///< "StepLR", "CosineAnnealingLR"
  int64_t last_epoch = 0;        ///< steps taken (epoch())
  std::vector<double> base_lrs;  ///< one per parameter group
  std::vector<double> last_lrs;  ///< the groups' rates when saved (the optimizer restores them)
  Settings options;              ///< the schedule's own: step_size, gamma / t_max, eta_min
};

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
  virtual std::string type_name() const = 0;

  LRSchedulerStateDict state_dict() const;
  /// Restores the epoch, the base rates and the options, as PyTorch does: the optimizer's rates are
  /// left alone (its own state dict holds them) and the next step() sets them from the restored
  /// epoch. The type, the number of groups and the option names must match and the values must
  /// be valid; on error (naming the key) the schedule is unchanged.
  void load_state_dict(const LRSchedulerStateDict& state);

 protected:
  virtual double lr_at(double base_lr, int64_t epoch) const = 0;
  virtual Settings settings() const = 0;
  /// Throws, starting with `where`, unless `settings` are exactly settings()'s names with valid
  /// values; with apply, sets them afterwards.
  virtual void use_settings(const Settings& settings, const std::string& where, bool apply) = 0;

 private:
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  int64_t epoch_ = 0;
};

/// lr = base_lr * gamma^floor(epoch / step_size).
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
  std::string type_name() const override { return "StepLR"; }

 protected:
  double lr_at(double base_lr, int64_t epoch) const override;
  Settings settings() const override;
  void use_settings(const Settings& settings, const std::string& where, bool apply) override;

 private:
  int64_t step_size_;
  double gamma_;
};

/// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2.
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min = 0.0);
  std::string type_name() const override { return "CosineAnnealingLR"; }

 protected:
  double lr_at(double base_lr, int64_t epoch) const override;
  Settings settings() const override;
  void use_settings(const Settings& settings, const std::string& where, bool apply) override;

 private:
  int64_t t_max_;
  double eta_min_;
};

}  // namespace eigrad::optim
