#include "errand/frontend/activity_validation.h"

#include <gtest/gtest.h>

#include "errand/common/uuid.h"

namespace errand::frontend {
namespace {

namespace ws = temporal::api::workflowservice::v1;
using store::FromProtoDuration;
using store::ToProtoDuration;

class StartValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    req_.Clear();
    ns_.set_id("ns-id");
    ns_.set_name("default");
    req_.set_namespace_("default");
    req_.set_activity_id("a1");
    req_.mutable_activity_type()->set_name("compose_greeting");
    req_.mutable_task_queue()->set_name("tq");
    *req_.mutable_start_to_close_timeout() = ToProtoDuration(absl::Seconds(10));
  }
  std::string Error() {
    auto r = ValidateStart(req_, ns_);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  }
  store::NamespaceRecord ns_;
  ws::StartActivityExecutionRequest req_;
};

TEST_F(StartValidationTest, FillsDefaults) {
  auto r = ValidateStart(req_, ns_);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& o = r->record.options();
  EXPECT_TRUE(IsUuid(r->record.request_ids(0)));
  EXPECT_EQ(FromProtoDuration(o.retry_policy().initial_interval()),
            absl::Seconds(1));
  EXPECT_EQ(o.retry_policy().backoff_coefficient(), 2.0);
  EXPECT_EQ(FromProtoDuration(o.retry_policy().maximum_interval()),
            absl::Seconds(100));
  EXPECT_EQ(o.retry_policy().maximum_attempts(), 0);
  EXPECT_EQ(FromProtoDuration(o.schedule_to_close_timeout()),
            absl::ZeroDuration());
  EXPECT_EQ(r->reuse_policy,
            temporal::api::enums::v1::ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE);
  EXPECT_EQ(r->conflict_policy,
            temporal::api::enums::v1::ACTIVITY_ID_CONFLICT_POLICY_FAIL);
  EXPECT_EQ(r->record.namespace_id(), "ns-id");
}

TEST_F(StartValidationTest, ScheduleToCloseBoundsTheOthers) {
  req_.clear_start_to_close_timeout();
  *req_.mutable_schedule_to_close_timeout() =
      ToProtoDuration(absl::Seconds(30));
  *req_.mutable_heartbeat_timeout() = ToProtoDuration(absl::Seconds(60));
  auto r = ValidateStart(req_, ns_);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& o = r->record.options();
  EXPECT_EQ(FromProtoDuration(o.schedule_to_start_timeout()),
            absl::Seconds(30));
  EXPECT_EQ(FromProtoDuration(o.start_to_close_timeout()), absl::Seconds(30));
  EXPECT_EQ(FromProtoDuration(o.heartbeat_timeout()), absl::Seconds(30));
}

TEST_F(StartValidationTest, MaximumIntervalScalesWithInitial) {
  *req_.mutable_retry_policy()->mutable_initial_interval() =
      ToProtoDuration(absl::Seconds(3));
  auto r = ValidateStart(req_, ns_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(
      FromProtoDuration(r->record.options().retry_policy().maximum_interval()),
      absl::Seconds(300));
}

TEST_F(StartValidationTest, Errors) {
  auto reset = [&] { SetUp(); };
  req_.clear_start_to_close_timeout();
  EXPECT_EQ(
      Error(),
      "a valid StartToCloseTimeout or ScheduleToCloseTimeout must be set on "
      "the activity. ActivityId=a1 ActivityType=compose_greeting");
  reset();
  req_.clear_task_queue();
  EXPECT_EQ(Error(), "taskQueue is not set");
  reset();
  req_.mutable_task_queue()->set_name("");
  EXPECT_EQ(Error(), "missing task queue name");
  reset();
  req_.mutable_task_queue()->set_name(std::string(1001, 'q'));
  EXPECT_EQ(Error(), "taskQueue length exceeds limit");
  reset();
  req_.mutable_task_queue()->set_name(std::string(1000, 'q'));
  EXPECT_TRUE(ValidateStart(req_, ns_).ok());
  reset();
  req_.mutable_task_queue()->set_name("/_sys/x");
  EXPECT_EQ(Error(),
            "task queue name cannot start with reserved prefix /_sys/");
  reset();
  req_.set_activity_id("");
  EXPECT_EQ(Error(), "activityId is not set");
  reset();
  req_.mutable_activity_type()->set_name("");
  EXPECT_EQ(Error(), "activityType is not set");
  reset();
  req_.set_activity_id(std::string(1001, 'a'));
  EXPECT_EQ(Error(), "activityId exceeds length limit. Length=1001 Limit=1000");
  reset();
  req_.mutable_start_to_close_timeout()->set_seconds(-1);
  EXPECT_EQ(Error(), "invalid StartToCloseTimeout: negative duration");
  reset();
  req_.mutable_retry_policy()->set_backoff_coefficient(0.5);
  EXPECT_EQ(Error(),
            "BackoffCoefficient cannot be less than 1 on retry policy.");
  reset();
  *req_.mutable_retry_policy()->mutable_initial_interval() =
      ToProtoDuration(absl::Seconds(10));
  *req_.mutable_retry_policy()->mutable_maximum_interval() =
      ToProtoDuration(absl::Seconds(5));
  EXPECT_EQ(
      Error(),
      "MaximumInterval cannot be less than InitialInterval on retry policy.");
  reset();
  req_.mutable_retry_policy()->set_maximum_attempts(-1);
  EXPECT_EQ(Error(), "MaximumAttempts cannot be negative on retry policy.");
  reset();
  req_.mutable_retry_policy()->add_non_retryable_error_types(
      "TemporalTimeout:Bogus");
  EXPECT_EQ(Error(), "Invalid timeout type value: Bogus.");
  reset();
  req_.mutable_priority()->set_priority_key(-1);
  EXPECT_EQ(Error(), "invalid priorities: priority key can't be negative");
  reset();
  req_.mutable_start_delay()->set_seconds(-5);
  EXPECT_EQ(Error(), "invalid StartDelay: negative duration");
  reset();
  req_.set_request_id(std::string(1001, 'r'));
  EXPECT_EQ(Error(), "request ID exceeds length limit. Length=1001 Limit=1000");
  reset();
  req_.mutable_input()->add_payloads()->set_data(
      std::string(kBlobSizeLimit + 1, 'x'));
  EXPECT_EQ(Error(), "input exceeds length limit");
  reset();
  req_.set_id_reuse_policy(
      static_cast<temporal::api::enums::v1::ActivityIdReusePolicy>(9));
  EXPECT_EQ(Error(), "unsupported ID reuse policy: 9");
}

TEST(RefValidationTest, ActivityAndRunIds) {
  EXPECT_EQ(ValidateActivityId("").message(), "activity ID is required");
  EXPECT_TRUE(ValidateActivityId("x").ok());
  EXPECT_EQ(ValidateRunId("nope").message(),
            "invalid run id: must be a valid UUID");
  EXPECT_TRUE(ValidateRunId("").ok());
  EXPECT_TRUE(ValidateRunId(NewUuid()).ok());
}

}  // namespace
}  // namespace errand::frontend
