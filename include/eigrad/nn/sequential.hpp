#pragma once
// Sequential: children applied in order, named "0", "1", ... (or as given).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "eigrad/nn/module.hpp"

namespace eigrad::nn {

template <class T>
class BasicSequential : public BasicModule<T> {
 public:
  using Tensor = BasicTensor<T>;
  using Ptr = typename BasicModule<T>::Ptr;

  BasicSequential() = default;
  template <class... M>
  explicit BasicSequential(std::shared_ptr<M>... modules) {
    (push_back(std::move(modules)), ...);
  }

  /// Appends a module named by its position.
  void push_back(Ptr module) { push_back(std::to_string(modules_.size()), std::move(module)); }
  void push_back(const std::string& name, Ptr module) {
    this->register_module(name, module);
    modules_.push_back(std::move(module));
  }

  Tensor forward(const Tensor& input) override {
    Tensor x = input;
    for (const Ptr& m : modules_) x = (*m)(x);  // through the children's hooks
    return x;
  }
  std::string type_name() const override { return "Sequential"; }
  std::shared_ptr<BasicModule<double>> make_double() const override {
    auto copy = std::make_shared<BasicSequential<double>>();
    for (const auto& [name, child] : this->named_children())
      copy->push_back(name, child->make_double());
    return copy;
  }

  size_t size() const { return modules_.size(); }
  /// The i-th module; throws when i is out of range.
  const Ptr& operator[](size_t i) const {
    if (i >= modules_.size())
      throw Error("Sequential: index " + std::to_string(i) + " is out of range for " +
                  std::to_string(modules_.size()) + " modules");
    return modules_[i];
  }
  /// The i-th module as type M (null if it is not an M).
  template <class M>
  std::shared_ptr<M> at(size_t i) const {
    return std::dynamic_pointer_cast<M>((*this)[i]);
  }

 private:
  std::vector<Ptr> modules_;
};

using Sequential = BasicSequential<float>;

}  // namespace eigrad::nn
