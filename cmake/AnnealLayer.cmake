# anneal_layer(NAME DEPS ...): the static library anneal_NAME from NAME/*.cpp,
# with its headers installed under include/anneal/NAME/.
set(ANNEAL_LAYERS "")
function(anneal_layer name)
  cmake_parse_arguments(L "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${name}/*.cpp)
  add_library(anneal_${name} STATIC ${sources})
  target_include_directories(anneal_${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:include/anneal>)
  target_link_libraries(anneal_${name} PUBLIC ${L_DEPS} PRIVATE $<BUILD_INTERFACE:anneal_warnings>)
  target_compile_features(anneal_${name} PUBLIC cxx_std_20)
  set_property(GLOBAL APPEND PROPERTY ANNEAL_LAYERS ${name})
endfunction()
