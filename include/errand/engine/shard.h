// A shard: the single writer for the executions whose (namespace, activity
// ID) hash to it. Everything that reads or changes those executions runs on
// the shard's thread, one turn at a time. A turn takes every queued command,
// applies them against an overlay of the store, writes all their changes as
// one synced batch (group commit), and only then replies, wakes watchers and
// hands tasks to matching.
#ifndef ERRAND_ENGINE_SHARD_H_
#define ERRAND_ENGINE_SHARD_H_

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "errand/common/clock.h"
#include "errand/common/executor.h"
#include "errand/common/timer_thread.h"
#include "errand/engine/activity_metrics.h"
#include "errand/engine/activity_state_machine.h"
#include "errand/engine/record_cache.h"
#include "errand/matching/matcher.h"
#include "errand/store/executions.h"
#include "errand/store/store.h"
#include "errand/visibility/writer.h"

namespace errand::engine {

// The names a shard's in-memory maps give a run and an activity's
// current-run slot: unique strings, not store keys (the store's own formats
// are store::Executions').
std::string RunKeyOf(absl::string_view namespace_id,
                     absl::string_view activity_id, absl::string_view run_id);
std::string ActivityKeyOf(absl::string_view namespace_id,
                          absl::string_view activity_id);

template <typename T>
using Reply = std::function<void(absl::StatusOr<T>)>;

// Someone waiting for an execution to change (long-poll Describe) or close
// (PollActivityExecution). Settled exactly once: with the record, with
// nullptr when its wait expires or is cancelled, or with an error.
class Watcher {
 public:
  using Result = absl::StatusOr<RecordSnapshot>;
  using Callback = std::function<void(Result)>;
  Watcher(int64_t seen_version, bool closed_only, Callback done)
      : seen_version_(seen_version),
        closed_only_(closed_only),
        done_(std::move(done)) {}
  bool Wants(const ActivityRecord& r) const {
    return closed_only_ ? IsTerminal(r.status()) : r.version() > seen_version_;
  }
  // Marks the watcher settled and hands over its callback, for the caller
  // to run; null when someone settled it first.
  Callback Claim();
  bool Settle(Result result);
  bool settled() const { return settled_.load(std::memory_order_acquire); }
  // The expiry timer: set on the shard thread, read by whoever settles the
  // watcher, which may be a gRPC thread (cancel) or the timer thread.
  void set_timer(TimerThread::TimerId id) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    timer_ = id;
  }
  TimerThread::TimerId timer() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return timer_;
  }

 private:
  const int64_t seen_version_;
  const bool closed_only_;
  std::atomic<bool> settled_{false};
  Callback done_;
  mutable absl::Mutex mu_;
  TimerThread::TimerId timer_ ABSL_GUARDED_BY(mu_) = 0;
};

class Shard;

// The view a command gets of its shard during one turn.
class Turn {
 public:
  absl::Time now() const { return now_; }

  // The run `run_id`, or the current run when it is empty. NOT_FOUND
  // ("activity not found for ID: ...") when there is none.
  absl::StatusOr<ActivityRecord*> Load(absl::string_view namespace_id,
                                       absl::string_view activity_id,
                                       absl::string_view run_id);
  // Adds a new run and makes it the current one.
  ActivityRecord* Create(ActivityRecord record, const Effects& effects);
  // Records that `record` (from Load or Create) changed.
  void Changed(ActivityRecord* record, const Effects& effects);
  // Applies `event` to `record` (from Load) through the state machine and,
  // when it succeeds, records the change and what it counts in the metrics.
  absl::StatusOr<Effects> Apply(ActivityRecord* record,
                                const ActivityEvent& event);
  void Delete(ActivityRecord* record);

  // Runs after the turn's batch is written, with the write's status.
  void AfterCommit(std::function<void(const absl::Status&)> fn) {
    after_commit_.push_back(std::move(fn));
  }
  // Answers with `record` (from Load or Create) as it stands now, once the
  // turn's batch is durable, or with the write's error.
  void ReplyWhenDurable(const ActivityRecord* record,
                        Reply<RecordSnapshot> reply);
  // Parks `watcher` on the run until a committed change satisfies it.
  void Watch(const ActivityRecord& record, std::shared_ptr<Watcher> watcher);
  // The task for `stamp` of this run was taken from matching for a worker's
  // poll. If the turn's write fails (or, with `even_if_written`, in any
  // case) the task goes back to matching after a pause instead of being
  // lost.
  void ReturnTaskUnlessWritten(absl::string_view namespace_id,
                               absl::string_view activity_id,
                               absl::string_view run_id, int64_t stamp,
                               bool even_if_written = false);

 private:
  friend class Shard;
  struct Entry {
    ActivityRecord record;
    bool changed = false;
    bool deleted = false;
    bool is_new = false;
    bool dispatch = false;      // queue its task in matching once written
    bool offered = false;       // its due task was offered for a sync match
    std::vector<Timer> timers;  // to arm once the change is durable
    // Replies that want the record as it is now; bound to a copy if a later
    // command of the turn loads the run again, else to the committed
    // snapshot (no copy).
    std::vector<Reply<RecordSnapshot>> replies;
    size_t bytes = 0;             // serialized size, for the cache budget
    int64_t loaded_version = -1;  // as loaded; -1 for a run the turn made
    // The stored visibility row's state, as loaded (nullopt for a new run),
    // so that the visibility writer can move the row when the run changes.
    std::optional<visibility::RowState> stored_row;
    // What the turn's events count, recorded once the turn is durable.
    std::vector<ActivityMeasures> measures;
  };
  Turn(Shard* shard, absl::Time now, uint64_t generation)
      : shard_(shard), now_(now), generation_(generation) {}
  // Current runs loaded or changed by the turn, by ActivityKeyOf.
  struct CurrentRun {
    std::string namespace_id, activity_id;
    std::string run_id;  // empty: none
    bool changed = false;
  };
  Entry* Find(const ActivityRecord& record);
  // The activity's current run as the turn sees it, read from the store the
  // first time the turn asks.
  absl::StatusOr<CurrentRun*> LoadCurrentRun(absl::string_view namespace_id,
                                             absl::string_view activity_id);
  // Gives `entry`'s waiting replies a snapshot of its current state before a
  // later command may change it.
  void BindReplies(Entry& entry);

  Shard* const shard_;
  const absl::Time now_;
  // The store's generation when the turn began, before its first read.
  const uint64_t generation_;
  std::map<std::string, Entry> entries_;            // by RunKeyOf
  std::map<std::string, CurrentRun> current_runs_;  // by ActivityKeyOf
  std::vector<std::function<void(const absl::Status&)>> after_commit_;
  struct TakenTask {
    std::string namespace_id, activity_id, run_id;
    int64_t stamp;
    bool even_if_written;
  };
  std::vector<TakenTask> taken_tasks_;
};

class Shard {
 public:
  using Command = std::function<void(Turn&)>;

  // `metrics` may be null (no metrics recorded).
  Shard(int index, store::Store* store, matching::Matcher* matcher,
        TimerThread* timers, const Clock* clock,
        ActivityMetrics* metrics = nullptr);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  void Submit(Command command);
  // Re-arms the timers (and dispatch) a recovered open execution waits on.
  void Recover(ActivityRecord record);
  // Answers every waiting watcher (and any later one) with nullopt; used at
  // shutdown so long polls end now instead of at the grace deadline.
  void ReleaseWatchers();
  // Finishes queued commands, then stops the thread.
  void Stop();
  // Deadlines this shard watches. Only on the shard thread (in a command).
  size_t PendingTimers() const { return timers_by_deadline_.size(); }

 private:
  friend class Turn;
  struct PendingTimer {
    std::string namespace_id, activity_id, run_id;
    TimerKind kind;
    int64_t stamp;
  };
  using TimerMap = std::multimap<absl::Time, PendingTimer>;
  static std::string KeyOf(const PendingTimer& t) {
    return RunKeyOf(t.namespace_id, t.activity_id, t.run_id);
  }

  // After a failed write, what the turn had taken on (due timers, tasks
  // handed to pollers) is retried this much later, so that a failing disk
  // is not hammered in a loop; so is a due timer whose run a failing store
  // could not read.
  static constexpr absl::Duration kRetryAfterFailedWrite = absl::Seconds(1);
  static constexpr absl::Duration kWriteErrorLogInterval = absl::Seconds(10);

  // Open runs cached per shard: room for every run in flight under load (a
  // start, its dispatch, its completion and the result poll then never read
  // the store), small next to a backlog, whose records stay on disk.
  static constexpr size_t kCachedRecords = 1024;
  static constexpr size_t kCachedBytes = size_t{8} << 20;
  // Turns' answers waiting for the sender thread. Each waiting turn holds
  // calls the server has already bounded; past this the shard sends them
  // itself, which slows its turns down as the sender would.
  static constexpr size_t kMaxQueuedSends = 4096;

  void Run();
  void RunTurn(std::deque<Command> commands,
               std::vector<PendingTimer> due_timers);
  // Writes the turn's changes, then performs their effects; returns the
  // write's status.
  absl::Status Commit(Turn& turn);
  // Watches `timer` for `record`; a dispatch that is already due goes to
  // matching at once. Drops the run's timers for attempts before the
  // record's current one.
  void Arm(const ActivityRecord& record, const Timer& timer, absl::Time now);
  // `key` is the run's RunKeyOf.
  void AddTimer(std::string key, absl::Time deadline, PendingTimer timer);
  // Forgets every timer of the run at `key` (it closed or was deleted).
  void DropTimers(const std::string& key);
  static matching::QueueKey QueueOf(const ActivityRecord& record);
  static matching::TaskRef TaskOf(const ActivityRecord& record);
  void Dispatch(const ActivityRecord& record);
  // Claims the watchers `record` satisfies; their answers join `sends`.
  void NotifyWatchers(const RecordSnapshot& record,
                      std::vector<std::function<void()>>& sends);
  // Runs a turn's answers, in order, on the sender thread.
  void Send(std::vector<std::function<void()>> sends);
  // Notes the runs a failed turn would have changed: its write may land
  // anyway (a failed sync leaves it in the WAL, and the store's reopen
  // replays it), and then nothing in memory knows of it.
  void Unsettle(const Turn& turn);
  // Once the store has reopened since a run was unsettled, reads it again.
  // If the failed change landed after all (the version moved), sets up what
  // the stored state calls for, as a restart would: its timers and task (a
  // duplicate task is fenced by its stamp), its watchers, and no stale
  // cached copy. If it did not, what the failed turn re-armed stands.
  void Reconcile(absl::Time now);

  const int index_;
  store::Store* const store_;
  const store::Executions executions_;
  matching::Matcher* const matcher_;
  TimerThread* const timers_;
  const Clock* const clock_;
  ActivityMetrics* const metrics_;

  absl::Mutex mu_;
  std::deque<Command> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::atomic<bool> watchers_released_{false};

  // Owned by the shard thread. Every pending timer is in both maps, so
  // that a run's timers go when it closes (memory per closed run: none).
  TimerMap timers_by_deadline_;
  std::unordered_map<std::string, std::vector<TimerMap::iterator>>
      timers_of_run_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Watcher>>>
      watchers_;
  RecordCache cache_;
  // Sends the answers of committed turns (replies, watchers), one turn
  // after another, off the shard thread.
  BoundedExecutor sender_;
  struct UnsettledRun {
    std::string namespace_id, activity_id, run_id;
    uint64_t generation;     // of the failed write
    int64_t loaded_version;  // the run's version before it (-1: none)
  };
  std::unordered_map<std::string, UnsettledRun> unsettled_;  // by key
  // Commands submitted from the shard thread while its turn is open; they
  // run in that turn (see RunTurn). Owned by the shard thread.
  std::vector<Command> joining_;
  absl::Time last_write_error_log_ = absl::InfinitePast();
  int64_t failed_turns_unlogged_ = 0;

  std::thread thread_;
};

}  // namespace errand::engine

#endif  // ERRAND_ENGINE_SHARD_H_
