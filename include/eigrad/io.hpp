#pragma once
// eigrad::io (link eigrad::io): IDX data sets, safetensors checkpoints, progress bars. Pictures
// are in eigrad/plot.hpp (eigrad::plot).
#include "eigrad/eigrad.hpp"
#include "eigrad/io/checkpoint.hpp"
#include "eigrad/io/idx.hpp"
#include "eigrad/io/progress.hpp"
#include "eigrad/io/safetensors.hpp"
