// What DescribeTaskQueue reports about a task queue's dispatch: its backlog,
// how fast tasks were added and dispatched lately, and the rate limit in
// force, with the small sliding-window counter behind the rates.
#ifndef ERRAND_MATCHING_QUEUE_STATS_H_
#define ERRAND_MATCHING_QUEUE_STATS_H_

#include <array>
#include <cstdint>
#include <optional>

#include "absl/time/time.h"

namespace errand::matching {

// Events per second over the last 30 seconds, in 5-second buckets (as
// Temporal's task tracker): the count of the current bucket and the six
// before it, over the time they span, or over the counter's life when it is
// younger than that.
class RateWindow {
 public:
  static constexpr absl::Duration kBucket = absl::Seconds(5);
  static constexpr absl::Duration kWindow = absl::Seconds(30);

  explicit RateWindow(absl::Time created) : created_(created) {}
  void Add(absl::Time now);
  double PerSecond(absl::Time now) const;
  // The last event; InfinitePast if none.
  absl::Time last() const { return last_; }

 private:
  static constexpr int kBuckets = 7;  // the window's six and the current one
  static int64_t BucketOf(absl::Time t);

  absl::Time created_;
  absl::Time last_ = absl::InfinitePast();
  // counts_[b % kBuckets] is bucket b's count while b is recent.
  std::array<int64_t, kBuckets> counts_{};
  int64_t newest_ = 0;  // bucket of the last event
};

// Where a queue's dispatch rate limit comes from, as Temporal names it.
enum class RateLimitSource { kNone, kApi, kWorker };

struct QueueStats {
  int64_t backlog_count = 0;
  // Age of the oldest queued task (now minus its ready time); zero if none.
  absl::Duration backlog_age = absl::ZeroDuration();
  double tasks_add_rate = 0;
  double tasks_dispatch_rate = 0;
  // A rate limit held a dispatch back in the last 30 seconds.
  bool rate_limiting_active = false;
  // The rate limit in force, if any, and whose it is.
  std::optional<double> rate_limit;
  RateLimitSource rate_limit_source = RateLimitSource::kNone;
};

}  // namespace errand::matching

#endif  // ERRAND_MATCHING_QUEUE_STATS_H_
