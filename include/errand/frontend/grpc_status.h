#ifndef ERRAND_FRONTEND_GRPC_STATUS_H_
#define ERRAND_FRONTEND_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace errand::frontend {

// The one place internal errors become gRPC statuses. The code and message
// carry over; any Temporal error detail attached with errand::WithDetail is
// packed into a google.rpc.Status in grpc-status-details-bin, where every SDK
// looks for it.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_GRPC_STATUS_H_
