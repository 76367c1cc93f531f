// The one file that uses gRPC's internal API (grpc::internal), because its
// public API cannot do what ServiceTable needs:
// - a method table built at run time from a service descriptor, every method
//   on raw bytes: grpc::Service only takes methods as RpcServiceMethod
//   objects, and raw callback methods as CallbackUnaryHandler objects, both
//   internal (generated code uses them the same way);
// - the public alternative, grpc::CallbackGenericService, takes every
//   unregistered method of the whole server as one handler: the services
//   would not be registered by name, so server reflection (grpcurl, the
//   Temporal CLI's tooling) would not list them, and routing by method path
//   would be ours to write.
// Keep every other use of grpc::internal out of Errand.
#include "errand/frontend/service_table.h"

#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>

#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "spdlog/spdlog.h"

namespace errand::frontend {
namespace {

// Answers any method without a handler. Works on raw bytes, so it serves every
// method whatever its message types.
grpc::internal::MethodHandler* NewUnimplementedHandler(std::string name) {
  return new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer,
                                                  grpc::ByteBuffer>(
      [name = std::move(name)](grpc::CallbackServerContext* context,
                               const grpc::ByteBuffer*, grpc::ByteBuffer*) {
        auto* reactor = context->DefaultReactor();
        reactor->Finish(
            grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                         absl::StrCat("method ", name, " not implemented")));
        return reactor;
      });
}

// Temporal's server (grpc-go) words a failed decode "grpc: error
// unmarshalling request: <what the decoder said>".
absl::Status UnmarshalError(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("grpc: error unmarshalling request: ", what));
}

}  // namespace

// grpc-go answers a failed decode with INTERNAL. Errand answers
// INVALID_ARGUMENT: the request, not the server, is at fault, and SDKs retry
// INTERNAL but not INVALID_ARGUMENT, so a bad request fails at once.
absl::Status ParseRequest(const grpc::ByteBuffer& bytes,
                          google::protobuf::Message* request) {
  // A ByteBuffer copy shares the slices; readers need a mutable one.
  grpc::ByteBuffer buffer(bytes);
  {
    grpc::ProtoBufferReader reader(&buffer);
    if (!reader.status().ok()) {
      return UnmarshalError(reader.status().error_message());
    }
    if (request->ParseFromZeroCopyStream(&reader)) return absl::OkStatus();
  }
  // Only on failure: tell bytes that are not protobuf at all from a message
  // whose fields are framed well but hold something the type refuses.
  grpc::ProtoBufferReader again(&buffer);
  google::protobuf::UnknownFieldSet fields;
  if (!again.status().ok() || !fields.ParseFromZeroCopyStream(&again)) {
    return UnmarshalError("proto: cannot parse invalid wire-format data");
  }
  return UnmarshalError(absl::StrCat(
      "invalid ", request->GetDescriptor()->full_name(),
      ": a string field is not valid UTF-8, or a nested message is malformed "
      "or nested too deeply"));
}

namespace {

// The method of `request`: its type's name without "Request".
absl::string_view MethodOf(const google::protobuf::Message& request) {
  absl::string_view method = request.GetDescriptor()->name();
  absl::ConsumeSuffix(&method, "Request");
  return method;
}

// The request's namespace field, if it has one; `scratch` may hold it.
absl::string_view NamespaceOf(const google::protobuf::Message& request,
                              std::string* scratch) {
  const auto* field = request.GetDescriptor()->FindFieldByName("namespace");
  if (field == nullptr ||
      field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      field->is_repeated()) {
    return "";
  }
  return request.GetReflection()->GetStringReference(request, field, scratch);
}

}  // namespace

void CountRefused(RpcMetrics* metrics, absl::string_view method,
                  const google::protobuf::Message& request,
                  const absl::Status& status) {
  std::string scratch;
  metrics->Record(method, NamespaceOf(request, &scratch), status,
                  absl::ZeroDuration());
}

void UnaryCall::Finish(const absl::Status& status) {
  const bool log = spdlog::should_log(spdlog::level::debug);
  if (log || metrics_ != nullptr) {
    const absl::Duration took = clock_->Now() - started_;
    const absl::string_view method = MethodOf(*request_);
    std::string scratch;
    const absl::string_view ns = NamespaceOf(*request_, &scratch);
    if (metrics_ != nullptr) metrics_->Record(method, ns, status, took);
    if (log) {
      spdlog::debug("rpc {} namespace={} status={} {:.3f}ms",
                    std::string_view(method.data(), method.size()),
                    ns.empty() ? std::string_view("-")
                               : std::string_view(ns.data(), ns.size()),
                    absl::StatusCodeToString(status.code()),
                    absl::ToDoubleMilliseconds(took));
    }
  }
  if (!audit_method_.empty()) {
    LogAudit(*context_, audit_method_, *request_, audit_principal_, status);
  }
  if (!status.ok()) {
    grpc::ServerUnaryReactor::Finish(ToGrpcStatus(status));
    return;
  }
  bool own_buffer = false;
  grpc::ServerUnaryReactor::Finish(
      grpc::SerializationTraits<google::protobuf::Message>::Serialize(
          *response_, response_buffer_, &own_buffer));
}

absl::Time UnaryCall::deadline() const {
  const auto deadline = context_->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) {
    return absl::InfiniteFuture();
  }
  return clock_->Now() + (absl::FromChrono(deadline) - absl::Now());
}

void UnaryCall::SetCancelCallback(std::function<void()> on_cancel) {
  bool run_now = false;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) {
      run_now = true;
    } else {
      on_cancel_ = std::move(on_cancel);
    }
  }
  if (run_now) on_cancel();
}

void UnaryCall::OnCancel() {
  std::function<void()> callback;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    callback = std::move(on_cancel_);
  }
  if (callback) callback();
}

ServiceTable::ServiceTable(const google::protobuf::ServiceDescriptor* service,
                           const Clock* clock, RpcMetrics* metrics)
    : service_(service), clock_(clock), metrics_(metrics) {
  for (int i = 0; i < service->method_count(); ++i) {
    const auto* method = service->method(i);
    const std::string path =
        absl::StrCat("/", service->full_name(), "/", method->name());
    // gRPC keeps a const char* to the path; the deque never moves its strings.
    const std::string& stable_path = paths_.emplace_back(path);
    AddMethod(new grpc::internal::RpcServiceMethod(
        stable_path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
    MarkMethodRawCallback(i, NewUnimplementedHandler(method->name()));
  }
}

void ServiceTable::HandleRaw(int index, RawHandler handler) {
  MarkMethodRawCallback(
      index, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer,
                                                      grpc::ByteBuffer>(
                 std::move(handler)));
}

int ServiceTable::IndexOf(absl::string_view method,
                          const google::protobuf::Descriptor* request,
                          const google::protobuf::Descriptor* response) const {
  const auto* m = service_->FindMethodByName(std::string(method));
  if (m == nullptr || m->input_type() != request ||
      m->output_type() != response) {
    spdlog::critical("{} has no method {} with these message types",
                     service_->full_name(), std::string(method));
    std::abort();
  }
  if (!Classified(method)) {
    spdlog::critical("{} has no row in the role table (frontend/auth.cc)",
                     std::string(method));
    std::abort();
  }
  return m->index();
}

}  // namespace errand::frontend
