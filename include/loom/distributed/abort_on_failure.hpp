#pragma once
// The fault boundary of loom's MPI functions. A collective needs every rank: if one rank throws while
// the others wait in MPI_Allreduce, they would wait forever. So the parts of a distributed fit in
// which a rank may fail on its own (its share of the data, callbacks, file writes) run inside
// abort_on_failure, which prints the failing rank's message to stderr and ends the whole job with
// MPI_Abort (non-zero exit status on every rank, as mpirun reports).
//
// Errors that every rank reaches together, because they are decided from values all ranks share
// (data that differs between ranks, a non-finite global loss), are thrown as ordinary loom::Error on
// every rank instead: the caller can catch them and the job goes on. Code that throws such an error
// marks it with AgreedFailure so that the boundary lets it through.
#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include "loom/core/error.hpp"
#include "loom/distributed/communicator.hpp"

namespace loom::mpi {

// Whether an error thrown now would be thrown alike on every rank (see above): set by code around
// the parts that run on values all ranks share.
class AgreedFailure {
public:
    void mark(bool agreed = true) { agreed_ = agreed; }
    bool agreed() const { return agreed_; }

private:
    bool agreed_ = false;
};

// Prints "loom::mpi: rank r of p: <what>: <message> [<id>]" to stderr and aborts the job.
[[noreturn]] inline void abort_job(const Communicator& comm, const char* what, const std::string& message, const char* id) {
    std::fprintf(stderr, "loom::mpi: rank %d of %d: %s failed: %s [%s]; aborting the job\n", comm.rank(), comm.size(), what,
                 message.c_str(), id);
    std::fflush(stderr);
    MPI_Abort(comm.handle(), 1);
    std::terminate();  // MPI_Abort does not return; this is for the compiler
}

// Runs body(); an exception that escapes it ends the job (see above) unless `agreed` was marked or
// the job has one rank (nobody can be left waiting, so the caller gets the exception).
template <class Body>
decltype(auto) abort_on_failure(const Communicator& comm, const char* what, Body&& body,
                                const AgreedFailure* agreed = nullptr) {
    const bool rethrow = comm.size() == 1;
    try {
        return std::forward<Body>(body)();
    } catch (const Error& e) {
        if (rethrow || (agreed && agreed->agreed())) throw;
        abort_job(comm, what, e.what(), e.id());
    } catch (const std::exception& e) {
        if (rethrow || (agreed && agreed->agreed())) throw;
        abort_job(comm, what, e.what(), "std::exception");
    } catch (...) {
        if (rethrow || (agreed && agreed->agreed())) throw;
        abort_job(comm, what, "an exception of unknown type", "unknown");
    }
}

}  // namespace loom::mpi
