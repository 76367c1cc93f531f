// A dispatch rate limit for one task queue, as Temporal's matcher applies
// it: GCRA with a one-second burst window. At `rate` tasks per second,
// dispatches are spaced 1/rate apart, and up to max(ceil(rate), 1) may go
// at once after a quiet second. A rate of 0 pauses dispatch; no rate means
// no limit.
#ifndef ERRAND_MATCHING_RATE_LIMITER_H_
#define ERRAND_MATCHING_RATE_LIMITER_H_

#include <optional>

#include "absl/time/time.h"

namespace errand::matching {

class RateLimiter {
 public:
  // Changes the rate; nullopt removes the limit.
  void SetRate(std::optional<double> tasks_per_second);
  std::optional<double> rate() const { return rate_; }

  // Takes a dispatch at `now` if the rate allows one.
  bool TryTake(absl::Time now);
  // When TryTake will next succeed; InfiniteFuture while paused (rate 0).
  absl::Time NextAllowed(absl::Time now) const;
  // True when the limiter has its whole burst again at `now`, so that
  // forgetting it (and starting afresh later) changes nothing.
  bool Rested(absl::Time now) const { return tat_ <= now; }

 private:
  absl::Duration Interval() const;
  absl::Duration Tolerance() const;
  absl::Time Tat(absl::Time now) const;

  std::optional<double> rate_;
  // GCRA's theoretical arrival time of the next dispatch.
  absl::Time tat_ = absl::InfinitePast();
};

}  // namespace errand::matching

#endif  // ERRAND_MATCHING_RATE_LIMITER_H_
