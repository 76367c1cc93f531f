#include "errand/engine/activity_state_machine.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "errand/common/clock.h"
#include "google/protobuf/util/message_differencer.h"
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

// ---------------------------------------------------------------------------
// Operator commands: pause, unpause, reset, update options (shared/spec §1.9,
// notes/upstream_operator.md §3). One test per upstream functional case
// (spec §10.1 TestPauseActivityExecution, TestUnpauseActivityExecution,
// TestResetActivityExecution, TestUpdateActivityExecutionOptions and the
// operator cases of TestStartDelay), at the state-machine level.

namespace errand::engine {
namespace {

using store::FromProtoDuration;
using store::FromProtoTime;

class OperatorTest : public StateMachineTest {
 protected:
  // Applies `e`, which must succeed.
  Effects Ok(const ActivityEvent& e) {
    absl::StatusOr<Effects> effects = Apply(record_, e, now());
    EXPECT_TRUE(effects.ok()) << effects.status();
    return effects.ok() ? *effects : Effects{};
  }
  // Applies `e`, which must be refused and leave the record as it was.
  absl::Status Refused(const ActivityEvent& e) {
    const ActivityRecord before = record_;
    absl::StatusOr<Effects> effects = Apply(record_, e, now());
    EXPECT_FALSE(effects.ok()) << "accepted";
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(record_, before))
        << "a refusal changed the record";
    return effects.status();
  }
  // Fires the current timer of `kind` (S2C timers carry stamp 0).
  Effects Fire(TimerKind kind) {
    return Ok(TimerFired{
        kind, kind == TimerKind::kScheduleToClose ? 0 : record_.stamp()});
  }
  void Advance(absl::Duration d) { clock_.Advance(d); }
  void SetOption(google::protobuf::Duration* field, absl::Duration d) {
    *field = ToProtoDuration(d);
  }
  auto* Options() { return record_.mutable_options(); }
  auto* Policy() { return record_.mutable_options()->mutable_retry_policy(); }

  void FailRetryable() {
    Ok(FailAttempt{AppFailure("Oops", false), {}, "worker-1"});
  }
  void FailNonRetryable() {
    Ok(FailAttempt{AppFailure("Fatal", true), {}, "worker-1"});
  }
  static Pause PauseReq(std::string id) { return Pause{id, "hold", "ops"}; }
  static Unpause UnpauseReq(std::string id,
                            absl::Duration jitter = absl::ZeroDuration()) {
    return Unpause{.request_id = id, .identity = "ops", .delay = jitter};
  }
  static Reset ResetReq(std::string id) {
    return Reset{.request_id = id, .identity = "ops"};
  }
  static UpdateOptions UpdateReq(std::string id, std::vector<OptionPath> paths,
                                 const ActivityOptions& options) {
    return UpdateOptions{.request_id = id,
                         .identity = "ops",
                         .options = options,
                         .paths = std::move(paths)};
  }
  static UpdateOptions RestoreReq(std::string id) {
    return UpdateOptions{
        .request_id = id, .identity = "ops", .restore_original = true};
  }
  // An update of one duration option.
  static UpdateOptions UpdateDuration(std::string id, OptionPath path,
                                      absl::Duration d) {
    ActivityOptions o;
    auto set = [&](google::protobuf::Duration* f) { *f = ToProtoDuration(d); };
    switch (path) {
      case OptionPath::kScheduleToCloseTimeout:
        set(o.mutable_schedule_to_close_timeout());
        break;
      case OptionPath::kScheduleToStartTimeout:
        set(o.mutable_schedule_to_start_timeout());
        break;
      case OptionPath::kStartToCloseTimeout:
        set(o.mutable_start_to_close_timeout());
        break;
      case OptionPath::kHeartbeatTimeout:
        set(o.mutable_heartbeat_timeout());
        break;
      case OptionPath::kStartDelay:
        set(o.mutable_start_delay());
        break;
      case OptionPath::kInitialInterval:
        set(o.mutable_retry_policy()->mutable_initial_interval());
        break;
      case OptionPath::kMaximumInterval:
        set(o.mutable_retry_policy()->mutable_maximum_interval());
        break;
      default:
        ADD_FAILURE() << "not a duration path";
    }
    return UpdateReq(std::move(id), {path}, o);
  }

  absl::Time ScheduleTime() const {
    return FromProtoTime(record_.schedule_time());
  }
  absl::Time DispatchTime() const {
    return FromProtoTime(record_.dispatch_time());
  }
  absl::Duration RetryIntervalNow() const {
    return FromProtoDuration(record_.current_retry_interval());
  }
  static const Timer* Find(const std::vector<Timer>& timers, TimerKind kind) {
    const Timer* found = nullptr;
    for (const Timer& t : timers) {
      if (t.kind != kind) continue;
      EXPECT_EQ(found, nullptr) << "two timers of one kind";
      found = &t;
    }
    return found;
  }
  bool SameOptions(const ActivityOptions& a, const ActivityOptions& b) {
    return google::protobuf::util::MessageDifferencer::Equals(a, b);
  }
  static temporal::api::common::v1::Payloads Details(const std::string& data) {
    temporal::api::common::v1::Payloads p;
    p.add_payloads()->set_data(data);
    return p;
  }
  static void ExpectStatus(const absl::Status& s, absl::StatusCode code,
                           const std::string& message) {
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_EQ(std::string(s.message()), message);
  }
  static void ExpectPrecondition(const absl::Status& s,
                                 const std::string& message) {
    ExpectStatus(s, absl::StatusCode::kFailedPrecondition, message);
  }
};

class PauseTest : public OperatorTest {};
class UnpauseTest : public OperatorTest {};
class ResetTest : public OperatorTest {};
class UpdateOptionsTest : public OperatorTest {};
class StartDelayOperatorTest : public OperatorTest {
 protected:
  void SetUp() override {
    OperatorTest::SetUp();
    SetOption(Options()->mutable_start_delay(), absl::Seconds(30));
    SetOption(Options()->mutable_schedule_to_start_timeout(), absl::Seconds(5));
    SetOption(Options()->mutable_schedule_to_close_timeout(),
              absl::Seconds(100));
  }
};

// --- Pause -----------------------------------------------------------------

TEST_F(PauseTest, PauseWhileScheduled) {
  SetOption(Options()->mutable_schedule_to_start_timeout(), absl::Seconds(5));
  SetOption(Options()->mutable_schedule_to_close_timeout(), absl::Seconds(60));
  Schedule();
  const int64_t stamp = record_.stamp();
  Advance(absl::Seconds(1));
  const Effects e = Ok(PauseReq("p1"));
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
  EXPECT_EQ(record_.stamp(), stamp + 1);
  EXPECT_TRUE(e.timers.empty());
  EXPECT_EQ(record_.last_pause().request_id(), "p1");
  EXPECT_EQ(record_.last_pause().reason(), "hold");
  EXPECT_EQ(record_.last_pause().identity(), "ops");
  EXPECT_EQ(FromProtoTime(record_.last_pause().time()), now());
  // The queued task and the S2S timer are stale; no task can be polled.
  EXPECT_FALSE(Ok(TimerFired{TimerKind::kDispatch, stamp}).dispatch);
  EXPECT_TRUE(Ok(TimerFired{TimerKind::kScheduleToStart, stamp}).unchanged);
  EXPECT_TRUE(absl::IsAborted(Refused(StartAttempt{stamp, "w", "", ""})));
  EXPECT_TRUE(
      absl::IsAborted(Refused(StartAttempt{record_.stamp(), "w", "", ""})));
  // Only the schedule-to-close deadline is still watched.
  const std::vector<Timer> timers = TimersFor(record_);
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].kind, TimerKind::kScheduleToClose);
}

TEST_F(PauseTest, PauseWhileStarted) {
  Schedule();
  Start();
  const int64_t stamp = record_.stamp();
  const Effects e = Ok(PauseReq("p1"));
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSE_REQUESTED);
  // A flag only: the worker's token and the attempt's timers stay valid.
  EXPECT_EQ(record_.stamp(), stamp);
  EXPECT_EQ(record_.started_stamp(), stamp);
  EXPECT_TRUE(e.timers.empty());
  Ok(RecordHeartbeat{Details("1")});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSE_REQUESTED);
  EXPECT_EQ(record_.last_pause().request_id(), "p1");
}

TEST_F(PauseTest, PauseWhilePausedAndIdempotent) {
  Schedule();
  Ok(PauseReq("p1"));
  ExpectPrecondition(Refused(PauseReq("p2")),
                     "activity is in non-pausable state Paused");
  EXPECT_TRUE(Ok(PauseReq("p1")).unchanged);
}

TEST_F(PauseTest, PauseReplayAfterUnpause_IsDeduplicated) {
  Schedule();
  Ok(PauseReq("p1"));
  Ok(UnpauseReq("u1"));
  EXPECT_TRUE(Ok(PauseReq("p1")).unchanged);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
}

TEST_F(PauseTest, PauseTerminalState) {
  Schedule();
  Start();
  Ok(CompleteAttempt{{}, "w", false});
  ExpectPrecondition(Refused(PauseReq("p1")),
                     "activity is in non-pausable state Completed");
  ExpectPrecondition(Refused(UnpauseReq("u1")),
                     "activity is in terminal state Completed");
}

TEST_F(PauseTest, PauseWhileRunning_FailLandsPausedAtAttemptTwo) {
  SetOption(Options()->mutable_schedule_to_close_timeout(), absl::Seconds(60));
  Schedule();
  Start();
  const int64_t stamp = record_.stamp();
  Ok(PauseReq("p1"));
  Advance(absl::Seconds(2));
  const Effects e = Ok(FailAttempt{AppFailure("Oops", false), {}, "w"});
  // PauseIncreaseAttemptsOnFailure: attempt 2 with the last failure, paused.
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
  EXPECT_EQ(record_.attempt(), 2);
  EXPECT_EQ(record_.stamp(), stamp + 1);
  EXPECT_EQ(record_.last_failure().message(), "boom");
  EXPECT_EQ(FromProtoTime(record_.attempt_complete_time()), now());
  EXPECT_EQ(RetryIntervalNow(), absl::Seconds(1));
  // Nothing dispatched: no dispatch or S2S timer, now or on a rebuild.
  EXPECT_FALSE(e.dispatch);
  EXPECT_TRUE(e.timers.empty());
  EXPECT_EQ(Find(TimersFor(record_), TimerKind::kDispatch), nullptr);
  // Unpause after the backoff: attempt 2 is dispatched now and can start.
  Advance(absl::Seconds(3));
  const Effects unpaused = Ok(UnpauseReq("u1"));
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  const Timer* dispatch = Find(unpaused.timers, TimerKind::kDispatch);
  ASSERT_NE(dispatch, nullptr);
  EXPECT_EQ(dispatch->deadline, now());
  EXPECT_EQ(dispatch->stamp, record_.stamp());
  Start();
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_STARTED);
  EXPECT_EQ(record_.attempt(), 2);
}

TEST_F(PauseTest, PauseWhileWaiting) {
  Schedule();
  Start();
  FailRetryable();
  ASSERT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  Ok(PauseReq("p1"));
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
  EXPECT_EQ(record_.attempt(), 2);
  Advance(absl::Seconds(5));
  Ok(UnpauseReq("u1"));
  Start();
  EXPECT_EQ(record_.attempt(), 2);
}

TEST_F(PauseTest, PauseWhileRetryHonorsBackoff) {
  SetOption(Policy()->mutable_initial_interval(), absl::Seconds(10));
  Schedule();
  Start();
  FailRetryable();
  const absl::Time failed_at = now();
  Advance(absl::Seconds(1));
  Ok(PauseReq("p1"));
  Advance(absl::Seconds(1));
  const Effects e = Ok(UnpauseReq("u1"));
  EXPECT_EQ(DispatchTime(), failed_at + absl::Seconds(10));
  ASSERT_NE(Find(e.timers, TimerKind::kDispatch), nullptr);
  EXPECT_EQ(Find(e.timers, TimerKind::kDispatch)->deadline,
            failed_at + absl::Seconds(10));
}

TEST_F(PauseTest, PauseWhileRetryBackoffSurvivesOptionsUpdateAfterUnpause) {
  SetOption(Policy()->mutable_initial_interval(), absl::Seconds(10));
  Schedule();
  Start();
  FailRetryable();
  const absl::Time failed_at = now();
  Ok(PauseReq("p1"));
  Advance(absl::Seconds(1));
  Ok(UnpauseReq("u1"));
  Advance(absl::Seconds(1));
  const Effects e = Ok(UpdateDuration("o1", OptionPath::kStartToCloseTimeout,
                                      absl::Seconds(20)));
  EXPECT_EQ(DispatchTime(), failed_at + absl::Seconds(10));
  const Timer* dispatch = Find(e.timers, TimerKind::kDispatch);
  ASSERT_NE(dispatch, nullptr);
  EXPECT_EQ(dispatch->deadline, failed_at + absl::Seconds(10));
  EXPECT_EQ(dispatch->stamp, record_.stamp());
}

TEST_F(PauseTest, PauseWhileCancelRequested) {
  Schedule();
  Start();
  Ok(RequestCancel{"c1", "why", "client"});
  ExpectPrecondition(Refused(PauseReq("p1")),
                     "activity is in non-pausable state CancelRequested");
  // UnpauseWhileCancelRequestedFails
  ExpectPrecondition(Refused(UnpauseReq("u1")),
                     "activity is in non-unpausable state CancelRequested");
  // UpdateWhileCancelRequestedFails
  ExpectPrecondition(
      Refused(UpdateDuration("o1", OptionPath::kStartToCloseTimeout,
                             absl::Seconds(20))),
      "Cannot update options for activity in state "
      "CancelRequested");
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED);
}

TEST_F(PauseTest, CancelWhilePaused) {
  Schedule();
  Ok(PauseReq("p1"));
  Ok(RequestCancel{"c1", "why", "client"});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_CANCELED);
  EXPECT_EQ(record_.cancel_reason(), "why");
  EXPECT_EQ(record_.outcome()
                .failure()
                .canceled_failure_info()
                .details()
                .payloads(0)
                .data(),
            "\"why\"");
}

TEST_F(PauseTest, CancelWhilePauseRequested) {
  Schedule();
  Start();
  Ok(PauseReq("p1"));
  Ok(RequestCancel{"c1", "why", "client"});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED);
  EXPECT_EQ(record_.cancel_reason(), "why");
  // No retry into PAUSED: the pending cancel stops it.
  FailRetryable();
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_FAILED);
  EXPECT_EQ(record_.outcome().retry_state(),
            enums::RETRY_STATE_CANCEL_REQUESTED);
}

TEST_F(PauseTest, PauseWhileResetRequested) {
  Schedule();
  Start();
  Ok(ResetReq("r1"));
  ExpectPrecondition(Refused(PauseReq("p1")),
                     "activity is in non-pausable state ResetRequested");
}

TEST_F(PauseTest, TerminateWhilePaused) {
  Schedule();
  Ok(PauseReq("p1"));
  Ok(Terminate{"t1", "enough", "ops"});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TERMINATED);
}

TEST_F(PauseTest, ScheduleToCloseTimeoutWhilePaused) {
  SetOption(Options()->mutable_schedule_to_close_timeout(), absl::Seconds(30));
  Schedule();
  Start();
  FailRetryable();
  Ok(PauseReq("p1"));
  const std::vector<Timer> timers = TimersFor(record_);
  const Timer* s2c = Find(timers, TimerKind::kScheduleToClose);
  ASSERT_NE(s2c, nullptr);
  EXPECT_EQ(s2c->deadline, ScheduleTime() + absl::Seconds(30));
  clock_.Advance(s2c->deadline - now());
  Fire(TimerKind::kScheduleToClose);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
  EXPECT_EQ(record_.outcome().retry_state(), enums::RETRY_STATE_TIMEOUT);
  EXPECT_EQ(record_.outcome().failure().cause().message(), "boom");
}

TEST_F(PauseTest, CompleteWhileStartedAndPaused) {
  Schedule();
  Start();
  Ok(PauseReq("p1"));
  Ok(CompleteAttempt{{}, "w", false});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_COMPLETED);
}

TEST_F(PauseTest, NonRetryableFailWhilePaused) {
  Schedule();
  Start();
  Ok(PauseReq("p1"));
  FailNonRetryable();
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_FAILED);
  EXPECT_EQ(record_.attempt(), 1);
  EXPECT_EQ(record_.outcome().retry_state(),
            enums::RETRY_STATE_NON_RETRYABLE_FAILURE);
}

TEST_F(PauseTest, RetriesExhaustedWhilePauseRequestedFails) {
  Policy()->set_maximum_attempts(1);
  Schedule();
  Start();
  Ok(PauseReq("p1"));
  FailRetryable();
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_FAILED);
  EXPECT_EQ(record_.outcome().retry_state(),
            enums::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
}

TEST_F(PauseTest, StartToCloseTimeoutWhilePauseRequested) {
  Schedule();
  Start();
  Ok(PauseReq("p1"));
  Advance(absl::Seconds(10));
  Fire(TimerKind::kStartToClose);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
  EXPECT_EQ(record_.attempt(), 2);
  EXPECT_EQ(record_.last_failure().timeout_failure_info().timeout_type(),
            enums::TIMEOUT_TYPE_START_TO_CLOSE);
}

TEST_F(PauseTest, HeartbeatTimeoutWhilePauseRequested) {
  SetOption(Options()->mutable_heartbeat_timeout(), absl::Seconds(3));
  Schedule();
  Start();
  Ok(PauseReq("p1"));
  Advance(absl::Seconds(3));
  Fire(TimerKind::kHeartbeat);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
  EXPECT_EQ(record_.attempt(), 2);
  EXPECT_EQ(record_.last_failure().timeout_failure_info().timeout_type(),
            enums::TIMEOUT_TYPE_HEARTBEAT);
}

TEST_F(PauseTest, UpdateOptionsPreservesTimeoutsWhilePauseRequested) {
  Schedule();
  Start();
  const absl::Time started = now();
  const int64_t stamp = record_.stamp();
  Ok(PauseReq("p1"));
  Advance(absl::Milliseconds(500));
  const Effects e = Ok(
      UpdateDuration("o1", OptionPath::kStartToCloseTimeout, absl::Seconds(1)));
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSE_REQUESTED);
  const Timer* stc = Find(e.timers, TimerKind::kStartToClose);
  ASSERT_NE(stc, nullptr);
  EXPECT_EQ(stc->deadline, started + absl::Seconds(1));
  EXPECT_EQ(stc->stamp, stamp + 1);
  // The timer armed at the start (old stamp) is stale.
  EXPECT_TRUE(Ok(TimerFired{TimerKind::kStartToClose, stamp}).unchanged);
  clock_.Advance(stc->deadline - now());
  Ok(TimerFired{TimerKind::kStartToClose, stc->stamp});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
  EXPECT_EQ(record_.attempt(), 2);
}

TEST_F(PauseTest, PauseUpdateOptionsAndUnpause) {
  SetOption(Policy()->mutable_initial_interval(), absl::Seconds(60));
  Schedule();
  Start();
  FailRetryable();
  const absl::Time failed_at = now();
  Ok(PauseReq("p1"));
  Advance(absl::Seconds(5));
  const Effects e =
      Ok(UpdateDuration("o1", OptionPath::kInitialInterval, absl::Seconds(1)));
  // The backoff in progress follows the new policy; still paused.
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
  EXPECT_EQ(RetryIntervalNow(), absl::Seconds(1));
  EXPECT_EQ(Find(e.timers, TimerKind::kDispatch), nullptr);
  Ok(UnpauseReq("u1"));
  EXPECT_EQ(DispatchTime(), now());  // failed_at + 1 s is past
  EXPECT_LT(failed_at + absl::Seconds(1), now());
  Start();
  EXPECT_EQ(record_.attempt(), 2);
  Ok(CompleteAttempt{{}, "w", false});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_COMPLETED);
}

// By-ID completion of a paused activity (parity TestCompleteByID/WhilePaused).
TEST_F(PauseTest, CompleteByIdWhilePaused) {
  Schedule();
  Ok(PauseReq("p1"));
  Ok(CompleteAttempt{{}, "client", true});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_COMPLETED);
  EXPECT_EQ(FromProtoTime(record_.started_time()), now());
}

// --- Unpause ---------------------------------------------------------------

TEST_F(UnpauseTest, UnpauseWhileScheduled) {
  SetOption(Options()->mutable_schedule_to_start_timeout(), absl::Seconds(5));
  Schedule();
  Ok(PauseReq("p1"));
  const int64_t paused_stamp = record_.stamp();
  Advance(absl::Seconds(2));
  const Effects e = Ok(UnpauseReq("u1"));
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(record_.stamp(), paused_stamp + 1);
  EXPECT_EQ(record_.unpause_request_id(), "u1");
  EXPECT_EQ(DispatchTime(), now());
  const Timer* dispatch = Find(e.timers, TimerKind::kDispatch);
  const Timer* s2s = Find(e.timers, TimerKind::kScheduleToStart);
  ASSERT_NE(dispatch, nullptr);
  ASSERT_NE(s2s, nullptr);
  EXPECT_EQ(dispatch->deadline, now());
  EXPECT_EQ(dispatch->stamp, record_.stamp());
  EXPECT_EQ(s2s->deadline, now() + absl::Seconds(5));
  EXPECT_EQ(s2s->stamp, record_.stamp());
  EXPECT_TRUE(Ok(TimerFired{TimerKind::kDispatch, record_.stamp()}).dispatch);
}

TEST_F(UnpauseTest, UnpauseWhileStarted) {
  Schedule();
  Start();
  const int64_t stamp = record_.stamp();
  Ok(PauseReq("p1"));
  const Effects e = Ok(UnpauseReq("u1", absl::Seconds(5)));
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_STARTED);
  EXPECT_EQ(record_.stamp(), stamp);
  EXPECT_TRUE(e.timers.empty());
  // The pause is remembered for deduplication.
  EXPECT_TRUE(Ok(PauseReq("p1")).unchanged);
}

TEST_F(UnpauseTest, UnpauseNonPausedActivityFails) {
  Schedule();
  ExpectPrecondition(Refused(UnpauseReq("u1")),
                     "activity is in non-unpausable state Scheduled");
  Start();
  ExpectPrecondition(Refused(UnpauseReq("u1")),
                     "activity is in non-unpausable state Started");
  EXPECT_TRUE(record_.unpause_request_id().empty());
}

TEST_F(UnpauseTest, DuplicateRequestIDDoesNotUndoLaterPause) {
  Schedule();
  Ok(PauseReq("p1"));
  Ok(UnpauseReq("u1"));
  Ok(PauseReq("p2"));
  EXPECT_TRUE(Ok(UnpauseReq("u1")).unchanged);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
}

TEST_F(UnpauseTest, UnpauseWithJitter) {
  SetOption(Options()->mutable_schedule_to_start_timeout(), absl::Seconds(5));
  Schedule();
  Ok(PauseReq("p1"));
  const Effects e = Ok(UnpauseReq("u1", absl::Seconds(3)));
  EXPECT_EQ(DispatchTime(), now() + absl::Seconds(3));
  ASSERT_NE(Find(e.timers, TimerKind::kScheduleToStart), nullptr);
  EXPECT_EQ(Find(e.timers, TimerKind::kScheduleToStart)->deadline,
            now() + absl::Seconds(8));
}

// --- Reset -----------------------------------------------------------------

TEST_F(ResetTest, DuplicateRequestIDWhileStartedIsNoOp) {
  Schedule();
  Start();
  FailRetryable();
  Ok(ResetReq("r1"));
  EXPECT_EQ(record_.attempt(), 1);
  Start();
  EXPECT_TRUE(Ok(ResetReq("r1")).unchanged);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_STARTED);
}

TEST_F(ResetTest, AfterRetry) {
  Schedule();
  Start();
  FailRetryable();
  Start();
  FailRetryable();
  ASSERT_EQ(record_.attempt(), 3);
  const absl::Time failed_at = now();
  const int64_t stamp = record_.stamp();
  Advance(absl::Milliseconds(500));
  const Effects e = Ok(ResetReq("r1"));
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(record_.attempt(), 1);
  EXPECT_EQ(record_.stamp(), stamp + 1);
  EXPECT_FALSE(record_.has_current_retry_interval());
  EXPECT_EQ(DispatchTime(), now());  // the 2 s backoff is dropped
  const Timer* dispatch = Find(e.timers, TimerKind::kDispatch);
  ASSERT_NE(dispatch, nullptr);
  EXPECT_EQ(dispatch->deadline, now());
  EXPECT_EQ(dispatch->stamp, record_.stamp());
  // What the last attempt left is kept.
  EXPECT_EQ(record_.last_failure().message(), "boom");
  EXPECT_EQ(FromProtoTime(record_.attempt_complete_time()), failed_at);
  EXPECT_EQ(record_.reset_request_id(), "r1");
  Start();
  EXPECT_EQ(record_.attempt(), 1);
}

TEST_F(ResetTest, TokenFromBeforeResetCannotCompleteResetAttempt) {
  Schedule();
  Start();
  const int64_t old_token = record_.started_stamp();
  Ok(ResetReq("r1"));
  // The token stays valid while the reset waits.
  EXPECT_EQ(record_.started_stamp(), old_token);
  FailRetryable();
  EXPECT_TRUE(absl::IsAborted(Refused(StartAttempt{old_token, "w", "", ""})));
  Start();
  EXPECT_NE(record_.started_stamp(), old_token);
}

TEST_F(ResetTest, WhileRunning) {
  Schedule();
  Start();
  FailRetryable();
  Advance(absl::Seconds(1));
  Start();
  ASSERT_EQ(record_.attempt(), 2);
  const int64_t stamp = record_.stamp();
  // Jitter is ignored by a deferred reset.
  Reset reset = ResetReq("r1");
  reset.delay = absl::Seconds(30);
  const Effects deferred = Ok(reset);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_RESET_REQUESTED);
  EXPECT_EQ(record_.attempt(), 2);
  EXPECT_EQ(record_.stamp(), stamp);
  EXPECT_TRUE(deferred.timers.empty());
  Ok(RecordHeartbeat{});
  Advance(absl::Seconds(1));
  const Effects landed = Ok(FailAttempt{AppFailure("Oops", false), {}, "w"});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(record_.attempt(), 1);
  EXPECT_EQ(record_.stamp(), stamp + 1);
  // At once: no backoff (2 s by policy), no jitter.
  EXPECT_EQ(DispatchTime(), now());
  EXPECT_FALSE(record_.has_current_retry_interval());
  EXPECT_EQ(record_.last_failure().message(), "boom");
  EXPECT_EQ(FromProtoTime(record_.attempt_complete_time()), now());
  ASSERT_NE(Find(landed.timers, TimerKind::kDispatch), nullptr);
  EXPECT_EQ(Find(landed.timers, TimerKind::kDispatch)->deadline, now());
  EXPECT_FALSE(record_.has_deferred_reset());
}

TEST_F(ResetTest, DeferredResetLandsOnNonRetryableFailure) {
  Schedule();
  Start();
  Ok(ResetReq("r1"));
  FailNonRetryable();
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(record_.attempt(), 1);
  EXPECT_EQ(record_.last_failure().message(), "boom");
}

TEST_F(ResetTest, DeferredResetLandsWhenRetriesExhausted) {
  Policy()->set_maximum_attempts(2);
  Schedule();
  Start();
  FailRetryable();
  Start();
  ASSERT_EQ(record_.attempt(), 2);
  Ok(ResetReq("r1"));
  FailRetryable();
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(record_.attempt(), 1);
}

TEST_F(ResetTest, WhileCancelRequestedReturnsFailedPrecondition) {
  Schedule();
  Start();
  Ok(RequestCancel{"c1", "why", "client"});
  ExpectPrecondition(Refused(ResetReq("r1")),
                     "cannot reset an activity with a pending cancellation");
  Ok(CompleteAttempt{{}, "w", false});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_COMPLETED);
}

TEST_F(ResetTest, CancelWhileResetRequestedDropsTheReset) {
  Schedule();
  Start();
  Ok(RecordHeartbeat{Details("7")});
  Reset reset = ResetReq("r1");
  reset.reset_heartbeat = true;
  reset.restore_original_options = true;
  Ok(reset);
  Ok(RequestCancel{"c1", "why", "client"});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_CANCEL_REQUESTED);
  EXPECT_EQ(record_.cancel_reason(), "why");
  EXPECT_FALSE(record_.deferred_reset().clear_heartbeat());
  EXPECT_FALSE(record_.deferred_reset().restore_options());
  // The failure is not a reset landing: the cancel stops the run.
  FailRetryable();
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_FAILED);
  EXPECT_EQ(record_.outcome().retry_state(),
            enums::RETRY_STATE_CANCEL_REQUESTED);
  EXPECT_EQ(record_.heartbeat_details().payloads(0).data(), "7");
}

TEST_F(ResetTest, InRetryWithLongInterval) {
  SetOption(Policy()->mutable_initial_interval(), absl::Seconds(60));
  Schedule();
  Start();
  FailRetryable();
  Advance(absl::Seconds(1));
  Ok(ResetReq("r1"));
  EXPECT_EQ(DispatchTime(), now());
  EXPECT_EQ(record_.attempt(), 1);
}

TEST_F(ResetTest, ResetHeartbeatDetails) {
  for (bool clear : {false, true}) {
    SCOPED_TRACE(clear ? "resetHeartbeat=true" : "resetHeartbeat=false");
    record_ = ActivityRecord();
    SetUp();
    Schedule();
    Start();
    Ok(RecordHeartbeat{Details("7")});
    FailRetryable();
    Reset reset = ResetReq("r1");
    reset.reset_heartbeat = clear;
    Ok(reset);
    EXPECT_EQ(record_.has_heartbeat_details(), !clear);
    EXPECT_EQ(record_.has_last_heartbeat_time(), !clear);
    EXPECT_EQ(record_.heartbeat_count(), 1);  // the total is kept
  }
}

TEST_F(ResetTest, ResetHeartbeatDetailsWhileStarted) {
  for (bool clear : {false, true}) {
    SCOPED_TRACE(clear ? "resetHeartbeat=true" : "resetHeartbeat=false");
    record_ = ActivityRecord();
    SetUp();
    Schedule();
    Start();
    Ok(RecordHeartbeat{Details("7")});
    Reset reset = ResetReq("r1");
    reset.reset_heartbeat = clear;
    Ok(reset);
    // Deferred: the running attempt keeps its checkpoint until it yields.
    EXPECT_EQ(record_.heartbeat_details().payloads(0).data(), "7");
    Ok(FailAttempt{AppFailure("Oops", false), Details("8"), "w"});
    EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
    EXPECT_EQ(record_.has_heartbeat_details(), !clear);
    if (!clear) {
      EXPECT_EQ(record_.heartbeat_details().payloads(0).data(), "8");
    }
    EXPECT_EQ(record_.heartbeat_count(), 2);
  }
}

TEST_F(ResetTest, TerminalStateReturnsFailedPrecondition) {
  Schedule();
  Start();
  FailNonRetryable();
  ExpectPrecondition(Refused(ResetReq("r1")),
                     "activity execution is not running");
}

TEST_F(ResetTest, KeepPaused) {
  Schedule();
  Start();
  FailRetryable();
  Ok(PauseReq("p1"));
  const int64_t stamp = record_.stamp();
  Reset reset = ResetReq("r1");
  reset.keep_paused = true;
  reset.delay = absl::Seconds(30);  // ignored: nothing is dispatched
  const Effects e = Ok(reset);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
  EXPECT_EQ(record_.attempt(), 1);
  EXPECT_EQ(record_.stamp(), stamp + 1);
  EXPECT_FALSE(record_.has_current_retry_interval());
  EXPECT_FALSE(record_.has_dispatch_time());
  EXPECT_EQ(Find(e.timers, TimerKind::kDispatch), nullptr);
  Advance(absl::Seconds(1));
  Ok(UnpauseReq("u1", absl::Seconds(2)));
  EXPECT_EQ(DispatchTime(), now() + absl::Seconds(2));
  EXPECT_EQ(record_.attempt(), 1);
}

TEST_F(ResetTest, ScheduledWithPauseStateKeepPausedFalse) {
  Schedule();
  Start();
  FailRetryable();
  Ok(PauseReq("p1"));
  Reset reset = ResetReq("r1");
  reset.delay = absl::Seconds(3);  // jitter, drawn by the caller
  Ok(reset);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(record_.attempt(), 1);
  EXPECT_EQ(DispatchTime(), now() + absl::Seconds(3));
}

TEST_F(ResetTest, KeepPausedOnScheduledIsIgnored) {
  Schedule();
  Start();
  FailRetryable();
  Reset reset = ResetReq("r1");
  reset.keep_paused = true;
  Ok(reset);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(record_.attempt(), 1);
}

TEST_F(ResetTest, StartedWithPauseStateKeepPausedFalse) {
  Schedule();
  Start();
  Ok(PauseReq("p1"));
  Ok(ResetReq("r1"));
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_RESET_REQUESTED);
  EXPECT_FALSE(record_.deferred_reset().keep_paused());
  FailRetryable();
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(record_.attempt(), 1);
}

TEST_F(ResetTest, StartedWithPauseStateKeepPausedTrue) {
  Schedule();
  Start();
  Ok(PauseReq("p1"));
  Reset reset = ResetReq("r1");
  reset.keep_paused = true;
  Ok(reset);
  EXPECT_TRUE(record_.deferred_reset().keep_paused());
  // UnpauseWhileResetKeepPausedFails
  ExpectPrecondition(Refused(UnpauseReq("u1")),
                     "activity is in non-unpausable state ResetRequested");
  const Effects e = Ok(FailAttempt{AppFailure("Oops", false), {}, "w"});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
  EXPECT_EQ(record_.attempt(), 1);
  EXPECT_FALSE(record_.has_dispatch_time());
  EXPECT_EQ(Find(e.timers, TimerKind::kDispatch), nullptr);
}

// keep_paused keeps a pause: on a STARTED run there is none to keep.
TEST_F(ResetTest, KeepPausedWhileStartedWithoutPauseLandsScheduled) {
  Schedule();
  Start();
  Reset reset = ResetReq("r1");
  reset.keep_paused = true;
  Ok(reset);
  EXPECT_FALSE(record_.deferred_reset().keep_paused());
  FailRetryable();
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
}

TEST_F(ResetTest, KeepPausedWhileRunningOnLaterAttemptDropsRetryBackoff) {
  SetOption(Policy()->mutable_initial_interval(), absl::Seconds(60));
  Schedule();
  Start();
  FailRetryable();
  Advance(absl::Seconds(60));
  Start();
  ASSERT_EQ(record_.attempt(), 2);
  Ok(PauseReq("p1"));
  Reset reset = ResetReq("r1");
  reset.keep_paused = true;
  Ok(reset);
  Advance(absl::Seconds(10));
  Fire(TimerKind::kStartToClose);  // ResetKeepPausedWhilePauseRequested
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
  EXPECT_EQ(record_.attempt(), 1);
  EXPECT_FALSE(record_.has_current_retry_interval());
  Ok(UnpauseReq("u1"));
  EXPECT_EQ(DispatchTime(), now());
}

TEST_F(ResetTest, ResetWhileResetRequested_Rejected) {
  Schedule();
  Start();
  Ok(ResetReq("r1"));
  ExpectPrecondition(Refused(ResetReq("r2")),
                     "cannot reset an activity with a pending reset");
  EXPECT_TRUE(Ok(ResetReq("r1")).unchanged);
}

TEST_F(ResetTest, TimeoutsWhileResetRequestedLandAtAttemptOne) {
  for (TimerKind kind : {TimerKind::kStartToClose, TimerKind::kHeartbeat}) {
    record_ = ActivityRecord();
    SetUp();
    SetOption(Options()->mutable_heartbeat_timeout(), absl::Seconds(3));
    Schedule();
    Start();
    FailRetryable();
    Start();
    Ok(ResetReq("r1"));
    Advance(absl::Seconds(10));
    Fire(kind);
    EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
    EXPECT_EQ(record_.attempt(), 1);
    EXPECT_EQ(DispatchTime(), now());
  }
}

TEST_F(ResetTest, UpdateOptionsWhileResetRequestedFails) {
  Schedule();
  Start();
  Reset reset = ResetReq("r1");
  reset.restore_original_options = true;
  Ok(reset);
  // The status check comes before the deferred-restore one.
  ExpectPrecondition(
      Refused(UpdateDuration("o1", OptionPath::kStartToCloseTimeout,
                             absl::Seconds(20))),
      "Cannot update options for activity in state "
      "ResetRequested");
}

TEST_F(ResetTest, RestoreOriginalOptions_WhileScheduled) {
  SetOption(Options()->mutable_schedule_to_close_timeout(), absl::Seconds(100));
  Schedule();
  const ActivityOptions original = record_.options();
  Start();
  FailRetryable();
  ActivityOptions update;
  SetOption(update.mutable_start_to_close_timeout(), absl::Seconds(30));
  update.mutable_retry_policy()->set_maximum_attempts(5);
  Ok(UpdateReq("o1",
               {OptionPath::kStartToCloseTimeout, OptionPath::kMaximumAttempts},
               update));
  ASSERT_FALSE(SameOptions(record_.options(), original));
  Reset reset = ResetReq("r1");
  reset.restore_original_options = true;
  const Effects e = Ok(reset);
  EXPECT_TRUE(SameOptions(record_.options(), original));
  EXPECT_EQ(record_.attempt(), 1);
  ASSERT_NE(Find(e.timers, TimerKind::kScheduleToClose), nullptr);
}

TEST_F(ResetTest, RestoreOriginalOptions_WhileStarted_AttemptFails) {
  struct Case {
    const char* name;
    int32_t max_attempts;
    bool retryable;
  };
  for (const Case& c :
       {Case{"RetriesRemainingWhenApplyingPendingReset", 0, true},
        Case{"RetriesExhaustedWhenApplyingPendingReset", 1, true},
        Case{"AttemptFailsNonRetryably", 0, false}}) {
    SCOPED_TRACE(c.name);
    record_ = ActivityRecord();
    SetUp();
    SetOption(Options()->mutable_schedule_to_close_timeout(),
              absl::Seconds(100));
    Policy()->set_maximum_attempts(c.max_attempts);
    Schedule();
    const ActivityOptions original = record_.options();
    Start();
    // Running with a shorter schedule-to-close and start-to-close.
    ActivityOptions update;
    SetOption(update.mutable_schedule_to_close_timeout(), absl::Seconds(8));
    SetOption(update.mutable_start_to_close_timeout(), absl::Seconds(5));
    Ok(UpdateReq(
        "o1",
        {OptionPath::kScheduleToCloseTimeout, OptionPath::kStartToCloseTimeout},
        update));
    Reset reset = ResetReq("r1");
    reset.restore_original_options = true;
    Ok(reset);
    // Deferred: the running attempt keeps the updated options.
    EXPECT_EQ(FromProtoDuration(record_.options().schedule_to_close_timeout()),
              absl::Seconds(8));
    EXPECT_EQ(Find(TimersFor(record_), TimerKind::kScheduleToClose)->deadline,
              ScheduleTime() + absl::Seconds(8));
    Advance(absl::Seconds(1));
    const Effects e = Ok(FailAttempt{
        AppFailure("Oops", /*non_retryable=*/!c.retryable), {}, "w"});
    EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
    EXPECT_EQ(record_.attempt(), 1);
    EXPECT_TRUE(SameOptions(record_.options(), original));
    // The schedule-to-close timer is re-issued at the original deadline; the
    // one for the 8 s deadline is stale when it fires.
    const Timer* s2c = Find(e.timers, TimerKind::kScheduleToClose);
    ASSERT_NE(s2c, nullptr);
    EXPECT_EQ(s2c->deadline, ScheduleTime() + absl::Seconds(100));
    clock_.Advance(ScheduleTime() + absl::Seconds(8) - now());
    EXPECT_TRUE(Fire(TimerKind::kScheduleToClose).unchanged);
    EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  }
}

TEST_F(ResetTest, RestoreOriginalOptions_WhileStarted_AttemptSucceeds) {
  Schedule();
  Start();
  Ok(UpdateDuration("o1", OptionPath::kStartToCloseTimeout, absl::Seconds(5)));
  Reset reset = ResetReq("r1");
  reset.restore_original_options = true;
  Ok(reset);
  Ok(CompleteAttempt{{}, "w", false});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_COMPLETED);
  EXPECT_EQ(FromProtoDuration(record_.options().start_to_close_timeout()),
            absl::Seconds(5));
}

TEST_F(ResetTest, RestoreOriginalOptions_OnStarted_DefersScheduleToClose) {
  SetOption(Options()->mutable_schedule_to_close_timeout(), absl::Seconds(100));
  Schedule();
  Start();
  Ok(UpdateDuration("o1", OptionPath::kScheduleToCloseTimeout,
                    absl::Seconds(8)));
  Reset reset = ResetReq("r1");
  reset.restore_original_options = true;
  Ok(reset);
  clock_.Advance(ScheduleTime() + absl::Seconds(8) - now());
  Fire(TimerKind::kScheduleToClose);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
}

TEST_F(ResetTest, ResetRestoreOriginal_KeepPaused_AppliesOnPausedLanding) {
  Schedule();
  const ActivityOptions original = record_.options();
  Start();
  Ok(UpdateDuration("o1", OptionPath::kStartToCloseTimeout, absl::Seconds(5)));
  Ok(PauseReq("p1"));
  Reset reset = ResetReq("r1");
  reset.keep_paused = true;
  reset.restore_original_options = true;
  Ok(reset);
  FailRetryable();
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
  EXPECT_EQ(record_.attempt(), 1);
  EXPECT_TRUE(SameOptions(record_.options(), original));
}

TEST_F(ResetTest, RestoreOriginalRejectsMissingOriginals) {
  Schedule();
  record_.mutable_original_options()->mutable_task_queue()->clear_name();
  Reset reset = ResetReq("r1");
  reset.restore_original_options = true;
  const std::string no_queue =
      "cannot restore original options: no original task queue was recorded "
      "for this activity";
  ExpectStatus(Refused(reset), absl::StatusCode::kInvalidArgument, no_queue);
  ExpectStatus(Refused(RestoreReq("o1")), absl::StatusCode::kInvalidArgument,
               no_queue);
  record_.mutable_original_options()->mutable_task_queue()->set_name("tq");
  record_.mutable_original_options()->clear_start_to_close_timeout();
  record_.mutable_original_options()->clear_schedule_to_close_timeout();
  const std::string no_timeout =
      "cannot restore original options: no original schedule-to-close or "
      "start-to-close timeout was recorded for this activity";
  ExpectStatus(Refused(reset), absl::StatusCode::kInvalidArgument, no_timeout);
  ExpectStatus(Refused(RestoreReq("o1")), absl::StatusCode::kInvalidArgument,
               no_timeout);
}

// --- UpdateOptions ---------------------------------------------------------

TEST_F(UpdateOptionsTest, UpdateStartedActivityKeepsOriginalTaskTokenUsable) {
  SetOption(Options()->mutable_heartbeat_timeout(), absl::Seconds(3));
  Schedule();
  Start();
  const absl::Time started = now();
  const int64_t stamp = record_.stamp();
  Advance(absl::Seconds(2));
  Ok(RecordHeartbeat{});
  const absl::Time beat = now();
  Advance(absl::Seconds(1));
  const Effects e = Ok(UpdateDuration("o1", OptionPath::kStartToCloseTimeout,
                                      absl::Seconds(20)));
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_STARTED);
  EXPECT_EQ(record_.stamp(), stamp + 1);
  EXPECT_EQ(record_.started_stamp(), stamp);  // the token stays valid
  EXPECT_EQ(record_.update_options_request_id(), "o1");
  const Timer* stc = Find(e.timers, TimerKind::kStartToClose);
  const Timer* hb = Find(e.timers, TimerKind::kHeartbeat);
  ASSERT_NE(stc, nullptr);
  ASSERT_NE(hb, nullptr);
  EXPECT_EQ(stc->deadline, started + absl::Seconds(20));
  EXPECT_EQ(stc->stamp, stamp + 1);
  EXPECT_EQ(hb->deadline, beat + absl::Seconds(3));
  EXPECT_EQ(hb->stamp, stamp + 1);
  EXPECT_EQ(Find(e.timers, TimerKind::kDispatch), nullptr);
  // The timers armed before the update are stale.
  clock_.Advance(started + absl::Seconds(10) - now());
  EXPECT_TRUE(Ok(TimerFired{TimerKind::kStartToClose, stamp}).unchanged);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_STARTED);
  Ok(RecordHeartbeat{});
  Ok(CompleteAttempt{{}, "w", false});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_COMPLETED);
}

TEST_F(UpdateOptionsTest, ChangeHeartbeatTimeoutAnchoredAtAttemptStart) {
  Schedule();
  Start();
  const absl::Time started = now();
  Advance(absl::Seconds(2));
  const Effects e =
      Ok(UpdateDuration("o1", OptionPath::kHeartbeatTimeout, absl::Seconds(1)));
  const Timer* hb = Find(e.timers, TimerKind::kHeartbeat);
  ASSERT_NE(hb, nullptr);
  // Without a heartbeat the start counts as one: already due.
  EXPECT_EQ(hb->deadline, started + absl::Seconds(1));
  Ok(TimerFired{TimerKind::kHeartbeat, hb->stamp});
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(record_.last_failure().timeout_failure_info().timeout_type(),
            enums::TIMEOUT_TYPE_HEARTBEAT);
}

TEST_F(UpdateOptionsTest, ChangeScheduleToClose) {
  SetOption(Options()->mutable_schedule_to_close_timeout(), absl::Seconds(100));
  Schedule();
  Start();
  FailRetryable();
  const Effects e = Ok(UpdateDuration("o1", OptionPath::kScheduleToCloseTimeout,
                                      absl::Seconds(10)));
  const Timer* s2c = Find(e.timers, TimerKind::kScheduleToClose);
  ASSERT_NE(s2c, nullptr);
  EXPECT_EQ(s2c->deadline, ScheduleTime() + absl::Seconds(10));
  EXPECT_EQ(s2c->stamp, 0);
  clock_.Advance(s2c->deadline - now());
  Fire(TimerKind::kScheduleToClose);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
  EXPECT_EQ(record_.outcome().failure().timeout_failure_info().timeout_type(),
            enums::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE);
}

TEST_F(UpdateOptionsTest, ExtendedScheduleToCloseMakesOldDeadlineStale) {
  SetOption(Options()->mutable_schedule_to_close_timeout(), absl::Seconds(10));
  Schedule();
  Start();
  Ok(UpdateDuration("o1", OptionPath::kScheduleToCloseTimeout,
                    absl::Seconds(100)));
  clock_.Advance(ScheduleTime() + absl::Seconds(10) - now());
  EXPECT_TRUE(Fire(TimerKind::kScheduleToClose).unchanged);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_STARTED);
  clock_.Advance(absl::Seconds(90));
  Fire(TimerKind::kScheduleToClose);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
}

TEST_F(UpdateOptionsTest, RemovedScheduleToCloseMakesOldTimerStale) {
  SetOption(Options()->mutable_schedule_to_close_timeout(), absl::Seconds(10));
  Schedule();
  const Effects e = Ok(UpdateDuration("o1", OptionPath::kScheduleToCloseTimeout,
                                      absl::ZeroDuration()));
  EXPECT_EQ(Find(e.timers, TimerKind::kScheduleToClose), nullptr);
  clock_.Advance(absl::Seconds(10));
  EXPECT_TRUE(Fire(TimerKind::kScheduleToClose).unchanged);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
}

TEST_F(UpdateOptionsTest, ChangeScheduleToStart) {
  SetOption(Options()->mutable_schedule_to_start_timeout(), absl::Seconds(60));
  Schedule();
  const int64_t stamp = record_.stamp();
  Advance(absl::Seconds(3));
  const Effects e = Ok(UpdateDuration("o1", OptionPath::kScheduleToStartTimeout,
                                      absl::Seconds(5)));
  const Timer* s2s = Find(e.timers, TimerKind::kScheduleToStart);
  ASSERT_NE(s2s, nullptr);
  EXPECT_EQ(s2s->deadline, DispatchTime() + absl::Seconds(5));
  EXPECT_EQ(s2s->stamp, stamp + 1);
  clock_.Advance(s2s->deadline - now());
  Fire(TimerKind::kScheduleToStart);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
}

TEST_F(UpdateOptionsTest, ChangeTaskQueue_RedispatchesToNewQueue) {
  Schedule();
  const int64_t stamp = record_.stamp();
  ActivityOptions update;
  update.mutable_task_queue()->set_name("tq-b");
  const Effects e = Ok(UpdateReq("o1", {OptionPath::kTaskQueueName}, update));
  EXPECT_EQ(record_.options().task_queue().name(), "tq-b");
  const Timer* dispatch = Find(e.timers, TimerKind::kDispatch);
  ASSERT_NE(dispatch, nullptr);
  EXPECT_EQ(dispatch->stamp, stamp + 1);
  // The task queued on the old queue is stale.
  EXPECT_FALSE(Ok(TimerFired{TimerKind::kDispatch, stamp}).dispatch);
  EXPECT_TRUE(absl::IsAborted(Refused(StartAttempt{stamp, "w", "", ""})));
}

TEST_F(UpdateOptionsTest, ChangeRetryInterval) {
  SetOption(Policy()->mutable_initial_interval(), absl::Seconds(60));
  Schedule();
  Start();
  FailRetryable();
  const absl::Time failed_at = now();
  const Effects e =
      Ok(UpdateDuration("o1", OptionPath::kInitialInterval, absl::Seconds(1)));
  EXPECT_EQ(RetryIntervalNow(), absl::Seconds(1));
  EXPECT_EQ(DispatchTime(), failed_at + absl::Seconds(1));
  const Timer* dispatch = Find(e.timers, TimerKind::kDispatch);
  ASSERT_NE(dispatch, nullptr);
  EXPECT_EQ(dispatch->deadline, failed_at + absl::Seconds(1));
  EXPECT_EQ(dispatch->stamp, record_.stamp());
}

TEST_F(UpdateOptionsTest, ChangeRetryInterval_Consecutive) {
  Schedule();
  Start();
  FailRetryable();
  Start();
  FailRetryable();
  ASSERT_EQ(record_.attempt(), 3);
  ASSERT_EQ(RetryIntervalNow(), absl::Seconds(2));
  Ok(UpdateDuration("o1", OptionPath::kInitialInterval, absl::Seconds(10)));
  EXPECT_EQ(RetryIntervalNow(), absl::Seconds(20));  // 10 s × 2^(2−1)
  ActivityOptions update;
  update.mutable_retry_policy()->set_backoff_coefficient(3);
  Ok(UpdateReq("o2", {OptionPath::kBackoffCoefficient}, update));
  EXPECT_EQ(RetryIntervalNow(), absl::Seconds(30));
}

TEST_F(UpdateOptionsTest, UpdateRetryPolicy_PreservesNextRetryDelay) {
  for (bool paused : {false, true}) {
    SCOPED_TRACE(paused ? "paused" : "scheduled");
    record_ = ActivityRecord();
    SetUp();
    Schedule();
    Start();
    auto failure = AppFailure("Oops", false);
    *failure.mutable_application_failure_info()->mutable_next_retry_delay() =
        ToProtoDuration(absl::Seconds(2));
    Ok(FailAttempt{failure, {}, "w"});
    const absl::Time failed_at = now();
    if (paused) Ok(PauseReq("p1"));
    // UpdateUnrelatedField_PreservesNextRetryDelay
    Ok(UpdateDuration("o1", OptionPath::kStartToCloseTimeout,
                      absl::Seconds(20)));
    EXPECT_EQ(RetryIntervalNow(), absl::Seconds(2));
    // A policy change keeps the worker's delay too (even an equal one).
    Ok(UpdateDuration("o2", OptionPath::kInitialInterval, absl::Seconds(2)));
    EXPECT_EQ(RetryIntervalNow(), absl::Seconds(2));
    Ok(UpdateDuration("o3", OptionPath::kInitialInterval, absl::Seconds(10)));
    EXPECT_EQ(RetryIntervalNow(), absl::Seconds(2));
    if (paused) Ok(UnpauseReq("u1"));
    EXPECT_EQ(DispatchTime(), failed_at + absl::Seconds(2));
  }
}

TEST_F(UpdateOptionsTest, ChangeRetryInterval_WhileStarted) {
  Schedule();
  Start();
  Ok(UpdateDuration("o1", OptionPath::kInitialInterval, absl::Seconds(7)));
  FailRetryable();
  EXPECT_EQ(DispatchTime(), now() + absl::Seconds(7));
}

TEST_F(UpdateOptionsTest, DuplicateRequestIDSucceeds) {
  Schedule();
  Ok(UpdateDuration("o1", OptionPath::kStartToCloseTimeout, absl::Seconds(20)));
  EXPECT_TRUE(Ok(UpdateDuration("o1", OptionPath::kStartToCloseTimeout,
                                absl::Seconds(30)))
                  .unchanged);
  EXPECT_EQ(FromProtoDuration(record_.options().start_to_close_timeout()),
            absl::Seconds(20));
  Ok(Terminate{"t1", "enough", "ops"});
  EXPECT_TRUE(Ok(UpdateDuration("o1", OptionPath::kStartToCloseTimeout,
                                absl::Seconds(30)))
                  .unchanged);
  ExpectPrecondition(
      Refused(UpdateDuration("o2", OptionPath::kStartToCloseTimeout,
                             absl::Seconds(30))),
      "Cannot update options for activity in state Terminated");
}

TEST_F(UpdateOptionsTest, RejectInvalidMergedRetryPolicy) {
  Schedule();
  ExpectStatus(Refused(UpdateDuration("o1", OptionPath::kMaximumInterval,
                                      absl::Milliseconds(500))),
               absl::StatusCode::kInvalidArgument,
               "MaximumInterval cannot be less than InitialInterval on retry "
               "policy.");
  ActivityOptions update;
  update.mutable_retry_policy()->set_backoff_coefficient(0.5);
  ExpectStatus(
      Refused(UpdateReq("o1", {OptionPath::kBackoffCoefficient}, update)),
      absl::StatusCode::kInvalidArgument,
      "BackoffCoefficient cannot be less than 1 on retry policy.");
}

TEST_F(UpdateOptionsTest, WhilePausedOnlyBumpsTheStamp) {
  SetOption(Options()->mutable_schedule_to_close_timeout(), absl::Seconds(100));
  Schedule();
  Ok(PauseReq("p1"));
  const int64_t stamp = record_.stamp();
  const Effects e = Ok(UpdateDuration("o1", OptionPath::kStartToCloseTimeout,
                                      absl::Seconds(20)));
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
  EXPECT_EQ(record_.stamp(), stamp + 1);
  ASSERT_EQ(e.timers.size(), 1u);
  EXPECT_EQ(e.timers[0].kind, TimerKind::kScheduleToClose);
}

// --- Start delay -----------------------------------------------------------

TEST_F(StartDelayOperatorTest, PauseDuringDelay_UnpauseHonorsWallClockTarget) {
  Schedule();
  const absl::Time target = ScheduleTime() + absl::Seconds(30);
  Advance(absl::Seconds(5));
  Ok(PauseReq("p1"));
  Advance(absl::Seconds(5));
  const Effects e = Ok(UnpauseReq("u1", absl::Seconds(2)));
  EXPECT_EQ(DispatchTime(), target);
  // PauseDuringDelay_ScheduleToStartReanchored: from the target, not now.
  ASSERT_NE(Find(e.timers, TimerKind::kScheduleToStart), nullptr);
  EXPECT_EQ(Find(e.timers, TimerKind::kScheduleToStart)->deadline,
            target + absl::Seconds(5));
}

TEST_F(StartDelayOperatorTest,
       PauseDuringDelay_UnpauseAfterDelay_DispatchesImmediately) {
  Schedule();
  Advance(absl::Seconds(5));
  Ok(PauseReq("p1"));
  Advance(absl::Seconds(35));
  Ok(UnpauseReq("u1", absl::Seconds(2)));
  EXPECT_EQ(DispatchTime(), now() + absl::Seconds(2));
}

TEST_F(StartDelayOperatorTest,
       PauseDuringDelay_MultipleCyclesHonorWallClockTarget) {
  Schedule();
  const absl::Time target = ScheduleTime() + absl::Seconds(30);
  for (int i = 0; i < 3; ++i) {
    Advance(absl::Seconds(3));
    Ok(PauseReq(absl::StrCat("p", i)));
    Advance(absl::Seconds(3));
    Ok(UnpauseReq(absl::StrCat("u", i)));
    EXPECT_EQ(DispatchTime(), target);
  }
}

TEST_F(StartDelayOperatorTest, PausePostDispatch_NoStartDelayReapplied) {
  Schedule();
  Advance(absl::Seconds(30));
  Start();
  FailRetryable();
  const absl::Time failed_at = now();
  Ok(PauseReq("p1"));
  Ok(UnpauseReq("u1"));
  EXPECT_EQ(DispatchTime(), failed_at + absl::Seconds(1));
}

TEST_F(StartDelayOperatorTest, UpdateWhilePaused_ShortensDispatch) {
  Schedule();
  Advance(absl::Seconds(5));
  Ok(PauseReq("p1"));
  Ok(UpdateDuration("o1", OptionPath::kStartDelay, absl::Seconds(10)));
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_PAUSED);
  Ok(UnpauseReq("u1"));
  EXPECT_EQ(DispatchTime(), ScheduleTime() + absl::Seconds(10));
}

TEST_F(StartDelayOperatorTest, UpdateWhilePaused_AfterWindow_ExtendsDispatch) {
  SetOption(Options()->mutable_start_delay(), absl::Seconds(10));
  Schedule();
  Advance(absl::Seconds(5));
  Ok(PauseReq("p1"));
  Advance(absl::Seconds(15));  // past the original dispatch time
  const Effects e =
      Ok(UpdateDuration("o1", OptionPath::kStartDelay, absl::Seconds(60)));
  // The schedule-to-close deadline moves with the delay.
  ASSERT_NE(Find(e.timers, TimerKind::kScheduleToClose), nullptr);
  EXPECT_EQ(Find(e.timers, TimerKind::kScheduleToClose)->deadline,
            ScheduleTime() + absl::Seconds(160));
  Ok(UnpauseReq("u1"));
  EXPECT_EQ(DispatchTime(), ScheduleTime() + absl::Seconds(60));
}

TEST_F(StartDelayOperatorTest, UpdateWhilePaused_AfterWindow_RetractsDispatch) {
  Schedule();
  Advance(absl::Seconds(5));
  Ok(PauseReq("p1"));
  Advance(absl::Seconds(35));
  Ok(UpdateDuration("o1", OptionPath::kStartDelay, absl::ZeroDuration()));
  Ok(UnpauseReq("u1"));
  EXPECT_EQ(DispatchTime(), now());
}

TEST_F(StartDelayOperatorTest, UpdateAfterWindow_NotPaused_Rejected) {
  SetOption(Options()->mutable_start_delay(), absl::Seconds(10));
  Schedule();
  Advance(absl::Seconds(20));  // dispatched, not yet polled
  const std::string dispatched =
      "cannot update start_delay: the first activity attempt has already "
      "been dispatched";
  ExpectPrecondition(
      Refused(UpdateDuration("o1", OptionPath::kStartDelay, absl::Seconds(60))),
      dispatched);
  // UpdateAfterDispatch_Rejected: and once started, paused or not.
  Start();
  ExpectPrecondition(
      Refused(UpdateDuration("o1", OptionPath::kStartDelay, absl::Seconds(60))),
      dispatched);
  FailRetryable();
  Ok(PauseReq("p1"));
  ExpectPrecondition(
      Refused(UpdateDuration("o1", OptionPath::kStartDelay, absl::Seconds(60))),
      dispatched);
}

// The start-delay guard comes before the merge (upstream_operator.md §1,
// History (e) then (f)): a late start_delay update is refused as such even
// when the rest of the update would not normalize either.
TEST_F(StartDelayOperatorTest, UpdateAfterWindow_RejectedBeforeMerge) {
  SetOption(Options()->mutable_start_delay(), absl::Seconds(10));
  Options()->clear_schedule_to_close_timeout();
  Schedule();
  Advance(absl::Seconds(20));
  ActivityOptions update;
  SetOption(update.mutable_start_delay(), absl::Seconds(60));
  // No start-to-close nor schedule-to-close: the merge alone would fail.
  SetOption(update.mutable_start_to_close_timeout(), absl::ZeroDuration());
  ExpectPrecondition(
      Refused(UpdateReq(
          "o1", {OptionPath::kStartDelay, OptionPath::kStartToCloseTimeout},
          update)),
      "cannot update start_delay: the first activity attempt has already "
      "been dispatched");
}

TEST_F(StartDelayOperatorTest, UpdateDuringDelayAnchoredToScheduleTime) {
  Schedule();
  Advance(absl::Seconds(5));
  // UpdateLonger_ExtendsDispatch
  Effects e =
      Ok(UpdateDuration("o1", OptionPath::kStartDelay, absl::Seconds(60)));
  EXPECT_EQ(DispatchTime(), ScheduleTime() + absl::Seconds(60));
  // UpdateStartDelay_ScheduleToStartReanchored
  ASSERT_NE(Find(e.timers, TimerKind::kScheduleToStart), nullptr);
  EXPECT_EQ(Find(e.timers, TimerKind::kScheduleToStart)->deadline,
            ScheduleTime() + absl::Seconds(65));
  ASSERT_NE(Find(e.timers, TimerKind::kScheduleToClose), nullptr);
  EXPECT_EQ(Find(e.timers, TimerKind::kScheduleToClose)->deadline,
            ScheduleTime() + absl::Seconds(160));
  // UpdateShorter_ReducesDispatch
  Ok(UpdateDuration("o2", OptionPath::kStartDelay, absl::Seconds(10)));
  EXPECT_EQ(DispatchTime(), ScheduleTime() + absl::Seconds(10));
  // UpdatePastTime_DispatchesImmediately
  Advance(absl::Seconds(2));  // 7 s in: a 6 s delay is over
  Ok(UpdateDuration("o3", OptionPath::kStartDelay, absl::Seconds(6)));
  EXPECT_EQ(DispatchTime(), now());
  EXPECT_EQ(FromProtoDuration(record_.options().start_delay()),
            absl::Seconds(6));
}

TEST_F(StartDelayOperatorTest, UpdateToZero_DispatchImmediately) {
  Schedule();
  Advance(absl::Seconds(5));
  const Effects e =
      Ok(UpdateDuration("o1", OptionPath::kStartDelay, absl::ZeroDuration()));
  EXPECT_EQ(DispatchTime(), now());
  ASSERT_NE(Find(e.timers, TimerKind::kDispatch), nullptr);
  EXPECT_EQ(Find(e.timers, TimerKind::kDispatch)->deadline, now());
  EXPECT_TRUE(Ok(TimerFired{TimerKind::kDispatch, record_.stamp()}).dispatch);
}

TEST_F(StartDelayOperatorTest, UpdateNegative_Rejected) {
  Schedule();
  ExpectStatus(
      Refused(UpdateDuration("o1", OptionPath::kStartDelay, absl::Seconds(-1))),
      absl::StatusCode::kInvalidArgument,
      "invalid StartDelay: negative duration");
  // The sign is checked first, also once the delay can no longer change.
  Advance(absl::Seconds(40));
  ExpectStatus(
      Refused(UpdateDuration("o1", OptionPath::kStartDelay, absl::Seconds(-1))),
      absl::StatusCode::kInvalidArgument,
      "invalid StartDelay: negative duration");
}

TEST_F(StartDelayOperatorTest, UpdateRestoreOriginal_RestoresStartDelay) {
  Schedule();
  Advance(absl::Seconds(1));
  Ok(UpdateDuration("o1", OptionPath::kStartDelay, absl::Seconds(5)));
  Ok(RestoreReq("o2"));
  EXPECT_EQ(FromProtoDuration(record_.options().start_delay()),
            absl::Seconds(30));
  EXPECT_EQ(DispatchTime(), ScheduleTime() + absl::Seconds(30));
}

TEST_F(StartDelayOperatorTest,
       UpdateRestoreOriginal_AfterFirstStart_LeavesStartDelayUnchanged) {
  Schedule();
  Advance(absl::Seconds(1));
  Ok(UpdateDuration("o1", OptionPath::kStartDelay, absl::Seconds(2)));
  Ok(UpdateDuration("o2", OptionPath::kStartToCloseTimeout, absl::Seconds(20)));
  Advance(absl::Seconds(1));
  Start();
  // OnStartedActivity
  Ok(RestoreReq("o3"));
  EXPECT_EQ(FromProtoDuration(record_.options().start_delay()),
            absl::Seconds(2));
  EXPECT_EQ(FromProtoDuration(record_.options().start_to_close_timeout()),
            absl::Seconds(10));
  // OnRetryBackoff
  FailRetryable();
  Ok(RestoreReq("o4"));
  EXPECT_EQ(FromProtoDuration(record_.options().start_delay()),
            absl::Seconds(2));
}

TEST_F(StartDelayOperatorTest, ResetRestoreOriginal_RestoresStartDelay) {
  Schedule();
  Advance(absl::Seconds(1));
  Ok(UpdateDuration("o1", OptionPath::kStartDelay, absl::Seconds(5)));
  Advance(absl::Seconds(1));
  Reset reset = ResetReq("r1");
  reset.restore_original_options = true;
  const Effects e = Ok(reset);
  EXPECT_EQ(FromProtoDuration(record_.options().start_delay()),
            absl::Seconds(30));
  // ResetRestoreOriginal_PreservesOriginalWallClockTarget, and
  // ResetRestoreOriginal_RecomputesScheduleToStartAndScheduleToClose.
  EXPECT_EQ(DispatchTime(), ScheduleTime() + absl::Seconds(30));
  EXPECT_EQ(record_.attempt(), 1);
  ASSERT_NE(Find(e.timers, TimerKind::kScheduleToStart), nullptr);
  EXPECT_EQ(Find(e.timers, TimerKind::kScheduleToStart)->deadline,
            ScheduleTime() + absl::Seconds(35));
  ASSERT_NE(Find(e.timers, TimerKind::kScheduleToClose), nullptr);
  EXPECT_EQ(Find(e.timers, TimerKind::kScheduleToClose)->deadline,
            ScheduleTime() + absl::Seconds(130));
}

TEST_F(StartDelayOperatorTest,
       ResetRestoreOriginal_AfterDelayElapsed_DispatchesImmediately) {
  SetOption(Options()->mutable_start_delay(), absl::Seconds(5));
  Schedule();
  Advance(absl::Seconds(1));
  Ok(UpdateDuration("o1", OptionPath::kStartDelay, absl::Seconds(60)));
  Advance(absl::Seconds(9));
  Reset reset = ResetReq("r1");
  reset.restore_original_options = true;
  Ok(reset);
  EXPECT_EQ(FromProtoDuration(record_.options().start_delay()),
            absl::Seconds(5));
  EXPECT_EQ(DispatchTime(), now());
}

TEST_F(StartDelayOperatorTest,
       ResetRestoreOriginal_AfterFirstStart_LeavesStartDelayUnchanged) {
  Schedule();
  Advance(absl::Seconds(1));
  Ok(UpdateDuration("o1", OptionPath::kStartDelay, absl::Seconds(2)));
  Advance(absl::Seconds(1));
  Start();
  Reset reset = ResetReq("r1");
  reset.restore_original_options = true;
  // OnStartedActivity: deferred, then landed.
  Ok(reset);
  FailRetryable();
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_EQ(FromProtoDuration(record_.options().start_delay()),
            absl::Seconds(2));
  EXPECT_EQ(DispatchTime(), now());
  // OnRetryBackoff: immediate.
  Start();
  FailRetryable();
  reset.request_id = "r2";
  Ok(reset);
  EXPECT_EQ(FromProtoDuration(record_.options().start_delay()),
            absl::Seconds(2));
  EXPECT_EQ(DispatchTime(), now());
}

TEST_F(StartDelayOperatorTest, ResetDuringDelay_HonorsRemainingStartDelay) {
  Schedule();
  Advance(absl::Seconds(5));
  Ok(ResetReq("r1"));
  EXPECT_EQ(DispatchTime(), ScheduleTime() + absl::Seconds(30));
}

TEST_F(StartDelayOperatorTest, ResetAfterFirstStart_ReportsResetDispatchTime) {
  Schedule();
  Advance(absl::Seconds(30));
  Start();
  FailRetryable();
  Advance(absl::Milliseconds(500));
  Ok(ResetReq("r1"));
  EXPECT_EQ(DispatchTime(), now());
}

TEST_F(StartDelayOperatorTest,
       UpdateDuringRetryBackoff_DoesNotReapplyStartDelay) {
  Schedule();
  Advance(absl::Seconds(30));
  Start();
  Advance(absl::Seconds(1));
  FailRetryable();
  const absl::Time due = now() + absl::Seconds(1);
  Ok(UpdateDuration("o1", OptionPath::kStartToCloseTimeout, absl::Seconds(20)));
  EXPECT_EQ(DispatchTime(), due);
}

}  // namespace
}  // namespace errand::engine
