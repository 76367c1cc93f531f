// Matching: per-(namespace, task queue) in-memory queues of ready tasks and of
// long-polling workers waiting for one. Nothing here is durable: the activity
// records in the store are the source of truth, and the engine re-adds every
// scheduled task after a restart.
//
// Memory follows what is waiting, not what ever was: a poll leaves its queue
// as soon as it is settled (by a task, its timer, cancel or shutdown), and a
// queue with neither tasks nor polls is erased. Any number of short-lived
// task queue names therefore costs nothing once their polls are over.
#ifndef ERRAND_MATCHING_MATCHER_H_
#define ERRAND_MATCHING_MATCHER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/hash/hash.h"
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
  // settled the poll, with no matcher lock held, and must not block.
  using PollCallback = std::function<void(std::optional<TaskRef>)>;

  // Opaque to callers: only for CancelPoll.
  class Poll;
  using PollHandle = std::shared_ptr<Poll>;

  // `timers` must outlive the matcher.
  explicit Matcher(TimerThread* timers);
  ~Matcher();  // Shutdown()
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // Hands the next task on `queue` to `done`, waiting until `expire_at`.
  PollHandle AddPoll(const QueueKey& queue, absl::Time expire_at,
                     PollCallback done);
  // Settles the poll with nullopt unless it already has its answer.
  void CancelPoll(const PollHandle& poll);

  // Gives `task` to the oldest waiting poll, or queues it for the next one.
  void AddTask(const QueueKey& queue, TaskRef task);

  // Answers every waiting poll with nullopt, and all later ones at once.
  void Shutdown();

  // Tasks queued but not yet handed out, on one queue (for tests and stats).
  size_t BacklogSize(const QueueKey& queue) const;
  // Task queues holding tasks or waiting polls (for tests and stats).
  size_t QueueCount() const;

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
