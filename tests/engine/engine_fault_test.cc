// The engine over a store whose file system fails on request: a failed write
// acknowledges nothing and loses nothing acknowledged, and what a failed turn
// had taken on (a due timer, a task handed to a poll) is not lost with it.
#include <gtest/gtest.h>

#include "engine/engine_harness.h"
#include "support/fault_injection_fs.h"

namespace errand::engine {
namespace {

using errand::testing::FaultInjectionFs;
using errand::testing::FaultKind;
using errand::testing::FaultOp;

class EngineFaultTest : public EngineHarness {
 protected:
  void TearDown() override {
    fs_->Clear();
    EngineHarness::TearDown();
  }
  store::StoreOptions StoreOptionsForTest() override {
    store::StoreOptions options{dir_.string(), true};
    options.env = env_;
    // The store paces its resume attempts by this clock; the engine runs on
    // real time (a failed turn's retry comes a second later).
    options.clock = &store_clock_;
    return options;
  }
  // Lets the store try to resume on its next write.
  void FaultGone() {
    fs_->Clear();
    store_clock_.Advance(store::kResumeInterval);
  }

  FakeClock store_clock_;
  std::shared_ptr<FaultInjectionFs> fs_ = std::make_shared<FaultInjectionFs>();
  std::shared_ptr<rocksdb::Env> env_ = fs_->NewEnv();
};

TEST_F(EngineFaultTest, FailedWritesAcknowledgeNothingAndLoseNothing) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(Start(Request("acked" + std::to_string(i))).ok());
  }
  fs_->FailAlways(FaultOp::kWrite, FaultKind::kNoSpace);
  for (int i = 0; i < 10; ++i) {
    auto refused = Start(Request("refused" + std::to_string(i)));
    ASSERT_FALSE(refused.ok()) << "acknowledged while the disk was full";
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted)
        << refused.status();
  }
  // Reads go on while writes fail.
  auto described = Describe("acked3");
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ(described->status(), store::v1::ACTIVITY_STATUS_SCHEDULED);

  FaultGone();
  // No restart needed: the next write reopens the database. That write may
  // be another shard's (a failed turn is retried), and while its reopen
  // runs, reads answer UNAVAILABLE "try again", as they tell a client to.
  absl::StatusOr<StartResult> after;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (absl::IsUnavailable((after = Start(Request("after"))).status()) &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(after.ok()) << after.status();

  Close();
  Open();
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(Describe("acked" + std::to_string(i)).ok()) << i;
    EXPECT_TRUE(
        absl::IsNotFound(Describe("refused" + std::to_string(i)).status()))
        << i;
  }
  EXPECT_TRUE(Describe("after").ok());
  EXPECT_EQ(matcher_->BacklogSize({"ns", "tq"}), 11u);
}

TEST_F(EngineFaultTest, FailedSyncIsNeverAcknowledged) {
  fs_->FailNext(FaultOp::kSync, FaultKind::kIOError);
  auto start = Start(Request("a"));
  ASSERT_FALSE(start.ok());
  EXPECT_EQ(start.status().code(), absl::StatusCode::kUnavailable)
      << start.status();
  FaultGone();
  EXPECT_TRUE(Start(Request("b")).ok());
}

TEST_F(EngineFaultTest, TaskTakenByAPollWhileWritesFailGoesBackToItsQueue) {
  ASSERT_TRUE(Start(Request("a")).ok());
  fs_->FailAlways(FaultOp::kWrite, FaultKind::kNoSpace);
  auto task = Poll(absl::Seconds(5));
  ASSERT_TRUE(task.has_value());
  auto started = StartTask(*task);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(matcher_->BacklogSize({"ns", "tq"}), 0u);

  // The task comes back (a second later) and the next poll gets it.
  FaultGone();
  auto again = Poll(absl::Seconds(10));
  ASSERT_TRUE(again.has_value()) << "the task was lost with the failed write";
  EXPECT_EQ(again->activity_id, "a");
  auto retried = StartTask(*again);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->status(), store::v1::ACTIVITY_STATUS_STARTED);
  EXPECT_EQ(retried->attempt(), 1);
}

TEST_F(EngineFaultTest, TimerDueWhileWritesFailFiresOnceTheyResume) {
  StartRequest r = Request("a");
  r.record.mutable_options()->mutable_schedule_to_start_timeout()->set_nanos(
      200'000'000);
  ASSERT_TRUE(Start(std::move(r)).ok());
  fs_->FailAlways(FaultOp::kWrite, FaultKind::kNoSpace);
  // The schedule-to-start timer fires, and the turn that times the run out
  // cannot be written.
  absl::SleepFor(absl::Milliseconds(600));
  auto during = Describe("a");
  ASSERT_TRUE(during.ok());
  EXPECT_EQ(during->status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
  EXPECT_GT(fs_->injected(FaultOp::kWrite), 0);

  FaultGone();
  std::promise<absl::StatusOr<RecordSnapshot>> closed;
  engine_->Watch({"ns", "a", "", std::nullopt}, 0, /*closed_only=*/true,
                 absl::Now() + absl::Seconds(10),
                 [&](absl::StatusOr<RecordSnapshot> s) {
                   closed.set_value(std::move(s));
                 });
  auto record = closed.get_future().get();
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_NE(*record, nullptr) << "the timer was lost with the failed write";
  EXPECT_EQ((*record)->status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
}

}  // namespace
}  // namespace errand::engine
