// Including the umbrella header and nothing else (bench/compile_time/measure.sh).
#include <loom/loom.hpp>
