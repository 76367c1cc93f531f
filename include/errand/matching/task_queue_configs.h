// The settings operators give task queues with UpdateTaskQueueConfig: a rate
// limit for the whole queue, a default rate limit per fairness key, and
// fairness weight overrides. This is their one owner: it merges updates as
// Temporal does, keeps them durable in the store's task_queues table, loads
// them at start, and hands activity queues' settings to the matcher.
//
// Merging (Temporal's semantics): a rate limit the update does not mention
// is left as it is; one it mentions is replaced, with the update's reason,
// identity and time, and cleared when the update gives no rate. Weight
// overrides are the stored ones, minus the update's unset keys, plus its set
// keys. Every queue gets at most kMaxWeightOverrides overrides.
#ifndef ERRAND_MATCHING_TASK_QUEUE_CONFIGS_H_
#define ERRAND_MATCHING_TASK_QUEUE_CONFIGS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "errand/matching/matcher.h"
#include "errand/matching/poller_history.h"
#include "errand/store/records.h"
#include "errand/store/store.h"

namespace errand::matching {

// matching.maxFairnessKeyWeightOverrides: per task queue, and per request.
inline constexpr size_t kMaxWeightOverrides = 1000;
// temporal.api.enums.v1.TaskQueueType values.
inline constexpr int kWorkflowTaskQueue = 1;
inline constexpr int kActivityTaskQueue = 2;

struct RateLimitUpdate {
  std::optional<double> requests_per_second;  // none: clear the limit
  std::string reason;
};

struct ConfigUpdate {
  std::optional<RateLimitUpdate> queue_rate_limit;
  std::optional<RateLimitUpdate> fairness_key_rate_limit_default;
  std::map<std::string, double> set_weights;
  std::vector<std::string> unset_weights;
  std::string identity;
};

// Folds `update` into `record` at `now`. INVALID_ARGUMENT, with `record`
// unchanged, when the overrides would exceed kMaxWeightOverrides.
absl::Status MergeConfigUpdate(const ConfigUpdate& update, absl::Time now,
                               store::TaskQueueRecord& record);

// What a stored config means for dispatch.
DispatchConfig DispatchConfigOf(const store::TaskQueueRecord& record);

class TaskQueueConfigs {
 public:
  // Loads every stored config and applies the activity queues' to `matcher`
  // (both must outlive the result).
  static absl::StatusOr<std::unique_ptr<TaskQueueConfigs>> Load(
      store::Store* store, Matcher* matcher);

  // Merges `update` into the config of `key` (PollerKey names a queue and
  // its type), writes it to the store (synced before this returns) and
  // applies it. Blocks on the store: call it off gRPC's threads. Returns
  // the config now in force.
  absl::StatusOr<store::TaskQueueRecord> Update(const PollerKey& key,
                                                const ConfigUpdate& update,
                                                absl::Time now);

  // The config of `key`; nullopt if it was never set.
  std::optional<store::TaskQueueRecord> Get(const PollerKey& key) const;

 private:
  TaskQueueConfigs(store::Store* store, Matcher* matcher)
      : store_(store), matcher_(matcher) {}

  store::Store* const store_;
  Matcher* const matcher_;
  // Serializes updates: read, merge, write and apply as one step.
  absl::Mutex write_mu_;
  mutable absl::Mutex mu_ ABSL_ACQUIRED_AFTER(write_mu_);
  absl::flat_hash_map<PollerKey, store::TaskQueueRecord> configs_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace errand::matching

#endif  // ERRAND_MATCHING_TASK_QUEUE_CONFIGS_H_
