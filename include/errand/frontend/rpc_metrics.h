// Per-RPC metrics with Temporal's frontend names: requests, errors by type
// and latency, tagged with the method ("operation") and namespace.
#ifndef ERRAND_FRONTEND_RPC_METRICS_H_
#define ERRAND_FRONTEND_RPC_METRICS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "errand/metrics/metrics.h"

namespace errand::frontend {

class RpcMetrics {
 public:
  explicit RpcMetrics(metrics::Registry* registry);

  // One finished call of `method` (e.g. "StartActivityExecution").
  void Record(absl::string_view method, absl::string_view namespace_name,
              const absl::Status& status, absl::Duration took);

  // Temporal's error_type tag for a failed call without an error detail:
  // "serviceerror_" and the status code's name in CamelCase
  // ("serviceerror_InvalidArgument"). With a detail, Record names it after
  // the detail's type ("serviceerror_ActivityExecutionAlreadyStarted").
  static absl::string_view ErrorType(absl::StatusCode code);

 private:
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Counter>& errors_;
  metrics::Family<metrics::Histogram>& latency_;
};

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_RPC_METRICS_H_
