// Helpers for tests that poll a matching::Matcher directly: polls that record
// what they got, and a bounded wait for a state reached on another thread
// (a timer firing after a FakeClock moved).
#ifndef ERRAND_TESTS_SUPPORT_MATCHER_POLLS_H_
#define ERRAND_TESTS_SUPPORT_MATCHER_POLLS_H_

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "errand/matching/matcher.h"

namespace errand::matching {

// Polls that record the tasks they got, in order, and count empty answers.
struct Polls {
  absl::Mutex mu;
  std::vector<std::string> got ABSL_GUARDED_BY(mu);
  std::atomic<int> empty{0};
  Matcher::PollCallback Callback() {
    return [this](std::optional<TaskRef> t) {
      if (!t) {
        ++empty;
        return;
      }
      absl::MutexLock lock(&mu);
      got.push_back(t->activity_id);
    };
  }
  size_t count() {
    absl::MutexLock lock(&mu);
    return got.size();
  }
};

// Waits until `done` holds. A wait for a state, not for time to pass: it
// gives up only after 30 s of real time, which means the state never came.
inline bool Eventually(const std::function<bool()>& done) {
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (!done()) {
    if (absl::Now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace errand::matching

#endif  // ERRAND_TESTS_SUPPORT_MATCHER_POLLS_H_
