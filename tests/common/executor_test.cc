#include "errand/common/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"

namespace errand {
namespace {

TEST(BoundedExecutorTest, RunsJobsOnItsOwnThreads) {
  BoundedExecutor executor(2, 16);
  std::atomic<int> ran{0};
  std::atomic<bool> on_caller{false};
  const std::thread::id caller = std::this_thread::get_id();
  absl::Notification all;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(executor.Submit([&] {
      if (std::this_thread::get_id() == caller) on_caller = true;
      if (ran.fetch_add(1) + 1 == 10) all.Notify();
    }));
  }
  ASSERT_TRUE(all.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_FALSE(on_caller);
}

TEST(BoundedExecutorTest, RefusesJobsWhenTheQueueIsFull) {
  BoundedExecutor executor(1, 2);
  absl::Notification started, release;
  std::atomic<int> ran{0};
  ASSERT_TRUE(executor.Submit([&] {
    started.Notify();
    release.WaitForNotification();
    ran.fetch_add(1);
  }));
  started.WaitForNotification();  // the only thread is busy
  EXPECT_TRUE(executor.Submit([&] { ran.fetch_add(1); }));
  EXPECT_TRUE(executor.Submit([&] { ran.fetch_add(1); }));
  EXPECT_EQ(executor.queued(), 2u);
  bool refused_ran = false;
  EXPECT_FALSE(executor.Submit([&] { refused_ran = true; }));
  release.Notify();
  executor.Stop();  // runs what was queued
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(refused_ran);
}

TEST(BoundedExecutorTest, StopRunsQueuedJobsAndRefusesLaterOnes) {
  BoundedExecutor executor(1, 8);
  absl::Notification release;
  std::atomic<int> ran{0};
  ASSERT_TRUE(executor.Submit([&] { release.WaitForNotification(); }));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(executor.Submit([&] { ran.fetch_add(1); }));
  }
  std::thread stopper([&] { executor.Stop(); });
  release.Notify();
  stopper.join();
  EXPECT_EQ(ran.load(), 5);
  EXPECT_FALSE(executor.Submit([] {}));
  executor.Stop();  // again: nothing to do
}

}  // namespace
}  // namespace errand
