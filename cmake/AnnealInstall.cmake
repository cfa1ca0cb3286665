include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_property(layers GLOBAL PROPERTY ANNEAL_LAYERS)
set(targets anneal)
foreach(layer IN LISTS layers)
  list(APPEND targets anneal_${layer})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/ DESTINATION include/anneal/${layer}
          FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/anneal.hpp DESTINATION include/anneal)
install(TARGETS ${targets} anneal_warnings EXPORT annealTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT annealTargets NAMESPACE anneal:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/anneal)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/annealConfig.cmake.in
  ${PROJECT_BINARY_DIR}/annealConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/anneal)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/annealConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/annealConfig.cmake ${PROJECT_BINARY_DIR}/annealConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/anneal)
