#include "errand/frontend/empty_polls.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"

namespace errand::frontend {
namespace {

// One parked call. Its phase only moves forward, under State::mu, and the
// move to kDone is made by whoever finishes the call (timer, cancel,
// ReleaseAll), so the call is finished exactly once. `phase` and `timer`
// are read and written only under State::mu (not annotated: the analysis
// cannot name a mutex of another object).
struct Entry {
  explicit Entry(UnaryCall* c) : call(c) {}
  enum class Phase { kNew, kParked, kDone };
  UnaryCall* const call;
  Phase phase = Phase::kNew;
  TimerThread::TimerId timer = 0;
};

}  // namespace

struct EmptyPolls::State {
  absl::Mutex mu;
  bool released ABSL_GUARDED_BY(mu) = false;
  absl::flat_hash_set<std::shared_ptr<Entry>> parked ABSL_GUARDED_BY(mu);

  // Finishes the call unless someone already did, and cancels its timer
  // through `timers` (null when the timer itself is firing).
  void Settle(const std::shared_ptr<Entry>& entry, TimerThread* timers) {
    Entry::Phase was;
    TimerThread::TimerId timer;
    {
      absl::MutexLock lock(&mu);
      was = entry->phase;
      if (was == Entry::Phase::kDone) return;
      entry->phase = Entry::Phase::kDone;
      timer = entry->timer;
      parked.erase(entry);
    }
    if (was == Entry::Phase::kParked && timers != nullptr) {
      timers->Cancel(timer);
    }
    entry->call->Finish(absl::OkStatus());
  }
};

EmptyPolls::EmptyPolls(TimerThread* timers)
    : timers_(timers), state_(std::make_shared<State>()) {}

EmptyPolls::~EmptyPolls() { ReleaseAll(); }

void EmptyPolls::Park(UnaryCall* call, absl::Time expire_at) {
  auto entry = std::make_shared<Entry>(call);
  std::weak_ptr<State> weak_state = state_;
  TimerThread* timers = timers_;
  // The cancel callback is set before anything else may finish the call
  // (after which gRPC may delete it). A caller already gone runs it at
  // once; the entry, still kNew, is then finished and never parked.
  call->SetCancelCallback([weak_state, entry, timers] {
    if (auto state = weak_state.lock()) state->Settle(entry, timers);
  });
  State& s = *state_;
  {
    absl::MutexLock lock(&s.mu);
    if (entry->phase == Entry::Phase::kDone) return;  // cancelled already
    if (!s.released) {
      entry->phase = Entry::Phase::kParked;
      // Armed under the lock: the timer cannot settle the entry before
      // its timer ID is recorded.
      std::weak_ptr<Entry> weak_entry = entry;
      entry->timer = timers_->Schedule(expire_at, [weak_state, weak_entry] {
        auto state = weak_state.lock();
        auto e = weak_entry.lock();
        if (state && e) state->Settle(e, nullptr);
      });
      s.parked.insert(std::move(entry));
      return;
    }
  }
  s.Settle(entry, timers_);  // after ReleaseAll: at once
}

void EmptyPolls::ReleaseAll() {
  std::vector<std::shared_ptr<Entry>> all;
  {
    absl::MutexLock lock(&state_->mu);
    state_->released = true;
    all.assign(state_->parked.begin(), state_->parked.end());
  }
  for (const auto& entry : all) state_->Settle(entry, timers_);
}

size_t EmptyPolls::size() const {
  absl::MutexLock lock(&state_->mu);
  return state_->parked.size();
}

}  // namespace errand::frontend
