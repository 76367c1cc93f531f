// The visibility writer: the one place that decides what the visibility
// table and its index table hold for a run. The shard calls it from its
// commit with the run as it was stored and as it is now, and puts what it
// returns in the same batch as the run (List and Count are read-your-writes);
// the retention sweep calls it for leftover rows. The byte layout of the keys
// is in store/keys.h with every other table's (docs/storage-format.md).
//
// Dependency: the engine includes this header (engine → visibility), never
// the other way round; the writer needs only the stored record
// (store/activity_record.h), so visibility stays below the engine.
#ifndef ERRAND_VISIBILITY_WRITER_H_
#define ERRAND_VISIBILITY_WRITER_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "errand/store/activity_record.h"
#include "errand/store/keys.h"
#include "errand/store/store.h"
#include "temporal/api/activity/v1/message.pb.h"

namespace errand::visibility {

using Row = temporal::api::activity::v1::ActivityExecutionListInfo;

// Attributes with an equality index entry per row, and the attributes with
// a time index entry (CloseTime only once the run is closed). Values holding
// a NUL byte are not indexed (queries on them scan instead).
inline constexpr const char* kIndexedAttributes[] = {
    "TaskQueue", "ActivityType", "ExecutionStatus"};
inline constexpr const char* kTimeIndexedAttributes[] = {"StartTime",
                                                         "CloseTime"};
bool Indexable(absl::string_view value);

// The row List and Count read for this run.
Row RowOf(const store::ActivityRecord& record);

// What a run's stored row depends on that changes during the run: the
// status and close time, and the task queue and execution time, which an
// options update may change. The rest (IDs, type, schedule time, search
// attributes) is fixed when the run is created.
struct RowState {
  temporal::api::enums::v1::ActivityExecutionStatus status;
  std::optional<google::protobuf::Timestamp> close_time;
  std::string task_queue;
  google::protobuf::Timestamp execution_time;

  bool operator==(const RowState& other) const;
};
RowState RowStateOf(const store::ActivityRecord& record);

// Adds to `batch` the changes to `record`'s row, its index entries and the
// status counts (store/keys.h, CountKey) of its namespace, task queue and
// activity type: +1 for a new run's, -1 for a deleted run's as stored, and
// both when the status or the task queue changes. `stored`
// is the state of the row as stored (nullopt: a new run, no row yet);
// `deleted` says the run goes away. The row is rewritten only when the run
// is created, changes its RowState or is deleted: internal steps within one
// public status (Scheduled → Started, a retry) and heartbeats leave it where
// it is.
void WriteRow(store::Batch& batch, const store::ActivityRecord& record,
              const std::optional<RowState>& stored, bool deleted);

// Adds to `batch` the deletion of the row `row` stored at `row_key` and of
// its index entries, and takes it out of its status counts (a leftover
// whose run is gone).
void DeleteRow(store::Batch& batch, absl::string_view namespace_id,
               const Row& row, absl::string_view row_key);

// Rebuilds the index table from the rows if it was written by another
// index layout (or before indexes were versioned); a no-op otherwise. The
// index is derived data, so any other layout, older or newer, is rebuilt.
absl::Status EnsureIndex(store::Store& store);

// The meta-table key holding the index layout, and the layout this binary
// writes: bumped when the indexed attributes or their entries change.
inline constexpr absl::string_view kIndexVersionKey =
    store::kVisibilityIndexVersionKey;
inline constexpr absl::string_view kIndexVersion = "2";

// Rebuilds the status counts from the rows unless kCountsVersionKey says
// they were built in this binary's layout (a data directory written before
// the counts existed, or a rebuild cut short, has no such key; one of an
// older layout has another version); a no-op otherwise. Run before
// anything writes, like EnsureIndex. Lister::Count reads the counts only
// once they were built.
absl::Status EnsureCounts(store::Store& store);

inline constexpr absl::string_view kCountsVersionKey =
    store::kVisibilityCountsVersionKey;
// "1": per namespace only; "2": also per task queue and activity type.
inline constexpr absl::string_view kCountsVersion = "2";

}  // namespace errand::visibility

#endif  // ERRAND_VISIBILITY_WRITER_H_
