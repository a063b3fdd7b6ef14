#pragma once
// Opt-in separate compilation of loom's float and double machinery, for programs with several
// translation units. loom is header-only, so by default every unit that trains a Sequential<float>
// instantiates (and optimises) the whole model, its layers and the GEMM kernels again. Instead:
//
//   - compile every unit with LOOM_EXTERN_TEMPLATES defined (e.g. target_compile_definitions): the
//     declarations below tell the compiler that these instantiations exist elsewhere;
//   - in exactly one unit, define LOOM_INSTANTIATE_TEMPLATES before including <loom/loom.hpp>: that
//     unit holds the explicit instantiations for everyone (and pays their compile time once).
//
// loom.hpp includes this header last, so nothing else is needed. Both macros off (the default) keeps
// the plain header-only behaviour.
#include "loom/losses/cross_entropy.hpp"
#include "loom/losses/mse.hpp"
#include "loom/model/full_batch_fit.hpp"
#include "loom/optim/adam.hpp"
#include "loom/optim/sgd.hpp"
#include "loom/model/sequential.hpp"

#if defined(LOOM_INSTANTIATE_TEMPLATES)
#define LOOM_TEMPLATE_FOR(T)  // explicit instantiation definitions
#elif defined(LOOM_EXTERN_TEMPLATES)
#define LOOM_TEMPLATE_FOR(T) extern  // explicit instantiation declarations
#endif

#ifdef LOOM_TEMPLATE_FOR
#define LOOM_INSTANTIATIONS(T)                                                                                       \
    LOOM_TEMPLATE_FOR(T) template class loom::Sequential<T>;                                                         \
    LOOM_TEMPLATE_FOR(T) template class loom::Conv2D<T>;                                                             \
    LOOM_TEMPLATE_FOR(T) template class loom::MaxPool2D<T>;                                                          \
    LOOM_TEMPLATE_FOR(T) template class loom::Dense<T>;                                                              \
    LOOM_TEMPLATE_FOR(T) template class loom::Flatten<T>;                                                            \
    LOOM_TEMPLATE_FOR(T) template class loom::Dropout<T>;                                                            \
    LOOM_TEMPLATE_FOR(T) template class loom::Softmax<T>;                                                            \
    LOOM_TEMPLATE_FOR(T) template class loom::Activation<T, loom::activation::TanhFn>;                               \
    LOOM_TEMPLATE_FOR(T) template class loom::Activation<T, loom::activation::SigmoidFn>;                            \
    LOOM_TEMPLATE_FOR(T) template class loom::Activation<T, loom::activation::ReluFn>;                               \
    LOOM_TEMPLATE_FOR(T) template class loom::LayerRegistry<T>;                                                      \
    LOOM_TEMPLATE_FOR(T) template class loom::LocalTrainStep<T>;                                                     \
    LOOM_TEMPLATE_FOR(T) template class loom::FullBatchObjective<T>;                                                 \
    LOOM_TEMPLATE_FOR(T) template loom::History loom::run_training<T>(                                               \
        loom::Sequential<T>&, const loom::Samples<T>&, loom::TensorView<const T>, const loom::ValidationData<T>*,     \
        const loom::FitOptions&, std::vector<loom::CallbackRef>, loom::TrainStep<T>&);                              \
    LOOM_TEMPLATE_FOR(T) template loom::History loom::fit_with_split<T>(                                             \
        loom::Sequential<T>&, const loom::Samples<T>&, loom::TensorView<const T>, const loom::FitOptions&,            \
        const std::vector<loom::CallbackRef>&, loom::TrainStep<T>*);                                                \
    LOOM_TEMPLATE_FOR(T) template loom::LbfgsResult loom::fit_full_batch<T>(                                         \
        loom::Sequential<T>&, const loom::Samples<T>&, loom::TensorView<const T>, const loom::FullBatchOptions&);   \
    LOOM_TEMPLATE_FOR(T) template void loom::gemm<T>(loom::Transpose, loom::Transpose, std::size_t, std::size_t,     \
                                                     std::size_t, T, const T*, std::size_t, const T*, std::size_t, T, \
                                                     T*, std::size_t);                                                \
    LOOM_TEMPLATE_FOR(T) template void loom::gemm<T>(loom::Transpose, loom::Transpose, std::size_t, std::size_t,     \
                                                     std::size_t, T, const std::uint8_t*, std::size_t, const T*,      \
                                                     std::size_t, T, T*, std::size_t);

LOOM_INSTANTIATIONS(float)
LOOM_INSTANTIATIONS(double)
// The losses and optimizers are not templates on T, but their bodies are: once for both types.
LOOM_TEMPLATE_FOR(float) template class loom::OptimizerImpl<loom::Adam>;
LOOM_TEMPLATE_FOR(float) template class loom::OptimizerImpl<loom::SGD>;
LOOM_TEMPLATE_FOR(float) template class loom::LossImpl<loom::CrossEntropy>;
LOOM_TEMPLATE_FOR(float) template class loom::LossImpl<loom::MSE>;

#undef LOOM_INSTANTIATIONS
#undef LOOM_TEMPLATE_FOR
#endif
