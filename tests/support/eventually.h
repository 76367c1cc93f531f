// Waiting for a state that other threads reach (a timer firing after a
// FakeClock moved, a reply sent from a shard), in every test layer.
#ifndef ERRAND_TESTS_SUPPORT_EVENTUALLY_H_
#define ERRAND_TESTS_SUPPORT_EVENTUALLY_H_

#include <functional>
#include <thread>

#include "absl/time/clock.h"

namespace errand {

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

}  // namespace errand

#endif  // ERRAND_TESTS_SUPPORT_EVENTUALLY_H_
