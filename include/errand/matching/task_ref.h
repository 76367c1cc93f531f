// What matching queues: the names of a task queue and of one scheduled
// attempt, with what orders its dispatch.
#ifndef ERRAND_MATCHING_TASK_REF_H_
#define ERRAND_MATCHING_TASK_REF_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/time/time.h"

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
  // Dispatch order (see backlog.h): when the attempt became ready, and the
  // run's Priority.
  absl::Time ready_at = absl::InfinitePast();
  int priority_key = 0;
  std::string fairness_key;
  double fairness_weight = 0;
  // Set by the matcher on the task it hands a poll: Temporal's poller
  // scaling hint for the worker (+1: add a poller, -1: drop one, 0: none).
  int poller_delta = 0;
};

}  // namespace errand::matching

#endif  // ERRAND_MATCHING_TASK_REF_H_
