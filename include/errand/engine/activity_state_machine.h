// The activity execution state machine, as pure functions: (record, event,
// now) → changed record + effects, or an error that leaves the record as it
// was. No I/O and no clock reads, so every transition is testable with a fake
// clock. Shards apply it, persist the record, then perform the effects.
//
// Behaviour follows Temporal's chasm/lib/activity statemachine.go; see
// shared/spec/temporal-semantics.md §1.
#ifndef ERRAND_ENGINE_ACTIVITY_STATE_MACHINE_H_
#define ERRAND_ENGINE_ACTIVITY_STATE_MACHINE_H_

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "errand/engine/activity_options.h"
#include "errand/store/activity_record.h"

namespace errand::engine {

using store::ActivityRecord;
using store::ActivityStatus;
using store::ApiStatus;
using store::StatusName;

// A worker's poll matched the task for `stamp`.
struct StartAttempt {
  int64_t stamp = 0;
  std::string identity;
  std::string sdk_name;
  std::string sdk_version;
};

struct RecordHeartbeat {
  std::optional<temporal::api::common::v1::Payloads> details;
};

struct CompleteAttempt {
  temporal::api::common::v1::Payloads result;
  std::string identity;
  // By-ID completion may finish an activity no worker has started.
  bool by_id = false;
};

struct FailAttempt {
  std::optional<temporal::api::failure::v1::Failure> failure;
  std::optional<temporal::api::common::v1::Payloads> last_heartbeat_details;
  std::string identity;
};

struct CancelAttempt {  // the worker acknowledges a cancel request
  std::optional<temporal::api::common::v1::Payloads> details;
  std::string identity;
};

struct RequestCancel {
  std::string request_id;
  std::string reason;
  std::string identity;
};

struct Terminate {
  std::string request_id;
  std::string reason;
  std::string identity;
};

// Operator commands (shared/spec §1.9). Each carries the request ID that
// makes a repeat a no-op. Random jitter is drawn by the caller, so that the
// transition stays a pure function: `delay` is the drawn amount.
struct Pause {
  std::string request_id;
  std::string reason;
  std::string identity;
};

struct Unpause {
  std::string request_id;
  std::string identity;
  absl::Duration delay = absl::ZeroDuration();
};

struct Reset {
  std::string request_id;
  std::string identity;
  bool keep_paused = false;
  bool reset_heartbeat = false;
  bool restore_original_options = false;
  absl::Duration delay = absl::ZeroDuration();
};

// Either `paths` (a parsed update mask) names the fields of `options` to
// take, or `restore_original` brings back the options captured at start.
struct UpdateOptions {
  std::string request_id;
  std::string identity;
  temporal::api::activity::v1::ActivityOptions options;
  std::vector<OptionPath> paths;
  bool restore_original = false;
};

enum class TimerKind {
  kDispatch,         // start delay or retry backoff over: hand to matching
  kScheduleToStart,  // per attempt, from its dispatch time
  kStartToClose,     // per attempt, from its start
  kHeartbeat,        // from the attempt's start or its last heartbeat
  kScheduleToClose,  // once per execution
};

// A deadline the shard must watch. Timers are derived from the persisted
// record (see TimersFor). Each carries the stamp of the attempt it was made
// for (0: the whole execution), and a timer whose attempt has moved on is
// ignored when it fires; the shard also drops them early, when the attempt
// moves on or the run closes. The schedule-to-close timer (stamp 0) is
// checked against the deadline the record holds when it fires, since an
// options update may move it. Closed runs have no timers: retention is the
// retention sweeper's (engine/retention_sweeper.h).
struct Timer {
  TimerKind kind;
  absl::Time deadline;
  int64_t stamp = 0;
};

// A timer reached its deadline.
struct TimerFired {
  TimerKind kind;
  int64_t stamp = 0;
};

using ActivityEvent =
    std::variant<StartAttempt, RecordHeartbeat, CompleteAttempt, FailAttempt,
                 CancelAttempt, RequestCancel, Terminate, TimerFired, Pause,
                 Unpause, Reset, UpdateOptions>;

// What the shard must do once the changed record is durable.
struct Effects {
  // Hand the current attempt to matching now.
  bool dispatch = false;
  // The event changed nothing (an idempotent repeat): no write needed.
  bool unchanged = false;
  // Deadlines to watch from now on.
  std::vector<Timer> timers;
};

// Every deadline an open record is waiting on; used to rebuild timers after a
// restart. Empty for a closed record.
std::vector<Timer> TimersFor(const ActivityRecord& record);

// The Scheduled transition for a newly created record whose identity,
// options and inputs are filled in: attempt 1, first dispatch.
Effects ScheduleNew(ActivityRecord& record, absl::Time now);

// Applies `event` to `record`. On error the record is unchanged.
// kAborted means "stale task": the matched task no longer applies.
absl::StatusOr<Effects> Apply(ActivityRecord& record,
                              const ActivityEvent& event, absl::Time now);

bool IsTerminal(ActivityStatus status);
// STARTED, CANCEL_REQUESTED, PAUSE_REQUESTED or RESET_REQUESTED: a worker
// holds an attempt.
bool HasAttemptInProgress(ActivityStatus status);

// The wait before the retry of attempt `attempt` (1-based, the one that just
// failed): initial × coefficient^(attempt−1), capped at the maximum interval.
absl::Duration RetryInterval(
    const temporal::api::common::v1::RetryPolicy& policy, int32_t attempt);

// Temporal's retryability rule for an attempt failure.
bool IsRetryable(const temporal::api::failure::v1::Failure* failure,
                 const temporal::api::common::v1::RetryPolicy& policy);

// "activity not found for ID: <id>", NOT_FOUND with a NotFoundFailure.
absl::Status ActivityNotFound(absl::string_view activity_id);

}  // namespace errand::engine

#endif  // ERRAND_ENGINE_ACTIVITY_STATE_MACHINE_H_
