// Matching: per-(namespace, task queue) in-memory queues of ready tasks and of
// long-polling workers waiting for one. Nothing here is durable: the activity
// records in the store are the source of truth, and the engine re-adds every
// scheduled task after a restart.
#ifndef ERRAND_MATCHING_MATCHER_H_
#define ERRAND_MATCHING_MATCHER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "errand/common/timer_thread.h"

namespace errand::matching {

struct QueueKey {
  std::string namespace_id;
  std::string task_queue;

  bool operator==(const QueueKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const QueueKey& k) {
    return H::combine(std::move(h), k.namespace_id, k.task_queue);
  }
};

// Names one scheduled attempt of an activity. The stamp fences stale tasks:
// the engine refuses to start an attempt whose stamp is no longer current.
struct TaskRef {
  std::string activity_id;
  std::string run_id;
  int64_t stamp = 0;
};

class Matcher {
 public:
  // Called exactly once per poll: with a task, or with nullopt when the poll
  // expired, was cancelled or the matcher shut down. Runs on whichever thread
  // settled the poll and must not block.
  using PollCallback = std::function<void(std::optional<TaskRef>)>;

  class Poll;
  using PollHandle = std::shared_ptr<Poll>;

  explicit Matcher(TimerThread* timers) : timers_(timers) {}
  ~Matcher() { Shutdown(); }

  // Hands the next task on `queue` to `done`, waiting until `expire_at`.
  PollHandle AddPoll(const QueueKey& queue, absl::Time expire_at,
                     PollCallback done);
  // Settles the poll with nullopt unless it already has its answer.
  void CancelPoll(const PollHandle& poll);

  // Gives `task` to a waiting poller, or queues it for the next one.
  void AddTask(const QueueKey& queue, TaskRef task);

  // Answers every waiting poll with nullopt, and all later ones at once.
  void Shutdown();

  // Tasks queued but not yet handed out, on one queue (for tests and stats).
  size_t BacklogSize(const QueueKey& queue) const;

 private:
  struct Queue {
    std::deque<TaskRef> tasks;
    std::deque<PollHandle> polls;
  };

  TimerThread* const timers_;
  mutable absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<QueueKey, Queue> queues_ ABSL_GUARDED_BY(mu_);
};

class Matcher::Poll {
 public:
  explicit Poll(PollCallback done) : done_(std::move(done)) {}
  // Settles the poll once; later calls do nothing and return false.
  bool Settle(std::optional<TaskRef> task);
  bool settled() const { return settled_.load(std::memory_order_acquire); }

 private:
  friend class Matcher;
  std::atomic<bool> settled_{false};
  PollCallback done_;
  TimerThread::TimerId timer_ = 0;
};

}  // namespace errand::matching

#endif  // ERRAND_MATCHING_MATCHER_H_
