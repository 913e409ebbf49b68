#include "eigrad/optim/lr_scheduler.hpp"

#include <cmath>
#include <string>

namespace eigrad::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (size_t g = 0; g < optimizer.group_count(); ++g) base_lrs_.push_back(optimizer.lr(g));
}

void LRScheduler::step() {
  set_epoch(epoch_ + 1);
}

void LRScheduler::set_epoch(int64_t epoch) {
  if (epoch < 0)
    throw Error("LRScheduler::set_epoch: the epoch must be >= 0, got " + std::to_string(epoch));
  epoch_ = epoch;
  for (size_t g = 0; g < base_lrs_.size(); ++g) optimizer_.set_lr(lr_at(base_lrs_[g], epoch), g);
}

std::vector<double> LRScheduler::last_lr() const {
  std::vector<double> out;
  for (size_t g = 0; g < base_lrs_.size(); ++g) out.push_back(optimizer_.lr(g));
  return out;
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  if (step_size < 1)
    throw Error("StepLR: step_size must be >= 1, got " + std::to_string(step_size));
  if (!(gamma >= 0)) throw Error("StepLR: gamma must be >= 0, got " + std::to_string(gamma));
}

double StepLR::lr_at(double base_lr, int64_t epoch) const {
  return base_lr * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min)
    : LRScheduler(optimizer), t_max_(t_max), eta_min_(eta_min) {
  if (t_max < 1) throw Error("CosineAnnealingLR: t_max must be >= 1, got " + std::to_string(t_max));
  if (!(eta_min >= 0))
    throw Error("CosineAnnealingLR: eta_min must be >= 0, got " + std::to_string(eta_min));
}

double CosineAnnealingLR::lr_at(double base_lr, int64_t epoch) const {
  const double pi = 3.14159265358979323846;
  return eta_min_ +
         (base_lr - eta_min_) *
             (1 + std::cos(pi * static_cast<double>(epoch) / static_cast<double>(t_max_))) / 2;
}

}  // namespace eigrad::optim
