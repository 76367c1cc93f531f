// The engine against a real store: durability across reopen, ID policies,
// dispatch through matching, watchers, delete and recovery.
#include "errand/engine/activity_engine.h"

#include <gtest/gtest.h>

#include "errand/common/uuid.h"
#include "errand/metrics/metrics.h"
#include "support/engine_harness.h"
#include "temporal/api/errordetails/v1/message.pb.h"

namespace errand::engine {
namespace {

namespace enums = temporal::api::enums::v1;

using ActivityEngineTest = EngineHarness;

// A run's shard is a fixed hash of its IDs (XXH64 of namespace ID, NUL,
// activity ID), the same in every process: pinned, since nodes of a cluster
// must agree on it.
TEST(ShardOfRunTest, IsAFixedHashOfTheIds) {
  EXPECT_EQ(ShardOfRun("ns", "act", 64), 62);
  EXPECT_EQ(ShardOfRun("00000000-0000-0000-0000-000000000000", "order-42", 64),
            39);
  EXPECT_EQ(ShardOfRun("default", "greeting", 4), 2);
  EXPECT_EQ(ShardOfRun("default", "greeting", 1), 0);
}

TEST_F(ActivityEngineTest, StartIsDurableAndDispatched) {
  auto started = Start(Request("a", "r1"));
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_TRUE(started->started);
  EXPECT_TRUE(IsUuid(started->run_id));
  EXPECT_EQ(matcher_->BacklogSize({"ns", "tq"}), 1u);
  Close();
  Open();  // the scheduled activity is back in its queue
  EXPECT_EQ(matcher_->BacklogSize({"ns", "tq"}), 1u);
  auto record = Describe("a");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->run_id(), started->run_id);
  EXPECT_EQ(record->status(), store::v1::ACTIVITY_STATUS_SCHEDULED);
}

TEST_F(ActivityEngineTest, ConflictAndIdempotency) {
  auto first = Start(Request("a", "r1"));
  ASSERT_TRUE(first.ok());
  auto replay = Start(Request("a", "r1"));
  ASSERT_TRUE(replay.ok());
  EXPECT_FALSE(replay->started);
  EXPECT_EQ(replay->run_id, first->run_id);

  auto conflict = Start(Request("a", "r2"));
  ASSERT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(conflict.status().message(), "activity execution already started");
  auto payload = conflict.status().GetPayload(
      "type.googleapis.com/temporal.api.errordetails.v1."
      "ActivityExecutionAlreadyStartedFailure");
  ASSERT_TRUE(payload.has_value());
  temporal::api::errordetails::v1::ActivityExecutionAlreadyStartedFailure
      detail;
  ASSERT_TRUE(detail.ParseFromString(std::string(*payload)));
  EXPECT_EQ(detail.run_id(), first->run_id);
  EXPECT_EQ(detail.start_request_id(), "r1");

  auto use_existing = Request("a", "r3");
  use_existing.conflict_policy =
      enums::ACTIVITY_ID_CONFLICT_POLICY_USE_EXISTING;
  auto existing = Start(use_existing);
  ASSERT_TRUE(existing.ok());
  EXPECT_FALSE(existing->started);
  EXPECT_EQ(existing->run_id, first->run_id);
}

TEST_F(ActivityEngineTest, ReusePoliciesAfterClose) {
  ASSERT_TRUE(Start(Request("a", "r1")).ok());
  ASSERT_TRUE(PollAndStart().ok());
  ASSERT_TRUE(Update("a", CompleteAttempt{{}, "w", false}).ok());

  auto failed_only = Request("a", "r2");
  failed_only.reuse_policy =
      enums::ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY;
  EXPECT_EQ(Start(failed_only).status().code(),
            absl::StatusCode::kAlreadyExists);
  auto reject = Request("a", "r3");
  reject.reuse_policy = enums::ACTIVITY_ID_REUSE_POLICY_REJECT_DUPLICATE;
  EXPECT_EQ(Start(reject).status().code(), absl::StatusCode::kAlreadyExists);
  auto again = Start(Request("a", "r4"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->started);
  // The new run is current; the old one is still addressable by run ID.
  EXPECT_EQ(Describe("a")->run_id(), again->run_id);
}

TEST_F(ActivityEngineTest, StartTaskCompleteAndWatchForClose) {
  ASSERT_TRUE(Start(Request("a", "r1")).ok());
  std::promise<absl::StatusOr<RecordSnapshot>> closed;
  engine_->Watch({"ns", "a", "", std::nullopt}, 0, true,
                 absl::Now() + absl::Seconds(10),
                 [&](absl::StatusOr<RecordSnapshot> r) {
                   closed.set_value(std::move(r));
                 });
  auto started = PollAndStart();
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(started->status(), store::v1::ACTIVITY_STATUS_STARTED);
  temporal::api::common::v1::Payloads result;
  result.add_payloads()->set_data("\"done\"");
  ASSERT_TRUE(Update("a", CompleteAttempt{result, "w", false}).ok());
  auto outcome = closed.get_future().get();
  ASSERT_TRUE(outcome.ok());
  ASSERT_NE(*outcome, nullptr);
  EXPECT_EQ((*outcome)->outcome().result().payloads(0).data(), "\"done\"");
}

TEST_F(ActivityEngineTest, WatchExpiresEmpty) {
  ASSERT_TRUE(Start(Request("a", "r1")).ok());
  Waiter<RecordSnapshot> w;
  engine_->Watch({"ns", "a", "", std::nullopt}, 0, true,
                 absl::Now() + absl::Milliseconds(50), w.reply());
  auto r = w.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, nullptr);
}

TEST_F(ActivityEngineTest, StaleTaskIsAbortedAfterCancel) {
  ASSERT_TRUE(Start(Request("a", "r1")).ok());
  ASSERT_TRUE(Update("a", RequestCancel{"c1", "no", "me"}).ok());
  std::promise<std::optional<matching::TaskRef>> got;
  matcher_->AddPoll(
      {"ns", "tq"}, absl::Now() + absl::Seconds(5),
      [&](std::optional<matching::TaskRef> t) { got.set_value(t); });
  auto task = got.get_future().get();
  ASSERT_TRUE(task.has_value());
  Waiter<RecordSnapshot> w;
  engine_->StartTask("ns", *task, StartAttempt{}, w.reply());
  EXPECT_TRUE(absl::IsAborted(w.get().status()));
}

TEST_F(ActivityEngineTest, TokenForAnOldAttemptIsNotFound) {
  ASSERT_TRUE(Start(Request("a", "r1")).ok());
  auto started = PollAndStart();
  ASSERT_TRUE(started.ok());
  Waiter<RecordSnapshot> w;
  engine_->Update({"ns", "a", started->run_id(),
                   RunRef::Attempt{2, started->started_stamp()}},
                  RecordHeartbeat{}, w.reply());
  EXPECT_TRUE(absl::IsNotFound(w.get().status()));
  Waiter<RecordSnapshot> ok;
  engine_->Update({"ns", "a", started->run_id(),
                   RunRef::Attempt{1, started->started_stamp()}},
                  RecordHeartbeat{}, ok.reply());
  EXPECT_TRUE(ok.get().ok());
}

TEST_F(ActivityEngineTest, DeleteTerminatesAndRemoves) {
  auto first = Start(Request("a", "r1"));
  ASSERT_TRUE(first.ok());
  Waiter<RecordSnapshot> w;
  engine_->Delete({"ns", "a", "", std::nullopt}, w.reply());
  auto deleted = w.get();
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ((*deleted)->status(), store::v1::ACTIVITY_STATUS_TERMINATED);
  auto gone = Describe("a");
  EXPECT_TRUE(absl::IsNotFound(gone.status()));
  EXPECT_EQ(gone.status().message(), "activity not found for ID: a");
  Close();
  Open();
  EXPECT_TRUE(absl::IsNotFound(Describe("a").status()));
  EXPECT_TRUE(Start(Request("a", "r9"))->started);
}

// A run with every timeout set, retried almost at once after a failure.
StartRequest TimedRequest(StartRequest r) {
  auto* options = r.record.mutable_options();
  options->mutable_schedule_to_close_timeout()->set_seconds(36000);
  options->mutable_start_to_close_timeout()->set_seconds(600);
  options->mutable_heartbeat_timeout()->set_seconds(60);
  auto* retry = options->mutable_retry_policy();
  retry->mutable_initial_interval()->set_nanos(1'000'000);
  retry->set_backoff_coefficient(1.0);
  return r;
}

TEST_F(ActivityEngineTest, AClosedRunWaitsOnNoTimer) {
  ASSERT_TRUE(Start(TimedRequest(Request("a", "r1"))).ok());
  ASSERT_TRUE(PollAndStart().ok());
  EXPECT_EQ(engine_->PendingTimers(), 3u);  // start-to-close, heartbeat, S2C
  ASSERT_TRUE(Update("a", CompleteAttempt{{}, "w", false}).ok());
  EXPECT_EQ(engine_->PendingTimers(), 0u);
}

TEST_F(ActivityEngineTest, RetriesDoNotPileUpTimersOfEarlierAttempts) {
  ASSERT_TRUE(Start(TimedRequest(Request("a", "r1"))).ok());
  for (int attempt = 1; attempt <= 20; ++attempt) {
    auto started = PollAndStart();
    ASSERT_TRUE(started.ok()) << started.status();
    ASSERT_EQ(started->attempt(), attempt);
    ASSERT_TRUE(Update("a", FailAttempt{}).ok());
    // The retry's dispatch (or its queued task) and the run's S2C timer;
    // nothing is left of the failed attempts' start-to-close and heartbeat.
    EXPECT_LE(engine_->PendingTimers(), 3u);
  }
}

TEST_F(ActivityEngineTest, DeletedRunLeavesNoTimer) {
  ASSERT_TRUE(Start(TimedRequest(Request("a", "r1"))).ok());
  EXPECT_GT(engine_->PendingTimers(), 0u);
  Waiter<RecordSnapshot> w;
  engine_->Delete({"ns", "a", "", std::nullopt}, w.reply());
  ASSERT_TRUE(w.get().ok());
  EXPECT_EQ(engine_->PendingTimers(), 0u);
}

// Counts the store's synced writes through its write-latency histogram.
class SyncMatchTest : public EngineHarness {
 protected:
  store::StoreOptions StoreOptionsForTest() override {
    store::StoreOptions options = EngineHarness::StoreOptionsForTest();
    options.write_latency = &writes_;
    return options;
  }
  uint64_t Writes() const { return writes_.Take().count; }
  // A worker's poll as the frontend makes it: the task it gets is started.
  void PollAndStartLater(Waiter<RecordSnapshot>& started) {
    matcher_->AddPoll({ns_, "tq"}, absl::Now() + absl::Seconds(10),
                      [this, &started](std::optional<matching::TaskRef> t) {
                        ASSERT_TRUE(t.has_value());
                        engine_->StartTask(ns_, *t,
                                           StartAttempt{.identity = "w"},
                                           started.reply());
                      });
  }

  metrics::Histogram writes_{&metrics::LatencyBuckets()};
};

TEST_F(SyncMatchTest, AStartMeetingAWaitingPollIsStartedInTheSameWrite) {
  Waiter<RecordSnapshot> started;
  PollAndStartLater(started);
  const uint64_t before = Writes();
  ASSERT_TRUE(Start(Request("a", "r1")).ok());
  auto record = Copy(started.get());
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->status(), store::v1::ACTIVITY_STATUS_STARTED);
  EXPECT_EQ(record->last_worker_identity(), "w");
  EXPECT_EQ(Writes() - before, 1u);
  EXPECT_EQ(matcher_->BacklogSize({ns_, "tq"}), 0u);
  Reopen();  // the one write holds the start and the dispatch
  auto stored = Describe("a");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->status(), store::v1::ACTIVITY_STATUS_STARTED);
  EXPECT_EQ(matcher_->BacklogSize({ns_, "tq"}), 0u);
}

TEST_F(SyncMatchTest,
       WithoutAWaitingPollTheTaskWaitsAndItsStartIsAWriteOfItsOwn) {
  const uint64_t before = Writes();
  ASSERT_TRUE(Start(Request("a", "r1")).ok());
  EXPECT_EQ(matcher_->BacklogSize({ns_, "tq"}), 1u);
  Waiter<RecordSnapshot> started;
  PollAndStartLater(started);
  auto record = Copy(started.get());
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->status(), store::v1::ACTIVITY_STATUS_STARTED);
  EXPECT_EQ(Writes() - before, 2u);
}

}  // namespace
}  // namespace errand::engine
