#include "errand/common/timer_thread.h"

#include <gtest/gtest.h>

#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

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

}  // namespace
}  // namespace errand
