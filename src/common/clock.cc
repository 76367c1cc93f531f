#include "errand/common/clock.h"

#include <algorithm>

namespace errand {

void FakeClock::Advance(absl::Duration d) {
  std::vector<absl::Mutex*> to_wake;
  {
    absl::MutexLock lock(&waiters_mu_);
    now_ns_.fetch_add(absl::ToInt64Nanoseconds(d), std::memory_order_acq_rel);
    to_wake.assign(waiters_.begin(), waiters_.end());
  }
  to_wake.erase(std::unique(to_wake.begin(), to_wake.end()), to_wake.end());
  // Releasing a mutex makes absl evaluate its waiters' conditions again, so
  // each waiter sees the new time. Not under waiters_mu_: a waiter holds its
  // mutex when it takes waiters_mu_.
  for (absl::Mutex* mu : to_wake) {
    mu->Lock();
    mu->Unlock();
  }
}

bool FakeClock::AwaitWithDeadline(absl::Mutex& mu, const absl::Condition& cond,
                                  absl::Time deadline) const {
  if (deadline == absl::InfiniteFuture()) {
    mu.Await(cond);
    return true;
  }
  const int64_t deadline_ns = absl::ToUnixNanos(deadline);
  auto done = [&]() {
    return cond.Eval() ||
           now_ns_.load(std::memory_order_acquire) >= deadline_ns;
  };
  {
    absl::MutexLock lock(&waiters_mu_);
    waiters_.insert(&mu);
  }
  mu.Await(absl::Condition(&done));
  {
    absl::MutexLock lock(&waiters_mu_);
    waiters_.erase(waiters_.find(&mu));
  }
  return cond.Eval();
}

int FakeClock::waiters() const {
  absl::MutexLock lock(&waiters_mu_);
  return static_cast<int>(waiters_.size());
}

}  // namespace errand
