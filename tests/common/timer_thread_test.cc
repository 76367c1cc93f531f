#include "errand/common/timer_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "errand/common/clock.h"

namespace errand {
namespace {

TEST(TimerThreadTest, RunsTimersInDeadlineOrder) {
  TimerThread timers;
  absl::Mutex mu;
  std::vector<int> order;
  absl::Notification done;
  const absl::Time now = absl::Now();
  timers.Schedule(now + absl::Milliseconds(30), [&] {
    absl::MutexLock l(&mu);
    order.push_back(3);
    done.Notify();
  });
  timers.Schedule(now + absl::Milliseconds(10), [&] {
    absl::MutexLock l(&mu);
    order.push_back(1);
  });
  timers.Schedule(now + absl::Milliseconds(20), [&] {
    absl::MutexLock l(&mu);
    order.push_back(2);
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  absl::MutexLock l(&mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(TimerThreadTest, CancelledTimerDoesNotRun) {
  TimerThread timers;
  std::atomic<bool> ran{false};
  auto id = timers.Schedule(absl::Now() + absl::Milliseconds(20),
                            [&] { ran = true; });
  EXPECT_TRUE(timers.Cancel(id));
  EXPECT_FALSE(timers.Cancel(id));
  absl::Notification later;
  timers.Schedule(absl::Now() + absl::Milliseconds(50),
                  [&] { later.Notify(); });
  ASSERT_TRUE(later.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_FALSE(ran);
}

// On a FakeClock, timers fire when the test moves time past them, and not
// before: nothing waits in real time.
TEST(TimerThreadTest, FakeClockFiresTimersWhenMovedPastThem) {
  FakeClock clock;
  TimerThread timers(&clock);
  std::atomic<int> fired{0};
  absl::Notification second;
  timers.Schedule(clock.Now() + absl::Hours(1), [&] { ++fired; });
  timers.Schedule(clock.Now() + absl::Hours(2), [&] {
    ++fired;
    second.Notify();
  });
  // Advance wakes the timer thread, which looks at the time under its lock
  // before Advance returns: when nothing is due it goes back to waiting.
  clock.Advance(absl::Minutes(59));
  EXPECT_EQ(fired, 0);
  clock.Advance(absl::Minutes(61));
  ASSERT_TRUE(second.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(fired, 2);
}

TEST(FakeClockTest, AwaitEndsOnTheConditionOrWhenTimeReachesTheDeadline) {
  FakeClock clock;
  absl::Mutex mu;
  bool flag = false;
  std::atomic<int> phase{0};
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    // Ends by time.
    EXPECT_FALSE(clock.AwaitWithDeadline(mu, absl::Condition(&flag),
                                         clock.Now() + absl::Seconds(10)));
    phase = 1;
    // Ends by the condition, long before its deadline.
    EXPECT_TRUE(clock.AwaitWithDeadline(mu, absl::Condition(&flag),
                                        clock.Now() + absl::Hours(10)));
    phase = 2;
  });
  while (clock.waiters() == 0) std::this_thread::yield();
  clock.Advance(absl::Seconds(9));
  EXPECT_EQ(phase, 0);
  clock.Advance(absl::Seconds(1));
  while (phase != 1 || clock.waiters() == 0) std::this_thread::yield();
  {
    absl::MutexLock lock(&mu);
    flag = true;
  }
  waiter.join();
  EXPECT_EQ(phase, 2);
  EXPECT_EQ(clock.waiters(), 0);
}

}  // namespace
}  // namespace errand
