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

LRSchedulerStateDict LRScheduler::state_dict() const {
  return {type_name(), epoch_, base_lrs_, last_lr(), settings()};
}

void LRScheduler::load_state_dict(const LRSchedulerStateDict& state) {
  const std::string op = type_name() + "::load_state_dict: the key '";
  if (state.type != type_name())
    throw Error(op + "type' is '" + state.type + "': the state dict is of " +
                (state.type.empty() ? std::string("no schedule") : "a schedule " + state.type) +
                ", not of " + type_name());
  if (state.last_epoch < 0)
    throw Error(op + "last_epoch' must be >= 0, got " + std::to_string(state.last_epoch));
  if (state.base_lrs.size() != base_lrs_.size())
    throw Error(op + "base_lrs' has " + std::to_string(state.base_lrs.size()) +
                " rate(s) but the optimizer has " + std::to_string(base_lrs_.size()) +
                " parameter group(s)");
  for (size_t g = 0; g < state.base_lrs.size(); ++g)
    if (!(state.base_lrs[g] >= 0))
      throw Error(op + "base_lrs." + std::to_string(g) + "' must be >= 0, got " +
                  std::to_string(state.base_lrs[g]));
  use_settings(state.options, op, false);
  use_settings(state.options, op, true);
  epoch_ = state.last_epoch;
  base_lrs_ = state.base_lrs;
}

namespace {
// The values of `names` in `settings`, which must hold exactly those names.
std::vector<double> settings_values(const Settings& settings, const std::vector<std::string>& names,
                                    const std::string& where) {
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  std::vector<double> out(names.size());
  std::vector<bool> seen(names.size(), false);
  for (const auto& [name, value] : settings) {
    size_t k = 0;
    while (k < names.size() && names[k] != name) ++k;
    if (k == names.size())
      throw Error(where + "options." + name + "' is not an option of the schedule (it has " + list +
                  ")");
    if (seen[k]) throw Error(where + "options." + name + "' appears twice");
    seen[k] = true;
    out[k] = value;
  }
  for (size_t k = 0; k < names.size(); ++k)
    if (!seen[k]) throw Error(where + "options." + names[k] + "' is missing (" + list + ")");
  return out;
}

// A count saved as a double: an integer >= 1.
int64_t positive_count(double value, const std::string& where, const std::string& name) {
  if (!(value >= 1 && value <= 9.0e15 && value == std::floor(value)))
    throw Error(where + "options." + name + "' must be an integer >= 1, got " +
                std::to_string(value));
  return static_cast<int64_t>(value);
}
}  // namespace

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  if (step_size < 1)
    throw Error("StepLR: step_size must be >= 1, got " + std::to_string(step_size));
  if (!(gamma >= 0)) throw Error("StepLR: gamma must be >= 0, got " + std::to_string(gamma));
}

double StepLR::lr_at(double base_lr, int64_t epoch) const {
  return base_lr * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

Settings StepLR::settings() const {
  return {{"step_size", static_cast<double>(step_size_)}, {"gamma", gamma_}};
}

void StepLR::use_settings(const Settings& settings, const std::string& where, bool apply) {
  const std::vector<double> v = settings_values(settings, {"step_size", "gamma"}, where);
  const int64_t step_size = positive_count(v[0], where, "step_size");
  if (!(v[1] >= 0)) throw Error(where + "options.gamma' must be >= 0, got " + std::to_string(v[1]));
  if (apply) {
    step_size_ = step_size;
    gamma_ = v[1];
  }
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

Settings CosineAnnealingLR::settings() const {
  return {{"t_max", static_cast<double>(t_max_)}, {"eta_min", eta_min_}};
}

void CosineAnnealingLR::use_settings(const Settings& settings, const std::string& where,
                                     bool apply) {
  const std::vector<double> v = settings_values(settings, {"t_max", "eta_min"}, where);
  const int64_t t_max = positive_count(v[0], where, "t_max");
  if (!(v[1] >= 0))
    throw Error(where + "options.eta_min' must be >= 0, got " + std::to_string(v[1]));
  if (apply) {
    t_max_ = t_max;
    eta_min_ = v[1];
  }
}

}  // namespace eigrad::optim
