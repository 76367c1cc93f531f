// The engine over a store whose file system fails on request: a failed write
// acknowledges nothing and loses nothing acknowledged, and what a failed turn
// had taken on (a due timer, a task handed to a poll) is not lost with it.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

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

  // Returns once every shard has run what is due now: the first turn on
  // every shard runs the timers due (if an earlier one did not), the second
  // comes after that turn's commit, and so after its dispatches.
  void Settle() {
    engine_->PendingTimers();
    engine_->PendingTimers();
  }
  // After a failed write: the failed turn is over (its retries are armed),
  // the clock moves a second, so that the store may reopen on its next
  // write and the engine's retries fall due, and they have run.
  void AfterFailedWrite() {
    engine_->PendingTimers();
    clock_.Advance(store::kResumeInterval);
    Settle();
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

// What the test sent for one activity, and what was acknowledged.
struct Sent {
  std::string request_id;
  bool start_tried = false;
  bool start_acked = false;
  bool task_start_tried = false;  // a poll got its task
  bool task_started = false;      // and its start was acknowledged
  int64_t beats_tried = 0;
  int64_t beats_acked = 0;
  bool complete_tried = false;
  bool complete_acked = false;
  // A complete whose write failed was stored all the same (a later call
  // found the run closed): the run is done with.
  bool closed_anyway = false;
};

// Timeouts long enough that none fires while the test moves the clock (a
// second per failed write), so every timer it finds pending is one that
// waits.
StartRequest WithLongTimeouts(StartRequest r) {
  auto* options = r.record.mutable_options();
  options->mutable_schedule_to_close_timeout()->set_seconds(100 * 3600);
  options->mutable_start_to_close_timeout()->set_seconds(10 * 3600);
  options->mutable_heartbeat_timeout()->set_seconds(3600);
  return r;
}

// The timers an engine holds for `record`: those TimersFor derives from it,
// but for a dispatch already due (which goes to matching at once).
size_t TimersWaitedOn(const ActivityRecord& record, absl::Time now) {
  size_t n = 0;
  for (const Timer& timer : TimersFor(record)) {
    if (timer.kind != TimerKind::kDispatch || timer.deadline > now) ++n;
  }
  return n;
}

bool IsFault(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsResourceExhausted(s);
}

// Starts, task starts, heartbeats and completes while the WAL's writes fail
// at random (seeded; only the WAL, whose writes come from the test's calls
// alone, so that a run is the same every time). Checked against the store,
// live and after a restart: every acknowledged change is there; nothing that
// was not asked for is (no completion without a complete); each run
// scheduled in the store has its task queued, and the engine waits on
// exactly the timers the stored runs call for: none lost, none stale.
//
// WAL writes or syncs failing at a rate over a mix of calls. A failed sync
// leaves its batch in the WAL file, and the store's reopen replays it: a
// change answered with an error may be stored all the same. The shard then
// reads the runs of its failed turns again and sets up what they call for
// (Shard::Reconcile), so the engine agrees with the store without a restart.
struct FaultMix {
  FaultOp op;
  double rate;
  int min_failures;  // the seeded run's faults, so the test cannot go idle
};

class EngineFaultMixTest : public EngineFaultTest,
                           public ::testing::WithParamInterface<FaultMix> {};

INSTANTIATE_TEST_SUITE_P(WritesAndSyncs, EngineFaultMixTest,
                         ::testing::Values(FaultMix{FaultOp::kWrite, 0.1, 10},
                                           FaultMix{FaultOp::kSync, 0.04, 5}),
                         [](const auto& info) {
                           return info.param.op == FaultOp::kWrite
                                      ? std::string("Writes")
                                      : std::string("Syncs");
                         });

TEST_P(EngineFaultMixTest,
       FaultsAtARateLoseNothingAcknowledgedAndLeaveNoStrayTimer) {
  constexpr int kActivities = 80;
  constexpr int kSteps = 300;
  fs_->FailAtRate(GetParam().op, FaultKind::kIOError, GetParam().rate,
                  /*seed=*/11, ".log");
  std::mt19937 random(13);
  std::map<std::string, Sent> sent;
  int next_id = 0;
  int failures = 0;
  int acknowledged = 0;
  auto outcome = [&](const absl::Status& s) {
    if (s.ok()) {
      ++acknowledged;
      return true;
    }
    EXPECT_TRUE(IsFault(s)) << s;
    ++failures;
    AfterFailedWrite();
    return false;
  };
  // A run a worker may act on: started by an acknowledged task start, not
  // known to be closed. "" when there is none.
  auto pick_started = [&]() -> std::string {
    std::vector<std::string> ids;
    for (const auto& [id, run] : sent) {
      if (run.task_started && !run.complete_acked && !run.closed_anyway) {
        ids.push_back(id);
      }
    }
    return ids.empty() ? "" : ids[random() % ids.size()];
  };
  // A worker's call on its run failed: a fault, or the run was found closed,
  // which only a complete whose write failed can have done.
  auto worker_call_failed = [&](const std::string& id, Sent& run,
                                const absl::Status& s) {
    if (IsFault(s)) {
      ++failures;
      AfterFailedWrite();
      return;
    }
    EXPECT_TRUE(absl::IsNotFound(s)) << id << ": " << s;
    EXPECT_TRUE(run.complete_tried) << id << " closed without a complete";
    run.closed_anyway = true;
  };

  for (int step = 0; step < kSteps; ++step) {
    // 4 in 10 starts, 2 task starts, 3 heartbeats, 1 complete: at the end
    // some runs are scheduled, some started, some completed.
    const unsigned op = random() % 10;
    switch (op < 4 ? 0 : op < 6 ? 1 : op < 9 ? 2 : 3) {
      case 0: {  // a start: a new activity, or a retry of a failed start
        std::string id;
        for (const auto& [sent_id, run] : sent) {
          if (!run.start_acked && random() % 2 == 0) {
            id = sent_id;  // as an SDK retries: the same request ID
            break;
          }
        }
        if (id.empty()) {
          if (next_id == kActivities) break;
          id = "run" + std::to_string(next_id++);
          sent[id].request_id = NewUuid();
        }
        Sent& run = sent[id];
        run.start_tried = true;
        auto started = Start(WithLongTimeouts(Request(id, run.request_id)));
        if (outcome(started.status())) run.start_acked = true;
        break;
      }
      case 1: {  // a worker's poll, and the start of the task it gets
        if (matcher_->BacklogSize({"ns", "tq"}) == 0) break;
        auto task = Poll();
        ASSERT_TRUE(task.has_value());
        Sent& run = sent[task->activity_id];
        ASSERT_TRUE(run.start_tried) << task->activity_id;
        if (run.task_started) {
          // A second task for an attempt already started (a failed turn's
          // retry, then the reconcile of its replayed write, both queued
          // one): its stamp fences it, as for any stale task.
          auto again = StartTask(*task);
          EXPECT_FALSE(again.ok()) << task->activity_id << " started twice";
          EXPECT_FALSE(IsFault(again.status())) << again.status();
          break;
        }
        const bool tried_before = run.task_start_tried;
        run.task_start_tried = true;
        auto started = StartTask(*task);
        if (tried_before && absl::IsAborted(started.status())) {
          // An earlier task start was answered with an error but stored
          // all the same (its sync failed, the reopen replayed it): this
          // second task for the same attempt is fenced.
          break;
        }
        if (outcome(started.status())) run.task_started = true;
        break;
      }
      case 2: {  // a heartbeat
        const std::string id = pick_started();
        if (id.empty()) break;
        Sent& run = sent[id];
        ++run.beats_tried;
        auto beat = Update(id, RecordHeartbeat{});
        if (beat.ok()) {
          ++acknowledged;
          ++run.beats_acked;
        } else {
          worker_call_failed(id, run, beat.status());
        }
        break;
      }
      case 3: {  // a complete
        const std::string id = pick_started();
        if (id.empty()) break;
        Sent& run = sent[id];
        run.complete_tried = true;
        auto completed = Update(id, CompleteAttempt{{}, "worker", false});
        if (completed.ok()) {
          ++acknowledged;
          run.complete_acked = true;
        } else {
          worker_call_failed(id, run, completed.status());
        }
        break;
      }
    }
  }
  fs_->Clear();
  EXPECT_GE(failures, GetParam().min_failures);
  EXPECT_GT(acknowledged, 100);

  // Writes resume (the resume interval has passed since the last failure).
  clock_.Advance(store::kResumeInterval);
  ASSERT_TRUE(Start(WithLongTimeouts(Request("after"))).ok());
  Settle();

  // Live, a failed turn's retry and the reconcile of its replayed write may
  // both have queued a task for a run (fenced by its stamp, see above); after
  // a restart exactly one per scheduled run is queued.
  auto check = [&](const std::string& when, bool duplicates_allowed) {
    SCOPED_TRACE(when);
    size_t scheduled = 0;
    size_t timers = 0;
    for (const auto& [id, run] : sent) {
      SCOPED_TRACE(id);
      auto stored = Describe(id);
      if (absl::IsNotFound(stored.status())) {
        EXPECT_FALSE(run.start_acked) << "acknowledged start lost";
        continue;
      }
      ASSERT_TRUE(stored.ok()) << stored.status();
      EXPECT_TRUE(run.start_tried);
      const auto status = stored->status();
      // Acknowledged changes are there.
      if (run.task_started) {
        EXPECT_TRUE(status == store::v1::ACTIVITY_STATUS_STARTED ||
                    status == store::v1::ACTIVITY_STATUS_COMPLETED)
            << store::v1::ActivityStatus_Name(status);
      }
      if (run.complete_acked) {
        EXPECT_EQ(status, store::v1::ACTIVITY_STATUS_COMPLETED);
      }
      EXPECT_GE(stored->heartbeat_count(), run.beats_acked);
      // Nothing that was not asked for.
      EXPECT_LE(stored->heartbeat_count(), run.beats_tried);
      if (status == store::v1::ACTIVITY_STATUS_STARTED) {
        EXPECT_TRUE(run.task_start_tried);
      }
      if (status == store::v1::ACTIVITY_STATUS_COMPLETED) {
        EXPECT_TRUE(run.complete_tried) << "completed without a complete";
      } else {
        EXPECT_TRUE(status == store::v1::ACTIVITY_STATUS_SCHEDULED ||
                    status == store::v1::ACTIVITY_STATUS_STARTED)
            << store::v1::ActivityStatus_Name(status);
      }
      if (status == store::v1::ACTIVITY_STATUS_SCHEDULED) ++scheduled;
      timers += TimersWaitedOn(*stored, clock_.Now());
    }
    auto after = Describe("after");
    ASSERT_TRUE(after.ok()) << after.status();
    ++scheduled;
    timers += TimersWaitedOn(*after, clock_.Now());
    // Every scheduled run's task is queued (none lost), and the engine waits
    // on the stored runs' timers, no more (none stale) and no fewer.
    if (duplicates_allowed) {
      EXPECT_GE(matcher_->BacklogSize({"ns", "tq"}), scheduled);
    } else {
      EXPECT_EQ(matcher_->BacklogSize({"ns", "tq"}), scheduled);
    }
    EXPECT_EQ(engine_->PendingTimers(), timers);
  };
  check("live, after the faults", /*duplicates_allowed=*/true);
  Reopen();
  check("after a restart", /*duplicates_allowed=*/false);
}

}  // namespace
}  // namespace errand::engine
