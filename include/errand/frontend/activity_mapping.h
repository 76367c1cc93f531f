// Shapes Errand's activity records into the Temporal API messages clients and
// workers read, and encodes/decodes the opaque tokens.
#ifndef ERRAND_FRONTEND_ACTIVITY_MAPPING_H_
#define ERRAND_FRONTEND_ACTIVITY_MAPPING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "errand/store/activity_record.h"
#include "temporal/api/activity/v1/message.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace errand::frontend {

struct InfoOptions {
  bool include_heartbeat_details = false;
  bool include_last_failure = false;
};

void FillActivityInfo(const store::ActivityRecord& record, absl::Time now,
                      const InfoOptions& options,
                      temporal::api::activity::v1::ActivityExecutionInfo* info);

// The poll response a worker gets for a started attempt.
void FillActivityTask(
    const store::ActivityRecord& record, const std::string& namespace_name,
    temporal::api::workflowservice::v1::PollActivityTaskQueueResponse* task);

std::string EncodeTaskToken(const store::ActivityRecord& record);
// INVALID_ARGUMENT with Temporal's messages for a missing or undecodable
// token, or one minted for another namespace.
absl::StatusOr<store::TaskToken> DecodeTaskToken(
    const std::string& bytes, const std::string& namespace_id);

std::string EncodeLongPollToken(const store::ActivityRecord& record);
absl::StatusOr<store::LongPollToken> DecodeLongPollToken(
    const std::string& bytes);

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_ACTIVITY_MAPPING_H_
