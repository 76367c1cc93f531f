// A small fixed pool of threads for work that must not run on gRPC's callback
// threads (scans of the store for List and Count). Its queue is bounded:
// when it is full, Submit refuses the job at once, so that a burst of
// expensive calls is answered with an error instead of piling up behind
// each other and holding memory.
#ifndef ERRAND_COMMON_EXECUTOR_H_
#define ERRAND_COMMON_EXECUTOR_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace errand {

class BoundedExecutor {
 public:
  // `threads` workers; at most `max_queued` jobs wait for one.
  BoundedExecutor(int threads, size_t max_queued);
  ~BoundedExecutor();  // Stop()
  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;

  // Queues `job` to run on a worker thread. False, and `job` is dropped
  // without running, when `max_queued` jobs are already waiting or after
  // Stop.
  bool Submit(std::function<void()> job);

  // Refuses new jobs, runs those already queued, and joins the threads.
  // Idempotent.
  void Stop();

  // Jobs waiting for a thread (for tests and stats).
  size_t queued() const;

 private:
  void Work();

  const size_t max_queued_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

}  // namespace errand

#endif  // ERRAND_COMMON_EXECUTOR_H_
