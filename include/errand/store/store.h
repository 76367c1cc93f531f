// The embedded store: one RocksDB database in the data directory, split into
// column families ("tables"). Every write is a batch; with sync on (the
// default) a batch is on disk before Write returns, which is what lets a
// reply mean "durable".
#ifndef ERRAND_STORE_STORE_H_
#define ERRAND_STORE_STORE_H_

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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
};

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
  absl::Status Flush();

  const StoreOptions& options() const { return options_; }

 private:
  friend class Batch;
  Store(StoreOptions options, DataDirLock lock);
  rocksdb::ColumnFamilyHandle* handle(Table table) const {
    return handles_[static_cast<int>(table)];
  }

  StoreOptions options_;
  DataDirLock lock_;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, kTableCount> handles_{};
  std::vector<rocksdb::ColumnFamilyHandle*> all_handles_;
};

}  // namespace errand::store

#endif  // ERRAND_STORE_STORE_H_
