#include "errand/matching/matcher.h"

#include <list>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace errand::matching {

// Invariant: a queue never holds both tasks and waiting polls (a task goes
// to a poll if one waits, a poll takes a task if one is queued), and never
// holds neither (it is erased then).
struct Queue {
  explicit Queue(const BacklogOptions& options) : tasks(options) {}
  Backlog tasks;
  std::list<Matcher::PollHandle> polls;  // oldest first
};

// A poll is waiting exactly while it sits in its queue's `polls` list, and
// every change to that happens under State::mu. Whoever takes it out of the
// list (a task, its timer, cancel, shutdown) is the one that answers it, so
// the three can race freely and the poll is answered once.
class Matcher::Poll {
 public:
  explicit Poll(PollCallback done) : done_(std::move(done)) {}

 private:
  friend class Matcher;
  friend struct Matcher::State;
  // The fields below are guarded by the owning State::mu once AddPoll has
  // published the poll.
  PollCallback done_;  // moved out by whoever settles the poll
  // While waiting: the queue entry (stable: node_hash_map) and the poll's
  // place in its list, so that leaving is O(1).
  std::pair<const QueueKey, Queue>* entry_ = nullptr;
  std::list<PollHandle>::iterator position_;
  bool waiting_ = false;
  TimerThread::TimerId timer_ = 0;
};

struct Matcher::State {
  // A poll taken out of its queue, to be answered outside the lock.
  struct Taken {
    PollCallback done;
    TimerThread::TimerId timer = 0;
  };

  explicit State(BacklogOptions backlog) : options(backlog) {}

  const BacklogOptions options;
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
  // node_hash_map: a waiting poll keeps a pointer to its entry.
  absl::node_hash_map<QueueKey, Queue> queues ABSL_GUARDED_BY(mu);

  // Takes `poll` out of its queue, erasing the queue if that left it empty.
  // Empty when the poll is no longer waiting (someone else settled it).
  std::optional<Taken> Take(Poll& poll) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (!poll.waiting_) return std::nullopt;
    poll.waiting_ = false;
    Taken taken{std::move(poll.done_), poll.timer_};
    auto* entry = poll.entry_;
    poll.entry_ = nullptr;
    // Erasing the list node drops the list's reference to the poll; the
    // caller holds another.
    entry->second.polls.erase(poll.position_);
    if (entry->second.polls.empty() && entry->second.tasks.empty()) {
      Erase(entry->first);
    }
    return taken;
  }

  void Erase(const QueueKey& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    // Looks `key` up before destroying the entry it may live in.
    queues.erase(key);
    // Hash maps keep their capacity after erasing; give it back once the map
    // is mostly empty, so that a burst of distinct queues leaves nothing
    // behind. Shrinking only below 1/8 load keeps the cost amortized O(1).
    if (queues.capacity() > 64 && queues.size() * 8 < queues.capacity()) {
      queues.rehash(0);
    }
  }
};

Matcher::Matcher(TimerThread* timers, BacklogOptions backlog)
    : timers_(timers), state_(std::make_shared<State>(backlog)) {}

Matcher::~Matcher() { Shutdown(); }

Matcher::PollHandle Matcher::AddPoll(const QueueKey& queue,
                                     absl::Time expire_at, PollCallback done) {
  auto poll = std::make_shared<Poll>(std::move(done));
  std::optional<TaskRef> ready;
  PollCallback answer;
  {
    State& s = *state_;
    absl::MutexLock lock(&s.mu);
    if (!s.shut_down) {
      auto it = s.queues.find(queue);
      if (it == s.queues.end() || it->second.tasks.empty()) {
        if (it == s.queues.end()) {
          it = s.queues.try_emplace(queue, s.options).first;
        }
        Queue& q = it->second;
        poll->entry_ = &*it;
        poll->position_ = q.polls.insert(q.polls.end(), poll);
        poll->waiting_ = true;
        // Weak references: a settled poll, or a destroyed matcher, makes the
        // timer a no-op.
        std::weak_ptr<State> weak_state = state_;
        std::weak_ptr<Poll> weak_poll = poll;
        poll->timer_ = timers_->Schedule(expire_at, [weak_state, weak_poll] {
          auto state = weak_state.lock();
          auto p = weak_poll.lock();
          if (!state || !p) return;
          std::optional<State::Taken> taken;
          {
            absl::MutexLock lock(&state->mu);
            taken = state->Take(*p);
          }
          if (taken) taken->done(std::nullopt);
        });
        return poll;
      }
      ready = it->second.tasks.Pop();
      // No poll waits on a queue with tasks, so this one is now empty.
      if (it->second.tasks.empty()) s.Erase(queue);
    }
    answer = std::move(poll->done_);
  }
  answer(std::move(ready));
  return poll;
}

void Matcher::CancelPoll(const PollHandle& poll) {
  std::optional<State::Taken> taken;
  {
    absl::MutexLock lock(&state_->mu);
    taken = state_->Take(*poll);
  }
  if (!taken) return;
  timers_->Cancel(taken->timer);
  taken->done(std::nullopt);
}

void Matcher::AddTask(const QueueKey& queue, TaskRef task) {
  std::optional<State::Taken> taken;
  {
    State& s = *state_;
    absl::MutexLock lock(&s.mu);
    auto it = s.queues.find(queue);
    if (it == s.queues.end() || it->second.polls.empty()) {
      // Also after shutdown: the task waits for a poll that never comes,
      // and the engine re-adds it after the restart.
      if (it == s.queues.end()) {
        it = s.queues.try_emplace(queue, s.options).first;
      }
      it->second.tasks.Push(std::move(task));
      return;
    }
    // Every poll in the list is live: expiry and cancel take theirs out
    // under this lock, so the oldest one gets the task.
    const PollHandle oldest = it->second.polls.front();
    taken = s.Take(*oldest);
  }
  timers_->Cancel(taken->timer);
  taken->done(std::move(task));
}

void Matcher::Shutdown() {
  std::vector<State::Taken> waiting;
  {
    State& s = *state_;
    absl::MutexLock lock(&s.mu);
    s.shut_down = true;
    std::vector<PollHandle> polls;
    for (auto& [key, q] : s.queues) {
      polls.insert(polls.end(), q.polls.begin(), q.polls.end());
    }
    for (const PollHandle& p : polls) {
      if (auto taken = s.Take(*p)) waiting.push_back(std::move(*taken));
    }
  }
  for (auto& w : waiting) {
    timers_->Cancel(w.timer);
    w.done(std::nullopt);
  }
}

size_t Matcher::BacklogSize(const QueueKey& queue) const {
  absl::MutexLock lock(&state_->mu);
  auto it = state_->queues.find(queue);
  return it == state_->queues.end() ? 0 : it->second.tasks.size();
}

size_t Matcher::QueueCount() const {
  absl::MutexLock lock(&state_->mu);
  return state_->queues.size();
}

}  // namespace errand::matching
