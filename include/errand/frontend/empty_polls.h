// Long polls that can only come back empty: workflow task polls. Errand runs
// no workflows, yet SDK workers may poll for workflow tasks (Go's do by
// default); such a poll waits and is answered empty, as on a Temporal server
// with no workflows on the queue, instead of failing and making the worker
// log and back off. No task queue is involved: each poll is one timer on the
// TimerThread, one cancel callback, and one entry here so that shutdown can
// answer it at once.
#ifndef ERRAND_FRONTEND_EMPTY_POLLS_H_
#define ERRAND_FRONTEND_EMPTY_POLLS_H_

#include <cstddef>
#include <memory>

#include "absl/time/time.h"
#include "errand/common/timer_thread.h"
#include "errand/frontend/service_table.h"

namespace errand::frontend {

class EmptyPolls {
 public:
  // `timers` must outlive this object.
  explicit EmptyPolls(TimerThread* timers);
  ~EmptyPolls();  // ReleaseAll()
  EmptyPolls(const EmptyPolls&) = delete;
  EmptyPolls& operator=(const EmptyPolls&) = delete;

  // Finishes `call` with OK (its response left empty) at `expire_at`, when
  // the caller goes away, or at ReleaseAll, whichever comes first. Takes
  // over the call's cancel callback.
  void Park(UnaryCall* call, absl::Time expire_at);

  // Answers every parked call now, and later ones at once.
  void ReleaseAll();

  // Calls parked now (for tests and stats).
  size_t size() const;

 private:
  // Timers and cancel callbacks reach the state through weak pointers, so
  // one that fires while this object is destroyed finds it gone.
  struct State;

  TimerThread* const timers_;
  const std::shared_ptr<State> state_;
};

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_EMPTY_POLLS_H_
