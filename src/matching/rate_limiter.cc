#include "errand/matching/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace errand::matching {

void RateLimiter::SetRate(std::optional<double> tasks_per_second) {
  if (tasks_per_second && !(*tasks_per_second >= 0)) tasks_per_second = 0;
  rate_ = tasks_per_second;
}

absl::Duration RateLimiter::Interval() const {
  return absl::Seconds(1) / *rate_;
}

absl::Duration RateLimiter::Tolerance() const {
  const double burst = std::max(1.0, std::ceil(*rate_));
  return Interval() * (burst - 1);
}

// At a steady rate the theoretical arrival time never runs more than a
// burst and one interval ahead of now. After the rate goes up it may (it was
// earned at the old, slower rate); clamping it there means a raised limit
// holds nothing back longer than the new rate itself would.
absl::Time RateLimiter::Tat(absl::Time now) const {
  return std::min(tat_, now + Tolerance() + Interval());
}

bool RateLimiter::TryTake(absl::Time now) {
  if (!rate_) return true;
  if (*rate_ <= 0) return false;
  const absl::Time tat = Tat(now);
  if (now < tat - Tolerance()) return false;
  tat_ = std::max(tat, now) + Interval();
  return true;
}

absl::Time RateLimiter::NextAllowed(absl::Time now) const {
  if (!rate_) return now;
  if (*rate_ <= 0) return absl::InfiniteFuture();
  return std::max(now, Tat(now) - Tolerance());
}

}  // namespace errand::matching
