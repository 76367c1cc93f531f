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

bool RateLimiter::TryTake(absl::Time now) {
  if (!rate_) return true;
  if (*rate_ <= 0) return false;
  if (now < tat_ - Tolerance()) return false;
  tat_ = std::max(tat_, now) + Interval();
  return true;
}

absl::Time RateLimiter::NextAllowed(absl::Time now) const {
  if (!rate_) return now;
  if (*rate_ <= 0) return absl::InfiniteFuture();
  return std::max(now, tat_ - Tolerance());
}

}  // namespace errand::matching
