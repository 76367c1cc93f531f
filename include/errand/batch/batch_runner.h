// Batch operations over standalone activities (StartBatchOperation): cancel,
// terminate or delete, and, beyond Temporal's standalone support, unpause,
// reset or update the options of every run a visibility query selects, or
// of an explicit list.
//
// A job is durable from the moment StartJob returns. It runs on the
// runner's own thread in two phases: it resolves its query into a list of
// items (page by page, stored), then applies the operation to each item in
// order, at most max_operations_per_second (50 by default), checkpointing
// its counts and position together. After a restart it resumes from the
// last checkpoint; an item applied after it is applied again with the same
// request ID ("batch:<job_id>"), which the state machine takes as a repeat,
// so no run gets the operation twice.
#ifndef ERRAND_BATCH_BATCH_RUNNER_H_
#define ERRAND_BATCH_BATCH_RUNNER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "errand/common/clock.h"
#include "errand/engine/activity_engine.h"
#include "errand/engine/namespace_registry.h"
#include "errand/store/store.h"
#include "errand/store/v1/batch.pb.h"
#include "errand/visibility/lister.h"

namespace errand::batch {

using BatchSpec = store::v1::BatchSpec;
using BatchProgress = store::v1::BatchProgress;

struct BatchOptions {
  // Jobs running at once per namespace (Temporal's
  // frontend.MaxConcurrentBatchOperationPerNamespace).
  int max_running_per_namespace = 1;
  // Operations per second when the request gives none (worker.batcherRPS).
  double default_rate = 50;
  // Items applied between two checkpoints, at most.
  int checkpoint_items = 100;
  // Query results read per selection step.
  int select_page_size = 1000;
  // Attempts per item, a second apart, for errors other than NotFound,
  // FailedPrecondition, InvalidArgument and AlreadyExists (which settle an
  // item at once); then it counts as failed.
  int attempts = 5;
};

// One job as DescribeBatchOperation and ListBatchOperations show it.
struct BatchView {
  BatchSpec spec;
  BatchProgress progress;
};

class BatchRunner {
 public:
  BatchRunner(store::Store* store, const engine::NamespaceRegistry* namespaces,
              engine::ActivityEngine* engine, const visibility::Lister* lister,
              const Clock* clock, BatchOptions options = {});
  ~BatchRunner();  // Stop()
  BatchRunner(const BatchRunner&) = delete;
  BatchRunner& operator=(const BatchRunner&) = delete;

  // Loads the jobs still running from the store. Call once, before Start.
  absl::Status Recover();
  // Runs jobs on a thread of its own until Stop.
  void Start();
  // Ends the job step under way (at most one item) and the thread;
  // idempotent. Running jobs stay running in the store.
  void Stop();

  // Makes `spec` (validated by the caller, with its selection query set) a
  // running job, durably. ALREADY_EXISTS for a job ID the namespace has
  // used; RESOURCE_EXHAUSTED when the namespace runs its maximum of jobs.
  // Blocks on the store: call off gRPC's threads.
  absl::Status StartJob(BatchSpec spec);
  // NOT_FOUND for an unknown job; "workflow execution already completed"
  // (NOT_FOUND, as Temporal) for one no longer running.
  absl::Status StopJob(const std::string& namespace_id,
                       const std::string& job_id, const std::string& reason,
                       const std::string& identity);
  absl::StatusOr<BatchView> Describe(const std::string& namespace_id,
                                     const std::string& job_id) const;
  // The namespace's jobs, running first, then by start time, newest first;
  // `page_token` is the last job ID of the page before.
  absl::StatusOr<std::vector<BatchView>> List(
      const std::string& namespace_id, int page_size,
      const std::string& page_token, std::string* next_page_token) const;

  // Runs one step of a running job (a selection page or one item) on the
  // caller's thread: for tests that do not Start the thread. False when
  // no job has work left.
  bool StepOnce();

 private:
  // Lock order: a job's mu before the runner's mu_, never the other way.
  struct Job {
    Job(BatchSpec s, BatchProgress p)
        : spec(std::move(s)),
          progress(p),
          checkpointed_item(p.next_item()),
          live(std::move(p)) {}
    const BatchSpec spec;
    // Held for a step of the job, and by StopJob.
    absl::Mutex mu;
    BatchProgress progress ABSL_GUARDED_BY(mu);
    // Items before it were deleted from the store by the last checkpoint.
    int64_t checkpointed_item ABSL_GUARDED_BY(mu) = 0;
    absl::Time last_checkpoint ABSL_GUARDED_BY(mu) = absl::InfinitePast();
    // Attempts at the next item that met an error worth retrying.
    int item_attempts ABSL_GUARDED_BY(mu) = 0;
    // Guarded by the runner's mu_ (which picks the job to step): when the
    // job may take its next step (its rate, or a retry after an error), and
    // its latest progress, for Describe without waiting for a step.
    absl::Time next_step = absl::InfinitePast();
    BatchProgress live;
  };

  // Calls `visit` with the ID and stored progress of each job of the
  // namespace (its progress keys only, never its items).
  absl::Status ScanJobs(
      const std::string& namespace_id,
      const std::function<void(std::string job_id, BatchProgress progress)>&
          visit) const;
  // The job's spec with `stored` progress, or the live progress of a job
  // that is running.
  absl::StatusOr<BatchView> ViewOf(const std::string& namespace_id,
                                   const std::string& job_id,
                                   BatchProgress stored) const;
  void Loop();
  // The job due first (round robin among equals); null if none.
  std::shared_ptr<Job> NextJob() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Deletes closed jobs past their namespace's retention.
  void Prune();
  // One step of `job`; returns whether it has work left.
  bool Step(Job& job);
  bool Select(Job& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(job.mu);
  bool ApplyNext(Job& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(job.mu);
  absl::Status ApplyItem(const BatchSpec& spec,
                         const store::v1::BatchItem& item);
  absl::Status Checkpoint(Job& job, bool force)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(job.mu);
  void Finish(Job& job, store::v1::BatchState state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(job.mu);
  void RetryLater(Job& job);

  store::Store* const store_;
  const engine::NamespaceRegistry* const namespaces_;
  engine::ActivityEngine* const engine_;
  const visibility::Lister* const lister_;
  const Clock* const clock_;
  const BatchOptions options_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Set when a job starts (or Stop is called): the loop looks again.
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  // Running jobs by namespace ID and job ID.
  absl::flat_hash_map<std::string, std::shared_ptr<Job>> running_
      ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);  // round robin
  std::thread thread_;
};

}  // namespace errand::batch

#endif  // ERRAND_BATCH_BATCH_RUNNER_H_
