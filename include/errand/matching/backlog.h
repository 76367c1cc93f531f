// One task queue's ready tasks, in dispatch order: priority first, then
// fairness between keys, then the order tasks became ready.
//
// - Priority: `priority_key` 1 is the highest; 0 means the default level,
//   (levels + 1) / 2; keys are clipped to [1, levels]. A lower level is only
//   served when every higher one is empty.
// - Fairness (when on): within a level, stride scheduling per fairness key.
//   Each key has a pass; the key with the lowest pass is served next and its
//   pass grows by its stride, 1000 / weight (at least 1). A key with weight w
//   so gets about a w/Σw share of dispatches while all keys have tasks. A key
//   that runs out of tasks is forgotten; when it comes back it starts at the
//   level's current pass, so idleness banks no credit and memory follows the
//   keys that have tasks. Effective weight: the task queue config's override
//   for the key if there is one, else the task's `fairness_weight`; at most
//   0 means 1, otherwise at least 0.001 (as Temporal).
// - Per-key rate limits (when the task queue config sets a default): each
//   key may dispatch at most default × weight tasks per second; a key held
//   back is skipped, and the next key in order (or the next level) served,
//   as in Temporal's matcher. A key that empties keeps its limiter state
//   while it matters (bounded; see kMaxIdleKeyLimits).
// - Within a key (or within a level, with fairness off): ready time, then the
//   order of arrival. Ready time is the attempt's dispatch time, stored with
//   the run, so a backlog rebuilt after a restart comes out in the same order
//   whatever order it is rebuilt in.
//
// Not thread-safe: the matcher holds its lock around every call.
#ifndef ERRAND_MATCHING_BACKLOG_H_
#define ERRAND_MATCHING_BACKLOG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "errand/matching/rate_limiter.h"
#include "errand/matching/task_ref.h"

namespace errand::matching {

struct BacklogOptions {
  // Priority levels; Temporal's default is 5 (its maximum 60).
  int levels = 5;
  // Stride scheduling between fairness keys within a level. Temporal ships it
  // off; Errand's users get it without looking for a flag.
  bool fairness = true;
};

// What a task queue's config changes in its backlog.
struct FairnessSettings {
  // A weight per fairness key, instead of its tasks' own.
  absl::flat_hash_map<std::string, double> weight_overrides;
  // Dispatches per second for a key of weight 1 (a key of weight w gets
  // w times as many); none: no per-key limit.
  std::optional<double> key_rate_limit;

  bool operator==(const FairnessSettings&) const = default;
};

inline constexpr int kMaxPriorityLevels = 60;
// Keys without tasks whose rate limiter state is kept (Temporal keeps 2,000
// per-key limiters); past it, the limiters that have recovered fully are
// dropped first, then arbitrary ones (which may let a key burst early).
inline constexpr size_t kMaxIdleKeyLimits = 2000;
// Temporal's stride factor: a key of weight 1 advances its pass by 1000.
inline constexpr int64_t kStrideFactor = 1000;

// The level (0-based, 0 served first) of a task's priority_key.
int PriorityLevel(int priority_key, int levels);
// The weight a key is scheduled with, from its override or the task's.
double EffectiveWeight(std::optional<double> override_weight,
                       double task_weight);
// How far one dispatch moves a key of `weight` along the pass axis.
int64_t Stride(double weight);

class Backlog {
 public:
  explicit Backlog(BacklogOptions options = {});

  // Applies a task queue config's weights (to queued keys too) and per-key
  // rate limit.
  void Configure(FairnessSettings settings);
  const FairnessSettings& settings() const { return settings_; }

  // Queues `task`.
  void Push(TaskRef task);
  // Takes the next task in dispatch order whose key's rate limit allows a
  // dispatch at `now`; nullopt when empty or when every key with tasks is
  // held back by its limit (see NextReady).
  std::optional<TaskRef> Pop(absl::Time now);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Fairness keys with queued tasks (for tests and the memory bound).
  size_t key_count() const;
  // The earliest ready time of a queued task; InfiniteFuture when empty.
  absl::Time OldestReadyAt() const;
  // When Pop will next find a key its limit lets through (`now` if one does
  // now); InfiniteFuture when empty or every limited key is paused.
  absl::Time NextReady(absl::Time now) const;

 private:
  // A task's place within its key: ready time, then arrival.
  using Order = std::pair<absl::Time, uint64_t>;
  struct Queued {
    Order order;
    TaskRef task;
  };
  // Min-heap order on (ready time, arrival).
  struct Later {
    bool operator()(const Queued& a, const Queued& b) const {
      return a.order > b.order;
    }
  };
  struct Key {
    std::vector<Queued> tasks;  // a heap by Later
    int64_t pass = 0;
    int64_t stride = kStrideFactor;
    double task_weight = 0;  // the latest task's fairness_weight
    uint64_t joined = 0;     // breaks ties between keys of equal pass
    RateLimiter limit;       // only used with a per-key rate limit
  };
  struct Level {
    absl::flat_hash_map<std::string, Key> keys;
    // Keys with tasks by (pass, joined): the front is served next.
    std::set<std::tuple<int64_t, uint64_t, std::string>> schedule;
    // The pass of the last dispatch: where a key that (re)joins starts.
    int64_t pass = 0;
  };

  double WeightOf(const std::string& key, double task_weight) const;
  // Sets `key`'s stride and limiter rate from its weight and the settings.
  void Restride(const std::string& name, Key& key) const;
  // Keeps the limiter of a key that emptied, within kMaxIdleKeyLimits.
  void KeepIdleLimit(const std::string& name, const RateLimiter& limit,
                     absl::Time now);

  BacklogOptions options_;
  FairnessSettings settings_;
  std::vector<Level> levels_;
  // Limiter state of keys that emptied while their limit still mattered.
  absl::flat_hash_map<std::string, RateLimiter> idle_limits_;
  size_t size_ = 0;
  uint64_t arrivals_ = 0;
};

}  // namespace errand::matching

#endif  // ERRAND_MATCHING_BACKLOG_H_
