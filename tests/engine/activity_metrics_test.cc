#include "errand/engine/activity_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "errand/common/clock.h"

namespace errand::engine {
namespace {

using store::ToProtoDuration;
using ::testing::HasSubstr;

// Drives one run through the state machine, measuring each event as a
// shard does.
class ActivityMeasuresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    record_.set_namespace_id("ns-id");
    record_.set_activity_id("act");
    record_.set_run_id("run");
    record_.mutable_activity_type()->set_name("greet");
    record_.mutable_input()->add_payloads()->set_data("\"in\"");
    auto* o = record_.mutable_options();
    o->mutable_task_queue()->set_name("tq");
    *o->mutable_start_to_close_timeout() = ToProtoDuration(absl::Seconds(10));
    auto* p = o->mutable_retry_policy();
    *p->mutable_initial_interval() = ToProtoDuration(absl::Seconds(1));
    p->set_maximum_attempts(2);
    ScheduleNew(record_, clock_.Now());
  }
  ActivityMeasures Do(const ActivityEvent& event) {
    const RunBefore before = BeforeOf(record_);
    auto effects = Apply(record_, event, clock_.Now());
    EXPECT_TRUE(effects.ok()) << effects.status();
    return Measure(before, record_, event, clock_.Now());
  }
  ActivityMeasures StartAttempt1() {
    return Do(StartAttempt{record_.stamp(), "w", "sdk", "1"});
  }

  FakeClock clock_;
  ActivityRecord record_;
};

TEST_F(ActivityMeasuresTest, ANewRunCountsItsInput) {
  const ActivityMeasures m = MeasureNewRun(record_);
  EXPECT_STREQ(m.operation, "RecordActivityTaskStarted");
  EXPECT_EQ(m.payload_bytes, record_.input().ByteSizeLong());
}

TEST_F(ActivityMeasuresTest, StartMeasuresScheduleToStart) {
  clock_.Advance(absl::Milliseconds(250));
  const ActivityMeasures m = StartAttempt1();
  EXPECT_STREQ(m.operation, "RecordActivityTaskStarted");
  EXPECT_EQ(m.schedule_to_start, absl::Milliseconds(250));
}

TEST_F(ActivityMeasuresTest, CompletionCountsSuccessAndBothLatencies) {
  clock_.Advance(absl::Seconds(1));
  StartAttempt1();
  clock_.Advance(absl::Seconds(2));
  CompleteAttempt complete;
  complete.result.add_payloads()->set_data("\"out\"");
  const ActivityMeasures m = Do(complete);
  EXPECT_STREQ(m.operation, "RespondActivityTaskCompleted");
  EXPECT_TRUE(m.success);
  EXPECT_EQ(m.start_to_close, absl::Seconds(2));
  EXPECT_EQ(m.schedule_to_close, absl::Seconds(3));
  EXPECT_EQ(m.payload_bytes, complete.result.ByteSizeLong());
}

TEST_F(ActivityMeasuresTest, ARetriedFailureIsATaskFailureOnly) {
  StartAttempt1();
  clock_.Advance(absl::Seconds(1));
  FailAttempt fail;
  fail.failure.emplace().set_message("boom");
  const ActivityMeasures m = Do(fail);
  EXPECT_TRUE(m.task_fail);
  EXPECT_FALSE(m.fail);
  EXPECT_EQ(m.start_to_close, absl::Seconds(1));
  EXPECT_FALSE(m.schedule_to_close.has_value());
  EXPECT_FALSE(m.payload_bytes.has_value());
}

TEST_F(ActivityMeasuresTest, TheLastFailureFailsTheRun) {
  FailAttempt fail;
  fail.failure.emplace().set_message("boom");
  fail.failure->mutable_application_failure_info()
      ->mutable_details()
      ->add_payloads()
      ->set_data("\"why\"");
  StartAttempt1();
  Do(fail);
  clock_.Advance(absl::Seconds(1));  // the retry backoff
  StartAttempt1();
  const ActivityMeasures m = Do(fail);
  EXPECT_TRUE(m.task_fail);
  EXPECT_TRUE(m.fail);
  EXPECT_TRUE(m.schedule_to_close.has_value());
  EXPECT_EQ(m.payload_bytes,
            fail.failure->application_failure_info().details().ByteSizeLong());
}

TEST_F(ActivityMeasuresTest, TimeoutsCountByTypeAndTerminalOnlyAtTheEnd) {
  StartAttempt1();
  clock_.Advance(absl::Seconds(10));
  ActivityMeasures m =
      Do(TimerFired{TimerKind::kStartToClose, record_.stamp()});
  EXPECT_STREQ(m.timeout_type, "StartToClose");
  EXPECT_FALSE(m.timeout_terminal);
  clock_.Advance(absl::Seconds(1));
  StartAttempt1();
  clock_.Advance(absl::Seconds(10));
  m = Do(TimerFired{TimerKind::kStartToClose, record_.stamp()});
  EXPECT_STREQ(m.timeout_type, "StartToClose");
  EXPECT_TRUE(m.timeout_terminal);
  EXPECT_EQ(record_.status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
}

TEST_F(ActivityMeasuresTest, HeartbeatsCountWithOrWithoutDetails) {
  StartAttempt1();
  ActivityMeasures m = Do(RecordHeartbeat{});
  EXPECT_TRUE(m.heartbeat);
  EXPECT_FALSE(m.heartbeat_has_details);
  temporal::api::common::v1::Payloads details;
  details.add_payloads()->set_data("1");
  m = Do(RecordHeartbeat{details});
  EXPECT_TRUE(m.heartbeat_has_details);
  EXPECT_EQ(m.payload_bytes, details.ByteSizeLong());
}

TEST_F(ActivityMeasuresTest, CancelTerminateAndCommands) {
  ActivityMeasures m = Do(Pause{"p1", "", ""});
  EXPECT_EQ(m.command, ActivityMeasures::Command::kPause);
  m = Do(Unpause{"u1", "", absl::ZeroDuration()});
  EXPECT_EQ(m.command, ActivityMeasures::Command::kUnpause);
  m = Do(RequestCancel{"c1", "", ""});
  EXPECT_TRUE(m.cancel);  // no worker held it: canceled at once
  EXPECT_TRUE(m.schedule_to_close.has_value());
}

TEST_F(ActivityMeasuresTest, TerminateCountsNoLatency) {
  StartAttempt1();
  const ActivityMeasures m = Do(Terminate{"t1", "", ""});
  EXPECT_TRUE(m.terminate);
  EXPECT_FALSE(m.start_to_close.has_value());
  EXPECT_FALSE(m.schedule_to_close.has_value());
}

TEST(ActivityMetricsTest, RecordsWithTemporalsNamesAndTags) {
  metrics::Registry registry;
  ActivityMetrics activity_metrics(&registry, [](absl::string_view id) {
    return id == "ns-id" ? std::string("default") : std::string(id);
  });
  ActivityRecord run;
  run.set_namespace_id("ns-id");
  run.mutable_activity_type()->set_name("greet");
  run.mutable_options()->mutable_task_queue()->set_name("my-queue");
  ActivityMeasures m;
  m.operation = "RespondActivityTaskCompleted";
  m.success = true;
  m.start_to_close = absl::Milliseconds(3);
  activity_metrics.Record(run, m);
  activity_metrics.Record(run, m);
  const std::string text = registry.Render();
  EXPECT_THAT(text,
              HasSubstr("activity_success{service_name=\"history\","
                        "versioning_behavior=\"Unspecified\",workflowType=\"__"
                        "temporal_standalone_activity__\",activityType="
                        "\"greet\",namespace=\"default\",operation="
                        "\"RespondActivityTaskCompleted\",taskqueue=\"my_"
                        "queue\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("activity_start_to_close_latency_count{"));
  EXPECT_THAT(text, HasSubstr("le=\"0.005\"} 2\n"));
}

}  // namespace
}  // namespace errand::engine
