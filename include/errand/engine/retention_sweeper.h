// Retention: closed runs are deleted once their namespace's retention has
// passed since they closed, plus a jitter that spreads the deletions (as
// Temporal's history.retentionTimerJitterDuration does).
//
// Nothing is held in memory per closed run. The sweeper walks each
// namespace's CloseTime index, oldest first, in bounded batches, and asks the
// run's shard to delete it, so it survives restarts by construction and a
// change of a namespace's retention applies to runs that closed before it.
//
// The jitter is drawn per namespace and minute of close time (a stable hash,
// so a restart does not move a deletion): runs that closed in the same minute
// go together, and a sweep skips a minute that is not due yet with one seek
// instead of visiting its entries.
#ifndef ERRAND_ENGINE_RETENTION_SWEEPER_H_
#define ERRAND_ENGINE_RETENTION_SWEEPER_H_

#include <cstddef>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "errand/common/clock.h"
#include "errand/engine/activity_engine.h"
#include "errand/engine/namespace_registry.h"
#include "errand/store/store.h"

namespace errand::engine {

struct RetentionOptions {
  // Time between two sweeps.
  absl::Duration interval = absl::Seconds(10);
  // A run is deleted at close time + retention + a jitter in [0, jitter).
  absl::Duration jitter = absl::Minutes(30);
  // Deletions in flight at once; also the most index entries a sweep holds.
  size_t batch = 256;
};

class RetentionSweeper {
 public:
  RetentionSweeper(store::Store* store, const NamespaceRegistry* namespaces,
                   ActivityEngine* engine, const Clock* clock,
                   RetentionOptions options);
  ~RetentionSweeper();  // Stop()
  RetentionSweeper(const RetentionSweeper&) = delete;
  RetentionSweeper& operator=(const RetentionSweeper&) = delete;

  // Sweeps every `interval` on a thread of its own until Stop.
  void Start();
  // Waits for a sweep under way to end its batch; idempotent.
  void Stop();

  // Deletes every run that is due now, in every namespace; returns how many
  // it deleted. A store error ends the sweep early (the next one resumes).
  absl::StatusOr<size_t> SweepOnce();

  // When a run of `namespace_id` that closed at `close_time` is due.
  absl::Time DueAt(absl::string_view namespace_id, absl::Time close_time,
                   absl::Duration retention) const;

 private:
  absl::StatusOr<size_t> SweepNamespace(const NamespaceRecord& ns,
                                        absl::Time now);
  bool stopping() const;

  store::Store* const store_;
  const NamespaceRegistry* const namespaces_;
  ActivityEngine* const engine_;
  const Clock* const clock_;
  const RetentionOptions options_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace errand::engine

#endif  // ERRAND_ENGINE_RETENTION_SWEEPER_H_
