// The dispatch order of one task queue: priority levels, stride scheduling
// between fairness keys, and ready order within a key.
#include "errand/matching/backlog.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace errand::matching {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

TaskRef Task(std::string id, int priority = 0, std::string fairness_key = "",
             double weight = 0, absl::Time ready = kT0) {
  TaskRef t;
  t.activity_id = std::move(id);
  t.ready_at = ready;
  t.priority_key = priority;
  t.fairness_key = std::move(fairness_key);
  t.fairness_weight = weight;
  return t;
}

std::vector<std::string> Drain(Backlog& backlog) {
  std::vector<std::string> ids;
  while (auto t = backlog.Pop(kT0)) ids.push_back(t->activity_id);
  return ids;
}

TEST(BacklogTest, PriorityLevelsDefaultAndClip) {
  EXPECT_EQ(PriorityLevel(1, 5), 0);
  EXPECT_EQ(PriorityLevel(0, 5), 2);  // unset: (5 + 1) / 2 = 3
  EXPECT_EQ(PriorityLevel(3, 5), 2);
  EXPECT_EQ(PriorityLevel(5, 5), 4);
  EXPECT_EQ(PriorityLevel(9, 5), 4);   // clipped to the lowest
  EXPECT_EQ(PriorityLevel(-2, 5), 2);  // negative: the default
  EXPECT_EQ(PriorityLevel(0, 10), 4);  // (10 + 1) / 2 = 5
  EXPECT_EQ(PriorityLevel(0, 1), 0);
}

TEST(BacklogTest, HigherPriorityFirstThenReadyOrder) {
  Backlog backlog;
  backlog.Push(Task("low", 5, "", 0, kT0));
  backlog.Push(Task("default-late", 0, "", 0, kT0 + absl::Seconds(2)));
  backlog.Push(Task("high", 1, "", 0, kT0 + absl::Seconds(5)));
  backlog.Push(Task("default-early", 3, "", 0, kT0 + absl::Seconds(1)));
  backlog.Push(Task("clipped", 99, "", 0, kT0 - absl::Seconds(1)));
  EXPECT_EQ(Drain(backlog),
            (std::vector<std::string>{"high", "default-early", "default-late",
                                      "clipped", "low"}));
  EXPECT_TRUE(backlog.empty());
}

// Tasks come back in ready order whatever order they are pushed in (as
// after a restart, when the engine re-adds them in key order).
TEST(BacklogTest, ReadyOrderDoesNotDependOnPushOrder) {
  Backlog backlog;
  for (int i : {4, 1, 3, 0, 2}) {
    backlog.Push(
        Task(absl::StrCat("t", i), 0, "k", 0, kT0 + absl::Milliseconds(i)));
  }
  EXPECT_EQ(Drain(backlog),
            (std::vector<std::string>{"t0", "t1", "t2", "t3", "t4"}));
  // Equal ready times keep arrival order.
  for (int i = 0; i < 3; ++i) backlog.Push(Task(absl::StrCat("s", i)));
  EXPECT_EQ(Drain(backlog), (std::vector<std::string>{"s0", "s1", "s2"}));
}

std::map<std::string, int> Shares(Backlog& backlog, int dispatches) {
  std::map<std::string, int> count;
  for (int i = 0; i < dispatches; ++i) {
    auto t = backlog.Pop(kT0);
    if (!t) break;
    ++count[t->fairness_key];
  }
  return count;
}

TEST(BacklogTest, WeightsShareDispatchesWhileAllKeysAreBacklogged) {
  Backlog backlog;
  // Tenant a's whole burst is ready before anything of b or c.
  for (int i = 0; i < 1000; ++i) {
    backlog.Push(Task(absl::StrCat("a", i), 0, "a", 3, kT0));
  }
  for (int i = 0; i < 1000; ++i) {
    backlog.Push(Task(absl::StrCat("b", i), 0, "b", 1, kT0 + absl::Seconds(1)));
    backlog.Push(Task(absl::StrCat("c", i), 0, "c", 0, kT0 + absl::Seconds(1)));
  }
  const auto shares = Shares(backlog, 500);
  // 3 : 1 : 1 of 500 is 300 : 100 : 100, within one stride's rounding.
  EXPECT_NEAR(shares.at("a"), 300, 2);
  EXPECT_NEAR(shares.at("b"), 100, 2);
  EXPECT_NEAR(shares.at("c"), 100, 2);
}

TEST(BacklogTest, ABurstDoesNotBlockOthersAndIdleKeysBankNoCredit) {
  Backlog backlog;
  for (int i = 0; i < 100; ++i)
    backlog.Push(Task(absl::StrCat("a", i), 0, "a"));
  backlog.Push(Task("b0", 0, "b"));
  // b is served second, not after a's hundred.
  auto first = Drain(backlog);
  ASSERT_GE(first.size(), 2u);
  EXPECT_EQ(first[1], "b0");

  // a alone for a while: b, idle meanwhile, has no credit saved up. When both
  // come back they alternate from the current pass.
  for (int i = 0; i < 50; ++i) backlog.Push(Task(absl::StrCat("a", i), 0, "a"));
  for (int i = 0; i < 40; ++i) backlog.Pop(kT0);
  for (int i = 0; i < 10; ++i) backlog.Push(Task(absl::StrCat("b", i), 0, "b"));
  const auto shares = Shares(backlog, 10);
  EXPECT_EQ(shares.at("a"), 5);
  EXPECT_EQ(shares.at("b"), 5);
}

TEST(BacklogTest, KeysWithoutTasksAreForgotten) {
  Backlog backlog;
  for (int i = 0; i < 10000; ++i) {
    backlog.Push(Task(absl::StrCat("t", i), 0, absl::StrCat("tenant", i)));
  }
  EXPECT_EQ(backlog.key_count(), 10000u);
  EXPECT_EQ(Drain(backlog).size(), 10000u);
  EXPECT_EQ(backlog.key_count(), 0u);
}

TEST(BacklogTest, OverrideWinsAndWeightsAreBounded) {
  EXPECT_EQ(EffectiveWeight(std::nullopt, 0), 1.0);
  EXPECT_EQ(EffectiveWeight(std::nullopt, -3), 1.0);
  EXPECT_EQ(EffectiveWeight(std::nullopt, 2.5), 2.5);
  EXPECT_EQ(EffectiveWeight(std::nullopt, 1e-9), 0.001);
  EXPECT_EQ(EffectiveWeight(4.0, 1.0), 4.0);
  EXPECT_EQ(Stride(1.0), 1000);
  EXPECT_EQ(Stride(3.0), 333);
  EXPECT_EQ(Stride(0.001), 1'000'000);
  EXPECT_EQ(Stride(5000.0), 1);

  Backlog backlog;
  backlog.Configure({.weight_overrides = {{"a", 4.0}}});
  for (int i = 0; i < 100; ++i) {
    backlog.Push(Task(absl::StrCat("a", i), 0, "a", 1));
    backlog.Push(Task(absl::StrCat("b", i), 0, "b", 1));
  }
  const auto shares = Shares(backlog, 50);
  EXPECT_NEAR(shares.at("a"), 40, 1);
  EXPECT_NEAR(shares.at("b"), 10, 1);
}

TEST(BacklogTest, FairnessOffIsReadyOrderWithinALevel) {
  Backlog backlog({.levels = 5, .fairness = false});
  for (int i = 0; i < 5; ++i) {
    backlog.Push(
        Task(absl::StrCat("a", i), 0, "a", 100, kT0 + absl::Seconds(i)));
  }
  backlog.Push(Task("b0", 0, "b", 1, kT0 + absl::Milliseconds(500)));
  EXPECT_EQ(Drain(backlog),
            (std::vector<std::string>{"a0", "b0", "a1", "a2", "a3", "a4"}));
  EXPECT_EQ(backlog.key_count(), 0u);
}

// A config's weight override applies to keys already queued.
TEST(BacklogTest, ConfigureReweighsQueuedKeys) {
  Backlog backlog;
  for (int i = 0; i < 100; ++i) {
    backlog.Push(Task(absl::StrCat("a", i), 0, "a", 1));
    backlog.Push(Task(absl::StrCat("b", i), 0, "b", 1));
  }
  backlog.Configure({.weight_overrides = {{"b", 3.0}}});
  const auto shares = Shares(backlog, 40);
  EXPECT_NEAR(shares.at("a"), 10, 1);
  EXPECT_NEAR(shares.at("b"), 30, 1);
}

// With a per-key limit (1/s for weight 1), a key held back is passed over,
// keeps its place, and is served first once its limit allows; a key's limit
// scales with its weight.
TEST(BacklogTest, PerKeyRateLimitPassesOverHeldKeys) {
  Backlog backlog;
  backlog.Configure({.weight_overrides = {{"b", 2.0}}, .key_rate_limit = 1.0});
  for (int i = 0; i < 5; ++i) {
    backlog.Push(Task(absl::StrCat("a", i), 0, "a", 1, kT0));
    backlog.Push(Task(absl::StrCat("b", i), 0, "b", 1, kT0));
  }
  // Bursts: a gets max(ceil(1), 1) = 1, b gets ceil(2) = 2.
  std::vector<std::string> got;
  while (auto t = backlog.Pop(kT0)) got.push_back(t->activity_id);
  EXPECT_EQ(got, (std::vector<std::string>{"a0", "b0", "b1"}));
  EXPECT_EQ(backlog.size(), 7u);
  EXPECT_EQ(backlog.NextReady(kT0), kT0 + absl::Milliseconds(500));
  EXPECT_FALSE(backlog.Pop(kT0 + absl::Milliseconds(499)).has_value());
  EXPECT_EQ(backlog.Pop(kT0 + absl::Milliseconds(500))->activity_id, "b2");
  // At 1 s both may go again; a has the lower pass, so it goes first.
  EXPECT_EQ(backlog.Pop(kT0 + absl::Seconds(1))->activity_id, "a1");
  EXPECT_EQ(backlog.Pop(kT0 + absl::Seconds(1))->activity_id, "b3");
  EXPECT_FALSE(backlog.Pop(kT0 + absl::Seconds(1)).has_value());
  // Lifting the limit lets the rest go at once.
  backlog.Configure({});
  EXPECT_EQ(Drain(backlog), (std::vector<std::string>{"a2", "b4", "a3", "a4"}));
}

// A key that empties keeps its limiter while the limit still binds, so that
// it cannot burst again by running out of tasks and coming back.
TEST(BacklogTest, PerKeyLimitOutlivesAnEmptyKey) {
  Backlog backlog;
  backlog.Configure({.key_rate_limit = 1.0});
  backlog.Push(Task("a0", 0, "a", 1, kT0));
  EXPECT_EQ(backlog.Pop(kT0)->activity_id, "a0");
  EXPECT_EQ(backlog.key_count(), 0u);
  backlog.Push(Task("a1", 0, "a", 1, kT0));
  EXPECT_FALSE(backlog.Pop(kT0 + absl::Milliseconds(999)).has_value());
  EXPECT_EQ(backlog.Pop(kT0 + absl::Seconds(1))->activity_id, "a1");
}

TEST(BacklogTest, OldestReadyAtIsTheEarliestQueuedTask) {
  Backlog backlog;
  EXPECT_EQ(backlog.OldestReadyAt(), absl::InfiniteFuture());
  backlog.Push(Task("late", 1, "x", 1, kT0 + absl::Seconds(5)));
  backlog.Push(Task("early", 5, "y", 1, kT0 + absl::Seconds(2)));
  EXPECT_EQ(backlog.OldestReadyAt(), kT0 + absl::Seconds(2));
}

}  // namespace
}  // namespace errand::matching
