#include "errand/matching/matcher.h"

#include <algorithm>
#include <list>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "errand/matching/rate_limiter.h"

namespace errand::matching {

// Invariant: a queue holds both tasks and waiting polls only while a rate
// limit (the queue's, or every queued key's) holds dispatch back, and then
// has a dispatch timer armed for when the limit lets the next one go (none
// while paused at rate 0). Otherwise a task goes to a poll if one waits, and
// a poll takes a task if one is queued. A queue with neither is erased.
struct Queue {
  explicit Queue(const BacklogOptions& options) : tasks(options) {}
  Backlog tasks;
  std::list<Matcher::PollHandle> polls;  // oldest first
  RateLimiter rate;
  // The last poll's max_tasks_per_second, and the config's limit, which
  // wins over it (as in Temporal).
  std::optional<double> worker_rate;
  std::optional<double> config_rate;
  TimerThread::TimerId dispatch_timer = 0;  // 0: none armed

  void ApplyRate() { rate.SetRate(config_rate ? config_rate : worker_rate); }
  void Apply(const DispatchConfig& config) {
    config_rate = config.queue_rate_limit;
    ApplyRate();
    if (!(tasks.settings() == config.fairness))
      tasks.Configure(config.fairness);
  }
};

// A queue's recent adds, dispatches and throttling, kept for a while after
// the queue itself is erased, for DescribeTaskQueue.
struct RecentRates {
  explicit RecentRates(absl::Time now) : added(now), dispatched(now) {}
  RateWindow added;
  RateWindow dispatched;
  absl::Time throttled = absl::InfinitePast();
  // Spaces poller scaling hints: Temporal sends at most 10 a second per
  // poller (matching.pollerScalingDecisionsPerSecond).
  RateLimiter hints;
  absl::Time last() const {
    return std::max({added.last(), dispatched.last(), throttled});
  }
};

// A poll is waiting exactly while it sits in its queue's `polls` list, and
// every change to that happens under State::mu. Whoever takes it out of the
// list (a task, its timer, cancel, shutdown) is the one that answers it, so
// the three can race freely and the poll is answered once.
class Matcher::Poll {
 public:
  Poll(PollCallback done, absl::Time added)
      : done_(std::move(done)), added_(added) {}

 private:
  friend class Matcher;
  friend struct Matcher::State;
  // The fields below are guarded by the owning State::mu once AddPoll has
  // published the poll.
  PollCallback done_;  // moved out by whoever settles the poll
  const absl::Time added_;
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
  // Configured queues only, whether or not they hold anything now.
  absl::flat_hash_map<QueueKey, DispatchConfig> configs ABSL_GUARDED_BY(mu);
  // Queues with a task added or dispatched in the last RateWindow::kWindow
  // (and, between sweeps, up to about as many more).
  absl::flat_hash_map<QueueKey, RecentRates> recent ABSL_GUARDED_BY(mu);
  size_t recent_after_sweep ABSL_GUARDED_BY(mu) = 0;

  absl::node_hash_map<QueueKey, Queue>::iterator FindOrAdd(const QueueKey& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto it = queues.find(key);
    if (it != queues.end()) return it;
    it = queues.try_emplace(key, options).first;
    if (auto config = configs.find(key); config != configs.end()) {
      it->second.Apply(config->second);
    }
    return it;
  }

  RecentRates& Recent(const QueueKey& key, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto it = recent.find(key);
    if (it != recent.end()) return it->second;
    // Sweep out the idle entries once the map has doubled since the last
    // sweep: amortized O(1) per new entry, and memory stays within about
    // twice the queues active in the window.
    if (recent.size() >= 2 * recent_after_sweep + 64) {
      absl::erase_if(recent, [now](const auto& entry) {
        return entry.second.last() + RateWindow::kWindow < now;
      });
      recent_after_sweep = recent.size();
    }
    return recent.try_emplace(key, now).first->second;
  }

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
      // The queue's limit first, then the keys' (a key's limit is only
      // charged when its task goes).
      absl::Time held_until = q.rate.NextAllowed(now);
      std::optional<TaskRef> task;
      if (held_until <= now) {
        task = q.tasks.Pop(now);
        if (!task) held_until = q.tasks.NextReady(now);
      }
      if (!task) {
        Recent(it->first, now).throttled = now;
        ArmDispatch(self, it, held_until);
        return;
      }
      q.rate.TryTake(now);
      RecentRates& recent = Recent(it->first, now);
      recent.dispatched.Add(now);
      const bool last = q.polls.size() == 1 && q.tasks.empty();
      const Matcher::PollHandle oldest = q.polls.front();
      task->poller_delta = ScalingHint(q, recent, now - oldest->added_,
                                       now - task->ready_at, now);
      out.push_back({*Take(*oldest), std::move(*task)});
      if (last) return;  // Take erased the queue
    }
  }

  // Temporal's poller scaling decision for a poll that waited `waited` and
  // got a task that had waited `task_age`: none while a rate limit holds
  // dispatch back; a poll that waited a second or more means idle pollers
  // (-1); otherwise, as often as the hint limiter allows, a backlog older
  // than 200 ms, or tasks added more than 1.2 times as fast as dispatched,
  // means too few (+1). The backlog's age is that of the task just taken
  // (Temporal's is the oldest task's; in ready order they are the same, and
  // this costs nothing however many fairness keys there are).
  static int ScalingHint(const Queue& q, RecentRates& recent,
                         absl::Duration waited, absl::Duration task_age,
                         absl::Time now) {
    // Under a rate limit polls wait for the limit, not for work: no hint.
    if (recent.throttled + RateWindow::kWindow >= now) return 0;
    if (waited >= absl::Seconds(1)) return -1;
    recent.hints.SetRate(10.0 * static_cast<double>(q.polls.size()));
    if (!recent.hints.TryTake(now)) return 0;
    if (!q.tasks.empty() && task_age > absl::Milliseconds(200)) return 1;
    const double added = recent.added.PerSecond(now);
    const double dispatched = recent.dispatched.PerSecond(now);
    return dispatched > 0 && added / dispatched > 1.2 ? 1 : 0;
  }

  // Arms the queue's dispatch timer for `when` (none if InfiniteFuture:
  // paused), unless one is armed already.
  void ArmDispatch(const std::shared_ptr<State>& self,
                   absl::node_hash_map<QueueKey, Queue>::iterator it,
                   absl::Time when) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    Queue& q = it->second;
    if (q.dispatch_timer != 0) return;
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
  auto poll = std::make_shared<Poll>(std::move(done), timers_->clock()->Now());
  std::vector<State::Matched> matched;
  {
    State& s = *state_;
    absl::MutexLock lock(&s.mu);
    if (s.shut_down) {
      matched.push_back({{std::move(poll->done_), 0}, TaskRef()});
    } else {
      auto it = s.FindOrAdd(queue);
      Queue& q = it->second;
      // The worker's rate: each poll sets it, and one without clears it.
      q.worker_rate = max_tasks_per_second;
      q.ApplyRate();
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
    auto it = s.FindOrAdd(queue);
    // Also after shutdown: the task waits for a poll that never comes, and
    // the engine re-adds it after the restart.
    it->second.tasks.Push(std::move(task));
    const absl::Time now = timers_->clock()->Now();
    s.Recent(queue, now).added.Add(now);
    // Every poll in the list is live (expiry and cancel take theirs out
    // under this lock): the oldest one gets the next task.
    if (!s.shut_down) s.Dispatch(state_, it, matched);
  }
  State::Answer(*timers_, matched);
}

bool Matcher::OfferTask(const QueueKey& queue, TaskRef task) {
  std::vector<State::Matched> matched;
  {
    State& s = *state_;
    absl::MutexLock lock(&s.mu);
    if (s.shut_down) return false;
    auto it = s.queues.find(queue);
    if (it == s.queues.end()) return false;
    Queue& q = it->second;
    const absl::Time now = timers_->clock()->Now();
    // Under these conditions the backlog's next task is this one, and
    // Dispatch hands it to a poll at once.
    if (q.polls.empty() || !q.tasks.empty() || task.ready_at > now ||
        q.rate.NextAllowed(now) > now ||
        q.tasks.settings().key_rate_limit.has_value()) {
      return false;
    }
    q.tasks.Push(std::move(task));
    s.Recent(queue, now).added.Add(now);
    s.Dispatch(state_, it, matched);
  }
  State::Answer(*timers_, matched);
  return true;
}

void Matcher::Configure(const QueueKey& queue, DispatchConfig config) {
  std::vector<State::Matched> matched;
  {
    State& s = *state_;
    absl::MutexLock lock(&s.mu);
    if (config == DispatchConfig{}) {
      s.configs.erase(queue);
    } else {
      s.configs.insert_or_assign(queue, config);
    }
    auto it = s.queues.find(queue);
    if (it == s.queues.end()) return;
    it->second.Apply(config);
    // Limits may have been lifted or changed: look again now.
    if (it->second.dispatch_timer != 0) {
      timers_->Cancel(it->second.dispatch_timer);
      it->second.dispatch_timer = 0;
    }
    if (!s.shut_down) s.Dispatch(state_, it, matched);
  }
  State::Answer(*timers_, matched);
}

std::vector<Matcher::QueueGauges> Matcher::Gauges(size_t limit) const {
  std::vector<QueueGauges> out;
  const absl::Time now = timers_->clock()->Now();
  absl::MutexLock lock(&state_->mu);
  for (const auto& [key, q] : state_->queues) {
    if (out.size() >= limit) break;
    QueueGauges& g = out.emplace_back();
    g.queue = key;
    g.backlog_count = static_cast<int64_t>(q.tasks.size());
    const absl::Time oldest = q.tasks.OldestReadyAt();
    if (q.tasks.size() > 0 && oldest < now) g.backlog_age = now - oldest;
    g.waiting_polls = static_cast<int64_t>(q.polls.size());
  }
  return out;
}

QueueStats Matcher::Stats(const QueueKey& queue) const {
  QueueStats stats;
  const absl::Time now = timers_->clock()->Now();
  absl::MutexLock lock(&state_->mu);
  if (auto it = state_->queues.find(queue); it != state_->queues.end()) {
    const Queue& q = it->second;
    stats.backlog_count = static_cast<int64_t>(q.tasks.size());
    const absl::Time oldest = q.tasks.OldestReadyAt();
    if (oldest < now) stats.backlog_age = now - oldest;
    if (q.config_rate) {
      stats.rate_limit = q.config_rate;
      stats.rate_limit_source = RateLimitSource::kApi;
    } else if (q.worker_rate) {
      stats.rate_limit = q.worker_rate;
      stats.rate_limit_source = RateLimitSource::kWorker;
    }
  } else if (auto config = state_->configs.find(queue);
             config != state_->configs.end() &&
             config->second.queue_rate_limit) {
    stats.rate_limit = config->second.queue_rate_limit;
    stats.rate_limit_source = RateLimitSource::kApi;
  }
  if (auto it = state_->recent.find(queue); it != state_->recent.end()) {
    stats.tasks_add_rate = it->second.added.PerSecond(now);
    stats.tasks_dispatch_rate = it->second.dispatched.PerSecond(now);
    stats.rate_limiting_active =
        it->second.throttled + RateWindow::kWindow >= now;
  }
  return stats;
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
