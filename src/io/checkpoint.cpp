#include "eigrad/io/checkpoint.hpp"

#include <locale>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "eigrad/error.hpp"

namespace eigrad::io {

namespace {

using optim::Settings;

constexpr const char* kVersionKey = "eigrad.checkpoint";
constexpr const char* kModel = "model.";
constexpr const char* kOptimizerState = "optimizer.state.";

// Doubles as decimal text with 17 significant digits, which reads back to the same double, in
// the classic locale whatever the host process set.
std::string text_of(double v) {
  std::ostringstream os;
  os.imbue(std::locale::classic());
  os.precision(17);
  os << v;
  return os.str();
}

// Every module of the tree with its own generator, by qualified name ("" for the root).
template <class T>
std::vector<std::pair<std::string, Generator*>> module_generators(nn::BasicModule<T>& root) {
  std::vector<std::pair<std::string, Generator*>> out;
  std::vector<std::pair<std::string, nn::BasicModule<T>*>> stack{{"", &root}};
  while (!stack.empty()) {
    auto [name, m] = stack.back();
    stack.pop_back();
    if (Generator* g = m->generator()) out.emplace_back(name, g);
    const auto children = m->named_children();
    for (auto it = children.rbegin(); it != children.rend(); ++it)
      stack.emplace_back(name.empty() ? it->first : name + "." + it->first, it->second.get());
  }
  return out;
}

bool reserved(const std::string& key) {
  for (const char* p : {"eigrad.", "optimizer.", "scheduler.", "generator", "module_generator."})
    if (key.compare(0, std::string(p).size(), p) == 0) return true;
  return false;
}

// Reads the metadata of a checkpoint, naming the key and the file in every error.
class Reader {
 public:
  Reader(const Metadata& m, std::string op) : m_(m), op_(std::move(op)) {}
  bool has(const std::string& key) const { return m_.count(key) != 0; }
  const std::string& text(const std::string& key) const {
    const auto it = m_.find(key);
    if (it == m_.end()) throw Error(op_ + "the key '" + key + "' is missing");
    return it->second;
  }
  double number(const std::string& key) const {
    const std::string& s = text(key);
    std::istringstream is(s);
    is.imbue(std::locale::classic());
    double v = 0;
    std::string rest;
    if (!(is >> v) || (is >> rest))
      throw Error(op_ + "the key '" + key + "' holds '" + s + "', which is not a number");
    return v;
  }
  int64_t count(const std::string& key) const {
    const double v = number(key);
    if (!(v >= 0 && v <= 9.0e15 && v == static_cast<double>(static_cast<int64_t>(v))))
      throw Error(op_ + "the key '" + key + "' must be a count (an integer >= 0), got " +
                  text(key));
    return static_cast<int64_t>(v);
  }
  // The keys under `prefix` (prefix removed), for the options of a group or schedule.
  Settings settings(const std::string& prefix, const std::set<std::string>& skip = {}) const {
    Settings out;
    for (auto it = m_.lower_bound(prefix);
         it != m_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      const std::string name = it->first.substr(prefix.size());
      if (name.find('.') != std::string::npos || skip.count(name)) continue;
      out.emplace_back(name, number(it->first));
    }
    return out;
  }

 private:
  const Metadata& m_;
  std::string op_;
};

}  // namespace

template <class T>
void save_checkpoint(const std::string& path, const nn::BasicModule<T>& model,
                     const optim::BasicOptimizer<T>& optimizer, const optim::LRScheduler* scheduler,
                     const Generator* generator, const Metadata& metadata) {
  Metadata meta;
  for (const auto& [key, value] : metadata) {
    if (reserved(key))
      throw Error("save_checkpoint: the metadata key '" + key +
                  "' is reserved (keys starting with eigrad., optimizer., scheduler., generator "
                  "or module_generator. hold the training state); choose another");
    meta[key] = value;
  }
  meta[kVersionKey] = "1";

  NamedTensors tensors = to_named_tensors(model.state_dict(), kModel);
  const optim::OptimizerStateDict<T> o = optimizer.state_dict();
  for (const auto& [name, tensor] : o.state) tensors.emplace_back(kOptimizerState + name, tensor);
  meta["optimizer.type"] = o.type;
  meta["optimizer.param_groups"] = std::to_string(o.param_groups.size());
  for (size_t g = 0; g < o.param_groups.size(); ++g) {
    const std::string prefix = "optimizer.param_groups." + std::to_string(g) + ".";
    meta[prefix + "params"] = std::to_string(o.param_groups[g].params);
    for (const auto& [name, value] : o.param_groups[g].options)
      meta[prefix + name] = text_of(value);
  }

  if (scheduler) {
    const optim::LRSchedulerStateDict s = scheduler->state_dict();
    meta["scheduler.type"] = s.type;
    meta["scheduler.last_epoch"] = std::to_string(s.last_epoch);
    meta["scheduler.base_lrs"] = std::to_string(s.base_lrs.size());
    for (size_t g = 0; g < s.base_lrs.size(); ++g) {
      meta["scheduler.base_lrs." + std::to_string(g)] = text_of(s.base_lrs[g]);
      meta["scheduler.last_lrs." + std::to_string(g)] = text_of(s.last_lrs[g]);
    }
    for (const auto& [name, value] : s.options) meta["scheduler.options." + name] = text_of(value);
  }
  if (generator) meta["generator"] = generator->state();
  // Only read: the generators are reached through the non-const tree walk.
  for (const auto& [name, g] : module_generators(const_cast<nn::BasicModule<T>&>(model)))
    meta["module_generator." + (name.empty() ? std::string("(root)") : name)] = g->state();

  save_safetensors(path, tensors, meta);
}

template <class T>
Metadata load_checkpoint(const std::string& path, nn::BasicModule<T>& model,
                         optim::BasicOptimizer<T>& optimizer, optim::LRScheduler* scheduler,
                         Generator* generator) {
  const std::string op = "load_checkpoint: " + path + ": ";
  const Checkpoint c = load_safetensors(path);
  const Reader r(c.metadata, op);
  if (!r.has(kVersionKey))
    throw Error(op + "the key '" + std::string(kVersionKey) +
                "' is missing: this is not a training checkpoint from save_checkpoint (a plain "
                "state dict loads with io::load_into)");
  if (r.text(kVersionKey) != "1")
    throw Error(op + "the key '" + std::string(kVersionKey) + "' is '" + r.text(kVersionKey) +
                "'; this version of eigrad reads version 1");

  // ---- every part read and checked before anything changes ----
  nn::NamedTensors<T> model_state;
  optim::OptimizerStateDict<T> o;
  for (const NamedTensor& t : c.tensors) {
    const bool in_model = t.name.compare(0, 6, kModel) == 0;
    const bool in_optimizer = t.name.compare(0, 16, kOptimizerState) == 0;
    if (!in_model && !in_optimizer)
      throw Error(op + "the tensor '" + t.name + "' belongs to no part (expected names starting " +
                  "with 'model.' or 'optimizer.state.')");
  }
  model_state = c.pairs<T>(kModel);
  o.state = c.pairs<T>(kOptimizerState);
  o.type = r.text("optimizer.type");
  const int64_t groups = r.count("optimizer.param_groups");
  if (groups != static_cast<int64_t>(optimizer.group_count()))
    throw Error(op + "the key 'optimizer.param_groups' is " + std::to_string(groups) +
                " group(s) but the optimizer has " + std::to_string(optimizer.group_count()));
  for (int64_t g = 0; g < groups; ++g) {
    const std::string prefix = "optimizer.param_groups." + std::to_string(g) + ".";
    o.param_groups.push_back({r.count(prefix + "params"), r.settings(prefix, {"params"})});
  }

  optim::LRSchedulerStateDict s;
  if (r.has("scheduler.type") != (scheduler != nullptr))
    throw Error(op + (scheduler ? "a scheduler was given but the file has none (the key "
                                  "'scheduler.type' is missing)"
                                : "the file holds a scheduler's state (key 'scheduler.type') "
                                  "but no scheduler was given"));
  if (scheduler) {
    s.type = r.text("scheduler.type");
    const double epoch = r.number("scheduler.last_epoch");
    s.last_epoch = static_cast<int64_t>(epoch);
    if (static_cast<double>(s.last_epoch) != epoch)
      throw Error(op + "the key 'scheduler.last_epoch' must be an integer, got " +
                  r.text("scheduler.last_epoch"));
    const int64_t n = r.count("scheduler.base_lrs");
    for (int64_t g = 0; g < n; ++g) {
      s.base_lrs.push_back(r.number("scheduler.base_lrs." + std::to_string(g)));
      s.last_lrs.push_back(r.number("scheduler.last_lrs." + std::to_string(g)));
    }
    s.options = r.settings("scheduler.options.");
  }

  if (r.has("generator") != (generator != nullptr))
    throw Error(op + (generator ? "a generator was given but the file has none (the key "
                                  "'generator' is missing)"
                                : "the file holds a generator's state (key 'generator') but no "
                                  "generator was given"));
  Generator check;
  if (generator) {
    try {
      check.set_state(r.text("generator"));
    } catch (const Error& e) {
      throw Error(op + "the key 'generator': " + e.what());
    }
  }
  const auto owned = module_generators(model);
  std::set<std::string> expected;
  for (const auto& [name, g] : owned) {
    const std::string key = "module_generator." + (name.empty() ? std::string("(root)") : name);
    expected.insert(key);
    try {
      check.set_state(r.text(key));
    } catch (const Error& e) {
      throw Error(op + "the key '" + key + "' (the model's module " + name + "): " + e.what());
    }
  }
  for (const auto& [key, value] : c.metadata)
    if (key.compare(0, 17, "module_generator.") == 0 && !expected.count(key))
      throw Error(op + "the key '" + key + "' names no module of the model that has a generator");

  // ---- applied in order; a failure rolls back what was already loaded ----
  const nn::StateDict<T> live = model.state_dict();
  nn::NamedTensors<T> model_before;
  for (const auto& e : live) model_before.emplace_back(e.name, e.tensor.clone());
  const optim::OptimizerStateDict<T> optimizer_before = optimizer.state_dict();
  int applied = 0;
  try {
    model.load_state_dict(model_state);
    ++applied;
    optimizer.load_state_dict(o);
    ++applied;
    if (scheduler) scheduler->load_state_dict(s);
  } catch (const Error& e) {
    if (applied >= 1) model.load_state_dict(model_before);
    if (applied >= 2) optimizer.load_state_dict(optimizer_before);
    throw Error(op + e.what());
  }
  // Checked above: these cannot fail.
  if (generator) generator->set_state(r.text("generator"));
  for (const auto& [name, g] : owned)
    g->set_state(r.text("module_generator." + (name.empty() ? std::string("(root)") : name)));

  return c.metadata;
}

template void save_checkpoint(const std::string&, const nn::BasicModule<float>&,
                              const optim::BasicOptimizer<float>&, const optim::LRScheduler*,
                              const Generator*, const Metadata&);
template void save_checkpoint(const std::string&, const nn::BasicModule<double>&,
                              const optim::BasicOptimizer<double>&, const optim::LRScheduler*,
                              const Generator*, const Metadata&);
template Metadata load_checkpoint(const std::string&, nn::BasicModule<float>&,
                                  optim::BasicOptimizer<float>&, optim::LRScheduler*, Generator*);
template Metadata load_checkpoint(const std::string&, nn::BasicModule<double>&,
                                  optim::BasicOptimizer<double>&, optim::LRScheduler*, Generator*);

}  // namespace eigrad::io
