#pragma once
// Optimizers after torch.optim: parameter groups with their own options, state kept per parameter
// (indexed by group and position, never by a data address), step() under NoGradGuard skipping
// parameters without a gradient, and the state exportable as named tensors for checkpoints.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "eigrad/tensor.hpp"

namespace eigrad::optim {

template <class T>
using NamedTensors = std::vector<std::pair<std::string, BasicTensor<T>>>;

/// What training loops and learning-rate schedules need, whatever the dtype.
class Optimizer {
 public:
  Optimizer() = default;
  virtual ~Optimizer() = default;
  /// A copy would share the state tensors (they are handles) and schedules hold references.
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  /// Updates every parameter that has a gradient.
  virtual void step() = 0;
  /// Drops the gradients of all parameters (PyTorch's zero_grad(set_to_none=true)).
  virtual void zero_grad() = 0;
  virtual size_t group_count() const = 0;
  double lr(size_t group = 0) const;
  void set_lr(double lr, size_t group);
  void set_lr(double lr);  ///< every group

 protected:
  virtual double group_lr(size_t group) const = 0;
  virtual void set_group_lr(size_t group, double lr) = 0;
  void check_group(const char* op, size_t group) const;
};

/// Parameters that share options.
template <class T, class Options>
struct ParamGroup {
  std::vector<BasicTensor<T>> params;
  Options options;
};

template <class T>
class BasicOptimizer : public Optimizer {
 public:
  using Tensor = BasicTensor<T>;

  void zero_grad() override;
  size_t group_count() const override { return params_.size(); }
  const std::vector<Tensor>& params(size_t group = 0) const;
  const std::string& type_name() const { return name_; }  // "SGD", "Adam", ...

  /// The per-parameter state as copies, named "<group>.<index>.<key>" (e.g. "0.3.exp_avg",
  /// "1.0.momentum_buffer"); scalar entries such as Adam's "step" have shape []. Parameters that
  /// have no state yet (never stepped) have no entries.
  NamedTensors<T> state_dict() const;
  /// Replaces the whole state by `state`. Every name must be one state_dict() could produce for
  /// this optimizer, with the right shape, each parameter's keys all present or all absent, no
  /// name twice; everything is checked before anything changes, so on error the optimizer is
  /// unchanged.
  void load_state_dict(const NamedTensors<T>& state);

 protected:
  explicit BasicOptimizer(std::string name) : name_(std::move(name)) {}

  struct StateKey {
    std::string name;
    bool scalar;  ///< shape [] rather than the parameter's shape
  };
  /// The keys of one parameter's state in a group, in the order of state(group, i).
  virtual std::vector<StateKey> state_keys(size_t group) const = 0;

  /// Adds a group; parameters must be defined leaves, none already in a group.
  void add_group(std::vector<Tensor> params);
  bool has_state(size_t group, size_t i) const { return !state_[group][i].empty(); }
  /// The state of parameter i of a group, created as zeros on first use.
  std::vector<Tensor>& state(size_t group, size_t i);

  std::vector<std::vector<Tensor>> params_;              ///< [group][i]
  std::vector<std::vector<std::vector<Tensor>>> state_;  ///< [group][i][key]

 private:
  std::string name_;
};

/// The options of each group: validated at construction; lr can change later (schedules).
template <class T, class Options>
class OptimizerWithOptions : public BasicOptimizer<T> {
 public:
  using Group = ParamGroup<T, Options>;
  const Options& options(size_t group = 0) const {
    this->check_group("options", group);
    return options_[group];
  }

 protected:
  OptimizerWithOptions(std::string name, std::vector<Group> groups)
      : BasicOptimizer<T>(std::move(name)) {
    size_t total = 0;
    for (Group& g : groups) {
      g.options.validate(this->type_name());
      total += g.params.size();
      this->add_group(std::move(g.params));
      options_.push_back(g.options);
    }
    if (total == 0)
      throw Error(this->type_name() + ": got an empty parameter list; pass model->parameters()");
  }
  double group_lr(size_t group) const override { return options_[group].lr(); }
  void set_group_lr(size_t group, double lr) override {
    Options changed = options_[group];
    changed.lr(lr);
    changed.validate(this->type_name());
    options_[group] = changed;
  }

  std::vector<Options> options_;
};

extern template class BasicOptimizer<float>;
extern template class BasicOptimizer<double>;

}  // namespace eigrad::optim
