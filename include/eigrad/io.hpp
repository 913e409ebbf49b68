#pragma once
// eigrad::io (link eigrad::io): IDX data sets, safetensors checkpoints, PNG images and plots,
// progress bars.
#include "eigrad/eigrad.hpp"
#include "eigrad/io/idx.hpp"
#include "eigrad/io/image.hpp"
#include "eigrad/io/plot.hpp"
#include "eigrad/io/progress.hpp"
#include "eigrad/io/safetensors.hpp"
