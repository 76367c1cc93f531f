// A gRPC service assembled at run time from its protobuf descriptor.
//
// Generated gRPC base classes answer unimplemented methods with UNIMPLEMENTED
// and an empty message, but the Go SDK and the Temporal CLI only tolerate an
// UNIMPLEMENTED whose message says "not implemented". Building the method
// table from the descriptor lets every method Errand does not serve answer
// "method <Name> not implemented", with no list to keep in sync by hand.
//
// Every method is registered on raw bytes, and the table parses requests and
// serializes responses itself. gRPC's typed callback handlers answer a
// request that does not parse (random bytes, invalid UTF-8 in a string
// field) with UNIMPLEMENTED and no message, which SDKs take for a missing
// feature; here it is INVALID_ARGUMENT with a message that says so.
//
// gRPC's public API cannot build such a table, so service_table.cc uses a
// few of its internal classes (and is the only file that does; see there).
#ifndef ERRAND_FRONTEND_SERVICE_TABLE_H_
#define ERRAND_FRONTEND_SERVICE_TABLE_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "errand/common/clock.h"
#include "errand/frontend/auth.h"
#include "errand/frontend/grpc_status.h"
#include "errand/frontend/rpc_metrics.h"

namespace errand::frontend {

// One in-flight unary call. The handler calls Finish exactly once, from any
// thread; until then the response object stays valid. The object deletes
// itself when gRPC is done with the call, and with it the request and the
// response.
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  // `response_buffer` is where gRPC takes the answer's bytes from; Finish
  // fills it from `response`.
  UnaryCall(grpc::CallbackServerContext* context,
            grpc::ByteBuffer* response_buffer,
            std::unique_ptr<const google::protobuf::Message> request,
            std::unique_ptr<google::protobuf::Message> response,
            const Clock* clock, RpcMetrics* metrics)
      : clock_(clock),
        metrics_(metrics),
        context_(context),
        response_buffer_(response_buffer),
        request_(std::move(request)),
        response_(std::move(response)),
        started_(clock->Now()) {}

  // On OK, serializes the response and sends it; otherwise sends the status
  // alone, as gRPC drops the response of a failed call. Counts the call in
  // the RPC metrics, and at log level debug logs one line per call: method,
  // namespace, status and duration (never a payload).
  void Finish(const absl::Status& status);

  // When the caller wants an answer by (its gRPC deadline), on the server's
  // clock: now on that clock plus the time the caller has left.
  // InfiniteFuture if none.
  absl::Time deadline() const;
  const grpc::CallbackServerContext& context() const { return *context_; }

  // Runs `on_cancel` once if the caller goes away or its deadline passes,
  // immediately if that has already happened. Finish must still be called.
  void SetCancelCallback(std::function<void()> on_cancel);

  // Makes Finish write an audit line (LogAudit) for this call, naming
  // `principal` (empty with auth off) as the caller.
  void AuditAs(absl::string_view method, std::string principal) {
    audit_method_ = std::string(method);
    audit_principal_ = std::move(principal);
  }

 private:
  void OnCancel() override;
  void OnDone() override { delete this; }

  const Clock* const clock_;
  RpcMetrics* const metrics_;  // may be null
  grpc::CallbackServerContext* const context_;
  grpc::ByteBuffer* const response_buffer_;
  const std::unique_ptr<const google::protobuf::Message> request_;
  const std::unique_ptr<google::protobuf::Message> response_;
  const absl::Time started_;
  // Set before the handler runs, read by Finish: empty when not audited.
  std::string audit_method_;
  std::string audit_principal_;
  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> on_cancel_ ABSL_GUARDED_BY(mu_);
};

// Counts a call refused before its handler ran (a request that does not
// parse, or a caller not authorized) in the RPC metrics.
void CountRefused(RpcMetrics* metrics, absl::string_view method,
                  const google::protobuf::Message& request,
                  const absl::Status& status);

// Parses a request's bytes into `request`. A failure is INVALID_ARGUMENT in
// the words of Temporal's server ("grpc: error unmarshalling request: ...").
absl::Status ParseRequest(const grpc::ByteBuffer& bytes,
                          google::protobuf::Message* request);

class ServiceTable final : public grpc::Service {
 public:
  // A handler that answers at once.
  template <class Req, class Resp>
  using SyncHandler = std::function<absl::Status(const Req&, Resp*)>;
  // A handler that answers later (long polls) through UnaryCall::Finish.
  template <class Req, class Resp>
  using AsyncHandler = std::function<void(UnaryCall*, const Req&, Resp*)>;

  // `clock` is the one the handlers' waits run on (see UnaryCall::deadline).
  // Calls are counted in `metrics` when it is not null.
  explicit ServiceTable(const google::protobuf::ServiceDescriptor* service,
                        const Clock* clock = SystemClock::Get(),
                        RpcMetrics* metrics = nullptr);

  const google::protobuf::ServiceDescriptor* descriptor() const {
    return service_;
  }

  // Every handled call is first authorized by `authorizer` (see auth.h),
  // which must outlive the table. Call before the server starts; nullptr
  // (the default) lets every call through, unaudited.
  void SetAuthorizer(const Authorizer* authorizer) { authorizer_ = authorizer; }

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
    HandleRaw(
        IndexOf(method, Req::descriptor(), Resp::descriptor()),
        [this, handler = std::move(handler), clock = clock_, metrics = metrics_,
         method_name = std::string(method), policy = PolicyFor(method)](
            grpc::CallbackServerContext* context,
            const grpc::ByteBuffer* request_bytes,
            grpc::ByteBuffer* response_bytes) -> grpc::ServerUnaryReactor* {
          auto req = std::make_unique<Req>();
          absl::Status s = ParseRequest(*request_bytes, req.get());
          Caller caller;
          if (s.ok() && authorizer_ != nullptr) {
            s = authorizer_->Authorize(*context, method_name, policy, *req,
                                       &caller);
            if (!s.ok() && policy.audit) {
              LogAudit(*context, method_name, *req, caller.principal, s);
            }
          }
          if (!s.ok()) {
            if (metrics != nullptr) CountRefused(metrics, method_name, *req, s);
            grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
            reactor->Finish(ToGrpcStatus(s));
            return reactor;
          }
          auto resp = std::make_unique<Resp>();
          const Req& req_ref = *req;
          Resp* const resp_ptr = resp.get();
          // The call owns both messages until gRPC is done with it.
          auto* call = new UnaryCall(context, response_bytes, std::move(req),
                                     std::move(resp), clock, metrics);
          if (policy.audit) call->AuditAs(method_name, caller.principal);
          handler(call, req_ref, resp_ptr);
          return call;
        });
  }

 private:
  using RawHandler = std::function<grpc::ServerUnaryReactor*(
      grpc::CallbackServerContext*, const grpc::ByteBuffer*,
      grpc::ByteBuffer*)>;
  // Serves method `index` with `handler`, on the call's raw bytes.
  void HandleRaw(int index, RawHandler handler);
  // Checks that `method` exists with these message types, so a typo fails at
  // start-up rather than on the first call.
  int IndexOf(absl::string_view method,
              const google::protobuf::Descriptor* request,
              const google::protobuf::Descriptor* response) const;

  const google::protobuf::ServiceDescriptor* const service_;
  const Clock* const clock_;
  RpcMetrics* const metrics_;
  const Authorizer* authorizer_ = nullptr;
  std::deque<std::string> paths_;
};

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_SERVICE_TABLE_H_
