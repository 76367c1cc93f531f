#include "errand/engine/record_cache.h"

#include <atomic>
#include <utility>

#include "absl/base/config.h"

namespace errand::engine {

std::optional<RecordCache::Cached> RecordCache::Take(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  Cached taken = std::move(it->second->value);
  Remove(it->second);
  return taken;
}

void RecordCache::Put(const std::string& key, RecordSnapshot record,
                      size_t bytes) {
  Erase(key);
  if (bytes > max_bytes_ || max_entries_ == 0) return;
  order_.push_front(Slot{key, Cached{std::move(record), bytes}});
  index_.emplace(order_.front().key, order_.begin());
  bytes_ += bytes;
  while (index_.size() > max_entries_ || bytes_ > max_bytes_) {
    Remove(std::prev(order_.end()));
  }
}

void RecordCache::Erase(const std::string& key) {
  auto it = index_.find(key);
  if (it != index_.end()) Remove(it->second);
}

void RecordCache::Remove(std::list<Slot>::iterator it) {
  bytes_ -= it->value.bytes;
  index_.erase(it->key);
  order_.erase(it);
}

store::ActivityRecord Unshare(RecordSnapshot snapshot) {
  // use_count() is exact here: only the shard thread makes new references
  // to a cached snapshot, and it is the one asking.
  if (snapshot.use_count() == 1) {
    // use_count() is a relaxed load. The last other holder (a reply on a
    // gRPC thread) dropped its reference with a release decrement after
    // reading the record; this fence orders our writes after those reads.
    std::atomic_thread_fence(std::memory_order_acquire);
#ifdef ABSL_HAVE_THREAD_SANITIZER
    // ThreadSanitizer does not model fences, so it would report the move
    // below as racing with that holder's reads. Copying and dropping the
    // pointer are acq_rel read-modify-writes of the same count in libstdc++,
    // which it does see: the same edge, shown another way.
    RecordSnapshot(snapshot).reset();
#endif
    // The object was created non-const (see Shard::Commit), so moving out of
    // it is allowed once no one else can see it.
    return std::move(const_cast<store::ActivityRecord&>(*snapshot));
  }
  return *snapshot;
}

}  // namespace errand::engine
