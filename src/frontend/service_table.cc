#include "errand/frontend/service_table.h"

#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
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

}  // namespace

absl::Time UnaryCall::deadline() const {
  const auto deadline = context_->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
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

ServiceTable::ServiceTable(const google::protobuf::ServiceDescriptor* service)
    : service_(service) {
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
  return m->index();
}

}  // namespace errand::frontend
