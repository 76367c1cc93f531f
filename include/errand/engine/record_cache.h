// The records a shard touched last, parsed, so that the next step of a run
// (started, heartbeat, completed, a result poll) skips a store read and a
// parse. Owned by one shard thread; no locking.
//
// Entries are immutable snapshots shared with replies and watchers. The cache
// mirrors the store: a shard puts a record back only after the write that
// produced it is durable, so a failed write cannot leave a stale copy here.
#ifndef ERRAND_ENGINE_RECORD_CACHE_H_
#define ERRAND_ENGINE_RECORD_CACHE_H_

#include <cstddef>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "errand/store/activity_record.h"

namespace errand::engine {

// A committed state of a run, shared read-only by whoever needs it after the
// turn: replies, watchers, the cache.
using RecordSnapshot = std::shared_ptr<const store::ActivityRecord>;

class RecordCache {
 public:
  struct Cached {
    RecordSnapshot record;
    size_t bytes = 0;  // serialized size: what the budget counts
  };

  // Bounded both ways: by count for many small records, by bytes for large
  // payloads (a 1,000,000-activity backlog must not end up in memory).
  RecordCache(size_t max_entries, size_t max_bytes)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}
  RecordCache(const RecordCache&) = delete;
  RecordCache& operator=(const RecordCache&) = delete;

  // Removes the run's record and hands it over, if cached.
  std::optional<Cached> Take(const std::string& key);
  // Caches `record` as the newest entry, evicting the oldest beyond budget.
  // A record larger than the whole budget is not kept.
  void Put(const std::string& key, RecordSnapshot record, size_t bytes);
  void Erase(const std::string& key);

  size_t size() const { return index_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  struct Slot {
    std::string key;
    Cached value;
  };
  void Remove(std::list<Slot>::iterator it);

  const size_t max_entries_;
  const size_t max_bytes_;
  size_t bytes_ = 0;
  std::list<Slot> order_;  // newest first
  // Keyed by a view of the slot's own key (list nodes never move): one copy
  // of the key and one allocation per entry besides the flat table's.
  absl::flat_hash_map<absl::string_view, std::list<Slot>::iterator> index_;
};

// Turns a snapshot back into a record to change: moved out when nobody else
// holds it (the common case: the replies that shared it are sent), copied
// otherwise.
store::ActivityRecord Unshare(RecordSnapshot snapshot);

}  // namespace errand::engine

#endif  // ERRAND_ENGINE_RECORD_CACHE_H_
