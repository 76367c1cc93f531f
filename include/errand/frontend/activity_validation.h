// Request validation and normalization for the activity RPCs, with the codes
// and messages Temporal's frontend uses (shared/spec/temporal-semantics.md §2).
#ifndef ERRAND_FRONTEND_ACTIVITY_VALIDATION_H_
#define ERRAND_FRONTEND_ACTIVITY_VALIDATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "errand/common/limits.h"
#include "errand/engine/activity_engine.h"
#include "errand/engine/activity_options.h"
#include "errand/store/records.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace errand::frontend {

// Checks and normalizes a start request into what the engine stores:
// timeouts resolved, retry policy defaults filled, request ID assigned.
absl::StatusOr<engine::StartRequest> ValidateStart(
    const temporal::api::workflowservice::v1::StartActivityExecutionRequest&
        request,
    const store::NamespaceRecord& ns);

// activity_id required and bounded; run_id empty or a UUID.
absl::Status ValidateActivityId(absl::string_view activity_id);
absl::Status ValidateRunId(absl::string_view run_id);
// A task queue name (engine/activity_options.h). A poll checks it before it
// may wait, so a waiting poll never holds an over-long name.
using engine::ValidateTaskQueueName;
// The jitter of an unpause or reset (one call's or a batch's): not
// negative, with seconds and nanos of one sign.
absl::Status ValidateJitter(const google::protobuf::Duration& jitter);

// The request ID a call is taken under: the caller's, or a fresh one when
// it sent none, so that calls without one are never taken for repeats (as
// in Temporal's frontend).
std::string RequestIdOrNew(const std::string& given);

// request_id and identity bounded.
absl::Status ValidateRequestIdAndIdentity(absl::string_view request_id,
                                          absl::string_view identity);

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_ACTIVITY_VALIDATION_H_
