#pragma once
// eigrad::Error: the one exception type for every shape, dtype, argument and graph error.
#include <stdexcept>
#include <string>

namespace eigrad {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace eigrad
