// Polls for tests that poll a matching::Matcher directly, recording what
// they got (with support/eventually.h to wait for answers from timers).
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
#include "support/eventually.h"

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

}  // namespace errand::matching

#endif  // ERRAND_TESTS_SUPPORT_MATCHER_POLLS_H_
