// Deadlines for things that wait on the network (long polls): one thread, an
// ordered map of deadlines, callbacks run on that thread. Durable activity
// timeouts do not use this; they live in the shards' timers. Deadlines are on
// the injected clock, so a FakeClock expires long polls in tests.
#ifndef ERRAND_COMMON_TIMER_THREAD_H_
#define ERRAND_COMMON_TIMER_THREAD_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "errand/common/clock.h"

namespace errand {

class TimerThread {
 public:
  using TimerId = uint64_t;

  explicit TimerThread(const Clock* clock = SystemClock::Get());
  ~TimerThread();  // Drops pending timers without running them.
  TimerThread(const TimerThread&) = delete;
  TimerThread& operator=(const TimerThread&) = delete;

  // Runs `fn` on the timer thread at or after `when`.
  TimerId Schedule(absl::Time when, std::function<void()> fn);
  // True if the timer was pending and will not run.
  bool Cancel(TimerId id);
  // The clock deadlines are on.
  const Clock* clock() const { return clock_; }

 private:
  void Run();

  const Clock* const clock_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  TimerId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Ordered by (deadline, id) so that equal deadlines fire in schedule order.
  std::map<std::pair<absl::Time, TimerId>, std::function<void()>> timers_
      ABSL_GUARDED_BY(mu_);
  std::map<TimerId, absl::Time> deadline_of_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace errand

#endif  // ERRAND_COMMON_TIMER_THREAD_H_
