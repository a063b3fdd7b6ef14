#pragma once
// loom's optional MPI part (CMake target loom::mpi; loom/loom.hpp does not include it): training and
// tuning spread over the processes of an MPI job, on one machine or many. See docs/distributed.md.
//
//   loom::mpi::Environment env(argc, argv);          // MPI_Init_thread ... MPI_Finalize
//   auto world = loom::mpi::world();                 // world.rank(), world.size()
//   loom::mpi::cross_validate<float>(world, settings, make_model, fit_options, x, labels, folds);
//   loom::mpi::fit(world, net, x, labels, options);  // data-parallel minibatch training
//   loom::mpi::fit_full_batch(world, net, x, labels, full_batch_options);
#include "loom/distributed/abort_on_failure.hpp"
#include "loom/distributed/agreement.hpp"
#include "loom/distributed/bucketed_sum.hpp"
#include "loom/distributed/communicator.hpp"
#include "loom/distributed/cross_validation.hpp"
#include "loom/distributed/data_parallel_step.hpp"
#include "loom/distributed/environment.hpp"
#include "loom/distributed/fit.hpp"
#include "loom/distributed/full_batch_fit.hpp"
#include "loom/distributed/model_sync.hpp"
#include "loom/distributed/shard.hpp"
