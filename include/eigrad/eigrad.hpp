#pragma once
// eigrad: a small, fast autograd tensor engine on Eigen. Include this header for everything.
#include "eigrad/autograd.hpp"
#include "eigrad/error.hpp"
#include "eigrad/gradcheck.hpp"
#include "eigrad/ops.hpp"
#include "eigrad/random.hpp"
#include "eigrad/shape.hpp"
#include "eigrad/tensor.hpp"
