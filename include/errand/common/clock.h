// Time is injected so that the state machine, timers and tests run on a fake
// clock with no sleeping.
#ifndef ERRAND_COMMON_CLOCK_H_
#define ERRAND_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <set>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace errand {

// The one source of time for everything that waits on time: shard timers,
// the timer thread (long polls), the retention sweep and the store's resume
// pacing. A FakeClock makes all of them run on time the test moves.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // With `mu` held, waits until `cond` holds or Now() reaches `deadline`,
  // and returns whether `cond` holds. Like absl::Mutex::AwaitWithDeadline,
  // but on this clock's time.
  virtual bool AwaitWithDeadline(absl::Mutex& mu, const absl::Condition& cond,
                                 absl::Time deadline) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  bool AwaitWithDeadline(absl::Mutex& mu, const absl::Condition& cond,
                         absl::Time deadline) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return mu.AwaitWithDeadline(cond, deadline);
  }
  static const Clock* Get() {
    static const SystemClock clock;
    return &clock;
  }
};

// A clock that moves only when told to. Waits on it end when Advance moves
// the time past their deadline: Advance wakes every waiter, which then looks
// at the time again. A waiter's mutex must outlive the Advance calls made
// while it waits (in tests, the components and the test's clock calls share
// one thread of control).
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000))
      : now_ns_(absl::ToUnixNanos(start)) {}
  absl::Time Now() const override {
    return absl::FromUnixNanos(now_ns_.load(std::memory_order_acquire));
  }
  void Advance(absl::Duration d);
  bool AwaitWithDeadline(absl::Mutex& mu, const absl::Condition& cond,
                         absl::Time deadline) const override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // How many threads wait on this clock with a finite deadline now. Lets a
  // test know a component has gone back to waiting before it moves time.
  int waiters() const;

 private:
  // Read without a lock, so that a waiter's condition (evaluated with its
  // own mutex held) never takes waiters_mu_.
  std::atomic<int64_t> now_ns_;
  mutable absl::Mutex waiters_mu_;
  mutable std::multiset<absl::Mutex*> waiters_ ABSL_GUARDED_BY(waiters_mu_);
};

}  // namespace errand

#endif  // ERRAND_COMMON_CLOCK_H_
