// The one unit that instantiates loom's float and double machinery for the whole program
// (README, "Compiling several units"): every other unit is compiled with LOOM_EXTERN_TEMPLATES.
#define LOOM_INSTANTIATE_TEMPLATES
#include <loom/loom.hpp>
