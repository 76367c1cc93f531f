#include "errand/matching/matcher.h"

#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace errand::matching {
namespace {

const QueueKey kQueue{"ns-id", "tq"};

struct Outcome {
  absl::Notification done;
  std::optional<TaskRef> task;
  Matcher::PollCallback Callback() {
    return [this](std::optional<TaskRef> t) {
      task = std::move(t);
      done.Notify();
    };
  }
};

TEST(MatcherTest, QueuedTaskGoesToNextPoll) {
  TimerThread timers;
  Matcher matcher(&timers);
  matcher.AddTask(kQueue, {"a1", "r1", 1});
  EXPECT_EQ(matcher.BacklogSize(kQueue), 1u);
  Outcome out;
  matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10), out.Callback());
  ASSERT_TRUE(out.done.HasBeenNotified());
  ASSERT_TRUE(out.task.has_value());
  EXPECT_EQ(out.task->activity_id, "a1");
  EXPECT_EQ(matcher.BacklogSize(kQueue), 0u);
}

TEST(MatcherTest, WaitingPollGetsTaskAddedLater) {
  TimerThread timers;
  Matcher matcher(&timers);
  Outcome out;
  matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10), out.Callback());
  EXPECT_FALSE(out.done.HasBeenNotified());
  matcher.AddTask({"other-ns", "tq"}, {"x", "r", 1});
  EXPECT_FALSE(out.done.HasBeenNotified());
  matcher.AddTask(kQueue, {"a2", "r2", 3});
  ASSERT_TRUE(out.done.HasBeenNotified());
  EXPECT_EQ(out.task->stamp, 3);
}

TEST(MatcherTest, PollExpiresEmptyAndLaterTaskIsQueued) {
  TimerThread timers;
  Matcher matcher(&timers);
  Outcome out;
  matcher.AddPoll(kQueue, absl::Now() + absl::Milliseconds(20), out.Callback());
  ASSERT_TRUE(out.done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_FALSE(out.task.has_value());
  matcher.AddTask(kQueue, {"a3", "r3", 1});
  EXPECT_EQ(matcher.BacklogSize(kQueue), 1u);
}

TEST(MatcherTest, CancelledPollDoesNotSwallowTask) {
  TimerThread timers;
  Matcher matcher(&timers);
  Outcome first, second;
  auto poll = matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10),
                              first.Callback());
  matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10), second.Callback());
  matcher.CancelPoll(poll);
  ASSERT_TRUE(first.done.HasBeenNotified());
  EXPECT_FALSE(first.task.has_value());
  matcher.AddTask(kQueue, {"a4", "r4", 1});
  ASSERT_TRUE(second.done.HasBeenNotified());
  EXPECT_EQ(second.task->activity_id, "a4");
}

TEST(MatcherTest, ShutdownAnswersWaitingAndLaterPolls) {
  TimerThread timers;
  Matcher matcher(&timers);
  Outcome waiting, later;
  matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10), waiting.Callback());
  matcher.Shutdown();
  ASSERT_TRUE(waiting.done.HasBeenNotified());
  EXPECT_FALSE(waiting.task.has_value());
  matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10), later.Callback());
  ASSERT_TRUE(later.done.HasBeenNotified());
}

}  // namespace
}  // namespace errand::matching
