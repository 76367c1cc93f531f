// The engine over a store whose file system fails on request: a failed write
// acknowledges nothing and loses nothing acknowledged, and what a failed turn
// had taken on (a due timer, a task handed to a poll) is not lost with it.
#include <gtest/gtest.h>

#include "support/engine_harness.h"
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
    // One clock paces the store's resume attempts and drives the engine (a
    // failed turn's retry comes a second later).
    options.clock = &clock_;
    return options;
  }
  const Clock* EngineClock() override { return &clock_; }
  // Lets the store try to resume on its next write, and the engine retry
  // what failed turns had taken on.
  void FaultGone() {
    fs_->Clear();
    clock_.Advance(store::kResumeInterval);
  }

  FakeClock clock_;
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
  auto after = Start(Request("after"));
  ASSERT_TRUE(after.ok()) << after.status();  // no restart needed

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
  // A turn on every shard after the failed one (whose reply came before it
  // ended): the task's return is armed, a second later.
  EXPECT_EQ(engine_->PendingTimers(), 1u);

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

// A task start that cannot read its run (the store's table files failing
// reads) puts the task back, tries it again for as long as reads fail, and
// the first poll after they work gets it.
TEST_F(EngineFaultTest, TaskTakenByAPollWhileReadsFailGoesBackToItsQueue) {
  // The run is larger than a shard's record cache, so a task start reads it
  // from the store; flushed, from a table file (a flush does not fill the
  // block cache).
  StartRequest r = Request("a");
  r.record.mutable_input()->add_payloads()->set_data(
      std::string(size_t{9} << 20, 'x'));
  ASSERT_TRUE(Start(std::move(r)).ok());
  ASSERT_TRUE(store_->Flush().ok());
  fs_->FailAlways(FaultOp::kRead, FaultKind::kIOError, ".sst");
  auto task = Poll(absl::Seconds(5));
  ASSERT_TRUE(task.has_value());
  auto started = StartTask(*task);
  ASSERT_FALSE(started.ok()) << "started a run the store could not read";
  EXPECT_EQ(started.status().code(), absl::StatusCode::kUnavailable)
      << started.status();
  ASSERT_GT(fs_->injected(FaultOp::kRead), 0);
  EXPECT_EQ(matcher_->BacklogSize({"ns", "tq"}), 0u);
  // The task's return, a second later.
  EXPECT_EQ(engine_->PendingTimers(), 1u);

  // It falls due while reads still fail: it is tried again, a second later,
  // not dropped.
  const int64_t failed_reads = fs_->injected(FaultOp::kRead);
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(
      Eventually([&] { return fs_->injected(FaultOp::kRead) > failed_reads; }));
  EXPECT_EQ(engine_->PendingTimers(), 1u)
      << "the task was dropped when its run could not be read";
  EXPECT_EQ(matcher_->BacklogSize({"ns", "tq"}), 0u);

  FaultGone();
  auto again = Poll(absl::Seconds(10));
  ASSERT_TRUE(again.has_value()) << "the task was lost with the failed read";
  EXPECT_EQ(again->activity_id, "a");
  auto retried = StartTask(*again);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->status(), store::v1::ACTIVITY_STATUS_STARTED);
  EXPECT_EQ(retried->attempt(), 1);
  EXPECT_EQ(engine_->PendingTimers(), 0u);
  EXPECT_EQ(matcher_->BacklogSize({"ns", "tq"}), 0u);
}

TEST_F(EngineFaultTest, TimerDueWhileWritesFailFiresOnceTheyResume) {
  StartRequest r = Request("a");
  r.record.mutable_options()->mutable_schedule_to_start_timeout()->set_nanos(
      200'000'000);
  ASSERT_TRUE(Start(std::move(r)).ok());
  fs_->FailAlways(FaultOp::kWrite, FaultKind::kNoSpace);
  // The schedule-to-start timer fires, and the turn that times the run out
  // cannot be written: the timer is armed again, a second later.
  clock_.Advance(absl::Milliseconds(300));
  ASSERT_TRUE(Eventually([&] { return fs_->injected(FaultOp::kWrite) > 0; }));
  // A turn on every shard, queued after the failed one: it is over.
  EXPECT_EQ(engine_->PendingTimers(), 1u);
  auto during = Describe("a");
  ASSERT_TRUE(during.ok());
  EXPECT_EQ(during->status(), store::v1::ACTIVITY_STATUS_SCHEDULED);

  FaultGone();
  auto closed =
      std::make_shared<std::promise<absl::StatusOr<RecordSnapshot>>>();
  engine_->Watch({"ns", "a", "", std::nullopt}, 0, /*closed_only=*/true,
                 clock_.Now() + absl::Seconds(10),
                 [closed](absl::StatusOr<RecordSnapshot> s) {
                   closed->set_value(std::move(s));
                 });
  auto answer = closed->get_future();
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(30)),
            std::future_status::ready)
      << "the timer was lost with the failed write";
  auto record = answer.get();
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_NE(*record, nullptr) << "the timer was lost with the failed write";
  EXPECT_EQ((*record)->status(), store::v1::ACTIVITY_STATUS_TIMED_OUT);
}

}  // namespace
}  // namespace errand::engine
