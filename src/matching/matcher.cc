#include "errand/matching/matcher.h"

#include <list>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "errand/matching/rate_limiter.h"

namespace errand::matching {

// Invariant: a queue holds both tasks and waiting polls only while its rate
// limit holds dispatch back, and then has a dispatch timer armed for when
// the limit lets the next one go (none while paused at rate 0). Otherwise a
// task goes to a poll if one waits, and a poll takes a task if one is
// queued. A queue with neither is erased.
struct Queue {
  explicit Queue(const BacklogOptions& options) : tasks(options) {}
  Backlog tasks;
  std::list<Matcher::PollHandle> polls;  // oldest first
  RateLimiter rate;
  TimerThread::TimerId dispatch_timer = 0;  // 0: none armed
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

  // A poll settled with a task, to be answered outside the lock.
  struct Matched {
    Taken poll;
    TaskRef task;
  };

  State(BacklogOptions backlog, TimerThread* timer_thread)
      : options(backlog), timers(timer_thread) {}

  const BacklogOptions options;
  TimerThread* const timers;
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

  // Hands queued tasks to waiting polls, oldest first, as far as the rate
  // limit allows; arms the dispatch timer if some are held back. May erase
  // the queue (when it ends up empty).
  void Dispatch(const std::shared_ptr<State>& self,
                absl::node_hash_map<QueueKey, Queue>::iterator it,
                std::vector<Matched>& out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    Queue& q = it->second;
    const absl::Time now = timers->clock()->Now();
    while (!q.polls.empty() && !q.tasks.empty()) {
      if (!q.rate.TryTake(now)) {
        ArmDispatch(self, it, now);
        return;
      }
      TaskRef task = *q.tasks.Pop();
      const bool last = q.polls.size() == 1 && q.tasks.empty();
      const Matcher::PollHandle oldest = q.polls.front();
      out.push_back({*Take(*oldest), std::move(task)});
      if (last) return;  // Take erased the queue
    }
  }

  void ArmDispatch(const std::shared_ptr<State>& self,
                   absl::node_hash_map<QueueKey, Queue>::iterator it,
                   absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    Queue& q = it->second;
    if (q.dispatch_timer != 0) return;
    const absl::Time when = q.rate.NextAllowed(now);
    if (when == absl::InfiniteFuture()) return;  // paused
    std::weak_ptr<State> weak_state = self;
    QueueKey key = it->first;
    q.dispatch_timer = timers->Schedule(when, [weak_state, key] {
      auto state = weak_state.lock();
      if (!state) return;
      std::vector<Matched> matched;
      {
        absl::MutexLock lock(&state->mu);
        auto found = state->queues.find(key);
        if (found == state->queues.end()) return;
        found->second.dispatch_timer = 0;
        if (state->shut_down) return;
        state->Dispatch(state, found, matched);
      }
      Answer(*state->timers, matched);
    });
  }

  static void Answer(TimerThread& timers, std::vector<Matched>& matched) {
    for (Matched& m : matched) {
      timers.Cancel(m.poll.timer);
      m.poll.done(std::move(m.task));
    }
  }

  void Erase(const QueueKey& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (auto it = queues.find(key);
        it != queues.end() && it->second.dispatch_timer != 0) {
      timers->Cancel(it->second.dispatch_timer);
    }
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
    : timers_(timers), state_(std::make_shared<State>(backlog, timers)) {}

Matcher::~Matcher() { Shutdown(); }

Matcher::PollHandle Matcher::AddPoll(
    const QueueKey& queue, absl::Time expire_at, PollCallback done,
    std::optional<double> max_tasks_per_second) {
  auto poll = std::make_shared<Poll>(std::move(done));
  std::vector<State::Matched> matched;
  {
    State& s = *state_;
    absl::MutexLock lock(&s.mu);
    if (s.shut_down) {
      matched.push_back({{std::move(poll->done_), 0}, TaskRef()});
    } else {
      auto it = s.queues.find(queue);
      if (it == s.queues.end()) {
        it = s.queues.try_emplace(queue, s.options).first;
      }
      Queue& q = it->second;
      // The worker's rate: each poll sets it, and one without clears it.
      q.rate.SetRate(max_tasks_per_second);
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
      s.Dispatch(state_, it, matched);
    }
  }
  if (!matched.empty() && matched.front().poll.timer == 0) {
    // Shut down: answered at once, with nothing.
    matched.front().poll.done(std::nullopt);
    return poll;
  }
  State::Answer(*timers_, matched);
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
  std::vector<State::Matched> matched;
  {
    State& s = *state_;
    absl::MutexLock lock(&s.mu);
    auto it = s.queues.find(queue);
    if (it == s.queues.end()) {
      it = s.queues.try_emplace(queue, s.options).first;
    }
    // Also after shutdown: the task waits for a poll that never comes, and
    // the engine re-adds it after the restart.
    it->second.tasks.Push(std::move(task));
    // Every poll in the list is live (expiry and cancel take theirs out
    // under this lock): the oldest one gets the next task.
    if (!s.shut_down) s.Dispatch(state_, it, matched);
  }
  State::Answer(*timers_, matched);
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

size_t Matcher::WaitingPolls() const {
  absl::MutexLock lock(&state_->mu);
  size_t n = 0;
  for (const auto& [key, q] : state_->queues) n += q.polls.size();
  return n;
}

size_t Matcher::QueueCount() const {
  absl::MutexLock lock(&state_->mu);
  return state_->queues.size();
}

}  // namespace errand::matching
