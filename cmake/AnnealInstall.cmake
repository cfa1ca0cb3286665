# `cmake --install` puts headers under include/anneal/<layer>/ (plus
# include/anneal/anneal.hpp), the static layer libraries under lib/, and the
# package config under lib/cmake/anneal/, so that a consumer writes
#   find_package(anneal REQUIRED)
#   target_link_libraries(app PRIVATE anneal::anneal)
# tests/consumer/ is such a consumer; the install_consumer test builds it.
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
# anneal_warnings is not installed: the layers link it PRIVATE through
# $<BUILD_INTERFACE:...>, so it never reaches the exported link interface and
# a consumer keeps its own warning flags.
install(TARGETS ${targets} EXPORT annealTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT annealTargets NAMESPACE anneal:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/anneal)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/annealConfig.cmake.in
  ${PROJECT_BINARY_DIR}/annealConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/anneal)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/annealConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/annealConfig.cmake ${PROJECT_BINARY_DIR}/annealConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/anneal)
