# Generates C++ messages and gRPC service code for the Temporal API from the
# descriptors carried by the pinned `temporalio` Python wheel (see
# scripts/temporal_api_descriptors.py). No upstream .proto file is stored in
# this repository.

find_program(PROTOC protoc REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

set(ERRAND_PYTHON "$ENV{HOME}/.cache/errand/venv/bin/python"
    CACHE FILEPATH "Python with the pinned temporalio wheel (scripts/setup.sh creates it)")
if(NOT EXISTS "${ERRAND_PYTHON}")
  message(FATAL_ERROR "ERRAND_PYTHON=${ERRAND_PYTHON} does not exist; run scripts/setup.sh first")
endif()

set(TEMPORAL_API_DIR "${CMAKE_BINARY_DIR}/temporal_api")
set(TEMPORAL_API_DESC "${TEMPORAL_API_DIR}/temporal_api.desc")
set(TEMPORAL_API_FILES "${TEMPORAL_API_DIR}/temporal_api.files")
file(MAKE_DIRECTORY "${TEMPORAL_API_DIR}/gen")

# The descriptor set is small and quick to produce; doing it at configure time
# tells CMake which sources protoc will write.
set(_desc_script "${CMAKE_SOURCE_DIR}/scripts/temporal_api_descriptors.py")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             "${_desc_script}" "${CMAKE_SOURCE_DIR}/tests/compat/python/requirements.lock")
execute_process(
  COMMAND "${ERRAND_PYTHON}" "${_desc_script}" "${TEMPORAL_API_DESC}" "${TEMPORAL_API_FILES}"
  RESULT_VARIABLE _desc_result)
if(NOT _desc_result EQUAL 0)
  message(FATAL_ERROR "could not extract the Temporal API descriptors")
endif()
file(STRINGS "${TEMPORAL_API_FILES}" TEMPORAL_PROTO_FILES)

set(TEMPORAL_GRPC_FILES
    temporal/api/workflowservice/v1/service.proto
    temporal/api/operatorservice/v1/service.proto)

set(_srcs "")
foreach(_proto IN LISTS TEMPORAL_PROTO_FILES)
  string(REGEX REPLACE "\\.proto$" "" _stem "${_proto}")
  list(APPEND _srcs "${TEMPORAL_API_DIR}/gen/${_stem}.pb.cc")
endforeach()
set(_grpc_srcs "")
foreach(_proto IN LISTS TEMPORAL_GRPC_FILES)
  string(REGEX REPLACE "\\.proto$" "" _stem "${_proto}")
  list(APPEND _grpc_srcs "${TEMPORAL_API_DIR}/gen/${_stem}.grpc.pb.cc")
endforeach()

add_custom_command(
  OUTPUT ${_srcs}
  COMMAND "${PROTOC}" "--descriptor_set_in=${TEMPORAL_API_DESC}"
          "--cpp_out=${TEMPORAL_API_DIR}/gen" ${TEMPORAL_PROTO_FILES}
  DEPENDS "${TEMPORAL_API_DESC}"
  COMMENT "Generating C++ for the Temporal API"
  VERBATIM)
add_custom_command(
  OUTPUT ${_grpc_srcs}
  COMMAND "${PROTOC}" "--descriptor_set_in=${TEMPORAL_API_DESC}"
          "--grpc_out=${TEMPORAL_API_DIR}/gen"
          "--plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN}" ${TEMPORAL_GRPC_FILES}
  DEPENDS "${TEMPORAL_API_DESC}"
  COMMENT "Generating gRPC services for the Temporal API"
  VERBATIM)

# Its own target so that ccache and incremental builds keep it out of the way.
add_library(temporal_api STATIC ${_srcs} ${_grpc_srcs})
target_include_directories(temporal_api SYSTEM PUBLIC "${TEMPORAL_API_DIR}/gen")
target_compile_options(temporal_api PRIVATE -Wno-deprecated-declarations -w)
target_link_libraries(temporal_api PUBLIC protobuf::libprotobuf gRPC::grpc++)

# Errand's own messages (persisted records, task tokens) may import the
# Temporal API; protoc reads those imports from the same descriptor set.
function(errand_proto_library target)
  set(_out "${CMAKE_BINARY_DIR}/errand_proto")
  file(MAKE_DIRECTORY "${_out}")
  set(_gen "")
  set(_abs "")
  foreach(_proto IN LISTS ARGN)
    string(REGEX REPLACE "\\.proto$" "" _stem "${_proto}")
    list(APPEND _gen "${_out}/${_stem}.pb.cc" "${_out}/${_stem}.pb.h")
    list(APPEND _abs "${CMAKE_SOURCE_DIR}/proto/${_proto}")
  endforeach()
  add_custom_command(
    OUTPUT ${_gen}
    COMMAND "${PROTOC}" "--descriptor_set_in=${TEMPORAL_API_DESC}"
            "--proto_path=${CMAKE_SOURCE_DIR}/proto" "--cpp_out=${_out}" ${ARGN}
    DEPENDS ${_abs} "${TEMPORAL_API_DESC}"
    COMMENT "Generating C++ for Errand's own messages"
    VERBATIM)
  add_library(${target} STATIC ${_gen})
  target_include_directories(${target} SYSTEM PUBLIC "${_out}")
  target_link_libraries(${target} PUBLIC temporal_api)
endfunction()
