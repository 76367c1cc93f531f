// Task queue configs (merge, persistence, what they change in dispatch), the
// poller history and the rates DescribeTaskQueue reports, on a FakeClock.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "errand/common/clock.h"
#include "errand/common/uuid.h"
#include "errand/matching/poller_history.h"
#include "errand/matching/queue_stats.h"
#include "errand/matching/task_queue_configs.h"
#include "support/matcher_polls.h"

namespace errand::matching {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);
const QueueKey kQueue{"ns-id", "tq"};
const PollerKey kActivityKey{"ns-id", "tq", kActivityTaskQueue};

RateLimitUpdate Rate(std::optional<double> rps, std::string reason) {
  return RateLimitUpdate{rps, std::move(reason)};
}

TEST(ConfigMergeTest, UpdatesReplaceWhatTheyNameAndKeepTheRest) {
  store::TaskQueueRecord record;
  ConfigUpdate first;
  first.queue_rate_limit = Rate(5, "downstream is slow");
  first.set_weights = {{"gold", 3.0}, {"free", 0.5}};
  first.identity = "ops";
  ASSERT_TRUE(
      MergeConfigUpdate(first, kT0 + absl::Microseconds(1500), record).ok());
  EXPECT_EQ(record.queue_rate_limit().requests_per_second(), 5);
  EXPECT_EQ(record.queue_rate_limit().reason(), "downstream is slow");
  EXPECT_EQ(record.queue_rate_limit().update_identity(), "ops");
  // Millisecond precision, as Temporal's clock.
  EXPECT_EQ(store::FromProtoTime(record.queue_rate_limit().update_time()),
            kT0 + absl::Milliseconds(1));
  EXPECT_FALSE(record.has_fairness_key_rate_limit_default());

  ConfigUpdate second;
  second.fairness_key_rate_limit_default = Rate(2, "");
  second.unset_weights = {"free", "never-set"};
  second.set_weights = {{"silver", 2.0}};
  second.identity = "other";
  ASSERT_TRUE(MergeConfigUpdate(second, kT0 + absl::Seconds(1), record).ok());
  // The queue limit was not named: kept as it was.
  EXPECT_EQ(record.queue_rate_limit().requests_per_second(), 5);
  EXPECT_EQ(record.queue_rate_limit().update_identity(), "ops");
  EXPECT_EQ(record.fairness_key_rate_limit_default().requests_per_second(), 2);
  EXPECT_EQ(record.fairness_weight_overrides().size(), 2u);
  EXPECT_EQ(record.fairness_weight_overrides().at("gold"), 3.0f);
  EXPECT_EQ(record.fairness_weight_overrides().at("silver"), 2.0f);

  // Named without a rate: cleared, with the clearing's reason kept.
  ConfigUpdate clear;
  clear.queue_rate_limit = Rate(std::nullopt, "fixed");
  ASSERT_TRUE(MergeConfigUpdate(clear, kT0 + absl::Seconds(2), record).ok());
  EXPECT_TRUE(record.has_queue_rate_limit());
  EXPECT_FALSE(record.queue_rate_limit().has_requests_per_second());
  EXPECT_EQ(record.queue_rate_limit().reason(), "fixed");

  const DispatchConfig config = DispatchConfigOf(record);
  EXPECT_FALSE(config.queue_rate_limit.has_value());
  EXPECT_EQ(config.fairness.key_rate_limit, 2.0);
  EXPECT_EQ(config.fairness.weight_overrides.at("gold"), 3.0);
}

TEST(ConfigMergeTest, UpdateTimesNeverGoBackwards) {
  store::TaskQueueRecord record;
  ConfigUpdate update;
  update.queue_rate_limit = Rate(1, "");
  ASSERT_TRUE(MergeConfigUpdate(update, kT0, record).ok());
  ASSERT_TRUE(MergeConfigUpdate(update, kT0 - absl::Hours(1), record).ok());
  EXPECT_EQ(store::FromProtoTime(record.queue_rate_limit().update_time()), kT0);
}

TEST(ConfigMergeTest, TooManyOverridesLeaveTheRecordAsItWas) {
  store::TaskQueueRecord record;
  ConfigUpdate fill;
  for (size_t i = 0; i < kMaxWeightOverrides; ++i) {
    fill.set_weights[absl::StrCat("k", i)] = 1.0;
  }
  ASSERT_TRUE(MergeConfigUpdate(fill, kT0, record).ok());
  ConfigUpdate one_more;
  one_more.set_weights = {{"extra", 2.0}};
  one_more.queue_rate_limit = Rate(3, "");
  const absl::Status s = MergeConfigUpdate(one_more, kT0, record);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("fairness weight overrides update rejected"),
            std::string::npos)
      << s;
  EXPECT_EQ(record.fairness_weight_overrides().size(), kMaxWeightOverrides);
  EXPECT_FALSE(record.has_queue_rate_limit());
  // Replacing one within the limit is fine.
  ConfigUpdate swap;
  swap.unset_weights = {"k0"};
  swap.set_weights = {{"extra", 2.0}};
  EXPECT_TRUE(MergeConfigUpdate(swap, kT0, record).ok());
}

class TaskQueueConfigsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("errand-tqc-" + NewUuid());
    Open();
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    auto store = store::Store::Open({dir_.string(), true});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    timers_ = std::make_unique<TimerThread>(&clock_);
    matcher_ = std::make_unique<Matcher>(timers_.get());
    auto configs = TaskQueueConfigs::Load(store_.get(), matcher_.get());
    ASSERT_TRUE(configs.ok()) << configs.status();
    configs_ = std::move(*configs);
  }
  void Close() {
    configs_.reset();
    matcher_.reset();
    timers_.reset();
    store_.reset();
  }

  FakeClock clock_{kT0};
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<TimerThread> timers_;
  std::unique_ptr<Matcher> matcher_;
  std::unique_ptr<TaskQueueConfigs> configs_;
};

// A config's queue limit beats the worker's, applies to a queue created
// after it, survives a restart, and once cleared leaves the worker's.
TEST_F(TaskQueueConfigsTest, QueueRateLimitWinsOverTheWorkersAndIsDurable) {
  ConfigUpdate update;
  update.queue_rate_limit = Rate(1, "slow down");
  update.identity = "ops";
  auto stored = configs_->Update(kActivityKey, update, clock_.Now());
  ASSERT_TRUE(stored.ok()) << stored.status();
  // Another type of the same queue is another config.
  EXPECT_FALSE(configs_->Get({"ns-id", "tq", kWorkflowTaskQueue}).has_value());

  Close();
  Open();
  auto loaded = configs_->Get(kActivityKey);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->queue_rate_limit().requests_per_second(), 1);
  EXPECT_EQ(loaded->queue_rate_limit().reason(), "slow down");

  Polls polls;
  const absl::Time expire = kT0 + absl::Hours(1);
  for (int i = 0; i < 3; ++i) {
    matcher_->AddTask(kQueue, {absl::StrCat("a", i), "r", 1});
  }
  for (int i = 0; i < 3; ++i) {
    matcher_->AddPoll(kQueue, expire, polls.Callback(), /*worker=*/1000.0);
  }
  EXPECT_EQ(polls.count(), 1u);
  QueueStats stats = matcher_->Stats(kQueue);
  EXPECT_EQ(stats.rate_limit, 1.0);
  EXPECT_EQ(stats.rate_limit_source, RateLimitSource::kApi);
  EXPECT_TRUE(stats.rate_limiting_active);
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(Eventually([&] { return polls.count() == 2; }));

  ConfigUpdate clear;
  clear.queue_rate_limit = Rate(std::nullopt, "");
  ASSERT_TRUE(configs_->Update(kActivityKey, clear, clock_.Now()).ok());
  // The worker's 1000/s now applies: the last task goes within its 1 ms.
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(Eventually([&] { return polls.count() == 3; }));
  stats = matcher_->Stats(kQueue);
  EXPECT_EQ(stats.rate_limit_source, RateLimitSource::kNone);  // queue gone
}

TEST_F(TaskQueueConfigsTest, ZeroPausesUntilTheConfigChanges) {
  ConfigUpdate pause;
  pause.queue_rate_limit = Rate(0, "incident");
  ASSERT_TRUE(configs_->Update(kActivityKey, pause, clock_.Now()).ok());
  Polls polls;
  matcher_->AddTask(kQueue, {"a0", "r", 1});
  matcher_->AddPoll(kQueue, kT0 + absl::Hours(1), polls.Callback());
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(polls.count(), 0u);
  pause.queue_rate_limit = Rate(10, "over");
  ASSERT_TRUE(configs_->Update(kActivityKey, pause, clock_.Now()).ok());
  EXPECT_EQ(polls.count(), 1u);
}

TEST(QueueStatsTest, RatesCoverTheLastThirtySeconds) {
  RateWindow window(kT0);
  EXPECT_EQ(window.PerSecond(kT0), 0);
  // 10 events at once, 10 s after the counter was made: 10 over 10 s.
  for (int i = 0; i < 10; ++i) window.Add(kT0 + absl::Seconds(10));
  EXPECT_DOUBLE_EQ(window.PerSecond(kT0 + absl::Seconds(10)), 1.0);
  // A minute later, with 30 more in the last 5 s: only those count, over
  // the 30 s window plus the current bucket's elapsed part.
  for (int i = 0; i < 30; ++i) window.Add(kT0 + absl::Seconds(70));
  EXPECT_DOUBLE_EQ(window.PerSecond(kT0 + absl::Seconds(70)), 1.0);
  // Past the window, nothing.
  EXPECT_EQ(window.PerSecond(kT0 + absl::Seconds(120)), 0);
}

TEST(QueueStatsTest, MatcherReportsBacklogAgeAndRates) {
  FakeClock clock(kT0);
  TimerThread timers(&clock);
  Matcher matcher(&timers);
  TaskRef old_task{"old", "r", 1};
  old_task.ready_at = kT0 - absl::Seconds(3);
  matcher.AddTask(kQueue, old_task);
  TaskRef new_task{"new", "r", 1};
  new_task.ready_at = kT0;
  matcher.AddTask(kQueue, new_task);
  clock.Advance(absl::Seconds(10));
  QueueStats stats = matcher.Stats(kQueue);
  EXPECT_EQ(stats.backlog_count, 2);
  EXPECT_EQ(stats.backlog_age, absl::Seconds(13));
  EXPECT_DOUBLE_EQ(stats.tasks_add_rate, 0.2);  // 2 over the 10 s so far
  EXPECT_EQ(stats.tasks_dispatch_rate, 0);
  EXPECT_FALSE(stats.rate_limiting_active);
  EXPECT_FALSE(stats.rate_limit.has_value());
  Polls polls;
  matcher.AddPoll(kQueue, clock.Now() + absl::Minutes(1), polls.Callback());
  matcher.AddPoll(kQueue, clock.Now() + absl::Minutes(1), polls.Callback(),
                  /*worker=*/50.0);
  stats = matcher.Stats(kQueue);
  EXPECT_EQ(stats.backlog_count, 0);
  EXPECT_EQ(stats.backlog_age, absl::ZeroDuration());
  EXPECT_DOUBLE_EQ(stats.tasks_dispatch_rate, 0.2);
  // The queue is gone (nothing waits), but its rates stay for a while.
  EXPECT_EQ(matcher.QueueCount(), 0u);
  clock.Advance(absl::Minutes(2));
  stats = matcher.Stats(kQueue);
  EXPECT_EQ(stats.tasks_add_rate, 0);
}

struct Hints {
  absl::Mutex mu;
  std::vector<int> deltas ABSL_GUARDED_BY(mu);
  Matcher::PollCallback Callback() {
    return [this](std::optional<TaskRef> t) {
      absl::MutexLock lock(&mu);
      deltas.push_back(t ? t->poller_delta : 99);
    };
  }
  std::vector<int> get() {
    absl::MutexLock lock(&mu);
    return deltas;
  }
};

// Temporal's poller scaling hints: +1 while a backlog older than 200 ms
// waits, -1 for a poll that waited a second or more, none under a rate
// limit.
TEST(QueueStatsTest, PollsGetScalingHints) {
  FakeClock clock(kT0);
  TimerThread timers(&clock);
  Matcher matcher(&timers);
  for (int i = 0; i < 3; ++i) {
    TaskRef task{absl::StrCat("a", i), "r", 1};
    task.ready_at = kT0;
    matcher.AddTask(kQueue, task);
  }
  Hints hints;
  const absl::Time expire = kT0 + absl::Hours(1);
  matcher.AddPoll(kQueue, expire, hints.Callback());  // backlog is fresh
  clock.Advance(absl::Seconds(1));
  matcher.AddPoll(kQueue, expire, hints.Callback());  // two 1 s old remain
  matcher.AddPoll(kQueue, expire, hints.Callback());  // empty after it
  EXPECT_EQ(hints.get(), (std::vector<int>{0, 1, 0}));

  matcher.AddPoll(kQueue, expire, hints.Callback());
  clock.Advance(absl::Seconds(2));
  matcher.AddTask(kQueue, {"late", "r", 1});
  EXPECT_EQ(hints.get(), (std::vector<int>{0, 1, 0, -1}));

  // At 1/s the second and third tasks wait for the limit, not for a poll:
  // their (older than 200 ms) backlog asks for no more pollers.
  const QueueKey limited{"ns-id", "limited"};
  for (int i = 0; i < 3; ++i) {
    TaskRef task{absl::StrCat("b", i), "r", 1};
    task.ready_at = clock.Now();
    matcher.AddTask(limited, task);
  }
  Hints limited_hints;
  for (int i = 0; i < 3; ++i) {
    matcher.AddPoll(limited, expire, limited_hints.Callback(), /*worker=*/1.0);
  }
  for (size_t dispatched = 2; dispatched <= 3; ++dispatched) {
    clock.Advance(absl::Seconds(1));
    ASSERT_TRUE(
        Eventually([&] { return limited_hints.get().size() == dispatched; }));
  }
  EXPECT_EQ(limited_hints.get(), (std::vector<int>{0, 0, 0}));
}

TEST(PollerHistoryTest, KeepsFiveMinutesMostRecentFirst) {
  PollerHistory history;
  history.Record(kActivityKey, "w1", 5, kT0);
  history.Record(kActivityKey, "w2", kDefaultPollerRate,
                 kT0 + absl::Seconds(1));
  history.Record(kActivityKey, "", 1, kT0);  // no identity: not recorded
  history.Record({"ns-id", "tq", kWorkflowTaskQueue}, "w1", 1, kT0);
  auto pollers = history.Pollers(kActivityKey, kT0 + absl::Seconds(2));
  ASSERT_EQ(pollers.size(), 2u);
  EXPECT_EQ(pollers[0].identity, "w2");
  EXPECT_EQ(pollers[1].identity, "w1");
  EXPECT_EQ(pollers[1].rate_per_second, 5);
  EXPECT_EQ(pollers[1].last_access, kT0);
  pollers = history.Pollers(kActivityKey,
                            kT0 + absl::Minutes(5) + absl::Milliseconds(500));
  ASSERT_EQ(pollers.size(), 1u);
  EXPECT_EQ(pollers[0].identity, "w2");
}

// Many short-lived queues and pollers cost memory only for five minutes.
TEST(PollerHistoryTest, OldEntriesAreSweptAndEachQueueIsCapped) {
  PollerHistory history;
  for (int i = 0; i < 100'000; ++i) {
    history.Record({"ns", absl::StrCat("q", i), kActivityTaskQueue}, "w", 1,
                   kT0);
  }
  EXPECT_EQ(history.size(), PollerHistory::kMaxEntries);
  // At the cap a new poller waits for old ones to expire.
  history.Record(kActivityKey, "late", 1, kT0 + absl::Seconds(1));
  EXPECT_EQ(history.size(), PollerHistory::kMaxEntries);
  EXPECT_TRUE(history.Pollers(kActivityKey, kT0 + absl::Seconds(1)).empty());
  // Ten minutes on, new polls sweep the old ones out as they come.
  for (int i = 0; i < 100'000; ++i) {
    history.Record(kActivityKey, absl::StrCat("w", i), 1,
                   kT0 + absl::Minutes(10) + absl::Milliseconds(i));
  }
  EXPECT_EQ(history.size(), PollerHistory::kMaxPerQueue);
  const auto pollers = history.Pollers(kActivityKey, kT0 + absl::Minutes(12));
  ASSERT_EQ(pollers.size(), PollerHistory::kMaxPerQueue);
  EXPECT_EQ(pollers.front().identity, "w99999");
}

}  // namespace
}  // namespace errand::matching
