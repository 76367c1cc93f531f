// Who polled a task queue lately, for DescribeTaskQueue: each identity's last
// poll and the rate limit it asked for, kept five minutes as in Temporal
// (matching.PollerHistoryTTL), at most 1,000 identities per queue. Activity
// and workflow task polls are recorded apart (the key's type).
//
// Bounded: entries older than the TTL are swept out on the first poll after
// a minute since the last sweep, or once the history has doubled since it,
// so memory follows the pollers of the last few minutes; and there are never
// more than kMaxEntries (about 300 bytes each): past that, a new poller of a
// queue is not recorded until older ones expire.
#ifndef ERRAND_MATCHING_POLLER_HISTORY_H_
#define ERRAND_MATCHING_POLLER_HISTORY_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace errand::matching {

struct PollerKey {
  std::string namespace_id;
  std::string task_queue;
  int type = 0;  // temporal.api.enums.v1.TaskQueueType

  bool operator==(const PollerKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const PollerKey& k) {
    return H::combine(std::move(h), k.namespace_id, k.task_queue, k.type);
  }
};

// The rate Temporal reports for a poller whose worker sets no limit.
inline constexpr double kDefaultPollerRate = 100000;

struct PollerRecord {
  std::string identity;
  absl::Time last_access;
  double rate_per_second = 0;
};

class PollerHistory {
 public:
  static constexpr absl::Duration kTtl = absl::Minutes(5);
  static constexpr size_t kMaxPerQueue = 1000;
  static constexpr size_t kMaxEntries = 100'000;

  // Notes a poll by `identity` (none recorded when empty) at `now`.
  void Record(const PollerKey& key, absl::string_view identity,
              double rate_per_second, absl::Time now);
  // The queue's pollers of the last kTtl, the most recent first.
  std::vector<PollerRecord> Pollers(const PollerKey& key, absl::Time now) const;
  // Entries held (for tests and the memory bound).
  size_t size() const;

 private:
  struct Entry {
    absl::Time last_access;
    double rate_per_second = 0;
  };
  using Queue = absl::flat_hash_map<std::string, Entry>;

  void Sweep(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<PollerKey, Queue> queues_ ABSL_GUARDED_BY(mu_);
  size_t entries_ ABSL_GUARDED_BY(mu_) = 0;
  size_t entries_after_sweep_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time next_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace errand::matching

#endif  // ERRAND_MATCHING_POLLER_HISTORY_H_
