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
         HasAttemptInProgress(status);
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

absl::Time ScheduleToCloseDeadline(const ActivityRecord& r) {
  return FromProtoTime(r.schedule_time()) +
         FromProtoDuration(r.options().start_delay()) + ScheduleToClose(r);
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

void AddStartedAttemptTimers(const ActivityRecord& r,
                             std::vector<Timer>& timers) {
  const absl::Duration stc = Option(r.options().start_to_close_timeout());
  if (stc > absl::ZeroDuration()) {
    timers.push_back({TimerKind::kStartToClose,
                      FromProtoTime(r.started_time()) + stc,
                      r.started_stamp()});
  }
  const absl::Duration hb = Option(r.options().heartbeat_timeout());
  if (hb > absl::ZeroDuration()) {
    timers.push_back(
        {TimerKind::kHeartbeat, LastBeat(r) + hb, r.started_stamp()});
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
      if (worker_delay > absl::ZeroDuration()) d.interval = worker_delay;
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

// Starts the next attempt after `interval`; `failure` ended the last one.
Effects Reschedule(ActivityRecord& r, const failure_v1::Failure* failure,
                   absl::Duration interval, absl::Time now) {
  if (failure) {
    *r.mutable_last_failure() = TruncatedForRetry(*failure);
  } else {
    r.clear_last_failure();
  }
  *r.mutable_last_failure_time() = ToProtoTime(now);
  *r.mutable_attempt_complete_time() = ToProtoTime(now);
  r.set_attempt(r.attempt() + 1);
  r.set_stamp(r.stamp() + 1);
  r.set_status(store::v1::ACTIVITY_STATUS_SCHEDULED);
  *r.mutable_current_retry_interval() = ToProtoDuration(interval);
  *r.mutable_dispatch_time() = ToProtoTime(now + interval);
  Effects effects;
  AddScheduledAttemptTimers(r, effects.timers);
  return effects;
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
  const RetryDecision d = DecideRetry(r, &timeout, now);
  if (d.state == enums::RETRY_STATE_IN_PROGRESS) {
    // As in Temporal, a retried attempt's timeout is kept without the
    // heartbeat details: they stay on the record for the next attempt.
    failure_v1::Failure retried = timeout;
    retried.mutable_timeout_failure_info()->clear_last_heartbeat_details();
    return Reschedule(r, &retried, d.interval, now);
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
      e.by_id && r.status() == store::v1::ACTIVITY_STATUS_SCHEDULED;
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
  const RetryDecision d = DecideRetry(r, failure, now);
  if (d.state == enums::RETRY_STATE_IN_PROGRESS) {
    return Reschedule(r, failure, d.interval, now);
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
  if (r.status() == store::v1::ACTIVITY_STATUS_SCHEDULED) {
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
  const bool started_attempt = HasAttemptInProgress(r.status()) &&
                               r.started_stamp() == e.stamp &&
                               r.stamp() == e.stamp;
  switch (e.kind) {
    case TimerKind::kDispatch:
      return scheduled_attempt ? Effects{.dispatch = true, .unchanged = true}
                               : stale;
    case TimerKind::kScheduleToStart:
      if (!scheduled_attempt) return stale;
      return ExecutionTimedOut(r, enums::TIMEOUT_TYPE_SCHEDULE_TO_START, now);
    case TimerKind::kScheduleToClose:
      if (!IsOpen(r.status())) return stale;
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

}  // namespace

bool IsTerminal(ActivityStatus status) {
  // Listed rather than compared (>= COMPLETED), so that a status added later
  // (Temporal's PAUSED is 9) is not closed by accident.
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
         status == store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED;
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
  return Effects{.timers = TimersFor(record)};
}

std::vector<Timer> TimersFor(const ActivityRecord& r) {
  std::vector<Timer> timers;
  // A closed run waits on nothing: the retention sweeper finds it through
  // the CloseTime index. A record not yet scheduled waits on nothing either.
  if (!IsOpen(r.status())) return timers;
  if (r.status() == store::v1::ACTIVITY_STATUS_SCHEDULED) {
    AddScheduledAttemptTimers(r, timers);
  } else {
    AddStartedAttemptTimers(r, timers);
  }
  if (ScheduleToClose(r) > absl::ZeroDuration()) {
    timers.push_back(
        {TimerKind::kScheduleToClose, ScheduleToCloseDeadline(r), 0});
  }
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
