// Dispatch rate limits: the GCRA limiter on its own, and the matcher holding
// tasks back from waiting polls until the rate lets them go, on a FakeClock.
#include "errand/matching/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "errand/common/clock.h"
#include "errand/matching/matcher.h"
#include "support/matcher_polls.h"

namespace errand::matching {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);
const QueueKey kQueue{"ns-id", "tq"};

TEST(RateLimiterTest, SpacesDispatchesWithAOneSecondBurst) {
  RateLimiter limiter;
  EXPECT_TRUE(limiter.TryTake(kT0));  // no limit
  limiter.SetRate(5);
  // A quiet second's worth at once: max(ceil(5), 1) = 5.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.TryTake(kT0)) << i;
  EXPECT_FALSE(limiter.TryTake(kT0));
  EXPECT_EQ(limiter.NextAllowed(kT0), kT0 + absl::Milliseconds(200));
  EXPECT_FALSE(limiter.TryTake(kT0 + absl::Milliseconds(199)));
  EXPECT_TRUE(limiter.TryTake(kT0 + absl::Milliseconds(200)));
  EXPECT_FALSE(limiter.TryTake(kT0 + absl::Milliseconds(300)));
  // Over 10 s at most 5 + 10 × 5 dispatches.
  int taken = 0;
  for (absl::Time t = kT0 + absl::Seconds(1); t < kT0 + absl::Seconds(11);
       t += absl::Milliseconds(10)) {
    while (limiter.TryTake(t)) ++taken;
  }
  EXPECT_GE(taken, 50);
  EXPECT_LE(taken, 55);
}

TEST(RateLimiterTest, ZeroPausesAndFractionalRatesBurstOne) {
  RateLimiter limiter;
  limiter.SetRate(0);
  EXPECT_FALSE(limiter.TryTake(kT0));
  EXPECT_EQ(limiter.NextAllowed(kT0), absl::InfiniteFuture());
  limiter.SetRate(0.5);
  EXPECT_TRUE(limiter.TryTake(kT0));
  EXPECT_FALSE(limiter.TryTake(kT0 + absl::Seconds(1)));
  EXPECT_TRUE(limiter.TryTake(kT0 + absl::Seconds(2)));
  limiter.SetRate(std::nullopt);
  EXPECT_TRUE(limiter.TryTake(kT0 + absl::Seconds(2)));
  limiter.SetRate(-3);  // nonsense: treated as paused
  EXPECT_FALSE(limiter.TryTake(kT0 + absl::Seconds(9)));
}

TEST(MatcherRateLimitTest, WorkerRateHoldsTasksBackUntilTheClockAllows) {
  FakeClock clock(kT0);
  TimerThread timers(&clock);
  Matcher matcher(&timers);
  for (int i = 0; i < 10; ++i) {
    matcher.AddTask(kQueue, {absl::StrCat("a", i), "r", 1});
  }
  Polls polls;
  const absl::Time expire = kT0 + absl::Hours(1);
  for (int i = 0; i < 10; ++i) {
    matcher.AddPoll(kQueue, expire, polls.Callback(), /*rate=*/2.0);
  }
  // Burst of max(ceil(2), 1) = 2, then one every 500 ms.
  EXPECT_EQ(polls.count(), 2u);
  EXPECT_EQ(matcher.BacklogSize(kQueue), 8u);
  clock.Advance(absl::Milliseconds(499));
  EXPECT_EQ(polls.count(), 2u);
  clock.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(Eventually([&] { return polls.count() == 3; }))
      << polls.count() << " backlog " << matcher.BacklogSize(kQueue);
  // Two seconds later: no more than a one-second burst (2) at once.
  clock.Advance(absl::Seconds(2));
  ASSERT_TRUE(Eventually([&] { return polls.count() == 5; }));
  EXPECT_EQ(matcher.BacklogSize(kQueue), 5u);
  clock.Advance(absl::Milliseconds(500));
  ASSERT_TRUE(Eventually([&] { return polls.count() == 6; }));
  {
    absl::MutexLock lock(&polls.mu);
    EXPECT_EQ(polls.got,
              (std::vector<std::string>{"a0", "a1", "a2", "a3", "a4", "a5"}));
  }
  // A poll without a rate clears it (the last poll wins): the rest go at once.
  matcher.AddPoll(kQueue, expire, polls.Callback());
  EXPECT_EQ(polls.count(), 10u);
  EXPECT_EQ(matcher.BacklogSize(kQueue), 0u);
  EXPECT_EQ(matcher.QueueCount(), 1u);  // the extra poll waits
}

TEST(MatcherRateLimitTest, ZeroPausesDispatchUntilAPollLiftsIt) {
  FakeClock clock(kT0);
  TimerThread timers(&clock);
  Matcher matcher(&timers);
  Polls polls;
  const absl::Time expire = kT0 + absl::Hours(1);
  matcher.AddPoll(kQueue, expire, polls.Callback(), /*rate=*/0.0);
  matcher.AddTask(kQueue, {"a0", "r", 1});
  clock.Advance(absl::Minutes(10));
  EXPECT_EQ(polls.count(), 0u);
  EXPECT_EQ(matcher.BacklogSize(kQueue), 1u);
  // A waiting poll still expires empty.
  clock.Advance(absl::Hours(1));
  ASSERT_TRUE(Eventually([&] { return polls.empty == 1; }));
  matcher.AddPoll(kQueue, clock.Now() + absl::Hours(1), polls.Callback(), 10.0);
  EXPECT_EQ(polls.count(), 1u);
  EXPECT_EQ(matcher.QueueCount(), 0u);
}

}  // namespace
}  // namespace errand::matching
