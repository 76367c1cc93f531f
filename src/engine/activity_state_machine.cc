#include "errand/engine/activity_state_machine.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "errand/common/errors.h"
#include "errand/common/payloads.h"

namespace errand::engine {
namespace {

namespace failure_v1 = temporal::api::failure::v1;
namespace enums = temporal::api::enums::v1;
using store::FromProtoDuration;
using store::FromProtoTime;
using store::ToProtoDuration;
using store::ToProtoTime;

// limit.mutableStateActivityFailureSize.error: a retryable failure larger
// than this is kept in truncated form.
constexpr size_t kMaxStoredRetryableFailureBytes = 4 * 1024;

// The statuses Temporal's TimedOut, Terminated and CancelRequested
// transitions start from. Not simply "not terminal": UNSPECIFIED (a record
// not yet scheduled) is in none of their source lists.
bool IsOpen(ActivityStatus status) {
  return status == store::v1::ACTIVITY_STATUS_SCHEDULED ||
         status == store::v1::ACTIVITY_STATUS_PAUSED ||
         HasAttemptInProgress(status);
}

absl::Status FailedPrecondition(absl::string_view message,
                                ActivityStatus status) {
  return absl::FailedPreconditionError(
      absl::StrCat(message, StatusName(status)));
}

// No worker has started an attempt of this run yet: its start delay still
// holds (and may still be changed).
bool NeverStarted(const ActivityRecord& r) {
  return !r.has_first_started_time();
}

absl::Status InvalidTransition(ActivityStatus from) {
  return absl::FailedPreconditionError(
      absl::StrCat("invalid transition from ", StatusName(from)));
}

void Close(ActivityRecord& r, ActivityStatus status, absl::Time now) {
  r.set_status(status);
  *r.mutable_close_time() = ToProtoTime(now);
  r.clear_current_retry_interval();
}

// A failure kept for a later retry stays small; the final one is kept whole.
failure_v1::Failure TruncatedForRetry(const failure_v1::Failure& failure) {
  if (failure.ByteSizeLong() <= kMaxStoredRetryableFailureBytes) return failure;
  failure_v1::Failure cause;
  cause.set_message(
      failure.message().substr(0, kMaxStoredRetryableFailureBytes));
  cause.set_source(failure.source());
  failure_v1::Failure out;
  out.set_message("Failure exceeds size limit.");
  out.mutable_server_failure_info()->set_non_retryable(false);
  *out.mutable_cause() = std::move(cause);
  return out;
}

absl::Duration ScheduleToClose(const ActivityRecord& r) {
  return FromProtoDuration(r.options().schedule_to_close_timeout());
}

// The end of the start delay: the first attempt is not dispatched before.
absl::Time FirstDispatchFloor(const ActivityRecord& r) {
  return FromProtoTime(r.schedule_time()) +
         FromProtoDuration(r.options().start_delay());
}

// `t`, moved to the end of the start delay while no attempt has started
// (Temporal's dispatch lift for unpause, reset and options updates).
absl::Time AfterStartDelay(const ActivityRecord& r, absl::Time t) {
  return NeverStarted(r) ? std::max(t, FirstDispatchFloor(r)) : t;
}

// When the retry backoff in progress ends, if one is.
std::optional<absl::Time> RetryDueAt(const ActivityRecord& r) {
  if (!r.has_current_retry_interval()) return std::nullopt;
  return FromProtoTime(r.attempt_complete_time()) +
         FromProtoDuration(r.current_retry_interval());
}

absl::Time ScheduleToCloseDeadline(const ActivityRecord& r) {
  return FirstDispatchFloor(r) + ScheduleToClose(r);
}

absl::Duration Option(const google::protobuf::Duration& d) {
  return FromProtoDuration(d);
}

// The attempt's start counts as its first heartbeat.
absl::Time LastBeat(const ActivityRecord& r) {
  const absl::Time started = FromProtoTime(r.started_time());
  if (!r.has_last_heartbeat_time()) return started;
  return std::max(started, FromProtoTime(r.last_heartbeat_time()));
}

void AddScheduledAttemptTimers(const ActivityRecord& r,
                               std::vector<Timer>& timers) {
  const absl::Time dispatch = FromProtoTime(r.dispatch_time());
  timers.push_back({TimerKind::kDispatch, dispatch, r.stamp()});
  const absl::Duration s2s = Option(r.options().schedule_to_start_timeout());
  if (s2s > absl::ZeroDuration()) {
    timers.push_back({TimerKind::kScheduleToStart, dispatch + s2s, r.stamp()});
  }
}

// The running attempt's timers carry the current stamp, not the one it
// started with: an options update re-issues them under a new stamp (and
// the worker's token, which carries started_stamp, stays valid).
void AddStartedAttemptTimers(const ActivityRecord& r,
                             std::vector<Timer>& timers) {
  const absl::Duration stc = Option(r.options().start_to_close_timeout());
  if (stc > absl::ZeroDuration()) {
    timers.push_back({TimerKind::kStartToClose,
                      FromProtoTime(r.started_time()) + stc, r.stamp()});
  }
  const absl::Duration hb = Option(r.options().heartbeat_timeout());
  if (hb > absl::ZeroDuration()) {
    timers.push_back({TimerKind::kHeartbeat, LastBeat(r) + hb, r.stamp()});
  }
}

void AddScheduleToCloseTimer(const ActivityRecord& r,
                             std::vector<Timer>& timers) {
  if (ScheduleToClose(r) > absl::ZeroDuration()) {
    timers.push_back(
        {TimerKind::kScheduleToClose, ScheduleToCloseDeadline(r), 0});
  }
}

const char* TimeoutName(enums::TimeoutType type) {
  switch (type) {
    case enums::TIMEOUT_TYPE_START_TO_CLOSE:
      return "StartToClose";
    case enums::TIMEOUT_TYPE_SCHEDULE_TO_START:
      return "ScheduleToStart";
    case enums::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE:
      return "ScheduleToClose";
    case enums::TIMEOUT_TYPE_HEARTBEAT:
      return "Heartbeat";
    default:
      return "Unspecified";
  }
}

failure_v1::Failure TimeoutFailure(const ActivityRecord& r,
                                   enums::TimeoutType type) {
  failure_v1::Failure f;
  f.set_message(absl::StrCat("activity ", TimeoutName(type), " timeout"));
  auto* info = f.mutable_timeout_failure_info();
  info->set_timeout_type(type);
  if (r.has_heartbeat_details()) {
    *info->mutable_last_heartbeat_details() = r.heartbeat_details();
  }
  return f;
}

struct RetryDecision {
  enums::RetryState state = enums::RETRY_STATE_IN_PROGRESS;
  absl::Duration interval = absl::ZeroDuration();
  bool from_worker = false;  // the worker's next_retry_delay
};

// Temporal's tryReschedule: whether (and after how long) the attempt that
// just ended with `failure` gets another.
RetryDecision DecideRetry(const ActivityRecord& r,
                          const failure_v1::Failure* failure, absl::Time now) {
  const auto& policy = r.options().retry_policy();
  RetryDecision d;
  if (r.status() == store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED) {
    d.state = enums::RETRY_STATE_CANCEL_REQUESTED;
    return d;
  }
  if (policy.maximum_attempts() > 0 &&
      r.attempt() >= policy.maximum_attempts()) {
    d.state = enums::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED;
  } else {
    d.interval = RetryInterval(policy, r.attempt());
    if (failure && failure->has_application_failure_info() &&
        failure->application_failure_info().has_next_retry_delay()) {
      const absl::Duration worker_delay = FromProtoDuration(
          failure->application_failure_info().next_retry_delay());
      if (worker_delay > absl::ZeroDuration()) {
        d.interval = worker_delay;
        d.from_worker = true;
      }
    }
    if (ScheduleToClose(r) > absl::ZeroDuration() &&
        !(now + d.interval < ScheduleToCloseDeadline(r))) {
      d.state = enums::RETRY_STATE_TIMEOUT;
    }
  }
  if (!IsRetryable(failure, policy)) {
    d.state = enums::RETRY_STATE_NON_RETRYABLE_FAILURE;
  }
  return d;
}

// Records `failure` as what ended the attempt that is now over.
void RecordAttemptFailure(ActivityRecord& r, const failure_v1::Failure* failure,
                          absl::Time now) {
  if (failure) {
    *r.mutable_last_failure() = TruncatedForRetry(*failure);
  } else {
    r.clear_last_failure();
  }
  *r.mutable_last_failure_time() = ToProtoTime(now);
  *r.mutable_attempt_complete_time() = ToProtoTime(now);
}

// Starts the next attempt after `d.interval`; `failure` ended the last one.
// A run whose pause was requested lands in PAUSED instead, keeping the
// backoff for its unpause (AttemptFailedWhilePauseRequested).
Effects Reschedule(ActivityRecord& r, const failure_v1::Failure* failure,
                   const RetryDecision& d, absl::Time now) {
  const bool pause = r.status() == store::v1::ACTIVITY_STATUS_PAUSE_REQUESTED;
  const absl::Duration interval = d.interval;
  RecordAttemptFailure(r, failure, now);
  r.set_attempt(r.attempt() + 1);
  r.set_stamp(r.stamp() + 1);
  *r.mutable_current_retry_interval() = ToProtoDuration(interval);
  r.set_retry_interval_from_worker(d.from_worker);
  *r.mutable_dispatch_time() = ToProtoTime(now + interval);
  Effects effects;
  if (pause) {
    r.set_status(store::v1::ACTIVITY_STATUS_PAUSED);
    return effects;
  }
  r.set_status(store::v1::ACTIVITY_STATUS_SCHEDULED);
  AddScheduledAttemptTimers(r, effects.timers);
  return effects;
}

// The options captured at start, or INVALID_ARGUMENT if the run has none
// (it was started before Errand recorded them). The start delay comes back
// only while the first attempt has not started.
absl::StatusOr<temporal::api::activity::v1::ActivityOptions> OriginalOptions(
    const ActivityRecord& r) {
  const auto& original = r.original_options();
  if (original.task_queue().name().empty()) {
    return absl::InvalidArgumentError(
        "cannot restore original options: no original task queue was "
        "recorded for this activity");
  }
  if (FromProtoDuration(original.schedule_to_close_timeout()) <=
          absl::ZeroDuration() &&
      FromProtoDuration(original.start_to_close_timeout()) <=
          absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "cannot restore original options: no original schedule-to-close or "
        "start-to-close timeout was recorded for this activity");
  }
  temporal::api::activity::v1::ActivityOptions options = r.original_options();
  if (!NeverStarted(r)) {
    if (r.options().has_start_delay()) {
      *options.mutable_start_delay() = r.options().start_delay();
    } else {
      options.clear_start_delay();
    }
  }
  return options;
}

// Back to attempt 1 (Temporal's Reset and ResetAttemptFailed transitions):
// the retry backoff is dropped, and the heartbeat checkpoint and options
// are reset if asked. The caller sets the status.
void RestartAttempts(ActivityRecord& r, bool clear_heartbeat,
                     bool restore_options) {
  if (restore_options) {
    // Checked when the reset was accepted; a deferred one cannot fail here.
    if (auto original = OriginalOptions(r); original.ok()) {
      *r.mutable_options() = *std::move(original);
    }
  }
  if (clear_heartbeat) {
    r.clear_heartbeat_details();
    r.clear_last_heartbeat_time();
  }
  r.set_attempt(1);
  r.set_stamp(r.stamp() + 1);
  r.clear_current_retry_interval();
  r.set_retry_interval_from_worker(false);
  r.clear_deferred_reset();
}

// Dispatches the attempt a reset made, `delay` from now, but never before
// the start delay ends if no attempt has started yet.
Effects ScheduleResetAttempt(ActivityRecord& r, absl::Duration delay,
                             absl::Time now) {
  r.set_status(store::v1::ACTIVITY_STATUS_SCHEDULED);
  *r.mutable_dispatch_time() = ToProtoTime(AfterStartDelay(r, now + delay));
  Effects effects;
  AddScheduledAttemptTimers(r, effects.timers);
  AddScheduleToCloseTimer(r, effects.timers);
  return effects;
}

// The running attempt of a RESET_REQUESTED run ended other than by
// completing: the deferred reset is applied, whatever the retry policy says
// (ResetAttemptFailedToScheduled / ToPaused), at once and without jitter.
Effects LandDeferredReset(ActivityRecord& r, const failure_v1::Failure* failure,
                          absl::Time now) {
  const store::v1::DeferredReset reset = r.deferred_reset();
  RecordAttemptFailure(r, failure, now);
  RestartAttempts(r, reset.clear_heartbeat(), reset.restore_options());
  if (reset.keep_paused()) {
    r.set_status(store::v1::ACTIVITY_STATUS_PAUSED);
    r.clear_dispatch_time();
    Effects effects;
    AddScheduleToCloseTimer(r, effects.timers);
    return effects;
  }
  return ScheduleResetAttempt(r, absl::ZeroDuration(), now);
}

// S2S or S2C: the whole execution times out, whatever the retry policy.
Effects ExecutionTimedOut(ActivityRecord& r, enums::TimeoutType type,
                          absl::Time now) {
  failure_v1::Failure f = TimeoutFailure(r, type);
  if (r.has_last_failure()) *f.mutable_cause() = r.last_failure();
  const bool cancel_pending =
      r.status() == store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED;
  Close(r, store::v1::ACTIVITY_STATUS_TIMED_OUT, now);
  auto* outcome = r.mutable_outcome();
  *outcome->mutable_failure() = std::move(f);
  outcome->set_retry_state(cancel_pending ? enums::RETRY_STATE_CANCEL_REQUESTED
                                          : enums::RETRY_STATE_TIMEOUT);
  return Effects{};
}

// StartToClose or Heartbeat: the attempt times out and is retried by policy.
Effects AttemptTimedOut(ActivityRecord& r, enums::TimeoutType type,
                        absl::Time now) {
  const failure_v1::Failure timeout = TimeoutFailure(r, type);
  // As in Temporal, a retried attempt's timeout is kept without the
  // heartbeat details: they stay on the record for the next attempt.
  failure_v1::Failure retried = timeout;
  retried.mutable_timeout_failure_info()->clear_last_heartbeat_details();
  if (r.status() == store::v1::ACTIVITY_STATUS_RESET_REQUESTED) {
    return LandDeferredReset(r, &retried, now);
  }
  const RetryDecision d = DecideRetry(r, &timeout, now);
  if (d.state == enums::RETRY_STATE_IN_PROGRESS) {
    return Reschedule(r, &retried, d, now);
  }
  failure_v1::Failure final_failure = timeout;
  if (r.has_last_failure()) *final_failure.mutable_cause() = r.last_failure();
  *r.mutable_last_failure() = final_failure;
  *r.mutable_last_failure_time() = ToProtoTime(now);
  *r.mutable_attempt_complete_time() = ToProtoTime(now);
  Close(r, store::v1::ACTIVITY_STATUS_TIMED_OUT, now);
  auto* outcome = r.mutable_outcome();
  if (d.state == enums::RETRY_STATE_TIMEOUT) {
    // The retry would not fit before the schedule-to-close deadline.
    failure_v1::Failure gave_up =
        TimeoutFailure(r, enums::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE);
    // No cause, as in Temporal: last_failure keeps this attempt's timeout.
    gave_up.set_message(
        "Not enough time to schedule next retry before activity "
        "ScheduleToClose timeout, giving up retrying");
    *outcome->mutable_failure() = std::move(gave_up);
  } else {
    *outcome->mutable_failure() = std::move(final_failure);
  }
  outcome->set_retry_state(d.state);
  return Effects{};
}

absl::StatusOr<Effects> OnStart(ActivityRecord& r, const StartAttempt& e,
                                absl::Time now) {
  if (r.status() != store::v1::ACTIVITY_STATUS_SCHEDULED ||
      r.stamp() != e.stamp) {
    return absl::AbortedError("obsolete matching task");
  }
  r.set_status(store::v1::ACTIVITY_STATUS_STARTED);
  r.set_started_stamp(r.stamp());
  *r.mutable_started_time() = ToProtoTime(now);
  if (!r.has_first_started_time())
    *r.mutable_first_started_time() = r.started_time();
  r.set_last_worker_identity(e.identity);
  r.set_sdk_name(e.sdk_name);
  r.set_sdk_version(e.sdk_version);
  r.clear_current_retry_interval();
  Effects effects;
  AddStartedAttemptTimers(r, effects.timers);
  return effects;
}

void StoreHeartbeat(ActivityRecord& r,
                    const temporal::api::common::v1::Payloads& details,
                    absl::Time now) {
  *r.mutable_heartbeat_details() = details;
  *r.mutable_last_heartbeat_time() = ToProtoTime(now);
  r.set_heartbeat_count(r.heartbeat_count() + 1);
}

absl::StatusOr<Effects> OnHeartbeat(ActivityRecord& r, const RecordHeartbeat& e,
                                    absl::Time now) {
  if (!HasAttemptInProgress(r.status()))
    return ActivityNotFound(r.activity_id());
  if (e.details) {
    StoreHeartbeat(r, *e.details, now);
  } else {
    *r.mutable_last_heartbeat_time() = ToProtoTime(now);
    r.set_heartbeat_count(r.heartbeat_count() + 1);
  }
  return Effects{};
}

absl::StatusOr<Effects> OnComplete(ActivityRecord& r, const CompleteAttempt& e,
                                   absl::Time now) {
  // A by-ID completion skips the attempt check, so on a closed (or not yet
  // scheduled) run it is the transition itself that is refused.
  if (e.by_id && !IsOpen(r.status())) return InvalidTransition(r.status());
  const bool forced =
      e.by_id && (r.status() == store::v1::ACTIVITY_STATUS_SCHEDULED ||
                  r.status() == store::v1::ACTIVITY_STATUS_PAUSED);
  if (!HasAttemptInProgress(r.status()) && !forced) {
    return ActivityNotFound(r.activity_id());
  }
  if (forced) *r.mutable_started_time() = ToProtoTime(now);
  *r.mutable_attempt_complete_time() = ToProtoTime(now);
  r.set_last_worker_identity(e.identity);
  Close(r, store::v1::ACTIVITY_STATUS_COMPLETED, now);
  auto* outcome = r.mutable_outcome();
  *outcome->mutable_result() = e.result;
  return Effects{};
}

absl::StatusOr<Effects> OnFail(ActivityRecord& r, const FailAttempt& e,
                               absl::Time now) {
  if (!HasAttemptInProgress(r.status()))
    return ActivityNotFound(r.activity_id());
  if (e.last_heartbeat_details)
    StoreHeartbeat(r, *e.last_heartbeat_details, now);
  r.set_last_worker_identity(e.identity);
  *r.mutable_attempt_complete_time() = ToProtoTime(now);

  const failure_v1::Failure* failure = e.failure ? &*e.failure : nullptr;
  if (r.status() == store::v1::ACTIVITY_STATUS_RESET_REQUESTED) {
    return LandDeferredReset(r, failure, now);
  }
  const RetryDecision d = DecideRetry(r, failure, now);
  if (d.state == enums::RETRY_STATE_IN_PROGRESS) {
    return Reschedule(r, failure, d, now);
  }
  const enums::RetryState state = d.state;

  failure_v1::Failure final_failure;
  if (e.failure) {
    final_failure = *e.failure;
  } else {
    final_failure.set_message("activity task failed without failure details");
  }
  *r.mutable_last_failure() = final_failure;
  *r.mutable_last_failure_time() = ToProtoTime(now);
  Close(r, store::v1::ACTIVITY_STATUS_FAILED, now);
  auto* outcome = r.mutable_outcome();
  *outcome->mutable_failure() = std::move(final_failure);
  outcome->set_retry_state(state);
  return Effects{};
}

// `details` absent (the worker sent none) stays absent, as in Temporal.
failure_v1::Failure CanceledFailure(
    const ActivityRecord& r,
    const std::optional<temporal::api::common::v1::Payloads>& details) {
  failure_v1::Failure f;
  f.set_message("Activity canceled");
  auto* info = f.mutable_canceled_failure_info();
  if (details) *info->mutable_details() = *details;
  info->set_identity(r.cancel_identity());
  return f;
}

absl::StatusOr<Effects> OnCancelAttempt(ActivityRecord& r,
                                        const CancelAttempt& e,
                                        absl::Time now) {
  if (r.status() != store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED) {
    if (HasAttemptInProgress(r.status())) {
      return absl::InvalidArgumentError(
          "unable to mark activity as canceled without activity being "
          "request canceled first");
    }
    return ActivityNotFound(r.activity_id());
  }
  // Unlike completion and failure, Temporal records no attempt complete
  // time for an acknowledged cancel.
  r.set_last_worker_identity(e.identity);
  Close(r, store::v1::ACTIVITY_STATUS_CANCELED, now);
  *r.mutable_outcome()->mutable_failure() = CanceledFailure(r, e.details);
  return Effects{};
}

absl::StatusOr<Effects> OnRequestCancel(ActivityRecord& r,
                                        const RequestCancel& e,
                                        absl::Time now) {
  if (!e.request_id.empty() && e.request_id == r.cancel_request_id()) {
    return Effects{.unchanged = true};
  }
  if (IsTerminal(r.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("activity is in terminal state ", StatusName(r.status())));
  }
  if (r.status() == store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED) {
    return absl::FailedPreconditionError(
        absl::StrCat("cancellation already requested with request ID ",
                     r.cancel_request_id()));
  }
  if (!IsOpen(r.status())) return InvalidTransition(r.status());
  r.set_cancel_request_id(e.request_id);
  r.set_cancel_reason(e.reason);
  r.set_cancel_identity(e.identity);
  r.clear_deferred_reset();  // a cancel wins over a pending reset
  if (r.status() == store::v1::ACTIVITY_STATUS_SCHEDULED ||
      r.status() == store::v1::ACTIVITY_STATUS_PAUSED) {
    // No worker holds an attempt: nobody to tell, so cancel at once.
    temporal::api::common::v1::Payloads details;
    *details.add_payloads() = JsonStringPayload(e.reason);
    Close(r, store::v1::ACTIVITY_STATUS_CANCELED, now);
    *r.mutable_outcome()->mutable_failure() = CanceledFailure(r, details);
    return Effects{};
  }
  r.set_status(store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED);
  return Effects{};
}

absl::StatusOr<Effects> OnTerminate(ActivityRecord& r, const Terminate& e,
                                    absl::Time now) {
  if (r.status() == store::v1::ACTIVITY_STATUS_TERMINATED) {
    if (e.request_id == r.terminate_request_id())
      return Effects{.unchanged = true};
    return absl::FailedPreconditionError(absl::StrCat(
        "already terminated with request ID ", r.terminate_request_id()));
  }
  if (!IsOpen(r.status())) return InvalidTransition(r.status());
  r.set_terminate_request_id(e.request_id);
  Close(r, store::v1::ACTIVITY_STATUS_TERMINATED, now);
  failure_v1::Failure f;
  f.set_message(e.reason);
  f.mutable_terminated_failure_info()->set_identity(e.identity);
  *r.mutable_outcome()->mutable_failure() = std::move(f);
  return Effects{};
}

absl::StatusOr<Effects> OnTimer(ActivityRecord& r, const TimerFired& e,
                                absl::Time now) {
  const Effects stale{.unchanged = true};
  const bool scheduled_attempt =
      r.status() == store::v1::ACTIVITY_STATUS_SCHEDULED &&
      r.stamp() == e.stamp;
  const bool started_attempt =
      HasAttemptInProgress(r.status()) && r.stamp() == e.stamp;
  switch (e.kind) {
    case TimerKind::kDispatch:
      return scheduled_attempt ? Effects{.dispatch = true, .unchanged = true}
                               : stale;
    case TimerKind::kScheduleToStart:
      if (!scheduled_attempt) return stale;
      return ExecutionTimedOut(r, enums::TIMEOUT_TYPE_SCHEDULE_TO_START, now);
    case TimerKind::kScheduleToClose:
      // An options update may have moved the deadline since this timer was
      // set (and set a timer for the new one).
      if (!IsOpen(r.status()) || ScheduleToClose(r) <= absl::ZeroDuration() ||
          ScheduleToCloseDeadline(r) > now) {
        return stale;
      }
      return ExecutionTimedOut(r, enums::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, now);
    case TimerKind::kStartToClose:
      if (!started_attempt) return stale;
      return AttemptTimedOut(r, enums::TIMEOUT_TYPE_START_TO_CLOSE, now);
    case TimerKind::kHeartbeat: {
      if (!started_attempt) return stale;
      const absl::Time due =
          LastBeat(r) + Option(r.options().heartbeat_timeout());
      if (due > now) {
        // A heartbeat came in since this timer was set: watch the new
        // deadline instead of keeping one timer per heartbeat.
        Effects rearm{.unchanged = true};
        rearm.timers.push_back({TimerKind::kHeartbeat, due, e.stamp});
        return rearm;
      }
      return AttemptTimedOut(r, enums::TIMEOUT_TYPE_HEARTBEAT, now);
    }
  }
  return stale;
}

absl::StatusOr<Effects> OnPause(ActivityRecord& r, const Pause& e,
                                absl::Time now) {
  // Checked first: a replayed pause is a no-op even after a later unpause.
  if (!e.request_id.empty() && e.request_id == r.last_pause().request_id()) {
    return Effects{.unchanged = true};
  }
  switch (r.status()) {
    case store::v1::ACTIVITY_STATUS_SCHEDULED:
      // The bump makes the queued task and the schedule-to-start timer
      // stale: a paused run is neither dispatched nor timed out to start.
      r.set_status(store::v1::ACTIVITY_STATUS_PAUSED);
      r.set_stamp(r.stamp() + 1);
      break;
    case store::v1::ACTIVITY_STATUS_STARTED:
      // The worker keeps its attempt (and its token) and hears of the pause
      // through its next heartbeat.
      r.set_status(store::v1::ACTIVITY_STATUS_PAUSE_REQUESTED);
      break;
    default:
      return FailedPrecondition("activity is in non-pausable state ",
                                r.status());
  }
  auto* pause = r.mutable_last_pause();
  pause->set_request_id(e.request_id);
  pause->set_reason(e.reason);
  pause->set_identity(e.identity);
  *pause->mutable_time() = ToProtoTime(now);
  return Effects{};
}

absl::StatusOr<Effects> OnUnpause(ActivityRecord& r, const Unpause& e,
                                  absl::Time now) {
  if (!e.request_id.empty() && e.request_id == r.unpause_request_id()) {
    return Effects{.unchanged = true};
  }
  if (IsTerminal(r.status())) {
    return FailedPrecondition("activity is in terminal state ", r.status());
  }
  Effects effects;
  switch (r.status()) {
    case store::v1::ACTIVITY_STATUS_PAUSED: {
      // Neither the start delay nor a pending retry backoff is cut short.
      absl::Time dispatch = AfterStartDelay(r, now + e.delay);
      if (auto retry = RetryDueAt(r)) dispatch = std::max(dispatch, *retry);
      r.set_status(store::v1::ACTIVITY_STATUS_SCHEDULED);
      r.set_stamp(r.stamp() + 1);
      *r.mutable_dispatch_time() = ToProtoTime(dispatch);
      AddScheduledAttemptTimers(r, effects.timers);
      break;
    }
    case store::v1::ACTIVITY_STATUS_PAUSE_REQUESTED:
      r.set_status(store::v1::ACTIVITY_STATUS_STARTED);
      break;
    default:
      return FailedPrecondition("activity is in non-unpausable state ",
                                r.status());
  }
  r.set_unpause_request_id(e.request_id);
  return effects;
}

absl::StatusOr<Effects> OnReset(ActivityRecord& r, const Reset& e,
                                absl::Time now) {
  if (!e.request_id.empty() && e.request_id == r.reset_request_id()) {
    return Effects{.unchanged = true};
  }
  if (e.restore_original_options) {
    if (auto original = OriginalOptions(r); !original.ok()) {
      return original.status();
    }
  }
  Effects effects;
  switch (r.status()) {
    case store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED:
      return absl::FailedPreconditionError(
          "cannot reset an activity with a pending cancellation");
    case store::v1::ACTIVITY_STATUS_RESET_REQUESTED:
      return absl::FailedPreconditionError(
          "cannot reset an activity with a pending reset");
    case store::v1::ACTIVITY_STATUS_STARTED:
    case store::v1::ACTIVITY_STATUS_PAUSE_REQUESTED: {
      // A worker holds the attempt: the reset waits for it to end. A
      // requested pause stays only if the reset keeps it.
      auto* reset = r.mutable_deferred_reset();
      reset->set_keep_paused(e.keep_paused &&
                             r.status() ==
                                 store::v1::ACTIVITY_STATUS_PAUSE_REQUESTED);
      reset->set_clear_heartbeat(e.reset_heartbeat);
      reset->set_restore_options(e.restore_original_options);
      r.set_status(store::v1::ACTIVITY_STATUS_RESET_REQUESTED);
      break;
    }
    case store::v1::ACTIVITY_STATUS_PAUSED:
      RestartAttempts(r, e.reset_heartbeat, e.restore_original_options);
      if (e.keep_paused) {
        // Jitter applies to the unpause that will dispatch it.
        r.clear_dispatch_time();
        AddScheduleToCloseTimer(r, effects.timers);
      } else {
        effects = ScheduleResetAttempt(r, e.delay, now);
      }
      break;
    case store::v1::ACTIVITY_STATUS_SCHEDULED:
      RestartAttempts(r, e.reset_heartbeat, e.restore_original_options);
      effects = ScheduleResetAttempt(r, e.delay, now);
      break;
    default:  // closed (or never scheduled)
      return absl::FailedPreconditionError("activity execution is not running");
  }
  r.set_reset_request_id(e.request_id);
  return effects;
}

absl::StatusOr<Effects> OnUpdateOptions(ActivityRecord& r,
                                        const UpdateOptions& e,
                                        absl::Time now) {
  // A repeat answers with the current options, even on a closed run.
  if (!e.request_id.empty() && e.request_id == r.update_options_request_id()) {
    return Effects{.unchanged = true};
  }
  const ActivityStatus status = r.status();
  if (status != store::v1::ACTIVITY_STATUS_SCHEDULED &&
      status != store::v1::ACTIVITY_STATUS_PAUSED &&
      status != store::v1::ACTIVITY_STATUS_STARTED &&
      status != store::v1::ACTIVITY_STATUS_PAUSE_REQUESTED) {
    return FailedPrecondition("Cannot update options for activity in state ",
                              status);
  }
  const bool sets_delay = !e.restore_original &&
                          std::find(e.paths.begin(), e.paths.end(),
                                    OptionPath::kStartDelay) != e.paths.end();
  if (sets_delay) {
    // Checked before the merge, in Temporal's order: a negative delay, then
    // whether it can still apply. Only a first dispatch still ahead (or a
    // paused run that never started) can be moved.
    if (absl::Status s = ValidateStartDelay(e.options.start_delay()); !s.ok()) {
      return s;
    }
    const bool editable =
        FirstDispatchFloor(r) > now ||
        (status == store::v1::ACTIVITY_STATUS_PAUSED && NeverStarted(r));
    if (!editable) {
      return absl::FailedPreconditionError(
          "cannot update start_delay: the first activity attempt has already "
          "been dispatched");
    }
  }
  temporal::api::activity::v1::ActivityOptions next = r.options();
  if (e.restore_original) {
    auto original = OriginalOptions(r);
    if (!original.ok()) return original.status();
    next = *std::move(original);
  } else if (absl::Status s =
                 MergeOptions(next, e.options, e.paths, r.activity_id(),
                              r.activity_type().name());
             !s.ok()) {
    return s;
  }
  const bool policy_changed = next.retry_policy().SerializeAsString() !=
                              r.options().retry_policy().SerializeAsString();
  *r.mutable_options() = std::move(next);
  r.set_stamp(r.stamp() + 1);
  r.set_update_options_request_id(e.request_id);
  const bool waiting = status == store::v1::ACTIVITY_STATUS_SCHEDULED ||
                       status == store::v1::ACTIVITY_STATUS_PAUSED;
  if (waiting && policy_changed && r.has_current_retry_interval() &&
      !r.retry_interval_from_worker()) {
    // The backoff in progress follows the new policy; a worker's
    // next_retry_delay is kept.
    *r.mutable_current_retry_interval() = ToProtoDuration(
        RetryInterval(r.options().retry_policy(), r.attempt() - 1));
  }
  Effects effects;
  if (status == store::v1::ACTIVITY_STATUS_SCHEDULED) {
    // A pending retry keeps its backoff; otherwise the attempt is due now,
    // or when the (maybe changed) start delay ends.
    *r.mutable_dispatch_time() =
        ToProtoTime(RetryDueAt(r).value_or(AfterStartDelay(r, now)));
    // Re-dispatched under the new stamp (to the new task queue, with the
    // new priority, at the new time); the queued task is stale.
    AddScheduledAttemptTimers(r, effects.timers);
  } else if (HasAttemptInProgress(status)) {
    AddStartedAttemptTimers(r, effects.timers);
  }
  AddScheduleToCloseTimer(r, effects.timers);
  return effects;
}

}  // namespace

bool IsTerminal(ActivityStatus status) {
  // Listed rather than compared (>= COMPLETED): PAUSED and the requested
  // states come after the closed ones.
  switch (status) {
    case store::v1::ACTIVITY_STATUS_COMPLETED:
    case store::v1::ACTIVITY_STATUS_FAILED:
    case store::v1::ACTIVITY_STATUS_CANCELED:
    case store::v1::ACTIVITY_STATUS_TERMINATED:
    case store::v1::ACTIVITY_STATUS_TIMED_OUT:
      return true;
    default:
      return false;
  }
}

bool HasAttemptInProgress(ActivityStatus status) {
  return status == store::v1::ACTIVITY_STATUS_STARTED ||
         status == store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED ||
         status == store::v1::ACTIVITY_STATUS_PAUSE_REQUESTED ||
         status == store::v1::ACTIVITY_STATUS_RESET_REQUESTED;
}

absl::Status ActivityNotFound(absl::string_view activity_id) {
  return NotFoundError(
      absl::StrCat("activity not found for ID: ", activity_id));
}

absl::Duration RetryInterval(
    const temporal::api::common::v1::RetryPolicy& policy, int32_t attempt) {
  const absl::Duration initial = FromProtoDuration(policy.initial_interval());
  const double coefficient =
      policy.backoff_coefficient() < 1 ? 1 : policy.backoff_coefficient();
  const absl::Duration maximum = FromProtoDuration(policy.maximum_interval());
  const double factor = std::pow(coefficient, attempt > 1 ? attempt - 1 : 0);
  // Computed in double seconds so that large exponents saturate instead of
  // overflowing.
  const double seconds = absl::ToDoubleSeconds(initial) * factor;
  absl::Duration interval = std::isfinite(seconds) && seconds < 1e12
                                ? absl::Seconds(seconds)
                                : absl::InfiniteDuration();
  if (maximum > absl::ZeroDuration() && interval > maximum) interval = maximum;
  return interval;
}

bool IsRetryable(const failure_v1::Failure* failure,
                 const temporal::api::common::v1::RetryPolicy& policy) {
  if (failure == nullptr) return true;
  auto listed = [&](absl::string_view type) {
    for (const auto& t : policy.non_retryable_error_types()) {
      if (t == type) return true;
    }
    return false;
  };
  if (failure->has_terminated_failure_info() ||
      failure->has_canceled_failure_info()) {
    return false;
  }
  if (failure->has_timeout_failure_info()) {
    switch (failure->timeout_failure_info().timeout_type()) {
      case enums::TIMEOUT_TYPE_START_TO_CLOSE:
        return !listed("TemporalTimeout:StartToClose");
      case enums::TIMEOUT_TYPE_HEARTBEAT:
        return !listed("TemporalTimeout:Heartbeat");
      default:
        return false;
    }
  }
  if (failure->has_server_failure_info()) {
    return !failure->server_failure_info().non_retryable();
  }
  if (failure->has_application_failure_info()) {
    const auto& info = failure->application_failure_info();
    return !info.non_retryable() && !listed(info.type());
  }
  return true;
}

Effects ScheduleNew(ActivityRecord& record, absl::Time now) {
  record.set_status(store::v1::ACTIVITY_STATUS_SCHEDULED);
  record.set_attempt(1);
  record.set_stamp(1);
  record.set_version(1);
  *record.mutable_schedule_time() = ToProtoTime(now);
  *record.mutable_dispatch_time() =
      ToProtoTime(now + FromProtoDuration(record.options().start_delay()));
  *record.mutable_original_options() = record.options();
  return Effects{.timers = TimersFor(record)};
}

std::vector<Timer> TimersFor(const ActivityRecord& r) {
  std::vector<Timer> timers;
  // A closed run waits on nothing: the retention sweeper finds it through
  // the CloseTime index. A record not yet scheduled waits on nothing either.
  if (!IsOpen(r.status())) return timers;
  if (r.status() == store::v1::ACTIVITY_STATUS_SCHEDULED) {
    AddScheduledAttemptTimers(r, timers);
  } else if (HasAttemptInProgress(r.status())) {
    AddStartedAttemptTimers(r, timers);
  }  // PAUSED: only the schedule-to-close deadline holds
  AddScheduleToCloseTimer(r, timers);
  return timers;
}

absl::StatusOr<Effects> Apply(ActivityRecord& record,
                              const ActivityEvent& event, absl::Time now) {
  // Work on a copy so that a failed transition leaves no partial change.
  ActivityRecord next = record;
  absl::StatusOr<Effects> effects = std::visit(
      [&](const auto& e) -> absl::StatusOr<Effects> {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, StartAttempt>)
          return OnStart(next, e, now);
        if constexpr (std::is_same_v<E, RecordHeartbeat>)
          return OnHeartbeat(next, e, now);
        if constexpr (std::is_same_v<E, CompleteAttempt>)
          return OnComplete(next, e, now);
        if constexpr (std::is_same_v<E, FailAttempt>)
          return OnFail(next, e, now);
        if constexpr (std::is_same_v<E, CancelAttempt>)
          return OnCancelAttempt(next, e, now);
        if constexpr (std::is_same_v<E, RequestCancel>)
          return OnRequestCancel(next, e, now);
        if constexpr (std::is_same_v<E, Terminate>)
          return OnTerminate(next, e, now);
        if constexpr (std::is_same_v<E, TimerFired>)
          return OnTimer(next, e, now);
        if constexpr (std::is_same_v<E, Pause>) return OnPause(next, e, now);
        if constexpr (std::is_same_v<E, Unpause>)
          return OnUnpause(next, e, now);
        if constexpr (std::is_same_v<E, Reset>) return OnReset(next, e, now);
        if constexpr (std::is_same_v<E, UpdateOptions>)
          return OnUpdateOptions(next, e, now);
      },
      event);
  if (!effects.ok()) return effects;
  if (!effects->unchanged) {
    next.set_version(next.version() + 1);
    record = std::move(next);
  }
  return effects;
}

}  // namespace errand::engine
