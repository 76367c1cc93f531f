// A gRPC service assembled at run time from its protobuf descriptor.
//
// Generated gRPC base classes answer unimplemented methods with UNIMPLEMENTED
// and an empty message, but the Go SDK and the Temporal CLI only tolerate an
// UNIMPLEMENTED whose message says "not implemented". Building the method
// table from the descriptor lets every method Errand does not serve answer
// "method <Name> not implemented", with no list to keep in sync by hand.
#ifndef ERRAND_FRONTEND_SERVICE_TABLE_H_
#define ERRAND_FRONTEND_SERVICE_TABLE_H_

#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <grpcpp/impl/service_type.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "errand/frontend/grpc_status.h"

namespace errand::frontend {

// One in-flight unary call. The handler calls Finish exactly once, from any
// thread; until then the response object stays valid. The object deletes
// itself when gRPC is done with the call.
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  explicit UnaryCall(grpc::CallbackServerContext* context)
      : context_(context) {}

  void Finish(const absl::Status& status) {
    grpc::ServerUnaryReactor::Finish(ToGrpcStatus(status));
  }

  // When the caller wants an answer by (gRPC deadline); InfiniteFuture if none.
  absl::Time deadline() const;
  const grpc::CallbackServerContext& context() const { return *context_; }

  // Runs `on_cancel` once if the caller goes away or its deadline passes,
  // immediately if that has already happened. Finish must still be called.
  void SetCancelCallback(std::function<void()> on_cancel);

 private:
  void OnCancel() override;
  void OnDone() override { delete this; }

  grpc::CallbackServerContext* const context_;
  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> on_cancel_ ABSL_GUARDED_BY(mu_);
};

class ServiceTable final : public grpc::Service {
 public:
  // A handler that answers at once.
  template <class Req, class Resp>
  using SyncHandler = std::function<absl::Status(const Req&, Resp*)>;
  // A handler that answers later (long polls) through UnaryCall::Finish.
  template <class Req, class Resp>
  using AsyncHandler = std::function<void(UnaryCall*, const Req&, Resp*)>;

  explicit ServiceTable(const google::protobuf::ServiceDescriptor* service);

  const google::protobuf::ServiceDescriptor* descriptor() const {
    return service_;
  }

  template <class Req, class Resp>
  void Handle(absl::string_view method, SyncHandler<Req, Resp> handler) {
    HandleAsync<Req, Resp>(
        method, [handler = std::move(handler)](UnaryCall* call, const Req& req,
                                               Resp* resp) {
          call->Finish(handler(req, resp));
        });
  }

  template <class Req, class Resp>
  void HandleAsync(absl::string_view method, AsyncHandler<Req, Resp> handler) {
    MarkMethodCallback(
        IndexOf(method, Req::descriptor(), Resp::descriptor()),
        new grpc::internal::CallbackUnaryHandler<Req, Resp>(
            [handler = std::move(handler)](grpc::CallbackServerContext* context,
                                           const Req* req, Resp* resp) {
              auto* call = new UnaryCall(context);
              handler(call, *req, resp);
              return call;
            }));
  }

 private:
  // Checks that `method` exists with these message types, so a typo fails at
  // start-up rather than on the first call.
  int IndexOf(absl::string_view method,
              const google::protobuf::Descriptor* request,
              const google::protobuf::Descriptor* response) const;

  const google::protobuf::ServiceDescriptor* const service_;
  std::deque<std::string> paths_;
};

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_SERVICE_TABLE_H_
