// The activity engine's front door: thread-safe calls that route each
// execution to its shard (by hash of namespace and activity ID) and answer
// through callbacks once the change is durable. Callbacks run on the shard
// thread and must not block.
#ifndef ERRAND_ENGINE_ACTIVITY_ENGINE_H_
#define ERRAND_ENGINE_ACTIVITY_ENGINE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "errand/engine/shard.h"

namespace errand::engine {

// Which run an operation targets, and, for calls made with a task token,
// which attempt: those are refused (NOT_FOUND) once the attempt is over.
struct RunRef {
  std::string namespace_id;
  std::string activity_id;
  std::string run_id;  // empty: the current run
  struct Attempt {
    int32_t attempt = 0;
    int64_t stamp = 0;
  };
  std::optional<Attempt> attempt;  // set for task-token calls
};

struct StartRequest {
  // A record with identity, options, inputs and request_ids[0] filled in;
  // the engine assigns run_id and the scheduling fields.
  ActivityRecord record;
  temporal::api::enums::v1::ActivityIdReusePolicy reuse_policy;
  temporal::api::enums::v1::ActivityIdConflictPolicy conflict_policy;
};

struct StartResult {
  std::string run_id;
  bool started = false;
};

// The shard of the run of `activity_id` in `namespace_id`, of
// `shard_count`: XXH64 (seed 0) of the namespace ID, a NUL byte and the
// activity ID, modulo the count. Fixed across processes and releases, so a
// cluster's nodes agree on it (docs/cluster.md, §2.1); a run's shard never
// changes while the count does not.
int ShardOfRun(absl::string_view namespace_id, absl::string_view activity_id,
               int shard_count);

class ActivityEngine {
 public:
  // `metrics` may be null; it must outlive the engine.
  ActivityEngine(int shard_count, store::Store* store,
                 matching::Matcher* matcher, TimerThread* timers,
                 const Clock* clock, ActivityMetrics* metrics = nullptr);
  ~ActivityEngine();

  // Re-queues every scheduled activity found in the store. Call once, before
  // serving.
  absl::Status Recover();
  // Ends every long poll on executions with an empty answer (shutdown).
  void ReleaseWatchers();
  // Finishes queued work and stops the shards.
  void Stop();

  void Start(StartRequest request, Reply<StartResult> reply);
  void Describe(const RunRef& ref, Reply<RecordSnapshot> reply);
  // Answers with the run once it has changed since `seen_version` (or, with
  // `closed_only`, once it is closed), or with nullptr at `expire_at`.
  // Returns a function that cancels the wait.
  std::function<void()> Watch(const RunRef& ref, int64_t seen_version,
                              bool closed_only, absl::Time expire_at,
                              Reply<RecordSnapshot> reply);
  // A worker's poll matched `task`: records the attempt as started.
  // kAborted when the task is stale (the poller should keep polling).
  void StartTask(const std::string& namespace_id, const matching::TaskRef& task,
                 StartAttempt attempt, Reply<RecordSnapshot> reply);
  // Applies a worker or client event to a run.
  void Update(const RunRef& ref, ActivityEvent event,
              Reply<RecordSnapshot> reply);
  // Terminates the run if it is open, then removes it.
  void Delete(const RunRef& ref, Reply<RecordSnapshot> reply);
  // Retention: removes the run `ref` (a run ID is required) if it is closed
  // and closed at or before `closed_by`. Answers true once it is gone, false
  // if there was nothing to remove (gone already, open, or closed later).
  void Expire(const RunRef& ref, absl::Time closed_by, Reply<bool> reply);

  // Deadlines the shards watch, summed after each shard's current turn (for
  // tests and stats; blocks the caller).
  size_t PendingTimers();

 private:
  Shard& ShardFor(absl::string_view namespace_id,
                  absl::string_view activity_id);
  // Runs `fn` in a turn of every shard, on the shards' threads, and waits
  // for all of them.
  void OnEveryShard(const std::function<void(Shard&)>& fn);

  store::Store* const store_;
  TimerThread* const timers_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace errand::engine

#endif  // ERRAND_ENGINE_ACTIVITY_ENGINE_H_
