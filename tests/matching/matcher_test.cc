#include "errand/matching/matcher.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
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

TEST(MatcherTest, AnOfferedTaskGoesToAWaitingPollOrIsNotQueuedAtAll) {
  TimerThread timers;
  Matcher matcher(&timers);
  // No poll waits: refused, and nothing is queued.
  EXPECT_FALSE(matcher.OfferTask(kQueue, {"a1", "r1", 1}));
  EXPECT_EQ(matcher.BacklogSize(kQueue), 0u);
  EXPECT_EQ(matcher.QueueCount(), 0u);

  Outcome first;
  matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10), first.Callback());
  // Not ready yet (a start delay): refused.
  EXPECT_FALSE(
      matcher.OfferTask(kQueue, {.activity_id = "later",
                                 .run_id = "r",
                                 .stamp = 1,
                                 .ready_at = absl::Now() + absl::Hours(1)}));
  EXPECT_FALSE(first.done.HasBeenNotified());
  ASSERT_TRUE(matcher.OfferTask(kQueue, {"a2", "r2", 1}));
  ASSERT_TRUE(first.done.HasBeenNotified());
  EXPECT_EQ(first.task->activity_id, "a2");
  EXPECT_EQ(matcher.BacklogSize(kQueue), 0u);
  EXPECT_GT(matcher.Stats(kQueue).tasks_dispatch_rate, 0);

  // A task queued before it: the offer would jump the queue, so it is
  // refused (the queued one goes to the next poll).
  matcher.AddTask(kQueue, {"queued", "r", 1});
  Outcome second;
  matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10), second.Callback());
  ASSERT_TRUE(second.done.HasBeenNotified());
  EXPECT_EQ(second.task->activity_id, "queued");
}

TEST(MatcherTest, AnOfferIsRefusedWhileARateLimitHoldsDispatch) {
  TimerThread timers;
  Matcher matcher(&timers);
  Outcome first, second;
  // The worker's limit: one task per 100 s, with its burst of one. (Two
  // polls wait, so that the queue, and its limiter, outlive the first.)
  matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10), first.Callback(),
                  0.01);
  matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10), second.Callback(),
                  0.01);
  ASSERT_TRUE(matcher.OfferTask(kQueue, {"a1", "r1", 1}));
  ASSERT_TRUE(first.done.HasBeenNotified());
  EXPECT_FALSE(matcher.OfferTask(kQueue, {"a2", "r2", 1}));
  EXPECT_FALSE(second.done.HasBeenNotified());
  EXPECT_EQ(matcher.BacklogSize(kQueue), 0u);

  // A per-key limit: refused too, whatever the key's own state.
  const QueueKey keyed{"ns-id", "keyed"};
  DispatchConfig config;
  config.fairness.key_rate_limit = 1000;
  matcher.Configure(keyed, config);
  Outcome third;
  matcher.AddPoll(keyed, absl::Now() + absl::Seconds(10), third.Callback());
  EXPECT_FALSE(matcher.OfferTask(keyed, {"k1", "r", 1}));
  EXPECT_EQ(matcher.BacklogSize(keyed), 0u);
  matcher.AddTask(keyed, {"k1", "r", 1});
  ASSERT_TRUE(third.done.HasBeenNotified());
  matcher.Shutdown();
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

TEST(MatcherTest, SettledPollsLeaveAndEmptyQueuesAreErased) {
  TimerThread timers;
  Matcher matcher(&timers);
  // Expiry: the queue is gone by the time the poll is answered.
  Outcome expired;
  matcher.AddPoll(kQueue, absl::Now() + absl::Milliseconds(10),
                  expired.Callback());
  EXPECT_EQ(matcher.QueueCount(), 1u);
  ASSERT_TRUE(expired.done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(matcher.QueueCount(), 0u);
  // Cancel.
  Outcome cancelled;
  auto poll = matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10),
                              cancelled.Callback());
  matcher.CancelPoll(poll);
  ASSERT_TRUE(cancelled.done.HasBeenNotified());
  EXPECT_EQ(matcher.QueueCount(), 0u);
  // A task handed to a waiting poll.
  Outcome matched;
  matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10), matched.Callback());
  matcher.AddTask(kQueue, {"a5", "r5", 1});
  ASSERT_TRUE(matched.task.has_value());
  EXPECT_EQ(matcher.QueueCount(), 0u);
  // A queued task taken by a later poll.
  matcher.AddTask(kQueue, {"a6", "r6", 1});
  EXPECT_EQ(matcher.QueueCount(), 1u);
  Outcome later;
  matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10), later.Callback());
  ASSERT_TRUE(later.task.has_value());
  EXPECT_EQ(matcher.QueueCount(), 0u);
  EXPECT_EQ(matcher.BacklogSize(kQueue), 0u);
}

TEST(MatcherTest, CancelAfterAnswerDoesNothing) {
  TimerThread timers;
  Matcher matcher(&timers);
  int calls = 0;
  auto poll = matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10),
                              [&](std::optional<TaskRef> task) {
                                ++calls;
                                EXPECT_TRUE(task.has_value());
                              });
  matcher.AddTask(kQueue, {"a7", "r7", 1});
  matcher.CancelPoll(poll);
  matcher.CancelPoll(poll);
  EXPECT_EQ(calls, 1);
  // The task went to the poll, not to the backlog.
  EXPECT_EQ(matcher.BacklogSize(kQueue), 0u);
}

// Answers counted across threads; Wait returns once `n` have come in.
class Tally {
 public:
  Matcher::PollCallback Callback() {
    return [this](std::optional<TaskRef> task) {
      absl::MutexLock lock(&mu_);
      ++answers_;
      if (task) ++tasks_;
    };
  }
  bool Wait(int64_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return answers_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }
  int64_t answers() {
    absl::MutexLock lock(&mu_);
    return answers_;
  }
  int64_t tasks() {
    absl::MutexLock lock(&mu_);
    return tasks_;
  }

 private:
  absl::Mutex mu_;
  int64_t answers_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t tasks_ ABSL_GUARDED_BY(mu_) = 0;
};

// The leak of issue 12: every distinct task queue name polled once used to
// leave its queue entry behind for good.
TEST(MatcherTest, HundredThousandDistinctQueuesLeaveNothingBehind) {
  constexpr int kQueues = 100'000;
  TimerThread timers;
  Matcher matcher(&timers);
  Tally tally;
  const absl::Time soon = absl::Now() + absl::Milliseconds(200);
  const absl::Time late = absl::Now() + absl::Seconds(600);
  std::vector<Matcher::PollHandle> to_cancel;
  for (int i = 0; i < kQueues; ++i) {
    QueueKey key{"ns-id", absl::StrCat("short-lived-", i)};
    // Half expire, half are cancelled (the caller went away) long before
    // their expiry.
    if (i % 2 == 0) {
      matcher.AddPoll(key, soon, tally.Callback());
    } else {
      to_cancel.push_back(matcher.AddPoll(key, late, tally.Callback()));
    }
  }
  // The polls still to be cancelled hold their queues (the others may have
  // expired already).
  EXPECT_GE(matcher.QueueCount(), to_cancel.size());
  for (const auto& poll : to_cancel) matcher.CancelPoll(poll);
  ASSERT_TRUE(tally.Wait(kQueues, absl::Seconds(60)));
  EXPECT_EQ(tally.tasks(), 0);
  EXPECT_EQ(matcher.QueueCount(), 0u);
}

// A poll can be settled at once by its timer, by cancel and by a task; each
// is answered exactly once and no task is lost or given twice.
TEST(MatcherTest, TimerCancelAndTaskRaceWithoutLosingTasks) {
  constexpr int kPolls = 20'000;
  constexpr int kTasks = 10'000;
  TimerThread timers;
  Matcher matcher(&timers);
  Tally tally;
  std::vector<Matcher::PollHandle> polls(kPolls);
  const absl::Time start = absl::Now();
  std::thread pollers([&] {
    for (int i = 0; i < kPolls; ++i) {
      // Expiries spread over the run, so that timers fire mid-race.
      polls[i] =
          matcher.AddPoll(kQueue, start + absl::Microseconds(50 * (i % 1000)),
                          tally.Callback());
    }
  });
  std::thread tasks([&] {
    for (int i = 0; i < kTasks; ++i) {
      matcher.AddTask(kQueue, {absl::StrCat("a", i), "r", 1});
    }
  });
  pollers.join();
  std::thread cancellers([&] {
    for (int i = 0; i < kPolls; i += 3) matcher.CancelPoll(polls[i]);
  });
  tasks.join();
  cancellers.join();
  ASSERT_TRUE(tally.Wait(kPolls, absl::Seconds(60)));
  // Every task went to exactly one poll or is still queued.
  EXPECT_EQ(tally.answers(), kPolls);
  EXPECT_EQ(tally.tasks() + static_cast<int64_t>(matcher.BacklogSize(kQueue)),
            kTasks);
  EXPECT_LE(matcher.QueueCount(), 1u);
  // Draining the backlog leaves no queue behind.
  Tally drain;
  const int64_t backlog = matcher.BacklogSize(kQueue);
  for (int64_t i = 0; i < backlog; ++i) {
    matcher.AddPoll(kQueue, absl::Now() + absl::Seconds(10), drain.Callback());
  }
  EXPECT_EQ(drain.tasks(), backlog);
  EXPECT_EQ(matcher.QueueCount(), 0u);
}

}  // namespace
}  // namespace errand::matching
