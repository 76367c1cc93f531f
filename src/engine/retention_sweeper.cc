#include "errand/engine/retention_sweeper.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "errand/store/executions.h"
#include "errand/store/keys.h"
#include "errand/store/records.h"
#include "errand/visibility/writer.h"
#include "spdlog/spdlog.h"

namespace errand::engine {
namespace {

constexpr char kCloseTime[] = "CloseTime";
// Runs that closed within one such slice share their jitter.
constexpr absl::Duration kJitterSlice = absl::Minutes(1);

int64_t SliceOf(absl::Time t) {
  const int64_t nanos = absl::ToUnixNanos(t);
  const int64_t width = absl::ToInt64Nanoseconds(kJitterSlice);
  return nanos / width - (nanos % width < 0 ? 1 : 0);  // floor
}

absl::Time SliceStart(int64_t slice) {
  return absl::UnixEpoch() + slice * kJitterSlice;
}

// A hash that is the same in every process (absl::Hash is seeded per
// process), so that a restart does not move a deletion.
uint64_t StableHash(absl::string_view text, int64_t slice) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  uint64_t z = h ^ static_cast<uint64_t>(slice);  // splitmix64 finalizer
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Collects the shards' answers to one batch of deletions.
class Answers {
 public:
  explicit Answers(size_t n) : results_(n, false), remaining_(n) {}
  void Set(size_t i, absl::StatusOr<bool> result) {
    absl::MutexLock lock(&mu_);
    results_[i] = std::move(result);
    --remaining_;
  }
  // Waits for every answer.
  std::vector<absl::StatusOr<bool>> Wait() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](size_t* remaining) { return *remaining == 0; }, &remaining_));
    return std::move(results_);
  }

 private:
  absl::Mutex mu_;
  std::vector<absl::StatusOr<bool>> results_ ABSL_GUARDED_BY(mu_);
  size_t remaining_ ABSL_GUARDED_BY(mu_);
};

struct Candidate {
  std::string index_key;
  std::string row_key;
  // From the row, once read.
  temporal::api::activity::v1::ActivityExecutionListInfo row;
  std::string run_id;
};

}  // namespace

RetentionSweeper::RetentionSweeper(store::Store* store,
                                   const NamespaceRegistry* namespaces,
                                   ActivityEngine* engine, const Clock* clock,
                                   RetentionOptions options)
    : store_(store),
      namespaces_(namespaces),
      engine_(engine),
      clock_(clock),
      options_(options) {}

RetentionSweeper::~RetentionSweeper() { Stop(); }

void RetentionSweeper::Start() {
  thread_ = std::thread([this] {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        clock_->AwaitWithDeadline(mu_, absl::Condition(&stopping_),
                                  clock_->Now() + options_.interval);
        if (stopping_) return;
      }
      auto swept = SweepOnce();
      if (!swept.ok()) {
        spdlog::warn("retention sweep stopped early, retrying in {}: {}",
                     absl::FormatDuration(options_.interval),
                     swept.status().ToString());
      } else if (*swept > 0) {
        spdlog::debug("retention sweep deleted {} closed runs", *swept);
      }
    }
  });
}

void RetentionSweeper::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool RetentionSweeper::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

absl::Time RetentionSweeper::DueAt(absl::string_view namespace_id,
                                   absl::Time close_time,
                                   absl::Duration retention) const {
  absl::Duration jitter = absl::ZeroDuration();
  const int64_t jitter_nanos = absl::ToInt64Nanoseconds(options_.jitter);
  if (jitter_nanos > 0) {
    jitter = absl::Nanoseconds(StableHash(namespace_id, SliceOf(close_time)) %
                               static_cast<uint64_t>(jitter_nanos));
  }
  return close_time + retention + jitter;
}

absl::StatusOr<size_t> RetentionSweeper::SweepOnce() {
  size_t deleted = 0;
  for (const NamespaceRecord& ns : namespaces_->List()) {
    auto n = SweepNamespace(ns, clock_->Now());
    if (!n.ok()) return n.status();
    deleted += *n;
  }
  return deleted;
}

absl::StatusOr<size_t> RetentionSweeper::SweepNamespace(
    const NamespaceRecord& ns, absl::Time now) {
  const absl::Duration retention = store::FromProtoDuration(ns.retention());
  if (retention <= absl::ZeroDuration()) return 0;
  // Nothing that closed later than this can be due, whatever its jitter.
  const absl::Time latest_close = now - retention;
  const std::string prefix = store::TimeIndexPrefix(ns.id(), kCloseTime);
  std::string after;  // where the next scan starts (exclusive)
  size_t deleted = 0;
  while (!stopping()) {
    std::vector<Candidate> batch;
    std::string skip_to;
    bool at_end = true;
    absl::Status scanned = store_->Scan(
        store::Table::kVisibilityIndex, prefix,
        [&](absl::string_view key, absl::string_view) {
          auto entry = store::ParseTimeIndexKey(ns.id(), kCloseTime, key);
          if (!entry) {
            after = std::string(key);
            return true;
          }
          if (entry->time > latest_close) return false;
          if (DueAt(ns.id(), entry->time, retention) > now) {
            // The rest of this slice shares its jitter: not due either.
            skip_to = store::TimeIndexSeekKey(
                ns.id(), kCloseTime, SliceStart(SliceOf(entry->time) + 1));
            at_end = false;
            return false;
          }
          after = std::string(key);
          batch.push_back({std::string(key), std::move(entry->row_key)});
          if (batch.size() < options_.batch) return true;
          at_end = false;
          return false;
        },
        after);
    if (!scanned.ok()) return scanned;

    absl::Status error;
    store::Batch cleanup = store_->NewBatch();
    Answers answers(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      Candidate& c = batch[i];
      auto row = store_->Get(store::Table::kVisibility, c.row_key);
      if (!row.ok()) {
        answers.Set(i, row.status());
        continue;
      }
      if (!*row || !c.row.ParseFromString(**row)) {
        // An index entry without its row: the entry is all there is.
        cleanup.Delete(store::Table::kVisibilityIndex, c.index_key);
        answers.Set(i, false);
        continue;
      }
      c.run_id = std::string(store::RunIdOfVisibilityKey(ns.id(), c.row_key));
      engine_->Expire(
          RunRef{ns.id(), c.row.activity_id(), c.run_id, std::nullopt},
          latest_close, [&answers, i](absl::StatusOr<bool> result) {
            answers.Set(i, std::move(result));
          });
    }
    std::vector<absl::StatusOr<bool>> results = answers.Wait();
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!results[i].ok()) {
        if (error.ok()) error = results[i].status();
        continue;
      }
      if (*results[i]) {
        ++deleted;
        continue;
      }
      // Not deleted: if the run itself is gone, its row and index entries
      // are leftovers that no shard will ever remove. (Run IDs are never
      // reused, so no shard writes them concurrently.)
      const Candidate& c = batch[i];
      if (c.run_id.empty()) continue;
      auto record =
          store::Executions(store_).Get(ns.id(), c.row.activity_id(), c.run_id);
      if (!record.ok() || record->has_value()) continue;
      visibility::DeleteRow(cleanup, ns.id(), c.row, c.row_key);
    }
    if (!cleanup.empty()) {
      if (absl::Status s = store_->Write(cleanup); !s.ok()) return s;
    }
    if (!error.ok()) return error;
    if (!skip_to.empty()) after = std::max(after, skip_to);
    if (at_end) break;
  }
  return deleted;
}

}  // namespace errand::engine
