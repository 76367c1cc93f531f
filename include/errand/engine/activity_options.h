// An activity's options (task queue, timeouts, retry policy, priority, start
// delay): how they are normalized and checked, at start and again after an
// options update merges new values in. The one owner of these rules, so that
// a start and an update can never disagree (Temporal re-validates the merged
// options the same way it validates a start: shared/spec §1.9, §2).
#ifndef ERRAND_ENGINE_ACTIVITY_OPTIONS_H_
#define ERRAND_ENGINE_ACTIVITY_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/field_mask.pb.h"
#include "temporal/api/activity/v1/message.pb.h"
#include "temporal/api/common/v1/message.pb.h"

namespace errand::engine {

using ActivityOptions = temporal::api::activity::v1::ActivityOptions;

// Fills the retry policy's unset fields with Temporal's defaults (1 s
// initial interval, coefficient 2, maximum 100 × initial) and checks it.
absl::Status NormalizeRetryPolicy(temporal::api::common::v1::RetryPolicy* p);

// Resolves the four timeouts against each other (schedule-to-close caps
// schedule-to-start and start-to-close; heartbeat is capped by
// start-to-close; each at most 100 years) and requires a start-to-close or
// schedule-to-close timeout. The IDs go into that error's message.
absl::Status NormalizeTimeouts(ActivityOptions* options,
                               absl::string_view activity_id,
                               absl::string_view activity_type);

// Priority key non-negative, fairness key at most 64 bytes, weight >= 0.
// `prefix` starts the error message ("invalid priorities: " for a start).
absl::Status ValidatePriority(const temporal::api::common::v1::Priority& p,
                              absl::string_view prefix);

// A task queue name, as starts, polls and updates name it: set, and at most
// kMaxIdLength bytes ("taskQueue length exceeds limit").
absl::Status ValidateTaskQueueName(absl::string_view name);

// "invalid StartDelay: negative duration" for a negative delay.
absl::Status ValidateStartDelay(const google::protobuf::Duration& delay);

// The fields an options update may name, as update-mask paths in
// snake_case ("retry_policy.maximum_attempts"); camelCase is accepted too.
enum class OptionPath {
  kTaskQueueName,
  kScheduleToCloseTimeout,
  kScheduleToStartTimeout,
  kStartToCloseTimeout,
  kHeartbeatTimeout,
  kPriority,
  kPriorityKey,
  kFairnessKey,
  kFairnessWeight,
  kRetryPolicy,
  kInitialInterval,
  kBackoffCoefficient,
  kMaximumInterval,
  kMaximumAttempts,
  kStartDelay,
};

// INVALID_ARGUMENT for an empty mask or a path outside the list above
// (`unsupported update_mask path: "<p>"`).
absl::StatusOr<std::vector<OptionPath>> ParseUpdateMask(
    const google::protobuf::RepeatedPtrField<std::string>& paths);

// Copies the fields named by `paths` from `update` into `options`, then
// normalizes and checks the result as a start would. On error `options` is
// unchanged.
absl::Status MergeOptions(ActivityOptions& options,
                          const ActivityOptions& update,
                          const std::vector<OptionPath>& paths,
                          absl::string_view activity_id,
                          absl::string_view activity_type);

// An options update as requested: either `paths` (a parsed update mask)
// name the fields of `options` to take, or `restore_original` asks for the
// options captured at start.
struct OptionsUpdate {
  ActivityOptions options;
  std::vector<OptionPath> paths;
  bool restore_original = false;
};

// Checks an update request's options and mask (null: not set) as Temporal's
// frontend does: mask and restore exclusive, every path supported, the
// values a named path takes well formed.
absl::StatusOr<OptionsUpdate> ParseOptionsUpdate(
    const ActivityOptions* options, const google::protobuf::FieldMask* mask,
    bool restore_original);

}  // namespace errand::engine

#endif  // ERRAND_ENGINE_ACTIVITY_OPTIONS_H_
