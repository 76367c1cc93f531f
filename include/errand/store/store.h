// The embedded store: one RocksDB database in the data directory, split into
// column families ("tables"). Every write is a batch; with sync on (the
// default) a batch is on disk before Write returns, which is what lets a
// reply mean "durable".
//
// Faults: a write that fails is never acknowledged. A full disk answers
// RESOURCE_EXHAUSTED, other I/O errors UNAVAILABLE, with messages that name
// the data directory rather than RocksDB's files. Reads keep working while
// writes fail. Writes resume without a restart once the fault clears: the
// store reopens its database in the process, which is what a restart would
// do (replay the WAL up to the failed write, flush, start a new WAL). It
// tries at most once a second, from the write path. RocksDB's own DB::Resume
// is never called: in 7.8 it can wait for ever for a flush that a background
// job, started while writes were stopped, left queued but never scheduled.
#ifndef ERRAND_STORE_STORE_H_
#define ERRAND_STORE_STORE_H_

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "errand/common/clock.h"
#include "errand/metrics/metrics.h"
#include "errand/store/data_dir_lock.h"

namespace errand::store {

// Key and value formats: store/keys.h and docs/storage-format.md.
enum class Table : int {
  kMeta = 0,         // server-wide facts (cluster id, format version)
  kNamespaces = 1,   // NamespaceRecord by name
  kExecutions = 2,   // ActivityRecord by ExecutionKey(namespace, activity, run)
  kCurrentRuns = 3,  // latest run ID by CurrentRunKey(namespace, activity)
  kVisibility = 4,   // ActivityExecutionListInfo by VisibilityKey, list order
  kVisibilityIndex = 5,  // empty values under IndexKey / TimeIndexKey
  kTaskQueues = 6,       // TaskQueueRecord by TaskQueueKey
  kBatches = 7,          // batch jobs: BatchJobKey, BatchItemKey
  // int64 row counts by CountKey, changed only with Batch::AddCount.
  kVisibilityCounts = 8,
};
inline constexpr int kTableCount = 9;

struct StoreOptions {
  std::string data_dir;
  // Sync every batch to disk before Write returns. Turning it off trades the
  // last few writes on a machine crash for throughput.
  bool sync = true;
  // Below this much free space on the data directory's file system,
  // CheckFreeSpaceFloor refuses (new activity starts), so that the space left
  // goes to completions of work already accepted. 0 disables the floor.
  uint64_t min_free_bytes = uint64_t{64} << 20;
  // RocksDB's environment; null means the default one (the real file
  // system). Tests pass one that injects faults.
  std::shared_ptr<rocksdb::Env> env = nullptr;
  // Paces resume attempts and free-space checks.
  const Clock* clock = SystemClock::Get();
  // When set, each write's duration (including its sync) is observed here,
  // in seconds. Must outlive the store.
  metrics::Histogram* write_latency = nullptr;
};

// What the metrics report of the store (Store::Figures).
struct StoreFigures {
  uint64_t disk_bytes = 0;  // every file in the data directory
  bool write_stopped = false;
  uint64_t delayed_write_rate = 0;  // bytes/s while RocksDB slows writes
  uint64_t pending_compaction_bytes = 0;
  uint64_t memtable_bytes = 0;
  bool writes_failing = false;
};

// A warning is logged when free space falls below the larger of this and
// four times the floor.
inline constexpr uint64_t kLowFreeSpaceWarningBytes = uint64_t{1} << 30;
// Free space is looked up at most this often; in between the last figure
// serves.
inline constexpr absl::Duration kFreeSpaceCheckInterval = absl::Seconds(2);
// While writes fail, reopening the database is tried at most this often.
inline constexpr absl::Duration kResumeInterval = absl::Seconds(1);
// How long a new batch waits for a reopen in progress (see NewBatch).
inline constexpr absl::Duration kReopenWait = absl::Seconds(2);

// Collects changes to apply atomically with Store::Write.
class Batch {
 public:
  void Put(Table table, absl::string_view key, absl::string_view value);
  void Delete(Table table, absl::string_view key);
  // Adds `delta` to the count at `key` of Table::kVisibilityCounts (a
  // missing count is 0) without reading it: the store's merge operator sums
  // the additions, so batches from any thread add to one count without
  // contention, and a Put of EncodeCount(n) sets a new base. The additions
  // of one batch to one key are summed into one (a turn of many runs on one
  // task queue adds to its counts once), and go in after the batch's puts
  // and deletes; a net zero writes nothing.
  void AddCount(absl::string_view key, int64_t delta);
  bool empty() const {
    return batch_.Count() == 0 && count_deltas_.empty() && !detached_;
  }

 private:
  friend class Store;
  explicit Batch(const class Store* store) : store_(store) {}
  // Moves the summed count additions into batch_, as merges into `counts`
  // (the open database's visibility_counts column family).
  void AddCountsToBatch(rocksdb::ColumnFamilyHandle* counts);

  const class Store* store_;
  rocksdb::WriteBatch batch_;
  // Ordered, so a batch's bytes do not depend on hashing.
  std::map<std::string, int64_t, std::less<>> count_deltas_;
  // A change was dropped because the store was reopening: Write refuses the
  // batch.
  bool detached_ = false;
};

class Store {
 public:
  // Opens (creating if needed) the store in options.data_dir. Fails with
  // FAILED_PRECONDITION if another process holds the directory, or if it
  // holds a newer or unknown storage format (store/keys.h, kFormatVersion);
  // an older format is migrated first.
  static absl::StatusOr<std::unique_ptr<Store>> Open(
      const StoreOptions& options);
  ~Store();

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // While writes fail, starts a reopen if one is due and waits (briefly)
  // for it, so that reads made next see the reopened database. NewBatch
  // does it too; a caller that reads before it builds its batch calls it
  // first (see generation()).
  void ReopenIfDue();
  // While writes fail, this is where a due reopen starts, so that the batch
  // is built against the reopened database.
  Batch NewBatch();
  // Applies the batch atomically; with sync, it is on disk when this returns
  // OK. Any error means the batch may or may not be stored, never that it
  // is acknowledged: RESOURCE_EXHAUSTED when the disk is full, UNAVAILABLE
  // for other I/O errors.
  absl::Status Write(Batch& batch);

  // How many times the database was opened, counting reopens. A reopen
  // replays the WAL, which can bring back a write that failed its sync (it
  // reached the file): state read before a reopen may be stale after it.
  uint64_t generation() const {
    return generation_.load(std::memory_order_acquire);
  }

  // Reads one value; nullopt when the key is absent.
  absl::StatusOr<std::optional<std::string>> Get(Table table,
                                                 absl::string_view key) const;

  // Calls `visit` for each key starting with `prefix`, in key order, until it
  // returns false. With `after`, starts at the first key greater than it.
  absl::Status Scan(Table table, absl::string_view prefix,
                    const std::function<bool(absl::string_view key,
                                             absl::string_view value)>& visit,
                    absl::string_view after = {}) const;

  // Flushes memtables; used on clean shutdown so the next start replays less.
  // Skipped (with an error) while writes fail: RocksDB would escalate a
  // flush over a failed WAL to an error no resume can clear.
  absl::Status Flush();

  // OK, or RESOURCE_EXHAUSTED while the data directory's file system has
  // less free space than options().min_free_bytes. Cheap: free space is
  // looked up at most every kFreeSpaceCheckInterval.
  absl::Status CheckFreeSpaceFloor() const;

  // True from a failed write until writes succeed again.
  bool writes_failing() const {
    return writes_failing_.load(std::memory_order_acquire);
  }

  const StoreOptions& options() const { return options_; }

  // The store's size and health, read from RocksDB and the data directory;
  // for the metrics endpoint (a directory walk: call it per scrape, not per
  // request).
  StoreFigures Figures() const;

 private:
  friend class Batch;
  class Listener;
  // One open RocksDB database and its tables' handles; closed when
  // destroyed.
  struct Db;
  enum class SpaceState { kOk, kLow, kBelowFloor };

  Store(StoreOptions options, DataDirLock lock);
  static absl::StatusOr<std::unique_ptr<Db>> OpenDb(
      const StoreOptions& options, std::shared_ptr<Listener> listener,
      bool read_only);
  // The open database; null while it is being reopened, read-only after a
  // reopen for writing failed (until one succeeds). Callers hold the result
  // only for the call they make.
  std::shared_ptr<const Db> CurrentDb() const ABSL_LOCKS_EXCLUDED(db_mu_);
  // For reads: the same, but while a reopen is under way waits for it (at
  // most kReopenWait), so that reads right after a fault clears succeed.
  std::shared_ptr<const Db> CurrentDbOrWait() const ABSL_LOCKS_EXCLUDED(db_mu_);
  // Makes `db` the current database. Its shared_ptr's deleter is Retired.
  void Install(std::unique_ptr<Db> db) ABSL_LOCKS_EXCLUDED(db_mu_);
  // Called with the old database once nobody holds it: closes it and, unless
  // the store is closing, opens it again.
  void Retired(Db* db);
  void OpenAgain() ABSL_LOCKS_EXCLUDED(db_mu_);
  // What callers get while there is no database.
  absl::Status NoDbStatus(absl::string_view what) const;

  // Maps a failed write to the caller's status and logs the first failure
  // of a run of them.
  absl::Status WriteFailed(const rocksdb::Status& s);
  // Starts a reopen when writes are failing, the fault allows it and the
  // last try is at least kResumeInterval old. The reopen runs on the thread
  // that lets go of the old database last: usually this one, right away.
  void MaybeReopen() ABSL_LOCKS_EXCLUDED(db_mu_);
  // Looks free space up again when the last figure is older than
  // kFreeSpaceCheckInterval, logging when it crosses a threshold.
  void MaybeCheckFreeSpace() const;
  absl::StatusOr<uint64_t> FreeBytes() const;

  StoreOptions options_;
  DataDirLock lock_;
  std::shared_ptr<Listener> listener_;

  mutable absl::Mutex db_mu_;
  std::shared_ptr<const Db> db_ ABSL_GUARDED_BY(db_mu_);
  // From taking the old database out until the new one is in (or its open
  // failed): no second reopen starts meanwhile.
  bool reopening_ ABSL_GUARDED_BY(db_mu_) = false;
  // Set by the destructor: the database retired then is not reopened.
  bool closing_ ABSL_GUARDED_BY(db_mu_) = false;

  std::atomic<bool> writes_failing_{false};
  std::atomic<uint64_t> generation_{0};
  // Whether the last failure was a full disk (a reopen waits for space).
  std::atomic<bool> failing_for_space_{false};
  // Whether RocksDB called the last failure unrecoverable: writes then stay
  // off until the server restarts.
  std::atomic<bool> failure_fatal_{false};
  // Unix nanoseconds of the earliest next reopen attempt.
  std::atomic<int64_t> next_resume_ns_{0};
  mutable absl::Mutex failure_mu_;
  // The status of the last failed write, for writes made while the
  // database is being reopened.
  absl::Status last_failure_ ABSL_GUARDED_BY(failure_mu_);

  mutable std::atomic<uint64_t> free_bytes_{UINT64_MAX};
  mutable std::atomic<int64_t> next_space_check_ns_{0};
  mutable absl::Mutex space_mu_;
  mutable SpaceState space_state_ ABSL_GUARDED_BY(space_mu_) = SpaceState::kOk;
  mutable absl::Time last_space_warning_ ABSL_GUARDED_BY(space_mu_) =
      absl::InfinitePast();
};

// Writes changes in batches of at most kPerBatch, for work over tables of
// any size (a format migration, an index rebuild) that must not need one
// huge write. Put and Delete write the batch once it is full, Flush writes
// the rest. Not atomic as a whole: callers make their work safe to repeat.
class BoundedWriter {
 public:
  static constexpr int kPerBatch = 10000;
  explicit BoundedWriter(Store& store)
      : store_(store), batch_(store.NewBatch()) {}
  absl::Status Put(Table table, absl::string_view key, absl::string_view value);
  absl::Status Delete(Table table, absl::string_view key);
  // Deletes every key of `table` (as it stands when called).
  absl::Status DeleteAll(Table table);
  absl::Status Flush();

 private:
  absl::Status Count();
  Store& store_;
  Batch batch_;
  int pending_ = 0;
};

}  // namespace errand::store

#endif  // ERRAND_STORE_STORE_H_
