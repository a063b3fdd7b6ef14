# Builds and runs the consumer project. -DMODE=find_package installs loom from BUILD_DIR into a
# temporary prefix first; -DMODE=subdirectory points the consumer at the source tree.
set(work ${BUILD_DIR}/consumer-${MODE})
if(NOT EXPECT_MPI)
  set(EXPECT_MPI OFF)
endif()
file(REMOVE_RECURSE ${work})
if(MODE STREQUAL "find_package")
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${work}/prefix
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(rc)
    message(FATAL_ERROR "cmake --install failed")
  endif()
  set(configure_args -DCMAKE_PREFIX_PATH=${work}/prefix)
else()
  set(configure_args -DLOOM_CONSUMER_SUBDIRECTORY=ON -DLOOM_SOURCE_DIR=${SOURCE_DIR})
endif()
foreach(step
    "${CMAKE_COMMAND};-S;${SOURCE_DIR}/tests/consumer;-B;${work}/build;-DCMAKE_BUILD_TYPE=Release;-DLOOM_CONSUMER_EXPECT_MPI=${EXPECT_MPI};${configure_args}"
    "${CMAKE_COMMAND};--build;${work}/build;-j2"
    "${work}/build/consumer"
    "${work}/build/consumer_split")
  execute_process(COMMAND ${step} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(rc)
    message(FATAL_ERROR "step failed: ${step}\n${out}")
  endif()
endforeach()
message(STATUS "${out}")
# With EXPECT_MPI, the loom::mpi program too (a job of one, without mpiexec).
if(EXPECT_MPI)
  execute_process(COMMAND ${work}/build/consumer_mpi RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(rc)
    message(FATAL_ERROR "consumer_mpi failed:\n${out}")
  endif()
  message(STATUS "${out}")
endif()
