#include "errand/common/timer_thread.h"

#include <utility>

namespace errand {

TimerThread::TimerThread(const Clock* clock)
    : clock_(clock), thread_([this] { Run(); }) {}

TimerThread::~TimerThread() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

TimerThread::TimerId TimerThread::Schedule(absl::Time when,
                                           std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  const TimerId id = next_id_++;
  timers_.emplace(std::make_pair(when, id), std::move(fn));
  deadline_of_.emplace(id, when);
  return id;
}

bool TimerThread::Cancel(TimerId id) {
  absl::MutexLock lock(&mu_);
  auto it = deadline_of_.find(id);
  if (it == deadline_of_.end()) return false;
  timers_.erase(std::make_pair(it->second, id));
  deadline_of_.erase(it);
  return true;
}

void TimerThread::Run() {
  absl::MutexLock lock(&mu_);
  while (true) {
    const absl::Time wake =
        timers_.empty() ? absl::InfiniteFuture() : timers_.begin()->first.first;
    // Wakes on stop, on a new earliest timer, or at the earliest deadline.
    const absl::Time* earliest_seen = timers_.empty() ? nullptr : &wake;
    auto changed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (stopping_) return true;
      if (timers_.empty()) return false;
      return earliest_seen == nullptr || timers_.begin()->first.first < wake;
    };
    clock_->AwaitWithDeadline(mu_, absl::Condition(&changed), wake);
    if (stopping_) return;
    const absl::Time now = clock_->Now();
    while (!timers_.empty() && timers_.begin()->first.first <= now) {
      auto node = timers_.extract(timers_.begin());
      deadline_of_.erase(node.key().second);
      mu_.Unlock();
      node.mapped()();
      mu_.Lock();
      if (stopping_) return;
    }
  }
}

}  // namespace errand
