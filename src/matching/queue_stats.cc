#include "errand/matching/queue_stats.h"

#include <algorithm>

namespace errand::matching {

int64_t RateWindow::BucketOf(absl::Time t) {
  absl::Duration rem;
  return absl::IDivDuration(t - absl::UnixEpoch(), kBucket, &rem);
}

void RateWindow::Add(absl::Time now) {
  const int64_t bucket = BucketOf(now);
  if (last_ == absl::InfinitePast()) {
    counts_.fill(0);
  } else if (bucket > newest_) {
    // Clear the buckets between the last event's and this one.
    for (int64_t b = newest_ + 1; b <= bucket && b <= newest_ + kBuckets; ++b) {
      counts_[static_cast<size_t>(b % kBuckets)] = 0;
    }
  }
  if (last_ == absl::InfinitePast() || bucket > newest_) newest_ = bucket;
  // An event from before the newest bucket (the clock stepped back) counts
  // in the newest one.
  ++counts_[static_cast<size_t>(newest_ % kBuckets)];
  last_ = std::max(last_, now);
}

double RateWindow::PerSecond(absl::Time now) const {
  if (last_ == absl::InfinitePast()) return 0;
  const int64_t current = BucketOf(now);
  int64_t total = 0;
  for (int64_t b = std::max(newest_ - kBuckets + 1, current - kBuckets + 1);
       b <= newest_ && b <= current; ++b) {
    total += counts_[static_cast<size_t>(b % kBuckets)];
  }
  const absl::Time bucket_start = absl::UnixEpoch() + current * kBucket;
  const absl::Duration span =
      std::min(now - bucket_start + kWindow, now - created_);
  if (span <= absl::ZeroDuration()) return 0;
  return static_cast<double>(total) / absl::ToDoubleSeconds(span);
}

}  // namespace errand::matching
