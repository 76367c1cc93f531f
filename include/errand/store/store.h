// The embedded store: one RocksDB database in the data directory, split into
// column families ("tables"). Every write is a batch; with sync on (the
// default) a batch is on disk before Write returns, which is what lets a
// reply mean "durable".
//
// Faults: a write that fails is never acknowledged. A full disk answers
// RESOURCE_EXHAUSTED, other I/O errors UNAVAILABLE, with messages that name
// the data directory rather than RocksDB's files. Reads keep working while
// writes fail, and writes resume without a restart once the fault clears
// (the store calls DB::Resume, at most once a second, from the write path).
#ifndef ERRAND_STORE_STORE_H_
#define ERRAND_STORE_STORE_H_

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
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
#include "errand/store/data_dir_lock.h"

namespace errand::store {

enum class Table : int {
  kMeta = 0,         // server-wide facts (cluster id, format version)
  kNamespaces = 1,   // NamespaceRecord by name
  kExecutions = 2,   // ActivityRecord by ExecutionKey(namespace, activity, run)
  kCurrentRuns = 3,  // latest run ID by CurrentRunKey(namespace, activity)
  kVisibility = 4,   // ActivityExecutionListInfo by VisibilityKey, list order
  kVisibilityIndex = 5,  // empty values under IndexKey, see visibility_key.h
};
inline constexpr int kTableCount = 6;

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
};

// A warning is logged when free space falls below the larger of this and
// four times the floor.
inline constexpr uint64_t kLowFreeSpaceWarningBytes = uint64_t{1} << 30;
// Free space is looked up at most this often; in between the last figure
// serves.
inline constexpr absl::Duration kFreeSpaceCheckInterval = absl::Seconds(2);
// While writes fail, DB::Resume is tried at most this often.
inline constexpr absl::Duration kResumeInterval = absl::Seconds(1);

// Collects changes to apply atomically with Store::Write.
class Batch {
 public:
  void Put(Table table, absl::string_view key, absl::string_view value);
  void Delete(Table table, absl::string_view key);
  bool empty() const { return batch_.Count() == 0; }

 private:
  friend class Store;
  explicit Batch(const class Store* store) : store_(store) {}
  const class Store* store_;
  rocksdb::WriteBatch batch_;
};

class Store {
 public:
  // Opens (creating if needed) the store in options.data_dir. Fails with
  // FAILED_PRECONDITION if another process holds the directory.
  static absl::StatusOr<std::unique_ptr<Store>> Open(
      const StoreOptions& options);
  ~Store();

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Batch NewBatch() const { return Batch(this); }
  // Applies the batch atomically; with sync, it is on disk when this returns
  // OK. Any error means the batch may or may not be stored, never that it
  // is acknowledged: RESOURCE_EXHAUSTED when the disk is full, UNAVAILABLE
  // for other I/O errors.
  absl::Status Write(Batch& batch);

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

 private:
  friend class Batch;
  class Listener;
  enum class SpaceState { kOk, kLow, kBelowFloor };

  Store(StoreOptions options, DataDirLock lock);
  rocksdb::ColumnFamilyHandle* handle(Table table) const {
    return handles_[static_cast<int>(table)];
  }

  // Maps a failed write to the caller's status and logs the first failure
  // of a run of them.
  absl::Status WriteFailed(const rocksdb::Status& s);
  // Tries DB::Resume when writes are failing and the last try is at least
  // kResumeInterval old.
  void MaybeResume() ABSL_LOCKS_EXCLUDED(write_mu_);
  // Puts a WAL-less tombstone in the meta table's memtable; see
  // guard_needed_. Under write_mu_ (shared by writes, exclusive by a
  // resume), so that no resume runs between the guard and the write after.
  void PlaceWalGuard() ABSL_SHARED_LOCKS_REQUIRED(write_mu_);
  bool AllMemtablesEmpty() const;
  // Looks free space up again when the last figure is older than
  // kFreeSpaceCheckInterval, logging when it crosses a threshold.
  void MaybeCheckFreeSpace() const;
  absl::StatusOr<uint64_t> FreeBytes() const;

  StoreOptions options_;
  DataDirLock lock_;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, kTableCount> handles_{};
  std::vector<rocksdb::ColumnFamilyHandle*> all_handles_;

  // Writes hold it shared. A resume holds it exclusively, so that no write
  // reaches the WAL between a resume and the guard placed after it.
  absl::Mutex write_mu_;
  std::atomic<bool> writes_failing_{false};
  // Whether the last failure was a full disk (a resume waits for space).
  std::atomic<bool> failing_for_space_{false};
  // Unix nanoseconds of the earliest next resume attempt.
  std::atomic<int64_t> next_resume_ns_{0};
  // RocksDB 7.8 switches to a new WAL on resume only if some column family's
  // active memtable holds data; otherwise it keeps appending to the WAL file
  // whose write failed, and its writer asserts on the next append (an abort
  // in builds with assertions, such as Debian's). So the meta table always
  // holds one WAL-less tombstone: placed at open and again after each time
  // its memtable is sealed (flag set by the listener), before the next write.
  std::atomic<bool> guard_needed_{true};
  // A WAL append or sync failed, and RocksDB has not switched to a new WAL
  // since: a resume now is safe only if some memtable holds data.
  std::atomic<bool> wal_failed_{false};
  // Set once the "cannot resume" state has been logged.
  std::atomic<bool> resume_blocked_logged_{false};

  mutable std::atomic<uint64_t> free_bytes_{UINT64_MAX};
  mutable std::atomic<int64_t> next_space_check_ns_{0};
  mutable absl::Mutex space_mu_;
  mutable SpaceState space_state_ ABSL_GUARDED_BY(space_mu_) = SpaceState::kOk;
  mutable absl::Time last_space_warning_ ABSL_GUARDED_BY(space_mu_) =
      absl::InfinitePast();
  std::shared_ptr<Listener> listener_;
};

}  // namespace errand::store

#endif  // ERRAND_STORE_STORE_H_
