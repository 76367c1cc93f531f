#include "errand/engine/activity_state_machine.h"

#include <gtest/gtest.h>

#include "errand/common/clock.h"
#include "temporal/api/enums/v1/workflow.pb.h"

namespace errand::engine {
namespace {

namespace enums = temporal::api::enums::v1;
using store::ToProtoDuration;

class StateMachineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    record_.set_namespace_id("ns");
    record_.set_activity_id("act");
    record_.set_run_id("run");
    auto* o = record_.mutable_options();
    o->mutable_task_queue()->set_name("tq");
    *o->mutable_start_to_close_timeout() = ToProtoDuration(absl::Seconds(10));
    auto* p = o->mutable_retry_policy();
    *p->mutable_initial_interval() = ToProtoDuration(absl::Seconds(1));
    p->set_backoff_coefficient(2.0);
    *p->mutable_maximum_interval() = ToProtoDuration(absl::Seconds(100));
  }
  absl::Time now() const { return clock_.Now(); }
  void Schedule() { EXPECT_FALSE(ScheduleNew(record_, now()).timers.empty()); }
  void Start() {
    auto e = Apply(
        record_, StartAttempt{record_.stamp(), "worker-1", "sdk", "1"}, now());
    ASSERT_TRUE(e.ok()) << e.status();
  }
  static temporal::api::failure::v1::Failure AppFailure(const std::string& type,
                                                        bool non_retryable) {
    temporal::api::failure::v1::Failure f;
    f.set_message("boom");
    f.mutable_application_failure_info()->set_type(type);
    f.mutable_application_failure_info()->set_non_retryable(non_retryable);
    return f;
  }

  FakeClock clock_;
  ActivityRecord record_;
};

TEST_F(StateMachineTest, ScheduleNewIsAttemptOneDueNow) {
  Schedule();
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(record_.attempt(), 1);
  EXPECT_EQ(record_.stamp(), 1);
  EXPECT_EQ(store::FromProtoTime(record_.dispatch_time()), now());
}

TEST_F(StateMachineTest, StartDelayPostponesFirstDispatch) {
  *record_.mutable_options()->mutable_start_delay() =
      ToProtoDuration(absl::Seconds(30));
  Schedule();
  EXPECT_EQ(store::FromProtoTime(record_.dispatch_time()),
            now() + absl::Seconds(30));
}

TEST_F(StateMachineTest, StartRecordsWorkerAndStamp) {
  Schedule();
  clock_.Advance(absl::Seconds(2));
  Start();
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_STARTED);
  EXPECT_EQ(record_.started_stamp(), 1);
  EXPECT_EQ(record_.last_worker_identity(), "worker-1");
  EXPECT_EQ(store::FromProtoTime(record_.started_time()), now());
  EXPECT_EQ(record_.version(), 2);
}

TEST_F(StateMachineTest, StaleStampOrStatusIsAborted) {
  Schedule();
  auto stale = Apply(record_, StartAttempt{7, "w", "", ""}, now());
  EXPECT_TRUE(absl::IsAborted(stale.status()));
  Start();
  auto again =
      Apply(record_, StartAttempt{record_.stamp(), "w", "", ""}, now());
  EXPECT_TRUE(absl::IsAborted(again.status()));
  EXPECT_EQ(record_.last_worker_identity(), "worker-1");
}

TEST_F(StateMachineTest, CompleteClosesWithResult) {
  Schedule();
  Start();
  temporal::api::common::v1::Payloads result;
  result.add_payloads()->set_data("\"ok\"");
  ASSERT_TRUE(Apply(record_, CompleteAttempt{result, "w2", false}, now()).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_COMPLETED);
  EXPECT_EQ(record_.outcome().result().payloads(0).data(), "\"ok\"");
  EXPECT_EQ(record_.last_worker_identity(), "w2");
  EXPECT_TRUE(record_.has_close_time());
  auto twice = Apply(record_, CompleteAttempt{result, "w2", false}, now());
  EXPECT_TRUE(absl::IsNotFound(twice.status()));
  EXPECT_EQ(twice.status().message(), "activity not found for ID: act");
}

TEST_F(StateMachineTest, CompleteByIdWorksBeforeAnyWorkerStarted) {
  Schedule();
  temporal::api::common::v1::Payloads result;
  auto by_token = Apply(record_, CompleteAttempt{result, "w", false}, now());
  EXPECT_TRUE(absl::IsNotFound(by_token.status()));
  ASSERT_TRUE(Apply(record_, CompleteAttempt{result, "w", true}, now()).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_COMPLETED);
  EXPECT_TRUE(record_.has_started_time());
  // A second by-ID completion is refused as a transition, not "not found".
  auto again = Apply(record_, CompleteAttempt{result, "w", true}, now());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.status().message(), "invalid transition from Completed");
}

TEST_F(StateMachineTest, RetryableFailureReschedulesWithBackoff) {
  Schedule();
  Start();
  clock_.Advance(absl::Seconds(1));
  auto e =
      Apply(record_, FailAttempt{AppFailure("Oops", false), {}, "w"}, now());
  ASSERT_TRUE(e.ok());
  ASSERT_FALSE(e->timers.empty());
  EXPECT_EQ(e->timers[0].kind, TimerKind::kDispatch);
  EXPECT_EQ(e->timers[0].deadline, now() + absl::Seconds(1));
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(record_.attempt(), 2);
  EXPECT_EQ(record_.stamp(), 2);
  EXPECT_EQ(store::FromProtoTime(record_.dispatch_time()),
            now() + absl::Seconds(1));
  EXPECT_EQ(record_.last_failure().message(), "boom");
  // The second failure waits twice as long.
  clock_.Advance(absl::Seconds(1));
  Start();
  ASSERT_TRUE(
      Apply(record_, FailAttempt{AppFailure("Oops", false), {}, "w"}, now())
          .ok());
  EXPECT_EQ(store::FromProtoTime(record_.dispatch_time()),
            now() + absl::Seconds(2));
}

TEST_F(StateMachineTest, NonRetryableFailureFailsWithoutNewAttempt) {
  Schedule();
  Start();
  ASSERT_TRUE(
      Apply(record_, FailAttempt{AppFailure("MyError", true), {}, "w"}, now())
          .ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_FAILED);
  EXPECT_EQ(record_.attempt(), 1);
  EXPECT_EQ(record_.outcome().retry_state(),
            enums::RETRY_STATE_NON_RETRYABLE_FAILURE);
  EXPECT_EQ(record_.outcome().failure().application_failure_info().type(),
            "MyError");
}

TEST_F(StateMachineTest, ListedErrorTypeIsNonRetryable) {
  record_.mutable_options()
      ->mutable_retry_policy()
      ->add_non_retryable_error_types("Fatal");
  Schedule();
  Start();
  ASSERT_TRUE(
      Apply(record_, FailAttempt{AppFailure("Fatal", false), {}, "w"}, now())
          .ok());
  EXPECT_EQ(record_.outcome().retry_state(),
            enums::RETRY_STATE_NON_RETRYABLE_FAILURE);
}

TEST_F(StateMachineTest, MaximumAttemptsReached) {
  record_.mutable_options()->mutable_retry_policy()->set_maximum_attempts(1);
  Schedule();
  Start();
  ASSERT_TRUE(
      Apply(record_, FailAttempt{AppFailure("Oops", false), {}, "w"}, now())
          .ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_FAILED);
  EXPECT_EQ(record_.outcome().retry_state(),
            enums::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
}

TEST_F(StateMachineTest, RetryThatCannotFitBeforeScheduleToCloseGivesUp) {
  *record_.mutable_options()->mutable_schedule_to_close_timeout() =
      ToProtoDuration(absl::Seconds(5));
  Schedule();
  Start();
  clock_.Advance(absl::Seconds(4));  // 4 s + 1 s backoff is not < 5 s
  ASSERT_TRUE(
      Apply(record_, FailAttempt{AppFailure("Oops", false), {}, "w"}, now())
          .ok());
  EXPECT_EQ(record_.outcome().retry_state(), enums::RETRY_STATE_TIMEOUT);
}

TEST_F(StateMachineTest, WorkerNextRetryDelayOverridesPolicy) {
  Schedule();
  Start();
  auto failure = AppFailure("Oops", false);
  *failure.mutable_application_failure_info()->mutable_next_retry_delay() =
      ToProtoDuration(absl::Seconds(42));
  ASSERT_TRUE(Apply(record_, FailAttempt{failure, {}, "w"}, now()).ok());
  EXPECT_EQ(store::FromProtoTime(record_.dispatch_time()),
            now() + absl::Seconds(42));
}

TEST_F(StateMachineTest, NilFailureIsRetriedThenSynthesizedWhenFinal) {
  record_.mutable_options()->mutable_retry_policy()->set_maximum_attempts(2);
  Schedule();
  Start();
  ASSERT_TRUE(Apply(record_, FailAttempt{}, now()).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  Start();
  ASSERT_TRUE(Apply(record_, FailAttempt{}, now()).ok());
  EXPECT_EQ(record_.outcome().failure().message(),
            "activity task failed without failure details");
}

TEST_F(StateMachineTest, CancelOfScheduledActivityIsImmediate) {
  Schedule();
  ASSERT_TRUE(
      Apply(record_, RequestCancel{"req-1", "not needed", "client"}, now())
          .ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_CANCELED);
  const auto& f = record_.outcome().failure();
  EXPECT_EQ(f.message(), "Activity canceled");
  EXPECT_EQ(f.canceled_failure_info().details().payloads(0).data(),
            "\"not needed\"");
  EXPECT_EQ(f.canceled_failure_info().identity(), "client");
  // A replay of the same request is fine; a new one is refused.
  EXPECT_TRUE(Apply(record_, RequestCancel{"req-1", "", ""}, now())->unchanged);
  auto other = Apply(record_, RequestCancel{"req-2", "", ""}, now());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(other.status().message(), "activity is in terminal state Canceled");
}

TEST_F(StateMachineTest, CancelOfStartedActivityWaitsForWorker) {
  Schedule();
  Start();
  ASSERT_TRUE(
      Apply(record_, RequestCancel{"req-1", "stop", "client"}, now()).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED);
  auto again = Apply(record_, RequestCancel{"req-2", "", ""}, now());
  EXPECT_EQ(again.status().message(),
            "cancellation already requested with request ID req-1");
  ASSERT_TRUE(Apply(record_, CancelAttempt{{}, "w"}, now()).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_CANCELED);
}

TEST_F(StateMachineTest, WorkerCannotReportCanceledWithoutRequest) {
  Schedule();
  Start();
  auto e = Apply(record_, CancelAttempt{{}, "w"}, now());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_STARTED);
}

TEST_F(StateMachineTest, FailureAfterCancelRequestIsNotRetried) {
  Schedule();
  Start();
  ASSERT_TRUE(Apply(record_, RequestCancel{"r", "", ""}, now()).ok());
  ASSERT_TRUE(
      Apply(record_, FailAttempt{AppFailure("Oops", false), {}, "w"}, now())
          .ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_FAILED);
  EXPECT_EQ(record_.outcome().retry_state(),
            enums::RETRY_STATE_CANCEL_REQUESTED);
}

TEST_F(StateMachineTest, CompletionWinsOverPendingCancel) {
  Schedule();
  Start();
  ASSERT_TRUE(Apply(record_, RequestCancel{"r", "", ""}, now()).ok());
  ASSERT_TRUE(Apply(record_, CompleteAttempt{{}, "w", false}, now()).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_COMPLETED);
}

TEST_F(StateMachineTest, TerminateIsIdempotentPerRequestId) {
  Schedule();
  Start();
  ASSERT_TRUE(Apply(record_, Terminate{"t1", "enough", "ops"}, now()).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TERMINATED);
  EXPECT_EQ(record_.outcome().failure().message(), "enough");
  EXPECT_EQ(record_.outcome().failure().terminated_failure_info().identity(),
            "ops");
  EXPECT_TRUE(Apply(record_, Terminate{"t1", "", ""}, now())->unchanged);
  auto other = Apply(record_, Terminate{"t2", "", ""}, now());
  EXPECT_EQ(other.status().message(), "already terminated with request ID t1");
  // A worker still holding the attempt finds it gone.
  EXPECT_TRUE(
      absl::IsNotFound(Apply(record_, RecordHeartbeat{}, now()).status()));
}

TEST_F(StateMachineTest, TerminateOfClosedActivityFails) {
  Schedule();
  Start();
  ASSERT_TRUE(Apply(record_, CompleteAttempt{{}, "w", false}, now()).ok());
  auto e = Apply(record_, Terminate{"t", "", ""}, now());
  EXPECT_EQ(e.status().message(), "invalid transition from Completed");
}

TEST_F(StateMachineTest, HeartbeatKeepsDetailsAcrossAttempts) {
  Schedule();
  Start();
  temporal::api::common::v1::Payloads details;
  details.add_payloads()->set_data("7");
  ASSERT_TRUE(Apply(record_, RecordHeartbeat{details}, now()).ok());
  EXPECT_EQ(record_.heartbeat_count(), 1);
  ASSERT_TRUE(
      Apply(record_, FailAttempt{AppFailure("Oops", false), {}, "w"}, now())
          .ok());
  EXPECT_EQ(record_.heartbeat_details().payloads(0).data(), "7");
  EXPECT_TRUE(
      absl::IsNotFound(Apply(record_, RecordHeartbeat{}, now()).status()));
}

TEST_F(StateMachineTest, DispatchDueOnlyForCurrentScheduledStamp) {
  Schedule();
  EXPECT_TRUE(
      Apply(record_, TimerFired{TimerKind::kDispatch, 1}, now())->dispatch);
  EXPECT_FALSE(
      Apply(record_, TimerFired{TimerKind::kDispatch, 0}, now())->dispatch);
  Start();
  EXPECT_FALSE(
      Apply(record_, TimerFired{TimerKind::kDispatch, 1}, now())->dispatch);
}

TEST(RetryIntervalTest, ExponentialAndCapped) {
  temporal::api::common::v1::RetryPolicy p;
  *p.mutable_initial_interval() = ToProtoDuration(absl::Seconds(1));
  p.set_backoff_coefficient(2.0);
  *p.mutable_maximum_interval() = ToProtoDuration(absl::Seconds(10));
  EXPECT_EQ(RetryInterval(p, 1), absl::Seconds(1));
  EXPECT_EQ(RetryInterval(p, 2), absl::Seconds(2));
  EXPECT_EQ(RetryInterval(p, 4), absl::Seconds(8));
  EXPECT_EQ(RetryInterval(p, 5), absl::Seconds(10));
  EXPECT_EQ(RetryInterval(p, 500), absl::Seconds(10));
}

TEST(IsRetryableTest, FollowsTemporalRules) {
  temporal::api::common::v1::RetryPolicy p;
  p.add_non_retryable_error_types("TemporalTimeout:Heartbeat");
  EXPECT_TRUE(IsRetryable(nullptr, p));
  temporal::api::failure::v1::Failure f;
  f.mutable_timeout_failure_info()->set_timeout_type(
      enums::TIMEOUT_TYPE_START_TO_CLOSE);
  EXPECT_TRUE(IsRetryable(&f, p));
  f.mutable_timeout_failure_info()->set_timeout_type(
      enums::TIMEOUT_TYPE_HEARTBEAT);
  EXPECT_FALSE(IsRetryable(&f, p));
  f.mutable_timeout_failure_info()->set_timeout_type(
      enums::TIMEOUT_TYPE_SCHEDULE_TO_START);
  EXPECT_FALSE(IsRetryable(&f, p));
  f.mutable_server_failure_info()->set_non_retryable(true);
  EXPECT_FALSE(IsRetryable(&f, p));
  f.mutable_canceled_failure_info();
  EXPECT_FALSE(IsRetryable(&f, p));
}

}  // namespace
}  // namespace errand::engine

namespace errand::engine {
namespace {

// The retry-state table of shared/spec/temporal-semantics.md §1.5, rows that
// involve timers (the failure rows are covered above).
class TimeoutTest : public StateMachineTest {
 protected:
  void SetOption(google::protobuf::Duration* field, absl::Duration d) {
    *field = ToProtoDuration(d);
  }
  absl::StatusOr<Effects> Fire(TimerKind kind) {
    const int64_t stamp =
        kind == TimerKind::kScheduleToClose ? 0
        : (kind == TimerKind::kStartToClose || kind == TimerKind::kHeartbeat)
            ? record_.started_stamp()
            : record_.stamp();
    return Apply(record_, TimerFired{kind, stamp}, now());
  }
  const Timer* FindTimer(const std::vector<Timer>& timers, TimerKind kind) {
    for (const auto& t : timers) {
      if (t.kind == kind) return &t;
    }
    return nullptr;
  }
};

TEST_F(TimeoutTest, ScheduleToStartTimesOutNeverRetried) {
  SetOption(record_.mutable_options()->mutable_schedule_to_start_timeout(),
            absl::Seconds(5));
  const Effects effects = ScheduleNew(record_, now());
  const Timer* s2s = FindTimer(effects.timers, TimerKind::kScheduleToStart);
  ASSERT_NE(s2s, nullptr);
  EXPECT_EQ(s2s->deadline, now() + absl::Seconds(5));
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(Fire(TimerKind::kScheduleToStart).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
  EXPECT_EQ(record_.outcome().retry_state(), enums::RETRY_STATE_TIMEOUT);
  EXPECT_EQ(record_.outcome().failure().message(),
            "activity ScheduleToStart timeout");
  EXPECT_EQ(record_.outcome().failure().timeout_failure_info().timeout_type(),
            enums::TIMEOUT_TYPE_SCHEDULE_TO_START);
}

TEST_F(TimeoutTest, ScheduleToStartIsStaleOnceStarted) {
  SetOption(record_.mutable_options()->mutable_schedule_to_start_timeout(),
            absl::Seconds(5));
  Schedule();
  Start();
  EXPECT_TRUE(Apply(record_, TimerFired{TimerKind::kScheduleToStart, 1}, now())
                  ->unchanged);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_STARTED);
}

TEST_F(TimeoutTest, ScheduleToCloseTimesOutWithLastFailureAsCause) {
  SetOption(record_.mutable_options()->mutable_schedule_to_close_timeout(),
            absl::Seconds(60));
  Schedule();
  Start();
  ASSERT_TRUE(
      Apply(record_, FailAttempt{AppFailure("Oops", false), {}, "w"}, now())
          .ok());
  clock_.Advance(absl::Seconds(60));
  ASSERT_TRUE(Fire(TimerKind::kScheduleToClose).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
  EXPECT_EQ(record_.outcome().retry_state(), enums::RETRY_STATE_TIMEOUT);
  EXPECT_EQ(record_.outcome().failure().message(),
            "activity ScheduleToClose timeout");
  EXPECT_EQ(record_.outcome().failure().cause().message(), "boom");
}

TEST_F(TimeoutTest, ScheduleToCloseAfterCancelRequest) {
  SetOption(record_.mutable_options()->mutable_schedule_to_close_timeout(),
            absl::Seconds(60));
  Schedule();
  Start();
  ASSERT_TRUE(Apply(record_, RequestCancel{"c", "", ""}, now()).ok());
  clock_.Advance(absl::Seconds(60));
  ASSERT_TRUE(Fire(TimerKind::kScheduleToClose).ok());
  EXPECT_EQ(record_.outcome().retry_state(),
            enums::RETRY_STATE_CANCEL_REQUESTED);
}

TEST_F(TimeoutTest, StartToCloseRetriesWithHeartbeatDetails) {
  Schedule();
  Start();
  temporal::api::common::v1::Payloads details;
  details.add_payloads()->set_data("1");
  ASSERT_TRUE(Apply(record_, RecordHeartbeat{details}, now()).ok());
  clock_.Advance(absl::Seconds(10));
  auto e = Fire(TimerKind::kStartToClose);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(record_.attempt(), 2);
  EXPECT_EQ(record_.last_failure().message(), "activity StartToClose timeout");
  EXPECT_FALSE(record_.last_failure().has_cause());
  EXPECT_EQ(record_.heartbeat_details().payloads(0).data(), "1");
  ASSERT_NE(FindTimer(e->timers, TimerKind::kDispatch), nullptr);
  // The old attempt's timers no longer apply.
  EXPECT_TRUE(Apply(record_, TimerFired{TimerKind::kStartToClose, 1}, now())
                  ->unchanged);
}

TEST_F(TimeoutTest, StartToCloseWithAttemptsExhausted) {
  record_.mutable_options()->mutable_retry_policy()->set_maximum_attempts(1);
  Schedule();
  Start();
  ASSERT_TRUE(Fire(TimerKind::kStartToClose).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
  EXPECT_EQ(record_.outcome().retry_state(),
            enums::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
  EXPECT_EQ(record_.outcome().failure().timeout_failure_info().timeout_type(),
            enums::TIMEOUT_TYPE_START_TO_CLOSE);
}

TEST_F(TimeoutTest, StartToCloseWhoseRetryCannotFit) {
  SetOption(record_.mutable_options()->mutable_schedule_to_close_timeout(),
            absl::Seconds(10));
  Schedule();
  Start();
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(Fire(TimerKind::kStartToClose).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
  EXPECT_EQ(record_.outcome().retry_state(), enums::RETRY_STATE_TIMEOUT);
  EXPECT_EQ(record_.outcome().failure().message(),
            "Not enough time to schedule next retry before activity "
            "ScheduleToClose timeout, giving up retrying");
  EXPECT_EQ(record_.last_failure().timeout_failure_info().timeout_type(),
            enums::TIMEOUT_TYPE_START_TO_CLOSE);
}

TEST_F(TimeoutTest, StartToCloseAfterCancelRequest) {
  Schedule();
  Start();
  ASSERT_TRUE(Apply(record_, RequestCancel{"c", "", ""}, now()).ok());
  ASSERT_TRUE(Fire(TimerKind::kStartToClose).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
  EXPECT_EQ(record_.outcome().retry_state(),
            enums::RETRY_STATE_CANCEL_REQUESTED);
}

TEST_F(TimeoutTest, ListedTimeoutTypeIsNonRetryable) {
  record_.mutable_options()
      ->mutable_retry_policy()
      ->add_non_retryable_error_types("TemporalTimeout:StartToClose");
  Schedule();
  Start();
  ASSERT_TRUE(Fire(TimerKind::kStartToClose).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
  EXPECT_EQ(record_.outcome().retry_state(),
            enums::RETRY_STATE_NON_RETRYABLE_FAILURE);
}

TEST_F(TimeoutTest, HeartbeatTimerRearmsAfterHeartbeatThenTimesOut) {
  SetOption(record_.mutable_options()->mutable_heartbeat_timeout(),
            absl::Seconds(2));
  record_.mutable_options()->mutable_retry_policy()->set_maximum_attempts(1);
  Schedule();
  auto started = Apply(record_, StartAttempt{1, "w", "", ""}, now());
  ASSERT_TRUE(started.ok());
  const Timer* hb = FindTimer(started->timers, TimerKind::kHeartbeat);
  ASSERT_NE(hb, nullptr);
  EXPECT_EQ(hb->deadline, now() + absl::Seconds(2));
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(Apply(record_, RecordHeartbeat{}, now()).ok());
  clock_.Advance(absl::Seconds(1));
  auto rearm = Fire(TimerKind::kHeartbeat);
  ASSERT_TRUE(rearm.ok());
  ASSERT_EQ(rearm->timers.size(), 1u);
  EXPECT_EQ(rearm->timers[0].deadline, now() + absl::Seconds(1));
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(Fire(TimerKind::kHeartbeat).ok());
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
  EXPECT_EQ(record_.outcome().failure().message(),
            "activity Heartbeat timeout");
  EXPECT_EQ(record_.outcome().failure().timeout_failure_info().timeout_type(),
            enums::TIMEOUT_TYPE_HEARTBEAT);
}

TEST_F(TimeoutTest, ClosedActivitiesHaveUnspecifiedRetryState) {
  Schedule();
  Start();
  ASSERT_TRUE(Apply(record_, CompleteAttempt{{}, "w", false}, now()).ok());
  EXPECT_EQ(record_.outcome().retry_state(), enums::RETRY_STATE_UNSPECIFIED);
  EXPECT_TRUE(TimersFor(record_).empty());
}

TEST_F(TimeoutTest, TimersForRebuildsEveryPendingDeadline) {
  SetOption(record_.mutable_options()->mutable_schedule_to_close_timeout(),
            absl::Seconds(100));
  SetOption(record_.mutable_options()->mutable_heartbeat_timeout(),
            absl::Seconds(3));
  Schedule();
  Start();
  auto timers = TimersFor(record_);
  ASSERT_NE(FindTimer(timers, TimerKind::kStartToClose), nullptr);
  ASSERT_NE(FindTimer(timers, TimerKind::kHeartbeat), nullptr);
  ASSERT_NE(FindTimer(timers, TimerKind::kScheduleToClose), nullptr);
  EXPECT_EQ(FindTimer(timers, TimerKind::kScheduleToClose)->deadline,
            store::FromProtoTime(record_.schedule_time()) + absl::Seconds(100));
  EXPECT_EQ(FindTimer(timers, TimerKind::kDispatch), nullptr);
}

}  // namespace
}  // namespace errand::engine

namespace errand::engine {
namespace {

TEST_F(TimeoutTest, ClosingLeavesNoTimers) {
  *record_.mutable_retention() = ToProtoDuration(absl::Hours(24));
  Schedule();
  Start();
  clock_.Advance(absl::Seconds(3));
  auto closed = Apply(record_, CompleteAttempt{{}, "w", false}, now());
  ASSERT_TRUE(closed.ok());
  // Retention is the sweeper's: a closed run costs the shards no memory.
  EXPECT_TRUE(closed->timers.empty());
  EXPECT_TRUE(TimersFor(record_).empty());
}

}  // namespace
}  // namespace errand::engine
