// Errors as values. Components return absl::Status; a Temporal error detail
// (the message SDKs decode from grpc-status-details-bin) rides along as a
// status payload keyed by its Any type URL. frontend/grpc_status.h is the one
// place that turns these into gRPC statuses.
#ifndef ERRAND_COMMON_ERRORS_H_
#define ERRAND_COMMON_ERRORS_H_

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace errand {

// The type URL prefix every SDK strips before looking at a detail's type.
inline constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com/";

// Attaches `detail` to `status`; SDKs look at the first detail only, so attach
// at most one.
absl::Status WithDetail(absl::Status status,
                        const google::protobuf::Message& detail);

// NOT_FOUND "Namespace <name> is not found." + NamespaceNotFoundFailure.
absl::Status NamespaceNotFoundError(absl::string_view name);

// ALREADY_EXISTS `Namespace "<name>" already exists` +
// NamespaceAlreadyExistsFailure.
absl::Status NamespaceAlreadyExistsError(absl::string_view name);

// NOT_FOUND with a NotFoundFailure detail, as Temporal's server always sends.
absl::Status NotFoundError(absl::string_view message);

// RESOURCE_EXHAUSTED with a ResourceExhaustedFailure detail: a namespace's
// limit on things running at once (cause CONCURRENT_LIMIT, scope NAMESPACE).
absl::Status NamespaceConcurrencyLimitError(absl::string_view message);

}  // namespace errand

#endif  // ERRAND_COMMON_ERRORS_H_
