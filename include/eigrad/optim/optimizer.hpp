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

/// Named hyperparameters, e.g. {{"lr", 0.1}, {"momentum", 0.9}, ...}; a flag is 0 or 1.
using Settings = std::vector<std::pair<std::string, double>>;

/// One parameter group in a state dict: how many parameters it has and its options.
struct ParamGroupState {
  int64_t params = 0;
  Settings options;
};

/// Everything an optimizer needs to continue exactly (PyTorch's optimizer.state_dict()): its type,
/// each group's size and hyperparameters (lr included, as a schedule left it), and the
/// per-parameter state named "<group>.<index>.<key>" ("0.3.exp_avg", "1.0.momentum_buffer";
/// Adam's per-parameter step count is "<group>.<index>.step", shape []).
template <class T>
struct OptimizerStateDict {
  std::string type;  ///< "SGD", "Adam", "AdamW"
  std::vector<ParamGroupState> param_groups;
  NamedTensors<T> state;
};

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

  /// The type, the groups' sizes and options, and the per-parameter state as copies, named
  /// "<group>.<index>.<key>" (e.g. "0.3.exp_avg", "1.0.momentum_buffer"); scalar entries such as
  /// Adam's "step" have shape []. Parameters that have no state yet (never stepped) have no
  /// entries.
  OptimizerStateDict<T> state_dict() const;
  /// Restores the options and the state. The type and the groups' sizes must match, each group
  /// must give exactly the optimizer's option names with valid values, and the state is checked
  /// as below; everything is checked before anything changes, so on error (which names the
  /// offending key) the optimizer is unchanged.
  void load_state_dict(const OptimizerStateDict<T>& state);
  /// Replaces the per-parameter state alone (the options stay), as checkpoints that predate the
  /// options stored it. Every name must be one state_dict() could produce for this optimizer,
  /// with the right shape, each parameter's keys all present or all absent, no name twice; on
  /// error the optimizer is unchanged.
  void load_state_dict(const NamedTensors<T>& state);
  /// The options of a group as named values ("lr", "momentum", ...).
  virtual Settings settings(size_t group = 0) const = 0;

 protected:
  explicit BasicOptimizer(std::string name) : name_(std::move(name)) {}

  struct StateKey {
    std::string name;
    bool scalar;  ///< shape [] rather than the parameter's shape
  };
  /// The keys of one parameter's state in a group, in the order of state(group, i).
  virtual std::vector<StateKey> state_keys(size_t group) const = 0;

  /// Throws unless `settings` holds exactly the group's option names with valid values; `where`
  /// begins the messages. set_settings applies settings that passed the check.
  virtual void check_settings(size_t group, const Settings& settings,
                              const std::string& where) const = 0;
  virtual void set_settings(size_t group, const Settings& settings) = 0;

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
  Settings settings(size_t group = 0) const override {
    this->check_group("settings", group);
    return options_[group].settings();
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
  void check_settings(size_t group, const Settings& settings,
                      const std::string& where) const override {
    options_from(options_[group], settings, where);
  }
  void set_settings(size_t group, const Settings& settings) override {
    options_[group] = options_from(options_[group], settings, "");
  }
  /// `base` with every named option set; the names must be exactly base.settings()'s.
  Options options_from(Options base, const Settings& settings, const std::string& where) const {
    const Settings expected = base.settings();
    std::string names;
    for (const auto& e : expected) names += (names.empty() ? "" : ", ") + e.first;
    for (size_t i = 0; i < settings.size(); ++i) {
      const std::string& name = settings[i].first;
      for (size_t j = 0; j < i; ++j)
        if (settings[j].first == name) throw Error(where + name + "' appears twice");
      if (base.set(name, settings[i].second)) continue;
      for (const auto& e : expected)
        if (e.first == name)
          throw Error(where + name + "' is a flag: it must be 0 or 1, got " +
                      std::to_string(settings[i].second));
      throw Error(where + name + "' is not an option of " + this->type_name() + " (it has " +
                  names + ")");
    }
    for (const auto& e : expected) {
      bool found = false;
      for (const auto& s : settings) found = found || s.first == e.first;
      if (!found)
        throw Error(where + e.first + "' is missing (" + this->type_name() + " has " + names + ")");
    }
    try {
      base.validate(this->type_name());
    } catch (const Error& e) {
      throw Error(where.substr(0, where.rfind('.')) + "': " + e.what());
    }
    return base;
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
