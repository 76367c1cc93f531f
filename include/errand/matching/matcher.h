// Matching: per-(namespace, task queue) in-memory queues of ready tasks and of
// long-polling workers waiting for one. Nothing here is durable: the activity
// records in the store are the source of truth, and the engine re-adds every
// scheduled task after a restart.
//
// Memory follows what is waiting, not what ever was: a poll leaves its queue
// as soon as it is settled (by a task, its timer, cancel or shutdown), and a
// queue with neither tasks nor polls is erased. Any number of short-lived
// task queue names therefore costs nothing once their polls are over. Apart
// from the queues the matcher keeps the dispatch configs operators set (one
// per configured queue) and, for 30 seconds after a queue's last task, the
// add and dispatch rates DescribeTaskQueue reports.
#ifndef ERRAND_MATCHING_MATCHER_H_
#define ERRAND_MATCHING_MATCHER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/time/time.h"
#include "errand/common/timer_thread.h"
#include "errand/matching/backlog.h"
#include "errand/matching/queue_stats.h"
#include "errand/matching/task_ref.h"

namespace errand::matching {

// What a task queue's config (UpdateTaskQueueConfig) changes in dispatch.
struct DispatchConfig {
  // Overrides the workers' max_tasks_per_second when set; 0 pauses.
  std::optional<double> queue_rate_limit;
  FairnessSettings fairness;

  bool operator==(const DispatchConfig&) const = default;
};

class Matcher {
 public:
  // Called exactly once per poll: with a task, or with nullopt when the poll
  // expired, was cancelled or the matcher shut down. Runs on whichever thread
  // settled the poll, with no matcher lock held, and must not block.
  using PollCallback = std::function<void(std::optional<TaskRef>)>;

  // Opaque to callers: only for CancelPoll.
  class Poll;
  using PollHandle = std::shared_ptr<Poll>;

  // `timers` must outlive the matcher. `backlog` orders every queue's tasks
  // (priority levels, fairness).
  explicit Matcher(TimerThread* timers, BacklogOptions backlog = {});
  ~Matcher();  // Shutdown()
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // Hands the next task on `queue` to `done`, waiting until `expire_at`.
  // `max_tasks_per_second` is the worker's dispatch rate limit for the
  // queue (task_queue_metadata): as in Temporal, each poll sets it and a
  // poll without one clears it; 0 pauses dispatch.
  PollHandle AddPoll(const QueueKey& queue, absl::Time expire_at,
                     PollCallback done,
                     std::optional<double> max_tasks_per_second = std::nullopt);
  // Settles the poll with nullopt unless it already has its answer.
  void CancelPoll(const PollHandle& poll);

  // Gives `task` to the oldest waiting poll, or queues it in its backlog,
  // which hands tasks out in priority, fairness and ready order.
  void AddTask(const QueueKey& queue, TaskRef task);

  // Gives `task` to the oldest waiting poll if it can have it now without
  // waiting: a poll waits, nothing is queued before it, and no rate limit
  // holds it back. Otherwise changes nothing and returns false. For a task
  // whose run is not yet durable: one that is refused is never queued.
  bool OfferTask(const QueueKey& queue, TaskRef task);

  // Applies `config` to `queue` from now on (also to tasks already queued);
  // a default DispatchConfig removes it.
  void Configure(const QueueKey& queue, DispatchConfig config);

  // Answers every waiting poll with nullopt, and all later ones at once.
  void Shutdown();

  // The queue's backlog, recent rates and rate limit, at `now`.
  QueueStats Stats(const QueueKey& queue) const;

  // The backlog and waiting polls of every queue that holds either, for
  // the metrics; at most `limit` queues.
  struct QueueGauges {
    QueueKey queue;
    int64_t backlog_count = 0;
    absl::Duration backlog_age = absl::ZeroDuration();
    int64_t waiting_polls = 0;
  };
  std::vector<QueueGauges> Gauges(size_t limit) const;

  // Tasks queued but not yet handed out, on one queue (for tests and stats).
  size_t BacklogSize(const QueueKey& queue) const;
  // Task queues holding tasks or waiting polls (for tests and stats).
  size_t QueueCount() const;
  // Polls waiting on any queue (for tests and stats).
  size_t WaitingPolls() const;

 private:
  // The queues and their lock. Poll timers reach it through a weak pointer,
  // so a timer that fires while the matcher is being destroyed finds it gone
  // (or keeps it alive until it is done) instead of touching freed memory.
  struct State;

  TimerThread* const timers_;
  const std::shared_ptr<State> state_;
};

}  // namespace errand::matching

#endif  // ERRAND_MATCHING_MATCHER_H_
