// Retention against a real store and engine on a fake clock: closed runs go
// once their namespace's retention (plus jitter) has passed, open runs never,
// and nothing depends on memory that a restart would lose.
#include "errand/engine/retention_sweeper.h"

#include <gtest/gtest.h>

#include "errand/store/keys.h"
#include "errand/store/records.h"
#include "support/engine_harness.h"

namespace errand::engine {
namespace {

class RetentionSweeperTest : public EngineHarness {
 protected:
  void SetUp() override {
    EngineHarness::SetUp();
    NamespaceSpec spec;
    spec.name = "short";
    spec.retention = absl::Hours(1);
    auto ns = namespaces_->Register(spec);
    ASSERT_TRUE(ns.ok()) << ns.status();
    ns_ = ns->id();
  }
  const Clock* EngineClock() override { return &clock_; }
  void AfterOpen() override {
    namespaces_ = std::move(*NamespaceRegistry::Load(store_.get(), &clock_));
    sweeper_ = std::make_unique<RetentionSweeper>(
        store_.get(), namespaces_.get(), engine_.get(), &clock_,
        RetentionOptions{
            .interval = absl::Hours(1), .jitter = jitter_, .batch = 16});
  }
  void BeforeClose() override {
    sweeper_.reset();
    namespaces_.reset();
  }
  void Reopen(absl::Duration jitter = absl::ZeroDuration()) {
    jitter_ = jitter;
    EngineHarness::Reopen();
  }

  // Starts activity `id` and, unless `keep_open`, terminates it now.
  void Run(const std::string& id, bool keep_open = false) {
    ASSERT_TRUE(Start(Request(id)).ok());
    if (keep_open) return;
    ASSERT_TRUE(Update(id, Terminate{NewUuid(), "done", "test"}).ok());
  }
  bool Exists(const std::string& id) {
    auto r = Describe(id);
    EXPECT_TRUE(r.ok() || absl::IsNotFound(r.status())) << r.status();
    return r.ok();
  }
  size_t Rows(store::Table table) {
    size_t n = 0;
    EXPECT_TRUE(store_
                    ->Scan(table, "",
                           [&](absl::string_view, absl::string_view) {
                             ++n;
                             return true;
                           })
                    .ok());
    return n;
  }
  size_t Sweep() {
    auto n = sweeper_->SweepOnce();
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : 0;
  }

  FakeClock clock_;
  absl::Duration jitter_ = absl::ZeroDuration();
  std::unique_ptr<NamespaceRegistry> namespaces_;
  std::unique_ptr<RetentionSweeper> sweeper_;
};

TEST_F(RetentionSweeperTest, DeletesClosedRunsOnlyOncePastRetention) {
  Run("old");
  clock_.Advance(absl::Minutes(30));
  Run("newer");
  Run("open", /*keep_open=*/true);
  EXPECT_EQ(Sweep(), 0u);

  clock_.Advance(absl::Minutes(31));  // "old" closed 61 minutes ago
  EXPECT_EQ(Sweep(), 1u);
  EXPECT_FALSE(Exists("old"));
  EXPECT_TRUE(Exists("newer"));

  clock_.Advance(absl::Hours(24));
  EXPECT_EQ(Sweep(), 1u);
  EXPECT_FALSE(Exists("newer"));
  EXPECT_TRUE(Exists("open"));  // open runs are never retention's
  // Only the open run's record, row and index entries are left.
  EXPECT_EQ(Rows(store::Table::kExecutions), 1u);
  EXPECT_EQ(Rows(store::Table::kVisibility), 1u);
  // TaskQueue, ActivityType, ExecutionStatus and StartTime.
  EXPECT_EQ(Rows(store::Table::kVisibilityIndex), 4u);
}

TEST_F(RetentionSweeperTest, RunsClosedBeforeARestartAreStillDeleted) {
  for (int i = 0; i < 5; ++i) Run("a" + std::to_string(i));
  Reopen();  // nothing about them is in memory any more
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(Sweep(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(Exists("a" + std::to_string(i)));
}

TEST_F(RetentionSweeperTest, ManyMoreRunsThanOneBatch) {
  for (int i = 0; i < 100; ++i) Run("a" + std::to_string(i));  // batch is 16
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(Sweep(), 100u);
  EXPECT_EQ(Rows(store::Table::kExecutions), 0u);
  EXPECT_EQ(Rows(store::Table::kVisibility), 0u);
  EXPECT_EQ(Rows(store::Table::kVisibilityIndex), 0u);
  EXPECT_EQ(Rows(store::Table::kCurrentRuns), 0u);
}

TEST_F(RetentionSweeperTest, ShorterRetentionAppliesToRunsAlreadyClosed) {
  Run("a");
  clock_.Advance(absl::Minutes(10));
  EXPECT_EQ(Sweep(), 0u);
  ASSERT_TRUE(namespaces_
                  ->Update("short",
                           [](NamespaceRecord& r) {
                             *r.mutable_retention() =
                                 store::ToProtoDuration(absl::Minutes(5));
                             return absl::OkStatus();
                           })
                  .ok());
  EXPECT_EQ(Sweep(), 1u);
  EXPECT_FALSE(Exists("a"));
}

TEST_F(RetentionSweeperTest, JitterDelaysEachRunWithinItsWindow) {
  Reopen(/*jitter=*/absl::Minutes(30));
  const absl::Time closed_at = clock_.Now();
  Run("a");
  const absl::Time due = sweeper_->DueAt(ns_, closed_at, absl::Hours(1));
  EXPECT_GE(due, closed_at + absl::Hours(1));
  EXPECT_LT(due, closed_at + absl::Hours(1) + absl::Minutes(30));
  // The same after a restart: the jitter is not drawn anew.
  Reopen(absl::Minutes(30));
  EXPECT_EQ(sweeper_->DueAt(ns_, closed_at, absl::Hours(1)), due);

  clock_.Advance(due - clock_.Now() - absl::Nanoseconds(1));
  EXPECT_EQ(Sweep(), 0u);
  EXPECT_TRUE(Exists("a"));
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_EQ(Sweep(), 1u);
  EXPECT_FALSE(Exists("a"));
}

TEST_F(RetentionSweeperTest, JitterSpreadsDeletionsOverTheWindow) {
  Reopen(/*jitter=*/absl::Minutes(30));
  // Runs closed a minute apart fall into 60 slices, each with its own jitter
  // in [0, 30 min) drawn from a hash of the (random) namespace ID.
  constexpr int kRuns = 60;
  for (int i = 0; i < kRuns; ++i) {
    Run("a" + std::to_string(i));
    clock_.Advance(absl::Minutes(1));
  }
  // 45 minutes past the retention of the first run: without jitter runs 0..45
  // (46 of them) would be due. With it, runs 0..15 are due whatever their
  // jitter, and run k in 16..44 only if its jitter is at most 45-k minutes,
  // so the count lies strictly between 16 and 46 unless the jitter is zero or
  // always at its maximum. (All 29 middle slices drawing a jitter too long
  // for them has a chance of about 1e-12, so the bounds cannot flake.)
  clock_.Advance(absl::Hours(1) - absl::Minutes(kRuns) + absl::Minutes(45));
  const size_t early = Sweep();
  EXPECT_GT(early, 16u);
  EXPECT_LT(early, 46u);
  clock_.Advance(absl::Minutes(kRuns));
  EXPECT_EQ(early + Sweep(), static_cast<size_t>(kRuns));
}

TEST_F(RetentionSweeperTest, LeftoverRowsOfAMissingRunAreRemoved) {
  Run("a");
  // Simulate a run whose record vanished while its row stayed.
  std::string key;
  ASSERT_TRUE(store_
                  ->Scan(store::Table::kExecutions, "",
                         [&](absl::string_view k, absl::string_view) {
                           key = std::string(k);
                           return false;
                         })
                  .ok());
  store::Batch batch = store_->NewBatch();
  batch.Delete(store::Table::kExecutions, key);
  ASSERT_TRUE(store_->Write(batch).ok());
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(Sweep(), 0u);  // nothing was deleted through a shard...
  EXPECT_EQ(Rows(store::Table::kVisibility), 0u);  // ...but nothing is left
  EXPECT_EQ(Rows(store::Table::kVisibilityIndex), 0u);
}

}  // namespace
}  // namespace errand::engine
