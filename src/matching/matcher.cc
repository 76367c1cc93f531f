#include "errand/matching/matcher.h"

#include <vector>

namespace errand::matching {

bool Matcher::Poll::Settle(std::optional<TaskRef> task) {
  if (settled_.exchange(true, std::memory_order_acq_rel)) return false;
  PollCallback done = std::move(done_);
  done(std::move(task));
  return true;
}

Matcher::PollHandle Matcher::AddPoll(const QueueKey& queue,
                                     absl::Time expire_at, PollCallback done) {
  auto poll = std::make_shared<Poll>(std::move(done));
  std::optional<TaskRef> ready;
  {
    absl::MutexLock lock(&mu_);
    if (!shut_down_) {
      Queue& q = queues_[queue];
      if (!q.tasks.empty()) {
        ready = std::move(q.tasks.front());
        q.tasks.pop_front();
      } else {
        // The timer holds only a weak reference: a settled poll is dropped.
        std::weak_ptr<Poll> weak = poll;
        poll->timer_ = timers_->Schedule(expire_at, [weak] {
          if (auto p = weak.lock()) p->Settle(std::nullopt);
        });
        q.polls.push_back(poll);
        return poll;
      }
    }
  }
  poll->Settle(std::move(ready));
  return poll;
}

void Matcher::CancelPoll(const PollHandle& poll) {
  if (poll->Settle(std::nullopt)) timers_->Cancel(poll->timer_);
}

void Matcher::AddTask(const QueueKey& queue, TaskRef task) {
  while (true) {
    PollHandle poll;
    {
      absl::MutexLock lock(&mu_);
      Queue& q = queues_[queue];
      // Settled polls (expired or cancelled) are skipped here rather than
      // removed eagerly, which keeps expiry off the queue lock.
      while (!q.polls.empty() && q.polls.front()->settled()) {
        q.polls.pop_front();
      }
      if (q.polls.empty()) {
        q.tasks.push_back(std::move(task));
        return;
      }
      poll = std::move(q.polls.front());
      q.polls.pop_front();
    }
    // Losing this race to the poll's expiry means trying the next poller.
    if (poll->Settle(task)) {
      timers_->Cancel(poll->timer_);
      return;
    }
  }
}

void Matcher::Shutdown() {
  std::vector<PollHandle> waiting;
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    for (auto& [key, q] : queues_) {
      for (auto& p : q.polls) waiting.push_back(std::move(p));
      q.polls.clear();
    }
  }
  for (auto& p : waiting) CancelPoll(p);
}

size_t Matcher::BacklogSize(const QueueKey& queue) const {
  absl::MutexLock lock(&mu_);
  auto it = queues_.find(queue);
  return it == queues_.end() ? 0 : it->second.tasks.size();
}

}  // namespace errand::matching
