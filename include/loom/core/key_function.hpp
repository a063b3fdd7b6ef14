#pragma once
// Where the virtual tables of loom's non-template polymorphic classes (the losses and optimizers) are
// emitted. A class whose virtual functions are all inline has its table, and so every virtual function
// (Adam's update for float and double alike), compiled in every unit that constructs one. That is the
// header-only default. With LOOM_EXTERN_TEMPLATES (loom/instantiate.hpp) each such class declares its
// name() out of line, which makes it the class's "key function" in the Itanium C++ ABI: the table and
// the virtual functions are then compiled only where name() is defined, the one unit that defines
// LOOM_INSTANTIATE_TEMPLATES.
//
// (Declaring it out of line in header-only mode too, with an inline definition after the class, would
// make every unit that includes the header emit the table, used or not.)
#if defined(LOOM_INSTANTIATE_TEMPLATES) || defined(LOOM_EXTERN_TEMPLATES)
#define LOOM_KEY_FUNCTION_OUT_OF_LINE 1
#else
#define LOOM_KEY_FUNCTION_OUT_OF_LINE 0
#endif
