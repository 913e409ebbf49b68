#pragma once
// The differentiable ops, one header per family (after ATen's native/ folder); each op's
// backward is written beside its forward in the family's src/ops/*.cpp.
#include "eigrad/ops/compare.hpp"
#include "eigrad/ops/convolution.hpp"
#include "eigrad/ops/elementwise.hpp"
#include "eigrad/ops/indexing.hpp"
#include "eigrad/ops/linalg.hpp"
#include "eigrad/ops/normalization.hpp"
#include "eigrad/ops/pooling.hpp"
#include "eigrad/ops/recurrent.hpp"
#include "eigrad/ops/reduce.hpp"
#include "eigrad/ops/sequence.hpp"
#include "eigrad/ops/tensor_shape.hpp"
#include "eigrad/ops/upsample.hpp"
