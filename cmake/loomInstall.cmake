# Install rules: headers, the exported loom::loom target and a relocatable package config,
# so that find_package(loom) works from any prefix.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/loom DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS loom loom_native EXPORT loomTargets)
install(EXPORT loomTargets NAMESPACE loom:: DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/loom)
# loom::mpi in its own file, which loomConfig.cmake loads only when the consumer finds MPI too.
if(TARGET loom_mpi)
  install(TARGETS loom_mpi EXPORT loomMpiTargets)
  install(EXPORT loomMpiTargets NAMESPACE loom:: DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/loom)
endif()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/loomConfig.cmake.in
  ${PROJECT_BINARY_DIR}/loomConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/loom)
# Header-only and architecture independent: the version check ignores pointer size.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/loomConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/loomConfig.cmake ${PROJECT_BINARY_DIR}/loomConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/loom)
