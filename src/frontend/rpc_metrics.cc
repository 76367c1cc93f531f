#include "errand/frontend/rpc_metrics.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace errand::frontend {
namespace {

metrics::LabelPairs Frontend() { return {{"service_name", "frontend"}}; }

constexpr absl::string_view kDetailPrefix =
    "type.googleapis.com/temporal.api.errordetails.v1.";

// Temporal names an error by its Go type, which is the error detail's type
// without "Failure" (ActivityExecutionAlreadyStartedFailure:
// "serviceerror_ActivityExecutionAlreadyStarted"); errors without a detail
// by their status code.
std::string ErrorTypeOf(const absl::Status& status) {
  std::string type;
  status.ForEachPayload([&type](absl::string_view url, const absl::Cord&) {
    absl::string_view name = url;
    if (type.empty() && absl::ConsumePrefix(&name, kDetailPrefix) &&
        absl::ConsumeSuffix(&name, "Failure") && !name.empty()) {
      type = absl::StrCat("serviceerror_", name);
    }
  });
  if (type.empty()) type = std::string(RpcMetrics::ErrorType(status.code()));
  return type;
}

}  // namespace

RpcMetrics::RpcMetrics(metrics::Registry* registry)
    : requests_(registry->AddCounter("service_requests", "Calls received.",
                                     {"namespace", "operation"}, Frontend())),
      errors_(registry->AddCounter(
          "service_error_with_type", "Calls answered with an error, by type.",
          {"error_type", "namespace", "operation"}, Frontend())),
      latency_(registry->AddHistogram(
          "service_latency", "Seconds from a call's arrival to its answer.",
          {"namespace", "operation"}, &metrics::LatencyBuckets(), Frontend())) {
}

absl::string_view RpcMetrics::ErrorType(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return "";
    case absl::StatusCode::kCancelled:
      return "serviceerror_Canceled";
    case absl::StatusCode::kInvalidArgument:
      return "serviceerror_InvalidArgument";
    case absl::StatusCode::kDeadlineExceeded:
      return "serviceerror_DeadlineExceeded";
    case absl::StatusCode::kNotFound:
      return "serviceerror_NotFound";
    case absl::StatusCode::kAlreadyExists:
      return "serviceerror_AlreadyExists";
    case absl::StatusCode::kPermissionDenied:
      return "serviceerror_PermissionDenied";
    case absl::StatusCode::kResourceExhausted:
      return "serviceerror_ResourceExhausted";
    case absl::StatusCode::kFailedPrecondition:
      return "serviceerror_FailedPrecondition";
    case absl::StatusCode::kAborted:
      return "serviceerror_Aborted";
    case absl::StatusCode::kOutOfRange:
      return "serviceerror_OutOfRange";
    case absl::StatusCode::kUnimplemented:
      return "serviceerror_Unimplemented";
    case absl::StatusCode::kInternal:
      return "serviceerror_Internal";
    case absl::StatusCode::kUnavailable:
      return "serviceerror_Unavailable";
    case absl::StatusCode::kDataLoss:
      return "serviceerror_DataLoss";
    case absl::StatusCode::kUnauthenticated:
      return "serviceerror_Unauthenticated";
    default:
      return "serviceerror_Unknown";
  }
}

void RpcMetrics::Record(absl::string_view method,
                        absl::string_view namespace_name,
                        const absl::Status& status, absl::Duration took) {
  // Temporal's tag for calls that name no namespace.
  if (namespace_name.empty()) namespace_name = "_unknown_";
  requests_.With({namespace_name, method}).Increment();
  if (!status.ok()) {
    errors_.With({ErrorTypeOf(status), namespace_name, method}).Increment();
  }
  latency_.With({namespace_name, method}).Observe(absl::ToDoubleSeconds(took));
}

}  // namespace errand::frontend
