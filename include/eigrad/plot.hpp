#pragma once
// eigrad::plot (link eigrad::plot): an RGB canvas with a bitmap font written as PNG, decision
// regions and line plots, for the examples and whoever wants a quick picture. Kept out of the
// core and of eigrad::io so that neither carries drawing code.
#include "eigrad/plot/image.hpp"
#include "eigrad/plot/plots.hpp"
